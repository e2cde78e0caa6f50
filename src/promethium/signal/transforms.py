"""Transforms of seismic traces and sections, each with its inverse where one exists.

Along time (the sample axis): Fourier (:func:`fft` / :func:`ifft`), short-time Fourier (:func:`stft` /
:func:`istft`), continuous wavelet (:func:`cwt`), discrete wavelet (:func:`dwt` / :func:`idwt`,
:func:`wavedec` / :func:`waverec`) and Stockwell (:func:`stransform` / :func:`istransform`). Over traces
and time: f-k and f-k-k (:func:`fk` / :func:`ifk`) and linear or parabolic Radon (:func:`radon` /
:func:`iradon`). :func:`transform` dispatches by name and :func:`itransform` inverts any result::

    from promethium.signal.transforms import fk, ifk, stransform, transform

    spec = fk(data, trace_spacing=12.5)         # FKTransform: values (k, f), wavenumbers in cycles/m
    muted = spec.with_values(spec.values * keep) # edit in the f-k domain ...
    section = ifk(muted)                         # ... and come back: SeismicData in, SeismicData out
    st = transform(data, "stransform", fmax_hz=80.0)

Conventions shared by every function here:

- Input is a :class:`~promethium.io.data.SeismicData` or a numpy array with the sample axis last
  (``(trace, time)``, ``(inline, crossline, time)`` or one trace ``(time,)``); numpy input needs
  ``dt_ms=`` (the sample interval in ms) where the transform has a frequency or time axis.
- A forward transform returns a frozen dataclass holding the coefficients (``values``, the transformed
  axes last, the trace axes first and unchanged) and their axes with units in the names
  (``frequencies_hz``, ``times_ms``, ``wavenumbers`` in ``wavenumber_unit``). Nothing is recorded in
  the history: a transform is analysis, not processing.
- An inverse returns a section of the type and shape of the forward transform's input. For SeismicData
  it records one history entry ``"signal.<inverse>"``, so ``ifk(fk(data).with_values(...))`` is a
  traceable processing step. Modify coefficients with ``result.with_values(new_values)``.
- float32 input is transformed in single precision (complex64 coefficients), anything else in double.
- Frequencies are in Hz (cycles per metre for depth data), times in ms. Wavenumbers follow numpy's
  sign convention (kernel ``exp(-2i pi (f t + k x))``): an event ``t = t0 + p x`` maps to ``k = -p f``.
- NaN/Inf samples raise :class:`~promethium.core.errors.DataError`; a bad parameter raises
  :class:`~promethium.core.errors.ParameterError` naming it and the allowed range.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import scipy.fft as sfft
import scipy.signal as ss

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal._base import (
    ArrayOrData,
    Prepared,
    check_choice,
    check_frequency,
    check_range,
    finish,
    prepare,
)
from promethium.signal._base import check_int as _integer
from promethium.signal._base import sample_times_ms as _times_ms
from promethium.signal._base import working_dtype as _dtype_of

__all__ = [
    "CWT_WAVELETS",
    "RADON_KINDS",
    "RADON_METHODS",
    "TRANSFORMS",
    "CWTResult",
    "DWTResult",
    "FKTransform",
    "FourierTransform",
    "RadonTransform",
    "STFTResult",
    "STransformResult",
    "WaveletDecomposition",
    "cwt",
    "dwt",
    "fft",
    "fk",
    "idwt",
    "ifft",
    "ifk",
    "iradon",
    "istft",
    "istransform",
    "itransform",
    "radon",
    "stft",
    "stransform",
    "transform",
    "wavedec",
    "waverec",
]

#: Continuous wavelets of :func:`cwt` (aliases: ``morl``, ``complex_morlet``, ``mexican_hat``,
#: ``ricker``).
CWT_WAVELETS = ("morlet", "cmor", "mexh")
_CWT_ALIASES = {
    "morlet": "morlet",
    "morl": "morlet",
    "cmor": "cmor",
    "complex_morlet": "cmor",
    "mexh": "mexh",
    "mexican_hat": "mexh",
    "ricker": "mexh",
}
#: Radon curves: ``t = tau + p x`` (linear) and ``t = tau + q (x / x_max)^2`` (parabolic).
RADON_KINDS = ("linear", "parabolic")
#: How :func:`radon` computes the tau-p model: the adjoint (stack along curves), damped least squares
#: (LSQR) or sparse (FISTA, L1).
RADON_METHODS = ("adjoint", "lsqr", "sparse")

#: Largest Radon operator (slopes x samples x traces; two sparse matrix entries each, ~24 bytes).
_MAX_RADON_TABLE = 50_000_000
#: Bytes of complex output per chunk of traces in :func:`stransform`.
_CHUNK_BYTES = 64 * 2**20

_ResultT = TypeVar("_ResultT", bound="_Invertible")


# =========================================================================== result types
@dataclass(frozen=True, eq=False)
class _Invertible:
    """What an inverse needs to hand back the caller's type: the source SeismicData (or None for
    arrays), whether the input was one 1D trace, and the sample interval in seconds."""

    values: np.ndarray
    dt_s: float | None = field(default=None, kw_only=True)
    source: SeismicData | None = field(default=None, kw_only=True, repr=False)
    squeeze: bool = field(default=False, kw_only=True, repr=False)

    def with_values(self: _ResultT, values: np.ndarray) -> _ResultT:
        """A copy holding other coefficients of the same shape (to invert after editing them)."""
        new = np.asarray(values)
        if new.shape != self.values.shape:
            raise ParameterError(
                "values", f"has shape {new.shape}, expected {self.values.shape}", allowed="the same shape"
            )
        return dataclasses.replace(self, values=new)


@dataclass(frozen=True, eq=False)
class FourierTransform(_Invertible):
    """One-sided Fourier transform along time (``scipy.fft.rfft``, unnormalised).

    ``values``: complex, shape ``(..., n_frequencies)``. ``frequencies_hz``: ``0 .. Nyquist``.
    ``n_fft``: transform length (>= ``n_samples``, zero-padded). ``n_samples``: original trace length.
    """

    frequencies_hz: np.ndarray
    n_fft: int
    n_samples: int


@dataclass(frozen=True, eq=False)
class FKTransform(_Invertible):
    """2D f-k (or 3D f-k-k) transform: complex ``values`` of shape ``(n_k, n_f)`` or ``(n_kx, n_ky, n_f)``.

    ``wavenumbers``: one fftshifted axis per trace axis (zero in the middle), in ``wavenumber_unit``
    (``"cycles/trace"`` or ``"cycles/m"`` when a trace spacing was given). ``frequencies_hz``: one-sided,
    ``0 .. Nyquist``. ``shape``: the original data shape, ``n_fft`` the padded time length.
    """

    frequencies_hz: np.ndarray
    wavenumbers: tuple[np.ndarray, ...]
    wavenumber_unit: str
    trace_spacing: tuple[float, ...] | None
    n_fft: int
    shape: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class STFTResult(_Invertible):
    """Short-time Fourier transform (``scipy.signal.ShortTimeFFT``): ``values`` ``(..., n_f, n_windows)``.

    ``times_ms``: window centres (the first and last windows stick out of the trace, zero-padded);
    ``window``: the scipy window spec; ``window_samples``, ``hop_samples``: window length and step.
    """

    frequencies_hz: np.ndarray
    times_ms: np.ndarray
    window: str | tuple[Any, ...]
    window_samples: int
    hop_samples: int
    n_fft: int
    n_samples: int


@dataclass(frozen=True, eq=False)
class CWTResult:
    """Continuous wavelet transform: ``values`` ``(..., n_scales, n_samples)`` (complex for ``cmor``).

    ``scales`` (in samples, PyWavelets convention) and the matching ``frequencies_hz`` (the wavelet's
    centre frequency over the scale) are in the order given; ``wavelet`` is the PyWavelets name used.
    """

    values: np.ndarray
    scales: np.ndarray
    frequencies_hz: np.ndarray
    times_ms: np.ndarray
    wavelet: str


@dataclass(frozen=True, eq=False)
class DWTResult(_Invertible):
    """One level of the discrete wavelet transform: ``values`` holds the approximation coefficients,
    ``detail`` the detail coefficients, both ``(..., n_coefficients)``."""

    detail: np.ndarray
    wavelet: str
    mode: str
    n_samples: int

    @property
    def approximation(self) -> np.ndarray:
        return self.values


@dataclass(frozen=True, eq=False)
class WaveletDecomposition:
    """Multilevel discrete wavelet decomposition, ordered like PyWavelets:
    ``(cA_level, cD_level, ..., cD_1)``, each ``(..., n_coefficients)``."""

    coefficients: tuple[np.ndarray, ...]
    wavelet: str
    mode: str
    level: int
    n_samples: int
    dt_s: float | None = field(default=None, kw_only=True)
    source: SeismicData | None = field(default=None, kw_only=True, repr=False)
    squeeze: bool = field(default=False, kw_only=True, repr=False)

    def with_coefficients(self, coefficients: Sequence[np.ndarray]) -> WaveletDecomposition:
        """A copy holding other coefficients (same number of levels and shapes)."""
        new = tuple(np.asarray(c) for c in coefficients)
        if len(new) != len(self.coefficients) or any(
            a.shape != b.shape for a, b in zip(new, self.coefficients, strict=True)
        ):
            raise ParameterError("coefficients", "must match the decomposition's levels and shapes")
        return dataclasses.replace(self, coefficients=new)


@dataclass(frozen=True, eq=False)
class STransformResult(_Invertible):
    """Stockwell transform: complex ``values`` ``(..., n_frequencies, n_samples)``.

    ``frequencies_hz`` are the Fourier frequencies ``n / (N dt)`` for the voices ``n`` kept
    (``voices``), ``times_ms`` the sample times. ``width``: Gaussian window standard deviation in
    periods (1 = the standard S-transform).
    """

    frequencies_hz: np.ndarray
    times_ms: np.ndarray
    voices: np.ndarray
    width: float
    n_samples: int


@dataclass(frozen=True, eq=False)
class RadonTransform(_Invertible):
    """A tau-p (linear) or tau-q (parabolic) Radon panel: ``values`` ``(..., n_slopes, n_samples)``.

    ``slopes``: ``p`` in ``slope_unit`` (ms per trace or ms per m, linear) or the residual moveout
    ``q`` in ms at the largest ``|offset|`` (parabolic). ``times_ms``: intercept times at offset 0.
    ``offsets``: trace positions used (traces or m, zero at the centre by default). ``method``: how
    the panel was computed (see :data:`RADON_METHODS`).
    """

    slopes: np.ndarray
    times_ms: np.ndarray
    offsets: np.ndarray
    kind: str
    method: str
    slope_unit: str
    n_traces: int


# =========================================================================== helpers
def _prepare(data: ArrayOrData, dt_ms: float | None, **kw: Any) -> Prepared:
    return prepare(data, dt_ms=dt_ms, dtype=_dtype_of(data), **kw)


def _out(values: np.ndarray, squeeze: bool) -> np.ndarray:
    """Drop the leading one-trace axis added for 1D input."""
    return values[0] if squeeze else values


def _finish_inverse(
    result: Any, values: np.ndarray, operation: str, parameters: dict[str, Any]
) -> ArrayOrData:
    """Hand an inverse back as the forward input's type (history entry for SeismicData)."""
    if result.squeeze:
        values = values[None, ...]
    src: SeismicData | None = result.source
    if src is not None and values.shape != src.shape:
        raise ParameterError(
            "values", f"inverse has shape {values.shape}, but the source data have {src.shape}"
        )
    mask = src.trace_mask if src is not None else np.ones(values.shape[:-1], dtype=bool)
    prep = Prepared(values=values, dt=result.dt_s, mask=mask, source=src, squeeze=result.squeeze)
    return finish(prep, values, operation, parameters)


