"""``promethium run`` and ``promethium pipelines list|show|schema`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from promethium import io as pio
from promethium.cli.main import PromethiumGroup
from promethium.cli.workflow_cmds import pipelines_app, run_cmd
from promethium.synthetic import make_survey


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """The commands as main.py will register them (``run`` and the ``pipelines`` group)."""
    a = typer.Typer(cls=PromethiumGroup, pretty_exceptions_enable=False)

    @a.callback()
    def _root() -> None:
        pass

    a.command("run")(run_cmd)
    a.add_typer(pipelines_app, name="pipelines")
    return a


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "line.sgy"
    pio.write(make_survey("2d", n_traces=64, n_samples=128, seed=2), str(path))
    return str(path)


runner = CliRunner()


def test_pipelines_list_show_schema(app: typer.Typer) -> None:
    r = runner.invoke(app, ["pipelines", "list", "--json"])
    assert r.exit_code == 0, r.output
    names = [p["name"] for p in json.loads(r.output)]
    assert "bandpass-and-agc" in names
    assert "qc" in names
    r = runner.invoke(app, ["pipelines", "list"])
    assert r.exit_code == 0
    assert "bandpass-and-agc" in r.output
    r = runner.invoke(app, ["pipelines", "list", "--operations"])
    assert r.exit_code == 0
    assert "reconstruct" in r.output
    r = runner.invoke(app, ["pipelines", "show", "bandpass-and-agc", "--set", "bandpass.low=7", "--json"])
    assert r.exit_code == 0, r.output
    shown = json.loads(r.output)
    assert shown["steps"][0]["params"]["low"] == 7.0
    assert shown["steps"][0]["params"]["order"] == 4
    r = runner.invoke(app, ["pipelines", "show", "qc"])
    assert r.exit_code == 0
    assert "dead_threshold" in r.output
    r = runner.invoke(app, ["pipelines", "schema", "filter"])
    assert r.exit_code == 0
    assert json.loads(r.output)["parameters"]["properties"]["low"]
    r = runner.invoke(app, ["pipelines", "schema"])
    assert r.exit_code == 0
    assert "reconstruct" in json.loads(r.output)
    r = runner.invoke(app, ["pipelines", "schema", "--spec"])
    assert r.exit_code == 0
    assert "steps" in json.loads(r.output)["properties"]


def test_run_preset_with_overrides(app: typer.Typer, line: str, tmp_path: Path) -> None:
    out = tmp_path / "out.zarr"
    args = [
        "run",
        "bandpass-and-agc",
        "-i",
        line,
        "-o",
        str(out),
        "--set",
        "bandpass.low=8",
        "--report",
        str(tmp_path / "rep"),
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert out.is_dir()
    assert (tmp_path / "out.zarr.provenance.json").is_file()
    assert (tmp_path / "rep" / "report.html").is_file()
    assert "bandpass" in r.output
    assert "wrote" in r.output
    prov = pio.read(str(out)).attrs["provenance"]
    assert prov["pipeline"]["steps"][0]["params"]["low"] == 8.0
    # again: the output exists
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert "--overwrite" in r.output
    r = runner.invoke(app, [*args, "--overwrite", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)["status"] == "succeeded"


def test_run_spec_file_errors(app: typer.Typer, line: str, tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        f"input: {line}\nsteps:\n  - name: bp\n    op: filter\n    params: {{low: 5, high: 60}}\n"
    )
    r = runner.invoke(app, ["run", str(spec), "--set", "bp.order=99"])
    assert r.exit_code == 2
    assert "bp" in r.output
    assert "params.order" in r.output
    r = runner.invoke(app, ["run", str(spec), "--set", "input=" + str(tmp_path / "missing.sgy")])
    assert r.exit_code == 2
    assert "no such file" in r.output
    r = runner.invoke(app, ["run", str(spec), "--mode", "sideways"])
    assert r.exit_code == 2
    assert "--mode" in r.output
    r = runner.invoke(app, ["run", str(spec)])
    assert r.exit_code == 0, r.output
