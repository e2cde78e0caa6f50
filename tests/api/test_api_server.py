"""The app behind a real uvicorn server, over TCP."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from promethium.api import create_app
from promethium.api.admin import create_admin


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_server_end_to_end(make_settings: Any, seismic_files: dict[str, Path]) -> None:
    settings = make_settings()
    assert create_admin("admin1", "a long admin password", settings=settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            assert thread.is_alive(), "server stopped"
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/api/v1/health/ready").status_code == 200
            tok = client.post(
                "/api/v1/auth/login", data={"username": "admin1", "password": "a long admin password"}
            )
            assert tok.status_code == 200
            h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
            with seismic_files["line"].open("rb") as f:
                r = client.post("/api/v1/datasets", files={"file": ("line.sgy", f)}, headers=h)
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "ingesting"
            did = r.json()["id"]
            deadline = time.monotonic() + 30
            while (ds := client.get(f"/api/v1/datasets/{did}", headers=h).json())["status"] == "ingesting":
                assert time.monotonic() < deadline, ds
                time.sleep(0.05)
            assert ds["status"] == "ready", ds
            r = client.get(f"/api/v1/datasets/{did}/traces?trace_stop=4&format=binary", headers=h)
            assert r.headers["x-shape"] == "4,80"
            assert len(r.content) == 4 * 80 * 4
            with client.stream("GET", f"/api/v1/datasets/{did}/download", headers=h) as resp:
                body = b"".join(resp.iter_bytes())
            assert body == seismic_files["line"].read_bytes()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_behind_a_trusted_proxy_the_login_limiter_counts_per_client(make_settings: Any) -> None:
    from promethium.api.admin import uvicorn_options
    from service_procs import ApiServer

    def failures(settings: Any) -> list[int]:
        """Three failed logins from client A, then one from A and one from B (other user names each
        time, so only the address counts)."""
        codes = []
        server = ApiServer(create_app(settings), **uvicorn_options(settings))
        with server, httpx.Client(base_url=server.url, timeout=30) as client:
            for i, who in enumerate(["198.51.100.7"] * 4 + ["203.0.113.9"]):
                r = client.post(
                    "/api/v1/auth/login",
                    data={"username": f"nobody{i}", "password": "not the password at all"},
                    headers={"X-Forwarded-For": who},
                )
                codes.append(r.status_code)
        return codes

    # this test client (127.0.0.1) is the trusted proxy: each forwarded client has its own count
    trusted = make_settings(login_max_failures=3, forwarded_allow_ips="127.0.0.1")
    assert failures(trusted) == [401, 401, 401, 429, 401]
    # an untrusted proxy's header is ignored: all share the proxy's address (B is blocked too)
    untrusted = make_settings(login_max_failures=3, forwarded_allow_ips="10.9.9.9")
    assert failures(untrusted) == [401, 401, 401, 429, 429]
