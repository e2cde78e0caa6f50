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
