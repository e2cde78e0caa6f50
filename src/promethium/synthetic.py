"""Synthetic seismic surveys for demos, tests and benchmarks, and a way to damage them.

:func:`make_survey` builds a post-stack survey that looks like field data: a layered earth whose
reflectors dip, fold over a dome and are cut by normal faults, with laterally varying reflection
strength and a bright spot, convolved with a zero-phase Ricker wavelet, plus band-limited random noise.
Every trace carries SEG-Y-style geometry headers (inline, crossline, CDP coordinates with a coordinate
scalar, ...), so that the survey can be written to SEG-Y and read back like a real file.

:func:`damage` then removes traces (a ``False`` trace mask and zero samples) and kills others (SEG-Y
trace identification code 2), giving the input a reconstruction method has to repair.

Both are vectorised and deterministic for a given ``seed``: a 100 x 100 x 500 volume takes a fraction of
a second. The random noise is drawn last, so ``make_survey(..., noise=0.0)`` with the same seed is the
noise-free version of the same earth::

    from promethium.synthetic import damage, make_survey

    clean = make_survey("3d", n_inline=100, n_crossline=80, n_samples=500, seed=1)
    damaged, info = damage(clean, fraction_missing=0.2, fraction_dead=0.05, seed=2)
    info["n_missing"], info["n_dead"]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.fft as sfft

from promethium.io.data import HEADER_PREFIX, SeismicData

__all__ = ["HEADER_DTYPES", "damage", "make_survey", "ricker"]

#: Trace header fields written by :func:`make_survey`, with their dtypes (int32 for the 4-byte SEG-Y
#: fields, int16 for the 2-byte ones, uint16 for the sample count as in SEG-Y rev 1). The names and
#: widths are those of :mod:`promethium.io.segy_headers`.
HEADER_DTYPES: dict[str, type[np.integer[Any]]] = {
    "trace_sequence_line": np.int32,
    "trace_sequence_file": np.int32,
    "field_record": np.int32,
    "trace_number": np.int32,
    "cdp": np.int32,
    "trace_id": np.int16,
    "offset": np.int32,
    "coordinate_scalar": np.int16,
    "source_x": np.int32,
    "source_y": np.int32,
    "group_x": np.int32,
    "group_y": np.int32,
    "n_samples": np.uint16,
    "sample_interval": np.int16,
    "cdp_x": np.int32,
    "cdp_y": np.int32,
    "inline": np.int32,
    "crossline": np.int32,
}

#: SEG-Y trace identification codes used here.
TRACE_ID_LIVE = 1
TRACE_ID_DEAD = 2


def ricker(frequency: float, dt_ms: float, length_ms: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A zero-phase Ricker wavelet of peak ``frequency`` (Hz) sampled every ``dt_ms``.

    Returns ``(times_ms, wavelet)``, symmetric around 0 ms, with a peak amplitude of 1. The default
    length covers the wavelet down to about 1e-4 of its peak (2.2 / ``frequency`` seconds on each side).
    """
    if frequency <= 0 or dt_ms <= 0:
        raise ValueError("frequency and dt_ms must be positive")
    half_ms = (length_ms / 2.0) if length_ms is not None else 1100.0 * 2.0 / frequency
    n_half = max(1, int(np.ceil(half_ms / dt_ms)))
    t_ms = np.arange(-n_half, n_half + 1, dtype=np.float64) * dt_ms
    a = (np.pi * frequency * t_ms / 1000.0) ** 2
    return t_ms, (1.0 - 2.0 * a) * np.exp(-a)


def _smooth_field(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, n_waves: int = 6) -> np.ndarray:
    """A smooth random field of unit-ish amplitude over normalised map coordinates ``u``, ``v``."""
    k = rng.uniform(0.5, 3.0, size=(n_waves, 2)) * rng.choice([-1.0, 1.0], size=(n_waves, 2))
    phase = rng.uniform(0, 2 * np.pi, size=n_waves)
    field = np.zeros(np.broadcast(u, v).shape)
    for (ku, kv), ph in zip(k, phase, strict=True):
        field += np.cos(np.pi * (ku * u + kv * v) + ph)
    return field / np.sqrt(n_waves / 2.0)


