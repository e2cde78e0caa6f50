"""A short-lived cache of authenticated access tokens, so that a request does not read the user and
its session from the database every time (two queries: most of a small request's cost).

Semantics (the staleness bound): an entry lives at most ``ttl_s`` seconds and never past the token's
own expiry. A logout, a refresh-token reuse, and any change to a user (role, activity, password,
deletion) made through this process drop the affected entries at once; the same change made through
another API process takes effect here within ``ttl_s``. ``ttl_s = 0`` turns the cache off.

The cached user is a detached copy without the password hash, never attached to a session.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from promethium.api.models import User

__all__ = ["PrincipalCache", "snapshot"]


def snapshot(user: User) -> User:
    """A transient copy of ``user`` (no password hash) that no session tracks."""
    return User(
        id=user.id,
        username=user.username,
        email=user.email,
        password_hash="",
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login_at=user.last_login_at,
    )


@dataclass(frozen=True)
class _Entry:
    user: User
    session_id: uuid.UUID
    until: float  # time.monotonic()


class PrincipalCache:
    def __init__(self, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, token: str) -> tuple[User, uuid.UUID] | None:
        if not self.enabled:
            return None
        with self._lock:
            e = self._entries.get(token)
            if e is None:
                return None
            if e.until <= time.monotonic():
                del self._entries[token]
                return None
            return e.user, e.session_id

    def put(self, token: str, user: User, session_id: uuid.UUID, token_exp: float) -> None:
        """Remember ``token`` for ``ttl_s`` at most, and not past ``token_exp`` (a Unix time)."""
        if not self.enabled:
            return
        life = min(self.ttl_s, token_exp - time.time())
        if life <= 0:
            return
        entry = _Entry(snapshot(user), session_id, time.monotonic() + life)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._prune()
            self._entries[token] = entry

    def _prune(self) -> None:
        now = time.monotonic()
        for k in [k for k, e in self._entries.items() if e.until <= now]:
            del self._entries[k]
        while len(self._entries) >= self.max_entries:  # still full: drop the oldest
            del self._entries[next(iter(self._entries))]

    def drop_session(self, session_id: uuid.UUID) -> None:
        with self._lock:
            for k in [k for k, e in self._entries.items() if e.session_id == session_id]:
                del self._entries[k]

    def drop_user(self, user_id: uuid.UUID) -> None:
        with self._lock:
            for k in [k for k, e in self._entries.items() if e.user.id == user_id]:
                del self._entries[k]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
