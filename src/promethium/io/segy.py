"""SEG-Y (rev 0, 1, 2.0, 2.1) and Seismic Unix reading and writing.

Why our own decoder rather than segyio: segyio needs a local file handle (no byte ranges, no object
stores), refuses rev 2.1 trace header extensions and zero-trace files, silently reads a negative sample
interval and a file whose trace headers are missing, and falls back to IBM float with only a warning on
3-byte integers. This module resolves the file layout from the headers *and* the file size, checks it,
and decodes samples with the compiled kernels of :mod:`promethium.io.codecs` from any byte source.
segyio stays the reference it is tested and benchmarked against.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from promethium.core.errors import FormatError, GeometryError, PromethiumError
from promethium.io.base import FormatPlugin, SeismicFile, atomic_output, warn
from promethium.io.codecs import NUMPY_FORMATS, decode_traces, encode_traces, gather_headers, zero_rows
from promethium.io.data import SeismicData
from promethium.io.geometry import GridGeometry, infer_grid
from promethium.io.segy_headers import BINARY_FIELDS, SAMPLE_FORMATS, TRACE_FIELDS, binary_dtype, trace_dtype
from promethium.io.source import ByteSource, LocalSource

__all__ = ["SegyFile", "SegyLayout", "SegyPlugin", "SuPlugin", "write_segy"]

TEXT_SIZE = 3200
FILE_HEADER_SIZE = 3600
TRACE_HEADER_SIZE = 240
_TRACE_FIELD = {name: (pos, width, kind) for name, pos, width, kind in TRACE_FIELDS}
_DEAD_TRACE_ID = 2
_CHUNK_BYTES = 32 * 1024 * 1024
_RELEASE_MIN_BYTES = 4 * 1024 * 1024  # reads this large populate and release their pages


# --------------------------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class SegyLayout:
    """Where everything is in a SEG-Y or SU file, resolved from its headers and its size."""

    kind: str  # "segy" or "su"
    big_endian: bool
    sample_format: int
    n_samples: int
    sample_interval_us: float
    data_offset: int
    n_traces: int
    n_extension_headers: int = 0
    revision: tuple[int, int] = (0, 0)
    text_encoding: str = "ebcdic"
    n_extended_text: int = 0
    trailing_bytes: int = 0
    #: True when rev 2 structural fields (byte-order constant plus the extended sample count or the
    #: first-trace offset) state this layout explicitly, so odd per-trace fields are only warned about.
    confirmed: bool = False

    @property
    def bytes_per_sample(self) -> int:
        return SAMPLE_FORMATS[self.sample_format][0]

    @property
    def header_size(self) -> int:
        return TRACE_HEADER_SIZE * (1 + self.n_extension_headers)

    @property
    def trace_size(self) -> int:
        return self.header_size + self.n_samples * self.bytes_per_sample

    def trace_offset(self, i: np.ndarray | int) -> Any:
        """Byte offset of the header of trace ``i``."""
        return self.data_offset + np.asarray(i, dtype=np.int64) * self.trace_size

    def info(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "byte_order": "big" if self.big_endian else "little",
            "sample_format": self.sample_format,
            "sample_format_name": SAMPLE_FORMATS[self.sample_format][1],
            "revision": f"{self.revision[0]}.{self.revision[1]}",
            "text_encoding": self.text_encoding,
            "extended_textual_headers": self.n_extended_text,
            "trace_header_extensions": self.n_extension_headers,
            "data_offset": self.data_offset,
            "trace_size": self.trace_size,
            "n_samples": self.n_samples,
            "sample_interval_us": self.sample_interval_us,
        }


@dataclass
class _FileHeader:
    layout: SegyLayout
    textual_header: str = ""
    extended_textual_headers: list[str] = field(default_factory=list)
    binary_header: dict[str, Any] = field(default_factory=dict)
    binary_raw: bytes = b""
    warnings: list[str] = field(default_factory=list)
    extended_text_encodings: list[str] = field(default_factory=list)


def _looks_like_text(raw: bytes) -> tuple[float, float]:
    """Fractions of bytes that are printable as ASCII and as EBCDIC."""
    a = np.frombuffer(raw, dtype=np.uint8)
    if a.size == 0:
        return 0.0, 0.0
    ascii_ok = ((a >= 0x20) & (a < 0x7F)) | (a == 0x0A) | (a == 0x0D)
    # EBCDIC printable: space, punctuation, letters and digits live in 0x40-0xFE.
    ebcdic_ok = (a >= 0x40) & (a <= 0xFE)
    return float(ascii_ok.mean()), float(ebcdic_ok.mean())


def _decode_text(
    raw: bytes, name: str, offset: int, warnings_list: list[str], strict: bool
) -> tuple[str, str]:
    """Decode a 3200-byte textual header, telling EBCDIC from ASCII by content."""
    asc, ebc = _looks_like_text(raw)
    a = np.frombuffer(raw, dtype=np.uint8)
    n_space_ascii = int((a == 0x20).sum())
    n_space_ebcdic = int((a == 0x40).sum())
    encoding = "ascii" if (asc >= ebc and n_space_ascii >= n_space_ebcdic) else "ebcdic"
    text = raw.decode("cp037") if encoding == "ebcdic" else raw.decode("latin-1")
    n_nul = raw.count(0)
    bad = (
        n_nul
        if encoding == "ebcdic"
        else int(((a < 0x20) | (a >= 0x7F)).sum()) - int(((a == 0x0A) | (a == 0x0D)).sum())
    )
    if n_nul or (encoding == "ascii" and bad > 0):
        msg = (
            f"{name}: textual header at byte {offset} holds {n_nul} NUL and "
            f"{max(bad - n_nul, 0)} other non-printable bytes; kept as read"
        )
        if strict:
            raise FormatError(msg.split(": ", 1)[1], path=name, offset=offset)
        warn(msg, warnings_list)
    return text, encoding


def _encode_text(text: str, encoding: str) -> bytes:
    raw = text.encode("cp037" if encoding == "ebcdic" else "latin-1", errors="replace")
    pad = b"\x40" if encoding == "ebcdic" else b" "
    return (raw + pad * TEXT_SIZE)[:TEXT_SIZE]


def _read_binary(raw400: bytes, big: bool) -> dict[str, Any]:
    rec = np.frombuffer(raw400, dtype=binary_dtype(">" if big else "<"), count=1)[0]
    return {name: rec[name].item() for name, *_ in BINARY_FIELDS}


def _plausible_format(code: int) -> bool:
    return code in SAMPLE_FORMATS


def _choose_endian(raw400: bytes, size: int, endian: str) -> bool:
    if endian in ("big", ">"):
        return True
    if endian in ("little", "<"):
        return False
    const_be = int.from_bytes(raw400[96:100], "big")
    if const_be == 0x01020304:
        return True
    if const_be == 0x04030201:
        return False
    scores = {}
    for big in (True, False):
        bh = _read_binary(raw400, big)
        score = 0
        if _plausible_format(int(bh["format"])):
            score += 4
        if 0 < int(bh["sample_interval"]) <= 100_000:
            score += 1
        ns = int(bh["n_samples"]) or int(bh["ext_n_samples"])
        if 0 < ns <= 100_000:
            score += 1
        scores[big] = score
    return scores[True] >= scores[False]


def _resolve_layout(
    source: ByteSource,
    *,
    endian: str = "auto",
    strict: bool = False,
    truncated: str = "error",
    n_samples: int | None = None,
    sample_format: int | None = None,
    sample_interval: float | None = None,
) -> _FileHeader:
    """Read and check the file header; find the one trace layout consistent with the file size."""
    from promethium.core.settings import get_settings

    name, size = source.name, source.size
    if size < FILE_HEADER_SIZE:
        raise FormatError(
            f"the file has {size} bytes, fewer than the 3600-byte SEG-Y textual + binary header",
            path=name,
            offset=size,
        )
    head = bytes(source.read(0, FILE_HEADER_SIZE))
    warnings_list: list[str] = []
    text, encoding = _decode_text(head[:TEXT_SIZE], name, 0, warnings_list, strict)
    raw400 = head[TEXT_SIZE:FILE_HEADER_SIZE]
    big = _choose_endian(raw400, size, endian)
    bh = _read_binary(raw400, big)
    fmt = int(sample_format or bh["format"])
    if not _plausible_format(fmt):
        if fmt == 4:
            raise FormatError(
                "sample format 4 (fixed point with gain) is obsolete and not supported",
                path=name,
                offset=3224,
            )
        raise FormatError(
            f"unknown sample format code {fmt} in the binary header (valid: "
            f"{', '.join(str(k) for k in SAMPLE_FORMATS)}); pass sample_format= to override",
            path=name,
            offset=3224,
        )
    bps = SAMPLE_FORMATS[fmt][0]
    rev = (int(bh["revision_major"]), int(bh["revision_minor"]))
    rev2 = rev[0] == 2 or int(bh["byte_order_constant"]) in (0x01020304, 0x04030201)

    # Sample interval: the extended (IEEE double) field wins in rev 2 files when it is sane.
    dt = float(sample_interval * 1000.0) if sample_interval else float(bh["sample_interval"])
    ext_dt = float(bh["ext_sample_interval"])
    if not sample_interval and rev2 and math.isfinite(ext_dt) and 0 < ext_dt <= 1e7:
        dt = ext_dt
    elif not sample_interval and ext_dt != 0 and rev2:
        warn(
            f"{name}: extended sample interval {ext_dt!r} at byte 3272 is not plausible; ignored",
            warnings_list,
        )
    if dt < 0:
        raise FormatError(f"negative sample interval {dt:g} us in the binary header", path=name, offset=3216)

    # Extended textual headers.
    n_ext_text = int(bh["n_extended_textual_headers"])
    ext_candidates = [n_ext_text, 0] if n_ext_text > 0 else [0]
    if n_ext_text == -1:
        ext_candidates = [_count_stanzas(source)]

    # Sample count candidates, in order of authority.
    bin_ns = int(bh["n_samples"])
    ext_ns = int(bh["ext_n_samples"])
    first_trace_ns_candidates: list[int] = []
    ns_candidates: list[int] = []
    if n_samples:
        ns_candidates = [int(n_samples)]
    else:
        if ext_ns > 0 and (rev2 or bin_ns == 0):
            ns_candidates.append(ext_ns)
        if bin_ns > 0:
            ns_candidates.append(bin_ns)
        for n_ext in ext_candidates:
            off = FILE_HEADER_SIZE + TEXT_SIZE * n_ext
            if off + TRACE_HEADER_SIZE <= size:
                th = bytes(source.read(off + 114, 2))
                first_trace_ns_candidates.append(int.from_bytes(th, "big" if big else "little"))
        ns_candidates += [v for v in first_trace_ns_candidates if v > 0]
        if ext_ns > 0 and ext_ns not in ns_candidates:
            ns_candidates.append(ext_ns)
    ns_candidates = list(dict.fromkeys(ns_candidates))
    if not ns_candidates:
        raise FormatError(
            "the binary header and first trace header give no sample count", path=name, offset=3220
        )
    max_ns = get_settings().io_max_samples

    mh = int(bh["max_additional_trace_headers"])
    ext_hdr_candidates = [mh, 0] if (rev[0] >= 2 and 0 < mh <= 1000) else [0]
    first_trace_offset = int(bh["first_trace_offset"])

    chosen: tuple[int, int, int, int] | None = None
    fallback: tuple[int, int, int, int] | None = None
    for n_ext in ext_candidates:
        data_offset = FILE_HEADER_SIZE + TEXT_SIZE * n_ext
        if (
            rev2
            and first_trace_offset >= FILE_HEADER_SIZE
            and first_trace_offset <= size
            and n_ext == n_ext_text
        ):
            data_offset = first_trace_offset
        if data_offset > size:
            continue
        for ns in ns_candidates:
            if ns > max_ns:
                continue
            for n_hx in ext_hdr_candidates:
                tsize = TRACE_HEADER_SIZE * (1 + n_hx) + ns * bps
                rest = size - data_offset
                if fallback is None:
                    fallback = (n_ext, ns, n_hx, data_offset)
                if rest % tsize == 0:
                    chosen = (n_ext, ns, n_hx, data_offset)
                    break
            if chosen:
                break
        if chosen:
            break

    if chosen is None:
        if all(ns > max_ns for ns in ns_candidates):
            raise FormatError(
                f"absurd sample count {ns_candidates[0]} per trace (limit {max_ns}, "
                "setting PROMETHIUM_IO_MAX_SAMPLES)",
                path=name,
                offset=3220,
            )
        assert fallback is not None
        n_ext, ns, n_hx, data_offset = fallback
        tsize = TRACE_HEADER_SIZE * (1 + n_hx) + ns * bps
        n_full = (size - data_offset) // tsize
        end = data_offset + n_full * tsize
        msg = (
            f"file size {size} is not the data offset {data_offset} plus a whole number of "
            f"{tsize}-byte traces ({ns} samples of {bps} bytes): {size - end} bytes of an incomplete "
            f"trace {n_full} follow the last complete trace (truncated or inconsistent file)"
        )
        if truncated != "drop":
            raise FormatError(
                msg + "; pass truncated='drop' to read the complete traces", path=name, offset=end
            )
        warn(f"{name}: {msg}; dropped", warnings_list)
        chosen = fallback
    n_ext, ns, n_hx, data_offset = chosen
    tsize = TRACE_HEADER_SIZE * (1 + n_hx) + ns * bps
    n_traces = (size - data_offset) // tsize
    trailing = size - data_offset - n_traces * tsize

    if dt == 0:
        # Fall back on the first trace header, then give up with a clear default.
        if n_traces > 0:
            tdt = int.from_bytes(
                bytes(source.read(data_offset + 116, 2)), "big" if big else "little", signed=True
            )
            if tdt < 0:
                raise FormatError(
                    f"negative sample interval {tdt} us in trace header 0",
                    path=name,
                    offset=data_offset + 116,
                )
            dt = float(tdt)
        if dt == 0:
            warn(f"{name}: no sample interval in the headers; assuming 1 ms", warnings_list)
            dt = 1000.0

    ext_texts = []
    ext_encodings = []
    for k in range(n_ext):
        off = FILE_HEADER_SIZE + TEXT_SIZE * k
        t, enc_k = _decode_text(bytes(source.read(off, TEXT_SIZE)), name, off, warnings_list, strict)
        ext_texts.append(t)
        ext_encodings.append(enc_k)

    confirmed = int(bh["byte_order_constant"]) == 0x01020304 and (
        (ext_ns > 0 and ext_ns == ns) or first_trace_offset == data_offset
    )
    layout = SegyLayout(
        kind="segy",
        confirmed=bool(confirmed),
        big_endian=big,
        sample_format=fmt,
        n_samples=ns,
        sample_interval_us=dt,
        data_offset=data_offset,
        n_traces=int(n_traces),
        n_extension_headers=n_hx,
        revision=rev,
        text_encoding=encoding,
        n_extended_text=n_ext,
        trailing_bytes=int(trailing),
    )
    return _FileHeader(layout, text, ext_texts, bh, raw400, warnings_list, ext_encodings)


def _count_stanzas(source: ByteSource) -> int:
    """Count extended textual headers up to the ((SEG: EndText)) stanza (rev 2 variable count)."""
    k = 0
    while FILE_HEADER_SIZE + TEXT_SIZE * (k + 1) <= source.size and k < 10_000:
        block = bytes(source.read(FILE_HEADER_SIZE + TEXT_SIZE * k, TEXT_SIZE))
        k += 1
        for enc in ("cp037", "latin-1"):
            if "((SEG: ENDTEXT))" in block.decode(enc).upper():
                return k
    raise FormatError(
        "no ((SEG: EndText)) stanza ends the extended textual headers",
        path=source.name,
        offset=FILE_HEADER_SIZE,
    )


def _resolve_su(source: ByteSource, *, endian: str = "auto", truncated: str = "error") -> _FileHeader:
    """SU files have no file header: trace headers + IEEE float samples in either byte order."""
    name, size = source.name, source.size
    if size < TRACE_HEADER_SIZE:
        raise FormatError(
            f"{size} bytes is shorter than one 240-byte SU trace header", path=name, offset=size
        )
    th = bytes(source.read(0, TRACE_HEADER_SIZE))
    orders = [True, False] if endian == "auto" else [endian in ("big", ">")]
    best: tuple[float, bool, int] | None = None
    for big in orders:
        bo: Literal["big", "little"] = "big" if big else "little"
        ns = int.from_bytes(th[114:116], bo)
        if ns <= 0:
            continue
        tsize = TRACE_HEADER_SIZE + 4 * ns
        consistent = size % tsize == 0
        score = 2.0 * consistent
        sample = np.frombuffer(
            bytes(source.read(TRACE_HEADER_SIZE, min(4 * ns, 4096))), dtype=">f4" if big else "<f4"
        )
        with np.errstate(all="ignore"):
            finite = np.isfinite(sample) & (
                (np.abs(sample) < 1e20) & ((sample == 0) | (np.abs(sample) > 1e-20))
            )
        score += float(finite.mean()) if sample.size else 0.0
        if best is None or score > best[0]:
            best = (score, big, ns)
    if best is None:
        raise FormatError(
            "the first SU trace header gives no sample count (bytes 115-116)", path=name, offset=114
        )
    _, big, ns = best
    tsize = TRACE_HEADER_SIZE + 4 * ns
    warnings_list: list[str] = []
    n_traces, trailing = divmod(size, tsize)
    if trailing:
        msg = f"file size {size} is not a whole number of {tsize}-byte SU traces ({trailing} extra bytes)"
        if truncated != "drop":
            raise FormatError(
                msg + "; pass truncated='drop' to read the complete traces",
                path=name,
                offset=n_traces * tsize,
            )
        warn(f"{name}: {msg}; dropped", warnings_list)
    dt = float(int.from_bytes(th[116:118], "big" if big else "little", signed=True))
    if dt < 0:
        raise FormatError(f"negative sample interval {dt:g} us in trace header 0", path=name, offset=116)
    if dt == 0:
        warn(f"{name}: no sample interval in the SU headers; assuming 1 ms", warnings_list)
        dt = 1000.0
    layout = SegyLayout(
        kind="su",
        big_endian=big,
        sample_format=5,
        n_samples=ns,
        sample_interval_us=dt,
        data_offset=0,
        n_traces=int(n_traces),
        text_encoding="none",
        trailing_bytes=int(trailing),
    )
    return _FileHeader(layout, warnings=warnings_list)


# --------------------------------------------------------------------------------------------- file
def _scale(values: np.ndarray, scalar: np.ndarray) -> np.ndarray:
    """Apply a SEG-Y scalar (positive: multiply, negative: divide, zero: one)."""
    s = scalar.astype(np.float64)
    factor = np.where(s > 0, s, np.where(s < 0, -1.0 / np.where(s == 0, 1, s), 1.0))
    return values.astype(np.float64) * factor


class SegyFile(SeismicFile):
    """Lazy access to a SEG-Y or SU file: headers and metadata now, samples when asked.

    ``headers(["inline", "crossline"])`` decodes only the requested fields; ``trace(i)`` decodes one
    trace; ``read(slice)`` returns traces as :class:`SeismicData`; ``to_data()`` the whole file with its
    geometry.
    """

    def __init__(
        self,
        source: ByteSource,
        *,
        kind: str = "segy",
        endian: str = "auto",
        strict: bool = False,
        truncated: str = "error",
        n_samples: int | None = None,
        sample_format: int | None = None,
        sample_interval: float | None = None,
        dtype: Any = np.float32,
        check_alignment: bool = True,
    ) -> None:
        self._source = source
        self.path = source.name
        self.format = kind
        if kind == "su":
            self._fh = _resolve_su(source, endian=endian, truncated=truncated)
        else:
            self._fh = _resolve_layout(
                source,
                endian=endian,
                strict=strict,
                truncated=truncated,
                n_samples=n_samples,
                sample_format=sample_format,
                sample_interval=sample_interval,
            )
        self.layout = self._fh.layout
        self.dtype = np.dtype(dtype)
        code = NUMPY_FORMATS.get(self.layout.sample_format)
        self._sample_dtype = (
            np.dtype(code).newbyteorder(">" if self.layout.big_endian else "<") if code else None
        )
        buf = source.buffer()
        self._buf = np.frombuffer(buf, dtype=np.uint8) if buf is not None else None
        if check_alignment and self.layout.n_traces:
            self._check_alignment(self._sample_trace_ids())

    # -- metadata
    @property
    def n_traces(self) -> int:
        return self.layout.n_traces

    @property
    def n_samples(self) -> int:
        return self.layout.n_samples

    @property
    def sample_interval(self) -> float:
        """In ms."""
        return self.layout.sample_interval_us / 1000.0

    @property
    def textual_header(self) -> str:
        return self._fh.textual_header

    @property
    def binary_header(self) -> dict[str, Any]:
        return dict(self._fh.binary_header)

    @property
    def warnings(self) -> list[str]:
        return list(self._fh.warnings)

    def info(self) -> dict[str, Any]:
        out = super().info()
        out["format_info"] = self.layout.info()
        out["warnings"] = self.warnings
        return out

    def close(self) -> None:
        self._buf = None
        self._source.close()

    # -- raw access
    def _sample_trace_ids(self) -> np.ndarray:
        n = self.n_traces
        return np.unique(np.r_[np.arange(min(n, 16)), np.arange(max(0, n - 16), n)]).astype(np.int64)

    def _block(self, ids: np.ndarray, width: int, rel: int) -> tuple[np.ndarray, np.ndarray]:
        """A uint8 buffer and per-trace offsets of ``width`` bytes at ``rel`` bytes into each trace."""
        offs = self.layout.trace_offset(ids) + rel
        ts = self.layout.trace_size
        if self._buf is not None:
            return self._buf, offs
        if len(ids) == 0:
            return np.zeros(0, dtype=np.uint8), offs
        # Remote source: ranged reads fetched concurrently. Runs of consecutive traces come as whole
        # blocks, unless only a few bytes of each big trace are wanted (headers of long traces).
        piecewise = 0 < width < ts and ts > 4 * 65536
        runs = np.split(ids, np.nonzero(np.diff(ids) != 1)[0] + 1)
        ranges: list[tuple[int, int]] = []
        pos = np.empty(len(ids), dtype=np.int64)
        cursor = k = 0
        for run in runs:
            starts = self.layout.trace_offset(run)
            if piecewise:
                ranges.extend((int(o) + rel, width) for o in starts)
                pos[k : k + len(run)] = cursor + np.arange(len(run), dtype=np.int64) * width
                cursor += len(run) * width
            else:
                ranges.extend(self._split_range(int(starts[0]), len(run) * ts))
                pos[k : k + len(run)] = cursor + np.arange(len(run), dtype=np.int64) * ts + rel
                cursor += len(run) * ts
            k += len(run)
        parts = self._source.read_ranges(ranges)
        buf = np.frombuffer(b"".join(bytes(p) for p in parts), dtype=np.uint8)
        if buf.size < cursor:
            raise FormatError(
                "the object is shorter than its headers say", path=self.path, offset=int(offs[-1])
            )
        return buf, pos

    def _split_range(self, start: int, size: int) -> list[tuple[int, int]]:
        from promethium.core.settings import get_settings

        block = get_settings().io_block_bytes
        return [(start + o, min(block, size - o)) for o in range(0, size, block)]

    def _iter_blocks(self, ids: np.ndarray) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """Yield ``(a, b, buf, offs)``: traces ``ids[a:b]`` start at bytes ``offs`` of ``buf``.

        Bulk reads come in blocks of about 32 MiB, fetched by range requests from remote sources and
        decoded in place from the memory map of a local file.
        """
        n = len(ids)
        if n == 0:
            return
        ts = self.layout.trace_size
        step = max(1, _CHUNK_BYTES // ts)
        bounds = [(a, min(a + step, n)) for a in range(0, n, step)]
        contiguous = int(ids[-1] - ids[0]) == n - 1 and bool(np.all(np.diff(ids) == 1))
        small = n * ts < _RELEASE_MIN_BYTES
        if not (contiguous and self._buf is not None) or small:
            for a, b in bounds:
                buf, offs = self._block(ids[a:b], 0, 0)
                yield a, b, buf, offs
            return
        # Local file: decode straight from the memory map, then drop the pages just used from this
        # process's mapping (they stay in the page cache), so RSS stays bounded by the output.
        source = self._source
        ts_first = int(self.layout.trace_offset(int(ids[0])))
        rel = np.arange(step, dtype=np.int64) * ts
        assert self._buf is not None
        for a, b in bounds:
            start = ts_first + a * ts
            if isinstance(source, LocalSource):
                source.populate(start, (b - a) * ts)
            yield a, b, self._buf, rel[: b - a] + start
            if isinstance(source, LocalSource):
                source.release(start, (b - a) * ts)

    def raw_headers(self, traces: slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The 240-byte standard trace headers as an ``(n, 240)`` uint8 array (file byte order)."""
        ids = self._ids(traces)
        out = np.empty((len(ids), TRACE_HEADER_SIZE), dtype=np.uint8)
        for a, b, buf, offs in self._iter_blocks(ids):
            gather_headers(buf, offs, TRACE_HEADER_SIZE, out=out[a:b])
        return out

    def extension_headers(self, traces: slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Rev 2.1 additional 240-byte trace headers, ``(n, 240 * k)`` uint8."""
        ids = self._ids(traces)
        width = TRACE_HEADER_SIZE * self.layout.n_extension_headers
        if width == 0:
            return np.zeros((len(ids), 0), dtype=np.uint8)
        buf, offs = self._block(ids, width, TRACE_HEADER_SIZE)
        return gather_headers(buf, offs, width)

    def _ids(self, traces: slice | Sequence[int] | np.ndarray | None) -> np.ndarray:
        n = self.n_traces
        if traces is None:
            return np.arange(n, dtype=np.int64)
        if isinstance(traces, slice):
            return np.arange(n, dtype=np.int64)[traces]
        ids = np.asarray(traces, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < -n or ids.max() >= n):
            raise IndexError(f"trace index out of range 0..{n - 1}")
        return np.where(ids < 0, ids + n, ids)

    def headers(
        self, fields: Sequence[str] | None = None, traces: slice | Sequence[int] | np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Decoded trace header fields (all by default) for some or all traces.

        With a few named fields, only their bytes are gathered: the whole-file scan of inline,
        crossline and offset touches one cache line per trace.
        """
        names = [f for f, *_ in TRACE_FIELDS] if fields is None else list(fields)
        unknown = [f for f in names if f not in _TRACE_FIELD]
        if unknown:
            raise KeyError(
                f"unknown trace header field(s) {unknown}; see promethium.io.segy_headers.TRACE_FIELDS"
            )
        endian = ">" if self.layout.big_endian else "<"
        if fields is None or len(names) > 8:
            return self._decode_fields(self._ids(traces), names)
        ids = self._ids(traces)
        # Gather the byte span that covers every requested field in one pass, then view the fields.
        lo = min(_TRACE_FIELD[f][0] for f in names) - 1
        hi = max(_TRACE_FIELD[f][0] + _TRACE_FIELD[f][1] for f in names) - 1
        span = np.empty((len(ids), hi - lo), dtype=np.uint8)
        for a, b, buf, offs in self._iter_blocks(ids):
            gather_headers(buf, offs + lo, hi - lo, out=span[a:b])
        out = {}
        for f in names:
            pos, width, kind = _TRACE_FIELD[f]
            fmt = f"{endian}{kind}{width}" if width > 1 else f"{kind}1"
            col = np.ascontiguousarray(span[:, pos - 1 - lo : pos - 1 - lo + width])
            out[f] = col.view(fmt).reshape(-1).astype(_native(f))
        return out

    def _decode_fields(
        self, ids: np.ndarray, names: Sequence[str], values: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Header fields decoded block by block (no ``(n, 240)`` copy of the headers is kept); with
        ``values``, the samples of the same blocks are decoded into it in the same pass."""
        lay = self.layout
        tdt = trace_dtype(">" if lay.big_endian else "<")
        out = {f: np.empty(len(ids), dtype=_native(f)) for f in names}
        for a, b, buf, offs in self._iter_blocks(ids):
            rec = gather_headers(buf, offs, TRACE_HEADER_SIZE).view(tdt).reshape(-1)
            for f, col in out.items():
                col[a:b] = rec[f]
            if values is not None:
                decode_traces(buf, offs + lay.header_size, lay.sample_format, lay.big_endian, values[a:b])
        return out

    def header_at(
        self, byte: int, width: int = 4, traces: slice | Sequence[int] | np.ndarray | None = None
    ) -> np.ndarray:
        """A signed integer header value at any 1-based byte position (for non-standard layouts)."""
        if width not in (2, 4) or not 1 <= byte <= TRACE_HEADER_SIZE - width + 1:
            raise ValueError(f"cannot read a {width}-byte integer at trace header byte {byte}")
        ids = self._ids(traces)
        buf, offs = self._block(ids, width, byte - 1)
        raw = gather_headers(buf, offs, width)
        endian = ">" if self.layout.big_endian else "<"
        return raw.view(f"{endian}i{width}").reshape(-1).astype(np.int64)

    def _check_alignment(self, ids: np.ndarray, h: dict[str, np.ndarray] | None = None) -> None:
        """Refuse files whose trace headers do not sit where the layout puts them.

        A header whose sample count *and* sample interval are both set and both disagree with the
        layout is not a stale field but a sign that the bytes there are not a trace header.
        ``h`` may give those two fields already read for ``ids``."""
        if h is None:
            h = self.headers(["n_samples", "sample_interval"], ids)
        ns, dt = h["n_samples"].astype(np.int64), h["sample_interval"].astype(np.int64)
        lay = self.layout
        bad = (ns > 0) & (ns != lay.n_samples) & (dt != 0) & (dt != round(lay.sample_interval_us))
        variable = lay.revision[0] >= 2 and int(self._fh.binary_header.get("fixed_length_traces", 1)) == 0
        counts = np.unique(ns[ns > 0])
        if variable and counts.size > 1:
            raise FormatError(
                f"the binary header declares variable-length traces and trace headers give {counts.size} "
                f"different sample counts (e.g. {int(counts[0])} and {int(counts[1])}); variable-length "
                "SEG-Y is not supported",
                path=self.path,
                offset=3502,
            )
        neg = dt < 0
        if neg.any():
            i = int(ids[np.argmax(neg)])
            raise FormatError(
                f"negative sample interval {int(dt[np.argmax(neg)])} us in trace header {i}",
                path=self.path,
                offset=int(lay.trace_offset(i)) + 116,
            )
        if bad.any():
            i = int(ids[np.argmax(bad)])
            consistent = bool(np.all(ns == ns[0]) and np.all(dt == dt[0]))
            msg = (
                f"trace header {i} says {int(ns[np.argmax(bad)])} samples every "
                f"{int(dt[np.argmax(bad)])} us but the "
                f"file layout is {lay.n_samples} samples every {lay.sample_interval_us:g} us"
            )
            if consistent or lay.confirmed:
                # Every header repeats the same stale values while the size fits the binary header:
                # stale per-trace fields, a known quirk of some writers.
                if msg not in self._fh.warnings:
                    warn(
                        f"{self.path}: {msg} (the file layout is stated by the binary header and fits the "
                        "file size); using it",
                        self._fh.warnings,
                    )
                return
            raise FormatError(
                msg + ", and trace headers disagree with each other: trace headers are missing or misplaced",
                path=self.path,
                offset=int(lay.trace_offset(i)),
            )

    # -- samples
    def read_array(
        self,
        traces: slice | Sequence[int] | np.ndarray | None = None,
        samples: slice | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Samples of some traces as an ``(n, m)`` array (float32 unless ``dtype`` said otherwise).

        A trace id of -1 in ``traces`` (array form) gives a row of zeros: a hole in a grid."""
        if isinstance(traces, np.ndarray) and traces.size and traces.min() < 0:
            ids = traces.astype(np.int64)
            valid = ids >= 0
        else:
            ids = self._ids(traces)
            valid = None
        s0, s1, _ = (samples or slice(None)).indices(self.n_samples)
        s1 = max(s1, s0)
        if out is None:
            out = np.empty((len(ids), s1 - s0), dtype=self.dtype)
        if len(ids) == 0 or s1 == s0:
            return out
        hs = self.layout.header_size
        lay = self.layout
        if valid is None:
            for a, b, buf, offs in self._iter_blocks(ids):
                decode_traces(buf, offs + hs, lay.sample_format, lay.big_endian, out[a:b], start=s0)
            return out
        # Grid reads: holes are zero rows; the traces are read in file order, block by block, and land
        # in their rows directly when those rows are consecutive (a file sorted like the grid).
        out[~valid] = 0
        rows = np.nonzero(valid)[0]
        order = np.argsort(ids[valid], kind="stable")
        file_ids = ids[valid][order]
        file_rows = rows[order]
        for a, b, buf, offs in self._iter_blocks(file_ids):
            r = file_rows[a:b]
            if int(r[-1] - r[0]) == b - a - 1 and bool(np.all(np.diff(r) == 1)):
                decode_traces(
                    buf, offs + hs, lay.sample_format, lay.big_endian, out[r[0] : r[-1] + 1], start=s0
                )
            else:
                tmp = np.empty((b - a, s1 - s0), dtype=out.dtype)
                decode_traces(buf, offs + hs, lay.sample_format, lay.big_endian, tmp, start=s0)
                out[r] = tmp
        return out

    def trace(self, i: int) -> np.ndarray:
        """One trace's samples (fast path for random access)."""
        n = self.n_traces
        if not -n <= i < n:
            raise IndexError(f"trace {i} out of range 0..{n - 1}")
        i = i % n
        lay = self.layout
        if self._buf is not None and self._sample_dtype is not None:
            off = lay.data_offset + i * lay.trace_size + lay.header_size
            return np.frombuffer(self._buf, self._sample_dtype, lay.n_samples, off).astype(self.dtype)
        out = np.empty((1, lay.n_samples), dtype=self.dtype)
        if self._buf is not None:
            first = np.array([lay.data_offset + i * lay.trace_size + lay.header_size], dtype=np.int64)
            decode_traces(self._buf, first, lay.sample_format, lay.big_endian, out)
            return out[0]
        return self.read_array(np.array([i]))[0]

    # -- SeismicData
    def _attrs(self) -> dict[str, Any]:
        lay = self.layout
        return {
            "sample_interval": lay.sample_interval_us / 1000.0,
            "sample_unit": "ms",
            "domain": "time",
            "source_format": lay.kind,
            "source_path": self.path,
            "textual_header": self._fh.textual_header,
            "extended_textual_headers": list(self._fh.extended_textual_headers),
            "binary_header": dict(self._fh.binary_header),
            "binary_header_raw": self._fh.binary_raw.hex(),
            "format_info": {**lay.info(), "extended_text_encodings": list(self._fh.extended_text_encodings)},
            "warnings": list(self._fh.warnings),
            "history": [],
        }

    def _start_time(self, hdr: dict[str, np.ndarray]) -> float:
        if not len(hdr.get("delay_time", [])):
            return 0.0
        delay = float(hdr["delay_time"][0])
        scalar = int(hdr["time_scalar"][0]) if "time_scalar" in hdr else 0
        if scalar > 0:
            delay *= scalar
        elif scalar < 0:
            delay /= -scalar
        return delay

    def read(self, traces: slice | None = None, *, headers: str | Sequence[str] = "all") -> SeismicData:
        """Traces as 2D ``(trace, time)`` SeismicData with headers, mask and history."""
        ids = self._ids(traces)
        if headers == "all" and len(ids):
            # One pass over the bytes serves both headers and samples (streaming reads each byte once).
            values = np.empty((len(ids), self.n_samples), dtype=self.dtype)
            hdr = self._decode_fields(ids, [f for f, *_ in TRACE_FIELDS], values=values)
        else:
            values = self.read_array(ids)
            hdr = self._header_vars(ids, headers)
        return self._to_data_2d(values, hdr, ids)

    def _header_vars(self, ids: np.ndarray, headers: str | Sequence[str]) -> dict[str, np.ndarray]:
        if headers == "all":
            return self.headers(None, ids)
        need = {"trace_id", "delay_time", "time_scalar"}
        names = [] if headers == "none" else list(headers)
        return self.headers(sorted(set(names) | need), ids)

    def _mask(self, values: np.ndarray, hdr: dict[str, np.ndarray]) -> np.ndarray:
        live = ~zero_rows(values)
        if "trace_id" in hdr:
            live &= hdr["trace_id"] != _DEAD_TRACE_ID
        return live

    def _coords(self, hdr: dict[str, np.ndarray], dims: tuple[str, ...]) -> dict[str, Any]:
        coords: dict[str, Any] = {}
        if "cdp_x" in hdr and "coordinate_scalar" in hdr:
            coords["cdp_x"] = (dims, _scale(hdr["cdp_x"], hdr["coordinate_scalar"]))
            coords["cdp_y"] = (dims, _scale(hdr["cdp_y"], hdr["coordinate_scalar"]))
        if "offset" in hdr:
            coords["offset"] = (dims, hdr["offset"].astype(np.int64))
        return coords

    def _to_data_2d(self, values: np.ndarray, hdr: dict[str, np.ndarray], ids: np.ndarray) -> SeismicData:
        mask = self._mask(values, hdr)
        t0 = self._start_time(hdr)
        ext = self.extension_headers(ids) if self.layout.n_extension_headers else None
        data = SeismicData.from_array(
            values,
            sample_interval=self.sample_interval,
            start=t0,
            trace_mask=mask,
            headers=hdr,
            coords=self._coords(hdr, ("trace",)),
            attrs=self._attrs(),
            dtype=self.dtype,
        )
        ds = data.dataset
        ds["trace_index"] = ("trace", ids.astype(np.int64))
        ds = ds.assign_coords(trace=("trace", ids.astype(np.int64)))
        if ext is not None:
            ds["trace_header_extensions"] = (("trace", "extension_byte"), ext)
        ds.attrs["geometry"] = {"kind": "2d", "traces": len(ids)}
        return SeismicData(ds)

    def to_data(
        self,
        *,
        geometry: str = "auto",
        inline_byte: int = 189,
        crossline_byte: int = 193,
        duplicates: str = "error",
        headers: str | Sequence[str] = "all",
    ) -> SeismicData:
        """The whole file as SeismicData: a volume when the headers describe a grid, traces otherwise."""
        if geometry not in ("auto", "2d", "3d"):
            raise ValueError("geometry must be 'auto', '2d' or '3d'")
        if duplicates not in ("error", "first", "last"):
            raise ValueError("duplicates must be 'error', 'first' or 'last'")
        ids = np.arange(self.n_traces, dtype=np.int64)
        # Geometry first, from a few fields (12 bytes a trace); the full headers come with the samples.
        # One gather of the fields for the alignment check and the geometry.
        hdr = (
            self.headers(["inline", "crossline", "offset", "n_samples", "sample_interval"])
            if self.n_traces
            else {}
        )
        if self.n_traces:
            self._check_alignment(ids, hdr)
        warnings_list = list(self._fh.warnings)
        grid: GridGeometry | None = None
        if geometry != "2d" and self.n_traces:
            il = (
                self.header_at(inline_byte, 4) if inline_byte != 189 or "inline" not in hdr else hdr["inline"]
            )
            xl = (
                self.header_at(crossline_byte, 4)
                if crossline_byte != 193 or "crossline" not in hdr
                else hdr["crossline"]
            )
            off = hdr.get("offset")
            grid = infer_grid(il, xl, off)
            if grid.kind != "3d":
                if geometry == "3d" and not (grid.n_duplicates and duplicates != "error"):
                    raise GeometryError(
                        f"{self.path}: the headers at bytes {inline_byte}/{crossline_byte} "
                        "do not describe a 3D "
                        f"grid: {grid.reason}"
                        + (
                            f"; duplicates e.g. {grid.duplicate_examples[:3]}"
                            if grid.duplicate_examples
                            else ""
                        )
                        + (
                            "; pass duplicates='first' or 'last' to keep one trace per cell"
                            if grid.n_duplicates
                            else ""
                        )
                    )
                if geometry == "auto" and grid.kind == "irregular" and grid.n_duplicates:
                    warn(
                        f"{self.path}: {grid.n_duplicates} traces repeat an (inline, crossline) pair "
                        f"(e.g. {grid.duplicate_examples[:2]}); kept every trace as a 2D gather",
                        warnings_list,
                    )
        if grid is None or (grid.kind != "3d" and not (geometry == "3d" and grid.n_duplicates)):
            data = self.read(None, headers=headers)
            ds = data.dataset
            ds.attrs["warnings"] = warnings_list
            if grid is not None:
                ds.attrs["geometry"] = grid.report()
            return SeismicData(ds)
        return self._to_volume(self._header_vars(ids, headers), grid, duplicates, warnings_list)

    def _to_volume(
        self, hdr: dict[str, np.ndarray], grid: GridGeometry, duplicates: str, warnings_list: list[str]
    ) -> SeismicData:
        n_il, n_xl = grid.shape
        cell = grid.row * n_xl + grid.col
        cell_trace = np.full(n_il * n_xl, -1, dtype=np.int64)
        ids = np.arange(self.n_traces, dtype=np.int64)
        report = grid.report()
        if grid.n_duplicates:
            # Explicit choice of the caller: keep one trace per cell, report the others.
            order = ids if duplicates == "last" else ids[::-1]
            cell_trace[cell[order]] = order
            kept = np.zeros(self.n_traces, dtype=bool)
            kept[cell_trace[cell_trace >= 0]] = True
            dropped = ids[~kept]
            report["kind"] = "3d"
            report["dropped_duplicates"] = [int(t) for t in dropped[:1000]]
            report["n_dropped_duplicates"] = int(dropped.size)
            report["grid_shape"] = [n_il, n_xl]
            report["holes"] = int((cell_trace < 0).sum())
            warn(
                f"{self.path}: kept the {duplicates} of each duplicated (inline, crossline) pair; "
                f"{dropped.size} traces not in the volume (listed in attrs['geometry'])",
                warnings_list,
            )
        else:
            cell_trace[cell] = ids
        values = self.read_array(cell_trace).reshape(n_il, n_xl, self.n_samples)
        present = cell_trace >= 0
        hvars: dict[str, np.ndarray] = {}
        for name, v in hdr.items():
            g = np.zeros(n_il * n_xl, dtype=v.dtype)
            g[present] = v[cell_trace[present]]
            hvars[name] = g.reshape(n_il, n_xl)
        # Live: present, not all-zero, not flagged dead (no fancy-indexed copy of the amplitudes).
        mask = present & ~zero_rows(values.reshape(n_il * n_xl, -1))
        if "trace_id" in hvars:
            mask &= hvars["trace_id"].reshape(-1) != _DEAD_TRACE_ID
        attrs = self._attrs()
        attrs["warnings"] = warnings_list
        attrs["geometry"] = report
        t0 = self._start_time(hdr)
        data = SeismicData.from_array(
            values,
            sample_interval=self.sample_interval,
            start=t0,
            trace_mask=mask.reshape(n_il, n_xl),
            headers=hvars,
            coords={"inline": ("inline", grid.inlines), "crossline": ("crossline", grid.crosslines)},
            attrs=attrs,
            dtype=self.dtype,
        )
        ds = data.dataset
        ds["trace_index"] = (("inline", "crossline"), cell_trace.reshape(n_il, n_xl))
        if "cdp_x" in hvars and "coordinate_scalar" in hvars:
            ds = ds.assign_coords(self._coords(hvars, ("inline", "crossline")))
            ds = ds.drop_vars("offset", errors="ignore") if "offset" in ds.coords else ds
        if self.layout.n_extension_headers:
            ext = self.extension_headers(np.maximum(cell_trace, 0))
            ext[~present] = 0
            ds["trace_header_extensions"] = (
                ("inline", "crossline", "extension_byte"),
                ext.reshape(n_il, n_xl, -1),
            )
        return SeismicData(ds)

    def iter_chunks(self, traces_per_chunk: int) -> Iterator[SeismicData]:
        for start in range(0, self.n_traces, traces_per_chunk):
            yield self.read(slice(start, min(start + traces_per_chunk, self.n_traces)))


def _native(name: str) -> np.dtype:
    _, width, kind = _TRACE_FIELD[name]
    return np.dtype(f"{kind}{width}")


# --------------------------------------------------------------------------------------------- writing
def _trace_table(data: SeismicData) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray, Any]:
    """Flatten to the traces to write: (values, header columns, mask, is_new, extension bytes)."""
    ds = data.dataset
    if data.is_3d:
        n_il, n_xl = data.shape[:2]
        tidx = (
            np.asarray(ds["trace_index"].values).reshape(-1)
            if "trace_index" in ds
            else np.arange(n_il * n_xl, dtype=np.int64)
        )
        mask = data.trace_mask.reshape(-1)
        keep = (tidx >= 0) | mask
        big = np.iinfo(np.int64).max // 2
        key = np.where(tidx >= 0, tidx, big + np.arange(tidx.size))
        cells = np.nonzero(keep)[0]
        cells = cells[np.argsort(key[cells], kind="stable")]
        values = data.values.reshape(n_il * n_xl, -1)[cells]
        cols = {n: data.header(n).reshape(-1)[cells] for n in data.header_names}
        il_grid, xl_grid = np.meshgrid(
            np.asarray(ds["inline"].values), np.asarray(ds["crossline"].values), indexing="ij"
        )
        is_new = tidx[cells] < 0
        for name, grid in (("inline", il_grid), ("crossline", xl_grid)):
            col = cols.get(name)
            g = grid.reshape(-1)[cells].astype(np.int32)
            cols[name] = g if col is None else np.where(is_new, g, col).astype(col.dtype)
        ext = None
        if "trace_header_extensions" in ds:
            ext = np.asarray(ds["trace_header_extensions"].values).reshape(n_il * n_xl, -1)[cells]
        return values, cols, mask[cells], is_new, ext
    values = data.values
    cols = {n: data.header(n) for n in data.header_names}
    tidx = np.asarray(ds["trace_index"].values) if "trace_index" in ds else np.arange(len(values))
    ext = np.asarray(ds["trace_header_extensions"].values) if "trace_header_extensions" in ds else None
    return values, cols, data.trace_mask, tidx < 0, ext


def _pick_format(data: SeismicData, values: np.ndarray, requested: int | None, su: bool) -> int:
    if su:
        if requested not in (None, 5):
            raise PromethiumError("Seismic Unix files hold 4-byte IEEE floats only (sample_format=5)")
        return 5
    if requested is not None:
        if requested not in SAMPLE_FORMATS:
            raise PromethiumError(f"unknown SEG-Y sample format {requested}; valid: {sorted(SAMPLE_FORMATS)}")
        return int(requested)
    src = (
        data.attrs.get("format_info", {}).get("sample_format")
        if data.attrs.get("source_format") == "segy"
        else None
    )
    if src in (1, 5, 6):
        return int(src)
    if src is None and values.dtype == np.float64:
        return 6  # keep double precision (SEG-Y rev 2 format 6) rather than round to float32
    if (
        src in SAMPLE_FORMATS
        and values.size
        and np.all(np.isfinite(values))
        and np.array_equal(values, np.round(values))
    ):
        return int(src)
    return 5


_INT_RANGES = {
    2: (-(2**31), 2**31 - 1),
    3: (-(2**15), 2**15 - 1),
    7: (-(2**23), 2**23 - 1),
    8: (-128, 127),
    9: (-(2**63), 2**63 - 1),
    10: (0, 2**32 - 1),
    11: (0, 2**16 - 1),
    12: (0, 2**64 - 1),
    15: (0, 2**24 - 1),
    16: (0, 255),
}


def _check_range(values: np.ndarray, fmt: int) -> None:
    if fmt in _INT_RANGES and values.size:
        lo, hi = _INT_RANGES[fmt]
        if not np.isfinite(values).all():
            raise PromethiumError(
                f"amplitudes hold NaN or infinite values, which sample format {fmt} "
                f"({SAMPLE_FORMATS[fmt][1]}) cannot store; choose sample_format=5 or fill them"
            )
        vmin, vmax = float(values.min()), float(values.max())
        if vmin < lo or vmax > hi:
            raise PromethiumError(
                f"amplitudes span {vmin:g}..{vmax:g}, outside the range of sample format {fmt} "
                f"({SAMPLE_FORMATS[fmt][1]}: {lo}..{hi}); choose sample_format=5 or rescale"
            )


def _set_start_time(th: np.ndarray, cols: dict[str, np.ndarray], t0: float) -> None:
    """Make the delay recording time (bytes 109-110, scaled by bytes 215-216) say ``t0`` ms.

    Kept as read when the headers already say so; otherwise the smallest decimal scalar that holds
    ``t0`` exactly in the 16-bit field, else the nearest value with a warning."""
    if len(th) == 0:
        return
    if "delay_time" in cols:
        scalar = int(th["time_scalar"][0]) if "time_scalar" in cols else 0
        delay = float(th["delay_time"][0])
        implied = delay * scalar if scalar > 0 else (delay / -scalar if scalar < 0 else delay)
        if abs(implied - t0) <= 1e-9 * max(1.0, abs(t0)):
            return
    for k in range(4):
        value = t0 * 10**k
        if abs(value - round(value)) <= 1e-9 * max(1.0, abs(value)) and -32768 <= round(value) <= 32767:
            th["delay_time"] = round(value)
            th["time_scalar"] = -(10**k) if k else (th["time_scalar"] if "time_scalar" in cols else 0)
            if k == 0 and "time_scalar" in cols and int(th["time_scalar"][0]) not in (0, 1):
                th["time_scalar"] = 1
            return
    th["delay_time"] = int(np.clip(round(t0), -32768, 32767))
    th["time_scalar"] = 1
    warn(
        f"start time {t0:g} ms cannot be stored exactly in the SEG-Y delay field; "
        f"wrote {int(th['delay_time'][0])} ms"
    )


def _default_text(data: SeismicData) -> str:
    lines = [
        "C 1 WRITTEN BY PROMETHIUM",
        f"C 2 SAMPLES {data.n_samples} INTERVAL {data.sample_interval:g} {data.sample_unit.upper()}",
        f"C 3 TRACES {data.n_traces} SOURCE FORMAT {str(data.attrs.get('source_format', '')).upper()}",
    ]
    for k, h in enumerate(data.history[-30:]):
        lines.append(f"C{k + 4:2d} {h.get('operation', '')} {h.get('time', '')}"[:80])
    lines.append("C40 END TEXTUAL HEADER")
    lines += [f"C{i:2d}" for i in range(len(lines) + 1, 41)]
    return "".join(line.ljust(80)[:80] for line in lines[:40])


def write_segy(
    data: SeismicData,
    path: str,
    *,
    sample_format: int | None = None,
    endian: str | None = None,
    textual_header: str | None = None,
    su: bool = False,
    chunk_traces: int | None = None,
) -> None:
    """Write SEG-Y (or SU with ``su=True``), keeping every header that ``data`` carries.

    Headers that describe the layout (sample count, interval, format, revision fields) are set from the
    data; all other binary and trace header fields are written back as read. Masked traces that are not
    all-zero get trace identification code 2 so that the mask survives the round trip.
    """
    if data.sample_unit != "ms" and not su:
        pass  # depth data is written with the interval in the same field, as SEG-Y does
    values, cols, mask, is_new, ext = _trace_table(data)
    n, ns = values.shape
    if endian is None:
        # keep the byte order of the source; new SEG-Y is big-endian, new SU little-endian
        src_order = data.attrs.get("format_info", {}).get("byte_order")
        endian = (
            src_order
            if data.attrs.get("source_format") in ("segy", "su") and src_order
            else ("little" if su else "big")
        )
    big = endian in ("big", ">")
    fmt = _pick_format(data, values, sample_format, su)
    _check_range(values, fmt)
    dt_us = data.sample_interval * 1000.0
    e = ">" if big else "<"
    n_hx = 0 if su or ext is None else ext.shape[1] // TRACE_HEADER_SIZE
    if ext is not None and ext.shape[1] % TRACE_HEADER_SIZE:
        raise PromethiumError("trace_header_extensions must be a whole number of 240-byte headers")

    # -- trace headers
    th = np.zeros(n, dtype=trace_dtype(e))
    for name, col in cols.items():
        if name in _TRACE_FIELD:
            th[name] = col
    src = data.attrs.get("format_info", {})
    same_layout = (
        data.attrs.get("source_format") in ("segy", "su")
        and src.get("n_samples") == ns
        and src.get("sample_interval_us") == dt_us
    )
    if not (same_layout and "n_samples" in cols):
        th["n_samples"] = ns if ns <= 0xFFFF else 0
    if not (same_layout and "sample_interval" in cols):
        th["sample_interval"] = round(dt_us) if dt_us <= 32767 else 0
    _set_start_time(th, cols, float(data.samples[0]) if ns else 0.0)
    tid = th["trace_id"].astype(np.int64)
    nonzero = ~zero_rows(values) if n else np.zeros(0, dtype=bool)
    tid = np.where(~mask & nonzero & (tid != _DEAD_TRACE_ID), _DEAD_TRACE_ID, tid)
    tid = np.where(is_new & mask & (tid == 0), 1, tid)
    # The trace mask is authoritative: a trace flagged dead in its headers that an operation filled
    # (reconstruction) is written live. Data read from SEG-Y never has this case (dead => masked).
    tid = np.where(mask & (tid == _DEAD_TRACE_ID), 1, tid)
    th["trace_id"] = tid
    th_bytes = th.view(np.uint8).reshape(n, TRACE_HEADER_SIZE)

    # -- file header
    prefix = b""
    if not su:
        enc = data.attrs.get("format_info", {}).get("text_encoding", "ebcdic")
        enc = enc if enc in ("ebcdic", "ascii") else "ebcdic"
        text = (
            textual_header
            if textual_header is not None
            else data.attrs.get("textual_header") or _default_text(data)
        )
        ext_texts = list(data.attrs.get("extended_textual_headers", []) or [])
        ext_enc = list(data.attrs.get("format_info", {}).get("extended_text_encodings", []) or [])
        raw_hex = data.attrs.get("binary_header_raw")
        src_big = data.attrs.get("format_info", {}).get("byte_order", "big") == "big"
        bh = np.frombuffer(bytearray(400), dtype=binary_dtype(e))
        if raw_hex and src_big == big:
            # A writable view of a fresh bytearray: copying a structured array would leave the
            # unassigned gaps between fields uninitialised.
            bh = np.frombuffer(bytearray(bytes.fromhex(raw_hex)), dtype=binary_dtype(e))
        old = data.attrs.get("binary_header") or {}
        raw_used = bool(raw_hex) and src_big == big
        for name, *_ in BINARY_FIELDS:
            if name in old and not raw_used:
                with contextlib.suppress(OverflowError, ValueError, TypeError):
                    bh[name] = old[name]
        needs_rev2 = ns > 0xFFFF or not float(dt_us).is_integer() or dt_us > 32767 or n_hx > 0
        if not raw_used and fmt in (9, 10, 11, 12, 15, 16):
            needs_rev2 = True
        rev = (int(bh["revision_major"][0]), int(bh["revision_minor"][0]))
        if (
            needs_rev2
            and rev[0] < 2
            and not (raw_used and ns <= 0xFFFF and float(dt_us).is_integer() and dt_us <= 32767)
        ):
            bh["revision_major"] = 2
            bh["revision_minor"] = 1 if n_hx else 0
        elif not raw_used and rev == (0, 0):
            bh["revision_major"] = 1
        if int(bh["sample_interval"][0]) != round(dt_us) and dt_us <= 32767:
            bh["sample_interval"] = round(dt_us)
        if ns <= 0xFFFF and int(bh["n_samples"][0]) != ns and int(bh["ext_n_samples"][0]) != ns:
            bh["n_samples"] = ns
        if int(bh["format"][0]) != fmt:
            bh["format"] = fmt
        if needs_rev2 and not (raw_used and same_layout):
            bh["byte_order_constant"] = 0x01020304
            if ns > 0xFFFF or int(bh["ext_n_samples"][0]) not in (0, ns):
                bh["ext_n_samples"] = ns
            if not float(dt_us).is_integer() or dt_us > 32767:
                bh["ext_sample_interval"] = dt_us
            bh["max_additional_trace_headers"] = n_hx
        if int(bh["n_extended_textual_headers"][0]) != len(ext_texts):
            bh["n_extended_textual_headers"] = len(ext_texts)
        if int(bh["fixed_length_traces"][0]) == 0 and int(bh["revision_major"][0]) >= 1 and not raw_used:
            bh["fixed_length_traces"] = 1
        if int(bh["first_trace_offset"][0]) not in (0, FILE_HEADER_SIZE + TEXT_SIZE * len(ext_texts)):
            bh["first_trace_offset"] = 0
        prefix = (
            _encode_text(text, enc)
            + bh.view(np.uint8).tobytes()
            + b"".join(
                _encode_text(t, ext_enc[k] if k < len(ext_enc) else enc) for k, t in enumerate(ext_texts)
            )
        )

    # -- traces, streamed in chunks
    bps = SAMPLE_FORMATS[fmt][0]
    hsize = TRACE_HEADER_SIZE * (1 + n_hx)
    tsize = hsize + ns * bps
    step = chunk_traces or max(1, (32 * 1024 * 1024) // max(tsize, 1))
    with atomic_output(path) as fh:
        fh.write(prefix)
        for a in range(0, n, step):
            b = min(n, a + step)
            buf = np.empty((b - a) * tsize, dtype=np.uint8)
            rows = buf.reshape(b - a, tsize)
            rows[:, :TRACE_HEADER_SIZE] = th_bytes[a:b]
            if n_hx and ext is not None:
                rows[:, TRACE_HEADER_SIZE:hsize] = ext[a:b]
            offs = np.arange(b - a, dtype=np.int64) * tsize + hsize
            encode_traces(values[a:b], fmt, big, buf, offs)
            fh.write(buf.data)


# --------------------------------------------------------------------------------------------- plugins
_READ_OPTIONS = ("endian", "strict", "truncated", "n_samples", "sample_format", "sample_interval", "dtype")


class SegyPlugin(FormatPlugin):
    """SEG-Y rev 0, 1, 2.0 and 2.1."""

    name = "segy"
    description = "SEG-Y rev 0-2.1 (all sample formats, both byte orders)"

    def sniff(self, head: bytes, size: int) -> bool:
        if size < FILE_HEADER_SIZE or len(head) < FILE_HEADER_SIZE:
            return False
        asc, ebc = _looks_like_text(head[:TEXT_SIZE])
        texty = max(asc, ebc) >= 0.75 or head[0] in (0xC3, 0x43)
        raw400 = head[TEXT_SIZE:FILE_HEADER_SIZE]
        for big in (True, False):
            bh = _read_binary(raw400, big)
            if not _plausible_format(int(bh["format"])):
                continue
            # Some writers leave the textual header blank (NULs): then insist on a sample count.
            if texty or int(bh["n_samples"]) > 0 or int(bh["ext_n_samples"]) > 0:
                return True
        return False

    def _file(self, source: ByteSource, options: dict[str, Any]) -> SegyFile:
        kw = {k: options.pop(k) for k in _READ_OPTIONS if k in options}
        return SegyFile(source, kind=self.name, **kw)

    def read(self, source: ByteSource, **options: Any) -> SeismicData:
        f = self._file(source, options)
        return f.to_data(**options)

    def open(self, source: ByteSource, **options: Any) -> SegyFile:
        f = self._file(source, options)
        if options:
            raise TypeError(f"unexpected options for open(): {sorted(options)}")
        return f

    def iter_chunks(self, source: ByteSource, traces_per_chunk: int, **options: Any) -> Iterator[SeismicData]:
        f = self._file(source, options)
        yield from f.iter_chunks(traces_per_chunk)

    def write(self, data: SeismicData, path: str, **options: Any) -> None:
        write_segy(data, path, **options)


class SuPlugin(SegyPlugin):
    """Seismic Unix: 240-byte SEG-Y trace headers and IEEE float samples, no file header."""

    name = "su"
    description = "Seismic Unix (both byte orders)"

    def sniff(self, head: bytes, size: int) -> bool:
        if size < TRACE_HEADER_SIZE or len(head) < TRACE_HEADER_SIZE:
            return False
        for bo in ("big", "little"):
            ns = int.from_bytes(head[114:116], bo)
            dt = int.from_bytes(head[116:118], bo, signed=True)
            if ns > 0 and dt >= 0 and size % (TRACE_HEADER_SIZE + 4 * ns) == 0:
                return True
        return False

    def write(self, data: SeismicData, path: str, **options: Any) -> None:
        write_segy(data, path, su=True, **options)
