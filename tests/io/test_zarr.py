"""The Zarr v3 store: exact round trips, lazy windowed reads, streaming writes, atomicity, detection."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import promethium.io as pio
from promethium.core.errors import StorageError, UnsupportedFormatError
from promethium.io.data import SeismicData
from promethium.io.zarrstore import (
    ZarrFile,
    ZarrWriter,
    decode_attrs,
    default_chunks,
    encode_attrs,
    is_zarr_store,
    read_store,
    write_store,
)

# zarr's notices about string dtypes and consolidated metadata must not reach users.
pytestmark = [
    pytest.mark.filterwarnings("error::zarr.errors.UnstableSpecificationWarning"),
    pytest.mark.filterwarnings("error::zarr.errors.ZarrUserWarning"),
]


# -------------------------------------------------------------------------------------------- helpers
def assert_same(a: Any, b: Any, where: str = "attrs") -> None:
    """Equality that also checks types all the way down (tuple is not list, int16 is not int)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, np.generic):
        assert (a.dtype, a.tobytes()) == (b.dtype, b.tobytes()), where
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def assert_roundtrip(back: SeismicData, data: SeismicData) -> None:
    """``back`` is ``data``: values bit for bit, every variable with its dtype, coords, attrs, order."""
    xr.testing.assert_identical(back.dataset, data.dataset)
    assert list(back.dataset.data_vars) == list(data.dataset.data_vars)
    assert set(back.dataset.coords) == set(data.dataset.coords)
    for name, var in data.dataset.variables.items():
        got = back.dataset.variables[name]
        assert got.dtype == var.dtype, f"{name}: {got.dtype} != {var.dtype}"
        assert got.dims == var.dims, name
        if var.dtype.kind == "f":
            assert np.array_equal(
                np.asarray(got.values).view(f"u{var.dtype.itemsize}"),
                np.asarray(var.values).view(f"u{var.dtype.itemsize}"),
            ), f"{name} differs bitwise"
        assert_same(dict(got.attrs), dict(var.attrs), f"{name}.attrs")
    assert_same(dict(back.attrs), dict(data.attrs))
    assert sorted(back.dataset.xindexes) == sorted(data.dataset.xindexes)


RICH_ATTRS: dict[str, Any] = {
    "textual_header": "C 1 CLIENT Ünïcödé survey\x00 " + "x" * 3000,
    "binary_header": {"sample_interval": 4000, "format": 5, "revision": (2, 1)},
    "format_info": {
        "endian": "big",
        "sample_format": "ieee32",
        "offsets": [0, 3600],
        "scale": np.float32(0.5),
    },
    "geometry": {"kind": "3d", "holes": [{"inline": 3, "crossline": 7}], "regular": True, "dx": None},
    "warnings": ["trace 5: zero sample count", "odd header"],
    "nan_value": float("nan"),
    "inf_value": float("-inf"),
    "numpy_scalar": np.int16(-7),
    "array": np.arange(6, dtype=">i4").reshape(2, 3),
    "raw": b"\x00\xff\x10",
    "int_keys": {1: "one", 2: "two"},
    "dollar_keys": {"$tuple": "not a tag"},
    "when": dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC),
}


def make_2d(n: int = 300, ns: int = 50, seed: int = 0) -> SeismicData:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n, ns)).astype(np.float32)
    values[3] = 0.0
    values[4, :5] = [np.nan, np.inf, -np.inf, -0.0, 1e-45]
    mask = rng.random(n) > 0.2
    headers = {
        "trace_sequence_line": np.arange(1, n + 1, dtype=np.int32),
        "offset": (rng.integers(-3000, 3000, n)).astype(np.int16),
        "cdp_x_raw": rng.uniform(4e5, 5e5, n),
        "gain_type": rng.integers(0, 3, n).astype(np.uint8),
        "station": np.array([f"ST{i % 13:02d}" for i in range(n)]),
    }
    data = SeismicData.from_array(
        values,
        sample_interval=4.0,
        start=-8.0,
        trace_mask=mask,
        headers=headers,
        coords={"cdp_x": ("trace", rng.uniform(0, 1e4, n)), "offset": ("trace", np.arange(n) * 12.5)},
        attrs=RICH_ATTRS,
    )
    ds = data.dataset.assign(trace_index=("trace", np.arange(n, dtype=np.int64)))
    ds["amplitude"].attrs["units"] = "counts"
    ds["trace_mask"].attrs["meaning"] = {"True": "live", "False": ("missing", "dead")}
    data = SeismicData(ds)
    return data.with_history("despike", threshold=4.5, window=(3, 3)).with_history(
        "bandpass", f=[5, 10, 60, 80]
    )


