"""Datasets end to end: upload -> validation -> raw + Zarr + metadata; list, get, delete, trace windows,
preview and download; owners only; malformed files leave nothing behind."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import Api, start_api
from promethium import io as pio
from promethium.api.models import Dataset
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio
USER = Role.user


@dataclass
class Uploaded:
    """The upload's response (``accepted``: the dataset ``ingesting``) and, once accepted, the dataset
    after its ingest job (``json()``); a rejected upload's error body otherwise."""

    status_code: int
    body: dict[str, Any]
    accepted: dict[str, Any] | None = None

    def json(self) -> dict[str, Any]:
        return self.body

    @property
    def text(self) -> str:
        return json.dumps(self.body)


async def upload(api: Api, path: Path, role: Role = USER, name: str | None = None) -> Uploaded:
    data = {"name": name} if name else None
    with path.open("rb") as f:
        r = await api.client.post(
            "/api/v1/datasets", files={"file": (path.name, f)}, data=data, headers=api.headers[role]
        )
    if r.status_code != 201:
        return Uploaded(r.status_code, r.json())
    accepted = r.json()
    assert accepted["status"] == "ingesting", accepted
    return Uploaded(r.status_code, await api.wait_dataset(accepted["id"], role), accepted)


def _nothing_left(api: Api) -> None:
    storage = api.ctx.storage
    assert storage.list("datasets") == []
    tmp = api.ctx.settings.data_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []


