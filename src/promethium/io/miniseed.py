"""miniSEED 2 and 3: reading and writing through pymseed (libmseed), laid out as ``(trace, time)``.

Layout of what :meth:`MiniSeedPlugin.read` returns:

- one row per *contiguous segment*: a gap or an overlap in a channel starts a new row, so nothing is
  merged, filled or dropped. Rows are ordered by source id, then by start time (libmseed's order).
- rows shorter than the longest are padded with zeros; ``hdr_n_valid`` says how many samples are real.
- the ``time`` coordinate is in ms from the start of *each row* (``hdr_start_time``), so rows of different
  channels or segments share one sample axis; this needs one sample rate for all rows, which is why
  files mixing rates must be narrowed with ``select=``.
- per-trace headers: ``source_id`` (FDSN source id), ``network``, ``station``, ``location``, ``channel``,
  ``start_time`` (datetime64[ns], time of the first sample), ``n_valid`` (int64), ``sample_rate``
  (float64, Hz), ``encoding`` (int16, of the segment's first record), ``publication_version`` (int16)
  and ``quality`` (the miniSEED 2 quality code that version maps to: R, D, Q, M).
- attrs: ``source_format="mseed"``, ``format_info`` (versions, encodings, record lengths, byte orders,
  record count), ``gaps`` and ``warnings``. Each ``gaps`` entry describes two consecutive segments of a
  channel: ``source_id``, ``previous_end`` (time of the last sample before), ``next_start``, ``gap_s``
  (seconds from the sample that should have followed to the next one: > 0 a gap, < 0 an overlap, as
  ObsPy counts) and ``missing_samples``.

Text (encoding 0) records are log channels, not amplitudes. When a file mixes them with sample data the
text goes to ``attrs["text"]`` (a list of ``{source_id, start_time, text}``) and the reader warns; they
are written back as text records. A file holding *only* text has no amplitudes to return, so reading it
raises :class:`PromethiumError` naming the channels; :func:`read_text` returns the log text instead.

Damaged files: the reader walks the record headers itself before decoding, so that a bad record is
reported as a :class:`FormatError` naming the file and the byte offset of the record (libmseed only says
*that* the buffer is bad). A partial record at the end (fewer bytes than a header, or a header whose record
runs past the end of the file) is dropped with a warning and the complete records are read.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import struct
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from promethium.core.errors import FormatError, PromethiumError
from promethium.io.base import FormatPlugin, atomic_output, warn
from promethium.io.data import SeismicData
from promethium.io.source import ByteSource

__all__ = ["ENCODINGS", "MiniSeedPlugin", "read_text"]

#: miniSEED data encoding codes and the names :meth:`MiniSeedPlugin.write` accepts for them.
ENCODINGS: dict[str, int] = {
    "text": 0,
    "int16": 1,
    "int32": 3,
    "float32": 4,
    "float64": 5,
    "steim1": 10,
    "steim2": 11,
}
_ENCODING_NAMES: dict[int, str] = {
    0: "text",
    1: "int16",
    2: "int24",
    3: "int32",
    4: "float32",
    5: "float64",
    10: "steim1",
    11: "steim2",
    12: "geoscope24",
    13: "geoscope16-3",
    14: "geoscope16-4",
    16: "cdsn",
    30: "sro",
    32: "dwwssn",
}
_INTEGER_ENCODINGS = frozenset({1, 3, 10, 11})
_WRITABLE = frozenset({1, 3, 4, 5, 10, 11})
# miniSEED 2 quality codes <-> libmseed publication versions.
_QUALITY_OF_VERSION = {1: "R", 2: "D", 3: "Q", 4: "M"}

_V2_FIXED = 48
_V3_FIXED = 40
_V2_BE = struct.Struct(">6sBB5s2s3s2sHHBBBBHHhhBBBBiHH")
_V2_LE = struct.Struct("<6sBB5s2s3s2sHHBBBBHHhhBBBBiHH")
_V3 = struct.Struct("<2sBBIHHBBBBdIIBBHI")
_BLOCKETTE_BE = struct.Struct(">HH")
_BLOCKETTE_LE = struct.Struct("<HH")
_MAX_RECLEN = 1 << 20
_MAX_BLOCKETTES = 64
# Samples converted per step when widening int32 to float in place: small enough to stay in cache.
_CHUNK = 1 << 16
_FLOAT32_EXACT = 1 << 24
# Decoding uses threads (libmseed releases the GIL) from this many samples on, with at most this many.
_PARALLEL_SAMPLES = 1 << 20
_MAX_THREADS = 8


# ---------------------------------------------------------------------------------------------- headers
def _plausible_time(year: int, day: int, hour: int, minute: int, second: int) -> bool:
    return 1900 <= year <= 2100 and 1 <= day <= 366 and hour <= 23 and minute <= 59 and second <= 60


def _v2_byte_order(buf: Any, off: int) -> str | None:
    """``">"`` or ``"<"`` when a miniSEED 2 fixed header starts at ``off``, else None.

    The checks are libmseed's: a 6-character sequence number of digits or spaces, a quality code in
    ``DRQM``, a space (or NUL) reserved byte, and a plausible start time in one byte order (which is how
    the byte order of the header is told).
    """
    seq = bytes(buf[off : off + 6])
    if len(seq) < 6 or not seq.replace(b" ", b"0").isdigit():
        return None
    if buf[off + 6] not in b"DRQM" or buf[off + 7] not in (0x20, 0x00):
        return None
    for order, st in ((">", _V2_BE), ("<", _V2_LE)):
        f = st.unpack_from(buf, off)
        if _plausible_time(f[7], f[8], f[9], f[10], f[11]):
            return order
    return None


def _v3_header_ok(buf: Any, off: int) -> bool:
    """True when a plausible miniSEED 3 fixed header starts at ``off``."""
    if bytes(buf[off : off + 3]) != b"MS\x03":
        return False
    f = _V3.unpack_from(buf, off)
    nanosec, year, day, hour, minute, second = f[3], f[4], f[5], f[6], f[7], f[8]
    return nanosec < 1_000_000_000 and _plausible_time(year, day, hour, minute, second) and f[14] > 0


def _header_at(buf: Any, off: int, size: int) -> bool:
    if size - off >= _V3_FIXED and _v3_header_ok(buf, off):
        return True
    return size - off >= _V2_FIXED and _v2_byte_order(buf, off) is not None


@dataclass
class _Layout:
    """What walking the record headers found (without decoding any samples)."""

    offsets: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)
    encodings: Counter[int] = field(default_factory=Counter)
    header_orders: set[str] = field(default_factory=set)
    data_orders: set[str] = field(default_factory=set)
    end: int = 0  # bytes covered by complete records
    trailing: int = 0  # bytes after them (a partial record)
    trailing_reason: str = ""


def _walk_records(buf: Any, size: int, name: str) -> _Layout:
    """Walk every record header; raise FormatError at the first invalid one.

    This costs one ``struct`` unpack per record (not per sample) and gives what libmseed does not: the
    byte offset of a bad record, the record lengths, encodings and byte orders for ``format_info``, and
    whether the file ends in a partial record (which libmseed skips silently).
    """
    lay = _Layout()
    off = 0
    fast = _walk_fixed_v2(buf, size)
    if fast is not None:
        lay, off = fast
    while off < size:
        off = _walk_v3_run(buf, size, off, lay)
        if off >= size:
            break
        remaining = size - off
        if remaining >= 3 and bytes(buf[off : off + 3]) == b"MS\x03":
            if remaining < _V3_FIXED:
                lay.trailing, lay.trailing_reason = remaining, "shorter than a miniSEED 3 header"
                break
            if not _v3_header_ok(buf, off):
                raise FormatError(
                    f"record {len(lay.offsets)}: invalid miniSEED 3 fixed header (time fields out of range "
                    "or empty source id)",
                    path=name,
                    offset=off,
                )
            f = _V3.unpack_from(buf, off)
            reclen = _V3_FIXED + f[14] + f[15] + f[16]
            if reclen > remaining:
                lay.trailing = remaining
                lay.trailing_reason = f"a {reclen}-byte miniSEED 3 record cut off after {remaining} bytes"
                break
            lay.versions.add(3)
            lay.encodings[f[9]] += 1
            lay.header_orders.add("little")
            lay.data_orders.add("little")
        else:
            if remaining < _V2_FIXED:
                lay.trailing, lay.trailing_reason = remaining, "shorter than a miniSEED 2 fixed header"
                break
            order = _v2_byte_order(buf, off)
            if order is None:
                what = "no miniSEED record header"
                if bytes(buf[off : off + 6]).replace(b" ", b"0").isdigit() and buf[off + 6] in b"VASTL":
                    what = f"a SEED control header (type {chr(buf[off + 6])!r}), not a data record"
                raise FormatError(
                    f"record {len(lay.offsets)}: {what} (expected a 6-digit sequence number, a quality code "
                    "D/R/Q/M and a valid start time, or 'MS3')",
                    path=name,
                    offset=off,
                )
            reclen, encoding, data_order = _v2_record(buf, off, size, order, name, len(lay.offsets))
            if reclen > remaining:
                lay.trailing = remaining
                lay.trailing_reason = f"a {reclen}-byte miniSEED 2 record cut off after {remaining} bytes"
                break
            lay.versions.add(2)
            lay.encodings[encoding] += 1
            lay.header_orders.add("big" if order == ">" else "little")
            lay.data_orders.add(data_order)
        lay.offsets.append(off)
        lay.lengths.append(reclen)
        off += reclen
    lay.end = off if lay.trailing == 0 else size - lay.trailing
    return lay


def _walk_v3_run(buf: Any, size: int, off: int, lay: _Layout) -> int:
    """Add the run of complete, plausible miniSEED 3 records starting at ``off`` to ``lay``; returns
    where the run ends.

    miniSEED 3 records have variable lengths, so they are found one after the other; this loop does the
    least per record and leaves anything unusual (damage, a partial record, another version) to the
    careful path of :func:`_walk_records`, which then reports it.
    """
    unpack = _V3.unpack_from
    start = off
    encodings = lay.encodings
    while size - off >= _V3_FIXED:
        f = unpack(buf, off)
        if (
            f[0] != b"MS"
            or f[1] != 3
            or f[3] >= 1_000_000_000
            or not (1900 <= f[4] <= 2100 and 1 <= f[5] <= 366 and f[6] <= 23 and f[7] <= 59 and f[8] <= 60)
            or f[14] == 0
        ):
            break
        reclen = _V3_FIXED + f[14] + f[15] + f[16]
        if reclen > size - off:
            break
        lay.offsets.append(off)
        lay.lengths.append(reclen)
        encodings[f[9]] += 1
        off += reclen
    if off > start:
        lay.versions.add(3)
        lay.header_orders.add("little")
        lay.data_orders.add("little")
    return off


def _walk_fixed_v2(buf: Any, size: int) -> tuple[_Layout, int] | None:
    """Check all records of a file of equal-length miniSEED 2 records at once with numpy.

    Almost every miniSEED 2 file has one record length; checking its headers as columns of a
    ``(records, length)`` view costs a few array operations instead of a Python step per record.
    Returns the layout of the whole-record part and where the tail starts, or None when any record does
    not pass (mixed lengths, version 3, damage), in which case the caller walks record by record and
    reports the first bad one precisely.
    """
    if size < 2 * _V2_FIXED:
        return None
    order = _v2_byte_order(buf, 0)
    if order is None:
        return None
    try:
        length, _, _ = _v2_record(buf, 0, size, order, "", 0)
    except FormatError:
        return None
    n = size // length
    if n < 8:
        return None
    a = np.frombuffer(buf, dtype=np.uint8, count=n * length).reshape(n, length)
    seq = a[:, :6]
    ok = bool(np.all((seq == 0x20) | ((seq >= 0x30) & (seq <= 0x39))))
    ok = ok and bool(np.all(np.isin(a[:, 6], np.frombuffer(b"DRQM", dtype=np.uint8))))
    ok = ok and bool(np.all((a[:, 7] == 0x20) | (a[:, 7] == 0)))
    if not ok:
        return None

    def pair(col: np.ndarray | int, rows: np.ndarray | slice, big: np.ndarray) -> np.ndarray:
        hi = a[rows, col].astype(np.int64)
        lo = a[rows, np.asarray(col) + 1].astype(np.int64)
        return np.where(big, hi * 256 + lo, lo * 256 + hi)

    every = slice(None)
    ones = np.ones(n, dtype=bool)
    year_be, day_be = pair(20, every, ones), pair(22, every, ones)
    year_le, day_le = pair(20, every, ~ones), pair(22, every, ~ones)
    big = (year_be >= 1900) & (year_be <= 2100) & (day_be >= 1) & (day_be <= 366)
    little = (year_le >= 1900) & (year_le <= 2100) & (day_le >= 1) & (day_le <= 366)
    if not np.all(big | little) or np.any(a[:, 24] > 23) or np.any(a[:, 25] > 59) or np.any(a[:, 26] > 60):
        return None
    nsamples, data_offset, cur = pair(30, every, big), pair(44, every, big), pair(46, every, big)
    prev = np.zeros(n, dtype=np.int64)
    exponent = np.zeros(n, dtype=np.int64)
    encoding = np.full(n, -1, dtype=np.int64)
    word = np.zeros(n, dtype=np.int64)
    for _ in range(_MAX_BLOCKETTES):
        rows = np.nonzero(cur)[0]
        if rows.size == 0:
            break
        c = cur[rows]
        if np.any((c < _V2_FIXED) | (c <= prev[rows]) | (c + 8 > length)):
            return None
        b = big[rows]
        btype, following = pair(c, rows, b), pair(c + 2, rows, b)
        first = (btype == 1000) & (exponent[rows] == 0)
        r1, c1 = rows[first], c[first]
        exponent[r1] = a[r1, c1 + 6]
        encoding[r1] = a[r1, c1 + 4]
        word[r1] = a[r1, c1 + 5]
        prev[rows] = c
        cur[rows] = following
    else:
        return None
    if np.any(cur) or np.any(exponent != length.bit_length() - 1):
        return None
    if np.any((nsamples > 0) & ((data_offset < _V2_FIXED) | (data_offset >= length))):
        return None
    lay = _Layout()
    lay.offsets = list(range(0, n * length, length))
    lay.lengths = [length] * n
    lay.versions = {2}
    values, counts = np.unique(encoding, return_counts=True)
    lay.encodings = Counter({int(v): int(k) for v, k in zip(values, counts, strict=True)})
    lay.header_orders = {"big"} if big.all() else ({"little"} if not big.any() else {"big", "little"})
    lay.data_orders = {"big" if w else "little" for w in np.unique(word)}
    return lay, n * length


def _v2_record(buf: Any, off: int, size: int, order: str, name: str, index: int) -> tuple[int, int, str]:
    """Record length, encoding and data byte order of the miniSEED 2 record at ``off``.

    They come from blockette 1000; the blockette chain is followed with the checks that keep a corrupt
    chain from looping or pointing outside the record. Records without blockette 1000 (old SEED data)
    end where the next header starts.
    """
    st = _V2_BE if order == ">" else _V2_LE
    blk = _BLOCKETTE_BE if order == ">" else _BLOCKETTE_LE
    f = st.unpack_from(buf, off)
    nsamples, data_offset, nxt = f[14], f[22], f[23]
    limit = size - off
    prev = 0
    reclen = 0
    encoding = -1
    data_order = "big" if order == ">" else "little"
    offsets: list[int] = []
    while nxt:
        if nxt < _V2_FIXED:
            raise FormatError(
                f"record {index}: blockette offset ({nxt}) is within the fixed header, impossible",
                path=name,
                offset=off,
            )
        if nxt <= prev or nxt + 4 > limit or len(offsets) >= _MAX_BLOCKETTES:
            raise FormatError(
                f"record {index}: blockette offset ({nxt}) after offset {prev} is out of order or past the "
                "end of the data",
                path=name,
                offset=off,
            )
        btype, following = blk.unpack_from(buf, off + nxt)
        if btype == 1000 and reclen == 0:
            if nxt + 8 > limit:
                raise FormatError(f"record {index}: blockette 1000 cut off", path=name, offset=off)
            encoding = buf[off + nxt + 4]
            data_order = "big" if buf[off + nxt + 5] else "little"
            exponent = buf[off + nxt + 6]
            if not 7 <= exponent <= 20:
                raise FormatError(
                    f"record {index}: blockette 1000 gives a record length of 2**{exponent} bytes",
                    path=name,
                    offset=off,
                )
            reclen = 1 << exponent
        offsets.append(nxt)
        prev, nxt = nxt, following
    if reclen == 0:
        reclen = _next_header_distance(buf, off, size)
    if offsets and max(offsets) + 4 > reclen:
        raise FormatError(
            f"record {index}: blockette at offset {max(offsets)} lies outside the {reclen}-byte record",
            path=name,
            offset=off,
        )
    # (a record cut off at the end is reported as such by the caller)
    if nsamples > 0 and not (_V2_FIXED <= data_offset < reclen) and reclen <= limit:
        raise FormatError(
            f"record {index}: data offset {data_offset} outside the {reclen}-byte record",
            path=name,
            offset=off,
        )
    return reclen, encoding, data_order


def _next_header_distance(buf: Any, off: int, size: int) -> int:
    """Length of a record without blockette 1000: the distance to the next record header (as libmseed
    does, probing 64-byte steps from 128 bytes), or the rest of the file."""
    for step in range(128, min(size - off, _MAX_RECLEN), 64):
        if _header_at(buf, off + step, size):
            return step
    return size - off


# ---------------------------------------------------------------------------------------------- ids
def _split_source_id(sid: str) -> tuple[str, str, str, str]:
    """Network, station, location and channel of an FDSN source id (``FDSN:NET_STA_LOC_B_S_SS``).

    SEED channel codes of three single characters come back joined (``B_H_Z`` -> ``BHZ``); longer
    band/source/subsource codes keep their underscores.
    """
    body = sid[5:] if sid.startswith("FDSN:") else sid
    parts = body.split("_")
    if len(parts) < 6:
        parts += [""] * (6 - len(parts))
    net, sta, loc = parts[0], parts[1], parts[2]
    chan_parts = parts[3:]
    if all(len(p) <= 1 for p in chan_parts):
        chan = "".join(chan_parts)
    else:
        chan = "_".join(chan_parts)
    return net, sta, loc, chan


def _make_source_id(net: str, sta: str, loc: str, chan: str) -> str:
    """FDSN source id from SEED codes (a 3-character channel becomes band_source_subsource)."""
    if len(chan) == 3:
        chan = "_".join(chan)
    elif "_" not in chan:
        chan = "_".join([chan, "", ""]) if chan else "__"
    return f"FDSN:{net}_{sta}_{loc}_{chan}"


def _band_code(rate: float) -> str:
    """SEED band code for a broadband-like instrument at ``rate`` Hz (used only for synthesized ids)."""
    for limit, code in ((1000.0, "G"), (250.0, "C"), (80.0, "H"), (10.0, "B"), (1.0, "M"), (0.5, "L")):
        if rate >= limit:
            return code
    return "V" if rate >= 0.05 else "U"


def _synthetic_station(index: int) -> str:
    """A station code that fits miniSEED 2's five characters for any realistic trace count."""
    if index < 10000:
        return f"T{index:04d}"
    code = np.base_repr(index, 36)
    if len(code) > 5:
        raise PromethiumError(f"too many traces ({index + 1}) to give each a miniSEED station code")
    return code.rjust(5, "0")


