"""Deep-learning reconstruction and denoising (models, training, inference).

Names are resolved on first use, so ``import promethium.ml`` does not import torch::

    from promethium import ml

    result = ml.train(ml.TrainConfig(steps=2000, output_dir="run"))  # synthetic training
    model = ml.load_model("run/model.pt")
    filled = ml.reconstruct(damaged, model)  # live traces kept exactly

Importing the package registers the evaluators ``unet`` and ``dae`` of
:func:`promethium.signal.evaluation.evaluate` (``params={"unet": {"model": "run/model.pt"}}``), so
learned and classical methods are compared in one table.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promethium.io.data import SeismicData
    from promethium.ml.data import (
        MaskGenerator,
        NormRecord,
        Patches,
        augment,
        extract_patches,
        normalise,
        synthetic_batch,
        synthetic_section,
    )
    from promethium.ml.errors import (
        ArchitectureMismatchError,
        CheckpointError,
        ModelError,
        ModelFormatError,
        ModelVersionError,
    )
    from promethium.ml.infer import denoise, reconstruct
    from promethium.ml.io import load_model, read_sidecar, save_model
    from promethium.ml.models import ReconstructionModel, build_model, list_models, register_model
    from promethium.ml.pretrained import list_pretrained, resolve_model
    from promethium.ml.train import DataConfig, TrainConfig, TrainResult, finetune, load_config, train

__all__ = [
    "ArchitectureMismatchError",
    "CheckpointError",
    "DataConfig",
    "MaskGenerator",
    "ModelError",
    "ModelFormatError",
    "ModelVersionError",
    "NormRecord",
    "Patches",
    "ReconstructionModel",
    "TrainConfig",
    "TrainResult",
    "augment",
    "build_model",
    "denoise",
    "extract_patches",
    "finetune",
    "list_models",
    "list_pretrained",
    "load_config",
    "load_model",
    "normalise",
    "read_sidecar",
    "reconstruct",
    "register_model",
    "resolve_model",
    "save_model",
    "synthetic_batch",
    "synthetic_section",
    "train",
]

_WHERE: dict[str, str] = {
    **dict.fromkeys(
        [
            "MaskGenerator",
            "NormRecord",
            "Patches",
            "augment",
            "extract_patches",
            "normalise",
            "synthetic_batch",
            "synthetic_section",
        ],
        "promethium.ml.data",
    ),
    **dict.fromkeys(
        [
            "ArchitectureMismatchError",
            "CheckpointError",
            "ModelError",
            "ModelFormatError",
            "ModelVersionError",
        ],
        "promethium.ml.errors",
    ),
    "reconstruct": "promethium.ml.infer",
    "denoise": "promethium.ml.infer",
    **dict.fromkeys(["list_pretrained", "resolve_model"], "promethium.ml.pretrained"),
    **dict.fromkeys(["load_model", "read_sidecar", "save_model"], "promethium.ml.io"),
    **dict.fromkeys(
        ["ReconstructionModel", "build_model", "list_models", "register_model"], "promethium.ml.models"
    ),
    **dict.fromkeys(
        ["DataConfig", "TrainConfig", "TrainResult", "finetune", "load_config", "train"],
        "promethium.ml.train",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'promethium.ml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _evaluator(architecture: str | None, finetune: bool = False) -> Any:
    """``fn(damaged, params)`` for :func:`promethium.signal.evaluation.evaluate`.

    ``params["model"]`` is a model file or a shipped model name (default: the shipped reconstruction
    model, for ``unet`` / ``unet_ft``); ``params["finetune"]`` (steps; ``unet_ft`` and ``unet3d_ft``:
    :data:`promethium.ml.train.FINETUNE_DEFAULTS` unless given, 0 to skip) first fine-tunes a copy of the
    model on the damaged input itself (self-supervised: only its recorded traces are used); the other
    params go to :func:`promethium.ml.infer.reconstruct`.
    """

    def run(damaged: SeismicData, params: dict[str, Any]) -> SeismicData:
        from promethium.core.errors import ParameterError
        from promethium.ml.infer import reconstruct
        from promethium.ml.io import load_model
        from promethium.ml.pretrained import resolve_model
        from promethium.ml.train import finetune as run_finetune

        p = dict(params)
        spec = p.pop("model", None) or _SHIPPED_FOR.get(architecture or "")
        given = p.pop("finetune", None)
        steps: int | None = int(given) if given is not None else (None if finetune else 0)
        if not spec and architecture not in (None, "unet"):
            raise ParameterError(
                "model",
                f"the {architecture!r} method needs a trained model file",
                allowed=f"--param {architecture}.model=PATH.pt",
            )
        model = load_model(resolve_model(spec), architecture=architecture)
        allowed = {"device", "batch_size", "overlap", "patch", "seed", "precision"}
        unknown = sorted(set(p) - allowed)
        if unknown:
            raise ParameterError(
                architecture or "model", f"unknown parameters {unknown}", allowed=", ".join(sorted(allowed))
            )
        if "patch" in p and p["patch"] is not None:
            p["patch"] = tuple(int(v) for v in p["patch"])
        if steps is None or steps > 0:
            run_finetune(model, damaged, steps=steps, device=str(p.get("device", "auto")))
        out: SeismicData = reconstruct(damaged, model, **p)
        return out

    return run


#: architectures with a shipped model of their own used when no model is given
_SHIPPED_FOR = {"unet3d": "unet3d-reconstruct"}


def _register_evaluators() -> None:
    from promethium.signal.evaluation import register_evaluator

    for arch in ("unet", "dae", "vae", "gan", "pinn", "unet3d"):
        register_evaluator(arch, _evaluator(arch))
    register_evaluator("unet_ft", _evaluator("unet", finetune=True))
    register_evaluator("unet3d_ft", _evaluator("unet3d", finetune=True))


_register_evaluators()