def make_3d(n_il: int = 23, n_xl: int = 37, ns: int = 60, seed: int = 1) -> SeismicData:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_il, n_xl, ns)).astype(np.float32)
    mask = rng.random((n_il, n_xl)) > 0.3
    values[~mask] = 0.0
    index = np.arange(n_il * n_xl, dtype=np.int64).reshape(n_il, n_xl)
    index[~mask] = -1
    il = np.repeat(np.arange(100, 100 + n_il, dtype=np.int32)[:, None], n_xl, axis=1)
    data = SeismicData.from_array(
        values,
        sample_interval=2.0,
        trace_mask=mask,
        headers={
            "inline": il,
            "crossline": np.repeat(np.arange(10, 10 + 2 * n_xl, 2, dtype=np.int16)[None, :], n_il, axis=0),
            "elevation": rng.normal(100, 5, (n_il, n_xl)),
        },
        coords={
            "inline": ("inline", np.arange(100, 100 + n_il, dtype=np.int64)),
            "crossline": ("crossline", np.arange(10, 10 + 2 * n_xl, 2, dtype=np.int64)),
            "cdp_x": (("inline", "crossline"), rng.uniform(0, 1e4, (n_il, n_xl))),
        },
        attrs={"geometry": {"kind": "3d", "inline_step": 1, "crossline_step": 2}, "source_format": "segy"},
    )
    data = SeismicData(data.dataset.assign(trace_index=(("inline", "crossline"), index)))
    return data.with_history("regularize", method="bin")


def store_files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------ round trips
def test_roundtrip_2d_exact(tmp_path: Path) -> None:
    data = make_2d()
    write_store(data, tmp_path / "line.zarr")
    back = read_store(tmp_path / "line.zarr")
    assert_roundtrip(back, data)
    assert back.equals(data)
    assert [h["operation"] for h in back.history] == ["despike", "bandpass"]


def test_roundtrip_3d_exact(tmp_path: Path) -> None:
    data = make_3d()
    write_store(data, tmp_path / "cube.zarr", chunks={"inline": 8, "crossline": 8, "time": 25})
    assert_roundtrip(read_store(tmp_path / "cube.zarr"), data)


def test_roundtrip_depth_float64_object_strings(tmp_path: Path) -> None:
    values = np.linspace(-1, 1, 5 * 9).reshape(5, 9)
    names = np.array(["a", "bb", "", "dddd", "é"], dtype=object)
    data = SeismicData.from_array(
        values, sample_interval=5.0, domain="depth", dtype=np.float64, headers={"name": names}
    )
    write_store(data, tmp_path / "d.zarr", compressor="zstd")
    back = read_store(tmp_path / "d.zarr")
    assert_roundtrip(back, data)
    assert back.sample_dim == "depth"
    assert back.header("name").dtype == object


