"""Spectral analysis of seismic traces and sections: what a QC report or a figure shows.

:func:`amplitude_spectrum`, :func:`phase_spectrum`, power spectral density (:func:`psd`: Welch,
multitaper or periodogram), :func:`spectrogram`, the f-k amplitude in dB (:func:`fk_spectrum`), and
scalar summaries: :func:`dominant_frequency` and :func:`bandwidth` (band edges at a dB level below the
peak, centroid). :func:`spectrum` dispatches by name::

    from promethium.signal.spectra import bandwidth, psd, spectrum

    band = bandwidth(data, level_db=-6.0)       # Bandwidth(low_hz=..., high_hz=..., centroid_hz=...)
    p = psd(data, method="multitaper")          # PowerSpectrum averaged over the live traces
    fk_db = spectrum(data, "fk", trace_spacing=12.5)

Conventions shared by every function here:

- Input is a :class:`~promethium.io.data.SeismicData` or a numpy array with the sample axis last
  (``(trace, time)``, ``(inline, crossline, time)`` or one trace ``(time,)``); numpy input needs
  ``dt_ms=`` (the sample interval in ms). Spectra run along time, over every trace axis.
- ``average=True`` (the default) averages over the live traces (the data's trace mask, or ``mask=``);
  ``average=False`` keeps one spectrum per trace, shape ``(*trace_shape, n_frequencies)``.
- Results are frozen dataclasses (values plus their axes, units in the names) or plain numbers; nothing
  is recorded in the history (analysis, not processing). Values are float64.
- Frequencies are in Hz, times in ms, levels in dB. NaN/Inf samples raise
  :class:`~promethium.core.errors.DataError`; a bad parameter raises
  :class:`~promethium.core.errors.ParameterError` naming it and the allowed range. No result is NaN:
  an all-zero trace has a zero spectrum, dominant frequency 0 and band edges 0.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft as sfft
import scipy.signal as ss

from promethium.core.errors import DataError, ParameterError
from promethium.signal._base import (
    ArrayOrData,
    Prepared,
    check_choice,
    check_range,
    prepare,
    resolve_mask,
)
from promethium.signal.transforms import _window_samples, fk

__all__ = [
    "PSD_METHODS",
    "SPECTRA",
    "AmplitudeSpectrum",
    "Bandwidth",
    "FKSpectrum",
    "PhaseSpectrum",
    "PowerSpectrum",
    "Spectrogram",
    "amplitude_spectrum",
    "bandwidth",
    "dominant_frequency",
    "fk_spectrum",
    "phase_spectrum",
    "psd",
    "spectrogram",
    "spectrum",
]

#: Power spectral density estimators of :func:`psd`.
PSD_METHODS = ("welch", "multitaper", "periodogram")
#: Bytes of temporaries per chunk of traces when spectra are averaged.
_CHUNK_BYTES = 64 * 2**20
#: dB floor of :func:`amplitude_spectrum` and friends (``db=True``): zeros show as this level.
_DB_FLOOR = -200.0


# =========================================================================== result types
@dataclass(frozen=True, eq=False)
class AmplitudeSpectrum:
    """One-sided amplitude spectrum: ``values`` ``(n_f,)`` averaged or ``(..., n_f)`` per trace.

    Scaled so that a sine of amplitude ``A`` on a frequency bin reads ``A`` (``2 |X| / n``, ``|X| / n``
    at 0 Hz and Nyquist, ``n`` the trace length); with ``db`` the values are ``20 log10`` of that
    relative to the largest value returned (0 dB), floored at -200 dB.
    """

    values: np.ndarray
    frequencies_hz: np.ndarray
    averaged: bool
    db: bool

    @property
    def unit(self) -> str:
        return "dB" if self.db else "amplitude"


@dataclass(frozen=True, eq=False)
class PhaseSpectrum:
    """Phase spectrum in ``unit`` (radians or degrees), referenced to the first sample (t = 0)."""

    values: np.ndarray
    frequencies_hz: np.ndarray
    averaged: bool
    unit: str
    unwrapped: bool


@dataclass(frozen=True, eq=False)
class PowerSpectrum:
    """One-sided power spectral density in amplitude^2/Hz (``db``: 10 log10 of it, not normalised).

    Integrating ``values`` over ``frequencies_hz`` gives the variance (mean power) of the trace.
    """

    values: np.ndarray
    frequencies_hz: np.ndarray
    method: str
    averaged: bool
    db: bool
    parameters: dict[str, Any]

    @property
    def unit(self) -> str:
        return "dB re 1 amplitude^2/Hz" if self.db else "amplitude^2/Hz"


@dataclass(frozen=True, eq=False)
class Spectrogram:
    """Power spectral density per window: ``values`` ``(n_f, n_windows)`` averaged or ``(..., n_f,
    n_windows)``, in amplitude^2/Hz (``db``: 10 log10). ``times_ms``: window centres; only windows
    lying wholly inside the trace are kept."""

    values: np.ndarray
    frequencies_hz: np.ndarray
    times_ms: np.ndarray
    averaged: bool
    db: bool
    window_samples: int
    hop_samples: int


@dataclass(frozen=True, eq=False)
class FKSpectrum:
    """f-k (or f-k-k) amplitude for figures: ``values`` ``(n_k, n_f)`` or ``(n_kx, n_ky, n_f)``, in dB
    relative to the maximum (``db=True``, floored at ``floor_db``) or linear ``|FK|``. Wavenumbers are
    fftshifted, in ``wavenumber_unit``; frequencies one-sided."""

    values: np.ndarray
    frequencies_hz: np.ndarray
    wavenumbers: tuple[np.ndarray, ...]
    wavenumber_unit: str
    db: bool


@dataclass(frozen=True, eq=False)
class Bandwidth:
    """Band edges ``low_hz`` / ``high_hz`` where the amplitude spectrum falls ``level_db`` below its peak
    (linear interpolation in dB; 0 Hz / Nyquist when it never does on that side), ``width_hz`` =
    ``high_hz - low_hz``, the ``peak_hz`` and the spectral ``centroid_hz`` (weighted by amplitude or
    power, ``weighting``). Floats when averaged, arrays over the trace axes otherwise."""

    low_hz: Any
    high_hz: Any
    width_hz: Any
    peak_hz: Any
    centroid_hz: Any
    level_db: float
    weighting: str
    averaged: bool


# =========================================================================== helpers
def _prepare(data: ArrayOrData, dt_ms: float | None, min_samples: int = 1) -> Prepared:
    prep = prepare(data, dt_ms=dt_ms, min_samples=min_samples)
    prep.require_dt()
    return prep


def _live(prep: Prepared, mask: np.ndarray | None, average: bool) -> np.ndarray:
    """Flat bool over the traces: the ones averaged (all when not averaging)."""
    live = resolve_mask(prep, mask).reshape(-1)
    if average and not live.any():
        raise DataError("data: no live trace to average (every trace is masked out)")
    return live


def _chunks(n_traces: int, bytes_per_trace: int) -> Iterator[slice]:
    step = max(1, _CHUNK_BYTES // max(1, bytes_per_trace))
    for start in range(0, n_traces, step):  # chunks of traces bound the temporaries' memory
        yield slice(start, min(n_traces, start + step))


def _reduce(
    prep: Prepared, live: np.ndarray, average: bool, n_out: int, func: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``func`` (traces -> one real row per trace, length ``n_out``) over all traces, or its mean over
    the live ones (accumulated in chunks)."""
    flat = prep.values.reshape(-1, prep.n_samples)
    per_trace = 16 * max(n_out, prep.n_samples) * 4
    if not average:
        out = np.empty((flat.shape[0], n_out))
        for sl in _chunks(flat.shape[0], per_trace):
            out[sl] = func(flat[sl])
        return out.reshape(*prep.trace_shape, n_out) if not prep.squeeze else out[0]
    total = np.zeros(n_out)
    for sl in _chunks(flat.shape[0], per_trace):
        rows = flat[sl][live[sl]]
        if rows.shape[0]:
            total += func(rows).sum(axis=0)
    return total / int(live.sum())


