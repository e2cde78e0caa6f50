"""promethium.signal.decon: batched Levinson against scipy, spiking and predictive deconvolution on
synthetics with a known reflectivity and minimum-phase wavelet, and statistical wavelet estimation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import solve_toeplitz

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal.decon import WaveletEstimate, deconvolve, estimate_wavelet, levinson
from promethium.synthetic import ricker

DT = 4.0  # ms
RNG = np.random.default_rng(7)


def min_phase_wavelet(n: int = 60) -> np.ndarray:
    """Impulse response of (1 + 0.5 z⁻¹) / (1 − 2 r cos θ z⁻¹ + r² z⁻²): zero and poles inside the unit
    circle, so minimum phase by construction (a 25 Hz damped oscillation at 4 ms)."""
    r, theta = 0.75, 2 * np.pi * 25 * DT / 1000
    impulse = np.zeros(n)
    impulse[0] = 1.0
    return ss.lfilter([1.0, 0.5], [1.0, -2 * r * np.cos(theta), r * r], impulse)


WAVELET = min_phase_wavelet()


@pytest.fixture(scope="module")
def sparse() -> tuple[np.ndarray, np.ndarray]:
    """(reflectivity, trace): a sparse Bernoulli-Gaussian reflectivity convolved with WAVELET."""
    refl = RNG.standard_normal((12, 600)) * (RNG.random((12, 600)) < 0.08)
    traces = ss.lfilter(WAVELET, [1.0], refl, axis=-1)
    traces += 1e-3 * traces.std() * RNG.standard_normal(traces.shape)
    return refl, traces


def band_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-trace correlation after the same 5-90 Hz band-pass of both."""
    sos = ss.butter(4, [5, 90], "bandpass", fs=1000 / DT, output="sos")
    fa = ss.sosfiltfilt(sos, a, axis=-1)
    fb = ss.sosfiltfilt(sos, b, axis=-1)
    return float(np.mean([np.corrcoef(u, v)[0, 1] for u, v in zip(fa, fb, strict=True)]))


