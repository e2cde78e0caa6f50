"""The ``promethium`` command line: ``promethium --help`` lists the commands.

- ``promethium io info|convert|headers``: inspect, convert and list the headers of seismic files;
- ``promethium demo``: the whole job on a synthetic survey, end to end.

The Typer application is :data:`promethium.cli.main.app`; :func:`promethium.cli.main.main` is the console
entry point (also run by ``python -m promethium``). This module holds the state shared by the commands.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

__all__ = ["CliState", "get_state"]


@dataclass
class CliState:
    """Options shared by every command (set by the global ``--quiet`` / ``--verbose``)."""

    quiet: bool = False
    verbose: bool = False
    shown_warnings: set[str] = field(default_factory=set)

    @property
    def console(self) -> Console:
        """Console for results (stdout); wide when the output is not a terminal, so that piped tables are
        not truncated."""
        return Console(highlight=False, width=None if sys.stdout.isatty() else 200)

    @property
    def err(self) -> Console:
        """Console for progress, warnings and errors (stderr)."""
        return Console(stderr=True, highlight=False)


def get_state(ctx: Any = None) -> CliState:
    """The :class:`CliState` of the running command, found from its context (a default one without)."""
    if ctx is not None:
        obj = ctx.find_root().obj
        if isinstance(obj, CliState):
            return obj
    return CliState()
