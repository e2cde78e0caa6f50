"""Dip-steered (structure-oriented) interpolation: method ``dip`` of ``reconstruct``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from promethium.core.errors import ParameterError
from promethium.io.data import SeismicData
from promethium.signal.reconstruction import list_methods, reconstruct
from promethium.signal.reconstruction.dipsteer import holdout_mask


def _shifted(tr: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    f = np.fft.rfftfreq(tr.size)
    return np.fft.irfft(np.fft.rfft(tr) * np.exp(-2j * np.pi * f * shifts[..., None]), n=tr.size)


def _trace(nt: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = np.fft.rfftfreq(nt, 0.004)
    spec = (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)) * np.exp(-(((f - 25) / 12) ** 2))
    return np.fft.irfft(spec, n=nt)


def section(nx: int, nt: int, slopes: tuple[float, ...], seed: int = 0) -> np.ndarray:
    """A sum of plane waves of the given slopes (samples per trace), dominant frequency 25 Hz at 4 ms,
    the slope changing in time (upper half first, lower half second when two are given, with a short
    transition where both dips cross)."""
    x = np.arange(nx) - nx / 2
    parts = [_shifted(_trace(3 * nt, seed + k), p * x)[:, nt : 2 * nt] for k, p in enumerate(slopes)]
    if len(parts) == 1:
        return parts[0]
    ramp = np.clip((np.arange(nt) - 0.45 * nt) / (0.1 * nt), 0, 1)
    return parts[0] * (1 - ramp) + parts[1] * ramp


def snr_missing(ref: np.ndarray, est: np.ndarray, live: np.ndarray) -> float:
    r, e = ref[~live], est[~live]
    return float(10 * np.log10(np.sum(r**2) / np.sum((r - e) ** 2)))


def _both(data: np.ndarray, live: np.ndarray) -> tuple[float, float, np.ndarray]:
    gapped = np.where(live[..., None], data, 0.0)
    lin = np.asarray(reconstruct(gapped, "linear", mask=live, dt_ms=4.0))
    dip = np.asarray(reconstruct(gapped, "dip", mask=live, dt_ms=4.0))
    return snr_missing(data, lin, live), snr_missing(data, dip, live), dip


def test_registered() -> None:
    assert "dip" in list_methods("reconstruct")


def test_steep_dips_random_missing_beats_linear() -> None:
    d = section(64, 256, (2.5, -2.0))
    live = np.random.default_rng(1).random(64) > 0.5
    lin, dip, out = _both(d, live)
    assert dip > lin + 10.0, (lin, dip)
    assert dip > 10.0
    np.testing.assert_array_equal(out[live], d[live])
    assert np.isfinite(out).all()


def test_steep_dips_regular_decimation_beats_linear() -> None:
    d = section(64, 256, (3.0,), seed=4)
    live = np.arange(64) % 2 == 0
    lin, dip, out = _both(d, live)
    # 6 samples of shift between live neighbours: aliased for linear, resolved coarse to fine by dip.
    assert dip > lin + 8.0, (lin, dip)
    np.testing.assert_array_equal(out[live], d[live])


def test_gap_of_ten_traces() -> None:
    d = section(64, 256, (1.0,), seed=6)
    live = np.ones(64, dtype=bool)
    live[27:37] = False
    lin, dip, _ = _both(d, live)
    assert dip > lin + 6.0, (lin, dip)


def test_flat_events_no_worse_than_linear() -> None:
    d = section(64, 256, (0.0,), seed=2)
    live = np.random.default_rng(2).random(64) > 0.5
    lin, dip, _ = _both(d, live)
    # Linear is exact on flat events; dip must stay far above any useful threshold.
    assert dip > min(lin - 0.2, 40.0), (lin, dip)


def test_noisy_flat_section_not_worse() -> None:
    d = section(64, 256, (0.3,), seed=3)
    noisy = d + 0.3 * d.std() * np.random.default_rng(0).standard_normal(d.shape)
    live = np.random.default_rng(5).random(64) > 0.5
    lin, dip, out = _both(noisy, live)
    assert dip > lin - 0.2, (lin, dip)
    assert np.isfinite(out).all()


def test_3d_volume() -> None:
    ni, nc, nt = 10, 24, 160
    il, xl = np.meshgrid(np.arange(ni) - ni / 2, np.arange(nc) - nc / 2, indexing="ij")
    d = _shifted(_trace(3 * nt, 8), 1.5 * il - 2.0 * xl)[..., nt : 2 * nt]
    live = np.random.default_rng(3).random((ni, nc)) > 0.5
    lin, dip, out = _both(d, live)
    assert out.shape == d.shape
    assert dip > lin + 6.0, (lin, dip)
    np.testing.assert_array_equal(out[live], d[live])


def test_seismicdata_history_and_mask() -> None:
    d = section(40, 128, (1.5,), seed=9).astype(np.float32)
    mask = np.ones(40, dtype=bool)
    mask[[5, 6, 20, 33]] = False
    sd = SeismicData.from_array(d, sample_interval=4.0)
    sd = sd.replace(sd.values, trace_mask=mask, operation="test", parameters={})
    out = reconstruct(sd, "dip", n_iter=2)
    assert isinstance(out, SeismicData)
    assert np.asarray(out.trace_mask).all()
    np.testing.assert_array_equal(np.asarray(out.values)[mask], d[mask])
    assert np.isfinite(np.asarray(out.values)).all()


def test_no_combine_option_and_few_live_traces() -> None:
    d = section(32, 128, (1.0,), seed=10)
    live = np.zeros(32, dtype=bool)
    live[[3, 17, 30]] = True
    out = np.asarray(reconstruct(np.where(live[:, None], d, 0.0), "dip", mask=live, combine=False))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], d[live])


def test_wide_gap_curved_event_stepped_across() -> None:
    # The slope changes along the section (0.6 -> 1.4 samples/trace across the gap): stepping trace by
    # trace along slopes carried in from both sides beats one slope over the whole gap, and linear.
    x = np.arange(64) - 32.0
    d = _shifted(_trace(768, 11), 1.0 * x + 0.03 * x**2)[:, 256:512]
    live = np.ones(64, dtype=bool)
    live[27:39] = False
    gapped = np.where(live[:, None], d, 0.0)
    lin = snr_missing(d, np.asarray(reconstruct(gapped, "linear", mask=live)), live)
    stepped = np.asarray(reconstruct(gapped, "dip", mask=live, combine=False))
    one = np.asarray(reconstruct(gapped, "dip", mask=live, combine=False, step_gap=1000))
    s_step, s_one = snr_missing(d, stepped, live), snr_missing(d, one, live)
    assert s_step > lin + 6.0, (lin, s_step)
    assert s_step > s_one + 1.0, (s_one, s_step)
    np.testing.assert_array_equal(stepped[live], d[live])


def test_3d_gap_of_crosslines() -> None:
    ni, nc, nt = 6, 40, 128
    il, xl = np.meshgrid(np.arange(ni) - ni / 2, np.arange(nc) - nc / 2, indexing="ij")
    d = _shifted(_trace(3 * nt, 12), 0.5 * il + 1.2 * xl)[..., nt : 2 * nt]
    live = np.ones((ni, nc), dtype=bool)
    live[:, 15:25] = False
    lin, dip, out = _both(d, live)
    assert dip > lin + 6.0, (lin, dip)
    np.testing.assert_array_equal(out[live], d[live])


def test_holdout_copies_a_single_gap() -> None:
    live = np.ones(200, dtype=bool)
    live[95:105] = False
    held = holdout_mask(live, 0.25, seed=0)
    assert not (held & ~live).any()
    # Several 10-trace copies, each a contiguous run, none touching the real gap or another copy.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], held.astype(int), [0]])))
    runs = edges.reshape(-1, 2)
    assert len(runs) >= 3
    assert ((runs[:, 1] - runs[:, 0]) == 10).all()
    assert held.sum() <= 0.25 * live.sum()
    assert np.diff(runs.ravel()).min() >= 3
    assert runs.min() >= 3
    assert runs.max() <= 197
    near = np.convolve(held.astype(float), np.ones(7), mode="same") > 0
    assert not (near & ~live).any()
    # Random holes: one shifted copy, thinned to the fraction, seeded.
    rnd = np.random.default_rng(0).random(200) > 0.5
    h1 = holdout_mask(rnd, 0.2, seed=3)
    np.testing.assert_array_equal(h1, holdout_mask(rnd, 0.2, seed=3))
    assert not (h1 & ~rnd).any()
    assert h1.sum() <= 0.2 * rnd.sum() + 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n_iter", 0),
        ("step_gap", 0),
        ("max_slope", -1.0),
        ("smoothing", (1.0, 2.0, 3.0, 4.0)),
        ("scales", ()),
        ("eps", 0.0),
        ("holdout", 0.9),
        ("combine", "yes"),
    ],
)
def test_bad_parameters(name: str, value: Any) -> None:
    d = section(16, 64, (0.0,))
    live = np.ones(16, dtype=bool)
    live[5] = False
    with pytest.raises(ParameterError, match=name):
        reconstruct(d, "dip", mask=live, **{name: value})


def test_unknown_parameter() -> None:
    d = section(16, 64, (0.0,))
    with pytest.raises(ParameterError, match="slope_method"):
        reconstruct(d, "dip", slope_method="x")
