"""Survey geometry inferred from trace headers, tolerant of irregular surveys.

A 3D grid is built from the inline and crossline numbers: its axes step by the greatest common divisor
of the spacings seen, so whole missing lines become holes too. Traces missing from the grid become
masked holes; duplicated (inline, crossline) pairs are counted and reported with examples, never
silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd
from typing import Any

import numpy as np

__all__ = ["GridGeometry", "infer_grid"]


@dataclass
class GridGeometry:
    """The outcome of geometry inference, with a JSON-ready :meth:`report`."""

    kind: str  # "3d", "2d", "prestack" or "irregular"
    inlines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    crosslines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: grid position (inline row, crossline column) of every trace; -1 where not on the grid
    row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    col: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_traces: int = 0
    n_duplicates: int = 0
    duplicate_examples: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.inlines), len(self.crosslines))

    @property
    def n_holes(self) -> int:
        if self.kind != "3d":
            return 0
        return int(self.shape[0] * self.shape[1] - (self.n_traces - self.n_duplicates))

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "traces": self.n_traces}
        if len(self.inlines):
            out["inline"] = _axis(self.inlines)
            out["crossline"] = _axis(self.crosslines)
        if self.kind == "3d":
            out["grid_shape"] = list(self.shape)
            out["holes"] = self.n_holes
        out["duplicates"] = self.n_duplicates
        if self.duplicate_examples:
            out["duplicate_examples"] = self.duplicate_examples
        if self.reason:
            out["reason"] = self.reason
        return out


def _axis(values: np.ndarray) -> dict[str, int]:
    step = int(values[1] - values[0]) if len(values) > 1 else 1
    return {"first": int(values[0]), "last": int(values[-1]), "step": step, "count": len(values)}


def _regular_axis(unique: np.ndarray, max_factor: float = 4.0) -> np.ndarray:
    """A regular axis through the sorted unique values, stepping by the gcd of their spacings.

    Falls back to the unique values themselves when the regular axis would be far longer (a few
    outlying numbers must not create a huge, nearly empty grid)."""
    if len(unique) < 2:
        return unique.astype(np.int64)
    step = 0
    for d in np.diff(unique):
        step = gcd(step, int(d))
    step = max(step, 1)
    n = (int(unique[-1]) - int(unique[0])) // step + 1
    if n > max_factor * len(unique) + 8:
        return unique.astype(np.int64)
    return np.arange(int(unique[0]), int(unique[-1]) + 1, step, dtype=np.int64)


def infer_grid(
    inline: np.ndarray,
    crossline: np.ndarray,
    offset: np.ndarray | None = None,
    *,
    min_fill: float = 0.5,
    max_examples: int = 5,
) -> GridGeometry:
    """Infer a regular inline/crossline grid from per-trace header values.

    ``kind`` is ``"3d"`` when the traces fill at least ``min_fill`` of a grid with more than one inline
    and crossline and no (inline, crossline) pair repeats; ``"prestack"`` when pairs repeat with
    different offsets; ``"irregular"`` when pairs repeat otherwise (reported as duplicates); ``"2d"``
    when the headers carry no usable grid.
    """
    il = np.asarray(inline, dtype=np.int64)
    xl = np.asarray(crossline, dtype=np.int64)
    n = int(il.size)
    if n == 0:
        return GridGeometry(kind="2d", n_traces=0, reason="no traces")
    uil = np.unique(il)
    uxl = np.unique(xl)
    if len(uil) < 2 or len(uxl) < 2:
        return GridGeometry(kind="2d", n_traces=n, reason="fewer than two distinct inlines or crosslines")
    inlines = _regular_axis(uil)
    crosslines = _regular_axis(uxl)
    row = np.searchsorted(inlines, il)
    col = np.searchsorted(crosslines, xl)
    cell = row * len(crosslines) + col
    order = np.argsort(cell, kind="stable")
    sorted_cells = cell[order]
    dup_mask_sorted = np.zeros(n, dtype=bool)
    dup_mask_sorted[1:] = sorted_cells[1:] == sorted_cells[:-1]
    n_dup = int(dup_mask_sorted.sum())
    geom = GridGeometry(
        kind="3d", inlines=inlines, crosslines=crosslines, row=row, col=col, n_traces=n, n_duplicates=n_dup
    )
    if n_dup:
        first_dups = np.unique(sorted_cells[dup_mask_sorted])[:max_examples]
        for c in first_dups:
            traces = np.nonzero(cell == c)[0]
            geom.duplicate_examples.append(
                {
                    "inline": int(il[traces[0]]),
                    "crossline": int(xl[traces[0]]),
                    "traces": [int(t) for t in traces[:8]],
                }
            )
        if offset is not None:
            off = np.asarray(offset, dtype=np.int64)
            key = np.stack([cell, off], axis=1)
            if len(np.unique(key, axis=0)) == n:
                geom.kind = "prestack"
                geom.reason = "(inline, crossline) pairs repeat with different offsets"
                return geom
        geom.kind = "irregular"
        geom.reason = f"{n_dup} traces repeat an (inline, crossline) pair already seen"
        return geom
    fill = n / (len(inlines) * len(crosslines))
    if fill < min_fill:
        geom.kind = "irregular"
        geom.reason = f"traces fill only {fill:.0%} of the inline/crossline grid"
    return geom
