"""Fixtures of the REST API tests: an app per test (fresh data folder and database), on SQLite and,
where a test asks for ``backend``, on the local PostgreSQL too (a unique schema per test, dropped
after); users of each role; small seismic files."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from promethium.api import ApiSettings, create_app
from promethium.api.context import ApiContext
from promethium.api.schemas import Role, UserCreate
from promethium.api.security import generate_private_key_pem
from promethium.api.services.users import UserService

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery staple"
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 64, "argon2_parallelism": 1}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def jwt_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "jwt.pem"
    path.write_bytes(generate_private_key_pem())
    return path


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A URL whose connections use a fresh schema of the ``test`` database (dropped afterwards)."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    schema = f"pm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both databases (``database_url`` picks it up)."""
    return str(request.param)


#: PROMETHIUM_TEST_DATABASE=postgresql runs every API test that does not choose its database itself
#: (through ``backend``) on PostgreSQL instead of SQLite: ``make test`` runs tests/api both ways.
ALL_ON = os.environ.get("PROMETHIUM_TEST_DATABASE", "sqlite").strip().lower()


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str | None:
    if "backend" in request.fixturenames:
        if request.getfixturevalue("backend") == "postgresql":
            return str(request.getfixturevalue("pg_url"))
        return None
    if ALL_ON == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return None


@pytest.fixture
def make_settings(tmp_path: Path, jwt_key_file: Path, database_url: str | None) -> Any:
    def make(**overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "jwt_private_key_file": jwt_key_file,
            "database_url": database_url,
            **FAST_ARGON2,
            "password_min_length": 12,
            # Loading and copying the shipped models on every start would slow every test; the tests
            # of that registration turn it on.
            "register_shipped_models": False,
        }
        values.update(overrides)
        return ApiSettings(**values)

    return make


@dataclass
class Api:
    """A running app (lifespan entered) and an httpx client over ASGI."""

    client: httpx.AsyncClient
    ctx: ApiContext
    app: Any
    headers: dict[Role, dict[str, str]] = field(default_factory=dict)
    users: dict[Role, uuid.UUID] = field(default_factory=dict)

    async def create_user(self, username: str, role: Role = Role.user, password: str = PASSWORD) -> uuid.UUID:
        async with self.ctx.db.sessionmaker() as s:
            user = await UserService(self.ctx, s).create(
                UserCreate(username=username, password=password, role=role)
            )
        return user.id

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post("/api/v1/auth/login", data={"username": username, "password": password})

    async def token_headers(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = await self.login(username, password)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def wait_dataset(
        self, dataset_id: str, role: Role = Role.user, statuses: tuple[str, ...] = ("ready", "failed")
    ) -> dict[str, Any]:
        """Poll the dataset until its ingestion ends (``ready`` or ``failed``); returns it."""
        import anyio

        with anyio.fail_after(60):
            while True:
                r = await self.client.get(f"/api/v1/datasets/{dataset_id}", headers=self.headers[role])
                assert r.status_code == 200, r.text
                if r.json()["status"] in statuses:
                    return dict(r.json())
                await anyio.sleep(0.05)

    async def upload(
        self, path: Path, role: Role = Role.user, name: str | None = None, ready: bool = True
    ) -> dict[str, Any]:
        """Upload ``path`` (multipart) and, with ``ready``, wait for its ingest job: the dataset must end
        ``ready``. Returns the dataset."""
        data = {"name": name} if name else None
        with path.open("rb") as f:
            r = await self.client.post(
                "/api/v1/datasets", files={"file": (path.name, f)}, data=data, headers=self.headers[role]
            )
        assert r.status_code == 201, r.text
        ds = dict(r.json())
        assert ds["status"] == "ingesting", ds
        assert ds["ingest_job_id"], ds
        if not ready:
            return ds
        ds = await self.wait_dataset(ds["id"], role)
        assert ds["status"] == "ready", ds
        return ds

    async def add_role_users(self) -> None:
        for role in Role:
            self.users[role] = await self.create_user(f"{role.value}-user", role)
            self.headers[role] = await self.token_headers(f"{role.value}-user")


async def start_api(settings: ApiSettings, raise_app_exceptions: bool = True) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client=client, ctx=app.state.ctx, app=app)


@pytest.fixture
async def api(make_settings: Any) -> AsyncIterator[Api]:
    """An app with one logged-in user of each role (``api.headers[Role.user]``)."""
    async for a in start_api(make_settings()):
        await a.add_role_users()
        yield a


# ------------------------------------------------------------------------------------------- files
@pytest.fixture(scope="session")
def seismic_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small 2D SEG-Y line, a small 3D SEG-Y cube, a SAC trace and files that are not seismic data."""
    from promethium import io as pio
    from promethium.io import SeismicData
    from promethium.synthetic import make_survey

    root = tmp_path_factory.mktemp("api_files")
    rng = np.random.default_rng(0)
    line = SeismicData.from_array(
        rng.standard_normal((24, 80)).astype(np.float32),
        sample_interval=4.0,
        headers={"cdp": np.arange(1, 25, dtype=np.int32)},
    )
    pio.write(line, root / "line.sgy")
    cube = make_survey("3d", n_inline=5, n_crossline=4, n_samples=60, seed=1)
    pio.write(cube, root / "cube.sgy")
    one = SeismicData.from_array(rng.standard_normal((1, 200)).astype(np.float32), sample_interval=10.0)
    pio.write(one, root / "trace.sac")
    (root / "garbage.bin").write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    good = (root / "line.sgy").read_bytes()
    (root / "truncated.sgy").write_bytes(good[: 3600 + 240 + 10])
    return {p.stem: p for p in root.iterdir()}
