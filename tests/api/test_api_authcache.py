"""The cache of verified access tokens: requests skip the database for a cached token, yet a logout or a
user change made through this process applies at once, and one made elsewhere within the TTL."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, update

from conftest import Api, start_api
from promethium.api.authcache import PrincipalCache
from promethium.api.models import RefreshToken, User
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio


def _user(role: str = "user") -> User:
    return User(
        id=uuid.uuid4(),
        username="u",
        password_hash="secret-hash",
        role=role,
        is_active=True,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )


def test_cache_entries_expire_and_are_dropped() -> None:
    cache = PrincipalCache(ttl_s=0.2)
    alice, bob = _user(), _user("viewer")
    sa, sb = uuid.uuid4(), uuid.uuid4()
    far = time.time() + 600
    cache.put("ta", alice, sa, far)
    cache.put("tb", bob, sb, far)
    got = cache.get("ta")
    assert got is not None
    assert got[0].id == alice.id
    assert got[1] == sa
    assert got[0] is not alice  # a detached copy...
    assert got[0].password_hash == ""  # ...without the hash
    cache.drop_session(sa)
    assert cache.get("ta") is None
    assert cache.get("tb") is not None
    cache.drop_user(bob.id)
    assert cache.get("tb") is None
    cache.put("ta", alice, sa, far)
    time.sleep(0.25)
    assert cache.get("ta") is None  # the TTL bounds staleness
    # never past the token's own expiry
    cache.put("short", alice, sa, time.time() + 0.05)
    assert cache.get("short") is not None
    time.sleep(0.1)
    assert cache.get("short") is None
    cache.put("expired", alice, sa, time.time() - 1)
    assert cache.get("expired") is None
    assert len(cache) == 0


def test_cache_off_and_bounded() -> None:
    off = PrincipalCache(ttl_s=0)
    off.put("t", _user(), uuid.uuid4(), time.time() + 600)
    assert off.get("t") is None
    small = PrincipalCache(ttl_s=60, max_entries=3)
    for i in range(10):
        small.put(f"t{i}", _user(), uuid.uuid4(), time.time() + 600)
    assert len(small) <= 3
    assert small.get("t9") is not None  # the newest stays


def _count_statements(api: Api) -> list[str]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(api.ctx.db.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_cached_token_skips_the_user_and_session_reads(backend: str, make_settings: Any) -> None:
    async for api in start_api(make_settings(auth_cache_ttl_s=30)):
        await api.create_user("alice")
        auth = await api.token_headers("alice")
        seen = _count_statements(api)
        assert (await api.client.get("/api/v1/auth/me", headers=auth)).status_code == 200
        first = [s for s in seen if "FROM users" in s or "FROM refresh_tokens" in s]
        assert len(first) == 2  # the user and the session, once
        seen.clear()
        for _ in range(5):
            r = await api.client.get("/api/v1/auth/me", headers=auth)
            assert r.status_code == 200
            assert r.json()["username"] == "alice"
        assert not [s for s in seen if "FROM users" in s or "FROM refresh_tokens" in s]


async def test_logout_and_user_changes_apply_at_once(make_settings: Any) -> None:
    async for api in start_api(make_settings(auth_cache_ttl_s=60)):
        await api.add_role_users()
        admin = api.headers[Role.admin]
        uid = await api.create_user("carol")
        carol = await api.token_headers("carol")
        body = {"kind": "preprocess", "dataset_id": str(uuid.uuid4())}
        assert (await api.client.get("/api/v1/jobs", headers=carol)).status_code == 200  # cached now
        # demoted to viewer: writes refused at once (404 for the unknown dataset before, 403 now)
        assert (await api.client.post("/api/v1/jobs", json=body, headers=carol)).status_code == 404
        r = await api.client.patch(f"/api/v1/users/{uid}", json={"role": "viewer"}, headers=admin)
        assert r.status_code == 200, r.text
        r = await api.client.post("/api/v1/jobs", json=body, headers=carol)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "AUTHORIZATION_ERROR"
        # deactivated: refused at once
        r = await api.client.patch(f"/api/v1/users/{uid}", json={"is_active": False}, headers=admin)
        assert r.status_code == 200
        assert (await api.client.get("/api/v1/jobs", headers=carol)).status_code == 401
        # deleted: refused at once
        dave_id = await api.create_user("dave")
        dave = await api.token_headers("dave")
        assert (await api.client.get("/api/v1/auth/me", headers=dave)).status_code == 200
        assert (await api.client.delete(f"/api/v1/users/{dave_id}", headers=admin)).status_code == 204
        assert (await api.client.get("/api/v1/auth/me", headers=dave)).status_code == 401
        # logout: refused at once
        user = api.headers[Role.user]
        assert (await api.client.get("/api/v1/auth/me", headers=user)).status_code == 200
        assert (await api.client.post("/api/v1/auth/logout", headers=user)).status_code == 204
        assert (await api.client.get("/api/v1/auth/me", headers=user)).status_code == 401


async def test_revocation_elsewhere_applies_within_the_ttl(backend: str, make_settings: Any) -> None:
    """A logout through another API process writes only the database: this one notices within the TTL."""
    ttl = 0.5
    async for api in start_api(make_settings(auth_cache_ttl_s=ttl)):
        await api.create_user("erin")
        auth = await api.token_headers("erin")
        assert (await api.client.get("/api/v1/auth/me", headers=auth)).status_code == 200
        async with api.ctx.db.sessionmaker() as s:  # what the other process's logout does
            await s.execute(
                update(RefreshToken).values(revoked_at=datetime.now(UTC), revoked_reason="logout")
            )
            await s.commit()
        t0 = time.monotonic()
        while (await api.client.get("/api/v1/auth/me", headers=auth)).status_code == 200:
            assert time.monotonic() - t0 < ttl + 0.5, "a revoked session outlived the cache TTL"
            await asyncio.sleep(0.05)
        assert time.monotonic() - t0 <= ttl + 0.5


async def test_cache_off_reads_every_time(make_settings: Any) -> None:
    async for api in start_api(make_settings(auth_cache_ttl_s=0)):
        await api.create_user("frank")
        auth = await api.token_headers("frank")
        async with api.ctx.db.sessionmaker() as s:
            await s.execute(
                update(RefreshToken).values(revoked_at=datetime.now(UTC), revoked_reason="logout")
            )
            await s.commit()
        assert (await api.client.get("/api/v1/auth/me", headers=auth)).status_code == 401
