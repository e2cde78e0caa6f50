"""``fx_pef``: interpolation of missing traces with f-x prediction-error filters.

A line of traces made of a few linear (locally linear) events is, at each temporal frequency, a sum of a
few complex exponentials along the traces: it is predictable, each trace a fixed complex combination of
the ``order`` traces before it (forward) or after it (backward) (Spitz 1991; Canales 1984). Here, per time
window (``time_window`` samples, half overlapping, Hann tapers forming a partition of unity) and per
frequency:

1. forward and backward prediction filters of ``order`` traces are fitted by damped least squares
   (``prewhitening``, a fraction of the mean diagonal; normal equations smoothed over ``smooth_bins``
   frequency bins, 0.01-0.05 dB better on the real sections than none) on a first fill of the section
   (``init``: ``dip``, structure-oriented interpolation; ``pocs``; ``linear``; ``drr``; ``fista``; or the
   slower ``fx_learned`` / ``blend``; several may be joined by ``+``), pooled over every line of a trace
   axis. ``init="auto"`` (default) takes the dip-steered fill and POCS fills on two trace-window sizes
   (``pocs_windows``) where the missing traces are scattered (runs of at most 5 traces on average, not
   a regular decimation), and the dip-steered fill alone otherwise;
2. the missing traces are the values that minimise the energy of both prediction-error outputs, the
   recorded traces held fixed (Claerbout's missing-data interpolation with a prediction-error filter,
   done in f-x): a least-squares problem per frequency, solved by conjugate gradients started from the
   first fill (``warm``) and stopped after ``n_iter`` = 10 iterations (a compiled kernel);
3. with several first fills, ``combine="solutions"`` (default) fits one set of filters on each fill and
   averages the solutions (multiple imputation); ``"equations"`` pools every fill's equations into one
   set of filters and one solve.

The first fills are made once over the whole data before the windows (up to 1 GiB of them; above that
each window makes its own). In 3D the filters run along both trace axes (inline and crossline lines)
and their output energies are minimised together (f-x-y); along an axis the filter is at most a third
of the line long (a cube of 10 inlines gets 3 traces that way). The default windows are 256 traces
along a 2D line and 32 x 32 traces in 3D (the dispatcher's overlapping windows: the filters follow
lateral changes; 32 x 32 against 64 x 64 gave +0.1-0.15 dB on the real cube's random losses, -0.02 on
its 2x and gap, and +0.7-1.1 dB on the generated faulted volume, where the method is still well below
``dip``) and 96 samples in time. ``outer`` > 1 re-estimates the filters on the filled section
and solves again (it lowered the results on the real sections: the first fill matters more; ``dip``
0.3-0.6 dB better than ``linear`` as ``init``).

Filters fitted on a fill that is itself smooth and predictable come out too confident: the POCS fill, a
poor reconstruction on its own, carries Fourier-domain texture into the missing traces, and adding it
to the dip-steered fill gave 0.1-0.2 dB more on random losses of the real sections (Alaska 75 %: 6.79
-> 6.94 dB, FreeUSP 50 %: 1.16 -> 1.31), while it lowered the results across the cube's gap and on
regular decimations (hence ``auto``). Averaging the three solutions instead of pooling the equations
gave +0.02 dB on Alaska at 50 / 75 % and on the shot gather at 75 %, +0.01 on the cube at 75 %, -0.003
on FreeUSP. Starting the solve from the first fill and stopping early keeps the solution near the fill
where the filters are weakly determined: from the fill, 10 iterations instead of 20 took the cube's gap
from 6.10 to 6.30 dB (6.09 for 20 from zero) and the shot gather at 75 % from 2.37 to 2.41, every other
case within 0.01 dB, in half the time.

On a regular decimation the one fill is an interpolation with none of that texture; there
(``innovation="auto"``) the filters are fitted as if every filled trace also carried one draw of the
prediction-error variance of a first fit (per frequency), in expectation: the variance is added to the
normal equations' diagonal once per equation whose predictor at that lag is a filled trace. 2x on the
real sections: Alaska 8.96 -> 9.14 dB, FreeUSP 0.66 -> 0.97, cube 11.15 -> 11.24, shot gather 4.35 ->
4.38; on random losses (which have the POCS fills) it lowered the results, most on the cube.

Where the filters do not describe the data the least-squares solve can fall well below its own first
fill: clean, curved and faulted events sampled coarsely, as in the generated 3D survey
(``promethium.synthetic.make_survey()``: 50 % random 9.1 dB against 12.0 for the dip-steered fill, 2x
6.6 against 12.0), where filters stationary over a window cannot follow the events. A held-out check
(``guard``, a margin in dB, default 1; ``None`` or ``"off"`` skips it) catches that: a tenth of the
live traces (copies of the missing pattern, as ``blend`` holds them out) are hidden too, the first fill
is made again without them and the method run on that; where its error on them is more than ``guard``
dB above the first fill's (twice the margin on a regular decimation, where a held-out trace leaves a
gap three traces wide), the window's result moves toward its first fill by the least-squares weight of
the held-out traces, with a ``PromethiumWarning`` saying so. Generated survey: 50 % 9.1 -> 12.1 dB,
75 % 5.8 -> 7.0, 2x 6.6 -> 12.0; every case of the four real sections unchanged
(``benchmarks/run_reconstruct.py``). It costs one more first fill and one more solve. On small data
it rests on few held-out traces and misses smaller failures (generated 120-trace line at 50 %: 1.6 dB
below the fill, not caught; its held-out estimate swung from -1.4 to +1.1 dB with the choice of
held-out traces); a window with fewer than 4 held-out traces skips it.

Compared with interpolation along local slopes, a filter of several traces on each side represents
crossing and curved events and carries amplitude trends across wide gaps. On the real sections
(``benchmarks/run_reconstruct.py``, 2026-12-05) it was the best single classical method across a 10-trace
gap (Alaska line: 6.7 dB against 5.85 for ``dip``) and on random missing traces of the 2D stacks and the
3D cube at 75 %; defaults chosen there over the four sections (order 8 against 4 and 10, 96-sample
windows against 128-512, 256-trace windows against the whole line). On a regular decimation the
filters come from the first fill alone (f-x prediction on the recorded traces alone aliases); with the
innovation loading it is the best method there too (Alaska 9.14 dB against 9.07 for ``dip``).

Hand-written: no maintained Python package offers f-x prediction-error-filter interpolation (pylops has
the operators for sparsity-promoting inversion, not prediction filters; Madagascar's programs are not a
Python library).
"""

