"""Jobs: the state machine in the database, the /jobs routes and the embedded executor running real
pipelines on an uploaded SEG-Y."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from conftest import Api
from promethium.api.models import Job
from promethium.api.repositories_jobs import JobRepository, JobStore
from promethium.api.schemas import Role
from promethium.api.storage import result_key

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

JOBS = "/api/v1/jobs"


@pytest.fixture(scope="module")
def damaged_segy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from promethium import io as pio
    from promethium.synthetic import damage, make_survey

    survey = make_survey("2d", n_traces=48, n_samples=150, seed=3)
    damaged, _ = damage(survey, 0.2, 0.05, seed=3)
    path = tmp_path_factory.mktemp("jobs") / "damaged.sgy"
    pio.write(damaged, path)
    return path


async def _upload(api: Api, path: Path, role: Role = Role.user) -> str:
    return str((await api.upload(path, role))["id"])


async def _submit(api: Api, body: dict[str, Any], role: Role = Role.user) -> httpx.Response:
    return await api.client.post(JOBS, json=body, headers=api.headers[role])


async def _wait(api: Api, job_id: str, statuses: set[str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = await api.client.get(f"{JOBS}/{job_id}", headers=api.headers[Role.admin])
        assert r.status_code == 200, r.text
        if r.json()["status"] in statuses:
            return dict(r.json())
        assert time.monotonic() < deadline, r.json()
        await asyncio.sleep(0.1)


# ---------------------------------------------------------------------------------- state machine
async def test_state_machine_transitions_are_conditional_and_idempotent(api: Api, backend: str) -> None:
    store = JobStore.from_url(api.ctx.settings.resolved_database_url())
    try:
        async with api.ctx.db.sessionmaker() as s:
            job = Job(owner_id=api.users[Role.user], kind="custom", params={})
            repo = JobRepository(s)
            repo.add(job)
            await s.commit()
            assert not await repo.transition(job.id, "succeeded")  # queued -> succeeded: not allowed
            await s.commit()
        assert store.transition(job.id, "running")
        assert not store.transition(job.id, "running")  # a second start changes nothing
        assert store.progress(job.id, 0.5, "half", {"step": "x"})
        assert store.transition(job.id, "cancelled", "stop")
        assert not store.transition(job.id, "cancelled")  # idempotent
        assert not store.transition(job.id, "failed", error="late")  # terminal stays terminal
        assert not store.progress(job.id, 0.9, "late", {})
        async with api.ctx.db.sessionmaker() as s:
            repo = JobRepository(s)
            row = await repo.get(job.id, None)
            assert row is not None
            assert (row.status, row.progress, row.error) == ("cancelled", 0.5, None)
            assert row.started_at is not None
            assert row.finished_at is not None
            events, total = await repo.events(job.id, offset=0, limit=50)
            assert [(e.kind, e.data.get("status")) for e in events] == [
                ("status", "running"),
                ("progress", None),
                ("status", "cancelled"),
            ]
            assert total == 3
    finally:
        store.dispose()


# --------------------------------------------------------------------------------------- the API
async def test_reconstruct_job_runs_to_success(api: Api, damaged_segy: Path) -> None:
    ds = await _upload(api, damaged_segy)
    r = await _submit(
        api, {"kind": "reconstruct", "dataset_id": ds, "params": {"reconstruct.method": "pocs"}}
    )
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] in ("queued", "running", "succeeded")
    assert job["pipeline"] == "reconstruct-classical"
    done = await _wait(api, job["id"], {"succeeded", "failed", "cancelled"})
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0
    assert done["run_seconds"] is not None
    assert done["metrics"]["n_traces"] > 0

    r = await api.client.get(f"{JOBS}/{job['id']}/results", headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["output_key"] == result_key(job["id"], "output.zarr")
    assert len(res["results"]) == 1
    storage = api.ctx.storage
    assert storage.exists(res["output_key"] + "/zarr.json")
    meta = json.loads(storage.get_bytes(res["metadata_key"]))
    assert meta["status"] == "succeeded"
    assert meta["steps"][0]["name"] == "reconstruct"

    from promethium import io as pio

    with pio.open(storage.url(res["output_key"])) as out:
        data = out.read()
    assert data.values.shape[-1] == 150

    r = await api.client.get(f"{JOBS}/{job['id']}/logs", headers=api.headers[Role.user])
    events = r.json()["items"]
    statuses = [e["data"]["status"] for e in events if e["kind"] == "status"]
    assert statuses == ["queued", "running", "succeeded"]
    assert any(e["kind"] == "progress" for e in events)
    assert any(e["kind"] == "log" for e in events)
    # since: only what came after
    r = await api.client.get(
        f"{JOBS}/{job['id']}/logs",
        params={"since": events[1]["created_at"], "per_page": 2},
        headers=api.headers[Role.user],
    )
    body = r.json()
    assert body["total"] == len(events) - 2
    assert [e["id"] for e in body["items"]] == [e["id"] for e in events[2:4]]

    # list and filters, ownership
    # (the upload's ingest job is the other succeeded job)
    r = await api.client.get(JOBS, params={"status": "succeeded"}, headers=api.headers[Role.user])
    assert r.json()["total"] == 2
    assert [j["kind"] for j in r.json()["items"]] == ["reconstruct", "ingest"]
    assert r.json()["items"][0]["id"] == job["id"]
    r = await api.client.get(JOBS, params={"kind": "denoise"}, headers=api.headers[Role.user])
    assert r.json()["total"] == 0
    r = await api.client.get(JOBS, params={"kind": "ingest"}, headers=api.headers[Role.user])
    assert r.json()["total"] == 1
    r = await api.client.get(JOBS, headers=api.headers[Role.admin])
    assert r.json()["total"] == 2
    assert (await api.client.get(JOBS, headers=api.headers[Role.viewer])).json()["total"] == 0
    r = await api.client.get(f"{JOBS}/{job['id']}", headers=api.headers[Role.viewer])
    assert r.status_code == 404
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=api.headers[Role.user])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"


async def test_invalid_pipelines_are_rejected_before_queueing(api: Api, damaged_segy: Path) -> None:
    ds = await _upload(api, damaged_segy)
    r = await _submit(
        api, {"kind": "reconstruct", "dataset_id": ds, "params": {"reconstruct.method": "nope"}}
    )
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert err["details"]["step"] == "reconstruct"
    assert err["details"]["parameter"].startswith("steps.reconstruct")
    spec = {"name": "x", "steps": [{"name": "bp", "op": "filter", "params": {"low": "loud"}}]}
    r = await _submit(api, {"kind": "custom", "dataset_id": ds, "pipeline": spec})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["step"] == "bp"
    for body in (
        {"kind": "custom", "dataset_id": ds},  # no default pipeline
        {"kind": "denoise", "dataset_id": ds, "pipeline": "/etc/passwd.yaml"},  # presets only
        {"kind": "denoise", "dataset_id": ds, "params": {"output": "/tmp/x.zarr"}},
        {"kind": "custom", "dataset_id": ds, "pipeline": {"input": "/etc/x.sgy", "steps": [{"op": "agc"}]}},
        {"kind": "custom", "dataset_id": ds, "pipeline": {"steps": [{"op": "write", "params": {}}]}},
        {"kind": "bogus", "dataset_id": ds},
    ):
        r = await _submit(api, body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = await _submit(api, {"kind": "denoise", "dataset_id": str(uuid.uuid4())})
    assert r.status_code == 404
    # another user's dataset is not found either
    r = await _submit(api, {"kind": "denoise", "dataset_id": ds}, role=Role.admin)
    assert r.status_code == 201  # admins see every dataset
    other = await api.create_user("someone")
    r = await api.client.post(
        JOBS, json={"kind": "denoise", "dataset_id": ds}, headers=await api.token_headers("someone")
    )
    assert r.status_code == 404, other
    r = await api.client.get(JOBS, headers=api.headers[Role.user])
    assert [j["kind"] for j in r.json()["items"]] == ["ingest"]  # nothing else was queued for the user


async def test_failing_job_fails_with_its_message_and_others_succeed(api: Api, damaged_segy: Path) -> None:
    ds = await _upload(api, damaged_segy)
    # a band above Nyquist (125 Hz at 4 ms) is only detectable against the data: the job fails
    bad = await _submit(
        api, {"kind": "preprocess", "dataset_id": ds, "params": {"bandpass.low": 300, "bandpass.high": 400}}
    )
    good = await _submit(api, {"kind": "denoise", "dataset_id": ds})
    assert bad.status_code == 201, bad.text
    assert good.status_code == 201, good.text
    failed = await _wait(api, bad.json()["id"], {"succeeded", "failed", "cancelled"})
    assert failed["status"] == "failed"
    assert "bandpass" in failed["error"]
    assert not api.ctx.storage.list(result_key(failed["id"]))
    ok = await _wait(api, good.json()["id"], {"succeeded", "failed", "cancelled"})
    assert ok["status"] == "succeeded", ok
    r = await api.client.get(f"{JOBS}/{failed['id']}/results", headers=api.headers[Role.user])
    assert r.status_code == 409
    r = await api.client.get(
        f"{JOBS}/{failed['id']}/logs", params={"kind": "status"}, headers=api.headers[Role.user]
    )
    assert r.json()["items"][-1]["message"] == failed["error"]


async def test_cancel_a_running_job(api: Api, damaged_segy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promethium.worker import runner

    def slow(pipeline: dict[str, Any], input: str, output: str, progress: Any, cancel: Any) -> dict[str, Any]:
        Path(output).mkdir(parents=True)
        (Path(output) / "partial").write_bytes(b"x")
        from promethium.workflows import ProgressEvent

        for i in range(600):
            progress(ProgressEvent(i / 1000, "slow", f"tick {i}"))
            cancel.check("slow")
            time.sleep(0.05)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(runner, "execute_pipeline", slow)
    ds = await _upload(api, damaged_segy)
    job = (await _submit(api, {"kind": "denoise", "dataset_id": ds})).json()
    await _wait(api, job["id"], {"running"}, timeout=10)
    key = result_key(job["id"], "output.zarr", "partial")
    deadline = time.monotonic() + 10
    while not api.ctx.storage.exists(key):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    t0 = time.monotonic()
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    # the worker notices and removes its partial output
    while api.ctx.storage.list(result_key(job["id"])):
        assert time.monotonic() - t0 < 5
        await asyncio.sleep(0.05)
    again = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=api.headers[Role.user])
    assert again.status_code == 200  # idempotent
    done = await _wait(api, job["id"], {"cancelled"})
    assert done["finished_at"] is not None
    r = await api.client.get(
        f"{JOBS}/{job['id']}/logs", params={"kind": "status"}, headers=api.headers[Role.user]
    )
    assert [e["data"]["status"] for e in r.json()["items"]] == ["queued", "running", "cancelled"]


async def test_cancel_a_queued_job(api: Api, damaged_segy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = await _upload(api, damaged_segy)
    executor = api.app.state.jobs_executor
    monkeypatch.setattr(executor, "submit", lambda job_id, queue="default", kind=None: None)  # stays queued
    job = (await _submit(api, {"kind": "denoise", "dataset_id": ds})).json()
    assert job["status"] == "queued"
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=api.headers[Role.admin])
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    from promethium.worker import run_job

    store = JobStore.from_url(api.ctx.settings.resolved_database_url())
    try:  # a late delivery of the job does nothing
        assert run_job(uuid.UUID(job["id"]), store, api.ctx.storage) == "cancelled"
    finally:
        store.dispose()


async def test_with_a_broker_url_jobs_go_to_celery(
    make_settings: Any, damaged_segy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("celery")
    from conftest import start_api
    from promethium.api.repositories_jobs import JobStore
    from promethium.worker.executor import CeleryExecutor
    from promethium.worker.runner import run_job

    sent: list[tuple[uuid.UUID, str]] = []
    monkeypatch.setenv("PROMETHIUM_BROKER_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setattr(
        CeleryExecutor,
        "submit",
        lambda self, job_id, queue="default", kind=None: sent.append((job_id, queue)),
    )
    async for a in start_api(make_settings()):
        await a.add_role_users()
        assert isinstance(a.app.state.jobs_executor, CeleryExecutor)
        up = await a.upload(damaged_segy, ready=False)
        ingest = uuid.UUID(up["ingest_job_id"])
        assert sent == [(ingest, "io")]  # ingestion goes to the io queue
        sent.clear()
        # no worker here: the shared runner does what the worker would
        store = JobStore.from_url(a.ctx.settings.resolved_database_url())
        try:
            assert await anyio.to_thread.run_sync(run_job, ingest, store, a.ctx.storage) == "succeeded"
        finally:
            store.dispose()
        ds = (await a.wait_dataset(up["id"]))["id"]
        r = await _submit(a, {"kind": "denoise", "dataset_id": ds, "queue": "gpu"})
        assert r.status_code == 201, r.text
        assert sent == [(uuid.UUID(r.json()["id"]), "gpu")]
        assert r.json()["status"] == "queued"


async def test_job_pages_count_in_one_query_and_past_the_end(api: Api, backend: str) -> None:
    """The page query carries the total (a window count); a page past the end still reports it."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    async with api.ctx.db.sessionmaker() as s:
        repo = JobRepository(s)
        for i in range(7):
            status = "succeeded" if i % 2 else "failed"
            repo.add(
                Job(
                    owner_id=api.users[Role.user],
                    kind="custom",
                    status=status,
                    params={},
                    created_at=now - timedelta(minutes=i),
                )
            )
        repo.add(Job(owner_id=api.users[Role.admin], kind="custom", params={}, created_at=now))
        await s.commit()
        items, total = await repo.page(owner_id=api.users[Role.user], offset=0, limit=3)
        assert total == 7
        assert [j.created_at for j in items] == sorted((j.created_at for j in items), reverse=True)
        assert len(items) == 3
        items, total = await repo.page(owner_id=api.users[Role.user], offset=6, limit=3)
        assert (len(items), total) == (1, 7)
        items, total = await repo.page(owner_id=api.users[Role.user], offset=9, limit=3)
        assert (list(items), total) == ([], 7)
        items, total = await repo.page(owner_id=api.users[Role.user], offset=0, limit=10, status="succeeded")
        assert (len(items), total) == (3, 3)
        items, total = await repo.page(owner_id=None, offset=0, limit=100)
        assert (len(items), total) == (8, 8)
        items, total = await repo.page(owner_id=api.users[Role.viewer], offset=0, limit=10)
        assert (list(items), total) == ([], 0)
    r = await api.client.get(JOBS, params={"page": 5, "per_page": 2}, headers=api.headers[Role.user])
    assert (r.json()["items"], r.json()["total"]) == ([], 7)
