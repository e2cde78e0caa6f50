"""Promethium: recover damaged seismic data.

The package is split into sub-packages that are imported on demand:

- :mod:`promethium.core`: settings, logging and the exception hierarchy.
- :mod:`promethium.io`: reading, writing and streaming SEG-Y, SU, miniSEED, SAC and Zarr.
- :mod:`promethium.signal`: filters, transforms, spectra, deconvolution, reconstruction, QC.
- :mod:`promethium.ml`: deep-learning reconstruction and denoising.
- :mod:`promethium.workflows`: declarative pipelines.

Importing ``promethium`` has no side effects: nothing is read from the environment, no folder is
created and no log handler is attached until a function asks for it.
"""

from promethium._version import __version__

__all__ = ["__version__"]
