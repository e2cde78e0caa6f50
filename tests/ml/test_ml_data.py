"""Tests of the NumPy side of the ML datasets: synthetic sections, masks, patches, augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.ml.data import (
    MaskGenerator,
    augment,
    extract_patches,
    normalise,
    synthetic_batch,
    synthetic_section,
)
from promethium.synthetic import make_survey


def test_synthetic_section_is_deterministic_and_unit_rms() -> None:
    clean, noisy = synthetic_section(32, 64, 3, noise=(0.2, 0.2))
    clean2, noisy2 = synthetic_section(32, 64, 3, noise=(0.2, 0.2))
    assert clean.shape == noisy.shape == (32, 64)
    assert clean.dtype == np.float32
    np.testing.assert_array_equal(clean, clean2)
    np.testing.assert_array_equal(noisy, noisy2)
    assert np.sqrt(np.mean(clean**2)) == pytest.approx(1.0, rel=1e-4)
    resid = np.sqrt(np.mean((noisy - clean) ** 2))
    assert resid == pytest.approx(0.2, rel=1e-3)


@pytest.mark.parametrize("kind", ["linear", "parabolic", "hyperbolic"])
def test_each_event_kind_gives_signal(kind: str) -> None:
    clean, noisy = synthetic_section(
        24, 80, np.random.default_rng(1), kinds=[kind], n_events=(4, 4), noise=(0, 0)
    )
    assert np.isfinite(clean).all()
    assert np.abs(clean).max() > 0
    np.testing.assert_array_equal(clean, noisy)


def test_erratic_noise_adds_bursts() -> None:
    clean, noisy = synthetic_section(40, 64, 0, noise=(0, 0), erratic=0.5)
    diff = np.abs(noisy - clean).max(axis=1)
    assert (diff > 0).sum() >= 5
    assert diff.max() > 3


def test_synthetic_rejects_unknown_kind() -> None:
    with pytest.raises(ParameterError, match="kinds"):
        synthetic_section(8, 16, 0, kinds=["spiral"])


def test_synthetic_batch_shape() -> None:
    clean, noisy = synthetic_batch(3, (16, 32), np.random.default_rng(0))
    assert clean.shape == noisy.shape == (3, 16, 32)


def test_mask_generator_uses_signal_masks_and_respects_base() -> None:
    gen = MaskGenerator()
    rng = np.random.default_rng(0)
    base = np.ones(32, bool)
    base[:4] = False  # dead in the data: never "kept"
    kinds = set()
    for _ in range(40):
        kinds.add(gen.spec(32, rng).split(":")[0])
        keep = gen((32,), rng, base=base)
        assert keep.shape == (32,)
        assert not keep[:4].any()
        assert (base & ~keep).any(), "every mask hides at least one live trace"
        assert keep.any()
    assert kinds == {"random", "regular", "gaps", "mixed"}


def test_mask_generator_single_kind_and_bad_kind() -> None:
    gen = MaskGenerator(kinds=("regular",), factor=(2, 2))
    keep = gen((20,), np.random.default_rng(0))
    np.testing.assert_array_equal(keep, np.arange(20) % 2 == 0)
    with pytest.raises(ParameterError):
        MaskGenerator(kinds=("diagonal",))


def test_extract_patches_2d_with_mask() -> None:
    data = make_survey("2d", n_traces=70, n_samples=150, seed=0)
    mask = np.ones(70, bool)
    mask[:40] = False
    data = data.replace(trace_mask=mask)
    p = extract_patches(data, (32, 64), min_live=0.5)
    assert p.values.shape[1:] == (32, 64)
    assert p.live.shape == (len(p), 32)
    for v, lv, (i, t0, s0) in zip(p.values, p.live, p.origins, strict=True):
        assert i == 0
        np.testing.assert_array_equal(v, data.values[t0 : t0 + 32, s0 : s0 + 64])
        np.testing.assert_array_equal(lv, mask[t0 : t0 + 32])
        assert lv.mean() >= 0.5


def test_extract_patches_3d_per_inline_and_small_sections() -> None:
    vol = make_survey("3d", n_inline=3, n_crossline=20, n_samples=40, seed=0)
    p = extract_patches(vol, (32, 64))
    assert len(p) == 3  # one patch (the whole 20 x 40 inline) per inline
    assert p.values.shape == (3, 20, 40)
    np.testing.assert_array_equal(p.origins[:, 0], [0, 1, 2])


def test_extract_patches_errors() -> None:
    arr = np.zeros((10, 20), np.float32)
    arr[3, 4] = np.nan
    with pytest.raises(DataError, match="NaN"):
        extract_patches(arr, (8, 16))
    with pytest.raises(DataError, match="live"):
        extract_patches(np.zeros((10, 20)), (8, 16), live=np.zeros(10, bool))
    with pytest.raises(DataError, match="shape"):
        extract_patches(np.zeros((10, 20)), (8, 16), live=np.zeros(9, bool))


def test_augment_transforms_arrays_and_mask_together() -> None:
    rng = np.random.default_rng(0)
    base = np.arange(4 * 6 * 10, dtype=np.float32).reshape(4, 6, 10) + 1
    live = np.zeros((4, 6), bool)
    live[:, 0] = True
    (a, b), lv = augment([base, 2 * base], live, rng, max_shift=0)
    np.testing.assert_allclose(b, 2 * a)
    for k in range(4):
        # the live trace moved with the data: the trace carrying row 0 of the input is the live one
        j = int(np.flatnonzero(lv[k])[0])
        ratio = a[k, j] / base[k, 0]
        assert np.allclose(ratio, ratio[0])
    (c,), _ = augment(
        [base], live, np.random.default_rng(1), flip=False, polarity=False, amplitude=None, max_shift=3
    )
    shifted = [np.flatnonzero(c[k, 0] == 0).size for k in range(4)]
    assert max(shifted) <= 3


def test_normalise_round_trip_uses_live_traces() -> None:
    rng = np.random.default_rng(0)
    v = (
        rng.standard_normal((3, 8, 16)).astype(np.float32)
        * np.array([1.0, 10.0, 0.0], np.float32)[:, None, None]
    )
    live = np.ones((3, 8), bool)
    live[1, :4] = False
    v[1, :4] = 1000.0  # dead traces do not enter the scale
    vn, rec = normalise(v, live)
    assert np.sqrt(np.mean(vn[0] ** 2)) == pytest.approx(1.0, rel=1e-5)
    assert np.sqrt(np.mean(vn[1, 4:] ** 2)) == pytest.approx(1.0, rel=1e-5)
    assert rec.scale[2] == 1.0  # no energy: unchanged
    np.testing.assert_allclose(rec.invert(vn), v, rtol=1e-5)
    assert set(rec.to_dict()) == {"scale"}


def test_patches_from_array_input() -> None:
    data = SeismicData.from_array(np.ones((40, 70), np.float32), sample_interval=4.0)
    p = extract_patches(data.values, (16, 32), overlap=0)
    assert p.values.shape[1:] == (16, 32)
