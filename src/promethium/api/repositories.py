"""Data access: the only module that writes SQL (through SQLAlchemy). Services own transactions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.models import Dataset, RefreshToken, User

__all__ = ["DatasetRepository", "TokenRepository", "UserRepository"]


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.s.get(User, user_id)

    async def by_username(self, username: str) -> User | None:
        return (await self.s.execute(select(User).where(User.username == username))).scalar_one_or_none()

    async def lock_active_admins(self) -> int:
        """Lock the rows of the active admins (``FOR UPDATE``, in id order) until the transaction
        ends and count them: two transactions removing admins at once run one after the other, and
        the second counts what the first left (PostgreSQL; SQLite serialises writers itself)."""
        q = (
            select(User.id)
            .where(User.role == "admin", User.is_active.is_(True))
            .order_by(User.id)
            .with_for_update()
        )
        return len((await self.s.execute(q)).all())

    async def count_admins(self) -> int:
        q = select(func.count()).select_from(User).where(User.role == "admin", User.is_active.is_(True))
        return int((await self.s.execute(q)).scalar_one())

    async def page(self, offset: int, limit: int) -> tuple[Sequence[User], int]:
        total = int((await self.s.execute(select(func.count()).select_from(User))).scalar_one())
        rows = await self.s.execute(
            select(User).order_by(User.created_at, User.id).offset(offset).limit(limit)
        )
        return rows.scalars().all(), total

    def add(self, user: User) -> None:
        self.s.add(user)

    async def delete(self, user: User) -> None:
        await self.s.delete(user)


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    def add(self, token: RefreshToken) -> None:
        self.s.add(token)

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        q = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        return (await self.s.execute(q)).scalar_one_or_none()

    async def revoke_family(self, family_id: uuid.UUID, when: datetime, reason: str) -> None:
        await self.s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when, revoked_reason=reason)
        )

    async def spend(self, token_id: uuid.UUID, when: datetime, reason: str = "rotated") -> bool:
        """Revoke one token if nobody has yet (one conditional UPDATE): True for exactly one of
        several concurrent callers."""
        res = await self.s.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when, revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    async def revoke_user(self, user_id: uuid.UUID, when: datetime, reason: str) -> None:
        await self.s.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when, revoked_reason=reason)
        )

    async def family_active(self, family_id: uuid.UUID, now: datetime) -> bool:
        q = (
            select(RefreshToken.id)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .limit(1)
        )
        return (await self.s.execute(q)).first() is not None


class DatasetRepository:
    SORTABLE: ClassVar[dict[str, Any]] = {
        "created_at": Dataset.created_at,
        "name": Dataset.name,
        "size_bytes": Dataset.size_bytes,
        "status": Dataset.status,
        "format": Dataset.format,
    }

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    def add(self, dataset: Dataset) -> None:
        self.s.add(dataset)

    async def get(self, dataset_id: uuid.UUID, owner_id: uuid.UUID | None) -> Dataset | None:
        ds = await self.s.get(Dataset, dataset_id)
        if ds is None or (owner_id is not None and ds.owner_id != owner_id):
            return None
        return ds

    async def page(
        self,
        *,
        owner_id: uuid.UUID | None,
        offset: int,
        limit: int,
        sort: str,
        descending: bool,
        status: str | None = None,
        format: str | None = None,
        name_contains: str | None = None,
    ) -> tuple[Sequence[Dataset], int]:
        where: list[ColumnElement[bool]] = []
        if owner_id is not None:
            where.append(Dataset.owner_id == owner_id)
        if status:
            where.append(Dataset.status == status)
        if format:
            where.append(Dataset.format == format)
        if name_contains:
            escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(Dataset.name.ilike(f"%{escaped}%", escape="\\"))
        total = int(
            (await self.s.execute(select(func.count()).select_from(Dataset).where(*where))).scalar_one()
        )
        column = self.SORTABLE[sort]
        order = (column.desc(), Dataset.id.desc()) if descending else (column.asc(), Dataset.id.asc())
        rows = await self.s.execute(
            select(Dataset).where(*where).order_by(*order).offset(offset).limit(limit)
        )
        return rows.scalars().all(), total

    async def delete(self, dataset: Dataset) -> None:
        await self.s.delete(dataset)
