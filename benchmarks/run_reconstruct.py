"""Classical reconstruction on the real sections, every method and every peer side by side in one run.

Sections (../shared/data/sections): Alaska 2D stack (534 x 1501), FreeUSP stack (1285 x 751), a land
shot gather with erratic noise (220 x 800) and a 3D cube (10 x 100 x 300), all 4 ms. Cases: 50% and 75%
of the traces removed at random, regular 2x decimation, one 10-trace gap (``promethium.signal.masks``
specs ``random:0.5``, ``random:0.75``, ``regular:2``, ``gap:10``; the same mask for every method).

Peers: plain linear interpolation across traces (``np.interp`` per time sample, 2D; scipy's
LinearNDInterpolator over inline/crossline, 3D), pydrr's ``drr3drecon`` (damped rank reduction) on the
same windows as Promethium's ``drr``, and pylops' f-k FISTA interpolation as its tutorial sets it up.

Scores: SNR over the hidden traces (``missing``) and over every trace (``full``), in dB, and wall time.
pydrr is slow (minutes on the cube): its results are cached in benchmarks/_work/peers.json; pass
``--refresh-peers`` to recompute them.

    python benchmarks/run_reconstruct.py                   # everything, markdown tables on stdout
    python benchmarks/run_reconstruct.py --sections alaska --cases random50 --methods linear,pocs
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from promethium.signal import reconstruct  # noqa: E402
from promethium.signal.masks import make_mask  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data" / "sections"
WORK = HERE / "_work"
DT_MS = 4.0

SECTIONS: dict[str, tuple[str, tuple[int, ...]]] = {
    "alaska": ("alaska_1501x534_4ms.f32", (534, 1501)),
    "freeusp": ("freeusp_stack_751x1285_4ms.f32", (1285, 751)),
    "shot": ("erratic_real_800x220_4ms.f32", (220, 800)),
    "cube": ("real3d_300x100x10.f32", (10, 100, 300)),
}
CASES = {"random50": "random:0.5", "random75": "random:0.75", "regular2": "regular:2", "gap10": "gap:10"}
OURS = ["linear", "sinc", "pocs", "fista", "drr", "mssa", "fx_predict", "dip", "fx_pef"]
PEERS = ["peer:linear", "peer:pydrr", "peer:pylops-fista"]


def load(name: str) -> np.ndarray | None:
    fname, shape = SECTIONS[name]
    path = DATA / fname
    if not path.exists():
        return None
    return np.fromfile(path, "<f4").reshape(shape).astype(np.float64)


def snr(ref: np.ndarray, est: np.ndarray, sel: np.ndarray) -> float:
    err = float(((ref[sel] - est[sel]) ** 2).sum())
    return float("inf") if err == 0 else float(10 * np.log10((ref[sel] ** 2).sum() / err))


def peer_linear(values: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Independent linear interpolation (not Promethium's code path)."""
    if values.ndim == 2:
        x = np.arange(values.shape[0])
        xs = np.flatnonzero(live)
        out = np.empty_like(values)
        for t in range(values.shape[1]):  # np.interp is 1D; the peer is the plain loop a user would write
            out[:, t] = np.interp(x, xs, values[xs, t])
        return out
    from scipy.interpolate import griddata

    il, xl = np.nonzero(live)
    grid = np.stack(np.meshgrid(np.arange(values.shape[0]), np.arange(values.shape[1]), indexing="ij"), -1)
    out = griddata((il, xl), values[il, xl], grid.reshape(-1, 2), method="linear")
    near = griddata((il, xl), values[il, xl], grid.reshape(-1, 2), method="nearest")
    out = np.where(np.isnan(out), near, out)
    return out.reshape(values.shape)


def peer_pydrr(values: np.ndarray, live: np.ndarray) -> np.ndarray:
    from bench_drr import pydrr_reconstruct
    from promethium.signal.reconstruction._registry import get_method

    params = dict(get_method("drr").params)
    return pydrr_reconstruct(values, live, params)


def peer_fista(values: np.ndarray, live: np.ndarray) -> np.ndarray:
    from promethium.signal.reconstruction.sparse import fista_peer

    return fista_peer(values, live, DT_MS / 1000.0)


PEER_FUNCS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "peer:linear": peer_linear,
    "peer:pydrr": peer_pydrr,
    "peer:pylops-fista": peer_fista,
}


