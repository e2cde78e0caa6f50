"""What every signal operation shares: taking SeismicData or arrays, validating, recording history.

An operation is written once against a plain ndarray with the sample axis last; :func:`prepare` turns
its input (a :class:`SeismicData` or an array) into that, and :func:`finish` turns the result back into
the caller's type, appending one history entry for SeismicData. Parameter checks raise
:class:`ParameterError` naming the parameter and the allowed range; data checks raise :class:`DataError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData

__all__ = [
    "BLOCK_BYTES",
    "ArrayOrData",
    "DataT",
    "Prepared",
    "all_finite",
    "check_choice",
    "check_frequency",
    "check_int",
    "check_range",
    "finish",
    "prepare",
    "resolve_mask",
    "row_blocks",
]

ArrayOrData = SeismicData | np.ndarray
#: The type an operation returns: the type it was given (SeismicData in, SeismicData out).
DataT = TypeVar("DataT", SeismicData, np.ndarray)

#: Size of the blocks of traces that operations with float64 temporaries work on, and that the finite
#: checks scan: the temporaries stay a few MiB whatever the size of the data.
BLOCK_BYTES = 4 * 1024 * 1024


def row_blocks(n_rows: int, row_bytes: int, block_bytes: int = BLOCK_BYTES) -> Iterator[slice]:
    """Slices of ``range(n_rows)`` of about ``block_bytes`` (``row_bytes`` each row; at least one row)."""
    step = max(1, int(block_bytes) // max(1, int(row_bytes)))
    for a in range(0, n_rows, step):
        yield slice(a, min(n_rows, a + step))


def all_finite(values: np.ndarray, block_bytes: int = BLOCK_BYTES) -> bool:
    """``np.isfinite(values).all()`` without a full-size boolean temporary: the check runs on blocks
    along the first axis (a sum is no substitute: large finite values can overflow it to inf)."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        return True  # integers and booleans are always finite
    if values.ndim == 0 or values.size == 0:
        return bool(np.isfinite(values).all())
    row_bytes = values.dtype.itemsize * (values.size // values.shape[0])
    return all(
        bool(np.isfinite(values[s]).all()) for s in row_blocks(values.shape[0], row_bytes, block_bytes)
    )


def _float_dtype(dtype: Any, values: np.ndarray) -> np.dtype[Any]:
    """The working dtype: ``dtype``, or for ``None`` the input's when it is float32/float64 (else float64)."""
    if dtype is not None:
        return np.dtype(dtype)
    if values.dtype in (np.float32, np.float64):
        return values.dtype
    return np.dtype(np.float64)


@dataclass(frozen=True)
class Prepared:
    """An operation's view of its input.

    ``values``: float array, sample axis last, shape ``(trace, time)`` or ``(inline, crossline, time)``
    (1D input is treated as one trace). ``dt``: sample interval in seconds (metres for depth data).
    ``mask``: bool over the trace axes, ``True`` for live traces. ``source``: the SeismicData given, or
    ``None`` for array input. ``squeeze``: the input was 1D.
    """

    values: np.ndarray
    dt: float | None
    mask: np.ndarray
    source: SeismicData | None
    squeeze: bool = False

    @property
    def nyquist(self) -> float:
        if self.dt is None:
            raise ParameterError("dt_ms", "the sample interval is needed for numpy input", allowed="> 0 ms")
        return 0.5 / self.dt

    @property
    def n_samples(self) -> int:
        return int(self.values.shape[-1])

    @property
    def trace_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.values.shape[:-1])

    def require_dt(self) -> float:
        if self.dt is None:
            raise ParameterError("dt_ms", "the sample interval is needed for numpy input", allowed="> 0 ms")
        return self.dt


def prepare(
    data: ArrayOrData,
    *,
    dt_ms: float | None = None,
    dtype: Any = np.float64,
    allow_nonfinite: bool = False,
    min_samples: int = 1,
    ndim: tuple[int, ...] = (1, 2, 3),
    name: str = "data",
) -> Prepared:
    """Validate the input of an operation and return its array view (a copy only when the dtype changes).

    ``dtype``: the dtype of ``Prepared.values``; ``None`` keeps float32 and float64 input as they are
    (no copy) and converts anything else to float64. The values are the caller's array when no
    conversion is needed: operations must not write into them."""
    if isinstance(data, SeismicData):
        values = np.asarray(data.values)
        mask = np.asarray(data.trace_mask, dtype=bool)
        dt: float | None = float(data.sample_interval) / 1000.0
        if dt_ms is not None:
            raise ParameterError("dt_ms", "is taken from the data for SeismicData input; do not pass it")
        source: SeismicData | None = data
    else:
        values = np.asarray(data)
        if values.dtype.kind not in "fiu":
            raise DataError(f"{name}: expected real numbers, got dtype {values.dtype}")
        source = None
        if dt_ms is not None and (not np.isfinite(dt_ms) or dt_ms <= 0):
            raise ParameterError("dt_ms", f"must be a positive number of milliseconds, got {dt_ms}")
        dt = None if dt_ms is None else float(dt_ms) / 1000.0
        mask = np.ones(values.shape[:-1], dtype=bool) if values.ndim >= 1 else np.ones((), dtype=bool)
    squeeze = False
    if values.ndim == 1:
        values = values[None, :]
        mask = np.ones(1, dtype=bool)
        squeeze = True
    if values.ndim not in ndim and not (squeeze and 1 in ndim):
        allowed = ", ".join(f"{n}D" for n in ndim)
        raise DataError(f"{name}: expected {allowed} data, got {values.ndim} dims with shape {values.shape}")
    if values.ndim > 3:
        raise DataError(f"{name}: at most 3 dims (inline, crossline, time), got shape {values.shape}")
    if values.size == 0:
        raise DataError(f"{name}: the data are empty (shape {values.shape})")
    if values.shape[-1] < min_samples:
        raise DataError(f"{name}: needs at least {min_samples} samples per trace, got {values.shape[-1]}")
    values = values.astype(_float_dtype(dtype, values), copy=False)
    if not allow_nonfinite and not all_finite(values):
        bad = np.argwhere(~np.isfinite(values))
        first = tuple(int(i) for i in bad[0])
        raise DataError(
            f"{name}: {len(bad)} NaN or infinite samples (first at index {first}); repair or mask them first"
        )
    return Prepared(values=values, dt=dt, mask=mask, source=source, squeeze=squeeze)


