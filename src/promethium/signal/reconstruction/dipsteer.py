"""Structure-oriented (dip-steered) interpolation of missing traces.

Linear interpolation across traces averages the two nearest live traces *at the same time*; on a
dipping event that blurs it into two weaker copies. Here each missing trace is predicted from its
nearest live neighbours on either side after shifting them *along the local slope* (fractional shifts,
cubic B-spline interpolation in time), then weighted by distance, as in plane-wave-destruction
interpolation (Fomel 2002): at time ``t`` on missing trace ``x`` between live traces ``L < x < R``,

    d(x, t) = (R - x)/(R - L) * d(L, t + p (L - x)) + (x - L)/(R - L) * d(R, t + p (R - x)),

with ``p`` the slope of the pair ``(L, R)`` estimated by plane-wave destruction between those two
traces (:func:`promethium.signal.slopes.pwd_pair_slopes`): slopes come from live traces only, on
their own spacing, so regular 2x decimation is handled on the decimated grid (doubled dips, resolved
coarse to fine from low-passed data) and gaps are bridged by the smoothing of the slope field.

In 3D each missing trace is predicted along the inline and the crossline direction from its live
neighbours on that line, and the predictions are combined with weights ``1 / (d_L d_R)`` (the error of
a two-point interpolation grows with the product of the distances); one-sided (edge) predictions
count less. Traces with no live neighbour on either line fall back to Delaunay linear interpolation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from promethium.core.errors import ParameterError
from promethium.signal._base import check_range
from promethium.signal.reconstruction._registry import Method
from promethium.signal.reconstruction.baseline import linear_fill
from promethium.signal.slopes import (
    Pairs,
    find_pairs,
    from_lines,
    linear_rows,
    pair_field,
    parse_scales,
    parse_smoothing,
    pwd_pair_slopes,
    sample_rows,
    spline_coefficients,
    to_lines,
)

__all__ = ["METHODS", "dip_fill", "holdout_mask"]

_DEFAULTS: dict[str, Any] = {
    "smoothing": (4.0, 10.0),
    "scales": (4.0, 2.0, 1.0, 0.0),
    "n_iter": 3,
    "max_slope": 8.0,
    "eps": 0.01,
    "combine": True,
    "holdout": 0.25,
    "step_gap": 4,
}


def _predict_axis(
    lines: np.ndarray, pairs: Pairs, slopes: np.ndarray, coef: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions of the cells not live along one axis: returns (cells, predictions, weights)."""
    n_lines, n, nt = lines.shape
    live_flat = np.zeros(n_lines * n, dtype=bool)
    live_flat[pairs.left] = True
    live_flat[pairs.right] = True
    cells = np.flatnonzero((~live_flat) & (pairs.cover >= 0))
    if cells.size == 0:
        return cells, np.zeros((0, nt)), np.zeros(0)
    j = pairs.cover[cells]
    left = pairs.left[j]
    right = pairs.right[j]
    t = np.arange(nt, dtype=np.float64)[None, :]
    inside = pairs.inside[cells]
    # Slope of the pair at this trace's time: the pair's slope is given at its mid-point time, so one
    # fixed-point step maps t on trace x to the mid-point time of the event.
    mid = 0.5 * (left + right)
    p = linear_rows(slopes, j, t)
    p = linear_rows(slopes, j, t - p * (cells - mid)[:, None])
    dl = (cells - left).astype(np.float64)
    dr = (right - cells).astype(np.float64)
    vl = sample_rows(coef, left, t - p * dl[:, None])
    vr = sample_rows(coef, right, t + p * dr[:, None])
    g = dl + dr
    both = (dl[:, None] * vr + dr[:, None] * vl) / g[:, None]
    # Beyond the first / last live trace of a line: the nearest live trace shifted along the slope.
    before = cells < left  # dl < 0
    one = np.where(before[:, None], vl, vr)
    pred = np.where(inside[:, None], both, one)
    dist = np.where(before, -dl, -dr)
    weight = np.where(inside, 1.0 / (np.abs(dl) * np.abs(dr)), 0.25 / np.maximum(dist, 1.0) ** 2)
    return cells, pred, weight


def _subset_pairs(pairs: Pairs, keep: np.ndarray) -> Pairs:
    """The pairs selected by ``keep`` (bool per pair), with ``cover`` / ``inside`` restricted to the
    spans of the kept pairs (cells outside them get ``cover = -1``)."""
    index = np.cumsum(keep) - 1
    ok = pairs.cover >= 0
    inside = pairs.inside & ok & keep[np.where(ok, pairs.cover, 0)]
    cover = np.where(inside, index[np.where(ok, pairs.cover, 0)], -1)
    return Pairs(
        left=pairs.left[keep],
        right=pairs.right[keep],
        cover=cover,
        inside=inside,
        n_lines=pairs.n_lines,
        n=pairs.n,
    )


