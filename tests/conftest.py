"""Shared test fixtures.

Remote storage without a network: a local S3 server (moto's threaded server) and a tiny HTTP server
that honours ``Range`` requests and logs what it sends, so tests can check that a window read fetches
only the ranges it needs. Both listen on 127.0.0.1 on a free port and start once per session.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests: `make test` and CI run a fixed, reproducible set of examples ("ci": derandomised, so a
# green run stays green); `HYPOTHESIS_PROFILE=explore pytest ...` searches new examples with more of them.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", max_examples=500)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

S3_TEST_BUCKET = "promethium-test"
S3_TEST_REGION = "us-east-1"


# ------------------------------------------------------------------------------------------------ S3
@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """Endpoint URL of a moto S3 server with an empty bucket ``promethium-test``.

    moto reads the whole object for every range GET, so keep test objects small.
    """
    pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.setenv(var, "testing")
        mp.setenv("AWS_DEFAULT_REGION", S3_TEST_REGION)
        mp.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            client = boto3.client("s3", endpoint_url=endpoint, region_name=S3_TEST_REGION)
            client.create_bucket(Bucket=S3_TEST_BUCKET)
            yield endpoint
        finally:
            server.stop()


@pytest.fixture
def s3_prefix(moto_s3_endpoint: str) -> Iterator[str]:
    """A fresh ``s3://promethium-test/<uuid>`` prefix, with the settings pointing at the moto server."""
    from promethium.core.settings import override_settings

    with override_settings(s3_endpoint_url=moto_s3_endpoint, s3_region=S3_TEST_REGION, s3_anon=False):
        yield f"s3://{S3_TEST_BUCKET}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_put(moto_s3_endpoint: str) -> Any:
    """``put(url, data: bytes)``: upload an object to the moto server with boto3 (independent of fsspec)."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_s3_endpoint, region_name=S3_TEST_REGION)

    def put(url: str, data: bytes) -> None:
        bucket, _, key = url.removeprefix("s3://").partition("/")
        client.put_object(Bucket=bucket, Key=key, Body=data)

    return put


# ---------------------------------------------------------------------------------------------- HTTP
@dataclass
class RangeHTTPServer:
    """A running HTTP server over ``root``; ``log`` holds ``(method, path, range, bytes_sent)``."""

    url: str
    root: Path
    log: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def requests(self) -> list[tuple[str, str, str | None, int]]:
        with self.lock:
            return list(self.log)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _make_range_handler(server_state: RangeHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Static files with single ``Range: bytes=a-b`` support (206), HEAD with Content-Length."""

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _file(self) -> Path | None:
            rel = self.path.split("?", 1)[0].lstrip("/")
            p = (server_state.root / rel).resolve()
            if server_state.root.resolve() not in (p, *p.parents) or not p.is_file():
                return None
            return p

        def _record(self, sent: int) -> None:
            with server_state.lock:
                server_state.log.append((self.command, self.path, self.headers.get("Range"), sent))

        def _reply(self, body: bool) -> None:
            p = self._file()
            if p is None:
                self.send_error(404)
                self._record(0)
                return
            data = p.read_bytes()
            size = len(data)
            header = self.headers.get("Range")
            status, start, end = 200, 0, size - 1
            if header:
                m = _RANGE.match(header.strip())
                if not m or (not m.group(1) and not m.group(2)):
                    self.send_error(400, "bad range")
                    self._record(0)
                    return
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:  # suffix range: the last n bytes
                    start, end = max(0, size - int(m.group(2))), size - 1
                if start >= size or start > end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self._record(0)
                    return
                status = 206
            chunk = data[start : end + 1]
            self.send_response(status)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(chunk)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            # Record before replying: the client may read the log as soon as it has the bytes.
            self._record(len(chunk) if body else 0)
            self.end_headers()
            if body:
                self.wfile.write(chunk)

        def do_GET(self) -> None:
            self._reply(body=True)

        def do_HEAD(self) -> None:
            self._reply(body=False)

    return Handler


@pytest.fixture(scope="session")
def range_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeHTTPServer]:
    """An HTTP server on 127.0.0.1 serving a session temp folder (``.root``) with Range support."""
    root = tmp_path_factory.mktemp("http_root")
    state = RangeHTTPServer(url="", root=root)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_range_handler(state))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    state.url = f"http://{host}:{port}"
    thread = threading.Thread(target=httpd.serve_forever, name="range-http", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
