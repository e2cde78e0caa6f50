"""``promethium filter|reconstruct|denoise|qc|evaluate`` end to end on files written to disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import promethium.io as pio
from promethium.cli.main import app
from promethium.cli.signal_cmds import parse_params
from promethium.core.errors import ParameterError
from promethium.synthetic import damage, make_survey

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_signal")
    clean = make_survey("2d", n_traces=80, n_samples=200, seed=21, noise=0.02)
    damaged, _ = damage(clean, 0.25, 0.05, seed=22)
    paths = {"root": root, "clean": root / "clean.sgy", "damaged": root / "damaged.sgy"}
    pio.write(clean, paths["clean"])
    pio.write(damaged, paths["damaged"])
    return paths


def _err(result: object) -> str:
    return str(result.stderr)  # type: ignore[attr-defined]


def test_parse_params() -> None:
    assert parse_params(["rank=4", "band=[5,60]", "kind=soft", "alpha=0.5", "flag=true"]) == {
        "rank": 4,
        "band": [5, 60],
        "kind": "soft",
        "alpha": 0.5,
        "flag": True,
    }
    with pytest.raises(ParameterError, match="--param"):
        parse_params(["rank"])


@pytest.mark.parametrize("cmd", ["filter", "reconstruct", "denoise", "qc", "evaluate"])
def test_help(cmd: str) -> None:
    result = runner.invoke(app, [cmd, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_reconstruct_writes_segy_with_live_traces_kept(files: dict[str, Path]) -> None:
    out = files["root"] / "filled.sgy"
    fig = files["root"] / "filled.png"
    result = runner.invoke(
        app, ["reconstruct", str(files["damaged"]), str(out), "--method", "linear", "--figure", str(fig)]
    )
    assert result.exit_code == 0, _err(result)
    assert "filled" in result.stdout
    src = pio.read(files["damaged"])
    got = pio.read(out)
    assert got.trace_mask.all()
    np.testing.assert_array_equal(got.values[src.trace_mask], src.values[src.trace_mask])
    assert fig.stat().st_size > 10_000
    # An existing output is refused before any work, and left untouched.
    before = out.read_bytes()
    again = runner.invoke(app, ["reconstruct", str(files["damaged"]), str(out), "--method", "nearest"])
    assert again.exit_code == 2
    assert "already exists" in _err(again)
    assert out.read_bytes() == before


def test_reconstruct_to_zarr_with_window_and_params(files: dict[str, Path]) -> None:
    out = files["root"] / "filled.zarr"
    result = runner.invoke(
        app,
        [
            "reconstruct",
            str(files["damaged"]),
            str(out),
            "-m",
            "linear",
            "--window",
            "30,100",
            "--overlap",
            "8,20",
        ],
    )
    assert result.exit_code == 0, _err(result)
    got = pio.read(out)
    entry = got.history[-1]
    assert entry["operation"] == "signal.reconstruct"
    assert entry["parameters"]["window"] == [30, 100]


def test_reconstruct_bad_method_and_param(files: dict[str, Path]) -> None:
    out = files["root"] / "never.sgy"
    bad = runner.invoke(app, ["reconstruct", str(files["damaged"]), str(out), "-m", "magic"])
    assert bad.exit_code == 2
    assert "method" in _err(bad)
    bad2 = runner.invoke(
        app, ["reconstruct", str(files["damaged"]), str(out), "-m", "linear", "-p", "rank=3"]
    )
    assert bad2.exit_code == 2
    assert "rank" in _err(bad2)
    assert not out.exists()


def test_evaluate_prints_table_and_writes_figure_and_json(files: dict[str, Path]) -> None:
    fig = files["root"] / "eval.png"
    js = files["root"] / "eval.json"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(files["clean"]),
            "--decimate",
            "random:0.4",
            "--methods",
            "linear,nearest",
            "--figure",
            str(fig),
            "--json",
            str(js),
        ],
    )
    assert result.exit_code == 0, _err(result)
    assert "linear" in result.stdout
    assert "nearest" in result.stdout
    report = json.loads(js.read_text())
    assert report["n_hidden"] == 32
    assert {r["method"] for r in report["results"]} == {"linear", "nearest"}
    assert all(r["snr_missing_db"] > 0 for r in report["results"])
    assert fig.stat().st_size > 10_000


def test_evaluate_default_methods_are_the_presets() -> None:
    """``promethium evaluate`` without ``--methods`` compares what the service's compare-methods job does."""
    import inspect

    import yaml

    from promethium.cli.signal_cmds import evaluate_cmd
    from promethium.workflows.spec import preset_path

    preset = yaml.safe_load(preset_path("compare-methods").read_text())
    default = inspect.signature(evaluate_cmd).parameters["methods"].default.default
    assert default.split(",") == preset["steps"][0]["params"]["methods"]


def test_evaluate_bad_spec(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["evaluate", str(files["clean"]), "--decimate", "random:1.2"])
    assert result.exit_code == 2
    assert "decimate" in _err(result)


