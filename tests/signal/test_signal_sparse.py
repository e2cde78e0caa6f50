"""FISTA sparse-inversion reconstruction with pylops (promethium.signal.reconstruction.sparse)."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import reconstruct
from promethium.signal.reconstruction.sparse import fista_fill, fista_peer
from promethium.synthetic import ricker

DT_MS = 4.0


def dipping(shape: tuple[int, ...], dips: list[tuple[float, ...]], t0: list[float]) -> np.ndarray:
    """Plane-wave events (25 Hz Ricker): ``dips`` in samples per trace along each trace axis."""
    nt = shape[-1]
    _, w = ricker(25.0, DT_MS)
    freqs = np.fft.rfftfreq(nt)
    spec_w = np.fft.rfft(w, nt) * np.exp(2j * np.pi * freqs * (w.size // 2))
    grids = np.meshgrid(*[np.arange(n) for n in shape[:-1]], indexing="ij")
    out = np.zeros(shape)
    for dip, t in zip(dips, t0, strict=True):
        delay = t + sum(d * g for d, g in zip(dip, grids, strict=True))
        out += np.fft.irfft(spec_w * np.exp(-2j * np.pi * freqs * delay[..., None]), nt)
    return out


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10((ref**2).sum() / ((ref - est) ** 2).sum()))


def random_live(shape: tuple[int, ...], fraction_missing: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    live = np.ones(int(np.prod(shape)), dtype=bool)
    live[rng.choice(live.size, round(fraction_missing * live.size), replace=False)] = False
    live = live.reshape(shape)
    live[..., 0] = live[..., -1] = True
    return live


@pytest.fixture(scope="module")
def steep() -> tuple[np.ndarray, np.ndarray]:
    ref = dipping((64, 160), [(2.5,), (-1.5,), (0.3,)], [30.0, 120.0, 70.0])
    return ref, random_live((64,), 0.4)


def test_fista_beats_linear_on_steep_dips(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    data = np.where(live[:, None], ref, 0.0)
    lin = reconstruct(data, "linear", mask=live, dt_ms=DT_MS)
    out = reconstruct(data, "fista", mask=live, dt_ms=DT_MS)
    s_lin, s_fista = snr(ref[~live], lin[~live]), snr(ref[~live], out[~live])
    assert s_fista > s_lin + 6.0, (s_fista, s_lin)
    np.testing.assert_array_equal(out[live], data[live])
    assert out.dtype == np.float64


def test_fista_deterministic_and_scale_free(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    data = np.where(live[:, None], ref, 0.0)
    a = fista_fill(data, live, niter=15)
    b = fista_fill(data, live, niter=15)
    np.testing.assert_array_equal(a, b)
    big = fista_fill(1e4 * data, live, niter=15)
    np.testing.assert_allclose(big, 1e4 * a, rtol=1e-3, atol=1e-3 * 1e4 * np.abs(a).max())


def test_fista_without_continuation_still_works(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    data = np.where(live[:, None], ref, 0.0)
    out = reconstruct(data, "fista", mask=live, dt_ms=DT_MS, continuation=False, niter=60, eps=0.02)
    lin = reconstruct(data, "linear", mask=live, dt_ms=DT_MS)
    assert snr(ref[~live], out[~live]) > snr(ref[~live], lin[~live])


def test_fista_3d() -> None:
    ref = dipping((10, 12, 80), [(1.5, -1.0), (-0.5, 2.0)], [25.0, 50.0])
    live = random_live((10, 12), 0.5, seed=3)
    data = np.where(live[..., None], ref, 0.0)
    lin = reconstruct(data, "linear", mask=live, dt_ms=DT_MS)
    out = reconstruct(data, "fista", mask=live, dt_ms=DT_MS)
    assert snr(ref[~live], out[~live]) > snr(ref[~live], lin[~live]) + 3.0
    np.testing.assert_array_equal(out[live], data[live])


def test_fista_zero_window_is_finite() -> None:
    live = np.array([True, False, True, True, False, True])
    out = fista_fill(np.zeros((6, 40)), live)
    assert np.isfinite(out).all()
    assert not out.any()
    res = reconstruct(np.zeros((6, 40)), "fista", mask=live, dt_ms=DT_MS)
    assert np.isfinite(res).all()


def test_fista_peer_2d_and_3d(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    data = np.where(live[:, None], ref, 0.0)
    out = fista_peer(data, live, 0.004, niter=20)
    np.testing.assert_array_equal(out[live], data[live])
    assert np.isfinite(out).all()
    assert snr(ref[~live], out[~live]) > 0.0
    ref3 = dipping((6, 8, 40), [(1.0, 0.5)], [15.0])
    live3 = random_live((6, 8), 0.4, seed=2)
    out3 = fista_peer(np.where(live3[..., None], ref3, 0.0), live3, 0.004, niter=10)
    np.testing.assert_array_equal(out3[live3], ref3[live3])
    assert np.isfinite(out3).all()


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"niter": 0}, "niter"),
        ({"niter": 3.5}, "niter"),
        ({"eps": 0.0}, "eps"),
        ({"eps": 2.0}, "eps"),
        ({"thresh_max": -1.0}, "thresh_max"),
        ({"pad": 5.0}, "pad"),
        ({"continuation": 1}, "continuation"),
        ({"init": "cubic"}, "init"),
        ({"lambda_": 0.1}, "lambda_"),
    ],
)
def test_fista_bad_parameters(params: dict[str, object], name: str) -> None:
    with pytest.raises(ParameterError) as info:
        reconstruct(np.ones((8, 32)), "fista", mask=np.array([True, False] * 4), dt_ms=DT_MS, **params)
    assert name in str(info.value)
