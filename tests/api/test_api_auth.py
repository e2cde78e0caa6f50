"""Login, refresh rotation (and reuse detection), logout, me, rate limiting, keys, Argon2."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from conftest import PASSWORD, Api, start_api
from promethium.api.schemas import Role
from promethium.api.security import PasswordHasher

pytestmark = pytest.mark.anyio


async def test_login_me_refresh_logout(backend: str, make_settings: Any) -> None:
    async for api in start_api(make_settings()):
        await api.create_user("alice")
        r = await api.login("alice")
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["token_type"] == "bearer"
        assert tokens["expires_in"] == api.ctx.settings.access_token_ttl_s
        header = jwt.get_unverified_header(tokens["access_token"])
        assert header["alg"] == "RS256"
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = await api.client.get("/api/v1/auth/me", headers=auth)
        assert me.status_code == 200
        assert me.json()["username"] == "alice"
        assert me.json()["role"] == "user"
        assert "password_hash" not in me.json()

        # rotation: the old refresh token is spent, the new one works
        r2 = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r2.status_code == 200, r2.text
        new = r2.json()
        assert new["refresh_token"] != tokens["refresh_token"]
        auth2 = {"Authorization": f"Bearer {new['access_token']}"}
        assert (await api.client.get("/api/v1/auth/me", headers=auth2)).status_code == 200

        # logout ends the session: its access and refresh tokens stop working at once
        out = await api.client.post("/api/v1/auth/logout", headers=auth2)
        assert out.status_code == 204
        assert (await api.client.get("/api/v1/auth/me", headers=auth2)).status_code == 401
        assert (await api.client.get("/api/v1/auth/me", headers=auth)).status_code == 401
        r3 = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
        assert r3.status_code == 401
        assert r3.json()["error"]["code"] == "AUTHENTICATION_ERROR"


async def test_refresh_token_reuse_revokes_the_session(api: Api) -> None:
    tokens = (await api.login("user-user")).json()
    first = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    replay = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401
    # the thief's replay also kills the legitimate successor
    successor = first.json()
    again = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": successor["refresh_token"]})
    assert again.status_code == 401
    auth = {"Authorization": f"Bearer {successor['access_token']}"}
    assert (await api.client.get("/api/v1/auth/me", headers=auth)).status_code == 401
    # other sessions of the user are untouched
    assert (await api.client.get("/api/v1/auth/me", headers=api.headers[Role.user])).status_code == 200


async def test_bad_credentials_are_indistinguishable(api: Api) -> None:
    wrong = await api.login("user-user", "not the password at all")
    unknown = await api.login("nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_unknown_user_costs_a_full_verification(make_settings: Any) -> None:
    """Login timing does not reveal whether a user exists: an unknown user is checked against a dummy
    hash of the same cost."""
    hasher = PasswordHasher(make_settings(argon2_time_cost=2, argon2_memory_cost_kib=8192))
    real = hasher.hash(PASSWORD)

    def timed(hashed: str | None) -> float:
        best = 1e9
        for _ in range(5):
            t0 = time.perf_counter()
            hasher.verify("a wrong password!", hashed)
            best = min(best, time.perf_counter() - t0)
        return best

    known, unknown = timed(real), timed(None)
    assert unknown > 0.5 * known
    assert known > 0.5 * unknown
    assert hasher.verify(PASSWORD, real)
    assert not hasher.verify(PASSWORD, None)
    assert real.startswith("$argon2id$")


async def test_repeated_failures_are_rate_limited(make_settings: Any) -> None:
    async for api in start_api(make_settings(login_max_failures=3)):
        await api.create_user("bob")
        for _ in range(3):
            assert (await api.login("bob", "wrong password here")).status_code == 401
        blocked = await api.login("bob")  # even the right password, while blocked
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "RATE_LIMITED"
        assert int(blocked.headers["retry-after"]) >= 1


async def test_invalid_and_expired_tokens(api: Api, make_settings: Any) -> None:
    bad = await api.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    # a token signed by another key
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(
        api.headers[Role.user]["Authorization"].split()[1], options={"verify_signature": False}
    )
    forged = jwt.encode(claims, other, algorithm="RS256")
    r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    # an expired one
    claims["exp"] = int(time.time()) - 60
    expired = jwt.encode(claims, api.ctx.tokens.keys.private_key, algorithm="RS256")
    r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert "expired" in r.json()["error"]["message"]
    # HS256 with the public key as secret (algorithm confusion) is refused
    confused = jwt.encode(claims | {"exp": int(time.time()) + 60}, "x" * 32, algorithm="HS256")
    r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {confused}"})
    assert r.status_code == 401


async def test_key_pair_generated_into_the_data_folder(make_settings: Any) -> None:
    settings = make_settings(jwt_private_key_file=None)
    async for api in start_api(settings):
        await api.create_user("carol")
        assert (await api.login("carol")).status_code == 200
    key = settings.data_dir / "keys" / "jwt_private.pem"
    assert key.exists()
    assert key.stat().st_mode & 0o077 == 0
    before = key.read_bytes()
    async for _ in start_api(settings):  # restarting keeps the key (tokens survive restarts)
        pass
    assert key.read_bytes() == before


async def test_first_admin_from_environment(make_settings: Any) -> None:
    settings = make_settings(admin_username="root-admin", admin_password="a long admin password")
    async for api in start_api(settings):
        headers = await api.token_headers("root-admin", "a long admin password")
        me = await api.client.get("/api/v1/auth/me", headers=headers)
        assert me.json()["role"] == "admin"


def test_the_login_limiter_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from promethium.api.context import LoginLimiter

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    limiter = LoginLimiter(max_failures=3, window_s=60, max_keys=500)
    # lookups of names never seen (every login, failed or not) leave nothing behind
    for i in range(1000):
        assert limiter.retry_after(f"user:nobody{i}", f"ip:10.0.{i // 256}.{i % 256}") == 0
    assert len(limiter) == 0
    # a flood of distinct names: at most max_keys remembered, the most recent ones
    for i in range(5000):
        limiter.failure(f"user:spray{i}")
    assert len(limiter) == 500
    for _ in range(3):
        limiter.failure("user:victim", "ip:1.2.3.4")
    assert limiter.retry_after("user:victim") > 0  # the recent key is still counted
    assert limiter.retry_after("user:spray0") == 0  # the oldest were forgotten
    assert len(limiter) == 500
    # one failure per key is kept at most max_failures times
    for _ in range(100):
        limiter.failure("ip:1.2.3.4")
    assert len(limiter._failures["ip:1.2.3.4"]) == 3
    # once the window has passed, the next failure sweeps every expired key
    clock[0] += 61
    limiter.failure("user:late")
    assert len(limiter) == 1
    assert limiter.retry_after("user:victim") == 0


async def test_concurrent_refreshes_of_one_token_rotate_it_once(backend: str, make_settings: Any) -> None:
    import asyncio

    async for api in start_api(make_settings()):
        await api.create_user("carol")
        tokens = (await api.login("carol")).json()
        replies = await asyncio.gather(
            *(
                api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
                for _ in range(4)
            )
        )
        codes = sorted(r.status_code for r in replies)
        assert codes == [200, 401, 401, 401], [r.text for r in replies]
        winner = next(r.json() for r in replies if r.status_code == 200)
        # the token was presented four times: a replay, the session is revoked (as when sequential)
        again = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]})
        assert again.status_code == 401, again.text
        me = await api.client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {winner['access_token']}"}
        )
        assert me.status_code == 401
        # other sessions of the user are untouched
        other = (await api.login("carol")).json()
        r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
        assert r.status_code == 200, r.text
