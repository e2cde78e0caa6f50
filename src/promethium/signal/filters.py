"""Filtering, gain and muting of seismic traces.

Frequency filters (:func:`filter`, designed by :func:`design_filter`), amplitude balancing (:func:`agc`,
:func:`gain`), muting and tapering (:func:`mute`, :func:`taper`), median filtering and despiking
(:func:`median_filter`) and dip filtering in the f-k domain (:func:`fk_filter`)::

    from promethium.signal.filters import agc, filter, fk_filter

    band = filter(data, "bandpass", low=8.0, high=60.0)                 # zero-phase Butterworth
    causal = filter(data, "highpass", low=4.0, phase="minimum")
    balanced = agc(band, window_ms=400.0)
    no_ground_roll = fk_filter(data, "reject", dips=(6.0, 20.0))         # ms per trace

Conventions shared by every function here:

- Input is a :class:`~promethium.io.data.SeismicData` or a numpy array with the sample axis last
  (``(trace, time)``, ``(inline, crossline, time)`` or one trace ``(time,)``); the result has the
  caller's type and shape, and SeismicData gains one history entry ``"signal.<function>"`` with every
  parameter used. numpy input needs ``dt_ms=`` (the sample interval in ms) where the operation needs it.
- Frequencies are in Hz, times in ms (``*_ms``), dips in ms per trace, velocities in m/s.
- float32 in, float32 out. NaN/Inf samples raise :class:`~promethium.core.errors.DataError`; a bad
  parameter raises :class:`~promethium.core.errors.ParameterError` naming it and the allowed range.
- Dead (all-zero) traces stay zero.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import scipy.fft as sfft
import scipy.signal as ss
from scipy import ndimage

from promethium.core.errors import DataError, ParameterError, PromethiumWarning
from promethium.signal import _fastfilter as ff
from promethium.signal._base import (
    DataT,
    Prepared,
    check_choice,
    check_frequency,
    check_range,
    finish,
    prepare,
    row_blocks,
)
from promethium.signal._base import check_int as _integer
from promethium.signal._base import sample_times_ms as _times_ms
from promethium.signal._base import working_dtype as _dtype_of

__all__ = [
    "DESIGNS",
    "FILTER_KINDS",
    "FilterDesign",
    "agc",
    "design_filter",
    "filter",
    "fk_filter",
    "gain",
    "median_filter",
    "mute",
    "taper",
]

#: Filter kinds: what each keeps. ``low``/``high`` are the lower/upper edges of the pass band
#: (``bandstop``: of the stop band); ``notch`` takes its frequency as ``low``.
FILTER_KINDS = ("lowpass", "highpass", "bandpass", "bandstop", "notch")
#: IIR designs (second-order sections) and FIR designs (taps).
IIR_DESIGNS = ("butter", "cheby1", "cheby2", "ellip")
FIR_DESIGNS = ("fir_window", "fir_ls")
DESIGNS = IIR_DESIGNS + FIR_DESIGNS
PHASES = ("zero", "minimum")
ENGINES = ("auto", "fast", "fft", "scipy")

_MAX_ORDER = 16
_MAX_NUMTAPS = 8191
#: Relative amplitude below which the impulse response is considered to have died out (FFT path).
_IMPULSE_TOL = 1e-6


# =========================================================================== helpers
def _flat(prep: Prepared) -> np.ndarray:
    """The values as ``(trace, time)`` (a view for contiguous input)."""
    return prep.values.reshape(-1, prep.n_samples)


def _blocks(prep: Prepared) -> Iterator[slice]:
    """Blocks of rows of :func:`_flat` whose float64 temporaries are about ``BLOCK_BYTES`` each."""
    n_rows = int(np.prod(prep.trace_shape, dtype=np.int64))
    return row_blocks(n_rows, 8 * prep.n_samples)


# =========================================================================== design
@dataclass(frozen=True)
class FilterDesign:
    """A designed frequency filter and what it does when applied by :func:`filter`.

    Exactly one of ``sos`` (IIR second-order sections, scipy layout ``(n_sections, 6)``) and ``taps``
    (FIR coefficients) is set. ``fs`` is the sampling frequency in Hz. With ``phase="zero"`` the filter
    is run forward and backward, so the applied amplitude response is ``|H(f)|^2`` (twice the dB of one
    pass) with no phase shift; with ``phase="minimum"`` it is run once, causally (response ``H(f)``).
    """

    kind: str
    design: str
    phase: str
    fs: float
    low: float | None
    high: float | None
    order: int
    sos: np.ndarray | None = None
    taps: np.ndarray | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def is_fir(self) -> bool:
        return self.taps is not None

    @property
    def nyquist(self) -> float:
        return 0.5 * self.fs

    def single_pass(self, freqs_hz: np.ndarray) -> np.ndarray:
        """The complex response ``H(f)`` of one (causal) pass at ``freqs_hz``."""
        f = np.asarray(freqs_hz, dtype=np.float64)
        if self.taps is not None:
            _, h = ss.freqz(self.taps, 1.0, worN=f, fs=self.fs)
        else:
            assert self.sos is not None
            _, h = ss.freqz_sos(self.sos, worN=f, fs=self.fs)
        return np.asarray(h)

    def response(self, freqs_hz: np.ndarray | None = None, n: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """``(freqs_hz, H)``: the response of the filter *as applied* (``|H|^2`` for zero phase, real
        and non-negative; ``H`` for minimum phase). Default: ``n`` frequencies from 0 to Nyquist."""
        f = np.linspace(0.0, self.nyquist, n) if freqs_hz is None else np.asarray(freqs_hz, dtype=float)
        h = self.single_pass(f)
        if self.phase == "zero":
            return f, (np.abs(h) ** 2).astype(np.complex128)
        return f, h

    def gain_db(self, freqs_hz: np.ndarray) -> np.ndarray:
        """The applied amplitude response in dB (``20 log10 |response|``, floored at -400 dB)."""
        _, h = self.response(freqs_hz)
        return 20.0 * np.log10(np.maximum(np.abs(h), 1e-20))

    def impulse_length(self, tol: float = _IMPULSE_TOL, max_length: int = 1 << 22) -> int:
        """Samples after which one pass's impulse response stays below ``tol`` of its energy (amplitude
        ratio): the taps' length for FIR, measured by filtering an impulse for IIR."""
        if self.taps is not None:
            return len(self.taps)
        assert self.sos is not None
        n = 4096
        while True:
            impulse = np.zeros(n)
            impulse[0] = 1.0
            h = ss.sosfilt(self.sos, impulse)
            energy = h * h
            tail = np.cumsum(energy[::-1])[::-1]
            total = tail[0]
            if total == 0:
                return 1
            below = np.nonzero(tail <= (tol * tol) * total)[0]
            if below.size or n >= max_length:
                return int(below[0]) + 1 if below.size else n
            n *= 4

    def padlen(self, n_samples: int) -> int:
        """Odd-extension length used by zero-phase filtering: scipy's default (``sosfiltfilt``:
        3 x (2 x sections + 1), ``filtfilt``: 3 x taps), limited to ``n_samples - 1``."""
        if self.taps is not None:
            return ff.filtfilt_padlen(self.taps, n_samples)
        assert self.sos is not None
        return ff.sosfiltfilt_padlen(self.sos, n_samples)


