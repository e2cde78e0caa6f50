"""The ``promethium`` command line: help, version, io info/convert/headers, errors and the demo."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import promethium.io as pio
from promethium._version import __version__
from promethium.cli.main import app
from promethium.synthetic import damage, make_survey

runner = CliRunner()

N_IL, N_XL, N_T = 10, 12, 80


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A damaged survey written as SEG-Y (with holes and dead traces) and as Zarr."""
    root = tmp_path_factory.mktemp("cli")
    survey = make_survey("3d", n_inline=N_IL, n_crossline=N_XL, n_samples=N_T, seed=11)
    damaged, info = damage(survey, 0.2, 0.1, seed=12)
    segy = root / "survey.sgy"
    pio.write(damaged, segy)
    zarr = root / "survey.zarr"
    pio.write(damaged, zarr)
    text = root / "notes.txt"
    text.write_text("this is not seismic data\n" * 50)
    (root / "info.json").write_text(json.dumps({k: info[k] for k in ("n_missing", "n_dead", "n_live")}))
    return {"segy": segy, "zarr": zarr, "text": text, "root": root, "info": root / "info.json"}


def _error_line(result: object) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]  # type: ignore[attr-defined]
    assert len(lines) == 1, result.stderr  # type: ignore[attr-defined]
    return lines[0]


# ----------------------------------------------------------------------------------------- basics
def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"promethium {__version__}"


