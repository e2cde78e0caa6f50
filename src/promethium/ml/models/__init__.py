"""Reconstruction models: the :class:`ReconstructionModel` interface, the registry and the architectures.

Importing this package imports torch and registers every built-in architecture (``unet``, ``dae``).
"""

from __future__ import annotations

from promethium.ml.models.base import (
    MODELS,
    ReconstructionModel,
    build_model,
    get_model_class,
    list_models,
    register_model,
)
from promethium.ml.models.dae import DenoisingAutoencoder
from promethium.ml.models.unet import UNet2D

__all__ = [
    "MODELS",
    "DenoisingAutoencoder",
    "ReconstructionModel",
    "UNet2D",
    "build_model",
    "get_model_class",
    "list_models",
    "register_model",
]
