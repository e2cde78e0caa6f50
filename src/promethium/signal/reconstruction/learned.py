"""``fx_learned``: a data-driven (Wiener) interpolator with per-frequency, per-time-window weights learned
on held-out live traces.

Every missing trace is predicted from a few *features*, all traces in their own positions:

- the candidate reconstructions at the trace: the raw dip-steered prediction
  (:mod:`promethium.signal.reconstruction.dipsteer`, without its own dip/linear combination), linear
  interpolation and further registered methods (``extra``; ``"auto"``: ``drr``, and ``pocs`` too on 3D
  data: rank reduction adds a prediction that averages many traces, which on the real sections raised
  the result by 0.05-0.2 dB at 50 % and 75 % random, 2026-12-05; none on a regular decimation, where
  both alias and the held-out traces cannot show it);
- the sums ``X[i-j] + X[i+j]`` and differences ``X[i+j] - X[i-j]`` of the dip-filled section ``X`` (live
  traces exact, missing ones dip-filled) at ``j = 1 .. neighbours`` traces along the last trace axis (and
  along the inline axis in 3D).

In each time window (``time_window`` samples, half overlapping, Hann tapers normalised to a partition of
unity; optionally also per ``trace_window`` traces along the line, pooled with the whole line) and at
each frequency, complex weights ``w`` minimising ``sum |D - sum_k w_k F_k|^2`` over the
held-out traces are fitted (ridge-regularised normal equations, smoothed over ``smooth_bins`` frequency
bins and pooled with the whole-section equations by ``pool``), ``D`` being the recorded spectra of
held-out live traces and ``F_k`` their features computed from the remaining live traces only. The held-out
traces are chosen like the real gaps (:func:`promethium.signal.reconstruction.dipsteer.holdout_mask`),
``repeats`` times with different seeds, and the equations of all the held-out sets are summed.
Complex weights on neighbour sums and differences can shift (steer along a local dip) and smooth;
weights below one shrink what nothing predicts (incoherent noise), so the fit generalises linear, dip and
``blend`` weights and learns how far to trust the neighbours at each frequency and depth.

As in ``blend``, a held-out set whose traces cannot sit in gaps like the real ones (regular decimation)
would bias the fit and is dropped; without any held-out set left, ``dip`` (with its defaults) is
returned. Deterministic for a given ``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from promethium.core.errors import ParameterError
from promethium.signal._base import check_range
from promethium.signal.masks import mean_gap, regular_decimation
from promethium.signal.reconstruction import dipsteer
from promethium.signal.reconstruction._registry import Method, get_method
from promethium.signal.reconstruction._windows import (
    hann_partition,
    overlap_add,
    segment_spectra,
    smooth_frequency,
)
from promethium.signal.reconstruction.baseline import linear_fill
from promethium.signal.reconstruction.dipsteer import holdout_mask
from promethium.signal.reconstruction.ensemble import _run_candidate
from promethium.signal.slopes import parse_scales, parse_smoothing

__all__ = ["METHODS", "learned_fill"]

_DEFAULTS: dict[str, Any] = {
    "neighbours": 0,
    "time_window": 256,
    "trace_window": None,
    "smooth_bins": 2.0,
    "pool": 1.0,
    "ridge": 1e-2,
    "holdout": 0.25,
    "repeats": 2,
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


def _solve(a: np.ndarray, b: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge solution of the per-frequency normal equations ``a w = b`` (``a``: ``(nf, K, K)``)."""
    k = a.shape[-1]
    diag = np.real(np.trace(a, axis1=1, axis2=2)) / k
    floor = ridge * diag.mean() + 1e-30
    a = a + (ridge * diag + floor)[:, None, None] * np.eye(k)
    return np.linalg.solve(a, b[..., None])[..., 0]


def _run_denoise(name: str, values: np.ndarray, dt: float) -> np.ndarray:
    """``values`` (every trace filled) denoised by a registered denoising method with its defaults."""
    from promethium.signal.reconstruction._run import run_kernel

    method = get_method(name, "denoise")
    params = dict(method.params)
    if method.validate is not None:
        method.validate(params)
    out, _ = run_kernel(method, values, np.ones(values.shape[:-1], dtype=bool), dt, params)
    return out


def _lateral(n: int, window: int | None) -> np.ndarray:
    """Partition of unity over the ``n`` positions of the last trace axis: ``(n_win, n)`` weights of
    half-overlapping Hann windows ``window`` traces long (one window of ones for ``None`` or
    ``window >= n``)."""
    if window is None or window >= n:
        return np.ones((1, n))
    starts, length, tapers = hann_partition(n, window)
    out = np.zeros((len(starts), n))
    for i, (s, taper) in enumerate(zip(starts, tapers, strict=True)):
        out[i, s : s + length] = taper
    return out


