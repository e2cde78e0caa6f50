"""The Celery app: its configuration, the task run in process, and a job sent through Redis to an
in-thread worker (skipped when Redis is not on 127.0.0.1:6379)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

pytest.importorskip("celery")

from test_worker_runner import _job, env  # noqa: F401

from promethium.api.storage import result_key
from promethium.worker.celery_app import (
    QUEUES,
    TASK_NAME,
    configure_worker,
    make_celery,
    register_tasks,
    run_job_task,
)
from promethium.worker.executor import CeleryExecutor, WorkerSettings, make_executor

pytestmark = pytest.mark.timeout(120)
REDIS = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


def test_celery_configuration() -> None:
    app = make_celery(WorkerSettings(broker_url=REDIS))
    conf = app.conf
    assert conf.broker_url == REDIS
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert tuple(q.name for q in conf.task_queues) == QUEUES == ("default", "gpu", "io")
    assert run_job_task.name == TASK_NAME == "promethium.tasks.run_job"


def test_a_broker_url_selects_celery(tmp_path: Any) -> None:
    from promethium.api.storage import ObjectStorage

    storage = ObjectStorage(str(tmp_path))
    assert isinstance(make_executor("sqlite://", storage, WorkerSettings(broker_url=REDIS)), CeleryExecutor)


def test_the_task_runs_the_shared_runner(env: Any) -> None:  # noqa: F811
    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)
    configure_worker(store, storage)
    assert run_job_task.apply(args=[str(job_id)]).get() == "succeeded"
    assert storage.exists(result_key(job_id, "output.zarr", "zarr.json"))
    assert run_job_task.apply(args=[str(job_id)]).get() == "succeeded"  # a duplicate does nothing


@pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable")
def test_a_job_goes_through_redis_to_a_worker(env: Any) -> None:  # noqa: F811
    from celery.contrib.testing.worker import start_worker

    store, storage, owner, ds = env
    configure_worker(store, storage)
    options = {"global_keyprefix": f"pmtest-{uuid.uuid4().hex}:"}
    settings = WorkerSettings(broker_url=REDIS)
    worker_app = make_celery(settings)
    worker_app.conf.broker_transport_options = options
    register_tasks(worker_app)
    executor = CeleryExecutor(settings)
    executor.app.conf.broker_transport_options = options
    job_id = _job(store, owner, ds)
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        executor.submit(job_id, "default")
        deadline = time.monotonic() + 60
        while store.status(job_id) != "succeeded":
            assert time.monotonic() < deadline, store.status(job_id)
            time.sleep(0.1)
