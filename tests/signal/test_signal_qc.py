"""promethium.signal.quality: planted dead, clipped, noisy and polarity-reversed traces found exactly (2D and
3D), no false alarms on clean synthetics or real sections, spectra against scipy, header checks, JSON
and PNG output, and all-dead / non-finite data reported rather than raised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal.quality import SNR_FLOOR_DB, QCReport, qc
from promethium.synthetic import make_survey

SECTIONS = Path(__file__).resolve().parents[3] / "shared" / "data" / "sections"

DEAD = [3, 50, 61]
MASKED = [70]  # trace_mask False (data kept): reported dead too
CLIPPED = [10, 77]
NOISY = [20, 90, 91]
REVERSED = [30, 100]


def plant(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Plant the defects along the first (trace) axis of a ``(trace, time)`` array."""
    v = values.copy()
    v[DEAD[:2]] = 0.0
    v[DEAD[2]] *= 1e-6  # near-zero RMS
    for i in CLIPPED:
        level = 0.5 * np.abs(v[i]).max()
        v[i] = np.clip(v[i], -level, level)
    for i in NOISY:
        v[i] += 1.5 * v[i].std() * rng.standard_normal(v.shape[1]).astype(v.dtype)
    v[REVERSED] *= -1.0
    return v


def as_set(flags: np.ndarray) -> set[int]:
    return {int(i) for i in np.flatnonzero(flags)}


@pytest.fixture(scope="module")
def clean() -> SeismicData:
    return make_survey("2d", n_traces=120, n_samples=300, seed=5, noise=0.05)


@pytest.fixture(scope="module")
def damaged(clean: SeismicData) -> tuple[SeismicData, QCReport]:
    values = plant(clean.values, np.random.default_rng(1))
    mask = np.ones(120, dtype=bool)
    mask[MASKED] = False
    data = clean.replace(values, trace_mask=mask)
    return data, qc(data)


# --------------------------------------------------------------------------- detection
def test_planted_defects_found_exactly(damaged: tuple[SeismicData, QCReport]) -> None:
    _, report = damaged
    assert as_set(report.dead) == set(DEAD + MASKED)
    assert as_set(report.clipped) == set(CLIPPED)
    assert as_set(report.noisy) == set(NOISY)
    assert as_set(report.reversed) == set(REVERSED)
    assert not report.nonfinite.any()
    s = report.summary
    assert (s["n_dead"], s["n_clipped"], s["n_noisy"], s["n_reversed"]) == (4, 2, 3, 2)
    assert s["n_usable"] == 116
    assert s["dead_fraction"] == pytest.approx(4 / 120)
    checks = {i.check for i in report.issues if i.severity == "warning"}
    assert checks == {"dead", "clipped", "noisy", "reversed"}
    reversed_issue = next(i for i in report.issues if i.check == "reversed")
    assert reversed_issue.count == 2
    assert reversed_issue.traces == ((30,), (100,))
    assert report.polarity[REVERSED].max() < -0.8
    assert report.clip_fraction[CLIPPED].min() > 0.01
    # Noisy traces have a lower SNR estimate than the clean ones; unusable traces get the floor.
    clean_snr = np.median(report.snr_db[~report.flagged])
    assert report.snr_db[NOISY].max() < clean_snr - 5
    assert (report.snr_db[DEAD + MASKED] == SNR_FLOOR_DB).all()
    assert report.rms[DEAD[:2]].max() == 0.0


def test_clean_survey_has_no_false_positives(clean: SeismicData) -> None:
    report = qc(clean)
    assert not report.flagged.any()
    assert not report.header_flag.any()
    assert all(i.severity == "info" for i in report.issues)
    assert report.summary["n_warnings"] == report.summary["n_errors"] == 0
    assert report.summary["snr_median_db"] > 5.0


def test_3d_volume() -> None:
    cube = make_survey("3d", n_inline=10, n_crossline=12, n_samples=200, seed=2, noise=0.05)
    clean_report = qc(cube)
    assert not clean_report.flagged.any()
    assert not clean_report.header_flag.any()
    rng = np.random.default_rng(4)
    v = cube.values.copy()
    v[2, 3] = 0.0
    level = 0.5 * np.abs(v[5, 5]).max()
    v[5, 5] = np.clip(v[5, 5], -level, level)
    v[7, 1] += 2.0 * v[7, 1].std() * rng.standard_normal(200).astype(np.float32)
    v[2, 1] *= -1.0  # a coherent area: next to a fault both correlation lobes are alike
    report = qc(cube.replace(v))
    assert report.dead.shape == (10, 12)
    assert [tuple(p) for p in np.argwhere(report.dead)] == [(2, 3)]
    assert [tuple(p) for p in np.argwhere(report.clipped)] == [(5, 5)]
    assert [tuple(p) for p in np.argwhere(report.noisy)] == [(7, 1)]
    assert [tuple(p) for p in np.argwhere(report.reversed)] == [(2, 1)]
    issue = next(i for i in report.issues if i.check == "reversed")
    assert issue.traces == ((2, 1),)


