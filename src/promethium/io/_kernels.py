"""Compiled (numba) SEG-Y sample kernels, imported only when needed.

:mod:`promethium.io.codecs` decodes the formats numpy knows (IEEE floats, 1/2/4/8-byte integers) with
strided numpy views. This module covers what numpy cannot express: IBM floats and 3-byte integers, and
gathers at irregular offsets. Hand-written because no maintained library decodes them from an arbitrary
byte buffer: segyio needs a local file handle, decodes IBM floats at 0.35-0.55 GB/s here and knows
nothing of 3-byte integers. The kernels swap bytes and convert in one pass, in parallel over traces.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["decode_traces", "encode_traces", "float_to_ibm", "gather_headers", "ibm_to_float", "zero_rows"]

# 16**(e - 64) / 2**24 for every 7-bit IBM exponent e: value = fraction * table[e].
_IBM_SCALE = np.array([math.ldexp(1.0, 4 * (e - 64) - 24) for e in range(128)], dtype=np.float64)


@nb.njit(inline="always")
def _u16(buf: np.ndarray, p: int, big: bool) -> np.uint32:
    if big:
        return (np.uint32(buf[p]) << 8) | np.uint32(buf[p + 1])
    return (np.uint32(buf[p + 1]) << 8) | np.uint32(buf[p])


@nb.njit(inline="always")
def _u24(buf: np.ndarray, p: int, big: bool) -> np.uint32:
    if big:
        return (np.uint32(buf[p]) << 16) | (np.uint32(buf[p + 1]) << 8) | np.uint32(buf[p + 2])
    return (np.uint32(buf[p + 2]) << 16) | (np.uint32(buf[p + 1]) << 8) | np.uint32(buf[p])


@nb.njit(inline="always")
def _u32(buf: np.ndarray, p: int, big: bool) -> np.uint32:
    if big:
        return (
            (np.uint32(buf[p]) << 24)
            | (np.uint32(buf[p + 1]) << 16)
            | (np.uint32(buf[p + 2]) << 8)
            | np.uint32(buf[p + 3])
        )
    return (
        (np.uint32(buf[p + 3]) << 24)
        | (np.uint32(buf[p + 2]) << 16)
        | (np.uint32(buf[p + 1]) << 8)
        | np.uint32(buf[p])
    )


@nb.njit(inline="always")
def _u64(buf: np.ndarray, p: int, big: bool) -> np.uint64:
    r = np.uint64(0)
    if big:
        for k in range(8):
            r = (r << np.uint64(8)) | np.uint64(buf[p + k])
    else:
        for k in range(7, -1, -1):
            r = (r << np.uint64(8)) | np.uint64(buf[p + k])
    return r


@nb.njit(inline="always")
def _decode_row(
    buf: np.ndarray, off: int, fmt: int, big: bool, s0: int, m: int, row: np.ndarray, scale: np.ndarray
) -> None:
    """Decode one trace's samples s0..s0+m into row; every format branch lives here once."""
    if off < 0:
        for j in range(m):
            row[j] = 0
        return
    if fmt == 1:
        base = off + 4 * s0
        for j in range(m):
            u = _u32(buf, base + 4 * j, big)
            frac = u & np.uint32(0x00FFFFFF)
            v = np.float64(frac) * scale[(u >> np.uint32(24)) & np.uint32(0x7F)]
            row[j] = -v if (u >> np.uint32(31)) else v
    elif fmt == 105:
        base = off + 4 * s0
        for j in range(m):
            row[j] = _u32(buf, base + 4 * j, big)
    elif fmt == 106:
        base = off + 8 * s0
        for j in range(m):
            row[j] = _u64(buf, base + 8 * j, big)
    elif fmt == 2:
        base = off + 4 * s0
        for j in range(m):
            row[j] = np.int32(_u32(buf, base + 4 * j, big))
    elif fmt == 10:
        base = off + 4 * s0
        for j in range(m):
            row[j] = _u32(buf, base + 4 * j, big)
    elif fmt == 3:
        base = off + 2 * s0
        for j in range(m):
            row[j] = np.int16(_u16(buf, base + 2 * j, big))
    elif fmt == 11:
        base = off + 2 * s0
        for j in range(m):
            row[j] = _u16(buf, base + 2 * j, big)
    elif fmt == 7:
        base = off + 3 * s0
        for j in range(m):
            u = _u24(buf, base + 3 * j, big)
            row[j] = np.int32(u << np.uint32(8)) >> 8
    elif fmt == 15:
        base = off + 3 * s0
        for j in range(m):
            row[j] = _u24(buf, base + 3 * j, big)
    elif fmt == 8:
        base = off + s0
        for j in range(m):
            row[j] = np.int8(buf[base + j])
    elif fmt == 16:
        base = off + s0
        for j in range(m):
            row[j] = buf[base + j]
    elif fmt == 9:
        base = off + 8 * s0
        for j in range(m):
            row[j] = np.int64(_u64(buf, base + 8 * j, big))
    elif fmt == 12:
        base = off + 8 * s0
        for j in range(m):
            row[j] = _u64(buf, base + 8 * j, big)