def _fit_predict(
    values: np.ndarray,
    miss: np.ndarray,
    helds: list[np.ndarray],
    cands_full: list[np.ndarray],
    cands_cv: list[list[np.ndarray]],
    *,
    neighbours: int,
    time_window: int,
    trace_window: int | None,
    smooth_bins: float,
    pool: float,
    ridge: float,
    complex_weights: bool,
) -> np.ndarray:
    """Weights fitted on the held-out traces (their candidates ``cands_cv``), applied to the candidates of
    the missing traces: the predictions of the missing traces, ``(n_missing, nt)``.

    Per time window and per lateral window (``trace_window`` traces along the last trace axis, ``None``:
    the whole line), the normal equations of the held-out traces in the window (weighted by the window's
    taper) are pooled with those of the time window over the whole line (scaled to the window's share of
    the held-out traces), so that the weights adapt to lateral changes without losing the whole line's
    statistics where a window holds few traces."""
    f_full = _features(cands_full, cands_full[0], miss, neighbours)
    nt = values.shape[-1]
    starts, length, tapers = hann_partition(nt, time_window)
    nfft = 2 * length
    lat = _lateral(values.shape[-2], trace_window)  # (n_lat, n_line)
    n_lat = lat.shape[0]
    a_sys: list[list[Any]] = [[0.0] * n_lat for _ in starts]
    b_sys: list[list[Any]] = [[0.0] * n_lat for _ in starts]
    share = np.zeros(n_lat)
    for held, cands in zip(helds, cands_cv, strict=True):
        f_cv = _features(cands, cands[0], held, neighbours)
        ref = values[held]
        rw = lat[:, np.nonzero(held)[-1]]  # (n_lat, rows)
        share += rw.sum(axis=1)
        for i, (s, taper) in enumerate(zip(starts, tapers, strict=True)):
            p = segment_spectra(f_cv, s, length, taper, nfft)  # (K, rows, nf)
            r = segment_spectra(ref, s, length, taper, nfft)  # (rows, nf)
            for j in range(n_lat):
                pw = p * rw[j][None, :, None] if n_lat > 1 else p
                a = np.einsum("krf,lrf->fkl", pw.conj(), p)
                b = np.einsum("krf,rf->fk", pw.conj(), r)
                if not complex_weights:
                    a, b = a.real + 0j, b.real + 0j
                a_sys[i][j] = a_sys[i][j] + smooth_frequency(a, smooth_bins)
                b_sys[i][j] = b_sys[i][j] + smooth_frequency(b, smooth_bins)
    share = share / max(float(share.sum()), 1e-30)
    a_time = [sum(row) for row in a_sys]
    b_time = [sum(row) for row in b_sys]
    a_all = sum(a_time) / len(starts)
    b_all = sum(b_time) / len(starts)
    pred = np.zeros((f_full.shape[1], nt))
    mw = lat[:, np.nonzero(miss)[-1]]  # (n_lat, rows)
    for i, (s, taper) in enumerate(zip(starts, tapers, strict=True)):
        a_i = a_time[i] + pool * a_all
        b_i = b_time[i] + pool * b_all
        spec_full = segment_spectra(f_full, s, length, taper, nfft)
        spec = np.zeros(spec_full.shape[1:], dtype=complex)
        for j in range(n_lat):
            if n_lat == 1:
                w = _solve(a_i, b_i, ridge)  # (nf, K)
            else:
                w = _solve(a_sys[i][j] + share[j] * a_i, b_sys[i][j] + share[j] * b_i, ridge)
            if not complex_weights:
                w = w.real
            contrib = np.einsum("fk,krf->rf", w, spec_full)
            spec += contrib if n_lat == 1 else contrib * mw[j][:, None]
        overlap_add(pred, spec, s, length, nfft)
    return pred


def learned_fill(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    neighbours: int = 0,
    time_window: int = 256,
    trace_window: int | None = None,
    smooth_bins: float = 2.0,
    pool: float = 1.0,
    ridge: float = 1e-2,
    holdout: float = 0.25,
    repeats: int = 2,
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
    # Held-out sets whose gaps look like the real ones; regular decimation cannot be copied onto live
    # traces (the held-out gaps come out wider than the real ones), and then ``dip`` is returned.
    helds = []
    for r in range(repeats):
        held = holdout_mask(live, holdout, seed + r)
        sub = live & ~held
        if held.sum() >= 2 and sub.sum() >= 2 and mean_gap(sub) <= 1.5 * mean_gap(~miss):
            helds.append(held)
    if not helds:
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
    if extra == "auto":
        # Transform methods alias on a regular decimation (they score far below linear there): none then.
        names: tuple[str, ...] = (
            () if regular_decimation(live) else ("pocs", "drr") if n_axes == 2 else ("drr",)
        )
    else:
        names = tuple(extra)
    others = [get_method(n, "reconstruct") for n in names]

    def candidates(vals: np.ndarray, lv: np.ndarray, fields: Any) -> tuple[list[np.ndarray], Any]:
        dip, used = dipsteer._dip_predict(vals, lv, fields=fields, **kw)
        out = [dip, linear_fill(vals, lv)]
        out += [_run_denoise(name, dip, dt) for name in denoise]
        out += [_run_candidate(m, vals, lv, dt) for m in others]
        return out, used

    cands_full, fields = candidates(values, live, None)
    subs = [live & ~held for held in helds]
    sub_values = [np.where(sub[..., None], values, 0.0) for sub in subs]
    # Slopes of the full live set, averaged over the wider gaps of the subset (as ``dip`` does).
    cands_cv = [candidates(sv, sub, fields)[0] for sv, sub in zip(sub_values, subs, strict=True)]
    fit: dict[str, Any] = {"neighbours": neighbours, "time_window": time_window, "smooth_bins": smooth_bins}
    fit["trace_window"] = trace_window
    fit |= {"pool": pool, "ridge": ridge, "complex_weights": complex_weights}
    pred = _fit_predict(values, miss, helds, cands_full, cands_cv, **fit)
    out = values.copy()
    out[miss] = pred
    return out


def _validate(p: dict[str, Any]) -> None:
    check_range("neighbours", p["neighbours"], low=0, high=16, integer=True)
    check_range("time_window", p["time_window"], low=16, high=1_000_000, integer=True)
    if p["trace_window"] is not None:
        check_range("trace_window", p["trace_window"], low=8, high=1_000_000, integer=True)
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
        trace_window=None if params["trace_window"] is None else int(params["trace_window"]),
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
