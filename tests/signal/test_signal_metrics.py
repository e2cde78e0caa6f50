"""promethium.signal.metrics: SNR, PSNR, MSE, SSIM, f-k coherence and compare, against analytic values,
scikit-image's reference numbers and brute-force implementations, with property tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal.metrics import (
    _ssim_map,
    compare,
    fk_coherence,
    mse,
    psnr,
    snr,
    snr_missing,
    ssim,
)
from promethium.synthetic import make_survey

RNG = np.random.default_rng(42)


def pattern(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic pair of smooth, different images (no RNG, so the skimage numbers stay valid)."""
    idx = np.indices(shape).astype(float)
    x = np.sin(0.7 * idx[-1] + 0.3 * idx[0]) + 0.5 * np.cos(0.45 * idx[-1] * idx[0] / 7.0)
    y = np.sin(0.7 * idx[-1] + 0.35 * idx[0] + 0.2) + 0.3 * np.cos(1.3 * idx[-1])
    if len(shape) == 3:
        x = x + 0.2 * np.sin(idx[1])
        y = y + 0.25 * np.cos(0.5 * idx[1])
    return x, y


@pytest.fixture(scope="module")
def survey() -> SeismicData:
    return make_survey("2d", n_traces=40, n_samples=120, seed=3, noise=0.0)


# --------------------------------------------------------------------------- SNR / MSE / PSNR
def test_snr_analytic_gain_error() -> None:
    ref = RNG.standard_normal((10, 50))
    # est = 1.1 ref -> error = 0.1 ref -> SNR = -20 log10(0.1) = 20 dB exactly.
    assert snr(ref, 1.1 * ref) == pytest.approx(20.0, abs=1e-9)
    assert snr(ref, 0.99 * ref) == pytest.approx(40.0, abs=1e-9)


def test_snr_matches_formula_and_mask() -> None:
    ref = RNG.standard_normal((12, 30))
    est = ref + 0.3 * RNG.standard_normal(ref.shape)
    expected = 10 * np.log10(np.sum(ref**2) / np.sum((ref - est) ** 2))
    assert snr(ref, est) == pytest.approx(expected, rel=1e-12)
    mask = np.zeros(12, dtype=bool)
    mask[[1, 4, 7]] = True
    expected_m = 10 * np.log10(np.sum(ref[mask] ** 2) / np.sum((ref[mask] - est[mask]) ** 2))
    assert snr(ref, est, mask=mask) == pytest.approx(expected_m, rel=1e-12)
    assert snr_missing(ref, est, ~mask) == pytest.approx(expected_m, rel=1e-12)
    assert snr(ref, est, mask=mask.astype(int)) == pytest.approx(expected_m, rel=1e-12)


def test_perfect_estimate_is_inf_not_nan(survey: SeismicData) -> None:
    assert snr(survey, survey) == math.inf
    assert psnr(survey, survey.values) == math.inf
    assert mse(survey, survey) == 0.0
    assert ssim(survey, survey) == pytest.approx(1.0, abs=1e-12)
    assert fk_coherence(survey, survey) == pytest.approx(1.0, abs=1e-12)
    live = np.ones(40, dtype=bool)
    live[::5] = False
    out = compare(survey, survey, live_mask=live)
    assert out["snr"] == math.inf
    assert out["snr_missing"] == math.inf
    assert not any(math.isnan(v) for v in out.values())


def test_mse_and_psnr_against_formula_and_skimage_convention() -> None:
    x, y = pattern((16, 24))
    L = x.max() - x.min()
    m = np.mean((x - y) ** 2)
    assert mse(x, y) == pytest.approx(m, rel=1e-12)
    assert psnr(x, y) == pytest.approx(10 * np.log10(L**2 / m), rel=1e-12)
    assert psnr(x, y, data_range=2.0) == pytest.approx(10 * np.log10(4.0 / m), rel=1e-12)
    mask = np.arange(16) % 3 == 0
    assert mse(x, y, mask=mask) == pytest.approx(np.mean((x[mask] - y[mask]) ** 2), rel=1e-12)


def test_3d_and_seismicdata_input() -> None:
    cube = make_survey("3d", n_inline=6, n_crossline=7, n_samples=60, seed=1, noise=0.0)
    est = cube.values + 0.1 * RNG.standard_normal(cube.shape).astype(np.float32)
    ref64 = cube.values.astype(np.float64)
    expected = 10 * np.log10(np.sum(ref64**2) / np.sum((ref64 - est.astype(np.float64)) ** 2))
    assert snr(cube, est) == pytest.approx(expected, rel=1e-9)
    live = np.ones((6, 7), dtype=bool)
    live[2, 3] = live[4, 1] = False
    sel = ~live
    expected_m = 10 * np.log10(np.sum(ref64[sel] ** 2) / np.sum((ref64[sel] - est[sel]) ** 2))
    assert snr_missing(cube, cube.replace(est), live) == pytest.approx(expected_m, rel=1e-6)
    out = compare(cube, est, live_mask=live)
    assert set(out) == {"snr", "snr_missing", "psnr", "ssim", "mse", "fk_coherence"}
    assert all(isinstance(v, float) for v in out.values())
    assert 0.0 < out["ssim"] < 1.0
    assert 0.0 < out["fk_coherence"] < 1.0


