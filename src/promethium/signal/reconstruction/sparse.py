"""Sparse inversion for missing traces: FISTA with pylops (``fista``), and the peer configuration.

The recorded data ``y`` are modelled as ``y = R F^H x``: ``R`` (:class:`pylops.Restriction`) keeps the
live traces, ``F^H`` is the inverse of a sparsifying transform (f-k with
:class:`pylops.signalprocessing.FFT2D` in 2D, f-k-k with :class:`~pylops.signalprocessing.FFTND` in 3D;
zero padded, orthonormal, real model), and ``x`` is found by
:func:`pylops.optimization.sparsity.fista` minimising ``0.5 ||y - R F^H x||^2 + eps ||x||_1``. The
output is ``F^H x`` (real); the dispatcher puts the recorded traces back exactly.

Conventions of Promethium's ``fista`` (method kernel :func:`fista_fill`):

- each window is scaled so that ``max |F R^H y| = 1``: ``eps`` is then a fraction of the largest
  coefficient of the adjoint and does not depend on the data's amplitude units;
- the step is ``alpha = 1`` (``R F^H`` has a norm of at most 1 with an orthonormal FFT), no eigenvalue
  estimate needed;
- with ``continuation=True`` the soft threshold decreases geometrically from ``thresh_max`` (of the
  largest coefficient) to its final value ``eps / 2`` over the iterations (pylops' ``decay``), as in
  POCS, which converges in far fewer iterations than a fixed ``eps``.

:func:`fista_peer` is the *peer* configuration the benchmarks compare against: the pylops documentation's
seismic-interpolation tutorial (``tutorials/seismicinterpolation.py``, "Seismic regularization"), i.e.
:func:`pylops.waveeqprocessing.SeismicInterpolation` with ``kind="fk"``, FFT sizes padded to powers of
two, ``niter=50``, ``eps=0.1``, the step from pylops' eigenvalue estimate, on the whole section (no
windows) scaled to a peak amplitude of 1 as the tutorial's field-data example does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft as sfft

from promethium.core.errors import ParameterError
from promethium.signal._base import check_choice, check_range
from promethium.signal.reconstruction._registry import Method

__all__ = ["METHODS", "fista_fill", "fista_peer"]

_DEFAULTS: dict[str, Any] = {
    "niter": 40,
    "eps": 0.01,
    "thresh_max": 0.5,
    "continuation": True,
    "pad": 0.25,
    "init": "linear",
}


def _operators(shape: tuple[int, ...], live: np.ndarray, nffts: tuple[int, ...], real: bool) -> Any:
    """``(R, F)``: the restriction to the live traces over the flattened trace axes and the f-k(-k)
    transform over every axis of ``shape``."""
    import pylops
    from pylops.signalprocessing import FFT2D, FFTND

    n_traces = int(np.prod(shape[:-1]))
    iava = np.flatnonzero(np.asarray(live, dtype=bool).ravel())
    # Single precision: the FFTs dominate and the result needs no more (data are float32 on disk).
    cdtype = "complex64"
    rop = pylops.Restriction((n_traces, shape[-1]), iava, axis=0, dtype=cdtype if not real else "float32")
    if len(shape) == 2:
        fop = FFT2D(dims=shape, nffts=nffts, norm="ortho", real=real, engine="scipy", dtype=cdtype)
    else:
        fop = FFTND(
            dims=shape, axes=(0, 1, 2), nffts=nffts, norm="ortho", real=real, engine="scipy", dtype=cdtype
        )
    return rop, fop


def fista_fill(
    values: np.ndarray,
    live: np.ndarray,
    *,
    niter: int = 40,
    eps: float = 0.01,
    thresh_max: float = 0.5,
    continuation: bool = True,
    pad: float = 0.25,
    init: str = "linear",
) -> np.ndarray:
    """Fill the traces where ``live`` is False by f-k(-k) sparse inversion with pylops FISTA.

    ``values``: ``(trace, time)`` or ``(inline, crossline, time)``, missing traces zero; ``live``: bool
    over the trace axes. ``eps``: the L1 weight, a fraction of the largest adjoint coefficient;
    ``thresh_max``: the first soft threshold (same unit) when ``continuation``; ``pad``: zero padding
    of each axis as a fraction of its length. Returns float64 of the same shape.
    """
    from pylops.optimization.sparsity import fista

    shape = tuple(int(n) for n in values.shape)
    live = np.asarray(live, dtype=bool)
    if live.all() or not live.any():
        return np.asarray(values, dtype=np.float64).copy()
    nffts = tuple(sfft.next_fast_len(n + round(pad * n), real=True) if n > 1 else n for n in shape)
    rop, fop = _operators(shape, live, nffts, real=True)
    op = rop @ fop.H
    y = np.asarray(values, dtype=np.float32)[live].ravel()
    scale = float(np.abs(op.H @ y).max()) if y.size else 0.0
    if not np.isfinite(scale) or scale <= 0.0:
        return np.zeros(shape, dtype=np.float64)  # all-zero window: zero is the sparsest fill
    final = 0.5 * eps  # pylops' soft threshold is eps * alpha / 2 with alpha = 1
    decay = None
    if continuation and niter > 1:
        first = max(thresh_max, final)
        decay = (first / final) ** (1.0 - np.arange(niter) / (niter - 1))
    x0 = None
    if init == "linear":
        # Start from the linear fill: it breaks the exact symmetry between an event and its alias on
        # regular decimation (from zero, both keep equal weight and the missing traces come out zero).
        from promethium.signal.reconstruction.baseline import linear_fill

        start = linear_fill(np.asarray(values, dtype=np.float64), live) / scale
        x0 = np.asarray(fop @ start.astype(np.float32).ravel())
    x, _, _ = fista(
        op,
        (y / scale).astype(np.float32),
        x0=x0,
        niter=niter,
        eps=eps,
        alpha=1.0,
        decay=decay,
        threshkind="soft",
        tol=0.0,
    )
    out = np.real(fop.H @ x).reshape(shape) * scale
    return np.asarray(out, dtype=np.float64)


def fista_peer(
    values: np.ndarray, live: np.ndarray, dt: float, *, niter: int = 50, eps: float = 0.1
) -> np.ndarray:
    """The pylops tutorial's f-k FISTA interpolation on the whole array (peer for benchmarks).

    2D: :func:`pylops.waveeqprocessing.SeismicInterpolation` (``kind="fk"``, ``nffts`` the next powers
    of two, ``sampling=(1, dt)``, ``niter``, ``eps``), exactly as in the tutorial. 3D with an arbitrary
    (inline, crossline) mask, which that function's separable ``iava``/``iava1`` cannot express: the same
    problem built by hand (restriction over the flattened trace axes, then ``Real``, times ``FFTND.H``).
    The input is scaled to a peak of 1 (the tutorial's field example) and scaled back; live traces are
    put back. ``dt`` in seconds.
    """
    import pylops
    from pylops.optimization.sparsity import fista
    from pylops.signalprocessing import FFTND
    from pylops.waveeqprocessing import SeismicInterpolation

    values = np.asarray(values, dtype=np.float64)
    live = np.asarray(live, dtype=bool)
    shape = values.shape
    peak = float(np.abs(values[live]).max()) if live.any() else 0.0
    if peak <= 0.0 or live.all():
        return values.copy()
    nffts = tuple(int(2 ** np.ceil(np.log2(n))) for n in shape)
    y = values[live] / peak
    if values.ndim == 2:
        iava = np.flatnonzero(live)
        rec, _, _ = SeismicInterpolation(
            y, shape[0], iava, kind="fk", nffts=nffts, sampling=(1.0, dt), niter=niter, eps=eps
        )
        out = np.asarray(rec, dtype=np.float64)
    else:
        n_traces = int(np.prod(shape[:-1]))
        rop = pylops.Restriction(
            (n_traces, shape[-1]), np.flatnonzero(live.ravel()), axis=0, dtype="complex128"
        )
        realop = pylops.Real(rop.shape[0], dtype="complex128")
        pop = FFTND(dims=shape, nffts=nffts, sampling=(1.0, 1.0, dt), dtype="complex128").H
        x, _, _ = fista(realop @ rop @ pop, y.ravel().astype(np.complex128), niter=niter, eps=eps)
        out = np.real(pop @ x).reshape(shape)
    out = out * peak
    out[live] = values[live]
    return out


def _validate(p: dict[str, Any]) -> None:
    check_range("niter", p["niter"], low=1, high=5000, integer=True)
    check_range("eps", p["eps"], low=0.0, high=1.0, low_open=True)
    check_range("thresh_max", p["thresh_max"], low=0.0, high=1.0, low_open=True)
    check_range("pad", p["pad"], low=0.0, high=2.0)
    p["init"] = check_choice("init", p["init"], ("linear", "zero"))
    if not isinstance(p["continuation"], bool | np.bool_):
        raise ParameterError("continuation", f"must be True or False, got {p['continuation']!r}")


def _fista(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    return fista_fill(values, live, **params)


METHODS = [
    Method(
        name="fista",
        kind="reconstruct",
        fn=_fista,
        description="sparse f-k (f-k-k) inversion with pylops FISTA and threshold continuation",
        params=dict(_DEFAULTS),
        window_2d=(64, 256),
        window_3d=(None, 64, 256),
        validate=_validate,
    )
]
