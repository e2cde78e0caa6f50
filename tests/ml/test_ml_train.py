"""Tests of training: determinism, resume, logs, early stopping, configs, checkpoints, fine-tuning."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from promethium.core.errors import ConfigurationError, DataError, ParameterError  # noqa: E402
from promethium.ml.errors import CheckpointError  # noqa: E402
from promethium.ml.io import load_model, read_sidecar  # noqa: E402
from promethium.ml.models import build_model  # noqa: E402
from promethium.ml.train import TrainConfig, finetune, load_config, resolve_device, train  # noqa: E402
from promethium.synthetic import make_survey  # noqa: E402

TINY: dict[str, Any] = {
    "model_args": {"base_channels": 4, "depth": 2},
    "batch_size": 2,
    "patch": (16, 32),
    "val_batches": 1,
    "device": "cpu",
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _cfg(**kw: Any) -> TrainConfig:
    return TrainConfig(**{**TINY, **kw})


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_same_seed_same_weights_other_seed_differs() -> None:
    a = train(_cfg(steps=3, val_every=3, seed=5))
    b = train(_cfg(steps=3, val_every=3, seed=5))
    c = train(_cfg(steps=3, val_every=3, seed=6))
    assert _same_weights(a.model, b.model)
    assert not _same_weights(a.model, c.model)
    assert a.history[0]["val_loss"] == b.history[0]["val_loss"]


def test_resume_equals_uninterrupted_and_writes_files(tmp_path: Path) -> None:
    cfg = {"steps": 4, "val_every": 2, "checkpoint_every": 1, "schedule": "cosine", "warmup": 1}
    full = train(_cfg(output_dir=str(tmp_path / "full"), **cfg))
    part = train(_cfg(output_dir=str(tmp_path / "part"), **cfg), stop_after=3)
    assert part.interrupted
    assert part.steps_done == 3
    assert not (tmp_path / "part" / "model.pt").exists()
    resumed = train(_cfg(output_dir=str(tmp_path / "part"), resume=True, **cfg))
    assert resumed.steps_done == 4
    assert _same_weights(full.model, resumed.model)
    strip = [{k: v for k, v in r.items() if k != "time_s"} for r in full.history]
    assert strip == [{k: v for k, v in r.items() if k != "time_s"} for r in resumed.history]
    out = tmp_path / "full"
    for name in ("checkpoint.pt", "model.pt", "model.json", "metrics.csv", "metrics.json", "loss.png"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert set(rows[0]) >= {"step", "lr", "train_loss", "val_loss", "val_snr_missing_db"}
    assert len(json.loads((out / "metrics.json").read_text())) == 2
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    meta = read_sidecar(out / "model.pt")
    assert meta["training"]["seed"] == 0
    assert "output_dir" not in meta["training"]  # a path on the training machine
    assert str(tmp_path) not in json.dumps(meta)
    assert meta["training"]["patch"] == [16, 32]
    assert "best_val_loss" in meta["metrics"]
    model = load_model(out / "model.pt")
    assert model.meta["training"]["steps_done"] == 4


def test_resume_with_other_config_refused(tmp_path: Path) -> None:
    train(_cfg(steps=1, val_every=1, output_dir=str(tmp_path)))
    with pytest.raises(CheckpointError, match="another configuration"):
        train(_cfg(steps=2, val_every=1, output_dir=str(tmp_path), resume=True, seed=9))


def test_corrupted_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupted"):
        train(_cfg(steps=1, output_dir=str(tmp_path), resume=True))


def test_early_stopping() -> None:
    res = train(_cfg(steps=50, val_every=1, patience=2, min_delta=1e6, lr=1e-6))
    assert res.stopped_early
    assert res.steps_done == 3  # first validation sets the best, two more without improvement
    assert res.best_step == 1


def test_step_schedule_lr() -> None:
    seen: list[float] = []
    train(
        _cfg(steps=4, val_every=4, schedule="step", lr_step=2, lr_gamma=0.5, lr=1e-3),
        progress=lambda step, total, m: seen.append(m["lr"]),
    )
    assert seen == pytest.approx([1e-3, 5e-4, 5e-4, 2.5e-4])


def test_invalid_configs(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="steps"):
        train({"steps": 0})
    with pytest.raises(ConfigurationError, match="unknown_field"):
        train({"unknown_field": 1})
    path = tmp_path / "c.yaml"
    path.write_text("steps: 5\nmodel_args: {base_channels: 4}\ndata: {noise: [0.0, 0.3]}\n")
    cfg = load_config(path)
    assert cfg.steps == 5
    assert cfg.data.noise == (0.0, 0.3)
    path.write_text("patch: [2, 2]\n")
    with pytest.raises(ConfigurationError, match="patch"):
        load_config(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ParameterError, match="model"):
        train(_cfg(model="nope"))


def test_device_resolution() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA"):
            resolve_device("cuda")
    with pytest.raises(ParameterError):
        resolve_device("tpu-ish")


def test_train_on_a_survey_masks_dead_traces() -> None:
    data = make_survey("2d", n_traces=40, n_samples=64, seed=1)
    mask = np.ones(40, bool)
    mask[::5] = False
    res = train(_cfg(steps=2, val_every=2), data=data.replace(trace_mask=mask))
    assert np.isfinite(res.best_val_loss)


def test_finetune_self_supervised() -> None:
    data = make_survey("2d", n_traces=40, n_samples=64, seed=2)
    mask = np.ones(40, bool)
    mask[10:14] = False
    damaged = data.replace(np.where(mask[:, None], data.values, 0), trace_mask=mask)
    torch.manual_seed(0)
    model = build_model("unet", base_channels=4, depth=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = finetune(model, damaged, steps=2, batch_size=2, patch=(16, 32), device="cpu", lr=1e-3)
    assert out is model
    assert not model.training
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert len(model.meta["finetune"][0]["losses"]) == 2
    with pytest.raises(DataError):
        finetune(model, damaged.replace(trace_mask=np.zeros(40, bool)), steps=1, patch=(16, 32))
    with pytest.raises(ParameterError):
        finetune(model, damaged, steps=0)


def test_finetune_defaults_by_dimensionality(monkeypatch: pytest.MonkeyPatch) -> None:
    from promethium.ml import train as train_mod

    assert train_mod.FINETUNE_DEFAULTS[2] == (1000, 3e-4)
    assert train_mod.FINETUNE_DEFAULTS[3] == (150, 1e-4)
    monkeypatch.setitem(train_mod.FINETUNE_DEFAULTS, 2, (3, 5e-4))
    data = make_survey("2d", n_traces=40, n_samples=64, seed=2)
    mask = np.ones(40, bool)
    mask[::3] = False
    damaged = data.replace(np.where(mask[:, None], data.values, 0), trace_mask=mask)
    model = build_model("unet", base_channels=4, depth=2)
    finetune(model, damaged, batch_size=2, patch=(16, 32), device="cpu")
    rec = model.meta["finetune"][-1]
    assert (rec["steps"], rec["lr"], len(rec["losses"])) == (3, 5e-4, 3)
    finetune(model, damaged, steps=2, lr=1e-3, batch_size=2, patch=(16, 32), device="cpu")
    assert (model.meta["finetune"][-1]["steps"], model.meta["finetune"][-1]["lr"]) == (2, 1e-3)


def test_finetune_anchor_holds_traces_without_recording() -> None:
    """On a regularly decimated section the dead traces have no target: anchored to the model before
    fine-tuning they move much less than when left free."""
    data = make_survey("2d", n_traces=48, n_samples=64, seed=3)
    mask = np.ones(48, bool)
    mask[1::2] = False
    damaged = data.replace(np.where(mask[:, None], data.values, 0), trace_mask=mask)
    x = torch.from_numpy(damaged.values[None, None].astype(np.float32))
    keep = torch.from_numpy(mask[None])
    torch.manual_seed(0)
    base = build_model("unet", base_channels=4, depth=2)
    with torch.no_grad():
        before = base(x, keep)[0, 0, ~mask]
    moved = {}
    for anchor in (0.0, 10.0):
        model = build_model("unet", base_channels=4, depth=2)
        model.load_state_dict(base.state_dict())
        kw = {"batch_size": 4, "patch": (16, 32), "device": "cpu", "lr": 3e-3, "amp": False}
        finetune(model, damaged, steps=25, anchor=anchor, **kw)  # type: ignore[arg-type]
        with torch.no_grad():
            moved[anchor] = float((model(x, keep)[0, 0, ~mask] - before).pow(2).mean())
        assert model.meta["finetune"][-1]["anchor"] == anchor
    assert moved[10.0] < 0.5 * moved[0.0]
    with pytest.raises(ParameterError, match="anchor"):
        finetune(model, damaged, steps=1, anchor=-1.0)


def test_regular_decimation_picks_the_default_anchor() -> None:
    from promethium.ml.train import REGULAR_ANCHOR, regular_decimation
    from promethium.signal.masks import make_mask

    for spec, regular in [
        ("regular:2", True),
        ("regular:3", True),
        ("random:0.5", False),
        ("random:0.75", False),
        ("gap:10", False),
    ]:
        assert regular_decimation(make_mask((200,), spec, seed=1)) is regular, spec
        assert regular_decimation(make_mask((6, 40), spec, seed=1)) is regular, spec
    assert not regular_decimation(np.ones(30, bool))
    assert not regular_decimation(np.zeros(30, bool))
    data = make_survey("2d", n_traces=40, n_samples=64, seed=2)
    for spec, anchor in [("regular:2", REGULAR_ANCHOR), ("random:0.5", 0.0)]:
        mask = make_mask((40,), spec, seed=0)
        damaged = data.replace(np.where(mask[:, None], data.values, 0), trace_mask=mask)
        model = build_model("unet", base_channels=4, depth=2)
        finetune(model, damaged, steps=1, batch_size=2, patch=(16, 32), device="cpu")
        assert model.meta["finetune"][-1]["anchor"] == anchor, spec


def test_train_command(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from promethium.ml.cli import train_cmd

    app = typer.Typer()
    app.command()(train_cmd)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "model_args: {base_channels: 4, depth: 1}\nbatch_size: 2\npatch: [16, 32]\nval_every: 1\n"
        "val_batches: 1\ndevice: cpu\n"
    )
    res = CliRunner().invoke(app, [str(cfg), "--output", str(tmp_path / "run"), "--steps", "2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "model.pt").is_file()
    assert json.loads((tmp_path / "run" / "model.json").read_text())["training"]["steps"] == 2


def test_raw_survey_source_trace_range_synthetic_mix_and_noise(tmp_path: Path) -> None:
    from promethium.core.errors import ConfigurationError
    from promethium.ml.train import DataConfig, _Source, load_source

    rng = np.random.default_rng(0)
    raw = rng.standard_normal((40, 96)).astype("<f4")
    f = tmp_path / "line.f32"
    raw.tofile(f)
    cfg = DataConfig(source=str(f), raw_shape=[40, 96], traces=(0, 30))
    data = load_source(cfg)
    assert data.values.shape == (30, 96)
    np.testing.assert_array_equal(data.values, raw[:30])
    with pytest.raises(ConfigurationError, match="raw_shape"):
        load_source(DataConfig(source=str(f), raw_shape=[41, 96]))
    with pytest.raises(ConfigurationError, match="traces"):
        load_source(DataConfig(source=str(f), raw_shape=[40, 96], traces=(10, 50)))
    from promethium.ml.data import extract_patches

    patches = extract_patches(data, (8, 32))
    mixed = DataConfig(
        source=str(f), synthetic_fraction=0.5, survey_noise=(1.0, 1.0), masks=[], augment=False
    )
    src = _Source(mixed, (8, 32), patches)
    drawn: list[int] = []
    synthetic = src._synthetic
    src._synthetic = lambda rng, n: (drawn.append(n), synthetic(rng, n))[1]  # type: ignore[method-assign]
    b = src.batch(np.random.default_rng(1), 16)
    assert b.keep.all()  # no mask kinds: nothing hidden (denoising)
    assert 0 < drawn[0] < 16  # both real patches and synthetic sections in the batch
    n_real = 16 - drawn[0]
    # Survey inputs carry added noise of about the patch's RMS; their targets are the recorded patches.
    diff = b.inp[:n_real] - b.target[:n_real]
    ratio = np.sqrt((diff**2).mean(axis=(1, 2)) / (b.target[:n_real] ** 2).mean(axis=(1, 2)))
    np.testing.assert_allclose(ratio, 1.0, rtol=0.35)
    _, target, _ = src._survey(np.random.default_rng(2), 4)
    assert any(np.array_equal(target[0], p) for p in patches.values)
