"""Pipeline specs: pydantic models, YAML/JSON loading, presets and ``--set`` overrides.

A spec (YAML or JSON)::

    name: bandpass-and-agc
    input: survey.sgy                # path or URL; may be left out and given at run time
    output: survey_bp.zarr           # optional; the extension picks the format
    reference: truth.sgy             # optional: metrics against it
    report: report/                  # optional: folder for report.html and its figures
    seed: 0
    execution: {mode: auto, chunk_bytes: 33554432}
    steps:
      - name: bandpass               # optional: defaults to the operation name
        op: filter                   # or signal.filter
        params: {kind: bandpass, low: 5, high: 60}
      - op: agc
        params: {window_ms: 400}

Every step's parameters are validated against its operation's model when the spec is loaded (before any
data is read); problems raise :class:`~promethium.workflows.errors.SpecError` naming the step and the
parameter path. :meth:`Pipeline.to_dict` gives the spec with every default filled in (what a run
records).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promethium.core.errors import ParameterError
from promethium.workflows.errors import SpecError, SpecIssue
from promethium.workflows.operations import Operation, get_operation

__all__ = [
    "ExecutionOptions",
    "Pipeline",
    "PipelineSpec",
    "ResolvedStep",
    "StepSpec",
    "apply_overrides",
    "list_presets",
    "load_pipeline",
    "pipeline_schema",
    "preset_path",
]

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class StepSpec(BaseModel):
    """One step: an operation and its parameters."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Unique step name (letters, digits, _ and -); default: op.")
    op: str = Field(..., description="Operation name (see `promethium pipelines schema`).")
    params: dict[str, Any] = Field(default_factory=dict, description="Operation parameters.")
    description: str = ""


class ExecutionOptions(BaseModel):
    """How the pipeline runs."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["auto", "memory", "stream"] = Field(
        "auto",
        description=(
            "memory: read the whole input; stream: chunks of whole traces (with halos for spatial steps); "
            "auto: stream when the input is larger than memory_limit_bytes and every step can stream."
        ),
    )
    traces_per_chunk: int | None = Field(None, ge=1, description="Traces per streamed chunk.")
    chunk_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Samples per streamed chunk (bytes).")
    memory_limit_bytes: int = Field(
        1024 * 1024 * 1024, ge=1, description="auto mode streams inputs whose samples exceed this."
    )


class PipelineSpec(BaseModel):
    """A whole pipeline as written (before the steps' parameters are validated)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    name: str = "pipeline"
    description: str = ""
    input: str | None = Field(None, description="Input path or URL (format detected from the content).")
    reference: str | None = Field(None, description="Reference data (for metrics), path or URL.")
    output: str | None = Field(None, description="Output path or URL; the extension picks the format.")
    output_format: str | None = Field(None, description="Output format when the extension does not tell.")
    report: str | None = Field(None, description="Folder for report.html and its figures.")
    seed: int = Field(0, description="Seed of every random choice (decimation, randomised solvers).")
    execution: ExecutionOptions = Field(default_factory=lambda: ExecutionOptions.model_validate({}))
    steps: list[StepSpec] = Field(..., min_length=1)


@dataclass(frozen=True)
class ResolvedStep:
    """A step with its operation and validated parameters."""

    name: str
    op: Operation
    params: Any
    description: str = ""

    def params_dict(self) -> dict[str, Any]:
        return self.op.dump(self.params)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "op": self.op.name, "params": self.params_dict()}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline: the spec and its resolved steps (defaults filled in)."""

    spec: PipelineSpec
    steps: tuple[ResolvedStep, ...]
    source: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def step(self, name: str) -> ResolvedStep:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The spec with every default filled in (JSON-ready)."""
        out = self.spec.model_dump(mode="json", exclude={"steps"})
        out["steps"] = [s.to_dict() for s in self.steps]
        return out

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> Pipeline:
        """A new pipeline with ``overrides`` applied (see :func:`apply_overrides`)."""
        return _build(apply_overrides(self.to_dict(), overrides), self.source)


