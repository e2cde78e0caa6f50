"""Resumable chunked uploads: init (name, size, SHA-256, chunk size) -> chunks (each with its SHA-256,
any order, retried freely) -> finalize (whole-file SHA-256 checked, then the dataset ingest).

An upload lives in ``data_dir/uploads/{id}/``: ``state.json`` (written once), ``data`` (chunks written
in place at their offsets) and one ``{index}.ok`` marker per verified chunk, so concurrent chunk
requests never rewrite shared state. Expired uploads are removed when a new one starts. The folder
must be shared by every API process (it is local to the API, not in the object storage).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promethium.api.errors import ConflictError, NotFoundError, PayloadTooLargeError, ValidationError

__all__ = ["UploadState", "UploadStore"]

UPLOAD_TTL = timedelta(hours=24)


@dataclass
class UploadState:
    id: str
    owner_id: str
    filename: str
    name: str | None
    size: int
    sha256: str
    chunk_size: int
    expires_at: str

    @property
    def chunks(self) -> int:
        return math.ceil(self.size / self.chunk_size)

    def chunk_length(self, index: int) -> int:
        return min(self.chunk_size, self.size - index * self.chunk_size)


class UploadStore:
    def __init__(self, root: Path, max_size: int, max_chunk: int) -> None:
        self.root = root
        self.max_size = max_size
        self.max_chunk = max_chunk

    def _dir(self, upload_id: uuid.UUID) -> Path:
        return self.root / str(upload_id)

    def create(
        self, owner_id: uuid.UUID, filename: str, name: str | None, size: int, sha256: str, chunk_size: int
    ) -> UploadState:
        if size > self.max_size:
            raise PayloadTooLargeError(f"the file is larger than {self.max_size} bytes")
        if chunk_size > self.max_chunk:
            raise ValidationError(f"chunk_size must be at most {self.max_chunk} bytes")
        self.purge_expired()
        state = UploadState(
            id=str(uuid.uuid4()),
            owner_id=str(owner_id),
            filename=filename,
            name=name,
            size=size,
            sha256=sha256.lower(),
            chunk_size=chunk_size,
            expires_at=(datetime.now(UTC) + UPLOAD_TTL).isoformat(),
        )
        d = self._dir(uuid.UUID(state.id))
        d.mkdir(parents=True)
        with (d / "data").open("wb") as f:
            f.truncate(size)
        (d / "state.json").write_text(json.dumps(asdict(state)))
        return state

    def get(self, upload_id: uuid.UUID, owner_id: uuid.UUID | None) -> UploadState:
        """The upload, if ``owner_id`` owns it (None: any owner)."""
        path = self._dir(upload_id) / "state.json"
        try:
            state = UploadState(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError) as exc:
            raise NotFoundError("no such upload") from exc
        if owner_id is not None and state.owner_id != str(owner_id):
            raise NotFoundError("no such upload")
        if datetime.fromisoformat(state.expires_at) < datetime.now(UTC):
            self.abort(upload_id)
            raise NotFoundError("the upload has expired")
        return state

    def received(self, state: UploadState) -> list[int]:
        d = self._dir(uuid.UUID(state.id))
        return sorted(int(p.stem) for p in d.glob("*.ok"))

    def put_chunk(self, state: UploadState, index: int, data: bytes, sha256: str | None) -> None:
        if not 0 <= index < state.chunks:
            raise ValidationError(f"chunk index must be in [0, {state.chunks})")
        if len(data) != state.chunk_length(index):
            raise ValidationError(
                f"chunk {index} must have {state.chunk_length(index)} bytes, not {len(data)}"
            )
        digest = hashlib.sha256(data).hexdigest()
        if sha256 is None or digest != sha256.lower():
            raise ValidationError(f"chunk {index}: SHA-256 mismatch", details={"received_sha256": digest})
        d = self._dir(uuid.UUID(state.id))
        fd = os.open(d / "data", os.O_WRONLY)
        try:
            os.pwrite(fd, data, index * state.chunk_size)
            os.fsync(fd)
        finally:
            os.close(fd)
        (d / f"{index}.ok").write_text(digest)

    def assemble(self, state: UploadState) -> Path:
        """The complete file, after checking that every chunk arrived and the whole SHA-256."""
        missing = sorted(set(range(state.chunks)) - set(self.received(state)))
        if missing:
            raise ConflictError("chunks are missing", details={"missing": missing[:100]})
        path = self._dir(uuid.UUID(state.id)) / "data"
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(1024 * 1024):
                digest.update(block)
        if digest.hexdigest() != state.sha256:
            raise ValidationError(
                "the SHA-256 of the assembled file does not match", details={"sha256": digest.hexdigest()}
            )
        return path

    def abort(self, upload_id: uuid.UUID) -> None:
        shutil.rmtree(self._dir(upload_id), ignore_errors=True)

    def purge_expired(self) -> None:
        if not self.root.exists():
            return
        now = datetime.now(UTC)
        for d in self.root.iterdir():
            try:
                state = json.loads((d / "state.json").read_text())
                if datetime.fromisoformat(state["expires_at"]) < now:
                    shutil.rmtree(d, ignore_errors=True)
            except (OSError, ValueError, KeyError):
                continue
