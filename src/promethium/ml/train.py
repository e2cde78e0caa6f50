"""Training: :class:`TrainConfig`, :func:`train` (supervised, on synthetic data or a survey) and
:func:`finetune` (self-supervised, on the user's own data).

Every batch is drawn from ``numpy.random.default_rng([seed, step])`` and torch's generator is re-seeded
from ``(seed, step)`` before every step, so a run is deterministic for its seed and a resumed run equals
the uninterrupted one. The output folder holds:

- ``checkpoint.pt``: model, optimiser, best weights and log, written every ``checkpoint_every`` steps and
  at the end (read back with ``torch.load(weights_only=True)``);
- ``model.pt`` + ``model.json``: the best weights (lowest validation loss), see :mod:`promethium.ml.io`;
- ``metrics.csv`` / ``metrics.json``: one row per validation; ``loss.png``: the loss curves.

Mixed precision (bfloat16 autocast, float32 weights and loss) is used when ``amp`` is on and the device
computes bfloat16 natively (CUDA, or a CPU with AVX512-BF16/AMX: about 1.7x faster steps here); other CPUs
stay in float32.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from promethium.core.errors import ConfigurationError, DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.ml.data import (
    EVENT_KINDS,
    MASK_KINDS,
    MaskGenerator,
    Patches,
    augment,
    band_limited_noise,
    extract_patches,
    normalise,
    synthetic_batch,
)
from promethium.ml.errors import CheckpointError
from promethium.signal import masks

if TYPE_CHECKING:
    import torch

    from promethium.ml.models.base import ReconstructionModel

__all__ = [
    "FINETUNE_DEFAULTS",
    "REGULAR_ANCHOR",
    "DataConfig",
    "TrainConfig",
    "TrainResult",
    "bf16_supported",
    "finetune",
    "load_config",
    "load_source",
    "regular_decimation",
    "resolve_device",
    "train",
]

ProgressFn = Callable[[int, int, dict[str, float]], None]
CHECKPOINT_FORMAT = "promethium-checkpoint"
CHECKPOINT_VERSION = 1


class DataConfig(BaseModel):
    """Where training patches come from and how they are damaged."""

    model_config = ConfigDict(extra="forbid")

    #: ``"synthetic"`` or the path of a complete survey read with :func:`promethium.io.read` (or a raw
    #: little-endian float32 file of shape ``raw_shape``)
    source: str = "synthetic"
    #: shape of a raw ``.f32``/``.bin`` source, trace-major: ``[traces, samples]`` or ``[il, xl, samples]``
    raw_shape: list[int] | None = None
    #: keep only traces ``[start, stop)`` of the source (along the last trace axis) for training, so the
    #: rest stays unseen for evaluation
    traces: tuple[int, int] | None = None
    #: with a survey source, the share of each batch drawn from the synthetic generator instead
    synthetic_fraction: float = Field(default=0.0, ge=0, le=1)
    #: range of band-limited noise RMS (relative to the patch RMS) added to the input of survey patches
    #: (the target stays the recorded patch): trains denoising on real data
    survey_noise: tuple[float, float] = (0.0, 0.0)
    kinds: list[str] = Field(default_factory=lambda: list(EVENT_KINDS))
    frequency: tuple[float, float] = (12.0, 40.0)
    max_dip: float = Field(default=1.5, gt=0, le=8)
    noise: tuple[float, float] = (0.0, 0.1)
    erratic: float = Field(default=0.0, ge=0, le=1)
    #: train to output the noise-free section (``clean``, synthetic only) or the recorded one
    target: Literal["clean", "noisy"] = "clean"
    #: kinds of trace masks that hide traces from the input; empty: no trace is hidden (pure denoising)
    masks: list[str] = Field(default_factory=lambda: list(MASK_KINDS))
    mask_fraction: tuple[float, float] = (0.2, 0.6)
    augment: bool = True
    dt_ms: float = Field(default=4.0, gt=0)


class TrainConfig(BaseModel):
    """Everything a training run depends on (written into the model's sidecar)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = "unet"
    model_args: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(default=0, ge=0, lt=2**31)
    steps: int = Field(default=1000, ge=1)
    batch_size: int = Field(default=16, ge=1)
    #: (traces, samples) for 2D models, (inlines, crosslines, samples) for 3D ones
    patch: tuple[int, int] | tuple[int, int, int] = (32, 64)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    warmup: int = Field(default=0, ge=0)
    lr_step: int = Field(default=1000, ge=1)
    lr_gamma: float = Field(default=0.5, gt=0, le=1)
    grad_clip: float | None = Field(default=1.0, gt=0)
    val_every: int = Field(default=50, ge=1)
    val_batches: int = Field(default=2, ge=1)
    #: stop after this many validations without an improvement of ``min_delta`` (None: never)
    patience: int | None = Field(default=None, ge=1)
    min_delta: float = Field(default=0.0, ge=0)
    checkpoint_every: int = Field(default=100, ge=1)
    output_dir: str | None = None
    resume: bool = False
    device: str = "auto"
    amp: bool = True
    data: DataConfig = Field(default_factory=lambda: DataConfig())

    @field_validator("patch")
    @classmethod
    def _check_patch(
        cls, v: tuple[int, int] | tuple[int, int, int]
    ) -> tuple[int, int] | tuple[int, int, int]:
        if min(v[:-1]) < (4 if len(v) == 2 else 2) or v[-1] < 8:
            raise ValueError(
                f"patch {v} must be at least (4 traces, 8 samples) or (2 inlines, 2 crosslines, 8 samples)"
            )
        return v

    def identity(self) -> dict[str, Any]:
        """The fields a resumed run must share with the checkpoint."""
        d = self.model_dump(mode="json")
        for key in ("steps", "resume", "output_dir", "device", "checkpoint_every", "patience"):
            d.pop(key)
        return d


def load_config(path: str | os.PathLike[str]) -> TrainConfig:
    """A :class:`TrainConfig` from a YAML or JSON file; :class:`ConfigurationError` naming what is wrong."""
    import yaml

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{p}: cannot read the training configuration: {exc}") from None
    return _validate_config(raw or {}, str(p))


def _validate_config(raw: Any, where: str) -> TrainConfig:
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{where}: invalid training configuration: {problems}") from None


def bf16_for(model: ReconstructionModel, device: torch.device) -> bool:
    """Whether ``model`` runs bfloat16 autocast on ``device``: where the device computes it natively and,
    on CPUs, unless the architecture opts out (:attr:`ReconstructionModel.cpu_bf16`)."""
    return bf16_supported(device) and (device.type != "cpu" or model.cpu_bf16)


def bf16_supported(device: torch.device) -> bool:
    """Whether bfloat16 autocast pays on ``device``: CUDA, or a CPU with native bf16 (AVX512-BF16/AMX)."""
    import torch

    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without oneDNN
        return False


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else Apple MPS, else CPU; :class:`ParameterError` when unavailable."""
    import torch

    name = device.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ParameterError(
            "device", f"unknown device {device!r}", allowed="auto, cpu, cuda, cuda:N, mps"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device", "CUDA was asked for but is not available", allowed="auto, cpu")
    return dev


# ------------------------------------------------------------------------------------------ batches
@dataclass
class _Batch:
    inp: np.ndarray  # (b, tr, t) masked, normalised
    target: np.ndarray  # (b, tr, t) normalised like inp
    keep: np.ndarray  # (b, tr) traces given to the model
    weight: np.ndarray  # (b, tr) 1 where the target is known


class _Source:
    """Draws batches: synthetic sections, or patches of a survey (targets known only on live traces)."""

    def __init__(self, cfg: DataConfig, patch: tuple[int, ...], patches: Patches | None) -> None:
        self.cfg = cfg
        self.patch = patch
        self.patches = patches
        self.masks = (
            MaskGenerator(kinds=tuple(cfg.masks), fraction=tuple(cfg.mask_fraction))  # type: ignore[arg-type]
            if cfg.masks
            else None
        )

    def _synthetic(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        clean, noisy = synthetic_batch(
            n,
            self.patch,
            rng,
            dt_ms=cfg.dt_ms,
            kinds=tuple(cfg.kinds),
            frequency=cfg.frequency,
            max_dip=cfg.max_dip,
            noise=cfg.noise,
            erratic=cfg.erratic,
        )
        return noisy, (clean if cfg.target == "clean" else noisy)

    def _survey(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.patches is not None
        idx = rng.integers(0, len(self.patches), size=n)
        target = self.patches.values[idx].astype(np.float32)
        live = self.patches.live[idx]
        recorded = target
        lo, hi = self.cfg.survey_noise
        if hi > 0:
            recorded = target + band_limited_noise(target, live, rng, (lo, hi), self.cfg.dt_ms)
        return recorded, target, live

    def batch(self, rng: np.random.Generator, n: int) -> _Batch:
        cfg = self.cfg
        if self.patches is None:
            noisy, target = self._synthetic(rng, n)
            live = np.ones(noisy.shape[:-1], dtype=bool)
        else:
            n_syn = int(rng.binomial(n, cfg.synthetic_fraction)) if cfg.synthetic_fraction > 0 else 0
            noisy, target, live = self._survey(rng, n - n_syn)
            if n_syn:
                s_noisy, s_target = self._synthetic(rng, n_syn)
                noisy = np.concatenate([noisy, s_noisy])
                target = np.concatenate([target, s_target])
                live = np.concatenate([live, np.ones(s_noisy.shape[:-1], dtype=bool)])
        arrays = [noisy, target]
        if cfg.augment:
            arrays, live = augment(arrays, live, rng)
        recorded, target = arrays[0], arrays[-1]
        if self.masks is None:
            keep = live.copy()
        else:
            trace_shape = tuple(recorded.shape[1:-1])
            keep = np.stack([self.masks(trace_shape, rng, base=live[b]) for b in range(n)])
        inp = np.where(keep[..., None], recorded, 0.0).astype(np.float32)
        inp_n, rec = normalise(inp, keep)
        target_n = rec.invert_scale(target)
        return _Batch(inp_n, target_n, keep, live.astype(np.float32))


def _tensors(b: _Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    import torch

    return (
        torch.from_numpy(b.inp[:, None]).to(device),
        torch.from_numpy(b.target[:, None]).to(device),
        torch.from_numpy(b.keep).to(device),
        torch.from_numpy(b.weight).to(device),
    )


def _snr_missing_db(pred: np.ndarray, b: _Batch) -> float:
    """SNR (dB) on the hidden traces with a known target; on every known trace when none is hidden
    (denoising)."""
    hidden = (~b.keep & (b.weight > 0))[..., None]
    if not hidden.any():
        hidden = (b.weight > 0)[..., None]
    err = float(((pred - b.target) ** 2 * hidden).sum())
    sig = float((b.target**2 * hidden).sum())
    if sig <= 0:
        return float("nan")
    return 10 * math.log10(sig / max(err, 1e-30))


# ------------------------------------------------------------------------------------------ training
@dataclass
class TrainResult:
    """The outcome of :func:`train`: the model with its best weights, the log and where files went."""

    model: ReconstructionModel
    history: list[dict[str, float]]
    steps_done: int
    best_step: int
    best_val_loss: float
    stopped_early: bool
    interrupted: bool = False
    files: dict[str, str] = field(default_factory=dict)


def _lr_factor(cfg: TrainConfig) -> Callable[[int], float]:
    def f(step: int) -> float:
        warm = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
        if cfg.schedule == "cosine":
            return warm * 0.5 * (1.0 + math.cos(math.pi * min(step, cfg.steps) / cfg.steps))
        if cfg.schedule == "step":
            return warm * cfg.lr_gamma ** (step // cfg.lr_step)
        return warm

    return f


def load_source(cfg: DataConfig) -> SeismicData:
    """The survey a :class:`DataConfig` names (``source``, ``raw_shape``), cut to ``traces``."""
    path = Path(cfg.source)
    if cfg.raw_shape is not None:
        shape = tuple(int(v) for v in cfg.raw_shape)
        if len(shape) not in (2, 3) or min(shape) < 1:
            raise ConfigurationError(f"data.raw_shape must be 2 or 3 positive sizes, got {cfg.raw_shape}")
        try:
            raw = np.fromfile(path, dtype="<f4")
        except OSError as exc:
            raise ConfigurationError(f"data.source: cannot read {path}: {exc}") from None
        if raw.size != math.prod(shape):
            raise ConfigurationError(
                f"data.source: {path} holds {raw.size} float32 values, raw_shape {list(shape)} needs "
                f"{math.prod(shape)}"
            )
        data = SeismicData.from_array(raw.reshape(shape), sample_interval=cfg.dt_ms)
    else:
        from promethium.io import read

        data = read(path)
    if cfg.traces is not None:
        start, stop = int(cfg.traces[0]), int(cfg.traces[1])
        axis = data.values.ndim - 2
        n = data.values.shape[axis]
        if not 0 <= start < stop <= n:
            raise ConfigurationError(f"data.traces must satisfy 0 <= start < stop <= {n}, got {cfg.traces}")
        dim = data.dims[axis]
        data = data.isel({dim: slice(start, stop)})
    return data


def _survey_patches(cfg: TrainConfig, data: SeismicData | None) -> Patches | None:
    if data is None and cfg.data.source == "synthetic":
        return None
    if data is None:
        data = load_source(cfg.data)
    return extract_patches(data, cfg.patch, overlap=0.5)


def _write_logs(history: list[dict[str, float]], out: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    if not history:
        return files
    keys = list(history[0])
    with (out / "metrics.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(history)
    (out / "metrics.json").write_text(
        json.dumps(
            [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                for row in history
            ],
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    files["metrics_csv"] = str(out / "metrics.csv")
    files["metrics_json"] = str(out / "metrics.json")
    return files


def plot_history(history: Sequence[dict[str, float]], path: str | os.PathLike[str]) -> str:
    """Draw the training and validation loss curves (log scale) to ``path`` (PNG)."""
    from promethium.plotting import _new_figure

    fig = _new_figure((6.0, 3.5))
    ax = fig.add_subplot(1, 1, 1)
    steps = [r["step"] for r in history]
    ax.plot(steps, [r["train_loss"] for r in history], label="train")
    ax.plot(steps, [r["val_loss"] for r in history], label="validation")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (normalised MSE)")
    ax.legend()
    fig.savefig(os.fspath(path), dpi=100)
    return os.fspath(path)


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    tmp = path.with_suffix(".pt.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, cfg: TrainConfig) -> dict[str, Any]:
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint (corrupted file?): {exc}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a Promethium training checkpoint")
    if int(state.get("version", 0)) > CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state['version']} is newer than this library's")
    if json.loads(state["identity"]) != cfg.identity():
        raise CheckpointError(
            f"{path}: the checkpoint was written by another configuration (model, data, seed or optimiser "
            "differ); use another output_dir or resume=False"
        )
    return state


def train(
    config: TrainConfig | dict[str, Any],
    *,
    data: SeismicData | None = None,
    progress: ProgressFn | None = None,
    stop_after: int | None = None,
) -> TrainResult:
    """Train a model as ``config`` says; see the module docstring for the files written.

    ``data`` (a complete survey) replaces ``config.data.source``. ``progress(step, total, metrics)`` is
    called after every step. ``stop_after`` ends the run after that step as an interruption would (a
    checkpoint is written), so that ``resume=True`` can continue it.
    """
    import torch

    from promethium.ml.io import save_model
    from promethium.ml.models import build_model

    cfg = config if isinstance(config, TrainConfig) else _validate_config(config, "config")
    device = resolve_device(cfg.device)
    out = Path(cfg.output_dir) if cfg.output_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    source = _Source(cfg.data, cfg.patch, _survey_patches(cfg, data))
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, **cfg.model_args).to(device)
    if model.spatial_dims != len(cfg.patch):
        want = "(traces, samples)" if model.spatial_dims == 2 else "(inlines, crosslines, samples)"
        raise ConfigurationError(
            f"config: the {cfg.model} model takes {model.spatial_dims}D patches {want}, "
            f"got patch {list(cfg.patch)}"
        )
    # Adversarial models (gan) train their discriminator with an optimiser of its own.
    adversarial = hasattr(model, "discriminator_loss")
    gen_params = model.generator_parameters() if adversarial else list(model.parameters())  # type: ignore[operator]
    opt = torch.optim.AdamW(gen_params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor(cfg))
    disc_opt = (
        torch.optim.AdamW(model.discriminator_parameters(), lr=cfg.lr, betas=(0.5, 0.999))  # type: ignore[operator]
        if adversarial
        else None
    )
    use_amp = cfg.amp and bf16_for(model, device)
    val = [
        source.batch(np.random.default_rng([cfg.seed, 2**31 + k]), cfg.batch_size)
        for k in range(cfg.val_batches)
    ]
    history: list[dict[str, float]] = []
    best_val, best_step, bad = math.inf, 0, 0
    best_state: dict[str, torch.Tensor] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    start = 0
    resumed_running: list[float] = []
    ckpt = out / "checkpoint.pt" if out is not None else None
    if cfg.resume and ckpt is not None and ckpt.exists():
        st = _load_checkpoint(ckpt, cfg)
        try:
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            if disc_opt is not None:
                disc_opt.load_state_dict(st["disc_optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{ckpt}: the checkpoint does not fit the model: {exc}") from None
        start = int(st["step"])
        sched.last_epoch = start  # the optimiser state already holds the learning rate of step ``start``
        history = json.loads(st["history"])
        best_val, best_step, bad = float(st["best_val"]), int(st["best_step"]), int(st["bad"])
        best_state = st["best_model"]
        resumed_running = [float(v) for v in json.loads(st.get("running", "[]"))]

    def checkpoint(step: int) -> None:
        if ckpt is None:
            return
        _save_checkpoint(
            ckpt,
            {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "identity": json.dumps(cfg.identity()),
                "step": step,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                **({"disc_optimizer": disc_opt.state_dict()} if disc_opt is not None else {}),
                "best_model": best_state,
                "best_val": best_val,
                "best_step": best_step,
                "bad": bad,
                "history": json.dumps(history),
                "running": json.dumps(running),
            },
        )

    def validate() -> tuple[float, float]:
        model.eval()
        losses, snrs = [], []
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            for b in val:
                inp, tgt, keep, w = _tensors(b, device)
                pred = model(inp, keep)
                losses.append(float(model.loss(pred.float(), tgt, keep, w)))
                snrs.append(_snr_missing_db(pred.float().cpu().numpy()[:, 0], b))
        model.train()
        return float(np.mean(losses)), float(np.nanmean(snrs)) if np.isfinite(snrs).any() else float("nan")

    model.train()
    running: list[float] = resumed_running
    t0 = time.perf_counter()
    stopped_early = interrupted = False
    step = start
    while step < cfg.steps:
        torch.manual_seed(cfg.seed * 1_000_003 + step)
        b = source.batch(np.random.default_rng([cfg.seed, step]), cfg.batch_size)
        inp, tgt, keep, w = _tensors(b, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            pred = model(inp, keep)
        loss = model.loss(pred.float(), tgt, keep, w)
        if not torch.isfinite(loss):
            raise DataError(f"training diverged at step {step} (loss {float(loss)}); lower lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(gen_params, cfg.grad_clip)
        opt.step()
        sched.step()
        if disc_opt is not None:
            disc_opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                d_loss = model.discriminator_loss(pred.detach().float(), tgt, keep)  # type: ignore[operator]
            d_loss.float().backward()
            disc_opt.step()
        step += 1
        running.append(float(loss.detach()))
        metrics = {"loss": running[-1], "lr": opt.param_groups[0]["lr"]}
        if step % cfg.val_every == 0 or step == cfg.steps:
            vl, vs = validate()
            history.append(
                {
                    "step": step,
                    "lr": metrics["lr"],
                    "train_loss": float(np.mean(running)),
                    "val_loss": vl,
                    "val_snr_missing_db": vs,
                    "time_s": time.perf_counter() - t0,
                }
            )
            running = []
            metrics.update(val_loss=vl, val_snr_missing_db=vs)
            if vl < best_val - cfg.min_delta:
                best_val, best_step, bad = vl, step, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad += 1
            if out is not None:
                _write_logs(history, out)
        if progress is not None:
            progress(step, cfg.steps, metrics)
        if cfg.patience is not None and bad >= cfg.patience:
            stopped_early = True
            break
        if step % cfg.checkpoint_every == 0 or (stop_after is not None and step >= stop_after):
            checkpoint(step)
        if stop_after is not None and step >= stop_after and step < cfg.steps:
            interrupted = True
            break
    if not interrupted:
        checkpoint(step)
    files: dict[str, str] = {}
    if ckpt is not None:
        files["checkpoint"] = str(ckpt)
    if not interrupted:
        model.load_state_dict(best_state)
    model.eval()
    final = history[-1] if history else {}
    model.meta = {
        # the output folder is a path on the training machine: it says nothing about the model
        "training": {
            **cfg.model_dump(mode="json", exclude={"output_dir", "resume"}),
            "steps_done": step,
            "best_step": best_step,
        },
        "metrics": {
            "best_val_loss": best_val if math.isfinite(best_val) else None,
            **{k: v for k, v in final.items() if k != "step"},
        },
        "patch": list(cfg.patch),
    }
    if out is not None and not interrupted:
        files.update(_write_logs(history, out))
        files["model"] = str(save_model(model, out / "model.pt"))
        if history:
            files["loss_png"] = plot_history(history, out / "loss.png")
    return TrainResult(
        model=model,
        history=history,
        steps_done=step,
        best_step=best_step,
        best_val_loss=best_val,
        stopped_early=stopped_early,
        interrupted=interrupted,
        files=files,
    )


# ------------------------------------------------------------------------------------------ fine-tuning
#: default (steps, learning rate) of :func:`finetune` by the model's spatial dimensionality
FINETUNE_DEFAULTS: dict[int, tuple[int, float]] = {2: (1000, 3e-4), 3: (150, 1e-4)}
#: anchor weight of :func:`finetune` on regularly decimated data (see there)
REGULAR_ANCHOR = 0.3


def regular_decimation(data: SeismicData | np.ndarray, *, share: float = 0.8) -> bool:
    """Whether the dead traces of ``data`` (its trace mask; a boolean live mask also accepted) form a
    regular decimation (:func:`promethium.signal.masks.regular_decimation`)."""
    live = np.asarray(data.trace_mask if isinstance(data, SeismicData) else data, dtype=bool)
    return masks.regular_decimation(live, share=share)


def finetune(
    model: ReconstructionModel,
    data: SeismicData | np.ndarray,
    steps: int | None = None,
    *,
    batch_size: int = 8,
    patch: tuple[int, ...] | None = None,
    lr: float | None = None,
    seed: int = 0,
    masks: Sequence[str] = ("random", "gaps"),
    mask_fraction: tuple[float, float] = (0.1, 0.4),
    anchor: float | None = None,
    device: str = "auto",
    amp: bool = True,
    progress: ProgressFn | None = None,
) -> ReconstructionModel:
    """Self-supervised fine-tuning on the user's data: hide live traces, learn to restore them.

    Patches of ``data`` carry its trace mask; each step hides some of their live traces with a random
    mask and scores the model on every live trace (dead traces have no target and weigh 0). The default
    masks hide random traces and short gaps only: hiding more traces of an already regularly decimated
    section with ``regular`` masks teaches a coarser decimation than the one to fill (measured: -2 dB on
    the Alaska line at 2x). Changes
    ``model`` in place and returns it (in eval mode) with the losses in ``model.meta["finetune"]``.

    ``steps`` and ``lr`` default to :data:`FINETUNE_DEFAULTS` for the model's dimensionality: for 2D
    networks 1,000 steps at 3e-4 (shot gather, 50 % random, best classical method 3.79 dB: 2.06 before
    fine-tuning, 2.75 after 150 steps at 1e-4, 3.56 after 1,000 at 3e-4, 3.76 after 2,000; on Alaska
    traces and FreeUSP 0.1-0.2 dB more than 150 steps; 94 s on the 534 x 1,501 Alaska line, two cores).
    3D networks keep 150 steps at 1e-4, since a 3D step costs about 10x a 2D one on a CPU.

    Traces with no recording (dead in ``data``'s mask) have no target; ``anchor`` weighs a soft target
    for them, the prediction of the model as it was before fine-tuning (0: none). Where the dead traces
    look like the hidden ones (random traces, gaps) what the model learns on the hidden traces carries
    over to them, and an anchor only holds it back (shot gather, 50 % random: 2.84 dB with 0.3 against
    3.6-3.8 without). A regular decimation is the pattern the fine-tuning masks cannot imitate (hiding a
    recorded trace of a 2x section makes a three-trace gap): there the dead traces drift freely, and
    1,000 unanchored steps lost 2.6 dB on the Alaska line at 2x, where an anchor of 0.3 kept the model's
    quality (+0.05 dB). The default (``None``) therefore anchors with :data:`REGULAR_ANCHOR` when the
    dead traces of ``data`` form a regular decimation (:func:`regular_decimation`) and not otherwise.
    """
    import torch

    d_steps, d_lr = FINETUNE_DEFAULTS[model.spatial_dims]
    steps = d_steps if steps is None else steps
    lr = d_lr if lr is None else lr
    if steps < 1:
        raise ParameterError("steps", f"must be at least 1, got {steps}")
    if anchor is None:
        regular = isinstance(data, SeismicData) and regular_decimation(data)
        anchor = REGULAR_ANCHOR if regular else 0.0
    if not 0 <= anchor <= 100:
        raise ParameterError("anchor", f"must be in [0, 100], got {anchor}")
    if patch is None:
        default = (32, 64) if model.spatial_dims == 2 else (8, 16, 64)
        mp = model.meta.get("patch") or model.meta.get("training", {}).get("patch") or default
        patch = tuple(int(v) for v in mp)
    if len(patch) != model.spatial_dims:
        raise ParameterError(
            "patch", f"the {model.architecture} model takes {model.spatial_dims} sizes, got {patch}"
        )
    # Sparse data (75 % missing) still give patches: any patch with a few live traces teaches something.
    patches = extract_patches(data, patch, overlap=0.5, min_live=0.1)
    if patches.live.reshape(len(patches), -1).sum(axis=1).max() < 2:
        raise DataError("fine-tuning needs patches with at least two live traces")
    cfg = DataConfig(masks=list(masks), mask_fraction=mask_fraction)
    source = _Source(cfg, patch, patches)
    dev = resolve_device(device)
    use_amp = amp and bf16_for(model, dev)
    model.to(dev)
    frozen = None
    if anchor > 0:
        frozen = copy.deepcopy(model).eval()
        frozen.requires_grad_(False)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses: list[float] = []
    for step in range(steps):
        torch.manual_seed(seed * 1_000_003 + step)
        b = source.batch(np.random.default_rng([seed, 7, step]), batch_size)
        inp, tgt, keep, w = _tensors(b, dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_amp):
            pred = model(inp, keep)
        loss = model.loss(pred.float(), tgt, keep, w)
        if frozen is not None and bool((w < 1).any()):
            # Traces with no recording have no target: without one they drift wherever the new loss
            # pushes them; the model before fine-tuning gives them a soft target instead.
            with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_amp):
                ref = frozen(inp, keep)
            loss = loss + anchor * model.loss(pred.float(), ref.float(), keep, 1.0 - w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, steps, {"loss": losses[-1]})
    model.eval()
    model.meta.setdefault("finetune", []).append(
        {"steps": steps, "lr": lr, "anchor": anchor, "seed": seed, "losses": losses}
    )
    return model
