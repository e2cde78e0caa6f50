"""The design's flows end to end over real HTTP (issue 7): upload -> ingest job -> dataset ready ->
reconstruct job -> SEG-Y download, timed step by step, with the API behind uvicorn (a thread) and an
httpx client.

Modes: ``embedded`` (SQLite, local storage, the API's thread pool) and ``celery`` (a redis-server of its
own on a free port, PostgreSQL in a fresh schema, local storage, one ``promethium worker -P solo -Q
default,gpu,io`` process). Files: the real ``../shared/data/segy/seisplot_31_81_PR.sgy`` (534 x 1501,
3.3 MB) when present, and a generated line of ``--traces`` x ``--samples`` (default 20,000 x 1,000:
80 MB).

Columns: ``upload s`` (the POST: copy, format detection, header check, raw file stored, job queued),
``ready s`` (upload answered -> dataset ``ready``, polled every 50 ms), ``ingest run s`` (the job's
``started_at -> finished_at``), ``queued s`` (``created_at -> started_at``), ``reconstruct s`` (POST
/jobs -> ``succeeded``, POCS with ``--n-iter`` iterations), ``download s`` (SEG-Y export streamed).

Usage: ``PYTHONPATH=src python benchmarks/bench_flows.py [--modes embedded,celery]``. Prints a markdown
table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "segy" / "seisplot_31_81_PR.sgy"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(app: Any) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        server.should_exit = True
        thread.join(30)


@contextmanager
def _celery(tmp: Path) -> Iterator[dict[str, str]]:
    """redis-server + a PostgreSQL schema + one worker; yields the environment of the API."""
    import psycopg

    from promethium.api.db import run_migrations

    port = _free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    schema = f"pm_bench_flows_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    env = {
        "PROMETHIUM_DATA_DIR": str(tmp),
        "PROMETHIUM_DATABASE_URL": db_url,
        "PROMETHIUM_STORAGE_URL": str(tmp / "storage"),
        "PROMETHIUM_BROKER_URL": f"redis://127.0.0.1:{port}/0",
    }
    worker = None
    try:
        time.sleep(0.5)
        run_migrations(db_url)
        log = tmp / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [
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
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
            )
        deadline = time.monotonic() + 120
        while "ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace"))
            time.sleep(0.2)
        yield env
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        redis.kill()
        redis.wait(10)
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _wait(client: Any, path: str, auth: dict[str, str], done: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 1800
    while True:
        body = client.get(path, headers=auth).json()
        if body["status"] in done:
            return dict(body)
        if time.monotonic() > deadline:
            raise TimeoutError(body)
        time.sleep(0.05)


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def _flow(url: str, path: Path, n_iter: int) -> dict[str, float]:
    import httpx

    with httpx.Client(base_url=url, timeout=600) as client:
        r = client.post("/auth/login", data={"username": "admin", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        t0 = time.perf_counter()
        with path.open("rb") as f:
            r = client.post("/datasets", files={"file": (path.name, f)}, headers=auth)
        t_upload = time.perf_counter() - t0
        if r.status_code != 201:
            raise RuntimeError(r.text)
        ds = r.json()
        t1 = time.perf_counter()
        ready = _wait(client, f"/datasets/{ds['id']}", auth, ("ready", "failed"))
        t_ready = time.perf_counter() - t1
        if ready["status"] != "ready":
            raise RuntimeError(ready)
        ingest = client.get(f"/jobs/{ds['ingest_job_id']}", headers=auth).json()
        t2 = time.perf_counter()
        r = client.post(
            "/jobs",
            json={"kind": "reconstruct", "dataset_id": ds["id"], "params": {"reconstruct.n_iter": n_iter}},
            headers=auth,
        )
        job = _wait(client, f"/jobs/{r.json()['id']}", auth, ("succeeded", "failed", "cancelled"))
        t_rec = time.perf_counter() - t2
        if job["status"] != "succeeded":
            raise RuntimeError(job)
        t3 = time.perf_counter()
        with client.stream("GET", f"/results/{job['id']}/download?format=segy", headers=auth) as resp:
            size = sum(len(b) for b in resp.iter_bytes())
        t_down = time.perf_counter() - t3
    return {
        "upload": t_upload,
        "ready": t_ready,
        "ingest_run": _seconds(ingest["started_at"], ingest["finished_at"]),
        "queued": _seconds(ingest["created_at"], ingest["started_at"]),
        "reconstruct": t_rec,
        "download": t_down,
        "mb": path.stat().st_size / 1e6,
        "out_mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="embedded,celery")
    parser.add_argument("--traces", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--n-iter", type=int, default=10)
    args = parser.parse_args()

    from promethium import io as pio
    from promethium.api import ApiSettings, create_app
    from promethium.api.security import generate_private_key_pem
    from promethium.synthetic import damage, make_survey

    tmp = Path(tempfile.mkdtemp(prefix="bench-flows-"))
    try:
        files = [REAL] if REAL.exists() else []
        gen = tmp / f"line-{args.traces}x{args.samples}.sgy"
        damaged, _ = damage(
            make_survey("2d", n_traces=args.traces, n_samples=args.samples, seed=3), 0.2, 0.0, seed=3
        )
        pio.write(damaged, gen)
        del damaged
        files.append(gen)
        load = os.getloadavg()
        print(f"\nload average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
        print(
            "| mode | file | MB | upload s | ready s | ingest queued s | ingest run s "
            f"| reconstruct s (POCS, {args.n_iter} it.) | download s |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for mode in args.modes.split(","):
            root = tmp / mode
            root.mkdir()
            key = root / "jwt.pem"
            key.write_bytes(generate_private_key_pem())
            common: dict[str, Any] = {
                "data_dir": root,
                "jwt_private_key_file": key,
                "admin_username": "admin",
                "admin_password": PASSWORD,
                "argon2_time_cost": 1,
                "argon2_memory_cost_kib": 64,
                "argon2_parallelism": 1,
                "register_shipped_models": False,
                "web_enabled": False,
            }
            if mode == "celery":
                ctx = _celery(root)
            else:
                os.environ.pop("PROMETHIUM_BROKER_URL", None)
                ctx = _nothing()
            with ctx as env:
                if env:
                    os.environ["PROMETHIUM_BROKER_URL"] = env["PROMETHIUM_BROKER_URL"]
                    common.update(
                        database_url=env["PROMETHIUM_DATABASE_URL"], storage_url=env["PROMETHIUM_STORAGE_URL"]
                    )
                settings = ApiSettings(**common)
                with _server(create_app(settings)) as url:
                    for path in files:
                        f = _flow(url, path, args.n_iter)
                        print(
                            f"| {mode} | {path.name} | {f['mb']:.1f} | {f['upload']:.2f} | {f['ready']:.2f} "
                            f"| {f['queued']:.2f} | {f['ingest_run']:.2f} | {f['reconstruct']:.2f} "
                            f"| {f['download']:.2f} |"
                        )
                os.environ.pop("PROMETHIUM_BROKER_URL", None)
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _nothing() -> Iterator[dict[str, str]]:
    yield {}


if __name__ == "__main__":
    main()
