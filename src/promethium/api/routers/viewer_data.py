"""What the web app's viewers read besides a dataset's trace window: the trace headers of a range of
traces (shown on hover), and windows of a succeeded job's output (the result viewer compares them
with the input's), in the same JSON or float32 form as ``GET /datasets/{id}/traces``."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import anyio
import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.errors import NotFoundError, PayloadTooLargeError, ValidationError
from promethium.api.routers.datasets import window_response
from promethium.api.schemas import ErrorBody
from promethium.api.services.datasets import DatasetService, WindowRequest, _read_window
from promethium.api.services.jobs import JobService
from promethium.api.storage import ObjectStorage
from promethium.core.errors import PromethiumError

router = APIRouter()

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
MAX_HEADER_TRACES = 1000


class TraceHeadersOut(BaseModel):
    traces: list[int]
    fields: dict[str, list[float | int | None]]


def _plain(values: np.ndarray) -> list[Any]:
    flat = np.asarray(values).reshape(-1)
    if flat.dtype.kind == "f":
        return [None if not np.isfinite(v) else float(v) for v in flat]
    if flat.dtype.kind in "iub":
        return [int(v) for v in flat]
    return [str(v) for v in flat]


def _read_headers(storage: ObjectStorage, key: str, start: int, stop: int) -> TraceHeadersOut:
    from promethium import io as pio

    with pio.open(storage.url(key), storage_options=storage.storage_options or None) as f:
        n = f.n_traces
        stop = min(stop, n)
        if start >= n or stop <= start:
            raise ValidationError(f"empty trace range [{start}, {stop}) of {n} traces", details={"traces": n})
        data = f.read_window(slice(start, stop), samples=slice(0, 1), headers=True)  # type: ignore[attr-defined]
    fields = {str(name): _plain(data.header(name)) for name in data.header_names}
    return TraceHeadersOut(traces=list(range(start, stop)), fields=fields)


@router.get(
    "/datasets/{dataset_id}/headers",
    name="headers",
    tags=["datasets"],
    response_model=TraceHeadersOut,
    responses=_ERRORS,
    summary=f"The trace header fields of a range of traces (at most {MAX_HEADER_TRACES})",
)
async def trace_headers(
    dataset_id: uuid.UUID,
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    trace_start: int = Query(0, ge=0),
    trace_stop: int | None = Query(None, ge=1, description="Exclusive; default trace_start + 1"),
) -> TraceHeadersOut:
    stop = trace_start + 1 if trace_stop is None else trace_stop
    if stop - trace_start > MAX_HEADER_TRACES:
        raise PayloadTooLargeError(
            f"at most {MAX_HEADER_TRACES} traces of headers at once",
            details={"max_traces": MAX_HEADER_TRACES},
        )
    ds = await DatasetService(ctx, session).ready(principal, dataset_id)
    return await anyio.to_thread.run_sync(
        _read_headers, ctx.storage, ds.processed_key or "", trace_start, stop
    )


@router.get(
    "/results/{job_id}/traces",
    name="traces",
    tags=["results"],
    responses={**_ERRORS, 200: {"content": {"application/json": {}, "application/octet-stream": {}}}},
    summary="A window of traces of a succeeded job's output (as GET /datasets/{id}/traces)",
)
async def result_window(
    job_id: uuid.UUID,
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    trace_start: int = Query(0, ge=0),
    trace_stop: int | None = Query(None, ge=1),
    trace_step: int = Query(1, ge=1, le=100_000),
    sample_start: int | None = Query(None, ge=0),
    sample_stop: int | None = Query(None, ge=1),
    sample_step: int = Query(1, ge=1, le=100_000),
    format: Literal["json", "binary"] = Query("json"),
) -> Response:
    job, _ = await JobService(ctx, session).results(principal, job_id)
    key = (job.result or {}).get("output_key")
    if not key or not await anyio.to_thread.run_sync(ctx.storage.exists, key):
        raise NotFoundError("the job has no stored output")
    req = WindowRequest(
        trace_start, trace_stop, trace_step, sample_start, sample_stop, None, None, sample_step
    )
    try:
        w = await anyio.to_thread.run_sync(
            _read_window, ctx.storage, key, req, ctx.settings.max_window_values, ctx.handles
        )
    except (KeyError, IndexError, ValueError) as exc:
        if isinstance(exc, PromethiumError):
            raise
        raise ValidationError(f"invalid window: {exc}") from exc
    return window_response(w, format, trace_step)
