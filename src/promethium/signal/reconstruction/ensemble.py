"""``blend``: a cross-validated, per-frequency-band combination of several reconstruction methods.

No single classical method wins everywhere: dip steering is best on dipping, coherent events, POCS on
sparse f-k spectra (3D, random holes), linear interpolation on flat low frequencies, and every method
copies incoherent noise into the gaps at high frequencies. ``blend`` lets the data decide:

1. a fraction ``holdout`` of the live traces is hidden, chosen like the real gaps (the missing pattern
   moved onto live traces, several copies for sparse patterns such as one wide gap; see
   :func:`promethium.signal.reconstruction.dipsteer.holdout_mask`), and every candidate method
   reconstructs them from the remaining live traces;
2. per frequency band (``band_hz`` wide), non-negative weights ``w_k >= 0`` minimising
   ``sum |D - sum_k w_k C_k|^2`` over the held-out traces (``D`` the recorded spectra, ``C_k`` the
   candidates' predictions of them) are fitted by non-negative least squares. Each single candidate
   (a unit weight vector) is feasible, so on the held-out traces the blend is never worse than its
   best candidate, band by band; weights below one shrink bands that nothing predicts (noise);
3. the candidates are run again with all live traces and combined with those weights.

When the held-out traces cannot sit in gaps like the real ones (regular decimation: hiding live
traces widens the gaps, mean gap width over 1.5x the real one) the fit would be biased; the first
candidate (``dip`` by default) is returned alone. If the fitted combination is, after all, not
better than the best single candidate on the held-out traces (numerical ties), that candidate is
returned alone. Each candidate runs with its default
parameters and its own default windows (threads); the blend itself works on the whole window it is
given (default: the whole data). Deterministic for a given ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import nnls

from promethium.core.errors import ParameterError
from promethium.signal._base import check_range
from promethium.signal.masks import mean_gap
from promethium.signal.reconstruction._registry import Method, get_method
from promethium.signal.reconstruction._run import run_kernel
from promethium.signal.reconstruction.dipsteer import holdout_mask

__all__ = ["METHODS", "blend_fill", "fit_band_weights"]

_DEFAULTS: dict[str, Any] = {
    "methods": ("dip", "pocs", "linear"),
    "holdout": 0.25,
    "band_hz": 4.0,
    "seed": 0,
}


def _run_candidate(
    method: Method,
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    sizes: Sequence[int | None] | None = None,
) -> np.ndarray:
    """Reconstruction of ``values`` (missing traces zero) by one registered method with its default
    parameters and windows (or windows of ``sizes``), live traces restored exactly (as
    :func:`reconstruct` does)."""
    params = dict(method.params)
    if method.validate is not None:
        method.validate(params)
    out, _ = run_kernel(method, values, live, dt, params, sizes=sizes)
    out[live] = values[live]
    return out


def _bands(nt: int, dt: float, band_hz: float) -> np.ndarray:
    """Band index of every rfft bin of an ``nt``-sample trace at ``dt`` seconds (bands ``band_hz`` Hz
    wide, starting at 0 Hz)."""
    freqs = np.fft.rfftfreq(nt, dt)
    return np.floor(freqs / band_hz + 1e-9).astype(np.intp)


def fit_band_weights(
    ref: np.ndarray, preds: Sequence[np.ndarray], bands: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """Non-negative weights per band (``(n_bands, K)``) minimising the spectral misfit
    ``sum |R - sum_k w_k P_k|^2`` on held-out traces (``ref`` and every ``preds[k]``: ``(rows, nt)``).

    Returns the weights, the misfit energy of the weighted combination and that of each candidate alone
    (``(K,)``; same units as the squared spectra, summed over all bins and rows)."""
    spec_r = np.fft.rfft(ref, axis=-1)
    spec_p = [np.fft.rfft(p, axis=-1) for p in preds]
    k = len(preds)
    n_bands = int(bands.max()) + 1
    weights = np.zeros((n_bands, k))
    fit_err = 0.0
    single = np.zeros(k)
    for b in range(n_bands):
        sel = bands == b
        if not sel.any():
            continue
        r = spec_r[:, sel].ravel()
        rhs = np.concatenate([r.real, r.imag])
        mat = np.stack(
            [np.concatenate([s[:, sel].ravel().real, s[:, sel].ravel().imag]) for s in spec_p], axis=1
        )
        scale = float(np.abs(mat).max()) or 1.0
        w, _ = nnls(mat / scale, rhs / scale)
        errs = np.sum((rhs[:, None] - mat) ** 2, axis=0)
        err = float(np.sum((rhs - mat @ w) ** 2))
        best = int(np.argmin(errs))
        if err > errs[best]:
            w = np.zeros(k)
            w[best] = 1.0
            err = float(errs[best])
        weights[b] = w
        fit_err += err
        single += errs
    return weights, fit_err, single


def _combine(cands: Sequence[np.ndarray], weights: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """``sum_k w_k(band) C_k`` with the per-band weights, rows ``(rows, nt)``."""
    nt = cands[0].shape[-1]
    spec = np.zeros((cands[0].shape[0], bands.size), dtype=np.complex128)
    for k, c in enumerate(cands):
        spec += weights[bands, k][None, :] * np.fft.rfft(c, axis=-1)
    return np.fft.irfft(spec, n=nt, axis=-1)


def blend_fill(
    values: np.ndarray,
    live: np.ndarray,
    dt: float,
    *,
    methods: Sequence[str] = ("dip", "pocs", "linear"),
    holdout: float = 0.25,
    band_hz: float = 4.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the missing traces of ``values`` (``(trace, time)`` or ``(inline, crossline, time)``,
    missing traces zero; ``live`` bool over the trace axes; ``dt`` seconds) with the cross-validated
    per-band combination of ``methods`` (see the module docstring).

    Returns the filled array and the weights (``(n_bands, len(methods))``, band ``b`` covering
    ``[b, b+1) * band_hz`` Hz)."""
    cands = [get_method(name, "reconstruct") for name in methods]
    bands = _bands(values.shape[-1], dt, band_hz)
    miss = ~live
    k = len(cands)
    held = holdout_mask(live, holdout, seed)
    sub = live & ~held
    # Regular decimation cannot be copied onto live traces: held-out traces then sit in gaps wider than
    # the real ones and the fit would favour the wrong candidates; the first candidate is used instead.
    unrepresentative = mean_gap(sub) > 1.5 * mean_gap(~miss)
    if k == 1 or held.sum() < 2 or sub.sum() < 2 or unrepresentative:
        weights = np.zeros((int(bands.max()) + 1, k))
        weights[:, 0] = 1.0
        return _run_candidate(cands[0], values, live, dt), weights
    sub_values = np.where(sub[..., None], values, 0.0)
    cv = [_run_candidate(m, sub_values, sub, dt)[held] for m in cands]
    weights, fit_err, single = fit_band_weights(values[held], cv, bands)
    best = int(np.argmin(single))
    if not fit_err < single[best]:
        weights = np.zeros_like(weights)
        weights[:, best] = 1.0
    use = np.flatnonzero(weights.any(axis=0))
    full = {int(j): _run_candidate(cands[j], values, live, dt)[miss] for j in use}
    out = values.copy()
    if use.size == 1 and np.allclose(weights[:, use[0]], 1.0):
        out[miss] = full[int(use[0])]
    else:
        out[miss] = _combine([full[int(j)] for j in use], weights[:, use], bands)
    return out, weights