@pytest.mark.parametrize("compressor", [None, "zstd", "blosc-zstd", "none"])
def test_compressors_roundtrip_and_are_recorded(tmp_path: Path, compressor: str | None) -> None:
    data = make_2d(n=40, ns=16)
    write_store(data, tmp_path / "c.zarr", compressor=compressor)
    assert_roundtrip(read_store(tmp_path / "c.zarr"), data)
    with ZarrFile(tmp_path / "c.zarr") as f:
        recorded = f.info()["compressor"]
    expected = {None: "blosc", "zstd": "zstd", "blosc-zstd": "blosc", "none": "none"}[compressor]
    assert recorded["name"] == expected
    meta = json.loads((tmp_path / "c.zarr" / "amplitude" / "zarr.json").read_text())
    codec_names = [c["name"] for c in meta["codecs"]]
    assert (expected in codec_names) == (expected != "none")


def test_attrs_codec_is_exact() -> None:
    text = encode_attrs(RICH_ATTRS)
    json.loads(text)  # plain JSON, storable in any zarr attribute
    assert_same(decode_attrs(text), RICH_ATTRS)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_roundtrip_property(data: st.DataObject) -> None:
    is_3d = data.draw(st.booleans(), label="3d")
    trace_shape = (
        (data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6)))
        if is_3d
        else (data.draw(st.integers(1, 40)),)
    )
    ns = data.draw(st.integers(1, 24), label="samples")
    values = data.draw(
        hnp.arrays(np.float32, (*trace_shape, ns), elements=st.floats(width=32)), label="values"
    )
    mask = data.draw(hnp.arrays(np.bool_, trace_shape), label="mask")
    hdr = data.draw(hnp.arrays(np.int16, trace_shape), label="hdr")
    chunks = tuple(data.draw(st.integers(1, s), label="chunk") for s in (*trace_shape, ns))
    history = data.draw(st.lists(st.text(max_size=8), max_size=3), label="history")
    sd = SeismicData.from_array(
        values,
        sample_interval=data.draw(st.sampled_from([0.5, 1.0, 4.0])),
        trace_mask=mask,
        headers={"h": hdr},
    )
    for op in history:
        sd = sd.with_history(op or "noop", label=op)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.zarr"
        write_store(sd, path, chunks=chunks)
        back = read_store(path)
        assert_roundtrip(back, sd)
        with ZarrFile(path) as f:
            a, b = sorted(data.draw(st.tuples(st.integers(0, sd.n_traces), st.integers(0, sd.n_traces))))
            window = f.read(slice(a, b))
            expected = sd.to_traces().isel(trace=slice(a, b))
            assert np.array_equal(window.values.view(np.uint32), expected.values.view(np.uint32))
            assert np.array_equal(window.trace_mask, expected.trace_mask)


# ----------------------------------------------------------------------------------------- lazy windows
def _corrupt_chunks_outside(path: Path, keep: set[tuple[int, ...]]) -> int:
    """Overwrite every amplitude chunk not in ``keep`` with garbage: reading one would fail."""
    n = 0
    for p in (path / "amplitude" / "c").rglob("*"):
        if p.is_file():
            key = tuple(int(x) for x in p.relative_to(path / "amplitude" / "c").parts)
            if key not in keep:
                p.write_bytes(b"not a blosc frame" * 4)
                n += 1
    return n


