"""``promethium demo --serve``: the generated admin and the demo content seeded over real HTTP."""

from __future__ import annotations

import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from promethium.api import create_app
from promethium.cli.demo_serve import CREDENTIALS_FILE, DEMO_DATASET, ensure_demo_admin, seed_demo

pytestmark = pytest.mark.timeout(180)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def running(make_settings: Any) -> Iterator[tuple[str, Any]]:
    settings = make_settings()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        assert thread.is_alive(), "server stopped"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", settings
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_the_demo_admin_gets_a_generated_password_kept_private(make_settings: Any) -> None:
    settings = make_settings()
    first = ensure_demo_admin(settings)
    assert first.created
    assert first.password
    assert len(first.password) >= 16
    assert first.credentials_file == Path(settings.data_dir) / CREDENTIALS_FILE
    mode = stat.S_IMODE(first.credentials_file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    # a second run creates nothing and finds the same password again
    again = ensure_demo_admin(settings)
    assert (again.created, again.password) == (False, first.password)
    # two data folders never share a password
    other = ensure_demo_admin(make_settings(data_dir=Path(settings.data_dir).parent / "other"))
    assert other.password != first.password
    # an existing admin the demo did not create: its password is not known
    first.credentials_file.unlink()
    assert ensure_demo_admin(settings).password is None


def test_seed_uploads_the_survey_and_runs_a_reconstruction_once(
    running: tuple[str, Any], seismic_files: dict[str, Path]
) -> None:
    url, settings = running
    admin = ensure_demo_admin(settings)
    assert admin.password is not None
    cube = seismic_files["cube"]
    result = seed_demo(url, "admin", admin.password, cube, method="linear", wait_for_job=True)
    assert result.job_status == "succeeded", result
    again = seed_demo(url, "admin", admin.password, seismic_files["cube"], method="linear")
    assert (again.dataset_id, again.job_id) == (result.dataset_id, result.job_id)
    with httpx.Client(base_url=url, timeout=30) as client:
        tok = client.post("/api/v1/auth/login", data={"username": "admin", "password": admin.password}).json()
        h = {"Authorization": f"Bearer {tok['access_token']}"}
        datasets = client.get("/api/v1/datasets", headers=h).json()
        assert [d["name"] for d in datasets["items"]] == [DEMO_DATASET]
        jobs = client.get("/api/v1/jobs", headers=h).json()["items"]
        # the upload's ingestion job, then the one reconstruction
        assert sorted((j["kind"], j["status"]) for j in jobs) == [
            ("ingest", "succeeded"),
            ("reconstruct", "succeeded"),
        ]
        r = client.get(f"/api/v1/results/{result.job_id}/download", params={"format": "segy"}, headers=h)
        assert r.status_code == 200
        assert len(r.content) > 3600


def test_seed_says_clearly_when_the_password_is_wrong(running: tuple[str, Any], seismic_files: Any) -> None:
    url, settings = running
    ensure_demo_admin(settings)
    from promethium.core.errors import PromethiumError

    with pytest.raises(PromethiumError, match="login: HTTP 401"):
        seed_demo(url, "admin", "not the password at all", seismic_files["cube"])