def test_single_trace_input() -> None:
    ref = np.sin(np.linspace(0, 20, 200))
    est = ref + 0.01
    assert snr(ref, est) == pytest.approx(10 * np.log10(np.sum(ref**2) / (200 * 1e-4)), rel=1e-9)
    out = compare(ref, est, live_mask=np.array([False]))
    assert out["snr_missing"] == pytest.approx(out["snr"])


# --------------------------------------------------------------------------- SSIM
def test_ssim_matches_scikit_image_2d_and_3d() -> None:
    # Reference numbers from skimage.metrics.structural_similarity(x, y, data_range=L,
    # gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True) (scikit-image 0.26):
    # ``mssim`` averages the map with a 5-sample border cropped, ``S.mean()`` the full map that ssim uses.
    x, y = pattern((16, 24))
    assert ssim(x, y) == pytest.approx(0.23846499145960354, abs=1e-12)
    smap = _ssim_map(x, y, float(x.max() - x.min()))
    assert smap[5:-5, 5:-5].mean() == pytest.approx(0.24331869976883022, abs=1e-12)
    x3, y3 = pattern((12, 13, 20))
    assert ssim(x3, y3) == pytest.approx(0.24486027699043733, abs=1e-12)
    smap3 = _ssim_map(x3, y3, float(x3.max() - x3.min()))
    assert smap3[5:-5, 5:-5, 5:-5].mean() == pytest.approx(0.4301529624501168, abs=1e-12)


def test_ssim_constant_images_hand_computed() -> None:
    # Flat windows: the variances vanish, so SSIM is the luminance term (2 m1 m2 + C1)/(m1² + m2² + C1)
    # times C2/C2; with L = 1: C1 = 1e-4, m1 = 1, m2 = 2 -> 4.0001 / 5.0001.
    x = np.ones((5, 8))
    assert ssim(x, 2 * x, data_range=1.0) == pytest.approx(4.0001 / 5.0001, rel=1e-12)
    with pytest.raises(DataError, match="data_range"):
        ssim(x, 2 * x)