def test_window_reads_2d_match_slicing(tmp_path: Path) -> None:
    data = make_2d(n=300, ns=50)
    path = tmp_path / "w.zarr"
    write_store(data, path, chunks={"trace": 64, "time": 20})
    full = data.dataset
    with pio.open(path) as f:
        assert isinstance(f, ZarrFile)
        assert (f.n_traces, f.n_samples, f.sample_interval) == (300, 50, 4.0)
        assert f.chunks == (64, 20)
        xr.testing.assert_identical(f.read(slice(70, 140)).dataset, full.isel(trace=slice(70, 140)))
        xr.testing.assert_identical(
            f.read_window(slice(10, 100), time=slice(0.0, 40.0)).dataset,
            full.isel(trace=slice(10, 100)).sel(time=slice(0.0, 40.0)),
        )
        xr.testing.assert_identical(
            f.read_window(slice(250, None), samples=slice(5, 45, 5)).dataset,
            full.isel(trace=slice(250, None), time=slice(5, 45, 5)),
        )
        xr.testing.assert_identical(
            f.isel(trace=slice(None, None, 7)).dataset, full.isel(trace=slice(None, None, 7))
        )
        xr.testing.assert_identical(f.sel(time=slice(100, 120)).dataset, full.sel(time=slice(100, 120)))
        no_headers = f.read(slice(0, 10), headers=False)
        assert no_headers.header_names == []
        assert np.array_equal(no_headers.values, data.values[:10], equal_nan=True)
        assert f.read(slice(0, 10), headers=["offset"]).header_names == ["offset"]
        assert np.array_equal(f.lazy.amplitude[5:9, 3:7].values, data.values[5:9, 3:7])
        chunks = list(f.iter_chunks(128))
        assert [c.n_traces for c in chunks] == [128, 128, 44]
        assert np.array_equal(np.concatenate([c.values for c in chunks]), data.values, equal_nan=True)

    # Only the chunks under a window are read: every other amplitude chunk is now garbage.
    assert _corrupt_chunks_outside(path, keep={(1, 0), (1, 1)}) > 0
    with ZarrFile(path) as f:
        window = f.read_window(slice(64, 128), samples=slice(0, 40))
        assert np.array_equal(window.values, data.values[64:128, :40])
        with pytest.raises(StorageError):
            f.read(slice(0, 10))


def test_window_reads_3d_match_slicing(tmp_path: Path) -> None:
    data = make_3d()
    path = tmp_path / "v.zarr"
    write_store(data, path, chunks={"inline": 8, "crossline": 8, "time": 30})
    full = data.dataset
    with ZarrFile(path) as f:
        assert f.is_3d
        assert f.n_traces == 23 * 37
        assert f.shape == (23, 37, 60)
        xr.testing.assert_identical(f.read_inline(103).dataset, full.isel(inline=slice(3, 4)))
        xr.testing.assert_identical(f.read_crossline(20).dataset, full.isel(crossline=slice(5, 6)))
        xr.testing.assert_identical(f.read_time_slice(41.2).dataset, full.isel(time=slice(21, 22)))
        xr.testing.assert_identical(
            f.sel(inline=slice(101, 104), crossline=slice(10, 30), time=slice(10, 20)).dataset,
            full.sel(inline=slice(101, 104), crossline=slice(10, 30), time=slice(10, 20)),
        )
        xr.testing.assert_identical(
            f.isel(inline=slice(2, 9), crossline=slice(30, None)).dataset,
            full.isel(inline=slice(2, 9), crossline=slice(30, None)),
        )
        flat = data.to_traces().dataset
        xr.testing.assert_identical(f.read(slice(50, 130)).dataset, flat.isel(trace=slice(50, 130)))
        xr.testing.assert_identical(
            f.read_window(slice(0, 37), time=slice(4, 8)).dataset,
            flat.isel(trace=slice(0, 37), time=slice(2, 5)),
        )
        chunks = list(f.iter_chunks(100))
        assert sum(c.n_traces for c in chunks) == f.n_traces
        assert np.array_equal(np.concatenate([c.values for c in chunks]), flat["amplitude"].values)
        with pytest.raises(KeyError):
            f.read_inline(999)

    # An inline read touches only the chunks of its inline band.
    _corrupt_chunks_outside(path, keep={(0, j, k) for j in range(5) for k in range(2)})
    with ZarrFile(path) as f:
        assert np.array_equal(f.read_inline(104, headers=False).values, data.values[4:5])


