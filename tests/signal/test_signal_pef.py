"""f-x prediction-error-filter interpolation: method ``fx_pef`` of ``reconstruct``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promethium.core.errors import ParameterError, PromethiumWarning
from promethium.signal.masks import make_mask
from promethium.signal.reconstruction import list_methods, pef, reconstruct
from promethium.signal.reconstruction.pef import (
    _auto_init,
    _error,
    _error_adjoint,
    _filled_predictors,
    _fit,
    _solve,
)
from promethium.synthetic import make_survey
from recon_helpers import plane_waves, run_method, snr_hidden


def test_registered() -> None:
    assert "fx_pef" in list_methods("reconstruct")


@settings(max_examples=25, deadline=None)
@given(
    p=st.integers(1, 5),
    n=st.integers(8, 30),
    direction=st.sampled_from([1, -1]),
    seed=st.integers(0, 2**16),
)
def test_error_operator_adjoint(p: int, n: int, direction: int, seed: int) -> None:
    """Dot-product test: <E x, y> = <x, E^H y> for the forward and backward prediction-error operators."""
    rng = np.random.default_rng(seed)

    def cplx(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)

    f, x, y = cplx(3, p), cplx(3, 2, n), cplx(3, 2, n)
    lhs = np.vdot(y, _error(x, f, direction))
    rhs = np.vdot(_error_adjoint(y, f, direction), x)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_fit_recovers_a_known_filter() -> None:
    """A line of two complex exponentials is predicted exactly by a filter of order 2."""
    k = np.arange(40)
    z1, z2 = np.exp(1j * 0.3), 0.9 * np.exp(-1j * 0.8)
    line = (2 * z1**k + (1 - 1j) * z2**k)[None, None, :]
    f = _fit(line, 2, 1e-9, 1)
    np.testing.assert_allclose(f[0], [z1 + z2, -z1 * z2], atol=1e-5)
    assert np.abs(_error(line, f, 1)).max() < 1e-5 * np.abs(line).max()


def _dense(f: np.ndarray, n: int, direction: int) -> np.ndarray:
    """The prediction-error operator of one frequency's filter on a line of ``n`` traces, as a matrix."""
    eye = np.eye(n, dtype=complex)
    return np.stack([_error(eye[k][None, None, :], f[None], direction)[0, 0] for k in range(n)], axis=1)


