"""``promethium io``: inspect, convert and list the trace headers of seismic files.

A thin shell over the library: :func:`promethium.io.describe` and :func:`promethium.io.convert` do the
work (the REST API and the workers call the same functions); the commands here parse options, draw
progress bars and print. :func:`read_headers` lists header values for ``io headers``.
"""

from __future__ import annotations

import csv
import io as _io
import json
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from promethium.cli import get_state
from promethium.core.errors import ConfigurationError, OutputExistsError, StorageError

__all__ = [
    "io_app",
    "parse_traces",
    "print_info",
    "read_headers",
]

io_app = typer.Typer(
    help=(
        "Inspect, convert and list the headers of seismic files (SEG-Y, SU, miniSEED, SAC, Zarr).\n\n"
        "The format is detected from the content; --format forces one.\n\n"
        "**Examples**\n\n"
        "```\n"
        "promethium io info survey.sgy\n"
        "promethium io convert survey.sgy survey.zarr\n"
        "promethium io headers survey.sgy --fields inline,crossline,cdp_x,cdp_y --traces 0:10\n"
        "```"
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

#: Header fields listed by ``io headers`` (those present) when --fields is not given.
DEFAULT_HEADER_FIELDS = (
    "inline",
    "crossline",
    "cdp",
    "cdp_x",
    "cdp_y",
    "offset",
    "trace_id",
)


# --------------------------------------------------------------------------- shared helpers
def _progress(console: Console, *, disable: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("traces"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable or not console.is_terminal,  # no bars in logs and pipes
        transient=True,
    )


def parse_traces(spec: str | None) -> slice:
    """A trace selection: ``"0:20"``, ``"100:"``, ``":50"``, ``"0:1000:10"`` or one index ``"7"``."""
    if spec is None or spec.strip() in ("", ":"):
        return slice(None)
    parts = spec.split(":")
    try:
        if len(parts) == 1:
            i = int(parts[0])
            return slice(i, i + 1 if i != -1 else None)
        if len(parts) > 3:
            raise ValueError
        nums = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise ConfigurationError(
            f"--traces {spec!r}: expected START:STOP[:STEP] or an index, like 0:20"
        ) from None
    step = nums[2] if len(nums) == 3 else None
    if step is not None and step <= 0:
        raise ConfigurationError(f"--traces {spec!r}: the step must be positive")
    return slice(nums[0], nums[1], step)


# --------------------------------------------------------------------------- info
def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.6g}"


def _axis_text(axis: Any) -> str:
    if isinstance(axis, dict) and "first" in axis:
        return f"{axis['first']}-{axis['last']} step {axis.get('step', 1)} ({axis.get('count', '?')})"
    return str(axis)


def print_info(info: dict[str, Any], console: Console) -> None:
    """Rich tables describing ``info`` (the result of :func:`promethium.io.describe`)."""
    unit = info.get("sample_unit", "ms")
    main = Table(title=f"[bold]{info.get('path')}[/]", show_header=False, title_justify="left", box=None)
    main.add_column(style="cyan", no_wrap=True)
    main.add_column()
    main.add_row("format", str(info.get("format", "?")))
    main.add_row("traces", f"{info.get('traces', 0):,}")
    main.add_row("samples", f"{info.get('samples', 0):,} per trace")
    main.add_row("interval", f"{info.get('sample_interval', 0):g} {unit}")
    main.add_row("length", f"{info.get('length', 0):g} {unit}")
    amp = info.get("amplitude")
    if amp:
        main.add_row("amplitude", f"{amp['min']:.4g} .. {amp['max']:.4g} (rms {amp['rms']:.4g})")
    geom = info.get("geometry")
    if geom:
        main.add_row("geometry", str(geom.get("kind", "?")))
        if "inline" in geom:
            main.add_row("  inlines", _axis_text(geom["inline"]))
            main.add_row("  crosslines", _axis_text(geom["crossline"]))
        if "grid_shape" in geom:
            main.add_row("  grid", " x ".join(str(v) for v in geom["grid_shape"]))
        if "holes" in geom:
            main.add_row("  holes", f"{geom['holes']:,}")
        main.add_row("  duplicates", f"{geom.get('duplicates', 0):,}")
        if geom.get("reason"):
            main.add_row("  note", str(geom["reason"]))
    console.print(main)

    mask = info.get("mask", {})
    total = max(1, sum(int(v) for v in mask.values()))
    mt = Table(title="Traces", title_justify="left")
    mt.add_column("state")
    mt.add_column("count", justify="right")
    mt.add_column("share", justify="right")
    labels = {
        "live": "live",
        "dead": "dead (trace id 2)",
        "masked": "masked (zero/flagged)",
        "holes": "holes in the grid",
    }
    for key, label in labels.items():
        n = int(mask.get(key, 0))
        style = "green" if key == "live" else ("red" if n else "")
        mt.add_row(label, f"[{style}]{n:,}[/]" if style else f"{n:,}", f"{100 * n / total:.1f}%")
    console.print(mt)

    headers = info.get("headers") or {}
    if headers:
        ht = Table(title="Trace headers", title_justify="left")
        ht.add_column("field", style="cyan")
        ht.add_column("min", justify="right")
        ht.add_column("max", justify="right")
        for name, mm in headers.items():
            ht.add_row(name, _num(mm["min"]), _num(mm["max"]))
        console.print(ht)
    for w in info.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {w}", soft_wrap=True)


@io_app.command("info")
def info_cmd(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="The file, folder (Zarr) or URL to describe.", metavar="FILE"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Force the input format (segy, su, mseed, sac, zarr) instead of detecting it.",
    ),
) -> None:
    """Describe a seismic file: format, size, geometry, header ranges and trace states.

    The file is opened lazily and streamed in chunks, so big files are never loaded whole. Geometry
    shows the inline/crossline ranges, holes (grid cells without a trace) and duplicated positions;
    traces are counted as live, dead (SEG-Y trace identification code 2), masked or holes.

    **Examples**

    ```
    promethium io info survey.sgy
    promethium io info survey.zarr --json | jq .geometry
    promethium io info odd-file.bin --format segy    # why is it not valid SEG-Y?
    ```
    """
    from promethium.io import describe

    state = get_state(ctx)
    with _progress(state.err, disable=state.quiet or as_json) as bar:
        task = bar.add_task("reading", total=None)
        info = describe(file, fmt, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        print_info(info, state.console)


# --------------------------------------------------------------------------- convert
@io_app.command("convert")
def convert_cmd(
    ctx: typer.Context,
    src: str = typer.Argument(..., help="The input file or URL.", metavar="IN"),
    dst: str = typer.Argument(..., help="The output path; its extension picks the format.", metavar="OUT"),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Output format (segy, su, mseed, sac, zarr) when the extension of OUT does not tell it.",
    ),
    input_format: str | None = typer.Option(
        None, "--input-format", help="Force the input format instead of detecting it from the content."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace OUT if it exists (refused otherwise)."
    ),
) -> None:
    """Convert a seismic file to another format.

    The output format comes from the extension of OUT (.sgy/.segy, .su, .mseed, .sac, .zarr) or from
    --format. The output appears only once complete, and an existing OUT is left untouched unless
    --overwrite is given. Zarr outputs are streamed in chunks of traces with a progress bar.

    **Examples**

    ```
    promethium io convert survey.sgy survey.zarr
    promethium io convert survey.zarr back.sgy --overwrite
    promethium io convert s3://bucket/line.sgy line.zarr
    ```
    """
    from promethium.io import convert

    state = get_state(ctx)
    with _progress(state.err, disable=state.quiet) as bar:
        task = bar.add_task(f"converting {Path(src).name}", total=None)
        try:
            result = convert(
                src,
                dst,
                fmt,
                input_format=input_format,
                overwrite=overwrite,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except OutputExistsError as exc:
            raise StorageError(f"{dst}: already exists (pass --overwrite to replace it)") from exc
    if not state.quiet:
        state.console.print(
            f"[green]wrote[/] {dst} ({result.output_format}, {result.traces:,} traces, "
            f"from {result.input_format})",
            soft_wrap=True,
        )


# --------------------------------------------------------------------------- headers
def read_headers(
    path: str, fields: list[str] | None = None, traces: slice | None = None, fmt: str | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Header values of the selected traces: ``(columns, rows)``; the first column is the position of
    the trace in the file (0-based; for a stored volume, in row-major inline/crossline order)."""
    from promethium import io as pio
    from promethium.io.convert import open_lazily

    sel = traces or slice(None)
    with open_lazily(path, fmt) as f:
        if f is not None:
            start, stop, step = sel.indices(f.n_traces)
            data = f.read(slice(start, stop))
            data = data.to_traces() if data.is_3d else data
            first = start
        else:
            full = pio.read(path, fmt)
            full = full.to_traces() if full.is_3d else full
            start, stop, step = sel.indices(full.n_traces)
            data = full.isel(trace=slice(start, stop))
            first = start
    available = data.header_names
    if fields:
        unknown = [name for name in fields if name not in available]
        if unknown:
            raise ConfigurationError(
                f"unknown header field(s) {', '.join(unknown)}; available: {', '.join(available) or 'none'}"
            )
        columns = list(fields)
    else:
        columns = [n for n in DEFAULT_HEADER_FIELDS if n in available] or available[:8]
    index = np.arange(first, first + data.n_traces)
    values = {name: data.header(name).reshape(-1) for name in columns}
    rows = []
    for k in range(0, data.n_traces, step):
        row: dict[str, Any] = {"trace": int(index[k])}
        row.update({name: values[name][k].item() for name in columns})
        rows.append(row)
    return ["trace", *columns], rows


@io_app.command("headers")
def headers_cmd(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="The file, folder (Zarr) or URL to read.", metavar="FILE"),
    fields: str | None = typer.Option(
        None,
        "--fields",
        help="Comma-separated header fields (default: sequence number, inline, crossline, cdp, "
        "cdp_x, cdp_y, offset, trace_id, those present).",
    ),
    traces: str = typer.Option(
        "0:20", "--traces", "-t", help="Traces to list, as START:STOP[:STEP] (0-based) or ':' for all."
    ),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV (for spreadsheets and pandas)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of objects."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="Force the input format."),
) -> None:
    """List trace header values as a table, CSV or JSON.

    Values are shown as stored in the file (coordinates before applying the coordinate scalar).

    **Examples**

    ```
    promethium io headers survey.sgy
    promethium io headers survey.sgy --fields inline,crossline,offset --traces 0:20
    promethium io headers survey.sgy --traces : --csv > headers.csv
    ```
    """
    if as_csv and as_json:
        raise ConfigurationError("choose one of --csv and --json")
    field_list = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    columns, rows = read_headers(file, field_list, parse_traces(traces), fmt)
    state = get_state(ctx)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    elif as_csv:
        buf = _io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buf.getvalue(), nl=False)
    else:
        table = Table(title=f"{file}: {len(rows)} traces", title_justify="left")
        for c in columns:
            table.add_column(c, justify="right", style="cyan" if c == "trace" else None, no_wrap=True)
        for row in rows:
            table.add_row(*(str(row[c]) for c in columns))
        state.console.print(table)