def _ns_to_iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns")) + "Z"


def _normalise_patterns(select: str | Sequence[str] | None) -> list[str] | None:
    if select is None:
        return None
    patterns = [select] if isinstance(select, str) else list(select)
    out = []
    for p in patterns:
        # "IU_COLA_*" is accepted as shorthand for "FDSN:IU_COLA_*".
        out.append(p if p.startswith(("FDSN:", "*", "?", "[")) else "FDSN:" + p)
    return out


# ---------------------------------------------------------------------------------------------- decoding
@dataclass
class _Segment:
    sid: str
    pubversion: int
    start: int
    end: int
    rate: float
    count: int
    sampletype: str
    encoding: int
    seg: Any


def _collect_segments(tl: Any, name: str = "") -> list[_Segment]:
    """One entry per trace segment of a pymseed trace list read with ``record_list=True``.

    Records that libmseed parsed but cannot describe (an unknown encoding, an identifier that is not
    text) are a malformed file, reported as such."""
    try:
        return _collect_segments_unchecked(tl)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"a record cannot be decoded: {exc}", path=name or None) from exc


def _collect_segments_unchecked(tl: Any) -> list[_Segment]:
    out: list[_Segment] = []
    for tid in tl:
        sid, pub = tid.sourceid, tid.pubversion
        for seg in tid:
            _, stype = seg.sample_size_type
            rl = seg.recordlist
            encoding = next(iter(rl)).record.encoding if rl is not None and len(rl) else -1
            rate = float(seg.samprate)
            if rate < 0:  # a negative rate is a period in seconds
                rate = -1.0 / rate
            out.append(
                _Segment(sid, pub, seg.starttime, seg.endtime, rate, seg.samplecnt, stype, encoding, seg)
            )
    return out


