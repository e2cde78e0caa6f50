"""Tests of the model interface, the registry and the U-Net / autoencoder architectures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch")

from promethium.core.errors import ParameterError, PromethiumError  # noqa: E402
from promethium.ml.errors import ModelError  # noqa: E402
from promethium.ml.models import (  # noqa: E402
    DenoisingAutoencoder,
    ReconstructionModel,
    UNet2D,
    build_model,
    get_model_class,
    list_models,
    register_model,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _inputs(b: int = 2, tr: int = 30, t: int = 61) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, 1, tr, t, generator=g)
    mask = torch.rand(b, tr, generator=g) > 0.5
    return x, mask


def test_registry_lists_builtins() -> None:
    assert {"unet", "dae"} <= set(list_models())
    assert get_model_class("UNet") is UNet2D
    assert get_model_class("dae") is DenoisingAutoencoder


def test_unknown_architecture_is_parameter_error() -> None:
    with pytest.raises(ParameterError, match="unknown architecture"):
        build_model("transformer9000")


def test_unknown_constructor_argument_is_parameter_error() -> None:
    with pytest.raises(ParameterError, match="model_args"):
        build_model("unet", widht=3)


def test_register_conflicting_name_refused() -> None:
    with pytest.raises(ModelError, match="already registered"):

        @register_model("unet")
        class Other(ReconstructionModel):
            pass


@pytest.mark.parametrize("variant", ["plain", "residual", "attention"])
def test_unet_variants_any_size(variant: str) -> None:
    model = build_model("unet", variant=variant, base_channels=4, depth=2)
    x, mask = _inputs(tr=13, t=37)  # not multiples of 2**depth
    y = model(x, mask)
    assert y.shape == x.shape
    loss = model.loss(y, x, mask)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_unet_default_is_small_and_starts_from_input() -> None:
    model = UNet2D()
    size_mb = sum(p.numel() * p.element_size() for p in model.parameters()) / 1e6
    assert size_mb < 10
    assert model.config == {
        "base_channels": 16,
        "depth": 3,
        "variant": "plain",
        "dropout": 0.0,
        "missing_weight": 1.0,
    }
    x, mask = _inputs()
    with torch.no_grad():
        y = model(x, mask)
    # zero-initialised head: the untrained model returns the masked input
    torch.testing.assert_close(y, x * mask[:, None, :, None])


def test_dae_shapes_and_dropout() -> None:
    model = build_model("dae", base_channels=4, depth=2, dropout=0.2)
    x, mask = _inputs(tr=17, t=33)
    assert model(x, mask).shape == x.shape
    assert any(isinstance(m, torch.nn.Dropout2d) for m in model.modules())


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"variant": "fancy"}, "variant"), ({"depth": 0}, "depth"), ({"dropout": 1.5}, "dropout")],
)
def test_bad_constructor_values(kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(ParameterError) as info:
        build_model("unet", **kwargs)
    assert info.value.parameter == param


def test_wrong_input_shapes_are_promethium_errors() -> None:
    model = build_model("unet", base_channels=4, depth=1)
    x, mask = _inputs()
    with pytest.raises(PromethiumError, match="expected"):
        model(x[:, 0], mask)
    with pytest.raises(ParameterError, match="mask"):
        model(x, mask[:, :-1])


def test_loss_weights_missing_traces_and_unknown_targets() -> None:
    model = build_model("unet", base_channels=4, depth=1, missing_weight=3.0)
    target = torch.zeros(1, 1, 4, 8)
    pred = torch.zeros(1, 1, 4, 8)
    pred[0, 0, 0] = 1.0  # error on a live trace
    live = torch.tensor([[True, False, True, True]])
    live_err = float(model.loss(pred, target, live))
    pred2 = torch.zeros(1, 1, 4, 8)
    pred2[0, 0, 1] = 1.0  # same error on the missing trace weighs 4x
    miss_err = float(model.loss(pred2, target, live))
    assert miss_err == pytest.approx(4 * live_err)
    weight = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    assert float(model.loss(pred2, target, live, weight)) == 0.0
