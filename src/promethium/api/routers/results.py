"""Results: a succeeded job's output, downloaded as SEG-Y, miniSEED, SAC, zipped Zarr or NumPy
(metrics and keys come from ``GET /jobs/{job_id}/results``). Owner or admin only, as for the job."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.errors import NotFoundError, ValidationError
from promethium.api.schemas import ErrorBody
from promethium.api.services.exports import EXTENSIONS, ExportFormat, export_to_file, stream_and_remove
from promethium.api.services.jobs import JobService
from promethium.core.errors import PromethiumError

router = APIRouter(prefix="/results", tags=["results"])


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
    return StreamingResponse(
        stream_and_remove(out),
        media_type="application/zip" if format == "zarr" else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(out.stat().st_size),
        },
    )
