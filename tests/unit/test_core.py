"""Settings are read lazily with the PROMETHIUM_ prefix; errors carry path and offset; imports are cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from promethium.core import FormatError, PromethiumError, get_settings, override_settings, reload_settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHIUM_IO_CHUNK_BYTES", str(8 * 2**20))
    monkeypatch.setenv("PROMETHIUM_S3_ENDPOINT_URL", "http://127.0.0.1:9999")
    try:
        s = reload_settings()
        assert s.io_chunk_bytes == 8 * 2**20
        assert s.storage_options("s3://b/k")["client_kwargs"]["endpoint_url"] == "http://127.0.0.1:9999"
        assert s.storage_options("/local/path") == {}
    finally:
        monkeypatch.delenv("PROMETHIUM_IO_CHUNK_BYTES")
        monkeypatch.delenv("PROMETHIUM_S3_ENDPOINT_URL")
        reload_settings()


def test_invalid_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHIUM_IO_CHUNK_BYTES", "12")
    with pytest.raises(ValueError, match="io_chunk_bytes"):
        reload_settings()
    monkeypatch.delenv("PROMETHIUM_IO_CHUNK_BYTES")
    reload_settings()


def test_override_is_scoped() -> None:
    before = get_settings().io_max_samples
    with override_settings(io_max_samples=7):
        assert get_settings().io_max_samples == 7
    assert get_settings().io_max_samples == before


def test_format_error_names_path_and_offset() -> None:
    err = FormatError("bad magic", path="/data/x.sgy", offset=3224)
    assert isinstance(err, PromethiumError)
    assert str(err) == "/data/x.sgy, byte 3224: bad magic"
    assert (err.path, err.offset, err.reason) == ("/data/x.sgy", 3224, "bad magic")


def test_import_has_no_side_effects_and_stays_light() -> None:
    code = (
        "import sys, logging, promethium, promethium.io, promethium.core\n"
        "names = ('numba', 'obspy', 'torch', 'zarr', 'pymseed', 'matplotlib')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert not logging.getLogger('promethium').handlers\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
