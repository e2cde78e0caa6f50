"""The bodies of the ``ingest`` and ``export`` jobs: plain functions over the object storage and the
I/O library (no database, no Celery), called by :mod:`promethium.worker.runner`.

Ingest (the upload already stored ``datasets/{id}/raw/{file}`` and checked its headers): convert the raw
file to ``datasets/{id}/processed/data.zarr`` (:func:`promethium.io.convert`, streamed), describe it
(:func:`promethium.io.info.describe`: header ranges, geometry, amplitude range, trace states), run the
quality control (:func:`promethium.signal.quality.qc`) on its first traces, and write
``datasets/{id}/metadata.json``. What a previous attempt left under ``processed/`` is replaced; the raw
file is never touched, so a failed ingestion loses nothing.

Export: write a dataset's Zarr copy, or a succeeded job's output, in a file format to
``results/{job_id}/output/{name}``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from promethium.api.storage import ObjectStorage, dataset_key, result_key
from promethium.core.errors import FormatError
from promethium.workflows import CancelToken

__all__ = ["METADATA", "PROCESSED", "QC_MAX_SAMPLES", "export_output", "ingest_dataset", "local_copy"]

PROCESSED = "processed/data.zarr"
METADATA = "metadata.json"
#: the quality control runs on at most this many samples of the first traces (bounded memory).
QC_MAX_SAMPLES = 4_000_000

#: ``report(fraction, message)``
Report = Callable[[float, str], None]


def local_copy(storage: ObjectStorage, key: str, folder: Path) -> Path:
    """A local path of the object ``key``: itself on a local storage, else a copy in ``folder``."""
    if storage.is_local:
        return Path(storage.url(key))
    dst = folder / Path(key).name
    storage.fs.get_file(storage._path(key), str(dst))
    return dst


def _qc_summary(url: str, storage_options: dict[str, Any] | None) -> dict[str, Any]:
    from promethium import io as pio
    from promethium.signal.quality import qc

    with pio.open(url, storage_options=storage_options) as f:
        n = max(1, min(int(f.n_traces), QC_MAX_SAMPLES // max(1, int(f.n_samples))))
        data = f.read_window(slice(0, n), headers=True)  # type: ignore[attr-defined]
    report = qc(data).to_dict(traces=False)
    return {
        "traces_checked": int(data.n_traces),
        "summary": report.get("summary", {}),
        "issues": report.get("issues", [])[:50],
    }


def ingest_dataset(
    storage: ObjectStorage,
    dataset_id: object,
    raw_key: str,
    report: Report,
    cancel: CancelToken,
    input_format: str | None = None,
) -> dict[str, Any]:
    """Convert, describe and check the raw file of a dataset; returns its metadata (also written to
    ``datasets/{id}/metadata.json``). On any failure, what was written under ``processed/`` and the
    metadata are removed (the raw file stays)."""
    from promethium import io as pio
    from promethium.io.info import describe

    opts = storage.storage_options or None
    processed = dataset_key(dataset_id, PROCESSED)
    meta_key = dataset_key(dataset_id, METADATA)
    tmp = Path(tempfile.mkdtemp(prefix="promethium-ingest-"))
    try:
        storage.delete_prefix(processed)  # a previous attempt's
        local = local_copy(storage, raw_key, tmp)
        cancel.check()
        fmt = input_format or pio.detect_format(local)
        if fmt == "zarr":
            raise FormatError("a Zarr store cannot be uploaded as one file", path=local.name)
        report(0.05, f"converting {fmt} to Zarr")

        def converted(done: int, total: int) -> None:
            cancel.check()
            report(0.05 + 0.65 * done / max(total, 1), f"converted {done} of {total} traces")

        result = pio.convert(
            local,
            storage.prepare(processed),
            format="zarr",
            input_format=fmt,
            overwrite=True,
            progress=converted,
            storage_options=opts,
        )
        cancel.check()
        report(0.7, "reading the headers and amplitudes")

        def described(done: int, total: int) -> None:
            cancel.check()
            report(0.7 + 0.2 * done / max(total, 1), f"described {done} of {total} traces")

        info = describe(local, fmt, progress=described)
        cancel.check()
        report(0.9, "quality control")
        qc = _qc_summary(storage.url(processed), opts)
        meta: dict[str, Any] = {
            "filename": Path(raw_key).name,
            "format": fmt,
            "traces": int(result.traces),
            "samples": int(info["samples"]),
            "sample_interval": float(info["sample_interval"]),
            "sample_unit": info.get("sample_unit", "ms"),
            "layout": result.layout,
            "geometry": info.get("geometry"),
            "mask": info.get("mask"),
            "headers": info.get("headers", {}),
            "statistics": info.get("amplitude", {}),
            "qc": qc,
            "warnings": [str(w) for w in info.get("warnings", [])][:20],
            "convert_seconds": round(result.seconds, 3),
        }
        if info.get("format_info"):
            meta["format_info"] = info["format_info"]
        if result.layout == "3d":
            with pio.open(storage.url(processed), storage_options=opts) as f:
                meta["dims"] = {str(k): int(v) for k, v in f.info().get("dims", {}).items()}
        meta = json.loads(json.dumps(meta, default=_jsonable))
        storage.put_bytes(meta_key, json.dumps(meta, indent=2).encode())
        return meta
    except BaseException:
        storage.delete_prefix(processed)
        storage.delete_prefix(meta_key)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def export_output(
    storage: ObjectStorage, job_id: object, source_key: str, fmt: str, filename: str, cancel: CancelToken
) -> str:
    """Write the Zarr store at ``source_key`` as ``fmt`` to ``results/{job_id}/output/{filename}``;
    returns that key."""
    from promethium.api.services.exports import export_to_file

    tmp = Path(tempfile.mkdtemp(prefix="promethium-export-"))
    try:
        out = tmp / filename
        export_to_file(storage, source_key, fmt, out)
        cancel.check()
        key = result_key(job_id, "output", filename)
        storage.put_file(key, out)
        return key
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
