"""``promethium filter|reconstruct|denoise|qc|evaluate``: the signal-processing commands.

Thin shells over :mod:`promethium.signal`: read the input (format detected by content), call one library
function, write the output atomically (format from the extension), draw figures where people look.
Method parameters are passed as ``-p name=value`` (values read as JSON when they parse, e.g. ``-p
rank=4 -p band=[5,60]``, else as strings).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from promethium.cli import get_state
from promethium.core.errors import ParameterError, StorageError

__all__ = [
    "denoise_cmd",
    "evaluate_cmd",
    "filter_cmd",
    "parse_params",
    "qc_cmd",
    "reconstruct_cmd",
]


def parse_params(items: list[str] | None, *, option: str = "--param") -> dict[str, Any]:
    """``["rank=4", "band=[5,60]", "kind=soft"]`` -> ``{"rank": 4, "band": [5, 60], "kind": "soft"}``."""
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(option, f"expected name=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[name.replace("-", "_")] = value
    return out


def _parse_window(text: str | None, option: str) -> list[int | None] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        return [None if p in ("", "all", "-") else int(p) for p in parts]
    except ValueError:
        raise ParameterError(option, f"expected comma-separated sizes like 64,256, got {text!r}") from None


def _progress(console: Console, *, disable: bool, unit: str) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=console,
        disable=disable or not console.is_terminal,
        transient=True,
    )


def _check_output(path: str, overwrite: bool) -> None:
    """Refuse an existing output before any work is done (the write is atomic either way)."""
    if "://" not in path and os.path.exists(path) and not overwrite:
        raise StorageError(f"{path}: already exists (pass --overwrite to replace it)")


def _write(data: Any, path: str, fmt: str | None, overwrite: bool) -> None:
    from promethium import io as pio

    pio.write(data, path, fmt, overwrite=overwrite)


def _figure(path: str | None, before: Any, after: Any, title: str) -> None:
    if path is None:
        return
    from promethium.plotting import plot_comparison

    inline = None
    if after.is_3d:
        inline = float(after.dataset["inline"].values[after.shape[0] // 2])
    plot_comparison(
        before,
        after,
        path=path,
        titles=("Input", "Output", "Difference (output − input)"),
        suptitle=title,
        inline=inline,
    )


_IN = typer.Argument(..., help="Input file or URL (format detected from the content).", metavar="IN")
_OUT = typer.Argument(..., help="Output path; its extension picks the format.", metavar="OUT")
_FORMAT = typer.Option(None, "--format", "-f", help="Output format when the extension does not tell it.")
_OVERWRITE = typer.Option(False, "--overwrite", help="Replace OUT if it exists (refused otherwise).")
_FIGURE = typer.Option(None, "--figure", help="Also write an input/output/difference PNG here.")
_MODEL = typer.Option(
    None,
    "--model",
    help="unet, unet3d: a shipped model name (promethium models list) or a model file (.pt).",
)
#: methods run by a trained network (promethium.ml) rather than promethium.signal
_LEARNED = ("unet", "unet3d")


def _learned(
    task: str,
    data: Any,
    model: str | None,
    finetune_steps: int | None,
    extra: dict[str, Any],
    window: list[int | None] | None,
    bar: Progress,
    quiet: bool,
) -> Any:
    """Run the shipped or named network on ``data`` (reconstruct or denoise), fine-tuning it first."""
    from promethium import ml

    net = ml.load_model(ml.resolve_model(model, task))
    if finetune_steps is None or finetune_steps > 0:
        # None: the model's default number of steps, which the progress callback reports as its total
        ft = bar.add_task("fine-tuning on the input", total=finetune_steps)
        ml.finetune(
            net, data, steps=finetune_steps, progress=lambda s, n, m: bar.update(ft, completed=s, total=n)
        )
    kw: dict[str, Any] = dict(extra)
    if window is not None:
        if len(window) != net.spatial_dims or None in window:
            want = "traces,samples" if net.spatial_dims == 2 else "inlines,crosslines,samples"
            raise ParameterError("--window", f"the {net.architecture} network takes windows {want}")
        kw["patch"] = tuple(int(w or 0) for w in window)
    task_id = bar.add_task(f"{task} ({net.architecture})", total=None)
    run = ml.reconstruct if task == "reconstruct" else ml.denoise
    return run(data, net, progress=lambda done, total: bar.update(task_id, completed=done, total=total), **kw)


_PARAM = typer.Option(None, "--param", "-p", help="Method parameter name=value (repeatable).")


def filter_cmd(
    ctx: typer.Context,
    src: str = _IN,
    dst: str = _OUT,
    kind: str = typer.Option(
        "bandpass", "--kind", "-k", help="lowpass, highpass, bandpass, bandstop, notch, agc, gain, fk."
    ),
    low: float | None = typer.Option(None, "--low", help="Low corner (Hz)."),
    high: float | None = typer.Option(None, "--high", help="High corner (Hz)."),
    order: int = typer.Option(4, "--order", help="IIR filter order."),
    design: str = typer.Option(
        "butter", "--design", help="IIR: butter, cheby1, cheby2, ellip; FIR: fir_window, fir_ls"
    ),
    phase: str = typer.Option("zero", "--phase", help="zero (forward-backward) or minimum (causal)."),
    params: list[str] | None = _PARAM,
    fmt: str | None = _FORMAT,
    overwrite: bool = _OVERWRITE,
    figure: str | None = _FIGURE,
) -> None:
    """Filter every trace: frequency filters, AGC, gain recovery or an f-k dip filter.

    **Examples**

    ```
    promethium filter line.sgy line_bp.sgy --kind bandpass --low 5 --high 60
    promethium filter line.sgy line_agc.sgy --kind agc -p window_ms=400
    promethium filter shot.sgy shot_fk.sgy --kind fk -p kind=reject -p velocity=1500
    ```
    """
    from promethium import io as pio
    from promethium import signal as sig

    state = get_state(ctx)
    _check_output(dst, overwrite)
    extra = parse_params(params)
    data = pio.read(src)
    k = kind.strip().lower().replace("-", "_")
    if k == "agc":
        out = sig.agc(data, **extra)
    elif k == "gain":
        out = sig.gain(data, **extra)
    elif k in ("fk", "fk_filter", "dip"):
        out = sig.fk_filter(data, **extra)
    else:
        out = sig.filter(data, k, low=low, high=high, order=order, design=design, phase=phase, **extra)
    _write(out, dst, fmt, overwrite)
    _figure(figure, data, out, f"filter: {k}")
    if not state.quiet:
        state.console.print(f"[green]wrote[/] {dst} ({k}, {data.n_traces:,} traces)", soft_wrap=True)


def reconstruct_cmd(
    ctx: typer.Context,
    src: str = _IN,
    dst: str = _OUT,
    method: str = typer.Option("pocs", "--method", "-m", help="Reconstruction method (see --list)."),
    params: list[str] | None = _PARAM,
    window: str | None = typer.Option(
        None, "--window", help="Window sizes: traces,samples (2D) or inlines,crosslines,samples (3D)."
    ),
    overlap: str | None = typer.Option(None, "--overlap", help="Window overlaps, same layout as --window."),
    fmt: str | None = _FORMAT,
    overwrite: bool = _OVERWRITE,
    figure: str | None = _FIGURE,
    model: str | None = _MODEL,
    finetune: bool = typer.Option(
        False,
        "--finetune",
        help="unet, unet3d: first fine-tune the model on IN's own live traces (self-supervised).",
    ),
    finetune_steps: int | None = typer.Option(
        None,
        "--finetune-steps",
        min=1,
        help="Steps of --finetune (default: 1000 for unet, 150 for unet3d).",
    ),
) -> None:
    """Fill the missing and dead traces of IN (those its trace mask marks) and write OUT.

    Recorded traces are kept exactly. Methods: linear, nearest, sinc (baselines), pocs, fista, drr,
    mssa, fx_predict (regular decimation), dip (along local slopes), fx_pef (f-x prediction-error
    filters: gaps, crossing events), blend and fx_learned (combinations fitted on held-out traces),
    unet (a trained network: the shipped model unless --model names another; --finetune adapts it to
    IN first) and unet3d (the 3D network, for volumes: it uses the inline and crossline directions at
    once).

    **Examples**

    ```
    promethium reconstruct damaged.sgy repaired.sgy --method pocs
    promethium reconstruct damaged.sgy repaired.zarr --method drr -p rank=6 --window 64,200
    promethium reconstruct damaged.sgy repaired.sgy --method unet --finetune
    promethium reconstruct cube.sgy cube-filled.zarr --method unet3d --finetune
    ```
    """
    from promethium import io as pio

    state = get_state(ctx)
    _check_output(dst, overwrite)
    extra = parse_params(params)
    win = _parse_window(window, "--window")
    ov = _parse_window(overlap, "--overlap")
    learned = method.strip().lower() in _LEARNED
    if not learned and (model is not None or finetune):
        raise ParameterError(
            "--model", f"--model and --finetune apply to {', '.join(_LEARNED)}, not {method!r}"
        )
    data = pio.read(src)
    n_missing = int((~data.trace_mask).sum())
    # "steps": windows, and for methods with a whole-data first step (fx_pef) that step as well
    with _progress(state.err, disable=state.quiet, unit="steps") as bar:
        if learned:
            if model is None and method.strip().lower() == "unet3d":
                model = "unet3d"  # the shipped 3D network
            out = _learned(
                "reconstruct", data, model, finetune_steps if finetune else 0, extra, win, bar, state.quiet
            )
        else:
            from promethium.signal import reconstruct

            task = bar.add_task(f"{method}: {n_missing:,} traces to fill", total=None)
            out = reconstruct(
                data,
                method,
                window=win,
                overlap=ov,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                **extra,
            )
    _write(out, dst, fmt, overwrite)
    _figure(figure, data, out, f"reconstruct: {method}")
    if not state.quiet:
        state.console.print(
            f"[green]wrote[/] {dst} ({method}: filled {n_missing:,} of {data.n_traces:,} traces)",
            soft_wrap=True,
        )


def denoise_cmd(
    ctx: typer.Context,
    src: str = _IN,
    dst: str = _OUT,
    method: str = typer.Option(
        "fx_decon", "--method", "-m", help="fx_decon, rank_denoise, despike or unet (a trained network)."
    ),
    params: list[str] | None = _PARAM,
    window: str | None = typer.Option(None, "--window", help="Window sizes, as for reconstruct."),
    fmt: str | None = _FORMAT,
    overwrite: bool = _OVERWRITE,
    figure: str | None = _FIGURE,
    model: str | None = _MODEL,
) -> None:
    """Attenuate random noise (f-x deconvolution, rank reduction, despiking, or the shipped denoising
    network with --method unet); dead traces stay dead.

    **Example**

    ```
    promethium denoise noisy.sgy clean.sgy --method rank_denoise -p rank=4 --figure denoise.png
    promethium denoise noisy.sgy clean.sgy --method unet
    ```
    """
    from promethium import io as pio

    state = get_state(ctx)
    _check_output(dst, overwrite)
    learned = method.strip().lower() in _LEARNED
    if not learned and model is not None:
        raise ParameterError("--model", f"--model applies to {', '.join(_LEARNED)}, not {method!r}")
    data = pio.read(src)
    win = _parse_window(window, "--window")
    with _progress(state.err, disable=state.quiet, unit="windows") as bar:
        if learned:
            out = _learned("denoise", data, model, 0, parse_params(params), win, bar, state.quiet)
        else:
            from promethium.signal import denoise

            task = bar.add_task(f"{method}", total=None)
            out = denoise(
                data,
                method,
                window=win,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                **parse_params(params),
            )
    _write(out, dst, fmt, overwrite)
    _figure(figure, data, out, f"denoise: {method}")
    if not state.quiet:
        state.console.print(f"[green]wrote[/] {dst} ({method})", soft_wrap=True)


def qc_cmd(
    ctx: typer.Context,
    src: str = _IN,
    output: str | None = typer.Option(
        None, "--output", "-o", help="Folder for qc.json and qc.png (default: next to IN, named IN.qc)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
) -> None:
    """Quality control: dead, clipped, noisy and polarity-reversed traces, RMS, SNR, bandwidth, headers.

    Writes ``qc.json`` and ``qc.png`` into the output folder and prints a summary.

    **Example**

    ```
    promethium qc survey.sgy -o survey-qc
    ```
    """
    from promethium import io as pio
    from promethium.signal import qc

    state = get_state(ctx)
    data = pio.read(src)
    report = qc(data)
    folder = Path(output) if output else Path(f"{Path(src).name}.qc")
    folder.mkdir(parents=True, exist_ok=True)
    report.to_json(folder / "qc.json")
    report.plot(folder / "qc.png")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    if state.quiet:
        return
    table = Table(title=f"QC of {src}", show_header=True)
    table.add_column("check")
    table.add_column("value", justify="right")
    for key, value in report.to_dict().get("summary", {}).items():
        table.add_row(str(key), _short(value))
    state.console.print(table)
    issues = report.to_dict().get("issues", [])
    for issue in issues[:20]:
        sev = issue.get("severity", "info") if isinstance(issue, dict) else "info"
        msg = issue.get("message", str(issue)) if isinstance(issue, dict) else str(issue)
        colour = {"error": "red", "warning": "yellow"}.get(sev, "cyan")
        state.console.print(f"[{colour}]{sev}[/]: {msg}", soft_wrap=True)
    if len(issues) > 20:
        state.console.print(f"... {len(issues) - 20} more in {folder / 'qc.json'}")
    state.console.print(f"[green]wrote[/] {folder / 'qc.json'} and {folder / 'qc.png'}")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        text = json.dumps(value)
        return text if len(text) < 60 else text[:57] + "..."
    return str(value)


def evaluate_cmd(
    ctx: typer.Context,
    src: str = typer.Argument(
        ..., help="A complete file (its live traces are the reference).", metavar="FILE"
    ),
    decimate: str = typer.Option(
        "random:0.5", "--decimate", "-d", help="random:F, regular:N, gap:L, gaps:LxK or mixed:F."
    ),
    methods: str = typer.Option(
        "linear,pocs,drr,dip,fx_pef",
        "--methods",
        "-m",
        help="Comma-separated method names (default: those of the compare-methods preset).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the random mask."),
    params: list[str] | None = typer.Option(
        None, "--param", "-p", help="method.name=value for one method (repeatable), e.g. drr.rank=6."
    ),
    figure: str | None = typer.Option(None, "--figure", help="Comparison PNG (default: FILE.evaluate.png)."),
    as_json: str | None = typer.Option(None, "--json", help="Also write the results as JSON here."),
) -> None:
    """Hide traces of a complete file, fill them with each method, and compare SNR and time.

    **Example**

    ```
    promethium evaluate line.sgy --decimate random:0.5 --methods linear,pocs,drr,dip
    ```
    """
    from promethium import io as pio
    from promethium.signal.evaluation import evaluate

    state = get_state(ctx)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    per_method: dict[str, dict[str, Any]] = {}
    for name, value in parse_params(params).items():
        method, dot, key = name.partition(".")
        if not dot:
            raise ParameterError("--param", f"expected method.name=value, got {name!r}")
        per_method.setdefault(method, {})[key] = value
    data = pio.read(src)
    with _progress(state.err, disable=state.quiet, unit="methods") as bar:
        task = bar.add_task("evaluating", total=len(names))

        def step(method: str, index: int, total: int) -> None:
            bar.update(task, completed=index, description=f"{method}")

        result = evaluate(data, names, decimate=decimate, seed=seed, params=per_method, progress=step)
    fig_path = figure or f"{Path(src).name}.evaluate.png"
    result.plot(fig_path)
    if as_json:
        Path(as_json).write_text(json.dumps(result.to_dict(), indent=2))
    table = Table(
        title=f"{src}: {result.decimate}, {result.n_hidden:,} of {result.n_live:,} live traces hidden",
        show_header=True,
    )
    for col, justify in (("method", "left"), ("SNR dB", "right"), ("SNR missing dB", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    table.add_column("SSIM", justify="right")
    table.add_column("time s", justify="right")
    best = result.best
    for r in result.results:
        if r.error:
            table.add_row(r.method, f"[red]failed: {r.error}[/]", "", "", "")
            continue
        mark = "[bold green]" if best is not None and r is best else ""
        table.add_row(
            f"{mark}{r.method}",
            f"{r.snr:.2f}" if r.snr is not None else "-",
            f"{r.snr_missing:.2f}" if r.snr_missing is not None else "-",
            f"{r.ssim:.3f}" if r.ssim is not None else "-",
            f"{r.time_s:.2f}" if r.time_s is not None else "-",
        )
    state.console.print(table)
    if not state.quiet:
        state.console.print(f"[green]wrote[/] {fig_path}" + (f" and {as_json}" if as_json else ""))
