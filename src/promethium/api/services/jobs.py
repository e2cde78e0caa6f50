"""Jobs: validate the pipeline and queue, list, get, cancel, logs and results.

The pipeline (a preset name or a spec mapping, plus ``params`` overrides such as
``{"reconstruct.method": "drr"}``) is validated with :func:`promethium.workflows.load_pipeline` before
anything is queued; the resolved spec (defaults filled in) is what the worker runs. Input and output are
the job's own (the dataset's Zarr store, ``results/{job_id}/``): a spec may not name paths.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.deps import Principal
from promethium.api.errors import ConflictError, NotFoundError, ValidationError
from promethium.api.models import Dataset, Job, JobEvent, Result
from promethium.api.repositories import DatasetRepository
from promethium.api.repositories_jobs import ACTIVE, INGESTING, JobRepository
from promethium.api.services.exports import EXTENSIONS, ExportFormat
from promethium.api.storage import dataset_key
from promethium.worker.executor import JobExecutor

__all__ = [
    "DEFAULT_PIPELINES",
    "ExportParams",
    "IngestParams",
    "JobCreate",
    "JobEventOut",
    "JobOut",
    "JobResultOut",
    "JobService",
]

JobKind = Literal[
    "ingest", "export", "train", "reconstruct", "denoise", "preprocess", "evaluate", "qc", "compare", "custom"
]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
DEFAULT_PIPELINES: dict[str, str] = {
    "reconstruct": "reconstruct-classical",
    "denoise": "denoise",
    "preprocess": "bandpass-and-agc",
    "qc": "qc",
    "evaluate": "compare-methods",
}
#: operations that read or write paths of their own: not allowed in a job.
_FORBIDDEN_OPS = ("write",)
_PATH_FIELDS = ("input", "output", "reference", "report")


class IngestParams(BaseModel):
    """``params`` of an ``ingest`` job (queued by the upload; again through ``POST /jobs`` to retry the
    ingestion of a ``failed`` dataset from its raw file)."""

    model_config = ConfigDict(extra="forbid")

    input_format: str | None = Field(default=None, description="Force the input format (default: detect).")


class ExportParams(BaseModel):
    """``params`` of an ``export`` job: the dataset, or the output of a succeeded job of it, written as
    a file in ``results/{job_id}/output/``."""

    model_config = ConfigDict(extra="forbid")

    format: ExportFormat = "segy"
    source_job_id: uuid.UUID | None = Field(
        default=None, description="Export this succeeded job's output instead of the dataset."
    )


class TrainParams(BaseModel):
    """``params`` of a ``train`` job: a :class:`promethium.ml.train.TrainConfig` (``config``) trained on
    the dataset (``config.data.source``: ``dataset``, the default, or ``synthetic``); the model is
    registered under ``name`` when the job succeeds. ``output_dir``, ``resume`` and ``raw_shape`` are the
    job's own."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=255)
    config: dict[str, Any] = Field(default_factory=dict)


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: JobKind
    dataset_id: uuid.UUID
    pipeline: str | dict[str, Any] | None = Field(
        default=None, description="A preset name or a spec; default: the kind's preset."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description='Overrides, e.g. {"reconstruct.method": "drr"}.'
    )
    queue: Literal["default", "gpu", "io"] = "default"


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    dataset_id: uuid.UUID | None
    kind: str
    status: JobStatus
    progress: float
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued_seconds: float | None = None
    run_seconds: float | None = None
    pipeline: str | None = None
    metrics: dict[str, Any] | None = None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        out = cls.model_validate(job)
        if job.started_at is not None:
            out.queued_seconds = round((job.started_at - job.created_at).total_seconds(), 3)
            if job.finished_at is not None:
                out.run_seconds = round((job.finished_at - job.started_at).total_seconds(), 3)
        spec = (job.params or {}).get("pipeline") or {}
        out.pipeline = spec.get("name") if isinstance(spec, dict) else None
        out.metrics = (job.result or {}).get("metrics")
        return out


class JobEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    message: str | None
    data: dict[str, Any]
    created_at: datetime


class JobResultOut(BaseModel):
    job_id: uuid.UUID
    status: JobStatus
    output_key: str | None
    metadata_key: str | None
    metrics: dict[str, Any]
    steps: list[dict[str, Any]]
    results: list[dict[str, Any]]


def _model_params(model: type[BaseModel], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against ``model`` (JSON-ready), as a VALIDATION_ERROR naming the parameter."""
    from pydantic import ValidationError as PydanticError

    try:
        return model.model_validate(params).model_dump(mode="json")
    except PydanticError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(
            f"params.{where}: {first['msg']}",
            details={
                "parameter": f"params.{where}",
                "errors": [{"parameter": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in errors],
            },
        ) from exc


def _validate_train(params: dict[str, Any]) -> dict[str, Any]:
    """The train job's parameters, its config checked by :class:`TrainConfig` (defaults filled in)."""
    from pydantic import ValidationError as PydanticError

    from promethium.ml.train import TrainConfig

    p = _model_params(TrainParams, params)
    config = dict(p["config"])
    for key in ("output_dir", "resume"):
        if key in config:
            raise ValidationError(
                f"params.config.{key} cannot be set: a job's outputs are its own",
                details={"parameter": f"params.config.{key}"},
            )
    data = dict(config.get("data") or {})
    source = data.get("source", "dataset")
    if source not in ("dataset", "synthetic") or "raw_shape" in data:
        raise ValidationError(
            "params.config.data.source must be 'dataset' (the job's dataset) or 'synthetic'",
            details={"parameter": "params.config.data.source", "allowed": ["dataset", "synthetic"]},
        )
    try:
        cfg = TrainConfig.model_validate({**config, "data": {**data, "source": "synthetic"}})
    except PydanticError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ValidationError(
            f"params.config.{where}: {first['msg']}", details={"parameter": f"params.config.{where}"}
        ) from exc
    dumped = cfg.model_dump(mode="json")
    dumped["data"]["source"] = source
    return {"name": p["name"], "config": dumped}


def _validate_pipeline(pipeline: str | dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    from promethium.workflows import SpecError, list_presets, load_pipeline

    if isinstance(pipeline, str) and pipeline not in list_presets(include_unavailable=True):
        raise ValidationError(
            f"unknown pipeline preset {pipeline!r}",
            details={"parameter": "pipeline", "allowed": list_presets()},
        )
    for key in overrides:
        if key.split(".")[0] in _PATH_FIELDS:
            raise ValidationError(
                f"params: {key!r} cannot be set: a job's input and output are its own",
                details={"parameter": f"params.{key}"},
            )
    try:
        pipe = load_pipeline(pipeline, overrides or None)
    except SpecError as exc:
        raise ValidationError(
            str(exc),
            details={
                "step": exc.step,
                "parameter": exc.parameter,
                "errors": [e.to_dict() for e in exc.errors],
            },
        ) from exc
    spec = pipe.to_dict()
    for name in _PATH_FIELDS:
        if spec.get(name):
            raise ValidationError(
                f"pipeline: {name!r} cannot be set: a job's input and output are its own",
                details={"parameter": name},
            )
    for step in pipe.steps:
        if step.op.name in _FORBIDDEN_OPS:
            raise ValidationError(
                f"step {step.name!r}: operation {step.op.name!r} is not allowed in a job",
                details={"step": step.name, "parameter": f"steps.{step.name}.op"},
            )
    return spec


class JobService:
    def __init__(self, ctx: ApiContext, session: AsyncSession, executor: JobExecutor | None = None) -> None:
        self.ctx = ctx
        self.s = session
        self.repo = JobRepository(session)
        self.executor = executor

    async def create(self, principal: Principal, body: JobCreate) -> Job:
        ds = await DatasetRepository(self.s).get(body.dataset_id, principal.owner_filter())
        if ds is None:
            raise NotFoundError("no such dataset")
        if body.kind == "ingest":
            return await self._reingest(principal, ds, body)
        # read the status again under a share lock held until the job is committed: a re-ingest
        # (which locks the row for update) either sees this job or makes this job see "ingesting"
        await self.s.refresh(ds, with_for_update={"read": True})
        if ds.status != "ready" or not ds.processed_key:
            from promethium.api.services.datasets import not_ready

            raise not_ready(ds)
        if body.kind == "export":
            params = await self._export_params(principal, ds, body)
        elif body.kind == "train":
            if body.pipeline is not None:
                raise ValidationError("a train job has no pipeline", details={"parameter": "pipeline"})
            params = {"train": await anyio.to_thread.run_sync(_validate_train, dict(body.params))}
        else:
            pipeline = body.pipeline if body.pipeline is not None else DEFAULT_PIPELINES.get(body.kind)
            if pipeline is None:
                raise ValidationError(
                    f"a {body.kind} job needs a pipeline", details={"parameter": "pipeline"}
                )
            spec = await anyio.to_thread.run_sync(_validate_pipeline, pipeline, dict(body.params))
            params = {
                "pipeline": spec,
                "source": pipeline if isinstance(pipeline, str) else "spec",
                "overrides": body.params,
            }
        return await self._queue(principal, ds, body.kind, {**params, "queue": body.queue}, body.queue)

    async def _queue(
        self,
        principal: Principal,
        ds: Dataset,
        kind: str,
        params: dict[str, Any],
        queue: str,
        raise_unsent: bool = True,
    ) -> Job:
        """Add the job (``queued``, committed) and send it; a job that cannot be sent is failed with
        the reason (raised unless ``raise_unsent`` is False)."""
        job = Job(
            id=uuid.uuid4(),
            owner_id=principal.id,
            dataset_id=ds.id,
            kind=kind,
            status="queued",
            progress=0.0,
            params=params,
        )
        self.repo.add(job)
        await self.s.flush()
        await self.repo.add_event(job.id, "status", "queued", {"status": "queued", "from": []})
        if kind == "ingest":
            ds.status = INGESTING
            ds.ingest_job_id = job.id
            ds.error = None
        await self.s.commit()
        if self.executor is not None:
            try:
                self.executor.submit(job.id, queue, kind)
            except Exception as exc:
                message = f"the job could not be queued: {exc}"
                await self.repo.transition(job.id, "failed", message, error=message)
                await self.s.commit()
                if raise_unsent:
                    raise
        return job

    async def queue_ingest(self, principal: Principal, ds: Dataset, input_format: str | None) -> Job:
        """Queue the ingestion of ``ds`` (its raw file stored) on the ``io`` queue; commits. When the
        job cannot be sent (broker down), the dataset ends ``failed`` with the reason, its raw file kept
        (``POST /jobs`` with kind ``ingest`` runs it again)."""
        params = {"ingest": IngestParams(input_format=input_format).model_dump(), "queue": "io"}
        return await self._queue(principal, ds, "ingest", params, "io", raise_unsent=False)

    async def _reingest(self, principal: Principal, ds: Dataset, body: JobCreate) -> Job:
        if body.pipeline is not None:
            raise ValidationError("an ingest job has no pipeline", details={"parameter": "pipeline"})
        params = _model_params(IngestParams, body.params)
        if ds.status == INGESTING:
            raise ConflictError(
                "the dataset is being ingested already",
                details={"status": ds.status, "ingest_job_id": str(ds.ingest_job_id)},
            )
        if not ds.raw_key:
            raise ConflictError("the dataset has no raw file to ingest", details={"status": ds.status})
        # the ingestion rewrites processed/: not under a job reading it. One conditional UPDATE claims
        # the dataset (not ingesting, no queued or running job), so two re-ingests cannot both start.
        ds_id = ds.id
        # lock the row first: the check below then runs after any job creation holding it committed
        await self.s.execute(select(Dataset.id).where(Dataset.id == ds_id).with_for_update())
        busy = exists().where(Job.dataset_id == ds_id, Job.status.in_(ACTIVE))
        claimed = await self.s.execute(
            update(Dataset)
            .where(Dataset.id == ds_id, Dataset.status != INGESTING, ~busy)
            .values(status=INGESTING)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await self.s.rollback()
            active = await self.s.execute(
                select(Job.id).where(Job.dataset_id == ds_id, Job.status.in_(ACTIVE)).limit(20)
            )
            raise ConflictError(
                "the dataset has queued or running jobs (or is being ingested): wait for them or "
                "cancel them before ingesting it again",
                details={"active_job_ids": [str(j) for j in active.scalars().all()]},
            )
        self.ctx.handles.invalidate(self.ctx.storage.url(dataset_key(ds_id)))  # stale open readers
        queue = "io" if body.queue == "default" else body.queue
        return await self._queue(principal, ds, "ingest", {"ingest": params, "queue": queue}, queue)

    async def _export_params(self, principal: Principal, ds: Dataset, body: JobCreate) -> dict[str, Any]:
        if body.pipeline is not None:
            raise ValidationError("an export job has no pipeline", details={"parameter": "pipeline"})
        params = _model_params(ExportParams, body.params)
        fmt = params["format"]
        export: dict[str, Any] = {"format": fmt}
        stem = Path(ds.name).stem or "dataset"
        if params["source_job_id"] is not None:
            source = await self.repo.get(uuid.UUID(params["source_job_id"]), principal.owner_filter())
            if source is None or source.dataset_id != ds.id:
                raise NotFoundError("no such job of this dataset", details={"parameter": "source_job_id"})
            key = (source.result or {}).get("output_key")
            if source.status != "succeeded" or not key or source.kind in ("ingest", "export"):
                raise ConflictError(
                    f"the job is {source.status}: it has no output to export",
                    details={"status": source.status, "kind": source.kind},
                )
            export["source_key"] = key
            export["source_job_id"] = str(source.id)
            stem = f"{stem}-{source.kind}"
        elif fmt in ("sac", "mseed") and (ds.meta or {}).get("layout") == "3d":
            raise ValidationError(
                f"a 3D volume does not fit {fmt}: export it as segy, zarr or npy",
                details={"parameter": "params.format", "layout": "3d"},
            )
        from promethium.api.services.datasets import safe_filename

        export["filename"] = safe_filename(stem) + EXTENSIONS[fmt]
        return {"export": export, "overrides": body.params}

    async def get(self, principal: Principal, job_id: uuid.UUID) -> Job:
        job = await self.repo.get(job_id, principal.owner_filter())
        if job is None:
            raise NotFoundError("no such job")
        return job

    async def page(
        self, principal: Principal, page: int, per_page: int, **filters: Any
    ) -> tuple[Sequence[Job], int]:
        return await self.repo.page(
            owner_id=principal.owner_filter(), offset=(page - 1) * per_page, limit=per_page, **filters
        )

    async def cancel(self, principal: Principal, job_id: uuid.UUID) -> Job:
        job = await self.get(principal, job_id)
        changed = await self.repo.transition(job.id, "cancelled", f"cancelled by {principal.user.username}")
        await self.s.commit()
        if changed and self.executor is not None:
            self.executor.cancel(job.id)
        job = await self.get(principal, job_id)
        if not changed and job.status != "cancelled":
            raise ConflictError(f"the job is {job.status}: it cannot be cancelled")
        return job

    async def events(
        self,
        principal: Principal,
        job_id: uuid.UUID,
        page: int,
        per_page: int,
        since: datetime | None,
        kind: str | None,
    ) -> tuple[Sequence[JobEvent], int]:
        job = await self.get(principal, job_id)
        return await self.repo.events(
            job.id, offset=(page - 1) * per_page, limit=per_page, since=since, kind=kind
        )

    async def results(self, principal: Principal, job_id: uuid.UUID) -> tuple[Job, Sequence[Result]]:
        job = await self.get(principal, job_id)
        if job.status != "succeeded":
            raise ConflictError(f"the job is {job.status}: it has no results", details={"status": job.status})
        return job, await self.repo.results(job.id)
