"""Spectra: amplitude, phase, PSD (Welch, multitaper, periodogram), spectrogram, f-k, peak and bandwidth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import brentq

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal import spectra as S
from promethium.signal.transforms import fk
from promethium.synthetic import make_survey, ricker

ALASKA = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sections" / "alaska_1501x534_4ms.f32"
)


def _ricker_traces(freqs: list[float], dt_ms: float, n: int, centre: int | None = None) -> np.ndarray:
    """Zero-phase Ricker wavelets of the given peak frequencies at sample ``centre`` (default the middle)
    of traces of ``n`` samples."""
    out = np.zeros((len(freqs), n))
    c = n // 2 if centre is None else centre
    for i, f in enumerate(freqs):
        _, w = ricker(f, dt_ms)
        out[i, c - w.size // 2 : c + w.size // 2 + 1] = w
    return out


def _ricker_amplitude(f: np.ndarray | float, fp: float) -> np.ndarray | float:
    """Analytic Ricker amplitude spectrum relative to its peak at ``fp``: (f/fp)^2 exp(1 - (f/fp)^2)."""
    r = np.asarray(f) / fp
    return r**2 * np.exp(1.0 - r**2)


@pytest.fixture(scope="module")
def section() -> SeismicData:
    return make_survey("2d", n_traces=16, n_samples=200, seed=2)


# =========================================================================== amplitude
def test_amplitude_spectrum_reads_sine_amplitude_and_matches_numpy() -> None:
    n, dt = 200, 0.004
    t = np.arange(n) * dt
    x = np.stack([3.0 * np.sin(2 * np.pi * 25.0 * t), 0.5 * np.cos(2 * np.pi * 50.0 * t) + 2.0])
    res = S.amplitude_spectrum(x, dt_ms=4.0, average=False)
    assert res.values.shape == (2, 101)
    assert res.unit == "amplitude"
    i25, i50 = 20, 40  # bins of 25 and 50 Hz (df = 1.25 Hz)
    assert res.frequencies_hz[i25] == pytest.approx(25.0)
    assert res.values[0, i25] == pytest.approx(3.0)
    assert res.values[1, i50] == pytest.approx(0.5)
    assert res.values[1, 0] == pytest.approx(2.0)  # DC reads the mean
    ref = np.abs(np.fft.rfft(x)) * 2 / n
    ref[:, 0] /= 2
    ref[:, -1] /= 2
    np.testing.assert_allclose(res.values, ref, atol=1e-12)
    avg = S.amplitude_spectrum(x, dt_ms=4.0)
    np.testing.assert_allclose(avg.values, ref.mean(axis=0), atol=1e-12)
    db = S.amplitude_spectrum(x, dt_ms=4.0, db=True)
    assert db.values.max() == pytest.approx(0.0)
    assert db.values.min() >= -200.0
    assert db.unit == "dB"


def test_average_uses_live_traces_only(section: SeismicData) -> None:
    vals = section.values.copy()
    vals[3] *= 1000.0
    mask = np.ones(16, dtype=bool)
    mask[3] = False
    masked = SeismicData.from_array(vals, sample_interval=4.0, trace_mask=mask)
    ref = S.amplitude_spectrum(np.delete(vals, 3, axis=0), dt_ms=4.0)
    np.testing.assert_allclose(S.amplitude_spectrum(masked).values, ref.values, rtol=1e-6)
    np.testing.assert_allclose(S.amplitude_spectrum(vals, dt_ms=4.0, mask=mask).values, ref.values, rtol=1e-6)
    with pytest.raises(DataError, match="live"):
        S.amplitude_spectrum(vals, dt_ms=4.0, mask=np.zeros(16, dtype=bool))
    with pytest.raises(ParameterError, match="mask"):
        S.amplitude_spectrum(vals, dt_ms=4.0, mask=np.ones(5, dtype=bool))


def test_spectra_of_a_volume_per_trace() -> None:
    vol = make_survey("3d", n_inline=3, n_crossline=4, n_samples=64, seed=1)
    res = S.amplitude_spectrum(vol, average=False)
    assert res.values.shape == (3, 4, 33)
    np.testing.assert_allclose(res.values.reshape(12, 33).mean(axis=0), S.amplitude_spectrum(vol).values)
    assert S.dominant_frequency(vol, average=False).shape == (3, 4)
    assert S.psd(vol, average=False).values.shape[:2] == (3, 4)
    assert vol.history == make_survey("3d", n_inline=3, n_crossline=4, n_samples=64, seed=1).history


# =========================================================================== phase
def test_phase_of_a_shifted_zero_phase_wavelet_is_linear() -> None:
    dt_ms, n = 2.0, 256
    x = _ricker_traces([30.0], dt_ms, n, centre=40)[0]
    tc = 40 * dt_ms / 1000.0  # centre of the wavelet, s (phase steps of 2 pi 40 / 256 < pi per bin)
    res = S.phase_spectrum(x, dt_ms=dt_ms, unwrap=True)
    f = res.frequencies_hz
    band = (f > 10) & (f < 60)
    np.testing.assert_allclose(res.values[band], -2 * np.pi * f[band] * tc, atol=1e-6)
    wrapped = S.phase_spectrum(-x, dt_ms=dt_ms, degrees=True)
    expect = np.degrees(np.angle(np.exp(1j * (-2 * np.pi * f * tc + np.pi))))
    np.testing.assert_allclose(np.cos(np.radians(wrapped.values[band] - expect[band])), 1.0, atol=1e-9)
    assert wrapped.unit == "degrees"
    assert not wrapped.unwrapped


def test_average_phase_is_the_amplitude_weighted_circular_mean() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 64))
    res = S.phase_spectrum(x, dt_ms=4.0)
    np.testing.assert_allclose(np.exp(1j * res.values), np.exp(1j * np.angle(np.fft.rfft(x).sum(axis=0))))
    per = S.phase_spectrum(x, dt_ms=4.0, average=False)
    np.testing.assert_allclose(per.values, np.angle(np.fft.rfft(x)))


# =========================================================================== PSD
@pytest.mark.parametrize("method", ["welch", "multitaper", "periodogram"])
def test_psd_white_noise_level(method: str) -> None:
    sigma, dt = 2.0, 0.004
    x = np.random.default_rng(0).normal(scale=sigma, size=(64, 512))
    res = S.psd(x, method, dt_ms=4.0)
    level = 2 * sigma**2 * dt  # one-sided density of white noise
    inner = (res.frequencies_hz > 5) & (res.frequencies_hz < 120)
    assert res.values[inner].mean() == pytest.approx(level, rel=0.03)
    assert res.unit == "amplitude^2/Hz"
    assert res.method == method
    # Integrated PSD is the variance.
    df = res.frequencies_hz[1] - res.frequencies_hz[0]
    assert res.values.sum() * df == pytest.approx(sigma**2, rel=0.05)


@pytest.mark.parametrize("method", ["welch", "multitaper", "periodogram"])
def test_psd_sine_peak_and_power(method: str) -> None:
    dt, n, a, f0 = 0.002, 2000, 3.0, 62.5
    t = np.arange(n) * dt
    x = a * np.sin(2 * np.pi * f0 * t) + np.random.default_rng(1).normal(scale=0.1, size=n)
    res = S.psd(x, method, dt_ms=2.0, detrend=False)
    f = res.frequencies_hz
    assert f[res.values.argmax()] == pytest.approx(f0, abs=f[1] - f[0])
    near = np.abs(f - f0) < 10.0
    power = res.values[near].sum() * (f[1] - f[0])
    assert power == pytest.approx(a**2 / 2, rel=0.05)


def test_psd_welch_and_periodogram_match_scipy(section: SeismicData) -> None:
    x = section.values.astype(np.float64)
    res = S.psd(x, dt_ms=4.0, window_ms=256.0, overlap=0.5, average=False)
    _, ref = ss.welch(x, 250.0, window="hann", nperseg=64, noverlap=32, axis=-1)
    np.testing.assert_allclose(res.values, ref, rtol=1e-10)
    assert res.parameters["window_samples"] == 64
    per = S.psd(x, "periodogram", dt_ms=4.0, detrend="linear")
    _, pref = ss.periodogram(x, 250.0, detrend="linear", axis=-1)
    np.testing.assert_allclose(per.values, pref.mean(axis=0), rtol=1e-10)


def test_multitaper_matches_direct_taper_average() -> None:
    x = np.random.default_rng(9).normal(size=(2, 128))
    res = S.psd(x, "multitaper", dt_ms=1.0, time_bandwidth=3.0, average=False, detrend=False)
    tapers = ss.windows.dpss(128, 3.0, Kmax=5)
    assert res.parameters["n_tapers"] == 5
    spec = np.fft.rfft(x[:, None, :] * tapers[None], axis=-1)
    ref = (np.abs(spec) ** 2).mean(axis=1) * 0.001 / (tapers[0] ** 2).sum()
    ref[:, 1:-1] *= 2
    np.testing.assert_allclose(res.values, ref, rtol=1e-10)


def test_psd_bad_parameters(section: SeismicData) -> None:
    with pytest.raises(ParameterError, match="method"):
        S.psd(section, "burg")
    with pytest.raises(ParameterError, match="window_ms"):
        S.psd(section, window_ms=5000.0)  # 1250 samples > 200
    with pytest.raises(ParameterError, match="overlap"):
        S.psd(section, overlap=1.0)
    with pytest.raises(ParameterError, match="time_bandwidth"):
        S.psd(section, "multitaper", time_bandwidth=0.1)
    with pytest.raises(ParameterError, match="window"):
        S.psd(section, window="nope")
    with pytest.raises(ParameterError, match="detrend"):
        S.psd(section, detrend="quadratic")


# =========================================================================== spectrogram and f-k
def test_spectrogram_matches_scipy_spectrogram(section: SeismicData) -> None:
    x = section.values.astype(np.float64)[:3]
    res = S.spectrogram(x, dt_ms=4.0, window_ms=128.0, hop_ms=32.0, average=False)
    f, t, ref = ss.spectrogram(x, 250.0, window="hann", nperseg=32, noverlap=24, detrend=False, axis=-1)
    np.testing.assert_allclose(res.values, ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.frequencies_hz, f)
    np.testing.assert_allclose(res.times_ms, t * 1000.0)
    avg = S.spectrogram(x, dt_ms=4.0, window_ms=128.0, hop_ms=32.0, db=True)
    np.testing.assert_allclose(avg.values, 10 * np.log10(ref.mean(axis=0)), atol=1e-9)
    with pytest.raises(ParameterError, match="window_ms"):
        S.spectrogram(x, dt_ms=4.0, window_ms=4.0)  # one sample


def test_fk_spectrum_db(section: SeismicData) -> None:
    res = S.fk_spectrum(section, trace_spacing=25.0, floor_db=-60.0)
    amp = np.abs(fk(section, trace_spacing=25.0).values).astype(np.float64)
    ref = np.maximum(20 * np.log10(np.maximum(amp, 1e-300) / amp.max()), -60.0)
    np.testing.assert_allclose(res.values, ref, atol=1e-9)
    assert res.values.max() == 0.0
    assert res.values.min() >= -60.0
    assert res.wavenumber_unit == "cycles/m"
    lin = S.fk_spectrum(section, db=False)
    np.testing.assert_allclose(lin.values, amp, rtol=1e-12)
    with pytest.raises(ParameterError, match="floor_db"):
        S.fk_spectrum(section, floor_db=10.0)


# =========================================================================== dominant frequency and bandwidth
def test_dominant_frequency_of_ricker_wavelets() -> None:
    freqs = [12.0, 25.0, 33.3, 50.0]
    x = _ricker_traces(freqs, 1.0, 1000)
    peaks = S.dominant_frequency(x, dt_ms=1.0, average=False)
    np.testing.assert_allclose(peaks, freqs, atol=0.005)
    assert S.dominant_frequency(x[1], dt_ms=1.0) == pytest.approx(25.0, abs=0.005)
    # A DC offset dominates the raw spectrum; a search band skips it (without zero padding, which
    # would spread the offset into sinc side lobes).
    offset = x[1] + 0.5
    assert S.dominant_frequency(offset, dt_ms=1.0) == pytest.approx(0.0, abs=0.01)
    assert S.dominant_frequency(offset, dt_ms=1.0, fmin_hz=5.0, n_fft=1000) == pytest.approx(25.0, abs=0.1)


@pytest.mark.parametrize("level_db", [-6.0, -20.0])
def test_bandwidth_of_ricker_matches_analytic_edges(level_db: float) -> None:
    fp = 25.0
    x = _ricker_traces([fp], 1.0, 1000)[0]
    res = S.bandwidth(x, dt_ms=1.0, level_db=level_db)
    target = 10 ** (level_db / 20)
    low = brentq(lambda f: _ricker_amplitude(f, fp) - target, 1e-6, fp)
    high = brentq(lambda f: _ricker_amplitude(f, fp) - target, fp, 10 * fp)
    assert res.low_hz == pytest.approx(low, abs=0.01)
    assert res.high_hz == pytest.approx(high, abs=0.01)
    assert res.width_hz == pytest.approx(high - low, abs=0.02)
    assert res.peak_hz == pytest.approx(fp, abs=0.005)
    # Centroid of f^2 exp(-f^2/fp^2): 2 fp / sqrt(pi) weighted by amplitude, 8 fp / (3 sqrt(2 pi)) by power.
    assert res.centroid_hz == pytest.approx(2 * fp / np.sqrt(np.pi), rel=1e-6)
    power = S.bandwidth(x, dt_ms=1.0, level_db=level_db, weighting="power")
    assert power.centroid_hz == pytest.approx(8 * fp / (3 * np.sqrt(2 * np.pi)), rel=1e-6)


def test_bandwidth_per_trace_edges_and_dead_traces() -> None:
    x = _ricker_traces([15.0, 40.0], 2.0, 500)
    x = np.vstack([x, np.zeros(500)])
    res = S.bandwidth(x, dt_ms=2.0, average=False)
    assert res.low_hz.shape == (3,)
    assert res.peak_hz[0] == pytest.approx(15.0, abs=0.1)
    assert res.peak_hz[1] == pytest.approx(40.0, abs=0.1)
    assert (res.low_hz[:2] < res.peak_hz[:2]).all()
    assert (res.peak_hz[:2] < res.high_hz[:2]).all()
    assert res.low_hz[2] == 0.0
    assert res.high_hz[2] == 0.0
    assert res.centroid_hz[2] == 0.0
    assert np.isfinite(res.centroid_hz).all()
    assert S.dominant_frequency(x, dt_ms=2.0, average=False)[2] == 0.0
    # A constant peaks at 0 Hz: no low edge, the high edge where its sinc falls 6 dB.
    flat = S.bandwidth(np.ones(64), dt_ms=4.0)
    assert flat.low_hz == 0.0
    assert 0.0 < flat.high_hz <= 125.0


@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(8, 64)), elements=st.floats(-100, 100)),
    level=st.floats(-40.0, -1.0),
)
@settings(max_examples=60, deadline=None)
def test_bandwidth_invariants(x: np.ndarray, level: float) -> None:
    res = S.bandwidth(x, dt_ms=4.0, level_db=level, average=False, n_fft=256)
    for name in ("low_hz", "high_hz", "peak_hz", "centroid_hz"):
        v = np.asarray(getattr(res, name))
        assert np.isfinite(v).all()
        assert (v >= 0).all()
        assert (v <= 125.0 + 1e-9).all()
    live = np.abs(x).max(axis=-1) > 0
    assert (res.low_hz[live] <= res.peak_hz[live] + 1e-9).all()
    assert (res.peak_hz[live] <= res.high_hz[live] + 1e-9).all()
    # Scaling the data changes no frequency.
    scaled = S.bandwidth(3.0 * x, dt_ms=4.0, level_db=level, average=False, n_fft=256)
    np.testing.assert_allclose(scaled.high_hz, res.high_hz, atol=1e-6)


@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(2, 80)), elements=st.floats(-1e3, 1e3))
)
@settings(max_examples=60, deadline=None)
def test_periodogram_parseval(x: np.ndarray) -> None:
    """Boxcar periodogram without detrending integrates to the mean square (Parseval)."""
    res = S.psd(x, "periodogram", dt_ms=2.0, detrend=False, average=False)
    df = res.frequencies_hz[1] - res.frequencies_hz[0]
    np.testing.assert_allclose(res.values.sum(axis=-1) * df, (x**2).mean(axis=-1), rtol=1e-9, atol=1e-9)


def test_summary_bad_parameters() -> None:
    x = _ricker_traces([25.0], 4.0, 128)
    with pytest.raises(ParameterError, match="fmax_hz"):
        S.dominant_frequency(x, dt_ms=4.0, fmax_hz=200.0)  # Nyquist 125 Hz
    with pytest.raises(ParameterError, match="fmax_hz"):
        S.dominant_frequency(x, dt_ms=4.0, fmin_hz=60.0, fmax_hz=50.0)
    with pytest.raises(ParameterError, match="level_db"):
        S.bandwidth(x, dt_ms=4.0, level_db=3.0)
    with pytest.raises(ParameterError, match="weighting"):
        S.bandwidth(x, dt_ms=4.0, weighting="energy")
    with pytest.raises(ParameterError, match="n_fft"):
        S.bandwidth(x, dt_ms=4.0, n_fft=16)
    with pytest.raises(ParameterError, match="dt_ms"):
        S.bandwidth(x)
    bad = x.copy()
    bad[0, 5] = np.inf
    with pytest.raises(DataError, match="NaN or infinite"):
        S.amplitude_spectrum(bad, dt_ms=4.0)


# =========================================================================== entry point
def test_spectrum_dispatch(section: SeismicData) -> None:
    assert isinstance(S.spectrum(section), S.AmplitudeSpectrum)
    assert isinstance(S.spectrum(section, "phase"), S.PhaseSpectrum)
    assert isinstance(S.spectrum(section, "psd", method="multitaper"), S.PowerSpectrum)
    assert isinstance(S.spectrum(section, "spectrogram"), S.Spectrogram)
    assert isinstance(S.spectrum(section, "f-k"), S.FKSpectrum)
    assert isinstance(S.spectrum(section, "bandwidth", level_db=-20.0), S.Bandwidth)
    dom = S.spectrum(section, "dominant_frequency")
    assert isinstance(dom, float)
    assert 15.0 < dom < 45.0
    with pytest.raises(ParameterError, match="kind"):
        S.spectrum(section, "cepstrum")
    with pytest.raises(ParameterError, match="level"):
        S.spectrum(section, "psd", level=3)


@pytest.mark.shared
def test_real_section_summaries() -> None:
    if not ALASKA.exists():
        pytest.skip("shared data absent")
    x = np.fromfile(ALASKA, "<f4").reshape(534, 1501)
    dom = S.dominant_frequency(x, dt_ms=4.0)
    band = S.bandwidth(x, dt_ms=4.0, level_db=-20.0)
    assert 5.0 < dom < 60.0
    assert 0.0 <= band.low_hz < dom < band.high_hz <= 125.0
    per = S.dominant_frequency(x, dt_ms=4.0, average=False)
    assert per.shape == (534,)
    assert np.isfinite(per).all()
    p = S.psd(x, "multitaper", dt_ms=4.0)
    assert np.isfinite(p.values).all()
    assert p.frequencies_hz[p.values.argmax()] < 60.0
