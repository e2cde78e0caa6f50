"""``GET /system/status``: what the dashboard shows about the platform: where jobs run, the queue,
workers that stopped beating, and the storage used (the caller's datasets; everything for admins)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from typing import Literal

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.models import Dataset, Job

router = APIRouter(prefix="/system", tags=["system"])

#: a running job whose heartbeat is older than this is reported as stale (its worker may be gone).
STALE_AFTER_S = 60.0


class WorkersOut(BaseModel):
    executor: Literal["embedded", "celery", "none"]
    slots: int | None = Field(description="Jobs that can run at once (embedded executor); unknown for Celery")
    broker: Literal["ok", "none", "unreachable"]


class QueueOut(BaseModel):
    queued: int
    running: int
    stale_running: int = Field(description=f"Running jobs without a heartbeat for {STALE_AFTER_S:.0f} s")
    oldest_queued_s: float | None


class StorageOut(BaseModel):
    scope: Literal["own", "all"]
    datasets: int
    dataset_bytes: int
    disk_total_bytes: int | None = Field(description="The data folder's disk (local storage, admins only)")
    disk_free_bytes: int | None


class SystemStatusOut(BaseModel):
    workers: WorkersOut
    queue: QueueOut
    storage: StorageOut
    checked_at: datetime


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _broker_state(url: str | None) -> Literal["ok", "none", "unreachable"]:
    if not url:
        return "none"
    try:
        from kombu import Connection  # type: ignore[import-not-found, unused-ignore]

        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return "ok"
    except Exception:
        return "unreachable"


@router.get(
    "/status", name="status", response_model=SystemStatusOut, summary="Workers, queue and storage used"
)
async def system_status(
    request: Request, principal: CurrentUser, ctx: Ctx, session: Session
) -> SystemStatusOut:
    now = datetime.now(UTC)
    runtime = getattr(request.app.state, "jobs_runtime", None)
    executor = getattr(runtime, "executor", None)
    kind: Literal["embedded", "celery", "none"] = "none"
    slots: int | None = None
    broker_url: str | None = None
    if executor is not None:
        if type(executor).__name__ == "CeleryExecutor":
            kind = "celery"
            from promethium.worker.executor import WorkerSettings

            broker_url = WorkerSettings().broker_url
        else:
            kind = "embedded"
            slots = getattr(executor, "workers", None)
    broker = await anyio.to_thread.run_sync(_broker_state, broker_url) if broker_url else "none"

    rows = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    counts = {str(status): int(n) for status, n in rows}
    stale = (
        await session.execute(
            select(func.count())
            .select_from(Job)
            .where(Job.status == "running")
            .where((Job.heartbeat_at.is_(None)) | (Job.heartbeat_at < now - timedelta(seconds=STALE_AFTER_S)))
        )
    ).scalar_one()
    oldest = (
        await session.execute(select(func.min(Job.created_at)).where(Job.status == "queued"))
    ).scalar_one()

    owner = principal.owner_filter()
    q = select(func.count(), func.coalesce(func.sum(Dataset.size_bytes), 0)).select_from(Dataset)
    if owner is not None:
        q = q.where(Dataset.owner_id == owner)
    n_datasets, n_bytes = (await session.execute(q)).one()
    total = free = None
    if principal.is_admin and ctx.storage.is_local:
        usage = await anyio.to_thread.run_sync(shutil.disk_usage, ctx.settings.data_dir)
        total, free = usage.total, usage.free
    return SystemStatusOut(
        workers=WorkersOut(executor=kind, slots=slots, broker=broker),
        queue=QueueOut(
            queued=int(counts.get("queued", 0)),
            running=int(counts.get("running", 0)),
            stale_running=int(stale),
            oldest_queued_s=None if oldest is None else round((now - _aware(oldest)).total_seconds(), 1),
        ),
        storage=StorageOut(
            scope="own" if owner is not None else "all",
            datasets=int(n_datasets),
            dataset_bytes=int(n_bytes),
            disk_total_bytes=total,
            disk_free_bytes=free,
        ),
        checked_at=now,
    )
