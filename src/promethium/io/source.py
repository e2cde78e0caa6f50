"""Random-access byte sources: local files (memory-mapped) and fsspec URLs (range requests).

Every reader in :mod:`promethium.io` reads through a :class:`ByteSource`, so one decoder serves local
paths, ``file://``, ``s3://`` and ``http(s)://`` alike, and nothing downloads a whole object first.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from promethium.core.errors import StorageError

_MADV_POPULATE_READ = 22  # Linux 5.14+; not exposed by the mmap module

__all__ = ["ByteSource", "FsspecSource", "LocalSource", "is_url", "open_source", "strip_file_scheme"]


def is_url(path: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` strings other than ``file://``."""
    s = str(path)
    return "://" in s and not s.startswith("file://")


def strip_file_scheme(path: str | os.PathLike[str]) -> str:
    s = str(path)
    return s[len("file://") :] if s.startswith("file://") else s


class ByteSource(ABC):
    """A read-only, random-access sequence of bytes with a known size."""

    name: str
    size: int

    @abstractmethod
    def read(self, offset: int, size: int) -> bytes | memoryview:
        """Exactly ``size`` bytes at ``offset`` (fewer only at the end of the source)."""

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes | memoryview]:
        """Several ``(offset, size)`` ranges; remote sources fetch them concurrently."""
        return [self.read(o, n) for o, n in ranges]

    def readinto(self, offset: int, out: np.ndarray) -> int:
        """Fill the bytes of ``out`` from ``offset``; returns the count read."""
        buf = self.read(offset, out.nbytes)
        n = len(buf)
        out.view(np.uint8).reshape(-1)[:n] = np.frombuffer(buf, dtype=np.uint8)
        return n

    def buffer(self) -> memoryview | None:
        """A zero-copy view of the whole source where one exists (memory-mapped local files)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.size} bytes)>"


class LocalSource(ByteSource):
    """A local file, memory-mapped read-only (zero-copy decoding, kernel read-ahead)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.name = str(path)
        p = Path(strip_file_scheme(path))
        try:
            self._fd = os.open(p, os.O_RDONLY)
        except FileNotFoundError as exc:
            raise StorageError(f"{p}: no such file") from exc
        except IsADirectoryError as exc:
            raise StorageError(f"{p}: is a directory") from exc
        except OSError as exc:
            raise StorageError(f"{p}: cannot open: {exc.strerror}") from exc
        self.size = os.fstat(self._fd).st_size
        self._mm: mmap.mmap | None = None
        self._view: memoryview | None = None
        if self.size > 0:
            self._mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
            self._view = memoryview(self._mm)

    def read(self, offset: int, size: int) -> bytes | memoryview:
        if self._view is None or offset >= self.size or size <= 0:
            return b""
        return self._view[offset : min(offset + size, self.size)]

    def readinto(self, offset: int, out: np.ndarray) -> int:
        view: Any = out.view(np.uint8).reshape(-1)
        return os.preadv(self._fd, [view], offset)

    def buffer(self) -> memoryview | None:
        return self._view

    def populate(self, offset: int, size: int) -> None:
        """Map a byte range in one system call before it is read (instead of one page fault per 64 KiB)."""
        if self._mm is None:
            return
        page = mmap.PAGESIZE
        start = (offset // page) * page
        end = min(self.size, offset + size)
        if end <= start:
            return
        try:
            self._mm.madvise(_MADV_POPULATE_READ, start, end - start)
        except (OSError, ValueError):  # kernels before 5.14
            if hasattr(mmap, "MADV_WILLNEED"):
                self._mm.madvise(mmap.MADV_WILLNEED, start, end - start)

    def release(self, offset: int, size: int) -> None:
        """Drop the mapped pages of a byte range from this process (they stay in the page cache)."""
        if self._mm is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        page = mmap.PAGESIZE
        start = (offset // page) * page
        end = min(self.size, offset + size)
        if end > start:
            self._mm.madvise(mmap.MADV_DONTNEED, start, end - start)

    def advise_sequential(self) -> None:
        if self._mm is not None and hasattr(mmap, "MADV_SEQUENTIAL"):
            self._mm.madvise(mmap.MADV_SEQUENTIAL)

    def close(self) -> None:
        if self._view is not None:
            # numpy arrays may still reference the map; the OS reclaims it with them.
            with contextlib.suppress(BufferError):
                self._view.release()
            self._view = None
        if self._mm is not None:
            with contextlib.suppress(BufferError):
                self._mm.close()
            self._mm = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class FsspecSource(ByteSource):
    """Any fsspec URL (``s3://``, ``http(s)://``, ``memory://``, ...), read with range requests."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec

        from promethium.core.settings import get_settings

        self.name = url
        opts = dict(get_settings().storage_options(url))
        opts.update(storage_options or {})
        try:
            self._fs, self._path = fsspec.core.url_to_fs(url, **opts)
            info = self._fs.info(self._path)
        except FileNotFoundError as exc:
            raise StorageError(f"{url}: no such object") from exc
        except Exception as exc:  # network, credentials, unknown protocol
            raise StorageError(f"{url}: cannot open: {exc}") from exc
        if info.get("type") == "directory":
            raise StorageError(f"{url}: is a directory")
        size = info.get("size")
        if size is None:
            raise StorageError(f"{url}: the server does not report a size, so ranges cannot be read")
        self.size = int(size)
        self._lock = threading.Lock()

    @property
    def fs(self) -> Any:
        return self._fs

    def read(self, offset: int, size: int) -> bytes:
        if offset >= self.size or size <= 0:
            return b""
        end = min(offset + size, self.size)
        try:
            return bytes(self._fs.cat_file(self._path, start=offset, end=end))
        except Exception as exc:
            raise StorageError(f"{self.name}: reading bytes {offset}-{end}: {exc}") from exc

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes | memoryview]:
        if not ranges:
            return []
        # Ranges past the end read as b"" (as for local files) without asking the server.
        wanted = [(i, int(o), min(int(o) + int(n), self.size)) for i, (o, n) in enumerate(ranges)]
        live = [(i, s, e) for i, s, e in wanted if e > s]
        out: list[bytes | memoryview] = [b""] * len(ranges)
        if not live:
            return out
        try:
            parts = self._fs.cat_ranges(
                [self._path] * len(live), [s for _, s, _ in live], [e for _, _, e in live], on_error="return"
            )
        except Exception as exc:
            raise StorageError(f"{self.name}: reading {len(live)} ranges: {exc}") from exc
        for (i, s, e), part in zip(live, parts, strict=True):
            # s3fs returns failures as exception objects in the list rather than raising.
            if isinstance(part, BaseException):
                raise StorageError(f"{self.name}: reading bytes {s}-{e}: {part}") from part
            out[i] = part
        return out


def open_source(path: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> ByteSource:
    """A :class:`ByteSource` for a local path, ``file://`` URL or any fsspec URL."""
    if is_url(path):
        return FsspecSource(str(path), storage_options)
    return LocalSource(path)
