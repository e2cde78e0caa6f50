"""Write a 5000-trace x 1000-sample SEG-Y (synthetic, for the viewer's panning benchmark only)."""

import sys

import numpy as np

from promethium import io as pio
from promethium.io import SeismicData

rng = np.random.default_rng(0)
n_tr, n_s = 5000, 1000
t = np.arange(n_s)[None, :]
x = np.arange(n_tr)[:, None]
data = np.zeros((n_tr, n_s), np.float32)
for k in range(12):
    t0 = 60 + 75 * k + 40 * np.sin(x / (300 + 20 * k))
    wavelet = np.exp(-(((t - t0) / 3.0) ** 2)) * np.cos((t - t0) / 2.0)
    data += (wavelet * (1 if k % 2 else -1)).astype(np.float32)
data += 0.05 * rng.standard_normal(data.shape).astype(np.float32)
pio.write(SeismicData.from_array(data, sample_interval=4.0), sys.argv[1])
