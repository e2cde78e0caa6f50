"""The flows of the design end to end over real HTTP (the app behind uvicorn, an httpx client):
upload -> ingest job -> dataset ready -> reconstruct job -> results -> download (SEG-Y) -> export job,

(a) embedded: SQLite, the local storage folder, jobs in the API's thread pool;
(b) distributed: real Celery worker processes (``promethium worker``: one on the ``io`` queue, one on
    ``default,gpu``) over a redis-server of the test, PostgreSQL (a schema of the module) and a moto S3
    server (the storage is ``s3://``).

Each runs on a generated damaged SEG-Y line and on a real file of ``../shared/data`` (skipped when
absent). The downloaded SEG-Y must read back with the input's trace count and its recorded traces
exactly; each job has exactly one result; the stored layout is the design's."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from promethium import io as pio
from promethium.api.storage import ObjectStorage
from service_procs import ApiServer, RedisServer, Worker, env_with_src, pg_schema, pg_up

pytestmark = pytest.mark.timeout(180)

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "segy" / "seisplot_31_81_PR.sgy"
PASSWORD = "correct horse battery staple"
S3_TEST_BUCKET = "promethium-test"  # created by the moto_s3_endpoint fixture (tests/conftest.py)
S3_TEST_REGION = "us-east-1"
TERMINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2D line of 120 traces with 25% of them dead (zeroed, trace id 2)."""
    from promethium.synthetic import damage, make_survey

    damaged, _ = damage(make_survey("2d", n_traces=120, n_samples=300, seed=11), 0.25, 0.0, seed=11)
    path = tmp_path_factory.mktemp("e2e") / "generated line.sgy"
    pio.write(damaged, path)
    return path


@pytest.fixture(params=["generated", pytest.param("real", marks=pytest.mark.shared)])
def seismic_file(request: pytest.FixtureRequest, generated: Path) -> Path:
    if request.param == "generated":
        return generated
    if not REAL.exists():
        pytest.skip(f"{REAL} is absent")
    return REAL


def _settings(root: Path, **values: Any) -> Any:
    from promethium.api import ApiSettings
    from promethium.api.security import generate_private_key_pem

    key = root / "jwt.pem"
    key.write_bytes(generate_private_key_pem())
    return ApiSettings(
        data_dir=root / "data",
        jwt_private_key_file=key,
        admin_username="admin",
        admin_password=PASSWORD,  # type: ignore[arg-type]
        argon2_time_cost=1,
        argon2_memory_cost_kib=64,
        argon2_parallelism=1,
        register_shipped_models=False,
        web_enabled=False,
        **values,
    )


@dataclass
class Flow:
    dataset: dict[str, Any]
    ingest: dict[str, Any]
    reconstruct: dict[str, Any]
    export: dict[str, Any]


