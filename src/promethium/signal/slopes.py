"""Local slopes of seismic events: plane-wave destruction and the gradient structure tensor.

A slope is the time shift of an event from one trace to the next, in **samples per trace**; positive
means the event arrives later on the trace of higher index (``t(x + 1) = t(x) + p``). For a section
``(trace, time)`` there is one slope field; for a volume ``(inline, crossline, time)`` there are two
(along inlines, i.e. per step of the inline index, and along crosslines). Every field has the shape of
the data.

Two estimators:

``pwd``
    Plane-wave destruction (Fomel 2002, *Geophysics* 67, 1946): find the slope ``p`` for which the
    residual ``d[R](t + p g/2) - d[L](t - p g/2)`` between neighbouring live traces ``L < R`` (spacing
    ``g``) vanishes, by iterative linearisation (Gauss-Newton) with shaping regularisation: numerator
    and denominator of each update are smoothed with a Gaussian before dividing ("smooth division").
    The fractional shifts use cubic B-spline interpolation, which stays accurate for steep dips (the
    3-point all-pass filters of the original paper lose accuracy above ~1 sample/trace). Pairs are
    formed between *consecutive live traces*, so missing traces never enter the estimate and regularly
    decimated data are handled on their own grid (spacing 2). Cycle skipping on steep or aliased dips
    is avoided by working coarse to fine: the first iterations see a low-passed copy of the data.
``structure_tensor``
    Smoothed outer products of Gaussian derivatives (total least squares: the slope is the dominant
    eigenvector of the tensor). Fast and simple; missing traces are first filled by linear
    interpolation and given a low weight. It is biased on steep dips because the trace-axis derivative
    of a steep event is aliased; PWD is the more accurate of the two (see ``benchmarks/bench_dip.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
from scipy import ndimage

from promethium.core.errors import DataError, ParameterError
from promethium.signal._base import ArrayOrData, check_choice, check_range, prepare, resolve_mask

__all__ = ["SlopeField", "local_slopes"]

_METHODS = ("pwd", "structure_tensor")


@dataclass(frozen=True)
class SlopeField:
    """Local slopes in samples per trace, one array per trace axis, each the shape of the data.

    ``fields[0]`` is the slope along the first trace axis (the trace axis of a section, the inline axis
    of a volume), ``fields[1]`` along the crossline axis of a volume. ``method``: the estimator used.
    """

    fields: tuple[np.ndarray, ...]
    method: str

    @property
    def trace(self) -> np.ndarray:
        """The slope field of a 2D section (samples per trace)."""
        if len(self.fields) != 1:
            raise DataError("slopes: a volume has inline and crossline slopes; use .inline / .crossline")
        return self.fields[0]

    @property
    def inline(self) -> np.ndarray:
        """Slope per step of the inline index (samples per inline); for a section, the only field."""
        return self.fields[0]

    @property
    def crossline(self) -> np.ndarray:
        """Slope per step of the crossline index (samples per crossline); volumes only."""
        if len(self.fields) < 2:
            raise DataError("slopes: a 2D section has one slope field; use .trace")
        return self.fields[1]


# --------------------------------------------------------------------------------------------------
# Interpolation along time with per-sample fractional positions.
# Hand-written: scipy.ndimage.map_coordinates would interpolate across traces too (it is N-D only);
# here every row is sampled at its own fractional times from B-spline coefficients along time alone.
# --------------------------------------------------------------------------------------------------


def spline_coefficients(values: np.ndarray) -> np.ndarray:
    """Cubic B-spline coefficients along the last (time) axis (mirror boundaries)."""
    return ndimage.spline_filter1d(values, order=3, axis=-1, mode="mirror", output=np.float64)


@nb.njit(parallel=True, cache=True, boundscheck=False)
def _spline_kernel(
    coef: np.ndarray, rows: np.ndarray, tau: np.ndarray, val: np.ndarray, der: np.ndarray, want_der: bool
) -> None:  # pragma: no cover - numba
    nt = coef.shape[1]
    m = rows.shape[0]
    for k in nb.prange(m):
        r = rows[k]
        for j in range(nt):
            t = min(max(tau[k, j], 0.0), nt - 1.0)
            i = int(np.floor(t))
            f = t - i
            c0 = coef[r, min(max(i - 1, 0), nt - 1)]
            c1 = coef[r, min(i, nt - 1)]
            c2 = coef[r, min(i + 1, nt - 1)]
            c3 = coef[r, min(i + 2, nt - 1)]
            f2 = f * f
            f3 = f2 * f
            g = 1.0 - f
            val[k, j] = (
                g * g * g * c0
                + (3.0 * f3 - 6.0 * f2 + 4.0) * c1
                + (-3.0 * f3 + 3.0 * f2 + 3.0 * f + 1.0) * c2
                + f3 * c3
            ) / 6.0
            if want_der:
                der[k, j] = (
                    -0.5 * g * g * c0 + (1.5 * f2 - 2.0 * f) * c1 + (-1.5 * f2 + f + 0.5) * c2 + 0.5 * f2 * c3
                )


def _spline_eval(
    coef: np.ndarray, rows: np.ndarray, tau: np.ndarray, want_der: bool
) -> tuple[np.ndarray, np.ndarray]:
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    tau = np.ascontiguousarray(np.broadcast_to(tau, (len(rows), coef.shape[-1])), dtype=np.float64)
    val = np.empty(tau.shape)
    der = np.empty(tau.shape if want_der else (0, 0))
    _spline_kernel(coef, np.ascontiguousarray(rows, dtype=np.int64), tau, val, der, want_der)
    return val, der


def sample_rows(coef: np.ndarray, rows: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Evaluate the cubic spline of rows ``rows`` of ``coef`` (``(n_rows, nt)``) at times ``tau``
    (``(len(rows), nt)``, in samples; clamped to the trace). A numba kernel: a numpy version with
    fancy indexing is 5-10x slower and this runs a dozen times per reconstruction."""
    return _spline_eval(coef, rows, tau, False)[0]


