"""Transforms: Fourier, f-k, STFT, CWT, DWT, Stockwell, Radon; checked against independent references."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import pywt
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal import transforms as T
from promethium.synthetic import make_survey, ricker

SECTIONS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sections"
ALASKA = SECTIONS / "alaska_1501x534_4ms.f32"


@pytest.fixture(scope="module")
def section() -> SeismicData:
    return make_survey("2d", n_traces=24, n_samples=128, seed=4)


@pytest.fixture(scope="module")
def volume() -> SeismicData:
    return make_survey("3d", n_inline=5, n_crossline=6, n_samples=64, seed=5)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(np.asarray(b)))


def _linear_event(nx: int, nt: int, dt_ms: float, p_ms: float, t0_ms: float, x: np.ndarray) -> np.ndarray:
    """A Ricker wavelet along ``t = t0 + p x`` (sub-sample shifts by interpolation)."""
    _, w = ricker(30.0, dt_ms)
    t = np.arange(nt) * dt_ms
    tw = (np.arange(w.size) - w.size // 2) * dt_ms
    return np.stack([np.interp(t, tw + t0_ms + p_ms * xi, w, left=0.0, right=0.0) for xi in x])


# =========================================================================== Fourier
def test_fft_matches_numpy_and_round_trips() -> None:
    x = np.random.default_rng(0).normal(size=(3, 50))
    spec = T.fft(x, dt_ms=2.0)
    np.testing.assert_allclose(spec.values, np.fft.rfft(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(spec.frequencies_hz, np.fft.rfftfreq(50, 0.002))
    assert spec.frequencies_hz[-1] == pytest.approx(250.0)
    np.testing.assert_allclose(T.ifft(spec), x, atol=1e-12)
    padded = T.fft(x, dt_ms=2.0, n_fft=128)
    assert padded.values.shape == (3, 65)
    np.testing.assert_allclose(T.ifft(padded), x, atol=1e-12)


def test_fft_one_trace_and_volume_keep_shapes(volume: SeismicData) -> None:
    x = np.sin(np.arange(64) * 0.3)
    spec = T.fft(x, dt_ms=4.0)
    assert spec.values.shape == (33,)
    back = T.ifft(spec)
    assert isinstance(back, np.ndarray)
    assert back.shape == (64,)
    np.testing.assert_allclose(back, x, atol=1e-12)
    vs = T.fft(volume)
    assert vs.values.shape == (5, 6, 33)
    assert vs.values.dtype == np.complex64
    out = T.ifft(vs)
    assert isinstance(out, SeismicData)
    assert out.amplitude.dtype == np.float32
    np.testing.assert_allclose(out.values, volume.values, atol=1e-5 * np.abs(volume.values).max())
    assert out.history[-1]["operation"] == "signal.ifft"
    assert len(out.history) == len(volume.history) + 1


def test_fft_needs_dt_for_numpy_and_rejects_nan() -> None:
    with pytest.raises(ParameterError, match="dt_ms"):
        T.fft(np.ones((2, 8)))
    bad = np.ones((2, 8))
    bad[1, 3] = np.nan
    with pytest.raises(DataError, match="NaN"):
        T.fft(bad, dt_ms=4.0)
    with pytest.raises(ParameterError, match="n_fft"):
        T.fft(np.ones((2, 8)), dt_ms=4.0, n_fft=4)


# =========================================================================== f-k
def test_fk_matches_numpy_fft2_with_shifted_wavenumbers(section: SeismicData) -> None:
    x = section.values.astype(np.float64)
    spec = T.fk(x, dt_ms=4.0, trace_spacing=12.5)
    ref = np.fft.fftshift(np.fft.fft(np.fft.rfft(x, axis=-1), axis=0), axes=0)
    np.testing.assert_allclose(spec.values, ref, rtol=1e-10, atol=1e-9 * np.abs(ref).max())
    k = spec.wavenumbers[0]
    np.testing.assert_allclose(k, np.fft.fftshift(np.fft.fftfreq(24, 12.5)))
    assert k[12] == 0.0
    assert spec.wavenumber_unit == "cycles/m"
    assert T.fk(x, dt_ms=4.0).wavenumber_unit == "cycles/trace"


def test_fk_plane_wave_lands_on_minus_p_f() -> None:
    """cos(2 pi f0 (t - p x)) is an event t = t0 + p x: its energy sits at k = -p f0 (numpy sign)."""
    nx, nt, dt = 32, 100, 0.004
    f0 = 25.0  # bin 10 of 100 samples at 4 ms
    p = 1.0 / (8 * f0)  # s per trace: k = -p f0 = -1/8 cycles/trace, on a bin
    t = np.arange(nt) * dt
    x = np.arange(nx)[:, None]
    data = np.cos(2 * np.pi * f0 * (t[None, :] - p * x))
    spec = T.fk(data, dt_ms=4.0)
    ik, jf = np.unravel_index(np.abs(spec.values).argmax(), spec.values.shape)
    assert spec.frequencies_hz[jf] == pytest.approx(f0)
    assert spec.wavenumbers[0][ik] == pytest.approx(-p * f0)


def test_fkk_volume_matches_rfftn_and_round_trips_with_padding(volume: SeismicData) -> None:
    spec = T.fk(volume, trace_spacing=(25.0, 12.5), n_fft=80, n_wavenumbers=(8, 9))
    x = volume.values.astype(np.float64)
    ref = np.fft.fftshift(np.fft.rfftn(x, s=(8, 9, 80), axes=(0, 1, 2)), axes=(0, 1))
    np.testing.assert_allclose(spec.values, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert [k.size for k in spec.wavenumbers] == [8, 9]
    np.testing.assert_allclose(spec.wavenumbers[1], np.fft.fftshift(np.fft.fftfreq(9, 12.5)))
    back = T.ifk(spec)
    assert isinstance(back, SeismicData)
    assert back.shape == volume.shape
    np.testing.assert_allclose(back.values, volume.values, atol=1e-5 * np.abs(volume.values).max())
    assert back.history[-1]["operation"] == "signal.ifk"
    assert back.history[-1]["parameters"]["trace_spacing"] == [25.0, 12.5]


def test_fk_edit_and_invert_keeps_type(section: SeismicData) -> None:
    spec = T.fk(section)
    zero_dc = spec.values.copy()
    zero_dc[:, 0] = 0
    out = T.ifk(spec.with_values(zero_dc))
    assert isinstance(out, SeismicData)
    np.testing.assert_allclose(out.values.mean(axis=-1).mean(), 0.0, atol=1e-6)
    with pytest.raises(ParameterError, match="values"):
        spec.with_values(zero_dc[:, :3])


def test_fk_bad_inputs() -> None:
    with pytest.raises(DataError, match="2D"):
        T.fk(np.ones(16), dt_ms=4.0)
    with pytest.raises(ParameterError, match="trace_spacing"):
        T.fk(np.ones((4, 16)), dt_ms=4.0, trace_spacing=-1.0)
    with pytest.raises(ParameterError, match="n_wavenumbers"):
        T.fk(np.ones((4, 16)), dt_ms=4.0, n_wavenumbers=2)
    with pytest.raises(ParameterError, match="trace_spacing"):
        T.fk(np.ones((2, 4, 16)), dt_ms=4.0, trace_spacing=(1.0, 2.0, 3.0))


# =========================================================================== STFT
def test_stft_matches_scipy_and_inverts(section: SeismicData) -> None:
    x = section.values.astype(np.float64)
    res = T.stft(x, dt_ms=4.0, window_ms=64.0, hop_ms=16.0)
    sft = ss.ShortTimeFFT(ss.get_window("hann", 16), 4, 250.0)
    ref = sft.stft(x, axis=-1)
    np.testing.assert_allclose(res.values, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.frequencies_hz, sft.f)
    np.testing.assert_allclose(res.times_ms, sft.t(128) * 1000.0)
    assert res.window_samples == 16
    assert res.hop_samples == 4
    np.testing.assert_allclose(T.istft(res), x, atol=1e-10)
    out = T.istft(T.stft(section))
    assert isinstance(out, SeismicData)
    assert out.amplitude.dtype == np.float32
    np.testing.assert_allclose(out.values, section.values, atol=1e-5 * np.abs(section.values).max())


def test_stft_locates_a_tone_burst() -> None:
    dt = 0.002
    t = np.arange(1000) * dt
    x = np.where((t > 1.0) & (t < 1.4), np.sin(2 * np.pi * 60.0 * t), 0.0)
    res = T.stft(x, dt_ms=2.0, window_ms=100.0)
    power = np.abs(res.values) ** 2
    fi, ti = np.unravel_index(power.argmax(), power.shape)
    assert res.frequencies_hz[fi] == pytest.approx(60.0, abs=10.0)
    assert 1000.0 < res.times_ms[ti] < 1400.0


def test_stft_bad_windows() -> None:
    x = np.zeros((2, 50))
    with pytest.raises(ParameterError, match="window_ms"):
        T.stft(x, dt_ms=4.0, window_ms=400.0)  # 100 samples > 50
    with pytest.raises(ParameterError, match="hop_ms"):
        T.stft(x, dt_ms=4.0, window_ms=40.0, hop_ms=80.0)
    with pytest.raises(ParameterError, match="window"):
        T.stft(x, dt_ms=4.0, window="no-such-window")


# =========================================================================== CWT
def test_cwt_matches_pywt_per_trace() -> None:
    x = np.random.default_rng(2).normal(size=(3, 90))
    scales = np.array([2.0, 3.5, 6.0, 11.0])
    res = T.cwt(x, dt_ms=2.0, wavelet="cmor", scales=scales, bandwidth=1.5, center_frequency=1.0)
    for i in range(3):
        ref, freqs = pywt.cwt(x[i], scales, "cmor1.5-1.0", sampling_period=0.002, method="fft")
        np.testing.assert_allclose(res.values[i], ref, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(res.frequencies_hz, freqs)
    assert res.values.shape == (3, 4, 90)
    assert res.wavelet == "cmor1.5-1"


@pytest.mark.parametrize("wavelet", ["morlet", "cmor", "mexican-hat"])
def test_cwt_frequencies_locate_a_sine(wavelet: str) -> None:
    dt = 0.002
    t = np.arange(600) * dt
    x = np.sin(2 * np.pi * 40.0 * t)
    freqs = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    res = T.cwt(x, dt_ms=2.0, wavelet=wavelet, frequencies_hz=freqs)
    np.testing.assert_allclose(res.frequencies_hz, freqs, rtol=1e-12)
    energy = (np.abs(res.values[:, 150:450]) ** 2).mean(axis=-1)
    # Scales are exact for a given frequency; the Mexican hat's centre frequency is broad.
    assert freqs[int(np.argmax(energy))] == pytest.approx(40.0, rel=0.6 if wavelet == "mexican-hat" else 1e-9)


def test_cwt_default_frequencies_and_bad_inputs(section: SeismicData) -> None:
    res = T.cwt(section)
    assert res.values.shape == (24, 32, 128)
    assert res.frequencies_hz.max() < 125.0
    assert res.frequencies_hz.min() > 0
    with pytest.raises(ParameterError, match="frequencies_hz"):
        T.cwt(section, frequencies_hz=[10.0, 200.0])  # Nyquist is 125 Hz
    with pytest.raises(ParameterError, match="wavelet"):
        T.cwt(section, wavelet="haar")
    with pytest.raises(ParameterError, match="scales"):
        T.cwt(section, scales=[1.0, -2.0])
    with pytest.raises(ParameterError, match="scales"):
        T.cwt(section, scales=[1.0], frequencies_hz=[10.0])


# =========================================================================== DWT
@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(2, 70)), elements=st.floats(-1e3, 1e3)),
    wavelet=st.sampled_from(["haar", "db4", "sym5", "coif2", "bior3.5"]),
    mode=st.sampled_from(["symmetric", "periodization", "zero", "reflect"]),
)
@settings(max_examples=60, deadline=None)
def test_dwt_and_wavedec_reconstruct_perfectly(x: np.ndarray, wavelet: str, mode: str) -> None:
    scale = max(1.0, float(np.abs(x).max()))
    d = T.dwt(x, wavelet=wavelet, mode=mode)
    ca, cd = pywt.dwt(x, wavelet, mode=mode, axis=-1)
    np.testing.assert_allclose(d.approximation, ca)
    np.testing.assert_allclose(d.detail, cd)
    np.testing.assert_allclose(T.idwt(d), x, atol=1e-9 * scale)
    dec = T.wavedec(x, wavelet=wavelet, mode=mode)
    assert len(dec.coefficients) == dec.level + 1
    np.testing.assert_allclose(T.waverec(dec), x, atol=1e-9 * scale)


def test_wavedec_levels_and_seismicdata(section: SeismicData) -> None:
    dec = T.wavedec(section, wavelet="db2", level=3)
    ref = pywt.wavedec(section.values, "db2", level=3, axis=-1)
    assert len(dec.coefficients) == 4
    for a, b in zip(dec.coefficients, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    out = T.waverec(dec)
    assert isinstance(out, SeismicData)
    np.testing.assert_allclose(out.values, section.values, atol=1e-5 * np.abs(section.values).max())
    assert out.history[-1]["parameters"] == {"wavelet": "db2", "mode": "symmetric", "level": 3}
    # Zeroing the finest details is a denoising step that still inverts to a section.
    coarse = dec.with_coefficients([*dec.coefficients[:-1], np.zeros_like(dec.coefficients[-1])])
    assert T.itransform(coarse).shape == section.shape
    with pytest.raises(ParameterError, match="level"):
        T.wavedec(section, wavelet="db2", level=30)
    with pytest.raises(ParameterError, match="wavelet"):
        T.dwt(section, wavelet="morl")
    with pytest.raises(ParameterError, match="mode"):
        T.dwt(section, mode="bogus")


# =========================================================================== Stockwell
def _st_direct(h: np.ndarray, voices: np.ndarray, periodic: bool) -> np.ndarray:
    """S(tau, f) = sum_t h(t) |f| / sqrt(2 pi) exp(-(tau - t)^2 f^2 / 2) exp(-2i pi f t), evaluated
    sample by sample (t, tau in samples, f = n / N cycles per sample); ``periodic`` adds the Gaussian's
    images up to ten periods away (the window of the frequency-domain algorithm is periodic)."""
    n = h.size
    t = np.arange(n)
    out = np.zeros((voices.size, n), dtype=complex)
    for i, v in enumerate(voices):
        f = v / n
        if v == 0:
            out[i] = h.mean()
            continue
        for tau in range(n):
            shifts = range(-10, 11) if periodic else range(1)
            g = sum(np.exp(-((tau - t + s * n) ** 2) * f**2 / 2.0) for s in shifts)
            out[i, tau] = np.sum(h * abs(f) / np.sqrt(2 * np.pi) * g * np.exp(-2j * np.pi * f * t))
    return out


def test_stransform_matches_time_domain_definition() -> None:
    rng = np.random.default_rng(7)
    h = rng.normal(size=40)
    res = T.stransform(h, dt_ms=1.0)
    assert res.values.shape == (21, 40)
    direct = _st_direct(h, res.voices, periodic=True)
    np.testing.assert_allclose(res.values, direct, atol=1e-9 * np.abs(direct).max())


def test_stransform_matches_literal_definition_away_from_wraparound() -> None:
    """The literal (non-periodic) definition agrees where the Gaussian is narrow next to the zero
    margins around a compact signal."""
    n = 96
    _, w = ricker(60.0, 1.0)
    h = np.zeros(n)
    h[48 - w.size // 2 : 48 + w.size // 2 + 1] = w
    res = T.stransform(h, dt_ms=1.0, fmin_hz=n / 96.0 * 1000.0 / 8)  # voices n >= 12: sigma <= 8 samples
    direct = _st_direct(h, res.voices, periodic=False)
    np.testing.assert_allclose(res.values, direct, atol=1e-6 * np.abs(direct).max())


@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(2, 48)), elements=st.floats(-1e3, 1e3)),
    width=st.floats(0.5, 3.0),
)
@settings(max_examples=60, deadline=None)
def test_stransform_sums_to_fourier_spectrum_and_inverts(x: np.ndarray, width: float) -> None:
    res = T.stransform(x, dt_ms=2.0, width=width)
    scale = max(1.0, float(np.abs(x).max())) * x.shape[-1]
    np.testing.assert_allclose(
        res.values.sum(axis=-1), np.fft.rfft(x)[..., : res.voices.size], atol=1e-9 * scale
    )
    np.testing.assert_allclose(T.istransform(res), x, atol=1e-9 * scale)


def test_stransform_vectorised_band_and_section(section: SeismicData) -> None:
    x = section.values.astype(np.float64)[:4]
    res = T.stransform(x, dt_ms=4.0, fmin_hz=10.0, fmax_hz=60.0)
    one = T.stransform(x[2], dt_ms=4.0, fmin_hz=10.0, fmax_hz=60.0)
    np.testing.assert_allclose(res.values[2], one.values, rtol=1e-12, atol=1e-12)
    df = 1 / (128 * 0.004)
    assert res.frequencies_hz[0] >= 10.0 - 1e-9
    assert res.frequencies_hz[-1] <= 60.0 + 1e-9
    np.testing.assert_allclose(np.diff(res.frequencies_hz), df)
    # Band-limited inverse: the trace filtered to the band (an ideal band-pass).
    spec = np.fft.rfft(x)
    keep = (np.fft.rfftfreq(128, 0.004) >= res.frequencies_hz[0] - 1e-9) & (
        np.fft.rfftfreq(128, 0.004) <= res.frequencies_hz[-1] + 1e-9
    )
    np.testing.assert_allclose(T.istransform(res), np.fft.irfft(spec * keep, n=128), atol=1e-9)
    full = T.stransform(section, fmax_hz=62.5)
    assert full.values.dtype == np.complex64
    assert full.values.shape[:2] == (24, full.voices.size)


def test_stransform_localises_a_chirp_and_bad_inputs() -> None:
    dt = 0.002
    t = np.arange(500) * dt
    x = np.sin(2 * np.pi * (10.0 * t + 40.0 * t**2))  # instantaneous frequency 10 + 80 t
    res = T.stransform(x, dt_ms=2.0)
    amp = np.abs(res.values)
    for it in (125, 250, 375):
        assert res.frequencies_hz[amp[:, it].argmax()] == pytest.approx(10 + 80 * t[it], abs=4.0)
    with pytest.raises(ParameterError, match="fmax_hz"):
        T.stransform(x, dt_ms=2.0, fmax_hz=300.0)  # above Nyquist (250 Hz)
    with pytest.raises(ParameterError, match="fmax_hz"):
        T.stransform(x, dt_ms=2.0, fmin_hz=50.0, fmax_hz=40.0)
    with pytest.raises(ParameterError, match="width"):
        T.stransform(x, dt_ms=2.0, width=0.0)


# =========================================================================== Radon
@pytest.mark.parametrize("curve", ["linear", "parabolic"])
def test_radon_operator_is_pylops_radon2d(curve: str) -> None:
    from pylops.signalprocessing import Radon2D

    nt, dt = 24, 0.004
    x = (np.arange(6) - 2.5) * 10.0  # offsets, m
    slopes_s = np.linspace(-0.0008, 0.0008, 7) if curve == "linear" else np.linspace(-0.03, 0.03, 7)
    ours = T._radon_operator(curve, nt, dt, x, slopes_s, float(np.abs(x).max()))
    # Radon2D's parabolic slopes are pre-multiplied by the trace spacing and use x^2, not (x/x_max)^2.
    px = slopes_s if curve == "linear" else slopes_s * 10.0 / np.abs(x).max() ** 2
    ref = Radon2D(np.arange(nt) * dt, x, px, kind=curve, centeredh=False, engine="numpy")
    d = np.random.default_rng(3).normal(size=(6, nt))
    m = np.random.default_rng(4).normal(size=(7, nt))
    np.testing.assert_allclose(ours.H @ d.ravel(), (ref.H @ d).ravel(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours @ m.ravel(), (ref @ m).ravel(), rtol=1e-9, atol=1e-9)


def test_radon_focuses_linear_event_and_inverts() -> None:
    nx, nt, dt = 24, 96, 4.0
    x = np.arange(nx) - (nx - 1) / 2
    p0, t0 = 0.8, 200.0  # ms per trace, ms at the centre of the gather
    d = _linear_event(nx, nt, dt, p0, t0, x)
    slopes = np.linspace(-2.0, 2.0, 41)
    for method in ("adjoint", "lsqr", "sparse"):
        r = T.radon(d, dt_ms=dt, slopes=slopes, method=method)
        assert r.values.shape == (41, nt)
        assert r.slope_unit == "ms/trace"
        ip, it = np.unravel_index(np.abs(r.values).argmax(), r.values.shape)
        assert r.slopes[ip] == pytest.approx(p0)
        assert r.times_ms[it] == pytest.approx(t0)
        assert _rel(T.iradon(r), d) < 0.05, method
    adj = np.abs(T.radon(d, dt_ms=dt, slopes=slopes).values)
    sparse = np.abs(T.radon(d, dt_ms=dt, slopes=slopes, method="sparse").values)
    # The sparse panel is far more focused than the adjoint's smeared stack.
    assert (sparse > 0.05 * sparse.max()).sum() < 0.5 * (adj > 0.05 * adj.max()).sum()


def test_radon_parabolic_focuses_at_moveout_with_offsets() -> None:
    nx, nt, dt = 16, 80, 4.0
    offsets = np.linspace(0.0, 750.0, nx)  # one-sided CMP offsets, m
    q0, t0 = 24.0, 120.0  # ms of moveout at 750 m, ms at zero offset
    _, w = ricker(30.0, dt)
    t = np.arange(nt) * dt
    tw = (np.arange(w.size) - w.size // 2) * dt
    d = np.stack([np.interp(t, tw + t0 + q0 * (o / 750.0) ** 2, w, left=0.0, right=0.0) for o in offsets])
    sd = SeismicData.from_array(d.astype(np.float32), sample_interval=dt)
    r = T.radon(sd, "parabolic", offsets=offsets, slopes=np.linspace(-40, 40, 41), method="lsqr")
    ip, it = np.unravel_index(np.abs(r.values).argmax(), r.values.shape)
    assert r.slopes[ip] == pytest.approx(q0)
    assert r.times_ms[it] == pytest.approx(t0)
    back = T.iradon(r)
    assert isinstance(back, SeismicData)
    assert back.history[-1]["operation"] == "signal.iradon"
    assert _rel(back.values, d) < 0.05


def test_radon_volume_inline_by_inline_and_bad_inputs() -> None:
    nx, nt, dt = 8, 40, 4.0
    x = np.arange(nx) - (nx - 1) / 2
    g = _linear_event(nx, nt, dt, 1.0, 80.0, x)
    vol = np.stack([g, -g, 0 * g])
    r = T.radon(vol, dt_ms=dt, method="lsqr")
    one = T.radon(g, dt_ms=dt, method="lsqr")
    assert r.values.shape == (3, 2 * nx + 1, nt)
    np.testing.assert_allclose(r.values[0], one.values, atol=1e-10)
    np.testing.assert_allclose(r.values[1], -one.values, atol=1e-10)
    assert not r.values[2].any()
    assert T.iradon(r).shape == vol.shape
    with pytest.raises(ParameterError, match="curve"):
        T.radon(g, "hyperbolic", dt_ms=dt)
    with pytest.raises(ParameterError, match="method"):
        T.radon(g, dt_ms=dt, method="magic")
    with pytest.raises(ParameterError, match="offsets"):
        T.radon(g, dt_ms=dt, offsets=[1.0, 2.0])
    with pytest.raises(DataError, match="gather"):
        T.radon(g[0], dt_ms=dt)


# =========================================================================== entry points
def test_transform_dispatch_and_itransform(section: SeismicData) -> None:
    for kind, cls in [
        ("fft", T.FourierTransform),
        ("f-k", T.FKTransform),
        ("stft", T.STFTResult),
        ("cwt", T.CWTResult),
        ("dwt", T.DWTResult),
        ("wavedec", T.WaveletDecomposition),
        ("Stockwell", T.STransformResult),
    ]:
        res = T.transform(section, kind)
        assert isinstance(res, cls)
        if cls is not T.CWTResult:
            back = T.itransform(res)
            assert isinstance(back, SeismicData)
            np.testing.assert_allclose(back.values, section.values, atol=1e-5 * np.abs(section.values).max())
    assert section.history == make_survey("2d", n_traces=24, n_samples=128, seed=4).history  # untouched
    with pytest.raises(ParameterError, match="kind"):
        T.transform(section, "hilbert")
    with pytest.raises(ParameterError, match="window_length"):
        T.transform(section, "stft", window_length=3)
    with pytest.raises(ParameterError, match="result"):
        T.itransform(T.cwt(section))


# =========================================================================== real data
@pytest.mark.shared
def test_real_section_fk_and_stransform_speed() -> None:
    if not ALASKA.exists():
        pytest.skip("shared data absent")
    x = np.fromfile(ALASKA, "<f4").reshape(534, 1501)
    t0 = time.perf_counter()
    spec = T.fk(x, dt_ms=4.0)
    t_fk = time.perf_counter() - t0
    np.testing.assert_allclose(T.ifk(spec), x, atol=1e-5 * np.abs(x).max())
    t0 = time.perf_counter()
    st_ = T.stransform(x[:16], dt_ms=4.0, fmax_hz=60.0)
    t_st = time.perf_counter() - t0
    assert st_.values.shape == (16, st_.voices.size, 1501)
    assert t_fk < 2.0
    assert t_st < 5.0


def test_time_frequency_transforms_of_a_volume_keep_trace_axes() -> None:
    vol = SeismicData.from_array(
        np.random.default_rng(8).normal(size=(2, 3, 50)).astype(np.float32), sample_interval=2.0, start=100.0
    )
    st_ = T.stransform(vol, fmax_hz=100.0)
    assert st_.values.shape == (2, 3, st_.voices.size, 50)
    np.testing.assert_allclose(st_.times_ms, 100.0 + 2.0 * np.arange(50))
    one = T.stransform(vol.values[1, 2].astype(np.float64), dt_ms=2.0, fmax_hz=100.0)
    np.testing.assert_allclose(st_.values[1, 2], one.values, rtol=1e-4, atol=1e-4)
    sf = T.stft(vol, window_ms=20.0)
    assert sf.values.shape[:2] == (2, 3)
    assert sf.times_ms[0] < 100.0  # windows slide past the first sample (at 100 ms)
    assert 100.0 in sf.times_ms
    np.testing.assert_allclose(np.diff(sf.times_ms), 4.0)  # hop: a quarter of 10 samples, 2 samples
    assert T.cwt(vol, frequencies_hz=[20.0, 40.0]).values.shape == (2, 3, 2, 50)
    np.testing.assert_allclose(T.istft(sf).values, vol.values, atol=1e-5)