def test_filter_bandpass_and_agc(files: dict[str, Path]) -> None:
    from promethium.signal import agc
    from promethium.signal import filter as sfilter

    out = files["root"] / "bp.sgy"
    result = runner.invoke(
        app, ["filter", str(files["clean"]), str(out), "--kind", "bandpass", "--low", "5", "--high", "40"]
    )
    assert result.exit_code == 0, _err(result)
    src = pio.read(files["clean"])
    expected = sfilter(src, "bandpass", low=5, high=40)
    np.testing.assert_allclose(pio.read(out).values, expected.values, rtol=0, atol=1e-6)
    out2 = files["root"] / "agc.zarr"
    result = runner.invoke(
        app, ["filter", str(files["clean"]), str(out2), "-k", "agc", "-p", "window_ms=200"]
    )
    assert result.exit_code == 0, _err(result)
    np.testing.assert_allclose(pio.read(out2).values, agc(src, 200).values, atol=1e-6)


def test_filter_above_nyquist_is_a_clear_error(files: dict[str, Path]) -> None:
    out = files["root"] / "never_bp.sgy"
    result = runner.invoke(app, ["filter", str(files["clean"]), str(out), "--low", "5", "--high", "400"])
    assert result.exit_code == 2
    assert "high" in _err(result)
    assert "Nyquist" in _err(result) or "125" in _err(result)
    assert not out.exists()


def test_denoise_command(files: dict[str, Path]) -> None:
    from promethium.signal import denoise

    out = files["root"] / "dn.zarr"
    result = runner.invoke(app, ["denoise", str(files["clean"]), str(out), "-m", "fx_decon"])
    assert result.exit_code == 0, _err(result)
    got = pio.read(out)
    assert got.history[-1]["operation"] == "signal.denoise"
    assert got.history[-1]["parameters"]["method"] == "fx_decon"
    np.testing.assert_allclose(got.values, denoise(pio.read(files["clean"]), "fx_decon").values, atol=1e-6)


def test_qc_command_writes_json_and_png(files: dict[str, Path]) -> None:
    folder = files["root"] / "qcout"
    result = runner.invoke(app, ["qc", str(files["damaged"]), "-o", str(folder)])
    assert result.exit_code == 0, _err(result)
    report = json.loads((folder / "qc.json").read_text())
    src = pio.read(files["damaged"])
    assert report["summary"]["n_dead"] == int((~src.trace_mask).sum())
    assert (folder / "qc.png").stat().st_size > 10_000


def test_reconstruct_and_denoise_with_the_shipped_network(files: dict[str, Path]) -> None:
    out = files["root"] / "unet.sgy"
    result = runner.invoke(
        app,
        [
            "reconstruct",
            str(files["damaged"]),
            str(out),
            "--method",
            "unet",
            "--finetune",
            "--finetune-steps",
            "2",
        ],
    )
    assert result.exit_code == 0, _err(result)
    src = pio.read(files["damaged"])
    got = pio.read(out)
    assert got.trace_mask.all()
    np.testing.assert_array_equal(got.values[src.trace_mask], src.values[src.trace_mask])
    dn = files["root"] / "unet-dn.sgy"
    result = runner.invoke(app, ["denoise", str(files["clean"]), str(dn), "--method", "unet"])
    assert result.exit_code == 0, _err(result)
    assert pio.read(dn).values.shape == pio.read(files["clean"]).values.shape
    bad = runner.invoke(
        app,
        ["reconstruct", str(files["damaged"]), str(files["root"] / "x.sgy"), "-m", "pocs", "--model", "unet"],
    )
    assert bad.exit_code != 0
    assert "--model" in _err(bad)
    missing = runner.invoke(
        app,
        [
            "reconstruct",
            str(files["damaged"]),
            str(files["root"] / "y.sgy"),
            "-m",
            "unet",
            "--model",
            "nope.pt",
        ],
    )
    assert missing.exit_code != 0
    assert "not found" in _err(missing)


def test_reconstruct_a_volume_with_a_3d_network(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from promethium.ml import build_model, save_model

    cube = make_survey("3d", n_inline=5, n_crossline=8, n_samples=60, seed=3)
    damaged, _ = damage(cube, 0.3, 0.0, seed=4)
    src_path = tmp_path / "cube.sgy"
    pio.write(damaged, src_path)
    model = save_model(build_model("unet3d", base_channels=4, depth=1), tmp_path / "tiny3d.pt")
    out = tmp_path / "filled.zarr"
    args = ["reconstruct", str(src_path), str(out), "-m", "unet3d", "--model", str(model)]
    result = runner.invoke(app, [*args, "--window", "4,8,32", "--finetune", "--finetune-steps", "2"])
    assert result.exit_code == 0, _err(result)
    src = pio.read(src_path)
    got = pio.read(out)
    assert got.shape == src.shape
    assert got.trace_mask.all()
    np.testing.assert_array_equal(got.values[src.trace_mask], src.values[src.trace_mask])
    assert got.history[-1]["parameters"]["patch"] == [4, 8, 32]
    bad = runner.invoke(app, [*args, "--overwrite", "--window", "8,32"])
    assert bad.exit_code != 0
    assert "inlines,crosslines,samples" in _err(bad)
