"""The Celery app of the job workers (needs ``celery[redis]``; only imported when a broker is set).

``celery_app`` is configured from ``PROMETHIUM_BROKER_URL`` (and ``PROMETHIUM_RESULT_BACKEND``): JSON
only, late acknowledgement, one message prefetched per process, queues ``default``, ``gpu`` and ``io``.
Its one task, ``promethium.tasks.run_job(job_id)``, calls :func:`promethium.worker.runner.run_job`, the
function the embedded executor runs::

    celery -A promethium.worker.celery_app worker -Q default,io --concurrency 2

The worker reaches the database and the storage with the API's settings (``PROMETHIUM_DATABASE_URL``,
``PROMETHIUM_STORAGE_URL``, ...). A duplicate delivery of a job that is already running or finished does
nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery  # type: ignore[import-not-found, unused-ignore]
from kombu import Queue  # type: ignore[import-not-found, unused-ignore]

from promethium.api.repositories_jobs import JobStore
from promethium.api.storage import ObjectStorage
from promethium.worker.executor import WorkerSettings
from promethium.worker.runner import run_job

__all__ = [
    "QUEUES",
    "TASK_NAME",
    "celery_app",
    "configure_worker",
    "make_celery",
    "register_tasks",
    "run_job_task",
]

TASK_NAME = "promethium.tasks.run_job"
QUEUES = ("default", "gpu", "io")


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
        task_track_started=True,
        broker_connection_retry_on_startup=True,
        task_ignore_result=s.result_backend is None,
    )
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

            s = get_api_settings()
            _context = (
                JobStore.from_url(s.resolved_database_url()),
                ObjectStorage(s.resolved_storage_url()),
            )
        return _context


def _run_job(job_id: str) -> str:
    """Run one job; returns its final status."""
    store, storage = _worker_context()
    return run_job(job_id, store, storage)


def register_tasks(app: Any) -> Any:
    """Register ``promethium.tasks.run_job`` on ``app``; returns the task."""
    return app.task(name=TASK_NAME)(_run_job)


celery_app = make_celery()
run_job_task = register_tasks(celery_app)
