"""The pretrained models shipped inside the package, and resolution of model names to files.

Each model is ``NAME.pt`` + ``NAME.json`` in this folder, trained by the configuration of the same name in
:mod:`promethium.ml.configs` (``promethium train`` on it reproduces the file) only on synthetic data and
the public-domain USGS Alaska line 31-81 (its traces 0-399; traces 400-533 stay unseen for evaluation);
the 3D model (``unet3d-reconstruct``) on synthetic volumes only.
Nothing is downloaded at run time.

>>> from promethium.ml.pretrained import list_pretrained, resolve_model
>>> [m.name for m in list_pretrained()]            # doctest: +SKIP
['unet-denoise', 'unet-reconstruct']
>>> resolve_model("unet")                           # the default reconstruction model  # doctest: +SKIP
PosixPath('.../promethium/ml/pretrained/unet-reconstruct.pt')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from promethium.core.errors import ParameterError

__all__ = [
    "ALIASES",
    "DEFAULTS",
    "PRETRAINED",
    "PRETRAINED_DIR",
    "Pretrained",
    "config_path",
    "list_pretrained",
    "pretrained_path",
    "resolve_model",
]

PRETRAINED_DIR = Path(__file__).resolve().parent
CONFIG_DIR = PRETRAINED_DIR.parent / "configs"


@dataclass(frozen=True)
class Pretrained:
    """A shipped model: its name, the task it serves, and where its files are."""

    name: str
    task: str  # "reconstruct" or "denoise"
    description: str

    @property
    def path(self) -> Path:
        """The weights file (``.pt``); the sidecar is the same name with ``.json``."""
        return PRETRAINED_DIR / f"{self.name}.pt"

    @property
    def config(self) -> Path:
        """The training configuration that reproduces the weights."""
        return CONFIG_DIR / f"{self.name}.yaml"

    @property
    def available(self) -> bool:
        return self.path.is_file() and self.path.with_suffix(".json").is_file()


PRETRAINED: dict[str, Pretrained] = {
    p.name: p
    for p in (
        Pretrained(
            "unet-reconstruct",
            "reconstruct",
            "U-Net filling missing traces (random, regular, gaps) of 2D sections and inlines",
        ),
        Pretrained(
            "unet-denoise",
            "denoise",
            "U-Net removing band-limited random noise from 2D sections and inlines",
        ),
        Pretrained(
            "unet3d-reconstruct",
            "reconstruct",
            "3D U-Net filling missing traces of (inline, crossline, time) volumes, trained on synthetic "
            "volumes only",
        ),
    )
}
#: other names accepted for a shipped model
ALIASES = {
    "unet": "unet-reconstruct",
    "default": "unet-reconstruct",
    "denoise": "unet-denoise",
    "unet3d": "unet3d-reconstruct",
}
#: the shipped model used for a task when none is named
DEFAULTS = {"reconstruct": "unet-reconstruct", "denoise": "unet-denoise"}


def list_pretrained() -> list[Pretrained]:
    """The shipped models whose files are present, by name."""
    return [PRETRAINED[k] for k in sorted(PRETRAINED) if PRETRAINED[k].available]


def pretrained_path(name: str) -> Path:
    """The weights file of the shipped model ``name`` (or an alias); :class:`ParameterError` otherwise."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    entry = PRETRAINED.get(key)
    if entry is None:
        raise ParameterError(
            "model",
            f"no shipped model is called {name!r}",
            allowed=", ".join(sorted({*PRETRAINED, *ALIASES})),
        )
    if not entry.available:
        raise ParameterError("model", f"the shipped model {key!r} is missing from this installation")
    return entry.path


def config_path(name: str) -> Path:
    """The training configuration of the shipped model ``name``."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in PRETRAINED:
        raise ParameterError(
            "model", f"no shipped model is called {name!r}", allowed=", ".join(sorted(PRETRAINED))
        )
    return PRETRAINED[key].config


def resolve_model(spec: str | os.PathLike[str] | None, task: str = "reconstruct") -> Path:
    """A model file for ``spec``: ``None`` (the task's default), a shipped name or alias, or a path.

    A path must exist; a bare name that is neither a shipped model nor an existing file is a
    :class:`ParameterError` naming the shipped models.
    """
    if spec is None or str(spec).strip() == "":
        if task not in DEFAULTS:
            raise ParameterError("task", f"unknown task {task!r}", allowed=", ".join(sorted(DEFAULTS)))
        return pretrained_path(DEFAULTS[task])
    text = str(spec)
    key = ALIASES.get(text.strip().lower(), text.strip().lower())
    if key in PRETRAINED:
        return pretrained_path(key)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.suffix or os.sep in text:
        raise ParameterError("model", f"model file {text!r} not found")
    raise ParameterError(
        "model",
        f"{text!r} is neither a shipped model nor a model file",
        allowed=", ".join(sorted(PRETRAINED)),
    )
