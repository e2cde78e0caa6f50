"""Dataset export in SEG-Y, miniSEED, SAC, zipped Zarr or NumPy, streamed."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.schemas import ErrorBody
from promethium.api.services.exports import ExportFormat, ExportService

router = APIRouter(prefix="/datasets", tags=["datasets"])

_MEDIA = {"zarr": "application/zip", "npy": "application/octet-stream"}


@router.get(
    "/{dataset_id}/export",
    name="export",
    response_class=StreamingResponse,
    responses={
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        422: {"model": ErrorBody},
        200: {"content": {"application/octet-stream": {}, "application/zip": {}}},
    },
    summary="The dataset written as SEG-Y, miniSEED, SAC, a zipped Zarr store or a NumPy .npy array",
)
async def export_dataset(
    dataset_id: uuid.UUID,
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    format: ExportFormat = Query("segy"),
) -> StreamingResponse:
    filename, size, content = await ExportService(ctx, session).export(principal, dataset_id, format)
    return StreamingResponse(
        content,
        media_type=_MEDIA.get(format, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Content-Length": str(size)},
    )