@settings(max_examples=5, deadline=None)
@given(st.floats(1e-3, 1e4))
def test_flags_do_not_depend_on_amplitude_scale(scale: float) -> None:
    base = make_survey("2d", n_traces=60, n_samples=200, seed=9, noise=0.05).values
    v = plant(np.vstack([base, base[::-1]]), np.random.default_rng(0))
    ref = qc(v, dt_ms=4.0)
    scaled = qc(v * scale, dt_ms=4.0)
    for name in ("dead", "clipped", "noisy", "reversed"):
        np.testing.assert_array_equal(getattr(scaled, name), getattr(ref, name))


# --------------------------------------------------------------------------- spectra
def test_spectrum_against_scipy_welch() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(512) * 0.004
    traces = np.sin(2 * np.pi * 30.0 * t)[None, :] * rng.uniform(0.8, 1.2, (20, 1))
    traces = traces + 0.05 * rng.standard_normal(traces.shape)
    report = qc(traces, dt_ms=4.0)
    f, p = ss.welch(traces, fs=250.0, nperseg=256, axis=-1)
    np.testing.assert_allclose(report.frequencies_hz, f)
    np.testing.assert_allclose(report.amplitude_spectrum, np.sqrt(p.mean(axis=0)), rtol=1e-5)
    expected_peak = f[np.argmax(p.mean(axis=0))]
    assert report.summary["dominant_frequency_hz"] == pytest.approx(expected_peak)
    assert abs(expected_peak - 30.0) < 1.0
    np.testing.assert_allclose(report.dominant_frequency_hz, expected_peak)
    lo, hi = report.summary["band_low_hz"], report.summary["band_high_hz"]
    assert lo <= 30.0 <= hi
    assert hi - lo < 5.0  # a pure tone: the -6 dB band is a few bins of the Hann window
    assert report.summary["bandwidth_hz"] == pytest.approx(hi - lo)


# --------------------------------------------------------------------------- headers
def _line_with_headers(n: int = 40) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    values = make_survey("2d", n_traces=n, n_samples=120, seed=8, noise=0.05).values
    k = np.arange(n)
    headers = {
        "cdp_x": (500_000 + 25 * k) * 100,
        "cdp_y": np.full(n, 7_000_000 * 100),
        "coordinate_scalar": np.full(n, -100, dtype=np.int16),
        "inline": np.full(n, 10, dtype=np.int32),
        "crossline": 100 + k,
        "cdp": 1 + k,
    }
    return values, {name: np.asarray(h) for name, h in headers.items()}


def test_header_checks_find_planted_problems() -> None:
    values, h = _line_with_headers()
    h["cdp_x"][6] = h["cdp_x"][5]  # duplicate coordinates (and two irregular steps)
    h["cdp_x"][20] += 1200  # 12 m off: irregular spacing on both sides
    h["cdp_x"][30] = h["cdp_y"][30] = 0  # missing coordinates
    h["crossline"][35] = h["crossline"][34]  # duplicate inline/crossline pair
    h["cdp"][35] = h["cdp"][34]
    report = qc(SeismicData.from_array(values, sample_interval=4.0, headers=h))
    by_check: dict[str, set[int]] = {}
    for issue in report.issues:
        by_check.setdefault(issue.check, set()).update(t[0] for t in issue.traces)
    assert {30} <= by_check["coordinates"]
    assert {5, 6} <= by_check["coordinates"]
    assert {19, 20, 21} <= by_check["spacing"]
    assert by_check["inline_crossline"] == {34, 35}
    assert by_check["cdp"] == {34, 35}
    assert as_set(report.header_flag) >= {5, 6, 19, 20, 21, 30, 34, 35}
    assert report.summary["n_header_flagged"] == int(report.header_flag.sum())
    # Trace-level checks are not disturbed by header problems.
    assert not report.flagged.any()


def test_clean_headers_and_absent_headers() -> None:
    values, h = _line_with_headers()
    report = qc(SeismicData.from_array(values, sample_interval=4.0, headers=h))
    assert not report.header_flag.any()
    bare = qc(SeismicData.from_array(values, sample_interval=4.0))
    assert any(i.check == "headers" and i.severity == "info" for i in bare.issues)
    arr = qc(values, dt_ms=4.0)  # arrays have no headers: no header findings at all
    assert not any(i.check in ("headers", "coordinates") for i in arr.issues)


# --------------------------------------------------------------------------- never raises on bad data
def test_all_dead_data_is_reported_not_raised(tmp_path: Path) -> None:
    report = qc(np.zeros((6, 100), dtype=np.float32), dt_ms=4.0)
    assert report.dead.all()
    assert report.summary["n_usable"] == 0
    assert report.issues[0].severity == "error"
    assert "no usable trace" in report.issues[0].message
    json.loads(report.to_json(tmp_path / "dead.json"))
    report.plot(tmp_path / "dead.png", dpi=40)
    assert (tmp_path / "dead.png").stat().st_size > 0
    masked = SeismicData.from_array(np.ones((4, 50)), sample_interval=2.0, trace_mask=np.zeros(4, bool))
    assert qc(masked).dead.all()


