"""Memory behaviour of the per-trace operations the pipelines run (filter, agc, gain, mute, taper):
float32 stays float32 without copies, blocks of traces give the whole-array result bit for bit,
non-finite samples are still found wherever they are, and the peak stays near one output array."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal import _base
from promethium.signal import filters as sf

Op = Callable[[Any], Any]

OPS: dict[str, Op] = {
    "filter": lambda x: sf.filter(x, "bandpass", low=5.0, high=60.0, dt_ms=4.0),
    "agc": lambda x: sf.agc(x, 200.0, dt_ms=4.0),
    "agc_mean": lambda x: sf.agc(x, 100.0, kind="mean", dt_ms=4.0),
    "agc_instantaneous": lambda x: sf.agc(x, 100.0, kind="instantaneous", dt_ms=4.0),
    "gain": lambda x: sf.gain(x, "tpow", power=2.0, dt_ms=4.0),
    "gain_exp": lambda x: sf.gain(x, "exp", alpha=1.5, dt_ms=4.0),
    "mute": lambda x: sf.mute(x, "top", times_ms=120.0, dt_ms=4.0),
    "mute_hard": lambda x: sf.mute(x, "bottom", times_ms=300.0, taper_ms=0.0, dt_ms=4.0),
    "taper": lambda x: sf.taper(x),
    "taper_trace": lambda x: sf.taper(x, "trace", kind="cosine", ends="start"),
}


def _data(shape: tuple[int, ...], dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[..., 3, :] = 0.0  # a dead trace stays dead
    return x


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few traces, so that every operation runs over many blocks."""
    monkeypatch.setattr(_base.row_blocks, "__defaults__", (3000,))


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_blocks_equal_whole(name: str, dtype: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    x = _data((6, 37, 250), dtype)  # a volume: blocks along the inline axis for trace tapers
    whole = OPS[name](x)
    assert whole.dtype == dtype
    assert np.isfinite(whole).all()
    monkeypatch.setattr(_base.row_blocks, "__defaults__", (3000,))
    blocked = OPS[name](x)
    assert blocked.dtype == dtype
    np.testing.assert_array_equal(blocked, whole)
    assert (blocked[..., 3, :] == 0).all()


@pytest.mark.parametrize("name", ["agc", "gain", "mute", "taper"])
def test_float32_result_equals_float64_computation_rounded(name: str, tiny_blocks: None) -> None:
    """float32 input is computed in float64 and rounded once: the result of the float64 input, cast."""
    x = _data((40, 300), np.float32)
    np.testing.assert_array_equal(OPS[name](x), OPS[name](x.astype(np.float64)).astype(np.float32))


def test_integer_input_gives_float64() -> None:
    x = (_data((10, 120)) * 1000).astype(np.int16)
    for name in ("agc", "gain", "mute", "taper"):
        assert OPS[name](x).dtype == np.float64


def test_seismic_data_float32_out_and_input_untouched(tiny_blocks: None) -> None:
    x = _data((30, 200))
    data = SeismicData.from_array(x.copy(), sample_interval=4.0)
    before = data.values.copy()
    for fn in (
        lambda d: sf.agc(d, 200.0),
        lambda d: sf.gain(d),
        lambda d: sf.mute(d, times_ms=100.0),
        lambda d: sf.taper(d),
        lambda d: sf.filter(d, "lowpass", high=50.0),
    ):
        out = fn(data)
        assert out.values.dtype == np.float32
        assert not np.shares_memory(out.values, data.values)
        np.testing.assert_array_equal(data.values, before)


def test_prepare_keeps_float_dtype_without_copy() -> None:
    x32 = _data((8, 50))
    prep = _base.prepare(x32, dtype=None)
    assert prep.values.dtype == np.float32
    assert np.shares_memory(prep.values, x32)
    x64 = x32.astype(np.float64)
    assert np.shares_memory(_base.prepare(x64, dtype=None).values, x64)
    assert _base.prepare(x32.astype(np.int32), dtype=None).values.dtype == np.float64
    assert _base.prepare(x32.astype(np.float16), dtype=None).values.dtype == np.float64
    # The default is unchanged: float64 (a copy for float32 input).
    assert _base.prepare(x32).values.dtype == np.float64


def test_all_finite_blocked() -> None:
    x = np.ones((1000, 40), dtype=np.float32)
    assert _base.all_finite(x, block_bytes=1024)
    # Large finite values whose sum overflows to inf are still finite.
    big = np.full((1000, 40), np.finfo(np.float32).max, dtype=np.float32)
    assert _base.all_finite(big, block_bytes=1024)
    for bad in (np.nan, np.inf, -np.inf):
        y = x.copy()
        y[997, 39] = bad  # in the last block
        assert not _base.all_finite(y, block_bytes=1024)
    assert _base.all_finite(np.arange(10))
    assert not _base.all_finite(np.array(np.nan))
    one_d = np.ones(5000)
    one_d[4999] = np.nan
    assert not _base.all_finite(one_d, block_bytes=256)


@pytest.mark.parametrize("name", ["filter", "agc", "gain", "mute", "taper"])
def test_nan_input_raises(name: str, tiny_blocks: None) -> None:
    x = _data((50, 200))
    x[47, 150] = np.nan
    with pytest.raises(DataError, match=r"1 NaN or infinite samples \(first at index \(47, 150\)\)"):
        OPS[name](x)


def test_gain_overflow_in_a_late_block_raises(tiny_blocks: None) -> None:
    x = np.ones((50, 200), dtype=np.float32)
    x[49] = 1e36
    with pytest.raises(ParameterError, match="overflows float32"):
        sf.gain(x, "exp", alpha=100.0, dt_ms=4.0)


def test_finish_rejects_non_finite_without_copying() -> None:
    x = _data((20, 50))
    prep = _base.prepare(x, dtype=None)
    out = x * 2
    assert _base.finish(prep, out, "t", {}) is out
    out[19, 49] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        _base.finish(prep, out, "t", {})


@pytest.mark.parametrize("name", ["filter", "agc", "gain", "mute", "taper"])
def test_peak_memory_about_one_output(name: str) -> None:
    """Traced numpy allocations peak near one output array (float64 temporaries live per block)."""
    x = _data((16000, 500))  # 32 MB of float32
    OPS[name](x[:64])  # compile / import outside the measurement
    tracemalloc.start()
    try:
        out = OPS[name](x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    # Before blocks: agc 12x, mute 11x, gain 6x, taper 5x the input on top of it.
    assert peak < x.nbytes + 16 * _base.BLOCK_BYTES, f"{name}: peak {peak / 1e6:.1f} MB"


def test_segy_output_carries_provenance_in_extended_textual_headers(tmp_path: Any) -> None:
    from promethium import io as pio
    from promethium.synthetic import make_survey
    from promethium.workflows import read_provenance, run_pipeline
    from promethium.workflows.provenance import SEGY_STANZA, provenance_from_segy_text, segy_text_blocks

    src = tmp_path / "in.sgy"
    pio.write(make_survey("2d", n_traces=40, n_samples=120, seed=0), str(src))
    out = tmp_path / "out.sgy"
    spec = {"steps": [{"name": "agc", "op": "agc", "params": {"window_ms": 100.0}}]}
    result = run_pipeline(spec, input=str(src), output=str(out), checksums=True)
    back = pio.read(str(out))
    texts = back.attrs["extended_textual_headers"]
    assert texts[0].startswith(SEGY_STANZA)
    assert texts[-1].startswith("((SEG: EndText))")
    assert all(len(t) == 3200 for t in texts)
    prov = provenance_from_segy_text(texts)
    expected = json.loads(json.dumps(result.provenance, default=str))
    assert prov is not None
    assert {k: v for k, v in prov.items() if k != "seconds"} == {
        k: v
        for k, v in expected.items()
        if k != "seconds"  # the run's total is set after the write
    }
    assert prov["steps"][0]["op"] == "agc"
    assert read_provenance(str(out))["steps"] == prov["steps"]  # the JSON sidecar stays
    # Rewriting replaces the earlier provenance instead of piling it up; other headers stay.
    again = segy_text_blocks({"x": "y " * 3000}, ["other header".ljust(3200), *texts])
    assert again[0].startswith("other header")
    assert provenance_from_segy_text(again) == {"x": "y " * 3000}
    assert sum(t.startswith("((SEG: EndText))") for t in again) == 1
