"""Models: list, get, upload (weights ``.pt`` + JSON sidecar, validated by the library's safe loader),
set the default per task and delete.

An upload is loaded with :func:`promethium.ml.io.load_model` (``torch.load(weights_only=True)``, the
architecture taken from the registry, the state dict checked against it, the format version checked)
before anything is stored; a file that fails gets VALIDATION_ERROR and leaves no row, object or
temporary file. Storage keys are generated (``models/{id}/weights.pt`` and ``models/{id}/metadata.json``),
never taken from the client. Models are shared by the team: everyone reads them; the owner or an admin
deletes; an admin sets the default of a task (``meta["default_for"]``).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

import anyio
from sqlalchemy import false, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.deps import Principal
from promethium.api.errors import AuthorizationError, NotFoundError, ValidationError
from promethium.api.models import MLModel
from promethium.api.services.datasets import copy_with_digest
from promethium.api.storage import model_key, put_model_files
from promethium.core.errors import PromethiumError

__all__ = ["TASKS", "ModelService", "Task", "register_shipped", "shipped_models", "validate_model_files"]

Task = Literal["reconstruction", "denoising"]
TASKS = ("reconstruction", "denoising")
WEIGHTS = "weights.pt"
METADATA = "metadata.json"
_MAX_MODEL_BYTES = 512 * 1024 * 1024
#: the largest model an upload may describe (counted before anything is built)
MAX_MODEL_PARAMETERS = 50_000_000


def validate_model_files(weights: Path) -> dict[str, Any]:
    """Load ``weights`` (and its sidecar next to it) with the safe loader; returns the sidecar."""
    from promethium.ml.io import load_model, read_sidecar

    model = load_model(weights, max_parameters=MAX_MODEL_PARAMETERS)
    meta = read_sidecar(weights)
    meta["n_parameters"] = int(model.n_parameters)
    return meta


class ModelService:
    def __init__(self, ctx: ApiContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.s = session
        self.storage = ctx.storage

    async def page(self, page: int, per_page: int) -> tuple[Sequence[MLModel], int]:
        total = int((await self.s.execute(select(func.count()).select_from(MLModel))).scalar_one())
        rows = await self.s.execute(
            select(MLModel)
            .order_by(MLModel.created_at.desc(), MLModel.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return rows.scalars().all(), total

    async def get(self, model_id: uuid.UUID) -> MLModel:
        m = await self.s.get(MLModel, model_id)
        if m is None:
            raise NotFoundError("no such model")
        return m

    async def upload(
        self, principal: Principal, name: str | None, weights: IO[bytes], sidecar: IO[bytes]
    ) -> MLModel:
        tmp = Path(tempfile.mkdtemp(dir=self._tmp_dir()))
        try:
            pt, side = tmp / "model.pt", tmp / "model.json"
            await anyio.to_thread.run_sync(copy_with_digest, weights, pt, _MAX_MODEL_BYTES)
            await anyio.to_thread.run_sync(copy_with_digest, sidecar, side, 4 * 1024 * 1024)
            try:
                meta = await anyio.to_thread.run_sync(validate_model_files, pt)
            except PromethiumError as exc:
                raise ValidationError(f"the model files are not valid: {exc}") from exc
            except Exception as exc:  # anything else the loader trips on is still a bad file
                raise ValidationError(f"the model files are not valid: {type(exc).__name__}: {exc}") from exc
            model = MLModel(
                owner_id=principal.id,
                name=(name or str(meta.get("architecture")))[:255],
                version=str(meta.get("library_version", "1"))[:64],
                status="ready",
                meta={**meta, "default_for": None, "source": "upload"},
            )
            self.s.add(model)
            await self.s.flush()
            try:
                model.storage_key = await anyio.to_thread.run_sync(
                    put_model_files, self.storage, model.id, pt, side
                )
                await self.s.commit()
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await self.s.rollback()
                    await anyio.to_thread.run_sync(self.storage.delete_prefix, model_key(model.id))
                raise
            return model
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    async def set_default(self, principal: Principal, model_id: uuid.UUID, task: str) -> MLModel:
        if not principal.is_admin:
            raise AuthorizationError("this needs the admin role")
        model = await self.get(model_id)
        for other in (await self.s.execute(select(MLModel))).scalars():
            if other.id != model.id and (other.meta or {}).get("default_for") == task:
                other.meta = {**other.meta, "default_for": None}
        model.meta = {**(model.meta or {}), "default_for": task}
        await self.s.commit()
        return model

    async def delete(self, principal: Principal, model_id: uuid.UUID) -> None:
        model = await self.get(model_id)
        if not principal.is_admin and model.owner_id != principal.id:
            raise AuthorizationError("only the owner or an admin deletes a model")
        await anyio.to_thread.run_sync(self.storage.delete_prefix, model_key(model.id))
        await self.s.delete(model)
        await self.s.commit()

    def _tmp_dir(self) -> Path:
        d = self.ctx.settings.data_dir / "tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d


_TASK_OF = {"reconstruct": "reconstruction", "denoise": "denoising"}


def shipped_models() -> list[tuple[str, str | None, Path]]:
    """(name, task, weights path) of the pretrained models shipped in the package (none when the
    package has no :mod:`promethium.ml.pretrained` yet)."""
    try:
        from promethium.ml import pretrained
    except ImportError:
        return []
    found: list[tuple[str, str | None, Path]] = []
    for p in pretrained.list_pretrained():
        if getattr(p, "available", True):
            found.append((str(p.name), _TASK_OF.get(str(p.task), str(p.task)), Path(p.path)))
    return found


#: key of the PostgreSQL advisory lock held while the shipped models are registered
_REGISTRATION_LOCK = 0x50524D4D  # "PRMM"


async def _lock_registration(s: AsyncSession) -> None:
    """Serialise the registration across processes until the transaction ends: a transaction-level
    advisory lock on PostgreSQL; on SQLite an (empty) write takes the database's write lock."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REGISTRATION_LOCK})
    else:
        await s.execute(update(MLModel).where(false()).values(name=MLModel.name))


