"""Running a pipeline: in memory, or streamed over chunks of whole traces.

:func:`run_pipeline` checks everything it can before reading a sample (the spec, the operations'
parameters against the input's headers, that the input exists, that no output would be replaced without
``overwrite``), then runs the steps:

- **in memory**: the input is read whole and each operation is called once, exactly as a direct call
  would be (same function, same arguments, so the same result bit for bit);
- **streamed**: chunks of whole traces are read in turn, every step is applied to each chunk, and the
  result goes to a Zarr store through :class:`~promethium.io.zarrstore.ZarrWriter` (which publishes the
  store only when it is closed). Steps that need neighbouring traces get a halo: the chunk is read with
  extra traces on both sides and only its centre is kept; chunk starts fall on the windows' grid, so
  windowed reconstruction and denoising give the in-memory result (see ``docs`` in
  :mod:`promethium.workflows.operations`).

Progress goes to ``progress(ProgressEvent)`` (a never-decreasing fraction ending at 1.0, the step, a
message); the :class:`~promethium.workflows.context.CancelToken` is checked between steps, between chunks
and between the windows of windowed operations. A failing step raises
:class:`~promethium.workflows.errors.StepError` naming it; cancellation raises
:class:`~promethium.workflows.errors.Cancelled`. Either way nothing is left under the output name, and
the report (when asked for) says what happened.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from promethium.core.errors import OutputExistsError, ParameterError, PromethiumError, StorageError
from promethium.io.data import SeismicData
from promethium.workflows.context import CancelToken, InputInfo, OpContext, ProgressCallback, ProgressEvent
from promethium.workflows.errors import Cancelled, SpecError, SpecIssue, StepError
from promethium.workflows.provenance import Checksum, now, segy_text_blocks, software_versions, write_sidecar
from promethium.workflows.spec import Pipeline, ResolvedStep, load_pipeline

__all__ = ["RunResult", "StepRecord", "plan_run", "run_pipeline"]

log = logging.getLogger("promethium.workflows")

Status = Literal["succeeded", "failed", "cancelled"]


@dataclass
class StepRecord:
    """What one step did: its parameters (defaults filled in), time, status and error."""

    name: str
    op: str
    params: dict[str, Any]
    seconds: float = 0.0
    status: Literal["pending", "ok", "failed", "cancelled"] = "pending"
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "op": self.op,
            "params": self.params,
            "seconds": round(self.seconds, 6),
            "status": self.status,
            "error": self.error,
        }


@dataclass
class RunResult:
    """The outcome of :func:`run_pipeline`.

    ``data``: the final data of an in-memory run (None when streamed); ``output``: where it was written;
    ``results``: the JSON results of analysis steps by step name (QC, metrics, method comparison);
    ``provenance``: what the output records; ``report``: path of ``report.html`` when one was written.
    """

    pipeline: Pipeline
    status: Status = "succeeded"
    mode: Literal["memory", "stream"] = "memory"
    data: SeismicData | None = None
    output: str | None = None
    sidecar: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    report: str | None = None
    seconds: float = 0.0
    error: str | None = None
    failed_step: str | None = None
    n_chunks: int = 0
    written: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(
            {
                "pipeline": self.pipeline.name,
                "status": self.status,
                "mode": self.mode,
                "output": self.output,
                "sidecar": self.sidecar,
                "report": self.report,
                "seconds": round(self.seconds, 6),
                "error": self.error,
                "failed_step": self.failed_step,
                "n_chunks": self.n_chunks,
                "steps": [s.to_dict() for s in self.steps],
                "results": self.results,
            }
        )


def _jsonable(v: Any) -> Any:
    """JSON-safe copy: numpy to Python, non-finite floats to strings."""
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if v is None or isinstance(v, str | bool | int | float):
        return v
    return str(v)


# ================================================================================ progress
class _Progress:
    """Turns step-level fractions into a never-decreasing run fraction and calls the callback."""

    def __init__(self, callback: ProgressCallback | None, cancel: CancelToken | None) -> None:
        self.callback = callback
        self.cancel = cancel
        self.fraction = 0.0

    def emit(self, fraction: float, step: str | None, message: str, **kw: Any) -> None:
        self.fraction = max(self.fraction, min(1.0, float(fraction)))
        if self.callback is not None:
            self.callback(ProgressEvent(self.fraction, step, message, **kw))

    def check(self, step: str | None = None) -> None:
        if self.cancel is not None:
            self.cancel.check(step)


# ================================================================================ planning
@dataclass
class _Plan:
    input: str | None
    output: str | None
    output_format: str | None
    reference: str | None
    report: str | None
    info: InputInfo | None
    mode: Literal["memory", "stream"]
    reason: str


def _output_format(path: str, fmt: str | None) -> str:
    from promethium import io as pio

    if fmt is not None:
        return pio.get_plugin(fmt).name
    from promethium.io import formats as _formats

    return _formats._format_from_extension(path)


def _exists(path: str) -> bool:
    from promethium.io.source import is_url, strip_file_scheme

    if is_url(path):
        import fsspec

        from promethium.core.settings import get_settings

        fs, p = fsspec.core.url_to_fs(path, **get_settings().storage_options(path))
        return bool(fs.exists(p))
    return os.path.lexists(strip_file_scheme(path))


def _input_info(path: str) -> InputInfo:
    from promethium import io as pio

    with pio.open(path) as f:
        shape = getattr(f, "shape", None)
        known = shape is not None
        trace_shape = tuple(int(s) for s in shape[:-1]) if shape is not None else (int(f.n_traces),)
        unit = "ms"
        with contextlib.suppress(Exception):
            unit = str(getattr(f, "sample_unit", "ms"))
        return InputInfo(int(f.n_samples), float(f.sample_interval), trace_shape, unit, dims_known=known)


def _info_of(data: SeismicData) -> InputInfo:
    return InputInfo(data.n_samples, data.sample_interval, data.shape[:-1], data.sample_unit)


def plan_run(
    pipeline: Pipeline,
    *,
    data: SeismicData | None = None,
    input: str | None = None,
    output: str | None = None,
    reference: str | None = None,
    report: str | None = None,
    overwrite: bool = False,
    mode: Literal["auto", "memory", "stream"] | None = None,
) -> _Plan:
    """Every check that needs no sample: paths, output existence, parameters against the input's
    headers, and the choice between in-memory and streamed execution."""
    spec = pipeline.spec
    src = input if input is not None else spec.input
    out = output if output is not None else spec.output
    ref = reference if reference is not None else spec.reference
    rep = report if report is not None else spec.report
    issues: list[SpecIssue] = []
    if data is None and src is None:
        raise SpecError(
            [SpecIssue("input", "no input: give one in the spec, with --set input=PATH or as data")]
        )
    fmt: str | None = None
    if out is not None:
        try:
            fmt = _output_format(out, spec.output_format)
        except PromethiumError as exc:
            raise SpecError([SpecIssue("output", str(exc))]) from None
        if not overwrite and _exists(out):
            raise OutputExistsError(f"{out}: the output already exists (pass --overwrite to replace it)")
    for s in pipeline.steps:
        if s.op.name == "write" and not overwrite and _exists(s.params.path):
            raise OutputExistsError(
                f"step {s.name!r}: {s.params.path} already exists (pass --overwrite to replace it)"
            )
    if any(s.op.needs_reference for s in pipeline.steps) and ref is None:
        raise SpecError([SpecIssue("reference", "a metrics step needs a reference input")])
    if ref is not None and not _exists(ref):
        raise StorageError(f"reference {ref}: no such file or store")
    if data is not None:
        info = _info_of(data)
    else:
        assert src is not None
        if not _exists(src):
            raise StorageError(f"input {src}: no such file or store")
        info = _input_info(src)
    for s in pipeline.steps:
        if s.op.check is None:
            continue
        try:
            s.op.check(s.params, info)
        except ParameterError as exc:
            issues.append(
                SpecIssue(
                    f"params.{exc.parameter}",
                    exc.reason + (f" (allowed: {exc.allowed})" if exc.allowed else ""),
                    step=s.name,
                    op=s.op.name,
                )
            )
    if issues:
        raise SpecError(issues)

    wanted = mode or spec.execution.mode
    blockers = _stream_blockers(pipeline, info, out, fmt, data)
    if wanted == "stream" and blockers:
        raise SpecError([SpecIssue("execution.mode", f"cannot stream: {blockers[0]}")])
    if wanted == "memory" or (wanted == "auto" and blockers):
        chosen: Literal["memory", "stream"] = "memory"
        reason = "asked for" if wanted == "memory" else blockers[0]
        size = info.n_traces * info.n_samples * 4
        if wanted == "auto" and size > spec.execution.memory_limit_bytes:
            warnings.warn(
                f"the input ({size / 2**30:.1f} GiB of samples) exceeds the memory limit but cannot "
                f"stream ({blockers[0]}); running in memory",
                stacklevel=2,
            )
    elif wanted == "stream":
        chosen, reason = "stream", "asked for"
    else:
        size = info.n_traces * info.n_samples * 4
        big = size > spec.execution.memory_limit_bytes
        chosen = "stream" if big else "memory"
        reason = "input larger than memory_limit_bytes" if big else "input fits in memory"
    return _Plan(src, out, fmt, ref, rep, info, chosen, reason)


def _stream_blockers(
    pipeline: Pipeline, info: InputInfo, out: str | None, fmt: str | None, data: SeismicData | None
) -> list[str]:
    why = []
    if data is not None:
        why.append("the input is in memory already")
    if out is not None and fmt != "zarr":
        why.append(f"streamed output must be a Zarr store, not {fmt} (write .zarr, then convert)")
    for s in pipeline.steps:
        m = s.op.streaming_mode(s.params)
        if m == "global":
            why.append(f"step {s.name!r} ({s.op.name}) needs the whole data at once")
        elif m == "spatial" and info.is_3d:
            why.append(f"step {s.name!r} ({s.op.name}) needs neighbouring traces of a volume")
        elif m == "sink" and _output_format(s.params.path, s.params.format) != "zarr":
            why.append(f"step {s.name!r} writes {s.params.path}, which is not a Zarr store")
    return why


# ================================================================================ running
@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed numpy's (and torch's, when loaded) global generators; restore numpy's afterwards."""
    import sys

    state = np.random.get_state()  # noqa: NPY002 - the legacy global generator is what we pin
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def run_pipeline(
    pipeline: Pipeline | str | os.PathLike[str] | Mapping[str, Any],
    *,
    data: SeismicData | None = None,
    input: str | None = None,
    output: str | None = None,
    reference: str | SeismicData | None = None,
    report: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    overrides: Mapping[str, Any] | list[str] | None = None,
    mode: Literal["auto", "memory", "stream"] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    checksums: bool = True,
) -> RunResult:
    """Run ``pipeline`` (a :class:`Pipeline`, a spec file, a preset name or a spec mapping).

    ``data`` runs on in-memory data instead of the spec's input; ``input``/``output``/``reference``/
    ``report`` override the spec's. ``overwrite`` allows replacing existing outputs. ``mode`` overrides
    ``execution.mode``. ``checksums=False`` skips the sha256 of the inputs.

    Raises :class:`SpecError` (before reading anything), :class:`OutputExistsError`,
    :class:`StorageError` for a missing input, :class:`StepError` when a step fails and
    :class:`Cancelled`; the two last carry the partial :class:`RunResult` as ``.result``.
    """
    if not isinstance(pipeline, Pipeline):
        pipeline = load_pipeline(pipeline, overrides)
    elif overrides:
        pipeline = pipeline.with_overrides(overrides)
    ref_data = reference if isinstance(reference, SeismicData) else None
    ref_path = reference if isinstance(reference, str) else None
    plan = plan_run(
        pipeline,
        data=data,
        input=input,
        output=output,
        reference=ref_path,
        report=None if report is None else str(report),
        overwrite=overwrite,
        mode=mode,
    )
    t_start = time.perf_counter()
    started = now()
    result = RunResult(pipeline=pipeline, mode=plan.mode, output=plan.output)
    result.steps = [StepRecord(s.name, s.op.name, s.params_dict()) for s in pipeline.steps]
    prog = _Progress(progress, cancel)
    sums: list[Checksum] = []
    if checksums:
        if plan.input is not None and data is None:
            sums.append(Checksum(plan.input, "input"))
        if plan.reference is not None and ref_data is None:
            sums.append(Checksum(plan.reference, "reference"))
    ctx_base = {"seed": pipeline.spec.seed, "cancel": cancel, "overwrite": overwrite}
    keep: dict[str, Any] = {}
    prog.emit(0.0, None, f"{pipeline.name}: starting ({plan.mode}, {plan.reason})")
    try:
        with _seeded(pipeline.spec.seed):
            if plan.mode == "memory":
                _run_memory(
                    pipeline, plan, result, prog, ctx_base, data, ref_data, keep, sums, started, t_start
                )
            else:
                _run_stream(pipeline, plan, result, prog, ctx_base, keep, sums, started, t_start)
    except BaseException as exc:
        result.seconds = time.perf_counter() - t_start
        cancelled = isinstance(exc, Cancelled | KeyboardInterrupt)
        result.status = "cancelled" if cancelled else "failed"
        result.error = str(exc) or type(exc).__name__
        for rec in result.steps:
            if rec.status == "pending" and rec.name == getattr(exc, "step", None):
                rec.status = "cancelled" if cancelled else "failed"
                rec.error = result.error
        result.failed_step = getattr(exc, "step", None)
        result.provenance = _provenance(
            pipeline, plan, result, sums, started, t_start, [] if cancelled else None
        )
        if plan.report is not None and not isinstance(exc, KeyboardInterrupt):
            with contextlib.suppress(Exception):
                result.report = _write_report(plan.report, result, keep)
        if isinstance(exc, StepError | Cancelled):
            exc.result = result
        raise
    result.seconds = time.perf_counter() - t_start
    result.provenance["seconds"] = round(result.seconds, 6)
    if plan.report is not None:
        prog.emit(prog.fraction, None, "writing the report")
        result.report = _write_report(plan.report, result, keep)
    prog.emit(1.0, None, f"{pipeline.name}: done in {result.seconds:.2f} s")
    return result


