"""Rank reduction in the f-x (2D) and f-x-y (3D) domain: DRR, MSSA and rank-reduction denoising.

In a window where events are locally linear, each frequency slice of the data is a sum of a few complex
exponentials across the traces, so its Hankel matrix (2D) or block-Hankel matrix (3D, multichannel
singular spectrum analysis) has a rank equal to the number of dips. Noise and missing traces raise that
rank; truncating the SVD to rank ``k`` and averaging the anti-diagonals back into traces removes them
(Oropeza & Sacchi 2011). Damped rank reduction (DRR, Huang et al. 2016, Chen et al. 2016) shrinks the
kept singular values by ``s_j (1 - s_{k+1}^K / s_j^K)``, which removes the noise that truncation leaves
in the signal subspace. Reconstruction wraps the operator in the weighted iteration of Chen et al. 2016:

    d_{n+1} = a_n d_obs + (1 - a_n S) DRR(d_n),   a_n from 1 linearly down to ``weight_end``

(``S`` the sampling operator), run independently in every frequency slice of the band ``[low, high]`` Hz.

Implementation (the reference code, pydrr, loops over frequencies and SVDs each full Hankel matrix):

- every frequency slice of a window is processed at once: the (block-)Hankel matrices are built with
  ``sliding_window_view`` as one stacked complex64 array ``(n_freq, rows, cols)`` (in frequency chunks to
  bound memory);
- the rank-``k`` SVD is a batched subspace iteration (randomised range finder, Halko et al. 2011) warm
  started from the previous iteration's right singular vectors, so one power step per outer iteration
  gives the exact-SVD result to within rounding; ``svd="exact"`` uses ``np.linalg.svd`` on the full
  matrices instead;
- anti-diagonal averaging never forms the rank-``k`` matrix: the sum over an anti-diagonal of
  ``u v^H`` is the convolution of ``u`` with ``conj(v)`` (2D convolution of the reshaped blocks in 3D),
  done with batched FFTs and divided by the number of terms on each anti-diagonal.

Frequency conventions follow pydrr so that results can be compared: the FFT length is the next power of
two of the window length and the processed bins are ``floor(low dt nf) .. floor(high dt nf)``; bins
outside the band are set to zero.
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

__all__ = [
    "METHODS",
    "drr_denoise",
    "drr_reconstruct",
    "frequency_band",
    "rank_reduce_slices",
]

#: Frequencies processed together: bounds the memory of the stacked Hankel matrices (chunk x rows x cols).
_CHUNK_ELEMENTS = 6_000_000
_TINY = 1e-30


# --------------------------------------------------------------------------- frequency band
def _next_pow2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def frequency_band(n_samples: int, dt: float, low: float, high: float | None) -> tuple[int, int, int]:
    """FFT length and the first and last (inclusive) rfft bins of the band ``[low, high]`` Hz.

    Same convention as pydrr: ``nf`` is the next power of two of ``n_samples`` and the bins are
    ``floor(low dt nf)`` to ``floor(high dt nf)``, clipped to ``[0, nf / 2]``; ``high=None`` means Nyquist.
    """
    nf = _next_pow2(n_samples)
    k_lo = max(0, math.floor(low * dt * nf))
    k_hi = nf // 2 if high is None else min(nf // 2, math.floor(high * dt * nf))
    return nf, k_lo, k_hi


def _check_band(low: float, high: float | None, dt: float) -> None:
    nyq = 0.5 / dt
    if not 0 <= low < nyq:
        raise ParameterError("low", f"is {low} Hz, outside the data's band", allowed=f"[0, {nyq:g}) Hz")
    if high is not None and not low < high <= nyq:
        raise ParameterError(
            "high", f"is {high} Hz; it must lie above low ({low} Hz)", allowed=f"({low:g}, {nyq:g}] Hz"
        )


# --------------------------------------------------------------------------- Hankel machinery
class _Hankel:
    """Block-Hankel geometry of an ``(nx, ny)`` frequency slice (``ny = 1`` for 2D).

    The matrix ``M[(a, i), (b, j)] = S[i + j, a + b]`` with ``i < lx``, ``j < lxx = nx - lx + 1``,
    ``a < ly``, ``b < lyy = ny - ly + 1`` (rows ``a * lx + i``, columns ``b * lxx + j``); ``lx = nx // 2 + 1``
    as in pydrr, which makes the matrices as square as possible.
    """

    def __init__(self, nx: int, ny: int) -> None:
        self.nx, self.ny = nx, ny
        self.lx, self.ly = nx // 2 + 1, ny // 2 + 1
        self.lxx, self.lyy = nx - self.lx + 1, ny - self.ly + 1
        self.rows = self.lx * self.ly
        self.cols = self.lxx * self.lyy
        cx = np.minimum.reduce(
            [np.arange(1, nx + 1), np.arange(nx, 0, -1), np.full(nx, min(self.lx, self.lxx))]
        )
        cy = np.minimum.reduce(
            [np.arange(1, ny + 1), np.arange(ny, 0, -1), np.full(ny, min(self.ly, self.lyy))]
        )
        #: Number of matrix entries on each (block) anti-diagonal, shape (ny, nx).
        self.inv_count = (1.0 / np.multiply.outer(cy, cx)).astype(np.float32)

    def build(self, s: np.ndarray) -> np.ndarray:
        """``s``: ``(F, ny, nx)`` complex -> stacked matrices ``(F, rows, cols)`` (a contiguous copy)."""
        w = sliding_window_view(s, self.lyy, axis=1)  # (F, ly, nx, lyy): [f, a, x, b] = s[f, a + b, x]
        w = sliding_window_view(w, self.lxx, axis=2)  # (F, ly, lx, lyy, lxx): s[f, a + b, i + j]
        return w.reshape(s.shape[0], self.rows, self.cols)

    def average(self, u: np.ndarray, sv: np.ndarray, vh: np.ndarray) -> np.ndarray:
        """Anti-diagonal average of ``u diag(sv) vh`` without forming it: ``(F, ny, nx)``.

        ``u``: ``(F, rows, r)``, ``sv``: ``(F, r)``, ``vh``: ``(F, r, cols)``. The sum along a block
        anti-diagonal of ``u_r v_r^H`` is the 2D convolution of ``u_r`` reshaped ``(ly, lx)`` with
        ``conj(v_r)`` reshaped ``(lyy, lxx)``; the full convolution is exactly ``(ny, nx)`` long, so
        FFTs of that size have no wrap-around.
        """
        f, _, r = u.shape
        us = (u * sv[:, None, :]).transpose(0, 2, 1).reshape(f, r, self.ly, self.lx)
        vs = vh.reshape(f, r, self.lyy, self.lxx)  # rows of vh are conj(v_r)
        shape = (self.ny, self.nx)
        spec = sfft.fft2(us, s=shape, axes=(-2, -1)) * sfft.fft2(vs, s=shape, axes=(-2, -1))
        out = sfft.ifft2(spec.sum(axis=1), axes=(-2, -1))
        return (out * self.inv_count).astype(np.complex64, copy=False)


def _orth(a: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(a)
    return q


def _truncated_svd(
    m: np.ndarray, r: int, v0: np.ndarray | None, oversample: int, power_iter: int, exact: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Leading ``r`` singular triplets of each of the stacked matrices ``m`` ``(F, rows, cols)``.

    Randomised subspace iteration (Halko, Martinsson & Tropp 2011, alg. 4.4) with ``r + oversample``
    vectors, started from ``v0`` (``(F, cols, p)``, the previous call's right vectors) when given. Returns
    ``u (F, rows, r)``, ``s (F, r)``, ``vh (F, r, cols)`` and the right basis to warm-start the next call.
    """
    if exact:
        u, s, vh = np.linalg.svd(m, full_matrices=False)
        return u[:, :, :r], s[:, :r], vh[:, :r, :], None
    f, rows, cols = m.shape
    p = min(r + oversample, rows, cols)
    if v0 is None or v0.shape[-1] != p:
        rng = np.random.default_rng(0)
        v0 = (rng.standard_normal((cols, p)) + 1j * rng.standard_normal((cols, p))).astype(m.dtype)
        v0 = np.broadcast_to(v0, (f, cols, p))
    mh = m.conj().transpose(0, 2, 1)
    q = _orth(m @ v0)
    for _ in range(power_iter):
        q = _orth(m @ _orth(mh @ q))
    b = q.conj().transpose(0, 2, 1) @ m  # (F, p, cols)
    # Rayleigh-Ritz on the small side: the eigenpairs of b b^H (p x p, in complex128 so that the squared
    # singular values keep their precision) give the SVD of b, much faster than a batched svd of b.
    lam, w = np.linalg.eigh((b @ b.conj().transpose(0, 2, 1)).astype(np.complex128))
    lam, w = lam[:, ::-1], w[:, :, ::-1]
    s = np.sqrt(np.maximum(lam, 0.0))
    w = w.astype(m.dtype)
    vh = (w.conj().transpose(0, 2, 1) @ b) / np.maximum(s, _TINY)[:, :, None].astype(np.float32)
    u = q @ w[:, :, :r]
    return u, s[:, :r].astype(np.float32), vh[:, :r, :], vh.conj().transpose(0, 2, 1)


