"""Kernels behind :func:`promethium.signal.filters.filter`: the fast paths and the frequency-domain path.

Three ways of applying a designed filter to traces laid out ``(trace, time)``:

- :func:`sos_apply`: a numba kernel that runs second-order sections exactly as
  :func:`scipy.signal.sosfiltfilt` (zero phase: odd extension of ``padlen`` samples, steady-state initial
  conditions scaled by the first sample, forward then backward pass) or :func:`scipy.signal.sosfilt`
  (causal, zero initial state) do, to float64 rounding. scipy runs one trace at a time through a scalar
  recursion; the recursion cannot be vectorised along time, so the kernel is hand-written to vectorise it
  *across* traces instead: blocks of :data:`BLOCK` traces are transposed into a small time-major buffer
  that stays in cache, and every section update is a SIMD operation over the block (about 5-10x faster
  than ``sosfiltfilt`` on two cores, float64 arithmetic whatever the input dtype).
- :func:`fir_apply`: ``filtfilt(taps, 1)`` / ``lfilter(taps, 1)`` reproduced with FFT convolutions
  (``scipy.fft``, ``workers=-1``). For an FIR filter the steady-state initial conditions of ``filtfilt``
  equal a history of ``len(taps) - 1`` copies of the first sample, so the exact result is a "valid"
  convolution of the pre-extended trace; scipy's ``filtfilt`` has no FFT path, hence the hand-written one.
- :func:`fft_apply_torch`: multiplication of the spectrum by the filter's response sampled on the FFT
  grid (``|H|^2`` for zero phase, ``H`` for causal) with :mod:`torch.fft`, on the CPU or a CUDA device.
  The trace is extended (odd extension) by the impulse-response length, so that the result equals the
  time-domain one away from the first and last impulse-response lengths of the trace.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import scipy.fft as sfft

__all__ = [
    "BLOCK",
    "PARALLEL_MIN_SAMPLES",
    "fft_apply_torch",
    "filtfilt_padlen",
    "fir_apply",
    "odd_extend",
    "sos_apply",
    "sosfiltfilt_padlen",
]

#: Traces filtered together by the numba kernel (16 float64 lanes: four AVX2 registers per section).
BLOCK = 16


def sosfiltfilt_padlen(sos: np.ndarray, n_samples: int) -> int:
    """The ``padlen`` :func:`scipy.signal.sosfiltfilt` uses by default, limited to ``n_samples - 1``.

    scipy refuses traces not longer than its padding; here the padding shrinks instead."""
    n_sections = sos.shape[0]
    ntaps = 2 * n_sections + 1
    ntaps -= min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return max(0, min(3 * ntaps, n_samples - 1))


def filtfilt_padlen(taps: np.ndarray, n_samples: int) -> int:
    """The ``padlen`` of :func:`scipy.signal.filtfilt` for an FIR filter, limited to ``n_samples - 1``."""
    return max(0, min(3 * len(taps), n_samples - 1))


@nb.njit(cache=True, boundscheck=False)
def _sos_block(
    x: np.ndarray,
    sos: np.ndarray,
    zi: np.ndarray,
    pad: int,
    zero_phase: bool,
    out: np.ndarray,
    i0: int,
) -> None:  # pragma: no cover - compiled by numba; tested through sos_apply
    """Filter traces ``i0 .. i0 + BLOCK - 1`` (those that exist) of ``x`` into ``out``."""
    n_traces, n_samples = x.shape
    n_sections = sos.shape[0]
    n = n_samples + 2 * pad
    count = min(BLOCK, n_traces - i0)
    # Time-major copy of the block, odd-extended by `pad` samples on each side (scipy's odd_ext).
    buf = np.zeros((n, BLOCK))
    for k in range(count):
        for t in range(n_samples):
            buf[pad + t, k] = x[i0 + k, t]
        first = buf[pad, k]
        last = buf[pad + n_samples - 1, k]
        for j in range(1, pad + 1):
            buf[pad - j, k] = 2.0 * first - buf[pad + j, k]
            buf[pad + n_samples - 1 + j, k] = 2.0 * last - buf[pad + n_samples - 1 - j, k]
    z0 = np.zeros((n_sections, BLOCK))
    z1 = np.zeros((n_sections, BLOCK))
    n_passes = 2 if zero_phase else 1
    for p in range(n_passes):
        start = 0 if p == 0 else n - 1
        step = 1 if p == 0 else -1
        if zero_phase:
            # sosfilt_zi * first sample of the pass, as sosfiltfilt does.
            for s in range(n_sections):
                for k in range(BLOCK):
                    z0[s, k] = zi[s, 0] * buf[start, k]
                    z1[s, k] = zi[s, 1] * buf[start, k]
        for tt in range(n):
            t = start + step * tt
            for s in range(n_sections):
                b0 = sos[s, 0]
                b1 = sos[s, 1]
                b2 = sos[s, 2]
                a1 = sos[s, 4]
                a2 = sos[s, 5]
                # Direct form II transposed, the recursion of scipy's sosfilt; SIMD over the block.
                for k in range(BLOCK):
                    xv = buf[t, k]
                    yv = b0 * xv + z0[s, k]
                    z0[s, k] = b1 * xv - a1 * yv + z1[s, k]
                    z1[s, k] = b2 * xv - a2 * yv
                    buf[t, k] = yv
    for k in range(count):
        for t in range(n_samples):
            out[i0 + k, t] = buf[pad + t, k]


@nb.njit(parallel=True, cache=True)
def _sos_parallel(
    x: np.ndarray, sos: np.ndarray, zi: np.ndarray, pad: int, zero_phase: bool, out: np.ndarray
) -> None:  # pragma: no cover - compiled by numba
    n_blocks = (x.shape[0] + BLOCK - 1) // BLOCK
    for block in nb.prange(n_blocks):
        _sos_block(x, sos, zi, pad, zero_phase, out, block * BLOCK)


@nb.njit(cache=True)
def _sos_serial(
    x: np.ndarray, sos: np.ndarray, zi: np.ndarray, pad: int, zero_phase: bool, out: np.ndarray
) -> None:  # pragma: no cover - compiled by numba
    n_blocks = (x.shape[0] + BLOCK - 1) // BLOCK
    for block in range(n_blocks):
        _sos_block(x, sos, zi, pad, zero_phase, out, block * BLOCK)


#: Below this many samples (traces x samples) the kernel runs on one thread: waking the thread pool
#: costs more than it saves.
PARALLEL_MIN_SAMPLES = 1 << 18


def sos_apply(
    x: np.ndarray, sos: np.ndarray, zi: np.ndarray | None, *, zero_phase: bool, padlen: int
) -> np.ndarray:
    """Filter the rows of ``x`` (``(trace, time)``, float32 or float64) with second-order sections.

    ``zero_phase``: as ``sosfiltfilt(sos, x, padlen=padlen)`` (``zi`` = ``sosfilt_zi(sos)``); otherwise as
    ``sosfilt(sos, x)``. The result has the dtype of ``x``; arithmetic is float64."""
    x = np.ascontiguousarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    # a0 is 1 in every section scipy designs; normalise anyway so that the kernel may assume it.
    sos = sos / sos[:, 3:4]
    zi_arr = np.zeros((sos.shape[0], 2)) if zi is None else np.ascontiguousarray(zi, dtype=np.float64)
    out = np.empty_like(x)
    pad = int(padlen) if zero_phase else 0
    kernel = _sos_parallel if x.size >= PARALLEL_MIN_SAMPLES and x.shape[0] > BLOCK else _sos_serial
    kernel(x, sos, zi_arr, pad, bool(zero_phase), out)
    return out


def odd_extend(x: np.ndarray, pad: int) -> np.ndarray:
    """``scipy.signal``'s odd extension of the rows of ``x`` by ``pad`` (< n_samples) samples each side."""
    if pad <= 0:
        return x
    left = 2.0 * x[:, :1] - x[:, pad:0:-1]
    right = 2.0 * x[:, -1:] - x[:, -2 : -(pad + 2) : -1]
    return np.concatenate([left, x, right], axis=1)


