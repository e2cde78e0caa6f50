"""The reconstruction framework: windows and blending, masks, the dispatcher, baselines, evaluation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promethium.core.errors import DataError, ParameterError
from promethium.io.data import SeismicData
from promethium.signal import masks
from promethium.signal.evaluation import evaluate, register_evaluator
from promethium.signal.reconstruction import denoise, list_methods, reconstruct
from promethium.signal.reconstruction._registry import Method
from promethium.signal.reconstruction._run import run_kernel
from promethium.signal.reconstruction._windows import apply_windowed, plan_windows, window_starts
from promethium.signal.reconstruction.baseline import linear_fill, nearest_fill
from promethium.synthetic import damage, make_survey


def _snr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10((ref**2).sum() / ((ref - est) ** 2).sum()))


# --------------------------------------------------------------------------- windows
@given(n=st.integers(1, 300), size=st.integers(2, 120), overlap=st.integers(0, 60))
@settings(max_examples=200, deadline=None)
def test_window_starts_cover_axis_with_overlap(n: int, size: int, overlap: int) -> None:
    overlap = min(overlap, size - 1)
    starts = window_starts(n, size, overlap)
    covered = np.zeros(n, dtype=bool)
    for s in starts:
        covered[s : s + size] = True
        assert s + min(size, n) <= n
    assert covered.all()
    for a, b in itertools.pairwise(starts):
        assert b - a <= size - overlap  # consecutive windows overlap by at least `overlap`


@given(
    shape=st.tuples(st.integers(1, 40), st.integers(1, 50)),
    sizes=st.tuples(st.integers(2, 30), st.integers(2, 30)),
    frac=st.floats(0, 0.6),
)
@settings(max_examples=100, deadline=None)
def test_identity_kernel_blends_back_exactly(
    shape: tuple[int, int], sizes: tuple[int, int], frac: float
) -> None:
    """Blending weights form a partition of unity: an identity kernel returns the input."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    plan = plan_windows(shape, list(sizes), [frac, frac])
    out = apply_windowed(x, plan, lambda w, sl: w)
    np.testing.assert_allclose(out, x, rtol=1e-12, atol=1e-12)


def test_windows_3d_and_progress() -> None:
    x = np.random.default_rng(1).normal(size=(7, 20, 50))
    calls: list[tuple[int, int]] = []
    plan = plan_windows(x.shape, [4, 8, 20], [1, 2, 5])
    out = apply_windowed(x, plan, lambda w, sl: w * 2, progress=lambda d, t: calls.append((d, t)))
    np.testing.assert_allclose(out, 2 * x)
    assert calls[-1] == (plan.n_windows, plan.n_windows)
    assert plan.n_windows > 1


def test_window_errors_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match="overlap"):
        plan_windows((100, 100), [10, 10], [10, 2])
    with pytest.raises(ParameterError, match="window"):
        plan_windows((100, 100), [1, 10], None)
    with pytest.raises(ParameterError, match="window"):
        plan_windows((100, 100), [10], None)


# --------------------------------------------------------------------------- masks
@pytest.mark.parametrize(
    ("spec", "shape", "kept"),
    [
        ("random:0.5", (100,), 50),
        ("random:0.75", (10, 20), 50),
        ("regular:2", (101,), 51),
        ("regular:3", (4, 30), 40),
        ("regular:2x2", (10, 30), 75),
        ("gap:10", (100,), 90),
        ("gap:10", (5, 40), 150),
    ],
)
def test_mask_specs(spec: str, shape: tuple[int, ...], kept: int) -> None:
    m = masks.make_mask(shape, spec, seed=3)
    assert m.shape == shape
    assert m.dtype == bool
    assert int(m.sum()) == kept
    assert str(masks.parse_mask_spec(spec)) == spec


def test_mask_gap_is_contiguous_and_centred() -> None:
    m = masks.make_mask((100,), "gap:10")
    assert np.flatnonzero(~m).tolist() == list(range(45, 55))


def test_mask_is_deterministic_and_respects_base() -> None:
    base = np.ones(200, dtype=bool)
    base[::7] = False
    a = masks.make_mask((200,), "random:0.5", seed=5, base=base)
    b = masks.make_mask((200,), "random:0.5", seed=5, base=base)
    np.testing.assert_array_equal(a, b)
    assert not (a & ~base).any()  # base-dead traces never come back
    assert int((base & ~a).sum()) == round(0.5 * base.sum())
    mixed = masks.make_mask((8, 50), "mixed:0.3", seed=2)
    assert 0.25 <= 1 - mixed.mean() <= 0.4


