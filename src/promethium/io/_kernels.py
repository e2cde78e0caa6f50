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

__all__ = ["decode_compiled", "decode_ibm_words", "encode_compiled"]

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
    elif fmt == 7:
        base = off + 3 * s0
        for j in range(m):
            u = _u24(buf, base + 3 * j, big)
            row[j] = np.int32(u << np.uint32(8)) >> 8
    elif fmt == 15:
        base = off + 3 * s0
        for j in range(m):
            row[j] = _u24(buf, base + 3 * j, big)


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


def decode_compiled(
    buf: np.ndarray, offsets: np.ndarray, fmt: int, big_endian: bool, out: np.ndarray, start: int = 0
) -> np.ndarray:
    """:func:`promethium.io.codecs.decode_traces` for formats 1, 7 and 15 at any byte offsets."""
    offs = offsets.astype(np.int64, copy=False)
    stop = start + out.shape[1]
    big = bool(big_endian)
    if fmt not in (1, 7, 15):
        raise ValueError(f"no compiled kernel for SEG-Y sample format {fmt}")
    kernel = _decode_par if out.size >= PARALLEL_MIN_SAMPLES else _decode_ser
    kernel(buf, offs, int(fmt), big, start, stop, out, _IBM_SCALE)
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
            elif fmt == 7 or fmt == 15:
                _put(out, base + 3 * j, np.uint64(np.int64(round(x))) & np.uint64(0xFFFFFF), 3, big)


def encode_compiled(
    values: np.ndarray, fmt: int, big_endian: bool, out: np.ndarray, offsets: np.ndarray
) -> None:
    """Encode ``values`` (n traces x m samples) as IBM floats or 3-byte integers into ``out``,
    trace ``i`` starting at byte ``offsets[i]``."""
    if fmt not in (1, 7, 15):
        raise ValueError(f"no compiled kernel for SEG-Y sample format {fmt}")
    _encode(
        np.ascontiguousarray(values), int(fmt), bool(big_endian), out, offsets.astype(np.int64, copy=False)
    )


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
