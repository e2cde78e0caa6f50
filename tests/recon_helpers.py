"""Shared helpers of the reconstruction tests (tests/signal): synthetic plane waves, SNR over the hidden
traces and one call of ``reconstruct`` on a damaged copy."""

from __future__ import annotations

from typing import Any

import numpy as np

from promethium.signal.reconstruction import reconstruct


def plane_waves(nx: int, nt: int, slopes: tuple[float, ...], seed: int = 0, noise: float = 0.0) -> np.ndarray:
    """Sum of plane waves (slopes in samples per trace), band-limited around 25 Hz at 4 ms, plus white
    noise of ``noise`` times the signal's standard deviation."""
    rng = np.random.default_rng(seed)
    f = np.fft.rfftfreq(3 * nt, 0.004)
    x = np.arange(nx)[:, None] - nx / 2
    out = np.zeros((nx, nt))
    for p in slopes:
        amp = np.exp(-(((f - 25) / 12) ** 2))
        spec = (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)) * amp
        shift = np.exp(-2j * np.pi * np.fft.rfftfreq(3 * nt) * p * x)
        out += np.fft.irfft(spec[None, :] * shift, n=3 * nt)[:, nt : 2 * nt]
    return out + noise * out.std() * rng.standard_normal(out.shape)


def snr_hidden(ref: np.ndarray, est: np.ndarray, live: np.ndarray) -> float:
    """SNR (dB) of ``est`` against ``ref`` over the traces not in ``live``."""
    r, e = ref[~live], est[~live]
    return float(10 * np.log10(np.sum(r**2) / np.sum((r - e) ** 2)))


def run_method(data: np.ndarray, live: np.ndarray, method: str, **kw: Any) -> np.ndarray:
    """``reconstruct`` with ``method`` on ``data`` with the traces not in ``live`` zeroed (4 ms)."""
    return np.asarray(reconstruct(np.where(live[..., None], data, 0.0), method, mask=live, dt_ms=4.0, **kw))
