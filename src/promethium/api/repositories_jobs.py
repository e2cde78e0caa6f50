"""Jobs and their events: the state machine, for the API (async sessions) and the workers (a sync engine).

States: ``queued -> running -> succeeded | failed | cancelled`` (a queued job may also be cancelled or
failed directly). Every transition is one conditional ``UPDATE jobs ... WHERE id = :id AND status IN
(...)`` : of two racing writers exactly one sees a changed row, and repeating a transition changes
nothing. A ``status`` row goes into ``job_events`` with each transition that happened, in the same
transaction; progress updates keep the latest fraction on the job row (``progress``) and add a
``progress`` event; workers add ``log`` events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Insert, Update, delete, event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from promethium.api.models import Dataset, Job, JobEvent, MLModel, Result, utcnow

__all__ = [
    "ACTIVE",
    "KINDS",
    "STATUSES",
    "TERMINAL",
    "TRANSITIONS",
    "JobRepository",
    "JobSnapshot",
    "JobStore",
    "Publisher",
    "StaleJob",
    "event_insert",
    "ingest_failed_update",
    "transition_update",
]

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")
KINDS = (
    "ingest",
    "export",
    "train",
    "reconstruct",
    "denoise",
    "preprocess",
    "evaluate",
    "qc",
    "compare",
    "custom",
)
#: the dataset status while its ``ingest`` job has not ended.
INGESTING = "ingesting"
#: target status -> the statuses it may be reached from.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "running": ("queued",),
    "succeeded": ("running",),
    "failed": ("queued", "running"),
    "cancelled": ("queued", "running"),
}
#: the reaper's move: a running job whose worker vanished goes back to the queue.
REQUEUE_FROM = ("running",)

#: ``publisher(job_id, event)``: called after each status change and progress update that happened
#: (the event bus of :mod:`promethium.worker.events`); must not raise.
Publisher = Callable[[uuid.UUID, dict[str, Any]], None]


def transition_update(
    job_id: uuid.UUID, to: str, *, from_: Sequence[str] | None = None, **values: Any
) -> Update:
    """The conditional UPDATE moving ``job_id`` to ``to`` (from the allowed states only)."""
    allowed = tuple(from_) if from_ is not None else TRANSITIONS[to]
    now = utcnow()
    if to == "running":
        values.setdefault("started_at", now)
        values.setdefault("finished_at", None)
        values.setdefault("heartbeat_at", now)
        values.setdefault("attempts", Job.attempts + 1)
    elif to in TERMINAL:
        values.setdefault("finished_at", now)
    return update(Job).where(Job.id == job_id, Job.status.in_(allowed)).values(status=to, **values)


def event_insert(
    job_id: uuid.UUID, kind: str, message: str | None, data: dict[str, Any] | None = None
) -> Insert:
    return insert(JobEvent).values(
        id=uuid.uuid4(), job_id=job_id, kind=kind, message=message, data=data or {}, created_at=utcnow()
    )


def ingest_failed_update(job_id: uuid.UUID, message: str | None) -> Update:
    """When an ``ingest`` job fails or is cancelled, its dataset (still ``ingesting``) becomes
    ``failed`` with the message: run in the transaction of the job's transition."""
    target = select(Job.dataset_id).where(Job.id == job_id, Job.kind == "ingest").scalar_subquery()
    return (
        update(Dataset)
        .where(Dataset.id == target, Dataset.status == INGESTING)
        .values(status="failed", error=(message or "the ingestion failed")[:4000], updated_at=utcnow())
    )


def _status_event(job_id: uuid.UUID, to: str, before: Sequence[str], message: str | None) -> Insert:
    return event_insert(job_id, "status", message or to, {"status": to, "from": list(before)})


