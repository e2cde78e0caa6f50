"""Quality metrics of a reconstruction: SNR, PSNR, MSE, SSIM and f-k coherence against a reference.

Every function takes the ``reference`` (the true, complete data) and the ``estimate`` (what a method
produced) as :class:`~promethium.io.data.SeismicData` or numpy arrays of the same shape, sample axis last:
``(trace, time)``, ``(inline, crossline, time)`` or a single trace ``(time,)``. They are shared by the
classical methods and the ML module::

    from promethium.signal.metrics import compare, snr, snr_missing

    snr(clean, reconstructed)                       # dB over every trace
    snr_missing(clean, reconstructed, live_mask)    # dB over the traces that were missing
    compare(clean, reconstructed, live_mask=live)   # every metric in a dict

``mask`` (``live_mask``) is a boolean array over the trace axes (shape ``(trace,)`` or ``(inline,
crossline)``). For the error-based metrics (``snr``, ``psnr``, ``mse``, ``ssim``) ``mask`` restricts the
average to the traces where it is True; :func:`snr_missing` uses the traces where ``live_mask`` is False,
those a reconstruction had to invent. Computations are done in float64.

Conventions: a perfect estimate gives ``snr = psnr = math.inf`` (never NaN), ``mse = 0``, ``ssim = 1``
and ``fk_coherence = 1``. Shapes that differ, NaN/Inf samples and a reference with no energy on the
selected traces raise :class:`~promethium.core.errors.DataError`; a mask of the wrong shape or one that
selects no trace raises :class:`~promethium.core.errors.ParameterError` naming it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

from promethium.core.errors import DataError, ParameterError
from promethium.signal._base import ArrayOrData, Prepared, prepare, resolve_mask

__all__ = [
    "SSIM_K1",
    "SSIM_K2",
    "SSIM_RADIUS",
    "SSIM_SIGMA",
    "compare",
    "fk_coherence",
    "mse",
    "psnr",
    "snr",
    "snr_missing",
    "ssim",
]

#: Constants of the SSIM of Wang et al. (2004): a Gaussian window of standard deviation 1.5 samples
#: truncated at 5 samples (the 11-sample window of the paper), ``K1 = 0.01`` and ``K2 = 0.03``.
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


# --------------------------------------------------------------------------- helpers
def _pair(reference: ArrayOrData, estimate: ArrayOrData) -> tuple[np.ndarray, np.ndarray, Prepared]:
    """Both inputs as float64 arrays, sample axis last, of the same shape (DataError otherwise)."""
    ref = prepare(reference, name="reference")
    est = prepare(estimate, name="estimate")
    if ref.values.shape != est.values.shape or ref.squeeze != est.squeeze:
        ref_shape = ref.values.shape[1:] if ref.squeeze else ref.values.shape
        est_shape = est.values.shape[1:] if est.squeeze else est.values.shape
        raise DataError(
            f"reference and estimate have different shapes: {ref_shape} vs {est_shape}; "
            "metrics compare data of the same shape"
        )
    return ref.values, est.values, ref


def _selection(prep: Prepared, mask: np.ndarray | None, name: str, invert: bool = False) -> np.ndarray:
    """Bool over the trace axes: the traces a metric uses (all when ``mask`` is None)."""
    if mask is None:
        return np.ones(prep.trace_shape, dtype=bool)
    if prep.squeeze:
        arr = np.asarray(mask)
        if arr.shape == ():
            mask = arr.reshape(1)
    # resolve_mask checks the shape against the traces and the dtype (bool or 0/1).
    sel = resolve_mask(prep, np.asarray(mask), name=name)
    if invert:
        sel = ~sel
    if not sel.any():
        what = "no missing trace (every entry is True)" if invert else "no trace (every entry is False)"
        raise ParameterError(
            name,
            f"selects {what}",
            allowed=f"a boolean array of shape {prep.trace_shape} with at least one "
            f"{'False' if invert else 'True'} entry",
        )
    return sel


def _energy_ratio_db(signal_energy: float, error_energy: float, what: str) -> float:
    """``10 log10(signal / error)``, ``inf`` for a zero error; a zero signal is a DataError."""
    if not signal_energy > 0:
        raise DataError(f"{what}: the reference has no energy on the selected traces; the ratio is undefined")
    if error_energy <= 0:
        return math.inf
    return float(10.0 * math.log10(signal_energy / error_energy))


def _data_range(ref: np.ndarray, data_range: float | None) -> float:
    if data_range is not None:
        if isinstance(data_range, bool) or not isinstance(data_range, int | float | np.integer | np.floating):
            raise ParameterError("data_range", f"must be a number, got {data_range!r}", allowed="> 0")
        if not np.isfinite(data_range) or data_range <= 0:
            raise ParameterError(
                "data_range", f"must be positive and finite, got {data_range}", allowed="> 0"
            )
        return float(data_range)
    value = float(ref.max() - ref.min())
    if not value > 0:
        raise DataError("the reference is constant, so its data range is 0; pass data_range= explicitly")
    return value


# --------------------------------------------------------------------------- metrics
def snr(reference: ArrayOrData, estimate: ArrayOrData, mask: np.ndarray | None = None) -> float:
    """Reconstruction signal-to-noise ratio in dB: ``10 log10(||ref||² / ||ref − est||²)``.

    This is the standard reconstruction SNR of the seismic interpolation and denoising literature (the
    "S/N" of the rank-reduction and deep-learning reconstruction papers, e.g. Chen et al. 2016, Geophys.
    J. Int. 206): the sums run over every sample of the selected traces. It is invariant to a common
    scaling of reference and estimate. ``mask`` (bool over the trace axes) restricts the sums to the
    traces where it is True; by default every trace counts.

    Returns ``math.inf`` for a perfect estimate (zero error), never NaN. Raises DataError when the
    reference has no energy on the selected traces (the ratio is undefined) or the shapes differ.
    """
    ref, est, prep = _pair(reference, estimate)
    sel = _selection(prep, mask, "mask")
    r = ref[sel]
    e = r - est[sel]
    return _energy_ratio_db(float(np.vdot(r, r)), float(np.vdot(e, e)), "snr")


def snr_missing(reference: ArrayOrData, estimate: ArrayOrData, live_mask: np.ndarray) -> float:
    """:func:`snr` (dB) over the traces where ``live_mask`` is False: those the method had to fill in.

    ``live_mask`` is the live-trace mask of the damaged input (True = the trace was given). Raises
    ParameterError naming ``live_mask`` when no trace is missing; ``math.inf`` for a perfect fill.
    """
    ref, est, prep = _pair(reference, estimate)
    if live_mask is None:
        raise ParameterError(
            "live_mask", "is required", allowed=f"a boolean array of shape {prep.trace_shape}"
        )
    sel = _selection(prep, live_mask, "live_mask", invert=True)
    r = ref[sel]
    e = r - est[sel]
    return _energy_ratio_db(float(np.vdot(r, r)), float(np.vdot(e, e)), "snr_missing")


def mse(reference: ArrayOrData, estimate: ArrayOrData, mask: np.ndarray | None = None) -> float:
    """Mean squared error ``mean((ref − est)²)`` over the samples of the selected traces (squared
    amplitude units). ``mask`` as in :func:`snr`."""
    ref, est, prep = _pair(reference, estimate)
    sel = _selection(prep, mask, "mask")
    e = ref[sel] - est[sel]
    return float(np.vdot(e, e) / e.size)


def psnr(
    reference: ArrayOrData,
    estimate: ArrayOrData,
    mask: np.ndarray | None = None,
    data_range: float | None = None,
) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(L² / mse)``.

    ``L`` is ``data_range``, by default ``max(ref) − min(ref)`` over the whole reference (the convention
    of scikit-image's ``peak_signal_noise_ratio`` with ``data_range`` taken from the reference). ``mask``
    restricts the MSE as in :func:`snr`. Returns ``math.inf`` for a perfect estimate; DataError for a
    constant reference when ``data_range`` is not given.
    """
    ref, est, prep = _pair(reference, estimate)
    sel = _selection(prep, mask, "mask")
    peak = _data_range(ref, data_range)
    e = ref[sel] - est[sel]
    err = float(np.vdot(e, e) / e.size)
    if err <= 0:
        return math.inf
    return float(10.0 * math.log10(peak * peak / err))


