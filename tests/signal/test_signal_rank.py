"""Rank reduction (drr, mssa, rank_denoise): quality on synthetics, equivalence with exact SVD, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import denoise, reconstruct
from promethium.signal.reconstruction.rank import drr_reconstruct, frequency_band

DT = 0.004


def _events(nx: int, nt: int, dips: list[tuple[float, float, float]], curvature: float = 0.0) -> np.ndarray:
    """Ricker events ``(t0 s, dip s/trace, amplitude)`` on ``nx`` traces (optionally hyperbolic)."""
    t = np.arange(nt) * DT
    x = np.arange(nx) - nx / 2
    out = np.zeros((nx, nt))
    f0 = 25.0
    for t0, p, amp in dips:
        tau = t0 + p * x[:, None] + curvature * x[:, None] ** 2
        arg = (np.pi * f0 * (t[None, :] - tau)) ** 2
        out += amp * (1 - 2 * arg) * np.exp(-arg)
    return out


def _snr(ref: np.ndarray, est: np.ndarray, sel: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref[sel] ** 2) / np.sum((ref[sel] - est[sel]) ** 2)))


@pytest.fixture(scope="module")
def section() -> np.ndarray:
    return _events(48, 200, [(0.2, 0.004, 1.0), (0.4, -0.003, 0.8), (0.6, 0.0015, 0.6)])


@pytest.fixture(scope="module")
def random_live() -> np.ndarray:
    live = np.random.default_rng(3).random(48) >= 0.5
    live[[0, -1]] = True
    return live


def test_drr_beats_linear_on_dipping_events(section: np.ndarray, random_live: np.ndarray) -> None:
    obs = section * random_live[:, None]
    lin = reconstruct(obs, "linear", mask=random_live, dt_ms=4.0)
    out = reconstruct(obs, "drr", mask=random_live, dt_ms=4.0)
    s_lin, s_drr = _snr(section, lin, ~random_live), _snr(section, out, ~random_live)
    assert s_drr > s_lin + 10.0
    assert s_drr > 15.0
    np.testing.assert_array_equal(out[random_live], section[random_live])
    assert np.isfinite(out).all()


def test_mssa_beats_linear(section: np.ndarray, random_live: np.ndarray) -> None:
    obs = section * random_live[:, None]
    lin = reconstruct(obs, "linear", mask=random_live, dt_ms=4.0)
    out = reconstruct(obs, "mssa", mask=random_live, dt_ms=4.0, rank=3)
    assert _snr(section, out, ~random_live) > _snr(section, lin, ~random_live) + 10.0


def test_randomized_svd_matches_exact(section: np.ndarray, random_live: np.ndarray) -> None:
    obs = section * random_live[:, None]
    fast = drr_reconstruct(obs, random_live, DT, rank=3, damping=3.0, n_iter=8)
    exact = drr_reconstruct(obs, random_live, DT, rank=3, damping=3.0, n_iter=8, svd="exact")
    # The warm-started subspace iteration reproduces the full SVD to within float32 rounding.
    assert _snr(exact, fast, np.ones(48, dtype=bool)) > 35.0


def test_drr_hyperbolic_events() -> None:
    d = _events(40, 160, [(0.15, 0.0, 1.0), (0.35, 0.0, 0.7)], curvature=0.0003)
    live = np.random.default_rng(5).random(40) >= 0.4
    live[[0, -1]] = True
    lin = reconstruct(d * live[:, None], "linear", mask=live, dt_ms=4.0)
    out = reconstruct(d * live[:, None], "drr", mask=live, dt_ms=4.0, window=(20, None))
    assert _snr(d, out, ~live) > _snr(d, lin, ~live) + 3.0


def test_drr_3d_fxy() -> None:
    nil, nxl, nt = 8, 16, 120
    t = np.arange(nt) * DT
    il, xl = np.meshgrid(np.arange(nil), np.arange(nxl), indexing="ij")
    cube = np.zeros((nil, nxl, nt))
    for t0, px, py, amp in [(0.15, 0.003, 0.002, 1.0), (0.3, -0.002, 0.003, 0.7)]:
        tau = t0 + px * il + py * xl
        arg = (np.pi * 25.0 * (t - tau[..., None])) ** 2
        cube += amp * (1 - 2 * arg) * np.exp(-arg)
    live = np.random.default_rng(7).random((nil, nxl)) >= 0.5
    obs = cube * live[..., None]
    lin = reconstruct(obs, "linear", mask=live, dt_ms=4.0)
    out = reconstruct(obs, "drr", mask=live, dt_ms=4.0, rank=2)
    assert out.shape == cube.shape
    assert _snr(cube, out, ~live) > _snr(cube, lin, ~live) + 5.0
    np.testing.assert_array_equal(out[live], cube[live])


def test_rank_denoise_raises_snr(section: np.ndarray) -> None:
    rng = np.random.default_rng(11)
    noisy = section + 0.5 * section.std() * rng.standard_normal(section.shape)
    out = denoise(noisy, "rank_denoise", dt_ms=4.0)
    every = np.ones(section.shape[0], dtype=bool)
    assert _snr(section, out, every) > _snr(section, noisy, every) + 6.0


def test_frequency_band_matches_pydrr_convention() -> None:
    nf, lo, hi = frequency_band(300, DT, 5.0, 60.0)
    assert (nf, lo, hi) == (512, 10, 122)
    assert frequency_band(300, DT, 0.0, None) == (512, 0, 256)


@pytest.mark.parametrize(
    ("param", "value"),
    [("rank", 0), ("rank", 2.5), ("damping", -1.0), ("n_iter", 0), ("weight_end", 1.5), ("svd", "lanczos")],
)
def test_bad_parameters(section: np.ndarray, random_live: np.ndarray, param: str, value: object) -> None:
    with pytest.raises(ParameterError, match=param) as info:
        reconstruct(section * random_live[:, None], "drr", mask=random_live, dt_ms=4.0, **{param: value})
    assert info.value.parameter == param


def test_band_above_nyquist_raises(section: np.ndarray, random_live: np.ndarray) -> None:
    with pytest.raises(ParameterError, match="high"):
        reconstruct(section * random_live[:, None], "drr", mask=random_live, dt_ms=4.0, high=200.0)
    with pytest.raises(ParameterError, match="high"):
        reconstruct(section * random_live[:, None], "drr", mask=random_live, dt_ms=4.0, low=30.0, high=20.0)
