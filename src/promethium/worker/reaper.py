"""The reaper: finds ``running`` jobs whose worker vanished (no heartbeat for
``PROMETHIUM_REAPER_STALE_AFTER_S``) and re-queues them, or fails them after
``PROMETHIUM_REAPER_MAX_ATTEMPTS`` runs; and ``queued`` jobs not started
``PROMETHIUM_REAPER_RESUBMIT_QUEUED_AFTER_S`` after they were (last) sent, whose message was lost (a
broker restarted without persistence, an API process that died between its commit and the send), and
sends them again. :func:`reap_once` is the whole logic (tests call it);
:class:`Reaper` runs it every ``PROMETHIUM_REAPER_INTERVAL_S`` in a thread of the API process (embedded
and Celery mode alike) and submits the re-queued jobs again. Each move is one conditional UPDATE
(:meth:`JobStore.reap`), so several API processes may reap at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from promethium.api.repositories_jobs import JobStore, StaleJob

__all__ = ["Reaper", "reap_once"]

log = logging.getLogger("promethium.worker")


def reap_once(
    store: JobStore,
    stale_after_s: float,
    max_attempts: int,
    submit: Callable[[StaleJob], None] | None = None,
    resubmit_queued_after_s: float | None = None,
) -> list[StaleJob]:
    """One pass; ``submit`` is called for each re-queued job (send it to a worker again) and, with
    ``resubmit_queued_after_s``, for each queued job not started that long after it was sent."""
    done = store.reap(stale_after_s, max_attempts)
    if resubmit_queued_after_s is not None:
        done += store.resubmit_queued(resubmit_queued_after_s)
    for job in done:
        if job.action != "skipped":
            log.warning("reaper: job %s %s (attempt %d)", job.id, job.action, job.attempts)
        if job.action in ("requeued", "resubmitted") and submit is not None:
            try:
                submit(job)
            except Exception:  # it stays queued; the next start of the executor submits it
                log.exception("reaper: cannot submit job %s again", job.id)
    return done


class Reaper(threading.Thread):
    def __init__(
        self,
        store: JobStore,
        interval_s: float,
        stale_after_s: float,
        max_attempts: int,
        submit: Callable[[StaleJob], None] | None,
        resubmit_queued_after_s: float | None = None,
    ) -> None:
        super().__init__(name="promethium-reaper", daemon=True)
        self.store, self.interval_s = store, interval_s
        self.resubmit_queued_after_s = resubmit_queued_after_s
        self.stale_after_s, self.max_attempts, self.submit = stale_after_s, max_attempts, submit
        self.stop_event = threading.Event()
        self.passes = 0

    def run(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            try:
                reap_once(
                    self.store,
                    self.stale_after_s,
                    self.max_attempts,
                    self.submit,
                    self.resubmit_queued_after_s,
                )
            except Exception:  # the database may be down: try again next time
                log.warning("reaper: pass failed", exc_info=True)
            self.passes += 1

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)
