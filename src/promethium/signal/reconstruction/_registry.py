"""The registry of reconstruction and denoising methods.

A method is a kernel working on one window of a plain float64 array with the sample axis last, shape
``(trace, time)`` or ``(inline, crossline, time)``:

- reconstruction: ``fn(values, live, dt, **params) -> filled`` where ``live`` is a bool array over the
  trace axes (missing traces are zero in ``values``); the dispatcher puts the live traces back exactly,
  so a kernel may return anything there;
- denoising: ``fn(values, live, dt, **params) -> denoised`` (``live`` marks the traces with data).

Modules register their kernels in ``METHODS`` (a list of :class:`Method`); the registry imports a module
only when one of its methods is asked for, so importing Promethium stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from promethium.core.errors import ParameterError

__all__ = ["Kernel", "Method", "get_method", "list_methods"]

Kernel = Callable[..., np.ndarray]

#: Method name -> module defining it. Kept explicit so that listing methods imports nothing heavy.
_MODULES: dict[str, str] = {
    # reconstruction
    "linear": "promethium.signal.reconstruction.baseline",
    "nearest": "promethium.signal.reconstruction.baseline",
    "sinc": "promethium.signal.reconstruction.baseline",
    "pocs": "promethium.signal.reconstruction.pocs",
    "fista": "promethium.signal.reconstruction.sparse",
    "drr": "promethium.signal.reconstruction.rank",
    "mssa": "promethium.signal.reconstruction.rank",
    "fx_predict": "promethium.signal.reconstruction.fxpredict",
    "dip": "promethium.signal.reconstruction.dipsteer",
    "blend": "promethium.signal.reconstruction.ensemble",
    "fx_learned": "promethium.signal.reconstruction.learned",
    "fx_pef": "promethium.signal.reconstruction.pef",
    # denoising
    "fx_decon": "promethium.signal.reconstruction.fxpredict",
    "rank_denoise": "promethium.signal.reconstruction.rank",
    "despike": "promethium.signal.reconstruction.robust",
}


@dataclass(frozen=True)
class Method:
    """One registered method.

    ``window_2d`` / ``window_3d``: default window sizes over (trace, time) / (inline, crossline, time);
    ``None`` for an axis means the whole axis. ``params``: the keyword parameters with their defaults
    (recorded in the history). ``needs_dt``: the kernel uses the sample interval (frequencies in Hz).
    ``prepare`` (reconstruction, optional): work done once over the whole data before the windows,
    ``prepare(values, live, dt, params) -> {name: array}`` with arrays shaped like ``values`` or like its
    trace axes (a mask); each window's kernel call gets them sliced to its window as keyword arguments
    (an empty dict: nothing to pass).
    """

    name: str
    kind: Literal["reconstruct", "denoise"]
    fn: Kernel
    description: str
    params: dict[str, Any] = field(default_factory=dict)
    window_2d: tuple[int | None, int | None] = (None, None)
    window_3d: tuple[int | None, int | None, int | None] = (None, None, None)
    dims: tuple[int, ...] = (2, 3)
    needs_dt: bool = False
    validate: Callable[[dict[str, Any]], None] | None = None
    prepare: Callable[[np.ndarray, np.ndarray, float, dict[str, Any]], dict[str, np.ndarray]] | None = None


def list_methods(kind: Literal["reconstruct", "denoise"] | None = None) -> list[str]:
    """Names of the registered methods (of one kind when given)."""
    names = []
    for name in _MODULES:
        if kind is None:
            names.append(name)
            continue
        try:
            m = get_method(name)
        except ParameterError:
            continue
        if m.kind == kind:
            names.append(name)
    return names


def get_method(name: str, kind: Literal["reconstruct", "denoise"] | None = None) -> Method:
    key = str(name).strip().lower().replace("-", "_")
    module_name = _MODULES.get(key)
    if module_name is None:
        raise ParameterError("method", f"unknown method {name!r}", allowed=", ".join(_MODULES))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:  # a method announced but not built in this release
        raise ParameterError("method", f"method {name!r} is not available ({exc})") from exc
    for m in getattr(module, "METHODS", []):
        if m.name == key:
            if kind is not None and m.kind != kind:
                raise ParameterError(
                    "method", f"{name!r} is a {m.kind} method", allowed=", ".join(list_methods(kind))
                )
            return m
    raise ParameterError("method", f"method {name!r} is not defined in {module_name}")