@nb.njit(parallel=True, nogil=True, cache=True)
def _decode_par(
    buf: np.ndarray,
    offsets: np.ndarray,
    fmt: int,
    big: bool,
    s0: int,
    s1: int,
    out: np.ndarray,
    scale: np.ndarray,
) -> None:
    for i in nb.prange(offsets.shape[0]):
        _decode_row(buf, offsets[i], fmt, big, s0, s1 - s0, out[i], scale)


@nb.njit(nogil=True, cache=True)
def _decode_ser(
    buf: np.ndarray,
    offsets: np.ndarray,
    fmt: int,
    big: bool,
    s0: int,
    s1: int,
    out: np.ndarray,
    scale: np.ndarray,
) -> None:
    # Same work without the thread pool: small reads (one trace) would pay more for the fork/join.
    for i in range(offsets.shape[0]):
        _decode_row(buf, offsets[i], fmt, big, s0, s1 - s0, out[i], scale)


#: below this many samples a call decodes on the calling thread
PARALLEL_MIN_SAMPLES = 1 << 17


def decode_traces(
    buf: np.ndarray,
    offsets: np.ndarray,
    fmt: int,
    big_endian: bool,
    out: np.ndarray,
    start: int = 0,
) -> np.ndarray:
    """Decode samples ``start .. start + out.shape[1]`` of the traces whose first sample lies at byte
    ``offsets[i]`` of ``buf`` (uint8) into ``out`` (float32 or float64, shape ``(len(offsets), m)``).
    A negative offset marks a hole: that row is filled with zeros."""
    offs = offsets.astype(np.int64, copy=False)
    stop = start + out.shape[1]
    big = bool(big_endian)
    if fmt in (5, 6):
        width = np.float32 if fmt == 5 else np.float64
        bits = np.uint32 if fmt == 5 else np.uint64
        target = out if out.dtype == width else np.empty(out.shape, dtype=width)
        kernel = _decode_par if out.size >= PARALLEL_MIN_SAMPLES else _decode_ser
        # codes 105/106: move the IEEE bits as unsigned integers into an integer view of the floats
        kernel(buf, offs, 100 + int(fmt), big, start, stop, target.view(bits), _IBM_SCALE)
        if target is not out:
            out[...] = target
    else:
        kernel = _decode_par if out.size >= PARALLEL_MIN_SAMPLES else _decode_ser
        kernel(buf, offs, int(fmt), big, start, stop, out, _IBM_SCALE)
    return out


@nb.njit(parallel=True, nogil=True, cache=True)
def _gather(buf: np.ndarray, offsets: np.ndarray, width: int, out: np.ndarray) -> None:
    for i in nb.prange(offsets.shape[0]):
        o = offsets[i]
        for k in range(width):
            out[i, k] = buf[o + k]


@nb.njit(parallel=True, nogil=True, cache=True)
def _zero_rows(values: np.ndarray, out: np.ndarray) -> None:
    for i in nb.prange(values.shape[0]):
        z = True
        row = values[i]
        for j in range(row.shape[0]):
            if row[j] != 0:
                z = False
                break
        out[i] = z


def zero_rows(values: np.ndarray) -> np.ndarray:
    """True for each row (trace) of a 2D array that holds only zeros (stops at the first non-zero)."""
    v = values.reshape(-1, values.shape[-1]) if values.ndim != 2 else values
    out = np.empty(v.shape[0], dtype=np.bool_)
    if v.shape[1] == 0:
        out[:] = True
    else:
        _zero_rows(v, out)
    return out.reshape(values.shape[:-1])