def _corners(kind: str, low: float | None, high: float | None, nyquist: float) -> tuple[float, ...]:
    """Check the corners a kind needs, return them (sorted)."""
    if kind == "lowpass":
        if high is None:
            raise ParameterError("high", "a lowpass keeps frequencies below `high`; give high= (Hz)")
        if low is not None:
            raise ParameterError("low", "is not used by a lowpass (it keeps frequencies below `high`)")
        return (check_frequency("high", high, nyquist),)
    if kind in ("highpass", "notch"):
        what = "keeps frequencies above `low`" if kind == "highpass" else "removes the frequency `low`"
        if low is None:
            raise ParameterError("low", f"a {kind} {what}; give low= (Hz)")
        if high is not None:
            raise ParameterError("high", f"is not used by a {kind} (it {what})")
        return (check_frequency("low", low, nyquist),)
    for name, value in (("low", low), ("high", high)):
        if value is None:
            raise ParameterError(name, f"a {kind} needs both corners low= and high= (Hz)")
    lo = check_frequency("low", low, nyquist)  # type: ignore[arg-type]
    hi = check_frequency("high", high, nyquist)  # type: ignore[arg-type]
    if hi <= lo:
        raise ParameterError("high", f"{hi:g} Hz must be above low ({lo:g} Hz)", allowed=f"> {lo:g} Hz")
    return (lo, hi)


def _fir_bands(
    kind: str, corners: Sequence[float], nyquist: float, notch_q: float
) -> tuple[list[float], bool]:
    """Cutoffs (Hz) and ``pass_zero`` for an FIR design of ``kind``."""
    if kind == "notch":
        f0 = corners[0]
        half = 0.5 * f0 / notch_q
        lo, hi = f0 - half, f0 + half
        if lo <= 0 or hi >= nyquist:
            raise ParameterError(
                "notch_q",
                f"the notch {lo:g}-{hi:g} Hz (width low / notch_q) does not fit inside (0, {nyquist:g}) Hz",
                allowed="a larger notch_q",
            )
        return [lo, hi], True
    pass_zero = {"lowpass": True, "highpass": False, "bandpass": False, "bandstop": True}[kind]
    return list(corners), pass_zero


def _max_transition(cutoffs: Sequence[float], nyquist: float) -> float:
    """Widest transition band (Hz) that, centred on every cutoff, stays inside (0, Nyquist) without
    overlapping the next one."""
    gaps = [2.0 * cutoffs[0], 2.0 * (nyquist - cutoffs[-1])]
    gaps += [b - a for a, b in itertools.pairwise(cutoffs)]
    return min(gaps)


