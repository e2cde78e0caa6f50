"""miniSEED reading and writing, checked against ObsPy and pymseed on real files and on generated data."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import promethium.io as pio
from promethium.core.errors import FormatError, PromethiumError, PromethiumWarning, UnsupportedFormatError
from promethium.io.data import SeismicData
from promethium.io.miniseed import MiniSeedPlugin, read_text

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MSEED = SHARED / "mseed"
SEGY = SHARED / "segy"
INVALID_MARKS = ("_MALFORMED", "_NOT-MSEED")
TEXT_ONLY = {"obspy_fullASCII_bigEndian.mseed", "libmseed_reference-testdata-text.mseed3"}
# Where each invalid file goes wrong: the offset of the first bad record.
BAD_OFFSETS = {
    "obspy_brokenlastrecord_MALFORMED.mseed": 4096,
    "obspy_infinite-loop_MALFORMED.mseed": 1024,
    "libmseed_testdata-invalid-blockette-offsets_MALFORMED.mseed2": 0,
    "obspy_not_NOT-MSEED.mseed": 0,
}


def _shared_files(folder: Path, keep: Any) -> list[Any]:
    """Parameters for the files of a shared folder, or one skipped parameter when it is absent."""
    if not folder.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{folder} absent"))]
    return [pytest.param(p, id=p.name) for p in sorted(folder.iterdir()) if p.is_file() and keep(p)]


def _invalid(p: Path) -> bool:
    return any(mark in p.name for mark in INVALID_MARKS)


VALID = _shared_files(MSEED, lambda p: not _invalid(p))
AMPLITUDE = _shared_files(MSEED, lambda p: not _invalid(p) and p.name not in TEXT_ONLY)
MSEED2_AMPLITUDE = _shared_files(
    MSEED, lambda p: not _invalid(p) and p.name not in TEXT_ONLY and not p.name.endswith(".mseed3")
)
INVALID = _shared_files(MSEED, _invalid)
SEGY_FILES = _shared_files(SEGY, lambda p: True)


def _read(path: Path | str, **options: Any) -> SeismicData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PromethiumWarning)
        return pio.read(path, **options)


def _obspy_stream(path: Path) -> Any:
    import obspy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream = obspy.read(str(path), format="MSEED")
    # ObsPy keeps records that arrive out of order as separate traces; join exactly contiguous ones
    # (and nothing else) as libmseed does.
    stream.merge(method=-1)
    return sorted(stream, key=lambda tr: (tr.id, tr.stats.starttime.ns))


def _pymseed_segments(path: Path) -> list[dict[str, Any]]:
    import pymseed

    out = []
    with pymseed.MS3TraceList.from_buffer(path.read_bytes(), unpack_data=True) as tl:
        for tid in tl:
            for seg in tid:
                if seg.sampletype == "t":
                    continue
                out.append(
                    {
                        "sid": tid.sourceid,
                        "pub": tid.pubversion,
                        "start": seg.starttime,
                        "rate": seg.samprate,
                        "data": np.array(seg.np_datasamples, dtype=np.float64),
                    }
                )
    return out


def _rows(data: SeismicData) -> Iterator[tuple[int, np.ndarray]]:
    n_valid = data.header("n_valid")
    for i in range(data.n_traces):
        yield i, data.values[i, : n_valid[i]]


# ------------------------------------------------------------------------------------------ detection
@pytest.mark.shared
@pytest.mark.parametrize("path", VALID)
def test_detects_valid_files_as_mseed(path: Path) -> None:
    assert pio.detect_format(path) == "mseed"


@pytest.mark.shared
@pytest.mark.parametrize("path", SEGY_FILES)
def test_sniff_rejects_segy(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(4096)
    assert not MiniSeedPlugin().sniff(head, path.stat().st_size)


def test_sniff_is_a_content_check() -> None:
    plugin = MiniSeedPlugin()
    assert not plugin.sniff(b"", 0)
    assert not plugin.sniff(b"000001V " + b" " * 100, 108)  # SEED volume control header
    assert not plugin.sniff(b"MS\x03" + b"\x00" * 37, 40)  # miniSEED 3 magic with an impossible time
    assert not plugin.sniff(b"\x00" * 4096, 4096)


# ------------------------------------------------------------------------------------------ reading
@pytest.mark.shared
@pytest.mark.parametrize("path", MSEED2_AMPLITUDE)
def test_read_matches_obspy(path: Path) -> None:
    data = _read(path, dtype="float64")
    traces = _obspy_stream(path)
    assert data.n_traces == len(traces)
    assert data.dims == ("trace", "time")
    for i, tr in enumerate(traces):
        net, sta, loc, cha = tr.id.split(".")
        assert data.header("network")[i] == net
        assert data.header("station")[i] == sta
        assert data.header("location")[i] == loc
        assert data.header("channel")[i] == cha
        assert (
            int(data.header("start_time")[i].astype("datetime64[ns]").astype(np.int64))
            == tr.stats.starttime.ns
        )
        assert data.header("n_valid")[i] == tr.stats.npts
        assert data.header("sample_rate")[i] == pytest.approx(tr.stats.sampling_rate, rel=1e-9)
        row = data.values[i]
        np.testing.assert_array_equal(row[: tr.stats.npts], tr.data.astype(np.float64))
        assert not np.any(row[tr.stats.npts :])  # padding is zero
    assert data.sample_interval == pytest.approx(1000.0 / traces[0].stats.sampling_rate)
    np.testing.assert_allclose(data.samples[:3], np.arange(3) * data.sample_interval)


@pytest.mark.shared
@pytest.mark.parametrize("path", AMPLITUDE)
def test_read_matches_pymseed(path: Path) -> None:
    data = _read(path, dtype="float64")
    segments = _pymseed_segments(path)
    assert data.n_traces == len(segments)
    for (i, row), seg in zip(_rows(data), segments, strict=True):
        assert data.header("source_id")[i] == seg["sid"]
        assert data.header("publication_version")[i] == seg["pub"]
        assert int(data.header("start_time")[i].astype(np.int64)) == seg["start"]
        assert data.header("sample_rate")[i] == seg["rate"]
        np.testing.assert_array_equal(row, seg["data"])
    # float32 (the default) is the float64 reading rounded once.
    data32 = _read(path)
    assert data32.values.dtype == np.float32
    np.testing.assert_array_equal(data32.values, data.values.astype(np.float32))


@pytest.mark.shared
def test_format_info_and_gaps() -> None:
    if not MSEED.is_dir():
        pytest.skip(f"{MSEED} absent")
    mixed = _read(MSEED / "libmseed_testdata-oneseries-mixedlengths-mixedorder.mseed2")
    assert mixed.attrs["format_info"]["record_lengths"] == [128, 256, 512, 1024, 2048, 4096, 8192]
    endian = _read(MSEED / "obspy_endiantest.le-header.be-data.mseed")
    assert endian.attrs["format_info"]["header_byte_order"] == ["little"]
    assert endian.attrs["format_info"]["data_byte_order"] == ["big"]
    v3 = _read(MSEED / "libmseed_testdata-3channel-signal.mseed3")
    assert v3.attrs["format_info"]["versions"] == [3]
    assert v3.attrs["format_info"]["encodings"] == {"steim2": 107}

    gaps = _read(MSEED / "obspy_gaps.mseed")
    assert gaps.n_traces == 4  # one row per segment, nothing merged
    import obspy

    expected = obspy.read(str(MSEED / "obspy_gaps.mseed")).get_gaps()
    assert len(gaps.attrs["gaps"]) == len(expected) == 3
    for mine, theirs in zip(gaps.attrs["gaps"], expected, strict=True):
        # Both count from the sample that should have followed the previous segment.
        assert mine["gap_s"] == pytest.approx(theirs[6], abs=1e-6)
        assert mine["missing_samples"] == theirs[7]
        assert mine["source_id"] == "FDSN:BW_BGLD__E_H_E"


@pytest.mark.shared
def test_nanosecond_start_times_are_kept() -> None:
    if not MSEED.is_dir():
        pytest.skip(f"{MSEED} absent")
    data = _read(MSEED / "libmseed_reference-testdata-nsec.mseed3")
    assert str(data.header("start_time")[0]) == "2012-05-12T00:00:00.123456789"


@pytest.mark.shared
@pytest.mark.parametrize("path", INVALID)
def test_invalid_files_raise_format_error(path: Path) -> None:
    with pytest.raises(FormatError) as auto:
        pio.read(path)
    assert str(path) in str(auto.value)
    with pytest.raises(FormatError) as forced:
        pio.read(path, format="mseed")
    assert forced.value.path == str(path)
    assert forced.value.offset == BAD_OFFSETS[path.name]
    assert f"byte {BAD_OFFSETS[path.name]}" in str(forced.value)


@pytest.mark.shared
def test_not_mseed_is_not_detected() -> None:
    path = MSEED / "obspy_not_NOT-MSEED.mseed"
    if not path.exists():
        pytest.skip(f"{path} absent")
    with pytest.raises(UnsupportedFormatError):
        pio.detect_format(path)


@pytest.mark.shared
def test_trailing_byte_warns_and_reads_complete_records() -> None:
    path = MSEED / "obspy_corrupt_one_extra_byte_at_end_TRAILING-BYTE.mseed"
    if not path.exists():
        pytest.skip(f"{path} absent")
    with pytest.warns(PromethiumWarning, match="ignored 1 bytes at byte 512"):
        data = pio.read(path)
    assert data.shape == (1, 412)
    assert any("ignored 1 bytes" in w for w in data.attrs["warnings"])


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(TEXT_ONLY))
def test_text_only_files(name: str) -> None:
    path = MSEED / name
    if not path.exists():
        pytest.skip(f"{path} absent")
    with pytest.raises(PromethiumError, match="only text"):
        pio.read(path)
    import pymseed

    (entry,) = read_text(str(path))
    with pymseed.MS3TraceList.from_buffer(path.read_bytes(), unpack_data=True) as tl:
        seg = tl[0][0]
        expected = np.asarray(seg.np_datasamples).tobytes().decode()
        assert entry["source_id"] == tl[0].sourceid
    assert entry["text"] == expected
    if name.endswith(".mseed"):
        (trace,) = _obspy_stream(path)
        assert entry["text"] == trace.data.tobytes().decode()


# ------------------------------------------------------------------------------------------ round trips
def _same(a: SeismicData, b: SeismicData, *, start_us: bool = False, encoding: bool = True) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.values, b.values)
    for name in ("source_id", "n_valid", "sample_rate", "publication_version"):
        np.testing.assert_array_equal(a.header(name), b.header(name), err_msg=name)
    if encoding:
        np.testing.assert_array_equal(a.header("encoding"), b.header("encoding"))
    ta = a.header("start_time").astype(np.int64)
    tb = b.header("start_time").astype(np.int64)
    if start_us:  # miniSEED 2 keeps microseconds
        ta = (ta + 500) // 1000 * 1000
    np.testing.assert_array_equal(ta, tb)


def _fits_v2(data: SeismicData) -> bool:
    return all(
        0 < len(s) <= 5 and 0 < len(c) <= 3
        for s, c in zip(data.header("station"), data.header("channel"), strict=True)
    )


@pytest.mark.shared
@pytest.mark.parametrize("path", AMPLITUDE)
def test_round_trip_real_files(path: Path, tmp_path: Path) -> None:
    data = _read(path, dtype="float64")
    keeps_encoding = bool(np.all(np.isin(data.header("encoding"), [1, 3, 4, 5, 10, 11])))
    for version in (2, 3):
        if version == 2 and not _fits_v2(data):
            with pytest.raises(PromethiumError, match="version=3"):
                pio.write(data, tmp_path / "v2.mseed", version=2)
            continue
        out = tmp_path / f"v{version}.mseed"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromethiumWarning)
            pio.write(data, out, version=version)
        back = _read(out, dtype="float64")
        assert back.attrs["format_info"]["versions"] == [version]
        _same(data, back, start_us=version == 2, encoding=keeps_encoding)


@pytest.mark.shared
def test_read_from_url() -> None:
    """The reader works from the byte source, so an fsspec URL reads like a local file."""
    path = MSEED / "obspy_two_channels.mseed"
    if not path.exists():
        pytest.skip(f"{path} absent")
    import fsspec

    url = "memory://promethium-test/two_channels.mseed"
    with fsspec.open(url, "wb") as fh:
        fh.write(path.read_bytes())
    try:
        assert pio.detect_format(url) == "mseed"
        _same(_read(path), _read(url))
    finally:
        fsspec.filesystem("memory").rm("promethium-test", recursive=True)


def _bytes_of(traces: list[tuple[str, np.ndarray, float]], encoding: int = 11, version: int = 2) -> bytes:
    import pymseed

    with pymseed.MS3TraceList() as tl:
        for sid, values, rate in traces:
            tl.add_data(sid, values, "i", rate, starttime=1_262_304_000_000_000_000)
        return b"".join(tl.generate(max_record_length=512, encoding=encoding, format_version=version))


def test_mixed_sample_rates_need_select(tmp_path: Path) -> None:
    ramp = np.arange(600, dtype=np.int32)
    path = tmp_path / "mixed.mseed"
    path.write_bytes(
        _bytes_of([("FDSN:XX_AAA_00_B_H_Z", ramp, 40.0), ("FDSN:XX_AAA_00_L_H_Z", ramp[:100], 1.0)])
    )
    with pytest.raises(PromethiumError, match="select=") as exc:
        pio.read(path)
    assert "FDSN:XX_AAA_00_B_H_Z: 40 Hz" in str(exc.value)
    assert "FDSN:XX_AAA_00_L_H_Z: 1 Hz" in str(exc.value)
    bh = pio.read(path, select="FDSN:XX_AAA_00_B_H_?")
    assert bh.shape == (1, 600)
    assert bh.sample_interval == 25.0
    lh = pio.read(path, select="XX_AAA_00_L_*")  # FDSN: prefix may be left out
    np.testing.assert_array_equal(lh.values[0], ramp[:100])
    with pytest.raises(PromethiumError, match="matches none"):
        pio.read(path, select="FDSN:YY_*")


def test_trailing_partial_record_and_garbage(tmp_path: Path) -> None:
    good = _bytes_of([("FDSN:XX_AAA_00_B_H_Z", np.arange(2000, dtype=np.int32), 40.0)])
    n_records = len(good) // 512
    cut = tmp_path / "cut.mseed"
    cut.write_bytes(good[:-200])  # last record cut short
    with pytest.warns(PromethiumWarning, match="cut off"):
        data = pio.read(cut)
    assert len(data.attrs["warnings"]) == 1
    assert data.attrs["format_info"]["records"] == n_records - 1
    np.testing.assert_array_equal(data.values[0], np.arange(data.shape[1]))

    garbage = tmp_path / "garbage.mseed"
    garbage.write_bytes(good[:1024] + b"\xff" * 512 + good[1024:])
    with pytest.raises(FormatError) as exc:
        pio.read(garbage)
    assert exc.value.offset == 1024


def test_damaged_miniseed3_record_is_located(tmp_path: Path) -> None:
    import struct

    good = _bytes_of([("FDSN:XX_AAA_00_B_H_Z", np.arange(2000, dtype=np.int32), 40.0)], version=3)
    sidlen, extralen, datalen = struct.unpack_from("<BHI", good, 33)
    second = 40 + sidlen + extralen + datalen
    assert _read_bytes(good, tmp_path).shape == (1, 2000)

    bad_magic = bytearray(good)
    bad_magic[second : second + 2] = b"XX"
    with pytest.raises(FormatError) as exc:
        _read_bytes(bytes(bad_magic), tmp_path)
    assert exc.value.offset == second

    bad_crc = bytearray(good)
    bad_crc[second + 100] ^= 0xFF  # a sample byte: the record's CRC no longer matches
    with pytest.raises(FormatError, match="CRC") as exc:
        _read_bytes(bytes(bad_crc), tmp_path)
    assert exc.value.offset == second


def _read_bytes(content: bytes, tmp_path: Path) -> SeismicData:
    path = tmp_path / "content.mseed"
    path.write_bytes(content)
    return pio.read(path)


def test_text_channel_next_to_data(tmp_path: Path) -> None:
    import pymseed

    log = "station restarted\nGPS lock regained\n"
    with pymseed.MS3TraceList() as text:
        text.add_data("FDSN:XX_AAA_00_L_O_G", log.encode(), "t", 0.0, starttime=1_262_304_000_000_000_000)
        text_records = b"".join(text.generate(encoding=pymseed.DataEncoding.TEXT, format_version=2))
    path = tmp_path / "with_log.mseed"
    path.write_bytes(
        _bytes_of([("FDSN:XX_AAA_00_B_H_Z", np.arange(300, dtype=np.int32), 40.0)]) + text_records
    )
    with pytest.warns(PromethiumWarning, match="text"):
        data = pio.read(path)
    assert data.shape == (1, 300)
    assert data.attrs["text"] == [
        {"source_id": "FDSN:XX_AAA_00_L_O_G", "start_time": "2010-01-01T00:00:00.000000000Z", "text": log}
    ]
    out = tmp_path / "back.mseed"
    pio.write(data, out)
    with pytest.warns(PromethiumWarning, match="text"):
        back = pio.read(out)
    assert back.attrs["text"] == data.attrs["text"]
    assert read_text(str(out)) == data.attrs["text"]


@pytest.mark.filterwarnings("ignore::promethium.core.errors.PromethiumWarning")
def test_write_without_headers_makes_ids(tmp_path: Path) -> None:
    values = np.arange(3 * 50, dtype=np.float32).reshape(3, 50)
    data = SeismicData.from_array(values, sample_interval=4.0)
    out = tmp_path / "synthetic.mseed"
    with pytest.warns(PromethiumWarning, match="made-up ids"):
        pio.write(data, out)
    back = pio.read(out)
    # 250 Hz is SEED band C.
    assert list(back.header("source_id")) == [f"FDSN:XX_T000{i}_00_C_H_Z" for i in range(3)]
    assert str(back.header("start_time")[0]) == "1970-01-01T00:00:00.000000000"
    assert back.header("encoding")[0] == 11  # integer values: Steim-2
    np.testing.assert_array_equal(back.values, values)


@pytest.mark.filterwarnings("ignore::promethium.core.errors.PromethiumWarning")
def test_masked_traces_are_not_written(tmp_path: Path) -> None:
    values = np.ones((3, 10), dtype=np.float32)
    data = SeismicData.from_array(values, sample_interval=10.0, trace_mask=np.array([True, False, True]))
    out = tmp_path / "masked.mseed"
    with pytest.warns(PromethiumWarning, match="masked"):
        pio.write(data, out)
    assert list(_read(out).header("station")) == ["T0000", "T0002"]


@pytest.mark.filterwarnings("ignore::promethium.core.errors.PromethiumWarning")
def test_write_refuses_what_an_encoding_cannot_hold(tmp_path: Path) -> None:
    data = SeismicData.from_array(np.array([[0.5, 1.0, 2.0]]), sample_interval=10.0, dtype=np.float64)
    with pytest.raises(PromethiumError, match="non-integer"):
        pio.write(data, tmp_path / "x.mseed", encoding="steim2")
    big = SeismicData.from_array(np.array([[0.0, 70000.0]]), sample_interval=10.0, dtype=np.float64)
    with pytest.raises(PromethiumError, match="outside"):
        pio.write(big, tmp_path / "x.mseed", encoding="int16")
    with pytest.raises(PromethiumError, match="unknown miniSEED encoding"):
        pio.write(big, tmp_path / "x.mseed", encoding="steim9")
    assert not (tmp_path / "x.mseed").exists()  # nothing half-written is left


# ------------------------------------------------------------------------------------------ properties
_ENCODING_RANGES = {
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "steim1": (-(2**30), 2**30 - 1),  # differences must fit 32 bits
    "steim2": (-(2**28), 2**28 - 1),  # differences must fit 30 bits
}
_RATES = (1.0, 20.0, 40.0, 100.0, 200.0)
_ENCODING_CODES = {"int16": 1, "int32": 3, "float32": 4, "float64": 5, "steim1": 10, "steim2": 11}


@st.composite
def _layouts(draw: st.DrawFn, encoding: str, version: int) -> tuple[SeismicData, str]:
    """Traces of one or two channels, each with one to three segments separated by gaps."""
    rate = draw(st.sampled_from(_RATES))
    dt_ns = round(1e9 / rate)
    start0 = draw(st.integers(0, 2_000_000_000)) * 1_000_000_000 + draw(st.integers(0, 999_999)) * 1000
    if version == 3:
        start0 += draw(st.integers(0, 999))
    rows: list[np.ndarray] = []
    ids: list[str] = []
    starts: list[int] = []
    for channel in range(draw(st.integers(1, 2))):
        t = start0
        for _ in range(draw(st.integers(1, 3))):
            n = draw(st.integers(1, 120))
            if encoding in _ENCODING_RANGES:
                lo, hi = _ENCODING_RANGES[encoding]
                values = draw(hnp.arrays(np.int64, n, elements=st.integers(lo, hi))).astype(np.float64)
            else:
                width = 32 if encoding == "float32" else 64
                elements = st.floats(width=width, allow_nan=True, allow_infinity=True)
                values = draw(hnp.arrays(np.float32 if width == 32 else np.float64, n, elements=elements))
                values = values.astype(np.float64)
            rows.append(values)
            ids.append(f"FDSN:XX_STA{channel}_00_B_H_Z")
            starts.append(t)
            t += (n + draw(st.integers(2, 50))) * dt_ns  # a gap of at least two samples
    width = max(r.size for r in rows)
    padded = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        padded[i, : r.size] = r
    headers = {
        "source_id": np.array(ids),
        "start_time": np.array(starts, dtype="datetime64[ns]"),
        "n_valid": np.array([r.size for r in rows], dtype=np.int64),
    }
    data = SeismicData.from_array(padded, sample_interval=1000.0 / rate, headers=headers, dtype=np.float64)
    return data, encoding


def _check_round_trip(data: SeismicData, encoding: str, version: int, tmp_path: Path) -> None:
    out = tmp_path / f"prop_{encoding}_{version}.mseed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PromethiumWarning)
        pio.write(data, out, encoding=encoding, version=version, record_length=512)
    back = _read(out, dtype="float64")
    assert back.shape == data.shape
    np.testing.assert_array_equal(back.values, data.values)
    np.testing.assert_array_equal(back.header("source_id"), data.header("source_id"))
    np.testing.assert_array_equal(back.header("start_time"), data.header("start_time"))
    np.testing.assert_array_equal(back.header("n_valid"), data.header("n_valid"))
    assert set(back.header("encoding")) == {_ENCODING_CODES[encoding]}
    assert len(back.attrs["gaps"]) == data.n_traces - len(set(data.header("source_id")))
    assert all(g["gap_s"] > 0 for g in back.attrs["gaps"])


_PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("encoding", sorted(_ENCODING_CODES))
def test_round_trip_generated(encoding: str, version: int, tmp_path: Path) -> None:
    @_PROPERTY
    @given(_layouts(encoding, version))
    def check(case: tuple[SeismicData, str]) -> None:
        data, enc = case
        _check_round_trip(data, enc, version, tmp_path)

    check()


@_PROPERTY
@given(values=hnp.arrays(np.int64, st.integers(1, 500), elements=st.integers(-(2**28) + 1, 2**28 - 1)))
def test_default_encoding_is_lossless(values: np.ndarray, tmp_path: Path) -> None:
    data = SeismicData.from_array(values.reshape(1, -1), sample_interval=10.0, dtype=np.float64)
    out = tmp_path / "default.mseed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PromethiumWarning)
        pio.write(data, out)
    back = _read(out, dtype="float64")
    np.testing.assert_array_equal(back.values, data.values)
    assert back.header("encoding")[0] == 11  # differences below 2**29 fit Steim-2


@pytest.mark.parametrize(
    ("name", "offset", "value"),
    [
        ("obspy_int32_Steim2_bigEndian.mseed", 52, 37),  # blockette 1000 encoding: unknown code 37
        ("obspy_two_channels.mseed", 16, 0x88),  # a channel code byte that is not text
    ],
)
def test_corrupted_record_fields_raise_format_error(
    name: str, offset: int, value: int, tmp_path: Path
) -> None:
    src = MSEED / name
    if not src.is_file():
        pytest.skip(f"{src} absent")
    raw = bytearray(src.read_bytes())
    raw[offset] = value
    bad = tmp_path / name
    bad.write_bytes(bytes(raw))
    with pytest.raises(FormatError):
        pio.read(bad, format="mseed")