def _widen_int32_inplace(row: np.ndarray, n: int) -> bool:
    """Convert the int32 samples decoded into the first ``n`` slots of float32 ``row`` to float32.

    Decoding straight into the output row and widening it in cache-sized steps avoids a second full-size
    buffer. Returns True when some value exceeds 2**24 and so was rounded by float32.
    """
    ints = row[:n].view(np.int32)
    lossy = False
    for s in range(0, n, _CHUNK):
        tmp = ints[s : s + _CHUNK].copy()
        if not lossy and tmp.size and (int(tmp.max()) > _FLOAT32_EXACT or int(tmp.min()) < -_FLOAT32_EXACT):
            lossy = True
        row[s : s + tmp.size] = tmp
    return lossy


def _decode_into(seg: _Segment, row: np.ndarray) -> str | None:
    """Decode one segment into ``row`` (float32 or float64, padded with zeros after the samples).

    Returns a warning when the requested dtype cannot hold the samples exactly.
    """
    n = seg.count
    note = None
    if row.dtype == np.float32 and seg.sampletype == "i":
        seg.seg.unpack_recordlist(buffer=row[:n].view(np.int32))
        if _widen_int32_inplace(row, n):
            note = (
                "integer samples beyond 2**24 were rounded by float32; read with dtype='float64' to keep them"
            )
    elif (row.dtype == np.float32 and seg.sampletype == "f") or (
        row.dtype == np.float64 and seg.sampletype == "d"
    ):
        seg.seg.unpack_recordlist(buffer=row[:n])
    else:
        tmp = np.empty(n, dtype={"i": np.int32, "f": np.float32, "d": np.float64}[seg.sampletype])
        seg.seg.unpack_recordlist(buffer=tmp)
        row[:n] = tmp
        if (
            seg.sampletype == "d"
            and row.dtype == np.float32
            and not np.array_equal(row[:n], tmp, equal_nan=True)
        ):
            note = "float64 samples were rounded to float32; read with dtype='float64' to keep them"
    row[n:] = 0
    return note