def design_filter(
    kind: str,
    *,
    dt_ms: float,
    low: float | None = None,
    high: float | None = None,
    order: int = 4,
    design: str = "butter",
    phase: str = "zero",
    ripple: float = 1.0,
    attenuation: float = 60.0,
    numtaps: int | None = None,
    notch_q: float = 30.0,
) -> FilterDesign:
    """Design the filter that :func:`filter` applies, for plots, tests and reuse.

    ``kind``: ``lowpass`` (keeps below ``high``), ``highpass`` (keeps above ``low``), ``bandpass`` /
    ``bandstop`` (between ``low`` and ``high``), ``notch`` (removes ``low``). Corners in Hz, strictly
    inside (0, Nyquist); ``dt_ms`` is the sample interval in ms.

    ``design``: IIR ``butter`` (corners at -3 dB of one pass), ``cheby1`` (passband ripple ``ripple`` dB;
    corners are passband edges), ``cheby2`` (stopband attenuation ``attenuation`` dB; corners are
    stopband edges), ``ellip`` (both; passband edges), all via :func:`scipy.signal.iirfilter` with
    ``order`` = scipy's ``N`` (band filters have ``2 * order`` poles), ``order`` in 1..16; a ``notch``
    is :func:`scipy.signal.iirnotch` with quality factor ``notch_q`` for every IIR design. FIR
    ``fir_window`` (:func:`scipy.signal.firwin`, Hamming window, corners at -6 dB) or ``fir_ls``
    (:func:`scipy.signal.firls`, transition bands centred on the corners); ``numtaps`` (odd, 3..8191)
    defaults to 3.3 x fs / transition width, with the transition half the widest that fits (``notch``:
    a band stop of width ``low / notch_q``).

    ``phase``: ``zero`` (forward-backward; applied response ``|H|^2``) or ``minimum`` (causal; IIR
    designs are minimum phase already, FIR taps are converted by :func:`scipy.signal.minimum_phase`
    keeping the magnitude response).
    """
    kind = check_choice("kind", kind, FILTER_KINDS)
    design = check_choice("design", design, DESIGNS)
    phase = check_choice("phase", phase, PHASES)
    if dt_ms is None or isinstance(dt_ms, bool) or not isinstance(dt_ms, int | float | np.number):
        raise ParameterError("dt_ms", f"must be the sample interval in ms, got {dt_ms!r}", allowed="> 0 ms")
    check_range("dt_ms", dt_ms, low=0.0, low_open=True)
    fs = 1000.0 / float(dt_ms)
    nyquist = 0.5 * fs
    corners = _corners(kind, low, high, nyquist)
    order = _integer("order", order, 1, _MAX_ORDER)
    ripple = float(check_range("ripple", ripple, low=0.0, high=20.0, low_open=True))
    attenuation = float(check_range("attenuation", attenuation, low=0.0, high=200.0, low_open=True))
    notch_q = float(check_range("notch_q", notch_q, low=0.0, high=10000.0, low_open=True))
    if design == "ellip" and attenuation <= ripple:
        raise ParameterError(
            "attenuation",
            f"{attenuation:g} dB must exceed ripple ({ripple:g} dB)",
            allowed=f"> {ripple:g} dB",
        )
    params: dict[str, Any] = {
        "kind": kind,
        "low": None if low is None else float(low),
        "high": None if high is None else float(high),
        "order": order,
        "design": design,
        "phase": phase,
        "ripple": ripple,
        "attenuation": attenuation,
        "numtaps": numtaps,
        "notch_q": notch_q,
    }
    if design in IIR_DESIGNS:
        if kind == "notch":
            b, a = ss.iirnotch(corners[0], notch_q, fs=fs)
            sos = ss.tf2sos(b, a)
        else:
            wn: float | list[float] = corners[0] if len(corners) == 1 else list(corners)
            sos = ss.iirfilter(
                order, wn, rp=ripple, rs=attenuation, btype=kind, ftype=design, output="sos", fs=fs
            )
        poles = np.concatenate([np.roots(s[3:]) for s in sos])
        if np.any(np.abs(poles) >= 1.0) or not np.isfinite(sos).all():
            raise ParameterError(
                "order", f"the {design} {kind} of order {order} is unstable; lower the order"
            )
        return FilterDesign(
            kind, design, phase, fs, params["low"], params["high"], order, sos=sos, parameters=params
        )

    cutoffs, pass_zero = _fir_bands(kind, corners, nyquist, notch_q)
    widest = _max_transition(cutoffs, nyquist)
    if numtaps is None:
        n = math.ceil(3.3 * fs / (0.5 * widest))
        numtaps = min(_MAX_NUMTAPS, max(3, n + (1 - n % 2)))
    numtaps = _integer("numtaps", numtaps, 3, _MAX_NUMTAPS)
    if numtaps % 2 == 0:
        raise ParameterError("numtaps", f"must be odd (a type I linear-phase filter), got {numtaps}")
    params["numtaps"] = numtaps
    if design == "fir_window":
        taps = ss.firwin(numtaps, cutoffs, pass_zero=pass_zero, fs=fs)
    else:
        tw = min(3.3 * fs / numtaps, 0.9 * widest)
        bands = [0.0]
        for c in cutoffs:
            bands += [c - 0.5 * tw, c + 0.5 * tw]
        bands.append(nyquist)
        level = 1.0 if pass_zero else 0.0
        desired = []
        for _ in range(len(cutoffs) + 1):
            desired += [level, level]
            level = 1.0 - level
        taps = ss.firls(numtaps, bands, desired, fs=fs)
    if phase == "minimum":
        taps = ss.minimum_phase(taps, method="homomorphic", half=False)
    return FilterDesign(
        kind,
        design,
        phase,
        fs,
        params["low"],
        params["high"],
        order,
        taps=np.asarray(taps),
        parameters=params,
    )


# =========================================================================== filter
_DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


def _resolve_device(device: str | None) -> str:
    """``None``/``"cpu"`` -> ``"cpu"``; ``"cuda[:n]"``/``"auto"`` -> that device when torch sees CUDA,
    else ``"cpu"`` (with a :class:`PromethiumWarning` when CUDA was asked for explicitly)."""
    if device is None:
        return "cpu"
    if not isinstance(device, str) or not _DEVICE_RE.match(device.strip().lower()):
        raise ParameterError(
            "device", f"unknown device {device!r}", allowed="None, 'cpu', 'auto', 'cuda', 'cuda:N'"
        )
    name = device.strip().lower()
    if name == "cpu":
        return "cpu"
    import torch  # only when a GPU is asked for

    if torch.cuda.is_available():
        target = "cuda" if name == "auto" else name
        index = int(target.split(":")[1]) if ":" in target else 0
        if index >= torch.cuda.device_count():
            raise ParameterError(
                "device", f"{device!r}: only {torch.cuda.device_count()} CUDA devices", allowed="cuda:0 ..."
            )
        return target
    if name != "auto":
        warnings.warn(
            f"device={device!r}: torch sees no CUDA device; filtering on the CPU",
            PromethiumWarning,
            stacklevel=3,
        )
    return "cpu"


