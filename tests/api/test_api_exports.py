"""Dataset export: SEG-Y read back equal to the stored data, NumPy and zipped Zarr, SAC refused where
the data does not fit, owners only, safe file names, no temporary file left."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import Api
from promethium import io as pio
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio
USER = Role.user


async def _upload(api: Api, path: Path, name: str | None = None) -> str:
    return str((await api.upload(path, USER, name))["id"])


def _no_tmp(api: Api) -> None:
    tmp = api.ctx.settings.data_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []


async def test_segy_export_round_trip(api: Api, seismic_files: dict[str, Path], tmp_path: Path) -> None:
    did = await _upload(api, seismic_files["line"], name="../../etc/my line")
    r = await api.client.get(
        f"/api/v1/datasets/{did}/export", params={"format": "segy"}, headers=api.headers[USER]
    )
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert disposition == 'attachment; filename="my_line.sgy"'
    out = tmp_path / "back.sgy"
    out.write_bytes(r.content)
    back = pio.read(out)
    stored = pio.read(api.ctx.storage.url(f"datasets/{did}/processed/data.zarr"))
    np.testing.assert_array_equal(back.values, stored.values)
    np.testing.assert_array_equal(back.values, pio.read(seismic_files["line"]).values)
    _no_tmp(api)


async def test_npy_and_zarr_exports(api: Api, seismic_files: dict[str, Path]) -> None:
    did = await _upload(api, seismic_files["line"])
    expected = pio.read(seismic_files["line"]).values
    r = await api.client.get(
        f"/api/v1/datasets/{did}/export", params={"format": "npy"}, headers=api.headers[USER]
    )
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(np.load(io.BytesIO(r.content)), expected)
    r = await api.client.get(
        f"/api/v1/datasets/{did}/export", params={"format": "zarr"}, headers=api.headers[USER]
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "data.zarr/zarr.json" in names
    _no_tmp(api)


async def test_sac_of_one_trace_and_refusals(api: Api, seismic_files: dict[str, Path]) -> None:
    one = await _upload(api, seismic_files["trace"])
    r = await api.client.get(
        f"/api/v1/datasets/{one}/export", params={"format": "sac"}, headers=api.headers[USER]
    )
    assert r.status_code == 200, r.text
    cube = await _upload(api, seismic_files["cube"])
    for fmt in ("sac", "mseed"):
        r = await api.client.get(
            f"/api/v1/datasets/{cube}/export", params={"format": fmt}, headers=api.headers[USER]
        )
        assert r.status_code == 422, r.text  # the format cannot hold a 3D grid: a clear error
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
        assert "3D" in r.json()["error"]["message"]
    line = await _upload(api, seismic_files["line"])
    r = await api.client.get(
        f"/api/v1/datasets/{line}/export", params={"format": "sac"}, headers=api.headers[USER]
    )
    assert r.status_code == 422
    assert "one trace" in r.json()["error"]["message"]
    r = await api.client.get(
        f"/api/v1/datasets/{line}/export", params={"format": "mseed"}, headers=api.headers[USER]
    )
    assert r.status_code == 200, r.text
    r = await api.client.get(
        f"/api/v1/datasets/{one}/export", params={"format": "exe"}, headers=api.headers[USER]
    )
    assert r.status_code == 422
    _no_tmp(api)


async def test_only_the_owner_and_admins_export(api: Api, seismic_files: dict[str, Path]) -> None:
    did = await _upload(api, seismic_files["line"])
    other = await api.create_user("someone-else")
    headers = await api.token_headers("someone-else")
    assert other
    r = await api.client.get(f"/api/v1/datasets/{did}/export", headers=headers)
    assert r.status_code == 404
    r = await api.client.get(f"/api/v1/datasets/{did}/export", headers=api.headers[Role.admin])
    assert r.status_code == 200


@pytest.mark.parametrize("read", ["never", "part", "all"])
async def test_an_export_leaves_no_temporary_file_whatever_the_client_reads(
    api: Api, seismic_files: dict[str, Path], read: str
) -> None:
    import gc
    import uuid

    from promethium.api.deps import Principal
    from promethium.api.models import User
    from promethium.api.services.exports import ExportService

    did = await _upload(api, seismic_files["line"])
    async with api.ctx.db.sessionmaker() as s:
        user = await s.get(User, api.users[USER])
        assert user is not None
        _, size, content = await ExportService(api.ctx, s).export(
            Principal(user, uuid.uuid4()), uuid.UUID(did), "segy"
        )
    _no_tmp(api)  # gone from the folder before the first byte is sent: a client gone now leaks nothing
    expected = (
        await api.client.get(
            f"/api/v1/datasets/{did}/export", params={"format": "segy"}, headers=api.headers[USER]
        )
    ).content
    assert size == len(expected)
    got = b""
    if read == "part":
        got = next(iter(content))[:10]
        assert got == expected[:10]
    elif read == "all":
        got = b"".join(content)
        assert got == expected
    del content
    gc.collect()
    _no_tmp(api)
