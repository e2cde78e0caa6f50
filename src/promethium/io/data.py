"""``SeismicData``: the container every Promethium operation takes and returns.

It wraps an :class:`xarray.Dataset` laid out as follows:

- ``amplitude``: float32 (float64 on request), sample axis last. Dims ``("trace", "time")`` for gathers,
  2D lines and station recordings, ``("inline", "crossline", "time")`` for 3D volumes. The sample dim is
  ``"depth"`` for depth-domain data.
- ``trace_mask``: bool over the trace dims, ``True`` for a live trace, ``False`` for a missing one (a hole
  in the geometry), a dead one (SEG-Y trace identification code 2) or an all-zero one.
- ``trace_index``: int64 over the trace dims, the ordinal of the trace in its source file, ``-1`` for a
  hole that no trace of the source filled.
- ``hdr_<name>``: one variable per trace header field (``hdr_inline``, ``hdr_cdp_x``, ...), kept at the
  width the format gives it, so that a write reproduces the headers exactly.
- coordinates: the sample axis (ms or m), ``inline``/``crossline`` numbers for volumes, ``cdp_x``/``cdp_y``
  and ``offset`` (scaled) where the headers provide them.
- attrs: ``sample_interval`` (ms or m), ``sample_unit``, ``domain``, ``source_format``, ``textual_header``,
  ``binary_header``, ``format_info``, ``geometry`` (a report), ``warnings`` and ``history``.

Operations never modify a ``SeismicData`` in place: they return a new one whose ``history`` has one more
entry.
"""

from __future__ import annotations

import copy as _copy
import datetime as _dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from promethium._version import __version__

__all__ = ["HEADER_PREFIX", "SeismicData"]

