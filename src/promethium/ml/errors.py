"""Errors of the machine-learning package; all derive from :class:`PromethiumError`.

Torch raises bare ``RuntimeError``/``UnpicklingError`` for shape mismatches, truncated files and foreign
state dicts; the functions of :mod:`promethium.ml` translate them into these classes so that the CLI and
the service can tell the user what is wrong with the model file or the data.
"""

from __future__ import annotations

from promethium.core.errors import DataError, ParameterError, PromethiumError

__all__ = [
    "ArchitectureMismatchError",
    "CheckpointError",
    "DataError",
    "ModelError",
    "ModelFormatError",
    "ModelVersionError",
    "ParameterError",
]


class ModelError(PromethiumError):
    """A model (or model file) cannot be built, loaded or used."""


class ModelFormatError(ModelError, ValueError):
    """A model file or its JSON sidecar is missing, unreadable or corrupted."""


class ModelVersionError(ModelError):
    """A model file was written by a newer model-file format than this library reads."""


class ArchitectureMismatchError(ModelError):
    """The weights do not belong to the architecture (or constructor arguments) they are loaded into."""


class CheckpointError(ModelError):
    """A training checkpoint cannot be read or does not match the training configuration."""
