"""Tests of the VAE, the GAN and the physics-informed U-Net, and of their training."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from promethium.core.errors import ParameterError  # noqa: E402
from promethium.ml import load_model, save_model  # noqa: E402
from promethium.ml.models import (  # noqa: E402
    PhysicsInformedUNet,
    ReconstructionGAN,
    VariationalAutoencoder,
    build_model,
    list_models,
)
from promethium.ml.models.pinn import plane_wave_residual, structure_tensor_slope  # noqa: E402
from promethium.ml.train import TrainConfig, train  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _inputs(b: int = 2, tr: int = 30, t: int = 61) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(b, 1, tr, t, generator=g), torch.rand(b, tr, generator=g) > 0.5


def test_registry_has_every_family() -> None:
    assert {"unet", "dae", "vae", "gan", "pinn"} <= set(list_models())


@pytest.mark.parametrize("arch", ["vae", "gan", "pinn"])
def test_any_size_shapes_and_round_trip(arch: str, tmp_path: Path) -> None:
    model = build_model(arch, base_channels=4).eval()
    x, mask = _inputs()
    y = model(x, mask)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()
    path = save_model(model, tmp_path / f"{arch}.pt")
    again = load_model(path, architecture=arch)
    torch.testing.assert_close(again(x, mask), y)


def test_vae_samples_in_training_and_is_deterministic_in_eval() -> None:
    model = VariationalAutoencoder(base_channels=4, beta=0.5)
    x, mask = _inputs()
    model.train()
    torch.manual_seed(0)
    a = model(x, mask)
    b = model(x, mask)
    assert not torch.equal(a, b)  # the latent is sampled
    kl = model.last_kl
    assert kl is not None
    assert float(kl.detach()) >= 0
    plain = super(VariationalAutoencoder, model).loss(a, x, mask)
    model(x, mask)
    assert float(model.loss(a, x, mask)) == pytest.approx(float(plain) + 0.5 * float(model.last_kl), rel=1e-5)
    model.eval()
    torch.testing.assert_close(model(x, mask), model(x, mask))


def test_gan_loss_adds_the_adversarial_term_only_in_training() -> None:
    model = ReconstructionGAN(base_channels=4, disc_channels=4, adv_weight=0.5)
    x, mask = _inputs()
    pred = model(x, mask)
    model.eval()
    rec = model.loss(pred, x, mask)
    model.train()
    total = model.loss(pred, x, mask)
    assert float(total) > float(rec)
    d = model.discriminator_loss(pred, x, mask)
    assert float(d) > 0
    assert d.requires_grad
    gen = {id(p) for p in model.generator_parameters()}
    disc = {id(p) for p in model.discriminator_parameters()}
    assert gen
    assert disc
    assert not gen & disc


def test_plane_wave_residual_vanishes_along_the_true_slope() -> None:
    t = torch.arange(200.0)
    x = torch.arange(24.0)[:, None]
    slope = 1.5
    u = torch.sin(2 * np.pi * (t[None] - slope * x) / 40.0)[None, None]
    sigma, coherence = structure_tensor_slope(u)
    inner = (slice(None), slice(None), slice(2, -2), slice(20, -20))
    assert float(sigma[inner].mean()) == pytest.approx(slope, abs=0.1)
    assert float(coherence[inner].mean()) > 0.9
    good = plane_wave_residual(u, sigma)[inner].pow(2).mean()
    bad = plane_wave_residual(u, -sigma)[inner].pow(2).mean()
    assert float(good) < 0.02 * float(bad)


def test_pinn_physics_term_penalises_incoherent_output() -> None:
    t = torch.arange(128.0)
    x = torch.arange(16.0)[:, None]
    target = torch.sin(2 * np.pi * (t[None] - 0.8 * x) / 32.0)[None, None]
    mask = torch.ones(1, 16, dtype=torch.bool)
    model = PhysicsInformedUNet(base_channels=4, physics_weight=1.0).train()
    noisy = target + 0.3 * torch.randn_like(target, generator=torch.Generator().manual_seed(0))
    assert float(model.physics_loss(target, target)) < 0.05
    assert float(model.physics_loss(noisy, target)) > 5 * float(model.physics_loss(target, target))
    plain = PhysicsInformedUNet(base_channels=4, physics_weight=0.0)
    assert float(model.loss(noisy, target, mask)) > float(plain.loss(noisy, target, mask))


@pytest.mark.parametrize(
    ("arch", "kwargs", "param"),
    [
        ("vae", {"latent_channels": 0}, "latent_channels"),
        ("vae", {"beta": -1.0}, "beta"),
        ("gan", {"adv_weight": -1.0}, "adv_weight"),
        ("gan", {"disc_layers": 9}, "disc_layers"),
        ("pinn", {"physics_weight": -0.1}, "physics_weight"),
        ("pinn", {"slope_radius": [0, 3]}, "slope_radius"),
    ],
)
def test_bad_constructor_values(arch: str, kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(ParameterError, match=param):
        build_model(arch, **kwargs)


@pytest.mark.parametrize("arch", ["vae", "gan", "pinn"])
def test_training_learns_and_resumes_exactly(arch: str, tmp_path: Path) -> None:
    common = dict(
        model=arch,
        model_args={"base_channels": 4},
        batch_size=4,
        patch=(16, 32),
        val_every=6,
        val_batches=1,
        device="cpu",
        output_dir=str(tmp_path / "run"),
        checkpoint_every=3,
    )
    full = train(TrainConfig(steps=6, **common))  # type: ignore[arg-type]
    assert all(np.isfinite(h["val_loss"]) for h in full.history)
    part = train(TrainConfig(steps=6, **{**common, "output_dir": str(tmp_path / "b")}), stop_after=3)  # type: ignore[arg-type]
    assert part.interrupted
    resumed = train(TrainConfig(steps=6, resume=True, **{**common, "output_dir": str(tmp_path / "b")}))  # type: ignore[arg-type]
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v)
