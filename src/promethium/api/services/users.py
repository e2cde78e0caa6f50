"""User administration, and the first admin (``promethium users create-admin`` or start-up env vars)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.errors import ConflictError, NotFoundError, ValidationError
from promethium.api.models import User
from promethium.api.repositories import TokenRepository, UserRepository
from promethium.api.schemas import Role, UserCreate, UserUpdate

__all__ = ["UserService", "check_password_policy"]


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
        user = await self.get(user_id)
        await self._keep_an_admin(user)
        await self.users.delete(user)
        await self.s.commit()
        self.ctx.principals.drop_user(user_id)

    async def ensure_admin(self, username: str, password: str, email: str | None = None) -> User | None:
        """Create admin ``username`` unless it exists; returns the new user (None when it existed)."""
        if await self.users.by_username(username) is not None:
            return None
        return await self.create(
            UserCreate(username=username, password=password, email=email, role=Role.admin)
        )