def sample_rows_derivative(
    coef: np.ndarray, rows: np.ndarray, tau: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`sample_rows`, also returning the time derivative (per sample)."""
    return _spline_eval(coef, rows, tau, True)


def _smooth_at(cells: np.ndarray, pairs: Pairs, sigmas: tuple[float, ...]) -> np.ndarray:
    """Gaussian smoothing of a cell field (``(n_lines * n, nt)``) over (lines, traces, samples), read at
    the pairs' middle cells. The trace-axis passes run on the whole grid, the (separable) time pass only
    on the rows read: the same result for less work."""
    grid = cells.reshape(pairs.n_lines, pairs.n, -1)
    for ax in (0, 1):
        if sigmas[ax] > 0 and grid.shape[ax] > 1:
            grid = ndimage.gaussian_filter1d(grid, sigmas[ax], axis=ax, mode="nearest", truncate=3.0)
    rows = grid.reshape(pairs.n_lines * pairs.n, -1)[pairs.middle]
    if sigmas[2] > 0:
        rows = ndimage.gaussian_filter1d(rows, sigmas[2], axis=-1, mode="nearest", truncate=3.0)
    return rows


def linear_rows(arr: np.ndarray, rows: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Linear interpolation of rows ``rows`` of ``arr`` (``(n_rows, nt)``) at fractional times ``tau``."""
    nt = arr.shape[-1]
    tau = np.clip(tau, 0.0, nt - 1.0)
    i0 = np.minimum(np.floor(tau).astype(np.intp), nt - 2) if nt > 1 else np.zeros(tau.shape, np.intp)
    f = tau - i0
    flat = arr.reshape(-1)
    base = (np.asarray(rows, dtype=np.intp) * nt)[:, None]
    a = flat[base + i0]
    if nt == 1:
        return a
    return a + f * (flat[base + i0 + 1] - a)


# --------------------------------------------------------------------------------------------------
# Pairs of consecutive live traces along one axis.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pairs:
    """Consecutive live traces along the second axis of ``(n_lines, n, nt)`` data, as flat cell indices
    (``line * n + position``). ``cover[k]``: the pair whose span ``[L, R)`` holds cell ``k``, or for a
    cell beyond the first / last live trace of its line the nearest pair of that line; -1 when the line
    has fewer than two live traces. ``inside[k]``: the cell lies within a pair's span."""

    left: np.ndarray
    right: np.ndarray
    cover: np.ndarray
    inside: np.ndarray
    n_lines: int
    n: int

    @property
    def gap(self) -> np.ndarray:
        return (self.right - self.left).astype(np.float64)

    @property
    def middle(self) -> np.ndarray:
        return (self.left + self.right) // 2


def find_pairs(live: np.ndarray) -> Pairs:
    """Pairs of consecutive live cells of ``live`` (``(n_lines, n)`` bool) within each line."""
    n_lines, n = live.shape
    pos = np.flatnonzero(live.reshape(-1))
    same = (pos[1:] // n) == (pos[:-1] // n)
    left = pos[:-1][same]
    right = pos[1:][same]
    cells = np.arange(n_lines * n)
    cover = np.full(cells.size, -1, dtype=np.intp)
    inside = np.zeros(cells.size, dtype=bool)
    if left.size:
        j = np.searchsorted(left, cells, side="right") - 1
        jc = np.clip(j, 0, left.size - 1)
        inside = (j >= 0) & (cells < right[jc])
        line = cells // n
        # Before / beyond the live traces of a line: the nearest pair of the same line.
        prev_ok = (j >= 0) & (left[jc] // n == line)
        jn = np.clip(j + 1, 0, left.size - 1)
        next_ok = (j + 1 < left.size) & (left[jn] // n == line)
        cover = np.where(inside | prev_ok, jc, np.where(next_ok, jn, -1))
    return Pairs(left=left, right=right, cover=cover, inside=inside, n_lines=n_lines, n=n)


def to_lines(values: np.ndarray, axis: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Move trace axis ``axis`` next to time and reshape to ``(n_lines, n, nt)``; returns the moved
    shape for :func:`from_lines`."""
    moved = np.moveaxis(values, axis, -2)
    shape = moved.shape
    return moved.reshape(-1, shape[-2], shape[-1]), shape


def from_lines(lines: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    return np.moveaxis(lines.reshape(shape), -2, axis)


def _lowpass(values: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return values
    return ndimage.gaussian_filter1d(values, sigma, axis=-1, mode="reflect")


def pwd_pair_slopes(
    lines: np.ndarray,
    pairs: Pairs,
    *,
    smoothing: tuple[float, float, float],
    scales: Sequence[float],
    n_iter: int,
    max_slope: float,
    eps: float,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Slope of every pair (``(n_pairs, nt)``, samples per trace, at the pair's mid-point time) by
    plane-wave destruction: Gauss-Newton updates from smoothed numerator / denominator (``smoothing``:
    Gaussian sigmas over lines, traces and samples), coarse to fine over the low-pass ``scales``."""
    n_lines, n, nt = lines.shape
    m = pairs.left.size
    p = np.zeros((m, nt)) if initial is None else np.array(initial, dtype=np.float64)
    if m == 0:
        return p
    g = pairs.gap
    h = (0.5 * g)[:, None]
    t = np.arange(nt, dtype=np.float64)[None, :]
    inside = pairs.inside
    cover_in = pairs.cover[inside]
    # Weight per cell: each pair counts once in total, far pairs (big gaps) less than near ones.
    wcell = (1.0 / g**2)[cover_in][:, None]
    num = np.zeros((n_lines * n, nt))
    den = np.zeros((n_lines * n, nt))
    sig = tuple(float(s) for s in smoothing)
    for scale in scales:
        coef = spline_coefficients(_lowpass(lines, float(scale)).reshape(n_lines * n, nt))
        for _ in range(n_iter):
            ta = t + p * h
            tb = t - p * h
            va, da = sample_rows_derivative(coef, pairs.right, ta)
            vb, db = sample_rows_derivative(coef, pairs.left, tb)
            # Samples shifted beyond the ends of the traces compare nothing: no weight there.
            outside = (ta < 0) | (ta > nt - 1) | (tb < 0) | (tb > nt - 1)
            r = np.where(outside, 0.0, va - vb)
            da = np.where(outside, 0.0, da)
            jac = da + db  # d r / d p divided by h (the residual is per unit slope change times h)
            # Normalised so that the update is a slope: r ~ h * jac * dp.
            num[:] = 0.0
            den[:] = 0.0
            num[inside] = (r * jac / h)[cover_in] * wcell
            den[inside] = (jac * jac)[cover_in] * wcell
            num_s = _smooth_at(num, pairs, sig)
            den_s = _smooth_at(den, pairs, sig)
            floor = eps * float(den_s.mean()) + 1e-30
            p = np.clip(p - num_s / (den_s + floor), -max_slope, max_slope)
    return p


def pair_field(pairs: Pairs, pair_values: np.ndarray) -> np.ndarray:
    """Spread pair values over the cells (``(n_lines * n, nt)``): each cell gets its covering pair's
    value; cells of lines with fewer than two live traces get zero."""
    nt = pair_values.shape[-1]
    out = np.zeros((pairs.n_lines * pairs.n, nt))
    ok = pairs.cover >= 0
    out[ok] = pair_values[pairs.cover[ok]]
    return out


def _gap_to_trace_field(gap_field: np.ndarray, n_lines: int, n: int) -> np.ndarray:
    """A field given per gap ``[x, x+1)`` (cell ``x``) -> per trace: mean of the gaps on both sides."""
    f = gap_field.reshape(n_lines, n, -1)
    out = f.copy()
    if n > 1:
        out[:, 1:] = 0.5 * (f[:, :-1] + f[:, 1:])
        out[:, -1] = f[:, -2]
    return out


# --------------------------------------------------------------------------------------------------
# Structure tensor.
# --------------------------------------------------------------------------------------------------


def structure_tensor_slopes(
    values: np.ndarray,
    weight: np.ndarray,
    *,
    smoothing: tuple[float, ...],
    gradient_sigma: float,
    max_slope: float,
) -> tuple[np.ndarray, ...]:
    """Slopes per trace axis from the dominant eigenvector of the smoothed gradient structure tensor.

    ``values``: a complete array (missing traces already filled); ``weight``: per-sample confidence
    (broadcastable), applied to the tensor products before smoothing."""
    nd = values.ndim
    grads = []
    for ax in range(nd):
        order = [0] * nd
        order[ax] = 1
        grads.append(ndimage.gaussian_filter(values, gradient_sigma, order=order, mode="reflect"))
    tensor = np.empty((*values.shape, nd, nd))
    for a in range(nd):
        for b in range(a, nd):
            comp = ndimage.gaussian_filter(weight * grads[a] * grads[b], smoothing, mode="reflect")
            tensor[..., a, b] = comp
            tensor[..., b, a] = comp
    scale = float(np.abs(tensor[..., -1, -1]).mean()) + 1e-30
    tensor /= scale
    if nd == 2:
        a_, b_, c_ = tensor[..., 0, 0], tensor[..., 0, 1], tensor[..., 1, 1]
        phi = 0.5 * np.arctan2(2.0 * b_, a_ - c_)
        vx, vt = np.cos(phi), np.sin(phi)
        vecs = [vx]
    else:
        _, ev = np.linalg.eigh(tensor)
        top = ev[..., :, -1]
        vt = top[..., -1]
        vecs = [top[..., k] for k in range(nd - 1)]
    safe = np.where(np.abs(vt) < 1e-6, 1e-6, vt)
    return tuple(np.clip(-v / safe, -max_slope, max_slope) for v in vecs)


# --------------------------------------------------------------------------------------------------
# Public entry point.
# --------------------------------------------------------------------------------------------------


def parse_smoothing(value: Any, n_trace_axes: int, name: str = "smoothing") -> tuple[float, ...]:
    """``(traces, samples)`` or, for a volume, ``(inline, crossline, samples)`` Gaussian sigmas."""
    try:
        items = [float(v) for v in value]
    except TypeError as exc:
        raise ParameterError(
            name, f"must be a sequence of Gaussian sigmas, got {value!r}", allowed="(traces, samples)"
        ) from exc
    if len(items) == 2:
        items = [items[0]] * n_trace_axes + [items[1]]
    if len(items) != n_trace_axes + 1:
        raise ParameterError(
            name,
            f"needs 2 or {n_trace_axes + 1} values, got {len(items)}",
            allowed="(traces, samples) or (inline, crossline, samples)",
        )
    for v in items:
        check_range(name, v, low=0.0, high=1000.0)
    return tuple(items)


def parse_scales(value: Any, name: str = "scales") -> tuple[float, ...]:
    try:
        items = tuple(float(v) for v in value)
    except TypeError as exc:
        raise ParameterError(
            name, f"must be a sequence of low-pass sigmas in samples, got {value!r}"
        ) from exc
    if not items:
        raise ParameterError(name, "needs at least one scale", allowed="e.g. (4, 2, 1, 0)")
    for v in items:
        check_range(name, v, low=0.0, high=100.0)
    return items


def estimate_slopes(
    values: np.ndarray,
    live: np.ndarray,
    *,
    method: str,
    smoothing: tuple[float, ...],
    max_slope: float,
    n_iter: int,
    scales: Sequence[float],
    eps: float,
    gradient_sigma: float,
) -> tuple[np.ndarray, ...]:
    """Slope fields per trace axis of ``values`` (missing traces zero) from the live traces."""
    n_axes = values.ndim - 1
    if method == "structure_tensor":
        from promethium.signal.reconstruction.baseline import linear_fill

        filled = values if live.all() else linear_fill(values, live)
        weight = np.where(live, 1.0, 0.1)[..., None]
        return structure_tensor_slopes(
            filled, weight, smoothing=smoothing, gradient_sigma=gradient_sigma, max_slope=max_slope
        )
    out = []
    for ax in range(n_axes):
        lines, shape = to_lines(values, ax)
        lv, _ = to_lines(live[..., None], ax)
        pairs = find_pairs(lv[..., 0])
        other = smoothing[1 - ax] if n_axes == 2 else 0.0
        sig = (other, smoothing[ax], smoothing[-1])
        p = pwd_pair_slopes(
            lines, pairs, smoothing=sig, scales=scales, n_iter=n_iter, max_slope=max_slope, eps=eps
        )
        field = _gap_to_trace_field(pair_field(pairs, p), lines.shape[0], lines.shape[1])
        out.append(from_lines(field, shape, ax))
    return tuple(out)


def local_slopes(
    data: ArrayOrData,
    *,
    method: str = "pwd",
    smoothing: Sequence[float] = (4.0, 10.0),
    mask: np.ndarray | None = None,
    dt_ms: float | None = None,
    max_slope: float = 8.0,
    n_iter: int = 3,
    scales: Sequence[float] = (4.0, 2.0, 1.0, 0.0),
    eps: float = 0.01,
    gradient_sigma: float = 1.0,
) -> SlopeField:
    """Local slope field(s) of a section or volume, in samples per trace (see the module docstring).

    Parameters
    ----------
    data:
        SeismicData or ndarray, ``(trace, time)`` or ``(inline, crossline, time)``.
    method:
        ``"pwd"`` (plane-wave destruction, default, the more accurate) or ``"structure_tensor"``.
    smoothing:
        Gaussian sigmas of the regularisation, ``(traces, samples)`` (the trace sigma applies to both
        trace axes of a volume) or ``(inline, crossline, samples)``.
    mask:
        Live-trace mask over the trace axes (default: the data's ``trace_mask``; all live for arrays).
        Slopes come from live traces only and are carried into gaps by the smoothing.
    dt_ms:
        Unused by the estimate (slopes are in samples); accepted for symmetry with other operations.
    max_slope:
        Bound on ``|slope|`` (samples per trace).
    n_iter:
        PWD: Gauss-Newton iterations per scale.
    scales:
        PWD: Gaussian low-pass sigmas (samples) of the successive passes, coarse to fine; 0 = the data.
    eps:
        PWD: regularisation of the smooth division, relative to the mean denominator.
    gradient_sigma:
        Structure tensor: sigma of the Gaussian derivatives (samples and traces).

    Returns a :class:`SlopeField` (an analysis result: no history is recorded).
    """
    prep = prepare(data, dt_ms=dt_ms, ndim=(2, 3), name="data", allow_nonfinite=True)
    if prep.squeeze:
        raise DataError("data: slopes need a 2D section or a 3D volume, not a single trace")
    live = resolve_mask(prep, mask)
    values = np.where(live[..., None], prep.values, 0.0)
    if not np.isfinite(values).all():
        raise DataError("data: live traces hold NaN or infinite samples; mark them dead or repair them")
    if live.sum() < 2:
        raise DataError("data: slopes need at least two live traces")
    name = check_choice("method", method, _METHODS)
    n_axes = values.ndim - 1
    sm = parse_smoothing(smoothing, n_axes)
    check_range("max_slope", max_slope, low=0.0, high=1000.0, low_open=True)
    check_range("n_iter", n_iter, low=1, high=100, integer=True)
    sc = parse_scales(scales)
    check_range("eps", eps, low=0.0, high=1e6, low_open=True)
    check_range("gradient_sigma", gradient_sigma, low=0.3, high=100.0)
    fields = estimate_slopes(
        values,
        live,
        method=name,
        smoothing=sm,
        max_slope=float(max_slope),
        n_iter=int(n_iter),
        scales=sc,
        eps=float(eps),
        gradient_sigma=float(gradient_sigma),
    )
    return SlopeField(fields=tuple(np.ascontiguousarray(f) for f in fields), method=name)
