"""Trace windows of the API's read path (``services.datasets._read_window``) with and without the handle
cache, on a dataset stored as the API stores it (Zarr under ``datasets/{id}/processed/data.zarr``).

The store is generated streamed with the library's ZarrWriter (random float32, ``--gb`` GB of amplitudes,
1,000 samples per trace) and removed afterwards. Each window is 1,000 traces x 1,000 samples at a random
position. Measures the service call (no HTTP, no database).

    PYTHONPATH=src python benchmarks/bench_api_window.py --gb 1 --windows 50 --root /tmp/bench_window
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from pathlib import Path

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--gb", type=float, default=10.0)
    p.add_argument("--windows", type=int, default=50)
    p.add_argument("--root", type=Path, default=Path("/tmp/bench_api_window"))
    args = p.parse_args()
    storage = ObjectStorage(str(args.root))
    key = dataset_key(uuid.uuid4(), "processed/data.zarr")
    n_traces = int(args.gb * 1e9 / (4 * N_SAMPLES))
    try:
        seconds = generate(storage, key, n_traces)
        print(f"generated {n_traces} traces x {N_SAMPLES} samples ({args.gb} GB) in {seconds:.1f} s")
        for label, cache in (("no cache", None), ("handle cache", HandleCache())):
            t = np.array(measure(storage, key, n_traces, args.windows, cache)) * 1000
            print(
                f"{label:12s}: {args.windows} windows 1000x1000: p50 {np.percentile(t, 50):.1f} ms, "
                f"p95 {np.percentile(t, 95):.1f} ms, max {t.max():.1f} ms"
            )
    finally:
        shutil.rmtree(args.root, ignore_errors=True)


if __name__ == "__main__":
    main()
