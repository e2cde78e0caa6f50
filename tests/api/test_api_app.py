"""App factory, health, error envelope, OpenAPI, security headers, CORS and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter

from conftest import Api, start_api
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio


async def test_health_live_and_ready(api: Api) -> None:
    r = await api.client.get("/api/v1/health/live")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    r = await api.client.get("/api/v1/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "storage": "ok"}


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable")
async def test_ready_checks_the_broker_when_one_is_configured(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHIUM_BROKER_URL", "redis://127.0.0.1:6379/15")
    async for a in start_api(make_settings()):
        r = await a.client.get("/api/v1/health/ready")
        assert r.status_code == 200, r.text
        assert r.json()["checks"] == {"database": "ok", "storage": "ok", "broker": "ok"}


async def test_ready_reports_an_unreachable_broker_quickly(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import time

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PROMETHIUM_BROKER_URL", f"redis://127.0.0.1:{port}/0")
    async for a in start_api(make_settings()):
        t0 = time.monotonic()
        r = await a.client.get("/api/v1/health/ready")
        assert time.monotonic() - t0 < 4.0
        assert r.status_code == 503, r.text
        checks = r.json()["checks"]
        assert set(checks) == {"database", "storage", "broker"}
        assert (checks["database"], checks["storage"]) == ("ok", "ok")
        assert checks["broker"].startswith("error"), checks


async def test_ready_reports_a_broken_storage(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(api.ctx.storage, "check", broken)
    r = await api.client.get("/api/v1/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["storage"].startswith("error")


async def test_openapi_served_with_tag_name_operation_ids(api: Api) -> None:
    r = await api.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "auth-login" in ids
    assert "datasets-list" in ids
    for path, ops in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for op in ops.values():
            assert op["operationId"].split("-", 1)[0] == op["tags"][0]


async def test_unknown_route_gives_the_envelope(api: Api) -> None:
    r = await api.client.get("/api/v1/nope", headers=api.headers[Role.user])
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


async def test_a_wrong_method_gives_405_with_the_envelope(api: Api) -> None:
    r = await api.client.put("/api/v1/health/live")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    body = r.json()["error"]
    assert body["code"] == "VALIDATION_ERROR"  # not NOT_FOUND: the resource exists
    assert body["message"] == "Method Not Allowed"
    r = await api.client.delete("/api/v1/auth/login")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_validation_error_envelope(api: Api) -> None:
    r = await api.client.get("/api/v1/datasets?page=0", headers=api.headers[Role.user])
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"][0]["loc"] == ["query", "page"]


async def test_missing_token_envelope(api: Api) -> None:
    r = await api.client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.json() == {
        "error": {"code": "AUTHENTICATION_ERROR", "message": "not authenticated", "details": None}
    }
    assert r.headers["www-authenticate"] == "Bearer"


async def test_unexpected_error_is_an_opaque_500(make_settings: Any) -> None:
    async for a in start_api(make_settings(), raise_app_exceptions=False):
        router = APIRouter()

        @router.get("/api/v1/boom", name="boom", tags=["test"])
        async def boom() -> None:
            raise RuntimeError("secret internals")

        a.app.include_router(router)
        r = await a.client.get("/api/v1/boom")
        assert r.status_code == 500
        assert r.json()["error"] == {"code": "INTERNAL_ERROR", "message": "internal error", "details": None}
        assert "secret" not in r.text


async def test_security_headers(api: Api) -> None:
    r = await api.client.get("/api/v1/health/live")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    docs = await api.client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers


async def test_cors_configurable(make_settings: Any) -> None:
    async for a in start_api(make_settings(cors_origins=["https://ui.example"])):
        r = await a.client.options(
            "/api/v1/datasets",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"},
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://ui.example"
        r = await a.client.get("/api/v1/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_metrics_for_admins(api: Api) -> None:
    await api.client.get("/api/v1/health/live")
    r = await api.client.get("/api/v1/metrics", headers=api.headers[Role.admin])
    assert r.status_code == 200
    assert 'promethium_http_requests_total{method="GET",route="/api/v1/health/live",status="200"}' in r.text
    r = await api.client.get("/api/v1/metrics", headers=api.headers[Role.user])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "AUTHORIZATION_ERROR"


async def test_metrics_scrape_token(make_settings: Any) -> None:
    scrape = "a-long-random-scrape-token-0123456789"
    async for a in start_api(make_settings(metrics_token=scrape)):
        await a.add_role_users()
        r = await a.client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {scrape}"})
        assert r.status_code == 200
        assert "promethium_http_requests_total" in r.text
        # a wrong token, none, or a non-admin user's access token: refused
        r = await a.client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {scrape}x"})
        assert r.status_code == 401
        assert (await a.client.get("/api/v1/metrics")).status_code == 401
        assert (await a.client.get("/api/v1/metrics", headers=a.headers[Role.user])).status_code == 403
        assert (await a.client.get("/api/v1/metrics", headers=a.headers[Role.admin])).status_code == 200
        # the scrape token is nothing else: not an access token for the API
        r = await a.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {scrape}"})
        assert r.status_code == 401


async def test_declared_oversized_body_is_413(make_settings: Any) -> None:
    async for a in start_api(make_settings(max_upload_bytes=2048)):
        r = await a.client.post(
            "/api/v1/datasets", content=b"x" * (2048 + 2 * 1024 * 1024), headers={"content-type": "x/y"}
        )
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