def _coefficients(values: Any, name: str = "values") -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        raise DataError(f"{name}: the coefficients are empty")
    if not np.isfinite(arr).all():
        raise DataError(f"{name}: NaN or infinite coefficients")
    return arr


def _window_samples(name: str, value_ms: float, dt: float, low: int, high: int) -> int:
    """A length in ms as a whole number of samples in ``[low, high]`` (the error names ``name``)."""
    check_range(name, value_ms, low=0.0, low_open=True)
    n = round(value_ms / (dt * 1000.0))
    if n < low or n > high:
        raise ParameterError(
            name,
            f"{value_ms:g} ms is {n} samples",
            allowed=f"{low * dt * 1000:g} to {high * dt * 1000:g} ms ({low} to {high} samples)",
        )
    return n


# =========================================================================== Fourier
def fft(data: ArrayOrData, *, n_fft: int | None = None, dt_ms: float | None = None) -> FourierTransform:
    """One-sided Fourier transform of every trace along time.

    ``n_fft``: transform length in samples (default the trace length; longer zero-pads, giving a
    finer frequency sampling). Values are ``scipy.fft.rfft`` (unnormalised: a sine of amplitude ``A``
    on a bin gives ``A n_samples / 2``); frequencies run from 0 to Nyquist in Hz.
    """
    prep = _prepare(data, dt_ms)
    dt = prep.require_dt()
    n = prep.n_samples
    nfft = n if n_fft is None else _integer("n_fft", n_fft, n)
    values = sfft.rfft(prep.values, n=nfft, axis=-1, workers=-1)
    return FourierTransform(
        _out(values, prep.squeeze),
        sfft.rfftfreq(nfft, d=dt),
        nfft,
        n,
        dt_s=dt,
        source=prep.source,
        squeeze=prep.squeeze,
    )


