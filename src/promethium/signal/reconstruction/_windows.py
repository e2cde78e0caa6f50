"""Overlapping windows with smooth blending, over any of the axes of an array.

Classical reconstruction assumes that events are locally linear (f-x methods, rank reduction) or
sparse in some transform (POCS, FISTA); both hold in windows, not across a whole survey. The data are
cut into windows that overlap, each window is processed on its own, and the results are blended with
weights that ramp up across each overlap (sin^2 ramps), normalised by the summed weight so that any
overlap gives a partition of unity. Hand-written because no peer library offers N-D overlap-add with
a mask carried along and per-window callbacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from promethium.core.errors import ParameterError

__all__ = [
    "WindowPlan",
    "apply_windowed",
    "default_workers",
    "hann_partition",
    "overlap_add",
    "plan_windows",
    "segment_spectra",
    "smooth_frequency",
    "window_starts",
]


def window_starts(n: int, size: int, overlap: int) -> list[int]:
    """Starts of windows of ``size`` covering ``range(n)``, consecutive ones overlapping by at least
    ``overlap``; the last window ends at ``n``."""
    if size >= n:
        return [0]
    step = max(1, size - overlap)
    starts = list(range(0, n - size, step))
    starts.append(n - size)
    return sorted(set(starts))


def hann_partition(n: int, window: int) -> tuple[list[int], int, np.ndarray]:
    """Half-overlapping Hann (sin^2) windows of ``window`` samples over ``range(n)``, normalised to a
    partition of unity: window starts, their length and the tapers (``(n_win, length)``); one window of
    ones when ``n <= window``. The frequency-domain methods (``fx_learned``, ``fx_pef``) cut the time axis
    with them."""
    if n <= window:
        return [0], n, np.ones((1, n))
    hop = window // 2
    starts = [*range(0, n - window, hop), n - window]
    raw = np.sin(np.pi * (np.arange(window) + 0.5) / window) ** 2
    total = np.zeros(n)
    for s in starts:
        total[s : s + window] += raw
    return starts, window, np.stack([raw / total[s : s + window] for s in starts])


def segment_spectra(x: np.ndarray, start: int, length: int, taper: np.ndarray, nfft: int) -> np.ndarray:
    """Spectra (rfft along the last axis) of the tapered time segment ``[start, start + length)`` of
    ``x``, the segment centred in ``nfft`` samples so that filtering it does not wrap round."""
    buf = np.zeros((*x.shape[:-1], nfft))
    off = (nfft - length) // 2
    buf[..., off : off + length] = x[..., start : start + length] * taper
    return np.fft.rfft(buf, axis=-1)


def overlap_add(acc: np.ndarray, spec: np.ndarray, start: int, length: int, nfft: int) -> None:
    """Add the inverse rfft of ``spec`` (the processed spectra of :func:`segment_spectra`'s segment at
    ``start``) into ``acc`` (time last) in place, whole ``nfft`` samples and clipped to ``acc``'s
    ends: what filtering spread outside the segment is kept."""
    nt = acc.shape[-1]
    seg = np.fft.irfft(spec, n=nfft, axis=-1)
    lo = start - (nfft - length) // 2
    hi = lo + nfft
    acc[..., max(lo, 0) : min(hi, nt)] += seg[..., max(-lo, 0) : nfft - max(hi - nt, 0)]


def smooth_frequency(x: np.ndarray, sigma: float) -> np.ndarray:
    """Complex ``x`` smoothed along its first (frequency) axis by a Gaussian of ``sigma`` bins (``x``
    itself for ``sigma <= 0``): regularises per-frequency normal equations."""
    if sigma <= 0:
        return x
    from scipy import ndimage

    real = ndimage.gaussian_filter1d(x.real, sigma, axis=0, mode="nearest")
    return real + 1j * ndimage.gaussian_filter1d(x.imag, sigma, axis=0, mode="nearest")


def _ramp(length: int, overlap_lo: int, overlap_hi: int) -> np.ndarray:
    """1 in the middle, sin^2 ramps of the given lengths at each end (never exactly 0)."""
    w = np.ones(length, dtype=np.float64)
    if overlap_lo > 0:
        x = (np.arange(overlap_lo) + 0.5) / overlap_lo
        w[:overlap_lo] = np.sin(0.5 * np.pi * x) ** 2
    if overlap_hi > 0:
        x = (np.arange(overlap_hi) + 0.5) / overlap_hi
        w[length - overlap_hi :] = np.minimum(w[length - overlap_hi :], np.cos(0.5 * np.pi * x) ** 2)
    return w


@dataclass(frozen=True)
class WindowPlan:
    """Window sizes and overlaps per axis, and the start positions they give."""

    shape: tuple[int, ...]
    sizes: tuple[int, ...]
    overlaps: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]

    @property
    def n_windows(self) -> int:
        return int(np.prod([len(s) for s in self.starts]))

    def __iter__(self) -> Iterator[tuple[slice, ...]]:
        for corner in np.ndindex(*[len(s) for s in self.starts]):
            yield tuple(
                slice(self.starts[ax][i], self.starts[ax][i] + self.sizes[ax]) for ax, i in enumerate(corner)
            )

    def weights(self, window: tuple[slice, ...]) -> np.ndarray:
        """The blending weight of one window (outer data edges are not tapered)."""
        w: np.ndarray = np.ones((), dtype=np.float64)
        for ax, sl in enumerate(window):
            start, stop = int(sl.start), int(sl.stop)
            lo = self.overlaps[ax] if start > 0 else 0
            hi = self.overlaps[ax] if stop < self.shape[ax] else 0
            # The actual overlap with the neighbour may exceed the nominal one (last window aligned to the
            # end); ramping over the nominal length keeps weights positive and the blend smooth.
            r = _ramp(stop - start, min(lo, stop - start), min(hi, stop - start))
            w = np.multiply.outer(w, r)
        return w


def plan_windows(
    shape: Sequence[int],
    sizes: Sequence[int | None] | None,
    overlaps: Sequence[int | float | None] | None,
    *,
    names: Sequence[str] | None = None,
) -> WindowPlan:
    """Plan windows over ``shape``. ``sizes[i]`` None (or larger than the axis) means the whole axis;
    ``overlaps[i]`` in samples, or a fraction of the window when below 1."""
    shape = tuple(int(n) for n in shape)
    nd = len(shape)
    names = list(names or [f"axis {i}" for i in range(nd)])
    sz = list(sizes) if sizes is not None else [None] * nd
    ov = list(overlaps) if overlaps is not None else [None] * nd
    if len(sz) != nd:
        raise ParameterError("window", f"needs {nd} sizes ({', '.join(names)}), got {len(sz)}")
    if len(ov) != nd:
        raise ParameterError("overlap", f"needs {nd} values ({', '.join(names)}), got {len(ov)}")
    out_sizes: list[int] = []
    out_overlaps: list[int] = []
    for n, s, o, name in zip(shape, sz, ov, names, strict=True):
        size = n if s is None else int(s)
        if size < 2 and n >= 2:
            raise ParameterError("window", f"the {name} window must hold at least 2 samples, got {size}")
        size = min(size, n)
        if o is None:
            o_n = size // 4
        elif 0 <= float(o) < 1:
            o_n = round(float(o) * size)
        else:
            o_n = int(o)
        if o_n < 0 or (size < n and o_n >= size):
            raise ParameterError(
                "overlap",
                f"the {name} overlap is {o_n}, it must be below the window size {size}",
                allowed=f"[0, {size})",
            )
        out_sizes.append(size)
        out_overlaps.append(o_n if size < n else 0)
    starts = tuple(
        tuple(window_starts(n, s, o)) for n, s, o in zip(shape, out_sizes, out_overlaps, strict=True)
    )
    return WindowPlan(shape=shape, sizes=tuple(out_sizes), overlaps=tuple(out_overlaps), starts=starts)


def default_workers() -> int:
    """Windows processed at once: one per core (at most 8)."""
    return max(1, min(8, os.cpu_count() or 1))


def apply_windowed(
    values: np.ndarray,
    plan: WindowPlan,
    fn: Callable[[np.ndarray, tuple[slice, ...]], np.ndarray],
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """Run ``fn(window_values, window_slices)`` on every window of ``plan`` and blend the results.

    Windows run on ``workers`` threads (the kernels spend their time in NumPy, SciPy and FFT calls that
    release the GIL) with BLAS limited to one thread each: many small matrix products per window are
    slower with a multi-threaded BLAS, and on a busy machine oversubscription made them up to 50x
    slower. Results are blended in window order, so the output does not depend on ``workers``.
    """
    from threadpoolctl import threadpool_limits

    n_workers = default_workers() if workers is None else max(1, int(workers))
    if plan.n_windows == 1:
        whole = tuple(slice(0, n) for n in values.shape)
        with threadpool_limits(limits=n_workers, user_api="blas"):
            out = np.asarray(fn(values, whole), dtype=np.float64)
        if progress is not None:
            progress(1, 1)
        return out
    acc = np.zeros(values.shape, dtype=np.float64)
    wsum = np.zeros(values.shape, dtype=np.float64)
    total = plan.n_windows
    windows = list(plan)

    def run(window: tuple[slice, ...]) -> np.ndarray:
        return np.asarray(fn(values[window], window), dtype=np.float64)

    with threadpool_limits(limits=1, user_api="blas"):
        if n_workers == 1:
            pieces: Iterator[np.ndarray] = map(run, windows)
            executor = None
        else:
            executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="promethium-window")
            pieces = executor.map(run, windows)
        try:
            for k, (window, piece) in enumerate(zip(windows, pieces, strict=True)):
                w = plan.weights(window)
                acc[window] += w * piece
                wsum[window] += w
                if progress is not None:
                    progress(k + 1, total)
        finally:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
    return acc / wsum
