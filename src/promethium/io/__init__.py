"""Seismic data I/O: SEG-Y (rev 0-2.1), Seismic Unix, miniSEED 2/3, SAC and Zarr.

Paths and URLs are accepted alike (local files, ``file://``, ``s3://``, ``http(s)://``); formats are
detected from content. The main entry points:

- :func:`read` a whole file into :class:`SeismicData`;
- :func:`open` a file lazily (headers now, samples on demand);
- :func:`iter_chunks` to stream whole traces in bounded memory;
- :func:`write` atomically (temporary name, then rename);
- :func:`convert` a file to another format (into Zarr: streamed, in bounded memory);
- :func:`describe` a file (geometry, trace states, header and amplitude ranges) without loading it;
- :func:`detect_format` to ask what a file is.
"""

from promethium.io.base import SeismicFile
from promethium.io.convert import ConvertResult, convert
from promethium.io.data import SeismicData
from promethium.io.formats import detect_format, get_plugin, iter_chunks, list_formats, open, read, write
from promethium.io.info import describe

__all__ = [
    "ConvertResult",
    "SeismicData",
    "SeismicFile",
    "convert",
    "describe",
    "detect_format",
    "get_plugin",
    "iter_chunks",
    "list_formats",
    "open",
    "read",
    "write",
]
