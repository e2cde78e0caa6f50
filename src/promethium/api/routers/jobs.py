"""Jobs: create (validated pipeline, queued), list, get, cancel, logs and results."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from promethium.api.deps import Ctx, CurrentUser, Session, Writer
from promethium.api.schemas import ErrorBody, Page
from promethium.api.services.jobs import JobCreate, JobEventOut, JobOut, JobResultOut, JobService, JobStatus
from promethium.worker.executor import JobExecutor

router = APIRouter(prefix="/jobs", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


async def get_executor(request: Request) -> JobExecutor | None:
    executor: JobExecutor | None = getattr(request.app.state, "jobs_executor", None)
    return executor


Executor = Annotated[JobExecutor | None, Depends(get_executor)]


@router.post(
    "",
    name="create",
    response_model=JobOut,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    summary="Queue a job on a dataset; the pipeline is validated first (422 names the step and parameter)",
)
async def create_job(
    body: JobCreate, principal: Writer, ctx: Ctx, session: Session, executor: Executor
) -> JobOut:
    return JobOut.of(await JobService(ctx, session, executor).create(principal, body))


@router.get("", name="list", response_model=Page[JobOut])
async def list_jobs(
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
    status: JobStatus | None = Query(None),
    kind: str | None = Query(None, max_length=64),
    dataset_id: uuid.UUID | None = Query(None),
) -> Page[JobOut]:
    items, total = await JobService(ctx, session).page(
        principal, page, per_page, status=status, kind=kind, dataset_id=dataset_id
    )
    return Page[JobOut](items=[JobOut.of(j) for j in items], total=total, page=page, per_page=per_page)


@router.get("/{job_id}", name="get", response_model=JobOut, responses=_ERRORS)
async def get_job(job_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session) -> JobOut:
    return JobOut.of(await JobService(ctx, session).get(principal, job_id))


@router.post("/{job_id}/cancel", name="cancel", response_model=JobOut, responses=_ERRORS)
async def cancel_job(
    job_id: uuid.UUID, principal: Writer, ctx: Ctx, session: Session, executor: Executor, request: Request
) -> JobOut:
    out = JobOut.of(await JobService(ctx, session, executor).cancel(principal, job_id))
    runtime = getattr(request.app.state, "jobs_runtime", None)
    if runtime is not None:  # WebSocket subscribers
        runtime.publish(out.id, {"type": "status", "status": out.status, "message": "cancelled"})
    return out


@router.get("/{job_id}/logs", name="logs", response_model=Page[JobEventOut], responses=_ERRORS)
async def job_logs(
    job_id: uuid.UUID,
    principal: CurrentUser,
    ctx: Ctx,
    session: Session,
    page: int = Query(1, ge=1),
    per_page: int = Query(100, ge=1, le=1000),
    since: datetime | None = Query(None, description="Only events after this time (ISO 8601)"),
    kind: str | None = Query(None, max_length=32, description="status, progress or log"),
) -> Page[JobEventOut]:
    items, total = await JobService(ctx, session).events(principal, job_id, page, per_page, since, kind)
    return Page[JobEventOut](
        items=[JobEventOut.model_validate(e) for e in items], total=total, page=page, per_page=per_page
    )


@router.get("/{job_id}/results", name="results", response_model=JobResultOut, responses=_ERRORS)
async def job_results(job_id: uuid.UUID, principal: CurrentUser, ctx: Ctx, session: Session) -> JobResultOut:
    job, rows = await JobService(ctx, session).results(principal, job_id)
    res = job.result or {}
    return JobResultOut(
        job_id=job.id,
        status=job.status,  # type: ignore[arg-type]
        output_key=res.get("output_key"),
        metadata_key=res.get("metadata_key"),
        metrics=res.get("metrics", {}),
        steps=res.get("steps", []),
        results=[
            {"id": str(r.id), "kind": r.kind, "storage_key": r.storage_key, "metadata": r.meta} for r in rows
        ],
    )
