"""The signed-in user's own account: profile (e-mail) and password change."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.errors import AuthenticationError, RateLimitedError, ValidationError
from promethium.api.models import RefreshToken, User
from promethium.api.services.users import check_password_policy

__all__ = ["AccountService"]


class AccountService:
    def __init__(self, ctx: ApiContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.s = session

    async def _user(self, user: User) -> User:
        # The principal's user was loaded by another session, and may come from the token cache of
        # promethium.api.authcache (a detached copy up to its TTL old): read this session's own row
        # rather than merge that copy's state over the database's.
        fresh = await self.s.get(User, user.id, populate_existing=True)
        if fresh is None:
            raise AuthenticationError("the user no longer exists")
        return fresh

    async def update_profile(self, user: User, email: str | None) -> User:
        u = await self._user(user)
        u.email = email or None
        await self.s.commit()
        self.ctx.principals.drop_user(u.id)  # the next request sees the new profile
        return u

    async def change_password(self, user: User, session_id: object, current: str, new: str) -> int:
        """Check ``current`` (failures count towards the login limit of this user name), set ``new``
        and revoke every other session of the user; returns how many refresh tokens were revoked."""
        key = f"user:{user.username.lower()}"
        wait = self.ctx.limiter.retry_after(key)
        if wait:
            raise RateLimitedError(
                "too many failed attempts; try again later",
                details={"retry_after": wait},
                headers={"Retry-After": str(wait)},
            )
        u = await self._user(user)
        ok = await anyio.to_thread.run_sync(self.ctx.hasher.verify, current, u.password_hash)
        if not ok:
            self.ctx.limiter.failure(key)
            raise ValidationError("the current password is wrong", details={"field": "current_password"})
        if new == current:
            raise ValidationError("the new password is the current one", details={"field": "new_password"})
        check_password_policy(new, self.ctx.settings.password_min_length)
        u.password_hash = await anyio.to_thread.run_sync(self.ctx.hasher.hash, new)
        res = await self.s.execute(
            update(RefreshToken)
            .where(
                RefreshToken.user_id == u.id,
                RefreshToken.family_id != session_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=datetime.now(UTC), revoked_reason="password-changed")
        )
        await self.s.commit()
        self.ctx.principals.drop_user(u.id)  # the other sessions' access tokens stop at once here
        return int(res.rowcount or 0)  # type: ignore[attr-defined]
