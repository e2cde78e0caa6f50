"""SEG-Y and SU sample codecs over any byte buffer (a memory map, a block fetched from S3).

Formats numpy can express (IEEE floats, 1-, 2-, 4- and 8-byte integers, either byte order) are decoded
through a strided numpy view of the buffer: one pass that gathers, swaps bytes and converts, at memory
speed, with no compiler in the process. IBM floats and 3-byte integers, which numpy has no dtype for, go
to the numba kernels of :mod:`promethium.io._kernels`, imported the first time such a file is met.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["decode_traces", "encode_traces", "float_to_ibm", "gather_headers", "ibm_to_float", "zero_rows"]

#: SEG-Y format code -> numpy type code for the formats numpy decodes natively
NUMPY_FORMATS: dict[int, str] = {
    2: "i4",
    3: "i2",
    5: "f4",
    6: "f8",
    8: "i1",
    9: "i8",
    10: "u4",
    11: "u2",
    12: "u8",
    16: "u1",
}


def _kernels() -> Any:
    from promethium.io import _kernels

    return _kernels


def _runs(offsets: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """Split offsets into runs ``(a, b, stride)`` of constant, non-negative spacing."""
    n = offsets.shape[0]
    if n == 1:
        yield 0, 1, 0
        return
    d = np.diff(offsets)
    if d[0] >= 0 and bool(np.all(d == d[0])):
        yield 0, n, int(d[0])
        return
    a = 0
    while a < n:
        b = a + 1
        if b < n:
            step = int(offsets[b] - offsets[a])
            if step < 0:
                yield a, b, 0
                a = b
                continue
            while b < n and int(offsets[b] - offsets[b - 1]) == step:
                b += 1
            yield a, b, step
        else:
            yield a, b, 0
        a = b


def _view(buf: np.ndarray, dtype: np.dtype, first: int, rows: int, cols: int, stride: int) -> np.ndarray:
    """A ``(rows, cols)`` view of ``buf`` whose row ``i`` starts at byte ``first + i * stride``.

    numpy checks the extent against the buffer, so a bad offset raises instead of reading past it."""
    return np.ndarray(
        shape=(rows, cols),
        dtype=dtype,
        buffer=buf,
        offset=first,
        strides=(stride or dtype.itemsize * cols, dtype.itemsize),
    )


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
    n, m = out.shape
    if n == 0 or m == 0:
        return out
    offs = np.asarray(offsets, dtype=np.int64)
    if fmt not in NUMPY_FORMATS:
        k = _kernels()
        if fmt == 1 and buf.ndim == 1 and buf.dtype == np.uint8 and buf.size >= 4:
            words = buf[: buf.size // 4 * 4].view(np.uint32)
            if words.flags.aligned and bool(np.all((offs < 0) | (offs % 4 == 0))):
                swap = big_endian == (sys.byteorder == "little")
                woffs = np.where(offs < 0, -1, offs // 4)
                return k.decode_ibm_words(words, woffs, swap, out, start)
        return k.decode_compiled(buf, offs, fmt, big_endian, out, start)
    dtype = np.dtype(NUMPY_FORMATS[fmt]).newbyteorder(">" if big_endian else "<")
    holes = offs < 0
    if holes.any():
        out[holes] = 0
        valid = np.nonzero(~holes)[0]
        for a, b, stride in _runs(offs[valid]):
            rows = valid[a:b]
            first = int(offs[rows[0]]) + start * dtype.itemsize
            out[rows] = _view(buf, dtype, first, b - a, m, stride)
        return out
    for a, b, stride in _runs(offs):
        first = int(offs[a]) + start * dtype.itemsize
        _copy_rows(out[a:b], _view(buf, dtype, first, b - a, m, stride))
    return out


_POOL: Any = None
#: copies at least this large are split over the cores (numpy releases the GIL while copying)
PARALLEL_MIN_BYTES = 8 * 1024 * 1024


def _copy_rows(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` (cast and byte swap), split by rows over a small thread pool when large."""
    global _POOL
    workers = min(4, os.cpu_count() or 1)
    if dst.nbytes < PARALLEL_MIN_BYTES or workers < 2 or dst.shape[0] < 2 * workers:
        dst[...] = src
        return
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promethium-codec")
    edges = np.linspace(0, dst.shape[0], workers + 1).astype(int)

    def part(k: int) -> None:
        dst[edges[k] : edges[k + 1]] = src[edges[k] : edges[k + 1]]

    list(_POOL.map(part, range(workers)))


def encode_traces(
    values: np.ndarray, fmt: int, big_endian: bool, out: np.ndarray, offsets: np.ndarray
) -> None:
    """Encode ``values`` (n traces x m samples) in SEG-Y format ``fmt`` into the uint8 buffer ``out``,
    trace ``i`` starting at byte ``offsets[i]``. Integer formats round to the nearest integer; the
    caller checks the range first."""
    n, m = values.shape
    if n == 0 or m == 0:
        return
    offs = np.asarray(offsets, dtype=np.int64)
    if fmt not in NUMPY_FORMATS:
        _kernels().encode_compiled(values, fmt, big_endian, out, offs)
        return
    dtype = np.dtype(NUMPY_FORMATS[fmt]).newbyteorder(">" if big_endian else "<")
    src = values if dtype.kind == "f" else np.rint(values)
    for a, b, stride in _runs(offs):
        _view(out, dtype, int(offs[a]), b - a, m, stride)[...] = src[a:b]


def gather_headers(
    buf: np.ndarray, offsets: np.ndarray, width: int = 240, out: np.ndarray | None = None
) -> np.ndarray:
    """Copy ``width`` bytes at each of ``offsets`` from ``buf`` into a ``(n, width)`` uint8 array."""
    offs = np.asarray(offsets, dtype=np.int64)
    if out is None:
        out = np.empty((offs.shape[0], width), dtype=np.uint8)
    if offs.shape[0] == 0 or width == 0:
        return out
    u8 = np.dtype(np.uint8)
    for a, b, stride in _runs(offs):
        out[a:b] = _view(buf, u8, int(offs[a]), b - a, width, stride)
    return out


def zero_rows(values: np.ndarray) -> np.ndarray:
    """True for each trace (last axis) that holds only zeros."""
    if values.shape[-1] == 0:
        return np.ones(values.shape[:-1], dtype=bool)
    return ~np.any(values, axis=-1)


def ibm_to_float(words: np.ndarray) -> np.ndarray:
    """Convert IBM float words (uint32 values) to float32."""
    u = np.ascontiguousarray(words, dtype=np.uint32)
    raw = u.reshape(-1).astype(">u4").view(np.uint8)
    out = np.empty((1, u.size), dtype=np.float32)
    decode_traces(raw, np.zeros(1, dtype=np.int64), 1, True, out)
    return out[0].reshape(u.shape)


def float_to_ibm(values: np.ndarray) -> np.ndarray:
    """Convert floats to IBM float words (uint32 values)."""
    v = np.ascontiguousarray(values, dtype=np.float64).reshape(1, -1)
    raw = np.empty(4 * v.size, dtype=np.uint8)
    encode_traces(v, 1, True, raw, np.zeros(1, dtype=np.int64))
    return raw.view(">u4").astype(np.uint32).reshape(np.shape(values))
