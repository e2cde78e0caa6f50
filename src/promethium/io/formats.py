"""Format registry, content-based detection and the public read/write/open/iter_chunks dispatch."""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from promethium.core.errors import FormatError, StorageError, UnsupportedFormatError
from promethium.io.base import FormatPlugin, SeismicFile
from promethium.io.data import SeismicData
from promethium.io.source import ByteSource, is_url, open_source, strip_file_scheme

__all__ = [
    "detect_format",
    "get_plugin",
    "iter_chunks",
    "list_formats",
    "open",
    "read",
    "write",
]

# Plugins are imported on first use so that ``import promethium.io`` stays cheap (ObsPy alone takes a
# second). Order matters for detection: the most specific detectors run first.
_PLUGINS: dict[str, str] = {
    "zarr": "promethium.io.zarrstore:ZarrPlugin",
    "mseed": "promethium.io.miniseed:MiniSeedPlugin",
    "sac": "promethium.io.sac:SacPlugin",
    "segy": "promethium.io.segy:SegyPlugin",
    "su": "promethium.io.segy:SuPlugin",
    "sacxy": "promethium.io.sac:SacAlphaPlugin",
}
_ALIASES = {
    "sgy": "segy",
    "seg-y": "segy",
    "seismic-unix": "su",
    "miniseed": "mseed",
    "miniseed2": "mseed",
    "miniseed3": "mseed",
    "mseed2": "mseed",
    "mseed3": "mseed",
    "sac-alpha": "sacxy",
    "sac_alpha": "sacxy",
    "alphanumeric-sac": "sacxy",
}
_STORE_FORMATS = {"zarr"}  # folder/prefix formats, detected by their metadata files instead of bytes
_LOADED: dict[str, FormatPlugin] = {}
SNIFF_BYTES = 4096


def list_formats() -> list[str]:
    """Names of the supported formats."""
    return list(_PLUGINS)