def _decode_all(segments: Sequence[_Segment], values: np.ndarray) -> set[str]:
    """Decode every segment into its row of ``values``; returns the precision warnings.

    libmseed runs without the GIL, and each segment decodes from its own records into its own row, so
    channels and segments of a large file are decoded on several threads.
    """
    total = sum(s.count for s in segments)
    workers = min(len(segments), os.cpu_count() or 1, _MAX_THREADS)
    if workers < 2 or total < _PARALLEL_SAMPLES:
        notes = (_decode_into(s, values[i]) for i, s in enumerate(segments))
        return {n for n in notes if n}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda i: _decode_into(segments[i], values[i]), range(len(segments))))
    return {n for n in results if n}


def _decode_text(seg: _Segment) -> str:
    raw = np.empty(seg.count, dtype=np.uint8)
    if seg.count:
        seg.seg.unpack_recordlist(buffer=raw)
    return raw.tobytes().decode("utf-8", errors="replace")


def _gaps(segments: Sequence[_Segment]) -> list[dict[str, Any]]:
    """Gaps (positive) and overlaps (negative) between consecutive segments of each source id.

    ``gap_s`` is the time between the sample that would have followed the previous segment and the
    first sample of the next one (0 only where libmseed split a channel for another reason, such as a
    change of sample rate).
    """
    out: list[dict[str, Any]] = []
    by_sid: dict[str, list[_Segment]] = {}
    for s in segments:
        by_sid.setdefault(s.sid, []).append(s)
    for sid, segs in by_sid.items():
        segs = sorted(segs, key=lambda s: s.start)
        for a, b in itertools.pairwise(segs):
            expected = a.end + (round(1e9 / a.rate) if a.rate > 0 else 0)
            gap_ns = b.start - expected
            out.append(
                {
                    "source_id": sid,
                    "previous_end": _ns_to_iso(a.end),
                    "next_start": _ns_to_iso(b.start),
                    "gap_s": gap_ns / 1e9,
                    "missing_samples": round(gap_ns / 1e9 * a.rate) if a.rate > 0 else 0,
                }
            )
    return out


