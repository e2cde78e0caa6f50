"""Reading and writing over S3 (a local moto server) and HTTP (a local Range-aware server).

Nothing leaves 127.0.0.1. Objects stay small: moto reads a whole object for every range request.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import promethium.io as pio
from promethium.core.errors import StorageError
from promethium.io.data import SeismicData
from promethium.io.source import FsspecSource, LocalSource, open_source
from promethium.io.zarrstore import ZarrFile, ZarrWriter, is_zarr_store, read_store, write_store

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _importable(module: str) -> bool:
    """Formats other than Zarr are being written by others: skip their tests until they import."""
    try:
        importlib.import_module(module)
    except Exception:
        return False
    return True


def segy_like_bytes(n_traces: int = 10, n_samples: int = 50) -> bytes:
    """A SEG-Y-shaped byte string: 3200 + 400 header bytes, then 240-byte trace headers and samples."""
    rng = np.random.default_rng(42)
    parts = [rng.integers(0, 256, 3600, dtype=np.uint8).tobytes()]
    for i in range(n_traces):
        header = np.zeros(60, dtype=">i4")
        header[0] = i + 1
        parts.append(header.tobytes())
        parts.append(rng.standard_normal(n_samples).astype(">f4").tobytes())
    return b"".join(parts)


def small_line(n: int = 40, ns: int = 16, seed: int = 0) -> SeismicData:
    rng = np.random.default_rng(seed)
    data = SeismicData.from_array(
        rng.standard_normal((n, ns)).astype(np.float32),
        sample_interval=2.0,
        trace_mask=rng.random(n) > 0.25,
        headers={"ffid": np.arange(n, dtype=np.int32), "scalar": np.full(n, -100, np.int16)},
        attrs={"binary_header": {"format": 5}, "warnings": ["w"]},
    )
    return data.with_history("test", n=n)


def assert_same_data(a: SeismicData, b: SeismicData) -> None:
    xr.testing.assert_identical(a.dataset, b.dataset)
    for name, var in b.dataset.variables.items():
        assert a.dataset.variables[name].dtype == var.dtype, name
    assert a.attrs == b.attrs


@pytest.fixture(params=["s3", "http"])
def remote_file(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, bytes], str]:
    """``put(name, data) -> url``: publish bytes on the S3 or the HTTP server; parametrised over both."""
    if request.param == "s3":
        prefix: str = request.getfixturevalue("s3_prefix")
        s3_put = request.getfixturevalue("s3_put")

        def put_s3(name: str, data: bytes) -> str:
            url = f"{prefix}/{name}"
            s3_put(url, data)
            return url

        return put_s3
    server = request.getfixturevalue("range_http_server")
    folder = server.root / tmp_path.name
    folder.mkdir()

    def put_http(name: str, data: bytes) -> str:
        (folder / name).write_bytes(data)
        return f"{server.url}/{tmp_path.name}/{name}"

    return put_http


# ------------------------------------------------------------------------------------------ byte sources
def test_remote_source_reads_like_local(remote_file: Callable[[str, bytes], str], tmp_path: Path) -> None:
    data = segy_like_bytes()
    local = tmp_path / "line.sgy"
    local.write_bytes(data)
    url = remote_file("line.sgy", data)
    with open_source(url) as src, LocalSource(local) as ref:
        assert isinstance(src, FsspecSource)
        assert src.size == ref.size == len(data)
        assert bytes(src.read(0, len(data))) == data  # the whole file, identical
        assert bytes(src.read(3200, 400)) == data[3200:3600]
        assert bytes(src.read(3600 + 440 * 3, 240)) == data[3600 + 1320 : 3600 + 1560]
        ranges = [(0, 3200), (3600, 240), (3600 + 440 * 9 + 240, 200), (17, 1)]
        assert [bytes(b) for b in src.read_ranges(ranges)] == [bytes(b) for b in ref.read_ranges(ranges)]
        assert src.read_ranges([]) == []
        # Out of range: short at the end, empty past it, as for local files.
        assert bytes(src.read(len(data) - 10, 100)) == data[-10:]
        assert bytes(src.read(len(data), 10)) == b""
        assert bytes(src.read(len(data) + 5, 10)) == b""
        assert bytes(src.read(0, 0)) == b""
        assert [bytes(b) for b in src.read_ranges([(len(data) - 4, 100)])] == [data[-4:]]
        out = np.zeros(60, dtype=np.uint8)
        assert src.readinto(100, out) == 60
        assert out.tobytes() == data[100:160]


def test_remote_read_ranges_past_end_matches_local(
    remote_file: Callable[[str, bytes], str], tmp_path: Path
) -> None:
    data = segy_like_bytes(n_traces=2)
    local = tmp_path / "x.bin"
    local.write_bytes(data)
    url = remote_file("x.bin", data)
    ranges = [(0, 4), (len(data) + 100, 10)]
    with open_source(url) as src, LocalSource(local) as ref:
        assert [bytes(b) for b in src.read_ranges(ranges)] == [bytes(b) for b in ref.read_ranges(ranges)]


def test_missing_remote_object_raises_storage_error(remote_file: Callable[[str, bytes], str]) -> None:
    url = remote_file("present.bin", b"abc")
    missing = url.replace("present.bin", "absent.bin")
    with pytest.raises(StorageError):
        open_source(missing)
    with pytest.raises(StorageError):
        read_store(missing.replace("absent.bin", "absent.zarr"))
    assert not is_zarr_store(missing.replace("absent.bin", "absent.zarr"))


def test_http_window_read_fetches_only_the_needed_ranges(range_http_server: Any, tmp_path: Path) -> None:
    data = np.random.default_rng(3).integers(0, 256, 1_000_000, dtype=np.uint8).tobytes()
    (range_http_server.root / f"{tmp_path.name}.bin").write_bytes(data)
    url = f"{range_http_server.url}/{tmp_path.name}.bin"
    range_http_server.clear_log()
    with open_source(url) as src:
        assert bytes(src.read(500_000, 1000)) == data[500_000:501_000]
        parts = src.read_ranges([(0, 100), (900_000, 50), (999_990, 10)])
        assert [bytes(p) for p in parts] == [data[:100], data[900_000:900_050], data[-10:]]
    # Only this test's object: a connection of an earlier test may still log after clear_log().
    log = [entry for entry in range_http_server.requests() if tmp_path.name in entry[1]]
    gets = [entry for entry in log if entry[0] == "GET"]
    assert gets, log
    assert all(rng is not None for _, _, rng, _ in gets), f"a GET without Range: {log}"
    assert sorted(rng for _, _, rng, _ in gets) == sorted(
        ["bytes=500000-500999", "bytes=0-99", "bytes=900000-900049", "bytes=999990-999999"]
    )
    assert sum(sent for *_, sent in log) == 1000 + 100 + 50 + 10  # never the whole object


# -------------------------------------------------------------------------------------------- Zarr on S3
@pytest.mark.s3
def test_zarr_s3_roundtrip_and_windows(s3_prefix: str) -> None:
    data = small_line()
    url = f"{s3_prefix}/line.zarr"
    write_store(data, url, chunks={"trace": 16, "time": 8})
    assert is_zarr_store(url)
    assert pio.detect_format(url) == "zarr"
    assert_same_data(read_store(url), data)
    assert_same_data(pio.read(url), data)
    with pio.open(url) as f:
        assert isinstance(f, ZarrFile)
        assert (f.n_traces, f.n_samples, f.chunks) == (40, 16, (16, 8))
        xr.testing.assert_identical(
            f.read_window(slice(5, 30), time=slice(4.0, 12.0)).dataset,
            data.dataset.isel(trace=slice(5, 30)).sel(time=slice(4.0, 12.0)),
        )
        xr.testing.assert_identical(f.read(slice(33, 40)).dataset, data.dataset.isel(trace=slice(33, 40)))


@pytest.mark.s3
def test_zarr_s3_volume_and_streaming(s3_prefix: str) -> None:
    rng = np.random.default_rng(7)
    cube = SeismicData.from_array(
        rng.standard_normal((4, 6, 10)).astype(np.float32),
        sample_interval=4.0,
        headers={"cdp": np.arange(24, dtype=np.int32).reshape(4, 6)},
    )
    url = f"{s3_prefix}/cube.zarr"
    flat = cube.to_traces()
    with ZarrWriter(url, flat.isel(trace=slice(0, 1)), trace_shape=(4, 6), chunks=(2, 3, 10)) as w:
        for start in range(0, 24, 10):
            w.write_chunk(start, flat.isel(trace=slice(start, start + 10)))
            assert not is_zarr_store(url)  # half-written: present, marked incomplete, not detected
    assert is_zarr_store(url)
    with ZarrFile(url) as f:
        xr.testing.assert_identical(f.read_inline(3).dataset, cube.dataset.isel(inline=slice(2, 3)))
        xr.testing.assert_identical(f.read_crossline(2).dataset, cube.dataset.isel(crossline=slice(1, 2)))
        xr.testing.assert_identical(f.read_time_slice(8.0).dataset, cube.dataset.isel(time=slice(2, 3)))
    assert_same_data(read_store(url), cube)


@pytest.mark.s3
def test_zarr_s3_overwrite_and_failed_write(s3_prefix: str) -> None:
    import fsspec

    first, second = small_line(seed=1), small_line(n=12, ns=4, seed=2)
    url = f"{s3_prefix}/o.zarr"
    write_store(first, url)
    with pytest.raises(StorageError, match="already exists"):
        write_store(second, url, overwrite=False)
    assert_same_data(read_store(url), first)
    write_store(SeismicData.from_array(np.ones((2, 3)), sample_interval=1.0), url)  # replaces everything
    back = read_store(url)
    assert back.header_names == []
    assert back.shape == (2, 3)

    failed = f"{s3_prefix}/failed.zarr"

    def crash_mid_write() -> None:
        with ZarrWriter(failed, first, chunks={"trace": 8}) as w:
            w.write_chunk(0, first.isel(trace=slice(0, 16)))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crash_mid_write()
    assert not is_zarr_store(failed)
    fs, path = fsspec.core.url_to_fs(failed, **_s3_options())
    fs.invalidate_cache()
    assert not fs.exists(path)  # what was written is removed


def _s3_options() -> dict[str, object]:
    from promethium.core.settings import get_settings

    return get_settings().storage_options("s3://")


# ------------------------------------------------------------------------------------------ Zarr on HTTP
def test_zarr_over_http_reads_only_window_chunks(range_http_server: Any, tmp_path: Path) -> None:
    data = small_line(n=64, ns=32)
    name = f"{tmp_path.name}.zarr"
    write_store(data, range_http_server.root / name, chunks={"trace": 16, "time": 16})
    url = f"{range_http_server.url}/{name}"
    assert is_zarr_store(url)
    range_http_server.clear_log()
    with ZarrFile(url) as f:  # plain HTTP cannot list: the consolidated metadata makes this possible
        window = f.read_window(slice(20, 30), samples=slice(0, 10), headers=False)
    assert np.array_equal(window.values, data.values[20:30, :10])
    fetched = {p.split(name, 1)[1] for method, p, _, _ in range_http_server.requests() if method == "GET"}
    amplitude_chunks = {p for p in fetched if p.startswith("/amplitude/c/")}
    assert amplitude_chunks == {"/amplitude/c/1/0"}, fetched  # one chunk of the 8
    assert not any(p.startswith("/hdr_") and "/c/" in p for p in fetched)
    assert_same_data(pio.read(url, format="zarr"), data)
    assert pio.detect_format(url) == "zarr"
    assert_same_data(pio.read(url), data)


# ----------------------------------------------------------------------------- other formats from S3
@pytest.mark.s3
@pytest.mark.shared
@pytest.mark.parametrize(
    ("module", "relpath"),
    [
        pytest.param(
            "promethium.io.sac",
            "sac/obspy_seism.sac",
            marks=pytest.mark.skipif(not _importable("promethium.io.sac"), reason="SAC reader not available"),
        ),
        pytest.param(
            "promethium.io.segy",
            "segy/segyio_small.sgy",
            marks=pytest.mark.skipif(
                not _importable("promethium.io.segy"), reason="SEG-Y reader not available"
            ),
        ),
    ],
)
def test_read_shared_file_from_s3(module: str, relpath: str, s3_prefix: str, s3_put: Any) -> None:
    local = SHARED_DATA / relpath
    if not local.is_file():
        pytest.skip(f"{local} is absent")
    url = f"{s3_prefix}/{local.name}"
    s3_put(url, local.read_bytes())
    assert pio.detect_format(url) == pio.detect_format(local)
    remote, here = pio.read(url), pio.read(local)
    assert remote.equals(here)
    assert remote.attrs.get("source_format") == here.attrs.get("source_format")
