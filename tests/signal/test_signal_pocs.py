"""POCS reconstruction (promethium.signal.reconstruction.pocs) on synthetic dipping events."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.io.data import SeismicData
from promethium.signal.reconstruction import reconstruct
from promethium.signal.reconstruction.pocs import pocs_fill, pocs_thresholds
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
    live[..., 0] = live[..., -1] = True  # no extrapolation at the ends
    return live


@pytest.fixture(scope="module")
def steep() -> tuple[np.ndarray, np.ndarray]:
    ref = dipping((64, 200), [(2.5,), (-1.5,), (0.3,)], [40.0, 150.0, 90.0])
    return ref, random_live((64,), 0.4)


def test_pocs_beats_linear_on_steep_dips(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    data = np.where(live[:, None], ref, 0.0)
    lin = reconstruct(data, "linear", mask=live, dt_ms=DT_MS)
    out = reconstruct(data, "pocs", mask=live, dt_ms=DT_MS, window=(None, None))
    assert isinstance(out, np.ndarray)
    s_lin, s_pocs = snr(ref[~live], lin[~live]), snr(ref[~live], out[~live])
    assert s_pocs > s_lin + 6.0, (s_pocs, s_lin)
    assert s_pocs > 12.0
    np.testing.assert_array_equal(out[live], data[live])


def test_pocs_default_windows_and_options(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    data = np.where(live[:, None], ref, 0.0)
    lin = snr(ref[~live], reconstruct(data, "linear", mask=live, dt_ms=DT_MS)[~live])
    for kw in ({}, {"threshold": "soft"}, {"schedule": "linear"}, {"init": "zero", "n_iter": 100}):
        out = reconstruct(data, "pocs", mask=live, dt_ms=DT_MS, **kw)
        assert snr(ref[~live], out[~live]) > lin + 3.0, kw
        np.testing.assert_array_equal(out[live], data[live])


def test_pocs_3d_fkk() -> None:
    ref = dipping((12, 16, 96), [(1.5, -1.0), (-0.5, 2.0)], [30.0, 60.0])
    live = random_live((12, 16), 0.5, seed=3)
    data = np.where(live[..., None], ref, 0.0)
    lin = reconstruct(data, "linear", mask=live, dt_ms=DT_MS)
    out = reconstruct(data, "pocs", mask=live, dt_ms=DT_MS)
    assert out.shape == ref.shape
    assert snr(ref[~live], out[~live]) > snr(ref[~live], lin[~live]) + 3.0
    np.testing.assert_array_equal(out[live], data[live])


def test_pocs_seismicdata_roundtrip_and_determinism(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    sd = SeismicData.from_array(np.where(live[:, None], ref, 0.0).astype(np.float32), sample_interval=DT_MS)
    sd = sd.replace(sd.values, trace_mask=live, operation="test", parameters={})
    a = reconstruct(sd, "pocs")
    b = reconstruct(sd, "pocs")
    assert isinstance(a, SeismicData)
    assert bool(np.asarray(a.trace_mask).all())
    np.testing.assert_array_equal(np.asarray(a.values), np.asarray(b.values))
    np.testing.assert_array_equal(np.asarray(a.values)[live], np.asarray(sd.values)[live])


def test_pocs_alpha_below_one_keeps_live_traces(steep: tuple[np.ndarray, np.ndarray]) -> None:
    ref, live = steep
    noisy = ref + 0.1 * np.random.default_rng(5).standard_normal(ref.shape)
    data = np.where(live[:, None], noisy, 0.0)
    out = reconstruct(data, "pocs", mask=live, dt_ms=DT_MS, alpha=0.5, threshold="soft")
    np.testing.assert_array_equal(out[live], data[live])
    assert np.isfinite(out).all()
    assert snr(ref[~live], out[~live]) > 5.0


def test_pocs_never_nan_on_zero_windows() -> None:
    data = np.zeros((40, 120))
    data[:3] = 1.0  # only a corner has signal; most windows are all zero
    live = np.ones(40, dtype=bool)
    live[5:30:2] = False
    out = reconstruct(data, "pocs", mask=live, dt_ms=DT_MS, window=(16, 64))
    assert np.isfinite(out).all()
    # Traces 21..29 lie only in all-zero windows (starts 12 and 24): they stay exactly zero.
    np.testing.assert_array_equal(out[21:30:2], 0.0)
    direct = pocs_fill(np.zeros((8, 32)), np.array([True, False] * 4))
    assert np.isfinite(direct).all()
    assert not direct.any()


def test_pocs_thresholds_schedule() -> None:
    t = pocs_thresholds(5, 0.5, 0.005, "exponential")
    np.testing.assert_allclose(t[[0, -1]], [0.5, 0.005])
    np.testing.assert_allclose(t[1:] / t[:-1], t[1] / t[0])
    lin = pocs_thresholds(5, 0.5, 0.1, "linear")
    np.testing.assert_allclose(np.diff(lin), -0.1)
    np.testing.assert_allclose(pocs_thresholds(1, 0.5, 0.01, "linear"), [0.01])


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_iter": 0}, "n_iter"),
        ({"n_iter": 2.5}, "n_iter"),
        ({"thresh_max": 1.5}, "thresh_max"),
        ({"thresh_min": 0.0}, "thresh_min"),
        ({"thresh_max": 0.1, "thresh_min": 0.2}, "thresh_min"),
        ({"schedule": "cubic"}, "schedule"),
        ({"threshold": "medium"}, "threshold"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.2}, "alpha"),
        ({"init": "cubic"}, "init"),
        ({"scale": "trace"}, "scale"),
        ({"pad": -0.1}, "pad"),
        ({"taper": "yes"}, "taper"),
        ({"n_iterations": 5}, "n_iterations"),
    ],
)
def test_pocs_bad_parameters(params: dict[str, object], name: str) -> None:
    data = np.ones((8, 32))
    live = np.array([True, False] * 4)
    with pytest.raises(ParameterError) as info:
        reconstruct(data, "pocs", mask=live, dt_ms=DT_MS, **params)
    assert name in str(info.value)
