"""Write a small synthetic 3D SEG-Y cube (for the viewer's inline / crossline / time-slice test only)."""

import sys

from promethium import io as pio
from promethium.synthetic import make_survey

pio.write(make_survey("3d", n_inline=24, n_crossline=32, n_samples=250, seed=3), sys.argv[1])
