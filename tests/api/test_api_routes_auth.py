"""Every route of the OpenAPI schema, for every role: no token -> 401, insufficient role -> 403,
enough -> neither. A new route without an entry in EXPECTED fails the test."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from conftest import Api
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio

PUBLIC, ANY, WRITER, ADMIN = "public", "any", "writer", "admin"
#: operation id -> who may call it (public: no token; any: every role; writer: user and admin).
EXPECTED = {
    "health-live": PUBLIC,
    "health-ready": PUBLIC,
    "auth-login": PUBLIC,
    "auth-refresh": PUBLIC,  # authenticated by the refresh token itself
    "auth-logout": ANY,
    "auth-me": ANY,
    "auth-update_me": ANY,
    "auth-change_password": ANY,
    "system-status": ANY,
    "datasets-headers": ANY,
    "results-traces": ANY,
    "metrics-scrape": ADMIN,
    "users-list": ADMIN,
    "users-create": ADMIN,
    "users-get": ADMIN,
    "users-update": ADMIN,
    "users-delete": ADMIN,
    "datasets-upload": WRITER,
    "datasets-list": ANY,
    "datasets-get": ANY,
    "datasets-delete": WRITER,
    "datasets-traces": ANY,
    "datasets-preview": ANY,
    "datasets-download": ANY,
    "datasets-export": ANY,
    "uploads-create": WRITER,
    "uploads-get": WRITER,
    "uploads-put_chunk": WRITER,
    "uploads-finalize": WRITER,
    "uploads-abort": WRITER,
    "jobs-create": WRITER,
    "jobs-list": ANY,
    "jobs-get": ANY,
    "jobs-cancel": WRITER,
    "jobs-logs": ANY,
    "jobs-results": ANY,
    "workflows-describe": ANY,
    "models-list": ANY,
    "models-get": ANY,
    "models-upload": WRITER,
    "models-set_default": ADMIN,
    "models-delete": WRITER,
    "results-download": ANY,
    "results-get": ANY,
    "results-figure": ANY,
}
ALLOWED = {
    ANY: {Role.viewer, Role.user, Role.admin},
    WRITER: {Role.user, Role.admin},
    ADMIN: {Role.admin},
}


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "0" if m.group(1) == "index" else str(uuid.uuid4()), path)


async def test_every_route_checks_auth_for_every_role(api: Api) -> None:
    schema = (await api.client.get("/api/v1/openapi.json")).json()
    operations = [
        (method.upper(), path, op["operationId"])
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    ]
    assert {op_id for *_, op_id in operations} == set(EXPECTED), "update EXPECTED for new or removed routes"
    operations.sort(key=lambda o: o[2] == "auth-logout")  # logging out ends the sessions: last
    checked = 0
    for method, path, op_id in operations:
        access = EXPECTED[op_id]
        url = _fill(path)
        if access == PUBLIC:
            continue
        r = await api.client.request(method, url)
        assert r.status_code == 401, (op_id, r.status_code, r.text)
        assert r.json()["error"]["code"] == "AUTHENTICATION_ERROR"
        bad = await api.client.request(method, url, headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 401, op_id
        for role in Role:
            r = await api.client.request(method, url, headers=api.headers[role])
            if role in ALLOWED[access]:
                assert r.status_code not in (401, 403), (op_id, role, r.status_code, r.text)
            else:
                assert r.status_code == 403, (op_id, role, r.status_code, r.text)
                assert r.json()["error"]["code"] == "AUTHORIZATION_ERROR"
            checked += 1
    assert checked >= 3 * (len(EXPECTED) - 4)
    # the logout above ended the sessions of the role users: their tokens no longer work
    assert (await api.client.get("/api/v1/auth/me", headers=api.headers[Role.user])).status_code == 401


#: query parameters a route needs to get past validation to its ownership check
QUERY: dict[str, dict[str, str]] = {"datasets-export": {"format": "segy"}}


async def test_every_route_on_someone_elses_dataset_job_or_upload_is_not_found(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    """Ownership, route by route: another plain user and a viewer get 404 (never the resource, nor a hint
    that it exists) on every route naming a dataset, job, result or upload of the owner; nothing changes;
    the owner and an admin are served."""
    import anyio

    owner = api.headers[Role.user]
    await api.create_user("other-user", Role.user)
    strangers = {"other user": await api.token_headers("other-user"), "viewer": api.headers[Role.viewer]}
    ds = await api.upload(seismic_files["line"], Role.user)
    r = await api.client.post(
        "/api/v1/jobs", json={"kind": "preprocess", "dataset_id": ds["id"]}, headers=owner
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    with anyio.fail_after(60):
        while (await api.client.get(f"/api/v1/jobs/{job_id}", headers=owner)).json()["status"] != "succeeded":
            await anyio.sleep(0.05)
    size = seismic_files["line"].stat().st_size
    r = await api.client.post(
        "/api/v1/datasets/uploads",
        json={"filename": "x.sgy", "size": size, "sha256": "0" * 64, "chunk_size": size},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    ids = {"dataset_id": ds["id"], "job_id": job_id, "upload_id": r.json()["id"], "index": "0"}

    schema = (await api.client.get("/api/v1/openapi.json")).json()
    owned = [
        (method.upper(), path, op["operationId"])
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if re.search(r"\{(dataset_id|job_id|upload_id)\}", path)
    ]
    assert len(owned) >= 15
    for method, path, op_id in owned:
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        for who, headers in strangers.items():
            r = await api.client.request(method, url, headers=headers, params=QUERY.get(op_id))
            expected = 403 if (who == "viewer" and EXPECTED[op_id] != ANY) else 404
            assert r.status_code == expected, (op_id, who, r.status_code, r.text)
    # nothing was touched: the owner and an admin still get every resource
    for url in (f"/api/v1/datasets/{ds['id']}", f"/api/v1/jobs/{job_id}", f"/api/v1/results/{job_id}"):
        for headers in (owner, api.headers[Role.admin]):
            r = await api.client.get(url, headers=headers)
            assert r.status_code == 200, (url, r.text)
    r = await api.client.get(f"/api/v1/datasets/uploads/{ids['upload_id']}", headers=owner)
    assert r.status_code == 200, r.text