def _n_fft(n_fft: int | None, n: int, default: int) -> int:
    if n_fft is None:
        return default
    check_range("n_fft", n_fft, low=n, integer=True)
    return int(n_fft)


def _db(values: np.ndarray, factor: float, floor: float = _DB_FLOOR) -> np.ndarray:
    """``factor * log10(values / max)`` floored at ``floor`` dB (0 dB at the largest value)."""
    ref = float(values.max()) if values.size else 0.0
    if ref <= 0:
        return np.full(values.shape, floor)
    tiny = ref * 10.0 ** (floor / factor)
    return np.maximum(factor * np.log10(np.maximum(values, tiny) / ref), floor)


def _amplitude_rows(nfft: int, n: int, one_sided: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """Rows -> one-sided amplitude (a sine of amplitude A on a bin reads A). ``one_sided=False`` scales
    every bin alike (``2 |X| / n``): the spectral shape, without the step at 0 Hz that would put the peak
    of a zero-padded DC component off 0 Hz."""
    scale = np.full(nfft // 2 + 1, 2.0 / n)
    if one_sided:
        scale[0] = 1.0 / n
        if nfft % 2 == 0:
            scale[-1] = 1.0 / n

    def func(rows: np.ndarray) -> np.ndarray:
        return np.abs(sfft.rfft(rows, n=nfft, axis=-1, workers=-1)) * scale

    return func


def _amplitude(
    prep: Prepared, live: np.ndarray, average: bool, nfft: int, one_sided: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    freqs = sfft.rfftfreq(nfft, d=prep.require_dt())
    values = _reduce(prep, live, average, freqs.size, _amplitude_rows(nfft, prep.n_samples, one_sided))
    return values, freqs


# =========================================================================== amplitude and phase
def amplitude_spectrum(
    data: ArrayOrData,
    *,
    average: bool = True,
    mask: np.ndarray | None = None,
    n_fft: int | None = None,
    db: bool = False,
    dt_ms: float | None = None,
) -> AmplitudeSpectrum:
    """One-sided amplitude spectrum (|rfft|, scaled so that a sine of amplitude A on a bin reads A).

    ``average``: mean amplitude over the live traces (``mask`` overrides the data's trace mask), else
    one spectrum per trace. ``n_fft``: zero-padded length (default the trace length). ``db``: 20 log10
    relative to the largest value returned.
    """
    prep = _prepare(data, dt_ms)
    live = _live(prep, mask, average)
    nfft = _n_fft(n_fft, prep.n_samples, prep.n_samples)
    values, freqs = _amplitude(prep, live, average, nfft)
    if db:
        values = _db(values, 20.0)
    return AmplitudeSpectrum(values, freqs, average, db)


def phase_spectrum(
    data: ArrayOrData,
    *,
    average: bool = True,
    mask: np.ndarray | None = None,
    n_fft: int | None = None,
    unwrap: bool = False,
    degrees: bool = False,
    dt_ms: float | None = None,
) -> PhaseSpectrum:
    """Phase of the Fourier transform, referenced to the first sample (a zero-phase wavelet centred at
    ``t_c`` has phase ``-2 pi f t_c``).

    ``average``: the phase of the sum of the live traces' spectra (an amplitude-weighted circular mean,
    which ignores the random phase of weak traces), else per trace. ``unwrap``: remove the 2 pi jumps
    along frequency (``numpy.unwrap``). ``degrees``: degrees instead of radians.
    """
    prep = _prepare(data, dt_ms)
    live = _live(prep, mask, average)
    nfft = _n_fft(n_fft, prep.n_samples, prep.n_samples)
    freqs = sfft.rfftfreq(nfft, d=prep.require_dt())
    flat = prep.values.reshape(-1, prep.n_samples)
    if average:
        # The FFT is linear: the sum of the spectra is the spectrum of the sum.
        spec = sfft.rfft(flat[live].sum(axis=0), n=nfft)
    else:
        spec = sfft.rfft(flat, n=nfft, axis=-1, workers=-1)
    phase = np.angle(spec)
    if unwrap:
        phase = np.unwrap(phase, axis=-1)
    if degrees:
        phase = np.degrees(phase)
    if not average:
        phase = phase[0] if prep.squeeze else phase.reshape(*prep.trace_shape, freqs.size)
    return PhaseSpectrum(phase, freqs, average, "degrees" if degrees else "radians", unwrap)


# =========================================================================== power
def psd(
    data: ArrayOrData,
    method: str = "welch",
    *,
    average: bool = True,
    mask: np.ndarray | None = None,
    window: str | tuple[Any, ...] | None = None,
    window_ms: float | None = None,
    overlap: float = 0.5,
    time_bandwidth: float = 4.0,
    n_tapers: int | None = None,
    n_fft: int | None = None,
    detrend: str | bool = "constant",
    db: bool = False,
    dt_ms: float | None = None,
) -> PowerSpectrum:
    """One-sided power spectral density (amplitude^2/Hz) of every trace, or its mean over live traces.

    ``method``:

    - ``"welch"`` (``scipy.signal.welch``): averaged periodograms of ``window`` (default Hann) segments
      ``window_ms`` long (default 256 samples, at most the trace), overlapping by the fraction
      ``overlap``.
    - ``"multitaper"``: the mean of the periodograms tapered by the ``n_tapers`` (default
      ``2 time_bandwidth - 1``) unit-energy DPSS (Slepian) tapers of half-bandwidth ``time_bandwidth``
      (``scipy.signal.windows.dpss``); the frequency resolution is ``2 time_bandwidth / duration``.
    - ``"periodogram"`` (``scipy.signal.periodogram``): one ``window`` (default boxcar) over the trace.

    ``detrend``: ``"constant"`` (remove the mean), ``"linear"`` or ``False``. ``n_fft``: FFT length
    (default the segment or trace length). White noise of variance ``s^2`` reads ``2 s^2 dt``.
    """
    method = check_choice("method", method, PSD_METHODS)
    prep = _prepare(data, dt_ms, min_samples=2)
    live = _live(prep, mask, average)
    dt = prep.require_dt()
    fs = 1.0 / dt
    n = prep.n_samples
    if detrend is not False:
        detrend = check_choice("detrend", str(detrend), ("constant", "linear"))
    params: dict[str, Any] = {"detrend": detrend}
    if method == "multitaper":
        check_range("time_bandwidth", time_bandwidth, low=0.5, high=n / 2.0, high_open=True)
        k_max = max(1, math.floor(2 * time_bandwidth - 1))
        k = k_max if n_tapers is None else int(check_range("n_tapers", n_tapers, low=1, high=n, integer=True))
        nfft = _n_fft(n_fft, n, n)
        tapers = ss.windows.dpss(n, time_bandwidth, Kmax=k, norm=2)
        tapers = np.atleast_2d(tapers)
        scale = np.full(nfft // 2 + 1, 2.0 * dt)
        scale[0] = dt
        if nfft % 2 == 0:
            scale[-1] = dt

        def multitaper(rows: np.ndarray) -> np.ndarray:
            if detrend is not False:
                rows = ss.detrend(rows, axis=-1, type=detrend)
            spec = sfft.rfft(rows[:, None, :] * tapers, n=nfft, axis=-1, workers=-1)
            power: np.ndarray = (spec.real**2 + spec.imag**2).mean(axis=1) * scale
            return power

        freqs = sfft.rfftfreq(nfft, d=dt)
        values = _reduce(prep, live, average, freqs.size, multitaper)
        params.update(time_bandwidth=float(time_bandwidth), n_tapers=k, n_fft=nfft)
    else:
        if method == "welch":
            win = "hann" if window is None else window
            nperseg = min(n, 256) if window_ms is None else _window_samples("window_ms", window_ms, dt, 2, n)
            check_range("overlap", overlap, low=0.0, high=1.0, high_open=True)
            noverlap = min(nperseg - 1, math.floor(overlap * nperseg))
            nfft = _n_fft(n_fft, nperseg, nperseg)
        else:
            win = "boxcar" if window is None else window
            nperseg, noverlap = n, 0
            nfft = _n_fft(n_fft, n, n)
        try:
            ss.get_window(win, nperseg)
        except (ValueError, TypeError) as exc:
            raise ParameterError("window", f"unknown window {win!r} ({exc})") from exc

        def estimator(rows: np.ndarray) -> np.ndarray:
            if method == "welch":
                _, p = ss.welch(
                    rows,
                    fs,
                    window=win,
                    nperseg=nperseg,
                    noverlap=noverlap,
                    nfft=nfft,
                    detrend=detrend,
                    axis=-1,
                )
            else:
                _, p = ss.periodogram(rows, fs, window=win, nfft=nfft, detrend=detrend, axis=-1)
            return np.asarray(p, dtype=np.float64)

        freqs = sfft.rfftfreq(nfft, d=dt)
        values = _reduce(prep, live, average, freqs.size, estimator)
        params.update(window=win, window_samples=nperseg, overlap_samples=noverlap, n_fft=nfft)
    if db:
        values = 10.0 * np.log10(np.maximum(values, np.finfo(np.float64).tiny))
    return PowerSpectrum(values, freqs, method, average, db, params)


def spectrogram(
    data: ArrayOrData,
    *,
    average: bool = True,
    mask: np.ndarray | None = None,
    window: str | tuple[Any, ...] = "hann",
    window_ms: float | None = None,
    hop_ms: float | None = None,
    n_fft: int | None = None,
    db: bool = False,
    dt_ms: float | None = None,
) -> Spectrogram:
    """Power spectral density per sliding window (``scipy.signal.ShortTimeFFT``, PSD scaling, one-sided).

    ``window_ms``: window length (default 128 ms, at most the trace length); ``hop_ms``: step (default
    a quarter window); ``n_fft``: FFT length per window. Only windows wholly inside the trace are kept.
    ``average``: mean over the live traces. ``db``: 10 log10 (amplitude^2/Hz).
    """
    prep = _prepare(data, dt_ms, min_samples=2)
    live = _live(prep, mask, average)
    dt = prep.require_dt()
    n = prep.n_samples
    if window_ms is None:
        nperseg = max(2, min(n, round(0.128 / dt)))
    else:
        nperseg = _window_samples("window_ms", window_ms, dt, 2, n)
    hop = max(1, nperseg // 4) if hop_ms is None else _window_samples("hop_ms", hop_ms, dt, 1, nperseg)
    mfft = _n_fft(n_fft, nperseg, nperseg)
    try:
        win = ss.get_window(window, nperseg, fftbins=True)
    except (ValueError, TypeError) as exc:
        raise ParameterError("window", f"unknown window {window!r} ({exc})") from exc
    sft = ss.ShortTimeFFT(win, hop, 1.0 / dt, fft_mode="onesided2X", mfft=mfft, scale_to="psd")
    p0 = sft.lower_border_end[1]
    p1 = max(p0 + 1, sft.upper_border_begin(n)[1])
    n_f = sft.f.size
    n_w = p1 - p0

    def rows_spectrogram(rows: np.ndarray) -> np.ndarray:
        s = sft.spectrogram(rows, p0=p0, p1=p1, axis=-1)
        return np.asarray(s, dtype=np.float64).reshape(rows.shape[0], -1)

    flat_values = _reduce(prep, live, average, n_f * n_w, rows_spectrogram)
    values = flat_values.reshape(*flat_values.shape[:-1], n_f, n_w)
    if db:
        values = 10.0 * np.log10(np.maximum(values, np.finfo(np.float64).tiny))
    t0 = float(prep.source.samples[0]) if prep.source is not None else 0.0
    times = np.asarray(sft.t(n, p0, p1), dtype=np.float64) * 1000.0 + t0
    return Spectrogram(values, np.asarray(sft.f, dtype=np.float64), times, average, db, nperseg, hop)


# =========================================================================== f-k
def fk_spectrum(
    data: ArrayOrData,
    *,
    trace_spacing: float | tuple[float, ...] | None = None,
    n_fft: int | None = None,
    n_wavenumbers: int | tuple[int, ...] | None = None,
    db: bool = True,
    floor_db: float = -120.0,
    dt_ms: float | None = None,
) -> FKSpectrum:
    """f-k amplitude of a section (f-k-k of a volume) for figures, from
    :func:`promethium.signal.transforms.fk` (same axes, padding and sign convention).

    ``db``: ``20 log10(|FK| / max)``, floored at ``floor_db`` (< 0); else the linear ``|FK|``.
    """
    if db:
        check_range("floor_db", floor_db, low=-400.0, high=0.0, high_open=True)
    spec = fk(data, trace_spacing=trace_spacing, n_fft=n_fft, n_wavenumbers=n_wavenumbers, dt_ms=dt_ms)
    amp = np.abs(spec.values).astype(np.float64)
    values = _db(amp, 20.0, floor=float(floor_db)) if db else amp
    return FKSpectrum(values, spec.frequencies_hz, spec.wavenumbers, spec.wavenumber_unit, db)


# =========================================================================== summaries
def _band(prep: Prepared, fmin_hz: float | None, fmax_hz: float | None, freqs: np.ndarray) -> np.ndarray:
    """Bool over ``freqs``: the search band ``[fmin_hz, fmax_hz]`` (default 0 .. Nyquist)."""
    nyq = prep.nyquist
    lo = 0.0 if fmin_hz is None else float(check_range("fmin_hz", fmin_hz, low=0.0, high=nyq, high_open=True))
    hi = nyq if fmax_hz is None else float(check_range("fmax_hz", fmax_hz, low=0.0, high=nyq, low_open=True))
    if hi <= lo:
        raise ParameterError("fmax_hz", f"{hi:g} Hz is not above fmin_hz={lo:g} Hz")
    band = (freqs >= lo) & (freqs <= hi)
    if band.sum() < 1:
        raise ParameterError("fmax_hz", f"no frequency sample between {lo:g} and {hi:g} Hz")
    return band


def _summary_spectrum(
    data: ArrayOrData,
    dt_ms: float | None,
    average: bool,
    mask: np.ndarray | None,
    n_fft: int | None,
    fmin_hz: float | None,
    fmax_hz: float | None,
) -> tuple[Prepared, np.ndarray, np.ndarray]:
    """Amplitude spectrum (zero-padded to >= 4x the trace, >= 2048) restricted to the search band,
    as ``(prep, amplitude (rows, n_f), freqs)``."""
    prep = _prepare(data, dt_ms)
    live = _live(prep, mask, average)
    n = prep.n_samples
    nfft = _n_fft(n_fft, n, sfft.next_fast_len(max(4 * n, 2048), real=True))
    amp, freqs = _amplitude(prep, live, average, nfft, one_sided=False)
    band = _band(prep, fmin_hz, fmax_hz, freqs)
    amp = np.where(band, amp, 0.0)
    return prep, amp.reshape(-1, freqs.size), freqs


def _shape_out(prep: Prepared, average: bool, values: np.ndarray) -> Any:
    if average:
        return float(values[0])
    return values[0] if prep.squeeze else values.reshape(prep.trace_shape)


def _peak(amp: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the peak of every row and its frequency refined by a parabola through the three
    samples around it (hand-written: scipy has no sub-sample peak interpolation)."""
    ip = np.argmax(amp, axis=-1)
    rows = np.arange(amp.shape[0])
    inner = (ip > 0) & (ip < freqs.size - 1)
    a = amp[rows, np.clip(ip - 1, 0, None)]
    b = amp[rows, ip]
    c = amp[rows, np.clip(ip + 1, None, freqs.size - 1)]
    denom = a - 2.0 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(inner & (denom < 0), 0.5 * (a - c) / denom, 0.0)
    df = freqs[1] - freqs[0] if freqs.size > 1 else 0.0
    peak = freqs[ip] + np.clip(shift, -0.5, 0.5) * df
    return ip, np.where(b > 0, peak, 0.0)


def dominant_frequency(
    data: ArrayOrData,
    *,
    average: bool = True,
    mask: np.ndarray | None = None,
    fmin_hz: float | None = None,
    fmax_hz: float | None = None,
    n_fft: int | None = None,
    dt_ms: float | None = None,
) -> Any:
    """Frequency (Hz) of the peak of the amplitude spectrum (averaged over live traces, or per trace).

    The spectrum is zero-padded (default ``n_fft`` >= 4x the trace length and >= 2048) and the peak
    refined by a parabola through three samples; ``fmin_hz`` / ``fmax_hz`` limit the search (e.g. to
    skip a DC offset). Returns a float when averaged, else an array over the trace axes (0 for
    all-zero traces).
    """
    prep, amp, freqs = _summary_spectrum(data, dt_ms, average, mask, n_fft, fmin_hz, fmax_hz)
    _, peak = _peak(amp, freqs)
    return _shape_out(prep, average, peak)


def bandwidth(
    data: ArrayOrData,
    *,
    level_db: float = -6.0,
    average: bool = True,
    mask: np.ndarray | None = None,
    weighting: str = "amplitude",
    fmin_hz: float | None = None,
    fmax_hz: float | None = None,
    n_fft: int | None = None,
    dt_ms: float | None = None,
) -> Bandwidth:
    """Band edges at ``level_db`` (< 0) below the amplitude-spectrum peak, and the spectral centroid.

    On the amplitude spectrum (averaged over the live traces, or per trace; zero-padded like
    :func:`dominant_frequency`), the low / high edges are the nearest frequencies below / above the peak
    where the spectrum falls under ``level_db``, interpolated linearly in dB between samples (hand-written:
    no library finds band edges). ``weighting``: the centroid ``sum f w / sum w`` uses ``w`` = amplitude
    or power (amplitude squared). ``fmin_hz`` / ``fmax_hz`` restrict everything to a band.
    """
    check_range("level_db", level_db, low=-300.0, high=0.0, high_open=True)
    weighting = check_choice("weighting", weighting, ("amplitude", "power"))
    prep, amp, freqs = _summary_spectrum(data, dt_ms, average, mask, n_fft, fmin_hz, fmax_hz)
    n_f = freqs.size
    ip, peak_hz = _peak(amp, freqs)
    rows = np.arange(amp.shape[0])
    peak = amp[rows, ip]
    threshold = peak * 10.0 ** (level_db / 20.0)
    below = amp < threshold[:, None]
    idx = np.arange(n_f)[None, :]
    floor = np.maximum(peak, np.finfo(np.float64).tiny)[:, None] * 1e-15
    level = 20.0 * np.log10(np.maximum(amp, floor))
    lvl = 20.0 * np.log10(np.maximum(threshold, floor[:, 0]))

    def edge(j_out: np.ndarray, j_in: np.ndarray) -> np.ndarray:
        """Interpolate in dB between an outside sample ``j_out`` (below) and inside ``j_in``."""
        a_in, a_out = level[rows, j_in], level[rows, j_out]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(a_in > a_out, (a_in - lvl) / (a_in - a_out), 0.0)
        return freqs[j_in] + np.clip(frac, 0.0, 1.0) * (freqs[j_out] - freqs[j_in])

    hi_cand = below & (idx > ip[:, None])
    has_hi = hi_cand.any(axis=-1)
    j_hi = np.where(has_hi, np.argmax(hi_cand, axis=-1), n_f - 1)
    high = np.where(has_hi, edge(j_hi, np.maximum(j_hi - 1, 0)), freqs[-1])
    lo_cand = below & (idx < ip[:, None])
    has_lo = lo_cand.any(axis=-1)
    j_lo = np.where(has_lo, n_f - 1 - np.argmax(lo_cand[:, ::-1], axis=-1), 0)
    low = np.where(has_lo, edge(j_lo, np.minimum(j_lo + 1, n_f - 1)), freqs[0])
    w = amp if weighting == "amplitude" else amp**2
    total = w.sum(axis=-1)
    centroid = np.where(total > 0, (w * freqs).sum(axis=-1) / np.where(total > 0, total, 1.0), 0.0)
    dead = peak <= 0
    low, high = np.where(dead, 0.0, low), np.where(dead, 0.0, high)
    return Bandwidth(
        _shape_out(prep, average, low),
        _shape_out(prep, average, high),
        _shape_out(prep, average, high - low),
        _shape_out(prep, average, peak_hz),
        _shape_out(prep, average, centroid),
        float(level_db),
        weighting,
        average,
    )


# =========================================================================== entry point
#: Spectra by name, for :func:`spectrum`.
SPECTRA: dict[str, Callable[..., Any]] = {
    "amplitude": amplitude_spectrum,
    "phase": phase_spectrum,
    "psd": psd,
    "spectrogram": spectrogram,
    "fk": fk_spectrum,
    "dominant_frequency": dominant_frequency,
    "bandwidth": bandwidth,
}
_ALIASES = {
    "amplitude_spectrum": "amplitude",
    "phase_spectrum": "phase",
    "fk_spectrum": "fk",
    "f_k": "fk",
    "power": "psd",
}


def spectrum(data: ArrayOrData, kind: str = "amplitude", **params: Any) -> Any:
    """Compute the spectrum named ``kind`` (see :data:`SPECTRA`) with its keyword parameters, e.g.
    ``spectrum(data, "psd", method="multitaper")`` or ``spectrum(data, "bandwidth", level_db=-20)``."""
    key = str(kind).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    name = check_choice("kind", key, SPECTRA)
    func = SPECTRA[name]
    allowed = list(inspect.signature(func).parameters)[1:]
    for p in params:
        if p not in allowed:
            raise ParameterError(p, f"is not a parameter of {func.__name__}", allowed=", ".join(allowed))
    return func(data, **params)