def _parse(buf: Any, name: str, lay: _Layout) -> Any:
    """A pymseed trace list (record lists kept, samples not yet decoded) of the complete records."""
    import pymseed

    view = memoryview(buf)[: lay.end] if lay.end < len(buf) else buf
    tl = pymseed.MS3TraceList()
    try:
        tl.add_buffer(view, record_list=True, validate_crc=True)
    except pymseed.MiniSEEDError as exc:
        tl.close()
        raise _locate_error(buf, name, lay, exc) from exc
    return tl


def _locate_error(buf: Any, name: str, lay: _Layout, exc: Exception) -> FormatError:
    """A FormatError at the first record libmseed cannot parse and decode on its own (error path only)."""
    import pymseed

    for off, length in zip(lay.offsets, lay.lengths, strict=True):
        try:
            pymseed.MS3Record.parse(bytes(buf[off : off + length]), unpack_data=True, validate_crc=True)
        except pymseed.MiniSEEDError as rec_exc:
            return FormatError(f"invalid miniSEED record: {rec_exc}", path=name, offset=off)
    return FormatError(f"invalid miniSEED data: {exc}", path=name, offset=0)


def _read_layout(source: ByteSource) -> tuple[Any, _Layout, list[str]]:
    """The source bytes, their record layout and the warnings about a partial last record."""
    size = source.size
    if size == 0:
        raise FormatError("the file is empty", path=source.name, offset=0)
    buf = source.read(0, size)
    lay = _walk_records(buf, size, source.name)
    notes: list[str] = []
    if not lay.offsets:
        raise FormatError(f"no complete miniSEED record ({lay.trailing_reason})", path=source.name, offset=0)
    if lay.trailing:
        warn(
            f"{source.name}: ignored {lay.trailing} bytes at byte {lay.end} ({lay.trailing_reason}); "
            f"read the {len(lay.offsets)} complete records",
            notes,
        )
    return buf, lay, notes


def read_text(source: ByteSource | str, **options: Any) -> list[dict[str, Any]]:
    """The text (log) records of a miniSEED file: ``[{source_id, start_time, text}, ...]``.

    Accepts a :class:`ByteSource` or a path/URL (``storage_options`` go to the source).
    """
    if not isinstance(source, ByteSource):
        from promethium.io.source import open_source

        with open_source(source, options.pop("storage_options", None)) as src:
            return read_text(src, **options)
    buf, lay, _ = _read_layout(source)
    tl = _parse(buf, source.name, lay)
    try:
        segments = _collect_segments(tl, source.name)
        return [
            {"source_id": s.sid, "start_time": _ns_to_iso(s.start), "text": _decode_text(s)}
            for s in segments
            if s.sampletype == "t"
        ]
    finally:
        tl.close()