def _unit_field(
    lines: np.ndarray, pairs: Pairs, sig: tuple[float, float, float], kw: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Slopes at unit spacing (samples per trace) from the pairs of adjacent live traces only: a field
    per gap cell (``(n_lines * n, nt)``, cell ``x`` = gap ``[x, x+1)``) and its validity (bool per cell)."""
    nt = lines.shape[-1]
    unit = pairs.gap == 1
    valid = np.zeros(pairs.n_lines * pairs.n, dtype=bool)
    field = np.zeros((pairs.n_lines * pairs.n, nt))
    if not unit.any():
        return field, valid
    sub = _subset_pairs(pairs, unit)
    p = pwd_pair_slopes(lines, sub, smoothing=sig, **kw)
    field[sub.left] = p
    valid[sub.left] = True
    return field, valid


def _gap_slopes(
    pairs: Pairs, wide: np.ndarray, unit: np.ndarray, valid: np.ndarray, fallback: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slope field across the wide gaps (pairs flagged ``wide``): the unit-spacing slopes of up to
    ``reach`` adjacent-live cells on each side (``unit`` / ``valid``), averaged per side and interpolated
    linearly across the gap; a side without any falls back to the other side, both without to the
    pair's own slope (``fallback``, ``(n_pairs, nt)``). Returns ``(cells, slopes)`` for the gap cells
    ``L .. R-1`` of every wide pair."""
    nt = unit.shape[-1]
    idx = np.flatnonzero(wide)
    cells_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    n = pairs.n
    for j in idx:
        lo, hi = int(pairs.left[j]), int(pairs.right[j])
        start = (lo // n) * n
        stop = start + n
        side_l = np.arange(max(lo - reach, start), lo)
        side_l = side_l[valid[side_l]]
        side_r = np.arange(hi, min(hi + reach, stop - 1))
        side_r = side_r[valid[side_r]]
        pl = unit[side_l].mean(axis=0) if side_l.size else None
        pr = unit[side_r].mean(axis=0) if side_r.size else None
        if pl is None and pr is None:
            pl = pr = fallback[j]
        elif pl is None:
            pl = pr
        elif pr is None:
            pr = pl
        assert pl is not None
        assert pr is not None
        cells = np.arange(lo, hi)
        w = ((cells + 0.5 - lo) / (hi - lo))[:, None]
        cells_out.append(cells)
        vals_out.append((1.0 - w) * pl[None, :] + w * pr[None, :])
    if not cells_out:
        return np.zeros(0, dtype=np.intp), np.zeros((0, nt))
    return np.concatenate(cells_out), np.concatenate(vals_out)


def _side_stack(
    coef: np.ndarray,
    field: np.ndarray,
    valid: np.ndarray,
    tau: np.ndarray,
    first: np.ndarray,
    direction: int,
    n_side: int,
    n: int,
) -> np.ndarray:
    """Mean of up to ``n_side`` live traces on one side of a gap, starting at ``first`` (the live trace
    next to the gap) and moving away from it (``direction`` -1: left, +1: right) along the unit-spacing
    slopes while consecutive traces are live (``valid`` per gap cell), read at the event times ``tau``
    (samples; ``tau`` on trace ``first``)."""
    tau = tau.copy()
    total = sample_rows(coef, first, tau)
    count = np.ones(first.size)
    ok = np.ones(first.size, dtype=bool)
    row = first.copy()
    line = first // n
    for _ in range(n_side - 1):
        gap_cell = row - 1 if direction < 0 else row
        nxt = row + direction
        ok &= (nxt // n == line) & (nxt >= 0) & (nxt < valid.size)
        ok &= valid[np.clip(gap_cell, 0, valid.size - 1)]
        act = np.flatnonzero(ok)
        if act.size == 0:
            break
        tau[act] += direction * linear_rows(field, gap_cell[act], tau[act])
        row[act] = nxt[act]
        total[act] += sample_rows(coef, row[act], tau[act])
        count[act] += 1.0
    return total / count[:, None]


def _step_predict(
    coef: np.ndarray,
    field: np.ndarray,
    valid: np.ndarray,
    cells: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    n_side: int,
    n: int,
) -> np.ndarray:
    """Predictions of gap cells stepped trace by trace along a per-gap-cell slope field (``field``,
    samples per trace): the event through ``(x, t)`` is followed back to the left live trace
    (``t <- t - p(k, t)`` for ``k = x-1 .. L``) and forward to the right one (``t <- t + p(k, t)`` for
    ``k = x .. R-1``); on each side up to ``n_side`` adjacent live traces are stacked along the slopes
    (less noise), and the two sides are weighted by distance."""
    nt = coef.shape[-1]
    t0 = np.broadcast_to(np.arange(nt, dtype=np.float64), (cells.size, nt))
    dl = cells - left
    dr = right - cells
    tau = t0.copy()
    for s in range(int(dl.max(initial=0))):
        act = np.flatnonzero(s < dl)
        tau[act] -= linear_rows(field, cells[act] - 1 - s, tau[act])
    vl = _side_stack(coef, field, valid, tau, left, -1, n_side, n)
    tau = t0.copy()
    for s in range(int(dr.max(initial=0))):
        act = np.flatnonzero(s < dr)
        tau[act] += linear_rows(field, cells[act] + s, tau[act])
    vr = _side_stack(coef, field, valid, tau, right, 1, n_side, n)
    g = (dl + dr).astype(np.float64)[:, None]
    return (dr[:, None] * vl + dl[:, None] * vr) / g


def _span_average(field: np.ndarray, pairs: Pairs) -> np.ndarray:
    """Mean of a per-gap field (``(n_lines * n, nt)``, cell ``x`` = gap ``[x, x+1)``) over each pair's
    span ``[L, R)``: the slope between two live traces from slopes estimated on a finer spacing."""
    nt = field.shape[-1]
    f = field.reshape(pairs.n_lines, pairs.n, nt)
    csum = np.concatenate([np.zeros((pairs.n_lines, 1, nt)), np.cumsum(f, axis=1)], axis=1).reshape(-1, nt)
    row_off = (pairs.left // pairs.n) * (pairs.n + 1)
    lo = row_off + pairs.left % pairs.n
    hi = row_off + pairs.right % pairs.n
    return (csum[hi] - csum[lo]) / (pairs.right - pairs.left)[:, None]


AxisFields = tuple[np.ndarray, np.ndarray, np.ndarray]


def _dip_predict(
    values: np.ndarray,
    live: np.ndarray,
    *,
    smoothing: tuple[float, ...],
    scales: tuple[float, ...],
    n_iter: int,
    max_slope: float,
    eps: float,
    step_gap: int = 4,
    reach: int = 4,
    n_side: int = 1,
    fields: list[AxisFields | None] | None = None,
) -> tuple[np.ndarray, list[AxisFields | None]]:
    """Fill the missing traces of ``values`` (``(trace, time)`` or ``(inline, crossline, time)``,
    missing traces zero) by interpolation along local slopes estimated from the live traces.

    Gaps of at least ``step_gap`` missing traces are crossed trace by trace along a slope field carried
    in from the unit-spacing slopes of up to ``reach`` traces on each side (:func:`_gap_slopes`,
    :func:`_step_predict`); narrower ones use the slope of the live pair around them.

    Returns the filled array and, per trace axis, the slope fields (pair slopes per gap cell, unit-spacing
    slopes per gap cell and their validity; ``(n_lines * n, nt)`` in the line layout of :func:`to_lines`).
    Given ``fields`` (from a run on more live traces), the slopes are taken from them instead of being
    estimated."""
    n_axes = values.ndim - 1
    nt = values.shape[-1]
    out = values.copy()
    miss = ~live
    used: list[AxisFields | None] = [None] * n_axes
    if not miss.any():
        return out, used
    acc = np.zeros(values.shape)
    wsum = np.zeros(live.shape)
    kw: dict[str, Any] = {"scales": scales, "n_iter": n_iter, "max_slope": max_slope, "eps": eps}
    for ax in range(n_axes):
        lines, shape = to_lines(values, ax)
        lv, _ = to_lines(live[..., None], ax)
        pairs = find_pairs(lv[..., 0])
        if pairs.left.size == 0:
            continue
        given = None if fields is None else fields[ax]
        wide = pairs.gap > step_gap
        other = smoothing[1 - ax] if n_axes == 2 else 0.0
        sig = (other, smoothing[ax], smoothing[-1])
        if given is None:
            p = pwd_pair_slopes(lines, pairs, smoothing=sig, **kw)
            if wide.any():
                unit, valid = _unit_field(lines, pairs, sig, kw)
            else:
                unit, valid = np.zeros((pairs.n_lines * pairs.n, nt)), np.zeros(pairs.n_lines * pairs.n, bool)
            used[ax] = (pair_field(pairs, p), unit, valid)
        else:
            p = _span_average(given[0], pairs)
            unit = given[1]
            valid = np.zeros_like(given[2])
            valid[pairs.left[pairs.gap == 1]] = True
            valid &= given[2]
            used[ax] = given
        coef = spline_coefficients(lines.reshape(-1, nt))
        cells, pred, weight = _predict_axis(lines, pairs, p, coef)
        if wide.any() and cells.size:
            gcells, gvals = _gap_slopes(pairs, wide, unit, valid, p, reach)
            field = unit.copy()
            field[gcells] = gvals
            sel = pairs.inside[cells] & wide[pairs.cover[cells]]
            if sel.any():
                j = pairs.cover[cells[sel]]
                pred[sel] = _step_predict(
                    coef, field, valid, cells[sel], pairs.left[j], pairs.right[j], n_side, pairs.n
                )
        acc_l = to_lines(acc, ax)[0].reshape(-1, nt).copy()
        w_l = to_lines(wsum[..., None], ax)[0].reshape(-1).copy()
        acc_l[cells] += weight[:, None] * pred
        w_l[cells] += weight
        acc = from_lines(acc_l, shape, ax)
        wsum = from_lines(w_l[:, None], (*shape[:-1], 1), ax)[..., 0]
    has = (wsum > 0) & miss
    out[has] = acc[has] / wsum[has][:, None]
    lost = miss & ~has
    if lost.any():
        out[lost] = linear_fill(values, live)[lost]
    return out, used


def _fit_weights(ref: np.ndarray, preds: list[np.ndarray], smooth_bins: float, ridge: float) -> np.ndarray:
    """Real weights per frequency (``(n_freq, n_pred)``) minimising ``|R - sum_k w_k P_k|^2`` over the
    held-out traces (rows), normal equations smoothed over frequency."""
    from scipy import ndimage

    spec_r = np.fft.rfft(ref, axis=-1)
    spec_p = np.stack([np.fft.rfft(p, axis=-1) for p in preds])  # (K, rows, nf)
    a = np.einsum("krf,lrf->fkl", spec_p, spec_p.conj()).real
    b = np.einsum("rf,krf->fk", spec_r, spec_p.conj()).real
    if smooth_bins > 0:
        a = ndimage.gaussian_filter1d(a, smooth_bins, axis=0, mode="nearest")
        b = ndimage.gaussian_filter1d(b, smooth_bins, axis=0, mode="nearest")
    k = len(preds)
    diag = np.trace(a, axis1=1, axis2=2) / k
    floor = ridge * diag.mean() + 1e-30
    a = a + (ridge * diag + floor)[:, None, None] * np.eye(k)
    return np.linalg.solve(a, b[..., None])[..., 0]


def _dilate_last(mask: np.ndarray, margin: int) -> np.ndarray:
    """``mask`` grown by ``margin`` cells either way along the last axis."""
    out = mask.copy()
    for k in range(1, margin + 1):
        out[..., k:] |= mask[..., :-k]
        out[..., :-k] |= mask[..., k:]
    return out


def holdout_mask(live: np.ndarray, fraction: float, seed: int, margin: int = 3) -> np.ndarray:
    """Live traces to hold out for fitting a blend: the missing pattern itself, moved along the last
    trace axis onto live traces (so that held-out traces sit in gaps like the real ones: random holes,
    wide gaps, regular decimation), thinned at random to ``fraction`` of the live traces.

    A sparse pattern (a few wide gaps) yields too few held-out traces from one copy: further copies at
    other shifts are added while they keep ``margin`` live traces from the real gaps and from each other,
    up to ``fraction`` of the live traces."""
    n = live.shape[-1]
    best = np.zeros_like(live)
    for shift in (n // 4, n // 4 + 1):
        cand = np.roll(~live, shift, axis=-1) & live
        if cand.sum() > best.sum():
            best = cand
    limit = fraction * live.sum()
    if 0 < best.sum() < 0.5 * limit:
        blocked = _dilate_last(~live | best, margin)
        for k in range(1, 16):
            if best.sum() >= 0.5 * limit:
                break
            cand = np.roll(~live, n // 4 + (k * n) // 16, axis=-1)
            edge = cand[..., :margin].any() or cand[..., n - margin :].any()  # wrapped round: not a copy
            if cand.any() and not edge and not (cand & blocked).any():
                best |= cand
                blocked |= _dilate_last(cand, margin)
    rng = np.random.default_rng(seed)
    if best.sum() > limit:
        best &= rng.random(live.shape) < limit / best.sum()
    return best


def dip_fill(
    values: np.ndarray,
    live: np.ndarray,
    *,
    smoothing: tuple[float, ...],
    scales: tuple[float, ...],
    n_iter: int,
    max_slope: float,
    eps: float,
    combine: bool = True,
    holdout: float = 0.25,
    step_gap: int = 4,
    seed: int = 0,
) -> np.ndarray:
    """Fill the missing traces of ``values`` (``(trace, time)`` or ``(inline, crossline, time)``,
    missing traces zero) by interpolation along local slopes estimated from the live traces.

    With ``combine``, the dip-steered and the linear predictions are blended per frequency with real
    weights fitted on held-out live traces (a ``holdout`` fraction of them, predicted from the rest):
    the least-squares (Wiener) combination, which also shrinks bands where no trace predicts another
    (incoherent noise) instead of copying noise into the gaps."""
    kw: dict[str, Any] = {
        "smoothing": smoothing,
        "scales": scales,
        "n_iter": n_iter,
        "max_slope": max_slope,
        "eps": eps,
        "step_gap": step_gap,
    }
    dip, fields = _dip_predict(values, live, **kw)
    miss = ~live
    if not combine or not miss.any():
        return dip
    held = holdout_mask(live, holdout, seed)
    sub = live & ~held
    if held.sum() < 2 or sub.sum() < 2:
        return dip
    sub_values = np.where(sub[..., None], values, 0.0)
    # Slopes of the full live set, averaged over the wider gaps of the subset (no second estimate).
    cv_dip, _ = _dip_predict(sub_values, sub, fields=fields, **kw)
    cv_lin = linear_fill(sub_values, sub)
    weights = _fit_weights(values[held], [cv_dip[held], cv_lin[held]], smooth_bins=2.0, ridge=1e-3)
    lin = linear_fill(values, live)
    spec = weights[:, 0] * np.fft.rfft(dip[miss], axis=-1) + weights[:, 1] * np.fft.rfft(lin[miss], axis=-1)
    out = values.copy()
    out[miss] = np.fft.irfft(spec, n=values.shape[-1], axis=-1)
    return out


def _validate(p: dict[str, Any]) -> None:
    smoothing = p["smoothing"]
    if isinstance(smoothing, str) or not hasattr(smoothing, "__len__") or len(smoothing) not in (2, 3):
        raise ParameterError(
            "smoothing",
            f"must be (traces, samples) or (inline, crossline, samples) Gaussian sigmas, got {smoothing!r}",
            allowed="2 or 3 values >= 0",
        )
    parse_smoothing(smoothing, len(smoothing) - 1)
    p["smoothing"] = tuple(float(v) for v in smoothing)
    p["scales"] = parse_scales(p["scales"])
    check_range("n_iter", p["n_iter"], low=1, high=100, integer=True)
    check_range("max_slope", p["max_slope"], low=0.0, high=1000.0, low_open=True)
    check_range("eps", p["eps"], low=0.0, high=1e6, low_open=True)
    if not isinstance(p["combine"], bool | np.bool_):
        raise ParameterError("combine", f"must be True or False, got {p['combine']!r}")
    check_range("holdout", p["holdout"], low=0.05, high=0.5)
    check_range("step_gap", p["step_gap"], low=1, high=1_000_000, integer=True)


def _dip(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    n_axes = values.ndim - 1
    sm = params["smoothing"]
    if len(sm) == 3 and n_axes == 1:
        raise ParameterError("smoothing", "a section takes (traces, samples)", allowed="(traces, samples)")
    smoothing = parse_smoothing(sm, n_axes)
    return dip_fill(
        values,
        live,
        smoothing=smoothing,
        scales=tuple(params["scales"]),
        n_iter=int(params["n_iter"]),
        max_slope=float(params["max_slope"]),
        eps=float(params["eps"]),
        combine=bool(params["combine"]),
        holdout=float(params["holdout"]),
        step_gap=int(params["step_gap"]),
    )


METHODS = [
    Method(
        name="dip",
        kind="reconstruct",
        fn=_dip,
        description="structure-oriented interpolation along local slopes (plane-wave destruction)",
        params=dict(_DEFAULTS),
        window_2d=(None, None),
        window_3d=(None, None, None),
        validate=_validate,
    )
]