# -------------------------------------------------------------------------------------------- streaming
def test_streaming_2d_equals_one_shot(tmp_path: Path) -> None:
    data = make_2d(n=300, ns=50)
    write_store(data, tmp_path / "one.zarr", chunks={"trace": 64})
    with ZarrWriter(
        tmp_path / "stream.zarr", data.isel(trace=slice(0, 1)), trace_shape=300, chunks={"trace": 64}
    ) as w:
        assert w.chunk_traces == 64
        assert w.header_chunks == (300,)
        assert w.aligned_traces() == 300
        for start in (0, 97, 128, 200):  # unaligned and aligned chunk boundaries
            stop = {0: 97, 97: 128, 128: 200, 200: 300}[start]
            w.write_chunk(start, data.isel(trace=slice(start, stop)))
        assert not (tmp_path / "stream.zarr").exists()  # nothing at the target until close
    assert_roundtrip(read_store(tmp_path / "stream.zarr"), data)
    assert store_files(tmp_path / "stream.zarr") == store_files(tmp_path / "one.zarr")


def test_streaming_3d_from_flat_traces_and_slabs(tmp_path: Path) -> None:
    data = make_3d()
    n_il, n_xl = data.shape[:2]
    coords = {"inline": data["inline"].values, "crossline": data["crossline"].values}
    opts: dict[str, Any] = {"chunks": {"inline": 8, "crossline": 8, "time": 25}}
    write_store(data, tmp_path / "one.zarr", **opts)
    flat = data.to_traces()
    with ZarrWriter(
        tmp_path / "flat.zarr", flat.isel(trace=slice(0, 5)), trace_shape=(n_il, n_xl), coords=coords, **opts
    ) as w:
        for start in range(0, n_il * n_xl, 97):
            w.write_chunk(start, flat.isel(trace=slice(start, start + 97)))
    with ZarrWriter(
        tmp_path / "slab.zarr", data.isel(inline=slice(0, 5)), trace_shape=(n_il, n_xl), coords=coords, **opts
    ) as w:
        for i in range(0, n_il, 5):
            w.write_chunk(i * n_xl, data.isel(inline=slice(i, i + 5)))
    one = store_files(tmp_path / "one.zarr")
    assert store_files(tmp_path / "flat.zarr") == one
    assert store_files(tmp_path / "slab.zarr") == one
    assert_roundtrip(read_store(tmp_path / "flat.zarr"), data)


def test_streaming_final_attrs_and_holes(tmp_path: Path) -> None:
    data = make_3d(n_il=4, n_xl=5, ns=8)
    flat = data.to_traces()
    w = ZarrWriter(tmp_path / "h.zarr", flat.isel(trace=slice(0, 2)), trace_shape=(4, 5))
    w.write_chunk(0, flat.isel(trace=slice(0, 7)))  # traces 7..19 never arrive: holes
    w.close(attrs={"geometry": {"holes": 13}, "warnings": ["late"]})
    back = read_store(tmp_path / "h.zarr")
    assert back.attrs["geometry"] == {"holes": 13}
    assert back.attrs["warnings"] == ["late"]
    assert back.history == data.history
    mask = back.trace_mask.reshape(-1)
    assert np.array_equal(mask[:7], flat.trace_mask[:7])
    assert not mask[7:].any()
    assert (back["trace_index"].values.reshape(-1)[7:] == -1).all()
    assert (back.values.reshape(20, -1)[7:] == 0).all()
    assert np.array_equal(back["inline"].values, np.arange(1, 5))  # default inline numbers


def test_streaming_rejects_inconsistent_chunks(tmp_path: Path) -> None:
    data = make_2d(n=50, ns=10)
    with ZarrWriter(tmp_path / "x.zarr", data, trace_shape=50) as w:
        with pytest.raises(ValueError, match="samples"):
            w.write_chunk(0, SeismicData.from_array(np.zeros((2, 11)), sample_interval=4.0))
        with pytest.raises(ValueError, match="outside"):
            w.write_chunk(45, data.isel(trace=slice(0, 10)))
        with pytest.raises(ValueError, match="lacks"):
            w.write_chunk(0, SeismicData(data.dataset.drop_vars("hdr_offset")).isel(trace=slice(0, 2)))
        w.write_chunk(0, data)
    cube = make_3d(n_il=4, n_xl=5, ns=8)
    with (
        ZarrWriter(tmp_path / "y.zarr", cube, trace_shape=(4, 5)) as w,
        pytest.raises(ValueError, match="whole"),
    ):
        w.write_chunk(3, cube.isel(inline=slice(0, 1)))


