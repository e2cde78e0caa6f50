"""f-x prediction interpolation (fx_predict, dealiased) and f-x deconvolution (fx_decon)."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import denoise, reconstruct
from promethium.signal.reconstruction.fxpredict import fx_predict, prediction_filters

DT = 0.004


def _events(shape: tuple[int, ...], dips: list[tuple[float, float, float]], f0: float = 30.0) -> np.ndarray:
    """Linear Ricker events ``(t0 s, dip s/trace along the last trace axis, amplitude)``."""
    *tr, nt = shape
    t = np.arange(nt) * DT
    x = np.arange(tr[-1], dtype=float)
    out = np.zeros(shape)
    for t0, p, amp in dips:
        tau = t0 + p * x
        arg = (np.pi * f0 * (t - tau[:, None])) ** 2
        out += amp * (1 - 2 * arg) * np.exp(-arg)
    return out


def _snr(ref: np.ndarray, est: np.ndarray, sel: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref[sel] ** 2) / np.sum((ref[sel] - est[sel]) ** 2)))


@pytest.fixture(scope="module")
def aliased() -> np.ndarray:
    # 12 ms/trace at 30 Hz peak: aliased once every other trace is removed (24 ms > half a period).
    return _events((64, 256), [(0.3, 0.012, 1.0), (0.5, -0.008, 0.7), (0.7, 0.003, 0.5)])


def test_fx_predict_recovers_aliased_decimation(aliased: np.ndarray) -> None:
    live = np.zeros(64, dtype=bool)
    live[::2] = True
    obs = aliased * live[:, None]
    lin = reconstruct(obs, "linear", mask=live, dt_ms=4.0)
    out = reconstruct(obs, "fx_predict", mask=live, dt_ms=4.0)
    s_lin, s_fx = _snr(aliased, lin, ~live), _snr(aliased, out, ~live)
    assert s_lin < 0.0  # linear interpolation fails on the aliased dips
    assert s_fx > 12.0
    assert s_fx > s_lin + 12.0
    np.testing.assert_array_equal(out[live], aliased[live])
    assert np.isfinite(out).all()


def test_fx_predict_extra_dead_trace_in_decimation(aliased: np.ndarray) -> None:
    live = np.zeros(64, dtype=bool)
    live[::2] = True
    live[20] = False  # a dead trace among the recorded ones: one more unknown of the same solve
    out = reconstruct(aliased * live[:, None], "fx_predict", mask=live, dt_ms=4.0)
    assert _snr(aliased, out, ~live) > 8.0


def test_fx_predict_fills_a_gap() -> None:
    d = _events((48, 200), [(0.25, 0.004, 1.0), (0.5, -0.002, 0.6)])
    live = np.ones(48, dtype=bool)
    live[20:30] = False
    lin = reconstruct(d * live[:, None], "linear", mask=live, dt_ms=4.0)
    out = reconstruct(d * live[:, None], "fx_predict", mask=live, dt_ms=4.0)
    assert _snr(d, out, ~live) > _snr(d, lin, ~live) + 10.0


def test_fx_predict_3d_crossline_decimation() -> None:
    cube = np.stack(
        [_events((32, 160), [(0.2 + 0.01 * i, 0.012, 1.0), (0.45, -0.006, 0.6)]) for i in range(4)]
    )
    live = np.zeros((4, 32), dtype=bool)
    live[:, ::2] = True
    lin = reconstruct(cube * live[..., None], "linear", mask=live, dt_ms=4.0)
    out = reconstruct(cube * live[..., None], "fx_predict", mask=live, dt_ms=4.0)
    assert _snr(cube, out, ~live) > _snr(cube, lin, ~live) + 10.0


def test_fx_predict_irregular_policy(aliased: np.ndarray) -> None:
    live = np.zeros(64, dtype=bool)
    live[[0, 3, 4, 9, 11, 16, 17, 22, 27, 29, 33, 38, 40, 45, 47, 52, 55, 58, 63]] = True  # no runs of 5
    obs = aliased * live[:, None]
    with pytest.raises(ParameterError, match="irregular"):
        fx_predict(obs, live, DT, irregular="raise")
    lin = fx_predict(obs, live, DT, irregular="linear")
    np.testing.assert_allclose(lin, reconstruct(obs, "linear", mask=live, dt_ms=4.0))
    out = fx_predict(obs, live, DT)  # default: rank reduction
    assert np.isfinite(out).all()


def test_prediction_filter_of_a_plane_wave() -> None:
    z = np.exp(1j * 0.7 * np.arange(20))
    a, n_eq = prediction_filters(z[None], np.ones(20, dtype=bool), order=1, prewhiten=0.0)
    np.testing.assert_allclose(a[0, 0], np.exp(1j * 0.7), rtol=1e-6)
    assert int(n_eq[0]) == 38


def test_fx_decon_raises_snr() -> None:
    d = _events((48, 256), [(0.3, 0.004, 1.0), (0.6, -0.003, 0.8)], f0=20.0)
    rng = np.random.default_rng(4)
    noisy = d + 0.5 * d.std() * rng.standard_normal(d.shape)
    every = np.ones(48, dtype=bool)
    out = denoise(noisy, "fx_decon", dt_ms=4.0, high=60.0)
    assert _snr(d, out, every) > _snr(d, noisy, every) + 6.0


def test_fx_decon_3d_and_dead_traces_stay_dead() -> None:
    cube = np.stack([_events((20, 128), [(0.2, 0.004, 1.0)], f0=20.0) for _ in range(6)])
    noisy = cube + 0.3 * cube.std() * np.random.default_rng(2).standard_normal(cube.shape)
    from promethium.io.data import SeismicData

    data = SeismicData.from_array(noisy.astype(np.float32), sample_interval=4.0)
    out = denoise(data, "fx_decon", high=60.0)
    assert np.asarray(out.values).shape == cube.shape
    every = np.ones((6, 20), dtype=bool)
    assert _snr(cube, np.asarray(out.values), every) > _snr(cube, noisy, every) + 3.0


@pytest.mark.parametrize(
    ("method", "param", "value"),
    [
        ("fx_predict", "order", 0),
        ("fx_predict", "prewhiten", -0.1),
        ("fx_predict", "irregular", "guess"),
        ("fx_predict", "blend", -1.0),
        ("fx_predict", "high", 500.0),
        ("fx_decon", "order", 2.5),
        ("fx_decon", "low", -1.0),
    ],
)
def test_bad_parameters(aliased: np.ndarray, method: str, param: str, value: object) -> None:
    live = np.zeros(64, dtype=bool)
    live[::2] = True
    if method == "fx_predict":
        with pytest.raises(ParameterError, match=param) as info:
            reconstruct(aliased * live[:, None], method, mask=live, dt_ms=4.0, **{param: value})
    else:
        with pytest.raises(ParameterError, match=param) as info:
            denoise(aliased, method, dt_ms=4.0, **{param: value})
    assert info.value.parameter == param