def _convolve_wavelet(traces: np.ndarray, wavelet: np.ndarray) -> np.ndarray:
    """Zero-phase convolution of each row of ``traces`` with a symmetric ``wavelet`` (FFT, padded)."""
    n = traces.shape[-1]
    half = wavelet.size // 2
    nfft = sfft.next_fast_len(n + half + 1, real=True)
    w = np.zeros(nfft, dtype=np.float32)
    w[: half + 1] = wavelet[half:]
    w[nfft - half :] = wavelet[:half]
    spec = sfft.rfft(traces, n=nfft, axis=-1, workers=-1) * sfft.rfft(w)
    return np.asarray(sfft.irfft(spec, n=nfft, axis=-1, workers=-1)[..., :n], dtype=np.float32)


def _band_limited_noise(
    rng: np.random.Generator, shape: tuple[int, int], dt_ms: float, band_hz: tuple[float, float]
) -> np.ndarray:
    """Gaussian noise with a smooth pass band ``band_hz`` (cosine tapers), unit standard deviation."""
    n = shape[-1]
    white = rng.standard_normal(shape, dtype=np.float32)
    freqs = sfft.rfftfreq(n, d=dt_ms / 1000.0)
    lo, hi = band_hz
    taper = np.clip((freqs - 0.5 * lo) / max(0.5 * lo, 1e-6), 0.0, 1.0)
    taper *= np.clip((1.25 * hi - freqs) / max(0.25 * hi, 1e-6), 0.0, 1.0)
    gain = (np.sin(0.5 * np.pi * taper) ** 2).astype(np.float32)
    noise = np.asarray(sfft.irfft(sfft.rfft(white, axis=-1, workers=-1) * gain, n=n, axis=-1, workers=-1))
    std = float(noise.std())
    return (noise / std if std > 0 else noise).astype(np.float32, copy=False)


