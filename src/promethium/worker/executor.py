"""Where jobs run: in a thread pool of the API process (:class:`EmbeddedExecutor`, the default, no
broker needed) or on Celery workers (:class:`CeleryExecutor`, when ``PROMETHIUM_BROKER_URL`` is set).
Both run :func:`promethium.worker.runner.run_job`."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from promethium.api.repositories_jobs import JobStore, Publisher
from promethium.api.storage import ObjectStorage
from promethium.worker.runner import TransientJobError, run_job
from promethium.workflows import CancelToken

__all__ = [
    "CeleryExecutor",
    "EmbeddedExecutor",
    "JobExecutor",
    "WorkerSettings",
    "make_executor",
    "task_id",
]

log = logging.getLogger("promethium.worker")


class WorkerSettings(BaseSettings):
    """Job execution settings (``PROMETHIUM_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="PROMETHIUM_", env_file=None, extra="ignore")

    broker_url: str | None = Field(default=None, description="Celery broker; unset: run jobs in the API.")
    result_backend: str | None = None
    job_workers: int = Field(default=2, ge=1, le=64, description="Threads of the embedded executor.")
    job_soft_time_limit_s: int = Field(default=6 * 3600, ge=1, description="Celery soft limit of one job.")
    job_time_limit_s: int = Field(default=6 * 3600 + 300, ge=1, description="Celery hard limit of one job.")
    job_max_retries: int = Field(default=5, ge=0, description="Retries of a task on transient errors.")
    heartbeat_interval_s: float = Field(default=1.0, gt=0, description="How often a running job beats.")
    reaper_interval_s: float = Field(default=30.0, gt=0, description="How often the API runs the reaper.")
    reaper_stale_after_s: float = Field(
        default=120.0, gt=0, description="A running job without a heartbeat for this long lost its worker."
    )
    reaper_max_attempts: int = Field(default=3, ge=1, description="Runs of a job before the reaper fails it.")
    reaper_resubmit_queued_after_s: float = Field(
        default=300.0,
        gt=0,
        description="A queued job not started this long after it was sent is sent again (its message "
        "was lost: a broker restarted without persistence, an API crash before the send).",
    )

    def visibility_timeout_s(self) -> int:
        """Redis redelivers an unacknowledged message after this: longer than the longest job."""
        return self.job_time_limit_s + 600


def task_id(job_id: uuid.UUID | str, attempt: int = 0) -> str:
    """The Celery task id of ``job_id`` sent after ``attempt`` runs started: deterministic, so a cancel
    can revoke it and a re-send of a lost message reuses it."""
    return f"{job_id}-{attempt}"


class JobExecutor(Protocol):
    def start(self) -> None: ...

    def submit(self, job_id: uuid.UUID, queue: str = "default", kind: str | None = None) -> None: ...

    def cancel(self, job_id: uuid.UUID) -> None: ...

    def shutdown(self) -> None: ...


