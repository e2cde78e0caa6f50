"""Dip-steered interpolation (``dip``), the cross-validated ``blend`` and the learned interpolator
``fx_learned`` against linear interpolation.

Run: ``.venv/bin/python benchmarks/bench_dip.py [--sections alaska,freeusp,shot,cube] [--cases ...]
[--methods linear,dip,blend,fx_learned] [--param name=value ...]`` (``--param`` goes to ``dip``,
``--blend-param`` to ``blend``, ``--learned-param`` to ``fx_learned``). Prints a markdown table: SNR
over the whole section ("full") and over the hidden traces only ("missing"), in dB, the gain of each
method over linear on the missing traces, and run times.
Data are read from ``../shared/data/sections`` (skipped when absent). Masks are
:func:`promethium.signal.masks.make_mask` with seed 0 (``random:0.5``, ``random:0.75``, ``regular:2``,
``gap:10``).
SNR = 10 log10(||ref||^2 / ||ref - est||^2).
"""

from __future__ import annotations

import argparse
import ast
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from promethium.signal.masks import make_mask as make_spec_mask
from promethium.signal.reconstruction import reconstruct

__all__ = ["CASES", "SECTIONS", "load", "main", "make_mask", "snr"]

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sections"

SECTIONS: dict[str, tuple[str, tuple[int, ...]]] = {
    "alaska": ("alaska_1501x534_4ms.f32", (534, 1501)),
    "freeusp": ("freeusp_stack_751x1285_4ms.f32", (1285, 751)),
    "shot": ("erratic_real_800x220_4ms.f32", (220, 800)),
    "cube": ("real3d_300x100x10.f32", (10, 100, 300)),
}
CASES = ("random50", "random75", "regular2x", "gap10")
SPECS = {"random50": "random:0.5", "random75": "random:0.75", "regular2x": "regular:2", "gap10": "gap:10"}


def load(name: str) -> np.ndarray | None:
    fname, shape = SECTIONS[name]
    path = DATA / fname
    if not path.exists():
        return None
    return np.fromfile(path, "<f4").reshape(shape).astype(np.float64)


def make_mask(case: str, trace_shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Live-trace mask of a case: random 50% / 75% missing, every other trace (crossline in 3D)
    missing, or one contiguous 10-trace gap (10 crosslines in 3D) in the middle."""
    return make_spec_mask(trace_shape, SPECS.get(case, case), seed=seed)


def snr(ref: np.ndarray, est: np.ndarray, sel: np.ndarray | None = None) -> float:
    if sel is not None:
        ref, est = ref[sel], est[sel]
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-30)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument(
        "--methods", default="linear,dip,blend,fx_learned", help="compared methods; linear always runs"
    )
    ap.add_argument("--param", action="append", default=[], help="dip parameter, name=python-literal")
    ap.add_argument("--blend-param", action="append", default=[], help="blend parameter, name=literal")
    ap.add_argument("--learned-param", action="append", default=[], help="fx_learned parameter, name=literal")
    args = ap.parse_args()
    extra: dict[str, dict[str, Any]] = {"dip": {}, "blend": {}, "fx_learned": {}}
    sets = (("dip", args.param), ("blend", args.blend_param), ("fx_learned", args.learned_param))
    for key_set, items in sets:
        for item in items:
            key, val = item.split("=", 1)
            extra[key_set][key] = ast.literal_eval(val)
    names = ["linear", *[m for m in args.methods.split(",") if m and m != "linear"]]

    def runner(mname: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        kw = extra.get(mname, {})
        return lambda d, m: np.asarray(reconstruct(d, mname, mask=m, dt_ms=4.0, **kw))

    methods = {m: runner(m) for m in names}
    print(f"parameters: {extra}\n")
    others = names[1:]
    head = ["section", "case", "linear full", "linear missing"]
    for m in others:
        head += [f"{m} full", f"{m} missing", f"{m} gain"]
    head += [f"t {m}" for m in names]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in args.sections.split(","):
        ref = load(name)
        if ref is None:
            print(f"| {name} | (data absent) |")
            continue
        for case in args.cases.split(","):
            live = make_mask(case, ref.shape[:-1])
            data = np.where(live[..., None], ref, 0.0)
            row = {}
            for mname, fn in methods.items():
                t0 = time.perf_counter()
                est = fn(data, live)
                row[mname] = (snr(ref, est), snr(ref, est, ~live), time.perf_counter() - t0)
            lf, lm, _ = row["linear"]
            cells = [name, case, f"{lf:.2f}", f"{lm:.2f}"]
            for m in others:
                f, mi, _ = row[m]
                cells += [f"{f:.2f}", f"{mi:.2f}", f"{mi - lm:+.2f}"]
            cells += [f"{row[m][2]:.1f} s" for m in names]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
