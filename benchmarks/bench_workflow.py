"""Pipeline machinery: overhead against direct calls, and streaming a large SEG-Y in bounded memory.

1. **overhead** (target < 5%): a generated SEG-Y of ``--overhead-mb`` (default 1024) through
   ``bandpass -> agc -> write Zarr``, once by calling ``io.read``, ``signal.filter``, ``signal.agc`` and
   ``io.write`` directly and once with :func:`promethium.workflows.run_pipeline` (in memory, checksums
   on and off). Best of ``--repeat``.
2. **streaming** (targets: peak RSS < 1 GB; throughput within 20% of the slowest single step alone): a
   generated SEG-Y of ``--stream-mb`` (default 10240) through ``bandpass -> agc -> reconstruct -> write
   Zarr`` streamed, then each step alone (streamed, read + step + write Zarr). Every run is a
   subprocess, so its peak RSS (``ru_maxrss``) is its own.

The SEG-Y files are generated in bounded memory: a damaged synthetic line of 4096 traces (10% dead
traces) is written once and its trace block repeated to the requested size.

Usage: ``python benchmarks/bench_workflow.py [--overhead-mb 1024] [--stream-mb 10240] [--samples 1500]
[--method pocs] [--skip-overhead] [--skip-stream] [--keep DIR]``. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_TRACES = 4096


def make_segy(path: Path, size_mb: float, n_samples: int) -> int:
    """A 2D SEG-Y of about ``size_mb`` MB; returns its trace count."""
    from promethium import io as pio
    from promethium.synthetic import damage, make_survey

    base = make_survey("2d", n_traces=BASE_TRACES, n_samples=n_samples, seed=0)
    base, _ = damage(base, 0.0, 0.1, seed=1)
    small = path.with_suffix(".base.sgy")
    pio.write(base, str(small), overwrite=True)
    raw = small.read_bytes()
    head, traces = raw[:3600], raw[3600:]
    per_trace = len(traces) // BASE_TRACES
    n_rep = max(1, round(size_mb * 1e6 / len(traces)))
    with open(path, "wb") as fh:
        fh.write(head)
        for _ in range(n_rep):
            fh.write(traces)
    small.unlink()
    assert per_trace * BASE_TRACES == len(traces)
    return n_rep * BASE_TRACES


def child(args: argparse.Namespace) -> None:
    """One measured run, in its own process: prints JSON with the wall time and peak RSS."""
    import resource

    from promethium import io as pio

    t0 = time.perf_counter()
    if args.child == "direct":
        from promethium.signal.filters import agc, filter

        d = pio.read(args.input)
        d = agc(filter(d, "bandpass", low=5.0, high=60.0), 500.0)
        pio.write(d, args.output, overwrite=True)
    else:
        from promethium.workflows import run_pipeline

        spec = json.loads(args.spec)
        run_pipeline(spec, input=args.input, output=args.output, overwrite=True, checksums=args.checksums)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss": rss}))


def measure(kind: str, inp: Path, out: Path, spec: dict | None = None, checksums: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--input", str(inp), "--output", str(out)]
    if spec is not None:
        cmd += ["--spec", json.dumps(spec)]
    if checksums:
        cmd.append("--checksums")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    shutil.rmtree(out, ignore_errors=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


BANDPASS = {"name": "bandpass", "op": "filter", "params": {"kind": "bandpass", "low": 5.0, "high": 60.0}}
AGC = {"name": "agc", "op": "agc", "params": {"window_ms": 500.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead-mb", type=float, default=1024)
    parser.add_argument("--stream-mb", type=float, default=10240)
    parser.add_argument("--samples", type=int, default=1500)
    parser.add_argument("--method", default="pocs", help="reconstruction method of the streamed pipeline")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--keep", default=None, help="folder for the generated files (default: temporary)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--input", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spec", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--checksums", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench_workflow_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_overhead:
            inp = folder / "overhead.sgy"
            n = make_segy(inp, args.overhead_mb, args.samples)
            size = inp.stat().st_size / 1e6
            spec = {"steps": [BANDPASS, AGC], "execution": {"mode": "memory"}}
            rows = []
            for label, kind, s, ck in (
                ("direct calls", "direct", None, False),
                ("run_pipeline (no checksums)", "pipeline", spec, False),
                ("run_pipeline (sha256 of the input)", "pipeline", spec, True),
            ):
                best = min(
                    (measure(kind, inp, folder / "o.zarr", s, ck) for _ in range(args.repeat)),
                    key=lambda r: r["seconds"],
                )
                rows.append((label, best))
            base = rows[0][1]["seconds"]
            print(
                f"\n### Overhead: {size:.0f} MB SEG-Y, {n:,} traces x {args.samples} samples, bandpass -> agc"
                " -> Zarr (in memory)\n"
            )
            print("| run | seconds | vs direct | peak RSS (MB) |\n|---|---:|---:|---:|")
            for label, r in rows:
                print(
                    f"| {label} | {r['seconds']:.2f} | {100 * (r['seconds'] / base - 1):+.1f}% "
                    f"| {r['peak_rss'] / 1e6:.0f} |"
                )
            inp.unlink()
        if not args.skip_stream:
            inp = folder / "stream.sgy"
            n = make_segy(inp, args.stream_mb, args.samples)
            size = inp.stat().st_size / 1e6
            rec = {"name": "reconstruct", "op": "reconstruct", "params": {"method": args.method}}
            stream = {"execution": {"mode": "stream"}}
            runs = [
                ("bandpass -> agc -> reconstruct -> Zarr", [BANDPASS, AGC, rec]),
                ("bandpass alone", [BANDPASS]),
                ("agc alone", [AGC]),
                ("reconstruct alone", [rec]),
            ]
            print(
                f"\n### Streaming: {size:.0f} MB SEG-Y, {n:,} traces x {args.samples} samples "
                f"(reconstruct: {args.method})\n"
            )
            print("| run (streamed, read + steps + write Zarr) | seconds | MB/s | peak RSS (MB) |")
            print("|---|---:|---:|---:|")
            results = []
            for label, steps in runs:
                r = measure("pipeline", inp, folder / "s.zarr", {**stream, "steps": steps})
                results.append(r)
                mbs = size / r["seconds"]
                print(f"| {label} | {r['seconds']:.1f} | {mbs:.1f} | {r['peak_rss'] / 1e6:.0f} |")
            slowest = max(r["seconds"] for r in results[1:])
            print(f"\nwhole pipeline / slowest single step: {results[0]['seconds'] / slowest:.2f}x")
            inp.unlink()
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PROMETHIUM_LOG_LEVEL", "WARNING")
    main()
