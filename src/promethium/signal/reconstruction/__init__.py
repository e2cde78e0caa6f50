"""Reconstruction of missing traces and denoising: one entry point per family, methods by name.

``reconstruct(data, method="pocs")`` fills the traces that ``data.trace_mask`` marks missing or dead (or
those of an explicit ``mask``), working in overlapping windows blended smoothly, and returns the data with
every live trace kept exactly (data consistency). ``denoise(data, method="fx_decon")`` attenuates random
noise with the same windowing. :func:`list_methods` names what is available.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from promethium.core.errors import DataError, ParameterError
from promethium.signal._base import DataT, all_finite, finish, prepare, resolve_mask
from promethium.signal.reconstruction._registry import Method, get_method, list_methods
from promethium.signal.reconstruction._run import run_kernel
from promethium.signal.reconstruction._windows import plan_windows

__all__ = ["Method", "denoise", "list_methods", "reconstruct"]

Progress = Callable[[int, int], None]


def _params(method: Method, given: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(method.params))
    if unknown:
        allowed = ", ".join(sorted(method.params)) or "none"
        raise ParameterError(unknown[0], f"is not a parameter of method {method.name!r}", allowed=allowed)
    params = {**method.params, **given}
    if method.validate is not None:
        method.validate(params)
    return params


def _window_args(
    method: Method,
    ndim: int,
    window: Sequence[int | None] | int | None,
    overlap: Sequence[int | float | None] | float | None,
) -> tuple[list[int | None], list[int | float | None] | None]:
    """Window sizes and overlaps per axis: the caller's, else the method's defaults."""
    default: Sequence[int | None] = method.window_2d if ndim == 2 else method.window_3d
    sizes: list[int | None]
    if window is None:
        sizes = list(default)
    elif isinstance(window, int | np.integer):
        # One number: the trace-axis window(s); the time window keeps the method's default.
        sizes = [*([int(window)] * (ndim - 1)), default[-1]]
    else:
        sizes = list(window)
    ov: list[int | float | None] | None
    if overlap is None or isinstance(overlap, Sequence):
        ov = None if overlap is None else list(overlap)
    else:
        ov = [overlap] * ndim
    return sizes, ov


def _check_window_fits(
    window: Sequence[int | None] | int | None, sizes: Sequence[int | None], shape: Sequence[int]
) -> None:
    """A window the caller asked for must fit the data (the methods' defaults shrink to fit)."""
    if window is None:
        return
    names = ["trace", "time"] if len(shape) == 2 else ["inline", "crossline", "time"]
    given = [int(window)] * (len(shape) - 1) if isinstance(window, int | np.integer) else list(window)
    for name, size, n in zip(names, given, shape, strict=False):
        if size is not None and int(size) > int(n):
            raise ParameterError(
                "window",
                f"the {name} window ({int(size)}) is larger than the data ({int(n)} along {name})",
                allowed=f"2 to {int(n)}, or None for the whole axis",
            )


def reconstruct(
    data: DataT,
    method: str = "pocs",
    *,
    mask: np.ndarray | None = None,
    window: Sequence[int | None] | int | None = None,
    overlap: Sequence[int | float | None] | float | None = None,
    dt_ms: float | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    **params: Any,
) -> DataT:
    """Fill missing traces with a classical method.

    Parameters
    ----------
    data:
        SeismicData (2D ``(trace, time)`` or 3D ``(inline, crossline, time)``) or an ndarray of that shape.
    method:
        One of :func:`list_methods` ``("reconstruct")``: ``linear``, ``nearest``, ``sinc`` (baselines),
        ``pocs`` (Fourier thresholding), ``fista`` (sparse inversion with pylops), ``drr`` / ``mssa``
        (damped / plain rank reduction in f-x or f-x-y), ``fx_predict`` (f-x prediction, dealiased, for
        regular decimation), ``dip`` (structure-oriented interpolation along local slopes), ``fx_pef``
        (f-x prediction-error filters, least squares), ``blend`` and ``fx_learned`` (predictions
        combined per frequency with weights fitted on held-out live traces).
    mask:
        Live-trace mask over the trace axes (``True`` = recorded); default: the data's ``trace_mask``.
    window, overlap:
        Window sizes per axis (trace axes then time; ``None`` = whole axis; one int = the trace axes) and
        overlaps (samples, or a fraction of the window below 1). Defaults depend on the method.
    progress:
        ``progress(windows_done, windows_total)`` after each window.
    workers:
        Windows processed in parallel (threads; default one per core). The result does not depend on it.
    params:
        Method parameters (see each method's ``params``); unknown names raise :class:`ParameterError`.

    Live traces come back bit for bit; the output's trace mask is all ``True``.
    """
    m = get_method(method, "reconstruct")
    prep = prepare(data, dt_ms=dt_ms, ndim=m.dims, name="data", allow_nonfinite=True)
    if prep.squeeze:
        raise DataError("data: reconstruction needs a 2D section or a 3D volume, not a single trace")
    live = resolve_mask(prep, mask)
    values = np.where(live[..., None], prep.values, 0.0)
    if not all_finite(values):
        raise DataError("data: live traces hold NaN or infinite samples; mark them dead or repair them")
    n_live = int(live.sum())
    if n_live == 0:
        raise DataError("data: every trace is dead or missing; there is nothing to reconstruct from")
    full = _params(m, params)
    dt = prep.require_dt() if m.needs_dt else (prep.dt or 0.004)
    sizes, ov = _window_args(m, values.ndim, window, overlap)
    _check_window_fits(window, sizes, values.shape)
    n_missing = int(live.size - n_live)
    if n_missing == 0:
        out = prep.values.copy()
        plan = plan_windows(values.shape, sizes, ov)
    else:
        out, plan = run_kernel(
            m, values, live, dt, full, sizes=sizes, overlaps=ov, progress=progress, workers=workers
        )
        out[live] = prep.values[live]
    record = {
        "method": m.name,
        **full,
        "window": list(plan.sizes),
        "overlap": list(plan.overlaps),
        "n_filled": n_missing,
    }
    return cast(DataT, finish(prep, out, "signal.reconstruct", record, trace_mask=np.ones_like(live)))


def denoise(
    data: DataT,
    method: str = "fx_decon",
    *,
    window: Sequence[int | None] | int | None = None,
    overlap: Sequence[int | float | None] | float | None = None,
    dt_ms: float | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    **params: Any,
) -> DataT:
    """Attenuate random (and, with the right method, erratic) noise; dead traces stay dead.

    Methods: ``fx_decon`` (f-x deconvolution / prediction filtering), ``rank_denoise`` (damped rank
    reduction in f-x or f-x-y), ``despike`` (erratic noise: Hampel filter; run it before the others on
    spiky data). Band-limited noise: restrict ``fx_decon`` / ``rank_denoise`` to the signal band with
    ``low`` / ``high`` (Hz). Windowing as in :func:`reconstruct`.
    """
    m = get_method(method, "denoise")
    prep = prepare(data, dt_ms=dt_ms, ndim=m.dims, name="data")
    if prep.squeeze:
        raise DataError("data: denoising needs a 2D section or a 3D volume, not a single trace")
    live = prep.mask
    if not live.any():
        raise DataError("data: every trace is dead or missing; there is nothing to denoise")
    full = _params(m, params)
    dt = prep.require_dt() if m.needs_dt else (prep.dt or 0.004)
    values = np.where(live[..., None], prep.values, 0.0)
    sizes, ov = _window_args(m, values.ndim, window, overlap)
    _check_window_fits(window, sizes, values.shape)
    out, plan = run_kernel(
        m, values, live, dt, full, sizes=sizes, overlaps=ov, progress=progress, workers=workers
    )
    out[~live] = prep.values[~live]
    record = {"method": m.name, **full, "window": list(plan.sizes), "overlap": list(plan.overlaps)}
    return cast(DataT, finish(prep, out, "signal.denoise", record))
