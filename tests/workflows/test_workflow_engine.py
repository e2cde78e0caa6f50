"""Running pipelines: in memory vs direct calls, streaming vs in memory, progress, cancellation,
failures, provenance and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from promethium import io as pio
from promethium import signal as sig
from promethium.core.errors import OutputExistsError, StorageError
from promethium.io.data import SeismicData
from promethium.synthetic import damage, make_survey
from promethium.workflows import (
    Cancelled,
    CancelToken,
    ProgressEvent,
    SpecError,
    StepError,
    load_pipeline,
    read_provenance,
    run_pipeline,
)

N_TRACES, N_SAMPLES = 160, 200


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("wf")
    clean = make_survey("2d", n_traces=N_TRACES, n_samples=N_SAMPLES, seed=3)
    damaged, _ = damage(clean, 0.2, 0.0, seed=4, pattern="mixed")
    paths = {"clean": str(folder / "clean.sgy"), "damaged": str(folder / "damaged.sgy")}
    pio.write(clean, paths["clean"])
    # Zarr keeps the missing traces as holes of a regular line (SEG-Y would leave them out).
    paths["damaged_zarr"] = str(folder / "damaged.zarr")
    pio.write(damaged, paths["damaged_zarr"])
    pio.write(damaged, paths["damaged"])
    return paths


PER_TRACE = [
    {"name": "bandpass", "op": "filter", "params": {"kind": "bandpass", "low": 5, "high": 60}},
    {"op": "agc", "params": {"window_ms": 200}},
    {"op": "gain", "params": {"kind": "tpow", "power": 1.5}},
]
RECON = {"op": "reconstruct", "params": {"method": "pocs", "n_iter": 8, "window": [32, None]}}


def test_memory_run_equals_direct_calls(survey: dict[str, Any], tmp_path: Path) -> None:
    spec = {"input": survey["clean"], "steps": PER_TRACE}
    res = run_pipeline(spec, checksums=False)
    assert res.status == "succeeded"
    assert res.mode == "memory"
    assert res.output is None
    d = pio.read(survey["clean"])
    direct = sig.gain(sig.agc(sig.filter(d, "bandpass", low=5, high=60), 200.0), "tpow", power=1.5)
    assert res.data is not None
    np.testing.assert_array_equal(res.data.values, direct.values)
    assert [h["operation"] for h in res.data.history][-3:] == ["signal.filter", "signal.agc", "signal.gain"]
    assert all(s.status == "ok" and s.seconds > 0 for s in res.steps)


def test_in_memory_data_and_reconstruct_equals_direct(survey: dict[str, Any]) -> None:
    d = pio.read(survey["damaged_zarr"])
    res = run_pipeline({"steps": [RECON]}, data=d, checksums=False)
    from promethium.signal.reconstruction import reconstruct

    direct = reconstruct(d, "pocs", n_iter=8, window=[32, None])
    assert res.data is not None
    np.testing.assert_array_equal(res.data.values, direct.values)
    assert res.data.trace_mask.all()


def _values(path: str) -> tuple[np.ndarray, np.ndarray]:
    d = pio.read(path)
    return d.values, d.trace_mask


def test_streamed_per_trace_equals_memory(survey: dict[str, Any], tmp_path: Path) -> None:
    spec = {"input": survey["clean"], "steps": PER_TRACE}
    mem = run_pipeline(spec, output=str(tmp_path / "mem.zarr"), mode="memory", checksums=False)
    st = run_pipeline(
        spec, output=str(tmp_path / "st.zarr"), mode="stream", overrides={"execution.traces_per_chunk": 37}
    )
    assert mem.mode == "memory"
    assert st.mode == "stream"
    assert st.n_chunks == 5
    a, ma = _values(str(tmp_path / "mem.zarr"))
    b, mb = _values(str(tmp_path / "st.zarr"))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ma, mb)


def test_streamed_reconstruct_matches_memory(survey: dict[str, Any], tmp_path: Path) -> None:
    """Chunks start on the windows' grid and carry a halo of whole windows, so every window that touches
    a kept trace is the window of the in-memory run, blended with the same weights in the same order:
    the results agree to float32 rounding (asserted to 1e-6 of the peak amplitude; 0 difference here)."""
    spec = {"input": survey["damaged_zarr"], "steps": [PER_TRACE[0], RECON]}
    run_pipeline(spec, output=str(tmp_path / "mem.zarr"), mode="memory", checksums=False)
    st = run_pipeline(
        spec,
        output=str(tmp_path / "st.zarr"),
        mode="stream",
        checksums=False,
        overrides={"execution.traces_per_chunk": 40},
    )
    assert st.n_chunks > 2
    assert st.provenance["streaming"]["halo_traces"] > 0
    assert st.provenance["streaming"]["approximate_steps"] == []
    a, ma = _values(str(tmp_path / "mem.zarr"))
    b, mb = _values(str(tmp_path / "st.zarr"))
    np.testing.assert_array_equal(ma, mb)
    assert np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(a))


def test_progress_monotone_ending_at_one(survey: dict[str, Any], tmp_path: Path) -> None:
    for mode in ("memory", "stream"):
        events: list[ProgressEvent] = []
        run_pipeline(
            {"input": survey["damaged_zarr"], "steps": [PER_TRACE[1], RECON]},
            mode=mode,  # type: ignore[arg-type]
            output=str(tmp_path / f"{mode}.zarr"),
            progress=events.append,
            checksums=False,
            overrides={"execution.traces_per_chunk": 40},
        )
        fr = [e.fraction for e in events]
        assert fr == sorted(fr)
        assert fr[-1] == 1.0
        assert fr[0] == 0.0
        assert {e.step for e in events} >= {"agc", "reconstruct"}


@pytest.mark.parametrize("mode", ["memory", "stream"])
def test_cancel_mid_run_leaves_nothing(survey: dict[str, Any], tmp_path: Path, mode: str) -> None:
    token = CancelToken()
    out = tmp_path / "out.zarr"

    def on_progress(e: ProgressEvent) -> None:
        if e.step == "reconstruct" or (e.chunk or 0) >= 2:
            token.cancel()

    with pytest.raises(Cancelled) as info:
        run_pipeline(
            {"input": survey["damaged_zarr"], "steps": [PER_TRACE[1], RECON]},
            output=str(out),
            mode=mode,
            progress=on_progress,
            cancel=token,  # type: ignore[arg-type]
            overrides={"execution.traces_per_chunk": 40},
            report=str(tmp_path / "rep"),
            checksums=False,
        )
    assert info.value.result.status == "cancelled"
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.zarr")]  # no temporary left
    assert "cancelled" in (tmp_path / "rep" / "report.html").read_text()


def test_existing_output_refused(survey: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "exists.sgy"
    out.write_bytes(b"keep me")
    spec = {"input": survey["clean"], "output": str(out), "steps": PER_TRACE[:1]}
    with pytest.raises(OutputExistsError, match="--overwrite"):
        run_pipeline(spec)
    assert out.read_bytes() == b"keep me"
    res = run_pipeline(spec, overwrite=True, checksums=False)
    assert res.status == "succeeded"
    assert pio.read(str(out)).n_traces == N_TRACES


def test_missing_input_and_bad_params_fail_before_reading(survey: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no such file"):
        run_pipeline({"input": str(tmp_path / "nope.sgy"), "steps": PER_TRACE[:1]})
    with pytest.raises(SpecError, match="no input"):
        run_pipeline({"steps": PER_TRACE[:1]})
    # 200 Hz is above Nyquist (125 Hz at 4 ms): caught from the headers, naming the step
    with pytest.raises(SpecError) as info:
        run_pipeline({"input": survey["clean"], "steps": PER_TRACE[:1]}, overrides=["bandpass.high=200"])
    assert info.value.step == "bandpass"
    # streaming a whole-data step is refused when asked for
    with pytest.raises(SpecError, match="fk"):
        run_pipeline(
            {"input": survey["clean"], "steps": [{"op": "fk_filter", "params": {"dips": [-1, 1]}}]},
            mode="stream",
            output=str(tmp_path / "x.zarr"),
        )


def test_failing_step_named_in_error_and_report(survey: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "fail.zarr"
    # the reference has another shape: the metrics step fails at run time, after three good steps
    other = str(tmp_path / "other.sgy")
    pio.write(make_survey("2d", n_traces=10, n_samples=N_SAMPLES), other)
    spec = {
        "input": survey["clean"],
        "output": str(out),
        "steps": [
            PER_TRACE[1],
            {"name": "kill", "op": "mute", "params": {"times_ms": 0, "taper_ms": 0}},
            {"name": "fill", "op": "median_filter", "params": {"size": [3, 3], "mode": "wrap"}},
            {"name": "boom", "op": "metrics"},
        ],
        "reference": other,
    }
    with pytest.raises(StepError) as info:
        run_pipeline(spec, report=str(tmp_path / "rep"), checksums=False)
    err = info.value
    assert err.step == "boom"
    assert "boom" in str(err)
    assert "reference" in str(err)
    assert not out.exists()
    res = err.result
    assert res.status == "failed"
    assert res.failed_step == "boom"
    assert [s.status for s in res.steps] == ["ok", "ok", "ok", "failed"]
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "boom" in page
    assert "failed" in page


def test_provenance_in_zarr_and_sidecar(survey: dict[str, Any], tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "prov.zarr"
    res = run_pipeline({"input": survey["clean"], "output": str(out), "steps": PER_TRACE[:2], "seed": 7})
    side = Path(res.sidecar or "")
    assert side.name == "prov.zarr.provenance.json"
    assert side.is_file()
    from_side = json.loads(side.read_text())
    from_attrs = pio.read(str(out)).attrs["provenance"]
    for prov in (from_side, from_attrs, read_provenance(out)):
        assert prov["pipeline"]["steps"][0]["params"]["order"] == 4  # defaults recorded
        assert prov["pipeline"]["seed"] == 7
        assert prov["seed"] == 7
        assert prov["versions"]["promethium"]
        assert prov["versions"]["numpy"]
        expected = hashlib.sha256(Path(survey["clean"]).read_bytes()).hexdigest()
        assert prov["inputs"][0]["sha256"] == expected
        assert prov["inputs"][0]["role"] == "input"
        assert [s["name"] for s in prov["steps"]] == ["bandpass", "agc"]
        assert all(s["seconds"] > 0 and s["status"] == "ok" for s in prov["steps"])


def test_report_with_figures_qc_and_metrics(survey: dict[str, Any], tmp_path: Path) -> None:
    rep = tmp_path / "report"
    res = run_pipeline(
        {
            "input": survey["damaged_zarr"],
            "reference": survey["clean"],
            "steps": [RECON, {"op": "qc"}, {"op": "metrics"}],
        },
        report=str(rep),
        checksums=False,
    )
    page = Path(res.report or "").read_text()
    for png in ("comparison.png", "spectra.png", "qc-qc.png"):
        assert (rep / png).is_file()
        assert (rep / png).stat().st_size > 1000
        assert f"src='{png}'" in page
    assert "snr_missing" in page
    assert "QC (qc)" in page
    assert res.results["metrics"]["snr_missing"] > 0
    assert "summary" in res.results["qc"]


def test_streamed_qc_and_write_step(survey: dict[str, Any], tmp_path: Path) -> None:
    tee = tmp_path / "tee.zarr"
    res = run_pipeline(
        {
            "input": survey["clean"],
            "steps": [
                PER_TRACE[0],
                {"op": "write", "params": {"path": str(tee)}},
                PER_TRACE[1],
                {"op": "qc"},
            ],
        },
        mode="stream",
        overrides={"execution.traces_per_chunk": 64},
        checksums=False,
    )
    assert res.results["qc"]["streamed"]
    assert len(res.results["qc"]["chunks"]) == 3
    bp = sig.filter(pio.read(survey["clean"]), "bandpass", low=5, high=60)
    np.testing.assert_array_equal(pio.read(str(tee)).values, bp.values)


def test_seed_makes_compare_methods_deterministic(tmp_path: Path) -> None:
    d = make_survey("2d", n_traces=48, n_samples=96, seed=1)
    p = load_pipeline("compare-methods", ["compare.methods=[linear, nearest]"])
    a = run_pipeline(p, data=d, checksums=False).results["compare"]
    b = run_pipeline(p, data=d, checksums=False).results["compare"]
    c = run_pipeline(p, data=d, checksums=False, overrides=["seed=5"]).results["compare"]
    strip = lambda r: [{k: v for k, v in x.items() if k != "time_s"} for x in r["results"]]  # noqa: E731
    assert strip(a) == strip(b) != strip(c)
    assert isinstance(d, SeismicData)


def test_the_reconstruct_unet_preset_runs_as_shipped_in_memory_and_streamed(
    survey: dict[str, Any], tmp_path: Path
) -> None:
    """The preset with its own parameters (no device given): the shipped network, live traces exact,
    and the streamed run (chunks with a one-window halo) equal to the in-memory run."""
    pytest.importorskip("torch")
    spec = load_pipeline("reconstruct-unet")
    mem = run_pipeline(spec, input=survey["damaged_zarr"], output=str(tmp_path / "m.zarr"), mode="memory")
    assert mem.status == "succeeded"
    st = run_pipeline(
        spec,
        input=survey["damaged_zarr"],
        output=str(tmp_path / "s.zarr"),
        mode="stream",
        overrides={"execution.traces_per_chunk": 40},
    )
    assert st.n_chunks > 2
    src = pio.read(survey["damaged_zarr"])
    a, ma = _values(str(tmp_path / "m.zarr"))
    b, mb = _values(str(tmp_path / "s.zarr"))
    assert ma.all()
    assert mb.all()
    keep = src.trace_mask
    np.testing.assert_array_equal(a[keep], src.values[keep])
    assert np.abs(a[~keep]).max() > 0
    np.testing.assert_array_equal(b, a)  # the halo gives every window its in-memory context