async def register_shipped(ctx: ApiContext) -> int:
    """Register the shipped models not registered yet (idempotent); each becomes the default of its
    task when that task has none. Returns how many were added."""
    if not ctx.settings.register_shipped_models:
        return 0
    shipped = shipped_models()
    if not shipped:
        return 0
    added = 0
    async with ctx.db.sessionmaker() as s:
        await _lock_registration(s)  # several API processes start at once: one registers
        rows = (await s.execute(select(MLModel))).scalars().all()
        known = {m.name for m in rows if (m.meta or {}).get("source") == "pretrained"}
        defaults = {(m.meta or {}).get("default_for") for m in rows}
        for name, task, weights in shipped:
            if name in known:
                continue
            meta = await anyio.to_thread.run_sync(validate_model_files, weights)
            default = task if task in TASKS and task not in defaults else None
            defaults.add(default)
            model = MLModel(
                owner_id=None,
                name=name,
                version=str(meta.get("library_version", "1"))[:64],
                status="ready",
                meta={**meta, "default_for": default, "source": "pretrained", "task": task},
            )
            s.add(model)
            await s.flush()
            model.storage_key = await anyio.to_thread.run_sync(
                put_model_files, ctx.storage, model.id, weights, weights.with_suffix(".json")
            )
            added += 1
        await s.commit()
    return added


def model_out(m: MLModel) -> dict[str, Any]:
    meta = m.meta or {}
    return {
        "id": m.id,
        "owner_id": m.owner_id,
        "name": m.name,
        "version": m.version,
        "status": m.status,
        "architecture": meta.get("architecture"),
        "args": meta.get("args", {}),
        "metrics": meta.get("metrics", {}),
        "training": meta.get("training", {}),
        "n_parameters": meta.get("n_parameters"),
        "default_for": meta.get("default_for"),
        "created_at": m.created_at,
    }