def _damp(s: np.ndarray, rank: int, damping: float | None) -> np.ndarray:
    """Keep ``rank`` singular values, shrunk by ``1 - (s_{rank+1} / s_j)^damping`` when damping is given."""
    kept = s[:, :rank]
    if damping is None or s.shape[1] <= rank:
        return kept
    ratio = s[:, rank : rank + 1] / np.maximum(kept, _TINY)
    return kept * (1.0 - ratio**damping)


def rank_reduce_slices(
    spec: np.ndarray,
    *,
    rank: int,
    damping: float | None,
    mask: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    oversample: int = 6,
    power_iter: int = 1,
    svd: str = "randomized",
) -> np.ndarray:
    """(Damped) rank reduction of stacked frequency slices, optionally in the weighted reconstruction loop.

    ``spec``: complex ``(F, nx, ny)`` (``ny = 1`` for 2D). Without ``mask``: one pass. With ``mask``
    (bool ``(nx, ny)``, True = observed) and ``weights`` ``a_n`` (one per iteration): the iteration
    ``d_{n+1} = a_n d_obs + (1 - a_n mask) R(d_n)`` from ``d_0 = d_obs`` (zero where unobserved).
    Returns complex64 ``(F, nx, ny)``.
    """
    f_all, nx, ny = spec.shape
    geo = _Hankel(nx, ny)
    max_rank = min(geo.rows, geo.cols)
    k = min(rank, max_rank)
    r = min(k + (0 if damping is None else 1), max_rank)
    exact = svd == "exact"
    obs = np.ascontiguousarray(spec.transpose(0, 2, 1), dtype=np.complex64)  # (F, ny, nx)
    if mask is None:
        mk = None
        n_iter = 1
        a = np.zeros(1)
    else:
        mk = np.ascontiguousarray(mask.T).astype(np.float32)  # (ny, nx)
        obs = obs * mk
        a = np.asarray(weights if weights is not None else np.ones(1), dtype=np.float64)
        n_iter = len(a)
    out = np.empty_like(obs)
    chunk = max(1, _CHUNK_ELEMENTS // max(1, geo.rows * geo.cols))
    for c0 in range(0, f_all, chunk):
        d_obs = obs[c0 : c0 + chunk]
        d = d_obs
        v0: np.ndarray | None = None
        for it in range(n_iter):
            u, s, vh, v0 = _truncated_svd(geo.build(d), r, v0, oversample, power_iter, exact)
            low = geo.average(u[:, :, :k], _damp(s, k, damping).astype(np.complex64), vh[:, :k, :])
            if mk is None:
                d = low
            else:
                an = np.float32(a[it])
                d = an * d_obs + (1.0 - an * mk) * low
        out[c0 : c0 + chunk] = d
    return out.transpose(0, 2, 1)


# --------------------------------------------------------------------------- kernels
def _apply(
    values: np.ndarray,
    live: np.ndarray | None,
    dt: float,
    *,
    rank: int,
    damping: float | None,
    n_iter: int,
    low: float,
    high: float | None,
    weight_end: float,
    oversample: int,
    power_iter: int,
    svd: str,
) -> np.ndarray:
    _check_band(low, high, dt)
    shape = values.shape
    nt = shape[-1]
    cube = values.reshape(shape[0], -1 if values.ndim == 3 else 1, nt)  # (nx, ny, nt)
    nf, k_lo, k_hi = frequency_band(nt, dt, low, high)
    spec = sfft.rfft(cube.astype(np.float32), n=nf, axis=-1)  # (nx, ny, nf/2+1)
    band = np.ascontiguousarray(np.moveaxis(spec[..., k_lo : k_hi + 1], -1, 0))  # (F, nx, ny)
    if live is None:
        red = rank_reduce_slices(
            band, rank=rank, damping=damping, oversample=oversample, power_iter=power_iter, svd=svd
        )
    else:
        weights = np.linspace(1.0, weight_end, n_iter)
        red = rank_reduce_slices(
            band,
            rank=rank,
            damping=damping,
            mask=live.reshape(cube.shape[:2]),
            weights=weights,
            oversample=oversample,
            power_iter=power_iter,
            svd=svd,
        )
    full = np.zeros(spec.shape, dtype=np.complex64)
    full[..., k_lo : k_hi + 1] = np.moveaxis(red, 0, -1)
    out = sfft.irfft(full, n=nf, axis=-1)[..., :nt]
    return out.reshape(shape).astype(np.float64)


def drr_reconstruct(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    rank: int = 3,
    damping: float | None = 3.0,
    n_iter: int = 10,
    low: float = 0.0,
    high: float | None = None,
    weight_end: float = 1.0,
    oversample: int = 6,
    power_iter: int = 0,
    svd: str = "randomized",
) -> np.ndarray:
    """Fill the traces where ``live`` is False by (damped) rank reduction, one window.

    ``values``: ``(trace, time)`` or ``(inline, crossline, time)``, missing traces zero; ``dt`` in
    seconds; ``low`` / ``high`` in Hz (``None`` = Nyquist); ``damping=None`` gives plain MSSA (truncation).
    ``weight_end``: last weight ``a_n`` of the data-insertion schedule (1 = pure insertion, below 1 also
    denoises the observed traces during the iterations).
    """
    return _apply(
        values,
        np.asarray(live, dtype=bool),
        dt,
        rank=rank,
        damping=damping,
        n_iter=n_iter,
        low=low,
        high=high,
        weight_end=weight_end,
        oversample=oversample,
        power_iter=power_iter,
        svd=svd,
    )


def drr_denoise(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    rank: int = 3,
    damping: float | None = 3.0,
    low: float = 0.0,
    high: float | None = None,
    oversample: int = 6,
    power_iter: int = 2,
    svd: str = "randomized",
) -> np.ndarray:
    """One pass of (damped) rank reduction over the band ``[low, high]`` Hz of one window."""
    del live  # dead traces are zero in ``values``; the dispatcher keeps them dead
    return _apply(
        values,
        None,
        dt,
        rank=rank,
        damping=damping,
        n_iter=1,
        low=low,
        high=high,
        weight_end=1.0,
        oversample=oversample,
        power_iter=power_iter,
        svd=svd,
    )


def _mssa_reconstruct(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    return drr_reconstruct(values, live, dt, damping=None, **params)


# --------------------------------------------------------------------------- validation & registry
def _validate_common(p: dict[str, Any]) -> None:
    check_range("rank", p["rank"], low=1, high=100, integer=True)
    if "damping" in p and p["damping"] is not None:
        check_range("damping", p["damping"], low=0, high=100, low_open=True)
    check_range("low", p["low"], low=0)
    if p["high"] is not None:
        check_range("high", p["high"], low=0, low_open=True)
        if p["high"] <= p["low"]:
            raise ParameterError("high", f"is {p['high']} Hz, not above low ({p['low']} Hz)", allowed="> low")
    check_range("oversample", p["oversample"], low=0, high=50, integer=True)
    check_range("power_iter", p["power_iter"], low=0, high=10, integer=True)
    check_choice("svd", p["svd"], ("randomized", "exact"))


def _validate_recon(p: dict[str, Any]) -> None:
    _validate_common(p)
    check_range("n_iter", p["n_iter"], low=1, high=500, integer=True)
    check_range("weight_end", p["weight_end"], low=0, high=1)


_COMMON = {"rank": 3, "low": 0.0, "high": None, "oversample": 6, "svd": "randomized"}

METHODS = [
    Method(
        name="drr",
        kind="reconstruct",
        fn=drr_reconstruct,
        description="damped rank reduction (f-x Hankel / f-x-y block Hankel), weighted iterative insertion",
        params={**_COMMON, "damping": 3.0, "n_iter": 10, "weight_end": 1.0, "power_iter": 0},
        window_2d=(64, 256),
        window_3d=(None, 16, 100),
        needs_dt=True,
        validate=_validate_recon,
    ),
    Method(
        name="mssa",
        kind="reconstruct",
        fn=_mssa_reconstruct,
        description="multichannel singular spectrum analysis (undamped rank reduction), iterative insertion",
        params={**_COMMON, "n_iter": 10, "weight_end": 1.0, "power_iter": 0},
        window_2d=(64, 256),
        window_3d=(None, 16, 100),
        needs_dt=True,
        validate=_validate_recon,
    ),
    Method(
        name="rank_denoise",
        kind="denoise",
        fn=drr_denoise,
        description="one pass of damped rank reduction in f-x / f-x-y",
        params={**_COMMON, "damping": 3.0, "power_iter": 2},
        window_2d=(64, 256),
        window_3d=(None, 40, 256),
        needs_dt=True,
        validate=_validate_common,
    ),
]
