"""Comparison figures of a job's result: input, output and difference with one symmetric clip.

Drawn on first request from the dataset's processed Zarr and the job's output Zarr (one section: a 2D
line up to ``max_traces`` traces, the middle inline of a volume), then kept beside the output as
``results/{job_id}/figures/comparison.png`` (removed with the job's outputs). Only for jobs whose output
is the input section processed (reconstruct, denoise, preprocess...): other outputs have another shape.
"""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING

import numpy as np

from promethium.api.errors import ConflictError
from promethium.api.storage import ObjectStorage, dataset_key, result_key

if TYPE_CHECKING:
    from promethium.io.data import SeismicData

__all__ = ["FIGURE", "render_comparison"]

FIGURE = "figures/comparison.png"
PROCESSED = "processed/data.zarr"


def _section(storage: ObjectStorage, url: str, max_traces: int) -> tuple[tuple[int, ...], float, SeismicData]:
    from promethium import io as pio

    with pio.open(url, storage_options=storage.storage_options or None) as f:
        shape = tuple(int(n) for n in getattr(f, "shape", (f.n_traces, f.n_samples)))
        if len(shape) == 3:  # the middle inline of a volume
            start = (shape[0] // 2) * shape[1]
            window = slice(start, start + shape[1])
        else:
            window = slice(0, min(f.n_traces, max_traces))
        data: SeismicData = f.read_window(window, headers=False)  # type: ignore[attr-defined]
        return shape, float(f.sample_interval), data


def render_comparison(
    storage: ObjectStorage,
    job_id: uuid.UUID,
    dataset_id: uuid.UUID,
    output_key: str,
    *,
    title: str = "",
    max_traces: int = 1500,
) -> bytes:
    """PNG of input / output / difference of one section, same clip on every panel (cached in storage)."""
    from promethium.io.data import SeismicData
    from promethium.plotting import plot_comparison

    cached = result_key(job_id, FIGURE)
    if storage.exists(cached):
        return storage.get_bytes(cached)
    in_shape, dt, before = _section(storage, storage.url(dataset_key(dataset_id, PROCESSED)), max_traces)
    out_shape, _, after = _section(storage, storage.url(output_key), max_traces)
    if in_shape != out_shape:
        raise ConflictError(
            "this job's output is not a processed copy of its input section: no comparison figure",
            details={"input_shape": list(in_shape), "output_shape": list(out_shape)},
        )
    a = np.asarray(before.values, dtype=np.float32).reshape(-1, before.n_samples)
    b = np.asarray(after.values, dtype=np.float32).reshape(-1, after.n_samples)
    live = np.asarray(before.trace_mask, dtype=bool).reshape(-1)
    step = max(1, a.shape[0] // max_traces)
    first = SeismicData.from_array(a[::step], sample_interval=dt).replace(a[::step], trace_mask=live[::step])
    second = SeismicData.from_array(b[::step], sample_interval=dt)
    plot = plot_comparison(
        first,
        second,
        titles=("Input", "Result", "Difference (result − input)"),
        suptitle=title or None,
        figsize=(12.0, 5.0),
        dpi=80,
    )
    buf = io.BytesIO()
    plot.figure.savefig(buf, format="png", dpi=80)
    plot.figure.clear()
    png = buf.getvalue()
    storage.put_bytes(cached, png)
    return png
