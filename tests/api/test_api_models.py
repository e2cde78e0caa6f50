"""Models: upload (validated by the safe loader; bad files leave nothing behind), list, get, default per
task (admin), delete (owner or admin); on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from conftest import Api, start_api
from promethium.api.models import MLModel
from promethium.api.schemas import Role

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
MODELS = "/api/v1/models"


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from promethium.ml.io import save_model
    from promethium.ml.models import build_model

    root = tmp_path_factory.mktemp("models")
    pt = save_model(build_model("dae", base_channels=4, depth=1), root / "dae.pt", metrics={"snr_db": 12.5})
    other = save_model(build_model("dae", base_channels=8, depth=1), root / "big" / "dae.pt")
    # weights of another shape under the first sidecar (checksum fixed so only the shapes disagree)
    meta = json.loads((root / "dae.json").read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(other.read_bytes()).hexdigest()
    (root / "mismatch.json").write_text(json.dumps(meta))
    evil = root / "evil.pt"
    evil.write_bytes(pickle.dumps(print))  # a pickle that calls code: refused by weights_only
    meta["weights_sha256"] = hashlib.sha256(evil.read_bytes()).hexdigest()
    (root / "evil.json").write_text(json.dumps(meta))
    unknown = json.loads((root / "dae.json").read_text())
    unknown["architecture"] = "no_such_net"
    (root / "unknown.json").write_text(json.dumps(unknown))
    newer = json.loads((root / "dae.json").read_text())
    newer["format_version"] = 99
    (root / "newer.json").write_text(json.dumps(newer))
    # a valid sidecar asking for a model far larger than its weights (the API must not build it)
    large = json.loads((root / "dae.json").read_text())
    large["architecture"] = "unet"
    large["args"] = {"base_channels": 16, "depth": 3}
    (root / "large.json").write_text(json.dumps(large))
    return {
        "large": root / "large.json",
        "pt": pt,
        "json": root / "dae.json",
        "other": other,
        "mismatch": root / "mismatch.json",
        "evil": evil,
        "evil_json": root / "evil.json",
        "unknown": root / "unknown.json",
        "newer": root / "newer.json",
    }


async def _upload(api: Api, pt: Path, side: Path, role: Role = Role.user, name: str = "../x") -> Any:
    with pt.open("rb") as w, side.open("rb") as s:
        return await api.client.post(
            MODELS,
            files={"weights": ("../../w.pt", w), "sidecar": ("s.json", s)},
            data={"name": name},
            headers=api.headers[role],
        )


async def _nothing_left(api: Api) -> None:
    assert api.ctx.storage.list("models") == []
    tmp = api.ctx.settings.data_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    async with api.ctx.db.sessionmaker() as s:
        from sqlalchemy import func, select

        assert (await s.execute(select(func.count()).select_from(MLModel))).scalar_one() == 0


async def test_upload_list_get_default_delete(
    backend: str, make_settings: Any, model_files: dict[str, Path]
) -> None:
    async for api in start_api(make_settings()):
        await api.add_role_users()
        r = await _upload(api, model_files["pt"], model_files["json"])
        assert r.status_code == 201, r.text
        m = r.json()
        assert m["architecture"] == "dae"
        assert m["args"]["base_channels"] == 4
        assert m["metrics"] == {"snr_db": 12.5}
        assert m["default_for"] is None
        keys = api.ctx.storage.list(f"models/{m['id']}")
        prefix = f"models/{m['id']}"
        assert keys == [f"{prefix}/config", f"{prefix}/metadata.json", f"{prefix}/weights.pt"]
        assert api.ctx.storage.get_bytes(f"{prefix}/weights.pt") == model_files["pt"].read_bytes()
        config = json.loads(api.ctx.storage.get_bytes(f"{prefix}/config"))
        assert config["architecture"] == "dae"
        assert config["args"]["base_channels"] == 4
        r = await api.client.get(MODELS, headers=api.headers[Role.viewer])
        assert r.status_code == 200
        assert r.json()["total"] == 1
        assert set(r.json()) == {"items", "total", "page", "per_page"}
        r = await api.client.get(f"{MODELS}/{m['id']}", headers=api.headers[Role.viewer])
        assert r.json()["name"] == "../x"  # a display name only: keys are generated
        # default per task: admin only; a second model taking the default clears the first
        r = await api.client.put(
            f"{MODELS}/{m['id']}/default", json={"task": "denoising"}, headers=api.headers[Role.user]
        )
        assert r.status_code == 403
        r = await api.client.put(
            f"{MODELS}/{m['id']}/default", json={"task": "denoising"}, headers=api.headers[Role.admin]
        )
        assert r.json()["default_for"] == "denoising"
        r2 = await _upload(api, model_files["pt"], model_files["json"], role=Role.admin)
        m2 = r2.json()
        r = await api.client.put(
            f"{MODELS}/{m2['id']}/default", json={"task": "denoising"}, headers=api.headers[Role.admin]
        )
        assert r.json()["default_for"] == "denoising"
        assert (await api.client.get(f"{MODELS}/{m['id']}", headers=api.headers[Role.user])).json()[
            "default_for"
        ] is None
        r = await api.client.put(
            f"{MODELS}/{m['id']}/default", json={"task": "other"}, headers=api.headers[Role.admin]
        )
        assert r.status_code == 422
        # delete: the viewer cannot, a user cannot delete the admin's model, the owner and admins can
        assert (
            await api.client.delete(f"{MODELS}/{m['id']}", headers=api.headers[Role.viewer])
        ).status_code == 403
        assert (
            await api.client.delete(f"{MODELS}/{m2['id']}", headers=api.headers[Role.user])
        ).status_code == 403
        assert (
            await api.client.delete(f"{MODELS}/{m['id']}", headers=api.headers[Role.user])
        ).status_code == 204
        assert (
            await api.client.delete(f"{MODELS}/{m2['id']}", headers=api.headers[Role.admin])
        ).status_code == 204
        await _nothing_left(api)


@pytest.mark.parametrize(
    ("weights", "sidecar", "words"),
    [
        ("other", "mismatch", "do not fit"),
        ("evil", "evil_json", "cannot read the weights"),
        ("pt", "unknown", "no_such_net"),
        ("pt", "newer", "version"),
        ("other", "json", "checksum"),
        ("pt", "pt", "sidecar"),
    ],
)
async def test_bad_uploads_leave_nothing_behind(
    api: Api, model_files: dict[str, Path], weights: str, sidecar: str, words: str
) -> None:
    r = await _upload(api, model_files[weights], model_files[sidecar])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert words in r.json()["error"]["message"]
    await _nothing_left(api)


async def test_a_sidecar_asking_for_a_larger_model_than_its_weights_is_refused_unbuilt(
    api: Api, model_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from promethium.ml.models import get_model_class

    unet = get_model_class("unet")
    built: list[str] = []
    real_init = unet.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        import torch

        if torch.empty(0).device.type != "meta":  # counted on the meta device only
            built.append("real")
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(unet, "__init__", init)
    r = await _upload(api, model_files["pt"], model_files["large"])
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert "483,297 parameters" in message, message
    assert built == []
    await _nothing_left(api)


def test_load_model_refuses_more_parameters_than_allowed(model_files: dict[str, Path]) -> None:
    from promethium.ml.errors import ModelFormatError
    from promethium.ml.io import load_model

    assert load_model(model_files["pt"], max_parameters=215).n_parameters == 215
    with pytest.raises(ModelFormatError, match="215 parameters, more than 100 allowed"):
        load_model(model_files["pt"], max_parameters=100)


async def test_viewer_cannot_upload(api: Api, model_files: dict[str, Path]) -> None:
    r = await _upload(api, model_files["pt"], model_files["json"], role=Role.viewer)
    assert r.status_code == 403
    await _nothing_left(api)


async def test_shipped_models_are_registered_once(
    backend: str, make_settings: Any, model_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import promethium.api.services.models as svc

    shipped = [("dae-test", "denoising", model_files["pt"])]
    monkeypatch.setattr(svc, "shipped_models", lambda: shipped)
    settings = make_settings(register_shipped_models=True)
    for _ in range(2):  # a second start registers nothing new
        async for api in start_api(settings):
            async with api.ctx.db.sessionmaker() as s:
                from sqlalchemy import select

                rows = (await s.execute(select(MLModel))).scalars().all()
            assert len(rows) == 1
            m = rows[0]
            assert m.owner_id is None
            assert m.meta["default_for"] == "denoising"
            assert api.ctx.storage.get_bytes(f"models/{m.id}/weights.pt") == model_files["pt"].read_bytes()


async def test_api_processes_starting_at_once_register_the_shipped_models_once(
    backend: str, make_settings: Any, model_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from sqlalchemy import select

    import promethium.api.services.models as svc
    from promethium.api.app import build_context
    from promethium.api.db import run_migrations

    shipped = [("dae-a", "denoising", model_files["pt"]), ("dae-b", "reconstruction", model_files["pt"])]
    monkeypatch.setattr(svc, "shipped_models", lambda: shipped)
    settings = make_settings(register_shipped_models=True)
    run_migrations(settings.resolved_database_url())
    contexts = [build_context(settings) for _ in range(4)]  # one per API process, each its own pool
    try:
        added = await asyncio.gather(*(svc.register_shipped(c) for c in contexts))
        assert sorted(added) == [0, 0, 0, 2]
        async with contexts[0].db.sessionmaker() as s:
            rows = (await s.execute(select(MLModel))).scalars().all()
        assert sorted(m.name for m in rows) == ["dae-a", "dae-b"]
        assert sorted(m.meta["default_for"] for m in rows) == ["denoising", "reconstruction"]
    finally:
        for c in contexts:
            await c.db.dispose()


async def test_shipped_models_list_tolerates_none() -> None:
    from promethium.api.services.models import shipped_models

    for name, task, path in shipped_models():
        assert path.is_file(), name
        assert task in ("reconstruction", "denoising"), name


async def test_the_packaged_models_are_registered_as_defaults(make_settings: Any) -> None:
    from sqlalchemy import select

    from promethium.ml.pretrained import list_pretrained

    async for api in start_api(make_settings(register_shipped_models=True)):
        async with api.ctx.db.sessionmaker() as s:
            rows = (await s.execute(select(MLModel))).scalars().all()
        assert sorted(m.name for m in rows) == sorted(p.name for p in list_pretrained())
        defaults = {m.name: m.meta["default_for"] for m in rows}
        # one default per task; the 3D model is registered but not the default reconstruction model
        assert defaults == {
            "unet-reconstruct": "reconstruction",
            "unet-denoise": "denoising",
            "unet3d-reconstruct": None,
        }
        assert all(m.owner_id is None for m in rows)
