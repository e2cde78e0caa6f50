"""Benchmark: Promethium's rank reduction (drr) and f-x prediction against pydrr and linear interpolation.

Runs on the real sections of ``../shared/data/sections`` (read by path, skipped when absent). For the
rank-reduction comparison pydrr's own kernel (``pydrr.drr3d.drr3drecon``) is run on exactly the same
windows, mask, rank, damping, iterations, band and weight schedule as Promethium's ``drr``, through the
same windowing/blending code, so that only the kernels differ. Reports SNR over the whole section
("full") and over the hidden traces only ("missing") in dB, and wall time in seconds.

    .venv/bin/python benchmarks/bench_drr.py --quick        # shot gather only, no pydrr on the cube
    .venv/bin/python benchmarks/bench_drr.py                # every case (pydrr on the cube takes minutes)
    .venv/bin/python benchmarks/bench_drr.py --cases cube --pydrr
"""

from __future__ import annotations

import os

# Small batched matrices: OpenBLAS threads only add contention on a shared 2-core machine (measured up to
# 50x slower per window under load); both Promethium and pydrr run under the same setting.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from promethium.signal.reconstruction import reconstruct
from promethium.signal.reconstruction._registry import get_method
from promethium.signal.reconstruction._windows import apply_windowed, plan_windows
from promethium.signal.reconstruction.baseline import linear_fill

__all__ = ["main"]

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sections"
DT_MS = 4.0
FILES = {
    "shot": ("erratic_real_800x220_4ms.f32", (220, 800)),
    "alaska": ("alaska_1501x534_4ms.f32", (534, 1501)),
    "freeusp": ("freeusp_stack_751x1285_4ms.f32", (1285, 751)),
    "cube": ("real3d_300x100x10.f32", (10, 100, 300)),
}


def load(name: str) -> np.ndarray | None:
    fname, shape = FILES[name]
    path = DATA / fname
    if not path.exists():
        return None
    return np.fromfile(path, "<f4").reshape(shape).astype(np.float64)


def snr_db(ref: np.ndarray, est: np.ndarray, sel: np.ndarray | None = None) -> float:
    r, e = (ref, est) if sel is None else (ref[sel], est[sel])
    return float(10 * np.log10(np.sum(r**2) / max(np.sum((r - e) ** 2), 1e-300)))


def make_mask(shape: tuple[int, ...], case: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if case == "random50":
        return rng.random(shape) >= 0.5
    if case == "random75":
        return rng.random(shape) >= 0.75
    live = np.ones(shape, dtype=bool)
    if case == "decimate2":
        live[..., 1::2] = False
    elif case == "gap10":
        mid = shape[-1] // 2
        live[..., mid - 5 : mid + 5] = False
    else:
        raise ValueError(case)
    return live


def pydrr_reconstruct(values: np.ndarray, live: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """pydrr's drr3drecon run on Promethium's windows (same plan, blending and fallback as reconstruct)."""
    # pydrr 0.0.2.1 predates numpy 2: it needs the removed aliases np.complex_ and np.mat.
    setattr(np, "complex_", np.complex128)  # noqa: B010
    setattr(np, "mat", np.asmatrix)  # noqa: B010
    from pydrr.drr3d import drr3drecon

    m = get_method("drr")
    dt = DT_MS / 1000.0
    sizes = list(m.window_2d if values.ndim == 2 else m.window_3d)
    plan = plan_windows(values.shape, sizes, None)
    obs = np.where(live[..., None], values, 0.0)
    a = np.linspace(1.0, params["weight_end"], params["n_iter"])[:, None]
    fhigh = 0.5 / dt if params["high"] is None else params["high"]

    def run(win: np.ndarray, sl: tuple[slice, ...]) -> np.ndarray:
        wl = live[sl[:-1]]
        if wl.all():
            return win
        if int(wl.sum()) < 2:
            return linear_fill(obs, live)[sl]
        d = np.moveaxis(win, -1, 0)  # pydrr: (time, x[, y])
        mk = np.broadcast_to(wl, d.shape).astype(np.float64)
        with contextlib.redirect_stdout(io.StringIO()):
            out = drr3drecon(
                d, mk, params["low"], fhigh, dt, params["rank"], params["damping"],
                params["n_iter"], 0.0, 1, a,
            )  # fmt: skip
        return np.moveaxis(np.asarray(out).reshape(d.shape), 0, -1)

    out = apply_windowed(obs, plan, run)
    out[live] = values[live]
    return out


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def row(
    section: str, case: str, method: str, ref: np.ndarray, est: np.ndarray, live: np.ndarray, t: float
) -> str:
    full, miss = snr_db(ref, est), snr_db(ref, est, ~live)
    return f"| {section} | {case} | {method} | {full:6.2f} | {miss:6.2f} | {t:7.2f} |"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shot gather and fx cases only; pydrr on the shot")
    ap.add_argument("--cases", nargs="*", default=None, help="sections: shot alaska freeusp cube")
    ap.add_argument("--pydrr", action="store_true", help="also run pydrr on alaska/freeusp/cube")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    params = dict(get_method("drr").params)
    sections = args.cases or (
        ["shot", "alaska", "freeusp"] if args.quick else ["shot", "alaska", "freeusp", "cube"]
    )
    print(f"drr parameters: {params}")
    print("| section | case | method | SNR full (dB) | SNR missing (dB) | time (s) |")
    print("|---|---|---|---|---|---|")
    for name in sections:
        ref = load(name)
        if ref is None:
            print(f"| {name} | - | (data absent) | | | |")
            continue
        cases = ["random50"] if name in ("shot", "cube") else ["random50", "decimate2", "gap10"]
        if args.quick and name != "shot":
            cases = ["decimate2"]
        for case in cases:
            live = make_mask(ref.shape[:-1], case, args.seed)
            obs = np.where(live[..., None], ref, 0.0)
            est, t = timed(lambda: reconstruct(obs, "linear", mask=live, dt_ms=DT_MS))  # noqa: B023
            print(row(name, case, "linear", ref, est, live, t))
            methods = ["drr"] if case.startswith("random") else ["fx_predict", "drr"]
            for meth in methods:
                est, t = timed(lambda: reconstruct(obs, meth, mask=live, dt_ms=DT_MS))  # noqa: B023
                print(row(name, case, meth, ref, est, live, t), flush=True)
            if case == "random50" and (name == "shot" or args.pydrr):
                est, t = timed(lambda: pydrr_reconstruct(ref, live, params))  # noqa: B023
                print(row(name, case, "pydrr (same windows)", ref, est, live, t), flush=True)


if __name__ == "__main__":
    main()
