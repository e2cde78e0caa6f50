"""The run report: ``report.html`` and its PNG figures, in one folder, readable offline.

Figures (relative links, next to the HTML): input / output / difference with one shared clip
(``comparison.png``), mean amplitude spectra before and after (``spectra.png``), the QC figure of each QC
step (``qc-<step>.png``) and the figure of each method comparison (``evaluate-<step>.png``). Tables: the
steps with their parameters, times and status (a failed step is marked, with its error), the QC summary,
metrics against the reference and the method scores. The provenance closes the page.

A figure that cannot be drawn is replaced by a note: the report is never the reason a run fails.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from promethium.io.data import SeismicData

if TYPE_CHECKING:
    from promethium.workflows.engine import RunResult

__all__ = ["write_report"]

log = logging.getLogger("promethium.workflows")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}
.ok{color:#17752b}.failed{color:#b00020;font-weight:bold}.cancelled{color:#a05a00;font-weight:bold}
.pending{color:#888}img{max-width:100%;border:1px solid #eee}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}.note{color:#666;font-style:italic}
.error{background:#fde8eb;border-left:4px solid #b00020;padding:.6em}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict | list):
        return json.dumps(v, default=str)
    return str(v)


def _table(rows: Sequence[Mapping[str, Any]], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p class='note'>none</p>"
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(r.get(c, '')))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _kv(d: Mapping[str, Any]) -> str:
    return _table([{"name": k, "value": v} for k, v in d.items()], ["name", "value"])


def _inline_of(data: SeismicData) -> float | None:
    if data.is_3d:
        return float(data.dataset["inline"].values[data.shape[0] // 2])
    return None


def _figure_comparison(folder: Path, a: SeismicData, b: SeismicData, title: str) -> str:
    from promethium.plotting import plot_comparison

    name = "comparison.png"
    if a.shape != b.shape:
        from promethium.plotting import plot_panels

        plot_panels([("Input", a), ("Output", b)], path=folder / name, suptitle=title, inline=_inline_of(b))
    else:
        plot_comparison(a, b, path=folder / name, suptitle=title, inline=_inline_of(b))
    return name


def _figure_spectra(folder: Path, datasets: list[tuple[str, SeismicData]]) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from promethium.signal.spectra import amplitude_spectrum

    fig = Figure(figsize=(8.0, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    for label, d in datasets:
        if not d.trace_mask.any():
            continue
        sp = amplitude_spectrum(d, average=True, db=False)
        values = np.asarray(sp.values, dtype=np.float64)
        ref = float(values.max()) if values.size and values.max() > 0 else 1.0
        ax.plot(sp.frequencies_hz, 20 * np.log10(np.maximum(values / ref, 1e-6)), label=label)
    ax.set_xlabel("Frequency (Hz)")
    ax.set_ylabel("Amplitude (dB, each to its maximum)")
    ax.set_ylim(-80, 3)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Mean amplitude spectrum of the live traces")
    fig.tight_layout()
    name = "spectra.png"
    fig.savefig(folder / name, dpi=100)
    return name


def write_report(
    folder: Path,
    result: RunResult,
    *,
    input: SeismicData | None = None,
    output: SeismicData | None = None,
    reference: SeismicData | None = None,
    artifacts: Mapping[str, Any] | None = None,
    preview: tuple[int, int] | None = None,
) -> str:
    """Write ``report.html`` and its figures into ``folder`` (created); returns the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = artifacts or {}
    parts: list[str] = []
    notes: list[str] = []

    def figure(label: str, fn: Any, *args: Any) -> None:
        try:
            name = fn(folder, *args)
        except Exception as exc:
            log.warning("report: %s figure failed: %s", label, exc)
            parts.append(f"<p class='note'>{_e(label)}: figure not drawn ({_e(exc)})</p>")
            return
        parts.append(
            f"<figure><img src='{_e(name)}' alt='{_e(label)}'><figcaption>{_e(label)}</figcaption></figure>"
        )

    p = result.pipeline
    status_cls = {"succeeded": "ok", "failed": "failed", "cancelled": "cancelled"}[result.status]
    parts.append(f"<h1>Pipeline {_e(p.name)}: <span class='{status_cls}'>{_e(result.status)}</span></h1>")
    if p.spec.description:
        parts.append(f"<p>{_e(p.spec.description)}</p>")
    summary = {
        "input": result.provenance.get("pipeline", {}).get("input"),
        "output": result.output,
        "mode": result.mode,
        "chunks": result.n_chunks or None,
        "seconds": round(result.seconds, 3),
        "seed": p.spec.seed,
    }
    parts.append(_kv({k: v for k, v in summary.items() if v is not None}))
    if result.status != "succeeded":
        parts.append(
            f"<div class='error'><b>Step {_e(result.failed_step or '?')} {_e(result.status)}</b>: "
            f"{_e(result.error)}<br>Nothing was written under the output name.</div>"
        )

    parts.append("<h2>Steps</h2>")
    rows = []
    for s in result.steps:
        rows.append(
            {
                "step": s.name,
                "op": s.op,
                "status": s.status,
                "seconds": round(s.seconds, 4),
                "error": s.error or "",
                "parameters": s.params,
            }
        )
    parts.append(_table(rows, ["step", "op", "status", "seconds", "error", "parameters"]))

    if input is not None and output is not None:
        parts.append("<h2>Input, output and difference</h2>")
        if preview is not None:
            notes.append(f"streamed run: figures show traces {preview[0]}..{preview[1] - 1}")
            parts.append(f"<p class='note'>Traces {preview[0]}..{preview[1] - 1} of the streamed data.</p>")
        figure("input / output / difference (same clip)", _figure_comparison, input, output, p.name)
        parts.append("<h2>Spectra</h2>")
        figure("amplitude spectra before and after", _figure_spectra, [("input", input), ("output", output)])
    elif input is not None:
        parts.append("<h2>Input</h2>")
        figure("amplitude spectrum of the input", _figure_spectra, [("input", input)])

    for name, res in result.results.items():
        obj = artifacts.get(name)
        step_op = next((s.op for s in result.steps if s.name == name), "")
        if step_op == "qc":
            parts.append(f"<h2>QC ({_e(name)})</h2>")
            parts.append(_kv(res.get("summary", {})))
            issues = res.get("issues") or []
            if issues:
                parts.append(_table(issues))
            if obj is not None and hasattr(obj, "plot"):

                def qc_fig(folder: Path, obj: Any = obj, name: str = name) -> str:
                    fname = f"qc-{name}.png"
                    obj.plot(folder / fname)
                    return fname

                figure(f"QC {name}", qc_fig)
        elif step_op == "metrics":
            parts.append(f"<h2>Metrics against the reference ({_e(name)})</h2>")
            parts.append(_kv(res))
        elif step_op == "evaluate":
            parts.append(f"<h2>Method comparison ({_e(name)})</h2>")
            parts.append(_table(list(res.get("results") or []) if isinstance(res, dict) else []))
            if obj is not None and hasattr(obj, "plot"):

                def ev_fig(folder: Path, obj: Any = obj, name: str = name) -> str:
                    fname = f"evaluate-{name}.png"
                    obj.plot(folder / fname)
                    return fname

                figure(f"method comparison {name}", ev_fig)
        else:
            parts.append(
                f"<h2>{_e(name)}</h2><pre>{_e(json.dumps(res, indent=1, default=str)[:20000])}</pre>"
            )

    parts.append("<h2>Provenance</h2>")
    prov = dict(result.provenance)
    parts.append(f"<pre>{_e(json.dumps(prov, indent=1, default=str))}</pre>")
    body = "\n".join(parts)
    text = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Promethium report: {_e(p.name)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )
    path = folder / "report.html"
    tmp = folder / ".report.html.part"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    with contextlib.suppress(Exception):
        (folder / "run.json").write_text(
            json.dumps(result.to_dict(), indent=1, default=str), encoding="utf-8"
        )
    return str(path)