def make_survey(
    kind: Literal["3d", "2d"] = "3d",
    *,
    n_inline: int = 64,
    n_crossline: int = 48,
    n_traces: int = 200,
    n_samples: int = 500,
    dt_ms: float = 4.0,
    seed: int = 0,
    noise: float = 0.05,
    frequency: float = 28.0,
    n_reflectors: int = 14,
    n_thin_beds: int = 60,
    faults: int = 2,
    fault_throw_ms: float = 40.0,
    first_inline: int = 100,
    first_crossline: int = 300,
    bin_size: tuple[float, float] = (25.0, 25.0),
    origin: tuple[float, float] = (605_000.0, 6_073_000.0),
    rotation_deg: float = 0.0,
    coordinate_scalar: int = -100,
) -> SeismicData:
    """A realistic synthetic post-stack survey as :class:`SeismicData`.

    Args:
        kind: ``"3d"`` for an ``(inline, crossline, time)`` volume, ``"2d"`` for a ``(trace, time)`` line.
        n_inline, n_crossline: size of a 3D volume.
        n_traces: number of traces of a 2D line.
        n_samples, dt_ms: samples per trace and sample interval in ms (a whole number of microseconds).
        seed: seed of every random choice; the same seed gives the same survey.
        noise: standard deviation of the band-limited random noise relative to the RMS amplitude of the
            noise-free data (``0`` for none). The noise is drawn last, so the earth does not depend on it.
        frequency: peak frequency of the zero-phase Ricker wavelet in Hz.
        n_reflectors: strong reflectors (formation tops); ``n_thin_beds`` weaker ones follow the same
            structure and give the section its texture.
        faults: number of normal faults (0, 1 or 2; two make a graben) with a throw of ``fault_throw_ms``.
        first_inline, first_crossline: numbers of the first line; lines are numbered in steps of 1.
        bin_size: inline and crossline bin spacing in m; ``origin`` is the map position of the first trace
            and ``rotation_deg`` the azimuth of the inline axis, counter-clockwise from east.
        coordinate_scalar: SEG-Y coordinate scalar of the stored CDP/source/group coordinates (``-100``:
            stored values are centimetres).

    Returns:
        float32 amplitudes with a full trace mask, the headers of :data:`HEADER_DTYPES` as ``hdr_*``
        variables, ``cdp_x``/``cdp_y`` coordinates in metres and ``attrs['synthetic']`` recording the
        parameters.
    """
    if kind not in ("3d", "2d"):
        raise ValueError(f"kind must be '3d' or '2d', not {kind!r}")
    if n_samples < 2 or n_samples > np.iinfo(np.uint16).max:
        raise ValueError(f"n_samples must be between 2 and {np.iinfo(np.uint16).max}, got {n_samples}")
    dt_us = dt_ms * 1000.0
    if dt_ms <= 0 or abs(dt_us - round(dt_us)) > 1e-6 or round(dt_us) > np.iinfo(np.int16).max:
        raise ValueError(
            f"dt_ms must be a positive whole number of microseconds up to 32.767 ms, not {dt_ms}"
        )
    if not 0 <= faults <= 2:
        raise ValueError("faults must be 0, 1 or 2")
    if coordinate_scalar == 0:
        raise ValueError("coordinate_scalar must not be 0")
    rng = np.random.default_rng(seed)

    # ---- map positions: normalised (u along inlines, v along crosslines) and trace grid shape
    if kind == "3d":
        if n_inline < 1 or n_crossline < 1:
            raise ValueError("n_inline and n_crossline must be positive")
        grid: tuple[int, ...] = (n_inline, n_crossline)
        ii, jj = np.meshgrid(np.arange(n_inline), np.arange(n_crossline), indexing="ij")
        ii_f = ii.reshape(-1).astype(np.float64)
        jj_f = jj.reshape(-1).astype(np.float64)
    else:
        if n_traces < 1:
            raise ValueError("n_traces must be positive")
        grid = (n_traces,)
        ii_f = np.zeros(n_traces)
        jj_f = np.arange(n_traces, dtype=np.float64)
    n_tr = int(np.prod(grid))
    u = ii_f / max(1, ii_f.max()) if kind == "3d" else np.full(n_tr, 0.5)
    v = jj_f / max(1, jj_f.max())

    # ---- structure: reflector times (n_traces, n_layers) in ms
    t_max = (n_samples - 1) * dt_ms
    n_layers = n_reflectors + n_thin_beds
    t0 = np.sort(rng.uniform(0.06, 0.97, size=n_layers)) * t_max
    coeff = np.empty(n_layers)
    strong = rng.permutation(n_layers)[:n_reflectors]
    coeff[:] = rng.normal(0.0, 0.025, size=n_layers)
    coeff[strong] = rng.choice([-1.0, 1.0], size=n_reflectors) * rng.uniform(0.08, 0.25, size=n_reflectors)

    depth_frac = t0 / t_max  # structure grows with depth
    dip_u, dip_v = rng.uniform(-0.12, 0.12, size=2) * t_max
    dome_u, dome_v = rng.uniform(0.3, 0.7, size=2)
    dome_w = rng.uniform(0.18, 0.3)
    dome_h = rng.uniform(0.06, 0.1) * t_max
    dome = np.exp(-((u - dome_u) ** 2 + (v - dome_v) ** 2) / (2 * dome_w**2))
    undulation = 0.015 * t_max * _smooth_field(rng, u, v, n_waves=4)
    shift = depth_frac[None, :] * (dip_u * u + dip_v * v - dome_h * dome + undulation)[
        :, None
    ] + 0.01 * t_max * np.sin(2 * np.pi * (v[:, None] * rng.uniform(0.5, 1.5) + depth_frac[None, :]))
    times = t0[None, :] + shift

    # normal faults: a plane dipping in the map direction ``theta``; the hanging wall moves down.
    fault_info = []
    for f in range(faults):
        theta = rng.uniform(-0.4, 0.4) + (0.0 if kind == "2d" else rng.uniform(0.0, 0.3))
        centre = 0.35 + 0.3 * f + rng.uniform(-0.05, 0.05)
        sign = 1.0 if f == 0 else -1.0  # two faults dip towards each other: a graben
        d_map = sign * ((v - centre) * np.cos(theta) + (u - 0.5) * np.sin(theta))
        hanging = d_map[:, None] - 0.25 * (times / t_max - 0.5) > 0
        throw = fault_throw_ms * (0.6 + 0.4 * depth_frac)[None, :]
        times = times + np.where(hanging, throw, 0.0)
        fault_info.append({"centre": float(centre), "angle": float(theta), "throw_ms": float(fault_throw_ms)})

    # ---- amplitudes: lateral variation of every reflector and a bright spot at the dome crest
    amp_field = 1.0 + 0.25 * _smooth_field(rng, u, v)
    amps = coeff[None, :] * amp_field[:, None]
    bright = int(np.clip(strong[np.argmin(np.abs(t0[strong] - 0.5 * t_max))], 0, n_layers - 1))
    amps[:, bright] *= 1.0 + 2.0 * dome**2

    # ---- reflectivity series: spikes at fractional sample positions, split between two samples
    pos = times / dt_ms
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    ok = (i0 >= 0) & (i0 < n_samples - 1)
    rows = np.broadcast_to(np.arange(n_tr)[:, None] * n_samples, i0.shape)
    flat = np.concatenate([(rows + i0)[ok], (rows + i0 + 1)[ok]])
    weights = np.concatenate([(amps * (1.0 - frac))[ok], (amps * frac)[ok]])
    refl = np.bincount(flat, weights=weights, minlength=n_tr * n_samples).astype(np.float32)
    refl = refl.reshape(n_tr, n_samples)

    _, wav = ricker(frequency, dt_ms)
    traces = _convolve_wavelet(refl, wav.astype(np.float32))

    if noise > 0:
        rms = float(np.sqrt(np.mean(traces.astype(np.float64) ** 2)))
        band = (0.3 * frequency, min(2.5 * frequency, 0.45 * 1000.0 / dt_ms))
        traces += np.float32(noise * rms) * _band_limited_noise(rng, traces.shape, dt_ms, band)

    values = traces.reshape(*grid, n_samples)

    # ---- geometry headers
    x, y = _map_xy(ii_f, jj_f, bin_size, origin, rotation_deg)
    factor = float(-coordinate_scalar) if coordinate_scalar < 0 else 1.0 / coordinate_scalar
    stored_x = np.round(x * factor)
    stored_y = np.round(y * factor)
    if max(np.abs(stored_x).max(), np.abs(stored_y).max()) > np.iinfo(np.int32).max:
        raise ValueError("coordinates do not fit 32-bit headers with this coordinate_scalar")
    seq = np.arange(1, n_tr + 1, dtype=np.float64)
    if kind == "3d":
        inline = first_inline + ii_f
        crossline = first_crossline + jj_f
        seq_line = jj_f + 1
        record = inline
        trace_number = jj_f + 1
    else:
        inline = np.full(n_tr, float(first_inline))
        crossline = first_crossline + jj_f
        seq_line = seq
        record = np.full(n_tr, float(first_inline))
        trace_number = seq
    raw: dict[str, np.ndarray] = {
        "trace_sequence_line": seq_line,
        "trace_sequence_file": seq,
        "field_record": record,
        "trace_number": trace_number,
        "cdp": crossline if kind == "2d" else seq,
        "trace_id": np.full(n_tr, TRACE_ID_LIVE),
        "offset": np.zeros(n_tr),
        "coordinate_scalar": np.full(n_tr, coordinate_scalar),
        "source_x": stored_x,
        "source_y": stored_y,
        "group_x": stored_x,
        "group_y": stored_y,
        "n_samples": np.full(n_tr, n_samples),
        "sample_interval": np.full(n_tr, round(dt_us)),
        "cdp_x": stored_x,
        "cdp_y": stored_y,
        "inline": inline,
        "crossline": crossline,
    }
    headers = {name: np.asarray(raw[name]).astype(dt).reshape(grid) for name, dt in HEADER_DTYPES.items()}

    trace_dims: tuple[str, ...] = ("inline", "crossline") if kind == "3d" else ("trace",)
    coords: dict[str, Any] = {
        "cdp_x": (trace_dims, (stored_x / factor).reshape(grid)),
        "cdp_y": (trace_dims, (stored_y / factor).reshape(grid)),
    }
    if kind == "3d":
        coords["inline"] = ("inline", np.arange(first_inline, first_inline + n_inline, dtype=np.int64))
        coords["crossline"] = (
            "crossline",
            np.arange(first_crossline, first_crossline + n_crossline, dtype=np.int64),
        )
    params: dict[str, Any] = {
        "kind": kind,
        "shape": list(values.shape),
        "dt_ms": float(dt_ms),
        "seed": int(seed),
        "noise": float(noise),
        "frequency": float(frequency),
        "n_reflectors": int(n_reflectors),
        "n_thin_beds": int(n_thin_beds),
        "faults": fault_info,
        "bin_size": [float(b) for b in bin_size],
        "origin": [float(o) for o in origin],
        "rotation_deg": float(rotation_deg),
    }
    return SeismicData.from_array(
        values,
        sample_interval=float(dt_ms),
        headers=headers,
        coords=coords,
        attrs={"source_format": "synthetic", "synthetic": params, "warnings": []},
    )


