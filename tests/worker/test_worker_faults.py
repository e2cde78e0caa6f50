"""Faults with real Celery worker processes (``promethium worker -P solo``) on a Redis of this module
(its own redis-server on a free loopback port, so it can be restarted) and PostgreSQL (a schema per
module), with the local storage: a worker killed with SIGKILL mid-job, Redis restarted during a run,
a task raising, a running job cancelled, and the database unreachable at the API's start.

Skipped when redis-server, Redis's Python client or PostgreSQL is missing."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery")
pytest.importorskip("redis")

import contextlib

from promethium.api.db import run_migrations
from promethium.api.models import Dataset, Job, Result, User
from promethium.api.repositories_jobs import JobStore
from promethium.api.storage import ObjectStorage, dataset_key, result_key
from promethium.worker.executor import CeleryExecutor, WorkerSettings
from promethium.worker.reaper import Reaper, reap_once
from service_procs import RedisServer, Worker, env_with_src, free_port, pg_schema, pg_up

pytestmark = pytest.mark.timeout(120)

STALE_S = 2.0
#: the reaper's PROMETHIUM_REAPER_RESUBMIT_QUEUED_AFTER_S in these tests
QUEUED_RESUBMIT_S = 3.0

if shutil.which("redis-server") is None or not pg_up():
    pytest.skip("needs redis-server and PostgreSQL on 127.0.0.1:5432", allow_module_level=True)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_schema_url() -> Iterator[str]:
    with pg_schema("pm_faults") as url:
        run_migrations(url)
        yield url


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, pg_schema_url: str, redis_server: RedisServer
) -> Iterator[Any]:
    """(store, storage, owner id, ready dataset id, not-ready dataset id, root)."""
    from promethium import io as pio
    from promethium.synthetic import damage, make_survey

    root = tmp_path_factory.mktemp("faults")
    store = JobStore.from_url(pg_schema_url)
    storage = ObjectStorage(str(root / "storage"))
    damaged, _ = damage(make_survey("2d", n_traces=240, n_samples=400, seed=5), 0.3, 0.0, seed=5)
    key = dataset_key("d", "processed/data.zarr")
    pio.write(damaged, storage.prepare(key))
    with store.sessions() as s, s.begin():
        user = User(username=f"u{uuid.uuid4().hex[:6]}", password_hash="x", role="user")
        s.add(user)
        s.flush()
        ds = Dataset(owner_id=user.id, name="d", status="ready", processed_key=key, meta={})
        bad = Dataset(owner_id=user.id, name="bad", status="uploading", processed_key=None, meta={})
        s.add_all([ds, bad])
    yield store, storage, user.id, ds.id, bad.id, root
    store.dispose()


def _env(world: Any, redis_server: RedisServer, pg_url: str) -> dict[str, str]:
    root = world[5]
    return env_with_src(
        PROMETHIUM_DATA_DIR=str(root),
        PROMETHIUM_DATABASE_URL=pg_url,
        PROMETHIUM_STORAGE_URL=str(root / "storage"),
        PROMETHIUM_BROKER_URL=redis_server.url,
        PROMETHIUM_HEARTBEAT_INTERVAL_S="0.3",
        PROMETHIUM_REAPER_STALE_AFTER_S=str(STALE_S),
    )


@pytest.fixture(scope="module")
def workers(world: Any, redis_server: RedisServer, pg_schema_url: str) -> Iterator[list[Worker]]:
    env = _env(world, redis_server, pg_schema_url)
    ws = [Worker(env, world[5] / f"worker{i}.log") for i in range(2)]
    for w in ws:
        w.wait_ready()
    yield ws
    for w in ws:
        w.stop()


def _job(world: Any, dataset: uuid.UUID | None = None, n_iter: int = 200) -> uuid.UUID:
    from promethium.workflows import load_pipeline

    store, _, owner, ds = world[:4]
    spec = load_pipeline(
        "reconstruct-classical",
        {"reconstruct.n_iter": n_iter, "execution.mode": "stream", "execution.traces_per_chunk": 20},
    ).to_dict()
    with store.sessions() as s, s.begin():
        job = Job(owner_id=owner, dataset_id=dataset or ds, kind="reconstruct", params={"pipeline": spec})
        s.add(job)
    return job.id


def _executor(redis_server: RedisServer) -> CeleryExecutor:
    return CeleryExecutor(WorkerSettings(broker_url=redis_server.url))


def _wait(
    store: JobStore, job_id: uuid.UUID, statuses: set[str], timeout: float = 60, reap: Any = None
) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = store.status(job_id)
        if status in statuses:
            return str(status)
        assert time.monotonic() < deadline, f"job {job_id} is {status}"
        if reap is not None:
            reap()
        time.sleep(0.1)


def _wait_progress(store: JobStore, job_id: uuid.UUID, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        job = store.load(job_id)
        assert job is not None
        with store.sessions() as s:
            progress = s.get(Job, job_id).progress  # type: ignore[union-attr]
        if job.status == "running" and progress > 0:
            return
        assert job.status in ("queued", "running"), job.status
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.05)


def _pid_of_run(store: JobStore, job_id: uuid.UUID) -> int:
    from sqlalchemy import select

    from promethium.api.models import JobEvent

    with store.sessions() as s:
        rows = s.execute(
            select(JobEvent.data)
            .where(JobEvent.job_id == job_id, JobEvent.kind == "log")
            .order_by(JobEvent.created_at)
        ).all()
    pids = [r[0].get("pid") for r in rows if r[0].get("pid")]
    assert pids, "no run logged its pid"
    return int(pids[-1])


def _results(store: JobStore, job_id: uuid.UUID) -> int:
    from sqlalchemy import func, select

    with store.sessions() as s:
        return int(
            s.execute(select(func.count()).select_from(Result).where(Result.job_id == job_id)).scalar_one()
        )


def test_a_worker_killed_mid_job_the_job_is_redelivered_and_completes_once(
    world: Any, workers: list[Worker], redis_server: RedisServer, pg_schema_url: str
) -> None:
    store = world[0]
    executor = _executor(redis_server)
    job_id = _job(world)
    executor.submit(job_id, "default", "reconstruct")
    _wait_progress(store, job_id)
    pid = _pid_of_run(store, job_id)
    victim = next(w for w in workers if w.proc.pid == pid)
    os.kill(pid, signal.SIGKILL)
    victim.proc.wait(10)

    def reap() -> None:
        reap_once(store, STALE_S, 3, lambda j: executor.submit(j.id, j.queue, j.kind))

    assert _wait(store, job_id, {"succeeded", "failed", "cancelled"}, 90, reap) == "succeeded"
    job = store.load(job_id)
    assert job is not None
    assert job.attempts == 2
    assert _pid_of_run(store, job_id) != pid
    assert _results(store, job_id) == 1
    storage = world[1]
    assert storage.exists(result_key(job_id, "output.zarr", "zarr.json"))
    # a replacement worker for the next tests
    replacement = Worker(_env(world, redis_server, pg_schema_url), world[5] / "worker-r.log")
    replacement.wait_ready()
    workers[workers.index(victim)] = replacement


def test_a_task_raising_fails_its_job_with_the_message_and_others_are_unaffected(
    world: Any, workers: list[Worker], redis_server: RedisServer
) -> None:
    store = world[0]
    executor = _executor(redis_server)
    bad = _job(world, dataset=world[4], n_iter=5)
    good = _job(world, n_iter=5)
    executor.submit(bad, "default", "reconstruct")
    executor.submit(good, "default", "reconstruct")
    assert _wait(store, bad, {"succeeded", "failed", "cancelled"}) == "failed"
    assert _wait(store, good, {"succeeded", "failed", "cancelled"}) == "succeeded"
    with store.sessions() as s:
        assert s.get(Job, bad).error == "the dataset is gone or not ready"  # type: ignore[union-attr]
    assert _results(store, bad) == 0
    assert _results(store, good) == 1


def test_cancel_of_a_running_job_ends_it_within_5_s_and_removes_its_outputs(
    world: Any, workers: list[Worker], redis_server: RedisServer
) -> None:
    store, _storage = world[0], world[1]
    job_id = _job(world)
    _executor(redis_server).submit(job_id, "default", "reconstruct")
    _wait_progress(store, job_id)
    out_dir = world[5] / "storage" / result_key(job_id)

    def partial() -> bool:
        try:
            return out_dir.exists() and any(p.is_file() for p in out_dir.rglob("*"))
        except FileNotFoundError:  # being written or removed right now
            return True

    deadline = time.monotonic() + 30
    while not partial():  # the output is written chunk by chunk
        assert store.status(job_id) == "running", "no partial output"
        assert time.monotonic() < deadline, "no partial output"
        time.sleep(0.02)
    t0 = time.monotonic()
    assert store.transition(job_id, "cancelled", "cancelled by the test")  # what the API does
    deadline = t0 + 5
    while partial():
        assert time.monotonic() < deadline, "partial outputs still there 5 s after the cancel"
        time.sleep(0.05)
    assert store.status(job_id) == "cancelled"
    assert _results(store, job_id) == 0
    # the worker is free again
    nxt = _job(world, n_iter=5)
    _executor(redis_server).submit(nxt, "default", "reconstruct")
    assert _wait(store, nxt, {"succeeded", "failed"}) == "succeeded"


def test_cancel_revokes_the_queued_message_of_a_job(
    world: Any, workers: list[Worker], redis_server: RedisServer
) -> None:
    from promethium.worker.executor import task_id

    store = world[0]
    executor = _executor(redis_server)
    job_id = _job(world, n_iter=5)
    executor.cancel(job_id)  # what the API does after moving the job to cancelled
    want = task_id(job_id, 0)
    deadline = time.monotonic() + 30
    while True:  # the workers got the revoke of the job's (deterministic) task id
        # (both workers answer as celery@<host>: the replies merge into one entry)
        replies = executor.app.control.inspect(timeout=1.0).revoked() or {}
        if replies and all(want in ids for ids in replies.values()):
            break
        assert time.monotonic() < deadline, replies
        time.sleep(0.2)
    # its message, even with the job still queued in the database, is discarded by the workers
    executor.submit(job_id, "default", "reconstruct")
    after = _job(world, n_iter=5)
    executor.submit(after, "default", "reconstruct")
    other = _job(world, n_iter=5)
    executor.submit(other, "default", "reconstruct")
    assert _wait(store, after, {"succeeded", "failed", "cancelled"}) == "succeeded"
    assert _wait(store, other, {"succeeded", "failed", "cancelled"}) == "succeeded"
    time.sleep(1.0)
    assert store.status(job_id) == "queued"
    assert _results(store, job_id) == 0
    store.transition(job_id, "cancelled", "cancelled by the test")


def test_redis_restarted_during_a_run_loses_no_job(
    world: Any, workers: list[Worker], redis_server: RedisServer
) -> None:
    store = world[0]
    executor = _executor(redis_server)
    running = _job(world, n_iter=120)
    executor.submit(running, "default", "reconstruct")
    _wait_progress(store, running)
    queued = [_job(world, n_iter=5) for _ in range(3)]
    for j in queued:
        executor.submit(j, "default", "denoise")
    redis_server.stop()  # no persistence: what was queued in Redis is gone with it
    time.sleep(1.0)
    redis_server.start()

    # after a broker loss the API's reaper alone recovers the jobs: it re-queues the running one whose
    # worker lost it and sends again the queued ones whose messages were lost (the production thread,
    # as start_jobs builds it, with short intervals)
    reaper = Reaper(
        store,
        0.2,
        STALE_S,
        3,
        lambda j: executor.submit(j.id, j.queue, j.kind),
        resubmit_queued_after_s=QUEUED_RESUBMIT_S,
    )
    reaper.start()
    try:
        deadline = time.monotonic() + 90
        for j in [running, *queued]:
            while store.status(j) not in ("succeeded", "failed", "cancelled"):
                assert time.monotonic() < deadline, store.status(j)
                time.sleep(0.2)
            assert store.status(j) == "succeeded"
            assert _results(store, j) == 1
    finally:
        reaper.stop()


class _Gate:
    """A TCP forwarder 127.0.0.1:port -> PostgreSQL that starts closed (the database 'unreachable')."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock: socket.socket | None = None

    def open(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.sock is not None
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 5432))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


@pytest.mark.anyio
async def test_the_database_unreachable_at_start_readiness_reports_it_and_recovers(
    tmp_path: Path, pg_schema_url: str
) -> None:
    import httpx

    from promethium.api import ApiSettings, create_app
    from promethium.api.security import generate_private_key_pem

    gate = _Gate()
    key = tmp_path / "jwt.pem"
    key.write_bytes(generate_private_key_pem())
    url = pg_schema_url.replace("127.0.0.1:5432", f"127.0.0.1:{gate.port}")
    settings = ApiSettings(data_dir=tmp_path / "data", jwt_private_key_file=key, database_url=url)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                r = await client.get("/api/v1/health/ready")
                assert r.status_code == 503, r.text
                assert r.json()["checks"]["database"].startswith("error"), r.json()
                assert (await client.get("/api/v1/health/live")).status_code == 200
                gate.open()
                deadline = time.monotonic() + 30
                while (r := await client.get("/api/v1/health/ready")).status_code != 200:
                    assert time.monotonic() < deadline, r.text
                    import anyio

                    await anyio.sleep(0.2)
                assert r.json()["checks"]["database"] == "ok"
    finally:
        gate.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
