"""Running jobs: the shared job runner, the embedded thread-pool executor and the Celery app."""

from __future__ import annotations

from promethium.worker.executor import (
    CeleryExecutor,
    EmbeddedExecutor,
    JobExecutor,
    WorkerSettings,
    make_executor,
)
from promethium.worker.runner import run_job

__all__ = ["CeleryExecutor", "EmbeddedExecutor", "JobExecutor", "WorkerSettings", "make_executor", "run_job"]