def get_plugin(name: str) -> FormatPlugin:
    """The plugin for ``name`` (case-insensitive; aliases such as ``sgy`` or ``miniseed`` accepted)."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _PLUGINS:
        raise UnsupportedFormatError(f"unknown format {name!r}; supported: {', '.join(_PLUGINS)}")
    if key not in _LOADED:
        module, cls = _PLUGINS[key].split(":")
        _LOADED[key] = getattr(importlib.import_module(module), cls)()
    return _LOADED[key]


def _is_store(path: str, storage_options: dict[str, Any] | None) -> bool:
    """True when ``path`` is a folder/prefix (a Zarr store) rather than one object."""
    if not is_url(path):
        return Path(strip_file_scheme(path)).is_dir()
    import fsspec

    from promethium.core.settings import get_settings

    opts = dict(get_settings().storage_options(path))
    opts.update(storage_options or {})
    try:
        fs, p = fsspec.core.url_to_fs(path, **opts)
        return bool(fs.isdir(p))
    except Exception:
        return False


def detect_format(
    source: ByteSource | str | os.PathLike[str], storage_options: dict[str, Any] | None = None
) -> str:
    """The format of some content, decided from its bytes (magic numbers and structure).

    Raises :class:`UnsupportedFormatError` listing the supported formats when nothing matches.
    """
    if not isinstance(source, ByteSource):
        path = str(source)
        # A URL store is recognised by one GET of its metadata; plain HTTP cannot list folders.
        if is_url(path) and _zarr_sniff_store(path, storage_options):
            return "zarr"
        if _is_store(path, storage_options):
            if _zarr_sniff_store(path, storage_options):
                return "zarr"
            raise UnsupportedFormatError("a folder that is not a Zarr store", path=path)
        with open_source(path, storage_options) as src:
            return detect_format(src)
    head = bytes(source.read(0, SNIFF_BYTES))
    if source.size == 0:
        raise FormatError("the file is empty", path=source.name, offset=0)
    for name in _PLUGINS:
        if name in _STORE_FORMATS:
            continue
        if get_plugin(name).sniff(head, source.size):
            return name
    raise UnsupportedFormatError(
        f"content matches none of the supported formats ({', '.join(_PLUGINS)}); "
        "pass format=... to force one and see why it is rejected",
        path=source.name,
        offset=0,
    )


def _zarr_sniff_store(path: str, storage_options: dict[str, Any] | None) -> bool:
    from promethium.io import zarrstore

    return zarrstore.is_zarr_store(path, storage_options)


def _resolve(path: str, fmt: str | None, storage_options: dict[str, Any] | None) -> tuple[FormatPlugin, str]:
    if fmt is not None:
        plugin = get_plugin(fmt)
        return plugin, plugin.name
    name = detect_format(path, storage_options)
    return get_plugin(name), name


def read(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    storage_options: dict[str, Any] | None = None,
    **options: Any,
) -> SeismicData:
    """Read a whole file or URL into memory as :class:`SeismicData`.

    The format is detected from the content unless ``format`` is given. ``options`` go to the format's
    reader (for SEG-Y: ``geometry``, ``inline_byte``, ``crossline_byte``, ``endian``, ``truncated``, ...).
    """
    path = str(path)
    plugin, _ = _resolve(path, format, storage_options)
    if plugin.is_store:
        return plugin.read_store(path, storage_options=storage_options, **options)
    src = open_source(path, storage_options)
    try:
        return plugin.read(src, **options)
    except BaseException as exc:
        _release_frames(exc)
        raise
    finally:
        src.close()


def open(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    storage_options: dict[str, Any] | None = None,
    **options: Any,
) -> SeismicFile:
    """Open a file or URL lazily: headers and metadata now, samples when asked for."""
    path = str(path)
    plugin, _ = _resolve(path, format, storage_options)
    if plugin.is_store:
        return plugin.open_store(path, storage_options=storage_options, **options)
    src = open_source(path, storage_options)
    try:
        return plugin.open(src, **options)
    except BaseException as exc:
        _release_frames(exc)
        src.close()
        raise


def _release_frames(exc: BaseException) -> None:
    """Drop the locals of the frames a failed reader left in the traceback.

    They hold views of the memory-mapped file; while a caller keeps the exception (a batch job
    collecting failures), the map and its file descriptor could not be closed otherwise."""
    traceback.clear_frames(exc.__traceback__)


def iter_chunks(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    traces_per_chunk: int | None = None,
    chunk_bytes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    **options: Any,
) -> Iterator[SeismicData]:
    """Stream whole traces in bounded memory.

    Each chunk holds ``traces_per_chunk`` traces, or as many as fit in ``chunk_bytes`` of float32
    samples (default: the ``io_chunk_bytes`` setting, 64 MiB).
    """
    from promethium.core.settings import get_settings

    budget = chunk_bytes or get_settings().io_chunk_bytes
    with open(path, format, storage_options=storage_options, **options) as f:
        n = traces_per_chunk or max(1, budget // max(1, 4 * max(1, f.n_samples)))
        yield from f.iter_chunks(int(n))


def write(
    data: SeismicData,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    overwrite: bool = True,
    **options: Any,
) -> None:
    """Write ``data`` to a path or URL. Without ``format``, the file extension decides
    (``.sgy/.segy``, ``.su``, ``.mseed/.ms``, ``.sac``, ``.zarr``). The output appears only once complete."""
    path = str(path)
    if format is None:
        format = _format_from_extension(path)
    plugin = get_plugin(format)
    if not overwrite and _exists(path):
        raise StorageError(f"{path}: already exists (pass overwrite=True to replace it)")
    plugin.write(data, path, **options)


def _exists(path: str) -> bool:
    if is_url(path):
        import fsspec

        from promethium.core.settings import get_settings

        fs, p = fsspec.core.url_to_fs(path, **get_settings().storage_options(path))
        return bool(fs.exists(p))
    return Path(strip_file_scheme(path)).exists()


_EXTENSIONS = {
    ".sgy": "segy",
    ".segy": "segy",
    ".seg": "segy",
    ".su": "su",
    ".mseed": "mseed",
    ".miniseed": "mseed",
    ".ms": "mseed",
    ".mseed3": "mseed",
    ".sac": "sac",
    ".zarr": "zarr",
}


def _format_from_extension(path: str) -> str:
    suffix = Path(path.rstrip("/")).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    raise UnsupportedFormatError(
        f"cannot tell the output format from the extension {suffix!r}; pass format= one of "
        f"{', '.join(_PLUGINS)}",
        path=path,
    )