# --------------------------------------------------------------------------------------------- API
class JobRepository:
    """Async access for the API; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    def add(self, job: Job) -> None:
        self.s.add(job)

    async def get(self, job_id: uuid.UUID, owner_id: uuid.UUID | None) -> Job | None:
        job = await self.s.get(Job, job_id, populate_existing=True)
        if job is None or (owner_id is not None and job.owner_id != owner_id):
            return None
        return job

    async def transition(self, job_id: uuid.UUID, to: str, message: str | None = None, **values: Any) -> bool:
        """Move the job to ``to`` when allowed, with a status event; False when nothing changed."""
        res = await self.s.execute(transition_update(job_id, to, **values))
        changed = bool(res.rowcount)  # type: ignore[attr-defined]
        if changed:
            await self.s.execute(_status_event(job_id, to, TRANSITIONS[to], message))
            if to in ("failed", "cancelled"):
                await self.s.execute(ingest_failed_update(job_id, values.get("error") or message))
        return changed

    async def add_event(
        self, job_id: uuid.UUID, kind: str, message: str | None, data: dict[str, Any] | None = None
    ) -> None:
        await self.s.execute(event_insert(job_id, kind, message, data))

    async def page(
        self,
        *,
        owner_id: uuid.UUID | None,
        offset: int,
        limit: int,
        status: str | None = None,
        kind: str | None = None,
        dataset_id: uuid.UUID | None = None,
    ) -> tuple[Sequence[Job], int]:
        where: list[ColumnElement[bool]] = []
        if owner_id is not None:
            where.append(Job.owner_id == owner_id)
        if status:
            where.append(Job.status == status)
        if kind:
            where.append(Job.kind == kind)
        if dataset_id:
            where.append(Job.dataset_id == dataset_id)
        # one round trip: the total rides along each row (a window count over the filtered rows)
        rows = (
            await self.s.execute(
                select(Job, func.count().over().label("total"))
                .where(*where)
                .order_by(Job.created_at.desc(), Job.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).all()
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        total = 0
        if offset > 0:  # a page past the end: the total still counts
            q = select(func.count()).select_from(Job).where(*where)
            total = int((await self.s.execute(q)).scalar_one())
        return [], total

    async def events(
        self,
        job_id: uuid.UUID,
        *,
        offset: int,
        limit: int,
        since: datetime | None = None,
        kind: str | None = None,
    ) -> tuple[Sequence[JobEvent], int]:
        where: list[ColumnElement[bool]] = [JobEvent.job_id == job_id]
        if since is not None:
            where.append(JobEvent.created_at > since.astimezone(UTC))
        if kind:
            where.append(JobEvent.kind == kind)
        total = int(
            (await self.s.execute(select(func.count()).select_from(JobEvent).where(*where))).scalar_one()
        )
        rows = await self.s.execute(
            select(JobEvent)
            .where(*where)
            .order_by(JobEvent.created_at.asc(), JobEvent.id.asc())
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total

    async def results(self, job_id: uuid.UUID) -> Sequence[Result]:
        rows = await self.s.execute(select(Result).where(Result.job_id == job_id).order_by(Result.created_at))
        return rows.scalars().all()


# ----------------------------------------------------------------------------------------- workers
@dataclass(frozen=True)
class JobSnapshot:
    id: uuid.UUID
    owner_id: uuid.UUID
    dataset_id: uuid.UUID | None
    kind: str
    status: str
    params: dict[str, Any]
    attempts: int = 0
    heartbeat_at: datetime | None = None


@dataclass(frozen=True)
class StaleJob:
    """A running job whose worker stopped beating (or a queued job whose message was lost), and what
    the reaper did with it."""

    id: uuid.UUID
    attempts: int
    heartbeat_at: datetime | None
    #: "requeued" | "failed" (a running job) | "resubmitted" (a queued one) | "skipped" (it moved on)
    action: str
    queue: str = "default"
    kind: str = "custom"


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back (stored as UTC)."""
    return dt if dt is None or dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class JobStore:
    """Blocking access for the code that runs jobs (a thread of the API, or a Celery worker).

    Each method is one short transaction."""

    def __init__(self, engine: Engine, publisher: Publisher | None = None) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.publisher = publisher

    def publish(self, job_id: uuid.UUID, event: dict[str, Any]) -> None:
        if self.publisher is None:
            return
        try:
            self.publisher(job_id, {"job_id": str(job_id), **event})
        except Exception:  # events are best effort: the job row holds the truth
            import logging

            logging.getLogger("promethium.worker").warning("cannot publish an event", exc_info=True)

    @classmethod
    def from_url(cls, url: str, publisher: Publisher | None = None) -> JobStore:
        from sqlalchemy import create_engine

        from promethium.api.db import sync_url

        su = sync_url(url)
        if su.drivername.startswith("sqlite"):
            engine = create_engine(su, poolclass=NullPool)
            event.listen(engine, "connect", _sqlite_connect)
        else:
            engine = create_engine(su, pool_pre_ping=True, pool_size=4, max_overflow=4)
        return cls(engine, publisher)

    def dispose(self) -> None:
        self.engine.dispose()

    def _session(self) -> Session:
        return self.sessions()

    def load(self, job_id: uuid.UUID) -> JobSnapshot | None:
        with self._session() as s:
            job = s.get(Job, job_id)
            if job is None:
                return None
            return JobSnapshot(
                job.id,
                job.owner_id,
                job.dataset_id,
                job.kind,
                job.status,
                dict(job.params),
                int(job.attempts or 0),
                _aware(job.heartbeat_at),
            )

    def status(self, job_id: uuid.UUID) -> str | None:
        with self._session() as s:
            return s.execute(select(Job.status).where(Job.id == job_id)).scalar_one_or_none()

    def event_log(self, job_id: uuid.UUID) -> list[dict[str, Any]]:
        """The job's events so far, oldest first, as JSON-ready dicts (what ``results/{id}/logs`` holds)."""
        with self._session() as s:
            rows = s.execute(
                select(JobEvent.created_at, JobEvent.kind, JobEvent.message, JobEvent.data)
                .where(JobEvent.job_id == job_id)
                .order_by(JobEvent.created_at, JobEvent.id)
            ).all()
        return [{"time": t.isoformat(), "kind": k, "message": m, "data": d or {}} for t, k, m, d in rows]

    def dataset(self, dataset_id: uuid.UUID) -> tuple[str, str | None] | None:
        """(status, processed key) of a dataset."""
        with self._session() as s:
            row = s.execute(
                select(Dataset.status, Dataset.processed_key).where(Dataset.id == dataset_id)
            ).first()
            return None if row is None else (str(row[0]), row[1])

    def dataset_raw(self, dataset_id: uuid.UUID) -> tuple[str, str | None, str | None] | None:
        """(status, raw key, name) of a dataset."""
        with self._session() as s:
            row = s.execute(
                select(Dataset.status, Dataset.raw_key, Dataset.name).where(Dataset.id == dataset_id)
            ).first()
            return None if row is None else (str(row[0]), row[1], row[2])

    def transition(
        self,
        job_id: uuid.UUID,
        to: str,
        message: str | None = None,
        *,
        from_: Sequence[str] | None = None,
        attempt: int | None = None,
        **values: Any,
    ) -> bool:
        """Move the job to ``to`` when allowed (and, with ``attempt``, only while that run owns it)."""
        stmt = transition_update(job_id, to, from_=from_, **values)
        if attempt is not None:
            stmt = stmt.where(Job.attempts == attempt)
        with self._session() as s, s.begin():
            res = s.execute(stmt)
            changed = bool(res.rowcount)  # type: ignore[attr-defined]
            if changed:
                s.execute(_status_event(job_id, to, from_ or TRANSITIONS[to], message))
                if to in ("failed", "cancelled"):
                    s.execute(ingest_failed_update(job_id, values.get("error") or message))
        if changed:
            self.publish(job_id, {"type": "status", "status": to, "message": message or to})
        return changed

    def heartbeat(self, job_id: uuid.UUID, attempt: int | None = None) -> bool:
        """The running worker is alive; False when the job is no longer running (or no longer this
        run's: ``attempt`` fences off a run the reaper gave up on)."""
        stmt = update(Job).where(Job.id == job_id, Job.status == "running").values(heartbeat_at=utcnow())
        if attempt is not None:
            stmt = stmt.where(Job.attempts == attempt)
        with self._session() as s, s.begin():
            return bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def take_over(self, job: JobSnapshot) -> bool:
        """Start a new run of a ``running`` job whose worker vanished (a redelivered task): atomic, only
        if nobody beat since ``job`` was read."""
        stmt = transition_update(job.id, "running", from_=("running",)).where(
            Job.attempts == job.attempts,
            Job.heartbeat_at.is_(None) if job.heartbeat_at is None else Job.heartbeat_at == job.heartbeat_at,
        )
        with self._session() as s, s.begin():
            changed = bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]
            if changed:
                s.execute(_status_event(job.id, "running", ("running",), "redelivered: taken over"))
        if changed:
            self.publish(job.id, {"type": "status", "status": "running", "message": "redelivered"})
        return changed

    def stale_jobs(self, older_than: datetime) -> list[JobSnapshot]:
        """Running jobs whose last heartbeat (or start) is older than ``older_than``."""
        last = func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)
        with self._session() as s:
            rows = s.execute(select(Job).where(Job.status == "running", last < older_than)).scalars().all()
            return [
                JobSnapshot(
                    j.id,
                    j.owner_id,
                    j.dataset_id,
                    j.kind,
                    j.status,
                    dict(j.params),
                    int(j.attempts or 0),
                    _aware(j.heartbeat_at),
                )
                for j in rows
            ]

    def reap(self, stale_after_s: float, max_attempts: int) -> list[StaleJob]:
        """Re-queue (attempts left) or fail each running job whose worker stopped beating more than
        ``stale_after_s`` ago. Each move is conditional on the run read (status, attempts, heartbeat):
        a worker that beats meanwhile keeps its job, and two reapers never both act."""
        from datetime import timedelta

        out: list[StaleJob] = []
        for job in self.stale_jobs(utcnow() - timedelta(seconds=stale_after_s)):
            fence = (
                Job.attempts == job.attempts,
                Job.heartbeat_at.is_(None)
                if job.heartbeat_at is None
                else Job.heartbeat_at == job.heartbeat_at,
            )
            queue = str(job.params.get("queue") or "default")
            if job.attempts < max_attempts:
                msg = f"requeued by the reaper: no heartbeat for {stale_after_s:g} s (attempt {job.attempts})"
                stmt = transition_update(
                    job.id, "queued", from_=REQUEUE_FROM, progress=0.0, heartbeat_at=utcnow()
                ).where(*fence)
                action, status = "requeued", "queued"
            else:
                msg = (
                    f"the worker vanished: no heartbeat for {stale_after_s:g} s after {job.attempts} attempts"
                )
                stmt = transition_update(job.id, "failed", from_=REQUEUE_FROM, error=msg).where(*fence)
                action, status = "failed", "failed"
            with self._session() as s, s.begin():
                changed = bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]
                if changed:
                    s.execute(_status_event(job.id, status, REQUEUE_FROM, msg))
                    if status == "failed":
                        s.execute(ingest_failed_update(job.id, msg))
            if changed:
                self.publish(job.id, {"type": "status", "status": status, "message": msg})
            out.append(
                StaleJob(
                    job.id, job.attempts, job.heartbeat_at, action if changed else "skipped", queue, job.kind
                )
            )
        return out

    def resubmit_queued(self, older_than_s: float) -> list[StaleJob]:
        """Queued jobs not sent to a worker for ``older_than_s`` (their message lost: a broker restarted
        without persistence, an API process died between its commit and the send). For a queued job
        ``heartbeat_at`` is when it was last (re-)sent: each one found is stamped now by a conditional
        UPDATE (status, attempts and that stamp as read), so of several reapers exactly one re-sends it,
        and the caller sends it again (a duplicate delivery is harmless: ``queued -> running`` happens
        once)."""
        from datetime import timedelta

        sent = func.coalesce(Job.heartbeat_at, Job.created_at)
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        with self._session() as s:
            rows = s.execute(
                select(Job.id, Job.attempts, sent, Job.params, Job.kind).where(
                    Job.status == "queued", sent < cutoff
                )
            ).all()
        out: list[StaleJob] = []
        for job_id, attempts, stamp, params, kind in rows:
            msg = f"sent to a worker again by the reaper: queued and not started for {older_than_s:g} s"
            stmt = (
                update(Job)
                .where(Job.id == job_id, Job.status == "queued", Job.attempts == attempts, sent == stamp)
                .values(heartbeat_at=utcnow())
            )
            with self._session() as s, s.begin():
                changed = bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]
                if changed:
                    s.execute(event_insert(job_id, "log", msg, {"resubmitted": True}))
            out.append(
                StaleJob(
                    job_id,
                    int(attempts or 0),
                    _aware(stamp),
                    "resubmitted" if changed else "skipped",
                    str((params or {}).get("queue") or "default"),
                    str(kind),
                )
            )
        return out

    def progress(self, job_id: uuid.UUID, fraction: float, message: str, data: dict[str, Any]) -> bool:
        """Record the progress of a running job; False when the job is no longer running."""
        with self._session() as s, s.begin():
            res = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(progress=fraction, heartbeat_at=utcnow())
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            s.execute(event_insert(job_id, "progress", message, {"fraction": fraction, **data}))
        self.publish(job_id, {"type": "progress", "progress": fraction, "message": message, **data})
        return True

    def log(self, job_id: uuid.UUID, message: str, data: dict[str, Any] | None = None) -> None:
        with self._session() as s, s.begin():
            s.execute(event_insert(job_id, "log", message, data))

    def succeed(
        self,
        job: JobSnapshot,
        result: dict[str, Any],
        storage_key: str,
        attempt: int | None = None,
        *,
        dataset: dict[str, Any] | None = None,
        record_result: bool = True,
        model: dict[str, Any] | None = None,
    ) -> bool:
        """Mark the job succeeded and record its result (replacing a previous attempt's); with
        ``attempt``, only while that run owns the job. ``dataset``: values set on the job's dataset
        while it is ``ingesting``, in the same transaction (an ingest job makes it ``ready``);
        ``record_result=False``: no ``results`` row (the output is the dataset's, not a result);
        ``model``: the values of a ``models`` row to register (replacing one of the same id)."""
        stmt = transition_update(job.id, "succeeded", progress=1.0, result=result, error=None)
        if attempt is not None:
            stmt = stmt.where(Job.attempts == attempt)
        with self._session() as s, s.begin():
            res = s.execute(stmt)
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            s.execute(_status_event(job.id, "succeeded", TRANSITIONS["succeeded"], None))
            if dataset is not None and job.dataset_id is not None:
                s.execute(
                    update(Dataset)
                    .where(Dataset.id == job.dataset_id, Dataset.status == INGESTING)
                    .values(updated_at=utcnow(), **dataset)
                )
            s.execute(delete(Result).where(Result.job_id == job.id))
            if model is not None:
                s.execute(delete(MLModel).where(MLModel.id == model["id"]))
                s.add(MLModel(**model))
            if record_result:
                s.add(
                    Result(
                        job_id=job.id,
                        owner_id=job.owner_id,
                        dataset_id=job.dataset_id,
                        kind=job.kind[:32],
                        storage_key=storage_key,
                        meta=result.get("metrics", {}),
                        created_at=datetime.now(UTC),
                    )
                )
        self.publish(
            job.id, {"type": "status", "status": "succeeded", "message": "succeeded", "progress": 1.0}
        )
        return True

    def active_jobs(self) -> list[tuple[uuid.UUID, str]]:
        with self._session() as s:
            rows = s.execute(
                select(Job.id, Job.status).where(Job.status.in_(ACTIVE)).order_by(Job.created_at)
            ).all()
            return [(r[0], str(r[1])) for r in rows]
