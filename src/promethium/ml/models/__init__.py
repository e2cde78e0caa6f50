"""Reconstruction models: the :class:`ReconstructionModel` interface, the registry and the architectures.

Importing this package imports torch and registers every built-in architecture (``unet``, ``dae``,
``vae``, ``gan``, ``pinn``, ``unet3d``).
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
from promethium.ml.models.gan import PatchDiscriminator, ReconstructionGAN
from promethium.ml.models.pinn import PhysicsInformedUNet
from promethium.ml.models.unet import UNet2D
from promethium.ml.models.unet3d import UNet3D
from promethium.ml.models.vae import VariationalAutoencoder

__all__ = [
    "MODELS",
    "DenoisingAutoencoder",
    "PatchDiscriminator",
    "PhysicsInformedUNet",
    "ReconstructionGAN",
    "ReconstructionModel",
    "UNet2D",
    "UNet3D",
    "VariationalAutoencoder",
    "build_model",
    "get_model_class",
    "list_models",
    "register_model",
]
