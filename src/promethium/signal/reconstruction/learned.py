"""``fx_learned``: a data-driven (Wiener) interpolator with per-frequency, per-time-window weights learned
on held-out live traces.

Every missing trace is predicted from a few *features*, all traces in their own positions:

- the candidate reconstructions at the trace: the raw dip-steered prediction
  (:mod:`promethium.signal.reconstruction.dipsteer`, without its own dip/linear combination), linear
  interpolation and, optionally, further registered methods (``extra``; ``"auto"``: ``pocs`` on 3D data);
- the sums ``X[i-j] + X[i+j]`` and differences ``X[i+j] - X[i-j]`` of the dip-filled section ``X`` (live
  traces exact, missing ones dip-filled) at ``j = 1 .. neighbours`` traces along the last trace axis (and
  along the inline axis in 3D).

In each time window (``window`` samples, half overlapping, Hann tapers normalised to a partition of
unity) and at each frequency, complex weights ``w`` minimising ``sum |D - sum_k w_k F_k|^2`` over the
held-out traces are fitted (ridge-regularised normal equations, smoothed over ``smooth_bins`` frequency
bins and pooled with the whole-section equations by ``pool``), ``D`` being the recorded spectra of
held-out live traces and ``F_k`` their features computed from the remaining live traces only. The held-out
traces are chosen like the real gaps (:func:`promethium.signal.reconstruction.dipsteer.holdout_mask`).
Complex weights on neighbour sums and differences can shift (steer along a local dip) and smooth;
weights below one shrink what nothing predicts (incoherent noise), so the fit generalises linear, dip and
``blend`` weights and learns how far to trust the neighbours at each frequency and depth.

As in ``blend``, when the held-out traces cannot sit in gaps like the real ones (regular decimation) the
fit would be biased and ``dip`` (with its defaults) is returned instead. Deterministic for a given
``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from promethium.core.errors import ParameterError
from promethium.signal._base import check_range
from promethium.signal.reconstruction import dipsteer
from promethium.signal.reconstruction._registry import Method, get_method
from promethium.signal.reconstruction.baseline import linear_fill
from promethium.signal.reconstruction.dipsteer import holdout_mask
from promethium.signal.reconstruction.ensemble import _mean_run, _run_candidate
from promethium.signal.slopes import parse_scales, parse_smoothing

__all__ = ["METHODS", "learned_fill"]

_DEFAULTS: dict[str, Any] = {
    "neighbours": 0,
    "time_window": 256,
    "smooth_bins": 2.0,
    "pool": 1.0,
    "ridge": 1e-2,
    "holdout": 0.25,
    "repeats": 1,
    "complex_weights": False,
    "denoise": ("fx_decon",),
    "extra": "auto",
    "seed": 0,
}


def _shifted(x: np.ndarray, axis: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` at index ``i - j`` and ``i + j`` along ``axis`` (indices clipped to the array)."""
    n = x.shape[axis]
    idx = np.arange(n)
    lo = np.take(x, np.clip(idx - j, 0, n - 1), axis=axis)
    hi = np.take(x, np.clip(idx + j, 0, n - 1), axis=axis)
    return lo, hi


def _features(cands: list[np.ndarray], filled: np.ndarray, rows: np.ndarray, neighbours: int) -> np.ndarray:
    """Features of the traces selected by ``rows`` (bool over the trace axes): ``(n_feat, n_rows, nt)``."""
    feats = [c[rows] for c in cands]
    for axis in range(filled.ndim - 1):
        if filled.shape[axis] < 2:
            continue
        for j in range(1, neighbours + 1):
            lo, hi = _shifted(filled, axis, j)
            feats.append(lo[rows] + hi[rows])
            feats.append(hi[rows] - lo[rows])
    return np.stack(feats)


def _windows(nt: int, window: int) -> tuple[list[int], int, np.ndarray]:
    """Window starts, length and tapers (``(n_win, length)``) forming a partition of unity over ``nt``."""
    if nt <= window:
        return [0], nt, np.ones((1, nt))
    hop = window // 2
    starts = [*range(0, nt - window, hop), nt - window]
    raw = np.sin(np.pi * (np.arange(window) + 0.5) / window) ** 2
    total = np.zeros(nt)
    for s in starts:
        total[s : s + window] += raw
    tapers = np.stack([raw / total[s : s + window] for s in starts])
    return starts, window, tapers