def _apply_design(values: np.ndarray, fd: FilterDesign, engine: str, device: str) -> np.ndarray:
    """Run the design on ``(trace, time)`` rows with the engine chosen."""
    zero = fd.phase == "zero"
    n_samples = values.shape[1]
    if engine == "scipy":
        if fd.taps is not None:
            if zero:
                return ss.filtfilt(fd.taps, [1.0], values, axis=-1, padlen=fd.padlen(n_samples))
            return ss.lfilter(fd.taps, [1.0], values, axis=-1)
        if zero:
            return ss.sosfiltfilt(fd.sos, values, axis=-1, padlen=fd.padlen(n_samples))
        return ss.sosfilt(fd.sos, values, axis=-1)
    if engine == "fft":
        fs = fd.fs

        def response(freqs: np.ndarray) -> np.ndarray:
            return fd.single_pass(freqs * fs)

        return ff.fft_apply_torch(
            values, response, extend=fd.impulse_length(), zero_phase=zero, device=device
        )
    if fd.taps is not None:
        return ff.fir_apply(values, fd.taps, zero_phase=zero, padlen=fd.padlen(n_samples))
    assert fd.sos is not None
    zi = ss.sosfilt_zi(fd.sos) if zero else None
    return ff.sos_apply(values, fd.sos, zi, zero_phase=zero, padlen=fd.padlen(n_samples))


def filter(
    data: DataT,
    kind: str,
    *,
    low: float | None = None,
    high: float | None = None,
    order: int = 4,
    design: str = "butter",
    phase: str = "zero",
    ripple: float = 1.0,
    attenuation: float = 60.0,
    numtaps: int | None = None,
    notch_q: float = 30.0,
    dt_ms: float | None = None,
    device: str | None = None,
    engine: str = "auto",
) -> DataT:
    """Frequency-filter every trace along time.

    ``kind``, corners (``low``/``high`` in Hz, strictly inside (0, Nyquist), ``low < high``), ``order``,
    ``design``, ``ripple`` (dB), ``attenuation`` (dB), ``numtaps``, ``notch_q`` and ``phase`` are those of
    :func:`design_filter`. ``phase="zero"`` filters forward and backward like
    :func:`scipy.signal.sosfiltfilt` / :func:`scipy.signal.filtfilt` (odd extension of scipy's default
    length, limited to the trace length minus one); ``"minimum"`` filters causally from rest.

    ``engine``: ``"fast"`` (CPU; numba kernel for IIR, equal to ``sosfiltfilt``/``sosfilt`` to float64
    rounding and several times faster; FFT convolution for FIR, equal to ``filtfilt``/``lfilter``),
    ``"scipy"`` (the scipy functions themselves, for comparison), ``"fft"`` (spectrum times the response
    on the FFT grid with :mod:`torch.fft`; equal to the others away from the first and last
    impulse-response lengths of a trace, where only the edge extension differs) or ``"auto"`` (``"fft"``
    on a CUDA device, ``"fast"`` otherwise). ``device``: ``None``/``"cpu"``, ``"cuda"``, ``"cuda:N"`` or
    ``"auto"``; asking for CUDA where torch has none warns and filters on the CPU.
    """
    dtype = _dtype_of(data)
    prep = prepare(data, dt_ms=dt_ms, dtype=dtype)
    engine = check_choice("engine", engine, ENGINES)
    fd = design_filter(
        kind,
        dt_ms=prep.require_dt() * 1000.0,
        low=low,
        high=high,
        order=order,
        design=design,
        phase=phase,
        ripple=ripple,
        attenuation=attenuation,
        numtaps=numtaps,
        notch_q=notch_q,
    )
    dev = _resolve_device(device)
    if engine == "auto":
        engine = "fft" if dev.startswith("cuda") else "fast"
    elif engine in ("fast", "scipy") and dev != "cpu":
        raise ParameterError(
            "engine", f"{engine!r} runs on the CPU, not on {dev}", allowed="'fft' or 'auto' on a CUDA device"
        )
    flat = _flat(prep)
    out = _apply_design(flat, fd, engine, dev).astype(dtype, copy=False).reshape(prep.values.shape)
    params = {**fd.parameters, "device": dev, "engine": engine}
    return cast(DataT, finish(prep, out, "signal.filter", params))


# =========================================================================== gain and AGC
def _window_mean(v: np.ndarray, half: int) -> np.ndarray:
    """Mean of ``v`` over ``[i - half, i + half]`` along the last axis, the window cut at the trace ends
    (mean over the samples available). Cumulative sums in float64: O(n) whatever the window; scipy's
    ``uniform_filter1d`` pads instead of shrinking the window at the ends, hence the hand-written one."""
    n = v.shape[-1]
    c = np.zeros((*v.shape[:-1], n + 1))
    np.cumsum(v, axis=-1, out=c[..., 1:])
    i = np.arange(n)
    lo = np.maximum(i - half, 0)
    hi = np.minimum(i + half + 1, n)
    return (c[..., hi] - c[..., lo]) / (hi - lo)


AGC_KINDS = ("rms", "mean", "instantaneous")


