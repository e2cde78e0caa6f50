"""Zero-phase band-pass speed: Promethium's ``signal.filter`` against ``scipy.signal.sosfiltfilt``.

Both filter the same float32 array (order-4 Butterworth band-pass, 8-60 Hz at 4 ms) in one run; each
timing is the best of ``--repeat`` runs after one warm-up call (which also compiles, or loads from the
cache, the numba kernel). The interior agreement is the largest absolute difference, relative to the
largest absolute scipy output, over the samples more than ``--edge`` impulse-response lengths away from
either end of a trace (the fast engine matches everywhere; the FFT engine differs near the ends).

Usage: ``python benchmarks/bench_filter.py [--traces 10000] [--samples 2000] [--repeat 3] [--fft]``.
Prints one markdown table row per engine (``--fft`` adds the torch.fft engine on the CPU).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import scipy.signal as ss

from promethium.signal.filters import design_filter, filter

LOW, HIGH, DT_MS, ORDER = 8.0, 60.0, 4.0, 4


def best_of(fn: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    result = fn()  # warm-up (numba compilation or cache load, FFT plans)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--edge", type=float, default=1.0, help="interior margin, in impulse lengths")
    parser.add_argument("--fft", action="store_true", help="also time the torch.fft engine on the CPU")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.traces, args.samples), dtype=np.float32)
    fd = design_filter("bandpass", low=LOW, high=HIGH, order=ORDER, dt_ms=DT_MS)
    margin = int(np.ceil(args.edge * fd.impulse_length()))
    assert fd.sos is not None
    sos = fd.sos

    t_ref, ref = best_of(lambda: ss.sosfiltfilt(sos, x, axis=-1), args.repeat)
    engines = ["fast", "fft"] if args.fft else ["fast"]
    print(f"{args.traces} traces x {args.samples} samples float32, butter order {ORDER} {LOW:g}-{HIGH:g} Hz")
    print(f"interior: samples {margin} .. {args.samples - margin - 1} (impulse length {fd.impulse_length()})")
    print()
    print("| engine | traces x samples | sosfiltfilt (s) | promethium (s) | speed-up | max interior diff |")
    print("|---|---|---|---|---|---|")
    scale = float(np.abs(ref).max())
    for engine in engines:

        def run(engine: str = engine) -> np.ndarray:
            out = filter(x, "bandpass", low=LOW, high=HIGH, order=ORDER, dt_ms=DT_MS, engine=engine)
            return np.asarray(out)

        t_ours, ours = best_of(run, args.repeat)
        inner = slice(margin, args.samples - margin)
        diff = float(np.abs(ours[:, inner] - ref[:, inner]).max()) / scale
        print(
            f"| {engine} | {args.traces} x {args.samples} | {t_ref:.3f} | {t_ours:.3f} | "
            f"{t_ref / t_ours:.1f}x | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