def run_one(
    name: str, values: np.ndarray, live: np.ndarray, case: str
) -> tuple[np.ndarray | None, float, str]:
    obs = np.where(live[..., None], values, 0.0)
    t0 = time.perf_counter()
    try:
        if name in PEER_FUNCS:
            out = PEER_FUNCS[name](obs, live)
        else:
            if name == "fx_predict" and case != "regular2":
                return None, 0.0, "regular decimation only"
            out = np.asarray(reconstruct(obs, name, mask=live, dt_ms=DT_MS))
    except Exception as exc:  # a benchmark reports failures instead of stopping
        return None, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"
    return out, time.perf_counter() - t0, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--methods", default=",".join(OURS))
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--refresh-peers", action="store_true")
    ap.add_argument(
        "--pydrr-cases",
        default="shot/random50",
        help="section/case pairs on which to run pydrr (slow: minutes per case), or 'all'",
    )
    ap.add_argument("--json", default=str(WORK / "reconstruct.json"))
    args = ap.parse_args(argv)
    WORK.mkdir(exist_ok=True)
    cache_path = WORK / "peers.json"
    cache: dict[str, Any] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    methods = [m for m in args.methods.split(",") if m]
    peers = [p for p in args.peers.split(",") if p]
    # Warm up: import every method's module (and numba caches) outside the timed runs.
    tiny = np.random.default_rng(0).normal(size=(24, 64))
    tiny_live = np.ones(24, dtype=bool)
    tiny_live[5:7] = False
    for name in methods:
        run_one(name, tiny, tiny_live, "regular2")
    for name in peers:
        if name != "peer:pydrr":
            run_one(name, tiny, tiny_live, "regular2")
    results: list[dict[str, Any]] = []
    for sec in args.sections.split(","):
        values = load(sec)
        if values is None:
            print(f"skip {sec}: ../shared/data/sections not found", file=sys.stderr)
            continue
        print(f"\n### {sec} {values.shape}\n")
        print("| case | method | SNR missing (dB) | SNR full (dB) | time (s) |")
        print("|---|---|---:|---:|---:|")
        for case in args.cases.split(","):
            live = make_mask(values.shape[:-1], CASES[case], seed=args.seed)
            hidden = np.broadcast_to(~live[..., None], values.shape)
            every = np.ones(values.shape, dtype=bool)
            rows = []
            for name in peers + methods:
                if (
                    name == "peer:pydrr"
                    and args.pydrr_cases != "all"
                    and f"{sec}/{case}" not in args.pydrr_cases
                ):
                    continue
                key = f"{sec}/{case}/{name}/{args.seed}"
                if name == "peer:pydrr" and key in cache and not args.refresh_peers:
                    rec = cache[key]
                else:
                    out, elapsed, err = run_one(name, values, live, case)
                    rec = {"time_s": elapsed, "error": err}
                    if out is not None:
                        rec["snr_missing"] = snr(values, out, hidden)
                        rec["snr_full"] = snr(values, out, every)
                    if name == "peer:pydrr" and out is not None:
                        cache[key] = rec
                        cache_path.write_text(json.dumps(cache, indent=1))
                row = {"section": sec, "case": case, "method": name, **rec}
                rows.append(row)
                if "snr_missing" in rec:
                    print(
                        f"| {case} | {name} | {rec['snr_missing']:.2f} | {rec['snr_full']:.2f} | "
                        f"{rec['time_s']:.2f} |",
                        flush=True,
                    )
                elif rec.get("error") != "regular decimation only":
                    print(f"| {case} | {name} | failed: {rec['error'][:60]} | | |", flush=True)
            results.extend(rows)
    # Summary: best peer vs best of ours per case.
    print("\n### Best per case (SNR on the hidden traces)\n")
    print("| section | case | best peer | dB | best Promethium | dB | margin (dB) |")
    print("|---|---|---|---:|---|---:|---:|")
    for sec in dict.fromkeys(r["section"] for r in results):
        for case in dict.fromkeys(r["case"] for r in results if r["section"] == sec):
            rs = [r for r in results if r["section"] == sec and r["case"] == case and "snr_missing" in r]
            pr = [r for r in rs if r["method"].startswith("peer:")]
            ou = [r for r in rs if not r["method"].startswith("peer:")]
            if not pr or not ou:
                continue
            bp = max(pr, key=lambda r: r["snr_missing"])
            bo = max(ou, key=lambda r: r["snr_missing"])
            print(
                f"| {sec} | {case} | {bp['method'][5:]} | {bp['snr_missing']:.2f} | {bo['method']} | "
                f"{bo['snr_missing']:.2f} | {bo['snr_missing'] - bp['snr_missing']:+.2f} |"
            )
    Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