# ================================================================================ loading and checks
def _loc(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _issues_from_validation(
    exc: ValidationError,
    *,
    step: str | None = None,
    op: Operation | None = None,
    prefix: str = "",
    tag: str | None = None,
) -> list[SpecIssue]:
    issues = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        if tag is not None and loc and loc[0] == tag:
            loc = loc[1:]  # the discriminated union's branch name
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown parameter" if step is not None else "unknown field"
            if op is not None:
                allowed = _allowed_params(op, tag)
                if allowed:
                    msg += f" (allowed: {', '.join(allowed)})"
        where = _loc([p for p in (prefix, *loc) if p != ""])
        issues.append(SpecIssue(where, msg, step=step, op=op.name if op else None))
    return issues


def _allowed_params(op: Operation, tag: str | None) -> list[str]:
    schema = op.schema()
    if "$defs" in schema and tag is not None:
        for d in schema["$defs"].values():
            if d.get("properties", {}).get("method", {}).get("const") == tag:
                return list(d.get("properties", {}))
    return list(schema.get("properties", {}))


def _build(raw: Mapping[str, Any], source: str | None = None) -> Pipeline:
    if not isinstance(raw, Mapping):
        raise SpecError([SpecIssue("", f"a pipeline spec must be a mapping, got {type(raw).__name__}")])
    try:
        spec = PipelineSpec.model_validate(dict(raw))
    except ValidationError as exc:
        # Name the step when the problem is inside steps[i].
        problems = []
        steps_raw: list[Any] = raw["steps"] if isinstance(raw.get("steps"), list) else []
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            step_name = None
            if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) and loc[1] < len(steps_raw):
                s = steps_raw[loc[1]]
                step_name = (
                    (s.get("name") or s.get("op") or f"#{loc[1] + 1}") if isinstance(s, dict) else None
                )
                loc = loc[2:] if step_name else loc
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field"
            problems.append(SpecIssue(_loc(loc), msg, step=step_name))
        raise SpecError(problems) from None

    issues: list[SpecIssue] = []
    steps: list[ResolvedStep] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(spec.steps):
        explicit = s.name is not None
        label = s.name or canonical_label(s.op)
        if explicit and not _NAME_RE.match(label):
            issues.append(
                SpecIssue("name", "use letters, digits, '_' and '-' (starting with a letter)", step=label)
            )
        if label in seen:
            if explicit:
                issues.append(
                    SpecIssue("name", f"duplicate step name (also step #{seen[label] + 1})", step=label)
                )
            else:
                k = 2
                while f"{label}_{k}" in seen:
                    k += 1
                label = f"{label}_{k}"
        seen[label] = i
        try:
            op = get_operation(s.op)
        except ParameterError as exc:
            issues.append(SpecIssue("op", f"{exc.reason} (allowed: {exc.allowed})", step=label, op=s.op))
            continue
        tag = None
        if op.defaults is not None:
            filled = op.defaults(dict(s.params))
            tag = filled.get("method") if isinstance(filled.get("method"), str) else None
        try:
            params = op.validate(s.params)
        except ValidationError as exc:
            issues += _issues_from_validation(exc, step=label, op=op, prefix="params", tag=tag)
            continue
        if op.needs_reference and spec.reference is None:
            issues.append(
                SpecIssue("op", f"{op.name} needs the pipeline's 'reference'", step=label, op=op.name)
            )
        steps.append(ResolvedStep(label, op, params, s.description))
    if issues:
        raise SpecError(issues)
    return Pipeline(spec=spec, steps=tuple(steps), source=source)


def canonical_label(op: str) -> str:
    from promethium.workflows.operations import canonical_name

    return canonical_name(op)


