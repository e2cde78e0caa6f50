"""Login, refresh-token rotation, logout and the authentication of each request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.errors import AuthenticationError, RateLimitedError
from promethium.api.models import RefreshToken, User
from promethium.api.repositories import TokenRepository, UserRepository
from promethium.api.security import hash_refresh_token, new_refresh_token

__all__ = ["AuthService", "TokenPair"]


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


class AuthService:
    def __init__(self, ctx: ApiContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.s = session
        self.users = UserRepository(session)
        self.tokens = TokenRepository(session)

    async def _issue(self, user: User, family_id: uuid.UUID, now: datetime) -> TokenPair:
        refresh = new_refresh_token()
        ttl = self.ctx.settings.refresh_token_ttl_s
        self.tokens.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_refresh_token(refresh),
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
        access, expires_in = self.ctx.tokens.create_access_token(user.id, user.role, family_id)
        return TokenPair(access, expires_in, refresh, ttl)

    async def login(self, username: str, password: str, client: str) -> TokenPair:
        """Check the password (the same Argon2 work whether the user exists or not) and open a session.

        Failures are counted per user name and per client address; past the limit, 429 before any
        password is checked."""
        keys = (f"user:{username.lower()}", f"ip:{client}")
        wait = self.ctx.limiter.retry_after(*keys)
        if wait:
            raise RateLimitedError(
                "too many failed logins; try again later",
                details={"retry_after": wait},
                headers={"Retry-After": str(wait)},
            )
        user = await self.users.by_username(username)
        hashed = user.password_hash if user is not None else None
        ok = await anyio.to_thread.run_sync(self.ctx.hasher.verify, password, hashed)
        if not ok or user is None or not user.is_active:
            self.ctx.limiter.failure(*keys)
            raise AuthenticationError("incorrect user name or password")
        self.ctx.limiter.reset(keys[0])
        now = datetime.now(UTC)
        user.last_login_at = now
        pair = await self._issue(user, uuid.uuid4(), now)
        await self.s.commit()
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent and a new one issued in the same session. A token
        presented twice means it leaked: the whole session is revoked. Spending is one conditional
        UPDATE: of concurrent refreshes of one token exactly one gets new tokens, the others are
        replays (401, and the session is revoked, whatever the interleaving)."""
        now = datetime.now(UTC)
        row = await self.tokens.by_hash(hash_refresh_token(refresh_token))
        if row is None:
            raise AuthenticationError("invalid refresh token")
        if row.revoked_at is not None:
            if row.revoked_reason == "rotated":
                await self.tokens.revoke_family(row.family_id, now, "reuse-detected")
                await self.s.commit()
                self.ctx.principals.drop_session(row.family_id)
            raise AuthenticationError("the refresh token has been revoked")
        if _aware(row.expires_at) <= now:
            raise AuthenticationError("the refresh token has expired")
        user = await self.users.get(row.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError("invalid refresh token")
        family_id = row.family_id
        if not await self.tokens.spend(row.id, now):
            # a concurrent refresh spent it first: presented twice, like a replay (the session ends)
            await self.tokens.revoke_family(family_id, now, "reuse-detected")
            await self.s.commit()
            self.ctx.principals.drop_session(family_id)
            raise AuthenticationError("the refresh token has been revoked")
        pair = await self._issue(user, family_id, now)
        await self.s.commit()
        return pair

    async def logout(self, session_id: uuid.UUID, refresh_token: str | None, user_id: uuid.UUID) -> None:
        """Revoke the session of the access token (and that of ``refresh_token`` when it is the user's)."""
        now = datetime.now(UTC)
        await self.tokens.revoke_family(session_id, now, "logout")
        if refresh_token:
            row = await self.tokens.by_hash(hash_refresh_token(refresh_token))
            if row is not None and row.user_id == user_id:
                await self.tokens.revoke_family(row.family_id, now, "logout")
                self.ctx.principals.drop_session(row.family_id)
        await self.s.commit()
        self.ctx.principals.drop_session(session_id)

    async def session_open(self, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
        """Whether the user is still active and the session not ended (logout, reuse, expiry): what a
        long-lived connection (the WebSocket) re-checks while it stays open."""
        user = await self.users.get(user_id)
        if user is None or not user.is_active:
            return False
        return await self.tokens.family_active(session_id, datetime.now(UTC))

    async def authenticate(self, access_token: str) -> tuple[User, uuid.UUID]:
        """The active user of a valid access token whose session is still open, and the session id."""
        cached = self.ctx.principals.get(access_token)  # this very token verified moments ago
        if cached is not None:
            return cached
        claims = self.ctx.tokens.decode_access_token(access_token)
        try:
            user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
        except (ValueError, TypeError) as exc:
            raise AuthenticationError("invalid access token") from exc
        user = await self.users.get(user_id)
        if user is None or not user.is_active:
            raise AuthenticationError("invalid access token")
        if not await self.tokens.family_active(session_id, datetime.now(UTC)):
            raise AuthenticationError("the session has ended")
        self.ctx.principals.put(access_token, user, session_id, float(claims["exp"]))
        return user, session_id
