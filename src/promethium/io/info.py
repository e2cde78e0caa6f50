"""Describe a seismic file without loading it whole: :func:`describe`.

What ``promethium io info`` prints, what the REST API returns for an upload and what a worker records
after ingesting one: format, size, geometry (inline/crossline ranges, holes, duplicates), trace states
(live, dead, masked, holes), header ranges, amplitude range and the warnings the reader raised. Files
that can be opened lazily are streamed in chunks of traces, so memory stays bounded (apart from the
inline/crossline numbers, 16 bytes a trace, needed to infer the grid); the others are read whole.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from promethium.core.errors import PromethiumWarning
from promethium.io.convert import ProgressCallback, budget_traces, open_lazily
from promethium.io.data import HEADER_PREFIX, SeismicData
from promethium.io.data import jsonable as _jsonable

__all__ = ["DEAD_TRACE_ID", "KEY_HEADERS", "describe"]

#: Header fields whose ranges :func:`describe` reports, when present.
KEY_HEADERS = (
    "trace_sequence_file",
    "field_record",
    "trace_number",
    "inline",
    "crossline",
    "cdp",
    "cdp_x",
    "cdp_y",
    "source_x",
    "source_y",
    "group_x",
    "group_y",
    "offset",
    "coordinate_scalar",
    "trace_id",
    "n_samples",
    "sample_interval",
)
#: SEG-Y trace identification code of a dead trace.
DEAD_TRACE_ID = 2
#: Header fields summarised for formats without the SEG-Y names (miniSEED, SAC): the first numeric ones.
MAX_OTHER_HEADERS = 12


class _Stats:
    """Statistics accumulated over chunks of traces (bounded memory apart from the line numbers)."""

    def __init__(self) -> None:
        self.live = self.dead = self.masked = self.holes = 0
        self.headers: dict[str, list[int | float]] = {}
        self.inline: list[np.ndarray] = []
        self.crossline: list[np.ndarray] = []
        self.amp_min = np.inf
        self.amp_max = -np.inf
        self.sum_sq = 0.0
        self.n_values = 0
        self.warnings: list[str] = []
        self.geometry: dict[str, Any] | None = None
        self.attrs: dict[str, Any] = {}

    def add(self, data: SeismicData) -> None:
        flat = data.to_traces() if data.is_3d else data
        if not self.attrs:
            self.attrs = dict(data.attrs)
            if isinstance(data.attrs.get("geometry"), dict):
                self.geometry = dict(data.attrs["geometry"])
        for w in data.attrs.get("warnings", []) or []:
            if str(w) not in self.warnings:
                self.warnings.append(str(w))
        mask = flat.trace_mask.reshape(-1)
        present = np.ones(mask.shape, dtype=bool)
        if "trace_index" in flat:
            present = np.asarray(flat["trace_index"].values).reshape(-1) >= 0
        names = set(flat.header_names)
        dead = np.zeros(mask.shape, dtype=bool)
        if "trace_id" in names:
            dead = (flat.header("trace_id").reshape(-1) == DEAD_TRACE_ID) & present
        self.holes += int((~present).sum())
        self.live += int((mask & present).sum())
        self.dead += int(dead.sum())
        self.masked += int((~mask & present & ~dead).sum())
        summarised = [n for n in KEY_HEADERS if n in names]
        if not summarised:  # not SEG-Y: the first numeric header fields, in their order
            numeric = [n for n in flat.header_names if flat[HEADER_PREFIX + n].dtype.kind in "iuf"]
            summarised = numeric[:MAX_OTHER_HEADERS]
        for name in summarised:
            if present.any():
                h = flat.header(name).reshape(-1)[present]
                if h.dtype.kind == "f" and not np.isfinite(h).any():
                    continue
                reduce_min, reduce_max = (np.nanmin, np.nanmax) if h.dtype.kind == "f" else (np.min, np.max)
                lo, hi = reduce_min(h).item(), reduce_max(h).item()
                if name in self.headers:
                    old = self.headers[name]
                    self.headers[name] = [min(old[0], lo), max(old[1], hi)]
                else:
                    self.headers[name] = [lo, hi]
        if {"inline", "crossline"} <= names:
            self.inline.append(flat.header("inline").reshape(-1)[present].astype(np.int64))
            self.crossline.append(flat.header("crossline").reshape(-1)[present].astype(np.int64))
        live = mask & present
        if live.any():
            vals = np.asarray(flat.values).reshape(mask.size, -1)[live]
            finite = vals[np.isfinite(vals)]
            if finite.size:
                self.amp_min = min(self.amp_min, float(finite.min()))
                self.amp_max = max(self.amp_max, float(finite.max()))
                self.sum_sq += float(np.square(finite, dtype=np.float64).sum())
                self.n_values += int(finite.size)

    def geometry_report(self, whole: bool) -> dict[str, Any] | None:
        """The geometry: inferred from the inline/crossline numbers of the traces present when the
        headers have them, else the one the reader reported for the whole file (``whole``)."""
        il = np.concatenate(self.inline) if self.inline else np.zeros(0, dtype=np.int64)
        xl = np.concatenate(self.crossline) if self.crossline else np.zeros(0, dtype=np.int64)
        if self.inline and not (il.any() or xl.any()):
            return {
                "kind": "2d",
                "traces": int(il.size),
                "reason": "no inline/crossline numbers in the headers",
            }
        if il.size:
            from promethium.io.geometry import infer_grid

            report = infer_grid(il, xl).report()
            if whole and self.geometry:
                report = (
                    {**self.geometry, **report} if report.get("kind") == self.geometry.get("kind") else report
                )
            return report
        return self.geometry if whole else None


def describe(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    storage_options: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Describe a file, folder (Zarr) or URL without loading it whole; returns a JSON-ready dict.

    Keys: ``path``, ``format``, ``traces``, ``samples``, ``sample_interval``, ``sample_unit``,
    ``domain``, ``length`` (of a trace, in the sample unit), ``geometry`` (when known: ``kind`` and,
    for grids, the inline/crossline ranges, ``grid_shape``, ``holes`` and ``duplicates``), ``mask``
    (counts of ``live``, ``dead`` (SEG-Y trace id 2), ``masked`` and ``holes`` traces), ``headers``
    (``{name: {"min", "max"}}``), ``amplitude`` (``min``, ``max``, ``rms`` of the live samples, when
    any) and ``warnings`` (what the reader tolerated), plus what the format's lazy reader reports
    (``format_info`` for SEG-Y, ``dims``/``chunks`` for Zarr). The format is detected from the content
    unless ``format`` is given. ``progress(done, total)`` is called after each chunk of traces.

    The reader's :class:`PromethiumWarning` are collected into ``warnings`` instead of being shown;
    other warnings pass through.
    """
    from promethium.io import formats

    source = str(path)
    stats = _Stats()
    out: dict[str, Any] = {"path": source}
    streamed = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PromethiumWarning)
        with open_lazily(source, format, storage_options=storage_options) as f:
            if f is not None:
                streamed = True
                out.update(_jsonable(f.info()))
                total = f.n_traces
                done = 0
                for chunk in f.iter_chunks(budget_traces(f.n_samples)):
                    stats.add(chunk)
                    done += chunk.n_traces
                    if progress is not None:
                        progress(min(done, total), total)
            else:
                data = formats.read(source, format, storage_options=storage_options)
                stats.add(data)
                out["format"] = (
                    formats.get_plugin(format).name
                    if format
                    else formats.detect_format(source, storage_options)
                )
                out["traces"] = data.n_traces
                out["samples"] = data.n_samples
                out["sample_interval"] = data.sample_interval
                if progress is not None:
                    progress(data.n_traces, data.n_traces)
    for w in caught:
        if issubclass(w.category, PromethiumWarning) and str(w.message) not in stats.warnings:
            stats.warnings.append(str(w.message))
        elif not issubclass(w.category, PromethiumWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    attrs = stats.attrs
    out.setdefault("sample_unit", attrs.get("sample_unit", "ms"))
    out.setdefault("domain", attrs.get("domain", "time"))
    n_samples = int(out.get("samples", 0))
    interval = float(out.get("sample_interval", 0.0))
    out["length"] = (n_samples - 1) * interval if n_samples else 0.0
    if attrs.get("format_info") and "format_info" not in out:
        out["format_info"] = _jsonable(attrs["format_info"])
    geometry = stats.geometry_report(whole=not streamed)
    holes = stats.holes
    if geometry is not None:
        out["geometry"] = _jsonable(geometry)
        holes = max(holes, int(geometry.get("holes", 0) or 0))
    out["mask"] = {"live": stats.live, "dead": stats.dead, "masked": stats.masked, "holes": holes}
    out["headers"] = {k: {"min": v[0], "max": v[1]} for k, v in stats.headers.items()}
    if stats.n_values:
        out["amplitude"] = {
            "min": stats.amp_min,
            "max": stats.amp_max,
            "rms": float(np.sqrt(stats.sum_sq / stats.n_values)),
        }
    out["warnings"] = stats.warnings
    result: dict[str, Any] = _jsonable(out)
    return result
