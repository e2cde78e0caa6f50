"""The :class:`ReconstructionModel` interface and the registry of architectures by name.

Every model takes the masked data and the trace mask and returns the full section:

- ``x``: ``(batch, 1, traces, samples)`` amplitudes, missing traces zero (normalised per patch);
- ``mask``: ``(batch, traces)`` bool/float, ``True`` (1) for a recorded (live) trace;
- output: ``(batch, 1, traces, samples)``, every trace filled.

Constructor arguments must be JSON values: they are written to the model file's sidecar and the model is
rebuilt from them on loading (no pickled code).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from promethium.core.errors import ParameterError
from promethium.ml.errors import ModelError

__all__ = [
    "MODELS",
    "ReconstructionModel",
    "build_model",
    "get_model_class",
    "group_norm",
    "list_models",
    "register_model",
]

#: architecture name -> model class
MODELS: dict[str, type[ReconstructionModel]] = {}

M = TypeVar("M", bound="type[ReconstructionModel]")


def group_norm(channels: int) -> nn.GroupNorm:
    """Group norm with up to 8 groups that divide ``channels`` (so any channel count is valid)."""
    return nn.GroupNorm(math.gcd(8, channels), channels)


def _key(name: str) -> str:
    return str(name).strip().lower().replace("-", "_")


def register_model(name: str) -> Callable[[M], M]:
    """Class decorator: make a :class:`ReconstructionModel` subclass buildable as ``name``."""

    def deco(cls: M) -> M:
        key = _key(name)
        if key in MODELS and MODELS[key] is not cls:
            raise ModelError(f"model name {key!r} is already registered to {MODELS[key].__name__}")
        cls.architecture = key
        MODELS[key] = cls
        return cls

    return deco


def list_models() -> list[str]:
    """Names of the registered architectures."""
    return sorted(MODELS)


def get_model_class(name: str) -> type[ReconstructionModel]:
    """The class registered as ``name``; :class:`ParameterError` naming the choices otherwise."""
    key = _key(name)
    if key not in MODELS:
        raise ParameterError("model", f"unknown architecture {name!r}", allowed=", ".join(list_models()))
    return MODELS[key]


def build_model(name: str, **kwargs: Any) -> ReconstructionModel:
    """A new (untrained) model of architecture ``name`` with constructor arguments ``kwargs``."""
    cls = get_model_class(name)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # unknown keyword
        raise ParameterError("model_args", f"{cls.architecture}: {exc}") from None


class ReconstructionModel(nn.Module):
    """Base class: ``forward(x, mask)`` fills the section, ``loss(pred, target, mask)`` scores it.

    Subclasses call ``super().__init__(**config)`` with their constructor arguments (JSON values) so that
    :attr:`config` rebuilds the same architecture; :attr:`architecture` is set by :func:`register_model`.
    """

    architecture: ClassVar[str] = ""
    #: number of trace axes a model works on (2: (trace, time) sections; 3: (inline, crossline, time))
    spatial_dims: ClassVar[int] = 2
    #: whether bfloat16 autocast is used on CPUs with native bf16 (an architecture may opt out)
    cpu_bf16: ClassVar[bool] = True

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config: dict[str, Any] = dict(config)
        #: training information set by the trainer or by :func:`promethium.ml.io.load_model`
        self.meta: dict[str, Any] = {}

    def check_input(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Validate ``x``/``mask`` shapes and return the mask as ``(batch, 1, traces..., 1)`` float."""
        nd = self.spatial_dims
        if x.ndim != nd + 2 or x.shape[1] != 1:
            raise ParameterError(
                "x", f"expected (batch, 1, {'traces, ' * (nd - 1)}samples), got {tuple(x.shape)}"
            )
        if tuple(mask.shape) != (x.shape[0], *x.shape[2:-1]):
            raise ParameterError(
                "mask",
                f"expected shape {(x.shape[0], *x.shape[2:-1])} (batch, traces), got {tuple(mask.shape)}",
            )
        return mask.to(x.dtype)[:, None, ..., None]

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean squared error, the input's missing traces counted ``1 + missing_weight`` times.

        ``weight`` (``(batch, traces)``, optional) scales each trace further; 0 excludes traces whose
        target is unknown (the dead traces of field data in self-supervised fine-tuning).
        """
        m = mask.to(pred.dtype)
        w = 1.0 + float(self.config.get("missing_weight", 1.0)) * (1.0 - m)
        if weight is not None:
            w = w * weight.to(pred.dtype)
        w = w[:, None, ..., None].expand_as(pred)
        total = w.sum().clamp_min(1e-12)
        return ((pred - target) ** 2 * w).sum() / total

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
