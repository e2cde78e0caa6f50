"""Resumable chunked uploads: init -> chunks (checksummed, any order, retried) -> finalize."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from conftest import Api
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio
CHUNK = 1024


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _init(api: Api, data: bytes, filename: str = "line.sgy", role: Role = Role.user) -> dict:
    r = await api.client.post(
        "/api/v1/datasets/uploads",
        json={"filename": filename, "size": len(data), "sha256": _sha(data), "chunk_size": CHUNK},
        headers=api.headers[role],
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _put(api: Api, uid: str, index: int, data: bytes, sha: str | None = None) -> int:
    part = data[index * CHUNK : (index + 1) * CHUNK]
    r = await api.client.put(
        f"/api/v1/datasets/uploads/{uid}/chunks/{index}",
        content=part,
        headers={**api.headers[Role.user], "X-Chunk-SHA256": sha or _sha(part)},
    )
    return r.status_code


async def test_chunked_upload_resumes_and_finalizes(api: Api, seismic_files: dict[str, Path]) -> None:
    data = seismic_files["line"].read_bytes()
    up = await _init(api, data)
    n = up["chunks"]
    assert n == -(-len(data) // CHUNK)
    uid = up["id"]
    h = api.headers[Role.user]
    # out of order, one corrupted then retried
    assert await _put(api, uid, n - 1, data) == 200
    assert await _put(api, uid, 0, data, sha="0" * 64) == 422
    status = (await api.client.get(f"/api/v1/datasets/uploads/{uid}", headers=h)).json()
    assert status["received"] == [n - 1]
    early = await api.client.post(f"/api/v1/datasets/uploads/{uid}/finalize", headers=h)
    assert early.status_code == 409
    assert 0 in early.json()["error"]["details"]["missing"]
    for i in range(n - 1):
        assert await _put(api, uid, i, data) == 200
    assert await _put(api, uid, 1, data) == 200  # a repeated chunk is harmless
    # someone else cannot see or finish it
    other = await api.client.get(f"/api/v1/datasets/uploads/{uid}", headers=api.headers[Role.admin])
    assert other.status_code == 200  # admins can
    r = await api.client.post(f"/api/v1/datasets/uploads/{uid}/finalize", headers=h)
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["status"] == "ingesting"
    assert ds["metadata"]["upload"]["traces"] == 24  # the headers, checked at finalize
    job = (await api.client.get(f"/api/v1/jobs/{ds['ingest_job_id']}", headers=h)).json()
    assert (job["kind"], job["dataset_id"]) == ("ingest", ds["id"])
    ds = await api.wait_dataset(ds["id"])
    assert ds["status"] == "ready"
    assert ds["checksum_sha256"] == _sha(data)
    assert ds["metadata"]["traces"] == 24
    got = await api.client.get(f"/api/v1/datasets/{ds['id']}/download", headers=h)
    assert got.content == data
    assert (await api.client.get(f"/api/v1/datasets/uploads/{uid}", headers=h)).status_code == 404


async def test_chunk_validation(api: Api, seismic_files: dict[str, Path]) -> None:
    data = seismic_files["line"].read_bytes()
    up = await _init(api, data)
    uid = up["id"]
    h = {**api.headers[Role.user]}
    bad_len = await api.client.put(
        f"/api/v1/datasets/uploads/{uid}/chunks/0",
        content=b"abc",
        headers={**h, "X-Chunk-SHA256": _sha(b"abc")},
    )
    assert bad_len.status_code == 422
    out_of_range = await _put(api, uid, up["chunks"] + 5, data)
    assert out_of_range == 422
    too_big = await api.client.put(
        f"/api/v1/datasets/uploads/{uid}/chunks/0", content=b"x" * (CHUNK + 1), headers=h
    )
    assert too_big.status_code == 413
    assert (await api.client.delete(f"/api/v1/datasets/uploads/{uid}", headers=h)).status_code == 204
    assert not (api.ctx.settings.data_dir / "uploads" / uid).exists()


async def test_whole_file_checksum_and_content_checked(api: Api, seismic_files: dict[str, Path]) -> None:
    h = api.headers[Role.user]
    garbage = seismic_files["garbage"].read_bytes()
    up = await _init(api, garbage, "garbage.sgy")
    for i in range(up["chunks"]):
        assert await _put(api, up["id"], i, garbage) == 200
    r = await api.client.post(f"/api/v1/datasets/uploads/{up['id']}/finalize", headers=h)
    assert r.status_code == 422
    assert not (api.ctx.settings.data_dir / "uploads" / up["id"]).exists()
    assert (await api.client.get("/api/v1/datasets", headers=h)).json()["total"] == 0

    data = seismic_files["line"].read_bytes()
    r = await api.client.post(
        "/api/v1/datasets/uploads",
        json={"filename": "x.sgy", "size": len(data), "sha256": "a" * 64, "chunk_size": CHUNK},
        headers=h,
    )
    uid = r.json()["id"]
    for i in range(r.json()["chunks"]):
        assert await _put(api, uid, i, data) == 200
    r = await api.client.post(f"/api/v1/datasets/uploads/{uid}/finalize", headers=h)
    assert r.status_code == 422
    assert "SHA-256" in r.json()["error"]["message"]


async def test_upload_size_limit(api: Api) -> None:
    r = await api.client.post(
        "/api/v1/datasets/uploads",
        json={"filename": "big.sgy", "size": 10**13, "sha256": "a" * 64, "chunk_size": CHUNK},
        headers=api.headers[Role.user],
    )
    assert r.status_code == 413


@pytest.mark.usefixtures("backend")
async def test_concurrent_finalizes_make_one_dataset(api: Api, seismic_files: dict[str, Path]) -> None:
    import asyncio

    data = seismic_files["line"].read_bytes()
    up = await _init(api, data)
    for i in range(up["chunks"]):
        assert await _put(api, up["id"], i, data) == 200
    h = api.headers[Role.user]
    before = (await api.client.get("/api/v1/datasets", headers=h)).json()["total"]
    replies = await asyncio.gather(
        *(api.client.post(f"/api/v1/datasets/uploads/{up['id']}/finalize", headers=h) for _ in range(3))
    )
    codes = sorted(r.status_code for r in replies)
    assert codes[0] == 201, [r.text for r in replies]
    assert codes[1:] in ([404, 404], [404, 409], [409, 409]), [r.text for r in replies]
    assert (await api.client.get("/api/v1/datasets", headers=h)).json()["total"] == before + 1
    ds = next(r.json() for r in replies if r.status_code == 201)
    assert (await api.wait_dataset(ds["id"]))["status"] == "ready"
    assert not (api.ctx.settings.data_dir / "uploads" / up["id"]).exists()


async def test_a_chunk_of_an_upload_aborted_meanwhile_is_404_not_500(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    data = seismic_files["line"].read_bytes()
    up = await _init(api, data)
    h = api.headers[Role.user]
    part = data[:CHUNK]
    aborted: list[int] = []

    async def body():  # type: ignore[no-untyped-def]
        yield part[:100]
        r = await api.client.delete(f"/api/v1/datasets/uploads/{up['id']}", headers=h)
        aborted.append(r.status_code)
        yield part[100:]

    r = await api.client.put(
        f"/api/v1/datasets/uploads/{up['id']}/chunks/0",
        content=body(),
        headers={**h, "X-Chunk-SHA256": _sha(part)},
    )
    assert aborted == [204]
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "NOT_FOUND"
    assert not (api.ctx.settings.data_dir / "uploads" / up["id"]).exists()
    # and after the abort, plainly
    assert await _put(api, up["id"], 1, data) == 404


async def test_an_upload_being_finalized_takes_no_chunk_and_no_abort(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    import uuid

    from promethium.api.services.uploads import UploadStore

    data = seismic_files["line"].read_bytes()
    up = await _init(api, data)
    h = api.headers[Role.user]
    store = UploadStore(api.ctx.settings.data_dir / "uploads", 1 << 30, 1 << 30)
    store.claim(uuid.UUID(up["id"]))  # another request is finalizing it
    assert await _put(api, up["id"], 0, data) == 409
    r = await api.client.delete(f"/api/v1/datasets/uploads/{up['id']}", headers=h)
    assert r.status_code == 409
    r = await api.client.post(f"/api/v1/datasets/uploads/{up['id']}/finalize", headers=h)
    assert r.status_code == 409
    store.release(uuid.UUID(up["id"]))
    # missing chunks: 409, and the claim is given back so the client can go on
    r = await api.client.post(f"/api/v1/datasets/uploads/{up['id']}/finalize", headers=h)
    assert r.status_code == 409
    assert "missing" in r.json()["error"]["details"]
    for i in range(up["chunks"]):
        assert await _put(api, up["id"], i, data) == 200
    r = await api.client.post(f"/api/v1/datasets/uploads/{up['id']}/finalize", headers=h)
    assert r.status_code == 201, r.text


async def test_a_reader_crashing_on_a_malformed_file_gives_422_and_leaves_nothing(
    api: Api, seismic_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import struct

    import promethium.api.services.datasets as svc

    def crash(local: Path, filename: str) -> Any:  # what a parser bug on a malformed file raises
        return struct.unpack(">I", b"\x00")

    monkeypatch.setattr(svc, "validate_upload", crash)
    h = api.headers[Role.user]
    data = seismic_files["line"].read_bytes()
    r = await api.client.post("/api/v1/datasets", files={"file": ("line.sgy", data)}, headers=h)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert "not valid seismic data" in err["message"]
    up = await _init(api, data)
    for i in range(up["chunks"]):
        assert await _put(api, up["id"], i, data) == 200
    r = await api.client.post(f"/api/v1/datasets/uploads/{up['id']}/finalize", headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    # nothing behind: no dataset, no stored object, no temporary file, no upload folder
    assert (await api.client.get("/api/v1/datasets", headers=h)).json()["total"] == 0
    assert api.ctx.storage.list("datasets") == []
    tmp = api.ctx.settings.data_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    assert not (api.ctx.settings.data_dir / "uploads" / up["id"]).exists()
