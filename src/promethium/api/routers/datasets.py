"""Datasets: upload (multipart), list, get, delete, trace windows, preview, download."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from promethium.api.deps import Ctx, CurrentUser, Session, Writer
from promethium.api.routers.jobs import Executor
from promethium.api.schemas import DatasetOut, ErrorBody, Page
from promethium.api.services.datasets import DatasetService, TraceWindow, WindowRequest

router = APIRouter(prefix="/datasets", tags=["datasets"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


@router.post(
    "",
    name="upload",
    response_model=DatasetOut,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    summary="Upload a SEG-Y, SU, miniSEED or SAC file: its headers are checked now, then an ingest job "
    "converts it to Zarr (status ingesting -> ready | failed; follow ingest_job_id)",
)
async def upload_dataset(
    principal: Writer,
    ctx: Ctx,
    session: Session,
    executor: Executor,
    file: Annotated[UploadFile, File(description="The seismic file")],
    name: Annotated[str | None, Form(max_length=255)] = None,
) -> DatasetOut:
    ds = await DatasetService(ctx, session).create_from_upload(
        principal, name, file.filename, file.file, executor
    )
    return DatasetOut.model_validate(ds)


@router.get("", name="list", response_model=Page[DatasetOut])
async def list_datasets(
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
    sort: str = Query(
        "-created_at", description="created_at, name, size_bytes, status or format; '-' for descending"
    ),
    status: str | None = Query(None, max_length=16),
    format: str | None = Query(None, max_length=32),
    q: str | None = Query(None, max_length=255, description="Part of the name"),
) -> Page[DatasetOut]:
    items, total = await DatasetService(ctx, session).page(
        principal, page, per_page, sort, status=status, format=format, name_contains=q
    )
    return Page[DatasetOut](
        items=[DatasetOut.model_validate(d) for d in items], total=total, page=page, per_page=per_page
    )


@router.get("/{dataset_id}", name="get", response_model=DatasetOut, responses=_ERRORS)
async def get_dataset(
    dataset_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session
) -> DatasetOut:
    return DatasetOut.model_validate(await DatasetService(ctx, session).get(principal, dataset_id))


@router.delete("/{dataset_id}", name="delete", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_dataset(
    dataset_id: uuid.UUID, principal: Writer, ctx: Ctx, session: Session, executor: Executor
) -> None:
    await DatasetService(ctx, session).delete(principal, dataset_id, executor)


@router.get(
    "/{dataset_id}/traces",
    name="traces",
    responses={**_ERRORS, 200: {"content": {"application/json": {}, "application/octet-stream": {}}}},
    summary="A window of traces: JSON, or little-endian float32 (trace-major) with its shape in X-Shape",
)
async def trace_window(
    dataset_id: uuid.UUID,
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    trace_start: int = Query(0, ge=0),
    trace_stop: int | None = Query(None, ge=1),
    trace_step: int = Query(1, ge=1, le=100_000),
    sample_start: int | None = Query(None, ge=0),
    sample_stop: int | None = Query(None, ge=1),
    time_start: float | None = Query(None, description="First time (ms), inclusive"),
    time_stop: float | None = Query(None, description="Last time (ms), inclusive"),
    sample_step: int = Query(1, ge=1, le=100_000),
    format: Literal["json", "binary"] = Query("json"),
) -> Response:
    req = WindowRequest(
        trace_start, trace_stop, trace_step, sample_start, sample_stop, time_start, time_stop, sample_step
    )
    w = await DatasetService(ctx, session).window(principal, dataset_id, req)
    return window_response(w, format, trace_step)


def window_response(w: TraceWindow, format: Literal["json", "binary"], trace_step: int) -> Response:
    """The HTTP form of a trace window (datasets and results alike)."""
    first_time = float(w.times[0]) if w.times.size else 0.0
    if format == "binary":
        values = np.ascontiguousarray(w.values, dtype="<f4")  # no copy: already little-endian float32
        return Response(
            memoryview(values.data).cast("B"),  # sent as is, without a bytes copy of the window
            media_type="application/octet-stream",
            headers={
                "X-Shape": f"{w.values.shape[0]},{w.values.shape[1]}",
                "X-Dtype": "float32-le",
                "X-Sample-Interval": repr(w.sample_interval),
                "X-Trace-Start": str(int(w.traces[0]) if w.traces.size else 0),
                "X-Trace-Step": str(trace_step),
                "X-Time-Start": repr(first_time),
            },
        )
    return JSONResponse(
        {
            "shape": list(w.values.shape),
            "traces": w.traces.tolist(),
            "time_start": first_time,
            "sample_interval": w.sample_interval,
            "sample_unit": w.sample_unit,
            "values": w.values.tolist(),
        }
    )


@router.get(
    "/{dataset_id}/preview",
    name="preview",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"image/png": {}}}},
    summary="A PNG image of a section (the middle inline of a volume)",
)
async def preview(dataset_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session) -> Response:
    png = await DatasetService(ctx, session).preview(principal, dataset_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/{dataset_id}/download",
    name="download",
    response_class=StreamingResponse,
    responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    summary="The file as uploaded",
)
async def download(
    dataset_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session
) -> StreamingResponse:
    filename, size, content = await DatasetService(ctx, session).raw(principal, dataset_id)
    return StreamingResponse(
        content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Content-Length": str(size)},
    )
