"""Upload of a large SEG-Y file through the chunked API, with the server's memory sampled (issue 6).

Generates a SEG-Y file of ``--gb`` GB (1,000 IEEE float samples a trace, random amplitudes, headers of a
file written by ``promethium.io``) in a temporary folder, starts ``uvicorn --factory
promethium.api:create_app`` on loopback (SQLite and the local storage under a temporary data folder),
then times ``POST /datasets/uploads`` -> ``PUT .../chunks/{i}`` (``--streams`` at a time, ``--chunk-mb``
each) -> ``POST .../finalize``. The client hashes the file (whole and per chunk) before the clock starts,
as a client must to announce it; it sends each chunk from a memory map of the file. The server's RSS
(the uvicorn process, and its children apart) is sampled every 20 ms. Everything is removed afterwards.

    PYTHONPATH=src python benchmarks/bench_upload.py --gb 2 --chunk-mb 64 --streams 2
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import mmap
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil

PASSWORD = "benchmark password 1234"
N_SAMPLES = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def generate(path: Path, gb: float) -> int:
    """A SEG-Y file (IEEE float) of about ``gb`` GB; returns its size."""
    from promethium import io as pio
    from promethium.io import SeismicData

    small = path.with_suffix(".small.sgy")
    pio.write(SeismicData.from_array(np.zeros((1, N_SAMPLES), np.float32), sample_interval=4.0), small)
    raw = small.read_bytes()
    small.unlink()
    head, trace_header = raw[:3600], np.frombuffer(raw[3600:3840], np.uint8)
    trace_bytes = 240 + 4 * N_SAMPLES
    n_traces = int(gb * 1e9 // trace_bytes)
    block = 10_000
    rng = np.random.default_rng(0)
    rec = np.dtype([("h", np.uint8, 240), ("s", ">f4", N_SAMPLES)])
    buf = np.zeros(block, rec)
    buf["h"] = trace_header
    buf["s"] = rng.standard_normal((block, N_SAMPLES)).astype(">f4")
    with path.open("wb") as f:
        f.write(head)
        for start in range(0, n_traces, block):
            n = min(block, n_traces - start)
            seq = np.arange(start + 1, start + n + 1, dtype=">i4")
            buf["h"][:n, 0:4] = seq.view(np.uint8).reshape(n, 4)  # trace sequence number in the line
            f.write(buf[:n].tobytes())
    return path.stat().st_size


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.phase = "idle"
        self.peak: dict[str, int] = {}
        self.peak_children: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                rss = self.proc.memory_info().rss
                kids = sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.NoSuchProcess:
                return
            self.peak[self.phase] = max(self.peak.get(self.phase, 0), rss)
            self.peak_children[self.phase] = max(self.peak_children.get(self.phase, 0), kids)
            time.sleep(0.02)


def assemble_check(root: Path, src: Path, size: int, chunk: int, digest: str, sums: list[str]) -> None:
    import uuid

    from promethium.api.services import uploads

    store = uploads.UploadStore(root / "store-check", size, chunk)
    state = store.create(uuid.uuid4(), "big.sgy", None, size, digest, chunk)
    with src.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        t0 = time.perf_counter()
        for i, s in enumerate(sums):
            with memoryview(mm)[i * chunk : min((i + 1) * chunk, size)] as body:
                store.put_chunk(state, i, body, s)
        t_put = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.assemble(state)
    t_running = time.perf_counter() - t0
    uploads._drop_whole(str(store.root / state.id))
    t0 = time.perf_counter()
    store.assemble(state)
    t_scratch = time.perf_counter() - t0
    store.abort(uuid.UUID(state.id))
    print(
        f"UploadStore alone: chunks written and hashed (chunk + whole file) in {t_put:.1f} s "
        f"({size / 1e6 / t_put:.0f} MB/s); finalize's checksum step {t_running:.2f} s with the running "
        f"hash, {t_scratch:.2f} s from scratch; load average {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gb", type=float, default=2.0)
    p.add_argument("--chunk-mb", type=int, default=64)
    p.add_argument("--streams", type=int, default=2, help="chunks in flight at once")
    p.add_argument("--root", type=Path, default=None, help="temporary folder (default: system temp)")
    p.add_argument("--no-finalize", action="store_true", help="stop after the chunks (abort the upload)")
    p.add_argument("--server-src", type=Path, help="serve another source tree (a baseline checkout's src)")
    p.add_argument(
        "--assemble-check",
        action="store_true",
        help="also time finalize's checksum step alone (UploadStore in this process), with the running "
        "whole-file hash and from scratch (as another API process would)",
    )
    p.add_argument("--profile", type=Path, help="py-spy record the server during the chunks into this file")
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_upload_", dir=args.root))
    server = None
    try:
        src = root / "big.sgy"
        t0 = time.perf_counter()
        size = generate(src, args.gb)
        print(f"generated {size / 1e9:.2f} GB SEG-Y in {time.perf_counter() - t0:.1f} s")
        chunk = args.chunk_mb * 1024 * 1024
        t0 = time.perf_counter()
        whole = hashlib.sha256()
        sums = []
        with src.open("rb") as f:
            while block := f.read(chunk):
                whole.update(block)
                sums.append(hashlib.sha256(block).hexdigest())
        print(f"client-side hashing (before the clock): {time.perf_counter() - t0:.1f} s")
        if args.assemble_check:
            assemble_check(root, src, size, chunk, whole.hexdigest(), sums)

        port = free_port()
        data = root / "data"
        env = {
            **os.environ,
            "PROMETHIUM_DATA_DIR": str(data),
            "PROMETHIUM_ADMIN_USERNAME": "bench-admin",
            "PROMETHIUM_ADMIN_PASSWORD": PASSWORD,
            "PROMETHIUM_REGISTER_SHIPPED_MODELS": "false",
            "PROMETHIUM_WEB_ENABLED": "false",
        }
        if args.server_src:
            env["PYTHONPATH"] = str(args.server_src.resolve())
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "promethium.api:create_app"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        server = subprocess.Popen(cmd, env=env)
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        sampler = RssSampler(server.pid)
        sampler.start()
        time.sleep(0.2)
        idle_rss = sampler.peak.get("idle", 0)
        r = httpx.post(f"{base}/auth/login", data={"username": "bench-admin", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        load0 = os.getloadavg()[0]

        with (
            src.open("rb") as f,
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm,
            httpx.Client(base_url=base, headers=auth, timeout=600) as client,
        ):
            spy = None
            if args.profile:
                spy = subprocess.Popen(
                    [
                        *(str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.pid)),
                        *("--format", "raw", "--output", str(args.profile), "--rate", "200", "--idle"),
                    ]
                )
                time.sleep(1.0)
            cpu0 = sum(psutil.Process(server.pid).cpu_times()[:2])
            sampler.phase = "chunks"
            t_start = time.perf_counter()
            r = client.post(
                "/datasets/uploads",
                json={"filename": "big.sgy", "size": size, "sha256": whole.hexdigest(), "chunk_size": chunk},
            )
            assert r.status_code == 201, r.text
            uid = r.json()["id"]

            local = threading.local()

            def put(i: int) -> None:
                # http.client sends the memory-mapped slice with sendall: no copy on the client side
                if not hasattr(local, "conn"):
                    local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                body = memoryview(mm)[i * chunk : min((i + 1) * chunk, size)]
                try:
                    local.conn.request(
                        "PUT",
                        f"/api/v1/datasets/uploads/{uid}/chunks/{i}",
                        body=body,
                        headers={
                            **auth,
                            "X-Chunk-SHA256": sums[i],
                            "Content-Type": "application/octet-stream",
                            "Content-Length": str(len(body)),
                        },
                    )
                    resp = local.conn.getresponse()
                    text = resp.read()
                finally:
                    body.release()
                assert resp.status == 200, text

            with ThreadPoolExecutor(args.streams) as pool:
                list(pool.map(put, range(len(sums))))
            t_chunks = time.perf_counter() - t_start
            cpu_chunks = sum(psutil.Process(server.pid).cpu_times()[:2]) - cpu0
            if spy is not None:
                spy.send_signal(2)
                spy.wait()
            sampler.phase = "finalize"
            t1 = time.perf_counter()
            if args.no_finalize:
                assert client.delete(f"/datasets/uploads/{uid}").status_code == 204
                t_final = 0.0
            else:
                r = client.post(f"/datasets/uploads/{uid}/finalize")
                assert r.status_code == 201, r.text
                t_final = time.perf_counter() - t1
                print(f"finalize answered: dataset status {r.json()['status']!r}")
            sampler.phase = "after"
            time.sleep(0.1)
        load1 = os.getloadavg()[0]
        sampler.stop.set()
        mb = size / 1e6
        total = t_chunks + t_final
        print(
            f"{size / 1e9:.2f} GB, chunks of {args.chunk_mb} MiB, {args.streams} in flight; load average "
            f"{load0:.2f} -> {load1:.2f}\n"
            f"  init + chunks: {t_chunks:.1f} s ({mb / t_chunks:.0f} MB/s), server CPU {cpu_chunks:.1f} s\n"
            f"  finalize: {t_final:.1f} s\n"
            f"  whole upload: {total:.1f} s ({mb / total:.0f} MB/s)\n"
            f"  server RSS peak (MB): idle {idle_rss / 1e6:.0f}, during chunks "
            f"{sampler.peak.get('chunks', 0) / 1e6:.0f}, "
            f"during finalize {sampler.peak.get('finalize', 0) / 1e6:.0f}"
            f"; its child processes {max(sampler.peak_children.values(), default=0) / 1e6:.0f}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