def _hilbert_taps(half: int) -> np.ndarray:
    """A Hamming-windowed Hilbert transformer of ``2 * half + 1`` taps (``2 / (pi n)`` at odd ``n``).

    Hand-written because the envelope must stay local: :func:`scipy.signal.hilbert` works on the whole
    trace, and its ``1 / t`` tails carry strong late arrivals into the envelope of weak early ones."""
    n = np.arange(-half, half + 1)
    taps = np.zeros(n.size)
    odd = n % 2 != 0
    taps[odd] = 2.0 / (np.pi * n[odd])
    return taps * np.hamming(n.size)


def agc(
    data: DataT,
    window_ms: float = 500.0,
    *,
    kind: str = "rms",
    dt_ms: float | None = None,
) -> DataT:
    """Automatic gain control: divide every sample by the amplitude of a centred sliding window.

    ``window_ms``: window length in ms (rounded to an odd number of samples, at least one; shortened at
    the trace ends to the samples available). ``kind``: ``rms`` (root-mean-square amplitude: the output
    has unit RMS in every window), ``mean`` (mean absolute amplitude) or ``instantaneous`` (windowed mean
    of the envelope ``sqrt(x^2 + H[x]^2)``, ``H`` a windowed Hilbert transformer as long as the window,
    at least 31 taps). Windows more than 120 dB weaker than the strongest window of their
    trace are scaled as that floor (no blow-up of round-off), and all-zero traces stay zero.
    """
    dtype = _dtype_of(data)
    prep = prepare(data, dt_ms=dt_ms, dtype=None)
    kind = check_choice("kind", kind, AGC_KINDS)
    dt = prep.require_dt()
    window_ms = float(check_range("window_ms", window_ms, low=0.0, low_open=True))
    samples = round(window_ms / (dt * 1000.0))
    half = max(0, samples // 2)
    hilbert = _hilbert_taps(max(half, 15)) if kind == "instantaneous" else None
    out = np.empty(prep.values.shape, dtype=dtype)
    flat_in, flat_out = _flat(prep), out.reshape(-1, prep.n_samples)
    # Trace by trace in float64, a block of traces at a time: the temporaries stay small.
    for rows in _blocks(prep):
        flat_out[rows] = _agc_block(flat_in[rows].astype(np.float64), half, kind, hilbert)
    params = {"window_ms": window_ms, "kind": kind, "window_samples": 2 * half + 1}
    return cast(DataT, finish(prep, out, "signal.agc", params))


def _agc_block(x: np.ndarray, half: int, kind: str, hilbert: np.ndarray | None) -> np.ndarray:
    """AGC of the float64 rows ``x`` (see :func:`agc`)."""
    # Each trace is first scaled to a peak of 1: the gain is then exactly scale-invariant, and squares of
    # very small (or very large) amplitudes can neither underflow to zero nor overflow.
    peak = np.abs(x).max(axis=-1, keepdims=True)
    x = np.divide(x, peak, out=np.zeros_like(x), where=peak > 0)
    if kind == "rms":
        scale = np.sqrt(np.maximum(_window_mean(x * x, half), 0.0))
    elif kind == "mean":
        scale = np.maximum(_window_mean(np.abs(x), half), 0.0)
    else:
        quadrature = ndimage.convolve1d(x, hilbert, axis=-1, mode="reflect")
        envelope = np.sqrt(x * x + quadrature * quadrature)
        scale = np.maximum(_window_mean(envelope, half), 0.0)
    floor = 1e-6 * scale.max(axis=-1, keepdims=True)
    scale = np.maximum(scale, floor)
    return np.divide(x, scale, out=np.zeros_like(x), where=scale > 0)


GAIN_KINDS = ("tpow", "exp")


def gain(
    data: DataT,
    kind: str = "tpow",
    *,
    power: float = 2.0,
    alpha: float = 1.0,
    dt_ms: float | None = None,
) -> DataT:
    """Gain recovery: multiply every sample by ``t ** power`` (``tpow``) or ``exp(alpha * t)`` (``exp``).

    ``t`` is the sample time in seconds (from the data's time axis for SeismicData, ``i * dt`` for
    arrays), so a sample at 0 s is zeroed by ``tpow`` with ``power > 0``. ``power`` in [0, 10],
    ``alpha`` in [-100, 100] 1/s. A gain that overflows the data's dtype raises ParameterError.
    """
    dtype = _dtype_of(data)
    prep = prepare(data, dt_ms=dt_ms, dtype=None)
    kind = check_choice("kind", kind, GAIN_KINDS)
    power = float(check_range("power", power, low=0.0, high=10.0))
    alpha = float(check_range("alpha", alpha, low=-100.0, high=100.0))
    t = _times_ms(prep) / 1000.0
    if kind == "tpow":
        if np.any(t < 0):
            raise DataError("gain: tpow needs non-negative sample times; the time axis starts before 0")
        g = t**power
        name = "power"
    else:
        with np.errstate(over="ignore"):
            g = np.exp(alpha * t)
        name = "alpha"
    limit = np.finfo(dtype).max
    out = np.empty(prep.values.shape, dtype=dtype)
    flat_in, flat_out = _flat(prep), out.reshape(-1, prep.n_samples)
    for rows in _blocks(prep):
        with np.errstate(over="ignore", invalid="ignore"):
            block = flat_in[rows] * g  # float64, as g is
        if not np.isfinite(block).all() or np.abs(block).max() > limit:
            raise ParameterError(name, f"the {kind} gain overflows {np.dtype(dtype).name} on these data")
        flat_out[rows] = block
    params = {"kind": kind, "power": power, "alpha": alpha}
    return cast(DataT, finish(prep, out, "signal.gain", params))


# =========================================================================== mute and taper
MUTE_KINDS = ("top", "bottom")


def _trace_offsets(prep: Prepared, offsets: Any) -> np.ndarray:
    if offsets is None and prep.source is not None:
        ds = prep.source.dataset
        trace_dims = prep.source.trace_dims
        if "offset" in ds.coords and tuple(ds["offset"].dims) == trace_dims:
            offsets = np.asarray(ds["offset"].values)
        elif "offset" in prep.source.header_names:
            offsets = prep.source.header("offset")
    if offsets is None:
        raise ParameterError("offsets", "needed with velocity (source-receiver offsets in m, one per trace)")
    try:
        arr = np.broadcast_to(np.asarray(offsets, dtype=np.float64), prep.trace_shape)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            "offsets",
            f"cannot be matched to the {prep.trace_shape} traces",
            allowed=f"shape {prep.trace_shape}",
        ) from exc
    if not np.isfinite(arr).all():
        raise ParameterError("offsets", "must be finite")
    return arr


