"""Side-by-side evaluation of reconstruction methods on the same hidden traces.

``evaluate(reference, ["linear", "pocs", "drr"], decimate="random:0.5")`` hides traces of a complete
section (only traces live in the reference are hidden, and only those are scored as "missing"), fills
them with every method, and measures SNR (whole section and hidden traces only), SSIM, PSNR and wall
time. The result prints as a table, serialises to JSON and draws a comparison figure with one clip.

Methods are looked up among the classical ones of :func:`promethium.signal.reconstruct`; other
families (the learned models) register extra evaluators with :func:`register_evaluator`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from promethium.core.errors import DataError, ParameterError, PromethiumError
from promethium.io.data import SeismicData
from promethium.signal import metrics as _metrics
from promethium.signal._base import ArrayOrData
from promethium.signal.masks import make_mask, parse_mask_spec

__all__ = ["Evaluation", "MethodResult", "evaluate", "register_evaluator"]

#: name -> fn(damaged SeismicData, params) -> reconstructed SeismicData; for methods outside the
#: classical registry (e.g. learned models registered by promethium.ml).
_EVALUATORS: dict[str, Callable[[SeismicData, dict[str, Any]], SeismicData]] = {}


def register_evaluator(name: str, fn: Callable[[SeismicData, dict[str, Any]], SeismicData]) -> None:
    """Make ``name`` usable in :func:`evaluate` (``fn(damaged, params) -> reconstructed``)."""
    _EVALUATORS[name.strip().lower().replace("-", "_")] = fn


@dataclass
class MethodResult:
    """One method's scores; ``error`` is set (and the scores are NaN-free ``None``) when it failed."""

    method: str
    snr: float | None = None
    snr_missing: float | None = None
    ssim: float | None = None
    psnr: float | None = None
    time_s: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    output: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        def num(x: float | None) -> float | str | None:
            if x is None:
                return None
            return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")

        return {
            "method": self.method,
            "snr_db": num(self.snr),
            "snr_missing_db": num(self.snr_missing),
            "ssim": num(self.ssim),
            "psnr_db": num(self.psnr),
            "time_s": self.time_s,
            "params": self.params,
            "error": self.error,
        }


@dataclass
class Evaluation:
    """The outcome of :func:`evaluate`."""

    decimate: str
    seed: int
    shape: tuple[int, ...]
    n_hidden: int
    n_live: int
    results: list[MethodResult]
    reference: SeismicData = field(repr=False)
    damaged: SeismicData = field(repr=False)

    @property
    def best(self) -> MethodResult | None:
        """The method with the highest SNR on the hidden traces (``None`` if all failed)."""
        ok = [r for r in self.results if r.snr_missing is not None]
        return max(ok, key=lambda r: r.snr_missing or -math.inf) if ok else None

    def rows(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "decimate": self.decimate,
            "seed": self.seed,
            "shape": list(self.shape),
            "n_live": self.n_live,
            "n_hidden": self.n_hidden,
            "best": None if best is None else best.method,
            "results": self.rows(),
        }

    def to_markdown(self) -> str:
        lines = [
            "| method | SNR (dB) | SNR missing (dB) | SSIM | time (s) |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in self.results:
            if r.error:
                lines.append(f"| {r.method} | failed: {r.error} | | | |")
                continue
            lines.append(
                f"| {r.method} | {_fmt(r.snr)} | {_fmt(r.snr_missing)} | {_fmt(r.ssim, 3)} | "
                f"{_fmt(r.time_s, 2)} |"
            )
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike[str] | None = None, *, inline: float | None = None) -> Any:
        """Reference, input and every output in the top row, their differences from the reference below,
        all with the reference's clip."""
        from promethium.plotting import plot_panels

        ref = self.reference
        panels: list[tuple[str, SeismicData | np.ndarray]] = [
            ("Reference", ref),
            (f"Input ({self.decimate})", self.damaged),
        ]
        diffs: list[tuple[str, SeismicData | np.ndarray]] = [
            ("Hidden traces", ref.replace(ref.values * ~self.damaged.trace_mask[..., None])),
            ("Input − reference", ref.replace(self.damaged.values - ref.values)),
        ]
        for r in self.results:
            if r.output is None:
                continue
            panels.append((f"{r.method}: {_fmt(r.snr_missing)} dB", ref.replace(r.output)))
            diffs.append((f"{r.method} − reference", ref.replace(r.output - ref.values)))
        if ref.is_3d and inline is None:
            inline = float(ref.dataset["inline"].values[ref.shape[0] // 2])
        return plot_panels(
            panels + diffs, columns=len(panels), path=path, clip_from=0, inline=inline, mark_masked=False
        )


def _classical_methods() -> list[str]:
    from promethium.signal.reconstruction._registry import _MODULES

    return list(_MODULES)


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}f}"


