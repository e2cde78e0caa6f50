"""Signal processing and classical reconstruction of seismic data.

Every operation takes :class:`~promethium.io.SeismicData` (or a numpy array with ``dt_ms=``) and returns
the same type, with one more entry in the processing history. One entry point per family, the method as
a parameter::

    from promethium import signal

    bp = signal.filter(data, "bandpass", low=5, high=60)          # zero-phase Butterworth by default
    balanced = signal.agc(bp, window_ms=500)
    filled = signal.reconstruct(damaged, method="pocs")            # fills the traces trace_mask marks
    clean = signal.denoise(filled, method="fx_decon")
    report = signal.qc(data); report.plot("qc.png")
    signal.metrics.snr(reference, filled)
    table = signal.evaluate(reference, ["linear", "pocs", "drr"], decimate="random:0.5")

Families: filters (:func:`filter`, :func:`agc`, :func:`gain`, :func:`mute`, :func:`taper`,
:func:`median_filter`, :func:`fk_filter`), transforms (:func:`transform` and ``signal.transforms``),
spectra (:func:`spectrum` and ``signal.spectra``), deconvolution (:func:`deconvolve`,
:func:`estimate_wavelet`), local slopes (:func:`local_slopes`), reconstruction (:func:`reconstruct`,
:func:`list_methods`), denoising (:func:`denoise`), QC (:func:`qc`), metrics (``signal.metrics``), masks
(:func:`make_mask`) and method comparison (:func:`evaluate`). The methods themselves live in
``promethium.signal.reconstruction`` (one module per family, registered by name).

Names are resolved on first use, so ``import promethium.signal`` loads none of SciPy, PyWavelets, pylops or
numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promethium.signal import filters, masks, metrics, spectra, transforms
    from promethium.signal.decon import deconvolve, estimate_wavelet
    from promethium.signal.evaluation import Evaluation, evaluate
    from promethium.signal.filters import (
        agc,
        filter,
        fk_filter,
        gain,
        median_filter,
        mute,
        taper,
    )
    from promethium.signal.masks import make_mask
    from promethium.signal.quality import QCReport, qc
    from promethium.signal.reconstruction import denoise, list_methods, reconstruct
    from promethium.signal.slopes import local_slopes
    from promethium.signal.spectra import spectrum
    from promethium.signal.transforms import itransform, transform

__all__ = [
    "Evaluation",
    "QCReport",
    "agc",
    "deconvolve",
    "denoise",
    "design_filter",
    "estimate_wavelet",
    "evaluate",
    "filter",
    "filters",
    "fk_filter",
    "gain",
    "itransform",
    "list_methods",
    "local_slopes",
    "make_mask",
    "masks",
    "median_filter",
    "metrics",
    "mute",
    "qc",
    "reconstruct",
    "spectra",
    "spectrum",
    "taper",
    "transform",
    "transforms",
]

_LOCATIONS = {
    "Evaluation": "promethium.signal.evaluation",
    "evaluate": "promethium.signal.evaluation",
    "QCReport": "promethium.signal.quality",
    "qc": "promethium.signal.quality",
    "agc": "promethium.signal.filters",
    "filter": "promethium.signal.filters",
    "fk_filter": "promethium.signal.filters",
    "design_filter": "promethium.signal.filters",
    "gain": "promethium.signal.filters",
    "median_filter": "promethium.signal.filters",
    "mute": "promethium.signal.filters",
    "taper": "promethium.signal.filters",
    "deconvolve": "promethium.signal.decon",
    "estimate_wavelet": "promethium.signal.decon",
    "local_slopes": "promethium.signal.slopes",
    "denoise": "promethium.signal.reconstruction",
    "list_methods": "promethium.signal.reconstruction",
    "reconstruct": "promethium.signal.reconstruction",
    "make_mask": "promethium.signal.masks",
    "spectrum": "promethium.signal.spectra",
    "transform": "promethium.signal.transforms",
    "itransform": "promethium.signal.transforms",
}
_SUBMODULES = {"filters", "masks", "metrics", "reconstruction", "spectra", "transforms"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"promethium.signal.{name}")
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'promethium.signal' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