# ---------------------------------------------------------------------------------------------- encoding
def _parse_encoding(encoding: str | int | None) -> int | None:
    """The encoding code asked for (a name or a code), or None for automatic choice."""
    if encoding is None:
        return None
    if isinstance(encoding, str):
        key = encoding.lower().replace("-", "").replace("_", "")
        if key not in ENCODINGS or key == "text":
            raise PromethiumError(
                f"unknown miniSEED encoding {encoding!r}; use one of "
                + ", ".join(k for k in ENCODINGS if k != "text")
            )
        return ENCODINGS[key]
    code = int(encoding)
    if code not in _WRITABLE:
        raise PromethiumError(f"cannot write miniSEED encoding {code}; use one of {sorted(_WRITABLE)}")
    return code


def _fits(row: np.ndarray, encoding: int) -> bool:
    """True when ``encoding`` stores every sample of ``row`` exactly."""
    if encoding == ENCODINGS["float64"]:
        return True
    if encoding == ENCODINGS["float32"]:
        return row.dtype == np.float32 or np.array_equal(
            row.astype(np.float32).astype(row.dtype), row, equal_nan=True
        )
    if row.size == 0:
        return True
    if not np.all(np.isfinite(row)) or not np.array_equal(row, np.rint(row)):
        return False
    lo, hi = float(np.min(row)), float(np.max(row))
    bound = 2**15 if encoding == ENCODINGS["int16"] else 2**31
    if lo < -bound or hi > bound - 1:
        return False
    if encoding in (ENCODINGS["steim1"], ENCODINGS["steim2"]) and row.size > 1:
        limit = 2**29 if encoding == ENCODINGS["steim2"] else 2**31
        return int(np.max(np.abs(np.diff(row.astype(np.int64))))) < limit
    return True


def _auto_encoding(row: np.ndarray, preferred: int | None) -> int:
    """The encoding the trace was read with when it still stores the samples exactly, else the most
    compact lossless one: Steim-2, Steim-1 or int32 for integer values, float32, float64."""
    if preferred in _WRITABLE and _fits(row, preferred):
        return preferred
    for code in (ENCODINGS["steim2"], ENCODINGS["steim1"], ENCODINGS["int32"], ENCODINGS["float32"]):
        if _fits(row, code):
            return code
    return ENCODINGS["float64"]


def _samples_for(row: np.ndarray, encoding: int, trace: int, notes: list[str]) -> tuple[np.ndarray, str]:
    """The samples of one trace as the type libmseed packs for ``encoding`` (``i``, ``f`` or ``d``).

    Integer encodings refuse what they cannot hold exactly rather than rounding silently.
    """
    name = _ENCODING_NAMES[encoding]
    if encoding in _INTEGER_ENCODINGS:
        if row.size and (not np.all(np.isfinite(row)) or not np.array_equal(row, np.rint(row))):
            raise PromethiumError(
                f"trace {trace} has non-integer or non-finite samples, which encoding {name!r} cannot store; "
                "write with encoding='float32' or 'float64'"
            )
        wide = row.astype(np.int64)
        lo, hi = (-(2**15), 2**15 - 1) if encoding == 1 else (-(2**31), 2**31 - 1)
        if wide.size and (int(wide.min()) < lo or int(wide.max()) > hi):
            raise PromethiumError(
                f"trace {trace} has samples outside [{lo}, {hi}], which {name!r} cannot store"
            )
        if encoding in (10, 11) and wide.size > 1:
            limit = 2**29 if encoding == 11 else 2**31
            big = int(np.max(np.abs(np.diff(wide))))
            if big >= limit:
                raise PromethiumError(
                    f"trace {trace} has a sample-to-sample difference of {big}, too large for {name!r} "
                    f"(limit {limit - 1}); write with encoding='int32'"
                )
        return wide.astype(np.int32), "i"
    if encoding == 4:
        out = np.ascontiguousarray(row, dtype=np.float32)
        if row.dtype != np.float32 and not np.array_equal(out.astype(row.dtype), row, equal_nan=True):
            warn(
                f"trace {trace}: float64 samples rounded to float32 by encoding 'float32'",
                notes,
                stacklevel=4,
            )
        return out, "f"
    return np.ascontiguousarray(row, dtype=np.float64), "d"


def _header_array(data: SeismicData, name: str) -> np.ndarray | None:
    return data.header(name) if name in data.header_names else None


