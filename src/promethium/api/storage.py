"""Object storage: a local folder by default, S3 (or any fsspec URL) by URL.

Keys are ``/``-separated paths below the storage root, laid out as::

    datasets/{id}/raw/{file}            the uploaded file, as received
    datasets/{id}/processed/data.zarr   the Zarr conversion
    datasets/{id}/metadata.json         what was learnt from the file
    models/{id}/...                     trained models
    results/{job_id}/...                job outputs

Methods are blocking (fsspec); async callers run them in a worker thread. :meth:`ObjectStorage.url`
gives the full path or URL of a key, for the I/O library (``promethium.io.open(storage.url(key),
storage_options=storage.storage_options)``).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import fsspec

from promethium.core.errors import StorageError
from promethium.core.settings import get_settings

__all__ = ["ObjectStorage", "dataset_key", "model_key", "put_model_files", "result_key"]

_IO_BLOCK = 1024 * 1024


def dataset_key(dataset_id: object, *parts: str) -> str:
    return posixpath.join("datasets", str(dataset_id), *parts)


def model_key(model_id: object, *parts: str) -> str:
    return posixpath.join("models", str(model_id), *parts)


def result_key(job_id: object, *parts: str) -> str:
    return posixpath.join("results", str(job_id), *parts)


def put_model_files(storage: ObjectStorage, model_id: object, weights: Path, sidecar: Path) -> str:
    """Store a model as the design lays it out: ``models/{id}/weights.pt``, ``models/{id}/metadata.json``
    (the whole sidecar) and ``models/{id}/config`` (JSON: architecture, constructor arguments and the
    training configuration, what rebuilds and retrains it). Returns the weights' key."""
    side = json.loads(sidecar.read_text(encoding="utf-8"))
    config = {k: side.get(k) for k in ("architecture", "class", "args", "training")}
    key = model_key(model_id, "weights.pt")
    storage.put_file(key, weights)
    storage.put_file(model_key(model_id, "metadata.json"), sidecar)
    storage.put_bytes(model_key(model_id, "config"), json.dumps(config, indent=2, default=str).encode())
    return key


class ObjectStorage:
    """Keys under one root URL (``/data/storage``, ``file:///...``, ``s3://bucket/prefix``)."""

    def __init__(self, url: str) -> None:
        self.root_url = url.rstrip("/")
        self.is_local = "://" not in url or url.startswith("file://")
        if self.is_local:
            root = Path(url.removeprefix("file://")).expanduser().resolve()
            root.mkdir(parents=True, exist_ok=True)
            self.root_url = root.as_posix()
            self.storage_options: dict[str, Any] = {}
            self.fs = fsspec.filesystem("file")
            self._root = self.root_url
        else:
            self.storage_options = get_settings().storage_options(url)
            fs, root = fsspec.core.url_to_fs(url, use_listings_cache=False, **self.storage_options)
            self.fs = fs
            self._root = root.rstrip("/")

    # ---------------------------------------------------------------------------------------- keys
    def _path(self, key: str) -> str:
        norm = posixpath.normpath(key.strip("/"))
        if not key or norm in (".", "") or norm.startswith("..") or "\\" in key:
            raise StorageError(f"invalid storage key: {key!r}")
        return f"{self._root}/{norm}"

    def url(self, key: str) -> str:
        """Full path (local) or URL (remote) of ``key``."""
        path = self._path(key)
        return path if self.is_local else f"{self.root_url}/{path[len(self._root) + 1 :]}"

    def prepare(self, key: str) -> str:
        """The URL of ``key``, its parent folder created on a local storage (for writers that need one)."""
        if self.is_local:
            Path(self._path(key)).parent.mkdir(parents=True, exist_ok=True)
        return self.url(key)

    # ------------------------------------------------------------------------------------- objects
    def put_file(self, key: str, local_path: str | Path) -> None:
        path = self._path(key)
        if self.is_local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.fs.put_file(str(local_path), path)

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if self.is_local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.fs.pipe_file(path, data)

    def get_bytes(self, key: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(self._path(key)))
        except FileNotFoundError as exc:
            raise StorageError(f"{key}: no such object") from exc

    def open(self, key: str) -> IO[bytes]:
        return self.fs.open(self._path(key), "rb")

    def iter_bytes(self, key: str, block: int = _IO_BLOCK) -> Iterator[bytes]:
        with self.open(key) as f:
            while chunk := f.read(block):
                yield chunk

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def size(self, key: str) -> int:
        return int(self.fs.size(self._path(key)))

    def list(self, prefix: str) -> list[str]:
        """Keys of the objects under ``prefix`` (recursively)."""
        base = self._path(prefix)
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        return sorted(str(p)[len(self._root) + 1 :] for p in found)

    def delete_prefix(self, prefix: str) -> None:
        """Remove ``prefix`` and everything under it (no error when absent)."""
        path = self._path(prefix)
        try:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass
        if not self.is_local:
            self.fs.invalidate_cache()

    def check(self) -> None:
        """Raise when the storage cannot be reached (used by the readiness probe)."""
        probe = self._path(".health")
        self.fs.pipe_file(probe, b"ok")
        if bytes(self.fs.cat_file(probe)) != b"ok":
            raise StorageError("storage probe read back wrong content")
