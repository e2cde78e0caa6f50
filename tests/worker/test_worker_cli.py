"""``promethium worker``: refuses to start without a broker, and starts a real Celery worker with one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from promethium.cli.main import app

runner = CliRunner()


def test_worker_needs_a_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHIUM_BROKER_URL", raising=False)
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "PROMETHIUM_BROKER_URL" in result.stderr


def test_worker_rejects_unknown_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHIUM_BROKER_URL", "redis://127.0.0.1:6379/15")
    result = runner.invoke(app, ["worker", "--queues", "default,fast"])
    assert result.exit_code == 2
    assert "fast" in result.stderr


def _redis_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_worker_process_starts_and_consumes_its_queues(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PROMETHIUM_DATA_DIR": str(tmp_path),
        "PROMETHIUM_BROKER_URL": "redis://127.0.0.1:6379/15",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promethium", "worker", "-P", "solo", "-c", "1", "-Q", "default,gpu"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "ready." not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")
                time.sleep(0.5)
            text = log.read_text(errors="replace")
            assert "ready." in text, text
            assert ".> default" in text
            assert ".> gpu" in text
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_serve_with_several_workers_needs_a_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHIUM_BROKER_URL", raising=False)
    started: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append((a, k)))
    result = runner.invoke(app, ["serve", "--workers", "3"])
    assert result.exit_code == 2, result.output
    assert "--workers 3 needs a broker" in result.stderr
    assert "PROMETHIUM_BROKER_URL" in result.stderr
    assert started == []  # refused before anything starts
    # one process in embedded mode, or several with a broker, start
    assert runner.invoke(app, ["serve", "--workers", "1"]).exit_code == 0
    monkeypatch.setenv("PROMETHIUM_BROKER_URL", "redis://127.0.0.1:6379/15")
    assert runner.invoke(app, ["serve", "--workers", "3"]).exit_code == 0
    assert [k["workers"] for _, k in started] == [1, 3]  # type: ignore[index]