def _validate(p: dict[str, Any]) -> None:
    methods = p["methods"]
    if isinstance(methods, str):
        methods = (methods,)
    try:
        names = [str(m).strip().lower().replace("-", "_") for m in methods]
    except TypeError as exc:
        raise ParameterError("methods", f"must be a sequence of method names, got {methods!r}") from exc
    if not names:
        raise ParameterError("methods", "needs at least one method", allowed="e.g. ('dip', 'pocs', 'linear')")
    if "blend" in names:
        raise ParameterError("methods", "blend cannot blend itself")
    if len(set(names)) != len(names):
        raise ParameterError("methods", f"lists a method twice: {methods!r}")
    for name in names:
        try:
            get_method(name, "reconstruct")
        except ParameterError as exc:
            raise ParameterError("methods", f"{name!r}: {exc}") from exc
    p["methods"] = tuple(names)
    check_range("holdout", p["holdout"], low=0.05, high=0.5)
    check_range("band_hz", p["band_hz"], low=0.0, high=1e4, low_open=True)
    check_range("seed", p["seed"], low=0, high=2**32 - 1, integer=True)


def _blend(values: np.ndarray, live: np.ndarray, dt: float, **params: Any) -> np.ndarray:
    out, _ = blend_fill(
        values,
        live,
        dt,
        methods=tuple(params["methods"]),
        holdout=float(params["holdout"]),
        band_hz=float(params["band_hz"]),
        seed=int(params["seed"]),
    )
    return out


METHODS = [
    Method(
        name="blend",
        kind="reconstruct",
        fn=_blend,
        description="per-band non-negative least-squares blend of several methods, fitted on held-out traces",
        params=dict(_DEFAULTS),
        window_2d=(None, None),
        window_3d=(None, None, None),
        needs_dt=False,
        validate=_validate,
    )
]
