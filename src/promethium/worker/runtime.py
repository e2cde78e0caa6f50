"""What the API process runs for jobs: the executor (embedded pool or Celery client), the event bus
the WebSocket reads, and the reaper. :func:`start_jobs` builds and starts them; ``stop()`` ends them."""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from promethium.api.repositories_jobs import JobStore, StaleJob
from promethium.api.storage import ObjectStorage
from promethium.worker.events import LocalBus, make_bus
from promethium.worker.executor import (
    CeleryExecutor,
    EmbeddedExecutor,
    JobExecutor,
    WorkerSettings,
    make_executor,
)
from promethium.worker.reaper import Reaper

__all__ = ["JobsRuntime", "start_jobs"]

log = logging.getLogger("promethium.worker")


@dataclass
class JobsRuntime:
    executor: JobExecutor
    bus: LocalBus
    reaper: Reaper
    store: JobStore
    #: the Celery broker (None in embedded mode): readiness checks it
    broker_url: str | None = None

    def publish(self, job_id: uuid.UUID, event: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # best effort: the job row holds the truth
            self.bus.publish(job_id, event)

    def stop(self) -> None:
        self.reaper.stop()
        self.executor.shutdown()
        self.bus.close()
        self.store.dispose()


def start_jobs(
    database_url: str, storage: ObjectStorage, settings: WorkerSettings | None = None
) -> JobsRuntime:
    """Blocking (run it in a thread)."""
    s = settings or WorkerSettings()
    bus = make_bus(s.broker_url)
    bus.start()
    executor = make_executor(database_url, storage, s, publisher=bus.publish)
    try:
        executor.start()
    except Exception:  # the database is down: start empty; the reaper and new submissions catch up
        log.warning("jobs: cannot read the active jobs at start", exc_info=True)
        if isinstance(executor, EmbeddedExecutor) and executor._pool is None:
            executor.start_pool()
    store = JobStore.from_url(database_url, publisher=bus.publish)

    def submit(job: StaleJob) -> None:
        if isinstance(executor, CeleryExecutor):
            executor.submit(job.id, job.queue, job.kind, attempt=job.attempts)
        else:
            executor.submit(job.id, job.queue, job.kind)

    reaper = Reaper(
        store,
        s.reaper_interval_s,
        s.reaper_stale_after_s,
        s.reaper_max_attempts,
        submit,
        s.reaper_resubmit_queued_after_s,
    )
    reaper.start()
    return JobsRuntime(executor, bus, reaper, store, s.broker_url)
