"""Peak memory and throughput of learned reconstruction streamed over a large SEG-Y.

``python benchmarks/bench_ml_stream.py [--mb 2048] [--samples 1000] [--keep DIR]`` writes a 2D SEG-Y of
``--mb`` MB (a synthetic survey with 10 % dead traces, repeated), then runs the ``reconstruct-unet``
preset (the shipped model) streamed over chunks to Zarr in a child process and prints its wall time,
traces per second and peak RSS (``ru_maxrss``: the whole process, imports and torch included).
Target (issue 4): peak memory under 1.5 GB for a 2 GB volume.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import make_segy, measure

__all__ = ["main"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=2048)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ml-stream-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        inp = folder / "big.sgy"
        n = make_segy(inp, args.mb, args.samples)
        spec = {
            "name": "stream-unet",
            "execution": {"mode": "stream"},
            "steps": [{"name": "reconstruct", "op": "ml.reconstruct_unet", "params": {"model": "unet"}}],
        }
        r = measure("pipeline", inp, folder / "out.zarr", spec)
        r.update(
            traces=n,
            size_mb=round(inp.stat().st_size / 1e6, 1),
            traces_per_s=round(n / r["seconds"], 1),
            peak_rss_mb=round(r["peak_rss"] / 2**20, 1),
        )
        print(json.dumps(r))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