def ssim(
    reference: ArrayOrData,
    estimate: ArrayOrData,
    mask: np.ndarray | None = None,
    data_range: float | None = None,
) -> float:
    """Mean structural similarity index (SSIM) of Wang, Bovik, Sheikh & Simoncelli (2004, IEEE TIP 13).

    The local means, variances and covariance are Gaussian-weighted over a window of standard deviation
    1.5 samples truncated at 5 samples (the 11 x 11 window of the paper; 11 x 11 x 11 for a volume),
    computed with :func:`scipy.ndimage.gaussian_filter` on the whole section or volume, treating trace
    and sample axes alike, with reflected edges. ``C1 = (0.01 L)²`` and ``C2 = (0.03 L)²`` where ``L`` is
    ``data_range``, by default ``max(ref) − min(ref)`` over the whole reference (population covariances,
    as in the paper). The SSIM map is averaged over the samples of the traces selected by ``mask`` (all by
    default); unlike scikit-image's ``structural_similarity``, no border is cropped, so small arrays can be
    compared and masked traces near the edges count.

    Returns a value in [-1, 1]; 1 for identical inputs. Symmetric in its two arguments. DataError for a
    constant reference when ``data_range`` is not given.
    """
    ref, est, prep = _pair(reference, estimate)
    sel = _selection(prep, mask, "mask")
    L = _data_range(ref, data_range)
    smap = _ssim_map(ref, est, L)
    return float(np.clip(smap[sel].mean(), -1.0, 1.0))