@nb.njit(nogil=True, cache=True)
def _gather_ser(buf: np.ndarray, offsets: np.ndarray, width: int, out: np.ndarray) -> None:
    for i in range(offsets.shape[0]):
        o = offsets[i]
        for k in range(width):
            out[i, k] = buf[o + k]


def gather_headers(
    buf: np.ndarray, offsets: np.ndarray, width: int = 240, out: np.ndarray | None = None
) -> np.ndarray:
    """Copy ``width`` bytes at each of ``offsets`` from ``buf`` into a ``(n, width)`` uint8 array."""
    if out is None:
        out = np.empty((offsets.shape[0], width), dtype=np.uint8)
    kernel = _gather if offsets.shape[0] * width >= PARALLEL_MIN_SAMPLES * 4 else _gather_ser
    kernel(buf, offsets.astype(np.int64, copy=False), width, out)
    return out


@nb.njit(inline="always")
def _to_ibm(x: float) -> np.uint32:
    if x == 0.0 or x != x:
        return np.uint32(0)
    sign = np.uint32(0)
    if x < 0.0:
        sign = np.uint32(0x80000000)
        x = -x
    if x == np.inf:
        return sign | np.uint32(0x7FFFFFFF)
    m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
    # IBM: x = f * 16**(E-64), 1/16 <= f < 1
    e4 = (e + 3) // 4  # ceil(e/4)
    f = m * math.ldexp(1.0, e - 4 * e4)
    expo = e4 + 64
    if expo > 127:
        return sign | np.uint32(0x7FFFFFFF)
    if expo < 0:
        return np.uint32(0)
    frac = np.int64(f * 16777216.0 + 0.5)
    if frac >= 16777216:
        frac = frac // 16
        expo += 1
        if expo > 127:
            return sign | np.uint32(0x7FFFFFFF)
    return sign | (np.uint32(expo) << np.uint32(24)) | np.uint32(frac)


@nb.njit(inline="always")
def _put(buf: np.ndarray, p: int, u: np.uint64, width: int, big: bool) -> None:
    if big:
        for k in range(width):
            buf[p + width - 1 - k] = np.uint8((u >> np.uint64(8 * k)) & np.uint64(0xFF))
    else:
        for k in range(width):
            buf[p + k] = np.uint8((u >> np.uint64(8 * k)) & np.uint64(0xFF))


@nb.njit(parallel=True, nogil=True, cache=True)
def _encode(values: np.ndarray, fmt: int, big: bool, out: np.ndarray, offsets: np.ndarray) -> None:
    n, m = values.shape
    for i in nb.prange(n):
        base = offsets[i]
        for j in range(m):
            x = values[i, j]
            if fmt == 1:
                _put(out, base + 4 * j, np.uint64(_to_ibm(np.float64(x))), 4, big)
            elif fmt == 5 or fmt == 6:
                # values arrive as their IEEE bit patterns (see encode_traces)
                _put(out, base + 4 * j * (fmt - 4), np.uint64(x), 4 * (fmt - 4), big)
            elif fmt == 2 or fmt == 10:
                _put(out, base + 4 * j, np.uint64(np.int64(round(x))) & np.uint64(0xFFFFFFFF), 4, big)
            elif fmt == 3 or fmt == 11:
                _put(out, base + 2 * j, np.uint64(np.int64(round(x))) & np.uint64(0xFFFF), 2, big)
            elif fmt == 7 or fmt == 15:
                _put(out, base + 3 * j, np.uint64(np.int64(round(x))) & np.uint64(0xFFFFFF), 3, big)
            elif fmt == 8 or fmt == 16:
                out[base + j] = np.uint8(np.int64(round(x)) & 0xFF)
            elif fmt == 9 or fmt == 12:
                _put(out, base + 8 * j, np.uint64(np.int64(round(x))), 8, big)