def ifft(spectrum: FourierTransform) -> ArrayOrData:
    """Inverse of :func:`fft`: the traces (cropped to their original length), as the forward input's type."""
    values = _coefficients(spectrum.values)
    if values.shape[-1] != spectrum.n_fft // 2 + 1:
        raise ParameterError(
            "values",
            f"last axis has {values.shape[-1]} frequencies, expected "
            f"{spectrum.n_fft // 2 + 1} for n_fft={spectrum.n_fft}",
        )
    out = sfft.irfft(values, n=spectrum.n_fft, axis=-1, workers=-1)[..., : spectrum.n_samples]
    return _finish_inverse(spectrum, out, "signal.ifft", {"n_fft": spectrum.n_fft})


# =========================================================================== f-k
def _per_axis(
    name: str, value: Any, n_axes: int, *, integer: bool = False, low: float = 0.0
) -> tuple[Any, ...]:
    """A scalar or one value per trace axis, checked (``> low`` for floats, ``>= low`` for integers)."""
    items = list(value) if isinstance(value, Sequence | np.ndarray) else [value] * n_axes
    if len(items) != n_axes:
        raise ParameterError(name, f"needs one value per trace axis ({n_axes}), got {len(items)}")
    for v in items:
        check_range(name, v, low=low, low_open=not integer, integer=integer)
    return tuple(int(v) if integer else float(v) for v in items)


def fk(
    data: ArrayOrData,
    *,
    trace_spacing: float | Sequence[float] | None = None,
    n_fft: int | None = None,
    n_wavenumbers: int | Sequence[int] | None = None,
    dt_ms: float | None = None,
) -> FKTransform:
    """f-k transform of a 2D section ``(trace, time)``, or f-k-k of a volume ``(inline, crossline, time)``.

    Real-to-complex FFT over time (one-sided frequencies, 0 .. Nyquist) and complex FFT over every
    trace axis, wavenumbers fftshifted (zero in the middle). ``trace_spacing`` (m; one value or one per
    trace axis) gives wavenumbers in cycles/m, else cycles/trace. ``n_fft`` / ``n_wavenumbers``
    zero-pad time / traces for a finer sampling (default: no padding). Sign convention: an event
    ``t = t0 + p x`` maps to ``k = -p f``. Computed with one ``scipy.fft.rfftn`` (``workers=-1``).
    """
    prep = _prepare(data, dt_ms)
    if prep.squeeze:
        raise DataError("data: the f-k transform needs 2D (trace, time) or 3D (inline, crossline, time) data")
    dt = prep.require_dt()
    n_axes = prep.values.ndim - 1
    n = prep.n_samples
    nfft = n if n_fft is None else _integer("n_fft", n_fft, n)
    if n_wavenumbers is None:
        nk = prep.trace_shape
    else:
        nk = _per_axis("n_wavenumbers", n_wavenumbers, n_axes, integer=True, low=1)
        for have, want in zip(prep.trace_shape, nk, strict=True):
            if want < have:
                raise ParameterError(
                    "n_wavenumbers", f"{want} is fewer than the {have} traces", allowed=f">= {have}"
                )
    spacing = None if trace_spacing is None else _per_axis("trace_spacing", trace_spacing, n_axes)
    axes = tuple(range(n_axes))
    values = sfft.rfftn(prep.values, s=(*nk, nfft), axes=(*axes, n_axes), workers=-1)
    values = sfft.fftshift(values, axes=axes)
    ks = tuple(sfft.fftshift(sfft.fftfreq(nk[i], d=1.0 if spacing is None else spacing[i])) for i in axes)
    return FKTransform(
        values,
        sfft.rfftfreq(nfft, d=dt),
        ks,
        "cycles/trace" if spacing is None else "cycles/m",
        spacing,
        nfft,
        tuple(int(s) for s in prep.values.shape),
        dt_s=dt,
        source=prep.source,
    )


