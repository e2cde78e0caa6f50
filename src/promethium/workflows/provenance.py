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

__all__ = [
    "SEGY_STANZA",
    "Checksum",
    "provenance_from_segy_text",
    "read_provenance",
    "segy_text_blocks",
    "sidecar_path",
    "software_versions",
    "write_sidecar",
]

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


#: First line of every SEG-Y extended textual header block that carries a run's provenance.
SEGY_STANZA = "((Promethium: Provenance ver 1.0))"
_LINE, _LINES = 80, 40
_MAX_TEXT_BLOCKS = 32


def segy_text_blocks(provenance: Mapping[str, Any], existing: list[str] | None = None) -> list[str]:
    """SEG-Y extended textual headers (3200 characters each) carrying ``provenance`` as compact JSON.

    Every block is the stanza line :data:`SEGY_STANZA` then 39 lines of 80 characters of the JSON (the
    JSON continues across blocks; read it back with :func:`provenance_from_segy_text`). ``existing``
    headers are kept first, less any earlier provenance blocks and ``((SEG: EndText))``; an EndText
    block closes the list. A provenance too long for 32 blocks keeps only the steps and the inputs."""
    text = json.dumps(provenance, separators=(",", ":"), ensure_ascii=True, default=str, sort_keys=True)
    per_block = _LINE * (_LINES - 1)
    if len(text) > per_block * _MAX_TEXT_BLOCKS:
        short = {k: provenance.get(k) for k in ("steps", "inputs", "seed", "status", "finished", "truncated")}
        short["truncated"] = True
        text = json.dumps(short, separators=(",", ":"), ensure_ascii=True, default=str, sort_keys=True)
        text = text[: per_block * _MAX_TEXT_BLOCKS]
    kept = [
        t
        for t in (existing or [])
        if not t.startswith(SEGY_STANZA) and not t.strip().upper().startswith("((SEG: ENDTEXT))")
    ]
    head = SEGY_STANZA.ljust(_LINE)
    blocks = [head + text[a : a + per_block].ljust(per_block) for a in range(0, len(text), per_block)]
    return [*kept, *blocks, "((SEG: EndText))".ljust(_LINE * _LINES)]


def provenance_from_segy_text(blocks: list[str]) -> dict[str, Any] | None:
    """The provenance written by :func:`segy_text_blocks` into these extended textual headers, if any."""
    parts = [b[_LINE : _LINE * _LINES] for b in blocks if b.startswith(SEGY_STANZA)]
    if not parts:
        return None
    return dict(json.loads("".join(parts).strip()))