class EmbeddedExecutor:
    """A thread pool in the API process. On start, jobs left ``running`` by a previous process are
    failed (they were interrupted) and ``queued`` ones are submitted again."""

    def __init__(
        self,
        store: JobStore,
        storage: ObjectStorage,
        workers: int = 2,
        settings: WorkerSettings | None = None,
    ) -> None:
        self.store = store
        self.storage = storage
        self.workers = workers
        self.settings = settings or WorkerSettings()
        self._pool: ThreadPoolExecutor | None = None
        self._tokens: dict[uuid.UUID, CancelToken] = {}
        self._futures: dict[uuid.UUID, Future[str]] = {}
        self._lock = threading.Lock()

    def start_pool(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="promethium-job")

    def start(self) -> None:
        self.start_pool()
        for job_id, status in self.store.active_jobs():
            if status == "running":
                self.store.transition(
                    job_id, "failed", "interrupted by a restart", error="interrupted by a restart"
                )
            else:
                self.submit(job_id)

    def submit(self, job_id: uuid.UUID, queue: str = "default", kind: str | None = None) -> None:
        if self._pool is None:
            raise RuntimeError("the executor is not started")
        token = CancelToken()
        with self._lock:
            pending = self._futures.get(job_id)
            if pending is not None and not pending.done():
                return  # in the pool already (the reaper re-sending a queued job): run it once
            self._tokens[job_id] = token
            self._futures[job_id] = self._pool.submit(self._run, job_id, token)

    def _run(self, job_id: uuid.UUID, token: CancelToken) -> str:
        try:
            return run_job(
                job_id, self.store, self.storage, token, watch_period=self.settings.heartbeat_interval_s
            )
        except TransientJobError:  # back in the queue: try again in a while
            log.warning("job %s: transient error, submitting again in 5 s", job_id)
            timer = threading.Timer(5.0, self._resubmit, args=(job_id,))
            timer.daemon = True
            timer.start()
            return "queued"
        except Exception:
            log.exception("job %s: the runner failed", job_id)
            return "error"
        finally:
            with self._lock:
                self._tokens.pop(job_id, None)
                self._futures.pop(job_id, None)

    def _resubmit(self, job_id: uuid.UUID) -> None:
        if self._pool is not None and self.store.status(job_id) == "queued":
            self.submit(job_id)

    def cancel(self, job_id: uuid.UUID) -> None:
        with self._lock:
            token = self._tokens.get(job_id)
        if token is not None:
            token.cancel("the job was cancelled")

    def shutdown(self) -> None:
        with self._lock:
            tokens = list(self._tokens.values())
        for token in tokens:
            token.cancel("the server is shutting down")
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.store.dispose()


class CeleryExecutor:
    """Sends jobs to the Celery task of their kind (``promethium.tasks.reconstruct``, ...; without a
    kind ``promethium.tasks.run_job``) on the queue asked for, else the task's route. Cancellation goes
    through the database (the worker's watcher sees the job leave ``running``); a queued job's message
    is revoked too."""

    def __init__(self, settings: WorkerSettings) -> None:
        from promethium.worker.celery_app import make_celery

        self.settings = settings
        self.app = make_celery(settings)

    def start(self) -> None:
        pass

    def submit(
        self, job_id: uuid.UUID, queue: str = "default", kind: str | None = None, attempt: int = 0
    ) -> None:
        """``attempt``: the job's runs started so far (0 for a new job; the reaper passes the count of
        the job it re-queues or sends again): the task id is :func:`task_id` of both, so
        :meth:`cancel` can revoke it without storing it."""
        from promethium.worker.celery_app import ROUTES, TASK_NAME, task_for

        name = task_for(kind) if kind else TASK_NAME
        if queue == "default":
            queue = ROUTES.get(name, "default")
        self.app.send_task(name, args=[str(job_id)], queue=queue, task_id=task_id(job_id, attempt))

    def cancel(self, job_id: uuid.UUID) -> None:
        """Revoke the job's queued messages (every task id it may have been sent under: attempts 0 to
        ``reaper_max_attempts``), so no worker picks them up; a running job stops through the database
        (its watcher sees it leave ``running``). Best effort: a worker that missed the revoke finds the
        job cancelled and does nothing."""
        ids = [task_id(job_id, a) for a in range(self.settings.reaper_max_attempts + 1)]
        try:
            self.app.control.revoke(ids)
        except Exception:  # the broker is down: the job row says cancelled, which is enough
            log.warning("job %s: cannot revoke its queued messages", job_id, exc_info=True)

    def shutdown(self) -> None:
        pass


def make_executor(
    database_url: str,
    storage: ObjectStorage,
    settings: WorkerSettings | None = None,
    publisher: Publisher | None = None,
) -> JobExecutor:
    settings = settings or WorkerSettings()
    if settings.broker_url:
        return CeleryExecutor(settings)
    return EmbeddedExecutor(
        JobStore.from_url(database_url, publisher=publisher), storage, settings.job_workers, settings
    )
