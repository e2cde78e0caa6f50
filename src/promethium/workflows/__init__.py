"""Declarative processing pipelines shared by the CLI, the API and the workers.

A pipeline is a YAML or JSON spec of named steps, each an operation of :mod:`promethium.io`,
:mod:`promethium.signal` or :mod:`promethium.ml` with typed, validated parameters::

    from promethium.workflows import load_pipeline, run_pipeline, CancelToken

    pipe = load_pipeline("bandpass-and-agc", ["bandpass.low=8", "input=survey.sgy", "output=out.zarr"])
    result = run_pipeline(pipe, report="report/", progress=print, cancel=CancelToken())
    result.provenance["steps"]; result.report

- :func:`load_pipeline` validates a spec (file, preset name, text or mapping) with ``--set`` style
  overrides; errors (:class:`SpecError`) name the step and the parameter path, before any data is read;
- :func:`run_pipeline` runs it in memory or streamed over chunks of traces (with halos for operations
  that need neighbouring traces), with progress callbacks and a :class:`CancelToken`, records the
  provenance in the output (Zarr attrs and a JSON sidecar) and writes an HTML report;
- :func:`list_presets` names the pipelines shipped with the package; :func:`operation_schemas` gives the
  JSON Schema of every operation's parameters, :func:`pipeline_schema` that of a whole spec.

Nothing heavy is imported until a pipeline is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promethium.workflows.context import CancelToken, InputInfo, OpContext, ProgressEvent
    from promethium.workflows.engine import RunResult, StepRecord, plan_run, run_pipeline
    from promethium.workflows.errors import Cancelled, PipelineError, SpecError, SpecIssue, StepError
    from promethium.workflows.operations import Operation, get_operation, list_operations, operation_schemas
    from promethium.workflows.provenance import read_provenance
    from promethium.workflows.report import write_report
    from promethium.workflows.spec import (
        ExecutionOptions,
        Pipeline,
        PipelineSpec,
        StepSpec,
        apply_overrides,
        list_presets,
        load_pipeline,
        pipeline_schema,
        preset_path,
    )

__all__ = [
    "CancelToken",
    "Cancelled",
    "ExecutionOptions",
    "InputInfo",
    "OpContext",
    "Operation",
    "Pipeline",
    "PipelineError",
    "PipelineSpec",
    "ProgressEvent",
    "RunResult",
    "SpecError",
    "SpecIssue",
    "StepError",
    "StepRecord",
    "StepSpec",
    "apply_overrides",
    "get_operation",
    "list_operations",
    "list_presets",
    "load_pipeline",
    "operation_schemas",
    "pipeline_schema",
    "plan_run",
    "preset_path",
    "read_provenance",
    "run_pipeline",
    "write_report",
]

_LOCATIONS = {
    "CancelToken": "context",
    "InputInfo": "context",
    "OpContext": "context",
    "ProgressEvent": "context",
    "RunResult": "engine",
    "StepRecord": "engine",
    "plan_run": "engine",
    "run_pipeline": "engine",
    "Cancelled": "errors",
    "PipelineError": "errors",
    "SpecError": "errors",
    "SpecIssue": "errors",
    "StepError": "errors",
    "Operation": "operations",
    "get_operation": "operations",
    "list_operations": "operations",
    "operation_schemas": "operations",
    "read_provenance": "provenance",
    "write_report": "report",
    "ExecutionOptions": "spec",
    "Pipeline": "spec",
    "PipelineSpec": "spec",
    "StepSpec": "spec",
    "apply_overrides": "spec",
    "list_presets": "spec",
    "load_pipeline": "spec",
    "pipeline_schema": "spec",
    "preset_path": "spec",
}


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'promethium.workflows' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"promethium.workflows.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
