"""``promethium train CONFIG``: the command function, ready for ``app.command("train")(train_cmd)`` in
:mod:`promethium.cli.main` (typer is imported by the CLI, torch only when the command runs)."""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["models_app", "train_cmd"]

models_app = typer.Typer(help="The shipped pretrained models.", no_args_is_help=True)


def train_cmd(
    config: str = typer.Argument(..., help="Training configuration (YAML or JSON, see TrainConfig)."),
    output: str | None = typer.Option(None, "--output", "-o", help="Output folder (overrides output_dir)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the folder's checkpoint.pt."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda, cuda:N, mps."),
    steps: int | None = typer.Option(None, "--steps", help="Override the number of steps."),
) -> None:
    """Train a reconstruction model; writes model.pt/.json, checkpoint.pt, metrics.csv/.json, loss.png.

    Example::

        promethium train unet.yaml --output runs/unet --device auto
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from promethium.ml.train import load_config, train

    cfg = load_config(config)
    changes: dict[str, Any] = {"resume": resume or cfg.resume}
    if output is not None:
        changes["output_dir"] = output
    if device is not None:
        changes["device"] = device
    if steps is not None:
        changes["steps"] = steps
    cfg = cfg.model_validate({**cfg.model_dump(), **changes})
    if cfg.output_dir is None:
        raise typer.BadParameter(
            "set output_dir in the configuration or pass --output", param_hint="--output"
        )
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} {task.fields[info]}"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("train", total=cfg.steps, info="")

        def progress(step: int, total: int, metrics: dict[str, float]) -> None:
            info = f"loss {metrics['loss']:.4f}"
            if "val_loss" in metrics:
                info += f" val {metrics['val_loss']:.4f} snr {metrics['val_snr_missing_db']:.1f} dB"
            bar.update(task, completed=step, info=info)

        result = train(cfg, progress=progress)
    status = "stopped early" if result.stopped_early else "done"
    console.print(
        f"{status} after {result.steps_done} steps; best validation loss {result.best_val_loss:.4g} at step "
        f"{result.best_step}"
    )
    for name, path in result.files.items():
        console.print(f"  {name}: {path}")


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List the shipped models (name, task, architecture, size, training and validation figures)."""
    import json
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from promethium.ml.pretrained import DEFAULTS, list_pretrained

    rows = []
    for m in list_pretrained():
        side = json.loads(Path(m.path).with_suffix(".json").read_text(encoding="utf-8"))
        metrics = side.get("metrics", {})
        rows.append(
            {
                "name": m.name,
                "task": m.task,
                "default": DEFAULTS.get(m.task) == m.name,
                "architecture": side.get("architecture"),
                "args": side.get("args"),
                "size_mb": round(m.path.stat().st_size / 2**20, 2),
                "steps": side.get("training", {}).get("steps_done"),
                "val_snr_db": metrics.get("val_snr_missing_db"),
                "path": str(m.path),
                "config": str(m.config),
                "description": m.description,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="shipped models")
    for col in ("name", "task", "architecture", "size", "steps", "val SNR (dB)", "description"):
        table.add_column(col)
    for r in rows:
        snr = r["val_snr_db"]
        table.add_row(
            str(r["name"]) + (" (default)" if r["default"] else ""),
            str(r["task"]),
            str(r["architecture"]),
            f"{r['size_mb']} MB",
            str(r["steps"]),
            f"{snr:.1f}" if isinstance(snr, float) else "-",
            str(r["description"]),
        )
    Console().print(table)
