"""Decode speed of a Steim-2 miniSEED file: promethium.io.read against pymseed and ObsPy.

Generates a ~50 MB miniSEED 2 file of three channels (random-walk counts, 4096-byte records) with pymseed
in a temporary folder, then times each reader on it in the same run (``--repeat`` rounds, readers taking
turns) and prints a markdown table of MB/s (file bytes) and samples/s.
Run with ``.venv/bin/python benchmarks/bench_mseed.py [--size-mb 50] [--repeat 9]``.

What is timed: promethium.io.read (float32 ``(trace, time)`` array, the default), the same with
``dtype="float64"``, pymseed's ``MS3TraceList.from_file(unpack_data=True)`` taking the int32 arrays
(no layout, no conversion), and ``obspy.read`` (int32 traces).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np


def make_file(path: Path, size_mb: float, channels: int = 3, seed: int = 0) -> int:
    """Write a Steim-2 miniSEED 2 file of about ``size_mb`` MB; returns the sample count."""
    import pymseed

    rng = np.random.default_rng(seed)
    # Random-walk counts with steps up to +-2000 compress to about 2.15 bytes per sample in Steim-2.
    per_channel = int(size_mb * 1e6 / 2.15 / channels)
    start = 1_600_000_000_000_000_000
    with pymseed.MS3TraceList() as tl:
        for c in range(channels):
            walk = np.cumsum(rng.integers(-2000, 2001, per_channel), dtype=np.int64)
            tl.add_data(
                f"FDSN:XX_BENCH_00_H_H_{'ZNE'[c % 3]}", walk.astype(np.int32), "i", 100.0, starttime=start
            )
        with path.open("wb") as fh:
            for record in tl.generate(
                max_record_length=4096, encoding=pymseed.DataEncoding.STEIM2, format_version=2
            ):
                fh.write(record)
    return per_channel * channels


def read_promethium(path: Path, dtype: str) -> int:
    import promethium.io as pio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = pio.read(path, dtype=dtype)
    return int(data.header("n_valid").sum())


def read_pymseed(path: Path) -> int:
    import pymseed

    with pymseed.MS3TraceList.from_file(str(path), unpack_data=True) as tl:
        arrays = [seg.take_np_datasamples() for tid in tl for seg in tid]
    return sum(a.size for a in arrays)


def read_obspy(path: Path) -> int:
    import obspy

    stream = obspy.read(str(path), format="MSEED")
    return sum(tr.stats.npts for tr in stream)


def time_readers(
    readers: list[tuple[str, Callable[[], int]]], repeat: int
) -> list[tuple[str, list[float], int]]:
    """Wall times of ``repeat`` rounds, each running every reader once in turn (after one warm-up
    round), so that a change in machine load affects all readers alike."""
    samples = {label: fn() for label, fn in readers}
    times: dict[str, list[float]] = {label: [] for label, _ in readers}
    for _ in range(repeat):
        for label, fn in readers:
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    return [(label, times[label], samples[label]) for label, _ in readers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=50.0, help="size of the generated file (MB)")
    parser.add_argument("--repeat", type=int, default=9, help="timed rounds (each reader once per round)")
    args = parser.parse_args()
    import obspy
    import pymseed

    import promethium

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_steim2.mseed"
        expected = make_file(path, args.size_mb)
        size = path.stat().st_size
        readers: list[tuple[str, Callable[[], int]]] = [
            (
                f"promethium.io.read float32 ({promethium.__version__})",
                lambda: read_promethium(path, "float32"),
            ),
            ("promethium.io.read float64", lambda: read_promethium(path, "float64")),
            (f"pymseed {pymseed.__version__} from_file (int32)", lambda: read_pymseed(path)),
            (f"ObsPy {obspy.__version__} read (int32)", lambda: read_obspy(path)),
        ]
        print(f"file: {size / 1e6:.1f} MB Steim-2, miniSEED 2, 4096-byte records, {expected:,} samples\n")
        print("| reader | best (s) | median (s) | MB/s (best) | Msamples/s (best) |")
        print("|---|---:|---:|---:|---:|")
        for label, times, samples in time_readers(readers, args.repeat):
            if samples != expected:
                raise SystemExit(f"{label} decoded {samples} samples, expected {expected}")
            best, median = min(times), float(np.median(times))
            rates = f"{size / 1e6 / best:.0f} | {samples / 1e6 / best:.0f}"
            print(f"| {label} | {best:.3f} | {median:.3f} | {rates} |")


if __name__ == "__main__":
    main()
