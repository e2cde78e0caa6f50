"""f-x prediction: dealiased interpolation of regularly decimated traces (Spitz 1991) and f-x deconvolution.

In a window where events are locally linear, each frequency slice ``X(x, f)`` is a sum of complex
exponentials across the (regularly spaced) traces, so it is predictable: ``X_j = sum_l a_l X_{j-l}`` with
a short complex filter ``a`` (``order`` coefficients). Both methods estimate ``a`` per frequency by
least squares on forward and backward (conjugated) prediction equations (the modified covariance
method), with prewhitening, batched over every frequency of a window.

``fx_predict`` (Spitz 1991; Porsani 1999): with live traces every ``r``-th position (``r = 2``: every other
trace missing), a linear event at frequency ``f / r`` on the coarse grid ``r dx`` has the same phase step
as at frequency ``f`` on the fine grid ``dx``. The filters are therefore estimated from the decimated data
at ``f / r`` (unaliased even where ``f`` is aliased on the coarse grid) and the missing traces at ``f``
are the least-squares solution that minimises the forward and backward prediction errors on the fine
grid, the live traces held fixed. Any extra missing trace is an unknown of the same solve. The spectrum
at ``f / r`` comes from an FFT ``r`` times longer, so no frequency interpolation is needed. Masks
without a regular pattern (``r = 1``) still work when enough runs of ``order + 1`` consecutive live traces
exist to estimate the filters (a gap in otherwise complete data); otherwise the window is handed to
rank reduction (``irregular="drr"``), to linear interpolation (``"linear"``) or refused (``"raise"``).

``fx_decon`` (Canales 1984): the filters estimated from the noisy data predict each trace forward from the
``order`` traces before it and backward from those after it; the average of the two predictions keeps the
predictable (linear) part and attenuates random noise.

3D windows: ``fx_predict`` works along the trace axis that carries the decimation (lines of the other
axis batched together); ``fx_decon`` averages the results along inlines and along crosslines.
Frequencies outside ``[low, high]`` Hz: ``fx_predict`` fills missing traces there by linear
interpolation; ``fx_decon`` sets them to zero (a band-pass).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.fft as sfft
from numpy.lib.stride_tricks import sliding_window_view

from promethium.core.errors import ParameterError
from promethium.signal._base import check_choice, check_range
from promethium.signal.reconstruction._registry import Method
from promethium.signal.reconstruction.baseline import linear_fill

__all__ = ["METHODS", "fx_decon", "fx_predict", "prediction_filters"]

#: Elements of the stacked fine-grid operators processed at once (bounds memory).
_CHUNK_ELEMENTS = 4_000_000
_TINY = 1e-30


# --------------------------------------------------------------------------- filters
def prediction_filters(
    c: np.ndarray, live: np.ndarray, order: int, prewhiten: float, return_residual: bool = False
) -> tuple[np.ndarray, ...]:
    """Complex forward prediction filters of the last axis of ``c`` (``(..., n)``), one per leading index.

    Least squares on the forward equations ``c_j = sum_l a_l c_{j-l}`` and the conjugated backward ones
    ``conj(c_j) = sum_l a_l conj(c_{j+l})`` (``l = 1..order``), using only the equations whose traces are
    all live (``live`` broadcastable to ``c``). Prewhitening adds ``prewhiten * trace(R) / order`` to the
    diagonal of the normal matrix ``R``. Returns ``a`` ``(..., order)`` and the number of usable equations
    per filter (``(...)`` ints, forward and backward counted separately); with ``return_residual`` also
    the relative prediction-error energy of the fit (0 = perfectly predictable, 1 = nothing predicted).
    """
    m = order
    w = sliding_window_view(c, m + 1, axis=-1)  # (..., n - m, m + 1): c_j .. c_{j+m}
    ok = sliding_window_view(np.broadcast_to(live, c.shape), m + 1, axis=-1).all(axis=-1)
    okf = ok.astype(c.real.dtype)[..., None]
    a_mat = np.concatenate([w[..., m - 1 :: -1] if m > 1 else w[..., :1], np.conj(w[..., 1:])], axis=-2)
    a_mat = a_mat * np.concatenate([okf, okf], axis=-2)
    y = np.concatenate([w[..., m], np.conj(w[..., 0])], axis=-1) * np.concatenate([ok, ok], axis=-1)
    ah = np.conj(np.swapaxes(a_mat, -1, -2))
    r = ah @ a_mat
    g = (ah @ y[..., None])[..., 0]
    lam = prewhiten * np.trace(r, axis1=-2, axis2=-1).real / m + _TINY
    r = r + lam[..., None, None] * np.eye(m, dtype=r.dtype)
    a = np.linalg.solve(r, g[..., None])[..., 0]
    if not return_residual:
        return a, 2 * ok.sum(axis=-1)
    err = y - (a_mat @ a[..., None])[..., 0]
    res = np.sum(np.abs(err) ** 2, axis=-1) / (np.sum(np.abs(y) ** 2, axis=-1) + _TINY)
    return a, 2 * ok.sum(axis=-1), np.minimum(res, 1.0)


def _error_operator(a: np.ndarray, n: int) -> np.ndarray:
    """Stacked forward + backward prediction-error operators on ``n`` traces: ``(..., 2 (n - m), n)``.

    Forward rows ``e_j = y_{j+m} - sum_l a_l y_{j+m-l}``; backward rows ``e_j = y_j - sum_l conj(a_l)
    y_{j+l}`` (the conjugate of the backward equation used to fit ``a``, linear in ``y``).
    """
    m = a.shape[-1]
    rows = n - m
    one = np.ones((*a.shape[:-1], 1), dtype=a.dtype)
    cf = np.concatenate([one, -a], axis=-1)  # at columns j + m - l, l = 0..m
    cb = np.concatenate([one, -np.conj(a)], axis=-1)  # at columns j + l
    e = np.zeros((*a.shape[:-1], 2 * rows, n), dtype=a.dtype)
    j = np.arange(rows)[:, None]
    lag = np.arange(m + 1)[None, :]
    e[..., j, j + m - lag] = cf[..., None, :]
    e[..., rows + j, j + lag] = cb[..., None, :]
    return e


# --------------------------------------------------------------------------- band helpers
def _band_bins(nf: int, dt: float, low: float, high: float | None) -> tuple[int, int]:
    nyq = 0.5 / dt
    if not 0 <= low < nyq:
        raise ParameterError("low", f"is {low} Hz, outside the data's band", allowed=f"[0, {nyq:g}) Hz")
    if high is not None and not low < high <= nyq:
        raise ParameterError(
            "high", f"is {high} Hz; it must lie above low ({low} Hz)", allowed=f"({low:g}, {nyq:g}] Hz"
        )
    k_lo = max(0, math.ceil(low * dt * nf))
    k_hi = nf // 2 if high is None else min(nf // 2, math.floor(high * dt * nf))
    return k_lo, k_hi


# --------------------------------------------------------------------------- f-x prediction interpolation
def _decimation(live: np.ndarray) -> tuple[int, np.ndarray]:
    """Common decimation step ``r`` of the lines ``live`` ``(B, n)`` and each line's first live index."""
    b, idx = np.nonzero(live)
    first = np.where(live.any(axis=1), np.argmax(live, axis=1), -1)
    same_line = b[1:] == b[:-1]
    steps = (idx[1:] - idx[:-1])[same_line]
    r = int(np.gcd.reduce(steps)) if steps.size else 1
    return max(r, 1), first