@pytest.mark.parametrize(
    "spec", ["random:1.5", "random:0", "regular:1", "gap:0", "bogus:3", "random", "gap:x"]
)
def test_bad_mask_specs(spec: str) -> None:
    with pytest.raises(ParameterError, match="decimate"):
        masks.make_mask((50,), spec)


def test_gap_longer_than_line() -> None:
    with pytest.raises(ParameterError, match="does not fit"):
        masks.make_mask((10,), "gap:10")


# --------------------------------------------------------------------------- baselines
def test_linear_fill_is_exact_on_linear_trends() -> None:
    x = np.arange(20, dtype=float)[:, None] * np.ones((1, 5)) + 3.0
    live = np.ones(20, dtype=bool)
    live[[0, 3, 4, 5, 11, 19]] = False
    out = linear_fill(np.where(live[:, None], x, 0), live)
    interior = np.arange(1, 19)
    np.testing.assert_allclose(out[interior], x[interior])
    np.testing.assert_allclose(out[0], x[1])  # constant beyond the ends
    np.testing.assert_allclose(out[19], x[18])


def test_linear_fill_3d_is_exact_on_planes() -> None:
    il, xl = np.meshgrid(np.arange(8), np.arange(12), indexing="ij")
    plane = (2.0 * il - 0.5 * xl + 1.0)[..., None] * np.ones(4)
    live = np.ones((8, 12), dtype=bool)
    live[3:5, 4:7] = False
    live[6, 2] = False
    out = linear_fill(np.where(live[..., None], plane, 0), live)
    np.testing.assert_allclose(out, plane, atol=1e-9)


def test_nearest_fill_copies_a_neighbour() -> None:
    x = np.arange(10, dtype=float)[:, None] * np.ones((1, 3))
    live = np.array([1, 0, 1, 1, 0, 0, 0, 1, 1, 0], dtype=bool)
    out = nearest_fill(np.where(live[:, None], x, 0), live)
    assert out[1, 0] in (0.0, 2.0)
    assert out[5, 0] in (3.0, 7.0)
    assert out[9, 0] == 8.0


# --------------------------------------------------------------------------- dispatcher
@pytest.fixture(scope="module")
def survey_2d() -> SeismicData:
    return make_survey("2d", n_traces=120, n_samples=250, seed=4, noise=0.0)


@pytest.mark.parametrize("method", ["linear", "nearest"])
def test_reconstruct_keeps_live_traces_bit_for_bit(survey_2d: SeismicData, method: str) -> None:
    damaged, _ = damage(survey_2d, 0.3, 0.05, seed=1)
    out = reconstruct(damaged, method, window=(40, 100))
    assert isinstance(out, SeismicData)
    live = damaged.trace_mask
    assert np.array_equal(out.values[live], damaged.values[live])
    assert out.trace_mask.all()
    assert np.isfinite(out.values).all()
    entry = out.history[-1]
    assert entry["operation"] == "signal.reconstruct"
    assert entry["parameters"]["method"] == method
    assert entry["parameters"]["n_filled"] == int((~live).sum())
    assert _snr(survey_2d.values, out.values) > _snr(survey_2d.values, damaged.values) + 5


def test_reconstruct_numpy_and_explicit_mask(survey_2d: SeismicData) -> None:
    values = survey_2d.values.copy()
    live = masks.make_mask((120,), "random:0.4", seed=2)
    out = reconstruct(values, "linear", mask=live, dt_ms=4.0)
    assert isinstance(out, np.ndarray)
    assert out.shape == values.shape
    np.testing.assert_array_equal(out[live], values[live])
    # Garbage in the masked traces must not leak into the output.
    noisy = values.copy()
    noisy[~live] = 1e6
    out2 = reconstruct(noisy, "linear", mask=live, dt_ms=4.0)
    np.testing.assert_array_equal(out, out2)


def test_reconstruct_nothing_missing_is_identity(survey_2d: SeismicData) -> None:
    out = reconstruct(survey_2d, "linear")
    assert isinstance(out, SeismicData)
    np.testing.assert_array_equal(out.values, survey_2d.values)
    assert out.history[-1]["parameters"]["n_filled"] == 0


def test_reconstruct_3d() -> None:
    vol = make_survey("3d", n_inline=12, n_crossline=16, n_samples=80, seed=1, noise=0.0)
    damaged, _ = damage(vol, 0.4, 0.0, seed=3)
    out = reconstruct(damaged, "linear", window=(6, 8, 40))
    assert isinstance(out, SeismicData)
    assert out.is_3d
    assert np.array_equal(out.values[damaged.trace_mask], damaged.values[damaged.trace_mask])
    assert _snr(vol.values, out.values) > 8


