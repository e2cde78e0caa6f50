"""promethium.io.convert and promethium.io.describe: streamed conversion into Zarr (2D lines, 3D grids
with holes, stored volumes), exactness against promethium.io.read, refusal to overwrite, clean failure
wherever it happens, progress reports, and the description of a file."""

from __future__ import annotations

import importlib
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import promethium.io as pio
from promethium.core.errors import OutputExistsError, StorageError, UnsupportedFormatError
from promethium.io.data import SeismicData
from promethium.io.segy import SegyFile
from promethium.synthetic import damage, make_survey

# ``promethium.io.convert`` is the function once the package is imported; the module is reached so.
convert_module = importlib.import_module("promethium.io.convert")

N_2D = 40_000  # 2D chunks: 16384 traces (one header chunk), so 3 chunks: 16384, 16384, 7232
N_IL, N_XL, N_T = 150, 20, 40  # 3D chunks: 64 inlines (one amplitude chunk), so 3 bands: 64, 64, 22
SMALL = 256 * 1024  # chunk_bytes that give one aligned unit per chunk for both files


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 2D line and a damaged 3D survey (holes and dead traces), as SEG-Y."""
    root = tmp_path_factory.mktemp("convert")
    rng = np.random.default_rng(3)
    values = rng.standard_normal((N_2D, 12)).astype(np.float32)
    values[::97] = 0  # some all-zero traces, masked
    cdp = np.arange(1, N_2D + 1, dtype=np.int32)
    line = SeismicData.from_array(
        values,
        sample_interval=4.0,
        trace_mask=values.any(axis=1),
        headers={"cdp": cdp, "cdp_x": 1000 * cdp, "cdp_y": np.full(N_2D, 5, dtype=np.int32)},
    )
    pio.write(line, root / "line.sgy")
    cube = make_survey("3d", n_inline=N_IL, n_crossline=N_XL, n_samples=N_T, seed=4)
    damaged, info = damage(cube, 0.2, 0.05, seed=5, pattern="mixed")
    pio.write(damaged, root / "cube.sgy")
    (root / "cube.json").write_text(json.dumps({k: info[k] for k in ("n_missing", "n_dead", "n_live")}))
    return {"line": root / "line.sgy", "cube": root / "cube.sgy", "cube_info": root / "cube.json"}


@pytest.fixture(scope="module")
def stores(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both files converted to Zarr in chunks of one aligned unit, with their results and progress
    (the cube with its input format forced and a reader option, which must change nothing)."""
    root = tmp_path_factory.mktemp("stores")
    out: dict[str, Any] = {}
    for name, options in (("line", {}), ("cube", {"input_format": "sgy", "endian": "big"})):
        calls: list[tuple[int, int]] = []
        out[name] = root / f"{name}.zarr"
        out[f"{name}_result"] = pio.convert(
            files[name], out[name], chunk_bytes=SMALL, progress=_log(calls), **options
        )
        out[f"{name}_calls"] = calls
    return out


def _log(calls: list[tuple[int, int]]) -> Any:
    """A progress callback that records its calls."""
    return lambda done, total: calls.append((done, total))


def assert_same_variables(actual: SeismicData, expected: SeismicData) -> None:
    """Every variable and coordinate of ``expected`` is in ``actual``, with equal dims and values."""
    a, e = actual.dataset, expected.dataset
    assert sorted(map(str, a.variables)) == sorted(map(str, e.variables))
    for name, var in e.variables.items():
        got = a[name]
        assert got.dims == var.dims, name
        assert got.dtype == var.dtype, name
        np.testing.assert_array_equal(got.values, var.values, err_msg=str(name))
    assert actual.equals(expected)


