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
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promethium.api.errors import ConflictError, NotFoundError, PayloadTooLargeError, ValidationError

__all__ = ["ChunkWriter", "UploadState", "UploadStore"]

UPLOAD_TTL = timedelta(hours=24)
#: the marker of an upload being finalized (see :meth:`UploadStore.claim`)
FINALIZING = "finalizing"


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


_BLOCK = 8 * 1024 * 1024


def _hash_range(path: Path, start: int, length: int, digest: Any) -> None:
    """Feed ``length`` bytes of ``path`` from ``start`` to ``digest`` through one reused buffer."""
    buf = bytearray(min(_BLOCK, max(length, 1)))
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        f.seek(start)
        left = length
        while left > 0:
            n = f.readinto(view[: min(left, len(buf))])
            if not n:
                raise ValidationError("the upload's data file is shorter than announced")
            digest.update(view[:n])
            left -= n


class _WholeHash:
    """The whole file's SHA-256 over the chunks ``[0, next)``, fed while the upload goes on, so that
    finalize need not read the file again. Process-local: finalize in another process (or after a
    restart) hashes the file from the start."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.digest = hashlib.sha256()
        self.next = 0


_WHOLE: dict[str, _WholeHash] = {}
_WHOLE_LOCK = threading.Lock()


def _whole(key: str, create: bool) -> _WholeHash | None:
    with _WHOLE_LOCK:
        w = _WHOLE.get(key)
        if w is None and create:
            w = _WHOLE[key] = _WholeHash()
        return w


def _drop_whole(key: str) -> None:
    with _WHOLE_LOCK:
        _WHOLE.pop(key, None)


class ChunkWriter:
    """Streams one chunk's bytes straight into its place in the upload's ``data`` file while hashing
    them, so a chunk is never held whole in memory. The chunk's ``.ok`` marker is removed first and
    written back only when the length and the SHA-256 match (:meth:`finish`): until then the chunk
    counts as missing, so a failed or interrupted re-send cannot leave a bad chunk marked good."""

    def __init__(self, folder: Path, state: UploadState, index: int, sha256: str | None) -> None:
        self.folder = folder
        self.index = index
        self.expected = sha256.lower() if sha256 else None
        self.length = state.chunk_length(index)
        self.offset = index * state.chunk_size
        self.written = 0
        self._hash = hashlib.sha256()
        self._fd: int | None = None
        if (folder / FINALIZING).exists():
            raise ConflictError("the upload is being finalized: no more chunks")
        (folder / f"{index}.ok").unlink(missing_ok=True)
        try:
            self._fd = os.open(folder / "data", os.O_WRONLY)
        except FileNotFoundError:
            raise NotFoundError("no such upload (aborted or expired)") from None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the chunk (blocking: call it from a worker thread)."""
        n = len(data)
        if self.written + n > self.length:
            raise PayloadTooLargeError(f"chunk {self.index} has {self.length} bytes; more were sent")
        if self._fd is None:
            raise ValueError("the chunk writer is closed")
        self._hash.update(data)  # releases the GIL on large buffers
        view = memoryview(data)
        done = 0
        while done < n:
            done += os.pwrite(self._fd, view[done:], self.offset + self.written + done)
        self.written += n

    def finish(self) -> str:
        """Check the length and the SHA-256, make the data durable, mark the chunk received."""
        try:
            if self.written != self.length:
                raise ValidationError(f"chunk {self.index} must have {self.length} bytes, not {self.written}")
            digest = self._hash.hexdigest()
            if self.expected is None or digest != self.expected:
                raise ValidationError(
                    f"chunk {self.index}: SHA-256 mismatch", details={"received_sha256": digest}
                )
            assert self._fd is not None
            os.fdatasync(self._fd)
        finally:
            self.close()
        try:
            (self.folder / f"{self.index}.ok").write_text(digest)
        except FileNotFoundError:  # aborted (or expired and purged) while the chunk was sent
            raise NotFoundError("no such upload (aborted or expired)") from None
        return digest

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


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

    def open_chunk(self, state: UploadState, index: int, sha256: str | None) -> ChunkWriter:
        """A writer streaming chunk ``index`` into place (see :class:`ChunkWriter`)."""
        if not 0 <= index < state.chunks:
            raise ValidationError(f"chunk index must be in [0, {state.chunks})")
        d = self._dir(uuid.UUID(state.id))
        w = _whole(str(d), create=False)
        if w is None:
            return ChunkWriter(d, state, index, sha256)
        with w.lock:  # a chunk sent again: the running whole-file hash must not have read it
            (d / f"{index}.ok").unlink(missing_ok=True)
            if index < w.next:
                w.digest, w.next = hashlib.sha256(), 0
            return ChunkWriter(d, state, index, sha256)

    def finish_chunk(self, state: UploadState, writer: ChunkWriter) -> None:
        """Check and mark the chunk (:meth:`ChunkWriter.finish`), then feed the whole-file hash with
        the chunks now contiguous from the start (from the page cache, in this request's thread)."""
        writer.finish()
        try:
            self.advance(state)
        except FileNotFoundError:
            raise NotFoundError("no such upload (aborted or expired)") from None

    def advance(self, state: UploadState) -> None:
        d = self._dir(uuid.UUID(state.id))
        w = _whole(str(d), create=True)
        assert w is not None
        if not w.lock.acquire(blocking=False):
            return  # another thread is at it; finalize completes whatever is left
        try:
            while w.next < state.chunks and (d / f"{w.next}.ok").exists():
                _hash_range(d / "data", w.next * state.chunk_size, state.chunk_length(w.next), w.digest)
                w.next += 1
        finally:
            w.lock.release()

    def put_chunk(self, state: UploadState, index: int, data: bytes, sha256: str | None) -> None:
        """Write a whole chunk held in memory (the streaming route uses :meth:`open_chunk`)."""
        w = self.open_chunk(state, index, sha256)
        try:
            w.write(data)
            self.finish_chunk(state, w)
        except BaseException:
            w.close()
            raise

    def assemble(self, state: UploadState) -> Path:
        """The complete file, after checking that every chunk arrived and the whole SHA-256."""
        missing = sorted(set(range(state.chunks)) - set(self.received(state)))
        if missing:
            raise ConflictError("chunks are missing", details={"missing": missing[:100]})
        d = self._dir(uuid.UUID(state.id))
        path = d / "data"
        w = _whole(str(d), create=False)
        if w is None:  # chunks received by another process, or before a restart
            digest = hashlib.sha256()
            _hash_range(path, 0, state.size, digest)
            hexdigest = digest.hexdigest()
        else:
            with w.lock:  # finish what the chunk requests left
                for i in range(w.next, state.chunks):
                    _hash_range(path, i * state.chunk_size, state.chunk_length(i), w.digest)
                w.next = state.chunks
                hexdigest = w.digest.hexdigest()
        if hexdigest != state.sha256:
            _drop_whole(str(d))
            raise ValidationError(
                "the SHA-256 of the assembled file does not match", details={"sha256": hexdigest}
            )
        return path

    def claim(self, upload_id: uuid.UUID) -> None:
        """Claim the upload for finalize (a marker created with O_EXCL in its folder, which every API
        process shares): of concurrent finalizes exactly one goes on, the others get 409."""
        try:
            fd = os.open(self._dir(upload_id) / FINALIZING, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise ConflictError("the upload is being finalized already") from None
        except FileNotFoundError:
            raise NotFoundError("no such upload (aborted or expired)") from None
        os.close(fd)

    def finalizing(self, upload_id: uuid.UUID) -> bool:
        return (self._dir(upload_id) / FINALIZING).exists()

    def release(self, upload_id: uuid.UUID) -> None:
        """Give the claim back (finalize failed in a way the client may retry)."""
        (self._dir(upload_id) / FINALIZING).unlink(missing_ok=True)

    def abort(self, upload_id: uuid.UUID) -> None:
        _drop_whole(str(self._dir(upload_id)))
        shutil.rmtree(self._dir(upload_id), ignore_errors=True)

    def purge_expired(self) -> None:
        if not self.root.exists():
            return
        now = datetime.now(UTC)
        for d in self.root.iterdir():
            try:
                state = json.loads((d / "state.json").read_text())
                if datetime.fromisoformat(state["expires_at"]) < now:
                    _drop_whole(str(d))
                    shutil.rmtree(d, ignore_errors=True)
            except (OSError, ValueError, KeyError):
                continue
