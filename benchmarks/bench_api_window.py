"""Trace windows of the API's read path (``services.datasets._read_window``) with and without the handle
cache, on a dataset stored as the API stores it (Zarr under ``datasets/{id}/processed/data.zarr``).

The store is generated streamed with the library's ZarrWriter (random float32, ``--gb`` GB of amplitudes,
1,000 samples per trace) and removed afterwards. Each window is 1,000 traces x 1,000 samples at a random
position. Measures the service call (no HTTP, no database), and with ``--http`` the same windows over
real HTTP: ``uvicorn --factory promethium.api:create_app`` on loopback with the store registered as a
ready dataset (SQLite, local storage under ``--root``),
``GET /api/v1/datasets/{id}/traces?format=binary`` from one keep-alive client (``http.client``), timed
from the request to the last byte of the float32 body.

    PYTHONPATH=src python benchmarks/bench_api_window.py --gb 1 --windows 50 --http
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from promethium.api.handles import HandleCache
from promethium.api.services.datasets import WindowRequest, _read_window
from promethium.api.storage import ObjectStorage, dataset_key
from promethium.io import SeismicData
from promethium.io.zarrstore import ZarrWriter

N_SAMPLES = 1000


def generate(storage: ObjectStorage, key: str, n_traces: int) -> float:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    template = SeismicData.from_array(np.zeros((1, N_SAMPLES), np.float32), sample_interval=4.0)
    writer = ZarrWriter(storage.prepare(key), template, trace_shape=(n_traces,))
    step = writer.aligned_traces()
    block = rng.standard_normal((step, N_SAMPLES)).astype(np.float32)
    for start in range(0, n_traces, step):
        n = min(step, n_traces - start)
        chunk = SeismicData.from_array(block[:n] * (1 + start % 7), sample_interval=4.0)
        writer.write_chunk(start, chunk)
    writer.close()
    return time.perf_counter() - t0


def measure(
    storage: ObjectStorage, key: str, n_traces: int, windows: int, cache: HandleCache | None
) -> list[float]:
    rng = np.random.default_rng(1)
    times = []
    for _ in range(windows):
        start = int(rng.integers(0, max(n_traces - 1000, 1)))
        req = WindowRequest(trace_start=start, trace_stop=start + 1000)
        t0 = time.perf_counter()
        w = _read_window(storage, key, req, 4_000_000, cache)
        times.append(time.perf_counter() - t0)
        assert w.values.shape == (1000, N_SAMPLES)
    return times


PASSWORD = "benchmark password 1234"


def measure_http(
    root: Path,
    dataset_key_: str,
    dataset_id: uuid.UUID,
    n_traces: int,
    windows: int,
    profile: Path | None = None,
) -> list[float]:
    """The same windows over HTTP from a server whose storage is ``root/storage``."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from promethium.api.db import sync_url
    from promethium.api.models import Dataset, User

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    data = root / "data"
    env = {
        **os.environ,
        "PROMETHIUM_DATA_DIR": str(data),
        "PROMETHIUM_STORAGE_URL": str(root / "storage"),
        "PROMETHIUM_ADMIN_USERNAME": "bench-admin",
        "PROMETHIUM_ADMIN_PASSWORD": PASSWORD,
        "PROMETHIUM_REGISTER_SHIPPED_MODELS": "false",
        "PROMETHIUM_WEB_ENABLED": "false",
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "promethium.api:create_app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = httpx.post(f"{base}/auth/login", data={"username": "bench-admin", "password": PASSWORD})
        token = r.json()["access_token"]
        engine = create_engine(sync_url(f"sqlite:///{data / 'promethium.db'}"))
        with Session(engine) as s:
            admin = s.query(User).filter_by(username="bench-admin").one()
            s.add(
                Dataset(
                    id=dataset_id,
                    owner_id=admin.id,
                    name="bench",
                    status="ready",
                    format="zarr",
                    size_bytes=n_traces * N_SAMPLES * 4,
                    processed_key=dataset_key_,
                    meta={},
                )
            )
            s.commit()
        engine.dispose()
        rng = np.random.default_rng(1)
        times = []
        # http.client: the response body is read straight from the socket (httpx adds ~10 ms of
        # Python per 4 MB window on this machine, which is the client's cost, not the server's)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        auth = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/datasets/{dataset_id}/traces"

        def get(start: int, stop: int) -> tuple[int, str, bytes]:
            conn.request("GET", f"{url}?trace_start={start}&trace_stop={stop}&format=binary", headers=auth)
            r = conn.getresponse()
            return r.status, r.getheader("X-Shape") or "", r.read()

        assert get(0, 10)[0] == 200
        spy = None
        if profile is not None:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(server.pid),
                    "--format",
                    "raw",
                    "--output",
                    str(profile),
                    "--rate",
                    "500",
                ]
            )
            time.sleep(1.0)
        for _ in range(windows):
            start = int(rng.integers(0, max(n_traces - 1000, 1)))
            t0 = time.perf_counter()
            status, shape, body = get(start, start + 1000)
            times.append(time.perf_counter() - t0)
            assert status == 200, body[:200]
            assert shape == f"1000,{N_SAMPLES}"
            assert len(body) == 4 * 1000 * N_SAMPLES
        conn.close()
        if spy is not None:
            spy.send_signal(2)
            spy.wait()
    finally:
        server.terminate()
        server.wait(30)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--gb", type=float, default=10.0)
    p.add_argument("--windows", type=int, default=50)
    p.add_argument("--root", type=Path, default=Path("/tmp/bench_api_window"))
    p.add_argument("--http", action="store_true", help="also over HTTP through the real server")
    p.add_argument("--profile", type=Path, help="py-spy record the server during the HTTP windows")
    args = p.parse_args()
    storage = ObjectStorage(str(args.root / "storage"))
    dataset_id = uuid.uuid4()
    key = dataset_key(dataset_id, "processed/data.zarr")
    n_traces = int(args.gb * 1e9 / (4 * N_SAMPLES))
    try:
        seconds = generate(storage, key, n_traces)
        print(f"generated {n_traces} traces x {N_SAMPLES} samples ({args.gb} GB) in {seconds:.1f} s")
        for label, cache in (("no cache", None), ("handle cache", HandleCache())):
            t = np.array(measure(storage, key, n_traces, args.windows, cache)) * 1000
            print(
                f"{label:12s}: {args.windows} windows 1000x1000: p50 {np.percentile(t, 50):.1f} ms, "
                f"p95 {np.percentile(t, 95):.1f} ms, max {t.max():.1f} ms; load {os.getloadavg()[0]:.2f}"
            )
        if args.http:
            t = (
                np.array(measure_http(args.root, key, dataset_id, n_traces, args.windows, args.profile))
                * 1000
            )
            print(
                f"{'HTTP binary':12s}: {args.windows} windows 1000x1000: p50 {np.percentile(t, 50):.1f} ms, "
                f"p95 {np.percentile(t, 95):.1f} ms, max {t.max():.1f} ms; load {os.getloadavg()[0]:.2f}"
            )
    finally:
        shutil.rmtree(args.root, ignore_errors=True)


if __name__ == "__main__":
    main()
