"""Tests of promethium.signal.filters: frequency filters against scipy, gain, AGC, mute, taper, median and
f-k filters against analytic or independent references."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage

from promethium.core.errors import DataError, ParameterError, PromethiumWarning
from promethium.io.data import SeismicData
from promethium.signal import _fastfilter as ff
from promethium.signal.filters import (
    FilterDesign,
    agc,
    design_filter,
    filter,
    fk_filter,
    gain,
    median_filter,
    mute,
    taper,
)
from promethium.synthetic import make_survey, ricker

DT = 4.0  # ms
FS = 250.0  # Hz
SECTIONS = Path(__file__).resolve().parents[3] / "shared" / "data" / "sections"


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((23, 400))


def _sine_amplitude(y: np.ndarray, freq: float, sl: slice) -> float:
    """Least-squares amplitude of a sine of ``freq`` Hz in ``y[sl]`` (DT sampling)."""
    t = np.arange(y.shape[-1])[sl] * DT / 1000.0
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y[sl], rcond=None)
    return float(np.hypot(*coef))


# =========================================================================== design
def test_design_matches_scipy_designs() -> None:
    fd = design_filter("bandpass", low=8, high=60, order=4, dt_ms=DT)
    assert isinstance(fd, FilterDesign)
    assert fd.sos is not None
    assert not fd.is_fir
    np.testing.assert_allclose(fd.sos, ss.butter(4, [8, 60], btype="bandpass", fs=FS, output="sos"))
    fd = design_filter("lowpass", high=40, design="ellip", ripple=0.5, attenuation=50, dt_ms=DT, order=5)
    assert fd.sos is not None
    np.testing.assert_allclose(fd.sos, ss.ellip(5, 0.5, 50, 40, btype="lowpass", fs=FS, output="sos"))
    fd = design_filter("highpass", low=10, design="fir_window", numtaps=51, dt_ms=DT)
    assert fd.taps is not None
    np.testing.assert_allclose(fd.taps, ss.firwin(51, 10, pass_zero=False, fs=FS))
    fd = design_filter("notch", low=50, notch_q=20, dt_ms=DT)
    assert fd.sos is not None
    b, _ = ss.iirnotch(50, 20, fs=FS)
    np.testing.assert_allclose(ss.sos2tf(fd.sos)[0], b, atol=1e-12)
    # The applied response of a zero-phase filter is |H|^2, real; minimum phase is H itself.
    _, h2 = design_filter("bandpass", low=8, high=60, dt_ms=DT).response(np.array([8.0, 30.0, 60.0]))
    np.testing.assert_allclose(h2.real, [0.5, 1.0, 0.5], atol=2e-2)
    assert np.all(h2.imag == 0)
    fm = design_filter("bandpass", low=8, high=60, dt_ms=DT, phase="minimum")
    _, h = fm.response(np.array([30.0]))
    assert abs(abs(h[0]) - 1) < 1e-2
    assert abs(np.angle(h[0])) > 1e-3  # a causal filter shifts phase
    assert fd.gain_db(np.array([50.0]))[0] < -100


def test_fir_designs_pass_and_stop() -> None:
    for design in ("fir_window", "fir_ls"):
        for phase in ("zero", "minimum"):
            fd = design_filter("bandpass", low=10, high=50, dt_ms=DT, design=design, phase=phase)
            assert fd.taps is not None
            assert len(fd.taps) % 2 == 1
            gains = np.abs(fd.response(np.array([2.0, 30.0, 100.0]))[1])
            assert gains[1] == pytest.approx(1.0, abs=0.02)
            assert gains[0] < 0.01
            assert gains[2] < 0.01


# =========================================================================== filter vs scipy
IIR_CASES = [
    ("lowpass", {"high": 40.0}),
    ("highpass", {"low": 10.0}),
    ("bandpass", {"low": 8.0, "high": 50.0}),
    ("bandstop", {"low": 20.0, "high": 40.0}),
    ("notch", {"low": 50.0}),
]


@pytest.mark.parametrize("design", ["butter", "cheby1", "cheby2", "ellip"])
@pytest.mark.parametrize(("kind", "corners"), IIR_CASES)
def test_iir_matches_sosfiltfilt_and_sosfilt(
    noise: np.ndarray, design: str, kind: str, corners: dict
) -> None:
    fd = design_filter(kind, dt_ms=DT, design=design, **corners)
    assert fd.sos is not None
    zero = filter(noise, kind, dt_ms=DT, design=design, **corners)
    ref = ss.sosfiltfilt(fd.sos, noise, axis=-1)
    # The fast kernel reproduces sosfiltfilt everywhere, not just in the interior.
    np.testing.assert_allclose(zero, ref, rtol=0, atol=1e-10 * np.abs(ref).max())
    causal = filter(noise, kind, dt_ms=DT, design=design, phase="minimum", **corners)
    np.testing.assert_allclose(causal, ss.sosfilt(fd.sos, noise, axis=-1), rtol=0, atol=1e-10)


@pytest.mark.parametrize("design", ["fir_window", "fir_ls"])
@pytest.mark.parametrize(("kind", "corners"), IIR_CASES)
def test_fir_matches_filtfilt_and_lfilter(noise: np.ndarray, design: str, kind: str, corners: dict) -> None:
    numtaps = 41 if kind != "notch" else 101
    fd = design_filter(kind, dt_ms=DT, design=design, numtaps=numtaps, **corners)
    assert fd.taps is not None
    zero = filter(noise, kind, dt_ms=DT, design=design, numtaps=numtaps, **corners)
    ref = ss.filtfilt(fd.taps, [1.0], noise, axis=-1)
    np.testing.assert_allclose(zero, ref, rtol=0, atol=1e-12)
    causal = filter(noise, kind, dt_ms=DT, design=design, numtaps=numtaps, phase="minimum", **corners)
    taps = ss.minimum_phase(fd.taps, half=False)
    np.testing.assert_allclose(causal, ss.lfilter(taps, [1.0], noise, axis=-1), rtol=0, atol=1e-12)


def test_short_traces_shrink_the_padding() -> None:
    x = np.random.default_rng(3).standard_normal((4, 20))
    fd = design_filter("bandpass", low=8, high=60, dt_ms=DT)
    assert fd.sos is not None
    out = filter(x, "bandpass", low=8, high=60, dt_ms=DT)
    np.testing.assert_allclose(out, ss.sosfiltfilt(fd.sos, x, padlen=19), atol=1e-12)
    taps_out = filter(x, "lowpass", high=40, dt_ms=DT, design="fir_window", numtaps=31)
    taps = design_filter("lowpass", high=40, dt_ms=DT, design="fir_window", numtaps=31).taps
    assert taps is not None
    np.testing.assert_allclose(taps_out, ss.filtfilt(taps, [1.0], x, padlen=19), atol=1e-12)


def test_engines_agree_in_the_interior() -> None:
    x = np.random.default_rng(1).standard_normal((6, 1500)).astype(np.float32)
    fd = design_filter("bandpass", low=8, high=60, dt_ms=DT)
    assert fd.sos is not None
    ref = ss.sosfiltfilt(fd.sos, x.astype(np.float64), axis=-1)
    edge = fd.impulse_length()
    inner = slice(edge, -edge)
    scale = np.abs(ref).max()
    for engine in ("fast", "scipy", "fft"):
        out = filter(x, "bandpass", low=8, high=60, dt_ms=DT, engine=engine)
        assert out.dtype == np.float32
        assert np.abs(out[:, inner] - ref[:, inner]).max() / scale < 1e-3, engine
    causal = filter(x, "highpass", low=6, dt_ms=DT, phase="minimum", engine="fft")
    hp = design_filter("highpass", low=6, dt_ms=DT)
    assert hp.sos is not None
    np.testing.assert_allclose(causal, ss.sosfilt(hp.sos, x.astype(np.float64)), atol=1e-4)


def test_fft_kernel_extension_longer_than_trace() -> None:
    # Impulse response longer than the trace: the odd extension is held constant beyond n - 1 samples.
    x = np.random.default_rng(2).standard_normal((3, 50))
    fd = design_filter("highpass", low=3, dt_ms=DT)
    out = ff.fft_apply_torch(
        x, lambda f: fd.single_pass(f * fd.fs), extend=fd.impulse_length(), zero_phase=True, device="cpu"
    )
    assert out.shape == x.shape
    assert np.isfinite(out).all()
    assert out.dtype == np.float64


def test_passband_and_stopband_amplitudes() -> None:
    n = 2000
    t = np.arange(n) * DT / 1000.0
    fd = design_filter("bandpass", low=8, high=60, dt_ms=DT)
    inner = slice(fd.impulse_length(), n - fd.impulse_length())
    for freq in (20.0, 30.0, 40.0):
        y = filter(np.sin(2 * np.pi * freq * t), "bandpass", low=8, high=60, dt_ms=DT)
        assert _sine_amplitude(y, freq, inner) == pytest.approx(1.0, rel=0.01)
        expected = float(fd.response(np.array([freq]))[1][0].real)
        assert _sine_amplitude(y, freq, inner) == pytest.approx(expected, rel=1e-4)
    for freq in (2.0, 100.0):
        y = filter(np.sin(2 * np.pi * freq * t), "bandpass", low=8, high=60, dt_ms=DT)
        expected_db = float(fd.gain_db(np.array([freq]))[0])
        assert expected_db < -30  # twice the dB of one pass
        measured_db = 20 * np.log10(_sine_amplitude(y, freq, inner))
        assert measured_db == pytest.approx(expected_db, abs=0.5)
    # Notch: 50 Hz goes, 20 Hz stays.
    y50 = filter(np.sin(2 * np.pi * 50 * t), "notch", low=50, dt_ms=DT)
    y20 = filter(np.sin(2 * np.pi * 20 * t), "notch", low=50, dt_ms=DT)
    assert _sine_amplitude(y50, 50, slice(600, 1400)) < 1e-3
    assert _sine_amplitude(y20, 20, slice(600, 1400)) == pytest.approx(1.0, rel=0.01)


def test_seismicdata_history_dtype_and_3d() -> None:
    vol = make_survey("3d", n_inline=3, n_crossline=4, n_samples=200, dt_ms=DT, seed=1)
    out = filter(vol, "bandpass", low=8, high=50)
    assert isinstance(out, SeismicData)
    assert out.values.dtype == np.float32
    entry = out.history[-1]
    assert entry["operation"] == "signal.filter"
    params = entry["parameters"]
    assert params["low"] == 8.0
    assert params["high"] == 50.0
    assert params["order"] == 4
    assert params["design"] == "butter"
    assert params["phase"] == "zero"
    assert params["engine"] == "fast"
    assert params["device"] == "cpu"
    assert len(out.history) == len(vol.history) + 1
    flat = filter(vol.values.reshape(12, 200), "bandpass", low=8, high=50, dt_ms=DT)
    np.testing.assert_array_equal(out.values.reshape(12, 200), flat)
    # One trace in, one trace out.
    one = filter(vol.values[0, 0], "bandpass", low=8, high=50, dt_ms=DT)
    assert one.shape == (200,)
    np.testing.assert_array_equal(one, flat[0])


def test_dead_traces_stay_zero() -> None:
    x = np.random.default_rng(4).standard_normal((5, 300))
    x[2] = 0
    for kind, kw in (("bandpass", {"low": 8, "high": 60}), ("lowpass", {"high": 30})):
        out = filter(x, kind, dt_ms=DT, **kw)
        assert np.all(out[2] == 0)
    assert np.all(agc(x, 200, dt_ms=DT)[2] == 0)


@pytest.mark.shared
def test_real_section_matches_sosfiltfilt() -> None:
    path = SECTIONS / "alaska_1501x534_4ms.f32"
    if not path.exists():
        pytest.skip("shared real sections are absent")
    x = np.fromfile(path, "<f4").reshape(534, 1501)[:40]
    fd = design_filter("bandpass", low=10, high=45, dt_ms=4.0)
    assert fd.sos is not None
    ref = ss.sosfiltfilt(fd.sos, x, axis=-1)
    out = filter(x, "bandpass", low=10, high=45, dt_ms=4.0)
    assert np.abs(out - ref).max() / np.abs(ref).max() < 1e-6


# =========================================================================== filter properties
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(np.float64, (2, 64), elements=finite),
    hnp.arrays(np.float64, (2, 64), elements=finite),
    st.floats(-10, 10),
)
def test_filter_is_linear(x: np.ndarray, y: np.ndarray, a: float) -> None:
    kw = {"low": 8.0, "high": 60.0, "dt_ms": DT}
    lhs = filter(a * x + y, "bandpass", **kw)
    rhs = a * filter(x, "bandpass", **kw) + filter(y, "bandpass", **kw)
    scale = 1.0 + np.abs(a * x).max() + np.abs(y).max()
    np.testing.assert_allclose(lhs, rhs, atol=1e-9 * scale)


@settings(max_examples=25, deadline=None)
@given(st.floats(-1e4, 1e4), st.integers(2, 300))
def test_lowpass_keeps_a_constant(c: float, n: int) -> None:
    out = filter(np.full((1, n), c), "lowpass", high=30.0, dt_ms=DT)
    np.testing.assert_allclose(out, c, atol=1e-9 * (1 + abs(c)))


# =========================================================================== filter errors
def test_filter_parameter_errors(noise: np.ndarray) -> None:
    cases = [
        ({"kind": "bandpass", "low": 8, "high": 130}, "high"),  # above Nyquist (125 Hz)
        ({"kind": "bandpass", "low": 0, "high": 60}, "low"),
        ({"kind": "bandpass", "low": 125, "high": 60}, "low"),
        ({"kind": "bandpass", "low": 60, "high": 8}, "high"),  # order
        ({"kind": "bandpass", "low": 30, "high": 30}, "high"),
        ({"kind": "bandpass", "low": 8}, "high"),
        ({"kind": "lowpass", "low": 8}, "high"),
        ({"kind": "lowpass", "high": 30, "low": 8}, "low"),
        ({"kind": "highpass", "high": 30}, "low"),
        ({"kind": "highpass", "low": float("nan")}, "low"),
        ({"kind": "notch", "low": 50, "high": 60}, "high"),
        ({"kind": "bandy", "low": 8, "high": 60}, "kind"),
        ({"kind": "bandpass", "low": 8, "high": 60, "design": "bessel"}, "design"),
        ({"kind": "bandpass", "low": 8, "high": 60, "phase": "linear"}, "phase"),
        ({"kind": "bandpass", "low": 8, "high": 60, "order": 0}, "order"),
        ({"kind": "bandpass", "low": 8, "high": 60, "order": 2.5}, "order"),
        ({"kind": "bandpass", "low": 8, "high": 60, "design": "fir_window", "numtaps": 40}, "numtaps"),
        ({"kind": "bandpass", "low": 8, "high": 60, "design": "ellip", "attenuation": 0.5}, "attenuation"),
        ({"kind": "bandpass", "low": 8, "high": 60, "ripple": -1}, "ripple"),
        ({"kind": "notch", "low": 50, "notch_q": 0}, "notch_q"),
        ({"kind": "notch", "low": 100, "notch_q": 0.5, "design": "fir_ls"}, "notch_q"),
        ({"kind": "bandpass", "low": 8, "high": 60, "engine": "gpu"}, "engine"),
        ({"kind": "bandpass", "low": 8, "high": 60, "device": "tpu"}, "device"),
        ({"kind": "bandpass", "low": 8, "high": 60, "device": "cuda:x"}, "device"),
    ]
    for kwargs, name in cases:
        kwargs = dict(kwargs)
        kind = kwargs.pop("kind")
        with pytest.raises(ParameterError) as info:
            filter(noise, kind, dt_ms=DT, **kwargs)
        assert info.value.parameter == name, (kwargs, info.value)
        assert name in str(info.value)
    with pytest.raises(ParameterError, match="dt_ms"):
        filter(noise, "bandpass", low=8, high=60)
    with pytest.raises(ParameterError, match="dt_ms"):
        design_filter("bandpass", low=8, high=60, dt_ms=-4)
    with pytest.raises(ParameterError, match=r"Nyquist|125") as info:
        filter(noise, "lowpass", high=125, dt_ms=DT)
    assert info.value.allowed is not None
    assert "125" in info.value.allowed


def test_filter_data_errors(noise: np.ndarray) -> None:
    bad = noise.copy()
    bad[1, 5] = np.nan
    with pytest.raises(DataError):
        filter(bad, "bandpass", low=8, high=60, dt_ms=DT)
    bad[1, 5] = np.inf
    with pytest.raises(DataError):
        filter(bad, "bandpass", low=8, high=60, dt_ms=DT)
    with pytest.raises(DataError):
        filter(np.zeros((0, 10)), "bandpass", low=8, high=60, dt_ms=DT)


def test_device_argument() -> None:
    import torch

    x = np.random.default_rng(5).standard_normal((3, 300)).astype(np.float32)
    cpu = filter(x, "bandpass", low=8, high=60, dt_ms=DT)
    np.testing.assert_array_equal(filter(x, "bandpass", low=8, high=60, dt_ms=DT, device="cpu"), cpu)
    if torch.cuda.is_available():  # pragma: no cover - GPU machines only
        gpu = filter(x, "bandpass", low=8, high=60, dt_ms=DT, device="cuda")
        assert gpu.dtype == np.float32
        with pytest.raises(ParameterError, match="engine"):
            filter(x, "bandpass", low=8, high=60, dt_ms=DT, device="cuda", engine="fast")
        edge = design_filter("bandpass", low=8, high=60, dt_ms=DT).impulse_length()
        assert np.abs(gpu - cpu)[:, edge:-edge].max() < 1e-3 * np.abs(cpu).max()
    else:
        with pytest.warns(PromethiumWarning, match="CUDA"):
            out = filter(x, "bandpass", low=8, high=60, dt_ms=DT, device="cuda")
        np.testing.assert_array_equal(out, cpu)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(filter(x, "bandpass", low=8, high=60, dt_ms=DT, device="auto"), cpu)


# =========================================================================== AGC and gain
def _agc_reference(x: np.ndarray, half: int) -> np.ndarray:
    """Plain loop over samples: RMS over the window cut at the ends."""
    out = np.zeros_like(x)
    for i in range(x.shape[-1]):
        w = x[..., max(0, i - half) : i + half + 1]
        rms = np.sqrt((w * w).mean(axis=-1))
        out[..., i] = np.divide(x[..., i], rms, out=np.zeros_like(rms), where=rms > 0)
    return out


def test_agc_rms_matches_loop_reference() -> None:
    x = np.random.default_rng(6).standard_normal((3, 120)) * np.linspace(0.1, 10, 120)
    out = agc(x, window_ms=40.0, dt_ms=DT)  # 10 samples -> 11-sample window
    np.testing.assert_allclose(out, _agc_reference(x, 5), rtol=1e-10)
    data = SeismicData.from_array(x.astype(np.float32), sample_interval=DT)
    res = agc(data, 40.0)
    assert isinstance(res, SeismicData)
    assert res.values.dtype == np.float32
    assert res.history[-1]["operation"] == "signal.agc"
    assert res.history[-1]["parameters"] == {"window_ms": 40.0, "kind": "rms", "window_samples": 11}


def test_agc_kinds_balance_amplitude() -> None:
    t = np.arange(1000) * DT / 1000
    x = np.sin(2 * np.pi * 20 * t) * np.exp(3 * t)  # amplitude grows 1 -> e^12
    for kind in ("rms", "mean", "instantaneous"):
        out = agc(x, 200.0, kind=kind, dt_ms=DT)
        peaks = [np.abs(out[a : a + 100]).max() for a in range(100, 900, 100)]
        assert max(peaks) / min(peaks) < 1.05, kind
    steady = 7.0 * np.sin(2 * np.pi * 20 * t)
    rms = agc(steady, 200.0, dt_ms=DT)
    assert np.sqrt(np.mean(rms[400:600] ** 2)) == pytest.approx(1.0, rel=0.01)
    mean = agc(steady, 200.0, kind="mean", dt_ms=DT)
    assert np.mean(np.abs(mean[400:600])) == pytest.approx(1.0, rel=0.01)
    inst = agc(steady, 200.0, kind="instantaneous", dt_ms=DT)
    assert np.abs(inst[400:600]).max() == pytest.approx(1.0, rel=0.01)  # envelope of a sine: its amplitude


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, (2, 50), elements=finite), st.floats(1e-3, 1e3))
def test_agc_is_scale_invariant(x: np.ndarray, c: float) -> None:
    a = agc(x, 20.0, dt_ms=DT)
    b = agc(c * x, 20.0, dt_ms=DT)
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_agc_errors() -> None:
    x = np.ones((2, 10))
    with pytest.raises(ParameterError, match="window_ms"):
        agc(x, 0.0, dt_ms=DT)
    with pytest.raises(ParameterError, match="kind"):
        agc(x, 100.0, kind="peak", dt_ms=DT)
    with pytest.raises(ParameterError, match="dt_ms"):
        agc(x, 100.0)


def test_gain_analytic() -> None:
    x = np.ones((2, 100))
    t = np.arange(100) * DT / 1000
    np.testing.assert_allclose(gain(x, "tpow", power=2.0, dt_ms=DT), np.broadcast_to(t**2, (2, 100)))
    np.testing.assert_allclose(
        gain(x, "exp", alpha=1.5, dt_ms=DT), np.broadcast_to(np.exp(1.5 * t), (2, 100))
    )
    # SeismicData: the time axis (here starting at 100 ms) gives t.
    data = SeismicData.from_array(np.ones((2, 100), np.float32), sample_interval=DT, start=100.0)
    out = gain(data, "tpow", power=1.0)
    assert isinstance(out, SeismicData)
    np.testing.assert_allclose(out.values[0], (100 + np.arange(100) * DT) / 1000, rtol=1e-6)
    assert out.history[-1]["parameters"] == {"kind": "tpow", "power": 1.0, "alpha": 1.0}
    with pytest.raises(ParameterError, match="power"):
        gain(x, "tpow", power=-1, dt_ms=DT)
    with pytest.raises(ParameterError, match="alpha"):
        gain(np.ones((1, 100), np.float32) * 1e30, "exp", alpha=100, dt_ms=1000.0)
    with pytest.raises(ParameterError, match="kind"):
        gain(x, "agc", dt_ms=DT)


# =========================================================================== mute and taper
def test_mute_times_and_taper() -> None:
    x = np.ones((3, 100))
    t = np.arange(100) * DT
    out = mute(x, "top", times_ms=np.array([40.0, 80.0, 120.0]), taper_ms=20.0, dt_ms=DT)
    for i, tm in enumerate((40.0, 80.0, 120.0)):
        assert np.all(out[i, t <= tm] == 0)
        assert np.all(out[i, t >= tm + 20] == 1)
        ramp = out[i, (t > tm) & (t < tm + 20)]
        assert np.all(np.diff(ramp) > 0)
        np.testing.assert_allclose(ramp, 0.5 - 0.5 * np.cos(np.pi * (t[(t > tm) & (t < tm + 20)] - tm) / 20))
    bottom = mute(x, "bottom", times_ms=200.0, taper_ms=0.0, dt_ms=DT)
    np.testing.assert_array_equal(bottom, np.broadcast_to((t <= 200).astype(float), (3, 100)))


def test_mute_velocity_and_offsets() -> None:
    offsets = np.array([0.0, 480.0, -1000.0])
    out = mute(np.ones((3, 200)), "top", velocity=2000.0, offsets=offsets, t0_ms=40, taper_ms=0, dt_ms=DT)
    expected = 40 + 1000 * np.abs(offsets) / 2000.0
    first_live = np.argmax(out > 0, axis=1) * DT
    np.testing.assert_allclose(first_live, expected)
    data = SeismicData.from_array(
        np.ones((3, 200), np.float32), sample_interval=DT, headers={"offset": offsets}
    )
    res = mute(data, velocity=2000.0, t0_ms=40, taper_ms=0)
    assert isinstance(res, SeismicData)
    np.testing.assert_array_equal(res.values, out.astype(np.float32))
    assert res.history[-1]["operation"] == "signal.mute"
    with pytest.raises(ParameterError, match="offsets"):
        mute(np.ones((3, 20)), velocity=2000.0, dt_ms=DT)
    with pytest.raises(ParameterError, match="times_ms"):
        mute(np.ones((3, 20)), times_ms=[1.0, 2.0], dt_ms=DT)
    with pytest.raises(ParameterError, match="times_ms"):
        mute(np.ones((3, 20)), dt_ms=DT)
    with pytest.raises(ParameterError, match="velocity"):
        mute(np.ones((3, 20)), velocity=-1.0, offsets=offsets, dt_ms=DT)
    with pytest.raises(ParameterError, match="taper_ms"):
        mute(np.ones((3, 20)), times_ms=10.0, taper_ms=-1, dt_ms=DT)


def test_taper_matches_tukey() -> None:
    x = np.ones((4, 101))
    out = taper(x, "time", length=10, kind="hann")
    np.testing.assert_allclose(out[0], ss.windows.tukey(101, alpha=20 / 100), atol=1e-12)
    lin = taper(x, "time", length=10, kind="linear", ends="start")
    np.testing.assert_allclose(lin[0, :10], np.arange(10) / 10)
    assert np.all(lin[0, 10:] == 1)
    cos = taper(x, "time", length=4, kind="cosine", ends="end")
    np.testing.assert_allclose(cos[0, -4:], np.sin(0.5 * np.pi * np.arange(4) / 4)[::-1])
    vol = np.ones((6, 8, 5))
    tv = taper(vol, "trace", length=2, kind="linear")
    np.testing.assert_allclose(tv[:, :, 0], np.outer([0, 0.5, 1, 1, 0.5, 0], [0, 0.5, 1, 1, 1, 1, 0.5, 0]))
    with pytest.raises(ParameterError, match="length"):
        taper(x, "time", length=60)
    with pytest.raises(ParameterError, match="axis"):
        taper(x, "depth")
    with pytest.raises(ParameterError, match="kind"):
        taper(x, kind="blackman")


@settings(max_examples=20, deadline=None)
@given(
    hnp.arrays(np.float64, (3, 40), elements=finite), st.integers(0, 20), st.sampled_from(["hann", "linear"])
)
def test_taper_and_mute_never_amplify(x: np.ndarray, length: int, kind: str) -> None:
    assert np.all(np.abs(taper(x, "time", length=length, kind=kind)) <= np.abs(x))
    assert np.all(np.abs(mute(x, times_ms=float(length * DT), dt_ms=DT)) <= np.abs(x))


# =========================================================================== median filter
def test_median_filter_matches_ndimage_and_despikes() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((20, 60))
    np.testing.assert_array_equal(median_filter(x, (3, 5)), ndimage.median_filter(x, size=(3, 5)))
    vol = rng.standard_normal((4, 5, 30))
    np.testing.assert_array_equal(median_filter(vol, (3, 5)), ndimage.median_filter(vol, size=(3, 3, 5)))
    t = np.arange(200) * DT / 1000
    clean = np.sin(2 * np.pi * 5 * t) + 0.05 * rng.standard_normal((4, 200))
    spiky = clean.copy()
    spikes = [(0, 50), (1, 120), (3, 7)]
    for i, j in spikes:
        spiky[i, j] += 20
    out = median_filter(spiky, (1, 5), threshold=5.0)
    # Hampel reference, one sample at a time (windows cut at the ends here, so skip 2 edge samples).
    for i in range(4):
        for j in range(2, 198):
            w = spiky[i, j - 2 : j + 3]
            m = np.median(w)
            expected = m if abs(spiky[i, j] - m) > 5.0 * 1.4826 * np.median(np.abs(w - m)) else spiky[i, j]
            assert out[i, j] == expected
    assert np.abs(out - clean).max() < 0.3
    changed = out != spiky
    assert all(changed[i, j] for i, j in spikes)
    assert changed.sum() <= len(spikes) + 2  # the odd 5-sigma noise sample may go too
    data = SeismicData.from_array(spiky, sample_interval=DT)
    res = median_filter(data, (1, 5), threshold=5.0)
    assert isinstance(res, SeismicData)
    assert res.history[-1]["parameters"]["n_spikes"] == changed.sum()
    with pytest.raises(ParameterError, match="size"):
        median_filter(x, (0, 3))
    with pytest.raises(ParameterError, match="size"):
        median_filter(x, (1, 2, 3, 4))
    with pytest.raises(ParameterError, match="threshold"):
        median_filter(x, threshold=0)


# =========================================================================== f-k filter
def _linear_event(n_tr: int, n_s: int, t0_ms: float, dip: float) -> np.ndarray:
    """A 25 Hz Ricker along t = t0 + dip * trace (ms), built in the frequency domain (exact shifts)."""
    _, w = ricker(25.0, DT)
    wave = np.zeros(n_s)
    wave[: len(w)] = w
    spec = np.fft.rfft(wave)
    f = np.fft.rfftfreq(n_s, DT / 1000)
    shifts = (t0_ms - (len(w) // 2) * DT + dip * np.arange(n_tr)) / 1000  # peak at t0 + dip * trace
    return np.fft.irfft(spec[None, :] * np.exp(-2j * np.pi * f[None, :] * shifts[:, None]), n=n_s)


def test_fk_filter_removes_one_dip_keeps_another() -> None:
    flat = _linear_event(48, 256, 200.0, 0.0)
    steep = _linear_event(48, 256, 300.0, -4.0)
    both = flat + steep
    e = lambda a: float(np.sum(a**2))  # noqa: E731
    rejected = fk_filter(both, "reject", dips=(-8.0, -2.0), dt_ms=DT)
    assert e(rejected - flat) / e(steep) < 0.05
    assert e(rejected) / e(flat) == pytest.approx(1.0, abs=0.1)
    passed = fk_filter(both, "pass", dips=(-8.0, -2.0), dt_ms=DT)
    assert e(passed - steep) / e(steep) < 0.05
    np.testing.assert_allclose(passed + rejected, both, atol=1e-10)  # pass + reject = identity
    # Velocity form: |dip| = 1000 * dx / v, both signs.
    by_v = fk_filter(both, "reject", velocities=(12.5, 50.0), trace_spacing=0.1, taper=1.5, dt_ms=DT)
    by_d = fk_filter(both, "reject", dips=(2.0, 8.0), taper=1.5, dt_ms=DT)
    assert e(by_v - flat) / e(steep) < 0.05
    assert e(by_d - both) / e(steep) < 0.05  # a positive dip range leaves the negative dip alone


def test_fk_filter_3d_per_inline_and_history() -> None:
    vol = np.stack([_linear_event(32, 128, 100.0, d) for d in (0.0, 3.0, -3.0)])
    data = SeismicData.from_array(vol.astype(np.float32), sample_interval=DT)
    out = fk_filter(data, "reject", dips=(2.0, 6.0))
    assert isinstance(out, SeismicData)
    assert out.values.dtype == np.float32
    for i in range(3):
        np.testing.assert_allclose(
            out.values[i], fk_filter(vol[i], "reject", dips=(2.0, 6.0), dt_ms=DT), atol=1e-5
        )
    assert np.sum(out.values[1] ** 2) < 0.05 * np.sum(vol[1] ** 2)
    assert np.sum(out.values[2] ** 2) > 0.9 * np.sum(vol[2] ** 2)
    entry = out.history[-1]
    assert entry["operation"] == "signal.fk_filter"
    assert entry["parameters"]["dips"] == [2.0, 6.0]
    assert entry["parameters"]["taper"] == 1.0


def test_fk_filter_errors() -> None:
    x = np.zeros((8, 32))
    with pytest.raises(ParameterError, match="dips"):
        fk_filter(x, dt_ms=DT)
    with pytest.raises(ParameterError, match="dips"):
        fk_filter(x, dips=(5.0, 1.0), dt_ms=DT)
    with pytest.raises(ParameterError, match="trace_spacing"):
        fk_filter(x, velocities=(1000.0, 3000.0), dt_ms=DT)
    with pytest.raises(ParameterError, match="velocities"):
        fk_filter(x, velocities=(3000.0, 1000.0), trace_spacing=10.0, dt_ms=DT)
    with pytest.raises(ParameterError, match="kind"):
        fk_filter(x, "keep", dips=(1.0, 2.0), dt_ms=DT)
    with pytest.raises(DataError):
        fk_filter(np.zeros(32), dips=(1.0, 2.0), dt_ms=DT)


def test_agc_of_tiny_amplitudes_is_the_agc_of_normal_ones() -> None:
    """Regression (hypothesis found it): squares of 1e-160 underflow; the gain must not depend on scale."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 50))
    for c in (1.6e-160, 2.0, 1e150):
        np.testing.assert_allclose(agc(c * x, 20.0, dt_ms=DT), agc(x, 20.0, dt_ms=DT), rtol=1e-9, atol=1e-12)
    flat = np.full((2, 50), 1.6e-160)
    np.testing.assert_allclose(agc(flat, 20.0, dt_ms=DT), agc(2 * flat, 20.0, dt_ms=DT), rtol=1e-9)