def test_windows_with_too_few_live_traces_fall_back_to_linear(survey_2d: SeismicData) -> None:
    live = np.ones(120, dtype=bool)
    live[30:70] = False  # a gap wider than the window
    a = reconstruct(survey_2d.values, "nearest", mask=live, dt_ms=4.0, window=(20, None), overlap=(5, 0))
    assert isinstance(a, np.ndarray)
    assert np.isfinite(a).all()
    b = linear_fill(np.where(live[:, None], survey_2d.values, 0), live)
    # The middle of the gap (windows without any live trace) comes from the linear baseline.
    np.testing.assert_allclose(a[45:55], b[45:55], atol=1e-5)


def test_reconstruct_bad_input(survey_2d: SeismicData) -> None:
    with pytest.raises(ParameterError, match="method"):
        reconstruct(survey_2d, "nonexistent")
    with pytest.raises(ParameterError, match="mask"):
        reconstruct(survey_2d, "linear", mask=np.ones(7, dtype=bool))
    with pytest.raises(ParameterError, match="bogus"):
        reconstruct(survey_2d, "linear", bogus=3)
    with pytest.raises(DataError, match="every trace"):
        reconstruct(survey_2d, "linear", mask=np.zeros(120, dtype=bool))
    with pytest.raises(DataError, match="single trace"):
        reconstruct(np.zeros(100), "linear", dt_ms=4.0)
    bad = survey_2d.values.copy()
    bad[3, 10] = np.nan
    with pytest.raises(DataError, match="NaN"):
        reconstruct(bad, "linear", dt_ms=4.0)
    bad_live = np.ones(120, dtype=bool)
    bad_live[3] = False
    out = reconstruct(bad, "linear", dt_ms=4.0, mask=bad_live)  # NaN in a masked trace is fine
    assert isinstance(out, np.ndarray)
    assert np.isfinite(out).all()


def test_list_methods() -> None:
    names = list_methods("reconstruct")
    assert {"linear", "nearest"} <= set(names)
    assert "fx_decon" not in names
    with pytest.raises(ParameterError, match="reconstruct method"):
        denoise(np.zeros((4, 10)), "linear", dt_ms=4.0)


# --------------------------------------------------------------------------- evaluation
def test_evaluate_scores_methods_on_the_same_mask(survey_2d: SeismicData, tmp_path: object) -> None:
    ev = evaluate(survey_2d, ["linear", "nearest"], decimate="random:0.3", seed=1)
    assert ev.n_hidden == round(0.3 * 120)
    assert ev.n_live == 120
    lin, near = ev.results
    assert lin.error is None
    assert near.error is None
    assert lin.snr_missing is not None
    assert near.snr_missing is not None
    # The missing-only SNR equals the SNR computed by hand on the hidden traces.
    hidden = ~ev.damaged.trace_mask
    assert lin.output is not None
    assert math.isclose(lin.snr_missing, _snr(survey_2d.values[hidden], lin.output[hidden]), abs_tol=1e-3)
    assert lin.snr is not None
    assert lin.snr > lin.snr_missing
    assert ev.best is not None
    assert ev.best.method == "linear"
    d = ev.to_dict()
    assert d["best"] == "linear"
    assert len(d["results"]) == 2
    assert "| linear |" in ev.to_markdown()
    import pathlib

    png = pathlib.Path(str(tmp_path)) / "ev.png"
    ev.plot(png)
    assert png.stat().st_size > 10_000


def test_evaluate_reports_failures_and_custom_evaluators(survey_2d: SeismicData) -> None:
    register_evaluator("copy_reference", lambda damaged, params: survey_2d)
    ev = evaluate(survey_2d, ["copy_reference", "nonexistent"], decimate="gap:10")
    perfect, broken = ev.results
    assert perfect.snr == math.inf
    assert perfect.to_dict()["snr_db"] == "inf"
    assert broken.error is not None
    assert "nonexistent" in broken.error
    assert ev.best is perfect


def test_evaluate_bad_input(survey_2d: SeismicData) -> None:
    with pytest.raises(ParameterError, match="decimate"):
        evaluate(survey_2d, ["linear"], decimate="random:2")
    with pytest.raises(ParameterError, match="methods"):
        evaluate(survey_2d, [])
    with pytest.raises(ParameterError, match="dt_ms"):
        evaluate(survey_2d.values, ["linear"])


