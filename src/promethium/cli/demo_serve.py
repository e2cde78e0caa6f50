"""``promethium demo --serve``: after the demo, the whole platform on embedded defaults.

The demo ends with the REST API and the web app running on one machine (SQLite, the local data folder,
jobs in the embedded worker pool). A first admin is created with a generated password, printed once and
kept in a file that only the user can read; the demo survey is uploaded through the API and a
reconstruction job is submitted, so the web app opens on real content: a dataset, a job, a result.

The seeding talks to the running server over HTTP, like any client, so it exercises the same path as the
web app and works whatever the ingestion does behind the upload (synchronous or as a job).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promethium.cli.demo import DEMO_METHOD
from promethium.core.errors import PromethiumError

__all__ = ["DemoAdmin", "SeedResult", "ensure_demo_admin", "seed_demo", "serve_demo"]

CREDENTIALS_FILE = "demo-admin.txt"
DEMO_DATASET = "demo survey (damaged)"


@dataclass(frozen=True)
class DemoAdmin:
    username: str
    password: str | None  # None: the user existed already and its password is not known here
    created: bool
    credentials_file: Path | None


@dataclass
class SeedResult:
    dataset_id: str | None = None
    job_id: str | None = None
    job_status: str | None = None
    messages: list[str] = field(default_factory=list)


def ensure_demo_admin(settings: Any, username: str = "admin") -> DemoAdmin:
    """Create admin ``username`` with a generated password unless it exists.

    The password is never a built-in default: it is drawn with :mod:`secrets`, returned so the caller can
    print it once, and written to ``data_dir/demo-admin.txt`` with mode 0600. When the user exists, the
    password is read back from that file when the demo wrote it earlier, else it is unknown (None).
    """
    from promethium.api.admin import create_admin

    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    cred = data_dir / CREDENTIALS_FILE
    password = secrets.token_urlsafe(15)
    if create_admin(username, password, settings=settings):
        fd = os.open(cred, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{username}\n{password}\n")
        return DemoAdmin(username, password, True, cred)
    if cred.is_file():
        lines = cred.read_text().splitlines()
        if len(lines) >= 2 and lines[0] == username:
            return DemoAdmin(username, lines[1], False, cred)
    return DemoAdmin(username, None, False, None)


def _check(resp: Any, what: str) -> Any:
    if resp.status_code >= 400:
        try:
            detail = resp.json()["error"]["message"]
        except Exception:
            detail = resp.text[:200]
        raise PromethiumError(f"{what}: HTTP {resp.status_code}: {detail}")
    return resp.json() if resp.content else None


def seed_demo(
    base_url: str,
    username: str,
    password: str,
    survey: Path,
    *,
    method: str = DEMO_METHOD,
    timeout_s: float = 300.0,
    wait_for_job: bool = False,
) -> SeedResult:
    """Upload ``survey`` as the demo dataset (once) and submit a reconstruction job on it, over HTTP.

    Idempotent: a dataset named :data:`DEMO_DATASET` already there is reused, and no second job is
    submitted when one exists for it. Waits for the dataset to become ``ready`` (ingestion may run as a
    job) and, with ``wait_for_job``, for the job to end.
    """
    import httpx

    out = SeedResult()
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=60) as client:
        tok = _check(
            client.post("/api/v1/auth/login", data={"username": username, "password": password}), "login"
        )
        headers = {"Authorization": f"Bearer {tok['access_token']}"}
        page = _check(
            client.get("/api/v1/datasets", params={"q": DEMO_DATASET, "per_page": 5}, headers=headers),
            "listing datasets",
        )
        existing = [d for d in page["items"] if d["name"] == DEMO_DATASET]
        if existing:
            ds = existing[0]
            out.messages.append(f"dataset '{DEMO_DATASET}' already there ({ds['id']})")
        else:
            with survey.open("rb") as f:
                ds = _check(
                    client.post(
                        "/api/v1/datasets",
                        files={"file": (survey.name, f, "application/octet-stream")},
                        data={"name": DEMO_DATASET},
                        headers=headers,
                    ),
                    "uploading the demo survey",
                )
            out.messages.append(f"uploaded {survey.name} as '{DEMO_DATASET}' ({ds['id']})")
        out.dataset_id = ds["id"]
        while ds["status"] != "ready":
            if ds["status"] == "failed" or time.monotonic() > deadline:
                raise PromethiumError(f"the demo dataset did not become ready (status {ds['status']})")
            time.sleep(0.25)
            ds = _check(client.get(f"/api/v1/datasets/{ds['id']}", headers=headers), "reading the dataset")
        jobs = _check(client.get("/api/v1/jobs", params={"per_page": 100}, headers=headers), "listing jobs")
        mine = [j for j in jobs["items"] if j.get("dataset_id") == ds["id"] and j["kind"] == "reconstruct"]
        if mine:
            job = mine[0]
            out.messages.append(f"reconstruction job already there ({job['id']}, {job['status']})")
        else:
            job = _check(
                client.post(
                    "/api/v1/jobs",
                    json={
                        "kind": "reconstruct",
                        "dataset_id": ds["id"],
                        "params": {"reconstruct.method": method},
                    },
                    headers=headers,
                ),
                "submitting the reconstruction",
            )
            out.messages.append(f"submitted a {method} reconstruction job ({job['id']})")
        out.job_id = job["id"]
        while wait_for_job and job["status"] in ("queued", "running"):
            if time.monotonic() > deadline:
                raise PromethiumError(f"the demo job did not finish in {timeout_s:.0f} s")
            time.sleep(0.25)
            job = _check(client.get(f"/api/v1/jobs/{job['id']}", headers=headers), "reading the job")
        out.job_status = job["status"]
    return out


def serve_demo(
    survey: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    username: str = "admin",
    say: Any = print,
) -> None:
    """Start the API and web app on embedded defaults, seed them with the demo survey, serve until Ctrl-C."""
    import uvicorn

    from promethium.api import create_app
    from promethium.api.settings import get_api_settings

    settings = get_api_settings()
    admin = ensure_demo_admin(settings, username)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning", lifespan="on")
    )
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}"

    def seed() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        if admin.password is None:
            say(
                f"User '{username}' exists already and its password is not known to the demo: the demo "
                "dataset was not uploaded. Log in with your password."
            )
        else:
            try:
                result = seed_demo(url, username, admin.password, survey)
                for m in result.messages:
                    say(f"  {m}")
            except Exception as exc:  # the server stays useful without the seed: say why and go on
                say(f"Could not seed the demo content: {exc}")
        say(f"Promethium is running: web app {url}/  API docs {url}/api/v1/docs  (Ctrl-C stops it)")

    say(f"Data folder: {settings.data_dir} (SQLite database, local storage, signing keys)")
    if admin.created:
        say(f"Created admin '{username}' with password: {admin.password}")
        say(f"  (shown once; also in {admin.credentials_file}, readable only by you)")
    threading.Thread(target=seed, name="promethium-demo-seed", daemon=True).start()
    server.run()
