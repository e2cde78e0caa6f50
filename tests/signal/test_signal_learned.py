"""Learned per-frequency interpolator: method ``fx_learned`` of ``reconstruct``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import learned, list_methods, reconstruct
from promethium.signal.reconstruction._windows import hann_partition
from promethium.signal.reconstruction.learned import _lateral
from recon_helpers import plane_waves, run_method, snr_hidden


def test_registered() -> None:
    assert "fx_learned" in list_methods("reconstruct")


def test_windows_partition_of_unity() -> None:
    for nt, w in ((300, 64), (256, 256), (100, 256), (1501, 256)):
        starts, length, tapers = hann_partition(nt, w)
        total = np.zeros(nt)
        for s, t in zip(starts, tapers, strict=True):
            total[s : s + length] += t
        np.testing.assert_allclose(total, 1.0, atol=1e-12)


@pytest.mark.parametrize("noise", [0.1, 0.6])
def test_beats_linear_matches_candidates_live_exact(noise: float) -> None:
    d = plane_waves(48, 256, (1.5, -0.5), seed=1, noise=noise)
    live = np.random.default_rng(2).random(48) > 0.5
    snrs = {m: snr_hidden(d, run_method(d, live, m), live) for m in ("dip", "linear", "blend")}
    out = run_method(d, live, "fx_learned")
    got = snr_hidden(d, out, live)
    assert got >= max(snrs["dip"], snrs["linear"]) - 0.3, (got, snrs)
    assert got >= snrs["blend"] - 0.5, (got, snrs)
    assert got > snrs["linear"] + (3.0 if noise < 0.3 else 0.5), (got, snrs)
    assert not np.array_equal(out, run_method(d, live, "dip"))  # learned, not the fallback
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], d[live])
    np.testing.assert_array_equal(out, run_method(d, live, "fx_learned"))  # deterministic


def test_shrinks_pure_noise() -> None:
    """Nothing predicts white noise: the learned weights shrink towards zero, far better than linear."""
    d = np.random.default_rng(3).standard_normal((64, 256))
    live = np.random.default_rng(4).random(64) > 0.5
    got = snr_hidden(d, run_method(d, live, "fx_learned"), live)
    assert got > -0.5, got
    assert got > snr_hidden(d, run_method(d, live, "linear"), live) + 1.0


def test_gap_beats_linear() -> None:
    d = plane_waves(64, 128, (1.2,), seed=3)
    live = np.ones(64, dtype=bool)
    live[27:37] = False
    lin = snr_hidden(d, run_method(d, live, "linear"), live)
    got = snr_hidden(d, run_method(d, live, "fx_learned"), live)
    assert got > lin + 6.0, (lin, got)


def test_regular_decimation_falls_back_to_dip() -> None:
    d = plane_waves(400, 32, (0.8,), seed=4, noise=0.1)
    live = np.zeros(400, dtype=bool)
    live[::2] = True
    np.testing.assert_array_equal(run_method(d, live, "fx_learned"), run_method(d, live, "dip"))


def test_3d_and_options() -> None:
    ni, nc, nt = 6, 16, 96
    il, xl = np.meshgrid(np.arange(ni), np.arange(nc), indexing="ij")
    base = plane_waves(1, 3 * nt, (0.0,), seed=6)[0]
    f = np.fft.rfftfreq(base.size)
    d = np.fft.irfft(
        np.fft.rfft(base) * np.exp(-2j * np.pi * f * (0.7 * il - 1.1 * xl)[..., None]), n=base.size
    )[..., nt : 2 * nt]
    live = np.random.default_rng(7).random((ni, nc)) > 0.5
    lin = snr_hidden(d, run_method(d, live, "linear"), live)
    for kw in ({}, {"neighbours": 1, "complex_weights": True, "repeats": 2, "denoise": (), "extra": ()}):
        out = run_method(d, live, "fx_learned", **kw)
        assert out.shape == d.shape
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out[live], d[live])
        assert snr_hidden(d, out, live) > lin, kw


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
        ("trace_window", 4),
        ("trace_window", 2.5),
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
    d = plane_waves(16, 64, (0.0,))
    live = np.ones(16, dtype=bool)
    live[5] = False
    with pytest.raises(ParameterError, match=name):
        reconstruct(d, "fx_learned", mask=live, **{name: value})


def test_lateral_windows_partition_of_unity() -> None:
    for n, w in ((534, 256), (220, 64), (100, 100), (100, None), (50, 200)):
        lat = _lateral(n, w)
        np.testing.assert_allclose(lat.sum(axis=0), 1.0, atol=1e-12)
        assert (lat >= 0).all()
    assert _lateral(534, 256).shape[0] == 4  # starts 0, 128, 256 and 278 (the last one flush)
    assert _lateral(100, None).shape[0] == 1


def test_trace_window_adapts_to_lateral_change() -> None:
    """A line whose left half is clean and whose right half is noisy: one set of weights for the whole
    line under-trusts the neighbours on the clean side; weights per lateral window (pooled with the whole
    line) fill the clean side better and lose nothing on the whole; a window as long as the line is the
    whole-line fit exactly."""
    n = 240
    clean = plane_waves(n, 256, (1.0, -0.4), seed=11)
    noise = np.random.default_rng(12).standard_normal(clean.shape) * 1.5 * clean.std()
    d = clean + noise * (np.arange(n) >= n // 2)[:, None]
    live = np.random.default_rng(13).random(n) > 0.5
    left = np.arange(n) < n // 2
    whole = run_method(d, live, "fx_learned")
    local = run_method(d, live, "fx_learned", trace_window=80)
    side = live | ~left  # SNR over the hidden traces of the clean half
    assert snr_hidden(d, local, side) > snr_hidden(d, whole, side) + 0.3, (
        snr_hidden(d, local, side),
        snr_hidden(d, whole, side),
    )
    assert snr_hidden(d, local, live) > snr_hidden(d, whole, live) - 0.1
    np.testing.assert_array_equal(local[live], d[live])
    np.testing.assert_array_equal(run_method(d, live, "fx_learned", trace_window=n), whole)


def test_auto_extra_candidates() -> None:
    """``extra="auto"``: rank reduction in 2D, POCS and rank reduction in 3D."""
    d = plane_waves(48, 128, (1.5, -0.5), seed=1, noise=0.3)
    live = np.random.default_rng(2).random(48) > 0.5
    auto = run_method(d, live, "fx_learned")
    np.testing.assert_array_equal(auto, run_method(d, live, "fx_learned", extra=("drr",)))
    assert not np.array_equal(auto, run_method(d, live, "fx_learned", extra=()))
    cube = np.stack([plane_waves(16, 64, (0.5,), seed=s, noise=0.2) for s in range(4)])
    live3 = np.random.default_rng(3).random((4, 16)) > 0.5
    np.testing.assert_array_equal(
        run_method(cube, live3, "fx_learned"), run_method(cube, live3, "fx_learned", extra=("pocs", "drr"))
    )


def test_unusable_holdout_set_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``repeats``, a held-out set that cannot sit in gaps like the real ones is left out of the fit
    instead of sending the whole run to the ``dip`` fallback."""
    d = plane_waves(120, 128, (1.0,), seed=5, noise=0.2)
    live = np.random.default_rng(6).random(120) > 0.5
    real = learned.holdout_mask

    def fake(lv: np.ndarray, fraction: float, seed: int, margin: int = 3) -> np.ndarray:
        if seed == 1:  # one wide held-out block: gaps far wider than the real ones
            held = np.zeros_like(lv)
            held[10:60] = lv[10:60]
            return held
        return real(lv, fraction, seed, margin)

    monkeypatch.setattr(learned, "holdout_mask", fake)
    two = run_method(d, live, "fx_learned", repeats=2)
    one = run_method(d, live, "fx_learned", repeats=1)
    np.testing.assert_array_equal(two, one)
    assert not np.array_equal(two, run_method(d, live, "dip"))


def test_auto_extra_none_on_regular_decimation() -> None:
    """On a regular decimation the transform candidates alias: ``auto`` adds none of them."""
    d = plane_waves(200, 64, (0.3,), seed=8, noise=0.2)
    live = np.zeros(200, dtype=bool)
    live[::2] = True
    live[[41, 121]] = True  # two extra recorded traces: held-out sets can sit in gaps like the real ones
    auto = run_method(d, live, "fx_learned", repeats=1)
    np.testing.assert_array_equal(auto, run_method(d, live, "fx_learned", repeats=1, extra=()))
    assert not np.array_equal(auto, run_method(d, live, "dip"))  # fitted, not the fallback
    assert not np.array_equal(auto, run_method(d, live, "fx_learned", repeats=1, extra=("drr",)))
