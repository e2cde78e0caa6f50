"""Tests of model files: weights + JSON sidecar, weights_only loading and every refusal."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from promethium._version import __version__  # noqa: E402
from promethium.core.errors import ParameterError, PromethiumError  # noqa: E402
from promethium.ml.errors import (  # noqa: E402
    ArchitectureMismatchError,
    ModelFormatError,
    ModelVersionError,
)
from promethium.ml.io import FORMAT_VERSION, load_model, read_sidecar, save_model, sidecar_path  # noqa: E402
from promethium.ml.models import build_model  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = build_model("unet", base_channels=4, depth=2, variant="attention")
    with torch.no_grad():
        model.head.weight.normal_()  # not the zero init: a round trip must carry real weights
    return save_model(model, tmp_path / "m.pt", training={"steps": 3}, metrics={"val_loss": 0.5})


def _edit_sidecar(path: Path, **changes: object) -> None:
    side = sidecar_path(path)
    meta = json.loads(side.read_text())
    meta.update(changes)
    side.write_text(json.dumps(meta))


def test_round_trip_same_outputs_and_sidecar(saved: Path) -> None:
    meta = read_sidecar(saved)
    assert meta["architecture"] == "unet"
    assert meta["args"]["variant"] == "attention"
    assert meta["library_version"] == __version__
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["training"] == {"steps": 3}
    assert meta["metrics"] == {"val_loss": 0.5}
    assert len(meta["weights_sha256"]) == 64
    model = load_model(saved)
    assert not model.training
    torch.manual_seed(0)
    ref = build_model("unet", base_channels=4, depth=2, variant="attention")
    ref.load_state_dict(torch.load(saved, weights_only=True))
    ref.eval()
    x = torch.randn(1, 1, 8, 16)
    mask = torch.ones(1, 8, dtype=torch.bool)
    torch.testing.assert_close(model(x, mask), ref(x, mask))
    assert model.meta["metrics"] == {"val_loss": 0.5}


def test_wrong_suffix_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"\.pt"):
        save_model(build_model("dae", base_channels=4, depth=1), tmp_path / "m.pth")


def test_missing_sidecar(saved: Path) -> None:
    sidecar_path(saved).unlink()
    with pytest.raises(ModelFormatError, match="sidecar not found"):
        load_model(saved)


def test_garbled_sidecar(saved: Path) -> None:
    sidecar_path(saved).write_text("{not json")
    with pytest.raises(ModelFormatError, match="cannot read"):
        load_model(saved)
    sidecar_path(saved).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelFormatError, match="not a Promethium model"):
        load_model(saved)


def test_newer_format_version_refused(saved: Path) -> None:
    _edit_sidecar(saved, format_version=FORMAT_VERSION + 1, library_version="99.0")
    with pytest.raises(ModelVersionError, match="upgrade"):
        load_model(saved)


def test_unknown_architecture(saved: Path) -> None:
    _edit_sidecar(saved, architecture="gan9000")
    with pytest.raises(ArchitectureMismatchError, match="unknown architecture"):
        load_model(saved)


def test_weights_of_another_architecture(saved: Path) -> None:
    _edit_sidecar(saved, architecture="dae", args={"base_channels": 4, "depth": 2})
    with pytest.raises(ArchitectureMismatchError, match="do not fit"):
        load_model(saved)


def test_weights_of_other_constructor_args(saved: Path) -> None:
    _edit_sidecar(saved, args={"base_channels": 8, "depth": 2, "variant": "attention"})
    with pytest.raises(ArchitectureMismatchError, match="do not fit"):
        load_model(saved)


def test_unbuildable_args(saved: Path) -> None:
    _edit_sidecar(saved, args={"colour": "red"})
    with pytest.raises(PromethiumError):
        load_model(saved)


def test_expected_architecture(saved: Path) -> None:
    assert load_model(saved, architecture="unet").architecture == "unet"
    with pytest.raises(ArchitectureMismatchError, match="expected 'dae'"):
        load_model(saved, architecture="dae")


def test_corrupted_weights_checksum(saved: Path) -> None:
    raw = bytearray(saved.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    saved.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match="checksum"):
        load_model(saved)


def test_truncated_weights_without_checksum(saved: Path) -> None:
    saved.write_bytes(saved.read_bytes()[:200])
    _edit_sidecar(saved, weights_sha256=None)
    with pytest.raises(ModelFormatError, match="corrupted"):
        load_model(saved)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickled_code_is_never_run(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with saved.open("wb") as fh:
        pickle.dump({"x": _Evil()}, fh)
    _edit_sidecar(saved, weights_sha256=None)
    with pytest.raises(ModelFormatError):
        load_model(saved)
    assert "pwned" not in capsys.readouterr().out


def test_missing_weights_file(saved: Path) -> None:
    saved.unlink()
    with pytest.raises(ModelFormatError, match="not found"):
        load_model(saved)
