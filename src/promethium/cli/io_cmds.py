"""``promethium io``: inspect, convert and list the trace headers of seismic files.

The work is done by plain functions (:func:`collect_info`, :func:`convert_file`, :func:`read_headers`)
that the demo reuses; the Typer commands only parse options and print.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import warnings
from collections.abc import Callable, Iterator
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
from promethium.core.errors import ConfigurationError, PromethiumWarning, StorageError
from promethium.io.data import HEADER_PREFIX

__all__ = [
    "collect_info",
    "convert_file",
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

#: Header fields summarised by ``io info`` and listed by ``io headers`` when present.
KEY_HEADERS = (
    "trace_sequence_file",
    "field_record",
    "trace_number",
    "inline",
    "crossline",
    "cdp",
    "cdp_x",
    "cdp_y",
    "source_x",
    "source_y",
    "group_x",
    "group_y",
    "offset",
    "coordinate_scalar",
    "trace_id",
    "n_samples",
    "sample_interval",
)
DEFAULT_HEADER_FIELDS = (
    "inline",
    "crossline",
    "cdp",
    "cdp_x",
    "cdp_y",
    "offset",
    "trace_id",
)
DEAD_TRACE_ID = 2
#: Header fields summarised by ``io info`` for formats without the SEG-Y names (miniSEED, SAC).
MAX_OTHER_HEADERS = 12


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


@contextlib.contextmanager
def _open_lazily(path: str, fmt: str | None) -> Iterator[Any]:
    """``promethium.io.open`` when the format supports lazy access, else None (the caller reads)."""
    from promethium import io as pio

    try:
        f = pio.open(path, fmt)
    except NotImplementedError:
        yield None
        return
    with f:
        yield f


def _chunk_traces(n_samples: int) -> int:
    from promethium.core.settings import get_settings

    return max(1, get_settings().io_chunk_bytes // max(1, 4 * max(1, n_samples)))


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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"<array shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# --------------------------------------------------------------------------- info
class _Stats:
    """Statistics accumulated over chunks of traces (bounded memory apart from the line numbers)."""

    def __init__(self) -> None:
        self.live = self.dead = self.masked = self.holes = 0
        self.headers: dict[str, list[int | float]] = {}
        self.inline: list[np.ndarray] = []
        self.crossline: list[np.ndarray] = []
        self.amp_min = np.inf
        self.amp_max = -np.inf
        self.sum_sq = 0.0
        self.n_values = 0
        self.warnings: list[str] = []
        self.geometry: dict[str, Any] | None = None
        self.attrs: dict[str, Any] = {}

    def add(self, data: Any) -> None:
        flat = data.to_traces() if data.is_3d else data
        if not self.attrs:
            self.attrs = dict(data.attrs)
            if isinstance(data.attrs.get("geometry"), dict):
                self.geometry = dict(data.attrs["geometry"])
        for w in data.attrs.get("warnings", []) or []:
            if str(w) not in self.warnings:
                self.warnings.append(str(w))
        mask = flat.trace_mask.reshape(-1)
        present = np.ones(mask.shape, dtype=bool)
        if "trace_index" in flat:
            present = np.asarray(flat["trace_index"].values).reshape(-1) >= 0
        names = set(flat.header_names)
        dead = np.zeros(mask.shape, dtype=bool)
        if "trace_id" in names:
            dead = (flat.header("trace_id").reshape(-1) == DEAD_TRACE_ID) & present
        self.holes += int((~present).sum())
        self.live += int((mask & present).sum())
        self.dead += int(dead.sum())
        self.masked += int((~mask & present & ~dead).sum())
        summarised = [n for n in KEY_HEADERS if n in names]
        if not summarised:  # not SEG-Y: the first numeric header fields, in their order
            numeric = [n for n in flat.header_names if flat[HEADER_PREFIX + n].dtype.kind in "iuf"]
            summarised = numeric[:MAX_OTHER_HEADERS]
        for name in summarised:
            if present.any():
                h = flat.header(name).reshape(-1)[present]
                if h.dtype.kind == "f" and not np.isfinite(h).any():
                    continue
                reduce_min, reduce_max = (np.nanmin, np.nanmax) if h.dtype.kind == "f" else (np.min, np.max)
                lo, hi = reduce_min(h).item(), reduce_max(h).item()
                if name in self.headers:
                    old = self.headers[name]
                    self.headers[name] = [min(old[0], lo), max(old[1], hi)]
                else:
                    self.headers[name] = [lo, hi]
        if {"inline", "crossline"} <= names:
            self.inline.append(flat.header("inline").reshape(-1)[present].astype(np.int64))
            self.crossline.append(flat.header("crossline").reshape(-1)[present].astype(np.int64))
        live = mask & present
        if live.any():
            vals = np.asarray(flat.values).reshape(mask.size, -1)[live]
            finite = vals[np.isfinite(vals)]
            if finite.size:
                self.amp_min = min(self.amp_min, float(finite.min()))
                self.amp_max = max(self.amp_max, float(finite.max()))
                self.sum_sq += float(np.square(finite, dtype=np.float64).sum())
                self.n_values += int(finite.size)

    def geometry_report(self, whole: bool) -> dict[str, Any] | None:
        """The geometry: inferred from the inline/crossline numbers of the traces present when the
        headers have them, else the one the reader reported for the whole file (``whole``)."""
        il = np.concatenate(self.inline) if self.inline else np.zeros(0, dtype=np.int64)
        xl = np.concatenate(self.crossline) if self.crossline else np.zeros(0, dtype=np.int64)
        if self.inline and not (il.any() or xl.any()):
            return {
                "kind": "2d",
                "traces": int(il.size),
                "reason": "no inline/crossline numbers in the headers",
            }
        if il.size:
            from promethium.io.geometry import infer_grid

            report = infer_grid(il, xl).report()
            if whole and self.geometry:
                report = (
                    {**self.geometry, **report} if report.get("kind") == self.geometry.get("kind") else report
                )
            return report
        return self.geometry if whole else None


def collect_info(
    path: str,
    fmt: str | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Describe a file without loading it whole: format, size, geometry, header ranges, trace mask,
    amplitude range and warnings. ``progress(done, total)`` is called after each chunk of traces."""
    from promethium import io as pio

    stats = _Stats()
    out: dict[str, Any] = {"path": str(path)}
    streamed = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PromethiumWarning)
        with _open_lazily(str(path), fmt) as f:
            if f is not None:
                streamed = True
                base = _jsonable(f.info())
                out.update(base)
                total = f.n_traces
                done = 0
                for chunk in f.iter_chunks(_chunk_traces(f.n_samples)):
                    stats.add(chunk)
                    done += chunk.n_traces
                    if progress is not None:
                        progress(min(done, total), total)
            else:
                data = pio.read(str(path), fmt)
                stats.add(data)
                out["format"] = pio.get_plugin(fmt).name if fmt else pio.detect_format(str(path))
                out["traces"] = data.n_traces
                out["samples"] = data.n_samples
                out["sample_interval"] = data.sample_interval
                if progress is not None:
                    progress(data.n_traces, data.n_traces)
    for w in caught:
        if issubclass(w.category, PromethiumWarning) and str(w.message) not in stats.warnings:
            stats.warnings.append(str(w.message))
        elif not issubclass(w.category, PromethiumWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    attrs = stats.attrs
    out.setdefault("sample_unit", attrs.get("sample_unit", "ms"))
    out.setdefault("domain", attrs.get("domain", "time"))
    n_samples = int(out.get("samples", 0))
    interval = float(out.get("sample_interval", 0.0))
    out["length"] = (n_samples - 1) * interval if n_samples else 0.0
    if attrs.get("format_info") and "format_info" not in out:
        out["format_info"] = _jsonable(attrs["format_info"])
    geometry = stats.geometry_report(whole=not streamed)
    holes = stats.holes
    if geometry is not None:
        out["geometry"] = _jsonable(geometry)
        holes = max(holes, int(geometry.get("holes", 0) or 0))
    out["mask"] = {"live": stats.live, "dead": stats.dead, "masked": stats.masked, "holes": holes}
    out["headers"] = {k: {"min": v[0], "max": v[1]} for k, v in stats.headers.items()}
    if stats.n_values:
        out["amplitude"] = {
            "min": stats.amp_min,
            "max": stats.amp_max,
            "rms": float(np.sqrt(stats.sum_sq / stats.n_values)),
        }
    out["warnings"] = stats.warnings
    return out


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.6g}"


