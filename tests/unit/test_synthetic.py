"""Synthetic surveys and damage: shapes, headers, determinism, physics-ish checks, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from promethium.io.data import SeismicData
from promethium.io.segy_headers import TRACE_FIELDS
from promethium.synthetic import HEADER_DTYPES, damage, make_survey, ricker


@pytest.fixture(scope="module")
def survey() -> SeismicData:
    return make_survey("3d", n_inline=30, n_crossline=40, n_samples=250, seed=3)


def test_3d_survey_layout(survey: SeismicData) -> None:
    assert survey.dims == ("inline", "crossline", "time")
    assert survey.shape == (30, 40, 250)
    assert survey.amplitude.dtype == np.float32
    assert survey.sample_interval == 4.0
    assert survey.trace_mask.all()
    assert np.isfinite(survey.values).all()
    assert float(np.abs(survey.values).max()) > 0
    assert survey.attrs["synthetic"]["seed"] == 3


def test_headers_have_segy_names_and_widths(survey: SeismicData) -> None:
    widths = {name: width for name, _pos, width, _kind in TRACE_FIELDS}
    assert set(survey.header_names) == set(HEADER_DTYPES)
    for name, dtype in HEADER_DTYPES.items():
        values = survey.header(name)
        assert values.dtype == np.dtype(dtype), name
        assert values.shape == (30, 40)
        assert np.dtype(dtype).itemsize == widths[name], name


def test_geometry_headers(survey: SeismicData) -> None:
    il = survey.header("inline")
    xl = survey.header("crossline")
    np.testing.assert_array_equal(il[:, 0], np.asarray(survey["inline"].values))
    np.testing.assert_array_equal(xl[0, :], np.asarray(survey["crossline"].values))
    assert (survey.header("trace_id") == 1).all()
    assert (survey.header("offset") == 0).all()
    assert (survey.header("n_samples") == 250).all()
    assert (survey.header("sample_interval") == 4000).all()
    assert (survey.header("coordinate_scalar") == -100).all()
    np.testing.assert_array_equal(survey.header("trace_sequence_file").reshape(-1), np.arange(1, 1201))
    # stored coordinates are centimetres; the coordinates are metres on a 25 m grid
    x = np.asarray(survey["cdp_x"].values)
    np.testing.assert_allclose(x, survey.header("cdp_x") / 100.0)
    np.testing.assert_allclose(np.diff(x, axis=1), 25.0)
    np.testing.assert_array_equal(survey.header("source_x"), survey.header("cdp_x"))


def test_deterministic_and_seeded() -> None:
    a = make_survey("3d", n_inline=8, n_crossline=9, n_samples=100, seed=1)
    b = make_survey("3d", n_inline=8, n_crossline=9, n_samples=100, seed=1)
    c = make_survey("3d", n_inline=8, n_crossline=9, n_samples=100, seed=2)
    assert a.equals(b)
    assert not np.array_equal(a.values, c.values)


def test_noise_is_drawn_last_and_scaled() -> None:
    clean = make_survey("3d", n_inline=20, n_crossline=20, n_samples=200, seed=5, noise=0.0)
    noisy = make_survey("3d", n_inline=20, n_crossline=20, n_samples=200, seed=5, noise=0.1)
    rms = float(np.sqrt(np.mean(clean.values.astype(np.float64) ** 2)))
    residual = float(np.std(noisy.values - clean.values))
    assert residual == pytest.approx(0.1 * rms, rel=0.05)


def test_dominant_frequency_is_that_of_the_wavelet() -> None:
    data = make_survey("2d", n_traces=50, n_samples=512, seed=4, noise=0.0, frequency=28.0)
    spectrum = np.abs(np.fft.rfft(data.values, axis=-1)).mean(axis=0)
    freqs = np.fft.rfftfreq(512, d=0.004)
    peak = freqs[np.argmax(spectrum)]
    assert 15.0 < peak < 40.0


def test_structure_is_not_flat(survey: SeismicData) -> None:
    # dipping, folded and faulted reflectors: traces far apart are different, neighbours alike
    v = survey.values
    near = np.corrcoef(v[15, 10], v[15, 11])[0, 1]
    far = np.corrcoef(v[0, 0], v[-1, -1])[0, 1]
    assert near > 0.8
    assert far < near


def test_2d_line() -> None:
    line = make_survey("2d", n_traces=60, n_samples=120, seed=0)
    assert line.dims == ("trace", "time")
    assert line.shape == (60, 120)
    assert (line.header("inline") == line.header("inline")[0]).all()
    assert np.array_equal(np.diff(line.header("crossline")), np.ones(59))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "4d"},
        {"n_samples": 1},
        {"dt_ms": 0.0},
        {"dt_ms": 40.0},
        {"faults": 3},
        {"coordinate_scalar": 0},
    ],
)
def test_invalid_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        make_survey(n_inline=4, n_crossline=4, **kwargs)  # type: ignore[arg-type]


def test_ricker_wavelet() -> None:
    t, w = ricker(25.0, 2.0)
    assert t[len(t) // 2] == 0.0
    assert w.max() == pytest.approx(1.0)
    np.testing.assert_allclose(w, w[::-1])


# ----------------------------------------------------------------------------------------- damage
def test_damage_counts_and_flags(survey: SeismicData) -> None:
    damaged, info = damage(survey, fraction_missing=0.2, fraction_dead=0.05, seed=1)
    n = 30 * 40
    assert info["n_missing"] == round(0.2 * n)
    assert info["n_dead"] == round(0.05 * n)
    missing, dead = info["missing"], info["dead"]
    assert not (missing & dead).any()
    np.testing.assert_array_equal(damaged.trace_mask, ~(missing | dead))
    assert info["n_live"] == int(damaged.trace_mask.sum())
    assert (damaged.values[missing | dead] == 0).all()
    np.testing.assert_array_equal(damaged.values[~(missing | dead)], survey.values[~(missing | dead)])
    assert (damaged.header("trace_id")[dead] == 2).all()
    assert (damaged.header("trace_id")[~dead] == 1).all()
    assert damaged.header("trace_id").dtype == np.int16
    tindex = np.asarray(damaged["trace_index"].values)
    assert (tindex[missing] == -1).all()
    assert (tindex[~missing] >= 0).all()
    assert damaged.history[-1]["operation"] == "damage"
    # the input is not modified
    assert survey.trace_mask.all()
    assert (survey.header("trace_id") == 1).all()


def test_damage_is_deterministic(survey: SeismicData) -> None:
    a, _ = damage(survey, 0.3, 0.1, seed=9)
    b, _ = damage(survey, 0.3, 0.1, seed=9)
    c, _ = damage(survey, 0.3, 0.1, seed=10)
    np.testing.assert_array_equal(a.trace_mask, b.trace_mask)
    assert not np.array_equal(a.trace_mask, c.trace_mask)


@pytest.mark.parametrize("pattern", ["gaps", "mixed"])
def test_damage_gap_patterns(survey: SeismicData, pattern: str) -> None:
    _, info = damage(survey, 0.25, 0.0, seed=2, pattern=pattern, gap_length=5)  # type: ignore[arg-type]
    assert info["n_missing"] == round(0.25 * survey.n_traces)
    # runs along the crossline: many missing traces have a missing neighbour
    m = info["missing"]
    neighbours = (m[:, 1:] & m[:, :-1]).sum()
    assert neighbours > (0.7 if pattern == "gaps" else 0.4) * m.sum()  # random: about 0.25


def test_damage_2d_and_validation() -> None:
    line = make_survey("2d", n_traces=100, n_samples=64)
    damaged, info = damage(line, 0.1, 0.1, seed=0)
    assert info["n_missing"] == 10
    assert info["n_dead"] == 10
    assert int(damaged.trace_mask.sum()) == 80
    with pytest.raises(ValueError, match="exceed"):
        damage(line, 0.8, 0.3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        damage(line, -0.1, 0.0)


def test_speed() -> None:
    t0 = time.perf_counter()
    data = make_survey("3d", n_inline=100, n_crossline=100, n_samples=500, seed=0)
    t1 = time.perf_counter()
    damage(data, 0.2, 0.05, seed=0, pattern="mixed")
    t2 = time.perf_counter()
    assert t1 - t0 < 3.0  # typically 0.3 s
    assert t2 - t1 < 1.0  # typically 0.02 s


def test_segy_round_trip(tmp_path: pytest.TempPathFactory, survey: SeismicData) -> None:
    import promethium.io as pio

    damaged, info = damage(survey, 0.2, 0.05, seed=4)
    path = tmp_path / "s.sgy"  # type: ignore[operator]
    pio.write(damaged, path)
    back = pio.read(path)
    assert back.shape == survey.shape
    assert back.attrs["geometry"]["holes"] == info["n_missing"]
    np.testing.assert_array_equal(back.trace_mask, damaged.trace_mask)
    np.testing.assert_array_equal(back.values, damaged.values)
    live = damaged.trace_mask
    for name in HEADER_DTYPES:
        np.testing.assert_array_equal(back.header(name)[live], damaged.header(name)[live], err_msg=name)
