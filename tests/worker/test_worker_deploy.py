"""The deployment files, checked without a container engine: ``docker-compose config`` (Debian's
docker-compose 1.29 validates a file with no daemon and rejects unknown keys), the Kubernetes
manifests with kubernetes-validate, the probes and TLS the design asks for, and every PROMETHIUM_*
variable named in deploy/ is a setting the code reads."""

from __future__ import annotations

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
    r = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr


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