@pytest.mark.parametrize("shape", [(13,), (4, 7)])
def test_solve_matches_dense_least_squares(shape: tuple[int, ...]) -> None:
    """The compiled conjugate-gradient solve gives the least-squares fill of an independent dense solve
    (the prediction-error operators written out as matrices, every line of every trace axis stacked),
    whatever it starts from; started at the answer it stays there."""
    rng = np.random.default_rng(11)
    nf = 3

    def cplx(*s: int) -> np.ndarray:
        return rng.standard_normal(s) + 1j * rng.standard_normal(s)

    miss = rng.random(shape) < 0.4
    miss.flat[0] = True
    obs = cplx(nf, *shape) * ~miss
    orders = [min(2, n // 3) for n in shape]
    filters = [(ax, 0.5 * cplx(nf, p), 0.5 * cplx(nf, p)) for ax, p in enumerate(orders)]
    n_cells = int(np.prod(shape))
    want = np.empty_like(obs)
    for fi in range(nf):
        blocks = []
        for ax, fwd, bwd in filters:
            for f, direction in ((fwd[fi], 1), (bwd[fi], -1)):
                line_op = _dense(f, shape[ax], direction)
                # the line operator applied along axis ``ax`` of the grid, one column per grid cell
                cols = [
                    np.moveaxis(np.moveaxis(unit.reshape(shape), ax, -1) @ line_op.T, -1, ax).ravel()
                    for unit in np.eye(n_cells, dtype=complex)
                ]
                blocks.append(np.stack(cols, axis=1))
        a = np.concatenate(blocks)
        m = miss.ravel()
        x, *_ = np.linalg.lstsq(a[:, m], -a[:, ~m] @ obs[fi].ravel()[~m], rcond=None)
        full = obs[fi].ravel().copy()
        full[m] = x
        want[fi] = full.reshape(shape)
    # the solve stops once the residual has fallen by 1e-6 (1e-12 in energy)
    scale = np.abs(want).max()
    got = _solve(obs, miss, filters, n_iter=4 * n_cells)
    np.testing.assert_allclose(got, want, atol=1e-5 * scale)
    np.testing.assert_array_equal(got[:, ~miss], obs[:, ~miss])
    got = _solve(obs, miss, filters, n_iter=4 * n_cells, start=cplx(nf, *shape))
    np.testing.assert_allclose(got, want, atol=1e-5 * scale)
    np.testing.assert_allclose(_solve(obs, miss, filters, n_iter=1, start=want), want, atol=1e-9 * scale)


def test_crossing_events_across_a_gap_beat_dip_and_linear() -> None:
    """Two crossing dips across a 10-trace gap: one slope per sample (dip steering) cannot follow both,
    a filter of several traces can."""
    d = plane_waves(96, 256, (1.2, -0.7), seed=1)
    live = np.ones(96, dtype=bool)
    live[43:53] = False
    got = snr_hidden(d, run_method(d, live, "fx_pef"), live)
    dip = snr_hidden(d, run_method(d, live, "dip"), live)
    lin = snr_hidden(d, run_method(d, live, "linear"), live)
    assert got > dip + 10.0, (got, dip)
    assert got > lin + 15.0, (got, lin)


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_random_missing_live_exact_deterministic(noise: float) -> None:
    d = plane_waves(64, 200, (1.5, -0.5), seed=2, noise=noise)
    live = np.random.default_rng(3).random(64) > 0.5
    out = run_method(d, live, "fx_pef")
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], d[live])
    np.testing.assert_array_equal(out, run_method(d, live, "fx_pef"))
    lin = snr_hidden(d, run_method(d, live, "linear"), live)
    assert snr_hidden(d, out, live) > lin + (12.0 if noise == 0 else 2.5), (snr_hidden(d, out, live), lin)


def test_3d_uses_both_trace_axes() -> None:
    ni, nc, nt = 8, 24, 96
    il, xl = np.meshgrid(np.arange(ni), np.arange(nc), indexing="ij")
    base = plane_waves(1, 3 * nt, (0.0,), seed=4)[0]
    f = np.fft.rfftfreq(base.size)
    d = np.fft.irfft(
        np.fft.rfft(base) * np.exp(-2j * np.pi * f * (0.7 * il - 1.1 * xl)[..., None]), n=base.size
    )[..., nt : 2 * nt]
    live = np.random.default_rng(5).random((ni, nc)) > 0.5
    out = run_method(d, live, "fx_pef")
    assert out.shape == d.shape
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[live], d[live])
    assert snr_hidden(d, out, live) > snr_hidden(d, run_method(d, live, "linear"), live) + 3.0


def test_noise_only_and_short_lines_stay_finite() -> None:
    rng = np.random.default_rng(6)
    d = rng.standard_normal((40, 128))
    live = rng.random(40) > 0.5
    out = run_method(d, live, "fx_pef")
    assert np.isfinite(out).all()
    assert np.abs(out).max() < 10 * np.abs(d).max()
    # A short line gets a shorter filter (a third of its traces), and the same result as asking for it.
    short = plane_waves(7, 64, (0.5,), seed=7)
    live7 = np.array([True, False, True, True, False, True, True])
    out7 = run_method(short, live7, "fx_pef", order=8)
    np.testing.assert_array_equal(out7, run_method(short, live7, "fx_pef", order=2))
    assert np.isfinite(out7).all()
    np.testing.assert_array_equal(out7[live7], short[live7])
    full = np.ones(40, dtype=bool)
    np.testing.assert_array_equal(run_method(d, full, "fx_pef"), d)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("order", 0),
        ("order", 2.5),
        ("prewhitening", 0.0),
        ("time_window", 4),
        ("smooth_bins", -1.0),
        ("n_iter", 0),
        ("outer", 0),
        ("init", "nope"),
        ("init", "dip+nope"),
        ("init", "dip+"),
        ("pocs_windows", ()),
        ("pocs_windows", (64, 4)),
        ("pocs_windows", 2.5),
        ("combine", "mean"),
        ("warm", "yes"),
        ("innovation", -1.0),
        ("innovation", "lots"),
        ("guard", -1.0),
        ("guard", 61.0),
        ("guard", "lots"),
    ],
)
def test_bad_parameters(name: str, value: Any) -> None:
    d = plane_waves(16, 64, (0.0,))
    live = np.ones(16, dtype=bool)
    live[5] = False
    with pytest.raises(ParameterError, match=name):
        reconstruct(d, "fx_pef", mask=live, **{name: value})