def _steady_fir(u: np.ndarray, taps: np.ndarray, taps_spec: np.ndarray, nfft: int) -> np.ndarray:
    """``lfilter(taps, 1, u, zi=lfilter_zi(taps, 1) * u[:, :1])`` along rows, by FFT convolution."""
    m = len(taps)
    length = u.shape[1]
    history = np.repeat(u[:, :1], m - 1, axis=1)
    ext = np.concatenate([history, u], axis=1)
    spec = sfft.rfft(ext, n=nfft, axis=1, workers=-1)
    spec *= taps_spec
    y = sfft.irfft(spec, n=nfft, axis=1, workers=-1)
    return y[:, m - 1 : m - 1 + length]


def fir_apply(x: np.ndarray, taps: np.ndarray, *, zero_phase: bool, padlen: int) -> np.ndarray:
    """Filter the rows of ``x`` with an FIR filter: ``filtfilt(taps, 1, x, padlen=padlen)`` when
    ``zero_phase``, otherwise ``lfilter(taps, 1, x)``; computed with FFT convolutions in float64."""
    work = np.asarray(x, dtype=np.float64)
    taps = np.asarray(taps, dtype=np.float64)
    m = len(taps)
    n_samples = work.shape[1]
    if not zero_phase:
        nfft = sfft.next_fast_len(n_samples + m - 1, real=True)
        spec = sfft.rfft(work, n=nfft, axis=1, workers=-1)
        spec *= sfft.rfft(taps, n=nfft)
        y = sfft.irfft(spec, n=nfft, axis=1, workers=-1)[:, :n_samples]
        return y.astype(x.dtype, copy=False)
    ext = odd_extend(work, padlen)
    length = ext.shape[1]
    nfft = sfft.next_fast_len(length + m - 1, real=True)
    taps_spec = sfft.rfft(taps, n=nfft)
    y = _steady_fir(ext, taps, taps_spec, nfft)
    y = _steady_fir(y[:, ::-1], taps, taps_spec, nfft)[:, ::-1]
    return np.ascontiguousarray(y[:, padlen : padlen + n_samples]).astype(x.dtype, copy=False)


