"""Concurrent clients listing and reading jobs against the real server over HTTP on PostgreSQL (issue 6).

Starts ``uvicorn --factory promethium.api:create_app`` (``--workers`` processes) on loopback with a fresh
PostgreSQL schema of the local ``test`` database (dropped afterwards), inserts ``--jobs`` finished jobs
owned by a plain user, logs that user in once, then runs ``--clients`` clients that alternate
``GET /jobs?per_page=20`` and ``GET /jobs/{id}`` (a random job) with the user's bearer token.

Client models (``--mode``):

* ``closed``: every client sends its next request as soon as the previous answer arrives (a stress test:
  the server is saturated and the latency is the queueing at that rate). The load generator is ``wrk``
  (C, one thread per core it is given; ``--loadgen httpx`` uses an asyncio httpx client instead), one
  keep-alive connection per client.
* ``paced``: every client sends one request every ``1/--rate`` seconds on a fixed schedule (open loop per
  client: a late answer does not delay the schedule), from an asyncio httpx client; latency is measured
  from the scheduled send time, so queueing in the client counts against the server too.

``--profile out.txt`` records the server with py-spy (``--profile-seconds``) while one client runs.

    PYTHONPATH=src python benchmarks/bench_api_jobs.py --mode closed --clients 50 --seconds 20
    PYTHONPATH=src python benchmarks/bench_api_jobs.py --mode paced --clients 50 --rate 2 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import psutil
import psycopg

PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PASSWORD = "benchmark password 1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _urls(ids: list[str]) -> list[str]:
    return [
        "/api/v1/jobs?per_page=20" if i % 2 == 0 else f"/api/v1/jobs/{ids[i % len(ids)]}" for i in range(1000)
    ]


async def closed_client(
    base: str, token: str, ids: list[str], stop: float, lat: list[float], errors: list[str]
) -> None:
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as c:
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


async def paced_client(
    base: str,
    token: str,
    ids: list[str],
    start: float,
    stop: float,
    period: float,
    lat: list[float],
    errors: list[str],
) -> None:
    """One client on a fixed schedule (aiohttp: far less client CPU per request than httpx)."""
    import aiohttp

    conn = aiohttp.TCPConnector(limit=4)
    async with aiohttp.ClientSession(base, headers={"Authorization": f"Bearer {token}"}, connector=conn) as c:
        i = 0
        due = start + random.random() * period  # clients start out of phase
        pending: set[asyncio.Task[None]] = set()

        async def one(url: str, scheduled: float) -> None:
            try:
                async with c.get(url, timeout=aiohttp.ClientTimeout(total=30)) as r:
                    await r.read()
                    if r.status != 200:
                        errors.append(str(r.status))
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(type(exc).__name__)
            lat.append(time.perf_counter() - scheduled)

        while due < stop:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            url = "/api/v1/jobs?per_page=20" if i % 2 == 0 else f"/api/v1/jobs/{random.choice(ids)}"
            t = asyncio.create_task(one(url, due))
            pending.add(t)
            t.add_done_callback(pending.discard)
            i += 1
            due += period
        if pending:
            await asyncio.gather(*pending)


async def login(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/v1/auth/login", data={"username": "bench-user", "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["access_token"])


def run_wrk(base: str, token: str, ids: list[str], clients: int, seconds: float, threads: int) -> dict:
    """wrk with a Lua script: the Authorization header, alternating list / get; latency percentiles."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
    paths = ",".join(f'"{u}"' for u in _urls(ids))
    script.write(
        f"""
local paths = {{{paths}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], {{["Authorization"] = "Bearer {token}"}})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("JSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50\\": %d, \\"p90\\": %d, "
    .. "\\"p99\\": %d, \\"p999\\": %d, \\"max\\": %d, \\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, "
    .. "\\"timeout\\": %d, \\"status\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.timeout,
    e.status))
end
"""
    )
    script.close()
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{clients}",
                f"-d{int(seconds)}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    m = re.search(r"^JSON (.*)$", out, re.M)
    assert m, out
    return dict(json.loads(m.group(1)))


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the server process and its workers so far."""
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def report_latencies(label: str, lat: list[float], errors: list[str], wall: float) -> None:
    ms = np.array(lat) * 1000
    print(
        f"{label}: {len(lat)} requests in {wall:.1f} s ({len(lat) / wall:.0f} req/s): "
        f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
        f"p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms, "
        f"errors {len(errors)} {dict(Counter(errors))}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["closed", "paced", "both"], default="both")
    p.add_argument("--loadgen", choices=["wrk", "httpx"], default="wrk", help="closed-loop generator")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rate", type=float, default=2.0, help="requests/s per client (paced)")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--jobs", type=int, default=500)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--env", action="append", default=[], help="extra KEY=VALUE for the server")
    p.add_argument("--server-src", type=Path, help="serve another source tree (a baseline checkout's src)")
    p.add_argument("--uvicorn-arg", action="append", default=[], help="extra uvicorn argument")
    p.add_argument("--profile", type=Path, help="py-spy record the server into this file (one client)")
    p.add_argument("--profile-seconds", type=int, default=10)
    args = p.parse_args()
    schema = f"pm_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    # migrate once before the workers start (they would race on an empty schema)
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench_api_")
    env = {
        **os.environ,
        "PROMETHIUM_DATA_DIR": data,
        "PROMETHIUM_DATABASE_URL": db_url,
        "PROMETHIUM_ADMIN_USERNAME": "bench-admin",
        "PROMETHIUM_ADMIN_PASSWORD": PASSWORD,
        "PROMETHIUM_REGISTER_SHIPPED_MODELS": "false",
        "PROMETHIUM_WEB_ENABLED": "false",
    }
    env.update(dict(kv.split("=", 1) for kv in args.env))
    if args.server_src:
        env["PYTHONPATH"] = str(args.server_src.resolve())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "promethium",
            "users",
            "create-admin",
            "-u",
            "bench-admin",
            "--password-stdin",
        ],
        env=env,
        check=True,
        capture_output=True,
        input=(PASSWORD + "\n").encode(),
    )
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
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--no-access-log",
        *args.uvicorn_arg,
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
        with httpx.Client(base_url=base) as c:
            r = c.post("/api/v1/auth/login", data={"username": "bench-admin", "password": PASSWORD})
            admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = c.post(
                "/api/v1/users",
                json={"username": "bench-user", "password": PASSWORD, "role": "user"},
                headers=admin,
            )
            assert r.status_code == 201, r.text
            owner = r.json()["id"]
        with psycopg.connect(PG, autocommit=True, options=f"-csearch_path={schema}") as conn:
            ids = [str(uuid.uuid4()) for _ in range(args.jobs)]
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO jobs (id, owner_id, kind, status, params, progress, created_at)"
                    " VALUES (%s, %s, 'custom', 'succeeded', '{}', 1.0,"
                    " now() - make_interval(secs => random() * 86400))",
                    [(i, owner) for i in ids],
                )
            conn.execute("ANALYZE jobs")
        token = asyncio.run(login(base))
        # first use: caches, first-use imports
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            for u in _urls(ids)[:40]:
                assert c.get(u).status_code == 200
        # warm-up under the same concurrency (not recorded): the server's connection pool fills up
        warm_lat: list[float] = []
        warm_err: list[str] = []

        async def warm() -> None:
            t0 = time.perf_counter()
            await asyncio.gather(
                *(
                    paced_client(base, token, ids, t0, t0 + 3.0, 1 / args.rate, warm_lat, warm_err)
                    for _ in range(args.clients)
                )
            )

        asyncio.run(warm())
        uptime = lambda: os.getloadavg()  # noqa: E731
        print(f"server: {args.workers} uvicorn worker(s); {args.jobs} jobs; load average {uptime()[0]:.2f}")
        if args.profile:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(server.pid),
                    "--subprocesses",
                    "--duration",
                    str(args.profile_seconds),
                    "--format",
                    "raw",
                    "--output",
                    str(args.profile),
                    "--rate",
                    "500",
                ]
            )
            time.sleep(1)
            lat: list[float] = []
            errors: list[str] = []
            stop = time.perf_counter() + args.profile_seconds
            t0 = time.perf_counter()
            cpu0 = server_cpu(server.pid)
            asyncio.run(closed_client(base, token, ids, stop, lat, errors))
            report_latencies("profiled, 1 client", lat, errors, time.perf_counter() - t0)
            print(
                f"server CPU {1000 * (server_cpu(server.pid) - cpu0) / len(lat):.2f} ms/request (with py-spy)"
            )
            spy.wait()
            return
        if args.mode in ("closed", "both"):
            cpu0 = server_cpu(server.pid)
            if args.loadgen == "wrk":
                r = run_wrk(base, token, ids, args.clients, args.seconds, args.wrk_threads)
                errs = r["connect"] + r["read"] + r["write"] + r["timeout"] + r["status"]
                rps = r["requests"] / (r["duration_us"] / 1e6)
                print(
                    f"closed loop (wrk), {args.clients} clients: {r['requests']} requests in "
                    f"{r['duration_us'] / 1e6:.1f} s ({rps:.0f} req/s): p50 {r['p50'] / 1000:.1f} ms, "
                    f"p90 {r['p90'] / 1000:.1f} ms, p99 {r['p99'] / 1000:.1f} ms, "
                    f"p99.9 {r['p999'] / 1000:.1f} ms, max {r['max'] / 1000:.1f} ms, errors {errs} "
                    f"(non-2xx {r['status']}, timeouts {r['timeout']}); load average {uptime()[0]:.2f}; "
                    f"server CPU {1000 * (server_cpu(server.pid) - cpu0) / r['requests']:.2f} ms/request"
                )
            else:
                lat, errors = [], []

                async def closed() -> float:
                    t0 = time.perf_counter()
                    stop = t0 + args.seconds
                    await asyncio.gather(
                        *(closed_client(base, token, ids, stop, lat, errors) for _ in range(args.clients))
                    )
                    return time.perf_counter() - t0

                wall = asyncio.run(closed())
                report_latencies(f"closed loop (httpx), {args.clients} clients", lat, errors, wall)
                print(f"server CPU {1000 * (server_cpu(server.pid) - cpu0) / len(lat):.2f} ms/request")
        if args.mode in ("paced", "both"):
            lat, errors = [], []

            async def paced() -> float:
                t0 = time.perf_counter()
                stop = t0 + args.seconds
                await asyncio.gather(
                    *(
                        paced_client(base, token, ids, t0, stop, 1 / args.rate, lat, errors)
                        for _ in range(args.clients)
                    )
                )
                return time.perf_counter() - t0

            cpu0 = server_cpu(server.pid)
            wall = asyncio.run(paced())
            cpu = 1000 * (server_cpu(server.pid) - cpu0) / max(len(lat), 1)
            report_latencies(
                f"paced, {args.clients} clients x {args.rate:g} req/s "
                f"(offered {args.clients * args.rate:g} req/s), load average {uptime()[0]:.2f}",
                lat,
                errors,
                wall,
            )
            print(f"server CPU {cpu:.2f} ms/request")
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