def _map_xy(
    ii: np.ndarray,
    jj: np.ndarray,
    bin_size: tuple[float, float],
    origin: tuple[float, float],
    rotation_deg: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates (m) of grid positions: inlines advance along ``rotation_deg + 90``, crosslines
    along ``rotation_deg`` (a crossline number increases along an inline)."""
    a = np.deg2rad(rotation_deg)
    along_xl = jj * bin_size[1]
    along_il = ii * bin_size[0]
    x = origin[0] + along_xl * np.cos(a) - along_il * np.sin(a)
    y = origin[1] + along_xl * np.sin(a) + along_il * np.cos(a)
    return x, y


def damage(
    data: SeismicData,
    fraction_missing: float = 0.2,
    fraction_dead: float = 0.05,
    seed: int = 0,
    *,
    pattern: Literal["random", "gaps", "mixed"] = "random",
    gap_length: int = 6,
) -> tuple[SeismicData, dict[str, Any]]:
    """Remove and kill traces of ``data``, as acquisition and recording do.

    Missing traces get a ``False`` trace mask, zero samples and a ``trace_index`` of -1: they are holes
    in the geometry, which writers leave out of the file (a volume written to SEG-Y then lacks those
    traces, like a real survey). Their headers are kept, as a hole's position is known from the grid.
    Dead traces also get a ``False`` mask and zero samples, and the SEG-Y trace identification code 2
    in ``hdr_trace_id`` when that header exists; they stay in the file. Dead traces are chosen among
    the traces that are not missing; traces already masked in ``data`` stay masked.

    Args:
        data: the survey to damage (it is not modified).
        fraction_missing, fraction_dead: fractions of all traces to remove and to kill.
        seed: seed of the random choices; the same seed gives the same damage.
        pattern: ``"random"`` scatters missing traces one by one; ``"gaps"`` removes runs of
            ``gap_length`` consecutive traces along the fastest trace axis (the crossline of a volume),
            like an obstacle in the acquisition; ``"mixed"`` does half of each.

    Returns:
        ``(damaged, info)``: the damaged data (one more ``history`` entry) and a dict with the boolean
        ``missing`` and ``dead`` arrays over the trace dims, their counts ``n_missing`` / ``n_dead`` /
        ``n_live``, the achieved fractions and the parameters.
    """
    if not (0.0 <= fraction_missing <= 1.0 and 0.0 <= fraction_dead <= 1.0):
        raise ValueError("fractions must be between 0 and 1")
    if fraction_missing + fraction_dead > 1.0:
        raise ValueError("fraction_missing + fraction_dead must not exceed 1")
    if pattern not in ("random", "gaps", "mixed"):
        raise ValueError(f"pattern must be 'random', 'gaps' or 'mixed', not {pattern!r}")
    if gap_length < 1:
        raise ValueError("gap_length must be positive")
    rng = np.random.default_rng(seed)
    trace_shape = data.shape[:-1]
    n = int(np.prod(trace_shape))
    n_missing = round(fraction_missing * n)
    n_dead = round(fraction_dead * n)

    missing = np.zeros(n, dtype=bool)
    n_gaps = n_missing if pattern == "gaps" else (n_missing // 2 if pattern == "mixed" else 0)
    if n_gaps:
        missing |= _gap_runs(rng, trace_shape, n_gaps, gap_length)
    remaining = n_missing - int(missing.sum())
    if remaining > 0:
        candidates = np.flatnonzero(~missing)
        missing[rng.choice(candidates, size=remaining, replace=False)] = True

    dead = np.zeros(n, dtype=bool)
    if n_dead:
        candidates = np.flatnonzero(~missing)
        dead[rng.choice(candidates, size=min(n_dead, candidates.size), replace=False)] = True

    missing = missing.reshape(trace_shape)
    dead = dead.reshape(trace_shape)
    killed = missing | dead
    values = data.values.copy()
    values[killed] = 0
    ds = data.to_xarray()
    ds["amplitude"] = (data.dims, values)
    ds["trace_mask"] = (data.trace_dims, data.trace_mask & ~killed)
    # missing traces become holes: no trace of a file fills them (writers leave them out)
    if "trace_index" in ds:
        tindex = np.asarray(ds["trace_index"].values).copy()
    else:
        tindex = np.arange(n, dtype=np.int64).reshape(trace_shape)
    tindex[missing] = -1
    ds["trace_index"] = (data.trace_dims, tindex)
    trace_id_key = HEADER_PREFIX + "trace_id"
    if trace_id_key in ds:
        tid = np.asarray(ds[trace_id_key].values).copy()
        tid[dead] = TRACE_ID_DEAD
        ds[trace_id_key] = (data.trace_dims, tid)
    parameters = {
        "fraction_missing": fraction_missing,
        "fraction_dead": fraction_dead,
        "seed": seed,
        "pattern": pattern,
        "gap_length": gap_length,
    }
    damaged = SeismicData(ds).with_history("damage", **parameters)
    info: dict[str, Any] = {
        "missing": missing,
        "dead": dead,
        "n_missing": int(missing.sum()),
        "n_dead": int(dead.sum()),
        "n_live": int(damaged.trace_mask.sum()),
        "fraction_missing": float(missing.sum()) / n if n else 0.0,
        "fraction_dead": float(dead.sum()) / n if n else 0.0,
        **parameters,
    }
    return damaged, info


def _gap_runs(rng: np.random.Generator, trace_shape: tuple[int, ...], count: int, length: int) -> np.ndarray:
    """A flat boolean array with ``count // length`` non-overlapping runs of ``length`` traces set along
    the last trace axis (fewer when the runs do not fit)."""
    n_fast = trace_shape[-1]
    n_rows = int(np.prod(trace_shape[:-1]))
    length = min(length, n_fast)
    slots_per_row = n_fast // length
    n_runs = min(count // length, slots_per_row * n_rows)
    out = np.zeros(n_rows * n_fast, dtype=bool)
    if n_runs == 0:
        return out
    slots = rng.choice(slots_per_row * n_rows, size=n_runs, replace=False)
    rows, slot = np.divmod(slots, slots_per_row)
    # shift each row's slot grid by a random amount so that gaps do not line up from row to row
    row_shift = rng.integers(0, n_fast - slots_per_row * length + 1, size=n_rows)
    starts = rows * n_fast + row_shift[rows] + slot * length
    out[(starts[:, None] + np.arange(length)[None, :]).reshape(-1)] = True
    return out
