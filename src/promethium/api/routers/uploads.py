"""Resumable chunked dataset uploads: init, chunk (with SHA-256), status, finalize, abort."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Request, status

from promethium.api.deps import Ctx, Session, Writer
from promethium.api.errors import ConflictError
from promethium.api.routers.jobs import Executor
from promethium.api.schemas import DatasetOut, UploadInitIn, UploadOut
from promethium.api.services.datasets import DatasetService, safe_filename
from promethium.api.services.uploads import ChunkWriter, UploadState, UploadStore

router = APIRouter(prefix="/datasets/uploads", tags=["uploads"])

WRITE_BLOCK = 4 * 1024 * 1024


def _store(ctx: Ctx) -> UploadStore:
    s = ctx.settings
    return UploadStore(s.data_dir / "uploads", s.max_upload_bytes, s.upload_chunk_max_bytes)


def _out(store: UploadStore, state: UploadState) -> UploadOut:
    return UploadOut(
        id=uuid.UUID(state.id),
        filename=state.filename,
        size=state.size,
        chunk_size=state.chunk_size,
        chunks=state.chunks,
        received=store.received(state),
        expires_at=datetime.fromisoformat(state.expires_at),
    )


@router.post("", name="create", response_model=UploadOut, status_code=status.HTTP_201_CREATED)
async def create_upload(
    body: UploadInitIn, principal: Writer, ctx: Ctx, name: str | None = None
) -> UploadOut:
    store = _store(ctx)
    state = await anyio.to_thread.run_sync(
        lambda: store.create(
            principal.id, safe_filename(body.filename), name, body.size, body.sha256, body.chunk_size
        )
    )
    return _out(store, state)


@router.get("/{upload_id}", name="get", response_model=UploadOut, summary="Which chunks have arrived")
async def get_upload(upload_id: uuid.UUID, principal: Writer, ctx: Ctx) -> UploadOut:
    store = _store(ctx)
    return _out(store, store.get(upload_id, principal.owner_filter()))


@router.put(
    "/{upload_id}/chunks/{index}",
    name="put_chunk",
    response_model=UploadOut,
    summary="Send chunk `index` as the raw request body, its SHA-256 in X-Chunk-SHA256",
)
async def put_chunk(
    upload_id: uuid.UUID,
    index: int,
    request: Request,
    principal: Writer,
    ctx: Ctx,
    x_chunk_sha256: Annotated[str | None, Header()] = None,
) -> UploadOut:
    store = _store(ctx)
    state = store.get(upload_id, principal.owner_filter())
    writer = await anyio.to_thread.run_sync(store.open_chunk, state, index, x_chunk_sha256)
    try:
        # Stream the body to disk in blocks of WRITE_BLOCK: the parts the server hands over are
        # gathered into one reused buffer (the only copy), written and hashed in a worker thread.
        buf = bytearray()
        async for part in request.stream():
            buf += part
            if len(buf) >= WRITE_BLOCK:
                await _flush(writer, buf)
        if buf:
            await _flush(writer, buf)
        await anyio.to_thread.run_sync(store.finish_chunk, state, writer)
    finally:
        writer.close()
    return _out(store, state)


async def _flush(writer: ChunkWriter, buf: bytearray) -> None:
    with memoryview(buf) as view:
        await anyio.to_thread.run_sync(writer.write, view)
    del buf[:]


@router.post(
    "/{upload_id}/finalize",
    name="finalize",
    response_model=DatasetOut,
    status_code=status.HTTP_201_CREATED,
    summary="Check the whole file and its headers, and queue its ingestion (the dataset is ingesting)",
)
async def finalize_upload(
    upload_id: uuid.UUID, principal: Writer, ctx: Ctx, session: Session, executor: Executor
) -> DatasetOut:
    store = _store(ctx)
    state = store.get(upload_id, principal.owner_filter())
    store.claim(upload_id)  # concurrent finalizes: one goes on, the others 409
    try:
        path = await anyio.to_thread.run_sync(store.assemble, state)
        ds = await DatasetService(ctx, session).create_from_file(
            principal, state.name, state.filename, path, state.size, state.sha256, executor
        )
    except BaseException as exc:
        if getattr(exc, "code", None) == "VALIDATION_ERROR":  # a bad file: nothing may stay behind
            store.abort(upload_id)
        else:  # missing chunks, a storage hiccup: the client may send more and finalize again
            store.release(upload_id)
        raise
    store.abort(upload_id)
    return DatasetOut.model_validate(ds)


@router.delete("/{upload_id}", name="abort", status_code=status.HTTP_204_NO_CONTENT)
async def abort_upload(upload_id: uuid.UUID, principal: Writer, ctx: Ctx) -> None:
    store = _store(ctx)
    store.get(upload_id, principal.owner_filter())
    if store.finalizing(upload_id):
        raise ConflictError("the upload is being finalized: it cannot be aborted now")
    store.abort(upload_id)
