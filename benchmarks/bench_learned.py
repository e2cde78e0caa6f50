"""Benchmark: the shipped networks against the classical methods on real sections they never saw.

Run from the repository root (``../shared/data/sections`` beside it)::

    nice -n 10 .venv/bin/python benchmarks/bench_learned.py [--cases random:0.5,random:0.75,regular:2]
        [--sections alaska_ho,freeusp,shot,cube] [--finetune-steps N] [--json out.json]

Reconstruction: per section and case, traces are hidden with ``make_mask(shape, case, seed=0)`` and
every method fills them; the figure is the SNR (dB) on the hidden traces only, with wall time. Methods:
``linear``, ``dip``, ``fx_learned`` (and ``fx_predict`` on regular decimation), the shipped
``unet-reconstruct`` as is (``unet``) and after self-supervised fine-tuning on the damaged section itself
(``unet_ft``: only its recorded traces are used). On volumes (``cube``) ``pocs`` joins the classical
methods and the 3D network (``--model3d``, default the shipped ``unet3d-reconstruct``) runs as is
(``unet3d``) and fine-tuned (``unet3d_ft``). ``alaska_ho`` is traces 400-533 of the Alaska line,
never seen in training (the model was trained on traces 0-399); the others were never used at all.
Denoising (``--denoise``): band-limited noise at 0 dB input SNR, shipped ``unet-denoise`` against
``rank_denoise`` and ``fx_decon``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

SECTIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "sections"


def _sections() -> dict[str, np.ndarray]:
    return {
        "alaska_ho": np.fromfile(SECTIONS / "alaska_1501x534_4ms.f32", "<f4").reshape(534, 1501)[400:],
        # the whole line (the shipped 2D networks trained on its traces 0-399: classical methods only)
        "alaska": np.fromfile(SECTIONS / "alaska_1501x534_4ms.f32", "<f4").reshape(534, 1501),
        "freeusp": np.fromfile(SECTIONS / "freeusp_stack_751x1285_4ms.f32", "<f4").reshape(1285, 751),
        "shot": np.fromfile(SECTIONS / "erratic_real_800x220_4ms.f32", "<f4").reshape(220, 800),
        "cube": np.fromfile(SECTIONS / "real3d_300x100x10.f32", "<f4").reshape(10, 100, 300),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="random:0.5,random:0.75,regular:2")
    ap.add_argument("--sections", default="alaska_ho,freeusp,shot,cube")
    ap.add_argument(
        "--finetune-steps",
        type=int,
        default=None,
        help="fine-tuning steps (default: promethium.ml.train.FINETUNE_DEFAULTS; 0 skips fine-tuning)",
    )
    ap.add_argument("--denoise", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--model3d", default="unet3d-reconstruct", help="3D model for volumes ('' to skip)")
    args = ap.parse_args(argv)

    import torch

    from promethium import ml, signal
    from promethium.io.data import SeismicData
    from promethium.ml.data import band_limited_noise
    from promethium.signal.masks import make_mask
    from promethium.signal.metrics import snr, snr_missing

    torch.set_num_threads(args.threads)
    secs = _sections()
    rows: list[dict[str, object]] = []
    for name in args.sections.split(","):
        ref = SeismicData.from_array(secs[name], sample_interval=4.0)
        if args.denoise:
            rng = np.random.default_rng(0)
            flat = ref.values.reshape(-1, *ref.values.shape[-2:])
            noise = band_limited_noise(flat, np.ones(flat.shape[:2], bool), rng, (1.0, 1.0))
            noisy = ref.replace((flat + noise).reshape(ref.values.shape))
            row: dict[str, object] = {
                "section": name,
                "case": "denoise_0dB",
                "input": round(snr(ref, noisy), 2),
            }
            for method in ("rank_denoise", "fx_decon", "unet"):
                t0 = time.perf_counter()
                out = ml.denoise(noisy) if method == "unet" else signal.denoise(noisy, method=method)
                row[method] = [round(snr(ref, out), 2), round(time.perf_counter() - t0, 1)]
            rows.append(row)
            print(json.dumps(row), flush=True)
            continue
        for case in args.cases.split(","):
            keep = make_mask(ref.shape[:-1], case, seed=0)
            damaged = ref.replace(np.where(keep[..., None], ref.values, 0), trace_mask=keep)
            row = {"section": name, "case": case}
            methods = ["linear", "dip", "fx_learned"] + (["fx_predict"] if case.startswith("regular") else [])
            if ref.values.ndim == 3:
                methods.append("pocs")
            for method in methods:
                t0 = time.perf_counter()
                try:
                    out = signal.reconstruct(damaged, method=method)
                    row[method] = [round(snr_missing(ref, out, keep), 2), round(time.perf_counter() - t0, 1)]
                except Exception as exc:  # a method that cannot run on this case is reported, not fatal
                    row[method] = str(exc)[:80]
            net = ml.load_model(ml.resolve_model(None))
            t0 = time.perf_counter()
            out = ml.reconstruct(damaged, net)
            row["unet"] = [round(snr_missing(ref, out, keep), 2), round(time.perf_counter() - t0, 1)]
            if args.finetune_steps != 0:
                t0 = time.perf_counter()
                ml.finetune(net, damaged, steps=args.finetune_steps)
                out = ml.reconstruct(damaged, net)
                row["unet_ft"] = [round(snr_missing(ref, out, keep), 2), round(time.perf_counter() - t0, 1)]
            if ref.values.ndim == 3 and args.model3d:
                net3 = ml.load_model(ml.resolve_model(args.model3d))
                t0 = time.perf_counter()
                out = ml.reconstruct(damaged, net3)
                row["unet3d"] = [round(snr_missing(ref, out, keep), 2), round(time.perf_counter() - t0, 1)]
                if args.finetune_steps != 0:
                    t0 = time.perf_counter()
                    ml.finetune(net3, damaged, steps=args.finetune_steps)
                    out = ml.reconstruct(damaged, net3)
                    row["unet3d_ft"] = [
                        round(snr_missing(ref, out, keep), 2),
                        round(time.perf_counter() - t0, 1),
                    ]
            classical = [v[0] for k, v in row.items() if k in methods and isinstance(v, list)]
            row["best_classical"] = max(classical)
            row["margin_unet"] = round(row["unet"][0] - max(classical), 2)  # type: ignore[index]
            for key in ("unet_ft", "unet3d", "unet3d_ft"):
                if key in row:
                    row[f"margin_{key}"] = round(row[key][0] - max(classical), 2)  # type: ignore[index]
            rows.append(row)
            print(json.dumps(row), flush=True)
    result: dict[str, object] = {"rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