def mute(
    data: DataT,
    kind: str = "top",
    *,
    times_ms: float | np.ndarray | None = None,
    velocity: float | None = None,
    offsets: np.ndarray | None = None,
    t0_ms: float = 0.0,
    taper_ms: float = 20.0,
    dt_ms: float | None = None,
) -> DataT:
    """Zero the samples before (``top``) or after (``bottom``) a mute time per trace, with a taper.

    Mute times (ms, on the data's time axis) are ``times_ms`` (a scalar or one per trace, shape of the
    trace axes) or the linear moveout ``t0_ms + 1000 * |offset| / velocity`` (``velocity`` in m/s,
    ``offsets`` in m; for SeismicData the ``offset`` coordinate or header by default). ``top``: weight 0
    up to the mute time, rising (half-cosine) to 1 over the next ``taper_ms``; ``bottom``: 1 until
    ``taper_ms`` before the mute time, 0 after it. ``taper_ms = 0`` is a hard mute.
    """
    prep = prepare(data, dt_ms=dt_ms, dtype=None)
    dtype = _dtype_of(data)
    kind = check_choice("kind", kind, MUTE_KINDS)
    taper_ms = float(check_range("taper_ms", taper_ms, low=0.0))
    t0_ms = float(check_range("t0_ms", t0_ms))
    t = _times_ms(prep)
    if (times_ms is None) == (velocity is None):
        raise ParameterError(
            "times_ms", "give either times_ms or velocity (with offsets), not both or neither"
        )
    params: dict[str, Any] = {"kind": kind, "taper_ms": taper_ms}
    if times_ms is not None:
        try:
            tm = np.broadcast_to(np.asarray(times_ms, dtype=np.float64), prep.trace_shape)
        except (ValueError, TypeError) as exc:
            raise ParameterError(
                "times_ms",
                f"cannot be matched to the {prep.trace_shape} traces",
                allowed=f"a scalar or shape {prep.trace_shape}",
            ) from exc
        if not np.isfinite(tm).all():
            raise ParameterError("times_ms", "must be finite")
        params["times_ms"] = np.asarray(times_ms)
    else:
        v = float(check_range("velocity", velocity, low=0.0, low_open=True))  # type: ignore[arg-type]
        tm = t0_ms + 1000.0 * np.abs(_trace_offsets(prep, offsets)) / v
        params.update(velocity=v, t0_ms=t0_ms)
    out = np.empty(prep.values.shape, dtype=dtype)
    flat_in, flat_out = _flat(prep), out.reshape(-1, prep.n_samples)
    flat_tm = tm.reshape(-1)
    for rows in _blocks(prep):
        tb = flat_tm[rows, None]
        dist = t - tb if kind == "top" else tb - t
        if taper_ms > 0:
            r = np.clip(dist / taper_ms, 0.0, 1.0)
            weight = 0.5 - 0.5 * np.cos(np.pi * r)
        else:
            weight = (dist >= 0).astype(np.float64)
        flat_out[rows] = flat_in[rows] * weight
    return cast(DataT, finish(prep, out, "signal.mute", params))


TAPER_KINDS = ("hann", "cosine", "linear")
TAPER_AXES = ("time", "trace")
TAPER_ENDS = ("both", "start", "end")


def _ramp(length: int, kind: str) -> np.ndarray:
    """Weights of the ``length`` samples at an edge: ``r = i / length``, hann ``sin^2(pi r / 2)``,
    cosine ``sin(pi r / 2)``, linear ``r`` (the edge sample itself gets 0)."""
    r = np.arange(length, dtype=np.float64) / max(length, 1)
    if kind == "hann":
        return np.asarray(np.sin(0.5 * np.pi * r) ** 2)
    if kind == "cosine":
        return np.asarray(np.sin(0.5 * np.pi * r))
    return r


def _edge_weights(n: int, length: int, kind: str, ends: str) -> np.ndarray:
    w = np.ones(n)
    ramp = _ramp(length, kind)
    if length and ends in ("both", "start"):
        w[:length] *= ramp
    if length and ends in ("both", "end"):
        w[n - length :] *= ramp[::-1]
    return w