from __future__ import annotations

import functools
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba as nb
import numpy as np

from promethium.core.errors import ParameterError, PromethiumWarning
from promethium.core.logging import get_logger
from promethium.signal._base import check_range
from promethium.signal.masks import mean_gap, regular_decimation
from promethium.signal.reconstruction._registry import Method
from promethium.signal.reconstruction._windows import (
    default_workers,
    hann_partition,
    overlap_add,
    segment_spectra,
    smooth_frequency,
)

__all__ = ["METHODS", "pef_fill"]

#: Methods whose fills the filters may be fitted on (``init``; several joined by ``+`` pool their equations).
_INITS = ("dip", "pocs", "linear", "sinc", "drr", "fista", "fx_predict", "fx_learned", "blend")

#: ``guard``: the held-out check's margin in dB (the default), the share of the live traces it holds
#: out (copies of the missing pattern, as ``blend`` takes them) and the fewest held-out traces a window
#: must have for the check to run.
_GUARD_DB = 1.0
_GUARD_FRACTION = 0.1
_GUARD_MIN_TRACES = 4

_DEFAULTS: dict[str, Any] = {
    "order": 8,
    "prewhitening": 0.01,
    "time_window": 96,
    "smooth_bins": 2.0,
    "n_iter": 10,
    "outer": 1,
    "init": "auto",
    "pocs_windows": (64, 96),
    "combine": "solutions",
    "warm": True,
    "innovation": "auto",
    "guard": _GUARD_DB,
}

_log = get_logger(__name__)

#: ``init="auto"`` adds the POCS fills to the dip-steered one only where the missing traces come in
#: runs of at most this many traces on average (random loss: 2 at 50 %, 4 at 75 %); across a wide gap
#: POCS fills poorly and on a regular decimation it aliases.
_AUTO_POCS_MAX_GAP = 5.0

#: ``innovation="auto"``: on a regular decimation (one dip-steered fill, no POCS texture) the filters are
#: fitted as if the filled traces carried the unpredictable part once (the expectation of a proper
#: imputation draw); elsewhere the POCS fills bring that texture themselves and it lowered the results.
_AUTO_INNOVATION = 1.0


