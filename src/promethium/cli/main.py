"""The ``promethium`` command: global options, error handling and the sub-command tree.

Every command runs inside :class:`PromethiumGroup`, which turns a :class:`PromethiumError` (or an OS
error such as a missing file) into one red line on stderr and exit code 2 (``--verbose`` adds the
traceback), and shows Promethium warnings as one yellow line each.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
import warnings
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from promethium._version import __version__
from promethium.cli import CliState, get_state
from promethium.core.errors import PromethiumError, PromethiumWarning

__all__ = ["app", "main"]

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


class PromethiumGroup(TyperGroup):
    """The root group: clean one-line errors with exit code 2, and readable warnings."""

    def invoke(self, ctx: Any) -> Any:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        old_showwarning = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            state = get_state(ctx)
            text = _one_line(str(message))
            if issubclass(category, PromethiumWarning):
                if not state.quiet and text not in state.shown_warnings:
                    state.shown_warnings.add(text)
                    err.print(f"[yellow]warning:[/] {escape(text)}")
            elif state.verbose:
                err.print(f"[dim]{category.__name__}: {escape(text)}[/]")

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default", PromethiumWarning)
                warnings.showwarning = show
                try:
                    return super().invoke(ctx)
                finally:
                    warnings.showwarning = old_showwarning
        except (PromethiumError, OSError) as exc:
            state = get_state(ctx)
            if state.verbose:
                err.print(escape("".join(traceback.format_exception(exc))), style="dim", soft_wrap=True)
            kind = "" if isinstance(exc, PromethiumError) else f"{type(exc).__name__}: "
            err.print(f"[bold red]error:[/] {escape(kind + _one_line(str(exc)))}")
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            err.print("[red]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None


app = typer.Typer(
    name="promethium",
    cls=PromethiumGroup,
    help=(
        "Recover damaged seismic data: read, inspect, convert and repair SEG-Y, SU, miniSEED, SAC and "
        "Zarr.\n\n"
        "Formats are detected from the content of a file, never from its name; paths may be local or "
        "URLs (s3://, http(s)://). Global options (--quiet, --verbose) go before the command.\n\n"
        "**Examples**\n\n"
        "```\n"
        "promethium demo --output demo-output       # the whole job, synthetic data\n"
        "promethium io info survey.sgy              # what is in a file\n"
        "promethium io convert survey.sgy survey.zarr\n"
        "promethium -q io info survey.sgy --json    # quiet, machine-readable\n"
        "promethium io info --help                  # every command has its own help\n"
        "```"
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"promethium {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only results and errors: no progress bars, no warnings."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Print debug logs, and the full traceback of an error."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose exclude each other")
    ctx.obj = CliState(quiet=quiet, verbose=verbose)
    from promethium.core.logging import configure_logging

    if verbose:
        level = "DEBUG"
    elif quiet:
        level = "ERROR"
    else:
        level = os.environ.get("PROMETHIUM_LOG_LEVEL", "WARNING").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            level = "WARNING"
    # Restore the logger when the command ends, so that running the CLI in-process (tests, notebooks)
    # leaves the caller's logging as it was.
    logger = logging.getLogger("promethium")
    saved = (logger.level, list(logger.handlers), logger.propagate)

    def restore() -> None:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]

    ctx.call_on_close(restore)
    configure_logging(level=level)


def _register() -> None:
    from promethium.cli.api_cmds import serve_cmd, users_app, worker_cmd
    from promethium.cli.demo import demo
    from promethium.cli.io_cmds import io_app
    from promethium.cli.signal_cmds import denoise_cmd, evaluate_cmd, filter_cmd, qc_cmd, reconstruct_cmd
    from promethium.cli.workflow_cmds import pipelines_app, run_cmd
    from promethium.ml.cli import models_app, train_cmd

    app.add_typer(io_app, name="io")
    app.command("demo")(demo)
    app.command("filter")(filter_cmd)
    app.command("reconstruct")(reconstruct_cmd)
    app.command("denoise")(denoise_cmd)
    app.command("qc")(qc_cmd)
    app.command("evaluate")(evaluate_cmd)
    app.command("run")(run_cmd)
    app.add_typer(pipelines_app, name="pipelines")
    app.command("train")(train_cmd)
    app.add_typer(models_app, name="models")
    app.command("serve")(serve_cmd)
    app.command("worker")(worker_cmd)
    app.add_typer(users_app, name="users")


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``promethium`` and ``python -m promethium``)."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="promethium")