def _provenance(
    pipeline: Pipeline,
    plan: _Plan,
    result: RunResult,
    sums: list[Checksum],
    started: str,
    t_start: float,
    inputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec = pipeline.to_dict()
    spec.update({"input": plan.input, "output": plan.output, "reference": plan.reference})
    return _jsonable(
        {
            "pipeline": spec,
            "source": pipeline.source,
            "versions": software_versions(),
            "inputs": inputs if inputs is not None else [c.result() for c in sums],
            "steps": [s.to_dict() for s in result.steps],
            "mode": result.mode,
            "seed": pipeline.spec.seed,
            "status": result.status,
            "error": result.error,
            "failed_step": result.failed_step,
            "started": started,
            "finished": now(),
            "seconds": round(time.perf_counter() - t_start, 6),
            "written": list(result.written),
        }
    )


def _step_context(
    step: ResolvedStep, prog: _Progress, base: dict[str, Any], lo: float, hi: float, **kw: Any
) -> OpContext:
    def inner(fraction: float, message: str) -> None:
        prog.emit(lo + (hi - lo) * fraction, step.name, message)

    return OpContext(step=step.name, progress=inner, **base, **kw)


def _call(step: ResolvedStep, data: SeismicData, ctx: OpContext) -> SeismicData:
    """Run one operation; anything but cancellation becomes a :class:`StepError` naming the step."""
    try:
        out = step.op.run(data, step.params, ctx)
    except (Cancelled, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise StepError(step.name, step.op.name, exc) from exc
    if not isinstance(out, SeismicData):
        raise StepError(step.name, step.op.name, TypeError(f"returned {type(out).__name__}, not SeismicData"))
    return out


def _run_memory(
    pipeline: Pipeline,
    plan: _Plan,
    result: RunResult,
    prog: _Progress,
    base: dict[str, Any],
    data: SeismicData | None,
    ref_data: SeismicData | None,
    keep: dict[str, Any],
    sums: list[Checksum],
    started: str,
    t_start: float,
) -> None:
    from promethium import io as pio

    n = len(pipeline.steps)
    units = n + 1 + (1 if plan.output else 0)
    if data is None:
        assert plan.input is not None
        prog.emit(0.0, None, f"reading {plan.input}")
        try:
            data = pio.read(plan.input)
        except StorageError as exc:
            raise StorageError(f"input {plan.input}: {exc}") from exc
    reference = ref_data
    if reference is None and plan.reference is not None:
        reference = pio.read(plan.reference)
    prog.check()
    prog.emit(1 / units, None, "input read")
    if plan.report is not None:
        keep["input"] = data  # for the report's before/after figures; otherwise freed after step 1
    keep["reference"] = reference
    shared = OpContext(step="", reference=reference)
    shared.artifacts["__input_mask__"] = data.trace_mask
    current = data
    del data
    for i, (step, rec) in enumerate(zip(pipeline.steps, result.steps, strict=True)):
        prog.check(step.name)
        lo, hi = (i + 1) / units, (i + 2) / units
        prog.emit(lo, step.name, f"{step.name} ({step.op.name})")
        ctx = _step_context(step, prog, base, lo, hi, reference=reference)
        ctx.results, ctx.artifacts, ctx.written = shared.results, shared.artifacts, shared.written
        t0 = time.perf_counter()
        try:
            current = _call(step, current, ctx)
        except BaseException as exc:
            rec.seconds = time.perf_counter() - t0
            rec.status = "cancelled" if isinstance(exc, Cancelled) else "failed"
            rec.error = str(exc)
            result.failed_step = step.name
            keep["output"] = current
            _collect(result, shared, keep)
            if isinstance(exc, Cancelled) and exc.step is None:
                exc.step = step.name
            raise
        rec.seconds = time.perf_counter() - t0
        rec.status = "ok"
        prog.emit(hi, step.name, f"{step.name}: done in {rec.seconds:.2f} s")
    _collect(result, shared, keep)
    keep["output"] = current
    result.data = current
    prog.check()
    result.provenance = _provenance(pipeline, plan, result, sums, started, t_start)
    if plan.output is not None:
        prog.emit((units - 1) / units, None, f"writing {plan.output}")
        attrs: dict[str, Any] = {"provenance": result.provenance}
        if plan.output_format == "segy":
            # SEG-Y keeps no attributes: the provenance also goes into extended textual headers.
            existing = list(current.attrs.get("extended_textual_headers", []) or [])
            attrs["extended_textual_headers"] = segy_text_blocks(result.provenance, existing)
            info = dict(current.attrs.get("format_info", {}) or {})
            info.pop("extended_text_encodings", None)  # the new blocks take the main header's encoding
            attrs["format_info"] = info
        out = current.replace(attrs=attrs)
        pio.write(out, plan.output, plan.output_format, overwrite=base["overwrite"])
        result.sidecar = write_sidecar(plan.output, result.provenance)


def _collect(result: RunResult, ctx: OpContext, keep: dict[str, Any]) -> None:
    result.results = _jsonable(ctx.results)
    result.written = list(ctx.written)
    keep["artifacts"] = {k: v for k, v in ctx.artifacts.items() if not k.startswith("__")}


# ================================================================================ streaming
def _chunk_traces(pipeline: Pipeline, plan: _Plan, halo_align: int) -> int:
    from promethium.io.zarrstore import default_chunks

    assert plan.info is not None
    info = plan.info
    spec = pipeline.spec.execution
    per_trace = max(1, info.n_samples) * 4
    n = info.n_traces
    chunk = spec.traces_per_chunk or max(1, spec.chunk_bytes // per_trace)
    unit = max(1, halo_align)
    if spec.traces_per_chunk is None:
        # Also land on the output store's chunks (whole chunks write without read-modify-write).
        shape = info.shape if info.is_3d else (n, info.n_samples)
        store_unit = default_chunks(shape)[0] * (info.trace_shape[1] if info.is_3d else 1)
        both = math.lcm(unit, max(1, store_unit))
        if both <= 2 * chunk:
            unit = both
    return max(unit, (chunk // unit) * unit)


def _release_free_memory() -> None:
    """Hand the heap's free pages back to the system (glibc ``malloc_trim``; nothing elsewhere).

    The chunks' temporaries are freed, but glibc keeps freed heap memory for reuse, and the pattern
    of a streamed run (large blocks of varying sizes, chunk after chunk) fragments the heap: without
    this, RSS creeps up over hundreds of chunks although the live memory stays flat."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        with contextlib.suppress(Exception):
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            if name and sys.platform.startswith("linux"):
                _MALLOC_TRIM = ctypes.CDLL(name).malloc_trim
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM: Any = None


def _run_stream(
    pipeline: Pipeline,
    plan: _Plan,
    result: RunResult,
    prog: _Progress,
    base: dict[str, Any],
    keep: dict[str, Any],
    sums: list[Checksum],
    started: str,
    t_start: float,
) -> None:
    from promethium import io as pio
    from promethium.io.zarrstore import ZarrWriter

    assert plan.input is not None
    assert plan.info is not None
    info = plan.info
    halo, align = 0, 1
    approximate: list[str] = []
    for s in pipeline.steps:
        if s.op.streaming_mode(s.params) == "spatial" and s.op.halo is not None:
            h, a = s.op.halo(s.params, info)
            halo += h
            align = math.lcm(align, max(1, a))
            if s.op.exact_streaming is not None and not s.op.exact_streaming(s.params, info):
                approximate.append(s.name)
    # The halo must also be a whole number of grid steps so that block starts stay on the grid.
    halo = math.ceil(halo / align) * align
    chunk = _chunk_traces(pipeline, plan, align)
    n = info.n_traces
    n_chunks = max(1, math.ceil(n / chunk))
    result.n_chunks = n_chunks
    mid = n_chunks // 2
    shared = OpContext(step="", streaming=True)
    writers: dict[str, ZarrWriter] = {}
    seconds = [0.0] * len(pipeline.steps)
    out_trace_shape = info.trace_shape if info.dims_known else (n,)
    prog.emit(0.0, None, f"streaming {n:,} traces in {n_chunks} chunks of {chunk:,} (halo {halo})")
    if approximate:
        log.info("steps %s use whole-axis windows: streamed results differ near chunk edges", approximate)

    def writer_for(key: str, path: str, template: SeismicData) -> ZarrWriter:
        w = writers.get(key)
        if w is None:
            w = writers[key] = ZarrWriter(
                path, template, trace_shape=out_trace_shape, overwrite=base["overwrite"]
            )
        return w

    try:
        with pio.open(plan.input) as f:
            for k, start in enumerate(range(0, n, chunk)):
                prog.check()
                stop = min(n, start + chunk)
                lo, hi = max(0, start - halo), min(n, stop + halo)
                block = f.read(slice(lo, hi))
                centre = slice(start - lo, stop - lo)
                # The middle chunk, before and after, is kept for the report's figures (only then).
                raw = block if k == mid and plan.report is not None else None
                for i, (step, rec) in enumerate(zip(pipeline.steps, result.steps, strict=True)):
                    prog.check(step.name)
                    f0 = (k + i / len(pipeline.steps)) / n_chunks
                    f1 = (k + (i + 1) / len(pipeline.steps)) / n_chunks
                    ctx = _step_context(
                        step, prog, base, f0 * 0.98, f1 * 0.98, streaming=True, chunk=(start, stop)
                    )
                    ctx.results, ctx.artifacts, ctx.partials = (
                        shared.results,
                        shared.artifacts,
                        shared.partials,
                    )
                    prog.emit(
                        f0 * 0.98,
                        step.name,
                        f"chunk {k + 1}/{n_chunks}: {step.name}",
                        chunk=k + 1,
                        n_chunks=n_chunks,
                    )
                    t0 = time.perf_counter()
                    try:
                        if step.op.mode == "sink":
                            part = block.isel(trace=centre) if halo else block
                            try:
                                writer_for(step.name, step.params.path, part).write_chunk(start, part)
                            except Exception as exc:
                                raise StepError(step.name, step.op.name, exc) from exc
                        else:
                            block = _call(step, block, ctx)
                    except BaseException as exc:
                        seconds[i] += time.perf_counter() - t0
                        rec.seconds = seconds[i]
                        rec.status = "cancelled" if isinstance(exc, Cancelled) else "failed"
                        rec.error = str(exc)
                        result.failed_step = step.name
                        if isinstance(exc, Cancelled) and exc.step is None:
                            exc.step = step.name
                        raise
                    seconds[i] += time.perf_counter() - t0
                out = block.isel(trace=centre) if halo else block
                if raw is not None:
                    keep["input"] = raw.isel(trace=centre) if halo else raw
                    keep["output"] = out
                    keep["preview"] = (start, stop)
                if plan.output is not None:
                    writer_for("__output__", plan.output, out).write_chunk(start, out)
                # Release this chunk before the next is read: two chunks never live at once.
                del block, out, raw
                _release_free_memory()
                prog.emit(
                    0.98 * (k + 1) / n_chunks,
                    None,
                    f"chunk {k + 1}/{n_chunks}",
                    chunk=k + 1,
                    n_chunks=n_chunks,
                )
            for i, (step, rec) in enumerate(zip(pipeline.steps, result.steps, strict=True)):
                rec.seconds, rec.status = seconds[i], "ok"
                if step.op.finalize is not None and step.name in shared.partials:
                    ctx = OpContext(step=step.name, results=shared.results, streaming=True)
                    step.op.finalize(shared.partials[step.name], ctx)
            prog.check()
            _collect(result, shared, keep)
            result.provenance = _provenance(pipeline, plan, result, sums, started, t_start)
            result.provenance["streaming"] = {
                "chunk_traces": chunk,
                "halo_traces": halo,
                "n_chunks": n_chunks,
                "approximate_steps": approximate,
            }
            for key, w in writers.items():
                if key != "__output__":
                    w.close({"provenance": result.provenance})
                    result.written.append(w.path)
            if "__output__" in writers:
                prog.emit(0.99, None, f"publishing {plan.output}")
                writers["__output__"].close({"provenance": result.provenance})
                assert plan.output is not None
                result.sidecar = write_sidecar(plan.output, result.provenance)
    except BaseException:
        for w in writers.values():
            with contextlib.suppress(Exception):
                w.abort()
        raise


# ================================================================================ report
def _write_report(folder: str, result: RunResult, keep: dict[str, Any]) -> str:
    from promethium.workflows.report import write_report

    return write_report(
        Path(folder),
        result,
        input=keep.get("input"),
        output=keep.get("output"),
        reference=keep.get("reference"),
        artifacts=keep.get("artifacts", {}),
        preview=keep.get("preview"),
    )