def _interpolate_lines(
    lines: np.ndarray,
    live: np.ndarray,
    dt: float,
    order: int,
    prewhiten: float,
    low: float,
    high: float | None,
    blend: float,
) -> np.ndarray | None:
    """f-x prediction interpolation of a batch of lines ``(B, n, nt)``; ``None`` when the mask gives too
    few equations to estimate the filters (irregular sampling)."""
    _, n, nt = lines.shape
    good = live.sum(axis=1) >= 2
    if not good.any():
        return None
    r, first = _decimation(live[good])
    nc = int(((n - 1 - first) // r + 1).min())
    if nc < order + 2:
        return None
    nf = sfft.next_fast_len(nt, real=True)
    k_lo, k_hi = _band_bins(nf, dt, low, high)
    # Coarse-grid traces of every good line (its own phase) and their spectrum at f / r.
    cidx = first[:, None] + r * np.arange(nc)[None, :]
    coarse = np.take_along_axis(lines[good], cidx[..., None], axis=1)  # (G, nc, nt)
    clive = np.take_along_axis(live[good], cidx, axis=1)  # (G, nc)
    cspec = sfft.rfft(coarse.astype(np.float32), n=r * nf, axis=-1)[..., k_lo : k_hi + 1]  # bins f_k / r
    cspec = np.ascontiguousarray(np.swapaxes(cspec, 1, 2))  # (G, F, nc)
    a, n_eq, res = prediction_filters(cspec, clive[:, None, :], order, prewhiten, return_residual=True)
    if int(n_eq.min()) < 2 * order:
        return None
    spec = sfft.rfft(lines[good].astype(np.float32), n=nf, axis=-1)  # (G, n, nf/2+1)
    band = np.ascontiguousarray(np.swapaxes(spec[..., k_lo : k_hi + 1], 1, 2))  # (G, F, n)
    lv = live[good][:, None, :]
    miss = (~lv).astype(np.float32)
    yk = band * lv
    out = np.empty_like(band)
    n_f = band.shape[1]
    chunk = max(1, _CHUNK_ELEMENTS // max(1, 2 * n * n * band.shape[0]))
    eye = np.eye(n, dtype=np.float32)
    for f0 in range(0, n_f, chunk):
        sl = slice(f0, f0 + chunk)
        e = _error_operator(a[:, sl], n)
        g = np.conj(np.swapaxes(e, -1, -2)) @ e  # (G, f, n, n)
        scale = np.trace(g, axis1=-2, axis2=-1).real / n
        mu = 1e-4 * scale + _TINY
        mm = miss[..., :, None] * miss[..., None, :]
        lhs = g * mm + eye * (lv[..., :, None] + mu[..., None, None] * miss[..., :, None])
        rhs = -miss * (g @ yk[:, sl, :, None])[..., 0]
        z = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        out[:, sl] = yk[:, sl] + z * miss
    # Frequencies where the coarse data are poorly predictable (noise, curved events) get a blend with
    # linear interpolation, weighted by the relative prediction error of the filter fit; outside the band
    # the missing traces are filled by linear interpolation alone.
    lin = np.stack([linear_fill(ln, lv_) for ln, lv_ in zip(lines[good], live[good], strict=True)])
    lin_spec = sfft.rfft(lin.astype(np.float32), n=nf, axis=-1)
    if blend:
        wgt = np.clip(1.0 - res / max(blend, _TINY), 0.0, 1.0)[..., None].astype(np.float32)
        out = wgt * out + (1.0 - wgt) * np.swapaxes(lin_spec[..., k_lo : k_hi + 1], 1, 2)
    spec[..., k_lo : k_hi + 1] = np.swapaxes(out, 1, 2)
    result = np.zeros_like(lines)
    outside = np.ones(spec.shape[-1], dtype=bool)
    outside[k_lo : k_hi + 1] = False
    spec[..., outside] = lin_spec[..., outside]
    result[good] = sfft.irfft(spec, n=nf, axis=-1)[..., :nt]
    return result


def fx_predict(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    order: int = 4,
    prewhiten: float = 0.01,
    low: float = 0.0,
    high: float | None = None,
    irregular: str = "drr",
    blend: float = 0.5,
) -> np.ndarray:
    """Fill missing traces of one window by dealiased f-x prediction (Spitz 1991).

    ``values``: ``(trace, time)`` or ``(inline, crossline, time)``, missing traces zero; ``dt`` seconds;
    ``order``: prediction filter length (traces); ``prewhiten``: fraction of the mean diagonal added to
    the normal equations; ``low`` / ``high``: processed band in Hz (``None`` = Nyquist); ``irregular``:
    what to do when the mask gives too few complete runs of ``order + 1`` live traces (``"drr"``,
    ``"linear"`` or ``"raise"``); ``blend``: per frequency, the prediction is mixed with linear
    interpolation with weight ``clip(1 - e / blend, 0, 1)`` where ``e`` is the filter's relative
    prediction error on the decimated data (0 = prediction only).
    """
    live = np.asarray(live, dtype=bool)
    if values.ndim == 2:
        out = _interpolate_lines(values[None], live[None], dt, order, prewhiten, low, high, blend)
        result = None if out is None else out[0]
    else:
        # Work along the axis that carries the decimation: the one whose lines are not entirely dead
        # (decimated crosslines leave every inline line with live traces, and vice versa).
        dead_along_xl = int((~live.any(axis=1)).sum())  # inline lines (along crossline) with no live trace
        dead_along_il = int((~live.any(axis=0)).sum())  # crossline lines (along inline) with no live trace
        axis = 1 if dead_along_xl <= dead_along_il else 0
        if axis == 0:
            lines, lmask = np.transpose(values, (1, 0, 2)), live.T
        else:
            lines, lmask = values, live
        out = _interpolate_lines(lines, lmask, dt, order, prewhiten, low, high, blend)
        if out is None:
            result = None
        else:
            done = lmask.sum(axis=1) >= 2
            out[~done] = 0.0
            result = np.transpose(out, (1, 0, 2)) if axis == 0 else out
            if not done.all():
                # Lines with fewer than two live traces: fill from the (now complete) neighbours.
                filled = np.ones_like(lmask)
                filled[~done] = False
                full_live = filled.T if axis == 0 else filled
                result = linear_fill(result, full_live)
    if result is not None:
        return result
    choice = check_choice("irregular", irregular, ("drr", "linear", "raise"))
    if choice == "raise":
        raise ParameterError(
            "irregular",
            "the live traces of this window are neither regularly decimated nor in runs of order + 1 "
            f"= {order + 1} traces, so f-x prediction filters cannot be estimated",
            allowed="'drr' or 'linear' to fall back, or a regular decimation mask",
        )
    if choice == "linear":
        return linear_fill(values, live)
    from promethium.signal.reconstruction.rank import drr_reconstruct

    return drr_reconstruct(values, live, dt)


# --------------------------------------------------------------------------- f-x deconvolution
def _decon_lines(
    spec: np.ndarray, live: np.ndarray, order: int, prewhiten: float
) -> tuple[np.ndarray, np.ndarray]:
    """Forward/backward prediction of lines ``spec`` ``(B, F, n)``: (sum of predictions, their count)."""
    n = spec.shape[-1]
    m = order
    a = prediction_filters(spec, live[:, None, :], m, prewhiten)[0]
    w = sliding_window_view(spec, m, axis=-1)  # (B, F, n - m + 1, m): x_j .. x_{j+m-1}
    fwd = (w[..., :-1, ::-1] * a[..., None, :]).sum(axis=-1)  # predicts x_{j+m} from x_{j+m-1}..x_j
    bwd = (w[..., 1:, :] * np.conj(a)[..., None, :]).sum(axis=-1)  # predicts x_j from x_{j+1}..x_{j+m}
    acc = np.zeros_like(spec)
    cnt = np.zeros(n, dtype=np.float32)
    acc[..., m:] += fwd
    acc[..., : n - m] += bwd
    cnt[m:] += 1
    cnt[: n - m] += 1
    return acc, cnt


def fx_decon(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    order: int = 4,
    prewhiten: float = 0.01,
    low: float = 0.0,
    high: float | None = None,
) -> np.ndarray:
    """f-x deconvolution (Canales 1984) of one window: average of forward and backward predictions.

    ``order``: filter length in traces; ``prewhiten``: fraction of the mean diagonal added to the normal
    equations; ``low`` / ``high``: band in Hz kept (``None`` = Nyquist); outside it the output is zero.
    Windows with fewer than ``order + 2`` traces along every axis are returned unchanged.
    """
    live = np.asarray(live, dtype=bool)
    nt = values.shape[-1]
    nf = sfft.next_fast_len(nt, real=True)
    k_lo, k_hi = _band_bins(nf, dt, low, high)
    cube = values if values.ndim == 3 else values[None]
    lv = live if live.ndim == 2 else live[None]
    spec = sfft.rfft(cube.astype(np.float32), n=nf, axis=-1)
    band = spec[..., k_lo : k_hi + 1]
    acc = np.zeros(band.shape, dtype=np.complex64)
    cnt = np.zeros(band.shape[:2], dtype=np.float32)
    axes = (1, 0) if values.ndim == 3 else (1,)
    for ax in axes:  # along crosslines (lines = inlines), then along inlines (lines = crosslines)
        if cube.shape[ax] < order + 2:
            continue
        if ax == 1:
            s, c = _decon_lines(np.ascontiguousarray(band.transpose(0, 2, 1)), lv, order, prewhiten)
            acc += s.transpose(0, 2, 1)
            cnt += c[None, :]
        else:
            s, c = _decon_lines(np.ascontiguousarray(band.transpose(1, 2, 0)), lv.T, order, prewhiten)
            acc += s.transpose(2, 0, 1)
            cnt += c[:, None]
    if not cnt.any():
        return values.copy()
    out_band = np.where(cnt[..., None] > 0, acc / np.maximum(cnt, 1)[..., None], band)
    full = np.zeros_like(spec)
    full[..., k_lo : k_hi + 1] = out_band
    out = sfft.irfft(full, n=nf, axis=-1)[..., :nt].astype(np.float64)
    return out if values.ndim == 3 else out[0]


# --------------------------------------------------------------------------- validation & registry
def _validate_common(p: dict[str, Any]) -> None:
    check_range("order", p["order"], low=1, high=50, integer=True)
    check_range("prewhiten", p["prewhiten"], low=0, high=10)
    check_range("low", p["low"], low=0)
    if p["high"] is not None:
        check_range("high", p["high"], low=0, low_open=True)
        if p["high"] <= p["low"]:
            raise ParameterError("high", f"is {p['high']} Hz, not above low ({p['low']} Hz)", allowed="> low")


def _validate_predict(p: dict[str, Any]) -> None:
    _validate_common(p)
    check_choice("irregular", p["irregular"], ("drr", "linear", "raise"))
    check_range("blend", p["blend"], low=0, high=10)


_COMMON: dict[str, Any] = {"order": 4, "prewhiten": 0.01, "low": 0.0, "high": None}

METHODS = [
    Method(
        name="fx_predict",
        kind="reconstruct",
        fn=fx_predict,
        description="f-x prediction interpolation of regularly decimated traces, dealiased (Spitz 1991)",
        params={**_COMMON, "irregular": "drr", "blend": 0.5},
        window_2d=(48, 256),
        window_3d=(None, 48, 256),
        needs_dt=True,
        validate=_validate_predict,
    ),
    Method(
        name="fx_decon",
        kind="denoise",
        fn=fx_decon,
        description="f-x deconvolution: forward/backward complex prediction filters (Canales 1984)",
        params=dict(_COMMON),
        window_2d=(32, 256),
        window_3d=(16, 16, 256),
        needs_dt=True,
        validate=_validate_common,
    ),
]