def test_nonfinite_samples_are_reported(clean: SeismicData) -> None:
    v = clean.values.copy()
    v[12, 40] = np.nan
    v[13, :] = np.inf
    report = qc(clean.replace(v))
    assert as_set(report.nonfinite) == {12, 13}
    assert not report.dead[[12, 13]].any()
    assert report.issues[0].severity == "error"
    assert report.issues[0].check == "nonfinite"
    assert not (report.flagged & ~report.nonfinite).any()
    json.dumps(report.to_dict(), allow_nan=False)


def test_single_trace_and_two_traces() -> None:
    trace = np.sin(np.arange(300) * 0.2)
    report = qc(trace, dt_ms=4.0)
    assert report.rms.shape == (1,)
    assert any(i.check == "neighbours" for i in report.issues)
    assert not report.flagged.any()
    qc(np.vstack([trace, trace]), dt_ms=4.0)


# --------------------------------------------------------------------------- output
def test_json_is_safe_and_complete(damaged: tuple[SeismicData, QCReport], tmp_path: Path) -> None:
    _, report = damaged
    text = report.to_json(tmp_path / "qc.json")
    loaded = json.loads((tmp_path / "qc.json").read_text())
    assert loaded == json.loads(text)
    assert set(loaded) == {"summary", "parameters", "issues", "spectrum", "traces"}
    assert loaded["summary"]["n_noisy"] == 3
    assert loaded["traces"]["reversed"][30] is True
    assert len(loaded["traces"]["rms"]) == 120
    assert {i["severity"] for i in loaded["issues"]} <= {"error", "warning", "info"}
    assert all(isinstance(i["message"], str) for i in loaded["issues"])
    assert "traces" not in report.to_dict(traces=False)
    json.dumps(report.to_dict(), allow_nan=False)  # no NaN or infinity anywhere


def test_plot_writes_png(damaged: tuple[SeismicData, QCReport], tmp_path: Path) -> None:
    _, report = damaged
    path = tmp_path / "qc.png"
    fig = report.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    section = fig.axes[0]
    lo, hi = section.get_ylim()
    assert lo > hi  # time increases downward
    image = section.get_images()[0]
    vmin, vmax = image.get_clim()
    assert vmin == pytest.approx(-vmax)  # symmetric clip
    cube = make_survey("3d", n_inline=4, n_crossline=6, n_samples=80, seed=1)
    qc(cube).plot(tmp_path / "cube.png", dpi=40)
    assert (tmp_path / "cube.png").stat().st_size > 0


# --------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"noisy_sigma": 0.0}, "noisy_sigma"),
        ({"polarity_threshold": 1.5}, "polarity_threshold"),
        ({"clip_run": 1}, "clip_run"),
        ({"clip_fraction": -0.1}, "clip_fraction"),
        ({"dead_threshold": 2.0}, "dead_threshold"),
        ({"neighbours": 0}, "neighbours"),
        ({"max_lag_ms": -4.0}, "max_lag_ms"),
        ({"spacing_tolerance": 0.0}, "spacing_tolerance"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ParameterError) as exc:
        qc(np.ones((5, 50)), dt_ms=4.0, **kwargs)  # type: ignore[arg-type]
    assert exc.value.parameter == name
    assert name in str(exc.value)


def test_needs_dt_for_arrays_and_non_empty_data() -> None:
    with pytest.raises(ParameterError) as exc:
        qc(np.ones((5, 50)))
    assert exc.value.parameter == "dt_ms"
    with pytest.raises(DataError):
        qc(np.zeros((0, 50)), dt_ms=4.0)


# --------------------------------------------------------------------------- real data
@pytest.mark.shared
def test_real_sections_are_mostly_clean() -> None:
    files = sorted(SECTIONS.glob("*.f32"))
    if not files:
        pytest.skip(f"no real sections in {SECTIONS}")
    for path in files:
        raw = np.fromfile(path, "<f4")
        if path.name.startswith("real3d_"):
            values = raw.reshape(10, 100, 300)
        else:
            n_samples = int(path.name.split("_")[-2].split("x")[0])
            values = raw.reshape(-1, n_samples)
        report = qc(values, dt_ms=4.0)
        fraction = float(report.flagged.mean())
        assert fraction < 0.1, f"{path.name}: {fraction:.1%} of traces flagged"
        s = report.summary
        assert s["n_usable"] > 0.9 * s["n_traces"]
        assert 5.0 < s["dominant_frequency_hz"] < 60.0
        assert 0 < s["band_low_hz"] < s["band_high_hz"] < 125.0
