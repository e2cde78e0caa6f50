"""Baselines of trace reconstruction: the band-limited sinc interpolation (linear and nearest are
exercised through it as references)."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import reconstruct
from promethium.signal.reconstruction.baseline import linear_fill, sinc_fill, sinc_weights

DT_MS = 4.0


def smooth_section(n_traces: int = 80, nt: int = 64) -> np.ndarray:
    """Band-limited across traces (wavenumbers well below Nyquist): what sinc interpolation assumes."""
    x = np.arange(n_traces)[:, None]
    t = np.arange(nt)[None, :]
    return np.cos(2 * np.pi * 0.11 * x + 0.2 * t) + 0.5 * np.sin(2 * np.pi * 0.07 * x - 0.1 * t + 1.0)


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10((ref**2).sum() / ((ref - est) ** 2).sum()))


def test_sinc_weights_regular_decimation_are_the_half_sample_sinc() -> None:
    live = np.zeros(21, dtype=bool)
    live[::2] = True
    idx, miss, w = sinc_weights(live, lobes=3)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    row = w[list(miss).index(11)]
    # Neighbours at distances 1 (two sides) carry the largest, equal weights; distances 3 are negative.
    assert row[list(idx).index(10)] == pytest.approx(row[list(idx).index(12)])
    assert row[list(idx).index(8)] < 0
    assert row[list(idx).index(10)] > 0.5


def test_sinc_beats_linear_on_band_limited_data() -> None:
    ref = smooth_section()
    live = np.ones(80, dtype=bool)
    live[1:-1:2] = False
    data = np.where(live[:, None], ref, 0.0)
    out = reconstruct(data, "sinc", mask=live, dt_ms=DT_MS)
    lin = linear_fill(data, live)
    assert snr(ref[~live], out[~live]) > snr(ref[~live], lin[~live]) + 6.0
    np.testing.assert_array_equal(out[live], data[live])


def test_sinc_random_gaps_and_contiguous_gap() -> None:
    ref = smooth_section()
    live = np.random.default_rng(1).random(80) > 0.35
    live[[0, -1]] = True
    data = np.where(live[:, None], ref, 0.0)
    out = sinc_fill(data, live)
    # Irregular sampling is not what a sinc is exact for: it stays on par with linear interpolation.
    assert snr(ref[~live], out[~live]) > snr(ref[~live], linear_fill(data, live)[~live]) - 1.0
    live[40:50] = False  # one contiguous 10-trace gap: the kernel widens to the gap
    data = np.where(live[:, None], ref, 0.0)
    out = sinc_fill(data, live)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], data[live])
    assert np.abs(out[40:50]).max() <= 2.0 * np.abs(ref).max()


def test_sinc_3d_along_crossline_with_fallback() -> None:
    ref = np.stack([smooth_section(40, 32) * (1 + 0.1 * i) for i in range(4)])
    live = np.ones((4, 40), dtype=bool)
    live[:, 1:-1:2] = False
    live[2] = False  # a whole inline missing: the sinc has nothing on it, linear (Delaunay) takes over
    live[2, 0] = True
    data = np.where(live[..., None], ref, 0.0)
    out = reconstruct(data, "sinc", mask=live, dt_ms=DT_MS)
    assert out.shape == ref.shape
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], data[live])
    good = ~live
    good[2] = False
    lin = linear_fill(data, live)
    assert snr(ref[good], out[good]) > snr(ref[good], lin[good]) + 6.0
    np.testing.assert_allclose(out[2, 1:], linear_fill(data, live)[2, 1:])


def test_sinc_deterministic_and_edges() -> None:
    ref = smooth_section(30, 16)
    live = np.zeros(30, dtype=bool)
    live[10:20] = True  # missing at both ends: one-sided spacing
    data = np.where(live[:, None], ref, 0.0)
    a = sinc_fill(data, live)
    np.testing.assert_array_equal(a, sinc_fill(data, live))
    assert np.isfinite(a).all()


@pytest.mark.parametrize("lobes", [0, 2.5, 40])
def test_sinc_bad_lobes(lobes: float) -> None:
    with pytest.raises(ParameterError) as info:
        reconstruct(np.ones((6, 8)), "sinc", mask=np.array([True, False] * 3), dt_ms=DT_MS, lobes=lobes)
    assert "lobes" in str(info.value)
