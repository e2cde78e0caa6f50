"""The object storage interface on a local folder and on S3 (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promethium.api.storage import ObjectStorage, dataset_key, model_key, result_key
from promethium.core.errors import StorageError


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStorage]:
    if request.param == "local":
        yield ObjectStorage(str(tmp_path / "store"))
    else:
        yield ObjectStorage(request.getfixturevalue("s3_prefix"))


def test_put_get_list_delete(storage: ObjectStorage, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"abc" * 100)
    storage.put_file(dataset_key("d1", "raw", "f.bin"), src)
    storage.put_bytes(dataset_key("d1", "metadata.json"), b"{}")
    storage.put_bytes(model_key("m1", "weights.pt"), b"w")
    storage.put_bytes(result_key("j1", "out.zarr", "zarr.json"), b"{}")
    assert storage.exists("datasets/d1/raw/f.bin")
    assert storage.size("datasets/d1/raw/f.bin") == 300
    assert storage.get_bytes("datasets/d1/metadata.json") == b"{}"
    assert b"".join(storage.iter_bytes("datasets/d1/raw/f.bin", block=64)) == b"abc" * 100
    assert storage.list("datasets/d1") == ["datasets/d1/metadata.json", "datasets/d1/raw/f.bin"]
    storage.delete_prefix("datasets/d1")
    assert storage.list("datasets/d1") == []
    assert not storage.exists("datasets/d1/raw/f.bin")
    assert storage.exists("models/m1/weights.pt")
    storage.delete_prefix("datasets/absent")  # no error
    with pytest.raises(StorageError):
        storage.get_bytes("datasets/absent/x")
    storage.check()


def test_urls_and_key_safety(storage: ObjectStorage) -> None:
    url = storage.url("datasets/x/processed/data.zarr")
    assert url.endswith("/datasets/x/processed/data.zarr")
    if not storage.is_local:
        assert url.startswith("s3://")
    for bad in ("../etc/passwd", "", "/", "a/../../b"):
        with pytest.raises(StorageError):
            storage.url(bad)
