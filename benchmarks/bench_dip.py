"""Dip-steered interpolation (``dip``) against linear interpolation on real sections.

Run: ``.venv/bin/python benchmarks/bench_dip.py [--sections alaska,freeusp,shot,cube] [--cases ...]
[--param name=value ...]``. Prints a markdown table: SNR over the whole section ("full") and over the
hidden traces only ("missing"), in dB, and the run time of each method. Data are read from
``../shared/data/sections`` (skipped when absent). SNR = 10 log10(||ref||^2 / ||ref - est||^2).
"""

from __future__ import annotations

import argparse
import ast
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from promethium.signal.reconstruct import reconstruct

__all__ = ["CASES", "SECTIONS", "load", "main", "make_mask", "snr"]

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sections"

SECTIONS: dict[str, tuple[str, tuple[int, ...]]] = {
    "alaska": ("alaska_1501x534_4ms.f32", (534, 1501)),
    "freeusp": ("freeusp_stack_751x1285_4ms.f32", (1285, 751)),
    "shot": ("erratic_real_800x220_4ms.f32", (220, 800)),
    "cube": ("real3d_300x100x10.f32", (10, 100, 300)),
}
CASES = ("random50", "random75", "regular2x", "gap10")


def load(name: str) -> np.ndarray | None:
    fname, shape = SECTIONS[name]
    path = DATA / fname
    if not path.exists():
        return None
    return np.fromfile(path, "<f4").reshape(shape).astype(np.float64)


def make_mask(case: str, trace_shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Live-trace mask of a case: random 50% / 75% missing, every other trace (crossline in 3D)
    missing, or one contiguous 10-trace gap (10 crosslines in 3D) in the middle."""
    rng = np.random.default_rng(seed)
    live = np.ones(trace_shape, dtype=bool)
    if case.startswith("random"):
        frac = int(case[len("random") :]) / 100.0
        n = live.size
        hide = rng.choice(n, size=round(frac * n), replace=False)
        live.reshape(-1)[hide] = False
    elif case == "regular2x":
        live[..., 1::2] = False
    elif case == "gap10":
        mid = trace_shape[-1] // 2
        live[..., mid - 5 : mid + 5] = False
    else:
        raise ValueError(case)
    return live


def snr(ref: np.ndarray, est: np.ndarray, sel: np.ndarray | None = None) -> float:
    if sel is not None:
        ref, est = ref[sel], est[sel]
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-30)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--param", action="append", default=[], help="dip parameter, name=python-literal")
    args = ap.parse_args()
    params = {}
    for item in args.param:
        key, val = item.split("=", 1)
        params[key] = ast.literal_eval(val)
    methods: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "linear": lambda d, m: np.asarray(reconstruct(d, "linear", mask=m, dt_ms=4.0)),
        "dip": lambda d, m: np.asarray(reconstruct(d, "dip", mask=m, dt_ms=4.0, **params)),
    }
    print(f"dip parameters: {params or 'defaults'}\n")
    print(
        "| section | case | linear full | linear missing | dip full | dip missing | gain (missing) "
        "| t linear | t dip |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.sections.split(","):
        ref = load(name)
        if ref is None:
            print(f"| {name} | (data absent) |||||||")
            continue
        for case in args.cases.split(","):
            live = make_mask(case, ref.shape[:-1])
            data = np.where(live[..., None], ref, 0.0)
            row = {}
            for mname, fn in methods.items():
                t0 = time.perf_counter()
                est = fn(data, live)
                row[mname] = (snr(ref, est), snr(ref, est, ~live), time.perf_counter() - t0)
            lf, lm, lt = row["linear"]
            df, dm, dtm = row["dip"]
            print(
                f"| {name} | {case} | {lf:.2f} | {lm:.2f} | {df:.2f} | {dm:.2f} | {dm - lm:+.2f} | "
                f"{lt:.2f} s | {dtm:.2f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