def _as_reference(reference: ArrayOrData, dt_ms: float | None) -> SeismicData:
    if isinstance(reference, SeismicData):
        if dt_ms is not None:
            raise ParameterError("dt_ms", "is taken from the data for SeismicData input; do not pass it")
        return reference.astype(np.float32)
    arr = np.asarray(reference)
    if arr.ndim not in (2, 3):
        raise DataError(f"reference: expected a 2D or 3D array, got shape {arr.shape}")
    if dt_ms is None:
        raise ParameterError("dt_ms", "the sample interval is needed for numpy input", allowed="> 0 ms")
    return SeismicData.from_array(arr, sample_interval=dt_ms)


def evaluate(
    reference: ArrayOrData,
    methods: Sequence[str] = ("linear", "pocs"),
    *,
    decimate: str = "random:0.5",
    seed: int = 0,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    dt_ms: float | None = None,
    keep_outputs: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Evaluation:
    """Hide traces of ``reference`` by ``decimate`` and score every method on filling them.

    ``params`` maps a method name to its keyword parameters (window, overlap and method parameters of
    :func:`promethium.signal.reconstruct`). A method that raises is reported with its error and the
    others still run. ``progress(method, index, total)`` is called before each method.
    """
    from promethium.signal.reconstruction import reconstruct

    if not methods:
        raise ParameterError("methods", "name at least one method")
    parse_mask_spec(decimate)
    ref = _as_reference(reference, dt_ms)
    base = np.asarray(ref.trace_mask, dtype=bool)
    if not base.any():
        raise DataError("reference: every trace is dead; evaluation needs a complete section")
    keep = make_mask(ref.shape[:-1], decimate, seed=seed, base=base)
    hidden = base & ~keep
    damaged = ref.replace(np.where(keep[..., None], ref.values, 0.0), trace_mask=keep)
    results: list[MethodResult] = []
    params = params or {}
    classical = set(_classical_methods())
    if any(m.strip().lower().replace("-", "_") not in classical | set(_EVALUATORS) for m in methods):
        # Learned methods register their evaluators when promethium.ml is imported (torch loads lazily).
        import promethium.ml  # noqa: F401
    for k, name in enumerate(methods):
        if progress is not None:
            progress(name, k, len(methods))
        key = name.strip().lower().replace("-", "_")
        mparams = dict(params.get(name, params.get(key, {})))
        t0 = time.perf_counter()
        try:
            out: Any = (
                _EVALUATORS[key](damaged, mparams)
                if key in _EVALUATORS
                else reconstruct(damaged, key, **mparams)
            )
            if not isinstance(out, SeismicData):
                raise TypeError(f"method {name!r} returned {type(out).__name__}, not SeismicData")
        except PromethiumError as exc:
            results.append(MethodResult(method=name, params=mparams, error=str(exc)))
            continue
        elapsed = time.perf_counter() - t0
        est = np.asarray(out.values, dtype=np.float64)
        refv = np.asarray(ref.values, dtype=np.float64)
        results.append(
            MethodResult(
                method=name,
                snr=_metrics.snr(refv[base], est[base]),
                snr_missing=_metrics.snr(refv[hidden], est[hidden]) if hidden.any() else None,
                ssim=_metrics.ssim(refv, est),
                psnr=_metrics.psnr(refv, est),
                time_s=elapsed,
                params=mparams,
                output=est.astype(np.float32) if keep_outputs else None,
            )
        )
    return Evaluation(
        decimate=str(parse_mask_spec(decimate)),
        seed=seed,
        shape=tuple(ref.shape),
        n_hidden=int(hidden.sum()),
        n_live=int(base.sum()),
        results=results,
        reference=ref,
        damaged=damaged,
    )
