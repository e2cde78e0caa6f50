"""Figures of seismic data: sections, time slices, trace-mask maps and input/output/difference panels.

The conventions of the field are applied throughout: time (or depth) increases downward, amplitudes are
shown with a symmetric clip at a high percentile of ``|amplitude|`` over the live traces, with a grey
(or diverging) colormap, and comparison panels share one clip so that their greys mean the same thing.

Matplotlib is imported inside the functions and figures are drawn on the Agg canvas directly (no
``pyplot``, no global backend switch), so importing this module costs nothing and plotting works on
headless machines and in threads::

    from promethium.plotting import plot_comparison, plot_section

    plot_comparison(damaged, reconstructed, path="comparison.png")   # input / output / difference
    result = plot_section(volume, inline=120, path="il120.png")
    result.clip                                                       # the clip that was used

Each function returns a small result object holding the figure, the axes, the clip and the path written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from promethium.io.data import HEADER_PREFIX, SeismicData

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ComparisonPlot",
    "MaskPlot",
    "PanelsPlot",
    "SectionPlot",
    "compute_clip",
    "plot_comparison",
    "plot_mask",
    "plot_panels",
    "plot_section",
]

DEFAULT_DPI = 120


@dataclass
class SectionPlot:
    """What :func:`plot_section` drew: the figure, its axes, the image and the symmetric clip used."""

    figure: Figure
    ax: Axes
    image: Any
    clip: float
    path: str | None = None


@dataclass
class ComparisonPlot:
    """What :func:`plot_comparison` drew; ``clip`` is shared by every panel."""

    figure: Figure
    axes: list[Axes]
    images: list[Any]
    clip: float
    path: str | None = None
    titles: list[str] = field(default_factory=list)


@dataclass
class MaskPlot:
    """What :func:`plot_mask` drew, with the trace counts per category (live, missing, dead)."""

    figure: Figure
    ax: Axes
    image: Any
    counts: dict[str, int]
    path: str | None = None


@dataclass
class _View:
    """A 2D panel cut out of some data, ready for ``imshow``."""

    values: np.ndarray  # (rows, cols) as displayed: rows run down the page
    extent: tuple[float, float, float, float]
    xlabel: str
    ylabel: str
    mask: np.ndarray | None  # per column (section) or per pixel (time slice); True = live
    kind: str  # "section" or "slice"
    label: str
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))


# --------------------------------------------------------------------------- helpers
def compute_clip(values: np.ndarray, percentile: float = 99.0, mask: np.ndarray | None = None) -> float:
    """A symmetric clip: the ``percentile`` of ``|values|`` over the live traces (``mask`` True).

    ``mask`` covers the leading (trace) dims of ``values``. Falls back to the largest ``|value|`` when the
    percentile is 0, and to 1 for all-zero or empty data, so a clip is always positive.
    """
    arr = np.asarray(values)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape == arr.shape[: m.ndim] and m.any():
            arr = arr[m]
    finite = np.abs(arr[np.isfinite(arr)]) if arr.size else np.zeros(0)
    if finite.size == 0:
        return 1.0
    clip = float(np.percentile(finite, percentile))
    if not clip > 0:
        clip = float(finite.max())
    return clip if clip > 0 else 1.0


def _new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure on the Agg canvas, independent of pyplot and of the global backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str] | None, dpi: int) -> str | None:
    if path is None:
        return None
    out = os.fspath(path)
    fig.savefig(out, dpi=dpi)
    return out


def _as_data(data: SeismicData | np.ndarray, dt_ms: float) -> SeismicData:
    if isinstance(data, SeismicData):
        return data
    arr = np.asarray(data)
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"expected a 2D (trace, time) or 3D (inline, crossline, time) array, got {arr.ndim}D"
        )
    return SeismicData.from_array(arr, sample_interval=dt_ms, dtype=arr.dtype)


def _index_of(coord: np.ndarray, value: float | None, name: str) -> int:
    """Position of coordinate ``value`` (the middle when None)."""
    if value is None:
        return coord.size // 2
    hits = np.flatnonzero(np.isclose(coord, value))
    if hits.size:
        return int(hits[0])
    if coord.size and coord.min() <= value <= coord.max():
        return int(np.argmin(np.abs(coord - value)))
    raise ValueError(f"{name} {value:g} is outside {coord.min():g}..{coord.max():g}")


def _view(
    data: SeismicData,
    *,
    inline: float | None = None,
    crossline: float | None = None,
    time: float | None = None,
) -> _View:
    """Cut the panel to display: a 2D section, an inline or crossline of a volume, or a time slice."""
    samples = data.samples
    dt = data.sample_interval
    unit = data.sample_unit
    sample_label = f"{'Time' if data.sample_dim == 'time' else 'Depth'} ({unit})"
    values = data.values
    mask = data.trace_mask
    y0, y1 = float(samples[0]) - dt / 2, float(samples[-1]) + dt / 2
    if not data.is_3d:
        x = np.arange(data.shape[0])
        return _View(
            values.T, (-0.5, data.shape[0] - 0.5, y1, y0), "Trace", sample_label, mask, "section", "", x
        )
    il = np.asarray(data["inline"].values)
    xl = np.asarray(data["crossline"].values)
    if time is not None:
        k = _index_of(samples, time, data.sample_dim)
        return _View(
            values[:, :, k],
            (float(xl[0]) - 0.5, float(xl[-1]) + 0.5, float(il[-1]) + 0.5, float(il[0]) - 0.5),
            "Crossline",
            "Inline",
            mask,
            "slice",
            f"{data.sample_dim} {samples[k]:g} {unit}",
            xl,
        )
    if crossline is not None and inline is None:
        j = _index_of(xl, crossline, "crossline")
        return _View(
            values[:, j, :].T,
            (float(il[0]) - 0.5, float(il[-1]) + 0.5, y1, y0),
            "Inline",
            sample_label,
            mask[:, j],
            "section",
            f"crossline {xl[j]}",
            il,
        )
    i = _index_of(il, inline, "inline")
    return _View(
        values[i, :, :].T,
        (float(xl[0]) - 0.5, float(xl[-1]) + 0.5, y1, y0),
        "Crossline",
        sample_label,
        mask[i, :],
        "section",
        f"inline {il[i]}",
        xl,
    )


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True in a 1D boolean array."""
    f = np.concatenate([[False], np.asarray(flags, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(f.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _mark_masked(ax: Axes, view: _View, cmap: str) -> None:
    """Shade missing/dead traces (mask False): translucent red over grey maps, yellow over colour ones."""
    if view.mask is None or view.mask.all():
        return
    grey = "gray" in cmap or "grey" in cmap or cmap in ("binary", "Greys")
    if view.kind == "section":
        x = view.x
        step = float(x[1] - x[0]) if x.size > 1 else 1.0
        for start, stop in _runs(~view.mask):
            ax.axvspan(
                float(x[start]) - step / 2,
                float(x[stop - 1]) + step / 2,
                color="tab:red" if grey else "gold",
                alpha=0.18 if grey else 0.35,
                lw=0,
            )
    else:
        overlay = np.zeros((*view.mask.shape, 4), dtype=np.float32)
        overlay[~view.mask] = (0.85, 0.1, 0.1, 0.45) if grey else (1.0, 0.85, 0.0, 0.9)
        ax.imshow(overlay, extent=view.extent, aspect="auto", interpolation="nearest")


def _draw(
    ax: Axes,
    view: _View,
    clip: float,
    cmap: str,
    title: str | None,
    mark_masked: bool,
    colorbar: bool,
) -> Any:
    image = ax.imshow(
        view.values,
        cmap=cmap,
        vmin=-clip,
        vmax=clip,
        extent=view.extent,
        aspect="auto",
        interpolation="nearest" if view.kind == "slice" else "bilinear",
    )
    if mark_masked:
        _mark_masked(ax, view, cmap)
    ax.set_xlabel(view.xlabel)
    ax.set_ylabel(view.ylabel)
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, label="Amplitude")
    return image


# --------------------------------------------------------------------------- public functions
def plot_section(
    data: SeismicData | np.ndarray,
    ax: Axes | None = None,
    *,
    clip: float | None = None,
    percentile: float = 99.0,
    cmap: str = "gray",
    title: str | None = None,
    inline: float | None = None,
    crossline: float | None = None,
    time: float | None = None,
    dt_ms: float = 4.0,
    mark_masked: bool = True,
    colorbar: bool = True,
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] = (9.0, 6.0),
    dpi: int = DEFAULT_DPI,
) -> SectionPlot:
    """Draw a seismic section (time downward) or a time slice.

    Args:
        data: a :class:`SeismicData` or a bare ``(trace, time)`` / ``(inline, crossline, time)`` array
            (sampled every ``dt_ms``).
        ax: the axes to draw into; a new figure is made when None.
        clip: symmetric amplitude clip; by default the ``percentile`` of ``|amplitude|`` over the live
            traces of the displayed panel.
        cmap: a grey (``"gray"``, ``"gray_r"``) or diverging (``"seismic"``, ``"RdBu"``) colormap.
        title: the panel title (by default what is shown, e.g. ``"inline 150"``).
        inline, crossline, time: for a volume, the inline (by number; the middle one by default), the
            crossline, or the time slice (ms) to show.
        mark_masked: shade traces whose trace mask is False (missing or dead) in red.
        path: write the figure there (PNG by extension) when given.
    """
    sd = _as_data(data, dt_ms)
    view = _view(sd, inline=inline, crossline=crossline, time=time)
    if clip is None:
        clip = compute_clip(view.values if view.kind == "slice" else view.values.T, percentile, view.mask)
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    image = _draw(
        ax, view, float(clip), cmap, title if title is not None else view.label, mark_masked, colorbar
    )
    written = _save(fig, path, dpi)
    return SectionPlot(fig, ax, image, float(clip), written)


def plot_comparison(
    input: SeismicData | np.ndarray,
    output: SeismicData | np.ndarray,
    difference: SeismicData | np.ndarray | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    percentile: float = 99.0,
    clip: float | None = None,
    cmap: str = "gray",
    titles: tuple[str, str, str] = ("Input", "Output", "Difference (output − input)"),
    inline: float | None = None,
    crossline: float | None = None,
    time: float | None = None,
    dt_ms: float = 4.0,
    mark_masked: bool = True,
    suptitle: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = DEFAULT_DPI,
) -> ComparisonPlot:
    """Input, output and difference side by side, all with the same symmetric clip.

    The clip is the ``percentile`` of ``|input|`` over its live traces (or ``|output|`` when the input
    has none), unless ``clip`` is given; ``difference`` defaults to ``output - input``. Masked traces
    (missing or dead) are shaded in the input and output panels. Returns a :class:`ComparisonPlot`
    whose ``clip`` is the value every panel used.
    """
    a = _as_data(input, dt_ms)
    b = _as_data(output, dt_ms)
    if a.shape != b.shape:
        raise ValueError(f"input and output shapes differ: {a.shape} vs {b.shape}")
    if difference is None:
        d = b.replace(b.values.astype(np.float64) - a.values.astype(np.float64), trace_mask=b.trace_mask)
    else:
        d = _as_data(difference, dt_ms)
    views = [_view(x, inline=inline, crossline=crossline, time=time) for x in (a, b, d)]
    if clip is None:
        first = views[0]
        src = first if first.mask is None or first.mask.any() else views[1]
        clip = compute_clip(src.values if src.kind == "slice" else src.values.T, percentile, src.mask)
    if figsize is None:
        figsize = (15.0, 5.5)
    fig = _new_figure(figsize)
    axes = [fig.add_subplot(1, 3, k + 1) for k in range(3)]
    images = []
    for k, (ax, view) in enumerate(zip(axes, views, strict=True)):
        title = titles[k] + (f" — {view.label}" if view.label else "")
        images.append(_draw(ax, view, float(clip), cmap, title, mark_masked and k < 2, colorbar=False))
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(images[0], ax=axes, shrink=0.8, label=f"Amplitude (clip ±{clip:.3g})")
    if suptitle:
        fig.suptitle(suptitle)
    written = _save(fig, path, dpi)
    return ComparisonPlot(fig, axes, images, float(clip), written, [str(t) for t in titles])


def plot_mask(
    data: SeismicData | np.ndarray,
    ax: Axes | None = None,
    *,
    dead: np.ndarray | None = None,
    title: str | None = "Trace mask",
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] = (7.0, 6.0),
    dpi: int = DEFAULT_DPI,
) -> MaskPlot:
    """Map of live, missing and dead traces.

    ``data`` is a :class:`SeismicData` (its ``trace_mask``, with dead traces told apart by the SEG-Y
    trace identification code 2 in ``hdr_trace_id``) or a boolean mask (True = live) over the trace dims;
    ``dead`` may flag dead traces explicitly. A volume is drawn as an inline x crossline map, a line as
    a strip.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if isinstance(data, SeismicData):
        live = data.trace_mask
        if dead is None and HEADER_PREFIX + "trace_id" in data:
            dead = data.header("trace_id") == 2
        il = np.asarray(data["inline"].values) if data.is_3d else None
        xl = np.asarray(data["crossline"].values) if data.is_3d else None
    else:
        live = np.asarray(data, dtype=bool)
        il = xl = None
    dead_arr = np.zeros(live.shape, dtype=bool) if dead is None else (np.asarray(dead, dtype=bool) & ~live)
    category = np.where(live, 0, np.where(dead_arr, 2, 1)).astype(np.int8)
    counts = {
        "live": int((category == 0).sum()),
        "missing": int((category == 1).sum()),
        "dead": int((category == 2).sum()),
    }
    if category.ndim == 1:
        category = category[None, :]
        extent = (-0.5, category.shape[1] - 0.5, 0.5, -0.5)
        xlabel, ylabel = "Trace", ""
    else:
        if il is not None and xl is not None:
            extent = (float(xl[0]) - 0.5, float(xl[-1]) + 0.5, float(il[-1]) + 0.5, float(il[0]) - 0.5)
        else:
            extent = (-0.5, category.shape[1] - 0.5, category.shape[0] - 0.5, -0.5)
        xlabel, ylabel = "Crossline", "Inline"
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    colors = ["#d9d9d9", "#d62728", "#1f1f1f"]
    image = ax.imshow(
        category,
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=2.5,
        extent=extent,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if category.shape[0] == 1:
        ax.set_yticks([])
    if title:
        ax.set_title(title)
    handles = [
        Patch(color=c, label=f"{name} ({counts[name]})")
        for c, name in zip(colors, ("live", "missing", "dead"), strict=True)
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    written = _save(fig, path, dpi)
    return MaskPlot(fig, ax, image, counts, written)


@dataclass
class PanelsPlot:
    """Result of :func:`plot_panels`."""

    figure: Figure
    axes: list[Axes]
    clip: float
    path: str | None


def plot_panels(
    panels: list[tuple[str, SeismicData | np.ndarray]],
    *,
    columns: int | None = None,
    path: str | os.PathLike[str] | None = None,
    clip: float | None = None,
    percentile: float = 99.0,
    clip_from: int = 0,
    cmap: str = "gray",
    inline: float | None = None,
    crossline: float | None = None,
    time: float | None = None,
    dt_ms: float = 4.0,
    mark_masked: bool = False,
    suptitle: str | None = None,
    panel_size: tuple[float, float] = (3.6, 4.4),
    dpi: int = DEFAULT_DPI,
) -> PanelsPlot:
    """Any number of titled panels in a grid, all drawn with one symmetric clip.

    The clip is the ``percentile`` of ``|amplitude|`` of panel ``clip_from`` (over its live traces)
    unless ``clip`` is given, so that the greys of a reference, an input, several outputs and their
    differences all mean the same amplitude."""
    if not panels:
        raise ValueError("plot_panels needs at least one panel")
    views = [_view(_as_data(d, dt_ms), inline=inline, crossline=crossline, time=time) for _, d in panels]
    if clip is None:
        src = views[clip_from]
        clip = compute_clip(src.values if src.kind == "slice" else src.values.T, percentile, src.mask)
    ncol = columns or len(panels)
    nrow = -(-len(panels) // ncol)
    fig = _new_figure((panel_size[0] * ncol + 1.0, panel_size[1] * nrow))
    axes = []
    image: Any = None
    for k, ((title, _), view) in enumerate(zip(panels, views, strict=True)):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        image = _draw(ax, view, float(clip), cmap, title, mark_masked, colorbar=False)
        if k % ncol:
            ax.set_ylabel("")
        axes.append(ax)
    fig.colorbar(image, ax=axes, shrink=0.8, label=f"Amplitude (clip ±{clip:.3g})")
    if suptitle:
        fig.suptitle(suptitle)
    return PanelsPlot(fig, axes, float(clip), _save(fig, path, dpi))
