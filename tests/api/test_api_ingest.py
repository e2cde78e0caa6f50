"""Ingestion as a job (embedded executor): the upload answers ``ingesting`` with its ingest job; reads of
a dataset that is not ready are CONFLICT; a failed ingestion keeps the raw file and records its error,
and can be run again; deleting a dataset cancels its ingestion; export jobs write a file under
``results/{job_id}/output/``."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from conftest import Api
from promethium import io as pio
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio
USER = Role.user
JOBS = "/api/v1/jobs"


async def _wait_job(api: Api, job_id: str, role: Role = USER) -> dict[str, Any]:
    with anyio.fail_after(60):
        while True:
            job = (await api.client.get(f"{JOBS}/{job_id}", headers=api.headers[role])).json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return dict(job)
            await anyio.sleep(0.05)


def _hold(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[list[uuid.UUID], Any]:
    """Jobs submitted from now on wait in the returned list; the second item runs one."""
    executor = api.app.state.jobs_executor
    held: list[uuid.UUID] = []
    real = executor.submit
    monkeypatch.setattr(executor, "submit", lambda job_id, queue="default", kind=None: held.append(job_id))
    return held, real


async def test_the_ingest_job_reports_progress_and_events(api: Api, seismic_files: dict[str, Path]) -> None:
    ds = await api.upload(seismic_files["line"])
    h = api.headers[USER]
    job = await _wait_job(api, ds["ingest_job_id"])
    assert job["kind"] == "ingest"
    assert job["status"] == "succeeded"
    assert job["progress"] == 1.0
    assert job["dataset_id"] == ds["id"]
    assert job["metrics"]["traces"] == 24
    events = (await api.client.get(f"{JOBS}/{job['id']}/logs?per_page=200", headers=h)).json()["items"]
    statuses = [e["data"]["status"] for e in events if e["kind"] == "status"]
    assert statuses == ["queued", "running", "succeeded"]
    steps = {e["data"].get("step") for e in events if e["kind"] == "progress"}
    assert steps == {"ingest"}
    assert any(e["kind"] == "log" and "ingesting" in e["message"] for e in events)
    # an ingest job has no result row: its output is the dataset
    r = await api.client.get(f"{JOBS}/{job['id']}/results", headers=h)
    assert r.status_code == 200
    assert r.json()["results"] == []


async def test_reads_of_a_dataset_not_ready_are_conflicts(
    api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    held, run = _hold(api, monkeypatch)
    ds = await api.upload(seismic_files["line"], ready=False)
    assert held == [uuid.UUID(ds["ingest_job_id"])]
    h = api.headers[USER]
    did = ds["id"]
    for suffix in ("/traces", "/preview", "/export?format=segy"):
        r = await api.client.get(f"/api/v1/datasets/{did}{suffix}", headers=h)
        assert r.status_code == 409, (suffix, r.text)
        err = r.json()["error"]
        assert err["code"] == "CONFLICT"
        assert err["details"]["status"] == "ingesting"
        assert err["details"]["ingest_job_id"] == ds["ingest_job_id"]
    r = await api.client.post(JOBS, json={"kind": "denoise", "dataset_id": did}, headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"
    r = await api.client.post(JOBS, json={"kind": "ingest", "dataset_id": did}, headers=h)
    assert r.status_code == 409  # already being ingested
    # the raw file is there already
    r = await api.client.get(f"/api/v1/datasets/{did}/download", headers=h)
    assert r.content == seismic_files["line"].read_bytes()
    run(held.pop())
    assert (await api.wait_dataset(did))["status"] == "ready"
    assert (await api.client.get(f"/api/v1/datasets/{did}/traces", headers=h)).status_code == 200


async def test_a_failed_ingestion_keeps_the_raw_file_records_the_error_and_can_run_again(
    backend: str, api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    held, run = _hold(api, monkeypatch)
    ds = await api.upload(seismic_files["line"], ready=False)
    did = ds["id"]
    storage = api.ctx.storage
    raw_key = f"datasets/{did}/raw/line.sgy"
    good = storage.get_bytes(raw_key)
    storage.put_bytes(raw_key, good[:3000])  # damaged after the upload's checks
    run(held.pop())
    failed = await api.wait_dataset(did)
    assert failed["status"] == "failed"
    assert failed["error"]
    job = await _wait_job(api, ds["ingest_job_id"])
    assert job["status"] == "failed"
    assert job["error"] == failed["error"]
    assert storage.list(f"datasets/{did}") == [raw_key]  # the raw file only: nothing half-written
    h = api.headers[USER]
    r = await api.client.get(f"/api/v1/datasets/{did}/traces", headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["details"]["error"] == failed["error"]
    # bad parameters of an ingest job
    for params in ({"bogus": 1}, {"input_format": 3}):
        r = await api.client.post(
            JOBS, json={"kind": "ingest", "dataset_id": did, "params": params}, headers=h
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["parameter"].startswith("params.")
    # the file repaired, the ingestion runs again
    storage.put_bytes(raw_key, good)
    r = await api.client.post(JOBS, json={"kind": "ingest", "dataset_id": did}, headers=h)
    assert r.status_code == 201, r.text
    again = r.json()
    assert (again["kind"], again["status"]) == ("ingest", "queued")
    got = (await api.client.get(f"/api/v1/datasets/{did}", headers=h)).json()
    assert (got["status"], got["ingest_job_id"], got["error"]) == ("ingesting", again["id"], None)
    assert held == [uuid.UUID(again["id"])]
    run(held.pop())
    ready = await api.wait_dataset(did)
    assert ready["status"] == "ready"
    assert ready["metadata"]["traces"] == 24


async def test_deleting_a_dataset_being_ingested_cancels_its_job(
    backend: str, api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    held, run = _hold(api, monkeypatch)
    ds = await api.upload(seismic_files["line"], ready=False)
    h = api.headers[USER]
    assert (await api.client.delete(f"/api/v1/datasets/{ds['id']}", headers=h)).status_code == 204
    job = (await api.client.get(f"{JOBS}/{ds['ingest_job_id']}", headers=h)).json()
    assert job["status"] == "cancelled"
    run(held.pop())  # a late delivery finds the job cancelled and does nothing
    await anyio.sleep(0.3)
    assert (await api.client.get(f"{JOBS}/{ds['ingest_job_id']}", headers=h)).json()["status"] == "cancelled"
    assert api.ctx.storage.list("datasets") == []


async def test_export_jobs_write_the_format_under_the_results_of_the_job(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    ds = await api.upload(seismic_files["line"], name="my line")
    h = api.headers[USER]
    for params in ({"format": "xyz"}, {"bogus": True}, {"source_job_id": "nope"}):
        r = await api.client.post(
            JOBS, json={"kind": "export", "dataset_id": ds["id"], "params": params}, headers=h
        )
        assert r.status_code == 422, (params, r.text)
    r = await api.client.post(
        JOBS, json={"kind": "export", "dataset_id": ds["id"], "params": {"format": "npy"}}, headers=h
    )
    assert r.status_code == 201, r.text
    job = await _wait_job(api, r.json()["id"])
    assert job["status"] == "succeeded", job
    key = f"results/{job['id']}/output/my_line.npy"
    assert api.ctx.storage.exists(key)
    assert api.ctx.storage.exists(f"results/{job['id']}/metadata.json")
    r = await api.client.get(f"/api/v1/results/{job['id']}/download", headers=h)
    assert r.status_code == 200
    assert 'filename="my_line.npy"' in r.headers["content-disposition"]
    got = np.load(io.BytesIO(r.content))
    np.testing.assert_array_equal(got, pio.read(seismic_files["line"]).values.astype(np.float32))
    r = await api.client.get(f"/api/v1/results/{job['id']}/download?format=segy", headers=h)
    assert r.status_code == 422  # it wrote npy
    results = (await api.client.get(f"{JOBS}/{job['id']}/results", headers=h)).json()
    assert len(results["results"]) == 1
    assert results["output_key"] == key


async def test_evaluate_jobs_score_methods_on_the_dataset(api: Api, seismic_files: dict[str, Path]) -> None:
    ds = await api.upload(seismic_files["line"])
    h = api.headers[USER]
    bad = {"kind": "evaluate", "dataset_id": ds["id"], "params": {"compare.methods": "nope"}}
    assert (await api.client.post(JOBS, json=bad, headers=h)).status_code == 422
    body = {"kind": "evaluate", "dataset_id": ds["id"], "params": {"compare.methods": ["linear"]}}
    r = await api.client.post(JOBS, json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["pipeline"] == "compare-methods"
    job = await _wait_job(api, r.json()["id"])
    assert job["status"] == "succeeded", job
    scores = job["metrics"]["results"]["compare"]
    assert [m["method"] for m in scores["results"]] == ["linear"], scores
    assert scores["best"] == "linear"
    assert scores["n_hidden"] == 12
    assert scores["results"][0]["snr_missing_db"] is not None


TINY = {
    "model": "unet",
    "model_args": {"base_channels": 4},
    "steps": 4,
    "batch_size": 2,
    "patch": [8, 16],
    "val_every": 2,
    "val_batches": 1,
    "device": "cpu",
}


async def test_train_jobs_train_on_the_dataset_and_register_the_model(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    ds = await api.upload(seismic_files["line"])
    h = api.headers[USER]
    for params in (
        {"config": {**TINY, "output_dir": "/tmp/x"}},
        {"config": {**TINY, "data": {"source": "/etc/passwd"}}},
        {"config": {**TINY, "steps": 0}},
        {"config": TINY, "bogus": 1},
    ):
        r = await api.client.post(
            JOBS, json={"kind": "train", "dataset_id": ds["id"], "params": params}, headers=h
        )
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["details"]["parameter"].startswith("params."), r.text
    body = {"kind": "train", "dataset_id": ds["id"], "params": {"name": "tiny", "config": TINY}}
    r = await api.client.post(JOBS, json=body, headers=h)
    assert r.status_code == 201, r.text
    job = await _wait_job(api, r.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["metrics"]["steps"] == 4
    res = (await api.client.get(f"{JOBS}/{job['id']}/results", headers=h)).json()
    assert len(res["results"]) == 1
    assert res["output_key"] == f"results/{job['id']}/output/model.pt"
    storage = api.ctx.storage
    assert {"model.pt", "model.json", "metrics.json"} <= {
        k.rsplit("/", 1)[1] for k in storage.list(f"results/{job['id']}/output")
    }
    models = (await api.client.get("/api/v1/models", headers=h)).json()["items"]
    mine = [m for m in models if m["name"] == "tiny"]
    assert len(mine) == 1
    assert mine[0]["architecture"] == "unet"
    assert mine[0]["n_parameters"] > 0
    assert storage.exists(f"models/{mine[0]['id']}/weights.pt")
    steps = [
        e for e in (await api.client.get(f"{JOBS}/{job['id']}/logs?kind=progress", headers=h)).json()["items"]
    ]
    assert {e["data"]["step"] for e in steps} == {"train"}


async def test_an_ingestion_that_cannot_be_queued_fails_the_dataset_and_keeps_the_file(
    api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    executor = api.app.state.jobs_executor
    real = executor.submit

    def down(job_id: uuid.UUID, queue: str = "default", kind: str | None = None) -> None:
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(executor, "submit", down)
    h = api.headers[USER]
    with seismic_files["line"].open("rb") as f:
        r = await api.client.post("/api/v1/datasets", files={"file": ("line.sgy", f)}, headers=h)
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["status"] == "failed"
    assert ds["error"] == "the job could not be queued: the broker is down"
    job = (await api.client.get(f"{JOBS}/{ds['ingest_job_id']}", headers=h)).json()
    assert (job["status"], job["error"]) == ("failed", ds["error"])
    assert api.ctx.storage.list(f"datasets/{ds['id']}") == [f"datasets/{ds['id']}/raw/line.sgy"]
    monkeypatch.setattr(executor, "submit", real)  # the broker is back: ingest again
    r = await api.client.post(JOBS, json={"kind": "ingest", "dataset_id": ds["id"]}, headers=h)
    assert r.status_code == 201, r.text
    assert (await api.wait_dataset(ds["id"]))["status"] == "ready"


async def test_an_ingest_job_the_reaper_gives_up_on_fails_its_dataset(
    api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from promethium.api.models import Job, utcnow
    from promethium.api.repositories_jobs import JobStore

    held, _ = _hold(api, monkeypatch)
    ds = await api.upload(seismic_files["line"], ready=False)
    store = JobStore.from_url(api.ctx.settings.resolved_database_url())
    try:
        job_id = held.pop()
        assert store.transition(job_id, "running")  # a worker took it, then vanished
        with store.sessions() as s, s.begin():
            s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(hours=1)))
        assert [r.action for r in store.reap(60, max_attempts=1)] == ["failed"]
    finally:
        store.dispose()
    got = (await api.client.get(f"/api/v1/datasets/{ds['id']}", headers=api.headers[USER])).json()
    assert got["status"] == "failed"
    assert "the worker vanished" in got["error"]


@pytest.mark.usefixtures("backend")
async def test_re_ingest_is_refused_while_jobs_use_the_dataset_and_drops_open_handles(
    api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    ds = await api.upload(seismic_files["line"])
    did, h = ds["id"], api.headers[USER]
    r = await api.client.get(f"/api/v1/datasets/{did}/traces", params={"format": "json"}, headers=h)
    assert r.status_code == 200, r.text
    assert len(api.ctx.handles) == 1  # an open reader of processed/
    held, run = _hold(api, monkeypatch)
    r = await api.client.post(JOBS, json={"kind": "denoise", "dataset_id": did}, headers=h)
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    r = await api.client.post(JOBS, json={"kind": "ingest", "dataset_id": did}, headers=h)
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "CONFLICT"
    assert err["details"]["active_job_ids"] == [job_id]
    got = (await api.client.get(f"/api/v1/datasets/{did}", headers=h)).json()
    assert got["status"] == "ready"
    assert got["ingest_job_id"] == ds["ingest_job_id"]  # untouched
    assert len(api.ctx.handles) == 1
    r = await api.client.post(f"{JOBS}/{job_id}/cancel", headers=h)
    assert r.status_code == 200, r.text
    # no job left: several re-ingests at once, exactly one starts
    replies = [None] * 4

    async def reingest(i: int) -> None:
        replies[i] = await api.client.post(JOBS, json={"kind": "ingest", "dataset_id": did}, headers=h)

    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(reingest, i)
    codes = sorted(r.status_code for r in replies)  # type: ignore[union-attr]
    assert codes == [201, 409, 409, 409], [r.text for r in replies]  # type: ignore[union-attr]
    assert len(api.ctx.handles) == 0  # the stale handle was dropped
    for j in list(held):
        run(j)
    assert (await api.wait_dataset(did))["status"] == "ready"
    r = await api.client.get(f"/api/v1/datasets/{did}/traces", params={"format": "json"}, headers=h)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_job_and_a_re_ingest_racing_never_both_start(
    api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    import asyncio

    ds = await api.upload(seismic_files["line"])
    did, h = ds["id"], api.headers[USER]
    held, _ = _hold(api, monkeypatch)  # nothing runs: every job created stays queued
    for _ in range(5):
        job, ingest = await asyncio.gather(
            api.client.post(JOBS, json={"kind": "denoise", "dataset_id": did}, headers=h),
            api.client.post(JOBS, json={"kind": "ingest", "dataset_id": did}, headers=h),
        )
        assert sorted([job.status_code, ingest.status_code]) == [201, 409], (job.text, ingest.text)
        # put the dataset back to ready with no active job for the next round
        for r in (job, ingest):
            if r.status_code == 201:
                assert (
                    await api.client.post(f"{JOBS}/{r.json()['id']}/cancel", headers=h)
                ).status_code == 200
        from sqlalchemy import update

        from promethium.api.models import Dataset

        async with api.ctx.db.sessionmaker() as s:
            await s.execute(
                update(Dataset).where(Dataset.id == __import__("uuid").UUID(did)).values(status="ready")
            )
            await s.commit()
    assert held
