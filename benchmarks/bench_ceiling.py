"""How predictable is a trace from its neighbours? The same methods with fewer and fewer traces hidden.

Run from the repository root (``../shared/data/sections`` beside it)::

    nice -n 5 .venv/bin/python benchmarks/bench_ceiling.py [--sections alaska_ho,shot,freeusp,cube]
        [--fractions 0.1,0.25,0.5,0.75] [--json out.json]

The quality targets of reconstruction are margins over the best classical method at 50 % and 75 % of the
traces removed at random. This benchmark measures the room there is for such margins on each real
section: the hidden-trace SNR of the best classical method (linear, dip-steered, f-x learned, f-x
prediction-error filters) when only 10 % or 25 % of the traces are hidden, where almost every hidden
trace still has both neighbours recorded: it shows how much of a trace its neighbours explain. What is
left (incoherent noise, energy that does not continue from trace to trace) no method, classical or
learned, can predict from the recorded traces. It is not a strict bound (a better method would also do
better at 10 %), but it sizes the room. The shipped network (``unet-reconstruct``;
``unet3d-reconstruct`` on the cube) runs on the same masks as is, for comparison (``--no-learned`` skips
it). A method that fills 50 % of missing traces ``X`` dB above the best classical method must therefore
beat, by about ``X`` minus the 10 %-to-50 % drop, what the same classical methods reach with 90 % of the
traces recorded: the last columns show that amount.

``--same-traces 0.1`` (default) scores the comparison like for like: the very traces hidden at 50 %
(75 %) are filled a group of 10 % of all traces at a time, every other trace recorded
(``same_traces_dip``, ``same_traces_fx_learned``, ``same_traces_fx_pef``), so the hidden set is the
same and only the neighbours differ.

Same masks as ``bench_learned.py`` (``make_mask(shape, f"random:{fraction}", seed=0)``); SNR in dB
over the hidden traces only (``promethium.signal.metrics.snr_missing``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_learned import _sections  # noqa: E402

__all__ = ["main"]

METHODS = ("linear", "dip", "fx_learned", "fx_pef")


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default="alaska_ho,shot,freeusp,cube")
    ap.add_argument("--fractions", default="0.1,0.25,0.5,0.75")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-learned", action="store_true", help="skip the shipped networks")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--same-traces",
        type=float,
        default=0.1,
        help="also fill the hidden traces of each fraction a group of this share of all traces at a time "
        "(0 skips it)",
    )
    args = ap.parse_args(argv)

    from promethium import signal
    from promethium.io.data import SeismicData
    from promethium.signal.masks import make_mask
    from promethium.signal.metrics import snr_missing

    secs = _sections()
    fractions = [float(f) for f in args.fractions.split(",")]
    rows: list[dict[str, object]] = []
    for name in args.sections.split(","):
        ref = SeismicData.from_array(secs[name], sample_interval=4.0)
        best: dict[float, float] = {}
        for fraction in fractions:
            keep = make_mask(ref.shape[:-1], f"random:{fraction}", seed=0)
            damaged = ref.replace(np.where(keep[..., None], ref.values, 0), trace_mask=keep)
            row: dict[str, object] = {"section": name, "hidden": fraction}
            for method in METHODS:
                t0 = time.perf_counter()
                out = signal.reconstruct(damaged, method=method)
                row[method] = [round(snr_missing(ref, out, keep), 2), round(time.perf_counter() - t0, 1)]
            if not args.no_learned:
                import torch

                from promethium import ml

                torch.set_num_threads(args.threads)
                name3 = "unet3d-reconstruct" if ref.values.ndim == 3 else None
                t0 = time.perf_counter()
                out = ml.reconstruct(damaged, ml.load_model(ml.resolve_model(name3)))
                row["network"] = [round(snr_missing(ref, out, keep), 2), round(time.perf_counter() - t0, 1)]
            best[fraction] = max(float(row[m][0]) for m in METHODS)  # type: ignore[index]
            row["best"] = round(best[fraction], 2)
            if args.same_traces and fraction > args.same_traces:
                # The very traces hidden at this fraction, filled a small group at a time with every
                # other trace recorded: what their neighbours explain of them, like for like.
                hidden = np.flatnonzero(~keep.ravel())
                order = np.random.default_rng(1).permutation(hidden)
                groups = np.array_split(order, int(np.ceil(hidden.size / (args.same_traces * keep.size))))
                for method in ("dip", "fx_learned", "fx_pef"):
                    t0 = time.perf_counter()
                    filled = np.zeros_like(ref.values)
                    for g in groups:
                        k = np.ones(keep.size, bool)
                        k[g] = False
                        k = k.reshape(keep.shape)
                        dmg = ref.replace(np.where(k[..., None], ref.values, 0), trace_mask=k)
                        out = signal.reconstruct(dmg, method=method)
                        filled.reshape(-1, ref.shape[-1])[g] = out.values.reshape(-1, ref.shape[-1])[g]
                    est = ref.replace(np.where(keep[..., None], ref.values, filled))
                    row[f"same_traces_{method}"] = [
                        round(snr_missing(ref, est, keep), 2),
                        round(time.perf_counter() - t0, 1),
                    ]
            rows.append(row)
            print(json.dumps(row), flush=True)
        low = min(best)
        for row in rows:
            if row["section"] == name:
                f = float(row["hidden"])  # type: ignore[arg-type]
                # what a +1.5 / +3 dB margin at this fraction asks, against the best at the lowest one
                row["plus1.5_vs_lowest"] = round(best[f] + 1.5 - best[low], 2)
                row["plus3_vs_lowest"] = round(best[f] + 3.0 - best[low], 2)
    result: dict[str, object] = {"rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
