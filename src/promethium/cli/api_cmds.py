"""``promethium users create-admin`` and ``promethium serve``: thin shells over :mod:`promethium.api.admin`.

Register in :func:`promethium.cli.main._register`::

    from promethium.cli.api_cmds import serve_cmd, users_app

    app.add_typer(users_app, name="users")
    app.command("serve")(serve_cmd)
"""

from __future__ import annotations

import sys

import typer

from promethium.cli import get_state
from promethium.core.errors import ConfigurationError

__all__ = ["create_admin_cmd", "serve_cmd", "users_app"]

users_app = typer.Typer(help="Manage the users of the REST API.", no_args_is_help=True)


@users_app.command("create-admin")
def create_admin_cmd(
    ctx: typer.Context,
    username: str = typer.Option(..., "--username", "-u", help="User name of the new admin."),
    email: str = typer.Option(None, "--email", help="E-mail address (optional)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin (scripts)."
    ),
) -> None:
    """Create an admin account (there is never a default password: it is prompted for or read from stdin)."""
    from promethium.api.admin import create_admin
    from promethium.api.errors import ApiError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise ConfigurationError("an empty password is not allowed")
    try:
        created = create_admin(username, password, email)
    except ApiError as exc:
        raise ConfigurationError(exc.message) from None
    state = get_state(ctx)
    if created:
        state.console.print(f"created admin {username}")
    else:
        state.err.print(f"[yellow]user {username} already exists; nothing changed[/]")
        raise typer.Exit(1)


def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", "-p", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes."),
) -> None:
    """Serve the REST API (docs at /api/v1/docs)."""
    from promethium.api.admin import serve

    serve(host=host, port=port, workers=workers)


def worker_cmd(
    queues: str = typer.Option(
        "default,gpu,io",
        "--queues",
        "-Q",
        help="Comma-separated queues: default, gpu (reconstruct, train), io.",
    ),
    concurrency: int = typer.Option(2, "--concurrency", "-c", min=1, help="Worker processes (or threads)."),
    pool: str = typer.Option("prefork", "--pool", "-P", help="Celery pool: prefork, threads or solo."),
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="Celery log level."),
) -> None:
    """Run a Celery job worker (needs PROMETHIUM_BROKER_URL, e.g. redis://host:6379/0).

    The worker reaches the database and the storage through the same settings as the API
    (PROMETHIUM_DATABASE_URL, PROMETHIUM_STORAGE_URL). Start one per machine; jobs submitted through an API
    started with the same broker URL run here instead of in the API's embedded pool.

    **Example**

    ```
    PROMETHIUM_BROKER_URL=redis://10.0.0.5:6379/0 promethium worker --queues default,io -c 2
    ```
    """
    from promethium.core.errors import ConfigurationError
    from promethium.worker.celery_app import QUEUES
    from promethium.worker.executor import WorkerSettings

    if not WorkerSettings().broker_url:
        raise ConfigurationError(
            "PROMETHIUM_BROKER_URL is not set: a worker needs a broker (e.g. redis://...)"
        )
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in wanted if q not in QUEUES]
    if unknown or not wanted:
        raise ConfigurationError(
            f"--queues: unknown queue(s) {', '.join(unknown) or '(none)'}; use {', '.join(QUEUES)}"
        )
    if pool not in ("prefork", "threads", "solo"):
        raise ConfigurationError(f"--pool must be prefork, threads or solo, not {pool!r}")
    from promethium.worker.celery_app import celery_app

    celery_app.worker_main(
        ["worker", "-Q", ",".join(wanted), "-c", str(concurrency), "-P", pool, "-l", loglevel]
    )