HEADER_PREFIX = "hdr_"
TRACE_DIMS_2D = ("trace",)
TRACE_DIMS_3D = ("inline", "crossline")
SAMPLE_DIMS = ("time", "depth")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class SeismicData:
    """Seismic amplitudes with their headers, trace mask, coordinates and processing history."""

    __slots__ = ("_ds",)

    def __init__(self, dataset: xr.Dataset) -> None:
        if "amplitude" not in dataset:
            raise ValueError("a SeismicData dataset needs an 'amplitude' variable")
        amp = dataset["amplitude"]
        if amp.dims[-1] not in SAMPLE_DIMS:
            raise ValueError(
                f"the last dim of 'amplitude' must be one of {SAMPLE_DIMS}, not {amp.dims[-1]!r}"
            )
        trace_dims = tuple(amp.dims[:-1])
        if trace_dims not in (TRACE_DIMS_2D, TRACE_DIMS_3D):
            raise ValueError(f"trace dims must be {TRACE_DIMS_2D} or {TRACE_DIMS_3D}, not {trace_dims}")
        if "trace_mask" not in dataset:
            dataset = dataset.assign(trace_mask=(trace_dims, np.ones(amp.shape[:-1], dtype=bool)))
        if "history" not in dataset.attrs:
            dataset.attrs["history"] = []
        self._ds = dataset

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_array(
        cls,
        values: np.ndarray,
        *,
        sample_interval: float,
        dims: Sequence[str] | None = None,
        start: float = 0.0,
        domain: str = "time",
        trace_mask: np.ndarray | None = None,
        headers: Mapping[str, np.ndarray] | None = None,
        coords: Mapping[str, Any] | None = None,
        attrs: Mapping[str, Any] | None = None,
        dtype: Any = np.float32,
    ) -> SeismicData:
        """Build from a 2D ``(trace, time)`` or 3D ``(inline, crossline, time)`` array.

        ``sample_interval`` is in ms for time data and in m for depth data; ``start`` is the time (or
        depth) of the first sample. ``headers`` maps header field names to per-trace arrays.
        """
        arr = np.asarray(values)
        if arr.ndim not in (2, 3):
            raise ValueError(f"expected a 2D or 3D array, got {arr.ndim} dims")
        if not np.isfinite(sample_interval) or sample_interval <= 0:
            raise ValueError(f"sample_interval must be positive, got {sample_interval}")
        if domain not in SAMPLE_DIMS:
            raise ValueError(f"domain must be one of {SAMPLE_DIMS}")
        if dims is None:
            dims = (*(TRACE_DIMS_2D if arr.ndim == 2 else TRACE_DIMS_3D), domain)
        dims = tuple(dims)
        trace_dims = dims[:-1]
        trace_shape = arr.shape[:-1]
        n = arr.shape[-1]
        axis = np.arange(n, dtype=np.float64)
        axis *= sample_interval
        axis += start
        ds_coords: dict[str, Any] = {dims[-1]: (dims[-1], axis)}
        if trace_dims == TRACE_DIMS_2D:
            ds_coords["trace"] = ("trace", np.arange(trace_shape[0], dtype=np.int64))
        else:
            ds_coords["inline"] = ("inline", np.arange(1, trace_shape[0] + 1, dtype=np.int64))
            ds_coords["crossline"] = ("crossline", np.arange(1, trace_shape[1] + 1, dtype=np.int64))
        for name, value in (coords or {}).items():
            ds_coords[name] = value
        mask = np.ones(trace_shape, dtype=bool) if trace_mask is None else np.asarray(trace_mask, dtype=bool)
        if mask.shape != trace_shape:
            raise ValueError(f"trace_mask shape {mask.shape} does not match the traces {trace_shape}")
        data_vars: dict[str, Any] = {
            "amplitude": (dims, arr.astype(dtype, copy=False)),
            "trace_mask": (trace_dims, mask),
        }
        for name, hv in (headers or {}).items():
            hv = np.asarray(hv)
            if hv.shape != trace_shape:
                raise ValueError(f"header {name!r} has shape {hv.shape}, expected {trace_shape}")
            data_vars[HEADER_PREFIX + name] = (trace_dims, hv)
        unit = "ms" if domain == "time" else "m"
        base_attrs: dict[str, Any] = {
            "sample_interval": float(sample_interval),
            "sample_unit": unit,
            "domain": domain,
            "source_format": "array",
            "history": [],
        }
        base_attrs.update(dict(attrs or {}))
        # Indexes for the long axes are built here around the arrays themselves: xarray's default
        # would copy a million-sample time axis into a new pandas index on every read.
        indexes = {}
        for dim in (dims[-1], "trace"):
            value = ds_coords.get(dim)
            if isinstance(value, tuple) and len(value) == 2 and value[0] == dim:
                indexes[dim] = PandasIndex(pd.Index(np.asarray(value[1]), copy=False), dim)
        coords_obj = (
            xr.Coordinates({k: v for k, v in ds_coords.items() if k in indexes}, indexes=indexes)
            .merge({k: v for k, v in ds_coords.items() if k not in indexes})
            .coords
        )
        return cls(xr.Dataset(data_vars, coords=coords_obj, attrs=base_attrs))

    # ------------------------------------------------------------------ basic properties
    @property
    def dataset(self) -> xr.Dataset:
        """The underlying xarray Dataset (treat as read-only)."""
        return self._ds

    def to_xarray(self) -> xr.Dataset:
        """A copy of the underlying Dataset that may be modified freely."""
        return self._ds.copy(deep=False)

    @property
    def amplitude(self) -> xr.DataArray:
        return self._ds["amplitude"]

    @property
    def values(self) -> np.ndarray:
        """The amplitudes as a numpy array (loads lazily opened data)."""
        return np.asarray(self._ds["amplitude"].values)

    @property
    def trace_mask(self) -> np.ndarray:
        return np.asarray(self._ds["trace_mask"].values, dtype=bool)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(str(d) for d in self.amplitude.dims)

    @property
    def trace_dims(self) -> tuple[str, ...]:
        return self.dims[:-1]

    @property
    def sample_dim(self) -> str:
        return self.dims[-1]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.amplitude.shape)

    @property
    def is_3d(self) -> bool:
        return self.trace_dims == TRACE_DIMS_3D

    @property
    def n_traces(self) -> int:
        return int(np.prod(self.shape[:-1], dtype=np.int64))

    @property
    def n_samples(self) -> int:
        return self.shape[-1]

    @property
    def sample_interval(self) -> float:
        """Sample interval in ``sample_unit`` (ms for time data, m for depth data)."""
        return float(self._ds.attrs["sample_interval"])

    @property
    def sample_unit(self) -> str:
        return str(self._ds.attrs.get("sample_unit", "ms"))

    @property
    def samples(self) -> np.ndarray:
        """The sample axis coordinate (ms or m)."""
        return np.asarray(self._ds[self.sample_dim].values)

    @property
    def attrs(self) -> dict[str, Any]:
        return self._ds.attrs

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self._ds.attrs.get("history", []))

    @property
    def header_names(self) -> list[str]:
        return [str(k)[len(HEADER_PREFIX) :] for k in self._ds.data_vars if str(k).startswith(HEADER_PREFIX)]

    @property
    def headers(self) -> xr.Dataset:
        """The trace headers as a Dataset (names without the ``hdr_`` prefix)."""
        names = [k for k in self._ds.data_vars if str(k).startswith(HEADER_PREFIX)]
        sub = self._ds[names]
        return sub.rename({k: str(k)[len(HEADER_PREFIX) :] for k in names})

    def header(self, name: str) -> np.ndarray:
        """Values of one trace header field over the trace dims."""
        key = HEADER_PREFIX + name
        if key not in self._ds:
            raise KeyError(f"no trace header {name!r}; available: {', '.join(self.header_names) or 'none'}")
        return np.asarray(self._ds[key].values)

    # ------------------------------------------------------------------ derivation
    def _derive(
        self, ds: xr.Dataset, operation: str | None, parameters: Mapping[str, Any] | None
    ) -> SeismicData:
        ds.attrs = _copy.deepcopy(dict(self._ds.attrs))
        if operation is not None:
            entry = {
                "operation": operation,
                "parameters": jsonable(dict(parameters or {})),
                "time": _now(),
                "version": __version__,
            }
            ds.attrs["history"] = [*ds.attrs.get("history", []), entry]
        return SeismicData(ds)

    def with_history(self, operation: str, **parameters: Any) -> SeismicData:
        """A shallow copy with one more history entry."""
        return self._derive(self._ds.copy(deep=False), operation, parameters)

    def replace(
        self,
        values: np.ndarray | None = None,
        *,
        trace_mask: np.ndarray | None = None,
        operation: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> SeismicData:
        """A new SeismicData with other amplitudes and/or mask; headers and coords are shared."""
        ds = self._ds.copy(deep=False)
        if values is not None:
            arr = np.asarray(values)
            if arr.shape != self.shape:
                raise ValueError(f"new values have shape {arr.shape}, expected {self.shape}")
            ds["amplitude"] = (self.dims, arr.astype(self.amplitude.dtype, copy=False))
        if trace_mask is not None:
            m = np.asarray(trace_mask, dtype=bool)
            if m.shape != self.shape[:-1]:
                raise ValueError(f"new trace_mask has shape {m.shape}, expected {self.shape[:-1]}")
            ds["trace_mask"] = (self.trace_dims, m)
        out = self._derive(ds, operation, parameters)
        if attrs:
            out._ds.attrs.update(attrs)
        return out

    def isel(self, indexers: Mapping[Any, Any] | None = None, **kw: Any) -> SeismicData:
        """Select by position along named dims (``data.isel(trace=slice(0, 10))``).

        A single inline (or crossline) of a volume comes back as a 2D ``(trace, time)`` section; a step
        along the sample axis updates the sample interval."""
        return self._selected(self._ds.isel(indexers, **kw))

    def sel(self, indexers: Mapping[Any, Any] | None = None, **kw: Any) -> SeismicData:
        """Select by coordinate value (``data.sel(inline=120)``, ``data.sel(time=slice(0, 500))``)."""
        return self._selected(self._ds.sel(indexers, **kw))

    def _selected(self, ds: xr.Dataset) -> SeismicData:
        """Keep a selection a valid SeismicData: sample axis and interval, trace dims."""
        sample_dim = self.sample_dim
        if sample_dim not in ds["amplitude"].dims:
            raise ValueError(f"a selection must keep the {sample_dim!r} axis: select a slice, not one sample")
        dims = tuple(str(d) for d in ds["amplitude"].dims[:-1])
        if self.is_3d and len(dims) == 1:
            # One inline (or crossline) of a volume: a 2D section whose traces keep their numbers.
            kept = dims[0]
            fixed = "inline" if kept == "crossline" else "crossline"
            number = np.asarray(ds[kept].values)
            ds = ds.drop_vars(kept).rename_dims({kept: "trace"})
            ds = ds.assign_coords(
                {
                    "trace": ("trace", np.arange(ds.sizes["trace"], dtype=np.int64)),
                    f"{kept}_number": ("trace", number),
                }
            )
            if fixed in ds.coords and ds[fixed].ndim == 0:
                value = ds[fixed].values
                ds = ds.drop_vars(fixed).assign_coords(
                    {f"{fixed}_number": ("trace", np.full(ds.sizes["trace"], value))}
                )
            ds = ds.transpose("trace", sample_dim, ...)
        out = self._derive(ds, None, None)
        axis = np.asarray(ds[sample_dim].values, dtype=np.float64)
        if axis.size >= 2:
            steps = np.diff(axis)
            if steps[0] <= 0 or not np.allclose(steps, steps[0], rtol=1e-9, atol=0):
                raise ValueError(f"the selected {sample_dim} axis is not evenly spaced and increasing")
            out._ds.attrs["sample_interval"] = float(steps[0])
        return out

    def load(self) -> SeismicData:
        """Load lazily opened arrays into memory."""
        return SeismicData(self._ds.load())

    def copy(self, deep: bool = True) -> SeismicData:
        return SeismicData(self._ds.copy(deep=deep))

    def astype(self, dtype: Any) -> SeismicData:
        ds = self._ds.copy(deep=False)
        ds["amplitude"] = self.amplitude.astype(dtype)
        return self._derive(ds, None, None)

    def to_traces(self) -> SeismicData:
        """Flatten a volume to ``(trace, time)`` (row-major: inline slowest); 2D data is returned as is."""
        if not self.is_3d:
            return self
        ds = self._ds.stack(trace=TRACE_DIMS_3D)
        il = np.asarray(ds["inline"].values)
        xl = np.asarray(ds["crossline"].values)
        ds = ds.drop_vars(["trace", "inline", "crossline"])
        ds = ds.assign_coords(
            trace=("trace", np.arange(ds.sizes["trace"], dtype=np.int64)),
            inline_number=("trace", il),
            crossline_number=("trace", xl),
        )
        ds = ds.transpose("trace", self.sample_dim, ...)
        return self._derive(ds, None, None)

    # ------------------------------------------------------------------ comparison and display
    def equals(self, other: SeismicData, *, headers: bool = True) -> bool:
        """True when amplitudes, mask, sample axis (and headers) are identical."""
        if self.dims != other.dims or self.shape != other.shape:
            return False
        if not np.array_equal(self.values, other.values, equal_nan=True):
            return False
        if not np.array_equal(self.trace_mask, other.trace_mask):
            return False
        if not np.allclose(self.samples, other.samples):
            return False
        if headers:
            if sorted(self.header_names) != sorted(other.header_names):
                return False
            for name in self.header_names:
                if not _same(self.header(name), other.header(name)):
                    return False
        return True

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description (what ``promethium io info`` prints)."""
        mask = self.trace_mask
        s = self.samples
        out: dict[str, Any] = {
            "dims": dict(zip(self.dims, self.shape, strict=True)),
            "traces": self.n_traces,
            "samples": self.n_samples,
            "sample_interval": self.sample_interval,
            "sample_unit": self.sample_unit,
            "domain": self._ds.attrs.get("domain", "time"),
            "start": float(s[0]) if s.size else 0.0,
            "end": float(s[-1]) if s.size else 0.0,
            "dtype": str(self.amplitude.dtype),
            "live_traces": int(mask.sum()),
            "masked_traces": int(mask.size - mask.sum()),
            "source_format": self._ds.attrs.get("source_format"),
            "history": len(self.history),
        }
        if "geometry" in self._ds.attrs:
            out["geometry"] = self._ds.attrs["geometry"]
        if "format_info" in self._ds.attrs:
            out["format_info"] = self._ds.attrs["format_info"]
        if self._ds.attrs.get("warnings"):
            out["warnings"] = list(self._ds.attrs["warnings"])
        return out

    def __repr__(self) -> str:
        dims = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.shape, strict=True))
        mask = self.trace_mask
        return (
            f"<SeismicData ({dims}) {self.amplitude.dtype} dt={self.sample_interval:g} {self.sample_unit} "
            f"live={int(mask.sum())}/{mask.size} from={self._ds.attrs.get('source_format')} "
            f"history={len(self.history)}>"
        )

    def __getitem__(self, key: Hashable) -> xr.DataArray:
        return self._ds[key]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ds


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Element-wise equality where NaN equals NaN and NaT equals NaT (strings compared plainly)."""
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fcmM" and b.dtype.kind in "fcmM":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays and other simple objects into JSON-ready values."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"<array shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return str(value)
