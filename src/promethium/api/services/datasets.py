"""Datasets: accept an upload (validate, store raw, queue its ingestion), list, get, delete, trace
windows, preview images and downloads.

An upload is checked at once (:func:`validate_upload`: the format detector and the header parse); a
file that fails leaves nothing behind (no row, no objects, no temporary file). A valid one is stored as
``datasets/{id}/raw/{file}`` and the dataset is created ``ingesting`` with an ``ingest`` job queued (on
the ``io`` queue): the worker converts it to Zarr, describes and checks it, and the dataset becomes
``ready`` (or ``failed`` with the error; the raw file stays). Reading a dataset that is not ready
(windows, preview, export, jobs) is a CONFLICT.

The blocking work (format detection, plotting, storage I/O) runs in worker threads; the library calls
are the same as the command line's.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.deps import Principal
from promethium.api.errors import ConflictError, NotFoundError, PayloadTooLargeError, ValidationError
from promethium.api.handles import HandleCache
from promethium.api.models import Dataset
from promethium.api.repositories import DatasetRepository
from promethium.api.repositories_jobs import INGESTING
from promethium.api.storage import ObjectStorage, dataset_key
from promethium.core.errors import FormatError, PromethiumError
from promethium.io.base import SeismicFile
from promethium.worker.executor import JobExecutor

__all__ = ["DatasetService", "TraceWindow", "WindowRequest", "safe_filename", "validate_upload"]

log = logging.getLogger("promethium.api")

PROCESSED = "processed/data.zarr"
METADATA = "metadata.json"
PREVIEW = "preview.png"
_COPY_BLOCK = 1024 * 1024


def safe_filename(name: str | None) -> str:
    base = Path(name or "upload").name
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return base[:200]


def copy_with_digest(src: IO[bytes], dst: Path, limit: int) -> tuple[int, str]:
    """Copy ``src`` into ``dst``; returns (size, sha256). Raises 413 past ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    with dst.open("wb") as out:
        while block := src.read(_COPY_BLOCK):
            size += len(block)
            if size > limit:
                raise PayloadTooLargeError(f"the file is larger than {limit} bytes")
            digest.update(block)
            out.write(block)
    return size, digest.hexdigest()


#: a file smaller than this whose format has no lazy reader is read whole at upload to validate it.
_VALIDATE_WHOLE_BYTES = 64 * 1024 * 1024


def validate_upload(local: Path, filename: str) -> tuple[str, dict[str, Any]]:
    """Fast checks of an uploaded file before it is stored: its format (the content detector), its
    headers (parsed by the lazy reader, and the first trace read) or, for small files of formats read
    whole, the whole file. Returns (format, header summary); raises :class:`FormatError`."""
    from promethium import io as pio
    from promethium.io.convert import open_lazily

    fmt = pio.detect_format(local)
    if fmt == "zarr":
        raise FormatError("a Zarr store cannot be uploaded as one file", path=filename)
    with open_lazily(str(local), fmt) as f:
        if f is not None:
            info = f.info()
            if int(f.n_traces) < 1 or int(f.n_samples) < 1:
                raise FormatError("the file holds no traces", path=filename)
            f.read(slice(0, 1))
            summary = {
                "traces": int(f.n_traces),
                "samples": int(f.n_samples),
                "sample_interval": float(f.sample_interval),
                "warnings": [str(w) for w in info.get("warnings", [])][:20],
            }
            return fmt, json.loads(json.dumps(summary, default=str))
    if local.stat().st_size <= _VALIDATE_WHOLE_BYTES:
        data = pio.read(local, fmt)
        if data.n_traces < 1:
            raise FormatError("the file holds no traces", path=filename)
        return fmt, {
            "traces": int(data.n_traces),
            "samples": int(data.n_samples),
            "sample_interval": float(data.sample_interval),
        }
    return fmt, {}


@dataclass(frozen=True)
class WindowRequest:
    trace_start: int = 0
    trace_stop: int | None = None
    trace_step: int = 1
    sample_start: int | None = None
    sample_stop: int | None = None
    time_start: float | None = None
    time_stop: float | None = None
    sample_step: int = 1


