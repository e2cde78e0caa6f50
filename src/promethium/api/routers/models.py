"""Models: list, get, upload weights (validated, never unpickled unsafely), set default, delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from pydantic import BaseModel

from promethium.api.deps import Admin, Ctx, CurrentUser, Session, Writer
from promethium.api.schemas import ErrorBody, Page
from promethium.api.services.models import ModelService, Task, model_out

router = APIRouter(prefix="/models", tags=["models"])

_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


class ModelOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID | None
    name: str
    version: str
    status: str
    architecture: str | None
    args: dict[str, Any]
    metrics: dict[str, Any]
    training: dict[str, Any]
    n_parameters: int | None
    default_for: str | None
    created_at: datetime


class DefaultIn(BaseModel):
    task: Task


@router.get("", name="list", response_model=Page[ModelOut])
async def list_models(
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
) -> Page[ModelOut]:
    items, total = await ModelService(ctx, session).page(page, per_page)
    return Page[ModelOut](
        items=[ModelOut(**model_out(m)) for m in items], total=total, page=page, per_page=per_page
    )


@router.get("/{model_id}", name="get", response_model=ModelOut, responses=_ERRORS)
async def get_model(model_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session) -> ModelOut:
    return ModelOut(**model_out(await ModelService(ctx, session).get(model_id)))


@router.post(
    "",
    name="upload",
    response_model=ModelOut,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    summary="Upload weights (.pt) and their JSON sidecar; loaded with weights_only and checked first",
)
async def upload_model(
    principal: Writer,
    ctx: Ctx,
    session: Session,
    weights: Annotated[UploadFile, File(description="The weights file (.pt)")],
    sidecar: Annotated[UploadFile, File(description="The JSON sidecar")],
    name: Annotated[str | None, Form(max_length=255)] = None,
) -> ModelOut:
    m = await ModelService(ctx, session).upload(principal, name, weights.file, sidecar.file)
    return ModelOut(**model_out(m))


@router.put("/{model_id}/default", name="set_default", response_model=ModelOut, responses=_ERRORS)
async def set_default(
    model_id: uuid.UUID, body: DefaultIn, principal: Admin, ctx: Ctx, session: Session
) -> ModelOut:
    return ModelOut(**model_out(await ModelService(ctx, session).set_default(principal, model_id, body.task)))


@router.delete("/{model_id}", name="delete", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_model(model_id: uuid.UUID, principal: Writer, ctx: Ctx, session: Session) -> None:
    await ModelService(ctx, session).delete(principal, model_id)
