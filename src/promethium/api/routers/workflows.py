"""Workflows: the operations (with the JSON Schema of their parameters) and presets a job may run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from promethium.api.deps import CurrentUser
from promethium.api.services.jobs import DEFAULT_PIPELINES

router = APIRouter(prefix="/workflows", tags=["workflows"])


class WorkflowsOut(BaseModel):
    operations: dict[str, dict[str, Any]]
    presets: list[str]
    default_pipelines: dict[str, str]


@router.get(
    "",
    name="describe",
    response_model=WorkflowsOut,
    summary="Operations with the JSON Schema of their parameters, presets, and each job kind's preset",
)
async def describe(_: CurrentUser) -> WorkflowsOut:
    from promethium.workflows import list_presets, operation_schemas

    return WorkflowsOut(
        operations=operation_schemas(), presets=list_presets(), default_pipelines=DEFAULT_PIPELINES
    )
