"""Result downloads: a succeeded job's output in SEG-Y read back equal; owner or admin only; 409 for
a job without results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import Api
from promethium import io as pio
from promethium.api.models import Job
from promethium.api.schemas import Role
from promethium.api.storage import result_key

pytestmark = pytest.mark.anyio


async def _job(api: Api, status: str, output: Path | None) -> str:
    job = Job(owner_id=api.users[Role.user], kind="custom", params={}, status=status)
    async with api.ctx.db.sessionmaker() as s:
        s.add(job)
        await s.flush()
        if output is not None:
            key = result_key(job.id, "output.zarr")
            pio.convert(output, api.ctx.storage.prepare(key), format="zarr")
            job.result = {"output_key": key, "metrics": {}}
        await s.commit()
    return str(job.id)


async def test_download_result_round_trip_and_access(
    api: Api, seismic_files: dict[str, Path], tmp_path: Path
) -> None:
    jid = await _job(api, "succeeded", seismic_files["line"])
    url = f"/api/v1/results/{jid}/download"
    r = await api.client.get(url, params={"format": "segy"}, headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == f'attachment; filename="result-{jid}.sgy"'
    (tmp_path / "r.sgy").write_bytes(r.content)
    np.testing.assert_array_equal(pio.read(tmp_path / "r.sgy").values, pio.read(seismic_files["line"]).values)
    assert (await api.client.get(url, headers=api.headers[Role.admin])).status_code == 200
    assert (await api.client.get(url, headers=api.headers[Role.viewer])).status_code == 404  # not theirs
    tmp = api.ctx.settings.data_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    queued = await _job(api, "queued", None)
    r = await api.client.get(f"/api/v1/results/{queued}/download", headers=api.headers[Role.user])
    assert r.status_code == 409
