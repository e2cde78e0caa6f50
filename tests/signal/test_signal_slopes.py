"""Local slope estimation: plane-wave destruction and the structure tensor."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal.slopes import SlopeField, local_slopes


def _trace(nt: int, rng: np.random.Generator) -> np.ndarray:
    """A band-limited random trace (10-40 Hz at 4 ms), the reflectivity of a realistic section."""
    f = np.fft.rfftfreq(nt, 0.004)
    spec = (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)) * np.exp(-(((f - 25) / 12) ** 2))
    return np.fft.irfft(spec, n=nt)


def _shifted(tr: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Copies of ``tr`` delayed by ``shifts`` samples (exact fractional shifts in the Fourier domain)."""
    nt = tr.size
    f = np.fft.rfftfreq(nt)
    spec = np.fft.rfft(tr)
    return np.fft.irfft(spec * np.exp(-2j * np.pi * f * shifts[..., None]), n=nt)


def plane_wave(nx: int, nt: int, p: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.arange(nx) - nx / 2
    return _shifted(_trace(2 * nt, rng), p * x)[:, nt // 2 : nt // 2 + nt]


@pytest.mark.parametrize("p", [0.0, 0.6, 2.5, -3.0])
def test_pwd_plane_wave_exact_in_interior(p: float) -> None:
    d = plane_wave(48, 256, p)
    s = local_slopes(d).trace
    assert s.shape == d.shape
    inner = s[6:-6, 40:-40]
    assert np.abs(inner - p).max() < 0.05


@pytest.mark.parametrize("p", [1.5, -2.5])
def test_pwd_with_missing_traces(p: float) -> None:
    d = plane_wave(64, 256, p, seed=1)
    live = np.random.default_rng(3).random(64) > 0.5
    live[[0, -1]] = True
    s = local_slopes(np.where(live[:, None], d, 0.0), mask=live).trace[6:-6, 40:-40]
    err = np.abs(s - p)
    # Gaps of up to 5 traces (12 samples of shift at 2.5 samples/trace): exact but for a few samples.
    assert np.median(err) < 0.01
    assert np.quantile(err, 0.99) < 0.1
    # Regular 2x decimation: the estimate runs on the decimated grid (4-5 samples per live pair).
    dec = np.arange(64) % 2 == 0
    s2 = local_slopes(np.where(dec[:, None], d, 0.0), mask=dec).trace[6:-6, 40:-40]
    assert np.abs(s2 - p).max() < 0.05


def test_structure_tensor_moderate_dip_and_worse_with_gaps() -> None:
    d = plane_wave(48, 256, 0.7)
    s = local_slopes(d, method="structure_tensor").trace[6:-6, 40:-40]
    assert np.abs(s - 0.7).max() < 0.05
    live = np.random.default_rng(0).random(48) > 0.5
    gapped = np.where(live[:, None], d, 0.0)
    err_st = np.abs(local_slopes(gapped, method="structure_tensor", mask=live).trace - 0.7)[6:-6, 40:-40]
    err_pwd = np.abs(local_slopes(gapped, mask=live).trace - 0.7)[6:-6, 40:-40]
    assert err_pwd.mean() < 0.2 * err_st.mean()


def test_curved_events() -> None:
    # t(x) = t0 + a (x - x0)^2: slope 2 a (x - x0), from -1.9 to +1.9 samples per trace.
    nx, nt, a, x0 = 64, 300, 0.03, 32.0
    rng = np.random.default_rng(2)
    x = np.arange(nx)
    shifts = a * (x - x0) ** 2
    d = _shifted(_trace(nt, rng), shifts)
    truth = 2 * a * (x - x0)
    s = local_slopes(d, smoothing=(2.0, 10.0)).trace
    err = np.abs(s - truth[:, None])[4:-4, 40:-80]
    assert np.median(err) < 0.05
    assert err.mean() < 0.1


def test_3d_two_fields() -> None:
    rng = np.random.default_rng(5)
    ni, nc, nt = 12, 16, 200
    il, xl = np.meshgrid(np.arange(ni) - ni / 2, np.arange(nc) - nc / 2, indexing="ij")
    d = _shifted(_trace(2 * nt, rng), 1.0 * il - 0.5 * xl)[..., nt // 2 : nt // 2 + nt]
    field = local_slopes(d)
    assert isinstance(field, SlopeField)
    assert field.inline.shape == d.shape
    assert np.abs(field.inline[3:-3, 3:-3, 40:-40] - 1.0).max() < 0.05
    assert np.abs(field.crossline[3:-3, 3:-3, 40:-40] + 0.5).max() < 0.05
    st = local_slopes(d, method="structure_tensor")
    assert np.abs(st.crossline[3:-3, 3:-3, 40:-40] + 0.5).mean() < 0.05
    with pytest.raises(DataError):
        _ = field.trace


def test_seismicdata_input_uses_trace_mask() -> None:
    d = plane_wave(40, 200, 1.2)
    mask = np.ones(40, dtype=bool)
    mask[10:14] = False
    d[~mask] = 1e3  # garbage on dead traces must be ignored
    sd = SeismicData.from_array(d.astype(np.float32), sample_interval=4.0)
    sd = sd.replace(sd.values, trace_mask=mask, operation="test", parameters={})
    s = local_slopes(sd).trace
    assert np.isfinite(s).all()
    err = np.abs(s[4:-4, 40:-40] - 1.2)
    assert err.mean() < 0.01
    assert err.max() < 0.1


def test_bad_inputs() -> None:
    d = plane_wave(16, 64, 0.0)
    with pytest.raises(ParameterError, match="method"):
        local_slopes(d, method="fourier")
    with pytest.raises(ParameterError, match="smoothing"):
        local_slopes(d, smoothing=(1.0, 2.0, 3.0, 4.0))
    with pytest.raises(ParameterError, match="max_slope"):
        local_slopes(d, max_slope=0.0)
    with pytest.raises(ParameterError, match="n_iter"):
        local_slopes(d, n_iter=0)
    with pytest.raises(ParameterError, match="mask"):
        local_slopes(d, mask=np.ones(5, dtype=bool))
    with pytest.raises(DataError):
        local_slopes(d[0])
    one = np.zeros(16, dtype=bool)
    one[3] = True
    with pytest.raises(DataError, match="two live"):
        local_slopes(d, mask=one)
