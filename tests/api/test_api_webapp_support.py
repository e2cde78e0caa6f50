"""Endpoints the web app needs besides the core API: change your own password (current password
required, other sessions ended), update your profile, the system status of the dashboard, trace
headers for the viewer's hover, and trace windows of a job's output for the result viewer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import PASSWORD, Api
from promethium import io as pio
from promethium.api.models import Job
from promethium.api.schemas import Role
from promethium.api.storage import result_key

pytestmark = pytest.mark.anyio
NEW_PASSWORD = "a brand new password of enough length"


async def _upload(api: Api, path: Path, role: Role = Role.user) -> str:
    """Upload ``path`` and wait for its ingestion: the dataset is ready."""
    return str((await api.upload(path, role))["id"])


async def test_change_password_needs_the_current_one_and_ends_other_sessions(api: Api) -> None:
    here = await api.token_headers("user-user")  # this session keeps working
    other = api.headers[Role.user]  # the fixture's session: ended by the change
    other_refresh = (await api.login("user-user")).json()["refresh_token"]
    url = "/api/v1/auth/password"
    r = await api.client.post(
        url, json={"current_password": "wrong one", "new_password": NEW_PASSWORD}, headers=here
    )
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "the current password is wrong",
        "details": {"field": "current_password"},
    }
    r = await api.client.post(url, json={"current_password": PASSWORD, "new_password": "short"}, headers=here)
    assert r.status_code == 422
    assert "at least 12" in r.json()["error"]["message"]
    assert (await api.login("user-user")).status_code == 200  # nothing changed so far

    r = await api.client.post(
        url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=here
    )
    assert r.status_code == 200, r.text
    assert r.json()["sessions_ended"] >= 2  # the fixture's and the one of other_refresh
    assert (await api.client.get("/api/v1/auth/me", headers=here)).status_code == 200
    assert (await api.client.get("/api/v1/auth/me", headers=other)).status_code == 401
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": other_refresh})
    assert r.status_code == 401
    assert (await api.login("user-user")).status_code == 401
    assert (await api.login("user-user", NEW_PASSWORD)).status_code == 200


async def test_wrong_current_passwords_are_rate_limited(make_settings: object) -> None:
    from conftest import start_api

    settings = make_settings(login_max_failures=2)  # type: ignore[operator]
    async for api in start_api(settings):
        await api.add_role_users()
        body = {"current_password": "nope", "new_password": NEW_PASSWORD}
        for _ in range(2):
            r = await api.client.post("/api/v1/auth/password", json=body, headers=api.headers[Role.viewer])
            assert r.status_code == 422
        r = await api.client.post("/api/v1/auth/password", json=body, headers=api.headers[Role.viewer])
        assert r.status_code == 429
        assert r.headers["retry-after"]


async def test_update_own_profile(api: Api) -> None:
    r = await api.client.patch(
        "/api/v1/auth/me", json={"email": "v@example.org"}, headers=api.headers[Role.viewer]
    )
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "v@example.org"
    assert r.json()["role"] == "viewer"
    me = await api.client.get("/api/v1/auth/me", headers=api.headers[Role.viewer])
    assert me.json()["email"] == "v@example.org"


async def test_system_status_counts_the_queue_and_the_storage(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    await _upload(api, seismic_files["line"], Role.user)
    await _upload(api, seismic_files["cube"], Role.admin)
    async with api.ctx.db.sessionmaker() as s:
        s.add(Job(owner_id=api.users[Role.user], kind="custom", params={}, status="queued"))
        s.add(Job(owner_id=api.users[Role.user], kind="custom", params={}, status="running"))
        await s.commit()
    r = await api.client.get("/api/v1/system/status", headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["workers"] == {"executor": "embedded", "slots": 2, "broker": "none"}
    assert body["queue"]["queued"] >= 1
    assert body["queue"]["running"] >= 1
    assert body["queue"]["stale_running"] >= 1  # no heartbeat at all
    assert body["queue"]["oldest_queued_s"] >= 0
    line_size = seismic_files["line"].stat().st_size
    cube_size = seismic_files["cube"].stat().st_size
    assert body["storage"] == {
        "scope": "own",
        "datasets": 1,
        "dataset_bytes": line_size,
        "disk_total_bytes": None,
        "disk_free_bytes": None,
    }
    admin = (await api.client.get("/api/v1/system/status", headers=api.headers[Role.admin])).json()["storage"]
    assert admin["scope"] == "all"
    assert admin["datasets"] == 2
    assert admin["dataset_bytes"] == line_size + cube_size
    assert 0 < admin["disk_free_bytes"] <= admin["disk_total_bytes"]


async def test_trace_headers_of_a_range(api: Api, seismic_files: dict[str, Path]) -> None:
    did = await _upload(api, seismic_files["line"])
    url = f"/api/v1/datasets/{did}/headers"
    r = await api.client.get(url, params={"trace_start": 3, "trace_stop": 7}, headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["traces"] == [3, 4, 5, 6]
    assert body["fields"]["cdp"] == [4, 5, 6, 7]  # the file's cdp header is 1..24
    assert all(len(v) == 4 for v in body["fields"].values())
    r = await api.client.get(
        url, params={"trace_start": 0, "trace_stop": 5000}, headers=api.headers[Role.user]
    )
    assert r.status_code == 413
    r = await api.client.get(url, params={"trace_start": 30}, headers=api.headers[Role.user])
    assert r.status_code == 422
    assert "24 traces" in r.json()["error"]["message"]
    assert (await api.client.get(url, headers=api.headers[Role.viewer])).status_code == 404  # not theirs


async def test_result_windows_match_the_output(api: Api, seismic_files: dict[str, Path]) -> None:
    job = Job(owner_id=api.users[Role.user], kind="custom", params={}, status="succeeded")
    async with api.ctx.db.sessionmaker() as s:
        s.add(job)
        await s.flush()
        key = result_key(job.id, "output.zarr")
        pio.convert(seismic_files["line"], api.ctx.storage.prepare(key), format="zarr")
        job.result = {"output_key": key, "metrics": {}}
        await s.commit()
    url = f"/api/v1/results/{job.id}/traces"
    params = {
        "trace_start": 2,
        "trace_stop": 10,
        "trace_step": 2,
        "sample_start": 5,
        "sample_stop": 45,
        "format": "binary",
    }
    r = await api.client.get(url, params=params, headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    assert r.headers["x-shape"] == "4,40"
    assert r.headers["x-trace-start"] == "2"
    got = np.frombuffer(r.content, dtype="<f4").reshape(4, 40)
    want = pio.read(seismic_files["line"]).values[2:10:2, 5:45]
    np.testing.assert_array_equal(got, want)
    js = await api.client.get(url, params={**params, "format": "json"}, headers=api.headers[Role.admin])
    assert js.status_code == 200
    assert js.json()["traces"] == [2, 4, 6, 8]
    assert (await api.client.get(url, headers=api.headers[Role.viewer])).status_code == 404
    async with api.ctx.db.sessionmaker() as s:
        queued = Job(owner_id=api.users[Role.user], kind="custom", params={}, status="queued")
        s.add(queued)
        await s.commit()
    assert (
        await api.client.get(f"/api/v1/results/{queued.id}/traces", headers=api.headers[Role.user])
    ).status_code == 409
