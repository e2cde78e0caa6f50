"""3D learned reconstruction: the 3D U-Net, synthetic volumes, 3D patches and augmentation, training,
inference over (inline, crossline, time) windows with data consistency, fine-tuning, and clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import promethium.ml as ml  # noqa: E402
from promethium.core.errors import ConfigurationError, DataError, ParameterError  # noqa: E402
from promethium.ml.data import augment, extract_patches, synthetic_batch, synthetic_volume  # noqa: E402
from promethium.ml.infer import reconstruct  # noqa: E402
from promethium.ml.io import load_model, save_model  # noqa: E402
from promethium.ml.models import UNet3D, build_model  # noqa: E402
from promethium.ml.train import TrainConfig, finetune, train  # noqa: E402

TINY = {"base_channels": 4, "depth": 1}


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = TrainConfig(
        model="unet3d",
        model_args=TINY,
        patch=(4, 8, 32),
        steps=12,
        batch_size=4,
        val_every=6,
        val_batches=1,
        lr=3e-3,
        device="cpu",
        output_dir=str(tmp_path_factory.mktemp("run3d")),
    )
    res = train(cfg)
    assert res.history[-1]["val_loss"] < res.history[0]["val_loss"] * 1.5
    return Path(res.files["model"])


def test_unet3d_shapes_any_size_and_identity_start() -> None:
    torch.manual_seed(0)
    net = build_model("unet3d", **TINY)
    assert isinstance(net, UNet3D)
    assert net.spatial_dims == 3
    x = torch.randn(2, 1, 5, 7, 33)
    mask = torch.rand(2, 5, 7) > 0.5
    y = net(x, mask)
    assert y.shape == x.shape
    # the head starts at zero: an untrained model returns the masked input
    torch.testing.assert_close(y, x * mask[:, None, ..., None])
    with pytest.raises(ParameterError, match="mask"):
        net(x, torch.ones(2, 5, 6, dtype=torch.bool))
    with pytest.raises(ParameterError, match="x"):
        net(torch.randn(2, 1, 7, 33), mask)
    with pytest.raises(ParameterError, match="depth"):
        build_model("unet3d", depth=9)


def test_synthetic_volume_is_deterministic_unit_rms_and_varies_in_both_directions() -> None:
    clean, noisy = synthetic_volume(6, 12, 64, 5, noise=(0.2, 0.2))
    again, _ = synthetic_volume(6, 12, 64, 5, noise=(0.2, 0.2))
    np.testing.assert_array_equal(clean, again)
    assert clean.shape == noisy.shape == (6, 12, 64)
    assert clean.dtype == np.float32
    assert np.sqrt(np.mean(clean.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-4)
    assert 0.1 < np.sqrt(np.mean((noisy - clean).astype(np.float64) ** 2)) < 0.4
    # events move along inlines and crosslines alike: neighbouring traces differ in both directions
    assert np.abs(np.diff(clean, axis=0)).mean() > 0.01
    assert np.abs(np.diff(clean, axis=1)).mean() > 0.01
    c, n = synthetic_batch(3, (4, 5, 32), np.random.default_rng(0))
    assert c.shape == n.shape == (3, 4, 5, 32)


def test_3d_patches_and_augmentation_keep_data_and_mask_together() -> None:
    vol, _ = synthetic_volume(6, 10, 40, 1)
    live = np.ones((6, 10), bool)
    live[2, 3] = False
    patches = extract_patches(vol, (4, 8, 32), overlap=0.5, live=live, min_live=0.5)
    assert patches.values.shape[1:] == (4, 8, 32)
    assert patches.live.shape[1:] == (4, 8)
    for v, m, (i0, x0, t0) in zip(patches.values, patches.live, patches.origins, strict=True):
        np.testing.assert_array_equal(v, vol[i0 : i0 + 4, x0 : x0 + 8, t0 : t0 + 32])
        np.testing.assert_array_equal(m, live[i0 : i0 + 4, x0 : x0 + 8])
    with pytest.raises(DataError, match="volume"):
        extract_patches(vol[0], (4, 8, 32))
    # one transform for data, target and mask: a dead trace stays zero where its mask says dead
    data = np.where(patches.live[..., None], patches.values, 0.0)
    (a, b), lv = augment([data, data * 2], patches.live, np.random.default_rng(3), amplitude=None)
    np.testing.assert_allclose(b, 2 * a, rtol=1e-6)
    assert np.all(a[~lv] == 0)
    assert lv.sum() == patches.live.sum()


def test_training_inference_and_data_consistency(trained: Path) -> None:
    model = load_model(trained)
    assert model.architecture == "unet3d"
    vol, _ = synthetic_volume(7, 20, 60, 2)
    keep = np.random.default_rng(1).random((7, 20)) > 0.5
    damaged = np.where(keep[..., None], vol, 0.0)
    out = reconstruct(damaged, model, live=keep, device="cpu", patch=(4, 16, 48), overlap=0.25)
    assert out.shape == vol.shape
    np.testing.assert_array_equal(out.values[keep], damaged[keep])
    assert np.isfinite(out.values).all()
    assert np.abs(out.values[~keep]).max() > 0
    params = out.history[-1]["parameters"]
    assert params["architecture"] == "unet3d"
    assert params["patch"] == [4, 16, 48]
    assert params["precision"] == "float32"  # 3D models stay float32 on CPUs
    # batch size and window overlap change nothing but rounding where windows agree
    single = reconstruct(damaged, model, live=keep, device="cpu", patch=(7, 20, 60))
    again = reconstruct(damaged, model, live=keep, device="cpu", patch=(7, 20, 60), batch_size=3)
    np.testing.assert_allclose(single.values, again.values, rtol=1e-5, atol=1e-6)


def test_3d_model_errors_are_clear(trained: Path) -> None:
    model = load_model(trained)
    with pytest.raises(DataError, match="volumes"):
        reconstruct(np.zeros((10, 50), np.float32), model, device="cpu")
    with pytest.raises(ParameterError, match="inlines, crosslines, samples"):
        reconstruct(np.ones((4, 5, 40), np.float32), model, device="cpu", patch=(4, 40))
    with pytest.raises(ConfigurationError, match="3D patches"):
        train(TrainConfig(model="unet3d", model_args=TINY, patch=(16, 32), steps=1, device="cpu"))
    with pytest.raises(ConfigurationError, match="2D patches"):
        train(TrainConfig(model="unet", patch=(4, 8, 32), steps=1, device="cpu"))


def test_finetune_3d_on_a_damaged_volume(trained: Path, tmp_path: Path) -> None:
    model = load_model(trained)
    vol, _ = synthetic_volume(6, 16, 48, 4)
    keep = np.random.default_rng(2).random((6, 16)) > 0.4
    from promethium.io.data import SeismicData

    data = SeismicData.from_array(np.where(keep[..., None], vol, 0.0).astype(np.float32), sample_interval=4.0)
    data = data.replace(data.values, trace_mask=keep)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    finetune(model, data, steps=3, batch_size=2, device="cpu")
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.meta["finetune"][-1]["steps"] == 3
    saved = save_model(model, tmp_path / "ft3d.pt")
    assert ml.load_model(saved).architecture == "unet3d"
