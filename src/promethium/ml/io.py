"""Model files: weights in ``NAME.pt`` (a plain state dict) and a JSON sidecar ``NAME.json``.

The sidecar holds the file format and its version, the architecture and its constructor arguments, the
training configuration and metrics, the library version and the SHA-256 of the weights file. Loading
rebuilds the architecture from the registry and reads the weights with ``torch.load(weights_only=True)``,
so a model file can never run code. Every failure is a :class:`~promethium.ml.errors.ModelError`:

- missing or unreadable sidecar, weights that do not match their checksum or cannot be unpickled:
  :class:`ModelFormatError`;
- a sidecar of a newer format version: :class:`ModelVersionError`;
- an unknown architecture, weights of another architecture or of other constructor arguments, or an
  ``architecture=`` expectation not met: :class:`ArchitectureMismatchError`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promethium._version import __version__
from promethium.core.errors import ParameterError
from promethium.io.data import jsonable
from promethium.ml.errors import ArchitectureMismatchError, ModelFormatError, ModelVersionError

if TYPE_CHECKING:
    from promethium.ml.models.base import ReconstructionModel

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "read_sidecar", "save_model", "sidecar_path"]

FORMAT = "promethium-model"
FORMAT_VERSION = 1


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of the weights file ``path`` (``model.pt`` -> ``model.json``)."""
    return Path(path).with_suffix(".json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_model(
    model: ReconstructionModel,
    path: str | os.PathLike[str],
    *,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights to ``path`` (``.pt``) and its sidecar next to it; returns the weights path.

    ``training`` (the training configuration) and ``metrics`` default to what is in ``model.meta``.
    """
    import torch

    out = Path(path)
    if out.suffix != ".pt":
        raise ParameterError("path", f"model files end in .pt, got {out.name!r}")
    if not type(model).architecture:
        raise ArchitectureMismatchError(f"{type(model).__name__} is not a registered architecture")
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = out.with_suffix(".pt.tmp")
    torch.save(state, tmp)
    os.replace(tmp, out)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "torch_version": torch.__version__,
        "architecture": type(model).architecture,
        "class": type(model).__name__,
        "args": jsonable(dict(model.config)),
        "n_parameters": model.n_parameters,
        "training": jsonable(training if training is not None else model.meta.get("training", {})),
        "metrics": jsonable(metrics if metrics is not None else model.meta.get("metrics", {})),
        "weights_file": out.name,
        "weights_sha256": _sha256(out),
    }
    side = sidecar_path(out)
    side.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return out


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated sidecar of the weights file ``path`` (checks the format and its version)."""
    side = sidecar_path(path)
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFormatError(
            f"{side}: model sidecar not found (a model is NAME.pt plus NAME.json)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{side}: cannot read the model sidecar: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFormatError(f"{side}: not a Promethium model sidecar (format is not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise ModelFormatError(f"{side}: format_version missing or not an integer")
    if version > FORMAT_VERSION:
        raise ModelVersionError(
            f"{side}: model format version {version} was written by Promethium "
            f"{meta.get('library_version', '?')}; this is {__version__}, reading up to version "
            f"{FORMAT_VERSION} - upgrade Promethium"
        )
    for key in ("architecture", "args"):
        if key not in meta:
            raise ModelFormatError(f"{side}: sidecar lacks {key!r}")
    if not isinstance(meta["args"], dict):
        raise ModelFormatError(f"{side}: 'args' must be an object")
    return meta


def count_parameters(cls: Any, args: dict[str, Any]) -> int:
    """Parameters of ``cls(**args)``, counted on PyTorch's ``meta`` device (no memory allocated)."""
    import torch

    with torch.device("meta"):
        model = cls(**args)
    return int(sum(p.numel() for p in model.parameters()))


def load_model(
    path: str | os.PathLike[str],
    *,
    architecture: str | None = None,
    device: str = "cpu",
    max_parameters: int | None = None,
) -> ReconstructionModel:
    """Rebuild the model saved at ``path`` (in eval mode, on ``device``), checking format, version,
    checksum and architecture (also against ``architecture`` when given).

    Before the model is built, its size is counted without memory (:func:`count_parameters`): the
    sidecar's ``args`` are refused when they ask for more parameters than ``max_parameters`` or than
    the weights hold, so a small upload cannot make the process build an arbitrarily large model."""
    import pickle

    import torch

    from promethium.ml.models import get_model_class

    weights = Path(path)
    meta = read_sidecar(weights)
    arch = str(meta["architecture"])
    if architecture is not None and arch != architecture.strip().lower().replace("-", "_"):
        raise ArchitectureMismatchError(f"{weights}: holds a {arch!r} model, expected {architecture!r}")
    try:
        cls = get_model_class(arch)
    except ParameterError as exc:
        raise ArchitectureMismatchError(f"{weights}: {exc}") from None
    if not weights.is_file():
        raise ModelFormatError(f"{weights}: weights file not found")
    expected = meta.get("weights_sha256")
    if expected is not None and _sha256(weights) != expected:
        raise ModelFormatError(
            f"{weights}: weights do not match the checksum in the sidecar (corrupted file?)"
        )
    try:
        n_params = count_parameters(cls, meta["args"])
    except (TypeError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise ArchitectureMismatchError(
            f"{weights}: cannot build {arch!r} from {meta['args']}: {exc}"
        ) from None
    if max_parameters is not None and n_params > max_parameters:
        raise ModelFormatError(
            f"{weights}: the sidecar's args {meta['args']} make a {arch!r} model of {n_params:,} "
            f"parameters, more than {max_parameters:,} allowed"
        )
    try:  # the weights first (their memory is bounded by the file): then the model is sized by them
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
        raise ModelFormatError(f"{weights}: cannot read the weights (corrupted file?): {exc}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFormatError(f"{weights}: not a state dict of tensors")
    held = int(sum(v.numel() for v in state.values()))
    if n_params > held:
        raise ArchitectureMismatchError(
            f"{weights}: the weights do not fit a {arch!r} model with {meta['args']}: it has "
            f"{n_params:,} parameters, more than the {held:,} the weights hold (not built)"
        )
    try:
        model = cls(**meta["args"])
    except (TypeError, ValueError) as exc:
        raise ArchitectureMismatchError(
            f"{weights}: cannot build {arch!r} from {meta['args']}: {exc}"
        ) from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ArchitectureMismatchError(
            f"{weights}: the weights do not fit a {arch!r} model with {meta['args']}: "
            f"{' '.join(line.strip() for line in first[:3])}"
        ) from None
    model.meta = {
        "path": str(weights),
        "training": meta.get("training", {}),
        "metrics": meta.get("metrics", {}),
        "library_version": meta.get("library_version"),
        "weights_sha256": expected,
    }
    return model.to(device).eval()
