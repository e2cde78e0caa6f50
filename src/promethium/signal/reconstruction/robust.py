"""Erratic-noise attenuation: spikes and bursts replaced by a robust local estimate.

Random-noise methods (f-x deconvolution, rank reduction) assume Gaussian noise; a few large erratic
samples (spikes, bursts, bad geophones) leak into their estimates. ``despike`` removes those first: a
Hampel identifier over a (traces x samples) window flags samples more than ``threshold`` robust standard
deviations from the window median and replaces them by that median, leaving every other sample
untouched. Run it before ``fx_decon`` or ``rank_denoise`` on data with erratic noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction._registry import Method

__all__ = ["METHODS"]


def _validate(params: dict[str, Any]) -> None:
    size = params["size"]
    sizes = [size] * 2 if isinstance(size, int) else list(size)
    if len(sizes) not in (2, 3) or any(not isinstance(s, int) or s < 1 for s in sizes):
        raise ParameterError("size", f"must be a positive int or (traces, samples) ints, got {size!r}")
    if max(sizes) < 2:
        raise ParameterError("size", "the window must span more than one sample")
    t = params["threshold"]
    if isinstance(t, bool) or not isinstance(t, int | float) or not np.isfinite(t) or t <= 0:
        raise ParameterError("threshold", f"must be a positive number of robust deviations, got {t!r}")


def _despike(values: np.ndarray, live: np.ndarray, dt: float, *, size: Any, threshold: float) -> np.ndarray:
    from promethium.signal.filters import _hampel, _median_size

    sizes = _median_size(size, values.ndim)
    out, _ = _hampel(values, sizes, "reflect", float(threshold))
    return out


METHODS = [
    Method(
        name="despike",
        kind="denoise",
        fn=_despike,
        description="erratic-noise removal: Hampel filter over (traces, samples) windows",
        params={"size": [5, 9], "threshold": 4.0},
        window_2d=(None, None),
        window_3d=(None, None, None),
        validate=_validate,
    ),
]