def encode_traces(
    values: np.ndarray, fmt: int, big_endian: bool, out: np.ndarray, offsets: np.ndarray
) -> None:
    """Encode ``values`` (n traces x m samples) in SEG-Y format ``fmt`` into the uint8 buffer ``out``,
    trace ``i`` starting at byte ``offsets[i]``."""
    if fmt == 5:
        bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
        _encode(bits, 5, bool(big_endian), out, offsets.astype(np.int64, copy=False))
    elif fmt == 6:
        bits64 = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
        _encode(bits64, 6, bool(big_endian), out, offsets.astype(np.int64, copy=False))
    else:
        _encode(
            np.ascontiguousarray(values),
            int(fmt),
            bool(big_endian),
            out,
            offsets.astype(np.int64, copy=False),
        )


def ibm_to_float(words: np.ndarray) -> np.ndarray:
    """Convert big-endian IBM float words (uint32 as read, native order) to float32 (reference helper)."""
    u = np.ascontiguousarray(words, dtype=np.uint32)
    raw = u.reshape(-1).astype(">u4").view(np.uint8)
    out = np.empty((1, u.size), dtype=np.float32)
    decode_traces(raw, np.zeros(1, dtype=np.int64), 1, True, out)
    return out[0].reshape(u.shape)


def float_to_ibm(values: np.ndarray) -> np.ndarray:
    """Convert floats to IBM float words (uint32, native order)."""
    v = np.ascontiguousarray(values, dtype=np.float64).reshape(1, -1)
    raw = np.empty(4 * v.size, dtype=np.uint8)
    encode_traces(v, 1, True, raw, np.zeros(1, dtype=np.int64))
    return raw.view(">u4").astype(np.uint32).reshape(np.shape(values))


@nb.njit(inline="always")
def _bswap32(u: np.uint32) -> np.uint32:
    return (
        ((u & np.uint32(0xFF)) << np.uint32(24))
        | ((u & np.uint32(0xFF00)) << np.uint32(8))
        | ((u >> np.uint32(8)) & np.uint32(0xFF00))
        | (u >> np.uint32(24))
    )


@nb.njit(inline="always")
def _ibm_row(words: np.ndarray, o: int, swap: bool, s0: int, row: np.ndarray, scale: np.ndarray) -> None:
    # value = fraction * 2**(4 * (e - 64) - 24): the power of two (with the sign) is built directly as
    # float64 bits, exponent field 4e - 280 + 1023, which stays normal for every 7-bit e. No table
    # lookup, so the loops vectorise; the float64 product rounds once to float32.
    m = row.shape[0]
    if o < 0:
        for j in range(m):
            row[j] = 0
        return
    base = o + s0
    bits = np.empty(m, np.uint64)
    frac = np.empty(m, np.float64)
    for j in range(m):
        u = words[base + j]
        if swap:
            u = _bswap32(u)
        e = np.uint64((u >> np.uint32(24)) & np.uint32(0x7F))
        bits[j] = ((np.uint64(4) * e + np.uint64(743)) << np.uint64(52)) | (
            np.uint64(u >> np.uint32(31)) << np.uint64(63)
        )
        frac[j] = np.float64(u & np.uint32(0x00FFFFFF))
    power = bits.view(np.float64)
    for j in range(m):
        row[j] = frac[j] * power[j]


@nb.njit(parallel=True, nogil=True, cache=True)
def _ibm_words_par(
    words: np.ndarray, woffs: np.ndarray, swap: bool, s0: int, out: np.ndarray, scale: np.ndarray
) -> None:
    for i in nb.prange(woffs.shape[0]):
        _ibm_row(words, woffs[i], swap, s0, out[i], scale)


@nb.njit(nogil=True, cache=True)
def _ibm_words_ser(
    words: np.ndarray, woffs: np.ndarray, swap: bool, s0: int, out: np.ndarray, scale: np.ndarray
) -> None:
    for i in range(woffs.shape[0]):
        _ibm_row(words, woffs[i], swap, s0, out[i], scale)


def decode_ibm_words(
    words: np.ndarray, word_offsets: np.ndarray, swap: bool, out: np.ndarray, start: int = 0
) -> np.ndarray:
    """IBM floats read as whole 32-bit words (4-byte aligned traces): one load and a byte swap each."""
    kernel = _ibm_words_par if out.size >= PARALLEL_MIN_SAMPLES else _ibm_words_ser
    kernel(words, word_offsets, swap, start, out, _IBM_SCALE)
    return out