class Client:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url + "/api/v1", timeout=60)
        admin = self.login("admin")
        user = f"alice-{uuid.uuid4().hex[:8]}"  # a user of her own (the database may be shared)
        r = self.http.post("/users", json={"username": user, "password": PASSWORD}, headers=admin)
        assert r.status_code == 201, r.text
        self.h = self.login(user)

    def login(self, username: str) -> dict[str, str]:
        r = self.http.post("/auth/login", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=self.h, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, headers=self.h, **kw)

    def wait(self, path: str, done: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(path).json()
            if body["status"] in done:
                return dict(body)
            assert time.monotonic() < deadline, body
            time.sleep(0.1)

    def close(self) -> None:
        self.http.close()


def run_flow(client: Client, path: Path, tmp: Path) -> Flow:
    """Upload -> ingest -> ready -> reconstruct -> results -> SEG-Y download -> export job; checks
    every step's answer and the downloaded data against ``path``."""
    source = pio.read(path)
    values = np.asarray(source.values, dtype=np.float32).reshape(source.n_traces, -1)
    recorded = np.asarray(source.trace_mask).reshape(-1) & (np.abs(values).max(axis=1) > 0)
    with path.open("rb") as f:
        r = client.post("/datasets", files={"file": (path.name, f)})
    assert r.status_code == 201, r.text
    accepted = r.json()
    assert accepted["status"] == "ingesting"
    did = accepted["id"]
    # not ready yet, or already: never an error other than CONFLICT
    early = client.get(f"/datasets/{did}/traces", params={"trace_stop": 2})
    assert early.status_code in (200, 409), early.text

    ingest = client.wait(f"/jobs/{accepted['ingest_job_id']}", TERMINAL)
    assert (ingest["kind"], ingest["status"], ingest["progress"]) == ("ingest", "succeeded", 1.0), ingest
    ds = client.wait(f"/datasets/{did}", ("ready", "failed"))
    assert ds["status"] == "ready", ds
    meta = ds["metadata"]
    assert (meta["traces"], meta["samples"]) == values.shape
    assert meta["statistics"]["max"] == pytest.approx(float(values.max()), rel=1e-6)
    assert meta["qc"]["traces_checked"] == min(source.n_traces, 4_000_000 // values.shape[1])
    r = client.get(f"/datasets/{did}/traces", params={"trace_stop": 5, "format": "binary"})
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(np.frombuffer(r.content, "<f4").reshape(5, -1), values[:5])

    r = client.post(
        "/jobs", json={"kind": "reconstruct", "dataset_id": did, "params": {"reconstruct.n_iter": 10}}
    )
    assert r.status_code == 201, r.text
    job = client.wait(f"/jobs/{r.json()['id']}", TERMINAL)
    assert job["status"] == "succeeded", job
    res = client.get(f"/jobs/{job['id']}/results").json()
    assert len(res["results"]) == 1
    assert res["output_key"] == f"results/{job['id']}/output.zarr"
    assert res["metrics"]["n_traces"] == source.n_traces

    r = client.get(f"/results/{job['id']}/download", params={"format": "segy"})
    assert r.status_code == 200, r.text
    out = tmp / f"{job['id']}.sgy"
    out.write_bytes(r.content)
    got = pio.read(out)
    assert got.n_traces == source.n_traces
    got_values = np.asarray(got.values, dtype=np.float32).reshape(got.n_traces, -1)
    np.testing.assert_array_equal(got_values[recorded], values[recorded])  # recorded traces kept exactly
    if (~recorded).any():
        assert np.abs(got_values[~recorded]).max() > 0  # the missing ones were filled

    r = client.post(
        "/jobs",
        json={
            "kind": "export",
            "dataset_id": did,
            "params": {"format": "segy", "source_job_id": job["id"]},
        },
    )
    assert r.status_code == 201, r.text
    export = client.wait(f"/jobs/{r.json()['id']}", TERMINAL)
    assert export["status"] == "succeeded", export
    r = client.get(f"/results/{export['id']}/download")
    assert r.status_code == 200
    exported = tmp / f"{export['id']}.sgy"
    exported.write_bytes(r.content)
    np.testing.assert_array_equal(
        np.asarray(pio.read(exported).values, dtype=np.float32).reshape(got.n_traces, -1), got_values
    )
    return Flow(ds, ingest, job, export)


def check_layout(storage: ObjectStorage, flow: Flow, filename: str) -> None:
    did = flow.dataset["id"]
    keys = storage.list(f"datasets/{did}")
    assert f"datasets/{did}/raw/{filename}" in keys
    assert f"datasets/{did}/metadata.json" in keys
    assert any(k.startswith(f"datasets/{did}/processed/data.zarr/") for k in keys)
    rec = flow.reconstruct["id"]
    keys = storage.list(f"results/{rec}")
    assert f"results/{rec}/metadata.json" in keys
    assert any(k.startswith(f"results/{rec}/output.zarr/") for k in keys)
    # the job's events as JSON lines (written as it succeeds): queued, running, its progress
    logs = [json.loads(line) for line in storage.get_bytes(f"results/{rec}/logs").decode().splitlines()]
    statuses = [e["message"] for e in logs if e["kind"] == "status"]
    assert statuses[:2] == ["queued", "running"]
    assert any(e["kind"] == "progress" for e in logs)
    exp = flow.export["id"]
    assert storage.list(f"results/{exp}") == sorted(
        [
            f"results/{exp}/logs",
            f"results/{exp}/metadata.json",
            f"results/{exp}/output/{Path(filename).stem}-reconstruct.sgy",
        ]
    )


def _safe(name: str) -> str:
    from promethium.api.services.datasets import safe_filename

    return safe_filename(name)


# ------------------------------------------------------------------------------------------ embedded
def test_embedded_flow(seismic_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promethium.api import create_app

    monkeypatch.delenv("PROMETHIUM_BROKER_URL", raising=False)
    settings = _settings(tmp_path)
    with ApiServer(create_app(settings)) as server:
        client = Client(server.url)
        try:
            flow = run_flow(client, seismic_file, tmp_path)
        finally:
            client.close()
    check_layout(ObjectStorage(settings.resolved_storage_url()), flow, _safe(seismic_file.name))


# --------------------------------------------------------------------------------------- distributed
@dataclass
class Cluster:
    redis: RedisServer
    db_url: str
    storage_url: str
    io_worker: Worker
    cpu_worker: Worker


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, moto_s3_endpoint: str) -> Iterator[Cluster]:
    pytest.importorskip("celery")
    pytest.importorskip("redis")
    if shutil.which("redis-server") is None or not pg_up():
        pytest.skip("needs redis-server and PostgreSQL on 127.0.0.1:5432")
    from promethium.api.db import run_migrations
    from promethium.core.settings import override_settings

    root = tmp_path_factory.mktemp("cluster")
    redis = RedisServer()
    redis.start()
    storage_url = f"s3://{S3_TEST_BUCKET}/e2e-{uuid.uuid4().hex[:10]}"
    workers: list[Worker] = []
    try:
        with (
            pg_schema("pm_e2e") as db_url,
            override_settings(s3_endpoint_url=moto_s3_endpoint, s3_region=S3_TEST_REGION, s3_anon=False),
        ):
            run_migrations(db_url)
            env = env_with_src(
                PROMETHIUM_DATA_DIR=str(root / "worker"),
                PROMETHIUM_DATABASE_URL=db_url,
                PROMETHIUM_STORAGE_URL=storage_url,
                PROMETHIUM_S3_ENDPOINT_URL=moto_s3_endpoint,
                PROMETHIUM_S3_REGION=S3_TEST_REGION,
                PROMETHIUM_BROKER_URL=redis.url,
                PROMETHIUM_HEARTBEAT_INTERVAL_S="0.3",
            )
            workers = [
                Worker(env, root / "io.log", queues="io"),
                Worker(env, root / "cpu.log", queues="default,gpu"),
            ]
            for w in workers:
                w.wait_ready()
            yield Cluster(redis, db_url, storage_url, workers[0], workers[1])
    finally:
        for w in workers:
            w.stop()
        redis.stop()


def _pids(client: Client, job_id: str) -> set[int]:
    events = client.get(f"/jobs/{job_id}/logs", params={"kind": "log", "per_page": 200}).json()["items"]
    return {int(e["data"]["pid"]) for e in events if e["data"].get("pid")}


@pytest.mark.s3
def test_distributed_flow(
    seismic_file: Path, cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promethium.api import create_app
    from promethium.api.repositories_jobs import JobStore

    monkeypatch.setenv("PROMETHIUM_BROKER_URL", cluster.redis.url)
    settings = _settings(tmp_path, database_url=cluster.db_url, storage_url=cluster.storage_url)
    storage = ObjectStorage(cluster.storage_url)
    with ApiServer(create_app(settings)) as server:
        client = Client(server.url)
        try:
            flow = run_flow(client, seismic_file, tmp_path)
            # routing: ingestion and export on the io worker, the reconstruction on the other
            assert _pids(client, flow.ingest["id"]) == {cluster.io_worker.proc.pid}
            assert _pids(client, flow.export["id"]) == {cluster.io_worker.proc.pid}
            assert _pids(client, flow.reconstruct["id"]) == {cluster.cpu_worker.proc.pid}
        finally:
            client.close()
    assert not storage.is_local
    check_layout(storage, flow, _safe(seismic_file.name))
    store = JobStore.from_url(cluster.db_url)
    try:
        job = store.load(uuid.UUID(flow.reconstruct["id"]))
        assert job is not None
        assert job.attempts == 1  # ran once
    finally:
        store.dispose()
