"""The web app served at ``/``: files, deep-link fallback, its own CSP, and /api never shadowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import start_api

pytestmark = pytest.mark.anyio


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    d = tmp_path / "web"
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_text("<!doctype html><title>Promethium</title><app-root></app-root>")
    (d / "main-ABC.js").write_text("console.log('app')")
    (d / "assets" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside")
    return d


async def test_index_files_and_deep_link_fallback(make_settings: Any, web_dir: Path) -> None:
    async for api in start_api(make_settings(web_dir=web_dir)):
        for path in ("/", "/datasets/123", "/jobs?page=2", "/viewer/abc/def"):
            r = await api.client.get(path)
            assert r.status_code == 200, path
            assert "<app-root>" in r.text
            assert r.headers["content-type"].startswith("text/html")
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp
            assert "connect-src 'self' ws: wss:" in csp
            assert "default-src 'none'" not in csp
        r = await api.client.get("/main-ABC.js")
        assert r.status_code == 200
        assert r.text == "console.log('app')"
        assert "immutable" in r.headers["cache-control"]
        r = await api.client.get("/assets/logo.svg")
        assert r.status_code == 200


async def test_api_is_never_shadowed(make_settings: Any, web_dir: Path) -> None:
    async for api in start_api(make_settings(web_dir=web_dir)):
        r = await api.client.get("/api/v1/health/live")
        assert r.json() == {"status": "ok"}
        for path in ("/api/v1/nothing-here", "/api/v1/datasets/x/y/z", "/api", "/api/v1/main-ABC.js"):
            r = await api.client.get(path)
            assert r.status_code == 404, path
            assert r.json()["error"]["code"] == "NOT_FOUND"
            assert "default-src 'none'" in r.headers["content-security-policy"]
        r = await api.client.post("/api/v1/nothing-here")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "NOT_FOUND"


async def test_missing_asset_and_traversal_are_404(make_settings: Any, web_dir: Path) -> None:
    async for api in start_api(make_settings(web_dir=web_dir)):
        r = await api.client.get("/missing-XYZ.js")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "NOT_FOUND"
        r = await api.client.get("/..%2Fsecret.txt")
        assert r.status_code == 404
        assert "outside" not in r.text


async def test_without_a_build_root_says_so(make_settings: Any, tmp_path: Path) -> None:
    async for api in start_api(make_settings(web_dir=tmp_path / "not-built")):
        r = await api.client.get("/")
        assert r.status_code == 200
        assert "not built" in r.json()["message"]
        assert (await api.client.get("/datasets")).status_code == 404


async def test_workflows_describe_gives_operation_schemas(make_settings: Any) -> None:
    async for api in start_api(make_settings()):
        await api.add_role_users()
        from promethium.api.schemas import Role

        assert (await api.client.get("/api/v1/workflows")).status_code == 401
        r = await api.client.get("/api/v1/workflows", headers=api.headers[Role.viewer])
        assert r.status_code == 200
        body = r.json()
        assert body["default_pipelines"]["reconstruct"] == "reconstruct-classical"
        assert (
            "properties" in body["operations"]["reconstruct"]["parameters"]
            or "$defs" in (body["operations"]["reconstruct"]["parameters"])
        )
