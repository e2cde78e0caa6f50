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
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from promethium.api.models import utcnow
from promethium.api.repositories_jobs import INGESTING, TERMINAL, JobSnapshot, JobStore
from promethium.api.storage import ObjectStorage, dataset_key, put_model_files, result_key
from promethium.workflows import CancelToken, ProgressEvent

__all__ = [
    "DATABASE_ERROR_MESSAGE",
    "OUTPUT",
    "ProgressWriter",
    "TransientJobError",
    "execute_pipeline",
    "is_transient",
    "public_message",
    "run_job",
]

log = logging.getLogger("promethium.worker")

OUTPUT = "output.zarr"
METADATA = "metadata.json"
LOGS = "logs"


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


class TransientJobError(Exception):
    """A run stopped by an error of the services around it (database, storage, broker), not of the
    job: the job went back to ``queued`` and the task may retry it (with backoff)."""


#: S3 error codes of a store that is busy or failing for a moment (retry), not of a bad request
TRANSIENT_S3_CODES = frozenset(
    {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling", "503", "500"}
)


def _transient_one(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, ConnectionError | TimeoutError):  # storage sockets, redis-py errors subclass these
        return True
    try:  # S3 through boto3 / s3fs (aiobotocore raises botocore's classes)
        from botocore import exceptions as boto

        # EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError (ConnectionError) and
        # ReadTimeoutError, ConnectionClosedError, ResponseStreamingError (HTTPClientError)
        if isinstance(exc, boto.ConnectionError | boto.HTTPClientError):
            return True
        if isinstance(exc, boto.ClientError):
            err = exc.response.get("Error", {}) or {}
            status = int((exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode") or 0)
            return str(err.get("Code")) in TRANSIENT_S3_CODES or status >= 500
    except ImportError:  # pragma: no cover - no S3 support installed
        pass
    try:  # aiohttp (under s3fs), should one escape aiobotocore untranslated
        import aiohttp

        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        from kombu.exceptions import OperationalError as BrokerError  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - celery extra not installed
        return False
    return isinstance(exc, BrokerError)


#: what a job's ``error`` says when the database layer failed (its text may hold SQL and parameters)
DATABASE_ERROR_MESSAGE = "an internal database error stopped the job (details in the worker log)"


def _from_database(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return True
    module = type(exc).__module__.split(".", 1)[0]
    return module in ("sqlite3", "psycopg", "psycopg2", "asyncpg", "aiosqlite")


def public_message(exc: BaseException) -> str:
    """The text of ``exc`` fit for the job record (users read it): Promethium's own errors and the
    workflow's say what went wrong; an error of the database layer (SQL, parameters, server names)
    becomes :data:`DATABASE_ERROR_MESSAGE`, its detail only logged by the caller."""
    from promethium.core.errors import PromethiumError

    if not isinstance(exc, PromethiumError) and _from_database(exc):
        return DATABASE_ERROR_MESSAGE
    return str(exc) or type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """Errors worth a retry: the database, the storage (local or S3) or the broker did not answer.
    Follows the chain of causes (s3fs wraps botocore's errors in ``OSError``), a few levels deep."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if _transient_one(seen):
            return True
        seen = seen.__cause__
    return False


class _Watcher(threading.Thread):
    """Beats for the job every ``period`` seconds (its ``heartbeat_at``: the reaper's sign of life) and
    sets ``token`` once the job leaves ``running`` (cancelled through the API) or this run lost it."""

    def __init__(
        self, store: JobStore, job_id: uuid.UUID, token: CancelToken, period: float, attempt: int | None
    ) -> None:
        super().__init__(name=f"job-watch-{job_id}", daemon=True)
        self.store, self.job_id, self.token, self.period = store, job_id, token, period
        self.attempt = attempt
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.period):
            try:
                alive = self.store.heartbeat(self.job_id, self.attempt)
            except Exception:  # a database hiccup must not kill the job
                log.warning("cannot record the heartbeat of job %s", self.job_id, exc_info=True)
                continue
            if not alive:
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


def _metrics(summary: dict[str, Any], output_url: str, storage: ObjectStorage) -> dict[str, Any]:
    metrics: dict[str, Any] = {"seconds": summary.get("seconds"), "mode": summary.get("mode")}
    try:
        from promethium import io as pio

        with pio.open(output_url, storage_options=storage.storage_options or None) as f:
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
    takeover_after_s: float | None = None,
) -> str:
    """Run the job to its end; returns its final status. A job already finished is left alone; so is
    one running elsewhere, unless ``restart`` or its heartbeat is older than ``takeover_after_s`` (a
    redelivered task whose worker died): then this run takes it over, atomically.

    Every run has its number (``attempts``): heartbeats, the result and the final status are written
    only while the run still owns the job, so a run the reaper gave up on cannot finish it twice.
    Raises :class:`TransientJobError` (the job back to ``queued``) on a database/storage/broker error."""
    job_id = uuid.UUID(str(job_id))
    job = store.load(job_id)
    if job is None:
        log.warning("job %s does not exist", job_id)
        return "missing"
    if job.status in TERMINAL:
        return job.status
    if job.status == "running":
        stale = job.heartbeat_at is None or (
            takeover_after_s is not None and (utcnow() - job.heartbeat_at).total_seconds() > takeover_after_s
        )
        if not (restart or stale) or not store.take_over(job):
            return store.status(job_id) or "missing"
    elif not store.transition(job_id, "running", from_=("queued",), progress=0.0, error=None):
        return store.status(job_id) or "missing"
    current = store.load(job_id)
    attempt = current.attempts if current is not None else None
    token = cancel or CancelToken()
    watcher = _Watcher(store, job_id, token, watch_period, attempt)
    watcher.start()
    prefix = result_key(job_id)
    try:
        return _run(job, store, storage, token, prefix, attempt)
    finally:
        watcher.stop.set()


def _owns(store: JobStore, job_id: uuid.UUID, attempt: int | None) -> bool:
    """Whether this run may still touch the job's outputs (not given up on by the reaper)."""
    now = store.load(job_id)
    if now is None:
        return False
    return attempt is None or now.attempts == attempt or now.status == "cancelled"


_Body = Callable[
    [JobSnapshot, JobStore, ObjectStorage, CancelToken, ProgressWriter, "int | None"],
    tuple[dict[str, Any], str, dict[str, Any]],
]


def _pipeline_body(
    job: JobSnapshot,
    store: JobStore,
    storage: ObjectStorage,
    token: CancelToken,
    progress: ProgressWriter,
    attempt: int | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A workflow pipeline from the dataset's Zarr store to ``results/{job_id}/output.zarr``."""
    ds = store.dataset(job.dataset_id) if job.dataset_id else None
    if ds is None or ds[0] != "ready" or not ds[1]:
        raise LookupError("the dataset is gone or not ready")
    storage.delete_prefix(result_key(job.id))  # what a previous attempt left
    out_key = result_key(job.id, OUTPUT)
    name = job.params["pipeline"].get("name")
    _log_start(store, job.id, f"running pipeline {name!r} on dataset {job.dataset_id}", attempt)
    summary = execute_pipeline(
        job.params["pipeline"], storage.url(ds[1]), storage.prepare(out_key), progress, token
    )
    token.check()
    metrics = _metrics(summary, storage.url(out_key), storage)
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
    return result, out_key, {}


def _report(progress: ProgressWriter, step: str) -> Callable[[float, str], None]:
    def report(fraction: float, message: str) -> None:
        progress(ProgressEvent(step=step, fraction=fraction, message=message))

    return report


def _ingest_body(
    job: JobSnapshot,
    store: JobStore,
    storage: ObjectStorage,
    token: CancelToken,
    progress: ProgressWriter,
    attempt: int | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Convert the dataset's raw upload to Zarr, describe and check it; the dataset becomes ``ready``
    with the job's success (one transaction)."""
    from promethium.worker.ingest import METADATA as DS_METADATA
    from promethium.worker.ingest import PROCESSED, ingest_dataset

    ds = store.dataset_raw(job.dataset_id) if job.dataset_id else None
    if ds is None or ds[0] != INGESTING or not ds[1]:
        raise LookupError("the dataset is gone or not waiting for its ingestion")
    _log_start(store, job.id, f"ingesting {ds[1]} into dataset {job.dataset_id}", attempt)
    meta = ingest_dataset(
        storage,
        job.dataset_id,
        ds[1],
        _report(progress, "ingest"),
        token,
        input_format=(job.params.get("ingest") or {}).get("input_format"),
    )
    processed = dataset_key(job.dataset_id, PROCESSED)
    result = {
        "output_key": processed,
        "metadata_key": dataset_key(job.dataset_id, DS_METADATA),
        "metrics": {
            "traces": meta["traces"],
            "samples": meta["samples"],
            "convert_seconds": meta["convert_seconds"],
            "qc": meta["qc"]["summary"],
        },
    }
    dataset = {
        "status": "ready",
        "format": meta["format"],
        "meta": meta,
        "processed_key": processed,
        "error": None,
    }
    return result, processed, {"dataset": dataset, "record_result": False}


def _export_body(
    job: JobSnapshot,
    store: JobStore,
    storage: ObjectStorage,
    token: CancelToken,
    progress: ProgressWriter,
    attempt: int | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Write the dataset (or the output of the job ``source_job_id``) in a file format to
    ``results/{job_id}/output/{name}``."""
    from promethium.worker.ingest import export_output

    spec = job.params.get("export") or {}
    fmt = str(spec.get("format") or "segy")
    filename = str(spec.get("filename") or f"export-{job.id}")
    source = spec.get("source_key")
    if not source:
        ds = store.dataset(job.dataset_id) if job.dataset_id else None
        if ds is None or ds[0] != "ready" or not ds[1]:
            raise LookupError("the dataset is gone or not ready")
        source = ds[1]
    storage.delete_prefix(result_key(job.id))  # what a previous attempt left
    _log_start(store, job.id, f"exporting {source} as {fmt}", attempt)
    report = _report(progress, "export")
    report(0.0, f"writing {fmt}")
    out_key = export_output(storage, job.id, str(source), fmt, filename, token)
    size = storage.size(out_key)
    report(1.0, f"wrote {size} bytes")
    meta = {"job_id": str(job.id), "kind": job.kind, "source_key": source, "format": fmt, "bytes": size}
    meta_key = result_key(job.id, METADATA)
    storage.put_bytes(meta_key, json.dumps(meta, indent=2).encode())
    result = {
        "output_key": out_key,
        "metadata_key": meta_key,
        "output_url": storage.url(out_key),
        "format": fmt,
        "metrics": {"bytes": size, "format": fmt},
    }
    return result, out_key, {}


def train_model_id(job_id: uuid.UUID) -> uuid.UUID:
    """The id of the model a train job registers: derived from the job, so a retry replaces it."""
    return uuid.uuid5(job_id, "model")


def _train_body(
    job: JobSnapshot,
    store: JobStore,
    storage: ObjectStorage,
    token: CancelToken,
    progress: ProgressWriter,
    attempt: int | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Train a model (:func:`promethium.ml.train.train`) on the dataset (or synthetic data); its files
    go to ``results/{job_id}/output/`` and ``models/{model_id}/``, and the model is registered with the
    job's success."""
    import shutil
    import tempfile
    from pathlib import Path

    from promethium import io as pio
    from promethium.api.storage import model_key
    from promethium.ml.io import read_sidecar
    from promethium.ml.train import TrainConfig, train

    spec = job.params["train"]
    config = dict(spec["config"])
    data = None
    storage.delete_prefix(result_key(job.id))  # what a previous attempt left
    what = f"{config.get('model')!r} for {config.get('steps')} steps on {config['data']['source']}"
    _log_start(store, job.id, f"training {what}", attempt)
    if config["data"]["source"] == "dataset":
        ds = store.dataset(job.dataset_id) if job.dataset_id else None
        if ds is None or ds[0] != "ready" or not ds[1]:
            raise LookupError("the dataset is gone or not ready")
        data = pio.read(storage.url(ds[1]), storage_options=storage.storage_options or None)
    report = _report(progress, "train")

    def stepped(step: int, total: int, metrics: dict[str, float]) -> None:
        token.check()
        report(step / max(total, 1), f"step {step} of {total}")

    tmp = Path(tempfile.mkdtemp(prefix="promethium-train-"))
    try:
        cfg = TrainConfig.model_validate(
            {**config, "data": {**config["data"], "source": "synthetic"}, "output_dir": str(tmp)}
        )
        res = train(cfg, data=data, progress=stepped)
        token.check()
        for f in sorted(tmp.iterdir()):
            if f.is_file() and f.name != "checkpoint.pt":
                storage.put_file(result_key(job.id, "output", f.name), f)
        model_id = train_model_id(job.id)
        storage.delete_prefix(model_key(model_id))
        put_model_files(storage, model_id, tmp / "model.pt", tmp / "model.json")
        sidecar = read_sidecar(tmp / "model.pt")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    metrics = {
        "steps": res.steps_done,
        "best_step": res.best_step,
        "best_val_loss": res.best_val_loss,
        "stopped_early": res.stopped_early,
    }
    sidecar["n_parameters"] = int(res.model.n_parameters)
    model = {
        "id": model_id,
        "owner_id": job.owner_id,
        "name": str(spec.get("name") or f"{config.get('model')}-{str(job.id)[:8]}")[:255],
        "version": str(sidecar.get("library_version", "1"))[:64],
        "status": "ready",
        "storage_key": model_key(model_id, "weights.pt"),
        "meta": {**sidecar, "default_for": None, "source": "train", "job_id": str(job.id)},
    }
    out_key = result_key(job.id, "output", "model.pt")
    result = {
        "output_key": out_key,
        "model_id": str(model_id),
        "output_url": storage.url(out_key),
        "metrics": metrics,
    }
    storage.put_bytes(
        result_key(job.id, METADATA),
        json.dumps({"job_id": str(job.id), "kind": job.kind, **result}, indent=2, default=str).encode(),
    )
    return result, out_key, {"model": model}


def _discard(job: JobSnapshot, storage: ObjectStorage, prefix: str) -> None:
    """Remove what the run wrote: ``results/{job_id}`` and, by kind, the rest."""
    from promethium.api.storage import model_key

    storage.delete_prefix(prefix)
    if job.kind == "ingest" and job.dataset_id is not None:
        storage.delete_prefix(dataset_key(job.dataset_id, "processed"))
        storage.delete_prefix(dataset_key(job.dataset_id, "metadata.json"))
    elif job.kind == "train":
        storage.delete_prefix(model_key(train_model_id(job.id)))


_BODIES: dict[str, _Body] = {"ingest": _ingest_body, "export": _export_body, "train": _train_body}


def _log_start(store: JobStore, job_id: uuid.UUID, message: str, attempt: int | None) -> None:
    """The job's first log line: what it does, and which run on which host and process does it."""
    store.log(job_id, message, {"attempt": attempt, "host": socket.gethostname(), "pid": os.getpid()})


def _write_logs(store: JobStore, storage: ObjectStorage, job_id: uuid.UUID) -> str:
    """The job's events (status changes, progress, log lines) as JSON lines at ``results/{id}/logs``,
    beside its output and metadata, as the storage layout of the design has it."""
    key = result_key(job_id, LOGS)
    lines = (json.dumps(e, default=str) for e in store.event_log(job_id))
    storage.put_bytes(key, ("\n".join(lines) + "\n").encode())
    return key


def _run(
    job: JobSnapshot,
    store: JobStore,
    storage: ObjectStorage,
    token: CancelToken,
    prefix: str,
    attempt: int | None = None,
) -> str:
    from promethium.workflows import Cancelled

    progress = ProgressWriter(store, job.id, token)
    try:
        body = _BODIES.get(job.kind, _pipeline_body)
        result, out_key, extra = body(job, store, storage, token, progress, attempt)
        result["logs_key"] = _write_logs(store, storage, job.id)
        if store.succeed(job, result, out_key, attempt, **extra):
            return "succeeded"
        if _owns(store, job.id, attempt):
            _discard(job, storage, prefix)  # cancelled while finishing
        return store.status(job.id) or "missing"
    except Cancelled as exc:
        if not _owns(store, job.id, attempt):  # another run has the job now: leave its outputs alone
            return store.status(job.id) or "missing"
        _discard(job, storage, prefix)
        store.transition(job.id, "cancelled", str(exc), attempt=attempt)
        return "cancelled"
    except Exception as exc:
        message = public_message(exc)
        if is_transient(exc):
            log.warning("job %s: transient error, back to the queue: %s", job.id, message)
            try:
                if _owns(store, job.id, attempt):
                    _discard(job, storage, prefix)
                    store.transition(
                        job.id,
                        "queued",
                        f"transient error: {message}"[:4000],
                        from_=("running",),
                        attempt=attempt,
                    )
            except Exception:  # the database itself may be what failed: the reaper catches up
                log.warning("job %s: cannot re-queue", job.id, exc_info=True)
            raise TransientJobError(message) from exc
        log.info("job %s failed: %s", job.id, exc, exc_info=not hasattr(exc, "step"))  # the detail
        if not _owns(store, job.id, attempt):
            return store.status(job.id) or "missing"
        _discard(job, storage, prefix)
        if store.transition(job.id, "failed", message, error=message[:4000], attempt=attempt):
            return "failed"
        return store.status(job.id) or "missing"