async def test_upload_line_then_read_it_back(
    backend: str, make_settings: Any, seismic_files: dict[str, Path]
) -> None:
    async for api in start_api(make_settings()):
        await api.add_role_users()
        path = seismic_files["line"]
        r = await upload(api, path)
        assert r.status_code == 201, r.text
        assert r.accepted is not None
        assert r.accepted["format"] == "segy"
        assert r.accepted["metadata"]["upload"]["traces"] == 24  # the headers, read at upload
        ds = r.json()
        assert ds["status"] == "ready"
        assert ds["error"] is None
        assert ds["ingest_job_id"] == r.accepted["ingest_job_id"]
        assert ds["format"] == "segy"
        assert ds["size_bytes"] == path.stat().st_size
        assert ds["checksum_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert ds["metadata"]["traces"] == 24
        assert ds["metadata"]["samples"] == 80
        expected = pio.read(path).values.astype(np.float32)
        stats = ds["metadata"]["statistics"]
        assert stats["min"] == pytest.approx(float(expected.min()))
        assert stats["max"] == pytest.approx(float(expected.max()))
        assert ds["metadata"]["headers"]["cdp"] == {"min": 1, "max": 24}
        assert ds["metadata"]["qc"]["traces_checked"] == 24
        assert "n_dead" in ds["metadata"]["qc"]["summary"]
        did = ds["id"]
        storage = api.ctx.storage
        keys = storage.list(f"datasets/{did}")
        assert f"datasets/{did}/raw/line.sgy" in keys
        assert f"datasets/{did}/metadata.json" in keys
        assert any(k.startswith(f"datasets/{did}/processed/data.zarr/") for k in keys)
        assert json.loads(storage.get_bytes(f"datasets/{did}/metadata.json"))["format"] == "segy"

        expected = pio.read(path).values.astype(np.float32)
        h = api.headers[USER]
        r = await api.client.get(f"/api/v1/datasets/{did}/traces?trace_start=2&trace_stop=10", headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["shape"] == [8, 80]
        assert body["traces"] == list(range(2, 10))
        np.testing.assert_allclose(np.array(body["values"], dtype=np.float32), expected[2:10])

        r = await api.client.get(
            f"/api/v1/datasets/{did}/traces",
            params={
                "trace_step": 5,
                "sample_start": 10,
                "sample_stop": 50,
                "sample_step": 2,
                "format": "binary",
            },
            headers=h,
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/octet-stream"
        shape = tuple(int(x) for x in r.headers["x-shape"].split(","))
        got = np.frombuffer(r.content, dtype="<f4").reshape(shape)
        np.testing.assert_allclose(got, expected[::5, 10:50:2])
        assert float(r.headers["x-sample-interval"]) == pytest.approx(8.0)

        r = await api.client.get(
            f"/api/v1/datasets/{did}/traces", params={"time_start": 40, "time_stop": 80}, headers=h
        )
        assert r.status_code == 200
        assert r.json()["time_start"] == pytest.approx(40.0)
        assert r.json()["shape"] == [24, 11]

        r = await api.client.get(f"/api/v1/datasets/{did}/preview", headers=h)
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG")

        r = await api.client.get(f"/api/v1/datasets/{did}/download", headers=h)
        assert r.status_code == 200
        assert r.content == path.read_bytes()
        assert "line.sgy" in r.headers["content-disposition"]

        assert (await api.client.delete(f"/api/v1/datasets/{did}", headers=h)).status_code == 204
        assert (await api.client.get(f"/api/v1/datasets/{did}", headers=h)).status_code == 404
        assert storage.list(f"datasets/{did}") == []


async def test_volume_window_and_preview(api: Api, seismic_files: dict[str, Path]) -> None:
    r = await upload(api, seismic_files["cube"])
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["metadata"]["layout"] == "3d"
    did = ds["id"]
    expected = pio.read(seismic_files["cube"]).values.reshape(-1, 60)
    r = await api.client.get(
        f"/api/v1/datasets/{did}/traces?trace_start=3&trace_stop=13", headers=api.headers[USER]
    )
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["values"], dtype=np.float32), expected[3:13], rtol=1e-6)
    assert (
        await api.client.get(f"/api/v1/datasets/{did}/preview", headers=api.headers[USER])
    ).status_code == 200


async def test_a_crossline_window_reads_only_that_crossline(make_settings: Any, tmp_path: Path) -> None:
    """A crossline of a volume (a trace step of whole inlines) is served even where the inlines it crosses
    would exceed the window limit, and equals the crossline of the volume."""
    from conftest import start_api
    from promethium.synthetic import make_survey

    cube = make_survey("3d", n_inline=40, n_crossline=50, n_samples=100, seed=5)
    path = tmp_path / "big-cube.sgy"
    pio.write(cube, path)
    # the limit admits one crossline (40 x 100 values) but not the 40 inlines it crosses
    async for a in start_api(make_settings(max_window_values=10_000)):
        await a.add_role_users()
        did = (await a.upload(path))["id"]
        flat = pio.read(path).values.reshape(-1, 100)
        r = await a.client.get(
            f"/api/v1/datasets/{did}/traces",
            params={"trace_start": 7, "trace_step": 50, "format": "binary"},
            headers=a.headers[USER],
        )
        assert r.status_code == 200, r.text
        assert r.headers["x-shape"] == "40,100"
        np.testing.assert_array_equal(np.frombuffer(r.content, "<f4").reshape(40, 100), flat[7::50])
        # a decimated window that is not a crossline still reads its whole range, and is refused here
        r = await a.client.get(
            f"/api/v1/datasets/{did}/traces", params={"trace_step": 20}, headers=a.headers[USER]
        )
        assert r.status_code == 413


async def test_other_formats(api: Api, seismic_files: dict[str, Path]) -> None:
    r = await upload(api, seismic_files["trace"])
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "sac"


@pytest.mark.parametrize("name", ["garbage", "truncated"])
async def test_malformed_files_leave_nothing_behind(
    api: Api, seismic_files: dict[str, Path], name: str
) -> None:
    r = await upload(api, seismic_files[name])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    listing = await api.client.get("/api/v1/datasets", headers=api.headers[Role.admin])
    assert listing.json()["total"] == 0
    _nothing_left(api)


async def test_empty_file_rejected(api: Api, tmp_path: Path) -> None:
    empty = tmp_path / "empty.sgy"
    empty.write_bytes(b"")
    r = await upload(api, empty)
    assert r.status_code == 422
    _nothing_left(api)


async def test_too_large_upload(make_settings: Any, seismic_files: dict[str, Path]) -> None:
    async for api in start_api(make_settings(max_upload_bytes=4096)):
        await api.add_role_users()
        r = await upload(api, seismic_files["line"])
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        _nothing_left(api)


async def test_list_pagination_sorting_filters_and_ownership(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    # rows only (ingestion is tested above): listing and ownership do not read the storage
    async with api.ctx.db.sessionmaker() as s:
        for name in ("bravo", "alpha", "charlie"):
            s.add(
                Dataset(
                    owner_id=api.users[USER], name=name, status="ready", format="segy", size_bytes=1, meta={}
                )
            )
        s.add(
            Dataset(
                owner_id=api.users[Role.admin],
                name="admins",
                status="ready",
                format="sac",
                size_bytes=1,
                meta={},
            )
        )
        await s.commit()
    h = api.headers[USER]
    page = (await api.client.get("/api/v1/datasets?per_page=2&sort=name", headers=h)).json()
    assert page["total"] == 3
    assert page["page"] == 1
    assert page["per_page"] == 2
    assert [d["name"] for d in page["items"]] == ["alpha", "bravo"]
    page2 = (await api.client.get("/api/v1/datasets?per_page=2&page=2&sort=name", headers=h)).json()
    assert [d["name"] for d in page2["items"]] == ["charlie"]
    desc = (await api.client.get("/api/v1/datasets?sort=-name", headers=h)).json()
    assert [d["name"] for d in desc["items"]] == ["charlie", "bravo", "alpha"]
    filtered = (await api.client.get("/api/v1/datasets?q=rav&format=segy", headers=h)).json()
    assert [d["name"] for d in filtered["items"]] == ["bravo"]
    bad = await api.client.get("/api/v1/datasets?sort=password", headers=h)
    assert bad.status_code == 422
    # admins see everyone's, a viewer sees none of the user's
    assert (await api.client.get("/api/v1/datasets", headers=api.headers[Role.admin])).json()["total"] == 4
    assert (await api.client.get("/api/v1/datasets", headers=api.headers[Role.viewer])).json()["total"] == 0
    admins = (await api.client.get("/api/v1/datasets?q=admins", headers=api.headers[Role.admin])).json()
    other_id = admins["items"][0]["id"]
    for suffix in ("", "/traces", "/preview", "/download"):
        r = await api.client.get(f"/api/v1/datasets/{other_id}{suffix}", headers=h)
        assert r.status_code == 404, suffix
    assert (await api.client.delete(f"/api/v1/datasets/{other_id}", headers=h)).status_code == 404


async def test_window_limits(make_settings: Any, seismic_files: dict[str, Path]) -> None:
    async for api in start_api(make_settings(max_window_values=1000)):
        await api.add_role_users()
        did = (await upload(api, seismic_files["line"])).json()["id"]
        h = api.headers[USER]
        r = await api.client.get(f"/api/v1/datasets/{did}/traces", headers=h)
        assert r.status_code == 413
        r = await api.client.get(f"/api/v1/datasets/{did}/traces?trace_step=4&sample_step=2", headers=h)
        assert r.status_code == 200
        r = await api.client.get(f"/api/v1/datasets/{did}/traces?trace_start=500", headers=h)
        assert r.status_code == 422
        r = await api.client.get(
            f"/api/v1/datasets/{did}/traces?time_start=0&sample_start=2&trace_stop=2", headers=h
        )
        assert r.status_code == 422


@pytest.mark.s3
async def test_upload_to_s3_storage(
    make_settings: Any, s3_prefix: str, seismic_files: dict[str, Path]
) -> None:
    async for api in start_api(make_settings(storage_url=s3_prefix)):
        await api.add_role_users()
        assert (await api.client.get("/api/v1/health/ready")).status_code == 200
        r = await upload(api, seismic_files["line"])
        assert r.status_code == 201, r.text
        did = r.json()["id"]
        h = api.headers[USER]
        r = await api.client.get(f"/api/v1/datasets/{did}/traces?trace_stop=3&format=binary", headers=h)
        assert r.status_code == 200
        assert r.headers["x-shape"] == "3,80"
        r = await api.client.get(f"/api/v1/datasets/{did}/download", headers=h)
        assert r.content == seismic_files["line"].read_bytes()
        bad = await upload(api, seismic_files["truncated"])
        assert bad.status_code == 422
        assert (await api.client.delete(f"/api/v1/datasets/{did}", headers=h)).status_code == 204
        assert api.ctx.storage.list("datasets") == []
