"""The job runner and the embedded executor without the HTTP layer: a SQLite database migrated to
head, a local storage holding a dataset's Zarr store."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from promethium.api.db import run_migrations
from promethium.api.models import Dataset, Job, JobEvent, Result, User
from promethium.api.repositories_jobs import JobStore
from promethium.api.storage import ObjectStorage, dataset_key, result_key
from promethium.worker import EmbeddedExecutor, run_job
from promethium.worker.runner import ProgressWriter
from promethium.workflows import CancelToken, ProgressEvent

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def env(tmp_path: Path) -> Any:
    from promethium import io as pio
    from promethium.synthetic import damage, make_survey

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    run_migrations(url)
    store = JobStore.from_url(url)
    storage = ObjectStorage(str(tmp_path / "storage"))
    damaged, _ = damage(make_survey("2d", n_traces=40, n_samples=120, seed=5), 0.2, 0.0, seed=5)
    key = dataset_key("d", "processed/data.zarr")
    pio.write(damaged, storage.prepare(key))
    with store.sessions() as s, s.begin():
        user = User(username="u", password_hash="x", role="user")
        s.add(user)
        s.flush()
        ds = Dataset(owner_id=user.id, name="d", status="ready", processed_key=key, meta={})
        s.add(ds)
    yield store, storage, user.id, ds.id
    store.dispose()


def _job(
    store: JobStore, owner: uuid.UUID, dataset: uuid.UUID, status: str = "queued", **params: Any
) -> uuid.UUID:
    from promethium.workflows import load_pipeline

    spec = load_pipeline("reconstruct-classical", params or None).to_dict()
    with store.sessions() as s, s.begin():
        job = Job(
            owner_id=owner, dataset_id=dataset, kind="reconstruct", status=status, params={"pipeline": spec}
        )
        s.add(job)
    return job.id


def test_run_job_succeeds_and_a_retry_overwrites(env: Any) -> None:
    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)
    storage.put_bytes(result_key(job_id, "stale.txt"), b"old attempt")
    assert run_job(job_id, store, storage) == "succeeded"
    assert not storage.exists(result_key(job_id, "stale.txt"))
    assert storage.exists(result_key(job_id, "output.zarr", "zarr.json"))
    assert storage.exists(result_key(job_id, "metadata.json"))
    assert run_job(job_id, store, storage) == "succeeded"  # already done: left alone
    with store.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.result is not None
        assert job.result["metrics"]["n_traces"] == 40
        assert s.query(Result).filter(Result.job_id == job_id).count() == 1
        statuses = [e.data["status"] for e in s.query(JobEvent).filter_by(job_id=job_id, kind="status")]
        assert statuses == ["running", "succeeded"]


def test_run_job_fails_when_the_dataset_is_gone(env: Any) -> None:
    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)
    storage.delete_prefix(dataset_key("d"))
    assert run_job(job_id, store, storage) == "failed"
    with store.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.error
        assert job.finished_at is not None
    assert not storage.list(result_key(job_id))


def test_a_cancelled_token_cancels_the_run(env: Any) -> None:
    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)
    token = CancelToken()
    token.cancel()
    assert run_job(job_id, store, storage, token) == "cancelled"
    assert store.status(job_id) == "cancelled"
    assert not storage.list(result_key(job_id))


def test_progress_writes_are_throttled_and_stop_a_cancelled_job(env: Any) -> None:
    store, _, owner, ds = env
    job_id = _job(store, owner, ds)
    assert store.transition(job_id, "running")
    token = CancelToken()
    writer = ProgressWriter(store, job_id, token, interval=60.0)
    for i in range(50):
        writer(ProgressEvent(i / 100, "a" if i < 25 else "b", f"{i}"))
    writer(ProgressEvent(1.0, None, "done"))
    assert writer.written == 3  # the first, the step change, the last
    assert not token.cancelled
    assert store.transition(job_id, "cancelled")
    writer(ProgressEvent(1.0, None, "again"))
    assert token.cancelled


def test_the_embedded_executor_recovers_jobs_of_a_previous_process(env: Any) -> None:
    store, storage, owner, ds = env
    stale = _job(store, owner, ds, status="running")
    waiting = _job(store, owner, ds)
    executor = EmbeddedExecutor(JobStore(store.engine), storage, workers=1)
    executor.start()
    try:
        deadline = time.monotonic() + 60
        while store.status(waiting) != "succeeded":
            assert time.monotonic() < deadline, store.status(waiting)
            time.sleep(0.1)
        assert store.status(stale) == "failed"
    finally:
        executor.shutdown()


def test_is_transient_counts_s3_connection_and_timeout_errors() -> None:
    import aiohttp
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    from promethium.worker.runner import is_transient

    url = "http://127.0.0.1:9/bucket/key"
    transient: list[BaseException] = [
        EndpointConnectionError(endpoint_url=url),
        ConnectTimeoutError(endpoint_url=url),
        ReadTimeoutError(endpoint_url=url),
        ConnectionClosedError(endpoint_url=url),
        ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "PutObject"),
        ClientError({"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject"),
        aiohttp.ServerDisconnectedError(),
        ConnectionResetError(),
        TimeoutError(),
    ]
    wrapped = OSError("s3fs translated it")
    wrapped.__cause__ = EndpointConnectionError(endpoint_url=url)
    transient.append(wrapped)
    for exc in transient:
        assert is_transient(exc), repr(exc)
    permanent: list[BaseException] = [
        ClientError({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "Get"),
        ClientError({"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "Get"),
        FileNotFoundError("datasets/x"),
        ValueError("bad parameter"),
        OSError("s3fs: access denied"),
    ]
    for exc in permanent:
        assert not is_transient(exc), repr(exc)


def test_a_database_error_is_not_shown_in_the_job_error(
    env: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from promethium.worker.runner import DATABASE_ERROR_MESSAGE, run_job

    store, storage, owner, ds = env
    job_id = _job(store, owner, ds)

    def succeed(*args: Any, **kwargs: Any) -> bool:  # the database refuses the write (a real error)
        with store.sessions() as s, s.begin():
            s.add(User(username="u", password_hash="secret-hash-value", role="user"))
        return True

    monkeypatch.setattr(store, "succeed", succeed)
    with caplog.at_level(logging.INFO, logger="promethium.worker"):
        assert run_job(job_id, store, storage) == "failed"
    with store.sessions() as s:
        error = s.get(Job, job_id).error  # type: ignore[union-attr]
    assert error == DATABASE_ERROR_MESSAGE
    assert "INSERT" in caplog.text  # the detail is logged for the operator


def test_public_message_keeps_promethium_errors_and_hides_database_ones() -> None:
    import sqlite3

    from sqlalchemy.exc import IntegrityError, ProgrammingError

    from promethium.core.errors import ParameterError
    from promethium.worker.runner import DATABASE_ERROR_MESSAGE, public_message

    assert public_message(ParameterError("n_iter", "must be positive")) == "n_iter: must be positive"
    assert (
        public_message(LookupError("the dataset is gone or not ready")) == "the dataset is gone or not ready"
    )
    sql = "INSERT INTO users (username, password_hash) VALUES (?, ?)"
    assert public_message(IntegrityError(sql, ("u", "h"), Exception("UNIQUE"))) == DATABASE_ERROR_MESSAGE
    assert public_message(ProgrammingError(sql, None, Exception("x"))) == DATABASE_ERROR_MESSAGE
    assert public_message(sqlite3.OperationalError("no such table: jobs")) == DATABASE_ERROR_MESSAGE