def finish(
    prep: Prepared,
    values: np.ndarray,
    operation: str,
    parameters: Mapping[str, Any],
    *,
    trace_mask: np.ndarray | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> ArrayOrData:
    """Return ``values`` as the caller's type: SeismicData (with one more history entry) or an ndarray.

    Non-finite output is a bug in the operation, never something to hand back: it raises."""
    if not all_finite(values):
        raise DataError(f"{operation}: produced non-finite samples; this is a bug, please report it")
    if prep.source is None:
        out = values.astype(np.float32 if values.dtype == np.float32 else np.float64, copy=False)
        return out[0] if prep.squeeze else out
    return prep.source.replace(
        values.astype(prep.source.amplitude.dtype, copy=False),
        trace_mask=trace_mask,
        operation=operation,
        parameters=parameters,
        attrs=attrs,
    )


def resolve_mask(prep: Prepared, mask: np.ndarray | None, *, name: str = "mask") -> np.ndarray:
    """The live-trace mask to use: the one given (checked against the trace shape) or the data's own."""
    if mask is None:
        live = prep.mask
    else:
        live = np.asarray(mask)
        if live.shape != prep.trace_shape:
            raise ParameterError(
                name,
                f"has shape {live.shape}, but the data have {prep.trace_shape} traces",
                allowed=f"a boolean array of shape {prep.trace_shape}",
            )
        if live.dtype != bool:
            if not np.isin(live, (0, 1)).all():
                raise ParameterError(name, "must be boolean (True = live trace)")
            live = live.astype(bool)
    return live


def check_range(
    name: str,
    value: float,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float:
    """Check ``low <= value <= high`` (open ends when asked); returns the value."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(name, f"must be a number, got {value!r}")
    if not np.isfinite(value):
        raise ParameterError(name, f"must be finite, got {value}")
    if integer and int(value) != value:
        raise ParameterError(name, f"must be an integer, got {value}")
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    allowed = f"{lo}{'-inf' if low is None else _fmt(low)}, {'inf' if high is None else _fmt(high)}{hi}"
    if low is not None and (value < low or (low_open and value == low)):
        raise ParameterError(name, f"is {_fmt(value)}, below the allowed range", allowed=allowed)
    if high is not None and (value > high or (high_open and value == high)):
        raise ParameterError(name, f"is {_fmt(value)}, above the allowed range", allowed=allowed)
    return value


def check_frequency(name: str, value: float, nyquist: float) -> float:
    """A corner frequency in Hz: strictly between 0 and the Nyquist frequency."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(name, f"must be a frequency in Hz, got {value!r}")
    if not np.isfinite(value) or value <= 0 or value >= nyquist:
        raise ParameterError(
            name,
            f"{_fmt(value)} Hz is outside (0, Nyquist) for this sample interval",
            allowed=f"0 < {name} < {_fmt(nyquist)} Hz",
        )
    return float(value)


def working_dtype(data: ArrayOrData) -> Any:
    """float32 stays float32 (the contract "float32 in, float32 out", and the fast paths); else float64."""
    dtype = data.amplitude.dtype if isinstance(data, SeismicData) else np.asarray(data).dtype
    return np.float32 if dtype == np.float32 else np.float64


def sample_times_ms(prep: Prepared) -> np.ndarray:
    """Time (ms) of every sample: the data's own axis for SeismicData, ``i * dt`` for arrays."""
    if prep.source is not None:
        return np.asarray(prep.source.samples, dtype=np.float64)
    return np.arange(prep.n_samples, dtype=np.float64) * prep.require_dt() * 1000.0


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """An integer parameter in ``[low, high]``; returns it as an int."""
    check_range(name, value, low=low, high=high, integer=True)
    return int(value)


def check_choice(name: str, value: str, choices: Mapping[str, Any] | tuple[str, ...] | list[str]) -> str:
    """``value`` must be one of ``choices`` (case-insensitive; '-' and '_' alike)."""
    key = str(value).strip().lower().replace("-", "_")
    options = list(choices)
    normalised = {c.lower().replace("-", "_"): c for c in options}
    if key not in normalised:
        raise ParameterError(name, f"unknown value {value!r}", allowed=", ".join(sorted(options)))
    return normalised[key]


def _fmt(x: float) -> str:
    return f"{x:g}"
