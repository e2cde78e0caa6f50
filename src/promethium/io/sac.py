"""SAC: binary (either byte order, header versions 6 and 7) and alphanumeric, one trace per file.

The SAC layout is small and fixed (a 632-byte header of 70 float32, 40 int32 and 192 bytes of strings,
then ``npts`` float32 samples, then for ``nvhdr = 7`` a footer of 22 float64 values), so it is decoded
here with numpy rather than through ObsPy: ObsPy's SAC reader does not know the version 7 footer, does
not say where a file is wrong, and takes a second to import. ObsPy serves as the independent reference
in the tests.

What :meth:`SacPlugin.read` returns: dims ``("trace", "time")`` with one row; every SAC header field as
a per-trace header under its SAC name (``delta``, ``b``, ``nzyear``, ``kstnm``, ...) so that a write
reproduces it: floats as float32, except the fields the version 7 footer carries in double precision
(:data:`FOOTER_FIELDS`), which are float64; integers, enumerations and logicals as int32; strings as str
(undefined ones keep SAC's ``-12345``). The common station headers of :mod:`promethium.io` are added:
``source_id``, ``network``, ``station``, ``location``, ``channel`` (``""`` when undefined),
``start_time`` (reference time + ``b``, datetime64[ns], NaT without a reference time), ``n_valid`` and
``sample_rate``. The time axis is in ms from ``start_time``; ``sample_interval = delta * 1000``.

Strings cut by a NUL byte or holding non-ASCII bytes are read (up to the NUL; bytes as Latin-1) with a
warning. Only evenly sampled time series are amplitudes; spectral and unevenly sampled files are refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from promethium.core.errors import FormatError, PromethiumError, UnsupportedFormatError
from promethium.io.base import FormatPlugin, atomic_output, warn
from promethium.io.data import SeismicData
from promethium.io.miniseed import _make_source_id
from promethium.io.source import ByteSource

__all__ = ["FLOAT_FIELDS", "FOOTER_FIELDS", "INT_FIELDS", "STRING_FIELDS", "SacAlphaPlugin", "SacPlugin"]

#: The 70 float header words, in file order (``fmt`` and the ``unused`` words are kept as they are).
FLOAT_FIELDS: tuple[str, ...] = (
    "delta", "depmin", "depmax", "scale", "odelta", "b", "e", "o", "a", "fmt",
    "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9",
    "f", "resp0", "resp1", "resp2", "resp3", "resp4", "resp5", "resp6", "resp7", "resp8",
    "resp9", "stla", "stlo", "stel", "stdp", "evla", "evlo", "evel", "evdp", "mag",
    "user0", "user1", "user2", "user3", "user4", "user5", "user6", "user7", "user8", "user9",
    "dist", "az", "baz", "gcarc", "sb", "sdelta", "depmen", "cmpaz", "cmpinc", "xminimum",
    "xmaximum", "yminimum", "ymaximum", "unused63", "unused64", "unused65", "unused66", "unused67",
    "unused68", "unused69",
)  # fmt: skip
#: The 40 integer, enumerated and logical header words, in file order.
INT_FIELDS: tuple[str, ...] = (
    "nzyear", "nzjday", "nzhour", "nzmin", "nzsec", "nzmsec", "nvhdr", "norid", "nevid", "npts",
    "nsnpts", "nwfid", "nxsize", "nysize", "unused84", "iftype", "idep", "iztype", "unused88", "iinst",
    "istreg", "ievreg", "ievtyp", "iqual", "isynth", "imagtyp", "imagsrc", "ibody", "unused98",
    "unused99", "unused100", "unused101", "unused102", "unused103", "unused104", "leven", "lpspol",
    "lovrok", "lcalda", "unused109",
)  # fmt: skip
#: The 23 string header fields (``kevnm`` is 16 characters, the others 8), in file order.
STRING_FIELDS: tuple[str, ...] = (
    "kstnm", "kevnm", "khole", "ko", "ka", "kt0", "kt1", "kt2", "kt3", "kt4", "kt5", "kt6", "kt7",
    "kt8", "kt9", "kf", "kuser0", "kuser1", "kuser2", "kcmpnm", "knetwk", "kdatrd", "kinst",
)  # fmt: skip
#: The fields a version 7 file repeats in double precision after the samples, in footer order.
FOOTER_FIELDS: tuple[str, ...] = (
    "delta", "b", "e", "o", "a", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9",
    "f", "evlo", "evla", "stlo", "stla", "sb", "sdelta",
)  # fmt: skip

HEADER_BYTES = 632
FOOTER_BYTES = 8 * len(FOOTER_FIELDS)
_NVHDR_OFFSET = 4 * 70 + 4 * 6
_NPTS_OFFSET = 4 * 70 + 4 * 9
_STRING_WIDTHS = tuple(16 if name == "kevnm" else 8 for name in STRING_FIELDS)
_FUNDEF = -12345.0
_IUNDEF = -12345
_SUNDEF = "-12345"
# iftype codes: time series, spectral (real/imag, amp/phase), general x-y, general x-y-z.
_ITIME, _IRLIM, _IAMPH, _IXY, _IXYZ = 1, 2, 3, 4, 51
_IB = 9
_FOOTER_SET = frozenset(FOOTER_FIELDS)
_FLOAT_INDEX = {name: i for i, name in enumerate(FLOAT_FIELDS)}
_INT_INDEX = {name: i for i, name in enumerate(INT_FIELDS)}


# ---------------------------------------------------------------------------------------------- decoding
def _byte_order(head: bytes | memoryview) -> str | None:
    """``"<"`` or ``">"``: the byte order in which ``nvhdr`` (byte 304) reads 6 or 7."""
    if len(head) < HEADER_BYTES:
        return None
    for order in ("<", ">"):
        if int(np.frombuffer(head, dtype=order + "i4", count=1, offset=_NVHDR_OFFSET)[0]) in (6, 7):
            return order
    return None


def _components(iftype: int, leven: int) -> int:
    """Data sections in the file: two for spectra and unevenly sampled data, else one."""
    if iftype in (_IRLIM, _IAMPH) or (leven == 0 and iftype != _IXYZ):
        return 2
    return 1


def _decode_string(raw: bytes, name: str, odd: list[str]) -> str:
    """A header string: cut at a NUL, non-ASCII bytes kept as Latin-1, trailing blanks removed."""
    if b"\x00" in raw:
        raw = raw.split(b"\x00", 1)[0]
        odd.append(f"{name} (NUL-terminated)")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        odd.append(f"{name} (non-ASCII bytes)")
    return text.rstrip(" ")


def _reference_ns(ints: dict[str, int]) -> int | None:
    """The SAC reference time (``nz*`` fields) in ns since the epoch, or None when undefined."""
    parts = [ints[k] for k in ("nzyear", "nzjday", "nzhour", "nzmin", "nzsec", "nzmsec")]
    if any(p == _IUNDEF for p in parts):
        return None
    year, jday, hour, minute, sec, msec = parts
    if not (
        1 <= jday <= 366 and 0 <= hour <= 24 and 0 <= minute <= 60 and 0 <= sec <= 61 and 0 <= msec < 1000
    ):
        return None
    if 0 <= year < 100:  # two-digit years of old files
        year += 1900
    try:
        day0 = np.datetime64(f"{year:04d}-01-01", "ns")
    except ValueError:
        return None
    offset = ((((jday - 1) * 24 + hour) * 60 + minute) * 60 + sec) * 10**9 + msec * 10**6
    return int(day0.astype(np.int64)) + offset


def _build(
    floats: dict[str, float],
    ints: dict[str, int],
    strings: dict[str, str],
    samples: np.ndarray,
    name: str,
    fmt: str,
    format_info: dict[str, Any],
    notes: list[str],
    dtype: np.dtype[Any],
) -> SeismicData:
    """SeismicData of one SAC trace from its decoded header and samples."""
    delta = floats["delta"]
    if not (math.isfinite(delta) and delta > 0):
        raise FormatError(
            f"delta (the sample interval, byte 0) is {delta}, not a positive number", path=name, offset=0
        )
    headers: dict[str, np.ndarray] = {}
    for key in FLOAT_FIELDS:
        headers[key] = np.array([floats[key]], dtype=np.float64 if key in _FOOTER_SET else np.float32)
    for key in INT_FIELDS:
        headers[key] = np.array([ints[key]], dtype=np.int32)
    for key in STRING_FIELDS:
        headers[key] = np.array([strings[key]], dtype=str)

    def code(key: str) -> str:
        v = strings[key]
        return "" if v.startswith(_SUNDEF) else v.strip()

    net, sta, loc, chan = code("knetwk"), code("kstnm"), code("khole"), code("kcmpnm")
    ref = _reference_ns(ints)
    b = floats["b"]
    if b != _FUNDEF and not (math.isfinite(b) and abs(b) < 9e9):
        raise FormatError(f"begin time b = {b!r} s is not a usable number", path=name, offset=20)
    start_ns = None if ref is None else ref + (round(b * 1e9) if b != _FUNDEF else 0)
    start = np.array([start_ns if start_ns is not None else "NaT"], dtype="datetime64[ns]")
    headers.update(
        {
            "source_id": np.array([_make_source_id(net, sta, loc, chan)], dtype=str),
            "network": np.array([net], dtype=str),
            "station": np.array([sta], dtype=str),
            "location": np.array([loc], dtype=str),
            "channel": np.array([chan], dtype=str),
            "start_time": start,
            "n_valid": np.array([samples.size], dtype=np.int64),
            "sample_rate": np.array([1.0 / delta], dtype=np.float64),
        }
    )
    attrs = {"source_format": fmt, "format_info": format_info, "warnings": notes}
    return SeismicData.from_array(
        samples.reshape(1, -1), sample_interval=delta * 1000.0, headers=headers, attrs=attrs, dtype=dtype
    )


def _read_options(options: dict[str, Any]) -> np.dtype[Any]:
    dtype = np.dtype(options.pop("dtype", np.float32))
    if options:
        raise PromethiumError(f"unknown SAC read option(s): {', '.join(sorted(options))}")
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise PromethiumError(f"dtype must be float32 or float64, not {dtype}")
    return dtype


def _check_time_series(ints: dict[str, int], name: str, offset: int) -> int:
    ncomp = _components(ints["iftype"], ints["leven"])
    if ncomp != 1:
        raise UnsupportedFormatError(
            f"a SAC file of iftype {ints['iftype']} with leven {ints['leven']} holds spectra or unevenly "
            "sampled data, not an evenly sampled time series",
            path=name,
            offset=offset,
        )
    return ncomp


def _warn_odd(odd: list[str], name: str, notes: list[str]) -> None:
    if odd:
        warn(f"{name}: header strings read with repairs: {', '.join(odd)}", notes, stacklevel=4)


# ---------------------------------------------------------------------------------------------- writing
def _header_for_write(
    data: SeismicData, version: int, update_stats: bool | None, notes: list[str]
) -> tuple[dict[str, float], dict[str, int], dict[str, str], np.ndarray]:
    """The header fields and samples to write for the single trace of ``data``.

    Fields the data carries (as read from SAC) are kept bit for bit; ``npts``, ``delta``, ``b``/``e`` and
    the reference time are made to agree with the samples and the time axis, and the station codes and
    start time of data from other formats fill the SAC fields.
    """
    if data.is_3d:
        data = data.to_traces()
    if data.n_traces != 1:
        raise PromethiumError(
            f"SAC holds one trace per file and the data has {data.n_traces}; write each one, e.g. "
            "data.isel(trace=[i])"
        )
    if data.sample_unit != "ms":
        raise PromethiumError("SAC stores time series; depth-domain data cannot be written")
    names = set(data.header_names)

    def hdr(key: str) -> Any:
        return data.header(key).reshape(-1)[0] if key in names else None

    row = data.values.reshape(-1)
    n_valid = hdr("n_valid")
    n = row.size if n_valid is None else max(0, min(int(n_valid), row.size))
    samples = np.ascontiguousarray(row[:n], dtype=np.float32)
    if row.dtype != np.float32 and not np.array_equal(samples.astype(row.dtype), row[:n], equal_nan=True):
        warn("samples rounded to float32, the only sample type of SAC", notes, stacklevel=4)

    floats = {k: _FUNDEF for k in FLOAT_FIELDS}
    ints = {k: _IUNDEF for k in INT_FIELDS}
    strings = {k: _SUNDEF for k in STRING_FIELDS}
    ints.update(iftype=_ITIME, leven=1, lpspol=0, lovrok=1, lcalda=0)
    from_sac = "delta" in names and "nzyear" in names
    for k in FLOAT_FIELDS:
        v = hdr(k)
        if v is not None:
            floats[k] = float(v)
    for k in INT_FIELDS:
        v = hdr(k)
        if v is not None:
            ints[k] = int(v)
    for k in STRING_FIELDS:
        v = hdr(k)
        if v is not None:
            strings[k] = str(v)
    if not from_sac:
        for key, col in (
            ("knetwk", "network"),
            ("kstnm", "station"),
            ("khole", "location"),
            ("kcmpnm", "channel"),
        ):
            v = hdr(col)
            if v is not None and str(v):
                strings[key] = str(v)
    ints["nvhdr"] = version
    # e is only recomputed when what it derives from changed: files whose e disagrees with b, npts and
    # delta exist, and an unchanged trace must be written back as it was read.
    derived_changed = ints["npts"] != n
    ints["npts"] = n

    delta = data.sample_interval / 1000.0
    if not (floats["delta"] > 0 and math.isclose(floats["delta"], delta, rel_tol=1e-6)):
        floats["delta"] = delta
        derived_changed = True
    delta = floats["delta"]

    # Time: the first written sample is at start_time + the first time-axis value.
    offset_ns = round(float(data.samples[0]) * 1e6) if data.n_samples else 0
    start = hdr("start_time")
    start_ns = (
        None
        if start is None or np.isnat(start)
        else int(np.datetime64(start, "ns").astype(np.int64)) + offset_ns
    )
    ref = _reference_ns(ints)
    if start_ns is not None:
        if ref is None:
            ref = start_ns - start_ns % 1_000_000
            day = np.datetime64(ref, "ns").astype("datetime64[D]")
            year = int(str(day.astype("datetime64[Y]")))
            rest = ref - int(day.astype("datetime64[ns]").astype(np.int64))
            ints.update(
                nzyear=year,
                nzjday=int((day - day.astype("datetime64[Y]")).astype(np.int64)) + 1,
                nzhour=rest // 3_600_000_000_000,
                nzmin=rest // 60_000_000_000 % 60,
                nzsec=rest // 1_000_000_000 % 60,
                nzmsec=rest // 1_000_000 % 1000,
                iztype=_IB,
            )
        b_new = (start_ns - ref) / 1e9
        # start_time came from b (in float32 or float64); only a real move replaces it.
        if floats["b"] == _FUNDEF or abs(floats["b"] - b_new) > 5e-10 + 1e-7 * abs(b_new):
            floats["b"] = b_new
            derived_changed = True
    elif floats["b"] == _FUNDEF or offset_ns:
        floats["b"] = (0.0 if floats["b"] == _FUNDEF else floats["b"]) + offset_ns / 1e9
        derived_changed = True
    if derived_changed or floats["e"] == _FUNDEF:
        floats["e"] = floats["b"] + (n - 1) * delta if n else floats["b"]
    if update_stats is None:
        update_stats = not from_sac or bool(data.history)
    if update_stats:
        if n:
            floats["depmin"] = float(np.min(samples))
            floats["depmax"] = float(np.max(samples))
            floats["depmen"] = float(np.mean(samples, dtype=np.float64))
        else:
            floats["depmin"] = floats["depmax"] = floats["depmen"] = _FUNDEF
    return floats, ints, strings, samples


def _encode_strings(strings: dict[str, str], notes: list[str]) -> bytes:
    parts = []
    for key, width in zip(STRING_FIELDS, _STRING_WIDTHS, strict=True):
        raw = strings[key].encode("latin-1", errors="replace")
        if len(raw) > width:
            warn(f"SAC header {key}={strings[key]!r} cut to {width} characters", notes, stacklevel=5)
            raw = raw[:width]
        parts.append(raw.ljust(width, b" "))
    return b"".join(parts)


def _write_options(options: dict[str, Any], data: SeismicData) -> tuple[int, bool | None]:
    default_version = 6
    if "nvhdr" in data.header_names:
        stored = int(data.header("nvhdr").reshape(-1)[0])
        default_version = stored if stored in (6, 7) else 6
    version = int(options.pop("version", default_version))
    if version not in (6, 7):
        raise PromethiumError(f"SAC header version must be 6 or 7, not {version}")
    update_stats = options.pop("update_stats", None)
    return version, update_stats


# ---------------------------------------------------------------------------------------------- plugins
class SacPlugin(FormatPlugin):
    """Binary SAC, little- or big-endian, header version 6 or 7."""

    name = "sac"
    description = "SAC binary (either byte order, nvhdr 6 and 7)"

    def sniff(self, head: bytes, size: int) -> bool:
        """``nvhdr`` (byte 304) is 6 or 7 in one byte order and the rest of the header is sane.

        The file size is not required to match ``npts`` exactly: a truncated or padded SAC file is still
        recognised, so that reading it reports the size mismatch instead of "unknown format".
        """
        order = _byte_order(head)
        if order is None or size < HEADER_BYTES:
            return False
        f = np.frombuffer(head, dtype=order + "f4", count=70)
        i = np.frombuffer(head, dtype=order + "i4", count=40, offset=280)
        delta, npts, iftype, leven = float(f[0]), int(i[9]), int(i[15]), int(i[35])
        if (
            npts < 0
            or leven not in (0, 1, _IUNDEF)
            or iftype not in (_ITIME, _IRLIM, _IAMPH, _IXY, _IXYZ, _IUNDEF)
        ):
            return False
        if not (math.isfinite(delta) and (delta > 0 or delta == _FUNDEF)):
            return False
        ncomp = _components(iftype, leven)
        exact = HEADER_BYTES + 4 * npts * ncomp + (FOOTER_BYTES if int(i[6]) == 7 else 0)
        return size == exact or delta > 0

    def read(self, source: ByteSource, **options: Any) -> SeismicData:
        """Decode the file. Option ``dtype``: ``float32`` (default) or ``float64``."""
        dtype = _read_options(options)
        name, size = source.name, source.size
        if size < HEADER_BYTES:
            raise FormatError(
                f"{size} bytes, shorter than the {HEADER_BYTES}-byte SAC header", path=name, offset=size
            )
        buf = source.read(0, size)
        order = _byte_order(buf)
        if order is None:
            le = int(np.frombuffer(buf, dtype="<i4", count=1, offset=_NVHDR_OFFSET)[0])
            be = int(np.frombuffer(buf, dtype=">i4", count=1, offset=_NVHDR_OFFSET)[0])
            raise FormatError(
                f"header version nvhdr reads {le} (little-endian) / {be} (big-endian); SAC files have 6 or 7",
                path=name,
                offset=_NVHDR_OFFSET,
            )
        fvals = np.frombuffer(buf, dtype=order + "f4", count=70)
        ivals = np.frombuffer(buf, dtype=order + "i4", count=40, offset=280)
        ints = {k: int(v) for k, v in zip(INT_FIELDS, ivals, strict=True)}
        floats = {k: float(v) for k, v in zip(FLOAT_FIELDS, fvals, strict=True)}
        npts, version = ints["npts"], ints["nvhdr"]
        if npts < 0:
            raise FormatError(f"npts is {npts}", path=name, offset=_NPTS_OFFSET)
        ncomp = _components(ints["iftype"], ints["leven"])
        expected = HEADER_BYTES + 4 * npts * ncomp + (FOOTER_BYTES if version == 7 else 0)
        if size != expected:
            diff = size - expected
            raise FormatError(
                f"the file has {size} bytes but its header (npts={npts}, nvhdr={version}"
                f"{', 2 data sections' if ncomp == 2 else ''}) implies {expected}: "
                f"{abs(diff)} bytes {'too many' if diff > 0 else 'missing'}",
                path=name,
                offset=min(size, expected),
            )
        _check_time_series(ints, name, 4 * 70 + 4 * 15)
        notes: list[str] = []
        odd: list[str] = []
        raw = bytes(buf[440:HEADER_BYTES])
        strings: dict[str, str] = {}
        pos = 0
        for key, width in zip(STRING_FIELDS, _STRING_WIDTHS, strict=True):
            strings[key] = _decode_string(raw[pos : pos + width], key, odd)
            pos += width
        _warn_odd(odd, name, notes)
        if version == 7:
            footer = np.frombuffer(
                buf, dtype=order + "f8", count=len(FOOTER_FIELDS), offset=HEADER_BYTES + 4 * npts
            )
            floats.update({k: float(v) for k, v in zip(FOOTER_FIELDS, footer, strict=True)})
        samples = np.frombuffer(buf, dtype=order + "f4", count=npts, offset=HEADER_BYTES).astype(dtype)
        info = {"variant": "binary", "byte_order": "little" if order == "<" else "big", "nvhdr": version}
        return _build(floats, ints, strings, samples, name, "sac", info, notes, dtype)

    def write(self, data: SeismicData, path: str, **options: Any) -> None:
        """Write the single trace of ``data``.

        Options: ``byteorder`` (``"little"``, the default, or ``"big"``), ``version`` (6 or 7; default the
        ``nvhdr`` the data was read with, else 6) and ``update_stats`` (recompute ``depmin``/``depmax``/
        ``depmen``; default: when the data did not come from SAC or has been processed since).
        """
        byteorder = str(options.pop("byteorder", "little")).lower()
        version, update_stats = _write_options(options, data)
        if options:
            raise PromethiumError(f"unknown SAC write option(s): {', '.join(sorted(options))}")
        order = {"little": "<", "<": "<", "le": "<", "big": ">", ">": ">", "be": ">"}.get(byteorder)
        if order is None:
            raise PromethiumError(f"byteorder must be 'little' or 'big', not {byteorder!r}")
        notes: list[str] = []
        floats, ints, strings, samples = _header_for_write(data, version, update_stats, notes)
        hf = np.array([floats[k] for k in FLOAT_FIELDS], dtype=order + "f4")
        hi = np.array([ints[k] for k in INT_FIELDS], dtype=order + "i4")
        chunks = [
            hf.tobytes(),
            hi.tobytes(),
            _encode_strings(strings, notes),
            samples.astype(order + "f4").tobytes(),
        ]
        if version == 7:
            chunks.append(np.array([floats[k] for k in FOOTER_FIELDS], dtype=order + "f8").tobytes())
        with atomic_output(path) as fh:
            for chunk in chunks:
                fh.write(chunk)


class SacAlphaPlugin(FormatPlugin):
    """Alphanumeric SAC: the same header and samples as text (5G15.7 floats, 5I10 integers, A8 strings).

    Text keeps 7 significant digits, so samples and float headers written this way are rounded to that.
    """

    name = "sacxy"
    description = "SAC alphanumeric (text)"

    def sniff(self, head: bytes, size: int) -> bool:
        """14 lines of 5 floats, then 8 lines of 5 integers with ``nvhdr`` 6 or 7 (and 8 string lines)."""
        try:
            text = head.decode("ascii")
        except UnicodeDecodeError:
            return False
        lines = text.splitlines()
        if len(lines) < 22 or any(len(line) > 100 for line in lines[:22]):
            return False
        try:
            for line in lines[:14]:
                values = line.split()
                if len(values) != 5:
                    return False
                [float(v) for v in values]
            ints: list[int] = []
            for line in lines[14:22]:
                values = line.split()
                if len(values) != 5:
                    return False
                ints.extend(int(v) for v in values)
        except ValueError:
            return False
        return ints[6] in (6, 7) and ints[9] >= 0

    def read(self, source: ByteSource, **options: Any) -> SeismicData:
        """Decode the text. Option ``dtype``: ``float32`` (default) or ``float64``."""
        dtype = _read_options(options)
        name = source.name
        raw = bytes(source.read(0, source.size))
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise FormatError("alphanumeric SAC must be ASCII text", path=name, offset=exc.start) from exc
        lines = text.splitlines(keepends=True)
        if len(lines) < 30:
            raise FormatError(
                f"{len(lines)} lines, fewer than the 30 of an alphanumeric SAC header",
                path=name,
                offset=len(raw),
            )
        offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(int)
        floats_l: list[float] = []
        ints_l: list[int] = []
        try:
            for k in range(14):
                floats_l.extend(float(v) for v in lines[k].split())
            for k in range(14, 22):
                ints_l.extend(int(v) for v in lines[k].split())
        except ValueError as exc:
            raise FormatError(f"unreadable header number: {exc}", path=name, offset=int(offsets[k])) from exc
        if len(floats_l) != 70 or len(ints_l) != 40:
            raise FormatError(
                f"the header has {len(floats_l)} floats and {len(ints_l)} integers instead of 70 and 40",
                path=name,
                offset=0,
            )
        floats = dict(zip(FLOAT_FIELDS, floats_l, strict=True))
        ints = dict(zip(INT_FIELDS, ints_l, strict=True))
        if ints["nvhdr"] not in (6, 7):
            raise FormatError(
                f"header version nvhdr is {ints['nvhdr']}, not 6 or 7", path=name, offset=int(offsets[15])
            )
        _check_time_series(ints, name, int(offsets[17]))
        notes: list[str] = []
        odd: list[str] = []
        strings: dict[str, str] = {}
        first = lines[22].rstrip("\r\n").encode("latin-1")
        strings["kstnm"] = _decode_string(first[:8].ljust(8), "kstnm", odd)
        strings["kevnm"] = _decode_string(first[8:24].ljust(16), "kevnm", odd)
        rest = iter(STRING_FIELDS[2:])
        for k in range(23, 30):
            line = lines[k].rstrip("\r\n").encode("latin-1")
            for j in range(3):
                key = next(rest)
                strings[key] = _decode_string(line[8 * j : 8 * j + 8].ljust(8), key, odd)
        _warn_odd(odd, name, notes)
        npts = ints["npts"]
        body = "".join(lines[30:])
        try:
            values = np.array(body.split(), dtype=np.float64)
        except ValueError as exc:
            raise FormatError(f"unreadable sample value: {exc}", path=name, offset=int(offsets[30])) from exc
        if values.size != npts:
            raise FormatError(
                f"{values.size} sample values after the header, but npts is {npts}",
                path=name,
                offset=int(offsets[30]),
            )
        info = {"variant": "alphanumeric", "nvhdr": ints["nvhdr"]}
        return _build(floats, ints, strings, values.astype(dtype), name, "sacxy", info, notes, dtype)

    def write(self, data: SeismicData, path: str, **options: Any) -> None:
        """Write the single trace of ``data`` as alphanumeric SAC (options ``version``, ``update_stats``
        as for binary SAC)."""
        version, update_stats = _write_options(options, data)
        if options:
            raise PromethiumError(f"unknown SAC write option(s): {', '.join(sorted(options))}")
        notes: list[str] = []
        floats, ints, strings, samples = _header_for_write(data, version, update_stats, notes)
        out: list[str] = []
        fv = [float(np.float32(floats[k])) for k in FLOAT_FIELDS]
        for k in range(0, 70, 5):
            out.append("".join(f"{v:#15.7g}" for v in fv[k : k + 5]))
        iv = [ints[k] for k in INT_FIELDS]
        for k in range(0, 40, 5):
            out.append("".join(f"{v:<10d}" for v in iv[k : k + 5]))
        packed = _encode_strings(strings, notes).decode("latin-1")
        out.append(packed[:24])
        for k in range(24, 192, 24):
            out.append(packed[k : k + 24])
        for k in range(0, samples.size, 5):
            out.append("".join(f"{float(v):#15.7g}" for v in samples[k : k + 5]))
        text = "\n".join(out) + "\n"
        with atomic_output(path) as fh:
            fh.write(text.encode("latin-1"))
