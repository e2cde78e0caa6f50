"""User administration, and the first admin (``promethium users create-admin`` or start-up env vars)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import anyio
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.errors import ConflictError, NotFoundError, ValidationError
from promethium.api.models import Dataset, Job, MLModel, User
from promethium.api.repositories import TokenRepository, UserRepository
from promethium.api.repositories_jobs import ACTIVE
from promethium.api.schemas import Role, UserCreate, UserUpdate
from promethium.api.storage import dataset_key, model_key, result_key

__all__ = ["UserService", "check_password_policy"]

log = logging.getLogger("promethium.api")


def check_password_policy(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise ValidationError(
            f"the password must have at least {min_length} characters", details={"field": "password"}
        )


class UserService:
    def __init__(self, ctx: ApiContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.s = session
        self.users = UserRepository(session)

    async def _hash(self, password: str) -> str:
        check_password_policy(password, self.ctx.settings.password_min_length)
        return await anyio.to_thread.run_sync(self.ctx.hasher.hash, password)

    async def create(self, data: UserCreate) -> User:
        if await self.users.by_username(data.username) is not None:
            raise ConflictError(f"user {data.username!r} already exists")
        user = User(
            username=data.username,
            email=data.email,
            role=data.role.value,
            password_hash=await self._hash(data.password),
            is_active=True,
        )
        self.users.add(user)
        try:
            await self.s.commit()
        except IntegrityError as exc:
            await self.s.rollback()
            raise ConflictError(f"user {data.username!r} already exists") from exc
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFoundError("no such user")
        return user

    async def page(self, page: int, per_page: int) -> tuple[Sequence[User], int]:
        return await self.users.page((page - 1) * per_page, per_page)

    async def _keep_an_admin(self, user: User) -> None:
        """Refuse to remove the last active admin. The admins' rows stay locked until the caller
        commits, so concurrent demotions of two admins cannot both pass the check."""
        if user.role != Role.admin or not user.is_active:
            return
        if await self.users.lock_active_admins() <= 1:
            raise ConflictError("the last active admin cannot be removed, demoted or deactivated")

    async def update(self, user_id: uuid.UUID, data: UserUpdate) -> User:
        user = await self.get(user_id)
        revoke = False
        if (data.role is not None and data.role != Role.admin) or data.is_active is False:
            await self._keep_an_admin(user)
        if data.password is not None:
            user.password_hash = await self._hash(data.password)
            revoke = True
        if data.email is not None:
            user.email = data.email
        if data.role is not None:
            user.role = data.role.value
        if data.is_active is not None:
            user.is_active = data.is_active
            revoke = revoke or not data.is_active
        if revoke:
            await TokenRepository(self.s).revoke_user(user.id, datetime.now(UTC), "credentials-changed")
        await self.s.commit()
        self.ctx.principals.drop_user(user.id)  # role and activity take effect at once
        return user

    async def delete(self, user_id: uuid.UUID) -> None:
        """Delete the user with everything they own: the rows go by cascade, the stored objects
        (``datasets/{id}``, ``results/{job_id}``, ``models/{id}``) right after the commit. Refused
        (409) while a job of theirs, or on one of their datasets, is queued or running."""
        user = await self.get(user_id)
        await self._keep_an_admin(user)
        owned = await self._owned(user_id)
        if owned["active_jobs"]:
            raise ConflictError(
                "the user has queued or running jobs: cancel them (or wait) before deleting the user",
                details={"active_job_ids": [str(j) for j in owned["active_jobs"][:20]]},
            )
        await self.users.delete(user)
        await self.s.commit()
        self.ctx.principals.drop_user(user_id)
        prefixes = (
            [dataset_key(d) for d in owned["datasets"]]
            + [result_key(j) for j in owned["jobs"]]
            + [model_key(m) for m in owned["models"]]
        )
        for d in owned["datasets"]:
            self.ctx.handles.invalidate(self.ctx.storage.url(dataset_key(d)))
        for prefix in prefixes:
            try:
                await anyio.to_thread.run_sync(self.ctx.storage.delete_prefix, prefix)
            except Exception:  # the rows are gone; an object left behind is only logged
                log.warning("deleting user %s: cannot remove %s", user_id, prefix, exc_info=True)

    async def _owned(self, user_id: uuid.UUID) -> dict[str, list[uuid.UUID]]:
        datasets = list(
            (await self.s.execute(select(Dataset.id).where(Dataset.owner_id == user_id))).scalars()
        )
        jobs = list((await self.s.execute(select(Job.id).where(Job.owner_id == user_id))).scalars())
        models = list((await self.s.execute(select(MLModel.id).where(MLModel.owner_id == user_id))).scalars())
        active = select(Job.id).where(
            Job.status.in_(ACTIVE), or_(Job.owner_id == user_id, Job.dataset_id.in_(datasets))
        )
        return {
            "datasets": datasets,
            "jobs": jobs,
            "models": models,
            "active_jobs": list((await self.s.execute(active)).scalars()),
        }

    async def ensure_admin(self, username: str, password: str, email: str | None = None) -> User | None:
        """Create admin ``username`` unless it exists; returns the new user (None when it existed)."""
        if await self.users.by_username(username) is not None:
            return None
        return await self.create(
            UserCreate(username=username, password=password, email=email, role=Role.admin)
        )
