"""User administration (admins only), roles, the password policy and ``create-admin``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from conftest import PASSWORD, Api, start_api
from promethium.api.admin import create_admin
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio
ADMIN = Role.admin


async def test_admin_crud(api: Api) -> None:
    h = api.headers[ADMIN]
    r = await api.client.post(
        "/api/v1/users", json={"username": "dave", "password": PASSWORD, "role": "viewer"}, headers=h
    )
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert r.json()["role"] == "viewer"
    dup = await api.client.post("/api/v1/users", json={"username": "dave", "password": PASSWORD}, headers=h)
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "CONFLICT"
    weak = await api.client.post("/api/v1/users", json={"username": "eve", "password": "short"}, headers=h)
    assert weak.status_code == 422
    page = (await api.client.get("/api/v1/users?per_page=2&page=1", headers=h)).json()
    assert page["total"] == 4
    assert len(page["items"]) == 2
    assert page["per_page"] == 2
    assert page["page"] == 1
    got = await api.client.get(f"/api/v1/users/{uid}", headers=h)
    assert got.json()["username"] == "dave"

    dave = await api.token_headers("dave")
    upd = await api.client.patch(f"/api/v1/users/{uid}", json={"role": "user"}, headers=h)
    assert upd.json()["role"] == "user"
    # deactivation ends the user's sessions and blocks logging in
    await api.client.patch(f"/api/v1/users/{uid}", json={"is_active": False}, headers=h)
    assert (await api.client.get("/api/v1/auth/me", headers=dave)).status_code == 401
    assert (await api.login("dave")).status_code == 401
    assert (await api.client.delete(f"/api/v1/users/{uid}", headers=h)).status_code == 204
    assert (await api.client.get(f"/api/v1/users/{uid}", headers=h)).status_code == 404


async def test_password_change_revokes_sessions(api: Api) -> None:
    uid = api.users[Role.user]
    r = await api.client.patch(
        f"/api/v1/users/{uid}", json={"password": "another long password"}, headers=api.headers[ADMIN]
    )
    assert r.status_code == 200
    assert (await api.client.get("/api/v1/auth/me", headers=api.headers[Role.user])).status_code == 401
    assert (await api.login("user-user", "another long password")).status_code == 200


async def test_last_admin_cannot_be_removed(api: Api) -> None:
    uid = api.users[ADMIN]
    h = api.headers[ADMIN]
    assert (await api.client.delete(f"/api/v1/users/{uid}", headers=h)).status_code == 409
    r = await api.client.patch(f"/api/v1/users/{uid}", json={"role": "user"}, headers=h)
    assert r.status_code == 409


async def test_non_admins_cannot_manage_users(api: Api) -> None:
    for role in (Role.user, Role.viewer):
        r = await api.client.get("/api/v1/users", headers=api.headers[role])
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "AUTHORIZATION_ERROR"


def test_create_admin_function(make_settings: Any) -> None:
    settings = make_settings()
    assert create_admin("boss", "a very long password", settings=settings) is True
    assert create_admin("boss", "a very long password", settings=settings) is False
    from promethium.api.errors import ValidationError

    with pytest.raises(ValidationError):
        create_admin("boss2", "short", settings=settings)

    async def check() -> None:
        async for api in start_api(settings):
            h = await api.token_headers("boss", "a very long password")
            assert (await api.client.get("/api/v1/auth/me", headers=h)).json()["role"] == "admin"

    asyncio.run(check())


def test_create_admin_command(make_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import promethium.api.admin as admin_mod
    from promethium.cli.api_cmds import users_app

    settings = make_settings()
    real = admin_mod.create_admin
    monkeypatch.setattr(admin_mod, "create_admin", lambda u, p, e=None: real(u, p, e, settings=settings))
    app = typer.Typer()
    app.add_typer(users_app, name="users")
    runner = CliRunner()
    r = runner.invoke(
        app, ["users", "create-admin", "-u", "ops", "--password-stdin"], input="a long ops password\n"
    )
    assert r.exit_code == 0, r.output
    assert "created admin ops" in r.output
    r = runner.invoke(
        app, ["users", "create-admin", "-u", "ops", "--password-stdin"], input="a long ops password\n"
    )
    assert r.exit_code == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_admins_demoting_each_other_at_once_leave_one_admin(api: Api, backend: str) -> None:
    for round_ in range(3):
        others = [
            u
            for u in (await api.client.get("/api/v1/users?per_page=100", headers=api.headers[ADMIN])).json()[
                "items"
            ]
        ]
        admins = [u for u in others if u["role"] == "admin" and u["is_active"]]
        assert len(admins) == 1
        name = f"second-admin-{round_}"
        second = await api.create_user(name, Role.admin)
        first_h = await api.token_headers(admins[0]["username"])
        second_h = await api.token_headers(name)
        first_id = admins[0]["id"]

        async def demote(uid: Any, headers: dict[str, str], how: str) -> Any:
            body = {"role": "user"} if how == "role" else {"is_active": False}
            return await api.client.patch(f"/api/v1/users/{uid}", json=body, headers=headers)

        how = ("role", "active", "role")[round_]
        r1, r2 = await asyncio.gather(demote(second, first_h, how), demote(first_id, second_h, how))
        # One succeeds; the other is refused: 409 (it would leave no admin) when both got past the role
        # check, or 403 when the first demotion committed before the second request's role check.
        codes = sorted([r1.status_code, r2.status_code])
        assert codes in ([200, 403], [200, 409]), (r1.text, r2.text)
        users = (
            await api.client.get(
                "/api/v1/users?per_page=100", headers=first_h if r1.status_code == 200 else second_h
            )
        ).json()["items"]
        left = [u for u in users if u["role"] == "admin" and u["is_active"]]
        assert len(left) == 1
        api.headers[ADMIN] = first_h if r1.status_code == 200 else second_h


async def test_deleting_a_user_removes_their_stored_objects_and_waits_for_their_jobs(
    api: Api, seismic_files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    import anyio

    h = api.headers[Role.user]
    ds = await api.upload(seismic_files["line"])  # the user's dataset (its ingest job: done)
    r = await api.client.post("/api/v1/jobs", json={"kind": "denoise", "dataset_id": ds["id"]}, headers=h)
    assert r.status_code == 201, r.text
    done_job = r.json()["id"]
    with anyio.fail_after(60):
        while (await api.client.get(f"/api/v1/jobs/{done_job}", headers=h)).json()["status"] != "succeeded":
            await anyio.sleep(0.05)
    storage = api.ctx.storage
    assert storage.list(f"datasets/{ds['id']}")
    assert storage.list(f"results/{done_job}")
    other = await api.upload(seismic_files["line"], role=Role.admin)  # somebody else's: kept
    executor = api.app.state.jobs_executor
    monkeypatch.setattr(executor, "submit", lambda job_id, queue="default", kind=None: None)
    r = await api.client.post("/api/v1/jobs", json={"kind": "denoise", "dataset_id": ds["id"]}, headers=h)
    queued = r.json()["id"]
    uid = api.users[Role.user]
    r = await api.client.delete(f"/api/v1/users/{uid}", headers=api.headers[ADMIN])
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["active_job_ids"] == [queued]
    assert storage.list(f"datasets/{ds['id']}")  # nothing removed
    r = await api.client.post(f"/api/v1/jobs/{queued}/cancel", headers=h)
    assert r.status_code == 200, r.text
    r = await api.client.delete(f"/api/v1/users/{uid}", headers=api.headers[ADMIN])
    assert r.status_code == 204, r.text
    assert storage.list(f"datasets/{ds['id']}") == []
    assert storage.list(f"results/{done_job}") == []
    assert storage.list(f"datasets/{other['id']}")
    r = await api.client.get(f"/api/v1/datasets/{ds['id']}", headers=api.headers[ADMIN])
    assert r.status_code == 404
    assert isinstance(uid, uuid.UUID)