def taper(
    data: DataT,
    axis: str = "time",
    *,
    length: int | None = None,
    kind: str = "hann",
    ends: str = "both",
) -> DataT:
    """Taper the ends of the time axis or of the trace axes.

    ``length``: samples (``axis="time"``) or traces (``axis="trace"``; both inline and crossline for a
    volume) tapered at each end, at most half the axis; default 10% of the axis. ``kind``: ``hann``
    (weights ``sin^2(pi i / 2L)``, a Tukey window), ``cosine`` (``sin(pi i / 2L)``) or ``linear``
    (``i / L``), for ``i = 0 .. L - 1`` counted from the edge. ``ends``: ``both``, ``start`` or ``end``.
    """
    prep = prepare(data, dtype=None)
    dtype = _dtype_of(data)
    axis = check_choice("axis", axis, TAPER_AXES)
    kind = check_choice("kind", kind, TAPER_KINDS)
    ends = check_choice("ends", ends, TAPER_ENDS)
    axes = [prep.values.ndim - 1] if axis == "time" else list(range(prep.values.ndim - 1))
    if prep.squeeze and axis == "trace":
        raise ParameterError("axis", "a single trace has no trace axis to taper", allowed="time")
    shortest = min(prep.values.shape[a] for a in axes)
    if length is None:
        length = max(1, shortest // 10) if shortest > 1 else 0
    length = _integer("length", length, 0, shortest // 2)
    x = prep.values
    weights = []
    for a in axes:
        shape = [1] * x.ndim
        shape[a] = x.shape[a]
        weights.append(_edge_weights(x.shape[a], length, kind, ends).reshape(shape))
    out = np.empty(x.shape, dtype=dtype)
    # In float64, a block along the first axis at a time (the weights of that axis sliced alike).
    for rows in row_blocks(x.shape[0], 8 * (x.size // x.shape[0])):
        block = x[rows].astype(np.float64)
        for a, w in zip(axes, weights, strict=True):
            block *= w[rows] if a == 0 else w
        out[rows] = block
    params = {"axis": axis, "length": length, "kind": kind, "ends": ends}
    return cast(DataT, finish(prep, out, "signal.taper", params))


# =========================================================================== median filter
MEDIAN_MODES = ("reflect", "nearest", "mirror", "constant", "wrap")


def _median_size(size: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        sizes: list[Any] = [size] * ndim
    elif isinstance(size, Sequence) and len(size) in (2, ndim):
        sizes = list(size)
        if len(sizes) == 2 and ndim == 3:
            sizes = [sizes[0], sizes[0], sizes[1]]
    else:
        raise ParameterError(
            "size", f"must be an int or (traces, samples), got {size!r}", allowed="positive odd integers"
        )
    for s in sizes:
        _integer("size", s, 1, 10001)
    return tuple(int(s) for s in sizes)


def median_filter(
    data: DataT,
    size: int | Sequence[int] = (3, 3),
    *,
    threshold: float | None = None,
    mode: str = "reflect",
) -> DataT:
    """Median filter over (traces, samples), or running-median spike removal (Hampel filter).

    ``size``: window in traces and samples (``(traces, samples)``; for a volume the trace size applies
    to inline and crossline, or give three sizes; an int applies to every axis). ``mode``: edge handling,
    as in :func:`scipy.ndimage.median_filter`. ``threshold=None``: every sample is replaced by the median
    of its window (:func:`scipy.ndimage.median_filter`). ``threshold=k``: despiking: a sample is replaced
    by its window median only where it lies more than ``k`` robust standard deviations (1.4826 x the
    median absolute deviation of its window from that median) away from it; the others are kept exactly.
    """
    prep = prepare(data)
    dtype = _dtype_of(data)
    mode = check_choice("mode", mode, MEDIAN_MODES)
    sizes = _median_size(size, prep.values.ndim)
    if threshold is not None:
        threshold = float(check_range("threshold", threshold, low=0.0, low_open=True))
    x = prep.values
    params: dict[str, Any] = {"size": list(sizes), "threshold": threshold, "mode": mode}
    if threshold is None:
        out = ndimage.median_filter(x, size=sizes, mode=mode)
    else:
        out, n_spikes = _hampel(x, sizes, mode, threshold)
        params["n_spikes"] = n_spikes
    return cast(
        DataT, finish(prep, np.asarray(out).astype(dtype, copy=False), "signal.median_filter", params)
    )


#: scipy.ndimage edge modes as numpy.pad modes.
_PAD_MODES = {
    "reflect": "symmetric",
    "mirror": "reflect",
    "nearest": "edge",
    "constant": "constant",
    "wrap": "wrap",
}


def _hampel(x: np.ndarray, sizes: tuple[int, ...], mode: str, threshold: float) -> tuple[np.ndarray, int]:
    """Hampel identifier over ``sizes`` windows (centred as scipy.ndimage centres them).

    Hand-written: scipy has no windowed median absolute deviation, and the MAD of the residuals
    ``x - median_filter(x)`` is no substitute (on smooth data most residuals are exactly 0). Windows are
    materialised with ``sliding_window_view``, in chunks of the first axis to bound the memory."""
    pad = [(s // 2, s - 1 - s // 2) for s in sizes]
    xp = np.pad(x, pad, mode=_PAD_MODES[mode])  # type: ignore[call-overload]
    windows = np.lib.stride_tricks.sliding_window_view(xp, sizes)
    out = x.copy()
    per_row = int(np.prod(x.shape[1:])) * int(np.prod(sizes))
    step = max(1, (1 << 24) // max(per_row, 1))
    n_spikes = 0
    for a in range(0, x.shape[0], step):
        b = min(x.shape[0], a + step)
        win = windows[a:b].reshape(b - a, *x.shape[1:], -1)
        med = np.median(win, axis=-1)
        mad = np.median(np.abs(win - med[..., None]), axis=-1)
        spikes = np.abs(x[a:b] - med) > threshold * 1.4826 * mad
        out[a:b][spikes] = med[spikes]
        n_spikes += int(spikes.sum())
    return out, n_spikes


# =========================================================================== f-k filter
FK_KINDS = ("pass", "reject")


def _dip_weight(p: np.ndarray, lo: float, hi: float, width: float) -> np.ndarray:
    """1 for ``lo <= p <= hi``, falling to 0 with a half-cosine over ``width`` outside (0 if width 0)."""
    below = np.where(p < lo, lo - p, 0.0)
    above = np.where(p > hi, p - hi, 0.0)
    dist = below + above
    if width <= 0:
        return (dist == 0).astype(np.float64)
    r = np.clip(dist / width, 0.0, 1.0)
    return np.asarray(np.cos(0.5 * np.pi * r) ** 2)


def _pair(name: str, value: Any) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, f"must be a pair (min, max), got {value!r}") from exc
    return a, b


def fk_filter(
    data: DataT,
    kind: str = "reject",
    *,
    dips: tuple[float, float] | None = None,
    velocities: tuple[float, float] | None = None,
    trace_spacing: float | None = None,
    taper: float | None = None,
    pad: float = 0.5,
    dt_ms: float | None = None,
) -> DataT:
    """Dip (f-k) filter: keep (``pass``) or remove (``reject``) the events whose dip is in a range.

    2D data ``(trace, time)`` are filtered as one section, a volume inline by inline (over crossline
    and time). The range is ``dips=(min, max)`` in ms per trace (signed: positive when time increases
    with the trace number; an event ``t = t0 + d * trace`` has dip ``d``), or ``velocities=(vmin, vmax)``
    apparent velocities in m/s (``vmax`` may be ``inf``) with ``trace_spacing`` in m, which selects
    both dip signs: ``1000 * spacing / vmax <= |dip| <= 1000 * spacing / vmin``.

    Every f-k sample is weighted by its dip ``-1000 k / f`` (``k`` in cycles per trace, ``f`` in Hz): 1
    inside the range, falling to 0 with a half-cosine over ``taper`` ms/trace outside (default a quarter
    of the range width or of the sample interval, whichever is larger); ``reject`` uses 1 minus that.
    Traces and samples are zero-padded by the fraction ``pad`` against wrap-around. Dips beyond
    ``0.5 / f`` s per trace are spatially aliased and appear at the wrong dip.
    """
    prep = prepare(data, dt_ms=dt_ms)
    dtype = _dtype_of(data)
    kind = check_choice("kind", kind, FK_KINDS)
    if prep.squeeze:
        raise DataError("fk_filter: needs several traces (2D or 3D data), got one trace")
    dt_ms_used = prep.require_dt() * 1000.0
    if (dips is None) == (velocities is None):
        raise ParameterError(
            "dips", "give either dips=(min, max) in ms/trace or velocities=(vmin, vmax) in m/s"
        )
    symmetric = velocities is not None
    if dips is not None:
        lo, hi = _pair("dips", dips)
        check_range("dips", lo, low=-1e6, high=1e6)
        check_range("dips", hi, low=-1e6, high=1e6)
        if hi < lo:
            raise ParameterError(
                "dips", f"min {lo:g} exceeds max {hi:g}", allowed="min <= max (ms per trace)"
            )
        params: dict[str, Any] = {"kind": kind, "dips": [lo, hi]}
    else:
        vmin, vmax = _pair("velocities", velocities)
        check_range("velocities", vmin, low=0.0, low_open=True)
        if not (vmax > 0) or math.isnan(vmax):
            raise ParameterError("velocities", f"max must be positive (inf allowed), got {vmax}")
        if vmax < vmin:
            raise ParameterError(
                "velocities", f"min {vmin:g} exceeds max {vmax:g}", allowed="min <= max (m/s)"
            )
        if trace_spacing is None:
            raise ParameterError("trace_spacing", "needed with velocities (distance between traces in m)")
        dx = float(check_range("trace_spacing", trace_spacing, low=0.0, low_open=True))
        lo = 0.0 if math.isinf(vmax) else 1000.0 * dx / vmax
        hi = 1000.0 * dx / vmin
        params = {"kind": kind, "velocities": [vmin, vmax], "trace_spacing": dx, "dips": [lo, hi]}
    if taper is None:
        taper = max(0.25 * (hi - lo), 0.25 * dt_ms_used)
    taper = float(check_range("taper", taper, low=0.0))
    pad = float(check_range("pad", pad, low=0.0, high=4.0))
    params.update(taper=taper, pad=pad)

    x = prep.values
    n_tr, n_s = x.shape[-2], x.shape[-1]
    nt = sfft.next_fast_len(math.ceil(n_s * (1 + pad)), real=True)
    nx = sfft.next_fast_len(math.ceil(n_tr * (1 + pad)))
    spec = sfft.rfft(x, n=nt, axis=-1, workers=-1)
    spec = sfft.fft(spec, n=nx, axis=-2, workers=-1, overwrite_x=True)
    f = sfft.rfftfreq(nt, dt_ms_used / 1000.0)
    k = sfft.fftfreq(nx)
    with np.errstate(divide="ignore", invalid="ignore"):
        dip = np.where(f[None, :] > 0, -1000.0 * k[:, None] / f[None, :], np.sign(-k)[:, None] * np.inf)
    dip[0, 0] = 0.0
    if symmetric:
        dip = np.abs(dip)
    weight = _dip_weight(dip, lo, hi, taper)
    if kind == "reject":
        weight = 1.0 - weight
    spec *= weight
    back = sfft.ifft(spec, axis=-2, workers=-1, overwrite_x=True)[..., :n_tr, :]
    out = sfft.irfft(back, n=nt, axis=-1, workers=-1)[..., :n_s]
    return cast(
        DataT, finish(prep, np.ascontiguousarray(out).astype(dtype, copy=False), "signal.fk_filter", params)
    )