def _spectra(x: np.ndarray, s: int, length: int, taper: np.ndarray, nfft: int) -> np.ndarray:
    """Spectra of the tapered segment ``[s, s + length)`` of the rows of ``x`` (last axis time), the segment
    centred in ``nfft`` samples."""
    buf = np.zeros((*x.shape[:-1], nfft))
    off = (nfft - length) // 2
    buf[..., off : off + length] = x[..., s : s + length] * taper
    return np.fft.rfft(buf, axis=-1)


def _solve(a: np.ndarray, b: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge solution of the per-frequency normal equations ``a w = b`` (``a``: ``(nf, K, K)``)."""
    k = a.shape[-1]
    diag = np.real(np.trace(a, axis1=1, axis2=2)) / k
    floor = ridge * diag.mean() + 1e-30
    a = a + (ridge * diag + floor)[:, None, None] * np.eye(k)
    return np.linalg.solve(a, b[..., None])[..., 0]


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return x
    return ndimage.gaussian_filter1d(x.real, sigma, axis=0, mode="nearest") + 1j * ndimage.gaussian_filter1d(
        x.imag, sigma, axis=0, mode="nearest"
    )


def _run_denoise(name: str, values: np.ndarray, dt: float) -> np.ndarray:
    """``values`` (every trace filled) denoised by a registered denoising method with its defaults."""
    from promethium.signal.reconstruction._run import run_kernel

    method = get_method(name, "denoise")
    params = dict(method.params)
    if method.validate is not None:
        method.validate(params)
    out, _ = run_kernel(method, values, np.ones(values.shape[:-1], dtype=bool), dt, params)
    return out


def learned_fill(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    neighbours: int = 0,
    time_window: int = 256,
    smooth_bins: float = 2.0,
    pool: float = 1.0,
    ridge: float = 1e-2,
    holdout: float = 0.25,
    repeats: int = 1,
    complex_weights: bool = False,
    denoise: tuple[str, ...] = ("fx_decon",),
    extra: tuple[str, ...] | str = "auto",
    seed: int = 0,
) -> np.ndarray:
    """Fill the missing traces of ``values`` (``(trace, time)`` or ``(inline, crossline, time)``, missing
    traces zero; ``live`` bool over the trace axes) with the learned interpolator of the module docstring."""
    miss = ~live
    if not miss.any():
        return values.copy()
    helds = [holdout_mask(live, holdout, seed + r) for r in range(repeats)]
    for held in helds:
        sub = live & ~held
        # Regular decimation cannot be copied onto live traces (held-out gaps wider than the real ones).
        if held.sum() < 2 or sub.sum() < 2 or _mean_run(~sub) > 1.5 * _mean_run(miss):
            return _run_candidate(get_method("dip", "reconstruct"), values, live, dt)
    n_axes = values.ndim - 1
    d = dipsteer._DEFAULTS
    kw: dict[str, Any] = {
        "smoothing": parse_smoothing(d["smoothing"], n_axes),
        "scales": parse_scales(d["scales"]),
        "n_iter": int(d["n_iter"]),
        "max_slope": float(d["max_slope"]),
        "eps": float(d["eps"]),
        "step_gap": int(d["step_gap"]),
    }
    names = (("pocs",) if n_axes == 2 else ()) if extra == "auto" else tuple(extra)
    others = [get_method(n, "reconstruct") for n in names]

    def candidates(vals: np.ndarray, lv: np.ndarray, fields: Any) -> tuple[list[np.ndarray], Any]:
        dip, used = dipsteer._dip_predict(vals, lv, fields=fields, **kw)
        out = [dip, linear_fill(vals, lv)]
        out += [_run_denoise(name, dip, dt) for name in denoise]
        out += [_run_candidate(m, vals, lv, dt) for m in others]
        return out, used

    cands_full, fields = candidates(values, live, None)
    f_full = _features(cands_full, cands_full[0], miss, neighbours)
    nt = values.shape[-1]
    starts, length, tapers = _windows(nt, time_window)
    nfft = 2 * length
    systems: list[list[np.ndarray]] = [[np.zeros(0), np.zeros(0)] for _ in starts]
    for held in helds:
        sub = live & ~held
        sub_values = np.where(sub[..., None], values, 0.0)
        # Slopes of the full live set, averaged over the wider gaps of the subset (as ``dip`` does).
        cands_cv, _ = candidates(sub_values, sub, fields)
        f_cv = _features(cands_cv, cands_cv[0], held, neighbours)
        ref = values[held]
        for i, (s, taper) in enumerate(zip(starts, tapers, strict=True)):
            p = _spectra(f_cv, s, length, taper, nfft)  # (K, rows, nf)
            r = _spectra(ref, s, length, taper, nfft)  # (rows, nf)
            a = np.einsum("krf,lrf->fkl", p.conj(), p)
            b = np.einsum("krf,rf->fk", p.conj(), r)
            if not complex_weights:
                a, b = a.real + 0j, b.real + 0j
            a, b = _smooth(a, smooth_bins), _smooth(b, smooth_bins)
            systems[i] = [a, b] if systems[i][0].size == 0 else [systems[i][0] + a, systems[i][1] + b]
    a_all = sum(a for a, _ in systems) / len(systems)
    b_all = sum(b for _, b in systems) / len(systems)
    pred = np.zeros((f_full.shape[1], nt))
    off = (nfft - length) // 2
    for (a, b), s, taper in zip(systems, starts, tapers, strict=True):
        w = _solve(a + pool * a_all, b + pool * b_all, ridge)  # (nf, K)
        if not complex_weights:
            w = w.real
        spec = np.einsum("fk,krf->rf", w, _spectra(f_full, s, length, taper, nfft))
        seg = np.fft.irfft(spec, n=nfft, axis=-1)
        lo, hi = s - off, s - off + nfft
        pred[:, max(lo, 0) : min(hi, nt)] += seg[:, max(-lo, 0) : nfft - max(hi - nt, 0)]
    out = values.copy()
    out[miss] = pred
    return out


def _validate(p: dict[str, Any]) -> None:
    check_range("neighbours", p["neighbours"], low=0, high=16, integer=True)
    check_range("time_window", p["time_window"], low=16, high=1_000_000, integer=True)
    check_range("smooth_bins", p["smooth_bins"], low=0.0, high=1000.0)
    check_range("pool", p["pool"], low=0.0, high=1e6)
    check_range("ridge", p["ridge"], low=0.0, high=1e6, low_open=True)
    check_range("holdout", p["holdout"], low=0.05, high=0.5)
    check_range("seed", p["seed"], low=0, high=2**32 - 1, integer=True)
    check_range("repeats", p["repeats"], low=1, high=8, integer=True)
    if not isinstance(p["complex_weights"], bool | np.bool_):
        raise ParameterError("complex_weights", f"must be True or False, got {p['complex_weights']!r}")
    den = p["denoise"]
    den = (den,) if isinstance(den, str) else den
    try:
        den = tuple(str(m).strip().lower().replace("-", "_") for m in den)
    except TypeError as exc:
        raise ParameterError("denoise", f"must be a sequence of denoising methods, got {den!r}") from exc
    for name in den:
        try:
            get_method(name, "denoise")
        except ParameterError as exc:
            raise ParameterError("denoise", f"{name!r}: {exc}") from exc
    p["denoise"] = den
    extra = p["extra"]
    if isinstance(extra, str) and extra.strip().lower() == "auto":
        p["extra"] = "auto"
        return
    if isinstance(extra, str):
        extra = (extra,)
    try:
        names = tuple(str(m).strip().lower().replace("-", "_") for m in extra)
    except TypeError as exc:
        raise ParameterError("extra", f"must be 'auto' or a sequence of method names, got {extra!r}") from exc
    for name in names:
        if name in ("dip", "linear", "fx_learned", "blend"):
            raise ParameterError("extra", f"{name!r} cannot be an extra candidate", allowed="e.g. ('pocs',)")
        try:
            get_method(name, "reconstruct")
        except ParameterError as exc:
            raise ParameterError("extra", f"{name!r}: {exc}") from exc
    if len(set(names)) != len(names):
        raise ParameterError("extra", f"lists a method twice: {extra!r}")
    p["extra"] = names


def _learned(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    return learned_fill(
        values,
        live,
        dt,
        neighbours=int(params["neighbours"]),
        time_window=int(params["time_window"]),
        smooth_bins=float(params["smooth_bins"]),
        pool=float(params["pool"]),
        ridge=float(params["ridge"]),
        holdout=float(params["holdout"]),
        repeats=int(params["repeats"]),
        complex_weights=bool(params["complex_weights"]),
        denoise=tuple(params["denoise"]),
        extra=params["extra"],
        seed=int(params["seed"]),
    )


METHODS = [
    Method(
        name="fx_learned",
        kind="reconstruct",
        fn=_learned,
        description="per-frequency, per-time-window Wiener interpolator learned on held-out live traces",
        params=dict(_DEFAULTS),
        window_2d=(None, None),
        window_3d=(None, None, None),
        needs_dt=False,
        validate=_validate,
    )
]
