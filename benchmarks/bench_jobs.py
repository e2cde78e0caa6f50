"""Jobs through the API on Celery workers (issue 7): a redis-server of its own on a free loopback port,
PostgreSQL (a fresh schema of the ``test`` database), the local storage, real worker processes
(``promethium worker -P solo``, one process each).

1. **throughput**: ``--jobs`` (500) small jobs (the ``bandpass-and-agc`` preset on a 16 x 64 line) submitted
   concurrently through ``POST /api/v1/jobs`` (httpx over ASGI, one app), with 1, 2 and 4 worker
   processes; all must succeed, each with exactly one result row and one ``succeeded`` event.
2. **scheduling overhead**: one job at a time on one idle worker; the overhead is ``started_at -
   created_at`` (API commit -> Redis -> worker picks it up and marks it running) plus ``finished_at``
   -> the worker's next pickup is not counted. Median and p90 of ``--overhead-jobs`` (50).
3. **reconstruct curve**: ``--recon-jobs`` (8) POCS reconstruct jobs (240 x 400 line) with 1, 2, 4
   workers: jobs/s (the 2 cores of this machine saturate at 2).

Usage: ``PYTHONPATH=src python benchmarks/bench_jobs.py [--jobs 500] [--workers 1,2,4]``. Prints
markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(n: int, env: dict[str, str], logdir: Path) -> list[subprocess.Popen[bytes]]:
    procs, logs = [], []
    for i in range(n):
        log = logdir / f"w{n}-{i}.log"
        with log.open("wb") as out:
            cmd = [
                sys.executable,
                "-m",
                "promethium",
                "worker",
                "-P",
                "solo",
                "-c",
                "1",
                "-Q",
                "default,gpu,io",
            ]
            procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env))
        logs.append(log)
    deadline = time.monotonic() + 120
    for log in logs:
        while "ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(log.read_text(errors="replace"))
            time.sleep(0.2)
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


async def _run(args: argparse.Namespace) -> None:
    import httpx
    import psycopg
    from sqlalchemy import func, select

    from promethium import io as pio
    from promethium.api import ApiSettings, create_app
    from promethium.api.models import Job, JobEvent, Result
    from promethium.api.repositories_jobs import JobStore
    from promethium.api.security import generate_private_key_pem
    from promethium.synthetic import damage, make_survey

    tmp = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    port = _free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    schema = f"pm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    broker = f"redis://127.0.0.1:{port}/0"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PROMETHIUM_DATA_DIR": str(tmp),
        "PROMETHIUM_DATABASE_URL": db_url,
        "PROMETHIUM_STORAGE_URL": str(tmp / "storage"),
        "PROMETHIUM_BROKER_URL": broker,
    }
    os.environ["PROMETHIUM_BROKER_URL"] = broker
    key = tmp / "jwt.pem"
    key.write_bytes(generate_private_key_pem())
    settings = ApiSettings(
        data_dir=tmp,
        database_url=db_url,
        storage_url=str(tmp / "storage"),
        jwt_private_key_file=key,
        admin_username="admin",
        admin_password=PASSWORD,  # type: ignore[arg-type]
        argon2_time_cost=1,
        argon2_memory_cost_kib=64,
        argon2_parallelism=1,
    )
    app = create_app(settings)
    store = JobStore.from_url(db_url)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b", timeout=120) as client:
                auth: dict[str, str] = {}

                async def login() -> None:  # again before each phase: a run outlasts an access token
                    r = await client.post(
                        "/api/v1/auth/login", data={"username": "admin", "password": PASSWORD}
                    )
                    auth["Authorization"] = f"Bearer {r.json()['access_token']}"

                await login()

                async def upload(n_traces: int, n_samples: int) -> str:
                    d, _ = damage(
                        make_survey("2d", n_traces=n_traces, n_samples=n_samples, seed=5), 0.3, 0.0, seed=5
                    )
                    path = tmp / f"d{n_traces}.sgy"
                    pio.write(d, path)
                    with path.open("rb") as f:
                        r = await client.post(
                            "/api/v1/datasets", files={"file": (path.name, f)}, headers=auth
                        )
                    assert r.status_code == 201, r.text
                    return str(r.json()["id"])

                async def ready(dataset_id: str) -> str:
                    """Wait for the dataset's ingest job (uploads are ingested asynchronously)."""
                    deadline = time.monotonic() + 300
                    while True:
                        r = await client.get(f"/api/v1/datasets/{dataset_id}", headers=auth)
                        status = r.json()["status"]
                        if status == "ready":
                            return dataset_id
                        if status == "failed" or time.monotonic() > deadline:
                            raise RuntimeError(f"ingestion of {dataset_id}: {r.text}")
                        await asyncio.sleep(0.1)

                uploaded = [await upload(16, 64), await upload(240, 400)]
                procs = _workers(1, env, tmp)  # ingests the uploads (io queue)
                try:
                    small, big = [await ready(d) for d in uploaded]
                finally:
                    _stop(procs)

                async def submit(body: dict[str, Any]) -> str:
                    r = await client.post("/api/v1/jobs", json=body, headers=auth)
                    assert r.status_code == 201, r.text
                    return str(r.json()["id"])

                def wait_all(ids: list[str], timeout: float) -> None:
                    uids = [uuid.UUID(i) for i in ids]
                    deadline = time.monotonic() + timeout
                    while True:
                        with store.sessions() as s:
                            rows = s.execute(select(Job.status).where(Job.id.in_(uids))).scalars().all()
                        if all(x in ("succeeded", "failed", "cancelled") for x in rows):
                            return
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{sum(x == 'succeeded' for x in rows)} of {len(ids)} done")
                        time.sleep(0.1)

                def check(ids: list[str]) -> tuple[int, int, int]:
                    uids = [uuid.UUID(i) for i in ids]
                    with store.sessions() as s:
                        ok = s.execute(
                            select(func.count())
                            .select_from(Job)
                            .where(Job.id.in_(uids), Job.status == "succeeded")
                        ).scalar_one()
                        results = s.execute(
                            select(func.count()).select_from(Result).where(Result.job_id.in_(uids))
                        ).scalar_one()
                        done_events = s.execute(
                            select(func.count())
                            .select_from(JobEvent)
                            .where(
                                JobEvent.job_id.in_(uids),
                                JobEvent.kind == "status",
                                JobEvent.message == "succeeded",
                            )
                        ).scalar_one()
                    return int(ok), int(results), int(done_events)

                counts = [int(x) for x in args.workers.split(",")]
                phases = set(args.phases.split(","))
                if "throughput" in phases:
                    print(
                        f"\n### {args.jobs} small jobs (preprocess: bandpass + agc, 16 x 64) "
                        "submitted concurrently through the API\n"
                    )
                    print(
                        "| workers | submit s | all done s | jobs/s | succeeded | results "
                        "| succeeded events |"
                    )
                    print("|---|---|---|---|---|---|---|")
                    for n in counts:
                        procs = _workers(n, env, tmp)
                        try:
                            t0 = time.perf_counter()
                            ids = await asyncio.gather(
                                *(
                                    submit({"kind": "preprocess", "dataset_id": small})
                                    for _ in range(args.jobs)
                                )
                            )
                            t_sub = time.perf_counter() - t0
                            await asyncio.to_thread(wait_all, ids, 1200)
                            wall = time.perf_counter() - t0
                            ok, res, ev = check(ids)
                            print(
                                f"| {n} | {t_sub:.1f} | {wall:.1f} | {args.jobs / wall:.1f} "
                                f"| {ok} | {res} | {ev} |"
                            )
                        finally:
                            _stop(procs)

                if "overhead" in phases:
                    await login()
                    procs = _workers(1, env, tmp)
                    try:
                        lat: list[float] = []
                        run: list[float] = []
                        for _ in range(args.overhead_jobs):
                            jid = await submit({"kind": "preprocess", "dataset_id": small})
                            await asyncio.to_thread(wait_all, [jid], 60)
                            with store.sessions() as s:
                                j = s.get(Job, uuid.UUID(jid))
                                assert j is not None
                                assert j.started_at is not None
                                assert j.finished_at is not None
                                lat.append((j.started_at - j.created_at).total_seconds() * 1000)
                                run.append((j.finished_at - j.started_at).total_seconds() * 1000)
                        lat.sort()
                        print(
                            f"\n### scheduling overhead, {args.overhead_jobs} jobs one at a time, "
                            "1 idle worker\n"
                        )
                        print("| created -> running median ms | p90 ms | run median ms |")
                        print("|---|---|---|")
                        p90 = lat[int(0.9 * (len(lat) - 1))]
                        print(f"| {statistics.median(lat):.1f} | {p90:.1f} | {statistics.median(run):.1f} |")
                    finally:
                        _stop(procs)

                if "recon" in phases:
                    await login()
                    print(
                        f"\n### {args.recon_jobs} reconstruct jobs (POCS, n_iter 40, 240 x 400) vs workers\n"
                    )
                    print("| workers | wall s | jobs/s | speed-up | succeeded |")
                    print("|---|---|---|---|---|")
                    base = None
                    for n in counts:
                        procs = _workers(n, env, tmp)
                        try:
                            body = {
                                "kind": "reconstruct",
                                "dataset_id": big,
                                "params": {"reconstruct.n_iter": 40},
                            }
                            t0 = time.perf_counter()
                            ids = await asyncio.gather(*(submit(body) for _ in range(args.recon_jobs)))
                            await asyncio.to_thread(wait_all, ids, 1200)
                            wall = time.perf_counter() - t0
                            base = base or wall
                            ok, _, _ = check(ids)
                            print(
                                f"| {n} | {wall:.1f} | {args.recon_jobs / wall:.2f} "
                                f"| {base / wall:.2f} | {ok} |"
                            )
                        finally:
                            _stop(procs)
    finally:
        store.dispose()
        redis.kill()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=500)
    p.add_argument("--workers", default="1,2,4")
    p.add_argument("--overhead-jobs", type=int, default=50)
    p.add_argument("--recon-jobs", type=int, default=8)
    p.add_argument("--phases", default="throughput,overhead,recon", help="which tables to measure")
    asyncio.run(_run(p.parse_args()))


if __name__ == "__main__":
    main()