# ------------------------------------------------------------------------------------------- atomicity
def test_overwrite_false_leaves_existing_store_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    write_store(make_2d(n=20, ns=8), path)
    before = store_files(path)
    with pytest.raises(StorageError, match="already exists"):
        write_store(make_2d(n=30, ns=8, seed=5), path, overwrite=False)
    with pytest.raises(StorageError, match="already exists"):
        pio.write(make_2d(n=30, ns=8, seed=5), path, overwrite=False)
    assert store_files(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]


def test_overwrite_true_replaces_whole_store(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    write_store(make_2d(n=20, ns=8), path)
    new = SeismicData.from_array(np.ones((3, 4)), sample_interval=1.0)
    pio.write(new, path)
    assert_roundtrip(pio.read(path), new)
    assert not (path / "hdr_offset").exists()  # nothing of the old store survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]


def test_failed_write_leaves_nothing_valid(tmp_path: Path) -> None:
    data = make_2d(n=100, ns=10)
    path = tmp_path / "f.zarr"

    def crash_mid_write() -> None:
        with ZarrWriter(path, data, chunks={"trace": 16}) as w:
            w.write_chunk(0, data.isel(trace=slice(0, 50)))
            raise RuntimeError("converter crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        crash_mid_write()
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []

    # With an existing store and overwrite=True, a failed write keeps the old store.
    write_store(data, path)
    before = store_files(path)
    with pytest.raises(ValueError, match="samples"), ZarrWriter(path, data) as w:
        w.write_chunk(0, SeismicData.from_array(np.zeros((2, 3)), sample_interval=4.0))
    assert store_files(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.zarr"]


def test_incomplete_store_is_not_detected(tmp_path: Path) -> None:
    path = tmp_path / "half.zarr"
    write_store(make_2d(n=10, ns=5), path)
    meta_path = path / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"]["promethium"]["complete"] = False  # what an object store shows mid-write
    meta_path.write_text(json.dumps(meta))
    assert not is_zarr_store(path)
    with pytest.raises(UnsupportedFormatError):
        pio.detect_format(path)
    with pytest.raises(StorageError, match="incomplete"):
        read_store(path)


# ------------------------------------------------------------------------------------------- detection
def test_detection_and_public_api(tmp_path: Path) -> None:
    data = make_2d(n=40, ns=12)
    path = tmp_path / "out.zarr"
    pio.write(data, path)  # format from the extension
    assert is_zarr_store(path)
    assert is_zarr_store(f"file://{path}")
    assert pio.detect_format(path) == "zarr"
    assert pio.detect_format(str(path) + "/") == "zarr"
    assert_roundtrip(pio.read(path), data)
    with pio.open(path) as f:
        assert f.format == "zarr"
        assert f.info()["traces"] == 40
    other = tmp_path / "plain"
    other.mkdir()
    (other / "notes.txt").write_text("hello")
    assert not is_zarr_store(other)
    with pytest.raises(UnsupportedFormatError):
        pio.detect_format(other)
    assert not is_zarr_store(tmp_path / "missing")


def test_plain_xarray_zarr_with_amplitude_is_accepted(tmp_path: Path) -> None:
    data = make_2d(n=30, ns=10)
    ds = data.dataset.drop_vars("hdr_station")
    ds.attrs = {"sample_interval": 4.0, "source_format": "xarray"}
    path = tmp_path / "x.zarr"
    ds.to_zarr(path, zarr_format=3, consolidated=False)
    assert is_zarr_store(path)
    assert pio.detect_format(path) == "zarr"
    back = pio.read(path)
    assert np.array_equal(back.values, data.values, equal_nan=True)
    assert np.array_equal(back.trace_mask, data.trace_mask)
    assert back.sample_interval == 4.0


def test_aligned_write_sizes(tmp_path: Path) -> None:
    line = SeismicData.from_array(np.zeros((1, 1000), np.float32), sample_interval=1.0)
    w = ZarrWriter(tmp_path / "a.zarr", line, trace_shape=100_000)
    assert w.amp_chunks == (1024, 1000)  # about 4 MiB
    assert w.header_chunks == (16384,)
    assert w.aligned_traces(64 * 2**20) == 16384  # one header chunk: 64 MB of samples
    assert w.aligned_traces(2**30) == 100_000
    assert w.aligned_traces(1) == 16384  # never less than one aligned unit
    w.abort()
    cube = SeismicData.from_array(np.zeros((1, 1, 500), np.float32), sample_interval=1.0)
    w = ZarrWriter(tmp_path / "b.zarr", cube, trace_shape=(100, 200))
    assert w.amp_chunks == (32, 32, 500)
    assert w.header_chunks == (32, 200)
    assert w.aligned_traces(64 * 2**20) == 20_000
    assert w.aligned_traces(1) == 32 * 200  # a band of whole inlines
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_default_chunks_are_about_a_few_mib() -> None:
    for shape in [
        (100_000, 1501),
        (50_000, 2048),
        (10_000, 6001),
        (20_000, 100),
        (600, 400, 1501),
        (200, 300, 200),
    ]:
        chunks = default_chunks(shape)
        nbytes = 4 * int(np.prod(chunks))
        assert 256 * 1024 <= nbytes <= 4 * 1024 * 1024, (shape, chunks)
        assert chunks[-1] == shape[-1] or shape[-1] > 1024
    assert default_chunks((10, 50)) == (10, 50)
    assert default_chunks((3000, 2049))[1] == 1025  # even split, no sliver chunk


def test_integer_headers_are_packed_into_one_array(tmp_path: Path) -> None:
    """Many small header fields share one int32 array on disk and come back with their own dtypes."""
    rng = np.random.default_rng(5)
    headers = {f"f{i}": rng.integers(-1000, 1000, 40).astype(np.int16) for i in range(30)}
    headers["big"] = rng.integers(-(2**31), 2**31 - 1, 40).astype(np.int32)
    headers["small_u"] = rng.integers(0, 65535, 40).astype(np.uint16)
    data = SeismicData.from_array(rng.standard_normal((40, 16)), sample_interval=2.0, headers=headers)
    path = tmp_path / "p.zarr"
    pio.write(data, path)
    arrays = sorted(p.name for p in path.iterdir() if p.is_dir())
    assert "trace_headers" in arrays
    assert not any(a.startswith("hdr_") for a in arrays)
    back = pio.read(path)
    assert back.equals(data)
    for name, values in headers.items():
        assert back.header(name).dtype == values.dtype
    with pio.open(path) as f:
        win = f.read(slice(5, 9), headers=["f3", "big"])
        np.testing.assert_array_equal(win.header("big"), headers["big"][5:9])
        assert win.header_names == ["f3", "big"]


def test_a_crossline_of_a_volume_is_read_by_a_step_of_whole_inlines(tmp_path: Path) -> None:
    from promethium.synthetic import make_survey

    cube = make_survey("3d", n_inline=7, n_crossline=5, n_samples=40, seed=2)
    path = tmp_path / "cube.zarr"
    pio.write(cube, path)
    flat = cube.values.reshape(-1, 40)
    with pio.open(path) as f:
        for start, stop, step in [(2, 35, 5), (3, 35, 10), (0, 20, 5), (4, 5, 5)]:
            got = f.read_window(slice(start, stop, step), headers=False)
            np.testing.assert_array_equal(got.values, flat[start:stop:step])
            np.testing.assert_array_equal(got["trace"].values, np.arange(start, stop, step))
        with pytest.raises(ValueError, match="multiple of its 5 crosslines"):
            f.read_window(slice(0, 35, 2))
