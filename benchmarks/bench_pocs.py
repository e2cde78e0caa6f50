"""Benchmark: POCS, FISTA, sinc and linear trace reconstruction on real sections, with the pylops peer.

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pocs.py [--sections alaska cube]
        [--cases r50 r75 dec2 gap] [--methods pocs fista sinc linear fista_peer]
        [--pocs '{"threshold": "soft"}'] [--fista '{"niter": 30}']

Sections (read by path from ``../shared/data/sections``, skipped when absent; dt = 4 ms): ``alaska``
(534 x 1501), ``freeusp`` (1285 x 751), ``erratic`` (220 x 800 shot gather), ``cube`` (10 x 100 x 300).
Cases: ``r50`` / ``r75`` (50 % / 75 % of the traces removed at random, ``np.random.default_rng(seed)``),
``dec2`` (every other trace removed), ``gap`` (one contiguous 10-trace gap in the middle; in 3D along
the crosslines of every inline). SNR = 10 log10(||ref||^2 / ||ref - est||^2) over the whole section
("full") and over the removed traces only ("miss"); wall time in seconds, including the windowing.
``fista_peer`` is the pylops tutorial configuration
(:func:`promethium.signal.reconstruction.sparse.fista_peer`).

The script sets ``OPENBLAS_NUM_THREADS=1`` when unset: on a shared 2-core machine threaded BLAS on the
small vectors of pylops' FISTA spins and slows it down many times over.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

__all__ = ["CASES", "SECTIONS", "load", "main", "make_mask", "snr"]

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sections"
SECTIONS: dict[str, tuple[str, tuple[int, ...]]] = {
    "alaska": ("alaska_1501x534_4ms.f32", (534, 1501)),
    "freeusp": ("freeusp_stack_751x1285_4ms.f32", (1285, 751)),
    "erratic": ("erratic_real_800x220_4ms.f32", (220, 800)),
    "cube": ("real3d_300x100x10.f32", (10, 100, 300)),
}
CASES = ("r50", "r75", "dec2", "gap")
DT_MS = 4.0


def load(name: str) -> np.ndarray | None:
    """The section as float64 ``(trace, time)`` / ``(inline, crossline, time)``, or None if absent."""
    fname, shape = SECTIONS[name]
    path = DATA / fname
    if not path.exists():
        return None
    return np.fromfile(path, "<f4").reshape(shape).astype(np.float64)


def make_mask(trace_shape: tuple[int, ...], case: str, seed: int = 0) -> np.ndarray:
    """Live-trace mask (True = kept) for one case."""
    n = int(np.prod(trace_shape))
    live = np.ones(n, dtype=bool)
    if case in ("r50", "r75"):
        frac = 0.5 if case == "r50" else 0.75
        live[np.random.default_rng(seed).choice(n, round(frac * n), replace=False)] = False
        return live.reshape(trace_shape)
    live = live.reshape(trace_shape)
    if case == "dec2":
        live[..., 1::2] = False
    elif case == "gap":
        c = trace_shape[-1] // 2
        live[..., c - 5 : c + 5] = False
    else:
        raise ValueError(f"unknown case {case!r}")
    return live


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    err = float(((ref - est) ** 2).sum())
    return float("inf") if err == 0 else 10.0 * float(np.log10(float((ref**2).sum()) / err))


def _runners(pocs: dict[str, object], fista: dict[str, object]) -> dict[str, Callable[..., np.ndarray]]:
    from promethium.signal.reconstruction import reconstruct
    from promethium.signal.reconstruction.sparse import fista_peer

    def method(name: str, extra: dict[str, object]) -> Callable[..., np.ndarray]:
        def run(data: np.ndarray, live: np.ndarray) -> np.ndarray:
            return np.asarray(reconstruct(data, name, mask=live, dt_ms=DT_MS, **extra))

        return run

    return {
        "linear": method("linear", {}),
        "sinc": method("sinc", {}),
        "pocs": method("pocs", pocs),
        "fista": method("fista", fista),
        "fista_peer": lambda data, live: fista_peer(data, live, DT_MS / 1000.0),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", default=list(SECTIONS))
    ap.add_argument("--cases", nargs="+", default=list(CASES))
    ap.add_argument("--methods", nargs="+", default=["linear", "sinc", "pocs", "fista", "fista_peer"])
    ap.add_argument("--pocs", default="{}", help="JSON of pocs parameters")
    ap.add_argument("--fista", default="{}", help="JSON of fista parameters")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    runners = _runners(json.loads(args.pocs), json.loads(args.fista))
    # Warm-up: import pylops and scipy.fft plans outside the timings.
    warm = np.random.default_rng(0).standard_normal((8, 32))
    for name in args.methods:
        runners[name](warm, np.array([True, False] * 4))
    print(f"{'section':8} {'case':5} {'method':10} {'full dB':>8} {'miss dB':>8} {'time s':>7}")
    for sec in args.sections:
        ref = load(sec)
        if ref is None:
            print(f"{sec:8} (absent, skipped)")
            continue
        for case in args.cases:
            live = make_mask(ref.shape[:-1], case, args.seed)
            data = np.where(live[..., None], ref, 0.0)
            for name in args.methods:
                t0 = time.perf_counter()
                est = runners[name](data, live)
                wall = time.perf_counter() - t0
                assert np.isfinite(est).all(), (sec, case, name)
                assert np.array_equal(est[live], ref[live]), (sec, case, name)
                print(
                    f"{sec:8} {case:5} {name:10} {snr(ref, est):8.2f} {snr(ref[~live], est[~live]):8.2f}"
                    f" {wall:7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
