"""Running a registered kernel over its windows: the one loop behind reconstruct, denoise and the
meta-methods (``blend``, ``fx_learned``) that call other methods."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from promethium.signal.reconstruction._registry import Method
from promethium.signal.reconstruction._windows import WindowPlan, apply_windowed, plan_windows

__all__ = ["run_kernel"]


def run_kernel(
    method: Method,
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    params: dict[str, object],
    *,
    sizes: Sequence[int | None] | None = None,
    overlaps: Sequence[int | float | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> tuple[np.ndarray, WindowPlan]:
    """``method``'s kernel over overlapping windows of ``values`` (missing traces zero), blended.

    ``sizes`` default to the method's own windows. Reconstruction: a window whose traces are all live
    passes through, and one with fewer than two live traces takes the whole-data linear fill (no method
    can work from less). A method's ``prepare`` runs once over the whole data first and its arrays
    (shaped like the data, or like its trace axes) reach each window's kernel sliced to the window; it
    counts for half of the progress reports (when it hands arrays on).
    Denoising: a window with fewer than two live traces passes through. The caller restores the traces
    it keeps exactly (live ones for reconstruction, dead ones for denoising).
    """
    if sizes is None:
        sizes = method.window_2d if values.ndim == 2 else method.window_3d
    names = ["trace", "time"] if values.ndim == 2 else ["inline", "crossline", "time"]
    plan = plan_windows(values.shape, list(sizes), None if overlaps is None else list(overlaps), names=names)
    reconstructing = method.kind == "reconstruct"
    prepared: dict[str, np.ndarray] = {}
    if reconstructing and method.prepare is not None:
        # The whole-data step counts as much as all the windows together in the progress reports
        # (for fx_pef it is about 40 % of the time): 0 of 2n before it, n of 2n after it. Where it
        # hands nothing on (it left the work to the windows), the reports go back to windows alone.
        n = plan.n_windows
        if progress is not None:
            progress(0, 2 * n)
        prepared = method.prepare(values, live, dt, params)
        if progress is not None and prepared:
            outer = progress
            outer(n, 2 * n)

            def progress(done: int, total: int) -> None:
                outer(n + done, n + total)

    fallback: list[np.ndarray] = []
    lock = threading.Lock()

    def run(win: np.ndarray, sl: tuple[slice, ...]) -> np.ndarray:
        wl = live[sl[:-1]]
        if reconstructing and wl.all():
            return win
        if int(wl.sum()) < 2:
            if not reconstructing:
                return win
            with lock:
                if not fallback:
                    from promethium.signal.reconstruction.baseline import linear_fill

                    fallback.append(linear_fill(values, live))
            return fallback[0][sl]
        # arrays over the trace axes only (masks) are cut by the window's trace slices
        cut = {k: a[sl] if a.ndim == values.ndim else a[sl[:-1]] for k, a in prepared.items()}
        return method.fn(win, wl, dt, **params, **cut)

    out = np.asarray(apply_windowed(values, plan, run, progress=progress, workers=workers), dtype=np.float64)
    return out, plan