def fft_apply_torch(
    x: np.ndarray,
    response: Any,
    *,
    extend: int,
    zero_phase: bool,
    device: str,
    max_bytes: int = 1 << 30,
) -> np.ndarray:
    """Filter the rows of ``x`` in the frequency domain with :mod:`torch.fft` on ``device``.

    ``response(freqs_cycles_per_sample) -> complex ndarray`` is the filter's frequency response ``H``;
    the spectrum is multiplied by ``|H|^2`` (zero phase) or ``H`` (causal). ``extend``: samples of
    extension, at least the impulse-response length. Zero phase extends both ends (odd extension, held
    constant beyond ``n_samples - 1`` samples); causal filtering appends ``extend`` zeros, which makes the
    circular convolution a linear one with zero initial state. Rows are processed in chunks of at most
    ``max_bytes`` of complex spectrum. float32 arithmetic for float32 input, float64 otherwise."""
    import torch  # imported here: torch is heavy and only this path needs it

    n_traces, n_samples = x.shape
    real_dtype = torch.float32 if x.dtype == np.float32 else torch.float64
    complex_dtype = torch.complex64 if x.dtype == np.float32 else torch.complex128
    if zero_phase:
        nfft = sfft.next_fast_len(n_samples + 2 * extend, real=True)
    else:
        nfft = sfft.next_fast_len(n_samples + extend, real=True)
    freqs = np.arange(nfft // 2 + 1) / nfft
    h = np.asarray(response(freqs))
    mult_np = (np.abs(h) ** 2).astype(np.complex128) if zero_phase else h.astype(np.complex128)
    dev = torch.device(device)
    mult = torch.as_tensor(mult_np, dtype=complex_dtype, device=dev)
    item = 16 if complex_dtype == torch.complex128 else 8
    chunk = max(1, int(max_bytes // max(1, 3 * (nfft // 2 + 1) * item)))
    out = np.empty_like(x)
    reflect = min(extend, n_samples - 1)
    for a in range(0, n_traces, chunk):
        b = min(n_traces, a + chunk)
        xt = torch.as_tensor(np.ascontiguousarray(x[a:b]), device=dev).to(real_dtype)
        if zero_phase:
            parts = [xt]
            if extend > 0:
                first = xt[:, :1]
                last = xt[:, -1:]
                left = 2.0 * first - torch.flip(xt[:, 1 : reflect + 1], dims=[1])
                right = 2.0 * last - torch.flip(xt[:, n_samples - 1 - reflect : n_samples - 1], dims=[1])
                hold = extend - reflect
                if hold > 0:
                    left = torch.cat([left[:, :1].expand(-1, hold), left], dim=1)
                    right = torch.cat([right, right[:, -1:].expand(-1, hold)], dim=1)
                parts = [left, xt, right]
            ext = torch.cat(parts, dim=1)
            spec = torch.fft.rfft(ext, n=nfft, dim=1)
            y = torch.fft.irfft(spec * mult, n=nfft, dim=1)[:, extend : extend + n_samples]
        else:
            spec = torch.fft.rfft(xt, n=nfft, dim=1)
            y = torch.fft.irfft(spec * mult, n=nfft, dim=1)[:, :n_samples]
        out[a:b] = y.cpu().numpy().astype(x.dtype, copy=False)
    return out
