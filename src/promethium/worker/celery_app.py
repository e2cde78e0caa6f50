"""The Celery app of the job workers (needs ``celery[redis]``; only imported when a broker is set).

``celery_app`` is configured from ``PROMETHIUM_BROKER_URL`` (and ``PROMETHIUM_RESULT_BACKEND``): JSON
only, late acknowledgement, one message prefetched per process, a task whose worker process died is
put back on its queue (``reject_on_worker_lost``), soft and hard time limits, and a Redis visibility
timeout longer than the longest job. Queues: ``default`` (CPU processing), ``gpu`` (reconstruct,
train) and ``io`` (ingest, export).

Tasks ``promethium.tasks.<kind>`` (ingest, preprocess, reconstruct, denoise, train, evaluate, export)
and ``promethium.tasks.run_job`` are thin shells over :func:`promethium.worker.runner.run_job`, the
function the embedded executor runs: they take the job id, and the runner loads the job, runs its
pipeline, stores outputs under ``results/{job_id}/`` (a retry overwrites) and records status, progress
and log lines. A duplicate delivery of a job that is finished, or running on a live worker, does
nothing; a redelivered job whose worker stopped beating is taken over. Transient errors (database,
storage, broker) retry with exponential backoff; any other error fails the job with its message::

    celery -A promethium.worker.celery_app worker -Q default,gpu,io --concurrency 2

The worker reaches the database and the storage with the API's settings (``PROMETHIUM_DATABASE_URL``,
``PROMETHIUM_STORAGE_URL``, ...) and publishes job events on Redis when the broker is Redis.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery  # type: ignore[import-not-found, unused-ignore]
from kombu import Queue  # type: ignore[import-not-found, unused-ignore]

from promethium.api.repositories_jobs import JobStore
from promethium.api.storage import ObjectStorage
from promethium.worker.executor import WorkerSettings
from promethium.worker.runner import TransientJobError, run_job

__all__ = [
    "KIND_TASKS",
    "QUEUES",
    "ROUTES",
    "TASK_NAME",
    "TASK_NAMES",
    "celery_app",
    "configure_worker",
    "make_celery",
    "register_tasks",
    "run_job_task",
    "task_for",
]

log = logging.getLogger("promethium.worker")

TASK_NAME = "promethium.tasks.run_job"
QUEUES = ("default", "gpu", "io")
TASK_NAMES = tuple(
    f"promethium.tasks.{k}"
    for k in ("ingest", "preprocess", "reconstruct", "denoise", "train", "evaluate", "export")
)
#: the design's routing: GPU work and I/O work on their own queues, the rest on ``default``.
ROUTES: dict[str, str] = {
    "promethium.tasks.reconstruct": "gpu",
    "promethium.tasks.train": "gpu",
    "promethium.tasks.ingest": "io",
    "promethium.tasks.export": "io",
}
#: job kind -> task name.
KIND_TASKS: dict[str, str] = {
    "reconstruct": "promethium.tasks.reconstruct",
    "denoise": "promethium.tasks.denoise",
    "preprocess": "promethium.tasks.preprocess",
    "qc": "promethium.tasks.evaluate",
    "compare": "promethium.tasks.evaluate",
    "evaluate": "promethium.tasks.evaluate",
    "train": "promethium.tasks.train",
    "ingest": "promethium.tasks.ingest",
    "export": "promethium.tasks.export",
}


def task_for(kind: str) -> str:
    return KIND_TASKS.get(kind, TASK_NAME)


def make_celery(settings: WorkerSettings | None = None) -> Any:
    """A Celery app configured from ``settings`` (default: the environment)."""
    s = settings or WorkerSettings()
    app = Celery("promethium", broker=s.broker_url or "memory://", backend=s.result_backend)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        task_queues=tuple(Queue(q, routing_key=q) for q in QUEUES),
        task_routes={name: {"queue": q} for name, q in ROUTES.items()},
        task_soft_time_limit=s.job_soft_time_limit_s,
        task_time_limit=s.job_time_limit_s,
        broker_transport_options={"visibility_timeout": s.visibility_timeout_s()},
        result_backend_transport_options={"visibility_timeout": s.visibility_timeout_s()},
        task_track_started=True,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_ignore_result=s.result_backend is None,
    )
    app.conf.promethium_settings = s
    return app


_context: tuple[JobStore, ObjectStorage] | None = None
_context_lock = threading.Lock()


def configure_worker(store: JobStore, storage: ObjectStorage) -> None:
    """Use this database and storage (tests; by default they come from the API settings)."""
    global _context
    with _context_lock:
        _context = (store, storage)


def _worker_context() -> tuple[JobStore, ObjectStorage]:
    global _context
    with _context_lock:
        if _context is None:
            from promethium.api.settings import get_api_settings
            from promethium.worker.events import make_publisher

            s = get_api_settings()
            ws = WorkerSettings()
            _context = (
                JobStore.from_url(s.resolved_database_url(), publisher=make_publisher(ws.broker_url)),
                ObjectStorage(s.resolved_storage_url()),
            )
        return _context


def _shell(task: Any, job_id: str) -> str:
    """The body of every task: run the job; retry with backoff on a transient error."""
    s: WorkerSettings = getattr(task.app.conf, "promethium_settings", None) or WorkerSettings()
    store, storage = _worker_context()
    try:
        return run_job(
            job_id,
            store,
            storage,
            watch_period=s.heartbeat_interval_s,
            takeover_after_s=s.reaper_stale_after_s,
        )
    except Exception as exc:
        from promethium.worker.runner import is_transient, public_message

        if not isinstance(exc, TransientJobError) and not is_transient(exc):
            raise
        retries = int(task.request.retries or 0)
        if retries >= s.job_max_retries:
            cause = exc.__cause__ if isinstance(exc, TransientJobError) and exc.__cause__ else exc
            log.error("job %s: gave up after %d retries", job_id, retries, exc_info=exc)
            message = f"gave up after {retries} retries: {public_message(cause)}"
            store.transition(job_id_uuid(job_id), "failed", message, error=message)
            return "failed"
        raise task.retry(
            exc=exc, countdown=min(2.0 * 2**retries, 300.0), max_retries=s.job_max_retries
        ) from exc


def job_id_uuid(job_id: str) -> Any:
    import uuid

    return uuid.UUID(str(job_id))


def register_tasks(app: Any) -> Any:
    """Register ``promethium.tasks.run_job`` and the per-kind tasks on ``app``; returns ``run_job``."""

    def make(name: str) -> Any:
        def task(self: Any, job_id: str) -> str:
            return _shell(self, job_id)

        task.__name__ = task.__qualname__ = name.rsplit(".", 1)[1]
        return app.task(name=name, bind=True, shared=False)(task)

    for name in TASK_NAMES:
        make(name)
    return make(TASK_NAME)


celery_app = make_celery()
run_job_task = register_tasks(celery_app)
