"""Errors of the workflow engine: all derive from :class:`~promethium.core.errors.PromethiumError`.

- :class:`SpecError`: the pipeline spec is invalid (unknown operation, bad parameter, bad override). Its
  ``errors`` list every problem found, each with the step name and the parameter path; nothing has been
  read when it is raised.
- :class:`StepError`: an operation failed while running; names the step (``step``) and operation
  (``op``) and chains the original exception.
- :class:`Cancelled`: the run was cancelled through its :class:`~promethium.workflows.CancelToken`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promethium.core.errors import ParameterError, PromethiumError

__all__ = ["Cancelled", "PipelineError", "SpecError", "SpecIssue", "StepError"]


class PipelineError(PromethiumError):
    """Base class of the workflow errors."""

    #: The (partial) :class:`~promethium.workflows.engine.RunResult` of a failed run, when there is one.
    result: Any = None


@dataclass(frozen=True)
class SpecIssue:
    """One validation problem: where (``step`` name, ``location`` dotted path) and what."""

    location: str
    message: str
    step: str | None = None
    op: str | None = None

    def __str__(self) -> str:
        where = f"step {self.step!r}" if self.step else "pipeline"
        if self.op and self.step and self.op != self.step:
            where += f" ({self.op})"
        return f"{where}: {self.location}: {self.message}" if self.location else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "op": self.op, "location": self.location, "message": self.message}


class SpecError(PipelineError, ParameterError):
    """An invalid pipeline spec. ``errors`` holds every :class:`SpecIssue`; ``step`` and ``parameter``
    are those of the first one (``parameter`` is the full dotted path, e.g. ``steps.bandpass.params.low``).
    """

    def __init__(self, errors: list[SpecIssue]) -> None:
        if not errors:
            errors = [SpecIssue("", "invalid pipeline")]
        self.errors = list(errors)
        first = self.errors[0]
        self.step = first.step
        self.op = first.op
        path = first.location
        if first.step is not None:
            path = f"steps.{first.step}" + (f".{first.location}" if first.location else "")
        text = "invalid pipeline: " + "; ".join(str(e) for e in self.errors)
        ParameterError.__init__(self, path or "pipeline", text)
        # ParameterError prefixes the parameter; keep the message readable on its own.
        self.args = (text,)

    def __str__(self) -> str:
        return str(self.args[0])


class StepError(PipelineError):
    """A step failed while running. ``step``/``op`` name it; ``__cause__`` is the original error."""

    def __init__(self, step: str, op: str, cause: BaseException) -> None:
        self.step = step
        self.op = op
        self.reason = str(cause) or type(cause).__name__
        kind = "" if isinstance(cause, PromethiumError) else f"{type(cause).__name__}: "
        super().__init__(f"step {step!r} ({op}) failed: {kind}{self.reason}")


class Cancelled(PipelineError):
    """The run was cancelled; nothing was left under the output name."""

    def __init__(self, message: str = "the run was cancelled", *, step: str | None = None) -> None:
        self.step = step
        super().__init__(message if step is None else f"{message} (during step {step!r})")