@pytest.mark.parametrize(
    "args",
    [[], ["io"], ["io", "info"], ["io", "convert"], ["io", "headers"], ["demo"]],
    ids=lambda a: " ".join(a) or "root",
)
def test_help_everywhere(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout
    assert "Examples" in result.stdout
    assert "promethium" in result.stdout


def test_main_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    from promethium.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ io info
def test_info_text(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["io", "info", str(files["segy"])])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for word in ("segy", "3d", "holes", "inline", "crossline", "dead", "cdp_x"):
        assert word in out


@pytest.mark.parametrize("kind", ["segy", "zarr"])
def test_info_json(files: dict[str, Path], kind: str) -> None:
    result = runner.invoke(app, ["io", "info", str(files[kind]), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    expected = json.loads(files["info"].read_text())
    assert info["format"] == kind
    assert info["samples"] == N_T
    assert info["sample_interval"] == 4.0
    assert info["geometry"]["kind"] == "3d"
    assert info["geometry"]["grid_shape"] == [N_IL, N_XL]
    assert info["mask"]["live"] == expected["n_live"]
    assert info["mask"]["dead"] == expected["n_dead"]
    assert info["mask"]["holes"] == expected["n_missing"]
    assert info["headers"]["inline"] == {"min": 100, "max": 100 + N_IL - 1}
    assert info["headers"]["coordinate_scalar"] == {"min": -100, "max": -100}
    assert info["amplitude"]["rms"] > 0


def test_info_forced_format(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["io", "info", str(files["segy"]), "--format", "sgy", "--json"])
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.stdout)["traces"]
        == N_IL * N_XL - json.loads(files["info"].read_text())["n_missing"]
    )


# ---------------------------------------------------------------------------------------- io convert
def test_convert_to_zarr_and_back(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.zarr"
    result = runner.invoke(app, ["io", "convert", str(files["segy"]), str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    original = pio.read(files["segy"])
    converted = pio.read(out)
    assert converted.equals(original)
    back = tmp_path / "back.sgy"
    result = runner.invoke(app, ["-q", "io", "convert", str(out), str(back)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert pio.read(back).equals(original)


def test_convert_refuses_existing_output(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "exists.sgy"
    out.write_bytes(b"precious")
    result = runner.invoke(app, ["io", "convert", str(files["zarr"]), str(out)])
    assert result.exit_code == 2
    line = _error_line(result)
    assert "already exists" in line
    assert "--overwrite" in line
    assert out.read_bytes() == b"precious"

    store = tmp_path / "exists.zarr"
    assert runner.invoke(app, ["io", "convert", str(files["segy"]), str(store)]).exit_code == 0
    listing = sorted(p.relative_to(store) for p in store.rglob("*"))
    mtimes = {p: p.stat().st_mtime_ns for p in store.rglob("*")}
    result = runner.invoke(app, ["io", "convert", str(files["segy"]), str(store)])
    assert result.exit_code == 2
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == listing
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*")} == mtimes

    result = runner.invoke(app, ["io", "convert", str(files["zarr"]), str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    written, source = pio.read(out), pio.read(files["zarr"])
    assert written.equals(source, headers=False)  # SEG-Y adds every standard header field
    live = source.trace_mask
    for name in source.header_names:
        np.testing.assert_array_equal(written.header(name)[live], source.header(name)[live])


def test_convert_explicit_format(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "noext"
    result = runner.invoke(app, ["io", "convert", str(files["segy"]), str(out), "--format", "zarr"])
    assert result.exit_code == 0, result.output
    assert pio.detect_format(out) == "zarr"
    result = runner.invoke(app, ["io", "convert", str(files["segy"]), str(tmp_path / "x.unknown")])
    assert result.exit_code == 2
    assert "extension" in _error_line(result)


# ---------------------------------------------------------------------------------------- io headers
def test_headers_table(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["io", "headers", str(files["segy"]), "--traces", "0:5"])
    assert result.exit_code == 0, result.output
    for column in ("trace", "inline", "crossline", "cdp_x", "offset", "trace_id"):
        assert column in result.stdout


def test_headers_csv_and_json(files: dict[str, Path]) -> None:
    args = ["io", "headers", str(files["segy"]), "--fields", "inline,crossline,offset", "--traces", "0:20"]
    result = runner.invoke(app, [*args, "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 20
    assert list(rows[0]) == ["trace", "inline", "crossline", "offset"]
    data = pio.read(files["segy"], geometry="2d")
    np.testing.assert_array_equal([int(r["crossline"]) for r in rows], data.header("crossline")[:20])
    assert [int(r["trace"]) for r in rows] == list(range(20))

    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed[0] == {k: int(v) for k, v in rows[0].items()}
    result = runner.invoke(app, ["io", "headers", str(files["zarr"]), "--traces", "0:30:10", "--json"])
    assert result.exit_code == 0, result.output
    assert [row["trace"] for row in json.loads(result.stdout)] == [0, 10, 20]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fields", "inline,bogus"], "bogus"),
        (["--traces", "a:b"], "--traces"),
        (["--csv", "--json"], "--csv"),
    ],
)
def test_headers_bad_options(files: dict[str, Path], extra: list[str], message: str) -> None:
    result = runner.invoke(app, ["io", "headers", str(files["segy"]), *extra])
    assert result.exit_code == 2
    assert message in _error_line(result)


# ------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("which", ["text", "missing", "empty"])
def test_bad_input_is_one_clean_line(files: dict[str, Path], which: str, tmp_path: Path) -> None:
    path = {"text": files["text"], "missing": tmp_path / "nope.sgy", "empty": tmp_path / "empty.sgy"}[which]
    if which == "empty":
        path.write_bytes(b"")
    result = runner.invoke(app, ["io", "info", str(path)])
    assert result.exit_code == 2, result.output
    line = _error_line(result)
    assert line.startswith("error:")
    assert "Traceback" not in result.output
    assert str(path.name) in line


def test_verbose_shows_the_traceback(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["--verbose", "io", "info", str(files["text"])])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "error:" in result.stderr


def test_forced_wrong_format_says_why(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["io", "info", str(files["text"]), "--format", "segy"])
    assert result.exit_code == 2
    assert "notes.txt" in _error_line(result)


# --------------------------------------------------------------------------------------------- demo
def test_demo_small(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--output", str(out), "--size", "small"])
    assert result.exit_code == 0, result.output
    for name in ("section.png", "timeslice.png", "mask.png"):
        png = out / name
        assert png.is_file(), name
        assert png.stat().st_size > 5000, name
        assert png.read_bytes()[:4] == b"\x89PNG"
        assert str(png) in result.stdout
    assert pio.detect_format(out / "survey.sgy") == "segy"
    assert pio.detect_format(out / "survey.zarr") == "zarr"
    assert pio.read(out / "survey.zarr").equals(pio.read(out / "survey.sgy"))
    assert "Demo finished" in result.stdout
    assert "[7/" in result.stderr  # progress steps


def test_demo_rejects_unknown_size(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--output", str(tmp_path), "--size", "huge"])
    assert result.exit_code == 2