def listing(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` with its modification time (hidden leftovers included)."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def no_prefetch_threads() -> bool:
    return not any(t.name.startswith("promethium-prefetch") for t in threading.enumerate())


# ------------------------------------------------------------------------------------------ exactness
def test_segy_2d_to_zarr_equals_read(files: dict[str, Path], stores: dict[str, Any]) -> None:
    result = stores["line_result"]
    assert result.streamed
    assert (result.layout, result.traces) == ("2d", N_2D)
    assert (result.input_format, result.output_format) == ("segy", "zarr")
    assert (result.source, result.target) == (str(files["line"]), str(stores["line"]))
    assert result.bytes_read == files["line"].stat().st_size
    assert result.seconds > 0
    assert result.bytes_per_second > 0
    assert stores["line_calls"] == [(16384, N_2D), (32768, N_2D), (N_2D, N_2D)]
    assert_same_variables(pio.read(stores["line"]), pio.read(files["line"]))
    assert no_prefetch_threads()


def test_segy_3d_with_holes_to_zarr_equals_read(files: dict[str, Path], stores: dict[str, Any]) -> None:
    result = stores["cube_result"]
    total = N_IL * N_XL
    assert (result.layout, result.traces, result.streamed) == ("3d", total, True)
    assert (result.input_format, result.output_format) == ("segy", "zarr")
    assert stores["cube_calls"] == [(64 * N_XL, total), (128 * N_XL, total), (total, total)]
    expected = pio.read(files["cube"])
    converted = pio.read(stores["cube"])
    assert expected.is_3d
    n_missing = json.loads(files["cube_info"].read_text())["n_missing"]
    assert n_missing > 0
    assert int((converted["trace_index"].values < 0).sum()) == n_missing
    assert_same_variables(converted, expected)
    assert converted.attrs["geometry"] == expected.attrs["geometry"]


def test_stored_volume_to_zarr(stores: dict[str, Any], tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    copy = tmp_path / "copy.zarr"
    result = pio.convert(stores["cube"], copy, chunk_bytes=SMALL, progress=_log(calls))
    assert (result.layout, result.streamed, result.input_format) == ("3d", True, "zarr")
    assert result.bytes_read == sum(p.stat().st_size for p in stores["cube"].rglob("*") if p.is_file())
    assert [d for d, _ in calls] == [64 * N_XL, 128 * N_XL, N_IL * N_XL]
    assert_same_variables(pio.read(copy), pio.read(stores["cube"]))


def test_bad_targets(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="the output is the input"):
        pio.convert(files["line"], files["line"], "segy", overwrite=True)
    with pytest.raises(UnsupportedFormatError, match="extension"):
        pio.convert(files["line"], tmp_path / "x.unknown")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ overwrite
def test_overwrite_is_refused_and_leaves_the_target_untouched(
    files: dict[str, Path], stores: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "cube.zarr"
    shutil.copytree(stores["cube"], store)
    before = listing(tmp_path)
    with pytest.raises(OutputExistsError, match="already exists"):
        pio.convert(files["line"], store)
    assert listing(tmp_path) == before

    plain = tmp_path / "precious.sgy"
    plain.write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        pio.convert(store, plain)
    assert plain.read_bytes() == b"precious"

    # Replaced when asked; outputs other than Zarr are written whole (atomically).
    calls: list[tuple[int, int]] = []
    result = pio.convert(store, plain, overwrite=True, progress=_log(calls))
    assert (result.output_format, result.streamed, result.layout) == ("segy", False, "3d")
    assert calls == [(0, N_IL * N_XL), (N_IL * N_XL, N_IL * N_XL)]
    assert pio.read(plain).equals(pio.read(files["cube"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.zarr", "precious.sgy"]


# ------------------------------------------------------------------------------------------- failures
def _fail_on_third_chunk(monkeypatch: pytest.MonkeyPatch, bad_traces: np.ndarray) -> list[int]:
    """Make SegyFile.read raise when asked for any of ``bad_traces`` (those of the third chunk);
    returns the log of the trace counts read."""
    original = SegyFile.read
    bad = set(bad_traces.tolist())
    log: list[int] = []

    def read(self: SegyFile, traces: Any = None, **kw: Any) -> SeismicData:
        ids = np.arange(self.n_traces)[traces] if isinstance(traces, slice) else np.asarray(traces)
        log.append(int(ids.size))
        if bad.intersection(ids.tolist()):
            raise RuntimeError("disk on fire")
        return original(self, traces, **kw)

    monkeypatch.setattr(SegyFile, "read", read)
    return log


@pytest.mark.parametrize("which", ["line", "cube"])
def test_reader_failure_propagates_and_leaves_no_target(
    files: dict[str, Path],
    stores: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    which: str,
) -> None:
    src = files[which]
    with pio.open(src) as f:  # the traces of the third chunk
        if which == "line":
            bad = np.arange(2 * 16384, f.n_traces)
        else:
            bad = np.flatnonzero(f.headers(["inline"])["inline"] >= 100 + 128)
    log = _fail_on_third_chunk(monkeypatch, bad)
    calls: list[int] = []
    out = tmp_path / "out.zarr"
    with pytest.raises(RuntimeError, match="disk on fire"):
        pio.convert(src, out, chunk_bytes=SMALL, progress=lambda done, total: calls.append(done))
    assert len(calls) == 2  # two chunks written, then the third read failed
    assert log  # the patched reader was used
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no hidden half-written store either
    assert no_prefetch_threads()

    if which == "cube":
        return
    # Over an existing store (overwrite=True), the old store survives the failure.
    shutil.copytree(stores["line"], out)
    before = listing(tmp_path)
    with pytest.raises(RuntimeError, match="disk on fire"):
        pio.convert(src, out, chunk_bytes=SMALL, overwrite=True)
    assert listing(tmp_path) == before


def test_progress_callback_can_cancel(files: dict[str, Path], tmp_path: Path) -> None:
    class Cancelled(Exception):
        pass

    def progress(done: int, total: int) -> None:
        if done > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        pio.convert(files["cube"], tmp_path / "x.zarr", chunk_bytes=SMALL, progress=progress)
    assert list(tmp_path.iterdir()) == []
    assert no_prefetch_threads()


def test_prefetch_keeps_order_and_propagates() -> None:
    prefetched = convert_module._prefetched
    assert list(prefetched(lambda i=i: i * i for i in range(5))) == [0, 1, 4, 9, 16]
    assert list(prefetched([])) == []

    def boom() -> int:
        raise ValueError("third")

    got: list[int] = []
    results = prefetched([lambda: 1, lambda: 2, boom, lambda: 4])
    got.append(next(results))
    got.append(next(results))
    with pytest.raises(ValueError, match="third"):
        next(results)
    assert got == [1, 2]
    assert no_prefetch_threads()


# -------------------------------------------------------------------------------------------- describe
def test_describe_a_segy_file_and_its_store(files: dict[str, Path], stores: dict[str, Any]) -> None:
    expected = json.loads(files["cube_info"].read_text())
    calls: list[tuple[int, int]] = []
    info = pio.describe(files["cube"], progress=_log(calls))
    json.dumps(info)  # JSON-ready as it is
    assert info["format"] == "segy"
    assert info["traces"] == N_IL * N_XL - expected["n_missing"]
    assert (info["samples"], info["sample_interval"], info["sample_unit"]) == (N_T, 4.0, "ms")
    assert info["length"] == (N_T - 1) * 4.0
    assert info["geometry"]["kind"] == "3d"
    assert info["geometry"]["grid_shape"] == [N_IL, N_XL]
    assert info["mask"] == {
        "live": expected["n_live"],
        "dead": expected["n_dead"],
        "masked": 0,
        "holes": expected["n_missing"],
    }
    assert info["headers"]["inline"] == {"min": 100, "max": 100 + N_IL - 1}
    assert info["amplitude"]["rms"] > 0
    assert calls[-1] == (info["traces"], info["traces"])

    stored = pio.describe(stores["cube"], "zarr")
    assert stored["format"] == "zarr"
    assert stored["mask"] == info["mask"]
    assert stored["geometry"]["grid_shape"] == [N_IL, N_XL]
    assert stored["headers"]["inline"] == info["headers"]["inline"]