def _ssim_map(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """The local SSIM of Wang et al. (2004) at every sample (the equation of the paper, term by term)."""
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2

    def g(a: np.ndarray) -> np.ndarray:
        return np.asarray(ndimage.gaussian_filter(a, sigma=SSIM_SIGMA, radius=SSIM_RADIUS, mode="reflect"))

    ux, uy = g(x), g(y)
    uxx, uyy, uxy = g(x * x), g(y * y), g(x * y)
    vx = uxx - ux * ux
    vy = uyy - uy * uy
    vxy = uxy - ux * uy
    num = (2.0 * ux * uy + c1) * (2.0 * vxy + c2)
    den = (ux * ux + uy * uy + c1) * (vx + vy + c2)
    # den is 0 only where both windows are flat and zero (possible only when C1 = C2 = 0 is impossible
    # here since data_range > 0); the guard keeps the division NaN-free all the same.
    return np.clip(np.divide(num, den, out=np.ones_like(num), where=den != 0), -1.0, 1.0)


def fk_coherence(reference: ArrayOrData, estimate: ArrayOrData) -> float:
    """Magnitude-squared coherence of the two f-k spectra, averaged over frequency: one number in [0, 1].

    With ``R(k, f)`` and ``E(k, f)`` the f-k spectra (Fourier transforms over the trace axes and time),
    the coherence at frequency ``f`` is ``γ²(f) = |Σ_k R E*|² / (Σ_k |R|² · Σ_k |E|²)``, the
    magnitude-squared coherence estimated over the wavenumbers; the result is its average weighted by the
    reference power at each frequency, ``Σ_f P_R(f) γ²(f) / Σ_f P_R(f)``. By Parseval the sums over
    wavenumbers equal sums over traces, which is how they are computed (one real FFT along time).

    1 means that at every frequency the estimate has the reference's spatial (wavenumber) content up to a
    complex gain (phase shift and scaling); the missing fraction of traces of an unreconstructed input
    gives about the live fraction. Frequencies where the estimate has no energy count as 0. DataError when
    the reference is all zero; a single trace is compared as a one-trace section.
    """
    ref, est, _ = _pair(reference, estimate)
    n_t = ref.shape[-1]
    R = sfft.rfft(ref.reshape(-1, n_t), axis=-1, workers=-1)
    E = sfft.rfft(est.reshape(-1, n_t), axis=-1, workers=-1)
    cross = np.abs(np.einsum("xf,xf->f", R, E.conj())) ** 2
    p_ref = np.einsum("xf,xf->f", R.real, R.real) + np.einsum("xf,xf->f", R.imag, R.imag)
    p_est = np.einsum("xf,xf->f", E.real, E.real) + np.einsum("xf,xf->f", E.imag, E.imag)
    # The one-sided spectrum stands for the two-sided one (γ² is even in f for real data): every bin but
    # 0 Hz and Nyquist counts twice.
    w = np.full(p_ref.shape, 2.0)
    w[0] = 1.0
    if n_t % 2 == 0:
        w[-1] = 1.0
    total = float(np.dot(w, p_ref))
    if not total > 0:
        raise DataError("fk_coherence: the reference is all zero; the coherence is undefined")
    # P_R γ² = |C|² / P_E where P_E > 0, 0 elsewhere.
    weighted = np.divide(cross, p_est, out=np.zeros_like(cross), where=p_est > 0)
    return float(np.clip(np.dot(w, weighted) / total, 0.0, 1.0))


def compare(
    reference: ArrayOrData, estimate: ArrayOrData, live_mask: np.ndarray | None = None
) -> dict[str, float]:
    """Every metric at once: ``{"snr", "snr_missing", "psnr", "ssim", "mse", "fk_coherence"}``.

    ``snr``, ``psnr``, ``ssim`` and ``mse`` use every trace; ``snr_missing`` (only when ``live_mask`` is
    given) uses the traces where ``live_mask`` is False; ``fk_coherence`` uses the whole data. Values are
    floats (``snr``/``psnr``/``snr_missing`` may be ``math.inf`` for a perfect estimate, never NaN).
    """
    ref, est, prep = _pair(reference, estimate)
    out: dict[str, Any] = {"snr": snr(ref, est)}
    if live_mask is not None:
        mask = np.asarray(live_mask)
        if prep.squeeze and mask.shape == ():
            mask = mask.reshape(1)
        out["snr_missing"] = snr_missing(ref, est, mask)
    out["psnr"] = psnr(ref, est)
    out["ssim"] = ssim(ref, est)
    out["mse"] = mse(ref, est)
    out["fk_coherence"] = fk_coherence(ref, est)
    return {k: float(v) for k, v in out.items()}
