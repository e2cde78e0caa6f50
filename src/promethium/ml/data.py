"""Training data for the learned models: synthetic sections, masks, patches, augmentation, normalisation.

Everything here is NumPy (no torch) and deterministic for a given ``numpy.random.Generator``:

- :func:`synthetic_section` draws a section of linear, parabolic and hyperbolic events with random dips,
  curvatures and amplitudes, convolved with a (phase-rotated) Ricker wavelet, plus band-limited and
  erratic noise; it returns the clean and the noisy section;
- :class:`MaskGenerator` draws kept-trace masks of random kinds and amounts through
  :func:`promethium.signal.masks.make_mask` (the same specs as the CLI: ``random``, ``regular``,
  ``gaps``, ``mixed``);
- :func:`extract_patches` cuts (trace, time) patches out of a :class:`SeismicData` (per inline for a
  volume) with the planner of :mod:`promethium.signal.reconstruction._windows`, carrying the trace mask;
- :func:`augment` flips, changes polarity, scales and shifts in time several arrays consistently;
- :func:`normalise` scales each patch by the RMS of its live samples and returns a :class:`NormRecord`
  that inverts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import fftconvolve, hilbert

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal.masks import make_mask
from promethium.synthetic import ricker

__all__ = [
    "EVENT_KINDS",
    "MASK_KINDS",
    "MaskGenerator",
    "NormRecord",
    "Patches",
    "augment",
    "band_limited_noise",
    "extract_patches",
    "normalise",
    "synthetic_batch",
    "synthetic_section",
    "synthetic_volume",
]

EVENT_KINDS = ("linear", "parabolic", "hyperbolic")
MASK_KINDS = ("random", "regular", "gaps", "mixed")


# ------------------------------------------------------------------------------------------ synthetic
def _wavelet(rng: np.random.Generator, freq: tuple[float, float], dt_ms: float, phase: bool) -> np.ndarray:
    f = float(rng.uniform(*freq))
    _, w = ricker(f, dt_ms)
    if phase:
        angle = float(rng.uniform(-np.pi / 2, np.pi / 2))
        w = np.cos(angle) * w + np.sin(angle) * np.imag(hilbert(w))
    return np.asarray(w, dtype=np.float64)


def synthetic_section(
    n_traces: int,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    *,
    dt_ms: float = 4.0,
    n_events: tuple[int, int] = (3, 12),
    kinds: Sequence[str] = EVENT_KINDS,
    frequency: tuple[float, float] = (12.0, 40.0),
    max_dip: float = 1.5,
    noise: tuple[float, float] = (0.0, 0.1),
    erratic: float = 0.0,
    phase_rotation: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A random section ``(n_traces, n_samples)``: ``(clean, noisy)`` float32, clean at unit RMS.

    Args:
        rng: a generator or a seed.
        n_events: range (inclusive) of the number of events.
        kinds: event shapes drawn from: ``linear`` (dip up to ``max_dip`` samples per trace),
            ``parabolic`` and ``hyperbolic`` (apex anywhere, moveout up to ``max_dip`` at the edges).
        frequency: range of the Ricker peak frequency (Hz); with ``phase_rotation`` the wavelet is also
            rotated by a random constant phase in [-90, 90] degrees.
        noise: range of the band-limited noise RMS relative to the clean RMS.
        erratic: probability that a trace carries an erratic burst (5-20x the signal RMS).
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    bad = [k for k in kinds if k not in EVENT_KINDS]
    if bad or not kinds:
        raise ParameterError("kinds", f"unknown event kinds {bad}", allowed=", ".join(EVENT_KINDS))
    if n_traces < 1 or n_samples < 8:
        raise ParameterError("shape", f"needs >= 1 trace and >= 8 samples, got ({n_traces}, {n_samples})")
    x = np.arange(n_traces, dtype=np.float64)
    refl = np.zeros((n_traces, n_samples + 2))
    n_ev = int(rng.integers(n_events[0], n_events[1] + 1))
    half = max(1.0, (n_traces - 1) / 2)
    for _ in range(n_ev):
        kind = kinds[int(rng.integers(len(kinds)))]
        t0 = rng.uniform(-0.1, 1.1) * n_samples
        xc = rng.uniform(0, n_traces - 1)
        if kind == "linear":
            t = t0 + rng.uniform(-max_dip, max_dip) * (x - xc)
        elif kind == "parabolic":
            t = t0 + rng.uniform(-1, 1) * max_dip / (4 * half) * (x - xc) ** 2
        else:
            # t = sqrt(t0^2 + k dx^2): the slope k dx / t stays below sqrt(k) <= max_dip
            k = rng.uniform(0.01, 1.0) * max_dip**2
            t = np.sqrt(t0**2 + k * (x - xc) ** 2)
        wobble = np.sin(rng.uniform(0.5, 3.0) * np.pi * x / (2 * half) + rng.uniform(0, 6))
        amp = rng.normal() * (1.0 + 0.3 * wobble)
        _place(refl, t, amp)
    return _finish(refl, n_samples, rng, dt_ms, frequency, noise, erratic, phase_rotation)


def _place(refl: np.ndarray, t: np.ndarray, amp: np.ndarray) -> None:
    """Add spikes of ``amp`` at fractional sample times ``t`` (one per trace row of ``refl``), split
    linearly between the two nearest samples."""
    n_samples = refl.shape[1] - 2
    rows = np.arange(refl.shape[0])
    i0 = np.floor(t).astype(np.int64)
    frac = t - i0
    ok = (i0 >= 0) & (i0 < n_samples)
    np.add.at(refl, (rows[ok], i0[ok]), amp[ok] * (1 - frac[ok]))
    np.add.at(refl, (rows[ok], i0[ok] + 1), amp[ok] * frac[ok])


def _finish(
    refl: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
    dt_ms: float,
    frequency: tuple[float, float],
    noise: tuple[float, float],
    erratic: float,
    phase_rotation: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Convolve the reflectivity ``(traces, samples + 2)`` with a random wavelet, scale to unit RMS and
    add band-limited and erratic noise: ``(clean, noisy)`` float32 of ``(traces, samples)``."""
    n_traces = refl.shape[0]
    w = _wavelet(rng, frequency, dt_ms, phase_rotation)
    clean = fftconvolve(refl[:, :n_samples], w[None, :], mode="same", axes=-1)
    rms = float(np.sqrt(np.mean(clean**2)))
    clean = clean / rms if rms > 0 else clean
    level = float(rng.uniform(*noise))
    noisy = clean.copy()
    if level > 0:
        white = rng.standard_normal(clean.shape)
        band = fftconvolve(white, w[None, :], mode="same", axes=-1)
        band_rms = float(np.sqrt(np.mean(band**2))) or 1.0
        noisy += level * band / band_rms
    if erratic > 0:
        hit = rng.random(n_traces) < erratic
        for i in np.flatnonzero(hit):
            length = int(rng.integers(max(2, n_samples // 20), max(3, n_samples // 4)))
            s0 = int(rng.integers(0, n_samples - length + 1))
            noisy[i, s0 : s0 + length] += rng.uniform(5, 20) * rng.standard_normal(length)
    return clean.astype(np.float32), noisy.astype(np.float32)


def synthetic_volume(
    n_inlines: int,
    n_crosslines: int,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    *,
    dt_ms: float = 4.0,
    n_events: tuple[int, int] = (3, 12),
    kinds: Sequence[str] = EVENT_KINDS,
    frequency: tuple[float, float] = (12.0, 40.0),
    max_dip: float = 1.5,
    noise: tuple[float, float] = (0.0, 0.1),
    erratic: float = 0.0,
    phase_rotation: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A random volume ``(n_inlines, n_crosslines, n_samples)``: ``(clean, noisy)`` float32, clean at unit
    RMS. The 3D analogue of :func:`synthetic_section`: ``linear`` events are planes dipping in both
    directions (up to ``max_dip`` samples per trace along each), ``parabolic`` ones are paraboloids with
    curvatures of either sign along each axis (folds, domes, bowls and saddles), ``hyperbolic`` ones are
    diffraction hyperboloids ``t = sqrt(t0^2 + k r^2)``; amplitudes vary smoothly along both axes."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    bad = [k for k in kinds if k not in EVENT_KINDS]
    if bad or not kinds:
        raise ParameterError("kinds", f"unknown event kinds {bad}", allowed=", ".join(EVENT_KINDS))
    if min(n_inlines, n_crosslines) < 1 or n_samples < 8:
        raise ParameterError(
            "shape",
            f"needs >= 1 trace a side and >= 8 samples, got ({n_inlines}, {n_crosslines}, {n_samples})",
        )
    il, xl = (
        g.ravel().astype(np.float64)
        for g in np.meshgrid(np.arange(n_inlines), np.arange(n_crosslines), indexing="ij")
    )
    refl = np.zeros((il.size, n_samples + 2))
    n_ev = int(rng.integers(n_events[0], n_events[1] + 1))
    half_i, half_x = max(1.0, (n_inlines - 1) / 2), max(1.0, (n_crosslines - 1) / 2)
    for _ in range(n_ev):
        kind = kinds[int(rng.integers(len(kinds)))]
        t0 = rng.uniform(-0.1, 1.1) * n_samples
        ic, xc = rng.uniform(0, n_inlines - 1), rng.uniform(0, n_crosslines - 1)
        di, dx = il - ic, xl - xc
        if kind == "linear":
            t = t0 + rng.uniform(-max_dip, max_dip) * di + rng.uniform(-max_dip, max_dip) * dx
        elif kind == "parabolic":
            ci, cx = rng.uniform(-1, 1, size=2) * max_dip
            t = t0 + ci / (4 * half_i) * di**2 + cx / (4 * half_x) * dx**2
        else:
            k = rng.uniform(0.01, 1.0) * max_dip**2
            t = np.sqrt(t0**2 + k * (di**2 + dx**2))
        phase = rng.uniform(0, 6, size=2)
        wobble = np.sin(rng.uniform(0.5, 3.0) * np.pi * il / (2 * half_i) + phase[0]) * np.sin(
            rng.uniform(0.5, 3.0) * np.pi * xl / (2 * half_x) + phase[1]
        )
        _place(refl, t, rng.normal() * (1.0 + 0.3 * wobble))
    clean, noisy = _finish(refl, n_samples, rng, dt_ms, frequency, noise, erratic, phase_rotation)
    shape = (n_inlines, n_crosslines, n_samples)
    return clean.reshape(shape), noisy.reshape(shape)


def synthetic_batch(
    batch_size: int, patch: tuple[int, ...], rng: np.random.Generator, **kwargs: object
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` synthetic sections (a 2-entry ``patch``) or volumes (3 entries) of shape ``patch``:
    ``(clean, noisy)`` of ``(batch, *patch)``."""
    if len(patch) == 3:
        pairs = [synthetic_volume(*patch, rng, **kwargs) for _ in range(batch_size)]  # type: ignore[arg-type]
    else:
        pairs = [synthetic_section(patch[0], patch[1], rng, **kwargs) for _ in range(batch_size)]  # type: ignore[arg-type]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def band_limited_noise(
    values: np.ndarray,
    live: np.ndarray,
    rng: np.random.Generator,
    level: tuple[float, float],
    dt_ms: float = 4.0,
    frequency: tuple[float, float] = (8.0, 45.0),
) -> np.ndarray:
    """Band-limited random noise for ``values`` ``(batch, traces..., samples)``: per patch, white noise
    shaped by a random Ricker wavelet, scaled to a random fraction in ``level`` of the patch's live RMS
    (0 on dead traces)."""
    v = np.asarray(values, dtype=np.float32)
    out = np.zeros_like(v)
    for b in range(v.shape[0]):
        lv = np.asarray(live[b], bool)
        if not lv.any():
            continue
        w = _wavelet(rng, frequency, dt_ms, phase=False)
        kernel = w.reshape((1,) * (v.ndim - 2) + (-1,))
        band = fftconvolve(rng.standard_normal(v.shape[1:]), kernel, mode="same", axes=-1)
        band_rms = float(np.sqrt(np.mean(band[lv] ** 2))) or 1.0
        sig_rms = float(np.sqrt(np.mean(v[b][lv].astype(np.float64) ** 2)))
        out[b] = (float(rng.uniform(*level)) * sig_rms / band_rms) * band * lv[..., None]
    return out


# ------------------------------------------------------------------------------------------ masks
@dataclass(frozen=True)
class MaskGenerator:
    """Draw kept-trace masks of a random kind and amount (specs of :mod:`promethium.signal.masks`).

    Args:
        kinds: kinds to draw from (``random``, ``regular``, ``gaps``, ``mixed``).
        fraction: range of the removed fraction for ``random`` and ``mixed``.
        factor: range (inclusive) of the decimation factor for ``regular``.
        gap_length: range (inclusive) of a gap's length (traces) for ``gaps``; at most 2 gaps per patch.
    """

    kinds: tuple[str, ...] = MASK_KINDS
    fraction: tuple[float, float] = (0.2, 0.6)
    factor: tuple[int, int] = (2, 3)
    gap_length: tuple[int, int] = (2, 6)

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in MASK_KINDS]
        if bad or not self.kinds:
            raise ParameterError("masks", f"unknown mask kinds {bad}", allowed=", ".join(MASK_KINDS))
        if not 0 < self.fraction[0] <= self.fraction[1] < 1:
            raise ParameterError("fraction", f"must satisfy 0 < low <= high < 1, got {self.fraction}")

    def spec(self, n_line: int, rng: np.random.Generator) -> str:
        """A random mask spec for lines of ``n_line`` traces."""
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        if kind in ("random", "mixed"):
            return f"{kind}:{rng.uniform(*self.fraction):.3f}"
        if kind == "regular":
            return f"regular:{int(rng.integers(self.factor[0], self.factor[1] + 1))}"
        length = int(rng.integers(self.gap_length[0], self.gap_length[1] + 1))
        length = max(1, min(length, n_line // 3))
        return f"gaps:{length}x{int(rng.integers(1, 3))}"

    def __call__(
        self, trace_shape: tuple[int, ...], rng: np.random.Generator, base: np.ndarray | None = None
    ) -> np.ndarray:
        """A kept-trace mask of ``trace_shape``; only traces live in ``base`` are removed, and at least one
        live trace is removed when ``base`` has two or more."""
        n_line = trace_shape[-1]
        for _ in range(8):
            spec = self.spec(n_line, rng)
            try:
                keep = make_mask(
                    trace_shape, spec, seed=int(rng.integers(2**31)), base=base, parameter="masks"
                )
            except ParameterError:
                continue
            live = np.ones(trace_shape, bool) if base is None else np.asarray(base, bool)
            if (live & ~keep).any() or live.sum() < 2:
                return keep
        # Fall back on hiding one random live trace.
        live = np.ones(trace_shape, bool) if base is None else np.asarray(base, bool).copy()
        idx = np.flatnonzero(live)
        if idx.size >= 2:
            live.flat[rng.choice(idx)] = False
        return live


# ------------------------------------------------------------------------------------------ patches
@dataclass
class Patches:
    """Patches cut from a section or volume: ``values`` ``(n, traces, samples)``, ``live`` ``(n, traces)``,
    ``origins`` ``(n, 3)`` as (inline index or 0, first trace, first sample)."""

    values: np.ndarray
    live: np.ndarray
    origins: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])


def _as_values(data: SeismicData | np.ndarray, live: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(data, SeismicData):
        values = np.asarray(data.values, dtype=np.float32)
        mask = np.asarray(data.trace_mask, dtype=bool) if live is None else np.asarray(live, dtype=bool)
    else:
        values = np.asarray(data, dtype=np.float32)
        mask = np.ones(values.shape[:-1], bool) if live is None else np.asarray(live, dtype=bool)
    if values.ndim not in (2, 3):
        raise DataError(
            f"expected a (trace, time) or (inline, crossline, time) array, got shape {values.shape}"
        )
    if mask.shape != values.shape[:-1]:
        raise DataError(f"trace mask has shape {mask.shape}, expected {values.shape[:-1]}")
    return values, mask


def extract_patches(
    data: SeismicData | np.ndarray,
    patch: tuple[int, ...] = (32, 64),
    *,
    overlap: float | tuple[float, float] = 0.5,
    live: np.ndarray | None = None,
    min_live: float = 0.5,
) -> Patches:
    """Cut overlapping (trace, time) patches covering ``data`` (each inline of a volume in turn), or
    (inline, crossline, time) patches of a volume when ``patch`` has three sizes.

    Patches with fewer than ``min_live`` of their traces live are dropped. Sections smaller than ``patch``
    give one patch of their own size. :class:`DataError` when no patch is left or samples are not finite.
    """
    from promethium.signal.reconstruction._windows import plan_windows

    values, mask = _as_values(data, live)
    if not np.isfinite(values).all():
        raise DataError("the data hold NaN or Inf samples; clean them before training")
    if len(patch) == 3:
        return _volume_patches(values, mask, patch, overlap, min_live)
    sections = values[None] if values.ndim == 2 else values
    masks = mask[None] if mask.ndim == 1 else mask
    ov = (overlap, overlap) if isinstance(overlap, int | float) else tuple(overlap)
    plan = plan_windows(sections.shape[1:], list(patch), list(ov), names=["trace", "time"])
    vals, lives, origins = [], [], []
    for i in range(sections.shape[0]):
        for win in plan:
            m = masks[i, win[0]]
            if m.mean() < min_live:
                continue
            vals.append(sections[i][win])
            lives.append(m)
            origins.append((i, win[0].start, win[1].start))
    if not vals:
        raise DataError(f"no patch of {patch} has at least {min_live:.0%} live traces")
    return Patches(np.stack(vals), np.stack(lives), np.asarray(origins, dtype=np.int64))


def _volume_patches(
    values: np.ndarray,
    mask: np.ndarray,
    patch: tuple[int, ...],
    overlap: float | tuple[float, ...],
    min_live: float,
) -> Patches:
    from promethium.signal.reconstruction._windows import plan_windows

    if values.ndim != 3:
        raise DataError(
            f"3D patches {tuple(patch)} need an (inline, crossline, time) volume, got {values.shape}"
        )
    ov = [overlap] * 3 if isinstance(overlap, int | float) else list(overlap)
    plan = plan_windows(values.shape, list(patch), ov, names=["inline", "crossline", "time"])
    vals, lives, origins = [], [], []
    for win in plan:
        m = mask[win[0], win[1]]
        if m.mean() < min_live:
            continue
        vals.append(values[win])
        lives.append(m)
        origins.append((win[0].start, win[1].start, win[2].start))
    if not vals:
        raise DataError(f"no patch of {tuple(patch)} has at least {min_live:.0%} live traces")
    return Patches(np.stack(vals), np.stack(lives), np.asarray(origins, dtype=np.int64))


# ------------------------------------------------------------------------------------------ augmentation
def augment(
    arrays: Sequence[np.ndarray],
    live: np.ndarray,
    rng: np.random.Generator,
    *,
    flip: bool = True,
    polarity: bool = True,
    amplitude: tuple[float, float] | None = (0.5, 2.0),
    max_shift: int = 8,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Apply one random transform to every array of ``arrays`` (``(batch, traces, samples)`` or
    ``(batch, inlines, crosslines, samples)``) and to the ``live`` mask ``(batch, traces...)``,
    independently per batch item.

    Transforms: reversal of each trace axis, polarity reversal, amplitude scaling (log-uniform in
    ``amplitude``) and a circular-free time shift of up to ``max_shift`` samples (zero-filled).
    """
    out = [np.array(a, dtype=np.float32, copy=True) for a in arrays]
    lv = np.array(live, dtype=bool, copy=True)
    n = lv.shape[0]
    for b in range(n):
        for axis in range(lv.ndim - 1):  # each trace axis: (traces,) or (inlines, crosslines)
            if flip and rng.random() < 0.5:
                for a in out:
                    a[b] = np.flip(a[b], axis=axis)
                lv[b] = np.flip(lv[b], axis=axis)
        gain = 1.0
        if polarity and rng.random() < 0.5:
            gain = -gain
        if amplitude is not None:
            gain *= float(np.exp(rng.uniform(np.log(amplitude[0]), np.log(amplitude[1]))))
        shift = int(rng.integers(-max_shift, max_shift + 1)) if max_shift > 0 else 0
        for a in out:
            a[b] *= gain
            if shift > 0:
                a[b, ..., shift:] = a[b, ..., :-shift].copy()
                a[b, ..., :shift] = 0
            elif shift < 0:
                a[b, ..., :shift] = a[b, ..., -shift:].copy()
                a[b, ..., shift:] = 0
    return out, lv


# ------------------------------------------------------------------------------------------ normalisation
@dataclass
class NormRecord:
    """Per-patch scale factors applied by :func:`normalise`; :meth:`invert` undoes them."""

    scale: np.ndarray = field(default_factory=lambda: np.ones(0, dtype=np.float32))

    def invert(self, values: np.ndarray) -> np.ndarray:
        """``values`` ``(n, ...)`` back in the original amplitude units."""
        return values * self.scale.reshape((-1,) + (1,) * (values.ndim - 1))

    def invert_scale(self, values: np.ndarray) -> np.ndarray:
        """``values`` ``(n, ...)`` scaled as :func:`normalise` scaled its input (float32)."""
        return (values / self.scale.reshape((-1,) + (1,) * (values.ndim - 1))).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        return {"scale": [float(s) for s in self.scale]}


def normalise(values: np.ndarray, live: np.ndarray, *, eps: float = 1e-8) -> tuple[np.ndarray, NormRecord]:
    """Divide each patch of ``values`` ``(n, traces, samples)`` by the RMS of its live samples.

    Patches without live energy keep a scale of 1. Returns the scaled copy and its record."""
    v = np.asarray(values, dtype=np.float32)
    lv = np.asarray(live, dtype=bool)
    w = lv[..., None].astype(np.float64)
    energy = (v.astype(np.float64) ** 2 * w).reshape(v.shape[0], -1).sum(axis=1)
    count = np.maximum(w.reshape(w.shape[0], -1).sum(axis=1) * v.shape[-1], 1.0)
    rms = np.sqrt(energy / count)
    scale = np.where(rms > eps, rms, 1.0).astype(np.float32)
    rec = NormRecord(scale)
    return (v / scale.reshape((-1,) + (1,) * (v.ndim - 1))).astype(np.float32), rec
