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


async def _dataset_and_job(api: Api, data: pio.SeismicData, output: pio.SeismicData) -> tuple[str, str]:
    from promethium.api.models import Dataset
    from promethium.api.storage import dataset_key

    owner = api.users[Role.user]
    async with api.ctx.db.sessionmaker() as s:
        ds = Dataset(owner_id=owner, name="line", status="ready", format="segy")
        s.add(ds)
        await s.flush()
        ds.processed_key = dataset_key(ds.id, "processed/data.zarr")
        pio.write(data, api.ctx.storage.prepare(ds.processed_key))
        job = Job(owner_id=owner, dataset_id=ds.id, kind="reconstruct", params={}, status="succeeded")
        s.add(job)
        await s.flush()
        key = result_key(job.id, "output.zarr")
        pio.write(output, api.ctx.storage.prepare(key))
        job.result = {"output_key": key, "metrics": {"snr_db": 12.5}, "steps": [{"op": "reconstruct"}]}
        await s.commit()
    return str(ds.id), str(job.id)


async def test_result_metrics_and_comparison_figure(api: Api) -> None:
    from promethium.synthetic import make_survey

    clean = make_survey("2d", n_traces=40, n_samples=100, seed=2)
    keep = np.ones(40, bool)
    keep[::3] = False
    damaged = clean.replace(np.where(keep[:, None], clean.values, 0), trace_mask=keep)
    did, jid = await _dataset_and_job(api, damaged, clean)
    r = await api.client.get(f"/api/v1/results/{jid}", headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kind"], body["dataset_id"], body["metrics"]) == ("reconstruct", did, {"snr_db": 12.5})
    assert body["figures"] == {"comparison": f"/api/v1/results/{jid}/figure"}
    assert body["downloads"]["segy"] == f"/api/v1/results/{jid}/download?format=segy"
    r = await api.client.get(body["figures"]["comparison"], headers=api.headers[Role.user])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    import matplotlib.image as mpimg

    img = mpimg.imread(BytesIO(r.content), format="png")
    assert img.shape[1] > 2 * img.shape[0]  # three panels side by side
    assert api.ctx.storage.exists(result_key(jid, "figures/comparison.png"))  # drawn once, then kept
    again = await api.client.get(body["figures"]["comparison"], headers=api.headers[Role.user])
    assert again.content == r.content
    # someone else's result is not found; a job still queued has no result yet
    assert (
        await api.client.get(f"/api/v1/results/{jid}", headers=api.headers[Role.viewer])
    ).status_code == 404
    assert (
        await api.client.get(f"/api/v1/results/{jid}/figure", headers=api.headers[Role.admin])
    ).status_code == 200
    queued = await _job(api, "queued", None)
    assert (
        await api.client.get(f"/api/v1/results/{queued}", headers=api.headers[Role.user])
    ).status_code == 409


async def test_no_comparison_figure_when_the_output_is_not_the_input_section(api: Api) -> None:
    from promethium.synthetic import make_survey

    data = make_survey("2d", n_traces=20, n_samples=80, seed=1)
    _, jid = await _dataset_and_job(api, data, data.isel(trace=slice(0, 5)))
    r = await api.client.get(f"/api/v1/results/{jid}/figure", headers=api.headers[Role.user])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"
    assert "not a processed copy" in r.json()["error"]["message"]
