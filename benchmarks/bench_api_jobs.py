"""50 concurrent clients listing and reading jobs against the real server over HTTP on PostgreSQL.

Starts ``uvicorn --factory promethium.api:create_app`` on loopback with a fresh PostgreSQL schema of the
local ``test`` database (dropped afterwards), inserts ``--jobs`` finished jobs, then each of ``--clients``
httpx async clients alternates ``GET /jobs?per_page=20`` and ``GET /jobs/{id}`` for ``--seconds``.

    PYTHONPATH=src python benchmarks/bench_api_jobs.py --clients 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter

import httpx
import numpy as np
import psycopg

PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PASSWORD = "benchmark password 1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def client(
    base: str, token: str, ids: list[str], stop: float, lat: list[float], errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        i = 0
        while time.perf_counter() < stop:
            url = "/api/v1/jobs?per_page=20" if i % 2 == 0 else f"/api/v1/jobs/{random.choice(ids)}"
            t0 = time.perf_counter()
            try:
                r = await c.get(url)
                if r.status_code != 200:
                    errors.append(str(r.status_code))
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            lat.append(time.perf_counter() - t0)
            i += 1


async def run(
    base: str, ids: list[str], clients: int, seconds: float
) -> tuple[list[float], list[str], float]:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/v1/auth/login", data={"username": "bench-admin", "password": PASSWORD})
        r.raise_for_status()
        token = r.json()["access_token"]
    lat: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    stop = t0 + seconds
    await asyncio.gather(*(client(base, token, ids, stop, lat, errors) for _ in range(clients)))
    return lat, errors, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--jobs", type=int, default=500)
    args = p.parse_args()
    schema = f"pm_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench_api_")
    env = {
        **os.environ,
        "PROMETHIUM_DATA_DIR": data,
        "PROMETHIUM_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
        "PROMETHIUM_ADMIN_USERNAME": "bench-admin",
        "PROMETHIUM_ADMIN_PASSWORD": PASSWORD,
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "promethium.api:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/v1/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with psycopg.connect(PG, autocommit=True, options=f"-csearch_path={schema}") as conn:
            owner = conn.execute("SELECT id FROM users WHERE username = 'bench-admin'").fetchone()[0]
            ids = [str(uuid.uuid4()) for _ in range(args.jobs)]
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO jobs (id, owner_id, kind, status, params, progress, created_at)"
                    " VALUES (%s, %s, 'custom', 'succeeded', '{}', 1.0, now())",
                    [(i, owner) for i in ids],
                )
        lat, errors, wall = asyncio.run(run(base, ids, args.clients, args.seconds))
        ms = np.array(lat) * 1000
        print(
            f"{args.clients} clients, {len(lat)} requests in {wall:.1f} s ({len(lat) / wall:.0f} req/s): "
            f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
            f"p99 {np.percentile(ms, 99):.1f} ms, errors {len(errors)} {dict(Counter(errors))}"
        )
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