def test_auto_init_pools_pocs_only_on_scattered_losses() -> None:
    """``init="auto"``: dip-steered and POCS fills pooled where the missing traces are scattered; the
    dip-steered fill alone on a regular decimation (POCS aliases) and across a wide gap."""
    for spec, want in [
        ("random:0.5", "dip+pocs"),
        ("random:0.75", "dip+pocs"),
        ("regular:2", "dip"),
        ("regular:3", "dip"),
        ("gap:10", "dip"),
        ("gap:3", "dip+pocs"),
    ]:
        assert _auto_init(make_mask((200,), spec, seed=1)) == want, spec
        assert _auto_init(make_mask((4, 60), spec, seed=1)) == want, spec


def test_several_first_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several first fills joined by '+': ``combine="equations"`` pools their equations into one set
    of filters (a run on the same fill twice gives the run on it once), ``"solutions"`` (default) fits
    one set per fill and averages the solutions (the same fill twice again gives the run on it once);
    the live traces are kept either way (the held-out guard, off here, fits filters of its own)."""
    d = plane_waves(64, 160, (1.2, -0.6), seed=8, noise=0.3)
    live = np.random.default_rng(9).random(64) > 0.5
    calls: list[int] = []
    real_fit = pef._fit

    def counting_fit(lines: np.ndarray, *args: Any) -> np.ndarray:
        calls.append(lines.shape[1])
        return real_fit(lines, *args)

    monkeypatch.setattr(pef, "_fit", counting_fit)
    once = run_method(d, live, "fx_pef", guard=None, init="dip", window=None)
    lines_once = calls[0]
    fits_once = len(calls)
    tol = 1e-9 * np.abs(d).max()
    calls.clear()
    twice = run_method(d, live, "fx_pef", guard=None, init="dip+dip", window=None, combine="equations")
    assert calls[0] == 2 * lines_once
    assert len(calls) == fits_once
    np.testing.assert_allclose(twice, once, atol=tol)
    calls.clear()
    twice = run_method(d, live, "fx_pef", guard=None, init="dip+dip", window=None)
    assert set(calls) == {lines_once}
    assert len(calls) == 2 * fits_once
    np.testing.assert_allclose(twice, once, atol=tol)
    pooled = run_method(d, live, "fx_pef", guard=None, init="dip+pocs", window=None, combine="equations")
    averaged = run_method(d, live, "fx_pef", guard=None, init="dip+pocs", window=None)
    for both in (pooled, averaged):
        np.testing.assert_array_equal(both[live], d[live])
        assert np.isfinite(both).all()
        assert not np.allclose(both, once)
    assert not np.allclose(pooled, averaged)
    # "auto" on this random loss takes the dip-steered fill and POCS fills on each trace-window size
    np.testing.assert_array_equal(
        run_method(d, live, "fx_pef", guard=None, window=None, pocs_windows=(64,)), averaged
    )
    calls.clear()
    auto = run_method(
        d, live, "fx_pef", guard=None, window=None
    )  # default pocs_windows=(64, 96): three fills
    assert len(calls) == 3 * fits_once
    np.testing.assert_array_equal(auto[live], d[live])
    assert not np.allclose(auto, averaged)


def test_first_fills_made_once_over_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """With several windows the first fills, and the guard's held-out fill, are made once over the
    whole line, side by side, unless they would take more memory than allowed: then each window makes
    its own (a different, still valid fill)."""
    d = plane_waves(120, 96, (0.8, -0.4), seed=10, noise=0.2)
    live = np.random.default_rng(12).random(120) > 0.5
    made: list[int] = []
    fills: list[int] = []
    real = pef._first_fills
    real_fill = pef._make_fill

    def counting(values: np.ndarray, *args: Any) -> Any:
        made.append(values.shape[0])
        return real(values, *args)

    def counting_fill(values: np.ndarray, *args: Any) -> np.ndarray:
        fills.append(values.shape[0])
        return real_fill(values, *args)

    monkeypatch.setattr(pef, "_first_fills", counting)
    monkeypatch.setattr(pef, "_make_fill", counting_fill)
    whole = run_method(d, live, "fx_pef", window=48)
    assert made == [120]
    assert fills == [120] * 4  # dip, POCS on two window sizes, and the guard's dip without its traces
    made.clear()
    fills.clear()
    monkeypatch.setattr(pef, "_WHOLE_FILLS_MAX_BYTES", 0)
    per_window = run_method(d, live, "fx_pef", window=48)
    assert len(made) > 1
    assert max(made) == 48
    assert len(fills) == 4 * len(made)
    lin = snr_hidden(d, run_method(d, live, "linear"), live)
    for out in (whole, per_window):
        np.testing.assert_array_equal(out[live], d[live])
        assert snr_hidden(d, out, live) > lin


def test_warm_start_and_early_stop() -> None:
    """Started from the first fill, few iterations stay near it; from zero they do not; with enough
    iterations both reach the same least-squares fill."""
    d = plane_waves(48, 128, (0.9,), seed=13, noise=0.1)
    live = np.random.default_rng(14).random(48) > 0.4
    dip = run_method(d, live, "dip")
    warm1 = run_method(d, live, "fx_pef", init="dip", n_iter=1, window=None)
    cold1 = run_method(d, live, "fx_pef", init="dip", n_iter=1, window=None, warm=False)
    assert np.linalg.norm(warm1 - dip) < 0.5 * np.linalg.norm(cold1 - dip)
    warm = run_method(d, live, "fx_pef", init="dip", n_iter=200, window=None)
    cold = run_method(d, live, "fx_pef", init="dip", n_iter=200, window=None, warm=False)
    np.testing.assert_allclose(warm, cold, atol=1e-6 * np.abs(d).max())


def test_innovation_loading_is_the_expectation_of_noisy_draws() -> None:
    """``innovation=1`` fits the filters that the fills would give on average if every filled cell also
    carried a draw of the prediction-error variance: pooling many such draws converges to it."""
    rng = np.random.default_rng(21)
    nf, n_lines, n, p = 4, 3, 40, 3
    k = np.arange(n)
    lines = np.stack(
        [
            np.exp(1j * (0.3 + 0.2 * f) * k)[None, :] * (1 + 0.2 * np.arange(n_lines))[:, None]
            for f in range(nf)
        ]
    ) + 0.3 * (rng.standard_normal((nf, n_lines, n)) + 1j * rng.standard_normal((nf, n_lines, n)))
    missing = np.zeros((n_lines, n), dtype=bool)
    missing[:, 1::2] = True
    for direction in (1, -1):
        # per lag, the equations (targets k where the filter fits) whose predictor is a filled cell
        targets = range(p, n) if direction > 0 else range(n - p)
        filled = np.array(
            [sum(missing[:, k - direction * j].sum() for k in targets) for j in range(1, p + 1)]
        )
        np.testing.assert_array_equal(_filled_predictors(missing, p, direction), filled)
        plain = _fit(lines, p, 0.01, direction)
        loaded = _fit(lines, p, 0.01, direction, 0.0, filled, 1.0)
        err = _error(lines, plain, direction)
        valid = slice(p, None) if direction > 0 else slice(0, n - p)
        variance = np.mean(np.abs(err[..., valid]) ** 2, axis=(1, 2))
        draws = [
            lines
            + missing
            * np.sqrt(variance / 2)[:, None, None]
            * (rng.standard_normal(lines.shape) + 1j * rng.standard_normal(lines.shape))
            for _ in range(3000)
        ]
        pooled = _fit(np.concatenate(draws, axis=1), p, 0.01, direction)
        assert np.abs(loaded - plain).max() > 0.05 * np.abs(plain).max()  # the loading matters here
        np.testing.assert_allclose(pooled, loaded, atol=0.02 * np.abs(loaded).max())


def test_innovation_auto_on_regular_decimation_only() -> None:
    d = plane_waves(64, 128, (0.7, -0.3), seed=22, noise=0.3)
    regular = np.zeros(64, dtype=bool)
    regular[::2] = True
    auto = run_method(d, regular, "fx_pef", window=None)
    np.testing.assert_array_equal(auto, run_method(d, regular, "fx_pef", window=None, innovation=1.0))
    assert not np.allclose(auto, run_method(d, regular, "fx_pef", window=None, innovation=0.0))
    np.testing.assert_array_equal(auto[regular], d[regular])
    scattered = np.random.default_rng(23).random(64) > 0.5
    np.testing.assert_array_equal(
        run_method(d, scattered, "fx_pef", window=None),
        run_method(d, scattered, "fx_pef", window=None, innovation=0.0),
    )


@pytest.mark.parametrize(
    ("survey", "spec"),
    [
        ({"kind": "2d", "n_traces": 64, "n_samples": 300}, "regular:2"),
        ({"kind": "3d", "n_inline": 32, "n_crossline": 24, "n_samples": 250}, "random:0.5"),
    ],
)
def test_guard_falls_back_where_the_filters_fail(survey: dict[str, Any], spec: str) -> None:
    """Clean, curved and faulted events sampled coarsely (the generated survey with few traces): filters
    stationary over the window do not describe them and the least-squares solve falls well below its
    own dip-steered first fill. The held-out check sees it and moves the result back to the fill."""
    d = np.asarray(make_survey(**survey).values, dtype=np.float64)
    live = make_mask(d.shape[:-1], spec, seed=0)
    dip = snr_hidden(d, run_method(d, live, "dip"), live)
    unguarded = snr_hidden(d, run_method(d, live, "fx_pef", guard=None), live)
    with pytest.warns(PromethiumWarning, match=r"fx_pef: .* first fill \(dip\)"):
        guarded_out = run_method(d, live, "fx_pef")
    assert unguarded < dip - 1.0
    assert snr_hidden(d, guarded_out, live) > dip - 0.2
    np.testing.assert_array_equal(guarded_out[live], d[live])


def test_guard_leaves_predictable_data_alone() -> None:
    """Where the filters predict the data (plane waves with noise) the check passes and the result is
    the unguarded one, bit for bit, in 2D and 3D and on random, regular and gap losses. ``"off"`` is
    another name for ``None``."""
    params = dict(pef.METHODS[0].params, guard="off")
    pef._validate(params)
    assert params["guard"] is None
    d2 = plane_waves(96, 160, (1.1, -0.5), seed=30, noise=0.2)
    rng = np.random.default_rng(31)
    cube = np.stack([plane_waves(24, 128, (0.6, -0.3), seed=32 + i, noise=0.2) for i in range(12)])
    for data, shape in [(d2, (96,)), (cube, (12, 24))]:
        for spec in ("random:0.5", "regular:2", "gap:6"):
            live = make_mask(shape, spec, seed=int(rng.integers(100)))
            with warnings.catch_warnings():
                warnings.simplefilter("error", PromethiumWarning)  # the guard says nothing here
                guarded = run_method(data, live, "fx_pef")
            np.testing.assert_array_equal(guarded, run_method(data, live, "fx_pef", guard=None))