def ifk(spectrum: FKTransform) -> ArrayOrData:
    """Inverse of :func:`fk`: the section (or volume) cropped to its original shape."""
    values = _coefficients(spectrum.values)
    n_axes = len(spectrum.shape) - 1
    nk = tuple(k.size for k in spectrum.wavenumbers)
    expected = (*nk, spectrum.n_fft // 2 + 1)
    if values.shape != expected:
        raise ParameterError("values", f"has shape {values.shape}, expected {expected}")
    axes = tuple(range(n_axes))
    shifted = sfft.ifftshift(values, axes=axes)
    out = sfft.irfftn(shifted, s=(*nk, spectrum.n_fft), axes=(*axes, n_axes), workers=-1)
    out = out[tuple(slice(0, s) for s in spectrum.shape)]
    params = {"n_fft": spectrum.n_fft, "n_wavenumbers": list(nk), "trace_spacing": spectrum.trace_spacing}
    return _finish_inverse(spectrum, out, "signal.ifk", params)


# =========================================================================== STFT
def _make_sft(window: Any, nperseg: int, hop: int, fs: float, mfft: int) -> ss.ShortTimeFFT:
    try:
        win = ss.get_window(window, nperseg, fftbins=True)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            "window", f"unknown window {window!r} ({exc})", allowed="a scipy.signal.get_window spec"
        ) from exc
    return ss.ShortTimeFFT(win, hop, fs, fft_mode="onesided", mfft=mfft)