def _brute_force_ssim(x: np.ndarray, y: np.ndarray, L: float) -> float:
    """SSIM written out window by window: explicit 11 x 11 Gaussian weights, symmetric padding."""
    r = 5
    t = np.arange(-r, r + 1)
    g1 = np.exp(-(t**2) / (2 * 1.5**2))
    w = np.outer(g1, g1)
    w /= w.sum()
    xp = np.pad(x, r, mode="symmetric")  # scipy's "reflect" (d c b a | a b c d)
    yp = np.pad(y, r, mode="symmetric")
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    values = []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            a = xp[i : i + 2 * r + 1, j : j + 2 * r + 1]
            b = yp[i : i + 2 * r + 1, j : j + 2 * r + 1]
            ma, mb = np.sum(w * a), np.sum(w * b)
            va, vb = np.sum(w * (a - ma) ** 2), np.sum(w * (b - mb) ** 2)
            cab = np.sum(w * (a - ma) * (b - mb))
            values.append((2 * ma * mb + c1) * (2 * cab + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


def test_ssim_brute_force_tiny_case() -> None:
    x = RNG.standard_normal((6, 9))
    y = 0.5 * x + RNG.standard_normal((6, 9))
    L = float(x.max() - x.min())
    assert ssim(x, y) == pytest.approx(_brute_force_ssim(x, y, L), abs=1e-12)


def test_ssim_mask_averages_selected_traces() -> None:
    x, y = pattern((16, 24))
    mask = np.zeros(16, dtype=bool)
    mask[3:6] = True
    smap = _ssim_map(x, y, float(x.max() - x.min()))
    assert ssim(x, y, mask=mask) == pytest.approx(smap[3:6].mean(), abs=1e-12)


def test_ssim_decreases_with_noise(survey: SeismicData) -> None:
    ref = survey.values.astype(np.float64)
    noise = RNG.standard_normal(ref.shape) * ref.std()
    values = [ssim(ref, ref + s * noise) for s in (0.05, 0.3, 1.0)]
    assert values[0] > values[1] > values[2]
    other = RNG.standard_normal(ref.shape) * ref.std()
    assert abs(ssim(noise, other)) < 0.1  # independent noise: no structure in common


# --------------------------------------------------------------------------- f-k coherence
def test_fk_coherence_against_explicit_fk_spectra(survey: SeismicData) -> None:
    ref = survey.values.astype(np.float64)
    est = ref + 0.5 * ref.std() * RNG.standard_normal(ref.shape)
    # Independent: the full two-sided 2D FFT (k over traces, f over time), coherence per f over all k.
    R = np.fft.fft2(ref)
    E = np.fft.fft2(est)
    coh = np.abs(np.sum(R * E.conj(), axis=0)) ** 2 / (
        np.sum(np.abs(R) ** 2, axis=0) * np.sum(np.abs(E) ** 2, axis=0)
    )
    pr = np.sum(np.abs(R) ** 2, axis=0)
    expected = np.sum(pr * coh) / np.sum(pr)
    assert fk_coherence(ref, est) == pytest.approx(expected, rel=1e-10)


def test_fk_coherence_analytic_cases(survey: SeismicData) -> None:
    ref = survey.values.astype(np.float64)
    # A complex gain per frequency (a time shift of every trace, a scaling) leaves it at 1.
    shifted = np.roll(ref, 7, axis=-1)
    assert fk_coherence(ref, 3.0 * shifted) == pytest.approx(1.0, abs=1e-12)
    # Missing traces (zeroed) give the energy fraction of the kept traces (Parseval).
    live = np.ones(ref.shape[0], dtype=bool)
    live[::3] = False
    fraction = np.sum(ref[live] ** 2) / np.sum(ref**2)
    assert fk_coherence(ref, ref * live[:, None]) == pytest.approx(fraction, rel=1e-10)
    # Independent noise is incoherent; no energy at all is 0.
    assert fk_coherence(ref, RNG.standard_normal(ref.shape)) < 0.1
    assert fk_coherence(ref, np.zeros_like(ref)) == 0.0


# --------------------------------------------------------------------------- bad input
def test_shape_mismatch_is_data_error() -> None:
    a = np.zeros((4, 10)) + 1.0
    for func in (snr, mse, psnr, ssim, fk_coherence, compare):
        with pytest.raises(DataError, match="shape"):
            func(a, np.ones((4, 11)))
    with pytest.raises(DataError, match="shape"):
        snr(np.ones(10), np.ones((1, 10)))


def test_nan_and_zero_reference_are_data_errors() -> None:
    a = RNG.standard_normal((4, 10))
    b = a.copy()
    b[1, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        snr(a, b)
    with pytest.raises(DataError, match="no energy"):
        snr(np.zeros((4, 10)), a)
    with pytest.raises(DataError, match="all zero"):
        fk_coherence(np.zeros((4, 10)), a)
    with pytest.raises(DataError):
        snr(np.zeros((0, 10)), np.zeros((0, 10)))


def test_bad_masks_name_the_parameter() -> None:
    a = RNG.standard_normal((4, 10))
    with pytest.raises(ParameterError, match=r"^mask") as err:
        snr(a, a, mask=np.ones(5, dtype=bool))
    assert err.value.parameter == "mask"
    with pytest.raises(ParameterError, match=r"^mask"):
        mse(a, a, mask=np.zeros(4, dtype=bool))
    with pytest.raises(ParameterError, match=r"^live_mask") as err2:
        snr_missing(a, a, np.ones(4, dtype=bool))
    assert err2.value.parameter == "live_mask"
    with pytest.raises(ParameterError, match=r"^live_mask"):
        compare(a, a, live_mask=np.ones((2, 2), dtype=bool))
    with pytest.raises(ParameterError, match=r"^data_range"):
        psnr(a, a, data_range=-1.0)


# --------------------------------------------------------------------------- properties
finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
pairs = st.integers(2, 6).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, (n, 12), elements=finite), arrays(np.float64, (n, 12), elements=finite)
    )
)
scales = st.floats(1e-3, 1e3, allow_nan=False)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _usable(x: np.ndarray) -> bool:
    return bool(np.sum(x**2) > 1e-6 and np.ptp(x) > 1e-3)


@FAST
@given(pairs, scales)
def test_snr_scale_invariant(pair: tuple[np.ndarray, np.ndarray], a: float) -> None:
    x, y = pair
    if not _usable(x):
        return
    s = snr(x, y)
    assert not math.isnan(s)
    if math.isinf(s):
        assert snr(a * x, a * y) == math.inf
    else:
        assert snr(a * x, a * y) == pytest.approx(s, abs=1e-6)
        assert psnr(a * x, a * y) == pytest.approx(psnr(x, y), abs=1e-6)
        assert mse(a * x, a * y) == pytest.approx(a * a * mse(x, y), rel=1e-9)


@FAST
@given(pairs)
def test_ssim_bounded_symmetric_and_one_on_itself(pair: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = pair
    if not (_usable(x) and _usable(y)):
        return
    L = float(max(np.ptp(x), np.ptp(y)))
    s = ssim(x, y, data_range=L)
    assert -1.0 <= s <= 1.0
    assert s == pytest.approx(ssim(y, x, data_range=L), abs=1e-12)
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-12)


@FAST
@given(pairs)
def test_fk_coherence_in_unit_interval(pair: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = pair
    if not _usable(x):
        return
    c = fk_coherence(x, y)
    assert 0.0 <= c <= 1.0
    assert fk_coherence(x, -2.5 * x) == pytest.approx(1.0, abs=1e-9)
