"""Provenance of a run: the pipeline spec (defaults filled in), the software versions, the sha256 of
every input and the per-step timings.

It is stored with the output: in the attributes of a Zarr store (``attrs["provenance"]``) and, for
every output format, in a JSON sidecar next to it (``<output>.provenance.json``), written atomically
once the output is complete.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["Checksum", "read_provenance", "sidecar_path", "software_versions", "write_sidecar"]

_BLOCK = 8 * 1024 * 1024
_PACKAGES = ("numpy", "scipy", "xarray", "zarr", "numcodecs", "pydantic", "segyio", "obspy", "numba", "torch")


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def software_versions() -> dict[str, str]:
    """Promethium, Python and the libraries the results depend on (those installed)."""
    from importlib import metadata

    from promethium._version import __version__

    out = {"promethium": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _files_of(path: str) -> list[tuple[str, str]]:
    """``(relative name, full path)`` of a file, or of every file of a folder (a Zarr store), sorted."""
    p = Path(path)
    if p.is_dir():
        return sorted(
            (str(f.relative_to(p)), str(f)) for f in p.rglob("*") if f.is_file() and not f.is_symlink()
        )
    return [("", str(p))]


def sha256_of(path: str) -> dict[str, Any]:
    """The sha256 of a file or URL; of a folder store: of its files' names and contents, in name order."""
    from promethium.io.source import is_url, strip_file_scheme

    h = hashlib.sha256()
    size = 0
    if is_url(path):
        import fsspec

        from promethium.core.settings import get_settings

        fs, p = fsspec.core.url_to_fs(path, **get_settings().storage_options(path))
        names = sorted(fs.find(p)) if fs.isdir(p) else [p]
        for name in names:
            if len(names) > 1:
                h.update(name[len(p) :].encode() + b"\0")
            with fs.open(name, "rb") as fh:
                while block := fh.read(_BLOCK):
                    h.update(block)
                    size += len(block)
    else:
        files = _files_of(strip_file_scheme(path))
        for rel, full in files:
            if rel:
                h.update(rel.encode() + b"\0")
            with open(full, "rb") as fh:
                while block := fh.read(_BLOCK):
                    h.update(block)
                    size += len(block)
    return {"path": path, "sha256": h.hexdigest(), "bytes": size}


class Checksum:
    """The sha256 of an input computed in a background thread while the pipeline runs (hashlib releases
    the GIL on large blocks); :meth:`result` waits for it."""

    def __init__(self, path: str, role: str) -> None:
        self.path = path
        self.role = role
        self._result: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, name=f"sha256:{role}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = sha256_of(self.path)
        except Exception as exc:  # a checksum never fails a run: it records why it is missing
            self._result = {"path": self.path, "sha256": None, "error": str(exc)}

    def result(self) -> dict[str, Any]:
        self._thread.join()
        return {"role": self.role, **(self._result or {"path": self.path, "sha256": None})}


def sidecar_path(output: str) -> str:
    """Where the JSON sidecar of ``output`` goes: ``<output>.provenance.json`` (next to a store folder)."""
    return output.rstrip("/") + ".provenance.json"


def write_sidecar(output: str, provenance: Mapping[str, Any]) -> str:
    """Write the provenance JSON next to ``output`` (atomically); returns its path."""
    from promethium.io.base import atomic_output

    path = sidecar_path(output)
    text = json.dumps(provenance, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    with atomic_output(path, overwrite=True) as fh:
        fh.write(text.encode("utf-8"))
    return path


def read_provenance(output: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance of an output: its JSON sidecar, else the ``provenance`` attribute of a Zarr store."""
    side = Path(sidecar_path(str(output)))
    if side.is_file():
        return dict(json.loads(side.read_text(encoding="utf-8")))
    from promethium import io as pio

    with pio.open(str(output)) as f:
        attrs = getattr(f, "attrs", None)
        if attrs is None:
            attrs = f.read(slice(0, 0)).attrs
        prov = attrs.get("provenance")
    if not isinstance(prov, dict):
        raise KeyError(f"{output}: no provenance recorded")
    return prov