@dataclass(frozen=True)
class TraceWindow:
    values: np.ndarray  # float32, (trace, sample)
    traces: np.ndarray  # trace positions
    times: np.ndarray  # sample axis values
    sample_interval: float
    sample_unit: str


def _read_window(
    storage: ObjectStorage,
    key: str,
    req: WindowRequest,
    max_values: int,
    handles: HandleCache | None = None,
) -> TraceWindow:
    from promethium import io as pio

    by_time = req.time_start is not None or req.time_stop is not None
    if by_time and (req.sample_start is not None or req.sample_stop is not None):
        raise ValidationError("give a time range or a sample range, not both")
    url = storage.url(key)

    def opener() -> SeismicFile:
        return pio.open(url, storage_options=storage.storage_options or None)

    f = handles.get(url, opener) if handles is not None else opener()
    try:
        return _window_of(f, req, max_values)
    finally:
        if handles is None:
            f.close()


def _window_of(f: SeismicFile, req: WindowRequest, max_values: int) -> TraceWindow:
    n = f.n_traces
    start, stop = req.trace_start, n if req.trace_stop is None else min(req.trace_stop, n)
    if start >= n or stop <= start:
        raise ValidationError(f"empty trace range [{start}, {stop}) of {n} traces", details={"traces": n})
    ns = f.n_samples
    s0 = req.sample_start or 0
    s1 = ns if req.sample_stop is None else min(req.sample_stop, ns)
    n_out = math.ceil((stop - start) / req.trace_step) * math.ceil(max(s1 - s0, 1) / req.sample_step)
    # Along a crossline of a volume (a step of whole inlines) the reader reads just those traces.
    shape = tuple(getattr(f, "shape", ()))
    strided = len(shape) == 3 and req.trace_step % shape[1] == 0 and hasattr(f, "read_window")
    n_read = (len(range(start, stop, req.trace_step)) if strided else stop - start) * (s1 - s0)
    if n_out > max_values or n_read > 8 * max_values:
        raise PayloadTooLargeError(
            "the window is too large; narrow it or decimate",
            details={"values": n_out, "max_values": max_values},
        )
    time = None
    samples = None
    if req.time_start is not None or req.time_stop is not None:
        time = slice(req.time_start, req.time_stop)
    else:
        samples = slice(s0, s1)
    step = req.trace_step if strided else 1
    data = f.read_window(slice(start, stop, step), time, samples=samples, headers=False)  # type: ignore[attr-defined]
    values = np.asarray(data.values, dtype=np.float32).reshape(-1, data.n_samples)
    traces = np.arange(start, stop, step, dtype=np.int64)
    times = np.asarray(data.samples, dtype=np.float64)
    values = values[:: req.trace_step // step, :: req.sample_step]
    return TraceWindow(
        np.ascontiguousarray(values),
        traces[:: req.trace_step // step],
        times[:: req.sample_step],
        float(data.sample_interval) * req.sample_step,
        str(data.sample_unit),
    )


def _render_preview(storage: ObjectStorage, dataset_id: uuid.UUID, max_traces: int = 1500) -> bytes:
    from promethium import io as pio
    from promethium.plotting import plot_section

    cached = dataset_key(dataset_id, PREVIEW)
    if storage.exists(cached):
        return storage.get_bytes(cached)
    with pio.open(
        storage.url(dataset_key(dataset_id, PROCESSED)), storage_options=storage.storage_options or None
    ) as f:
        shape = tuple(getattr(f, "shape", (f.n_traces, f.n_samples)))
        if len(shape) == 3:  # the middle inline of a volume
            n_xl = shape[1]
            start = (shape[0] // 2) * n_xl
            window = slice(start, start + n_xl)
        else:
            window = slice(0, min(f.n_traces, max_traces))
        data = f.read_window(window, headers=False)  # type: ignore[attr-defined]
        values = np.asarray(data.values, dtype=np.float32).reshape(-1, data.n_samples)
        dt = float(f.sample_interval)
    step = max(1, values.shape[0] // max_traces)
    plot = plot_section(values[::step], dt_ms=dt, figsize=(8.0, 5.0), dpi=80, colorbar=False, title="")
    buf = io.BytesIO()
    plot.figure.savefig(buf, format="png", dpi=80)
    png = buf.getvalue()
    storage.put_bytes(cached, png)
    return png


def not_ready(ds: Dataset) -> ConflictError:
    """The CONFLICT of a read of a dataset that is not ``ready`` (still ingesting, or failed)."""
    details: dict[str, Any] = {"status": ds.status}
    if ds.ingest_job_id is not None:
        details["ingest_job_id"] = str(ds.ingest_job_id)
    if ds.error:
        details["error"] = ds.error
    hint = {INGESTING: ": its ingestion has not finished", "failed": f": its ingestion failed ({ds.error})"}
    return ConflictError(f"the dataset is {ds.status}, not ready{hint.get(ds.status, '')}", details=details)


class DatasetService:
    def __init__(self, ctx: ApiContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.s = session
        self.repo = DatasetRepository(session)
        self.storage = ctx.storage

    def tmp_dir(self) -> Path:
        d = self.ctx.settings.data_dir / "tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d

    async def create_from_upload(
        self,
        principal: Principal,
        name: str | None,
        filename: str | None,
        stream: IO[bytes],
        executor: JobExecutor | None = None,
    ) -> Dataset:
        """Accept a file received in one request (multipart)."""
        tmp = Path(tempfile.mkdtemp(dir=self.tmp_dir())) / "upload"
        try:
            size, digest = await anyio.to_thread.run_sync(
                copy_with_digest, stream, tmp, self.ctx.settings.max_upload_bytes
            )
            return await self.create_from_file(principal, name, filename, tmp, size, digest, executor)
        finally:
            shutil.rmtree(tmp.parent, ignore_errors=True)

    async def create_from_file(
        self,
        principal: Principal,
        name: str | None,
        filename: str | None,
        local: Path,
        size: int,
        digest: str,
        executor: JobExecutor | None = None,
    ) -> Dataset:
        """Validate ``local``, store it raw and queue its ingestion; returns the dataset (``ingesting``,
        with ``ingest_job_id``)."""
        from promethium.api.services.jobs import JobService

        if size == 0:
            raise ValidationError("the file is empty")
        fname = safe_filename(filename)
        try:
            fmt, header = await anyio.to_thread.run_sync(validate_upload, local, fname)
        except FormatError as exc:
            self.ctx.metrics.uploads.labels("rejected").inc()
            raise ValidationError(
                f"the file is not valid seismic data: {exc.reason}", details={"filename": fname}
            ) from exc
        except (PromethiumError, ValueError, OSError) as exc:
            self.ctx.metrics.uploads.labels("rejected").inc()
            raise ValidationError(
                f"the file is not valid seismic data: {exc}", details={"filename": fname}
            ) from exc
        except Exception as exc:  # a reader tripping on a malformed file (struct.error, IndexError...)
            self.ctx.metrics.uploads.labels("rejected").inc()
            log.info("upload %r: the reader failed on it", fname, exc_info=True)
            raise ValidationError(
                f"the file is not valid seismic data: the reader failed on it ({type(exc).__name__})",
                details={"filename": fname},
            ) from exc
        ds_id = uuid.uuid4()
        raw_key = dataset_key(ds_id, "raw", fname)
        try:
            await anyio.to_thread.run_sync(self.storage.put_file, raw_key, local)
            ds = Dataset(
                id=ds_id,
                owner_id=principal.id,
                name=(name or fname)[:255],
                status=INGESTING,
                format=fmt,
                size_bytes=size,
                checksum_sha256=digest,
                raw_key=raw_key,
                meta={"filename": fname, "format": fmt, "upload": header},
            )
            self.repo.add(ds)
            await self.s.flush()
            jobs = JobService(self.ctx, self.s, executor)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.s.rollback()
                await anyio.to_thread.run_sync(self.storage.delete_prefix, dataset_key(ds_id))
            self.ctx.metrics.uploads.labels("error").inc()
            raise
        try:
            job = await jobs.queue_ingest(principal, ds, fmt)  # commits the dataset with its job
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.s.rollback()
                await anyio.to_thread.run_sync(self.storage.delete_prefix, dataset_key(ds_id))
            self.ctx.metrics.uploads.labels("error").inc()
            raise
        self.ctx.metrics.uploads.labels("ok").inc()
        await self.s.refresh(ds)
        log.info("dataset %s uploaded (%s, %d bytes): ingest job %s", ds.id, fmt, size, job.id)
        return ds

    async def get(self, principal: Principal, dataset_id: uuid.UUID) -> Dataset:
        ds = await self.repo.get(dataset_id, principal.owner_filter())
        if ds is None:
            raise NotFoundError("no such dataset")
        return ds

    async def ready(self, principal: Principal, dataset_id: uuid.UUID) -> Dataset:
        ds = await self.get(principal, dataset_id)
        if ds.status != "ready" or not ds.processed_key:
            raise not_ready(ds)
        return ds

    async def page(
        self, principal: Principal, page: int, per_page: int, sort: str, **filters: Any
    ) -> tuple[Sequence[Dataset], int]:
        descending = sort.startswith("-")
        column = sort.lstrip("-+")
        if column not in DatasetRepository.SORTABLE:
            raise ValidationError(
                f"cannot sort by {column!r}", details={"allowed": sorted(DatasetRepository.SORTABLE)}
            )
        return await self.repo.page(
            owner_id=principal.owner_filter(),
            offset=(page - 1) * per_page,
            limit=per_page,
            sort=column,
            descending=descending,
            **filters,
        )

    async def delete(
        self, principal: Principal, dataset_id: uuid.UUID, executor: JobExecutor | None = None
    ) -> None:
        """Remove the dataset; an ingestion still running is cancelled first (its worker removes what
        it wrote)."""
        from promethium.api.repositories_jobs import JobRepository

        ds = await self.get(principal, dataset_id)
        if ds.status == INGESTING and ds.ingest_job_id is not None:
            jobs = JobRepository(self.s)
            if await jobs.transition(ds.ingest_job_id, "cancelled", "the dataset was deleted"):
                await self.s.commit()
                if executor is not None:
                    executor.cancel(ds.ingest_job_id)
            ds = await self.get(principal, dataset_id)
        self.ctx.handles.invalidate(self.storage.url(dataset_key(ds.id)))
        await anyio.to_thread.run_sync(self.storage.delete_prefix, dataset_key(ds.id))
        await self.repo.delete(ds)
        await self.s.commit()

    async def window(self, principal: Principal, dataset_id: uuid.UUID, req: WindowRequest) -> TraceWindow:
        ds = await self.ready(principal, dataset_id)
        key = ds.processed_key or ""
        try:
            return await anyio.to_thread.run_sync(
                _read_window, self.storage, key, req, self.ctx.settings.max_window_values, self.ctx.handles
            )
        except (KeyError, IndexError, ValueError) as exc:
            if isinstance(exc, PromethiumError):
                raise
            raise ValidationError(f"invalid window: {exc}") from exc

    async def preview(self, principal: Principal, dataset_id: uuid.UUID) -> bytes:
        ds = await self.ready(principal, dataset_id)
        return await anyio.to_thread.run_sync(_render_preview, self.storage, ds.id)

    async def raw(self, principal: Principal, dataset_id: uuid.UUID) -> tuple[str, int, Iterator[bytes]]:
        """File name, size and content (a blocking iterator) of the uploaded file."""
        ds = await self.get(principal, dataset_id)  # the file as uploaded: whatever the status
        if not ds.raw_key:
            raise NotFoundError("the dataset has no raw file")
        size = await anyio.to_thread.run_sync(self.storage.size, ds.raw_key)
        return Path(ds.raw_key).name, size, self.storage.iter_bytes(ds.raw_key)
