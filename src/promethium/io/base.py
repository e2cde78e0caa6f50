"""The contract between :mod:`promethium.io` and each format: a plugin with a detector, a reader,
a lazy opener, a chunk iterator and a writer, plus the atomic-write helper every writer uses."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from promethium.core.errors import PromethiumWarning, StorageError
from promethium.io.data import SeismicData
from promethium.io.source import ByteSource, is_url, strip_file_scheme

__all__ = ["FormatPlugin", "SeismicFile", "atomic_output", "warn"]


def warn(message: str, warnings_list: list[str] | None = None, stacklevel: int = 3) -> None:
    """Emit a :class:`PromethiumWarning` and record it (the data keeps it in ``attrs['warnings']``)."""
    if warnings_list is not None:
        warnings_list.append(message)
    warnings.warn(message, PromethiumWarning, stacklevel=stacklevel)


class SeismicFile(ABC):
    """Lazy access to a file: metadata and headers now, samples on demand."""

    path: str
    format: str

    @property
    @abstractmethod
    def n_traces(self) -> int: ...

    @property
    @abstractmethod
    def n_samples(self) -> int: ...

    @property
    @abstractmethod
    def sample_interval(self) -> float: ...

    @abstractmethod
    def read(self, traces: slice | None = None) -> SeismicData:
        """Traces ``traces`` (all by default) as SeismicData."""

    def iter_chunks(self, traces_per_chunk: int) -> Iterator[SeismicData]:
        for start in range(0, self.n_traces, traces_per_chunk):
            yield self.read(slice(start, min(start + traces_per_chunk, self.n_traces)))

    def info(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "traces": self.n_traces,
            "samples": self.n_samples,
            "sample_interval": self.sample_interval,
        }

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> SeismicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.n_traces


class FormatPlugin(ABC):
    """One file format. Detection looks at content only, never at the file name."""

    name: str = ""
    description: str = ""
    #: True for formats stored as a folder/prefix rather than one byte stream (Zarr).
    is_store: bool = False

    @abstractmethod
    def sniff(self, head: bytes, size: int) -> bool:
        """Cheap, side-effect-free test on the first bytes of the content and its total size."""

    @abstractmethod
    def read(self, source: ByteSource, **options: Any) -> SeismicData:
        """The whole content as SeismicData."""

    def open(self, source: ByteSource, **options: Any) -> SeismicFile:
        raise NotImplementedError(f"lazy access is not available for {self.name}")

    def iter_chunks(self, source: ByteSource, traces_per_chunk: int, **options: Any) -> Iterator[SeismicData]:
        """Chunks of whole traces in bounded memory; formats without random access yield one chunk."""
        yield self.read(source, **options)

    def read_store(
        self, path: str, *, storage_options: dict[str, Any] | None = None, **options: Any
    ) -> SeismicData:
        """Read a folder/prefix store (only for ``is_store`` plugins)."""
        raise NotImplementedError(f"{self.name} is not a store format")

    def open_store(
        self, path: str, *, storage_options: dict[str, Any] | None = None, **options: Any
    ) -> SeismicFile:
        """Open a folder/prefix store lazily (only for ``is_store`` plugins)."""
        raise NotImplementedError(f"{self.name} is not a store format")

    @abstractmethod
    def write(self, data: SeismicData, path: str, **options: Any) -> None:
        """Write ``data`` to ``path`` (local or URL); must go through :func:`atomic_output`."""


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Open a binary output that appears under ``path`` only once fully written.

    Local files are written to a temporary name in the same folder, flushed, fsynced and renamed; on
    any error the temporary file is removed and nothing is left under ``path``. Object stores publish an
    object only when its upload completes, so URLs are written directly.
    """
    target = str(path)
    if is_url(target):
        import fsspec

        from promethium.core.settings import get_settings

        fs, p = fsspec.core.url_to_fs(target, **get_settings().storage_options(target))
        if not overwrite and fs.exists(p):
            raise StorageError(f"{target}: already exists (pass overwrite=True to replace it)")
        try:
            with fs.open(p, "wb") as fh:
                yield fh
        except BaseException:
            with contextlib.suppress(Exception):
                if fs.exists(p):
                    fs.rm(p)
            raise
        return

    dest = Path(strip_file_scheme(target))
    if dest.exists() and not overwrite:
        raise StorageError(f"{dest}: already exists (pass overwrite=True to replace it)")
    if dest.is_dir():
        raise StorageError(f"{dest}: is a directory")
    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.exists():
        raise StorageError(f"{parent}: output folder does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".{uuid.uuid4().hex[:8]}.part", dir=parent)
    try:
        # mkstemp creates the file 0600; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
