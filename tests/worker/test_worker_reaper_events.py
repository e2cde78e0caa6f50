"""The reaper called directly (stale running jobs re-queued, then failed after N attempts; a live
worker keeps its job; a run given up on cannot finish the job), and the WebSocket /api/v1/ws with
both event buses: in-process (embedded mode, a real job) and Redis pub/sub (the local Redis)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from test_worker_runner import _job, env  # noqa: F401

from promethium.api.models import Job, Result, utcnow
from promethium.api.repositories_jobs import JobStore
from promethium.worker import run_job
from promethium.worker.reaper import Reaper, reap_once

pytestmark = pytest.mark.timeout(120)


def _age(store: JobStore, job_id: uuid.UUID, seconds: float) -> None:
    with store.sessions() as s, s.begin():
        s.execute(
            update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_the_reaper_requeues_a_vanished_worker_job_then_fails_it(env: Any) -> None:  # noqa: F811
    store, _, owner, ds = env
    job_id = _job(store, owner, ds)
    submitted: list[uuid.UUID] = []
    for attempt in (1, 2):
        assert store.transition(job_id, "running")
        assert store.load(job_id).attempts == attempt  # type: ignore[union-attr]
        assert reap_once(store, 60, 3, lambda j: submitted.append(j.id)) == []  # fresh heartbeat: alive
        _age(store, job_id, 120)
        done = reap_once(store, 60, 3, lambda j: submitted.append(j.id))
        assert [(d.id, d.action) for d in done] == [(job_id, "requeued")]
        assert store.status(job_id) == "queued"
        assert reap_once(store, 60, 3) == []  # idempotent
    assert submitted == [job_id, job_id]
    assert store.transition(job_id, "running")
    _age(store, job_id, 120)
    assert [d.action for d in reap_once(store, 60, 3)] == ["failed"]
    with store.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.status == "failed"
        assert job.attempts == 3
        assert "the worker vanished" in (job.error or "")


def _age_created(store: JobStore, job_id: uuid.UUID, seconds: float) -> None:
    with store.sessions() as s, s.begin():
        s.execute(
            update(Job).where(Job.id == job_id).values(created_at=utcnow() - timedelta(seconds=seconds))
        )


def test_the_reaper_sends_again_a_queued_job_whose_message_was_lost(env: Any) -> None:  # noqa: F811
    store, storage, owner, ds = env
    lost = _job(store, owner, ds)
    fresh = _job(store, owner, ds)
    started = _job(store, owner, ds)
    for j in (lost, fresh, started):
        _age_created(store, j, 600)
    _age_created(store, fresh, 5)
    assert store.transition(started, "running")
    submitted: list[tuple[uuid.UUID, str, str]] = []

    def submit(j: Any) -> None:
        submitted.append((j.id, j.queue, j.kind))

    assert reap_once(store, 60, 3, submit) == []  # off unless asked for
    done = reap_once(store, 60, 3, submit, resubmit_queued_after_s=120)
    assert [(d.id, d.action) for d in done] == [(lost, "resubmitted")]
    assert submitted == [(lost, "default", "reconstruct")]
    assert store.status(lost) == "queued"
    # sent again just now: not again before another 120 s
    assert reap_once(store, 60, 3, submit, resubmit_queued_after_s=120) == []
    _age(store, lost, 600)
    assert [d.action for d in reap_once(store, 60, 3, submit, resubmit_queued_after_s=120)] == ["resubmitted"]
    assert len(submitted) == 2
    # the re-sent job runs once; a duplicate delivery does nothing
    assert run_job(lost, store, storage) == "succeeded"
    assert run_job(lost, store, storage) == "succeeded"
    assert store.load(lost).attempts == 1  # type: ignore[union-attr]
    with store.sessions() as s:
        n = s.execute(select(func.count()).select_from(Result).where(Result.job_id == lost)).scalar_one()
    assert n == 1


def test_a_job_requeued_by_the_reaper_is_not_sent_twice_at_once(env: Any) -> None:  # noqa: F811
    store, _, owner, ds = env
    job_id = _job(store, owner, ds)
    _age_created(store, job_id, 600)
    assert store.transition(job_id, "running")
    _age(store, job_id, 600)
    sent: list[uuid.UUID] = []
    done = reap_once(store, 60, 3, lambda j: sent.append(j.id), resubmit_queued_after_s=120)
    assert [d.action for d in done] == ["requeued"]
    assert sent == [job_id]  # requeued and sent once, not also "resubmitted" in the same pass


def test_two_reapers_send_a_lost_queued_job_once(env: Any) -> None:  # noqa: F811
    import threading

    store, _, owner, ds = env
    jobs = [_job(store, owner, ds) for _ in range(6)]
    for j in jobs:
        _age_created(store, j, 600)
    sent: list[uuid.UUID] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def one() -> None:
        barrier.wait()

        def submit(j: Any) -> None:
            with lock:
                sent.append(j.id)

        reap_once(store, 60, 3, submit, resubmit_queued_after_s=120)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(sent) == sorted(jobs)


def test_a_run_given_up_on_cannot_finish_the_job(env: Any) -> None:  # noqa: F811
    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)
    assert store.transition(job_id, "running")
    stale = store.load(job_id)
    assert stale is not None
    assert store.heartbeat(job_id, stale.attempts)
    _age(store, job_id, 120)
    reap_once(store, 60, 3)
    assert run_job(job_id, store, storage) == "succeeded"  # the new run (attempt 2)
    assert not store.heartbeat(job_id, stale.attempts)  # the old run is fenced off
    assert not store.succeed(stale, {"metrics": {}}, "x", stale.attempts)
    with store.sessions() as s:
        assert (
            s.execute(select(func.count()).select_from(Result).where(Result.job_id == job_id)).scalar_one()
            == 1
        )


def test_a_redelivered_job_is_taken_over_only_when_its_heartbeat_is_stale(env: Any) -> None:  # noqa: F811
    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)
    assert store.transition(job_id, "running")
    assert run_job(job_id, store, storage, takeover_after_s=60) == "running"  # the owner is alive
    _age(store, job_id, 120)
    assert run_job(job_id, store, storage, takeover_after_s=60) == "succeeded"
    assert store.load(job_id).attempts == 2  # type: ignore[union-attr]


def test_the_reaper_thread_runs_periodically(env: Any) -> None:  # noqa: F811
    store, _, owner, ds = env
    job_id = _job(store, owner, ds)
    assert store.transition(job_id, "running")
    _age(store, job_id, 120)
    got: list[uuid.UUID] = []
    reaper = Reaper(store, 0.1, 60, 3, lambda j: got.append(j.id))
    reaper.start()
    try:
        deadline = time.monotonic() + 10
        while not got:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        reaper.stop()
    assert got == [job_id]
    assert store.status(job_id) == "queued"


def test_the_reaper_thread_sends_lost_queued_jobs_again(env: Any) -> None:  # noqa: F811
    store, _, owner, ds = env
    job_id = _job(store, owner, ds)
    _age_created(store, job_id, 600)
    got: list[uuid.UUID] = []
    reaper = Reaper(store, 0.1, 60, 3, lambda j: got.append(j.id), resubmit_queued_after_s=120)
    reaper.start()
    try:
        deadline = time.monotonic() + 10
        while not got:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # more passes: sent once per 120 s
    finally:
        reaper.stop()
    assert got == [job_id]
    assert reaper.passes >= 3


def test_the_embedded_executor_runs_a_job_sent_twice_once(env: Any) -> None:  # noqa: F811
    from promethium.worker.executor import EmbeddedExecutor

    store, storage, owner, ds = env
    blocker = _job(store, owner, ds, **{"reconstruct.n_iter": 30})
    job_id = _job(store, owner, ds)
    ex = EmbeddedExecutor(store, storage, workers=1)
    runs: list[uuid.UUID] = []
    run = ex._run

    def counted(jid: uuid.UUID, token: Any) -> str:
        runs.append(jid)
        return run(jid, token)

    ex._run = counted  # type: ignore[method-assign]
    ex.start_pool()
    try:
        ex.submit(blocker)
        ex.submit(job_id)
        ex.submit(job_id)  # the reaper re-sending it while it waits in the pool
        deadline = time.monotonic() + 60
        while store.status(job_id) != "succeeded":
            assert time.monotonic() < deadline, store.status(job_id)
            time.sleep(0.05)
    finally:
        ex._pool.shutdown(wait=True)  # type: ignore[union-attr]
    assert runs == [blocker, job_id]
    assert store.load(job_id).attempts == 1  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------- WebSocket
def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping())
    except Exception:
        return False


def _client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker: str | None) -> Any:
    from fastapi.testclient import TestClient

    from promethium.api import ApiSettings, create_app
    from promethium.api.security import generate_private_key_pem

    if broker:
        monkeypatch.setenv("PROMETHIUM_BROKER_URL", broker)
    else:
        monkeypatch.delenv("PROMETHIUM_BROKER_URL", raising=False)
    key = tmp_path / "jwt.pem"
    key.write_bytes(generate_private_key_pem())
    settings = ApiSettings(
        data_dir=tmp_path / "data",
        jwt_private_key_file=key,
        admin_username="admin",
        admin_password="correct horse battery staple",  # type: ignore[arg-type]
        argon2_time_cost=1,
        argon2_memory_cost_kib=64,
        argon2_parallelism=1,
    )
    return TestClient(create_app(settings))


def _login(client: Any, username: str = "admin") -> str:
    r = client.post(
        "/api/v1/auth/login", data={"username": username, "password": "correct horse battery staple"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _upload(client: Any, token: str, tmp_path: Path, held: list[uuid.UUID] | None = None) -> str:
    """Upload a small damaged line and wait for its ingestion. ``held``: the executor's submit is
    held (jobs land in the list): the ingest job is run here, by the shared runner."""
    from promethium import io as pio
    from promethium.api.storage import ObjectStorage
    from promethium.synthetic import damage, make_survey

    damaged, _ = damage(make_survey("2d", n_traces=40, n_samples=120, seed=3), 0.2, 0.0, seed=3)
    path = tmp_path / "d.sgy"
    pio.write(damaged, path)
    with path.open("rb") as f:
        r = client.post(
            "/api/v1/datasets", files={"file": ("d.sgy", f)}, headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["status"] == "ingesting"
    if held is not None:
        assert held == [uuid.UUID(ds["ingest_job_id"])]
        settings = client.app.state.ctx.settings
        store = JobStore.from_url(settings.resolved_database_url())
        try:
            assert run_job(held.pop(), store, ObjectStorage(settings.resolved_storage_url())) == "succeeded"
        finally:
            store.dispose()
    deadline = time.monotonic() + 30
    while ds["status"] == "ingesting":
        assert time.monotonic() < deadline, ds
        time.sleep(0.05)
        ds = client.get(f"/api/v1/datasets/{ds['id']}", headers={"Authorization": f"Bearer {token}"}).json()
    assert ds["status"] == "ready", ds
    return str(ds["id"])


def _ws_auth(ws: Any, token: str) -> None:
    ws.send_json({"type": "auth", "token": token})
    assert ws.receive_json()["type"] == "ready"


def test_websocket_needs_a_valid_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.websockets import WebSocketDisconnect

    with _client(tmp_path, monkeypatch, None) as client:
        with client.websocket_connect("/api/v1/ws") as ws:
            ws.send_json({"type": "auth", "token": "nope"})
            assert ws.receive_json() == {"type": "error", "message": "not authenticated"}
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4401
        token = _login(client)
        with client.websocket_connect("/api/v1/ws") as ws:  # the token in the first message
            ws.send_json({"type": "auth", "token": token})
            assert ws.receive_json()["type"] == "ready"


def test_websocket_refuses_a_token_in_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.websockets import WebSocketDisconnect

    with _client(tmp_path, monkeypatch, None) as client:
        token = _login(client)
        with client.websocket_connect(f"/api/v1/ws?token={token}") as ws:
            msg = ws.receive_json()
            assert msg["type"] == "error"
            assert "not in the URL" in msg["message"]
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4401


@pytest.mark.parametrize("end", ["logout", "deactivate"])
def test_websocket_closes_when_the_session_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    from starlette.websockets import WebSocketDisconnect

    monkeypatch.setattr("promethium.api.routers.ws.SESSION_CHECK_S", 0.2)
    with _client(tmp_path, monkeypatch, None) as client:
        admin = {"Authorization": f"Bearer {_login(client)}"}
        r = client.post(
            "/api/v1/users",
            json={"username": "bob", "password": "correct horse battery staple", "role": "user"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        bob_id = r.json()["id"]
        token = _login(client, "bob")
        with client.websocket_connect("/api/v1/ws") as ws:
            _ws_auth(ws, token)
            time.sleep(0.6)  # a few checks pass while the session is open
            ws.send_json({"type": "subscribe", "job_ids": []})
            assert ws.receive_json() == {"type": "subscribed", "jobs": [], "denied": []}
            if end == "logout":
                r = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
            else:
                r = client.patch(f"/api/v1/users/{bob_id}", json={"is_active": False}, headers=admin)
            assert r.status_code in (200, 204), r.text
            assert ws.receive_json() == {"type": "error", "message": "the session has ended"}
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4401


def test_tokens_in_urls_are_redacted_from_uvicorn_logs() -> None:
    import logging

    from promethium.api.logs import RedactTokens, redact

    assert redact("GET /api/v1/ws?token=abc.def-ghi&x=1") == "GET /api/v1/ws?token=[redacted]&x=1"
    assert redact("/x?access_token=s3cret") == "/x?access_token=[redacted]"
    assert redact("/x?tokens=1&page=2") == "/x?tokens=1&page=2"
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/v1/ws?token=eyJ.secret.sig", "1.1", 101),
        None,
    )
    assert RedactTokens().filter(access)
    assert access.getMessage() == '127.0.0.1:5 - "GET /api/v1/ws?token=[redacted] HTTP/1.1" 101'
    ws_line = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/api/v1/ws?token=eyJ.secret.sig"),
        None,
    )
    RedactTokens().filter(ws_line)
    assert "secret" not in ws_line.getMessage()


def test_the_app_installs_the_redaction_on_uvicorn_loggers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from promethium.api.logs import RedactTokens

    with _client(tmp_path, monkeypatch, None):
        for name in ("uvicorn.access", "uvicorn.error"):
            filters = [f for f in logging.getLogger(name).filters if isinstance(f, RedactTokens)]
            assert len(filters) == 1, name
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            logging.getLogger("uvicorn.access").info(
                '%s - "%s %s HTTP/%s" %d', "c", "GET", "/api/v1/ws?token=eyJ.secret.sig", "1.1", 101
            )
        assert "secret" not in caplog.text
        assert "token=[redacted]" in caplog.text


def test_websocket_streams_a_job_of_the_embedded_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _client(tmp_path, monkeypatch, None) as client:
        token = _login(client)
        auth = {"Authorization": f"Bearer {token}"}
        ds = _upload(client, token, tmp_path)
        executor = client.app.state.jobs_executor
        held: list[uuid.UUID] = []
        real_submit = executor.submit
        monkeypatch.setattr(
            executor, "submit", lambda job_id, queue="default", kind=None: held.append(job_id)
        )
        r = client.post("/api/v1/jobs", json={"kind": "reconstruct", "dataset_id": ds}, headers=auth)
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        with client.websocket_connect("/api/v1/ws") as ws:
            _ws_auth(ws, token)
            ws.send_json({"type": "subscribe", "job_ids": [job_id, str(uuid.uuid4()), "junk"]})
            sub = ws.receive_json()
            assert sub["type"] == "subscribed"
            assert [j["job_id"] for j in sub["jobs"]] == [job_id]
            assert sub["jobs"][0]["status"] == "queued"
            assert len(sub["denied"]) == 2
            real_submit(held[0])  # now it runs
            events: list[dict[str, Any]] = []
            while not (events and events[-1].get("status") in ("succeeded", "failed")):
                events.append(ws.receive_json())
        kinds = [e["type"] for e in events]
        assert kinds[0] == "status"
        assert events[0]["status"] == "running"
        assert "progress" in kinds
        assert events[-1]["status"] == "succeeded"
        assert all(e["job_id"] == job_id for e in events)


def test_websocket_denies_other_users_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _client(tmp_path, monkeypatch, None) as client:
        admin = _login(client)
        auth = {"Authorization": f"Bearer {admin}"}
        r = client.post(
            "/api/v1/users",
            json={"username": "bob", "password": "correct horse battery staple", "role": "user"},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        ds = _upload(client, admin, tmp_path)
        executor = client.app.state.jobs_executor
        monkeypatch.setattr(executor, "submit", lambda job_id, queue="default", kind=None: None)
        job_id = client.post("/api/v1/jobs", json={"kind": "denoise", "dataset_id": ds}, headers=auth).json()[
            "id"
        ]
        with client.websocket_connect("/api/v1/ws") as ws:
            _ws_auth(ws, _login(client, "bob"))
            ws.send_json({"type": "subscribe", "job_ids": [job_id]})
            assert ws.receive_json() == {"type": "subscribed", "jobs": [], "denied": [job_id]}


@pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_websocket_relays_events_a_worker_publishes_on_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promethium.worker.events import CHANNEL, RedisBus, RedisPublisher

    channel = f"{CHANNEL}:test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr("promethium.worker.events.CHANNEL", channel)
    monkeypatch.setattr(RedisBus.__init__, "__defaults__", (channel,))
    monkeypatch.setattr(RedisPublisher.__init__, "__defaults__", (channel,))
    with _client(tmp_path, monkeypatch, "redis://127.0.0.1:6379/15") as client:
        token = _login(client)
        auth = {"Authorization": f"Bearer {token}"}
        sent: list[uuid.UUID] = []
        monkeypatch.setattr(
            client.app.state.jobs_executor, "submit", lambda j, q="default", k=None: sent.append(j)
        )
        ds = _upload(client, token, tmp_path, held=sent)
        job_id = client.post("/api/v1/jobs", json={"kind": "denoise", "dataset_id": ds}, headers=auth).json()[
            "id"
        ]
        bus = client.app.state.jobs_runtime.bus
        assert isinstance(bus, RedisBus)
        assert bus.ready.wait(10)
        with client.websocket_connect("/api/v1/ws") as ws:
            _ws_auth(ws, token)
            ws.send_json({"type": "subscribe", "job_ids": [job_id]})
            assert ws.receive_json()["type"] == "subscribed"
            worker = RedisPublisher("redis://127.0.0.1:6379/15")  # what a worker process does
            worker(uuid.UUID(job_id), {"type": "progress", "progress": 0.25, "message": "chunk 1"})
            worker(uuid.UUID(str(uuid.uuid4())), {"type": "progress", "progress": 0.5, "message": "not mine"})
            worker(uuid.UUID(job_id), {"type": "status", "status": "succeeded", "message": "done"})
            got = [ws.receive_json(), ws.receive_json()]
        assert [(e["type"], e.get("progress"), e.get("status")) for e in got] == [
            ("progress", 0.25, None),
            ("status", None, "succeeded"),
        ]
        assert json.dumps(got)  # plain JSON
