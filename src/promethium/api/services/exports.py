"""Dataset export: the stored Zarr copy written as SEG-Y, miniSEED, SAC, a zipped Zarr store or a NumPy
``.npy`` array, into a temporary file that is streamed to the client and removed afterwards.

The library does the conversion (:func:`promethium.io.convert`; ``.npy`` is written chunk by chunk from
:meth:`iter_chunks`, so memory stays bounded). Formats that cannot hold the data (SAC and miniSEED hold
time series: SAC one trace, neither a 3D grid) are refused with VALIDATION_ERROR, as are library errors
of the writers.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import anyio
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.deps import Principal
from promethium.api.errors import ValidationError
from promethium.api.services.datasets import DatasetService, safe_filename
from promethium.api.storage import ObjectStorage
from promethium.core.errors import PromethiumError

__all__ = ["EXTENSIONS", "ExportFormat", "ExportService", "export_to_file", "stream_and_remove"]

ExportFormat = Literal["segy", "mseed", "sac", "zarr", "npy"]
EXTENSIONS: dict[str, str] = {
    "segy": ".sgy",
    "mseed": ".mseed",
    "sac": ".sac",
    "zarr": ".zarr.zip",
    "npy": ".npy",
}
_CHUNK_TRACES = 4096


def _write_npy(storage: ObjectStorage, key: str, out: Path) -> None:
    from numpy.lib import format as npformat

    from promethium import io as pio

    with pio.open(storage.url(key), storage_options=storage.storage_options or None) as f:
        shape = (int(f.n_traces), int(f.n_samples))
        with out.open("wb") as fh:
            npformat.write_array_header_1_0(
                fh,
                {"descr": npformat.dtype_to_descr(np.dtype("<f4")), "fortran_order": False, "shape": shape},
            )
            for chunk in f.iter_chunks(_CHUNK_TRACES):
                fh.write(np.ascontiguousarray(chunk.values, dtype="<f4").reshape(-1, shape[1]).tobytes())


def _write_zarr_zip(storage: ObjectStorage, key: str, out: Path) -> None:
    prefix = key.rstrip("/") + "/"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for k in storage.list(key):
            with storage.open(k) as src, zf.open("data.zarr/" + k[len(prefix) :], "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def export_to_file(storage: ObjectStorage, key: str, fmt: str, out: Path) -> None:
    """Write the dataset stored at ``key`` (Zarr) to the local file ``out`` in ``fmt``."""
    from promethium import io as pio

    if fmt == "npy":
        _write_npy(storage, key, out)
    elif fmt == "zarr":
        _write_zarr_zip(storage, key, out)
    else:
        pio.convert(
            storage.url(key), out, format=fmt, overwrite=True, storage_options=storage.storage_options or None
        )


class _Stream:
    """The bytes of an open temporary file, in blocks; closing it (at the end, or when the response
    is dropped unread) closes the file."""

    def __init__(self, fh: BinaryIO, folder: Path | None, block: int) -> None:
        self.fh, self.folder, self.block = fh, folder, block

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> bytes:
        data = self.fh.read(self.block) if not self.fh.closed else b""
        if not data:
            self.close()
            raise StopIteration
        return data

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        if self.folder is not None:  # not removed at open (Windows): now
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __del__(self) -> None:
        self.close()


def stream_and_remove(path: Path, block: int = 1 << 20) -> Iterator[bytes]:
    """Stream the temporary file ``path`` (alone in its folder) and leave nothing behind, whatever the
    client does: the file is opened and its folder removed at once (POSIX keeps an open file readable
    and frees its space when it is closed), so a client that disconnects before the first byte, or
    mid-way, leaks no file. Where an open file cannot be removed, it goes when the stream closes."""
    fh = path.open("rb")
    try:
        shutil.rmtree(path.parent)
        folder = None
    except OSError:
        folder = path.parent
    return _Stream(fh, folder, block)


class ExportService:
    def __init__(self, ctx: ApiContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.datasets = DatasetService(ctx, session)

    async def export(
        self, principal: Principal, dataset_id: uuid.UUID, fmt: str
    ) -> tuple[str, int, Iterator[bytes]]:
        """File name, size and content (a blocking iterator that removes the file at its end)."""
        ds = await self.datasets.ready(principal, dataset_id)
        meta = ds.meta or {}
        if fmt in ("sac", "mseed") and meta.get("layout") == "3d":
            raise ValidationError(
                f"a 3D volume does not fit {fmt} (it holds time series, not a grid): "
                "export it as segy, zarr or npy",
                details={"format": fmt, "layout": "3d"},
            )
        if fmt == "sac" and int(meta.get("traces", 1)) != 1:
            raise ValidationError(
                f"a SAC file holds one trace and this dataset has {meta.get('traces')}: "
                "use mseed, segy, zarr or npy",
                details={"format": fmt, "traces": meta.get("traces")},
            )
        stem = safe_filename(Path(ds.name).stem or "dataset")
        filename = stem + EXTENSIONS[fmt]
        tmp = Path(tempfile.mkdtemp(dir=self.datasets.tmp_dir())) / filename
        try:
            await anyio.to_thread.run_sync(export_to_file, self.ctx.storage, ds.processed_key or "", fmt, tmp)
        except PromethiumError as exc:
            shutil.rmtree(tmp.parent, ignore_errors=True)
            raise ValidationError(
                f"cannot export this dataset as {fmt}: {exc}", details={"format": fmt}
            ) from exc
        except BaseException:
            shutil.rmtree(tmp.parent, ignore_errors=True)
            raise
        return filename, tmp.stat().st_size, stream_and_remove(tmp)
