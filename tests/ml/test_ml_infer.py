"""Tests of inference (windows, batching, data consistency, 2D/3D, MC dropout), the evaluator and laziness."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import promethium.ml as ml  # noqa: E402
from promethium.core.errors import DataError, ParameterError  # noqa: E402
from promethium.io.data import SeismicData  # noqa: E402
from promethium.ml.infer import reconstruct  # noqa: E402
from promethium.ml.io import save_model  # noqa: E402
from promethium.ml.models import build_model  # noqa: E402
from promethium.signal.evaluation import evaluate  # noqa: E402
from promethium.signal.masks import make_mask  # noqa: E402
from promethium.synthetic import make_survey  # noqa: E402

Section = tuple[SeismicData, np.ndarray]


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = build_model("unet", base_channels=4, depth=2, dropout=0.2)
    with torch.no_grad():
        model.head.weight.normal_(std=0.1)
    model.meta["patch"] = [16, 32]
    return save_model(model, tmp_path_factory.mktemp("model") / "unet.pt", training={"patch": [16, 32]})


@pytest.fixture(scope="module")
def section() -> Section:
    data = make_survey("2d", n_traces=50, n_samples=90, seed=3)
    keep = make_mask((50,), "random:0.4", seed=1)
    return data.replace(np.where(keep[:, None], data.values, 0), trace_mask=keep), keep


def test_2d_live_traces_exact_and_history(model_path: Path, section: Section) -> None:
    damaged, keep = section
    out = reconstruct(damaged, model_path, device="cpu", batch_size=3)
    assert out.shape == damaged.shape
    np.testing.assert_array_equal(out.values[keep], damaged.values[keep])
    assert out.trace_mask.all()
    assert np.abs(out.values[~keep]).max() > 0
    entry = out.history[-1]
    assert entry["operation"] == "ml.reconstruct"
    assert entry["parameters"]["architecture"] == "unet"
    assert entry["parameters"]["patch"] == [128, 512]  # the default window: larger than the training patch
    assert entry["parameters"]["n_filled"] == int((~keep).sum())
    assert len(entry["parameters"]["weights_sha256"]) == 64


def test_batch_size_does_not_change_the_result(model_path: Path, section: Section) -> None:
    damaged, _ = section
    model = ml.load_model(model_path)
    a = reconstruct(damaged, model, device="cpu", batch_size=1)
    b = reconstruct(damaged, model, device="cpu", batch_size=64, overlap=0.25)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-4, atol=1e-5)


def test_channels_last_matches_a_plain_forward_and_leaves_the_model_as_it_came(
    model_path: Path, section: Section
) -> None:
    damaged, keep = section
    model = ml.load_model(model_path)
    # one window covering the section: the output on the missing traces is the network's own output
    out = reconstruct(damaged, model, device="cpu", patch=(64, 128), precision="float32")
    assert out.history[-1]["parameters"]["batch_size"] >= 1
    assert all(p.is_contiguous() for p in model.parameters())
    from promethium.ml.data import normalise

    x = np.where(keep[:, None], damaged.values, 0).astype(np.float32)[None]
    xn, rec = normalise(x, keep[None])
    with torch.no_grad():
        y = model(torch.from_numpy(xn[:, None]), torch.from_numpy(keep[None]))[:, 0].numpy()
    expected = rec.invert(y)[0]
    np.testing.assert_allclose(out.values[~keep], expected[~keep], rtol=1e-4, atol=1e-5)


def test_window_blending_is_seamless_for_identity_like_model(section: Section) -> None:
    # an untrained U-Net returns its masked input: blending must reproduce it exactly on any window grid
    damaged, _ = section
    model = build_model("unet", base_channels=4, depth=2)
    out = reconstruct(damaged, model, device="cpu", patch=(12, 20), overlap=0.5)
    np.testing.assert_allclose(out.values, damaged.values, atol=1e-5)


def test_3d_volume_per_inline_and_array_input(model_path: Path) -> None:
    vol = make_survey("3d", n_inline=3, n_crossline=20, n_samples=40, seed=0)
    keep = make_mask(vol.shape[:-1], "regular:2", seed=0)
    damaged = vol.replace(np.where(keep[..., None], vol.values, 0), trace_mask=keep)
    out = reconstruct(damaged, model_path, device="cpu")
    assert out.shape == vol.shape
    np.testing.assert_array_equal(out.values[keep], vol.values[keep])
    arr = reconstruct(damaged.values, model_path, live=keep, dt_ms=4.0, device="cpu")
    np.testing.assert_allclose(arr.values, out.values, atol=1e-6)


def test_mc_dropout_uncertainty(model_path: Path, section: Section) -> None:
    damaged, keep = section
    mean, std = reconstruct(damaged, model_path, device="cpu", mc_samples=3, seed=1)
    assert std.shape == damaged.shape
    assert (std.values[keep] == 0).all()
    assert std.values[~keep].max() > 0
    np.testing.assert_array_equal(mean.values[keep], damaged.values[keep])
    with pytest.raises(ParameterError, match="dropout"):
        reconstruct(damaged, build_model("unet", base_channels=4, depth=1), mc_samples=2)


def test_bad_inputs(model_path: Path, section: Section) -> None:
    damaged, _ = section
    with pytest.raises(DataError, match="no live trace"):
        reconstruct(damaged.replace(trace_mask=np.zeros(50, bool)), model_path)
    bad = damaged.values.copy()
    bad[damaged.trace_mask.argmax(), 5] = np.nan
    with pytest.raises(DataError, match="NaN"):
        reconstruct(damaged.replace(bad), model_path)
    with pytest.raises(DataError, match="shape"):
        reconstruct(np.zeros((4, 5, 6, 7)), model_path)
    with pytest.raises(DataError, match="live mask"):
        reconstruct(damaged.values, model_path, live=np.ones(3, bool))
    with pytest.raises(ParameterError, match="model"):
        reconstruct(damaged, 42)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="batch_size"):
        reconstruct(damaged, model_path, batch_size=0)


def test_evaluator_compares_with_classical_methods(model_path: Path) -> None:
    ref = make_survey("2d", n_traces=40, n_samples=64, seed=4, noise=0.0)
    ev = evaluate(
        ref,
        ["linear", "unet", "dae"],
        decimate="random:0.3",
        params={"unet": {"model": str(model_path), "device": "cpu"}},
    )
    by = {r.method: r for r in ev.results}
    assert by["linear"].error is None
    assert by["unet"].error is None
    assert by["unet"].snr_missing is not None
    assert by["dae"].error is not None
    assert "model" in by["dae"].error


def test_finetuned_evaluator_adapts_the_model(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promethium.ml import train as train_mod

    calls: list[tuple[int | None, float | None]] = []
    real = train_mod.finetune

    def spy(model: object, data: object, steps: int | None = None, **kw: object) -> object:
        calls.append((steps, kw.get("lr")))  # type: ignore[arg-type]
        return real(model, data, steps=2, batch_size=2, patch=(16, 32), **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(train_mod, "finetune", spy)
    ref = make_survey("2d", n_traces=40, n_samples=64, seed=4, noise=0.0)
    common = {"model": str(model_path), "device": "cpu"}
    ev = evaluate(
        ref,
        ["unet", "unet_ft"],
        decimate="random:0.3",
        params={"unet": common, "unet_ft": common},
    )
    by = {r.method: r for r in ev.results}
    assert by["unet"].error is None
    assert by["unet_ft"].error is None
    # unet_ft fine-tunes with the model's defaults (steps=None); plain unet does not fine-tune
    assert calls == [(None, None)]
    assert by["unet_ft"].output is not None
    assert by["unet"].output is not None
    assert not np.array_equal(by["unet_ft"].output, by["unet"].output)
    calls.clear()
    evaluate(ref, ["unet_ft"], decimate="random:0.3", params={"unet_ft": {**common, "finetune": 0}})
    assert calls == []


def test_import_is_lazy() -> None:
    code = (
        "import sys, promethium.ml as ml\n"
        "assert 'torch' not in sys.modules\n"
        "ml.TrainConfig; ml.MaskGenerator\n"
        "assert 'torch' not in sys.modules\n"
        "from promethium.signal.evaluation import _EVALUATORS\n"
        "assert 'unet' in _EVALUATORS\n"
        "print('ok')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stderr
    assert "ok" in res.stdout
    with pytest.raises(AttributeError):
        _ = ml.no_such_name


def test_bfloat16_matches_float32_and_bad_precision(model_path: Path, section: Section) -> None:
    data, keep = section
    a = reconstruct(data, model_path, device="cpu", precision="float32")
    b = reconstruct(data, model_path, device="cpu", precision="bfloat16")
    assert b.history[-1]["parameters"]["precision"] == "bfloat16"
    err = np.sqrt(np.mean((a.values[~keep] - b.values[~keep]) ** 2))
    assert err < 0.02 * np.sqrt(np.mean(a.values[~keep] ** 2))
    with pytest.raises(ParameterError, match="precision"):
        reconstruct(data, model_path, precision="fp8")


def test_windows_without_missing_traces_are_skipped(model_path: Path) -> None:
    data = make_survey("2d", n_traces=120, n_samples=64, seed=4)
    keep = np.ones(120, bool)
    keep[100:104] = False  # only the last windows hold traces to fill
    damaged = data.replace(np.where(keep[:, None], data.values, 0), trace_mask=keep)
    calls: list[int] = []
    out = reconstruct(damaged, model_path, device="cpu", batch_size=1, progress=lambda d, t: calls.append(t))
    full_windows = len(range(0, 120 - 16 + 1, 12)) + 1
    assert calls[-1] < full_windows / 2
    np.testing.assert_array_equal(out.values[keep], data.values[keep])
    assert np.abs(out.values[~keep]).sum() > 0


def test_denoise_changes_live_traces_and_keeps_dead_ones(model_path: Path, section: Section) -> None:
    data, keep = section
    out = ml.denoise(data, model_path, device="cpu")
    assert out.history[-1]["operation"] == "ml.denoise"
    np.testing.assert_array_equal(out.trace_mask, keep)
    np.testing.assert_array_equal(out.values[~keep], data.values[~keep])
    assert not np.allclose(out.values[keep], data.values[keep])
