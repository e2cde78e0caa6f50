"""Running one job: the function shared by the embedded executor (a thread of the API) and the Celery
task. Blocking; everything it learns or produces goes to the database (:class:`JobStore`) and the
object storage.

The job's ``params`` hold the validated pipeline (``pipeline``, the spec with every default filled in).
The input is the dataset's Zarr store; the output goes to ``results/{job_id}/output.zarr`` with
``metadata.json`` beside it (what a previous attempt left there is removed first). A failed or cancelled
run leaves nothing under ``results/{job_id}``.

Cancellation: :class:`~promethium.workflows.CancelToken` checked by the workflow engine. It is set by the
embedded executor directly, and by a watcher thread that polls the job's status (the API cancels by
moving the job to ``cancelled``), so a job running in another process stops too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

from promethium.api.repositories_jobs import TERMINAL, JobSnapshot, JobStore
from promethium.api.storage import ObjectStorage, result_key
from promethium.workflows import CancelToken, ProgressEvent

__all__ = ["OUTPUT", "ProgressWriter", "execute_pipeline", "run_job"]

log = logging.getLogger("promethium.worker")

OUTPUT = "output.zarr"
METADATA = "metadata.json"


class ProgressWriter:
    """A progress callback writing at most one event every ``interval`` seconds (the first, the last
    and every step change always). Sets the token when the job is no longer running."""

    def __init__(self, store: JobStore, job_id: uuid.UUID, token: CancelToken, interval: float = 0.5) -> None:
        self.store = store
        self.job_id = job_id
        self.token = token
        self.interval = interval
        self._last = -1e9
        self._step: str | None = None
        self.written = 0

    def __call__(self, ev: ProgressEvent) -> None:
        now = time.monotonic()
        if not (now - self._last >= self.interval or ev.fraction >= 1.0 or ev.step != self._step):
            return
        self._last = now
        self._step = ev.step
        data: dict[str, Any] = {"step": ev.step}
        if ev.chunk is not None:
            data.update(chunk=ev.chunk, n_chunks=ev.n_chunks)
        self.written += 1
        if not self.store.progress(self.job_id, round(float(ev.fraction), 4), ev.message, data):
            self.token.cancel("the job was cancelled")


class _Watcher(threading.Thread):
    """Sets ``token`` once the job leaves ``running`` (cancelled through the API)."""

    def __init__(self, store: JobStore, job_id: uuid.UUID, token: CancelToken, period: float) -> None:
        super().__init__(name=f"job-watch-{job_id}", daemon=True)
        self.store, self.job_id, self.token, self.period = store, job_id, token, period
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.period):
            try:
                status = self.store.status(self.job_id)
            except Exception:  # a database hiccup must not kill the job
                log.warning("cannot read the status of job %s", self.job_id, exc_info=True)
                continue
            if status != "running":
                self.token.cancel("the job was cancelled")
                return


def execute_pipeline(
    pipeline: dict[str, Any], input: str, output: str, progress: ProgressWriter, cancel: CancelToken
) -> dict[str, Any]:
    """Run the pipeline from ``input`` to ``output``; returns the run's summary (a seam for tests)."""
    from promethium.workflows import load_pipeline, run_pipeline

    result = run_pipeline(
        load_pipeline(pipeline),
        input=input,
        output=output,
        overwrite=True,
        progress=progress,
        cancel=cancel,
    )
    return result.to_dict()


def _metrics(summary: dict[str, Any], output_url: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {"seconds": summary.get("seconds"), "mode": summary.get("mode")}
    try:
        from promethium import io as pio

        with pio.open(output_url) as f:
            metrics.update(n_traces=int(f.n_traces), n_samples=int(f.n_samples))
    except Exception:  # the summary is enough
        log.debug("cannot read the output's shape", exc_info=True)
    metrics["results"] = summary.get("results", {})
    return metrics


def run_job(
    job_id: uuid.UUID | str,
    store: JobStore,
    storage: ObjectStorage,
    cancel: CancelToken | None = None,
    *,
    restart: bool = False,
    watch_period: float = 0.5,
) -> str:
    """Run the job to its end; returns its final status. A job already finished (or taken by another
    worker, unless ``restart``: a redelivered task) is left alone."""
    job_id = uuid.UUID(str(job_id))
    job = store.load(job_id)
    if job is None:
        log.warning("job %s does not exist", job_id)
        return "missing"
    if job.status in TERMINAL:
        return job.status
    from_ = ("queued", "running") if restart else ("queued",)
    if not store.transition(job_id, "running", from_=from_, progress=0.0, error=None):
        return store.status(job_id) or "missing"
    token = cancel or CancelToken()
    watcher = _Watcher(store, job_id, token, watch_period)
    watcher.start()
    prefix = result_key(job_id)
    try:
        return _run(job, store, storage, token, prefix)
    finally:
        watcher.stop.set()


def _run(job: JobSnapshot, store: JobStore, storage: ObjectStorage, token: CancelToken, prefix: str) -> str:
    from promethium.workflows import Cancelled

    progress = ProgressWriter(store, job.id, token)
    try:
        if not storage.is_local:
            raise NotImplementedError("jobs cannot run on a remote object storage yet")
        ds = store.dataset(job.dataset_id) if job.dataset_id else None
        if ds is None or ds[0] != "ready" or not ds[1]:
            raise LookupError("the dataset is gone or not ready")
        storage.delete_prefix(prefix)  # what a previous attempt left
        out_key = result_key(job.id, OUTPUT)
        store.log(
            job.id, f"running pipeline {job.params['pipeline'].get('name')!r} on dataset {job.dataset_id}"
        )
        summary = execute_pipeline(
            job.params["pipeline"], storage.url(ds[1]), storage.prepare(out_key), progress, token
        )
        token.check()
        metrics = _metrics(summary, storage.url(out_key))
        meta = {"job_id": str(job.id), "kind": job.kind, "dataset_id": str(job.dataset_id), **summary}
        meta_key = result_key(job.id, METADATA)
        storage.put_bytes(meta_key, json.dumps(meta, indent=2, default=str).encode())
        result = {
            "output_key": out_key,
            "metadata_key": meta_key,
            "output_url": storage.url(out_key),
            "metrics": metrics,
            "steps": summary.get("steps", []),
        }
        if store.succeed(job, result, out_key):
            return "succeeded"
        storage.delete_prefix(prefix)  # cancelled while finishing
        return store.status(job.id) or "missing"
    except Cancelled as exc:
        storage.delete_prefix(prefix)
        store.transition(job.id, "cancelled", str(exc))
        return "cancelled"
    except Exception as exc:
        log.info("job %s failed: %s", job.id, exc, exc_info=not hasattr(exc, "step"))
        storage.delete_prefix(prefix)
        message = str(exc) or type(exc).__name__
        if store.transition(job.id, "failed", message, error=message[:4000]):
            return "failed"
        return store.status(job.id) or "missing"