# --------------------------------------------------------------------------- Levinson
def test_levinson_matches_scipy_solve_toeplitz() -> None:
    x = RNG.standard_normal((2, 3, 400))
    acf = np.array([[np.correlate(t, t, "full")[399 : 399 + 21] for t in row] for row in x])
    r = acf[..., :20].copy()
    r[..., 0] *= 1.001
    b = RNG.standard_normal(r.shape)
    out = levinson(r, b)
    assert out.shape == r.shape
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(out[i, j], solve_toeplitz(r[i, j], b[i, j]), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        levinson(r, b[..., :5])


# --------------------------------------------------------------------------- spiking
def test_spiking_decon_recovers_sparse_reflectivity(sparse: tuple[np.ndarray, np.ndarray]) -> None:
    refl, traces = sparse
    out = deconvolve(traces, "spiking", operator_ms=160, dt_ms=DT)
    assert isinstance(out, np.ndarray)
    assert out.shape == traces.shape
    before, after = band_corr(traces, refl), band_corr(out, refl)
    assert before < 0.6
    assert after > 0.9
    # Spiking output is the reflectivity times the first wavelet sample (1 here).
    assert np.median(np.abs(out[refl != 0] / refl[refl != 0])) == pytest.approx(1.0, abs=0.1)


def test_spiking_decon_equals_scipy_reference(sparse: tuple[np.ndarray, np.ndarray]) -> None:
    """One trace designed and applied the textbook way: np.correlate, solve_toeplitz, np.convolve."""
    _, traces = sparse
    trace = traces[3]
    n_op, eps = 30, 0.5
    acf = np.correlate(trace, trace, "full")[trace.size - 1 :]
    r = acf[:n_op].copy()
    r[0] *= 1 + eps / 100
    a = solve_toeplitz(r, acf[1 : n_op + 1])
    pef = np.concatenate([[1.0], -a])
    expected = np.convolve(trace, pef)[: trace.size]
    out = deconvolve(trace, "spiking", operator_ms=n_op * DT, prewhitening=eps, dt_ms=DT)
    np.testing.assert_allclose(out, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())


def test_seismicdata_history_dtype_dead_traces_and_3d(sparse: tuple[np.ndarray, np.ndarray]) -> None:
    _, traces = sparse
    cube = traces.reshape(3, 4, 600).astype(np.float32)
    cube[1, 2] = 0.0  # dead, all zero
    mask = np.ones((3, 4), dtype=bool)
    mask[0, 0] = False  # masked: left as it is
    data = SeismicData.from_array(cube, sample_interval=DT, trace_mask=mask)
    out = deconvolve(data, "spiking", operator_ms=100)
    assert isinstance(out, SeismicData)
    assert out.values.dtype == np.float32
    assert out.is_3d
    assert np.isfinite(out.values).all()
    assert not out.values[1, 2].any()
    np.testing.assert_array_equal(out.values[0, 0], cube[0, 0])
    assert not np.allclose(out.values[2, 3], cube[2, 3])
    entry = out.history[-1]
    assert entry["operation"] == "signal.deconvolve"
    assert entry["parameters"] == {
        "method": "spiking",
        "operator_ms": 100.0,
        "gap_ms": 4.0,
        "prewhitening": 0.1,
        "window_ms": [0.0, 2396.0],
    }
    # All-zero data: returned as zero, no NaN.
    zeros = deconvolve(np.zeros((3, 200)), operator_ms=40, dt_ms=DT)
    assert not np.asarray(zeros).any()


def test_design_window(sparse: tuple[np.ndarray, np.ndarray]) -> None:
    _, traces = sparse
    data = SeismicData.from_array(traces, sample_interval=DT, start=100.0, dtype=np.float64)
    out = deconvolve(data, operator_ms=80, window_ms=(500, 1500))
    assert isinstance(out, SeismicData)
    assert out.history[-1]["parameters"]["window_ms"] == [500.0, 1500.0]
    # The same window on an array, whose time axis starts at 0, is 100 ms earlier.
    windowed = deconvolve(traces, operator_ms=80, window_ms=(400, 1400), dt_ms=DT)
    np.testing.assert_allclose(np.asarray(windowed), out.values, rtol=1e-10, atol=1e-12)
    # ... and differs from designing on the whole trace.
    whole = np.asarray(deconvolve(traces, operator_ms=80, dt_ms=DT))
    assert not np.allclose(whole, out.values, rtol=1e-3)


# --------------------------------------------------------------------------- predictive
def test_predictive_decon_removes_periodic_multiple() -> None:
    n_tr, n_t, period = 8, 2000, 40  # reverberation period 160 ms, reflection coefficient 0.5
    refl = RNG.standard_normal((n_tr, n_t)) * (RNG.random((n_tr, n_t)) < 0.3)
    primaries = ss.lfilter(WAVELET, [1.0], refl, axis=-1)
    reverb = np.zeros(period + 1)
    reverb[0], reverb[period] = 1.0, 0.5
    data = ss.lfilter([1.0], reverb, primaries, axis=-1)  # primaries plus their periodic multiples
    out = np.asarray(deconvolve(data, "predictive", operator_ms=200, gap_ms=60, dt_ms=DT))
    multiples_in = np.sum((data - primaries) ** 2)
    multiples_out = np.sum((out - primaries) ** 2)
    assert 10 * np.log10(multiples_in / multiples_out) > 10.0
    # The wavelet within the gap is untouched: the primaries survive.
    assert band_corr(out, primaries) > 0.95


def test_predictive_automatic_gap_is_second_zero_crossing(sparse: tuple[np.ndarray, np.ndarray]) -> None:
    _, traces = sparse
    data = SeismicData.from_array(traces, sample_interval=DT, dtype=np.float64)
    out = deconvolve(data, "predictive", operator_ms=120)
    gap = out.history[-1]["parameters"]["gap_ms"]
    acf = np.mean([np.correlate(t, t, "full")[t.size - 1 :] / np.dot(t, t) for t in traces], axis=0)
    crossings = [k for k in range(1, 300) if acf[k - 1] > 0 >= acf[k] or acf[k - 1] < 0 <= acf[k]]
    assert gap == pytest.approx(crossings[1] * DT)


# --------------------------------------------------------------------------- wavelet estimation
@pytest.mark.parametrize("method", ["autocorrelation", "statistical"])
def test_estimate_minimum_phase_wavelet(sparse: tuple[np.ndarray, np.ndarray], method: str) -> None:
    _, traces = sparse
    est = estimate_wavelet(traces, method, length_ms=160, phase="minimum", dt_ms=DT)
    assert isinstance(est, WaveletEstimate)
    n = est.wavelet.size
    assert n == 41
    np.testing.assert_allclose(est.time_ms, np.arange(n) * DT)
    assert np.max(np.abs(est.wavelet)) == pytest.approx(1.0)
    assert np.corrcoef(est.wavelet, WAVELET[:n])[0, 1] > 0.97


@pytest.mark.parametrize("method", ["autocorrelation", "statistical"])
def test_estimate_zero_phase_wavelet(sparse: tuple[np.ndarray, np.ndarray], method: str) -> None:
    _, traces = sparse
    est = estimate_wavelet(traces, method, length_ms=160, dt_ms=DT)
    assert est.phase == "zero"
    np.testing.assert_allclose(est.wavelet, est.wavelet[::-1], atol=1e-12)
    np.testing.assert_allclose(est.time_ms, np.arange(-20, 21) * DT)
    assert est.wavelet[20] == pytest.approx(1.0)
    freqs, amp = est.amplitude_spectrum(1024)
    true_amp = np.abs(np.fft.rfft(WAVELET, 1024))
    assert freqs[-1] == pytest.approx(125.0)
    assert np.corrcoef(amp, true_amp)[0, 1] > 0.98
    d = est.to_dict()
    assert d["phase"] == "zero"
    assert len(d["wavelet"]) == 41


def test_estimate_ricker_from_white_reflectivity() -> None:
    _, w = ricker(30.0, DT)
    refl = RNG.standard_normal((20, 800))
    traces = np.stack([np.convolve(t, w, "same") for t in refl])
    est = estimate_wavelet(traces, "statistical", length_ms=120, dt_ms=DT)
    half = est.wavelet.size // 2
    centre = w.size // 2
    assert np.corrcoef(est.wavelet, w[centre - half : centre + half + 1])[0, 1] > 0.97


def test_autocorrelation_minimum_phase_is_inverse_of_spiking_filter(
    sparse: tuple[np.ndarray, np.ndarray],
) -> None:
    _, traces = sparse
    est = estimate_wavelet(traces, "autocorrelation", length_ms=80, phase="minimum", dt_ms=DT)
    n = 20  # 80 ms: a 20-lag prediction-error filter
    acf = np.mean([np.correlate(t, t, "full")[t.size - 1 : t.size + n] for t in traces], axis=0)
    r = acf[:n].copy()
    r[0] *= 1.001
    pef = np.concatenate([[1.0], -solve_toeplitz(r, acf[1 : n + 1])])
    impulse = np.zeros(est.wavelet.size)
    impulse[0] = 1.0
    expected = ss.lfilter([1.0], pef, impulse)
    np.testing.assert_allclose(est.wavelet, expected / np.abs(expected).max(), atol=1e-9)


# --------------------------------------------------------------------------- bad input
def _param(exc: pytest.ExceptionInfo[ParameterError]) -> str:
    return exc.value.parameter


def test_lengths_checked_against_trace_length() -> None:
    x = RNG.standard_normal((3, 100))  # 400 ms traces
    with pytest.raises(ParameterError, match="operator_ms") as e1:
        deconvolve(x, operator_ms=400, dt_ms=DT)
    assert _param(e1) == "operator_ms"
    with pytest.raises(ParameterError, match="gap_ms") as e2:
        deconvolve(x, "predictive", operator_ms=200, gap_ms=200, dt_ms=DT)
    assert _param(e2) == "gap_ms"
    with pytest.raises(ParameterError) as e3:
        deconvolve(x, operator_ms=4, dt_ms=DT)  # one sample
    assert _param(e3) == "operator_ms"
    with pytest.raises(ParameterError) as e4:
        deconvolve(x, "spiking", gap_ms=20, dt_ms=DT)
    assert _param(e4) == "gap_ms"
    with pytest.raises(ParameterError) as e5:
        deconvolve(x, operator_ms=100, window_ms=(0, 80), dt_ms=DT)
    assert _param(e5) == "operator_ms"
    with pytest.raises(ParameterError) as e6:
        estimate_wavelet(x, length_ms=500, dt_ms=DT)
    assert _param(e6) == "length_ms"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"method": "wiener"}, "method"),
        ({"prewhitening": -1.0}, "prewhitening"),
        ({"window_ms": (100, 50)}, "window_ms"),
        ({"window_ms": (0, 10_000)}, "window_ms"),
        ({"window_ms": "early"}, "window_ms"),
        ({"gap_ms": 0.0, "method": "predictive"}, "gap_ms"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, object], name: str) -> None:
    x = RNG.standard_normal((3, 200))
    with pytest.raises(ParameterError) as exc:
        deconvolve(x, dt_ms=DT, operator_ms=40, **kwargs)  # type: ignore[arg-type]
    assert exc.value.parameter == name
    assert name in str(exc.value)


def test_missing_dt_and_bad_data() -> None:
    x = RNG.standard_normal((3, 200))
    with pytest.raises(ParameterError) as exc:
        deconvolve(x)
    assert exc.value.parameter == "dt_ms"
    with pytest.raises(ParameterError):
        estimate_wavelet(x, phase="maximum", dt_ms=DT)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError):
        deconvolve(bad, dt_ms=DT)
    with pytest.raises(DataError, match="no live trace"):
        estimate_wavelet(np.zeros((3, 200)), dt_ms=DT)


# --------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1e-3, 1e3), st.sampled_from(["spiking", "predictive"]))
def test_decon_is_scale_equivariant_and_finite(seed: int, scale: float, method: str) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 150))
    x[rng.integers(0, 4)] = 0.0
    kwargs = {"gap_ms": 12.0} if method == "predictive" else {}
    out = np.asarray(deconvolve(x, method, operator_ms=40, dt_ms=DT, **kwargs))
    scaled = np.asarray(deconvolve(scale * x, method, operator_ms=40, dt_ms=DT, **kwargs))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(scaled, scale * out, rtol=1e-7, atol=1e-9 * scale * np.abs(out).max())