def _parse_text(text: str, origin: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError([SpecIssue("", f"{origin}: not valid YAML/JSON: {exc}")]) from None


def load_pipeline(
    source: str | os.PathLike[str] | Mapping[str, Any],
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
) -> Pipeline:
    """Load and validate a pipeline.

    ``source``: a mapping, a path to a ``.yaml``/``.yml``/``.json`` file, the name of a preset (see
    :func:`list_presets`), or YAML/JSON text. ``overrides``: ``{"bandpass.low": 5, "input": "x.sgy"}``
    or ``["bandpass.low=5", ...]`` (see :func:`apply_overrides`). Raises :class:`SpecError`.
    """
    origin: str | None = None
    if isinstance(source, Mapping):
        raw: Any = copy.deepcopy(dict(source))
    else:
        text = os.fspath(source)
        path = Path(text)
        if "\n" not in text and path.suffix.lower() in (".yaml", ".yml", ".json") and not path.exists():
            raise SpecError([SpecIssue("", f"{text}: no such pipeline file")])
        if "\n" not in text and path.is_file():
            origin = str(path)
            body = path.read_text(encoding="utf-8")
            raw = json.loads(body) if path.suffix.lower() == ".json" else _parse_text(body, origin)
        elif "\n" not in text and text in list_presets(include_unavailable=True):
            origin = f"preset:{text}"
            raw = _parse_text(preset_path(text).read_text(encoding="utf-8"), origin)
        elif "\n" in text or text.lstrip().startswith("{"):
            raw = _parse_text(text, "spec")
        else:
            raise SpecError(
                [
                    SpecIssue(
                        "",
                        f"{text!r} is neither a pipeline file nor a preset "
                        f"(presets: {', '.join(list_presets())})",
                    )
                ]
            )
    if overrides:
        if not isinstance(raw, dict):
            raise SpecError([SpecIssue("", "a pipeline spec must be a mapping")])
        raw = apply_overrides(raw, overrides)
    return _build(raw, origin)


# ================================================================================ --set overrides
_TOP = set(PipelineSpec.model_fields) - {"steps"}


def _parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any] | Iterable[str]) -> dict[str, Any]:
    """Apply ``--set`` style overrides to a raw spec dict (a copy is returned).

    Keys are dotted: a top-level field (``input``, ``output``, ``seed``, ``execution.mode``) or
    ``STEP.PARAM[.SUB...]`` where ``STEP`` is a step name (or its operation when unnamed) and ``PARAM`` a
    parameter (``bandpass.low=5``, ``reconstruct.method=drr``, ``reconstruct.window=[32,256]``). Step
    fields ``op``/``name`` are set with ``STEP.@op=...``. Values given as strings are read as YAML
    (``5`` -> 5, ``[1, 2]`` -> a list, ``null`` -> None).
    """
    out = copy.deepcopy(dict(raw))
    items: list[tuple[str, Any]]
    if isinstance(overrides, Mapping):
        items = [(str(k), v) for k, v in overrides.items()]
    else:
        items = []
        for item in overrides:
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise SpecError([SpecIssue("--set", f"expected STEP.PARAM=VALUE, got {item!r}")])
            items.append((key.strip(), _parse_value(value)))
    steps = out.get("steps")
    for key, value in items:
        parts = key.split(".")
        if parts[0] in _TOP:
            _set_path(out, parts, value, key)
            continue
        if not isinstance(steps, list):
            raise SpecError([SpecIssue("--set", f"{key}: the spec has no steps")])
        target = _find_step(steps, parts[0])
        if target is None:
            names = [_step_label(s) for s in steps]
            raise SpecError(
                [
                    SpecIssue(
                        "--set",
                        f"{key}: no step or field named {parts[0]!r} "
                        f"(steps: {', '.join(names)}; fields: {', '.join(sorted(_TOP))})",
                    )
                ]
            )
        if len(parts) < 2:
            raise SpecError([SpecIssue("--set", f"{key}: name a parameter, as {parts[0]}.PARAM=VALUE")])
        if parts[1].startswith("@"):
            target[parts[1][1:]] = value
        else:
            params = target.setdefault("params", {})
            if not isinstance(params, dict):
                raise SpecError([SpecIssue("--set", f"{key}: the step's params are not a mapping")])
            _set_path(params, parts[1:], value, key)
    return out


def _step_label(s: Any) -> str:
    if not isinstance(s, dict):
        return "?"
    return str(s.get("name") or canonical_label(str(s.get("op", "?"))))


def _find_step(steps: list[Any], name: str) -> dict[str, Any] | None:
    for s in steps:
        if isinstance(s, dict) and s.get("name") == name:
            return s
    matches = [
        s
        for s in steps
        if isinstance(s, dict)
        and not s.get("name")
        and canonical_label(str(s.get("op", ""))) == canonical_label(name)
    ]
    return matches[0] if len(matches) == 1 else None


def _set_path(target: dict[str, Any], parts: list[str], value: Any, key: str) -> None:
    node = target
    for p in parts[:-1]:
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        if not isinstance(nxt, dict):
            raise SpecError([SpecIssue("--set", f"{key}: {p!r} is not a mapping")])
        node = nxt
    node[parts[-1]] = value


# ========================================================================================= presets
def _presets_dir() -> Any:
    return resources.files("promethium.workflows").joinpath("presets")


def preset_path(name: str) -> Path:
    """The file of preset ``name``."""
    p = _presets_dir().joinpath(f"{name}.yaml")
    if not p.is_file():
        raise SpecError([SpecIssue("", f"no preset {name!r} (presets: {', '.join(list_presets())})")])
    return Path(str(p))


def _preset_available(path: Any) -> bool:
    """A preset whose operations are not all registered (ML not installed) is left out."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for s in raw.get("steps", []):
            get_operation(str(s.get("op")))
    except (ParameterError, yaml.YAMLError, AttributeError):
        return False
    return True


def list_presets(include_unavailable: bool = False) -> list[str]:
    """Names of the presets shipped with the package whose operations are all available."""
    d = _presets_dir()
    names = []
    for entry in d.iterdir():
        if entry.name.endswith(".yaml") and (include_unavailable or _preset_available(entry)):
            names.append(entry.name[: -len(".yaml")])
    return sorted(names)


def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema of a pipeline spec (the step ``params`` are described per operation by
    :func:`~promethium.workflows.operations.operation_schemas`)."""
    return PipelineSpec.model_json_schema()
