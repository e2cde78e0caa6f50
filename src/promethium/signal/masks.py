"""Masks of missing traces: random, regular decimation, contiguous gaps, and mixtures.

A mask is a bool array over the trace axes, ``True`` for a kept (live) trace. Specs are short strings so
that the CLI, the workflows and the ML datasets all speak the same language:

- ``random:0.5``   remove 50% of the traces at random (exactly ``round(0.5 * n)``);
- ``regular:2``    keep every 2nd trace (in 3D, every 2nd crossline of every inline; ``regular:2x2`` for
  both axes);
- ``gap:10``       one contiguous gap of 10 traces (crosslines in 3D) centred in the data;
  ``gaps:10x3`` for 3 gaps of 10 at random places;
- ``mixed:0.3``    about 30% removed: half as random traces, half as gaps of 2-8 traces.

Only traces that are live in ``base`` (when given) are removed, so a file's own dead traces are never
counted as hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promethium.core.errors import ParameterError

__all__ = ["MaskSpec", "apply_mask", "make_mask", "mean_gap", "parse_mask_spec", "regular_decimation"]

KINDS = ("random", "regular", "gap", "gaps", "mixed")


@dataclass(frozen=True)
class MaskSpec:
    """A parsed mask spec (see the module docstring)."""

    kind: str
    fraction: float = 0.0
    factor: tuple[int, ...] = (1,)
    length: int = 0
    count: int = 1

    def __str__(self) -> str:
        if self.kind == "random" or self.kind == "mixed":
            return f"{self.kind}:{self.fraction:g}"
        if self.kind == "regular":
            return "regular:" + "x".join(str(f) for f in self.factor)
        if self.kind == "gap":
            return f"gap:{self.length}"
        return f"gaps:{self.length}x{self.count}"


def parse_mask_spec(spec: str | MaskSpec, *, parameter: str = "decimate") -> MaskSpec:
    """Parse ``"random:0.5"``, ``"regular:2"``, ``"gap:10"``, ``"gaps:10x3"``, ``"mixed:0.3"``."""
    if isinstance(spec, MaskSpec):
        return spec
    text = str(spec).strip().lower()
    kind, _, arg = text.partition(":")
    allowed = "random:F (0<F<1), regular:N or NxM (N>=2), gap:L, gaps:LxK, mixed:F"
    if kind not in KINDS or not arg:
        raise ParameterError(parameter, f"cannot read mask spec {spec!r}", allowed=allowed)
    try:
        if kind in ("random", "mixed"):
            fraction = float(arg)
            if not 0.0 < fraction < 1.0:
                raise ParameterError(parameter, f"fraction {fraction:g} must be strictly between 0 and 1")
            return MaskSpec(kind, fraction=fraction)
        if kind == "regular":
            factor = tuple(int(p) for p in arg.split("x"))
            if not 1 <= len(factor) <= 2 or min(factor) < 1 or max(factor) < 2:
                raise ParameterError(parameter, f"decimation factor {arg!r} must be N or NxM with N >= 2")
            return MaskSpec(kind, factor=factor)
        if kind == "gap":
            length = int(arg)
            if length < 1:
                raise ParameterError(parameter, f"gap length {length} must be at least 1")
            return MaskSpec(kind, length=length)
        length_s, _, count_s = arg.partition("x")
        length, count = int(length_s), int(count_s or 1)
        if length < 1 or count < 1:
            raise ParameterError(parameter, f"gaps {arg!r}: length and count must be at least 1")
        return MaskSpec(kind, length=length, count=count)
    except ValueError as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(parameter, f"cannot read mask spec {spec!r}", allowed=allowed) from None


def make_mask(
    trace_shape: tuple[int, ...],
    spec: str | MaskSpec,
    *,
    seed: int | None = 0,
    base: np.ndarray | None = None,
    parameter: str = "decimate",
) -> np.ndarray:
    """A kept-trace mask of ``trace_shape`` following ``spec``; only traces live in ``base`` are removed.

    Raises :class:`ParameterError` when the spec would remove every live trace or does not fit the data
    (a gap longer than the line)."""
    ms = parse_mask_spec(spec, parameter=parameter)
    shape = tuple(int(n) for n in trace_shape)
    base_mask = np.ones(shape, dtype=bool) if base is None else np.asarray(base, dtype=bool)
    if base_mask.shape != shape:
        raise ParameterError("base", f"has shape {base_mask.shape}, expected {shape}")
    rng = np.random.default_rng(seed)
    keep = np.ones(shape, dtype=bool)
    n_line = shape[-1]
    if ms.kind == "random":
        live_idx = np.flatnonzero(base_mask)
        n_remove = round(ms.fraction * live_idx.size)
        keep.flat[rng.choice(live_idx, size=n_remove, replace=False)] = False
    elif ms.kind == "regular":
        factors = ms.factor if len(shape) == 2 else ms.factor[:1]
        if len(shape) == 1 and len(ms.factor) == 2:
            raise ParameterError(parameter, "a 2D section takes one decimation factor (regular:N)")
        keep[...] = False
        if len(shape) == 1:
            keep[:: factors[0]] = True
        elif len(factors) == 1:
            keep[:, :: factors[0]] = True
        else:
            keep[:: factors[1], :: factors[0]] = True
    elif ms.kind in ("gap", "gaps"):
        if ms.length >= n_line:
            raise ParameterError(
                parameter,
                f"a gap of {ms.length} traces does not fit a line of {n_line}",
                allowed=f"< {n_line}",
            )
        if ms.kind == "gap":
            starts = [(n_line - ms.length) // 2]
        else:
            starts = list(rng.integers(0, n_line - ms.length + 1, size=ms.count))
        for s in starts:
            keep[..., s : s + ms.length] = False
    else:  # mixed
        total = ms.fraction * base_mask.sum()
        flat = keep.reshape(-1, n_line)
        removed = 0
        while removed < total / 2:
            length = int(rng.integers(2, 9))
            row = int(rng.integers(0, flat.shape[0]))
            s = int(rng.integers(0, max(1, n_line - length + 1)))
            before = int(flat[row, s : s + length].sum())
            flat[row, s : s + length] = False
            removed += before
        remaining = np.flatnonzero(keep & base_mask)
        n_more = max(0, min(remaining.size, round(total - removed)))
        keep.flat[rng.choice(remaining, size=n_more, replace=False)] = False
    # Traces dead in the base stay not-live; they are not counted as hidden by the caller.
    kept_live = keep & base_mask
    if not kept_live.any():
        raise ParameterError(parameter, f"mask {ms} removes every live trace")
    return kept_live


def apply_mask(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """A copy of ``values`` (sample axis last) with the removed traces zeroed."""
    return np.where(np.asarray(keep, dtype=bool)[..., None], values, 0).astype(values.dtype, copy=False)


def regular_decimation(live: np.ndarray, *, share: float = 0.8) -> bool:
    """Whether the missing traces of a live mask (bool over the trace axes) form a regular decimation:
    along the last trace axis, at least ``share`` of the steps between consecutive live traces equal one
    step of 2 or more, and at least a quarter of the traces are missing."""
    live = np.asarray(live, dtype=bool)
    if live.ndim == 0 or live.size == 0 or live.mean() > 0.75:
        return False
    lines = live.reshape(-1, live.shape[-1])
    steps = np.concatenate([np.diff(np.flatnonzero(line)) for line in lines])
    if steps.size == 0:
        return False
    values, counts = np.unique(steps, return_counts=True)
    top = int(np.argmax(counts))
    return bool(values[top] >= 2 and counts[top] >= share * steps.size)


def mean_gap(live: np.ndarray) -> float:
    """Mean length (traces) of the runs of missing traces along the last trace axis of a live mask
    (bool over the trace axes); 0.0 when nothing is missing. Random removal of a fraction ``q`` gives
    about ``1 / (1 - q)`` (2 at 50 %, 4 at 75 %); a contiguous gap, its length."""
    miss = ~np.asarray(live, dtype=bool)
    if miss.ndim == 0 or not miss.any():
        return 0.0
    lines = miss.reshape(-1, miss.shape[-1]).astype(np.int8)
    starts = int((np.diff(lines, axis=1, prepend=0) == 1).sum())
    return float(miss.sum()) / starts
