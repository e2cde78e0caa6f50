"""The cache of open dataset handles: repeated trace windows reuse one open store; deleting the dataset
closes and forgets it; the cache stays bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import Api
from promethium import io as pio
from promethium.api.handles import HandleCache
from promethium.api.schemas import Role

pytestmark = pytest.mark.anyio
USER = Role.user


async def _upload(api: Api, path: Path) -> str:
    return str((await api.upload(path, USER))["id"])


async def test_windows_reuse_one_handle_and_delete_invalidates(
    api: Api, seismic_files: dict[str, Path]
) -> None:
    did = await _upload(api, seismic_files["line"])
    cache = api.ctx.handles
    url = f"/api/v1/datasets/{did}/traces"
    expected = pio.read(seismic_files["line"]).values
    for start in (0, 5, 10):
        r = await api.client.get(
            url,
            params={"trace_start": start, "trace_stop": start + 4, "format": "json"},
            headers=api.headers[USER],
        )
        assert r.status_code == 200, r.text
        np.testing.assert_array_equal(
            np.asarray(r.json()["values"], dtype=np.float32), expected[start : start + 4]
        )
    assert cache.misses == 1
    assert cache.hits == 2
    assert len(cache) == 1
    r = await api.client.delete(f"/api/v1/datasets/{did}", headers=api.headers[USER])
    assert r.status_code == 204
    assert len(cache) == 0
    r = await api.client.get(url, headers=api.headers[USER])
    assert r.status_code == 404


class _Fake:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_cache_is_bounded_and_closes_what_it_evicts() -> None:
    cache = HandleCache(max_open=2)
    made: dict[str, Any] = {}

    def opener(key: str) -> Any:
        made[key] = _Fake()
        return made[key]

    for key in ("a/1", "a/2", "b/1"):
        cache.get(key, lambda k=key: opener(k))
    assert len(cache) == 2
    assert made["a/1"].closed
    assert "a/1" not in cache
    assert cache.get("a/2", lambda: opener("x")) is made["a/2"]  # a hit; a/2 is now the newest
    assert cache.invalidate("a/") == 1
    assert made["a/2"].closed
    assert not made["b/1"].closed
    cache.clear()
    assert made["b/1"].closed
    assert len(cache) == 0