def _axis_text(axis: Any) -> str:
    if isinstance(axis, dict) and "first" in axis:
        return f"{axis['first']}-{axis['last']} step {axis.get('step', 1)} ({axis.get('count', '?')})"
    return str(axis)


def print_info(info: dict[str, Any], console: Console) -> None:
    """Rich tables describing ``info`` (the result of :func:`collect_info`)."""
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
    state = get_state(ctx)
    with _progress(state.err, disable=state.quiet or as_json) as bar:
        task = bar.add_task("reading", total=None)
        info = collect_info(
            file, fmt, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    if as_json:
        typer.echo(json.dumps(_jsonable(info), indent=2))
    else:
        print_info(info, state.console)


# --------------------------------------------------------------------------- convert
def _output_format(path: str, fmt: str | None) -> str:
    from promethium.io import formats

    if fmt is not None:
        return formats.get_plugin(fmt).name
    return formats._format_from_extension(path)


def _exists(path: str) -> bool:
    from promethium.io import formats

    return formats._exists(path)


def _zarr_writer() -> Any:
    """The streaming Zarr writer class when :mod:`promethium.io.zarrstore` provides one."""
    import importlib

    try:
        zarrstore = importlib.import_module("promethium.io.zarrstore")
    except ImportError:
        return None
    return getattr(zarrstore, "ZarrWriter", None)


def convert_file(
    src: str,
    dst: str,
    *,
    fmt: str | None = None,
    input_format: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Convert ``src`` to ``dst`` (format from ``fmt`` or the extension of ``dst``).

    Refuses to replace an existing ``dst`` unless ``overwrite``. Zarr outputs are streamed in chunks
    of traces through :class:`promethium.io.zarrstore.ZarrWriter`, in bounded memory: a SEG-Y file whose
    headers describe a 3D grid becomes a volume (holes masked, as :func:`promethium.io.read` builds
    it), other files keep their traces in file order. Other outputs are read whole, then written
    atomically. ``progress(done, total)`` is called as traces are written. Returns
    ``{"input_format", "output_format", "traces", "streamed", "layout"}``.
    """
    from promethium import io as pio

    if Path(str(src)).resolve() == Path(str(dst)).resolve():
        raise StorageError(f"{dst}: the output is the input file")
    out_fmt = _output_format(str(dst), fmt)
    if not overwrite and _exists(str(dst)):
        raise StorageError(f"{dst}: already exists (pass --overwrite to replace it)")
    in_fmt = input_format or pio.detect_format(str(src))
    result: dict[str, Any] = {"input_format": in_fmt, "output_format": out_fmt, "streamed": False}
    writer_cls = _zarr_writer() if out_fmt == "zarr" else None
    if writer_cls is not None:
        with _open_lazily(str(src), in_fmt) as f:
            if f is not None:
                n, layout = _stream_to_zarr(f, str(dst), writer_cls, overwrite=overwrite, progress=progress)
                result.update(traces=n, streamed=True, layout=layout)
                return result
    data = pio.read(str(src), in_fmt)
    if progress is not None:
        progress(0, data.n_traces)
    pio.write(data, str(dst), out_fmt, overwrite=overwrite)
    if progress is not None:
        progress(data.n_traces, data.n_traces)
    result.update(traces=data.n_traces, layout="3d" if data.is_3d else "traces")
    return result


def _fill_holes(chunk: Any, positions: np.ndarray, n: int) -> Any:
    """A 2D chunk of ``n`` traces whose rows ``positions`` are the traces of ``chunk`` and whose other
    rows are holes: zero samples and headers, ``trace_mask`` False, ``trace_index`` -1."""
    from promethium.io.data import SeismicData

    if positions.size == n:
        return chunk
    take = np.zeros(n, dtype=np.int64)
    take[positions] = np.arange(positions.size)
    holes = np.ones(n, dtype=bool)
    holes[positions] = False
    ds = chunk.dataset.isel(trace=take)
    for name in list(ds.variables):
        var = ds[name]
        if "trace" not in var.dims or name == "trace":
            continue
        values = np.array(var.values)
        axis = var.dims.index("trace")
        index: list[Any] = [slice(None)] * values.ndim
        index[axis] = holes
        values[tuple(index)] = -1 if name == "trace_index" else 0
        if name in ds.coords:
            ds = ds.assign_coords({name: (var.dims, values)})
        else:
            ds[name] = (var.dims, values)
    return SeismicData(ds)


def _grid_plan(f: Any) -> tuple[Any, np.ndarray] | None:
    """For a SEG-Y file whose headers describe a 3D grid: the geometry and the file trace of every grid
    cell (-1 for a hole); None otherwise (duplicates, 2D lines, other formats)."""
    from promethium.io.geometry import infer_grid

    headers = getattr(f, "headers", None)
    if f.format not in ("segy", "su") or not callable(headers) or f.n_traces == 0:
        return None
    try:
        hdr = headers(["inline", "crossline", "offset"])
    except (KeyError, ValueError):
        return None
    grid = infer_grid(hdr["inline"], hdr["crossline"], hdr["offset"])
    if grid.kind != "3d":
        return None
    n_il, n_xl = grid.shape
    cell_trace = np.full(n_il * n_xl, -1, dtype=np.int64)
    cell_trace[grid.row * n_xl + grid.col] = np.arange(f.n_traces, dtype=np.int64)
    return grid, cell_trace


def _stream_to_zarr(
    f: Any,
    dst: str,
    writer_cls: Any,
    *,
    overwrite: bool,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, str]:
    """Copy an opened file into a Zarr store chunk by chunk; returns (traces written, layout)."""
    budget = _chunk_traces(f.n_samples)
    plan = _grid_plan(f)
    if plan is not None:
        return _stream_grid(f, dst, writer_cls, plan, budget, overwrite=overwrite, progress=progress)
    lazy = getattr(f, "lazy", None)
    if getattr(f, "is_3d", False) and lazy is not None:
        # a stored volume: its chunks are whole inlines, flattened, in row-major order
        shape = tuple(int(v) for v in f.shape[:2])
        coords = {
            "inline": np.asarray(lazy["inline"].values),
            "crossline": np.asarray(lazy["crossline"].values),
        }
        chunks = f.iter_chunks(max(budget, shape[1]))
        first = next(chunks, None)
        if first is None:
            return 0, "3d"
        total = shape[0] * shape[1]
        with writer_cls(
            dst, first, trace_shape=shape, coords=coords, attrs=dict(lazy.attrs), overwrite=overwrite
        ) as w:
            done = 0
            for chunk in _chain(first, chunks):
                w.write_chunk(done, chunk)
                done += chunk.n_traces
                if progress is not None:
                    progress(done, total)
        return done, "3d"

    total = int(f.n_traces)
    first = f.read(slice(0, min(total, budget)))
    with writer_cls(dst, first, trace_shape=(total,), overwrite=overwrite) as w:
        step = max(1, (budget // max(1, w.chunk_traces)) * w.chunk_traces) if w.chunk_traces else budget
        done = 0
        while done < total:
            chunk = (
                first
                if done == 0 and first.n_traces == min(total, step)
                else f.read(slice(done, min(total, done + step)))
            )
            w.write_chunk(done, chunk)
            done += chunk.n_traces
            if progress is not None:
                progress(done, total)
    return done, "traces"


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _stream_grid(
    f: Any,
    dst: str,
    writer_cls: Any,
    plan: tuple[Any, np.ndarray],
    budget: int,
    *,
    overwrite: bool,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, str]:
    """Stream a SEG-Y file into a 3D store, whole inlines at a time, holes masked."""
    grid, cell_trace = plan
    n_il, n_xl = grid.shape
    total = n_il * n_xl

    def batch(i0: int, i1: int) -> Any:
        cells = cell_trace[i0 * n_xl : i1 * n_xl]
        positions = np.flatnonzero(cells >= 0)
        # SegyFile.read takes any trace numbers; an inline without traces borrows one, then masks it
        chunk = f.read(cells[positions] if positions.size else np.zeros(1, dtype=np.int64))
        chunk = _fill_holes(chunk, positions, cells.size)
        return chunk.to_xarray().drop_vars("offset", errors="ignore")

    from promethium.io.data import SeismicData

    template = SeismicData(batch(0, 1))
    attrs = dict(template.attrs)
    report = grid.report()
    attrs["geometry"] = report
    attrs["warnings"] = list(getattr(f, "warnings", []))
    coords = {"inline": grid.inlines, "crossline": grid.crosslines}
    with writer_cls(
        dst, template, trace_shape=(n_il, n_xl), coords=coords, attrs=attrs, overwrite=overwrite
    ) as w:
        per = max(1, budget // n_xl)
        step = w.chunk_inlines or 1
        per = max(step, (per // step) * step)
        for i0 in range(0, n_il, per):
            i1 = min(n_il, i0 + per)
            w.write_chunk(i0 * n_xl, SeismicData(batch(i0, i1)))
            if progress is not None:
                progress(i1 * n_xl, total)
    return total, "3d"


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
    state = get_state(ctx)
    with _progress(state.err, disable=state.quiet) as bar:
        task = bar.add_task(f"converting {Path(src).name}", total=None)
        result = convert_file(
            src,
            dst,
            fmt=fmt,
            input_format=input_format,
            overwrite=overwrite,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if not state.quiet:
        state.console.print(
            f"[green]wrote[/] {dst} ({result['output_format']}, {result['traces']:,} traces, "
            f"from {result['input_format']})",
            soft_wrap=True,
        )


# --------------------------------------------------------------------------- headers
def read_headers(
    path: str, fields: list[str] | None = None, traces: slice | None = None, fmt: str | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Header values of the selected traces: ``(columns, rows)``; the first column is the position of
    the trace in the file (0-based; for a stored volume, in row-major inline/crossline order)."""
    from promethium import io as pio

    sel = traces or slice(None)
    with _open_lazily(path, fmt) as f:
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