def test_entry_points_stay_callable_after_submodule_imports() -> None:
    """No public function of ``promethium.signal`` is shadowed by a submodule of the same name, whatever
    is imported first (importing a submodule binds it as an attribute of its package)."""
    import importlib
    import pkgutil
    import types

    import promethium.signal as sig

    for info in pkgutil.walk_packages(sig.__path__, "promethium.signal."):
        importlib.import_module(info.name)
    for name in sig.__all__:
        value = getattr(sig, name)
        if name in {"filters", "masks", "metrics", "reconstruction", "spectra", "transforms"}:
            assert isinstance(value, types.ModuleType), name
        else:
            assert not isinstance(value, types.ModuleType), f"signal.{name} is a module"
    assert sig.reconstruct is reconstruct


def test_regular_decimation_detector() -> None:
    from promethium.signal.masks import make_mask, regular_decimation

    for spec, regular in [
        ("regular:2", True),
        ("regular:4", True),
        ("random:0.5", False),
        ("random:0.75", False),
        ("gap:10", False),
        ("mixed:0.4", False),
    ]:
        assert regular_decimation(make_mask((300,), spec, seed=3)) is regular, spec
        assert regular_decimation(make_mask((5, 60), spec, seed=3)) is regular, spec
    assert not regular_decimation(np.ones(30, bool))  # nothing missing
    assert not regular_decimation(np.zeros(30, bool))  # nothing live
    assert not regular_decimation(np.zeros((0,), bool))
    almost = make_mask((300,), "regular:2", seed=0)
    almost[[11, 51, 91]] = True  # a few extra recorded traces keep it regular
    assert regular_decimation(almost)


def test_mean_gap() -> None:
    from promethium.signal.masks import make_mask, mean_gap

    assert mean_gap(np.ones(30, bool)) == 0.0
    assert mean_gap(make_mask((100,), "gap:10")) == 10.0
    assert mean_gap(make_mask((6, 100), "gap:7")) == 7.0
    assert mean_gap(make_mask((100,), "regular:2")) == 1.0
    assert mean_gap(make_mask((100,), "regular:3")) == 2.0
    for q in (0.5, 0.75):  # random loss of a fraction q: runs of about 1 / (1 - q) traces
        got = mean_gap(make_mask((40, 500), f"random:{q}", seed=2))
        assert abs(got - 1 / (1 - q)) < 0.1 / (1 - q), (q, got)
    # runs do not continue from one line into the next
    live = np.array([[True, False, False], [False, False, True]])
    assert mean_gap(live) == 2.0


def test_prepare_runs_once_and_reaches_each_window_sliced() -> None:
    """A method's ``prepare`` runs once over the whole data; every window's kernel gets its arrays cut
    to the window (here the kernel returns the prepared array, so the blend gives it back exactly)."""
    values = np.random.default_rng(0).standard_normal((50, 40))
    live = np.ones(50, dtype=bool)
    live[::3] = False
    calls: list[tuple[int, ...]] = []
    seen: list[tuple[int, ...]] = []

    def prepare(v: np.ndarray, lv: np.ndarray, dt: float, params: dict[str, object]) -> dict[str, np.ndarray]:
        calls.append(v.shape)
        assert params == {"k": 2.0}
        # an array shaped like the data and one over its trace axes (a mask): both cut to the window
        return {"extra": v * params["k"] + 1.0, "rows": np.arange(v.shape[0])}  # type: ignore[operator]

    def kernel(
        win: np.ndarray, lv: np.ndarray, dt: float, *, k: float, extra: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        seen.append(win.shape)
        assert extra.shape == win.shape
        np.testing.assert_array_equal(extra, win * k + 1.0)
        assert rows.shape == win.shape[:1]
        np.testing.assert_array_equal(values[rows], win)
        return extra

    method = Method(name="toy", kind="reconstruct", fn=kernel, description="", prepare=prepare)
    reports: list[tuple[int, int]] = []
    out, plan = run_kernel(
        method,
        values,
        live,
        0.004,
        {"k": 2.0},
        sizes=[16, None],
        progress=lambda d, t: reports.append((d, t)),
    )
    assert calls == [values.shape]
    n = plan.n_windows
    # the whole-data step counts for half: 0 of 2n before it, n of 2n after it, then one per window
    assert reports == [(0, 2 * n), (n, 2 * n)] + [(n + k, 2 * n) for k in range(1, n + 1)]
    # a prepare step that hands nothing on leaves the reports to the windows alone
    idle = Method(
        name="toy", kind="reconstruct", fn=lambda w, lv, dt, **kw: w, description="", prepare=lambda *a: {}
    )
    reports.clear()
    run_kernel(idle, values, live, 0.004, {}, sizes=[16, None], progress=lambda d, t: reports.append((d, t)))
    assert reports == [(0, 2 * n)] + [(k, n) for k in range(1, n + 1)]
    assert len(seen) == plan.n_windows > 1
    np.testing.assert_allclose(out, values * 2.0 + 1.0, rtol=1e-12, atol=1e-12)
