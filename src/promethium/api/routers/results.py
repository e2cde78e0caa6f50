"""Results of a succeeded job: metrics and keys, a comparison figure (input / result / difference with
one clip), and the output downloaded as SEG-Y, miniSEED, SAC, zipped Zarr or NumPy. Owner or admin only,
as for the job."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import anyio
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.errors import ConflictError, NotFoundError, ValidationError
from promethium.api.schemas import ErrorBody
from promethium.api.services.exports import EXTENSIONS, ExportFormat, export_to_file, stream_and_remove
from promethium.api.services.jobs import JobService
from promethium.api.services.results import render_comparison
from promethium.core.errors import PromethiumError

router = APIRouter(prefix="/results", tags=["results"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


#: job kinds whose output is the input section processed (a Zarr store of the same shape)
SECTION_KINDS = ("reconstruct", "denoise", "preprocess", "custom")


def _is_section(kind: str, output_key: object) -> bool:
    return kind in SECTION_KINDS and isinstance(output_key, str) and output_key.endswith(".zarr")


class ResultOut(BaseModel):
    job_id: uuid.UUID
    kind: str
    dataset_id: uuid.UUID | None
    metrics: dict[str, object]
    steps: list[dict[str, object]]
    output_key: str | None
    figures: dict[str, str]
    downloads: dict[str, str]


@router.get("/{job_id}", name="get", response_model=ResultOut, responses=_ERRORS)
async def get_result(job_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session) -> ResultOut:
    """Metrics and steps of a succeeded job, with the addresses of its figure and downloads."""
    job, _ = await JobService(ctx, session).results(principal, job_id)
    res = job.result or {}
    base = f"/api/v1/results/{job.id}"
    section = _is_section(job.kind, res.get("output_key"))
    if job.kind == "export" and res.get("output_key"):
        downloads = {str(res.get("format")): f"{base}/download"}
    else:
        downloads = {f: f"{base}/download?format={f}" for f in EXTENSIONS} if section else {}
    return ResultOut(
        job_id=job.id,
        kind=job.kind,
        dataset_id=job.dataset_id,
        metrics=res.get("metrics", {}),
        steps=res.get("steps", []),
        output_key=res.get("output_key"),
        figures={"comparison": f"{base}/figure"} if section and job.dataset_id else {},
        downloads=downloads,
    )


@router.get(
    "/{job_id}/figure",
    name="figure",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"image/png": {}}}},
    summary="Input, result and difference of one section side by side, with one symmetric clip (PNG)",
)
async def result_figure(job_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session) -> Response:
    job, _ = await JobService(ctx, session).results(principal, job_id)
    key = (job.result or {}).get("output_key")
    if not key or job.dataset_id is None:
        raise NotFoundError("the job has no stored output to compare with its input")
    if not _is_section(job.kind, key):
        raise ConflictError(
            f"a {job.kind} job's output is not a processed copy of its input: no comparison figure",
            details={"kind": job.kind},
        )
    title = f"{job.kind} job {str(job.id)[:8]}"
    png = await anyio.to_thread.run_sync(
        lambda: render_comparison(ctx.storage, job.id, job.dataset_id, key, title=title)  # type: ignore[arg-type]
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/{job_id}/download",
    name="download",
    response_class=StreamingResponse,
    responses={
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        422: {"model": ErrorBody},
        200: {"content": {"application/octet-stream": {}, "application/zip": {}}},
    },
    summary="The output of a succeeded job in the format asked for",
)
async def download_result(
    job_id: uuid.UUID,
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    format: ExportFormat | None = Query(
        None, description="Default segy; an export job's file is sent as written (its own format)"
    ),
) -> StreamingResponse:
    job, _ = await JobService(ctx, session).results(principal, job_id)
    key = (job.result or {}).get("output_key")
    if not key or not await anyio.to_thread.run_sync(ctx.storage.exists, key):
        raise NotFoundError("the job has no stored output")
    if job.kind == "export":
        written = (job.result or {}).get("format")
        if format is not None and format != written:
            raise ValidationError(
                f"this export job wrote {written}, not {format}", details={"format": written}
            )
        size = await anyio.to_thread.run_sync(ctx.storage.size, key)
        return StreamingResponse(
            ctx.storage.iter_bytes(key),
            media_type="application/zip" if written == "zarr" else "application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="{Path(key).name}"',
                "Content-Length": str(size),
            },
        )
    format = format or "segy"
    tmp_root = ctx.settings.data_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    filename = f"result-{job.id}{EXTENSIONS[format]}"
    out = Path(tempfile.mkdtemp(dir=tmp_root)) / filename
    try:
        await anyio.to_thread.run_sync(export_to_file, ctx.storage, key, format, out)
    except PromethiumError as exc:
        shutil.rmtree(out.parent, ignore_errors=True)
        raise ValidationError(f"cannot export this result as {format}: {exc}") from exc
    except BaseException:
        shutil.rmtree(out.parent, ignore_errors=True)
        raise
    size = out.stat().st_size
    return StreamingResponse(
        stream_and_remove(out),  # the file is gone from the folder already: nothing can leak
        media_type="application/zip" if format == "zarr" else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size),
        },
    )
