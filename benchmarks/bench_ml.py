"""Benchmark: learned reconstruction on CPU - inference throughput and a short training run.

Run from the repository root::

    nice -n 10 .venv/bin/python benchmarks/bench_ml.py [--traces 2000] [--samples 1000] [--threads 1]
        [--train-steps 0] [--model unet] [--batch-size N]

Inference: a synthetic 2D section of ``--traces`` x ``--samples`` (4 ms) with 50 % of the traces removed
at random is filled by an untrained model of the default size (throughput does not depend on the
weights) through :func:`promethium.ml.reconstruct` with the default windows (128 x 512, 12.5 % overlap)
and batch size; the figures are traces per second of wall time and per second of the process's CPU
time (which the shared, loaded machine distorts less), normalised to traces of 1,000 samples.
``--train-steps N`` also trains on synthetic 32 x 64 patches for N steps and reports steps per second
and the validation SNR on the hidden traces, and scores the trained model against ``linear``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

__all__ = ["main"]


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=None, help="windows a batch (default: automatic)")
    ap.add_argument("--model", default="unet")
    ap.add_argument("--variant", default="plain")
    ap.add_argument("--train-steps", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)

    import torch

    from promethium.ml import build_model, reconstruct, train
    from promethium.ml.train import TrainConfig
    from promethium.signal.masks import make_mask
    from promethium.signal.metrics import snr
    from promethium.synthetic import make_survey

    torch.set_num_threads(args.threads)
    data = make_survey("2d", n_traces=args.traces, n_samples=args.samples, seed=0)
    keep = make_mask((args.traces,), "random:0.5", seed=0)
    damaged = data.replace(np.where(keep[:, None], data.values, 0), trace_mask=keep)
    kw = {"variant": args.variant} if args.model == "unet" else {}
    model = build_model(args.model, **kw)
    reconstruct(damaged.isel(trace=slice(0, 64)), model, device="cpu")  # warm-up
    times, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        reconstruct(damaged, model, device="cpu", batch_size=args.batch_size)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    best = min(times)
    result: dict[str, object] = {
        "model": args.model,
        "variant": args.variant if args.model == "unet" else None,
        "n_parameters": model.n_parameters,
        "threads": args.threads,
        "shape": [args.traces, args.samples],
        "infer_s": round(best, 3),
        "traces_per_s_1000": round(args.traces * args.samples / 1000 / best, 1),
        "traces_per_cpu_s_1000": round(args.traces * args.samples / 1000 / min(cpu), 1),
    }
    if args.train_steps > 0:
        cfg = TrainConfig(
            model=args.model,
            model_args=kw,
            steps=args.train_steps,
            batch_size=16,
            val_every=max(1, args.train_steps // 5),
            device="cpu",
        )
        t0 = time.perf_counter()
        res = train(cfg)
        elapsed = time.perf_counter() - t0
        out = reconstruct(damaged, res.model, device="cpu", patch=(64, 256))
        from promethium.signal.reconstruction import reconstruct as classical

        lin = classical(damaged, "linear")
        hidden = ~keep
        result.update(
            train_steps=args.train_steps,
            train_steps_per_s=round(args.train_steps / elapsed, 2),
            val_snr_missing_db=[round(r["val_snr_missing_db"], 2) for r in res.history],
            survey_snr_missing_db=round(snr(data.values[hidden], out.values[hidden]), 2),
            linear_snr_missing_db=round(snr(data.values[hidden], lin.values[hidden]), 2),
        )
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
