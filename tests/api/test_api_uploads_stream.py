"""Chunks streamed to disk with their SHA-256 computed on the way, and the whole-file SHA-256 fed while
the upload goes on (finalize reads only what is left), with re-sent chunks handled safely."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import Api
from promethium.api.errors import ConflictError, PayloadTooLargeError, ValidationError
from promethium.api.schemas import Role
from promethium.api.services import uploads as up_mod
from promethium.api.services.uploads import UploadStore

pytestmark = pytest.mark.anyio
CHUNK = 1000


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _store(tmp_path: Path) -> UploadStore:
    return UploadStore(tmp_path / "uploads", 10**9, 10**6)


def _data(n: int = 4500) -> bytes:
    return os.urandom(n)


def _chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def test_in_order_chunks_are_hashed_as_they_arrive(tmp_path: Path) -> None:
    data = _data()
    store = _store(tmp_path)
    st = store.create(uuid.uuid4(), "f.sgy", None, len(data), _sha(data), CHUNK)
    key = str(store.root / st.id)
    parts = _chunks(data)
    for i in (0, 1, 3):
        store.put_chunk(st, i, parts[i], _sha(parts[i]))
    w = up_mod._WHOLE[key]
    assert w.next == 2  # 3 waits for 2
    store.put_chunk(st, 2, parts[2], _sha(parts[2]))
    assert w.next == 4
    with pytest.raises(ConflictError):
        store.assemble(st)  # chunk 4 is missing
    store.put_chunk(st, 4, parts[4], _sha(parts[4]))
    assert w.next == 5
    assert store.assemble(st).read_bytes() == data
    store.abort(uuid.UUID(st.id))
    assert key not in up_mod._WHOLE
    assert not (store.root / st.id).exists()


def test_a_resent_chunk_resets_the_running_hash(tmp_path: Path) -> None:
    data = _data()
    store = _store(tmp_path)
    st = store.create(uuid.uuid4(), "f.sgy", None, len(data), _sha(data), CHUNK)
    parts = _chunks(data)
    for i, p in enumerate(parts):
        store.put_chunk(st, i, p, _sha(p))
    w = up_mod._WHOLE[str(store.root / st.id)]
    assert w.next == 5
    # chunk 1 sent again with other bytes (and their own checksum): accepted, and the whole hash
    # must see the new bytes, so the final check fails as it should
    other = os.urandom(CHUNK)
    store.put_chunk(st, 1, other, _sha(other))
    assert w.next == 5  # reset, then fed again from chunk 0 over the new bytes
    # without the reset the running hash would still hold the old bytes and pass a file that differs
    with pytest.raises(ValidationError, match="SHA-256"):
        store.assemble(st)
    # the right bytes again: the upload completes
    store.put_chunk(st, 1, parts[1], _sha(parts[1]))
    assert store.assemble(st).read_bytes() == data


def test_a_bad_resend_unmarks_the_chunk(tmp_path: Path) -> None:
    data = _data()
    store = _store(tmp_path)
    st = store.create(uuid.uuid4(), "f.sgy", None, len(data), _sha(data), CHUNK)
    parts = _chunks(data)
    for i, p in enumerate(parts):
        store.put_chunk(st, i, p, _sha(p))
    with pytest.raises(ValidationError, match="SHA-256 mismatch"):
        store.put_chunk(st, 2, parts[2], _sha(b"something else"))
    assert 2 not in store.received(st)  # its bytes were overwritten: it counts as missing
    with pytest.raises(ConflictError):
        store.assemble(st)
    with pytest.raises(PayloadTooLargeError):
        store.put_chunk(st, 2, parts[2] + b"x", _sha(parts[2] + b"x"))
    with pytest.raises(ValidationError, match="must have"):
        store.put_chunk(st, 2, parts[2][:-1], _sha(parts[2][:-1]))
    with pytest.raises(ValidationError, match="SHA-256"):
        store.put_chunk(st, 2, parts[2], None)
    store.put_chunk(st, 2, parts[2], _sha(parts[2]))
    assert store.assemble(st).read_bytes() == data


def test_finalize_elsewhere_hashes_the_file_and_catches_corruption(tmp_path: Path) -> None:
    data = _data()
    store = _store(tmp_path)
    st = store.create(uuid.uuid4(), "f.sgy", None, len(data), _sha(data), CHUNK)
    parts = _chunks(data)
    for i, p in enumerate(parts):
        store.put_chunk(st, i, p, _sha(p))
    key = str(store.root / st.id)
    up_mod._drop_whole(key)  # as in another API process
    assert store.assemble(st).read_bytes() == data
    with (store.root / st.id / "data").open("r+b") as f:  # bytes changed behind the API's back
        f.seek(10)
        f.write(bytes([data[10] ^ 0xFF]))
    with pytest.raises(ValidationError, match="SHA-256"):
        store.assemble(st)


async def test_chunk_streamed_in_small_parts_over_http(api: Api, seismic_files: dict[str, Path]) -> None:
    data = seismic_files["line"].read_bytes()
    chunk = 4096
    h = api.headers[Role.user]
    r = await api.client.post(
        "/api/v1/datasets/uploads",
        json={"filename": "line.sgy", "size": len(data), "sha256": _sha(data), "chunk_size": chunk},
        headers=h,
    )
    assert r.status_code == 201, r.text
    uid = r.json()["id"]

    async def parts(b: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(b), 100):  # many small body parts
            yield b[i : i + 100]

    for i in range(r.json()["chunks"]):
        part = data[i * chunk : (i + 1) * chunk]
        r2 = await api.client.put(
            f"/api/v1/datasets/uploads/{uid}/chunks/{i}",
            content=parts(part),
            headers={**h, "X-Chunk-SHA256": _sha(part)},
        )
        assert r2.status_code == 200, r2.text
    # too long a body, streamed: 413 and the chunk is no longer marked
    too_long = data[:chunk] + b"x" * 10
    r3 = await api.client.put(
        f"/api/v1/datasets/uploads/{uid}/chunks/0",
        content=parts(too_long),
        headers={**h, "X-Chunk-SHA256": _sha(too_long)},
    )
    assert r3.status_code == 413
    got = await api.client.get(f"/api/v1/datasets/uploads/{uid}", headers=h)
    assert 0 not in got.json()["received"]
    r4 = await api.client.put(
        f"/api/v1/datasets/uploads/{uid}/chunks/0",
        content=parts(data[:chunk]),
        headers={**h, "X-Chunk-SHA256": _sha(data[:chunk])},
    )
    assert r4.status_code == 200
    r5 = await api.client.post(f"/api/v1/datasets/uploads/{uid}/finalize", headers=h)
    assert r5.status_code == 201, r5.text
    assert r5.json()["checksum_sha256"] == _sha(data)
    got = await api.client.get(f"/api/v1/datasets/{r5.json()['id']}/download", headers=h)
    assert got.content == data
