"""Figures: files written, one symmetric clip for every comparison panel, no global side effects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from promethium.io.data import SeismicData
from promethium.plotting import compute_clip, plot_comparison, plot_mask, plot_section
from promethium.synthetic import damage, make_survey

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def volume() -> SeismicData:
    return make_survey("3d", n_inline=12, n_crossline=16, n_samples=120, seed=1)


@pytest.fixture(scope="module")
def damaged(volume: SeismicData) -> SeismicData:
    return damage(volume, 0.25, 0.1, seed=2)[0]


def _is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_compute_clip() -> None:
    values = np.linspace(-10, 10, 2001).reshape(1, -1)
    assert compute_clip(values, 100) == pytest.approx(10.0)
    assert compute_clip(values, 50) == pytest.approx(5.0, rel=0.01)
    # masked (zero) traces are left out
    two = np.vstack([values, np.zeros_like(values)])
    assert compute_clip(two, 50, mask=np.array([True, False])) == pytest.approx(5.0, rel=0.01)
    assert compute_clip(np.zeros((3, 4))) == 1.0
    assert compute_clip(np.array([[np.nan, 2.0]]), 100) == 2.0


def test_plot_section_inline(tmp_path: Path, damaged: SeismicData) -> None:
    out = tmp_path / "section.png"
    result = plot_section(damaged, path=out)
    assert _is_png(out)
    assert result.path == str(out)
    assert result.clip > 0
    assert result.image.get_clim() == (-result.clip, result.clip)
    assert result.ax.get_xlabel() == "Crossline"
    assert result.ax.get_ylabel() == "Time (ms)"
    # time increases downward: the top of the image is the first sample
    bottom, top = result.ax.get_ylim()
    assert top < bottom
    assert "inline 106" in result.ax.get_title()  # the middle inline (100 + 12 // 2)


def test_plot_section_choices(tmp_path: Path, damaged: SeismicData) -> None:
    xl = plot_section(damaged, crossline=305, clip=0.5)
    assert xl.clip == 0.5
    assert xl.ax.get_xlabel() == "Inline"
    ts = plot_section(damaged, time=200.0, cmap="seismic", path=tmp_path / "ts.png")
    assert ts.ax.get_xlabel() == "Crossline"
    assert ts.ax.get_ylabel() == "Inline"
    assert "200" in ts.ax.get_title()
    with pytest.raises(ValueError, match="outside"):
        plot_section(damaged, inline=5000)


def test_plot_section_arrays_and_axes(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    arr = np.random.default_rng(0).normal(size=(30, 80)).astype(np.float32)
    fig = Figure()
    ax = fig.add_subplot()
    result = plot_section(arr, ax=ax, dt_ms=2.0, title="array", colorbar=False)
    assert result.ax is ax
    assert result.figure is fig
    assert result.ax.get_title() == "array"
    assert result.ax.get_xlabel() == "Trace"
    assert max(result.ax.get_ylim()) == pytest.approx(159.0, abs=1.5)
    line = make_survey("2d", n_traces=40, n_samples=64)
    assert _is_png(Path(plot_section(line, path=tmp_path / "line.png").path or ""))


def test_plot_comparison_shares_one_clip(tmp_path: Path, volume: SeismicData, damaged: SeismicData) -> None:
    out = tmp_path / "cmp.png"
    result = plot_comparison(damaged, volume, path=out, percentile=98)
    assert _is_png(out)
    assert len(result.images) == 3
    clims = {im.get_clim() for im in result.images}
    assert clims == {(-result.clip, result.clip)}
    # the clip is the percentile of |input| over its live traces, inline 106
    i = 6
    live = damaged.trace_mask[i]
    expected = np.percentile(np.abs(damaged.values[i][live]), 98)
    assert result.clip == pytest.approx(expected)
    # the difference panel holds output - input
    diff = np.asarray(result.images[2].get_array())
    np.testing.assert_allclose(diff, (volume.values[i] - damaged.values[i]).T, atol=1e-6)


def test_plot_comparison_explicit(tmp_path: Path, volume: SeismicData) -> None:
    noisy = volume.replace(volume.values * 1.5)
    result = plot_comparison(volume, noisy, difference=noisy, clip=0.3, time=100.0, titles=("a", "b", "c"))
    assert result.clip == 0.3
    assert {im.get_clim() for im in result.images} == {(-0.3, 0.3)}
    assert result.axes[2].get_title().startswith("c")
    with pytest.raises(ValueError, match="shapes differ"):
        plot_comparison(volume, volume.values[:, :5])


def test_plot_mask(tmp_path: Path, damaged: SeismicData) -> None:
    out = tmp_path / "mask.png"
    result = plot_mask(damaged, path=out)
    assert _is_png(out)
    n = damaged.n_traces
    assert result.counts == {"live": round(0.65 * n), "missing": round(0.25 * n), "dead": round(0.1 * n)}
    plain = plot_mask(np.array([True, False, True, True]))
    assert plain.counts == {"live": 3, "missing": 1, "dead": 0}


def test_no_import_time_side_effects() -> None:
    """No matplotlib at import time, and no pyplot (global figure state, backend switch) when drawing."""
    code = (
        "import sys, promethium.plotting\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at import time'\n"
        "import numpy as np\n"
        "promethium.plotting.plot_section(np.ones((4, 8)))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
