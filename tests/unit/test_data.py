"""The SeismicData container: construction, derivation with history, selection, comparison."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.io.data import SeismicData


def _line() -> SeismicData:
    rng = np.random.default_rng(0)
    return SeismicData.from_array(
        rng.standard_normal((6, 20)),
        sample_interval=2.0,
        start=100.0,
        headers={"offset": np.arange(6, dtype=np.int32) * 50},
        trace_mask=np.array([1, 1, 0, 1, 1, 1], dtype=bool),
    )


def test_from_array_layout() -> None:
    d = _line()
    assert d.dims == ("trace", "time")
    assert d.amplitude.dtype == np.float32
    assert d.samples[0] == 100.0
    assert d.samples[-1] == pytest.approx(100.0 + 19 * 2.0)
    assert d.n_traces == 6
    assert int(d.trace_mask.sum()) == 5
    np.testing.assert_array_equal(d.header("offset"), np.arange(6) * 50)
    assert d.header_names == ["offset"]
    with pytest.raises(KeyError, match="no trace header"):
        d.header("inline")


def test_replace_returns_new_data_and_records_history() -> None:
    d = _line()
    out = d.replace(d.values * 2, operation="gain", parameters={"factor": 2, "arr": np.arange(3)})
    assert d.history == []
    assert out.history[-1]["operation"] == "gain"
    assert out.history[-1]["parameters"] == {"factor": 2, "arr": [0, 1, 2]}
    np.testing.assert_array_equal(out.values, d.values * 2)
    np.testing.assert_array_equal(d.values, _line().values)  # the original is untouched
    with pytest.raises(ValueError, match="shape"):
        d.replace(np.zeros((2, 2)))


def test_volume_flatten_and_select() -> None:
    v = SeismicData.from_array(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4), sample_interval=4.0)
    assert v.is_3d
    assert v.dims == ("inline", "crossline", "time")
    flat = v.to_traces()
    assert flat.dims == ("trace", "time")
    np.testing.assert_array_equal(flat.values, v.values.reshape(6, 4))
    np.testing.assert_array_equal(flat["inline_number"].values, [1, 1, 1, 2, 2, 2])
    sub = v.sel(time=slice(4.0, 8.0))
    assert sub.n_samples == 2


def test_equals_treats_missing_values_alike() -> None:
    times = np.array(["NaT", "2020-01-01"], dtype="datetime64[ns]")
    a = SeismicData.from_array(np.zeros((2, 3)), sample_interval=1.0, headers={"start_time": times})
    b = SeismicData.from_array(np.zeros((2, 3)), sample_interval=1.0, headers={"start_time": times.copy()})
    assert a.equals(b)
    c = a.replace(np.ones((2, 3)))
    assert not a.equals(c)


def test_invalid_construction() -> None:
    with pytest.raises(ValueError, match="sample_interval"):
        SeismicData.from_array(np.zeros((2, 3)), sample_interval=-1.0)
    with pytest.raises(ValueError, match="2D or 3D"):
        SeismicData.from_array(np.zeros(3), sample_interval=1.0)
    with pytest.raises(ValueError, match="trace_mask"):
        SeismicData.from_array(np.zeros((2, 3)), sample_interval=1.0, trace_mask=np.ones(3, bool))


def test_selection_keeps_a_valid_container() -> None:
    d = _line()
    dec = d.isel(time=slice(None, None, 2))
    assert dec.sample_interval == 4.0
    np.testing.assert_allclose(np.diff(dec.samples), 4.0)
    with pytest.raises(ValueError, match="keep the 'time' axis"):
        d.isel(time=3)
    v = SeismicData.from_array(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4), sample_interval=4.0)
    section = v.sel(inline=2)
    assert section.dims == ("trace", "time")
    np.testing.assert_array_equal(section.values, v.values[1])
    np.testing.assert_array_equal(section["crossline_number"].values, [1, 2, 3])
    np.testing.assert_array_equal(section["inline_number"].values, [2, 2, 2])
