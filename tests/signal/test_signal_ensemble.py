"""Cross-validated blend of reconstruction methods: method ``blend`` of ``reconstruct``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.signal.reconstruction import list_methods, reconstruct
from promethium.signal.reconstruction.ensemble import blend_fill, fit_band_weights
from recon_helpers import plane_waves, run_method, snr_hidden


def test_registered() -> None:
    assert "blend" in list_methods("reconstruct")


def test_not_worse_than_best_candidate_and_live_exact() -> None:
    d = plane_waves(48, 128, (1.5, -0.5), seed=1, noise=0.2)
    live = np.random.default_rng(2).random(48) > 0.5
    snrs = {m: snr_hidden(d, run_method(d, live, m), live) for m in ("dip", "pocs", "linear")}
    out = run_method(d, live, "blend")
    got = snr_hidden(d, out, live)
    assert got >= max(snrs.values()) - 0.5, (got, snrs)
    assert got > snrs["linear"] + 3.0, (got, snrs)
    np.testing.assert_array_equal(out[live], d[live])
    # Deterministic.
    np.testing.assert_array_equal(out, run_method(d, live, "blend"))


def test_gap_beats_linear() -> None:
    d = plane_waves(64, 128, (1.2,), seed=3)
    live = np.ones(64, dtype=bool)
    live[27:37] = False
    lin = snr_hidden(d, run_method(d, live, "linear"), live)
    got = snr_hidden(d, run_method(d, live, "blend", methods=("dip", "linear")), live)
    assert got > lin + 6.0, (lin, got)


def test_single_method_is_that_method() -> None:
    d = plane_waves(32, 64, (0.8,), seed=4)
    live = np.random.default_rng(4).random(32) > 0.4
    np.testing.assert_allclose(
        run_method(d, live, "blend", methods=("linear",)), run_method(d, live, "linear")
    )


def test_weights_non_negative_and_exact_candidate_recovered() -> None:
    rng = np.random.default_rng(5)
    ref = rng.standard_normal((20, 64))
    preds = [ref.copy(), rng.standard_normal((20, 64)), -ref]
    bands = np.floor(np.fft.rfftfreq(64, 0.004) / 20.0).astype(np.intp)
    w, err, single = fit_band_weights(ref, preds, bands)
    assert w.shape == (int(bands.max()) + 1, 3)
    assert (w >= 0).all()
    np.testing.assert_allclose(w[:, 0], 1.0, atol=1e-8)
    np.testing.assert_allclose(w[:, 1:], 0.0, atol=1e-8)
    assert err <= single.min() + 1e-9
    assert err < 1e-12 * single.max()


def test_blend_fill_returns_band_weights_3d() -> None:
    ni, nc, nt = 6, 16, 64
    il, xl = np.meshgrid(np.arange(ni), np.arange(nc), indexing="ij")
    base = plane_waves(1, 3 * nt, (0.0,), seed=6)[0]
    f = np.fft.rfftfreq(base.size)
    d = np.fft.irfft(
        np.fft.rfft(base) * np.exp(-2j * np.pi * f * (0.7 * il - 1.1 * xl)[..., None]), n=base.size
    )
    d = d[..., nt : 2 * nt]
    live = np.random.default_rng(7).random((ni, nc)) > 0.5
    out, w = blend_fill(
        np.where(live[..., None], d, 0.0), live, 0.004, methods=("dip", "linear"), band_hz=10.0
    )
    assert out.shape == d.shape
    assert w.shape == (13, 2)
    assert (w >= 0).all()
    assert np.isfinite(out).all()
    assert snr_hidden(d, out, live) > snr_hidden(d, run_method(d, live, "linear"), live)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("methods", ()),
        ("methods", ("blend", "linear")),
        ("methods", ("nope",)),
        ("methods", ("linear", "linear")),
        ("methods", ("fx_decon",)),
        ("methods", 3),
        ("holdout", 0.9),
        ("band_hz", 0.0),
        ("seed", -1),
    ],
)
def test_bad_parameters(name: str, value: Any) -> None:
    d = plane_waves(16, 64, (0.0,))
    live = np.ones(16, dtype=bool)
    live[5] = False
    with pytest.raises(ParameterError, match=name):
        reconstruct(d, "blend", mask=live, **{name: value})