def _lagged(x: np.ndarray, p: int, direction: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets ``x_k`` and their ``p`` predictors (``x_{k-j}`` forward, ``x_{k+j}`` backward,
    ``j = 1..p``) along the last axis: ``(..., n - p)`` and ``(..., n - p, p)``."""
    n = x.shape[-1]
    if direction > 0:
        return x[..., p:], np.stack([x[..., p - j : n - j] for j in range(1, p + 1)], axis=-1)
    return x[..., : n - p], np.stack([x[..., j : n - p + j] for j in range(1, p + 1)], axis=-1)


def _fit(
    lines: np.ndarray,
    p: int,
    prewhitening: float,
    direction: int,
    smooth_bins: float = 0.0,
    filled: np.ndarray | None = None,
    innovation: float = 0.0,
) -> np.ndarray:
    """Prediction filters per frequency, ``(nf, p)``, fitted on ``lines`` (``(nf, n_lines, n)``)
    pooled over the lines, the normal equations smoothed over ``smooth_bins`` frequency bins.

    ``innovation`` > 0 (with ``filled``, ``(p,)``: per lag, how many of the equations have a filled
    cell as that predictor, :func:`_filled_predictors`): fit the filters as if each filled cell also
    carried ``innovation`` times the unpredictable part that a fill by interpolation lacks (the
    prediction-error variance of a first fit, per frequency). Its expectation over random draws adds
    that variance to the normal equations' diagonal once for every equation whose predictor at that lag
    is a filled cell; the right-hand side is unchanged (the draws are independent of the target)."""
    y, z = _lagged(lines, p, direction)
    nf = z.shape[0]
    z = z.reshape(nf, -1, p)
    zh = np.conj(np.swapaxes(z, 1, 2))
    a = zh @ z  # batched BLAS products (einsum here was 5x slower)
    b = (zh @ y.reshape(nf, -1, 1))[..., 0]

    def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = smooth_frequency(a, smooth_bins)
        b = smooth_frequency(b, smooth_bins)
        diag = np.real(np.trace(a, axis1=-2, axis2=-1)) / p
        floor = prewhitening * diag + 1e-12 * (float(diag.max()) + 1e-300)
        return np.linalg.solve(a + floor[:, None, None] * np.eye(p), b[..., None])[..., 0]

    if innovation <= 0 or filled is None:
        return solve(a, b)
    w = solve(a, b)
    variance = np.mean(np.abs(y.reshape(nf, -1) - (z @ w[..., None])[..., 0]) ** 2, axis=1)
    return solve(a + innovation * variance[:, None, None] * np.diag(filled), b)


def _filled_predictors(missing: np.ndarray, p: int, direction: int) -> np.ndarray:
    """Per lag (``(p,)``), how many of the prediction equations on lines whose filled cells are
    ``missing`` (``(n_lines, n)``) take a filled cell as that predictor."""
    _, predictors = _lagged(missing.astype(np.float64), p, direction)
    return predictors.reshape(-1, p).sum(axis=0)


def _error(x: np.ndarray, f: np.ndarray, direction: int) -> np.ndarray:
    """Prediction-error output along the last axis (``x``: ``(nf, n_lines, n)``, ``f``: ``(nf, p)``),
    zero where the filter does not fit. The operator the compiled solve (:func:`_line_normal`) fuses with
    its adjoint; kept in NumPy as the reference the tests hold the solve to."""
    p = f.shape[-1]
    n = x.shape[-1]
    e = np.zeros_like(x)
    if direction > 0:
        r = e[..., p:]
        r += x[..., p:]
        for j in range(1, p + 1):
            r -= f[:, None, j - 1 : j] * x[..., p - j : n - j]
    else:
        r = e[..., : n - p]
        r += x[..., : n - p]
        for j in range(1, p + 1):
            r -= f[:, None, j - 1 : j] * x[..., j : n - p + j]
    return e


def _error_adjoint(e: np.ndarray, f: np.ndarray, direction: int) -> np.ndarray:
    """Adjoint of :func:`_error`."""
    p = f.shape[-1]
    n = e.shape[-1]
    fc = f.conj()[:, None, :]
    x = np.zeros_like(e)
    if direction > 0:
        r = e[..., p:]
        x[..., p:] += r
        for j in range(1, p + 1):
            x[..., p - j : n - j] -= fc[..., j - 1 : j] * r
    else:
        r = e[..., : n - p]
        x[..., : n - p] += r
        for j in range(1, p + 1):
            x[..., j : n - p + j] -= fc[..., j - 1 : j] * r
    return x


@nb.njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
def _line_normal(
    x: np.ndarray, f: np.ndarray, b: np.ndarray, ef: np.ndarray, eb: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled by numba; tested through _solve
    """``out += Ff^H Ff x + Fb^H Fb x`` on one line ``x`` for forward / backward filters ``f`` / ``b``
    (:func:`_error` and :func:`_error_adjoint` fused, the adjoint gathered instead of scattered);
    ``ef`` / ``eb``: zeroed scratch of at least ``n + p`` cells, left zeroed where no error lands."""
    n = x.shape[0]
    p = f.shape[0]
    if p == 0:
        return
    for k in range(p, n):  # ef[k]: forward error at trace k
        acc = x[k]
        for j in range(1, p + 1):
            acc -= f[j - 1] * x[k - j]
        ef[k] = acc
    for k in range(n - p):  # eb[p + k]: backward error at trace k
        acc = x[k]
        for j in range(1, p + 1):
            acc -= b[j - 1] * x[k + j]
        eb[p + k] = acc
    for k in range(n):
        acc = ef[k] + eb[p + k]
        for j in range(1, p + 1):
            acc -= np.conj(f[j - 1]) * ef[k + j] + np.conj(b[j - 1]) * eb[p + k - j]
        out[k] += acc


@nb.njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
def _apply(
    src: np.ndarray,
    miss: np.ndarray,
    n0: int,
    n1: int,
    f0: np.ndarray,
    b0: np.ndarray,
    f1: np.ndarray,
    b1: np.ndarray,
    scratch: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba; tested through _solve
    """``out = miss * sum F^H F src`` on one frequency's grid, flattened (``n0 * n1``): the filters
    ``f1`` / ``b1`` along the rows (axis 1), ``f0`` / ``b0`` (possibly empty) along the columns.
    ``scratch``: ``(6, max(n0, n1) + p)``, rows 0-3 kept zeroed outside the cells the lines write."""
    out[:] = 0
    for i in range(n0):
        _line_normal(src[i * n1 : (i + 1) * n1], f1, b1, scratch[0], scratch[1], out[i * n1 : (i + 1) * n1])
    if f0.shape[0] > 0:
        col = scratch[4, :n0]
        acol = scratch[5, :n0]
        for i in range(n1):
            # through contiguous copies: one compiled variant of _line_normal, not two
            for k in range(n0):
                col[k] = src[k * n1 + i]
                acol[k] = 0
            _line_normal(col, f0, b0, scratch[2], scratch[3], acol)
            for k in range(n0):
                out[k * n1 + i] += acol[k]
    for k in range(n0 * n1):
        out[k] *= miss[k]


@nb.njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
def _cg_kernel(
    obs: np.ndarray,
    miss: np.ndarray,
    f0: np.ndarray,
    b0: np.ndarray,
    f1: np.ndarray,
    b1: np.ndarray,
    start: np.ndarray,
    n_iter: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba; tested through _solve
    """Conjugate gradients per frequency on ``obs`` (``(nf, n0, n1)``), unknowns where ``miss`` (``(n0 *
    n1,)``) is 1, started from ``start`` there: minimise the output energy of the filters along axis 0
    (``f0`` / ``b0``, ``(nf, p0)``, ``p0`` may be 0) and along axis 1 (``f1`` / ``b1``). Hand-written
    because the normal-equation product is the whole cost of the solve, and NumPy's shifted slices and
    CG updates made a temporary array per filter lag and per update (4x slower); each frequency's
    system fits in cache here. Loops written out (no array expressions): a fraction of the compile time."""
    nf, n0, n1 = obs.shape
    size = n0 * n1
    width = max(n0, n1) + max(f0.shape[1], f1.shape[1])
    scratch = np.zeros((6, width), dtype=obs.dtype)
    v = np.empty(size, dtype=obs.dtype)
    av = np.empty(size, dtype=obs.dtype)
    x = np.empty(size, dtype=obs.dtype)
    r = np.empty(size, dtype=obs.dtype)
    d = np.empty(size, dtype=obs.dtype)
    for fi in range(nf):
        o = obs[fi].reshape(size)
        s0 = start[fi].reshape(size)
        for k in range(size):
            x[k] = miss[k] * s0[k]
            v[k] = o[k] + x[k]
        _apply(v, miss, n0, n1, f0[fi], b0[fi], f1[fi], b1[fi], scratch, av)
        rs = 0.0
        for k in range(size):
            r[k] = -av[k]
            d[k] = r[k]
            rs += r[k].real * r[k].real + r[k].imag * r[k].imag
        stop = 1e-12 * rs
        for _ in range(n_iter if rs > 0 else 0):
            _apply(d, miss, n0, n1, f0[fi], b0[fi], f1[fi], b1[fi], scratch, av)
            curv = 0.0
            for k in range(size):
                curv += d[k].real * av[k].real + d[k].imag * av[k].imag
            if curv <= 0:
                break
            alpha = rs / curv
            rs_new = 0.0
            for k in range(size):
                x[k] += alpha * d[k]
                r[k] -= alpha * av[k]
                rs_new += r[k].real * r[k].real + r[k].imag * r[k].imag
            if rs_new <= stop:
                break
            beta = rs_new / rs
            for k in range(size):
                d[k] = r[k] + beta * d[k]
            rs = rs_new
        res = out[fi].reshape(size)
        for k in range(size):
            res[k] = o[k] + miss[k] * x[k]


def _solve(
    obs: np.ndarray, miss: np.ndarray, filters: list[Any], n_iter: int, start: np.ndarray | None = None
) -> np.ndarray:
    """Missing cells of ``obs`` (``(nf, *traces)``, missing ones zero; ``miss`` over the trace axes)
    minimising the output energy of the forward and backward ``filters`` (``(axis, fwd, bwd)``, each
    ``(nf, p)``) with the recorded cells fixed: conjugate gradients on the normal equations, one system
    per frequency."""
    nf = obs.shape[0]
    cube = obs.reshape(nf, -1, obs.shape[-1])
    m = np.ascontiguousarray(miss.reshape(-1), dtype=np.float64)
    empty = np.zeros((nf, 0), dtype=obs.dtype)
    by_axis = {ax: (np.ascontiguousarray(f), np.ascontiguousarray(b)) for ax, f, b in filters}
    f0, b0 = by_axis.get(0, (empty, empty)) if obs.ndim == 3 else (empty, empty)
    f1, b1 = by_axis.get(obs.ndim - 2, (empty, empty))
    out = np.empty(cube.shape, dtype=cube.dtype)
    x0 = (
        np.zeros(cube.shape, dtype=cube.dtype)
        if start is None
        else np.ascontiguousarray(start.reshape(cube.shape))
    )
    _cg_kernel(np.ascontiguousarray(cube), m, f0, b0, f1, b1, x0, int(n_iter), out)
    return out.reshape(obs.shape)


def pef_fill(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    order: int = 8,
    prewhitening: float = 0.01,
    time_window: int = 96,
    smooth_bins: float = 2.0,
    n_iter: int = 10,
    outer: int = 1,
    init: str = "auto",
    pocs_windows: tuple[int, ...] = (64, 96),
    combine: str = "solutions",
    warm: bool = True,
    innovation: float | str = "auto",
    guard: float | None = _GUARD_DB,
    fills: list[np.ndarray] | None = None,
    guard_fill: np.ndarray | None = None,
    guard_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Fill the missing traces of ``values`` (``(trace, time)`` or ``(inline, crossline, time)``, missing
    traces zero; ``live`` bool over the trace axes) as the module docstring describes. ``fills``: the
    first fills (shaped like ``values``) when already made, else they are made here from ``init``;
    ``guard_mask`` / ``guard_fill``: the guard's held-out traces and the first of those fills made
    without them (:func:`_guard_inputs`), likewise."""
    miss = ~live
    if not miss.any() or not live.any():
        return values.copy()
    if fills is None:
        make_guard = guard is not None and guard_mask is None
        fills, held_mask, held_fill = _first_fills(values, live, dt, init, pocs_windows, make_guard)
        if held_mask is not None:
            guard_mask, guard_fill = held_mask, held_fill
    fills = list(fills)
    regular = regular_decimation(live)
    if innovation == "auto":
        innovation = _AUTO_INNOVATION if regular else 0.0
    solve = functools.partial(
        _pef_solve,
        order=order,
        prewhitening=prewhitening,
        time_window=time_window,
        smooth_bins=smooth_bins,
        n_iter=n_iter,
        outer=outer,
        combine=combine,
        warm=warm,
        innovation=float(innovation),
    )
    out = solve(values, live, fills)
    if guard is None:
        return out
    if guard_mask is None:
        guard_mask, guard_fill = _guard_inputs(values, live, dt, init, pocs_windows)
    if guard_fill is None:  # no held-out traces here, or too few live ones left without them
        return out
    held = guard_mask & live
    sub = live & ~held
    if held.sum() < _GUARD_MIN_TRACES or sub.sum() < 2:
        return out
    # The same method with the held-out traces hidden too (filters fitted on the first fill made
    # without them), scored on them against that first fill.
    trial = solve(np.where(sub[..., None], values, 0.0), sub, [guard_fill])
    err_pef = float(np.sum((trial[held] - values[held]) ** 2))
    err_fill = float(np.sum((guard_fill[held] - values[held]) ** 2))
    # On a regular decimation a held-out trace leaves a gap three traces wide, harder for the filters
    # than the real one-trace gaps (the real cube's 2x: 1 dB worse than the fill held out, 0.6 dB better
    # on the missing traces): the margin is doubled there.
    margin = guard * (2.0 if regular else 1.0)
    if not err_pef > err_fill * 10.0 ** (margin / 10.0):
        return out
    # The filters do not describe these data (their held-out error is more than the margin above the
    # first fill's): the solution moves toward the first fill by the least-squares weight of the
    # held-out traces, clipped to [0, 1].
    step = trial[held] - guard_fill[held]
    energy = float(np.sum(step**2))
    weight = (
        float(np.clip(np.sum((values[held] - guard_fill[held]) * step) / energy, 0.0, 1.0)) if energy else 0.0
    )
    _log.debug(
        "fx_pef guard: held-out error %.3g against %.3g for the first fill, weight %.2f",
        err_pef,
        err_fill,
        weight,
    )
    # one text for every window, so that a command line shows it once
    warnings.warn(
        "fx_pef: its prediction filters do not describe part of these data (on held-out traces they did "
        "worse than its first fill by more than the guard margin); there the result was moved toward the "
        f"first fill ({_fill_plan(live, init, pocs_windows)[0][0]}). `promethium evaluate` compares methods.",
        PromethiumWarning,
        stacklevel=2,
    )
    blended = fills[0] + weight * (out - fills[0])
    blended[live] = values[live]
    return blended


def _pef_solve(
    values: np.ndarray,
    live: np.ndarray,
    fills: list[np.ndarray],
    *,
    order: int,
    prewhitening: float,
    time_window: int,
    smooth_bins: float,
    n_iter: int,
    outer: int,
    combine: str,
    warm: bool,
    innovation: float,
) -> np.ndarray:
    """Steps 1-3 of the module docstring: the filters fitted on ``fills``, the missing traces solved
    for, the solutions of the fills averaged (or their equations pooled)."""
    miss = ~live
    current = fills[0]
    # Per trace axis, a filter of at most a third of the line's traces (a 10-inline cube gets 3), so
    # that every filter is fitted on at least twice as many equations per line as it has coefficients.
    orders = {ax: min(order, values.shape[ax] // 3) for ax in range(values.ndim - 1)}
    trace_axes = [ax for ax, p in orders.items() if p >= 1]
    if not trace_axes:
        return current
    nt = values.shape[-1]
    starts, length, tapers = hann_partition(nt, time_window)
    nfft = 2 * length

    def spectra(x: np.ndarray, s: int, taper: np.ndarray) -> np.ndarray:
        return np.moveaxis(segment_spectra(x, s, length, taper, nfft), -1, 0)  # (nf, *traces)

    # the innovation loading depends on the mask only: counted once, per axis and direction
    loading = (
        {
            (ax, d): _filled_predictors(_lines(miss[None], ax)[0], orders[ax], d)
            for ax in trace_axes
            for d in (1, -1)
        }
        if innovation > 0
        else {}
    )
    for _ in range(outer):
        acc = np.zeros_like(values)
        # One group of fills per filter set: each fill on its own (multiple imputation, the solutions
        # averaged) or all of them pooled into one set of normal equations.
        groups = [[k] for k in range(len(fills))] if combine == "solutions" else [list(range(len(fills)))]
        for s, taper in zip(starts, tapers, strict=True):
            specs = [spectra(fill, s, taper) for fill in fills]
            nf = specs[0].shape[0]
            filters = []
            for ax in trace_axes:
                fitted = []
                for g in groups:
                    lines = np.concatenate([_lines(specs[k], ax) for k in g], axis=1)
                    fitted.append(
                        [
                            _fit(
                                lines,
                                orders[ax],
                                prewhitening,
                                d,
                                smooth_bins,
                                len(g) * loading[ax, d] if loading else None,
                                innovation,
                            )
                            for d in (1, -1)
                        ]
                    )
                fwd = np.concatenate([f for f, _ in fitted])
                bwd = np.concatenate([b for _, b in fitted])
                filters.append((ax, fwd, bwd))
            # The groups' solves are independent per frequency: batched along the frequency axis.
            obs = np.concatenate([spectra(values, s, taper)] * len(groups))
            start = np.concatenate([np.mean([specs[k] for k in g], axis=0) for g in groups]) if warm else None
            filled = (
                _solve(obs, miss, filters, n_iter, start)
                .reshape(len(groups), nf, *obs.shape[1:])
                .mean(axis=0)
            )
            overlap_add(acc, np.moveaxis(filled, 0, -1), s, length, nfft)
        current = values.copy()
        current[miss] = acc[miss]
        fills = [current]
    return current


def _fill_plan(live: np.ndarray, init: str, pocs_windows: tuple[int, ...]) -> list[tuple[str, int | None]]:
    """The first fills ``init`` asks for: (method, trace-window size or None for the method's own)."""
    if init != "auto":
        return [(name, None) for name in init.split("+")]
    plan: list[tuple[str, int | None]] = []
    for name in _auto_init(live).split("+"):
        plan.extend([(name, size) for size in pocs_windows] if name == "pocs" else [(name, None)])
    return plan


def _first_fills(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    init: str,
    pocs_windows: tuple[int, ...],
    guard: bool = False,
) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray | None]:
    """The fills the filters are fitted on: one per method of ``init``; under ``"auto"`` the POCS fill
    once per trace-window size of ``pocs_windows`` (several imputations of the missing traces, their
    errors partly independent: each more gave 0.02 dB on the real random losses). With ``guard``, also
    the guard's held-out traces and its first fill (:func:`_guard_inputs`; the fill ``None`` where no
    check is possible), else ``None`` for both."""
    plan = _fill_plan(live, init, pocs_windows)
    tasks = [(values, live, step) for step in plan]
    held = task = None
    if guard:
        held, task = _guard_task(values, live, plan[0])
        if task is not None:
            tasks.append(task)

    def fill(task: tuple[np.ndarray, np.ndarray, tuple[str, int | None]]) -> np.ndarray:
        return _make_fill(task[0], task[1], dt, task[2])

    if len(tasks) == 1:
        made = [fill(tasks[0])]
    else:
        # The fills are independent and spend their time in NumPy / SciPy calls that release the GIL;
        # the dip-steered one runs as a single window, so running them side by side keeps both cores
        # busy.
        with ThreadPoolExecutor(max_workers=min(len(tasks), default_workers())) as pool:
            made = list(pool.map(fill, tasks))
    return made[: len(plan)], held, made[len(plan)] if task is not None else None


def _make_fill(values: np.ndarray, live: np.ndarray, dt: float, step: tuple[str, int | None]) -> np.ndarray:
    """One first fill of :func:`_fill_plan`: (method, trace-window size or None for the method's own)."""
    from promethium.signal.reconstruction._registry import get_method
    from promethium.signal.reconstruction.ensemble import _run_candidate

    name, size = step
    method = get_method(name, "reconstruct")
    sizes = None
    if size is not None:
        base = list(method.window_2d if values.ndim == 2 else method.window_3d)
        sizes = [*base[:-2], size, base[-1]]
    return _run_candidate(method, values, live, dt, sizes=sizes)


def _guard_inputs(
    values: np.ndarray, live: np.ndarray, dt: float, init: str, pocs_windows: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray | None]:
    """The guard's held-out traces (``_GUARD_FRACTION`` of the live ones, copies of the missing
    pattern moved onto live traces, as ``blend`` holds them out) and the first of ``init``'s fills made
    with them hidden too (``None`` where none are held out or too few live traces remain)."""
    held, task = _guard_task(values, live, _fill_plan(live, init, pocs_windows)[0])
    return held, None if task is None else _make_fill(task[0], task[1], dt, task[2])


def _guard_task(
    values: np.ndarray, live: np.ndarray, step: tuple[str, int | None]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, tuple[str, int | None]] | None]:
    """The guard's held-out traces and the first fill to make without them (values, live, ``step``),
    or ``None`` for the latter where no check is possible."""
    from promethium.signal.reconstruction.dipsteer import holdout_mask

    held = holdout_mask(live, _GUARD_FRACTION, seed=0)
    sub = live & ~held
    if not held.any() or sub.sum() < 2:
        return held, None
    return held, (np.where(sub[..., None], values, 0.0), sub, step)


def _auto_init(live: np.ndarray) -> str:
    """The first fills ``init="auto"`` fits the filters on: dip-steered interpolation, pooled with POCS
    where the missing traces are scattered (not a regular decimation, short runs)."""
    if regular_decimation(live) or mean_gap(live) > _AUTO_POCS_MAX_GAP:
        return "dip"
    return "dip+pocs"


def _lines(spec: np.ndarray, ax: int) -> np.ndarray:
    """The lines of ``spec`` (``(nf, *traces)``) along trace axis ``ax``: ``(nf, n_lines, n)``."""
    lines = np.moveaxis(spec, ax + 1, -1)
    return lines.reshape(lines.shape[0], -1, lines.shape[-1])


def _number(name: str, value: Any, high: float, allowed: str) -> float:
    """``value`` as a number from 0 to ``high``, else a ParameterError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, f"must be {allowed}, got {value!r}", allowed=allowed) from exc
    check_range(name, number, low=0.0, high=high)
    return number


def _validate(p: dict[str, Any]) -> None:
    check_range("order", p["order"], low=1, high=32, integer=True)
    check_range("prewhitening", p["prewhitening"], low=0.0, high=100.0, low_open=True)
    check_range("time_window", p["time_window"], low=16, high=1_000_000, integer=True)
    check_range("smooth_bins", p["smooth_bins"], low=0.0, high=1000.0)
    check_range("n_iter", p["n_iter"], low=1, high=10_000, integer=True)
    check_range("outer", p["outer"], low=1, high=20, integer=True)
    if not isinstance(p["warm"], bool | np.bool_):
        raise ParameterError("warm", f"must be true or false, got {p['warm']!r}")
    p["warm"] = bool(p["warm"])
    windows = p["pocs_windows"]
    windows = (windows,) if np.isscalar(windows) else tuple(windows)
    if not 1 <= len(windows) <= 8:
        raise ParameterError("pocs_windows", f"has {len(windows)} sizes", allowed="1 to 8 window sizes")
    for size in windows:
        check_range("pocs_windows", size, low=8, high=1_000_000, integer=True)
    p["pocs_windows"] = tuple(int(w) for w in windows)
    innovation = p["innovation"]
    if isinstance(innovation, str) and innovation.strip().lower() == "auto":
        p["innovation"] = "auto"
    else:
        p["innovation"] = _number("innovation", innovation, 100.0, "'auto' or 0 to 100")
    guard = p["guard"]
    if guard is None or (isinstance(guard, str) and guard.strip().lower() in ("off", "none")):
        p["guard"] = None
    else:
        p["guard"] = _number("guard", guard, 60.0, "a margin of 0 to 60 dB, or 'off'")
    combine = str(p["combine"]).strip().lower()
    if combine not in ("solutions", "equations"):
        raise ParameterError("combine", f"unknown way {p['combine']!r}", allowed="'solutions' or 'equations'")
    p["combine"] = combine
    init = str(p["init"]).strip().lower()
    if init == "auto":
        p["init"] = "auto"
        return
    names = [name.strip().replace("-", "_") for name in init.split("+")]
    bad = [name for name in names if name not in _INITS]
    if bad:
        raise ParameterError(
            "init",
            f"unknown first fill {bad[0]!r}",
            allowed=f"'auto', or one or more of {', '.join(_INITS)} joined by '+'",
        )
    p["init"] = "+".join(names)


#: The first fills are made once over the whole data (``_prepare``) when they take at most this many
#: bytes together; above it each window makes its own, keeping memory bounded on large volumes.
_WHOLE_FILLS_MAX_BYTES = 1 << 30


#: Keyword prefix of the first fills that ``_prepare`` hands to each window (``first_fill_0``, ...).
_FILL_KEY = "first_fill_"


def _prepare(
    values: np.ndarray, live: np.ndarray, dt: float, params: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The first fills over the whole data, for the windows to slice: made once instead of inside each
    overlapping window (about 1.4x the work with 256-trace windows), and without the windows' edges
    cutting the dip and POCS fills short."""
    if live.all() or not live.any():
        return {}
    guard = params["guard"] is not None
    n_fills = len(_fill_plan(live, params["init"], params["pocs_windows"])) + guard
    if n_fills * values.nbytes > _WHOLE_FILLS_MAX_BYTES:
        return {}
    fills, held, held_fill = _first_fills(values, live, dt, params["init"], params["pocs_windows"], guard)
    prepared = {f"{_FILL_KEY}{k}": fill for k, fill in enumerate(fills)}
    if held is not None and held_fill is not None:
        prepared["guard_mask"], prepared["guard_fill"] = held, held_fill
    return prepared


def _pef(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    keys = sorted((k for k in params if k.startswith(_FILL_KEY)), key=lambda k: int(k[len(_FILL_KEY) :]))
    fills = [np.ascontiguousarray(params.pop(k)) for k in keys] or None
    return pef_fill(values, live, dt, fills=fills, **params)


METHODS = [
    Method(
        name="fx_pef",
        kind="reconstruct",
        fn=_pef,
        description="f-x prediction-error-filter interpolation (forward and backward filters, least squares)",
        params=dict(_DEFAULTS),
        window_2d=(256, None),
        window_3d=(32, 32, None),
        needs_dt=False,
        validate=_validate,
        prepare=_prepare,
    )
]
