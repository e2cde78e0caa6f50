"""Pipeline machinery: overhead against direct calls, and streaming a large SEG-Y in bounded memory.

1. **overhead** (target < 5%): a generated SEG-Y of ``--overhead-mb`` (default 1024) through
   ``bandpass -> agc -> write Zarr``, once by calling ``io.read``, ``signal.filter``, ``signal.agc`` and
   ``io.write`` directly and once with :func:`promethium.workflows.run_pipeline` (in memory, checksums
   on and off). Best of ``--repeat``, the variants run round robin (a slow spell of a shared machine
   hits all of them alike); each child imports the same modules before its clock starts.
2. **streaming** (targets: peak RSS < 1 GB; throughput within 20% of the slowest single step alone): a
   generated SEG-Y of ``--stream-mb`` (default 10240) through ``bandpass -> agc -> reconstruct -> write
   Zarr`` streamed, then each step alone (streamed, read + step + write Zarr). Every run is a
   subprocess, so its peak RSS (``ru_maxrss``) is its own.
3. **per-trace operations** (``--ops-mb 500``): peak RSS of ``filter``, ``agc``, ``gain``, ``mute`` and
   ``taper`` on a float32 SeismicData of that size, each in its own process, the peak reset (Linux
   ``clear_refs``) after the set-up so that it is the operation's own.

The SEG-Y files are generated in bounded memory: a damaged synthetic line of 4096 traces (10% dead
traces) is written once and its trace block repeated to the requested size.

Usage: ``python benchmarks/bench_workflow.py [--overhead-mb 1024] [--stream-mb 10240] [--samples 1500]
[--method pocs] [--repeat 3] [--ops-mb 500] [--skip-overhead] [--skip-stream] [--keep DIR]``. Prints
markdown tables.
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


def _rss_now() -> int:
    """Resident set size of this process now (bytes; Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> None:
    """Reset this process's peak RSS (Linux ``clear_refs`` 5), so that set-up does not count."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_rss() -> int:
    """Peak RSS (``VmHWM``) since the process started or :func:`_reset_peak` (bytes)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


OPS = ("filter", "agc", "gain", "mute", "taper")


def op_child(args: argparse.Namespace) -> None:
    """Peak RSS of one signal operation on a float32 SeismicData of ``--array-mb`` MB (own process)."""
    import numpy as np

    from promethium.io.data import SeismicData
    from promethium.signal import filters as sf

    n_samples = args.samples
    n_traces = max(1, round(args.array_mb * 1e6 / (4 * n_samples)))
    rng = np.random.default_rng(0)
    values = np.empty((n_traces, n_samples), dtype=np.float32)
    for a in range(0, n_traces, 4096):
        values[a : a + 4096] = rng.standard_normal((min(4096, n_traces - a), n_samples), dtype=np.float32)
    data = SeismicData.from_array(values, sample_interval=4.0)
    del values
    calls = {
        "filter": lambda d: sf.filter(d, "bandpass", low=5.0, high=60.0),
        "agc": lambda d: sf.agc(d, 500.0),
        "gain": lambda d: sf.gain(d, "tpow", power=2.0),
        "mute": lambda d: sf.mute(d, "top", times_ms=200.0),
        "taper": lambda d: sf.taper(d, "time"),
    }
    fn = calls[args.op]
    fn(data.isel(trace=slice(0, 64)))  # numba compilation, imports: not part of the measurement
    _reset_peak()
    before = _rss_now()
    t0 = time.perf_counter()
    out = fn(data)
    seconds = time.perf_counter() - t0
    peak = _peak_rss()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss": peak,
                "before": before,
                "input_bytes": data.values.nbytes,
                "dtype": str(out.values.dtype),
            }
        )
    )


def child(args: argparse.Namespace) -> None:
    """One measured run, in its own process: prints JSON with the wall time and peak RSS."""
    import resource

    from promethium import io as pio

    if args.child == "op":
        op_child(args)
        return
    # Both kinds import the same modules before the clock starts: the figures compare the work.
    from promethium.signal.filters import agc, filter
    from promethium.workflows import run_pipeline

    t0 = time.perf_counter()
    if args.child == "direct":
        d = pio.read(args.input)
        d = agc(filter(d, "bandpass", low=5.0, high=60.0), 500.0)
        pio.write(d, args.output, overwrite=True)
    else:
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


def measure_ops(args: argparse.Namespace) -> None:
    """Peak RSS of each per-trace operation on a float32 array of ``--ops-mb`` MB, each in its own process."""
    size = f"{args.ops_mb:.0f} MB float32 SeismicData, {args.samples} samples/trace"
    print(f"\n### Per-trace operations: {size}\n")
    print("| operation | seconds | RSS before (MB) | peak RSS (MB) | peak - before (x input) | out dtype |")
    print("|---|---:|---:|---:|---:|---|")
    for op in args.ops.split(","):
        cmd = [sys.executable, __file__, "--child", "op", "--op", op, "--array-mb", str(args.ops_mb)]
        cmd += ["--samples", str(args.samples)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{op} failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        extra = (r["peak_rss"] - r["before"]) / r["input_bytes"]
        print(
            f"| {op} | {r['seconds']:.2f} | {r['before'] / 1e6:.0f} | {r['peak_rss'] / 1e6:.0f} "
            f"| {extra:.2f} | {r['dtype']} |"
        )


BANDPASS = {"name": "bandpass", "op": "filter", "params": {"kind": "bandpass", "low": 5.0, "high": 60.0}}
AGC = {"name": "agc", "op": "agc", "params": {"window_ms": 500.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead-mb", type=float, default=1024)
    parser.add_argument("--stream-mb", type=float, default=10240)
    parser.add_argument("--samples", type=int, default=1500)
    parser.add_argument("--method", default="pocs", help="reconstruction method of the streamed pipeline")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ops-mb", type=float, default=0, help="per-operation peak RSS on an array this big")
    parser.add_argument("--ops", default=",".join(OPS), help="operations measured by --ops-mb")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--keep", default=None, help="folder for the generated files (default: temporary)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--input", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spec", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--checksums", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--op", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--array-mb", type=float, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.ops_mb:
        measure_ops(args)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench_workflow_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_overhead:
            inp = folder / "overhead.sgy"
            n = make_segy(inp, args.overhead_mb, args.samples)
            size = inp.stat().st_size / 1e6
            spec = {"steps": [BANDPASS, AGC], "execution": {"mode": "memory"}}
            variants = (
                ("direct calls", "direct", None, False),
                ("run_pipeline (no checksums)", "pipeline", spec, False),
                ("run_pipeline (sha256 of the input)", "pipeline", spec, True),
            )
            # Round robin, so that a slow spell of a shared machine hits every variant alike.
            runs: dict[str, list[dict]] = {label: [] for label, *_ in variants}
            for _ in range(args.repeat):
                for label, kind, s, ck in variants:
                    runs[label].append(measure(kind, inp, folder / "o.zarr", s, ck))
            rows = [(label, min(runs[label], key=lambda r: r["seconds"])) for label, *_ in variants]
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
