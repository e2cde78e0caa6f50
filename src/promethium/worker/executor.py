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

from promethium.api.repositories_jobs import JobStore
from promethium.api.storage import ObjectStorage
from promethium.worker.runner import run_job
from promethium.workflows import CancelToken

__all__ = ["CeleryExecutor", "EmbeddedExecutor", "JobExecutor", "WorkerSettings", "make_executor"]

log = logging.getLogger("promethium.worker")


class WorkerSettings(BaseSettings):
    """Job execution settings (``PROMETHIUM_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="PROMETHIUM_", env_file=None, extra="ignore")

    broker_url: str | None = Field(default=None, description="Celery broker; unset: run jobs in the API.")
    result_backend: str | None = None
    job_workers: int = Field(default=2, ge=1, le=64, description="Threads of the embedded executor.")


class JobExecutor(Protocol):
    def start(self) -> None: ...

    def submit(self, job_id: uuid.UUID, queue: str = "default") -> None: ...

    def cancel(self, job_id: uuid.UUID) -> None: ...

    def shutdown(self) -> None: ...


class EmbeddedExecutor:
    """A thread pool in the API process. On start, jobs left ``running`` by a previous process are
    failed (they were interrupted) and ``queued`` ones are submitted again."""

    def __init__(self, store: JobStore, storage: ObjectStorage, workers: int = 2) -> None:
        self.store = store
        self.storage = storage
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._tokens: dict[uuid.UUID, CancelToken] = {}
        self._futures: dict[uuid.UUID, Future[str]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="promethium-job")
        for job_id, status in self.store.active_jobs():
            if status == "running":
                self.store.transition(
                    job_id, "failed", "interrupted by a restart", error="interrupted by a restart"
                )
            else:
                self.submit(job_id)

    def submit(self, job_id: uuid.UUID, queue: str = "default") -> None:
        if self._pool is None:
            raise RuntimeError("the executor is not started")
        token = CancelToken()
        with self._lock:
            self._tokens[job_id] = token
            self._futures[job_id] = self._pool.submit(self._run, job_id, token)

    def _run(self, job_id: uuid.UUID, token: CancelToken) -> str:
        try:
            return run_job(job_id, self.store, self.storage, token)
        except Exception:
            log.exception("job %s: the runner failed", job_id)
            return "error"
        finally:
            with self._lock:
                self._tokens.pop(job_id, None)
                self._futures.pop(job_id, None)

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
    """Sends jobs to the Celery task ``promethium.tasks.run_job``; cancellation goes through the
    database (the worker's watcher sees the job leave ``running``)."""

    def __init__(self, settings: WorkerSettings) -> None:
        from promethium.worker.celery_app import make_celery

        self.app = make_celery(settings)

    def start(self) -> None:
        pass

    def submit(self, job_id: uuid.UUID, queue: str = "default") -> None:
        from promethium.worker.celery_app import TASK_NAME

        self.app.send_task(TASK_NAME, args=[str(job_id)], queue=queue)

    def cancel(self, job_id: uuid.UUID) -> None:
        pass

    def shutdown(self) -> None:
        pass


def make_executor(
    database_url: str, storage: ObjectStorage, settings: WorkerSettings | None = None
) -> JobExecutor:
    settings = settings or WorkerSettings()
    if settings.broker_url:
        return CeleryExecutor(settings)
    return EmbeddedExecutor(JobStore.from_url(database_url), storage, settings.job_workers)
