"""What a running operation sees: the cancellation token, progress reporting and the run's context."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promethium.workflows.errors import Cancelled

__all__ = ["CancelToken", "InputInfo", "OpContext", "ProgressEvent"]


class CancelToken:
    """A thread-safe cancellation flag, checked between chunks and between steps (and inside the
    windowed operations, between windows). A worker calls :meth:`cancel` from any thread; the run then
    raises :class:`~promethium.workflows.errors.Cancelled` at the next check and removes what it wrote.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "the run was cancelled"

    def cancel(self, reason: str | None = None) -> None:
        if reason:
            self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self, step: str | None = None) -> None:
        """Raise :class:`Cancelled` when :meth:`cancel` was called."""
        if self._event.is_set():
            raise Cancelled(self.reason, step=step)


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report: ``fraction`` of the whole run done (0..1, never decreasing, 1.0 last),
    the ``step`` running (None before the first and after the last), and a human ``message``."""

    fraction: float
    step: str | None
    message: str
    chunk: int | None = None
    n_chunks: int | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class InputInfo:
    """What is known of the input before any sample is read (from its headers)."""

    n_samples: int
    sample_interval: float
    trace_shape: tuple[int, ...]
    sample_unit: str = "ms"
    #: False when the trace layout is only known once read (a SEG-Y volume is binned on reading).
    dims_known: bool = True

    @property
    def is_3d(self) -> bool:
        return len(self.trace_shape) == 2

    @property
    def n_traces(self) -> int:
        n = 1
        for s in self.trace_shape:
            n *= int(s)
        return n

    @property
    def shape(self) -> tuple[int, ...]:
        return (*self.trace_shape, self.n_samples)


@dataclass
class OpContext:
    """Passed to every operation: the seed, the reference data (when the pipeline names one), the
    cancellation token, a per-step progress function ``progress(fraction_of_step, message)``, the step
    name, where analysis results go, and whether the run streams (``chunk`` = (start, stop) traces)."""

    step: str
    seed: int = 0
    reference: Any = None
    cancel: CancelToken | None = None
    progress: Callable[[float, str], None] | None = None
    overwrite: bool = False
    streaming: bool = False
    chunk: tuple[int, int] | None = None
    #: JSON-ready results of analysis steps, by step name.
    results: dict[str, Any] = field(default_factory=dict)
    #: Objects kept for the report (QCReport, Evaluation, ...), by step name.
    artifacts: dict[str, Any] = field(default_factory=dict)
    #: Per-chunk partial results of analysis steps while streaming, by step name.
    partials: dict[str, list[Any]] = field(default_factory=dict)
    #: Extra outputs written by ``write`` steps (path -> format).
    written: dict[str, str] = field(default_factory=dict)

    def check_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel.check(self.step)

    def report(self, fraction: float, message: str = "") -> None:
        self.check_cancel()
        if self.progress is not None:
            self.progress(min(1.0, max(0.0, fraction)), message)
