"""Pipeline specs: validation errors, overrides, presets and the JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promethium.core.errors import ParameterError
from promethium.workflows import (
    SpecError,
    list_presets,
    load_pipeline,
    operation_schemas,
    pipeline_schema,
)

BASE = {
    "name": "t",
    "steps": [
        {"name": "bandpass", "op": "signal.filter", "params": {"kind": "bandpass", "low": 5, "high": 60}},
        {"op": "agc", "params": {"window_ms": 300}},
        {"op": "reconstruct", "params": {"method": "pocs", "n_iter": 5}},
    ],
}


def test_defaults_filled_and_recorded() -> None:
    p = load_pipeline(BASE)
    d = p.to_dict()
    assert [s["name"] for s in d["steps"]] == ["bandpass", "agc", "reconstruct"]
    bp = d["steps"][0]["params"]
    assert bp["order"] == 4
    assert bp["phase"] == "zero"
    assert bp["low"] == 5.0
    rec = d["steps"][2]["params"]
    assert rec["n_iter"] == 5
    assert rec["thresh_max"] == 0.5
    assert rec["window"] is None
    assert d["execution"]["mode"] == "auto"
    assert d["seed"] == 0
    # the resolved spec loads again to the same thing
    assert load_pipeline(d).to_dict() == d


@pytest.mark.parametrize(
    ("change", "step", "path"),
    [
        ({"low": -1}, "bandpass", "params.low"),
        ({"lowcut": 3}, "bandpass", "params.lowcut"),
        ({"low": 70, "high": 60}, "bandpass", "params.high"),
        ({"order": "four"}, "bandpass", "params.order"),
    ],
)
def test_bad_parameter_names_step_and_path(change: dict, step: str, path: str) -> None:
    spec = json.loads(json.dumps(BASE))
    spec["steps"][0]["params"].update(change)
    with pytest.raises(SpecError) as info:
        load_pipeline(spec)
    err = info.value
    assert err.step == step
    assert err.errors[0].location == path
    assert f"steps.{step}.{path}" == err.parameter
    assert step in str(err)
    assert path in str(err)
    assert isinstance(err, ParameterError)


def test_unknown_operation_and_method_param() -> None:
    spec = json.loads(json.dumps(BASE))
    spec["steps"][1]["op"] = "signal.frobnicate"
    spec["steps"][2]["params"]["rank"] = 3  # a drr parameter, not a pocs one
    with pytest.raises(SpecError) as info:
        load_pipeline(spec)
    issues = info.value.errors
    assert issues[0].step == "frobnicate"
    assert issues[0].location == "op"
    assert "frobnicate" in issues[0].message
    assert issues[1].step == "reconstruct"
    assert issues[1].location == "params.rank"
    assert "n_iter" in issues[1].message  # the allowed names are listed


def test_unknown_method_and_spec_fields() -> None:
    with pytest.raises(SpecError, match="reconstruct"):
        load_pipeline({"steps": [{"op": "reconstruct", "params": {"method": "magic"}}]})
    with pytest.raises(SpecError, match="foo") as info:
        load_pipeline({"steps": [{"op": "agc", "foo": 1}]})
    assert info.value.step == "agc"
    with pytest.raises(SpecError, match="steps"):
        load_pipeline({"name": "x"})
    with pytest.raises(SpecError, match="duplicate"):
        load_pipeline({"steps": [{"name": "a", "op": "agc"}, {"name": "a", "op": "gain"}]})


def test_overrides() -> None:
    p = load_pipeline(
        BASE,
        [
            "bandpass.low=8",
            "agc.window_ms=250",
            "reconstruct.method=drr",
            "reconstruct.rank=4",
            "input=x.sgy",
            "execution.mode=stream",
            "reconstruct.window=[32, 128]",
        ],
    )
    d = p.to_dict()
    assert d["steps"][0]["params"]["low"] == 8.0
    assert d["steps"][1]["params"]["window_ms"] == 250.0
    assert d["steps"][2]["params"]["method"] == "drr"
    assert d["steps"][2]["params"]["rank"] == 4
    assert d["steps"][2]["params"]["window"] == [32, 128]
    assert d["input"] == "x.sgy"
    assert d["execution"]["mode"] == "stream"
    with pytest.raises(SpecError, match="nosuchstep"):
        load_pipeline(BASE, ["nosuchstep.x=1"])
    with pytest.raises(SpecError, match=r"STEP\.PARAM=VALUE"):
        load_pipeline(BASE, ["bandpass.low"])
    with pytest.raises(SpecError) as info:
        load_pipeline(BASE, {"bandpass.high": "high"})
    assert info.value.errors[0].location == "params.high"


def test_yaml_json_files_and_text(tmp_path: Path) -> None:
    import yaml

    y = tmp_path / "p.yaml"
    y.write_text(yaml.safe_dump(BASE))
    j = tmp_path / "p.json"
    j.write_text(json.dumps(BASE))
    a, b = load_pipeline(y), load_pipeline(j)
    assert a.to_dict() == b.to_dict() == load_pipeline(yaml.safe_dump(BASE)).to_dict()
    assert a.source == str(y)
    with pytest.raises(SpecError, match="no such pipeline file"):
        load_pipeline(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [\n")
    with pytest.raises(SpecError, match="YAML"):
        load_pipeline(bad)


def test_presets_load_and_validate() -> None:
    names = list_presets()
    for expected in ("qc", "bandpass-and-agc", "reconstruct-classical", "denoise", "compare-methods"):
        assert expected in names
    for name in names:
        p = load_pipeline(name)
        assert p.steps
        assert p.spec.description
    # the ML preset is shipped, but listed only when promethium.ml provides the operation
    assert "reconstruct-unet" in list_presets(include_unavailable=True)
    import promethium.ml as ml

    assert ("reconstruct-unet" in names) == callable(getattr(ml, "reconstruct", None))


def test_schemas_exported() -> None:
    schemas = operation_schemas()
    assert {"filter", "agc", "reconstruct", "denoise", "qc", "write", "evaluate"} <= set(schemas)
    f = schemas["filter"]["parameters"]
    assert f["properties"]["low"]["anyOf"][0]["exclusiveMinimum"] == 0
    assert set(f["properties"]["kind"]["enum"]) >= {"bandpass", "lowpass"}
    assert f["additionalProperties"] is False
    rec = schemas["reconstruct"]["parameters"]
    assert rec["discriminator"]["propertyName"] == "method"
    assert "reconstruct_pocs" in rec["$defs"]
    assert schemas["agc"]["streaming"] == "trace"
    assert schemas["reconstruct"]["streaming"] == "spatial"
    json.dumps(schemas)  # JSON-ready
    spec = pipeline_schema()
    assert "steps" in spec["properties"]
