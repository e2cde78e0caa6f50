"""``promethium demo``: the whole job on a synthetic survey, end to end, in a few seconds.

Generate a 3D survey, damage it, write it as SEG-Y, read it back (the format detected from the
content), convert it to Zarr, describe it and draw the figures a geophysicist looks at first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import typer
from rich.console import Console

from promethium.cli import get_state
from promethium.cli.io_cmds import print_info

__all__ = ["SIZES", "demo", "run_demo"]

#: The demo's reconstruction: structure-oriented interpolation along local slopes. On the small survey
#: (20 % missing, 5 % dead) it scored 17.0 dB on the filled traces against 15.8 for POCS (2.7 s against
#: 1.1 s on 2 cores); fx_learned scored 18.2 dB in 9.7 s (`promethium evaluate` compares them all).
DEMO_METHOD = "dip"
DEMO_METHOD_LABEL = "dip-steered interpolation along local slopes"

#: Survey size presets: (inlines, crosslines, samples).
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (40, 50, 300),
    "medium": (120, 150, 500),
}

REAL_FILE = Path("shared") / "data" / "segy" / "seisplot_F3_very_small.sgy"


def _find_real_file() -> Path | None:
    """The small F3 SEG-Y of the shared data set, next to the current folder or the repository."""
    repo = Path(__file__).resolve().parents[3]
    for base in (Path.cwd().parent, repo.parent, Path.cwd(), repo):
        candidate = base / REAL_FILE
        if candidate.is_file():
            return candidate
    return None


class _Steps:
    """Numbered step lines with timings (and a spinner while a step runs)."""

    def __init__(self, console: Console, total: int, quiet: bool) -> None:
        self.console = console
        self.total = total
        self.quiet = quiet
        self.n = 0

    @contextmanager
    def step(self, text: str) -> Iterator[dict[str, str]]:
        self.n += 1
        note: dict[str, str] = {}
        t0 = time.perf_counter()
        if self.quiet:
            yield note
            return
        with self.console.status(f"[{self.n}/{self.total}] {text}..."):
            yield note
        extra = f" [dim]{note['detail']}[/]" if note.get("detail") else ""
        self.console.print(
            f"[green]✓[/] [{self.n}/{self.total}] {text} [dim]({time.perf_counter() - t0:.2f} s)[/]{extra}",
            soft_wrap=True,
        )


def run_demo(
    output: Path,
    size: str = "small",
    *,
    console: Console | None = None,
    quiet: bool = False,
    seed: int = 7,
) -> dict[str, Any]:
    """Run the demo into ``output``; returns the paths written and a summary."""
    from promethium import io as pio
    from promethium import signal
    from promethium.plotting import plot_comparison, plot_mask, plot_panels, plot_section
    from promethium.synthetic import damage, make_survey

    if size not in SIZES:
        raise typer.BadParameter(f"--size must be one of {', '.join(SIZES)}")
    console = console or Console(stderr=True)
    output.mkdir(parents=True, exist_ok=True)
    n_il, n_xl, n_t = SIZES[size]
    real = _find_real_file()
    steps = _Steps(console, 10 + (1 if real else 0), quiet)
    t_start = time.perf_counter()
    figures: list[Path] = []

    with steps.step(f"generating a synthetic 3D survey ({n_il} x {n_xl} traces, {n_t} samples)") as note:
        clean = make_survey("3d", n_inline=n_il, n_crossline=n_xl, n_samples=n_t, seed=seed)
        note["detail"] = f"{clean.n_traces:,} traces, dt {clean.sample_interval:g} ms"
    with steps.step("damaging it (20% missing traces, 5% dead)") as note:
        damaged, dinfo = damage(clean, 0.2, 0.05, seed=seed + 1, pattern="mixed")
        note["detail"] = f"{dinfo['n_missing']:,} missing, {dinfo['n_dead']:,} dead"
    segy_path = output / "survey.sgy"
    with steps.step(f"writing SEG-Y {segy_path}") as note:
        pio.write(damaged, segy_path)
        note["detail"] = f"{segy_path.stat().st_size / 1e6:.1f} MB"
    with steps.step("reading it back, format detected from the content") as note:
        detected = pio.detect_format(segy_path)
        back = pio.read(segy_path)
        note["detail"] = f"detected {detected}: {back!r}"
    roundtrip = _compare(damaged, back)
    zarr_path = output / "survey.zarr"
    with steps.step(f"converting to Zarr {zarr_path}") as note:
        result = pio.convert(segy_path, zarr_path, overwrite=True)
        note["detail"] = f"{result.traces:,} traces{' streamed' if result.streamed else ''}"
    with steps.step("describing the Zarr store") as note:
        info = pio.describe(zarr_path)
    qc_dir = output / "qc"
    with steps.step(f"quality control of the damaged survey ({qc_dir}/)") as note:
        qc_dir.mkdir(exist_ok=True)
        report = signal.qc(back)
        report.to_json(qc_dir / "qc.json")
        report.plot(qc_dir / "qc.png")
        figures.append(qc_dir / "qc.png")
        summary = report.to_dict()["summary"]
        note["detail"] = ", ".join(
            f"{summary[k]:,} {k.removeprefix('n_')}"
            for k in ("n_dead", "n_clipped", "n_noisy")
            if k in summary
        )
    repaired_path = output / "repaired.sgy"
    n_fill = int((~back.trace_mask).sum())
    with steps.step(f"filling the {n_fill:,} missing and dead traces ({DEMO_METHOD_LABEL})") as note:
        repaired = signal.reconstruct(back, DEMO_METHOD)
        pio.write(repaired, repaired_path)
        hidden = ~back.trace_mask
        scores = {
            "method": DEMO_METHOD,
            "snr_filled_db": signal.metrics.snr(clean.values[hidden], repaired.values[hidden]),
            "snr_filled_linear_db": signal.metrics.snr(
                clean.values[hidden], signal.reconstruct(back, "linear").values[hidden]
            ),
            "ssim": signal.metrics.ssim(clean.values, repaired.values),
        }
        note["detail"] = (
            f"SNR of the filled traces {scores['snr_filled_db']:.1f} dB "
            f"(linear interpolation {scores['snr_filled_linear_db']:.1f} dB); wrote {repaired_path.name}"
        )
    with steps.step("drawing figures") as note:
        shown = back if back.is_3d and back.shape == clean.shape else damaged
        il = int(np.asarray(shown["inline"].values)[shown.shape[0] // 2])
        figures.append(output / "section.png")
        plot_comparison(
            clean,
            shown,
            path=figures[-1],
            inline=il,
            titles=("Synthetic survey", "Damaged, read back from SEG-Y", "Difference"),
            suptitle=f"Inline {il}: missing and dead traces shaded red (same clip on every panel)",
        ).figure.clear()
        # mark the damage on the read-back panel as well
        figures.append(output / "section_damaged.png")
        plot_section(
            shown, inline=il, path=figures[-1], title=f"Inline {il} as read back (masked traces in red)"
        )
        t_slice = float(shown.samples[int(0.55 * shown.n_samples)])
        figures.append(output / "timeslice.png")
        plot_section(shown, time=t_slice, path=figures[-1], title=f"Time slice at {t_slice:g} ms")
        figures.append(output / "mask.png")
        mask_plot = plot_mask(shown, path=figures[-1], title="Trace mask of the damaged survey")
        figures.append(output / "reconstruction.png")
        plot_panels(
            [
                ("Synthetic survey", clean),
                ("Damaged", shown),
                (f"Repaired ({DEMO_METHOD})", repaired),
                ("Repaired − synthetic", clean.replace(repaired.values - clean.values)),
            ],
            inline=il,
            path=figures[-1],
            suptitle=f"Inline {il}: one clip for every panel",
        )
        note["detail"] = ", ".join(p.name for p in figures)
    real_info: dict[str, Any] | None = None
    if real is not None:
        with steps.step(f"plotting a real survey ({real.name})") as note:
            try:
                real_data = pio.read(real)
                figures.append(output / "real_f3.png")
                plot_section(real_data, path=figures[-1], title=f"{real.name}")
                real_info = {"path": str(real), "shape": list(real_data.shape)}
                note["detail"] = repr(real_data)
            except Exception as exc:  # the real file is a bonus: never fail the demo for it
                note["detail"] = f"skipped: {exc}"
    elapsed = time.perf_counter() - t_start
    return {
        "output": str(output),
        "segy": str(segy_path),
        "zarr": str(zarr_path),
        "repaired": str(repaired_path),
        "reconstruction": scores,
        "figures": [str(p) for p in figures],
        "info": info,
        "roundtrip": roundtrip,
        "mask_counts": mask_plot.counts,
        "damage": {k: v for k, v in dinfo.items() if not isinstance(v, np.ndarray)},
        "real": real_info,
        "seconds": elapsed,
    }


def _compare(expected: Any, actual: Any) -> dict[str, Any]:
    """How well a read-back survey matches what was written (live traces)."""
    if expected.shape != actual.shape:
        return {"same_shape": False, "expected": list(expected.shape), "actual": list(actual.shape)}
    live = expected.trace_mask & actual.trace_mask
    diff = float(np.max(np.abs(expected.values[live] - actual.values[live]))) if live.any() else 0.0
    return {
        "same_shape": True,
        "same_mask": bool(np.array_equal(expected.trace_mask, actual.trace_mask)),
        "max_abs_difference": diff,
    }


def demo(
    ctx: typer.Context,
    output: Path = typer.Option(
        Path("demo-output"),
        "--output",
        "-o",
        help="Folder for the SEG-Y file, the Zarr store and the figures.",
    ),
    size: Literal["small", "medium"] = typer.Option(
        "small",
        "--size",
        "-s",
        help="Survey size: small (40x50 traces, 300 samples) or medium (120x150, 500).",
    ),
    seed: int = typer.Option(7, "--seed", help="Seed of the synthetic survey and of the damage."),
    serve: bool = typer.Option(
        False,
        "--serve/--no-serve",
        help="Then start the API and web app on embedded defaults, with the survey uploaded and a "
        "reconstruction job submitted (an admin with a generated password is created on first run).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="With --serve: address to listen on."),
    port: int = typer.Option(8000, "--port", "-p", help="With --serve: port to listen on."),
) -> None:
    """Run the whole job on a synthetic survey, end to end, in seconds.

    Generate a 3D survey, damage it, write it as SEG-Y, read it back (format detected from the
    content), convert it to Zarr, describe it, run quality control, fill the missing and dead traces
    (dip-steered interpolation, scored against the undamaged survey and against linear interpolation)
    and draw figures.

    The survey is a layered earth with dipping and folded reflectors, two faults and noise; 20% of its
    traces are removed and 5% killed. The folder receives survey.sgy, survey.zarr and PNG figures
    (section.png: synthetic / damaged / difference with one clip; section_damaged.png; timeslice.png;
    mask.png; reconstruction.png; qc/qc.png and qc/qc.json) and repaired.sgy. Files already there are
    replaced.

    **Examples**

    ```
    promethium demo
    promethium demo --output /tmp/demo --size medium
    promethium -q demo        # no progress, just the summary
    promethium demo --serve   # then serve the API and web app with the survey loaded (what `make demo` runs)
    ```
    """
    state = get_state(ctx)
    result = run_demo(output, size, console=state.err, quiet=state.quiet, seed=seed)
    console = state.console
    if not state.quiet:
        print_info(result["info"], console)
        rt = result["roundtrip"]
        if rt.get("same_shape"):
            console.print(
                f"SEG-Y round trip: max |difference| on live traces {rt['max_abs_difference']:.3g}, "
                f"trace mask {'identical' if rt['same_mask'] else 'different'}",
                soft_wrap=True,
            )
    console.print(f"[bold]Demo finished in {result['seconds']:.1f} s.[/] Outputs in {result['output']}/:")
    console.print(f"  {result['segy']}", soft_wrap=True)
    console.print(f"  {result['zarr']}", soft_wrap=True)
    console.print(f"  {result['repaired']}", soft_wrap=True)
    for fig in result["figures"]:
        console.print(f"  {fig}", soft_wrap=True)
    if serve:
        from promethium.cli.demo_serve import serve_demo

        serve_demo(Path(result["segy"]), host=host, port=port, say=lambda m: console.print(m, soft_wrap=True))