def stft(
    data: ArrayOrData,
    *,
    window: str | tuple[Any, ...] = "hann",
    window_ms: float | None = None,
    hop_ms: float | None = None,
    n_fft: int | None = None,
    dt_ms: float | None = None,
) -> STFTResult:
    """Short-time Fourier transform of every trace (``scipy.signal.ShortTimeFFT``, vectorised).

    ``window``: a ``scipy.signal.get_window`` spec (periodic). ``window_ms``: window length (default
    128 ms, at most the trace length); ``hop_ms``: step between windows (default a quarter window).
    ``n_fft``: FFT length per window (>= the window, default equal). Windows slide past both ends of
    the trace (zero padding), so :func:`istft` reconstructs every sample.
    """
    prep = _prepare(data, dt_ms, min_samples=2)
    dt = prep.require_dt()
    n = prep.n_samples
    if window_ms is None:
        nperseg = max(2, min(n, round(0.128 / dt)))
    else:
        nperseg = _window_samples("window_ms", window_ms, dt, 2, n)
    hop = max(1, nperseg // 4) if hop_ms is None else _window_samples("hop_ms", hop_ms, dt, 1, nperseg)
    mfft = nperseg if n_fft is None else _integer("n_fft", n_fft, nperseg)
    sft = _make_sft(window, nperseg, hop, 1.0 / dt, mfft)
    values = sft.stft(prep.values, axis=-1)
    if prep.values.dtype == np.float32:
        values = values.astype(np.complex64, copy=False)
    return STFTResult(
        _out(values, prep.squeeze),
        np.asarray(sft.f, dtype=np.float64),
        np.asarray(sft.t(n), dtype=np.float64) * 1000.0 + float(_times_ms(prep)[0]),
        window,
        nperseg,
        hop,
        mfft,
        n,
        dt_s=dt,
        source=prep.source,
        squeeze=prep.squeeze,
    )


def istft(result: STFTResult) -> ArrayOrData:
    """Inverse of :func:`stft` (the canonical dual window; exact when the window overlap allows it)."""
    if result.dt_s is None:
        raise ParameterError("dt_ms", "the transform carries no sample interval")
    values = _coefficients(result.values)
    sft = _make_sft(result.window, result.window_samples, result.hop_samples, 1.0 / result.dt_s, result.n_fft)
    try:
        out = sft.istft(values, k1=result.n_samples, f_axis=-2, t_axis=-1)
    except ValueError as exc:
        raise ParameterError(
            "hop_ms",
            f"this window and hop cannot be inverted ({exc})",
            allowed="a hop of at most half a window",
        ) from exc
    out = np.real(out)
    if np.iscomplexobj(values) and values.dtype == np.complex64:
        out = out.astype(np.float32)
    params = {
        "window": result.window,
        "window_samples": result.window_samples,
        "hop_samples": result.hop_samples,
        "n_fft": result.n_fft,
    }
    return _finish_inverse(result, out, "signal.istft", params)


# =========================================================================== CWT
def cwt(
    data: ArrayOrData,
    *,
    wavelet: str = "morlet",
    frequencies_hz: Sequence[float] | np.ndarray | None = None,
    scales: Sequence[float] | np.ndarray | None = None,
    n_frequencies: int = 32,
    bandwidth: float = 1.5,
    center_frequency: float = 1.0,
    dt_ms: float | None = None,
) -> CWTResult:
    """Continuous wavelet transform of every trace (``pywt.cwt``, FFT method, vectorised over traces).

    ``wavelet``: ``"morlet"`` (real), ``"cmor"`` (complex Morlet, with ``bandwidth`` and
    ``center_frequency`` as in PyWavelets' ``cmorB-C``) or ``"mexh"`` (Mexican hat / Ricker). Give
    either ``frequencies_hz`` (each strictly inside (0, Nyquist)) or ``scales`` (in samples, > 0);
    the default is ``n_frequencies`` frequencies spaced geometrically from 4 cycles per trace length
    (at least Nyquist / 64) to half Nyquist. Values are ``(..., n_scales, n_samples)``.
    """
    import pywt  # deferred: PyWavelets is only needed here and in the DWT

    prep = _prepare(data, dt_ms)
    dt = prep.require_dt()
    nyq = prep.nyquist
    kind = _CWT_ALIASES[check_choice("wavelet", wavelet, tuple(_CWT_ALIASES))]
    if kind == "cmor":
        check_range("bandwidth", bandwidth, low=0.0, low_open=True)
        check_range("center_frequency", center_frequency, low=0.0, low_open=True)
        name = f"cmor{float(bandwidth):g}-{float(center_frequency):g}"
    else:
        name = "morl" if kind == "morlet" else "mexh"
    w = pywt.ContinuousWavelet(name)
    if frequencies_hz is not None and scales is not None:
        raise ParameterError("scales", "give either frequencies_hz or scales, not both")
    if scales is not None:
        sc = np.atleast_1d(np.asarray(scales, dtype=np.float64))
        if sc.size == 0 or not np.isfinite(sc).all() or (sc <= 0).any():
            raise ParameterError("scales", "must be finite and positive (in samples)", allowed="> 0")
        freqs = pywt.scale2frequency(w, sc) / dt
    else:
        if frequencies_hz is None:
            n_f = _integer("n_frequencies", n_frequencies, 1)
            f_lo = max(4.0 / (prep.n_samples * dt), nyq / 64.0)
            f_hi = 0.5 * nyq
            freqs = np.geomspace(min(f_lo, f_hi), f_hi, n_f)
        else:
            freqs = np.atleast_1d(np.asarray(frequencies_hz, dtype=np.float64))
            if freqs.size == 0:
                raise ParameterError("frequencies_hz", "is empty", allowed=f"values in (0, {nyq:g}) Hz")
            for f in freqs:
                check_frequency("frequencies_hz", float(f), nyq)
        sc = pywt.frequency2scale(w, freqs * dt)
        freqs = np.asarray(freqs, dtype=np.float64)
    coefs, _ = pywt.cwt(prep.values, sc, w, sampling_period=dt, method="fft", axis=-1)
    values = np.moveaxis(np.asarray(coefs), 0, -2)
    return CWTResult(
        _out(values, prep.squeeze), sc, np.asarray(freqs, dtype=np.float64), _times_ms(prep), name
    )


# =========================================================================== DWT
def _discrete_wavelet(wavelet: str, mode: str) -> tuple[Any, str]:
    import pywt

    name = check_choice("wavelet", wavelet, pywt.wavelist(kind="discrete"))
    m = check_choice("mode", mode, pywt.Modes.modes)
    return pywt.Wavelet(name), m


def dwt(
    data: ArrayOrData, *, wavelet: str = "db4", mode: str = "symmetric", dt_ms: float | None = None
) -> DWTResult:
    """Single-level discrete wavelet transform of every trace (``pywt.dwt`` along time).

    ``wavelet``: any PyWavelets discrete wavelet (``db4``, ``sym8``, ``coif3``, ``haar``, ...);
    ``mode``: signal extension (``symmetric``, ``periodization``, ``zero``, ...). The result holds the
    approximation (``values``) and ``detail`` coefficients; :func:`idwt` reconstructs exactly.
    """
    import pywt

    w, m = _discrete_wavelet(wavelet, mode)
    prep = _prepare(data, dt_ms)
    ca, cd = pywt.dwt(prep.values, w, mode=m, axis=-1)
    return DWTResult(
        _out(np.asarray(ca), prep.squeeze),
        _out(np.asarray(cd), prep.squeeze),
        w.name,
        m,
        prep.n_samples,
        dt_s=prep.dt,
        source=prep.source,
        squeeze=prep.squeeze,
    )


def idwt(result: DWTResult) -> ArrayOrData:
    """Inverse of :func:`dwt` (``pywt.idwt``), cropped to the original trace length."""
    import pywt

    ca = _coefficients(result.values)
    cd = _coefficients(result.detail, "detail")
    if ca.shape != cd.shape:
        raise ParameterError("detail", f"has shape {cd.shape}, but the approximation has {ca.shape}")
    out = np.asarray(pywt.idwt(ca, cd, result.wavelet, mode=result.mode, axis=-1))[..., : result.n_samples]
    return _finish_inverse(result, out, "signal.idwt", {"wavelet": result.wavelet, "mode": result.mode})


def wavedec(
    data: ArrayOrData,
    *,
    wavelet: str = "db4",
    mode: str = "symmetric",
    level: int | None = None,
    dt_ms: float | None = None,
) -> WaveletDecomposition:
    """Multilevel discrete wavelet decomposition of every trace (``pywt.wavedec`` along time).

    ``level``: number of levels, 1 up to ``pywt.dwt_max_level`` for the trace length and wavelet
    (default that maximum, at least 1). Detail level ``j`` covers roughly ``fs / 2^(j+1)`` to
    ``fs / 2^j``. :func:`waverec` reconstructs exactly.
    """
    import pywt

    w, m = _discrete_wavelet(wavelet, mode)
    prep = _prepare(data, dt_ms)
    max_level = max(1, pywt.dwt_max_level(prep.n_samples, w.dec_len))
    lev = max_level if level is None else _integer("level", level, 1, max_level)
    with warnings.catch_warnings():
        # level 1 on a trace shorter than the filter: PyWavelets warns of boundary effects, but the
        # decomposition is still exactly invertible.
        warnings.filterwarnings("ignore", message="Level value", category=UserWarning)
        coeffs = pywt.wavedec(prep.values, w, mode=m, level=lev, axis=-1)
    return WaveletDecomposition(
        tuple(_out(np.asarray(c), prep.squeeze) for c in coeffs),
        w.name,
        m,
        lev,
        prep.n_samples,
        dt_s=prep.dt,
        source=prep.source,
        squeeze=prep.squeeze,
    )


def waverec(result: WaveletDecomposition) -> ArrayOrData:
    """Inverse of :func:`wavedec` (``pywt.waverec``), cropped to the original trace length."""
    import pywt

    coeffs = [_coefficients(c, "coefficients") for c in result.coefficients]
    out = np.asarray(pywt.waverec(coeffs, result.wavelet, mode=result.mode, axis=-1))[..., : result.n_samples]
    params = {"wavelet": result.wavelet, "mode": result.mode, "level": result.level}
    return _finish_inverse(result, out, "signal.waverec", params)


# =========================================================================== Stockwell
def stransform(
    data: ArrayOrData,
    *,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    width: float = 1.0,
    dt_ms: float | None = None,
) -> STransformResult:
    """Stockwell S-transform of every trace, computed in the frequency domain.

    Discrete definition (Stockwell et al., 1996), for voice ``f = n / (N dt)`` and time ``tau``::

        S(tau, f) = sum_t h(t) |f| / (width sqrt(2 pi)) exp(-(tau - t)^2 f^2 / (2 width^2)) exp(-2i pi f t)

    (times in samples, ``f`` in cycles per sample, the Gaussian window periodic over the trace), and
    ``S(tau, 0)`` the trace mean. It is evaluated for all voices at once as
    ``S(:, n) = ifft_m(H[m + n] exp(-2 pi^2 m^2 width^2 / n^2))`` with ``H`` the trace's FFT. Summing
    over ``tau`` gives ``H[n]``, which :func:`istransform` uses to invert exactly.

    ``fmin_hz`` / ``fmax_hz``: the voice band kept (default 0 to Nyquist, every Fourier frequency).
    The output is ``n_traces x n_voices x n_samples`` complex: a 534 x 1501 section at full band is
    4.8 GB in single precision, so limit the band on large data. Computed in chunks of traces.
    """
    prep = _prepare(data, dt_ms, min_samples=2)
    dt = prep.require_dt()
    nyq = prep.nyquist
    n = prep.n_samples
    check_range("width", width, low=0.0, low_open=True)
    check_range("fmin_hz", fmin_hz, low=0.0, high=nyq, high_open=True)
    fmax = (
        nyq if fmax_hz is None else float(check_range("fmax_hz", fmax_hz, low=0.0, high=nyq, low_open=True))
    )
    if fmax <= fmin_hz:
        raise ParameterError("fmax_hz", f"{fmax:g} Hz is not above fmin_hz={fmin_hz:g} Hz")
    df = 1.0 / (n * dt)
    n_lo = math.ceil(fmin_hz / df - 1e-9)
    n_hi = min(n // 2, math.floor(fmax / df + 1e-9))
    if n_hi < n_lo:
        raise ParameterError(
            "fmax_hz", f"no Fourier frequency (spacing {df:g} Hz) between {fmin_hz:g} and {fmax:g} Hz"
        )
    voices = np.arange(n_lo, n_hi + 1)
    real = prep.values.dtype
    cplx = np.complex64 if real == np.float32 else np.complex128
    # Gaussian windows in the frequency domain, one row per voice; voice 0 keeps only m = 0 (the mean).
    m = np.rint(sfft.fftfreq(n, d=1.0 / n)).astype(np.int64)
    nv = np.maximum(voices, 1).astype(np.float64)[:, None]
    gauss = np.exp(-2.0 * np.pi**2 * (m[None, :] * float(width)) ** 2 / nv**2)
    gauss[voices == 0] = (m == 0).astype(float)
    gauss = gauss.astype(real)
    flat = prep.values.reshape(-1, n)
    spec = sfft.fft(flat, axis=-1, workers=-1)
    # H[(m + n) mod N] for m in FFT order is H2[n + j] (j = 0 .. N-1) with H2 = [H, H]: each voice's
    # shifted spectrum is a window of H2, so a sliding-window view gives all voices without a gather.
    doubled = np.concatenate([spec, spec[:, : n_hi + 1]], axis=-1)
    shifted = np.lib.stride_tricks.sliding_window_view(doubled, n, axis=-1)[:, n_lo : n_hi + 1]
    out = np.empty((flat.shape[0], voices.size, n), dtype=cplx)
    step = max(1, _CHUNK_BYTES // (voices.size * n * np.dtype(cplx).itemsize))
    for start in range(0, flat.shape[0], step):  # chunks of traces keep each pass in cache-sized blocks
        block = out[start : start + step]
        np.multiply(shifted[start : start + step], gauss, out=block)
        res = sfft.ifft(block, axis=-1, workers=-1, overwrite_x=True)
        if not np.shares_memory(res, block):  # scipy transforms in place today; do not rely on it
            block[...] = res
    values = out.reshape(*prep.trace_shape, voices.size, n)
    return STransformResult(
        _out(values, prep.squeeze),
        voices * df,
        _times_ms(prep),
        voices,
        float(width),
        n,
        dt_s=dt,
        source=prep.source,
        squeeze=prep.squeeze,
    )


def istransform(result: STransformResult) -> ArrayOrData:
    """Inverse of :func:`stransform`: ``H[n] = sum_tau S(tau, n)``, then an inverse real FFT.

    Exact for a full-band transform; a transform limited to ``fmin_hz .. fmax_hz`` gives the trace
    band-limited to those frequencies (the voices outside are zero).
    """
    values = _coefficients(result.values)
    n = result.n_samples
    if values.shape[-2:] != (result.voices.size, n):
        raise ParameterError("values", f"has shape {values.shape}, expected (..., {result.voices.size}, {n})")
    spec = np.zeros((*values.shape[:-2], n // 2 + 1), dtype=values.dtype)
    spec[..., result.voices] = values.sum(axis=-1)
    out = sfft.irfft(spec, n=n, axis=-1, workers=-1)
    params = {
        "fmin_hz": float(result.frequencies_hz[0]),
        "fmax_hz": float(result.frequencies_hz[-1]),
        "width": result.width,
    }
    return _finish_inverse(result, out, "signal.istransform", params)


# =========================================================================== Radon
def _radon_operator(
    kind: str, n_t: int, dt: float, offsets: np.ndarray, slopes: np.ndarray, x_ref: float
) -> Any:
    """The ``pylops.signalprocessing.Radon2D`` operator as a ``pylops.MatrixMult`` over a sparse matrix.

    Model: ``(n_p, n_t)`` raveled; data: ``(n_x, n_t)`` raveled. Built as Radon2D builds it (its
    look-up table of the fractional time sample ``t = tau + shift(p, x)`` each curve crosses at every
    offset, kept where ``0 <= t < n_t - 1``, spread to the two neighbouring samples with linear
    interpolation weights), but vectorised into a CSC matrix: Radon2D's own table builder loops over
    slopes and times in Python and its numba engine JIT-compiles for ~5-15 s on first use, while a
    sparse product needs neither and applies to every gather of a volume at once. The test suite checks
    this operator against Radon2D itself. ``slopes``: s per offset unit (linear) or s of moveout at
    ``x_ref`` (parabolic); ``dt`` in s.
    """
    import scipy.sparse as sp
    from pylops import MatrixMult

    n_p, n_x = slopes.size, offsets.size
    if kind == "linear":
        shift = slopes[:, None] * offsets[None, :] / dt
    else:
        shift = slopes[:, None] * (offsets[None, :] / x_ref) ** 2 / dt
    tdec = np.arange(n_t, dtype=np.float64)[None, :, None] + shift[:, None, :]  # (p, tau, x)
    valid = (tdec >= 0) & (tdec < n_t - 1)
    t_dec = tdec[valid]  # ordered by column (p, tau), then by offset: CSC order, no sorting needed
    del tdec
    t_int = np.floor(t_dec)
    frac = t_dec - t_int
    n_rows, n_cols = n_x * n_t, n_p * n_t
    itype = np.int32 if max(n_rows, 2 * t_dec.size) < 2**31 - 1 else np.int64
    rows = (
        np.broadcast_to((np.arange(n_x, dtype=itype) * n_t)[None, None, :], valid.shape)[valid]
    ) + t_int.astype(itype)
    indptr = np.zeros(n_cols + 1, dtype=itype)
    np.cumsum(2 * valid.sum(axis=2, dtype=itype).ravel(), out=indptr[1:])
    # Each crossing spreads to samples floor(t) and floor(t) + 1 (weights 1 - frac, frac): interleaved,
    # the rows of a column stay sorted.
    data = np.empty(2 * frac.size)
    np.subtract(1.0, frac, out=data[0::2])
    data[1::2] = frac
    indices = np.empty(2 * rows.size, dtype=itype)
    indices[0::2] = rows
    np.add(rows, 1, out=indices[1::2])
    matrix = sp.csc_matrix((data, indices, indptr), shape=(n_rows, n_cols))
    return MatrixMult(matrix, dtype="float64")


def _radon_solve(
    op: Any,
    gather: np.ndarray,
    adj: np.ndarray,
    n_x: int,
    method: str,
    damping: float,
    sparsity: float,
    n_iter: int,
) -> np.ndarray:
    """The least-squares or sparse Radon model of one raveled gather (``adj``: its adjoint panel)."""
    from pylops.optimization.basic import lsqr
    from pylops.optimization.sparsity import fista

    if not np.any(gather):
        return np.zeros_like(adj)
    if method == "lsqr":
        # ||R m - d||^2 + (damping * sqrt(n_x))^2 ||m||^2: a column of R has norm ~sqrt(n_x).
        x = lsqr(op, gather, damp=damping * math.sqrt(n_x), niter=n_iter, calc_var=False)[0]
    else:
        # FISTA's L1 weight relative to the adjoint's peak, so that the result does not depend on scale.
        eps = sparsity * float(np.abs(adj).max())
        x = fista(op, gather, niter=n_iter, eps=eps, tol=0.0)[0]
    return np.asarray(x)


def radon(
    data: ArrayOrData,
    curve: str = "linear",
    *,
    slopes: Sequence[float] | np.ndarray | None = None,
    offsets: Sequence[float] | np.ndarray | None = None,
    trace_spacing: float | None = None,
    method: str = "adjoint",
    damping: float = 0.01,
    sparsity: float = 0.001,
    n_iter: int | None = None,
    dt_ms: float | None = None,
) -> RadonTransform:
    """Linear (tau-p) or parabolic (tau-q) Radon transform of a gather ``(trace, time)``.

    A volume ``(inline, crossline, time)`` is transformed inline by inline (each a gather over
    crossline). ``curve``: ``"linear"``, ``t = tau + p x`` (``p`` in ms per trace, or ms per m with
    ``trace_spacing`` or ``offsets`` in m), or ``"parabolic"``, ``t = tau + q (x / x_max)^2`` (``q``
    the moveout in ms at the largest ``|x|``). ``x`` are the ``offsets`` (default the trace positions,
    zero at the centre of the gather), ``tau`` the intercept time at ``x = 0``.

    ``slopes``: the ``p`` or ``q`` values (default: ``2 n_traces + 1`` values up to 2 samples of
    moveout per trace (linear) or ``+-`` 20 samples at the far offset (parabolic)).
    ``method``: ``"adjoint"`` stacks along the curves (``R^H d``, pylops Radon2D's adjoint);
    ``"lsqr"`` solves the damped least-squares problem ``min |R m - d|^2 + (damping sqrt(n_x))^2 |m|^2``
    (``n_iter`` default 30); ``"sparse"`` solves the L1 problem with FISTA (weight ``sparsity`` times
    the adjoint's peak, ``n_iter`` default 100), focusing each event on a point.

    The operator is a sparse matrix with two entries per (slope, time, trace): about 24 bytes each, so
    ``n_slopes x n_samples x n_traces`` is limited to 5e7 (1.2 GB). An iteration of ``lsqr`` or
    ``sparse`` costs two products with it (a 120-trace x 800-sample gather with 241 slopes: ~0.2 s each).
    """
    kind = check_choice("curve", curve, RADON_KINDS)
    method = check_choice("method", method, RADON_METHODS)
    prep = _prepare(data, dt_ms)
    if prep.squeeze:
        raise DataError("data: the Radon transform needs a gather (trace, time) or a volume")
    dt = prep.require_dt()
    n_t = prep.n_samples
    n_x = prep.trace_shape[-1]
    if n_x < 2:
        raise DataError(f"data: the Radon transform needs at least 2 traces per gather, got {n_x}")
    check_range("damping", damping, low=0.0)
    check_range("sparsity", sparsity, low=0.0, low_open=True)
    iters = (30 if method == "lsqr" else 100) if n_iter is None else _integer("n_iter", n_iter, 1)
    if offsets is not None:
        if trace_spacing is not None:
            raise ParameterError("trace_spacing", "give either offsets or trace_spacing, not both")
        x = np.asarray(offsets, dtype=np.float64)
        if x.shape != (n_x,) or not np.isfinite(x).all():
            raise ParameterError(
                "offsets", f"needs {n_x} finite positions (one per trace), got shape {x.shape}"
            )
        unit = "m"
    else:
        dx = (
            1.0
            if trace_spacing is None
            else float(check_range("trace_spacing", trace_spacing, low=0.0, low_open=True))
        )
        x = (np.arange(n_x, dtype=np.float64) - (n_x - 1) / 2.0) * dx
        unit = "trace" if trace_spacing is None else "m"
    x_ref = float(np.abs(x).max())
    if x_ref == 0:
        raise ParameterError("offsets", "are all zero", allowed="distinct positions")
    dt_ms_used = dt * 1000.0
    if slopes is None:
        n_p = 2 * n_x + 1
        if kind == "linear":
            step = float(np.median(np.abs(np.diff(np.sort(x))))) or x_ref
            p_max = 2.0 * dt_ms_used / step
        else:
            p_max = 20.0 * dt_ms_used
        p = np.linspace(-p_max, p_max, n_p)
    else:
        p = np.atleast_1d(np.asarray(slopes, dtype=np.float64))
        if p.ndim != 1 or p.size < 1 or not np.isfinite(p).all():
            raise ParameterError("slopes", "must be a 1D array of finite values", allowed="finite numbers")
    slope_unit = f"ms/{unit}" if kind == "linear" else f"ms at |x|={x_ref:g} {unit}"
    entries = p.size * n_t * n_x
    if entries > _MAX_RADON_TABLE:
        raise ParameterError(
            "slopes",
            f"{p.size} slopes x {n_t} samples x {n_x} traces need a "
            f"{entries * 24 / 2**30:.1f} GiB operator; use fewer slopes or a smaller gather",
            allowed=f"n_slopes x n_samples x n_traces <= {_MAX_RADON_TABLE:.0e}",
        )
    # Slopes in seconds (per offset unit for linear) for the operator.
    op = _radon_operator(kind, n_t, dt, x, p / 1000.0, x_ref)
    gathers = prep.values.reshape(-1, n_x * n_t).astype(np.float64, copy=False)
    # The adjoint of every gather of a volume in one sparse product.
    model = np.asarray(op.A.T @ gathers.T).T
    if method != "adjoint":  # pylops' solvers take one vector: one gather at a time
        model = np.stack(
            [
                _radon_solve(op, g, a, n_x, method, damping, sparsity, iters)
                for g, a in zip(gathers, model, strict=True)
            ]
        )
    model = model.reshape(*prep.trace_shape[:-1], p.size, n_t).astype(prep.values.dtype, copy=False)
    return RadonTransform(
        model,
        p,
        _times_ms(prep),
        x,
        kind,
        method,
        slope_unit,
        n_x,
        dt_s=dt,
        source=prep.source,
    )


def iradon(result: RadonTransform, *, n_iter: int = 50) -> ArrayOrData:
    """Back from a Radon panel to the gather (section or volume), as the forward input's type.

    A least-squares or sparse panel (``method="lsqr"`` / ``"sparse"``) is a model of the data: the
    gather is its forward modelling ``R m`` (spreading along the curves). An adjoint panel is the
    stack ``R^H d``: the gather is the least-squares inverse ``min_d |R^H d - m|^2`` (LSQR, ``n_iter``
    iterations), exact up to the iterations for events whose slopes the panel covers.
    """
    from pylops.optimization.basic import lsqr

    if result.dt_s is None:
        raise ParameterError("dt_ms", "the transform carries no sample interval")
    values = _coefficients(result.values)
    n_t = values.shape[-1]
    if values.shape[-2] != result.slopes.size:
        raise ParameterError("values", f"has {values.shape[-2]} slopes, expected {result.slopes.size}")
    iters = _integer("n_iter", n_iter, 1)
    op = _radon_operator(
        result.kind,
        n_t,
        result.dt_s,
        result.offsets,
        result.slopes / 1000.0,
        float(np.abs(result.offsets).max()),
    )
    n_x = result.n_traces
    panels = values.reshape(-1, result.slopes.size * n_t).astype(np.float64, copy=False)
    if result.method == "adjoint":
        zero = np.zeros(n_x * n_t)
        # pylops' LSQR takes one vector: one gather at a time.
        out = np.stack([lsqr(op.H, m, niter=iters, calc_var=False)[0] if np.any(m) else zero for m in panels])
    else:
        out = np.asarray(op.A @ panels.T).T  # every gather's modelling in one sparse product
    lead = values.shape[:-2]
    section = out.reshape(*lead, n_x, n_t).astype(values.dtype, copy=False)
    params = {
        "curve": result.kind,
        "method": result.method,
        "n_slopes": int(result.slopes.size),
        "n_iter": iters,
    }
    return _finish_inverse(result, section, "signal.iradon", params)


# =========================================================================== entry points
#: Forward transforms by name, for :func:`transform`.
TRANSFORMS: dict[str, Callable[..., Any]] = {
    "fft": fft,
    "fk": fk,
    "stft": stft,
    "cwt": cwt,
    "dwt": dwt,
    "wavedec": wavedec,
    "stransform": stransform,
    "radon": radon,
}
_ALIASES = {
    "stockwell": "stransform",
    "s_transform": "stransform",
    "f_k": "fk",
    "fkk": "fk",
    "tau_p": "radon",
}

_INVERSES: dict[type, Callable[[Any], ArrayOrData]] = {
    FourierTransform: ifft,
    FKTransform: ifk,
    STFTResult: istft,
    DWTResult: idwt,
    WaveletDecomposition: waverec,
    STransformResult: istransform,
    RadonTransform: iradon,
}


def _check_params(func: Callable[..., Any], params: dict[str, Any], skip: int = 1) -> None:
    """Unknown keyword arguments raise ParameterError naming them (not a bare TypeError)."""
    allowed = [p for p in list(inspect.signature(func).parameters)[skip:]]
    for key in params:
        if key not in allowed:
            raise ParameterError(key, f"is not a parameter of {func.__name__}", allowed=", ".join(allowed))


def transform(data: ArrayOrData, kind: str, **params: Any) -> Any:
    """Apply the transform named ``kind`` (see :data:`TRANSFORMS`; aliases ``stockwell``, ``tau_p``, ...)
    with its keyword parameters, e.g. ``transform(data, "stft", window_ms=200)``."""
    key = str(kind).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    name = check_choice("kind", key, TRANSFORMS)
    func = TRANSFORMS[name]
    _check_params(func, params)
    return func(data, **params)


def itransform(result: Any) -> ArrayOrData:
    """Invert any result of an invertible transform (:func:`cwt` has no inverse)."""
    func = _INVERSES.get(type(result))
    if func is None:
        raise ParameterError(
            "result",
            f"{type(result).__name__} has no inverse",
            allowed=", ".join(t.__name__ for t in _INVERSES),
        )
    return func(result)
