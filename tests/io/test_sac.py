"""SAC reading and writing (binary and alphanumeric), checked against ObsPy on real files and on
generated data."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import promethium.io as pio
from promethium.core.errors import FormatError, PromethiumError, PromethiumWarning
from promethium.io.data import SeismicData
from promethium.io.sac import (
    FLOAT_FIELDS,
    FOOTER_FIELDS,
    INT_FIELDS,
    STRING_FIELDS,
    SacAlphaPlugin,
    SacPlugin,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SAC = SHARED / "sac"
MSEED = SHARED / "mseed"
SEGY = SHARED / "segy"
ALPHA = "obspy_testxy_alphanumeric.sac"
MALFORMED_OFFSETS = {"obspy_seism-longer_MALFORMED.sac": 4624, "obspy_seism-shorter_MALFORMED.sac": 4624}
# Files whose header strings carry bytes after a NUL, which are not written back.
ODD_STRINGS = {"obspy_non_ascii_header.sac", "obspy_null_terminated.sac"}


def _shared_files(folder: Path, keep: Any) -> list[Any]:
    """Parameters for the files of a shared folder, or one skipped parameter when it is absent."""
    if not folder.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{folder} absent"))]
    return [pytest.param(p, id=p.name) for p in sorted(folder.iterdir()) if p.is_file() and keep(p)]


BINARY = _shared_files(SAC, lambda p: "_MALFORMED" not in p.name and p.name != ALPHA)
VALID = _shared_files(SAC, lambda p: "_MALFORMED" not in p.name)
MALFORMED = _shared_files(SAC, lambda p: "_MALFORMED" in p.name)
OTHER_FORMATS = _shared_files(SEGY, lambda p: True) + _shared_files(MSEED, lambda p: True)


def _read(path: Path | str, **options: Any) -> SeismicData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PromethiumWarning)
        return pio.read(path, **options)


def _obspy_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from obspy.io.sac import arrayio

    if path.name == ALPHA:
        return arrayio.read_sac_ascii(str(path))
    return arrayio.read_sac(str(path), checksize=True)


def _expected_string(raw: bytes) -> str:
    """What the reader should make of a raw header string: cut at NUL, Latin-1, no trailing blanks."""
    return raw.split(b"\x00", 1)[0].decode("latin-1").rstrip(" ")


def _same_headers(a: SeismicData, b: SeismicData, *, skip: tuple[str, ...] = ()) -> None:
    assert sorted(a.header_names) == sorted(b.header_names)
    for name in a.header_names:
        if name in skip:
            continue
        x, y = a.header(name), b.header(name)
        assert x.dtype == y.dtype, name
        if x.dtype.kind == "M":  # NaT is a value here, not a mismatch
            assert np.array_equal(np.isnat(x), np.isnat(y)), name
            assert np.array_equal(x[~np.isnat(x)], y[~np.isnat(y)]), name
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)


# ------------------------------------------------------------------------------------------ detection
@pytest.mark.shared
@pytest.mark.parametrize("path", VALID + MALFORMED)
def test_detection(path: Path) -> None:
    assert pio.detect_format(path) == ("sacxy" if path.name == ALPHA else "sac")


@pytest.mark.shared
@pytest.mark.parametrize("path", OTHER_FORMATS)
def test_sniffers_reject_other_formats(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(4096)
    size = path.stat().st_size
    assert not SacPlugin().sniff(head, size)
    assert not SacAlphaPlugin().sniff(head, size)


def test_importing_io_does_not_import_obspy_or_pymseed() -> None:
    import subprocess
    import sys

    code = (
        "import sys, promethium.io, promethium.io.sac, promethium.io.miniseed; "
        "print(sorted(m for m in ('obspy', 'pymseed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("fmt", ["sac", "sacxy", "mseed"])
def test_empty_file_is_a_format_error(fmt: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(FormatError) as exc:
        pio.read(empty, format=fmt)
    assert exc.value.path == str(empty)


def test_sniff_needs_a_header() -> None:
    assert not SacPlugin().sniff(b"\x00" * 100, 100)
    assert not SacPlugin().sniff(b"\x00" * 632, 632)  # nvhdr 0
    assert not SacAlphaPlugin().sniff(b"1.0 2.0\n" * 40, 320)


# ------------------------------------------------------------------------------------------ reading
@pytest.mark.shared
@pytest.mark.parametrize("path", VALID)
def test_read_matches_obspy(path: Path) -> None:
    import obspy

    data = _read(path)
    hf, hi, hs, samples = _obspy_arrays(path)
    assert data.shape == (1, hi[INT_FIELDS.index("npts")])
    np.testing.assert_array_equal(data.values[0], samples)
    for i, name in enumerate(FLOAT_FIELDS):
        assert np.float32(data.header(name)[0]) == hf[i], name
    for i, name in enumerate(INT_FIELDS):
        assert data.header(name)[0] == hi[i], name
    # ObsPy's string arrays drop trailing NULs, so the raw header bytes are the reference.
    raw = b"".join(bytes(x).ljust(8) for x in hs) if path.name == ALPHA else path.read_bytes()[440:632]
    pos = 0
    for name in STRING_FIELDS:
        width = 16 if name == "kevnm" else 8
        assert data.header(name)[0] == _expected_string(raw[pos : pos + width]), name
        pos += width
    assert data.sample_interval == pytest.approx(float(hf[0]) * 1000.0)
    assert data.attrs["source_format"] == ("sacxy" if path.name == ALPHA else "sac")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = obspy.read(str(path), format="SACXY" if path.name == ALPHA else "SAC")[0].stats
    assert data.header("network")[0] == stats.network
    assert data.header("station")[0] == stats.station
    assert data.header("location")[0] == stats.location
    assert data.header("channel")[0] == stats.channel
    start = data.header("start_time")[0]
    if hi[0] == -12345:
        assert np.isnat(start)  # no reference time: ObsPy falls back to 1970 + b, we say "unknown"
    else:
        assert abs(int(start.astype(np.int64)) - stats.starttime.ns) <= 1000  # float32 b: within 1 us


@pytest.mark.shared
def test_byte_order_and_odd_headers() -> None:
    if not SAC.is_dir():
        pytest.skip(f"{SAC} absent")
    little = _read(SAC / "obspy_test.sac")
    big = _read(SAC / "obspy_test_swapped.sac")
    assert little.attrs["format_info"] == {"variant": "binary", "byte_order": "little", "nvhdr": 6}
    assert big.attrs["format_info"]["byte_order"] == "big"
    np.testing.assert_array_equal(little.values, big.values)
    _same_headers(little, big, skip=("depmen",))  # the two files differ in depmen, nothing else

    with pytest.warns(PromethiumWarning, match="NUL-terminated"):
        nulls = pio.read(SAC / "obspy_null_terminated.sac")
    assert nulls.header("knetwk")[0] == "GD"
    assert nulls.header("source_id")[0] == "FDSN:GD_PIN1__L_Y_E"
    with pytest.warns(PromethiumWarning, match="kstnm"):
        empty = pio.read(SAC / "obspy_non_ascii_header.sac")
    assert empty.shape == (1, 0)  # npts = 0 is a valid, empty trace
    assert empty.header("n_valid")[0] == 0
    assert empty.header("kstnm")[0] == "ALS"


@pytest.mark.shared
@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_files_raise(path: Path) -> None:
    with pytest.raises(FormatError) as exc:
        pio.read(path)
    assert exc.value.path == str(path)
    assert exc.value.offset == MALFORMED_OFFSETS[path.name]
    assert "8 bytes" in str(exc.value)


def _minimal_header(order: str = "<", **ints: int) -> bytearray:
    hf = np.full(70, -12345.0, dtype=order + "f4")
    hf[0] = 0.01
    hi = np.full(40, -12345, dtype=order + "i4")
    values = {"nvhdr": 6, "npts": 0, "iftype": 1, "leven": 1, **ints}
    for name, value in values.items():
        hi[INT_FIELDS.index(name)] = value
    return bytearray(hf.tobytes() + hi.tobytes() + b"-12345  " * 24)


def test_bad_headers_raise(tmp_path: Path) -> None:
    plugin = SacPlugin()
    bad_version = tmp_path / "v9.sac"
    bad_version.write_bytes(bytes(_minimal_header(nvhdr=9)))
    with pytest.raises(FormatError, match="nvhdr") as exc:
        pio.read(bad_version, format="sac")
    assert exc.value.offset == 304
    assert not plugin.sniff(bad_version.read_bytes(), 632)

    short = tmp_path / "short.sac"
    short.write_bytes(bytes(_minimal_header())[:500])
    with pytest.raises(FormatError, match="shorter than"):
        pio.read(short, format="sac")

    spectral = tmp_path / "spectrum.sac"
    spectral.write_bytes(bytes(_minimal_header(npts=2, iftype=3)) + b"\x00" * 16)
    with pytest.raises(FormatError, match="spectra"):
        pio.read(spectral)


# ------------------------------------------------------------------------------------------ writing
@pytest.mark.shared
@pytest.mark.parametrize("path", VALID)
def test_round_trip_real_files(path: Path, tmp_path: Path) -> None:
    data = _read(path)
    for byteorder in ("little", "big"):
        out = tmp_path / f"{byteorder}.sac"
        pio.write(data, out, byteorder=byteorder)
        back = _read(out)
        assert back.attrs["format_info"]["byte_order"] == byteorder
        np.testing.assert_array_equal(back.values, data.values)
        _same_headers(data, back)
    v7 = tmp_path / "v7.sac"
    pio.write(data, v7, version=7)
    back7 = _read(v7)
    assert back7.header("nvhdr")[0] == 7
    np.testing.assert_array_equal(back7.values, data.values)
    _same_headers(data, back7, skip=("nvhdr",))

    alpha = tmp_path / "alpha.txt"
    pio.write(data, alpha, format="sacxy")
    assert pio.detect_format(alpha) == "sacxy"
    text = _read(alpha)
    np.testing.assert_allclose(text.values, data.values, rtol=1e-6)  # 7 significant digits
    for name in INT_FIELDS + STRING_FIELDS + ("source_id",):
        assert text.header(name)[0] == data.header(name)[0], name
    for name in FLOAT_FIELDS:
        np.testing.assert_allclose(text.header(name), data.header(name), rtol=1e-6, err_msg=name)


@pytest.mark.shared
@pytest.mark.parametrize("path", BINARY)
def test_rewrite_is_byte_identical(path: Path, tmp_path: Path) -> None:
    data = _read(path)
    out = tmp_path / "copy.sac"
    pio.write(data, out, byteorder=data.attrs["format_info"]["byte_order"])
    original, written = path.read_bytes(), out.read_bytes()
    assert len(written) == len(original)
    if path.name in ODD_STRINGS:
        # Only the header string bytes after a NUL terminator differ.
        diff = np.nonzero(np.frombuffer(original, np.uint8) != np.frombuffer(written, np.uint8))[0]
        assert diff.size > 0
        assert diff.min() >= 440
        assert diff.max() < 632
    else:
        assert written == original


@pytest.mark.shared
def test_version_7_keeps_double_precision(tmp_path: Path) -> None:
    path = SAC / "obspy_test.sac"
    if not path.exists():
        pytest.skip(f"{path} absent")
    ds = _read(path).to_xarray()
    ds["hdr_b"] = ("trace", np.array([10.000000123456789]))
    ds["hdr_stla"] = ("trace", np.array([45.123456789012]))
    data = SeismicData(ds)
    pio.write(data, tmp_path / "v7.sac", version=7)
    pio.write(data, tmp_path / "v6.sac", version=6)
    v7, v6 = _read(tmp_path / "v7.sac"), _read(tmp_path / "v6.sac")
    assert v7.header("b")[0] == 10.000000123456789
    assert v7.header("stla")[0] == 45.123456789012
    assert v6.header("b")[0] == float(np.float32(10.000000123456789))
    assert (tmp_path / "v7.sac").stat().st_size == 632 + 4 * 100 + 8 * len(FOOTER_FIELDS)
    assert str(v7.header("start_time")[0]) == "1978-07-18T08:00:10.000000123"


@pytest.mark.shared
def test_miniseed_trace_to_sac(tmp_path: Path) -> None:
    path = MSEED / "obspy_two_channels.mseed"
    if not path.exists():
        pytest.skip(f"{path} absent")
    data = _read(path).isel(trace=[1])
    out = tmp_path / "uh3.sac"
    pio.write(data, out)
    back = _read(out)
    for name in ("source_id", "network", "station", "location", "channel", "start_time", "n_valid"):
        np.testing.assert_array_equal(back.header(name), data.header(name), err_msg=name)
    np.testing.assert_array_equal(back.values, data.values)
    assert back.header("depmax")[0] == data.values.max()  # statistics computed for non-SAC data
    assert back.header("iztype")[0] == 9


def test_one_trace_per_file(tmp_path: Path) -> None:
    data = SeismicData.from_array(np.zeros((2, 5)), sample_interval=10.0)
    with pytest.raises(PromethiumError, match="one trace per file"):
        pio.write(data, tmp_path / "two.sac")
    assert not (tmp_path / "two.sac").exists()


def test_processed_data_gets_new_statistics(tmp_path: Path) -> None:
    values = np.array([[1.0, -2.0, 4.0]], dtype=np.float32)
    data = SeismicData.from_array(values, sample_interval=10.0)
    pio.write(data, tmp_path / "a.sac")
    first = _read(tmp_path / "a.sac")
    assert (first.header("depmin")[0], first.header("depmax")[0]) == (-2.0, 4.0)
    scaled = first.replace(first.values * 2, operation="scale", parameters={"factor": 2})
    pio.write(scaled, tmp_path / "b.sac")
    second = _read(tmp_path / "b.sac")
    assert (second.header("depmin")[0], second.header("depmax")[0]) == (-4.0, 8.0)
    assert second.header("depmen")[0] == pytest.approx(2.0)


# ------------------------------------------------------------------------------------------ properties
_PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_FINITE32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@st.composite
def _traces(draw: st.DrawFn) -> SeismicData:
    n = draw(st.integers(0, 400))
    values = draw(hnp.arrays(np.float32, n, elements=st.floats(width=32, allow_nan=True)))
    delta = draw(st.sampled_from([0.001, 0.01, 0.025, 0.05, 1.0]))
    start = np.datetime64("2000-01-01", "ns") + np.timedelta64(draw(st.integers(0, 10**18)), "ns")
    headers = {
        "network": np.array([draw(st.sampled_from(["", "XX", "IU"]))]),
        "station": np.array([draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=5))]),
        "location": np.array([draw(st.sampled_from(["", "00", "10"]))]),
        "channel": np.array([draw(st.sampled_from(["BHZ", "HHE", "LH1"]))]),
        "start_time": np.array([start]),
        "stla": np.array([draw(_FINITE32)], dtype=np.float64),
        "user0": np.array([draw(_FINITE32)], dtype=np.float32),
    }
    return SeismicData.from_array(values.reshape(1, -1), sample_interval=delta * 1000.0, headers=headers)


@_PROPERTY
@given(data=_traces(), byteorder=st.sampled_from(["little", "big"]), version=st.sampled_from([6, 7]))
def test_round_trip_generated(data: SeismicData, byteorder: str, version: int, tmp_path: Path) -> None:
    out = tmp_path / "prop.sac"
    pio.write(data, out, byteorder=byteorder, version=version)
    back = pio.read(out)
    assert back.attrs["format_info"] == {"variant": "binary", "byte_order": byteorder, "nvhdr": version}
    np.testing.assert_array_equal(back.values, data.values)
    for name in ("network", "station", "location", "channel", "stla", "user0"):
        np.testing.assert_array_equal(back.header(name), data.header(name), err_msg=name)
    # Without a reference time the writer makes one at the whole millisecond and keeps the rest in b:
    # float64 in version 7 (ns-exact here), float32 in version 6.
    error = abs(
        int(back.header("start_time")[0].astype(np.int64))
        - int(data.header("start_time")[0].astype(np.int64))
    )
    assert error <= (1 if version == 7 else 100)
    again = tmp_path / "again.sac"
    pio.write(back, again, byteorder=byteorder, version=version)
    assert again.read_bytes() == out.read_bytes()  # a read SAC file is written back unchanged


@pytest.mark.parametrize("b", [float("inf"), float("nan"), 1e30])
def test_unusable_begin_time_is_a_format_error(b: float, tmp_path: Path) -> None:
    src = SHARED / "sac" / "obspy_LMOW.BHE.SAC"
    if not src.is_file():
        pytest.skip(f"{src} absent")
    raw = bytearray(src.read_bytes())
    raw[20:24] = np.array([b], dtype="<f4").tobytes()
    bad = tmp_path / "b.sac"
    bad.write_bytes(bytes(raw))
    with pytest.raises(FormatError, match="begin time") as info:
        pio.read(bad)
    assert info.value.offset == 20
