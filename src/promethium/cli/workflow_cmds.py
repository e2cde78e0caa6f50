"""``promethium run`` and ``promethium pipelines list|show|schema``: declarative pipelines.

Thin shells over :mod:`promethium.workflows`: load and validate the spec (a file or a preset name), apply
``--set`` overrides, run with a progress bar, print where the output, its provenance and the report went.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from promethium.cli import get_state

__all__ = ["pipelines_app", "pipelines_list_cmd", "pipelines_schema_cmd", "pipelines_show_cmd", "run_cmd"]

pipelines_app = typer.Typer(
    name="pipelines",
    help="List, show and describe pipelines: the presets shipped with Promethium and the operations.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def run_cmd(
    ctx: typer.Context,
    pipeline: str = typer.Argument(
        ...,
        help="Pipeline spec (.yaml/.yml/.json) or preset name (see `promethium pipelines list`).",
        metavar="PIPELINE",
    ),
    set_: list[str] | None = typer.Option(
        None,
        "--set",
        "-s",
        help="Override: STEP.PARAM=VALUE or FIELD=VALUE (repeatable; values read as YAML).",
    ),
    input: str | None = typer.Option(None, "--input", "-i", help="Input path or URL (overrides the spec)."),
    output: str | None = typer.Option(None, "--output", "-o", help="Output path (overrides the spec)."),
    reference: str | None = typer.Option(None, "--reference", help="Reference data for metrics steps."),
    report: str | None = typer.Option(None, "--report", "-r", help="Folder for report.html and its figures."),
    mode: str | None = typer.Option(None, "--mode", help="auto, memory or stream (overrides the spec)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs (refused otherwise)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Run a pipeline: validate it (nothing is read if it is invalid), run it, write the output with its
    provenance (Zarr attrs and a `.provenance.json` sidecar) and, with `--report`, an HTML report.

    **Examples**

    ```
    promethium run bandpass-and-agc -i line.sgy -o line_bp.zarr --set bandpass.low=8
    promethium run my_pipeline.yaml --set reconstruct.method=drr --report report/ --overwrite
    promethium run qc -i survey.sgy --report qc-report/
    ```
    """
    from promethium.core.errors import ParameterError
    from promethium.workflows import CancelToken, load_pipeline, run_pipeline

    state = get_state(ctx)
    if mode is not None and mode not in ("auto", "memory", "stream"):
        raise ParameterError("--mode", f"unknown mode {mode!r}", allowed="auto, memory, stream")
    pipe = load_pipeline(pipeline, set_ or None)
    token = CancelToken()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=state.err,
        disable=state.quiet or not state.err.is_terminal,
        transient=True,
    )
    with progress as bar:
        task = bar.add_task(pipe.name, total=1.0)

        def on_progress(event: Any) -> None:
            label = event.message if event.step is None else f"{event.step}: {event.message}"
            bar.update(task, completed=event.fraction, description=label[:60])

        try:
            result = run_pipeline(
                pipe,
                input=input,
                output=output,
                reference=reference,
                report=report,
                overwrite=overwrite,
                mode=mode,  # type: ignore[arg-type]
                progress=on_progress,
                cancel=token,
            )
        except KeyboardInterrupt:
            token.cancel("interrupted")
            raise
        except Exception as exc:
            partial = getattr(exc, "result", None)
            if partial is not None and partial.report and not state.quiet:
                state.err.print(f"report: {partial.report}", soft_wrap=True)
            raise
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    if state.quiet:
        return
    out = state.console
    table = Table(title=f"{pipe.name} ({result.mode}, {result.seconds:.2f} s)", show_lines=False)
    for col in ("step", "op", "seconds", "status"):
        table.add_column(col)
    for s in result.steps:
        table.add_row(s.name, s.op, f"{s.seconds:.3f}", s.status)
    out.print(table)
    if result.output:
        out.print(f"[green]wrote[/] {result.output}", soft_wrap=True)
    if result.sidecar:
        out.print(f"provenance: {result.sidecar}", soft_wrap=True)
    if result.report:
        out.print(f"report: {result.report}", soft_wrap=True)
    for name, res in result.results.items():
        summary = res.get("summary") if isinstance(res, dict) else None
        if isinstance(summary, dict):
            counts = {k: v for k, v in summary.items() if k.startswith("n_")}
            out.print(f"{name}: {json.dumps(counts)}", soft_wrap=True)
        elif isinstance(res, dict) and "best" in res:
            out.print(f"{name}: best method {res['best']}", soft_wrap=True)
        elif isinstance(res, dict):
            out.print(f"{name}: {json.dumps(res, default=str)}", soft_wrap=True)


@pipelines_app.command("list")
def pipelines_list_cmd(
    ctx: typer.Context,
    operations: bool = typer.Option(False, "--operations", help="List the operations instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the preset pipelines shipped with Promethium (or, with `--operations`, the operations)."""
    from promethium.workflows import list_presets, load_pipeline, operation_schemas

    state = get_state(ctx)
    if operations:
        ops = operation_schemas()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        k: {
                            "family": v["family"],
                            "streaming": v["streaming"],
                            "description": v["description"],
                        }
                        for k, v in ops.items()
                    },
                    indent=2,
                )
            )
            return
        table = Table(title="operations")
        for col in ("name", "family", "streaming", "description"):
            table.add_column(col)
        for name, d in ops.items():
            table.add_row(name, d["family"], d["streaming"], d["description"])
        state.console.print(table)
        return
    rows: list[dict[str, Any]] = []
    for name in list_presets():
        p = load_pipeline(name)
        rows.append({"name": name, "steps": [s.name for s in p.steps], "description": p.spec.description})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="preset pipelines")
    for col in ("name", "steps", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], " -> ".join(r["steps"]), r["description"])
    state.console.print(table)


@pipelines_app.command("show")
def pipelines_show_cmd(
    ctx: typer.Context,
    pipeline: str = typer.Argument(..., help="Preset name or spec file.", metavar="PIPELINE"),
    set_: list[str] | None = typer.Option(
        None, "--set", "-s", help="Override STEP.PARAM=VALUE (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML."),
) -> None:
    """Print a pipeline with every default filled in (after `--set` overrides): what a run records."""
    from promethium.workflows import load_pipeline

    p = load_pipeline(pipeline, set_ or None)
    typer.echo(json.dumps(p.to_dict(), indent=2) if as_json else p.to_yaml())


@pipelines_app.command("schema")
def pipelines_schema_cmd(
    ctx: typer.Context,
    operation: str | None = typer.Argument(None, help="One operation (default: all).", metavar="[OP]"),
    spec: bool = typer.Option(False, "--spec", help="The JSON Schema of a whole pipeline spec instead."),
) -> None:
    """Print the JSON Schema of the operations' parameters (what job forms are built from)."""
    from promethium.workflows import get_operation, operation_schemas, pipeline_schema

    if spec:
        out: Any = pipeline_schema()
    elif operation is not None:
        out = get_operation(operation).describe()
    else:
        out = operation_schemas()
    typer.echo(json.dumps(out, indent=2))
