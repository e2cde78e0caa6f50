"""Learned per-frequency interpolator: method ``fx_learned`` of ``reconstruct``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import list_methods, reconstruct
from promethium.signal.reconstruction.learned import _windows


def _plane_waves(
    nx: int, nt: int, slopes: tuple[float, ...], seed: int = 0, noise: float = 0.0
) -> np.ndarray:
    """Sum of plane waves (slopes in samples per trace), band-limited around 25 Hz at 4 ms, plus white
    noise of ``noise`` times the signal's standard deviation."""
    rng = np.random.default_rng(seed)
    f = np.fft.rfftfreq(3 * nt, 0.004)
    x = np.arange(nx)[:, None] - nx / 2
    out = np.zeros((nx, nt))
    for p in slopes:
        spec = (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)) * np.exp(
            -(((f - 25) / 12) ** 2)
        )
        shifted = np.fft.irfft(
            spec[None, :] * np.exp(-2j * np.pi * np.fft.rfftfreq(3 * nt) * p * x), n=3 * nt
        )
        out += shifted[:, nt : 2 * nt]
    return out + noise * out.std() * rng.standard_normal(out.shape)


def _snr(ref: np.ndarray, est: np.ndarray, live: np.ndarray) -> float:
    r, e = ref[~live], est[~live]
    return float(10 * np.log10(np.sum(r**2) / np.sum((r - e) ** 2)))


def _run(data: np.ndarray, live: np.ndarray, method: str, **kw: Any) -> np.ndarray:
    return np.asarray(reconstruct(np.where(live[..., None], data, 0.0), method, mask=live, dt_ms=4.0, **kw))


def test_registered() -> None:
    assert "fx_learned" in list_methods("reconstruct")


def test_windows_partition_of_unity() -> None:
    for nt, w in ((300, 64), (256, 256), (100, 256), (1501, 256)):
        starts, length, tapers = _windows(nt, w)
        total = np.zeros(nt)
        for s, t in zip(starts, tapers, strict=True):
            total[s : s + length] += t
        np.testing.assert_allclose(total, 1.0, atol=1e-12)


@pytest.mark.parametrize("noise", [0.1, 0.6])
def test_beats_linear_matches_candidates_live_exact(noise: float) -> None:
    d = _plane_waves(48, 256, (1.5, -0.5), seed=1, noise=noise)
    live = np.random.default_rng(2).random(48) > 0.5
    snrs = {m: _snr(d, _run(d, live, m), live) for m in ("dip", "linear", "blend")}
    out = _run(d, live, "fx_learned")
    got = _snr(d, out, live)
    assert got >= max(snrs["dip"], snrs["linear"]) - 0.3, (got, snrs)
    assert got >= snrs["blend"] - 0.5, (got, snrs)
    assert got > snrs["linear"] + (3.0 if noise < 0.3 else 0.5), (got, snrs)
    assert not np.array_equal(out, _run(d, live, "dip"))  # learned, not the fallback
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], d[live])
    np.testing.assert_array_equal(out, _run(d, live, "fx_learned"))  # deterministic


def test_shrinks_pure_noise() -> None:
    """Nothing predicts white noise: the learned weights shrink towards zero, far better than linear."""
    d = np.random.default_rng(3).standard_normal((64, 256))
    live = np.random.default_rng(4).random(64) > 0.5
    got = _snr(d, _run(d, live, "fx_learned"), live)
    assert got > -0.5, got
    assert got > _snr(d, _run(d, live, "linear"), live) + 1.0


def test_gap_beats_linear() -> None:
    d = _plane_waves(64, 128, (1.2,), seed=3)
    live = np.ones(64, dtype=bool)
    live[27:37] = False
    lin = _snr(d, _run(d, live, "linear"), live)
    got = _snr(d, _run(d, live, "fx_learned"), live)
    assert got > lin + 6.0, (lin, got)


def test_regular_decimation_falls_back_to_dip() -> None:
    d = _plane_waves(400, 32, (0.8,), seed=4, noise=0.1)
    live = np.zeros(400, dtype=bool)
    live[::2] = True
    np.testing.assert_array_equal(_run(d, live, "fx_learned"), _run(d, live, "dip"))


def test_3d_and_options() -> None:
    ni, nc, nt = 6, 16, 96
    il, xl = np.meshgrid(np.arange(ni), np.arange(nc), indexing="ij")
    base = _plane_waves(1, 3 * nt, (0.0,), seed=6)[0]
    f = np.fft.rfftfreq(base.size)
    d = np.fft.irfft(
        np.fft.rfft(base) * np.exp(-2j * np.pi * f * (0.7 * il - 1.1 * xl)[..., None]), n=base.size
    )[..., nt : 2 * nt]
    live = np.random.default_rng(7).random((ni, nc)) > 0.5
    lin = _snr(d, _run(d, live, "linear"), live)
    for kw in ({}, {"neighbours": 1, "complex_weights": True, "repeats": 2, "denoise": (), "extra": ()}):
        out = _run(d, live, "fx_learned", **kw)
        assert out.shape == d.shape
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out[live], d[live])
        assert _snr(d, out, live) > lin, kw


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("neighbours", -1),
        ("neighbours", 1.5),
        ("time_window", 4),
        ("smooth_bins", -1.0),
        ("pool", -0.1),
        ("ridge", 0.0),
        ("holdout", 0.9),
        ("repeats", 0),
        ("complex_weights", "yes"),
        ("denoise", ("linear",)),
        ("denoise", 3),
        ("extra", ("dip",)),
        ("extra", ("nope",)),
        ("extra", ("pocs", "pocs")),
        ("seed", -1),
    ],
)
def test_bad_parameters(name: str, value: Any) -> None:
    d = _plane_waves(16, 64, (0.0,))
    live = np.ones(16, dtype=bool)
    live[5] = False
    with pytest.raises(ParameterError, match=name):
        reconstruct(d, "fx_learned", mask=live, **{name: value})
