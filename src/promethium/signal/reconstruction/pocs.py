"""POCS: Projection Onto Convex Sets with Fourier thresholding (Abma & Kabir, 2006).

Seismic events that are locally linear are sparse in the f-k (2D) or f-k-k (3D) domain, while missing
traces spread their energy over all wavenumbers. POCS alternates two projections on a window:

1. sparsity: FFT over every axis (scipy ``rfftn``, time last), zero (hard) or shrink (soft) the
   coefficients below a threshold, inverse FFT;
2. data consistency: put the recorded traces back, ``d = alpha * observed + (1 - alpha) * d`` on the
   live traces (``alpha = 1`` reinserts them exactly; ``alpha < 1`` lets noise on them be attenuated).

The threshold decreases from ``thresh_max`` to ``thresh_min`` (fractions of the largest spectral
amplitude of the starting estimate) over ``n_iter`` iterations, exponentially or linearly, so the
strong, coherent events are rebuilt first and weaker ones later. Conventions used here:

- the starting estimate is the linear interpolation of the live traces (``init="linear"``, faster
  convergence and better results on real stacks than the classical zero start, ``init="zero"``);
- each axis is zero padded by ``pad`` (a fraction of its length) against wrap-around; the padded
  region is free (reconstructed, never constrained) and, with ``taper=True``, forced smoothly to zero
  towards the FFT edges with a cosine ramp every iteration;
- thresholds are global (``scale="global"``, Abma & Kabir) or relative to the largest amplitude of
  each temporal frequency (``scale="frequency"``, which keeps the weak high frequencies);
- the arithmetic is float32 / complex64 (the FFTs dominate the cost and need no more precision).

The sweep is hand-written: neither scipy nor pylops offers POCS, and pydrr's version (a peer,
benchmarks only) is neither vectorised over 3D nor configurable in these ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft as sfft

from promethium.core.errors import ParameterError
from promethium.signal._base import check_choice, check_range
from promethium.signal.reconstruction._registry import Method
from promethium.signal.reconstruction.baseline import linear_fill

__all__ = ["METHODS", "pocs_fill", "pocs_thresholds"]

_DEFAULTS: dict[str, Any] = {
    "n_iter": 60,
    "thresh_max": 0.5,
    "thresh_min": 0.005,
    "schedule": "exponential",
    "threshold": "hard",
    "alpha": 1.0,
    "init": "linear",
    "scale": "global",
    "pad": 0.25,
    "taper": True,
}


def pocs_thresholds(n_iter: int, thresh_max: float, thresh_min: float, schedule: str) -> np.ndarray:
    """The ``n_iter`` relative thresholds, from ``thresh_max`` down to ``thresh_min``.

    ``schedule="exponential"``: geometric decrease (Abma & Kabir's choice, most iterations at small
    thresholds); ``"linear"``: equal steps.
    """
    if n_iter == 1:
        return np.array([thresh_min], dtype=np.float64)
    k = np.arange(n_iter, dtype=np.float64) / (n_iter - 1)
    if schedule == "linear":
        return thresh_max + (thresh_min - thresh_max) * k
    return np.asarray(thresh_max * (thresh_min / thresh_max) ** k, dtype=np.float64)


def _pad_taper(shape: tuple[int, ...], padded: tuple[int, ...]) -> np.ndarray:
    """Weights over the padded array: 1 over the data, cosine ramps to 0 across each padded margin
    (the margin follows the data, so the ramp runs from the data's end to the FFT edge)."""
    w: np.ndarray = np.ones((), dtype=np.float32)
    for n, m in zip(shape, padded, strict=True):
        r = np.ones(m, dtype=np.float32)
        extra = m - n
        if extra > 0:
            x = (np.arange(1, extra + 1, dtype=np.float32)) / (extra + 1)
            r[n:] = np.cos(0.5 * np.pi * x) ** 2
        w = np.multiply.outer(w, r)
    return w


def pocs_fill(
    values: np.ndarray,
    live: np.ndarray,
    *,
    n_iter: int = 60,
    thresh_max: float = 0.5,
    thresh_min: float = 0.005,
    schedule: str = "exponential",
    threshold: str = "hard",
    alpha: float = 1.0,
    init: str = "linear",
    scale: str = "global",
    pad: float = 0.25,
    taper: bool = True,
) -> np.ndarray:
    """Fill the traces where ``live`` is False by POCS in one window (see the module docstring).

    ``values``: float array ``(trace, time)`` or ``(inline, crossline, time)``, missing traces zero;
    ``live``: bool over the trace axes. Returns a float64 array of the same shape (live traces hold the
    last iterate; the dispatcher puts the recorded ones back).
    """
    shape = tuple(int(n) for n in values.shape)
    live = np.asarray(live, dtype=bool)
    if live.all() or not live.any():
        return np.asarray(values, dtype=np.float64).copy()
    start = linear_fill(np.asarray(values, dtype=np.float64), live) if init == "linear" else values
    padded = tuple(sfft.next_fast_len(n + round(pad * n), real=True) if n > 1 else n for n in shape)
    d = np.zeros(padded, dtype=np.float32)
    core = tuple(slice(0, n) for n in shape)
    d[core] = start
    obs = np.zeros(padded, dtype=np.float32)
    obs[core] = np.where(live[..., None], values, 0.0)
    known = np.zeros(padded, dtype=bool)
    known[core] = np.broadcast_to(live[..., None], shape)
    obs_scaled = (alpha * obs).astype(np.float32)
    ramp = _pad_taper(shape, padded) if taper and padded != shape else None

    axes = tuple(range(d.ndim))
    spec = sfft.rfftn(d, axes=axes, workers=-1)
    amp = np.abs(spec)
    spatial = axes[:-1]
    ref = amp.max(axis=spatial, keepdims=True) if scale == "frequency" else np.asarray(amp.max())
    if not np.isfinite(ref).all() or float(np.max(ref)) <= 0.0:
        # All-zero window (dead zone): nothing to spread; the linear start is the answer.
        return np.asarray(start, dtype=np.float64).copy()
    ref = ref.astype(np.float32)
    taus = pocs_thresholds(n_iter, thresh_max, thresh_min, schedule)
    for k in range(n_iter):
        if k > 0:
            spec = sfft.rfftn(d, axes=axes, workers=-1)
            amp = np.abs(spec)
        tau = ref * np.float32(taus[k])
        if threshold == "soft":
            # Shrink the modulus by tau, keep the phase.
            gain = np.maximum(1.0 - tau / np.maximum(amp, np.float32(1e-30)), 0.0)
            spec *= gain.astype(np.float32)
        else:
            spec[amp < tau] = 0
        d = sfft.irfftn(spec, s=padded, axes=axes, workers=-1)
        if ramp is not None:
            d *= ramp
        if alpha >= 1.0:
            np.copyto(d, obs, where=known)
        else:
            d[known] *= np.float32(1.0 - alpha)
            d += np.where(known, obs_scaled, np.float32(0.0))
    return np.asarray(d[core], dtype=np.float64)


def _validate(p: dict[str, Any]) -> None:
    check_range("n_iter", p["n_iter"], low=1, high=10_000, integer=True)
    check_range("thresh_max", p["thresh_max"], low=0.0, high=1.0, low_open=True)
    check_range("thresh_min", p["thresh_min"], low=0.0, high=1.0, low_open=True)
    if p["thresh_min"] > p["thresh_max"]:
        raise ParameterError(
            "thresh_min",
            f"is {p['thresh_min']}, above thresh_max={p['thresh_max']}",
            allowed=f"(0, {p['thresh_max']}]",
        )
    p["schedule"] = check_choice("schedule", p["schedule"], ("exponential", "linear"))
    p["threshold"] = check_choice("threshold", p["threshold"], ("hard", "soft"))
    check_range("alpha", p["alpha"], low=0.0, high=1.0, low_open=True)
    p["init"] = check_choice("init", p["init"], ("linear", "zero"))
    p["scale"] = check_choice("scale", p["scale"], ("global", "frequency"))
    check_range("pad", p["pad"], low=0.0, high=2.0)
    if not isinstance(p["taper"], bool | np.bool_):
        raise ParameterError("taper", f"must be True or False, got {p['taper']!r}")


def _pocs(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    return pocs_fill(values, live, **params)


METHODS = [
    Method(
        name="pocs",
        kind="reconstruct",
        fn=_pocs,
        description="POCS: iterative f-k (f-k-k in 3D) thresholding with data reinsertion (Abma & Kabir)",
        params=dict(_DEFAULTS),
        window_2d=(64, 256),
        window_3d=(None, 64, 256),
        validate=_validate,
    )
]
