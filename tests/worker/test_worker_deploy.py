"""The deployment files, checked without a container engine: ``docker-compose config`` (Debian's
docker-compose 1.29 validates a file with no daemon and rejects unknown keys), the Kubernetes
manifests with kubernetes-validate, the probes and TLS the design asks for, and every PROMETHIUM_*
variable named in deploy/ is a setting the code reads."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


def _docs() -> list[dict[str, Any]]:
    return [d for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)",
)
def test_docker_compose_config_validates() -> None:
    r = _compose_config(REQUIRED_SECRETS)
    assert r.returncode == 0, r.stderr


#: the secrets compose needs from the environment (no default is shipped)
REQUIRED_SECRETS = {
    "PROMETHIUM_ADMIN_PASSWORD": "a long admin passphrase",
    "POSTGRES_PASSWORD": "pg-secret-from-env",
    "MINIO_ROOT_PASSWORD": "minio-secret-from-env",
}


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **env},
    )


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_refuses_to_start_without_the_secrets() -> None:
    for missing in REQUIRED_SECRETS:
        r = _compose_config({k: v for k, v in REQUIRED_SECRETS.items() if k != missing})
        assert r.returncode != 0, f"compose accepted a missing {missing}"
        assert f"set {missing}" in r.stderr, r.stderr
    r = _compose_config(REQUIRED_SECRETS)
    assert r.returncode == 0, r.stderr
    config = yaml.safe_load(r.stdout)["services"]
    api_env = config["api"]["environment"]
    assert api_env["PROMETHIUM_ADMIN_PASSWORD"] == REQUIRED_SECRETS["PROMETHIUM_ADMIN_PASSWORD"]
    assert ":pg-secret-from-env@" in api_env["PROMETHIUM_DATABASE_URL"]
    assert config["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg-secret-from-env"


_SECRET_KEY = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY\b)", re.IGNORECASE)
_REQUIRED_VAR = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]*\}$")


def _env_items(node: Any) -> list[tuple[str, str]]:
    """Every (key, value) of an environment-like mapping anywhere in a YAML document."""
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str | int | float) and not isinstance(v, bool):
                out.append((str(k), str(v)))
            else:
                out += _env_items(v)
    elif isinstance(node, list):
        for v in node:
            out += _env_items(v)
    return out


def test_no_deploy_file_carries_a_literal_password() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not re.search(r"change-?me", text, re.IGNORECASE), path
            # no credentials inside a URL unless they come from a required variable
            for user_pass in re.findall(r"://[^/@\s:]+:([^@\s]+)@", text):
                placeholder = re.fullmatch(r"<[a-z ]+>", user_pass)  # in a comment's example
                assert _REQUIRED_VAR.match(user_pass) or placeholder, (path, user_pass)
    compose = yaml.safe_load(COMPOSE.read_text())
    for key, value in _env_items(compose):
        if _SECRET_KEY.search(key) and key != "AWS_ACCESS_KEY_ID":
            assert _REQUIRED_VAR.match(value), (key, value)
    for doc in _docs():
        if doc["kind"] == "Secret":  # created by the operator, never committed with values
            assert not doc.get("data"), doc["metadata"]["name"]
            assert not doc.get("stringData"), doc["metadata"]["name"]
        for key, value in _env_items(doc):
            assert not _SECRET_KEY.search(key) or key in ("secretName", "secretRef"), (key, value)


def test_the_web_image_copies_the_angular_build_output() -> None:
    import json

    angular = json.loads((ROOT / "frontend" / "angular.json").read_text())
    (name, project), *_ = angular["projects"].items()
    build = project["architect"]["build"]
    assert build["builder"] in ("@angular/build:application", "@angular-devkit/build-angular:application")
    output = build.get("options", {}).get("outputPath", f"dist/{name}")
    base, browser = (output, "browser") if isinstance(output, str) else (output["base"], output["browser"])
    dockerfile = (DEPLOY / "Dockerfile.web").read_text()
    copies = re.findall(r"^COPY --from=build (\S+) /usr/share/nginx/html", dockerfile, re.MULTILINE)
    assert copies == [f"/src/{base}/{browser}".rstrip("/")], copies
    assert re.search(r"^WORKDIR /src$", dockerfile, re.MULTILINE)


def test_the_gpu_worker_uses_a_pool_that_enforces_time_limits() -> None:
    commands = [
        " ".join(json.loads(m))
        for m in re.findall(r"^CMD (\[.*\])$", (DEPLOY / "Dockerfile.worker-gpu").read_text(), re.M)
    ]
    gpu = next(d for d in _docs() if d["kind"] == "Deployment" and d["metadata"]["name"] == "worker-gpu")
    commands.append(" ".join(gpu["spec"]["template"]["spec"]["containers"][0]["args"]))
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    commands += [
        " ".join(s["command"]) for n, s in services.items() if n.startswith("worker") and "command" in s
    ]
    assert len(commands) >= 5
    for cmd in commands:  # the solo pool runs tasks in the main process: no soft/hard time limit
        assert "solo" not in cmd, cmd
        assert "--pool prefork" in cmd or "--pool" not in cmd, cmd


def test_compose_has_the_services_of_the_design() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"postgres", "redis", "minio", "api", "web", "worker-default", "worker-io", "worker-gpu"} <= set(
        services
    )
    queues = {
        name: " ".join(s.get("command") or []) for name, s in services.items() if name.startswith("worker")
    }
    assert "--queues default" in queues["worker-default"]
    assert "--queues io" in queues["worker-io"]
    for name in ("api", "worker-default", "worker-io", "worker-gpu", "web"):
        dockerfile = DEPLOY / Path(services[name]["build"]["dockerfile"]).name
        assert dockerfile.exists(), dockerfile


def test_kubernetes_manifests_validate() -> None:
    kv = pytest.importorskip("kubernetes_validate")
    assert MANIFESTS
    for doc in _docs():
        kv.validate(doc, "1.30.0", strict=True)


def test_kubernetes_probes_autoscaler_and_tls() -> None:
    docs = _docs()
    api = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "api")
    c = api["spec"]["template"]["spec"]["containers"][0]
    assert c["livenessProbe"]["httpGet"]["path"] == "/api/v1/health/live"
    assert c["readinessProbe"]["httpGet"]["path"] == "/api/v1/health/ready"
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} >= {"worker-default"}
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"]


def _setting_names() -> set[str]:
    from pydantic_settings import BaseSettings

    from promethium.api.settings import ApiSettings
    from promethium.core.settings import Settings
    from promethium.worker.executor import WorkerSettings

    classes: list[type[BaseSettings]] = [ApiSettings, Settings, WorkerSettings]
    names = set()
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", ""))
        assert prefix == "PROMETHIUM_"
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def _all_settings_classes_are_known() -> None:
    import importlib
    import pkgutil

    from pydantic_settings import BaseSettings

    import promethium

    found = set()
    for mod in pkgutil.walk_packages(promethium.__path__, "promethium."):
        if mod.name.startswith(
            ("promethium.ml", "promethium.api.migrations", "promethium.worker.celery_app")
        ):
            continue
        m = importlib.import_module(mod.name)
        for obj in vars(m).values():
            if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
                found.add(obj.__name__)
    assert found == {"ApiSettings", "Settings", "WorkerSettings"}, found


def test_every_promethium_variable_in_deploy_is_a_setting() -> None:
    _all_settings_classes_are_known()
    known = _setting_names()
    used: set[str] = set()
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            used |= set(re.findall(r"\bPROMETHIUM_[A-Z0-9_]+", path.read_text(errors="replace")))
    assert used, "no PROMETHIUM_ variable in deploy/"
    assert used <= known, sorted(used - known)