# ---------------------------------------------------------------------------------------------- plugin
class MiniSeedPlugin(FormatPlugin):
    """miniSEED 2 and 3 through pymseed: every encoding libmseed decodes, both byte orders, mixed record
    lengths, gaps and overlaps kept as separate rows."""

    name = "mseed"
    description = "miniSEED 2 and 3 (FDSN), read and written with libmseed via pymseed"

    def sniff(self, head: bytes, size: int) -> bool:
        """A miniSEED 3 fixed header (``MS\\x03`` and plausible time fields) or a miniSEED 2 data record
        header (sequence number, quality D/R/Q/M, plausible start time in one byte order)."""
        if len(head) >= _V3_FIXED and head[:3] == b"MS\x03":
            return _v3_header_ok(head, 0)
        if len(head) < _V2_FIXED or size < _V2_FIXED:
            return False
        # The blockette chain is left to the reader, so that a damaged file is still recognised and
        # then rejected with the offset of the bad record.
        return _v2_byte_order(head, 0) is not None

    def read(self, source: ByteSource, **options: Any) -> SeismicData:
        """Decode the whole source.

        Options: ``select`` (fnmatch glob, or a list of them, on the FDSN source id, e.g.
        ``"FDSN:IU_COLA_00_B_H_?"``; the ``FDSN:`` prefix may be left out) and ``dtype`` (``float32``,
        the default, or ``float64``, which keeps every int32 count and float64 sample exact).
        """
        select = options.pop("select", None)
        dtype = np.dtype(options.pop("dtype", np.float32))
        if options:
            raise PromethiumError(f"unknown miniSEED read option(s): {', '.join(sorted(options))}")
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise PromethiumError(f"dtype must be float32 or float64, not {dtype}")
        buf, lay, notes = _read_layout(source)
        tl = _parse(buf, source.name, lay)
        try:
            return self._build(tl, buf, lay, source.name, select, dtype, notes)
        finally:
            tl.close()

    def _build(
        self,
        tl: Any,
        buf: Any,
        lay: _Layout,
        name: str,
        select: str | Sequence[str] | None,
        dtype: np.dtype[Any],
        notes: list[str],
    ) -> SeismicData:
        import pymseed

        segments = _collect_segments(tl, name)
        patterns = _normalise_patterns(select)
        if patterns is not None:
            chosen = [s for s in segments if any(fnmatch.fnmatchcase(s.sid, p) for p in patterns)]
            if not chosen:
                ids = sorted({s.sid for s in segments})
                raise PromethiumError(
                    f"{name}: select={select!r} matches none of the source ids: {', '.join(ids)}"
                )
            segments = chosen
        text_segments = [s for s in segments if s.sampletype == "t"]
        segments = [s for s in segments if s.sampletype != "t"]
        if not segments:
            log_ids = ", ".join(sorted({s.sid for s in text_segments}))
            raise PromethiumError(
                f"{name}: holds only text (log) records ({log_ids}), no samples to read as amplitudes; "
                "use promethium.io.miniseed.read_text() to read the log text"
            )
        text: list[dict[str, Any]] = []
        try:
            for s in text_segments:
                text.append({"source_id": s.sid, "start_time": _ns_to_iso(s.start), "text": _decode_text(s)})
        except pymseed.MiniSEEDError as exc:
            raise _locate_error(buf, name, lay, exc) from exc
        if text:
            warn(
                f"{name}: text (log) records of {', '.join(sorted({t['source_id'] for t in text}))} are not "
                "amplitudes; their text is in attrs['text']",
                notes,
            )
        rate = self._common_rate(segments, name)
        n_max = max(s.count for s in segments)
        values = np.empty((len(segments), n_max), dtype=dtype)
        try:
            lossy = _decode_all(segments, values)
        except pymseed.MiniSEEDError as exc:
            raise _locate_error(buf, name, lay, exc) from exc
        for note in sorted(lossy):
            warn(f"{name}: {note}", notes)
        nslc = [_split_source_id(s.sid) for s in segments]
        headers: dict[str, np.ndarray] = {
            "source_id": np.array([s.sid for s in segments], dtype=str),
            "network": np.array([c[0] for c in nslc], dtype=str),
            "station": np.array([c[1] for c in nslc], dtype=str),
            "location": np.array([c[2] for c in nslc], dtype=str),
            "channel": np.array([c[3] for c in nslc], dtype=str),
            "start_time": np.array([s.start for s in segments], dtype="datetime64[ns]"),
            "n_valid": np.array([s.count for s in segments], dtype=np.int64),
            "sample_rate": np.array([s.rate for s in segments], dtype=np.float64),
            "encoding": np.array([s.encoding for s in segments], dtype=np.int16),
            "publication_version": np.array([s.pubversion for s in segments], dtype=np.int16),
            "quality": np.array([_QUALITY_OF_VERSION.get(s.pubversion, "") for s in segments], dtype=str),
        }
        format_info = {
            "versions": sorted(lay.versions),
            "encodings": {_ENCODING_NAMES.get(k, str(k)): v for k, v in sorted(lay.encodings.items())},
            "record_lengths": sorted(set(lay.lengths)),
            "records": len(lay.offsets),
            "header_byte_order": sorted(lay.header_orders),
            "data_byte_order": sorted(lay.data_orders),
            "source_ids": sorted({s.sid for s in segments}),
        }
        attrs: dict[str, Any] = {
            "source_format": "mseed",
            "format_info": format_info,
            "gaps": _gaps(segments),
            "warnings": notes,
        }
        if text:
            attrs["text"] = text
        return SeismicData.from_array(
            values, sample_interval=1000.0 / rate, headers=headers, attrs=attrs, dtype=dtype
        )

    @staticmethod
    def _common_rate(segments: Sequence[_Segment], name: str) -> float:
        """The one sample rate of all rows; rows share the time axis, so mixed rates are refused."""
        rates = np.array([s.rate for s in segments])
        if np.any(rates <= 0) or not np.all(np.isfinite(rates)):
            bad = sorted({s.sid for s in segments if not s.rate > 0})
            raise PromethiumError(f"{name}: no usable sample rate for {', '.join(bad)}")
        ref = float(rates[0])
        if np.allclose(rates, ref, rtol=1e-6, atol=0):
            return ref
        per_sid: dict[str, set[float]] = {}
        for s in segments:
            per_sid.setdefault(s.sid, set()).add(s.rate)
        listing = "; ".join(
            f"{sid}: {', '.join(f'{r:g}' for r in sorted(r_))} Hz" for sid, r_ in sorted(per_sid.items())
        )
        example = min(per_sid)
        raise PromethiumError(
            f"{name}: the channels have different sample rates ({listing}); rows share one time axis, so "
            f"read one rate at a time with select=, e.g. select={example!r} or a glob such as "
            f"select='FDSN:NET_STA_LOC_B_H_Z'"
        )

    # ------------------------------------------------------------------------------------------ write
    def write(self, data: SeismicData, path: str, **options: Any) -> None:
        """Write every live trace as miniSEED.

        Options: ``encoding`` (``steim2``, ``steim1``, ``int32``, ``int16``, ``float32``, ``float64`` or the
        code, for every trace; an encoding that cannot hold a trace exactly is refused, except float32
        for float64 data, which warns), ``record_length`` (default 4096; a power of two for version 2)
        and ``version`` (2, the default, or 3). Without ``encoding`` each trace keeps the encoding it was
        read with (``hdr_encoding``) when that still stores its samples exactly, and otherwise gets the
        most compact lossless one: Steim-2 (then Steim-1, int32) for integer values, else float32 when
        exact, else float64.

        Ids, start times and valid lengths come from the ``source_id``, ``start_time`` and ``n_valid``
        headers when present (as read from miniSEED); otherwise ids ``XX.T0000.00.<band>HZ`` and a start
        at the Unix epoch are made up, with a warning. Rows whose ``trace_mask`` is False are not written.
        libmseed joins rows of one id that are contiguous in time, and writes ids in sorted order.
        """
        import pymseed

        forced = _parse_encoding(options.pop("encoding", None))
        record_length = int(options.pop("record_length", 4096))
        version = int(options.pop("version", 2))
        if options:
            raise PromethiumError(f"unknown miniSEED write option(s): {', '.join(sorted(options))}")
        if version not in (2, 3):
            raise PromethiumError(f"miniSEED version must be 2 or 3, not {version}")
        if version == 2 and (
            record_length < 128 or record_length > 65536 or record_length & (record_length - 1)
        ):
            raise PromethiumError(
                f"miniSEED 2 record_length must be a power of two in 128..65536, not {record_length}"
            )
        if data.is_3d:
            data = data.to_traces()
        if data.sample_unit != "ms":
            raise PromethiumError("miniSEED stores time series; depth-domain data cannot be written")
        notes: list[str] = []
        values = data.values
        n_traces, n_samples = values.shape
        rate = 1000.0 / data.sample_interval
        offset_ns = round(float(data.samples[0]) * 1e6) if n_samples else 0
        mask = data.trace_mask.reshape(-1)
        ids = _header_array(data, "source_id")
        starts = _header_array(data, "start_time")
        n_valid = _header_array(data, "n_valid")
        rates = _header_array(data, "sample_rate")
        pubs = _header_array(data, "publication_version")
        if ids is None:
            band = _band_code(rate)
            ids = np.array(
                [_make_source_id("XX", _synthetic_station(i), "00", band + "HZ") for i in range(n_traces)]
            )
            warn(f"no source_id headers: wrote made-up ids {ids[0]}..{ids[-1]}", notes, stacklevel=3)
        if starts is None:
            warn("no start_time headers: wrote start times from the Unix epoch", notes, stacklevel=3)
        rows: list[np.ndarray] = []
        kept: list[int] = []
        for i in range(n_traces):
            if not mask[i]:
                continue
            n = n_samples if n_valid is None else max(0, min(int(n_valid[i]), n_samples))
            rows.append(values[i, :n])
            kept.append(i)
        if len(kept) < n_traces:
            warn(f"{n_traces - len(kept)} masked trace(s) not written", notes, stacklevel=3)
        stored = _header_array(data, "encoding")

        lists: dict[int, Any] = {}
        text_tl = pymseed.MS3TraceList()
        sub_us = False
        try:
            for row, i in zip(rows, kept, strict=True):
                sid = str(ids[i])
                if version == 2:
                    self._check_v2_codes(sid, i)
                if row.size == 0:
                    continue
                encoding = (
                    forced
                    if forced is not None
                    else _auto_encoding(row, None if stored is None else int(stored[i]))
                )
                samples, stype = _samples_for(row, encoding, i, notes)
                if starts is not None and not np.isnat(starts[i]):
                    start_ns = (
                        int(np.asarray(starts[i]).astype("datetime64[ns]").astype(np.int64)) + offset_ns
                    )
                else:
                    start_ns = offset_ns
                sub_us = sub_us or start_ns % 1000 != 0
                trace_rate = rate
                if rates is not None and np.isclose(float(rates[i]), rate, rtol=1e-6, atol=0):
                    trace_rate = float(rates[i])  # keep the exact rate the file gave
                pub = int(pubs[i]) if pubs is not None else 1
                if encoding not in lists:
                    lists[encoding] = pymseed.MS3TraceList()
                lists[encoding].add_data(
                    sid, samples, stype, trace_rate, starttime=start_ns, publication_version=pub
                )
            if version == 2 and sub_us:
                warn(
                    "miniSEED 2 keeps start times to the microsecond; finer parts were rounded",
                    notes,
                    stacklevel=3,
                )
            for entry in data.attrs.get("text", []) or []:
                raw = str(entry.get("text", "")).encode("utf-8")
                if not raw:
                    continue
                start = int(np.datetime64(str(entry["start_time"]).rstrip("Z"), "ns").astype(np.int64))
                text_tl.add_data(str(entry["source_id"]), raw, "t", 0.0, starttime=start)
            with atomic_output(path) as fh:
                for encoding in sorted(lists):
                    for rec in lists[encoding].generate(
                        max_record_length=record_length, encoding=encoding, format_version=version
                    ):
                        fh.write(rec)
                if len(text_tl):
                    for rec in text_tl.generate(
                        max_record_length=record_length,
                        encoding=pymseed.DataEncoding.TEXT,
                        format_version=version,
                    ):
                        fh.write(rec)
        except pymseed.MiniSEEDError as exc:
            raise PromethiumError(f"{path}: libmseed could not pack the data: {exc}") from exc
        finally:
            for tl in lists.values():
                tl.close()
            text_tl.close()

    @staticmethod
    def _check_v2_codes(sid: str, trace: int) -> None:
        """miniSEED 2 has fixed-width codes; refuse ids that would be truncated."""
        net, sta, loc, chan = _split_source_id(sid)
        if (
            not sid.startswith("FDSN:")
            or len(net) > 2
            or not 0 < len(sta) <= 5
            or len(loc) > 2
            or not 0 < len(chan) <= 3
        ):
            raise PromethiumError(
                f"trace {trace}: source id {sid!r} does not fit miniSEED 2 (network <= 2, station 1-5, "
                "location <= 2, channel 1-3 characters); write with version=3"
            )
