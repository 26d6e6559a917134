"""Tests of :mod:`lib.core.schedules` (moved from test_schedules.py, test_steady_state.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
import math
import numpy as np
import pytest

from lib.core import schedules as sch

from _shared import EPS, HYP40, betas_st


def cumprod_bound(betas: np.ndarray) -> np.ndarray:
    """Relative round-off bound 2·(i + 2)·eps·(1 + |L_i|) for i = 0..T (module docstring)."""
    log_ab = np.concatenate(([0.0], np.cumsum(np.log1p(-betas))))
    i = np.arange(betas.size + 1)
    return 2.0 * (i + 2) * EPS * (1.0 + np.abs(log_ab))


def reference_alpha_bar(betas: np.ndarray) -> np.ndarray:
    return np.concatenate(([1.0], np.cumprod(1.0 - betas)))


def cosine_reference(n_steps: int, s: float) -> np.ndarray:
    """f(t)/f(0) with f(t) = cos²(((t/T) + s)/(1 + s) · π/2) (Nichol & Dhariwal 2021)."""
    x = (np.arange(n_steps + 1) / n_steps + s) / (1.0 + s) * (math.pi / 2)
    f = np.cos(x) ** 2
    return f / f[0], x


def check_cosine(n_steps: int, s: float, max_beta: float) -> None:
    betas = sch.cosine_betas(n_steps, s=s, max_beta=max_beta)
    assert betas.shape == (n_steps,)
    assert betas.dtype == np.float64
    assert np.all(betas > 0) and np.all(betas < 1)
    assert np.all(betas <= max_beta)
    ab = sch.alpha_bar(betas)
    ref, x = cosine_reference(n_steps, s)
    clipped = np.flatnonzero(betas >= max_beta)
    # ᾱ_i depends on β_1..β_i = betas[:i]; it matches the formula up to and including the
    # index of the first clipped β (i = k when betas[k] is the first clipped entry).
    last = clipped[0] if clipped.size else n_steps
    # Round-off bound, relative: (a) 1 − β_j recovers the ratio f_j/f_{j−1} with absolute error
    # ≈ eps, i.e. relative eps/(1 − β_j); (b) the log/cumsum/exp bound of the module docstring;
    # (c) the cosine near π/2 amplifies the argument's rounding: relative ≈ 2·eps·x·|tan x|
    # (only needed if the library and this test round the argument differently). Factor 4 margin.
    one_minus = np.concatenate(([1.0], np.cumsum(1.0 / (1.0 - betas))))
    cond = 2 * x * np.abs(np.tan(x))
    bound = 4 * EPS * (one_minus + cond + cond[0]) + 2 * cumprod_bound(betas)
    rel = np.abs(ab[: last + 1] / ref[: last + 1] - 1.0)
    assert np.all(rel <= bound[: last + 1]), (rel / bound[: last + 1]).max()
    # Where clipped, β is exactly max_beta.
    assert np.all(betas[clipped] == max_beta)


def test_alpha_bar_docstring_example():
    np.testing.assert_allclose(sch.alpha_bar([0.5, 0.5]), [1.0, 0.5, 0.25], rtol=4 * EPS)


@HYP40
@given(betas=betas_st())
def test_alpha_bar_matches_cumprod(betas):
    ab = sch.alpha_bar(betas)
    assert ab.shape == (betas.size + 1,)
    assert ab.dtype == np.float64
    # ᾱ_0 is the empty product: exactly 1 (exp(0) = 1 exactly).
    assert ab[0] == 1.0
    ref = reference_alpha_bar(betas)
    rel = np.abs(ab / ref - 1.0)
    bound = cumprod_bound(betas)
    assert np.all(rel <= bound), (rel / bound).max()


@HYP40
@given(betas=betas_st())
def test_alpha_bar_strictly_decreasing_and_in_unit_interval(betas):
    # Each factor 1 − β_j ≤ 1 − 1e-6 differs from 1 by far more than the relative round-off
    # (≤ 2·42·eps·29 ≈ 5e-13), so strict decrease must survive rounding.
    ab = sch.alpha_bar(betas)
    assert np.all(np.diff(ab) < 0)
    assert np.all((ab[1:] > 0) & (ab[1:] < 1))


@HYP40
@given(betas=betas_st())
def test_log_alpha_bar_is_log_of_alpha_bar(betas):
    log_ab = sch.log_alpha_bar(betas)
    assert log_ab[0] == 0.0
    ref = np.log(reference_alpha_bar(betas))
    # Absolute error of ln ᾱ_i equals the relative error of ᾱ_i: same bound.
    assert np.all(np.abs(log_ab - ref) <= cumprod_bound(betas))


def test_log_alpha_bar_keeps_relative_accuracy_for_tiny_betas():
    T, beta = 1000, 1e-12
    betas = np.full(T, beta)
    log_ab = sch.log_alpha_bar(betas)
    # Exact value: L_i = i · ln(1 − β) with ln(1 − β) = −β − β²/2 − … (β³ term < 1e-36, ignored).
    exact = -np.arange(T + 1) * (beta + beta**2 / 2)
    # Round-off of a same-sign cumulative sum of correctly rounded log1p terms:
    # relative error ≤ (1 + i/2)·eps ≤ (T + 2)·eps.
    rtol = (T + 2) * EPS
    np.testing.assert_allclose(log_ab, exact, rtol=rtol, atol=0)
    # The tolerance is meaningful: log of the cumulative product loses ~eps/β ≈ 1e-4 relative
    # accuracy here (1 − 1e-12 is rounded to a multiple of eps), i.e. it fails this check.
    naive = np.log(reference_alpha_bar(betas))
    assert np.max(np.abs(naive[1:] / exact[1:] - 1.0)) > 1000 * rtol


def test_linear_defaults_are_ho_et_al():
    betas = sch.linear_betas()
    assert betas.shape == (1000,)
    assert betas.dtype == np.float64
    # np.linspace returns start and stop exactly.
    assert betas[0] == 1e-4
    assert betas[-1] == 0.02
    # Equal increments (0.02 − 1e-4)/999; each linspace entry carries ≈ 1 ulp of 0.02.
    np.testing.assert_allclose(np.diff(betas), (0.02 - 1e-4) / 999, rtol=0, atol=4 * EPS * 0.02)


@HYP40
@given(
    n_steps=st.integers(1, 300),
    beta_start=st.floats(1e-6, 0.5),
    beta_end=st.floats(1e-6, 0.5),
)
def test_linear_betas_endpoints(n_steps, beta_start, beta_end):
    betas = sch.linear_betas(n_steps, beta_start, beta_end)
    assert betas.shape == (n_steps,)
    assert betas[0] == beta_start
    if n_steps > 1:
        assert betas[-1] == beta_end
    assert np.all((betas > 0) & (betas < 1))


def test_cosine_defaults():
    check_cosine(1000, 0.008, 0.999)
    betas = sch.cosine_betas()
    # With the published parameters only the very last step is clipped (f(T) ≈ 0).
    assert np.flatnonzero(betas >= 0.999).tolist() == [999]
    # and the schedule increases (ᾱ(t) is concave-then-convex, β rises monotonically).
    assert np.all(np.diff(betas) > 0)


@HYP40
@given(
    n_steps=st.integers(1, 300),
    s=st.floats(1e-4, 0.2),
    max_beta=st.floats(0.3, 0.9999),
)
def test_cosine_matches_formula_where_unclipped(n_steps, s, max_beta):
    check_cosine(n_steps, s, max_beta)


@HYP40
@given(beta=st.floats(1e-9, 1 - 1e-9), n_steps=st.integers(1, 200))
def test_constant_betas(beta, n_steps):
    betas = sch.constant_betas(beta, n_steps)
    assert betas.shape == (n_steps,)
    assert betas.dtype == np.float64
    assert np.all(betas == beta)


def test_constant_alpha_bar_is_power():
    ab = sch.alpha_bar(sch.constant_betas(0.02, 500))
    ref = 0.98 ** np.arange(501)
    # Same bound as cumprod (powers are correctly rounded to ≈ 1 ulp).
    np.testing.assert_array_less(np.abs(ab / ref - 1.0), cumprod_bound(np.full(500, 0.02)))


def test_get_betas_by_name():
    np.testing.assert_array_equal(sch.get_betas("constant", 7, beta=0.3), sch.constant_betas(0.3, 7))
    np.testing.assert_array_equal(sch.get_betas("linear", 50), sch.linear_betas(50))
    np.testing.assert_array_equal(
        sch.get_betas("linear", 50, beta_start=0.01, beta_end=0.1), sch.linear_betas(50, 0.01, 0.1)
    )
    np.testing.assert_array_equal(sch.get_betas("cosine", 64), sch.cosine_betas(64))
    np.testing.assert_array_equal(sch.get_betas("cosine", 64, s=0.1), sch.cosine_betas(64, s=0.1))
    np.testing.assert_array_equal(sch.get_betas("constant", 3, beta=0.02), [0.02, 0.02, 0.02])
    assert set(sch.SCHEDULES) == {"constant", "linear", "cosine"}


def test_get_betas_unknown_name():
    with pytest.raises(ValueError, match="unknown schedule 'quadratic'"):
        sch.get_betas("quadratic", 10)


def test_get_betas_constant_needs_beta():
    with pytest.raises(TypeError, match="beta="):
        sch.get_betas("constant", 10)


@pytest.mark.parametrize("beta", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_constant_beta_out_of_range(beta):
    with pytest.raises(ValueError, match=r"beta must lie in the open interval \(0, 1\)"):
        sch.constant_betas(beta, 10)


@pytest.mark.parametrize("beta", [True, np.bool_(False), "0.1", None, 0.1j])
def test_constant_beta_wrong_type(beta):
    with pytest.raises(TypeError, match="beta must be a real number"):
        sch.constant_betas(beta, 10)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"beta_start": 0.0}, "beta_start"),
        ({"beta_start": 1.0}, "beta_start"),
        ({"beta_end": -0.02}, "beta_end"),
        ({"beta_end": float("nan")}, "beta_end"),
    ],
)
def test_linear_beta_out_of_range(kwargs, name):
    with pytest.raises(ValueError, match=f"{name} must lie in the open interval"):
        sch.linear_betas(10, **kwargs)


@pytest.mark.parametrize("s, error", [(0.0, ValueError), (-0.01, ValueError), (float("nan"), ValueError),
                                      (float("inf"), ValueError), ("0.008", TypeError)])
def test_cosine_bad_s(s, error):
    with pytest.raises(error, match="s must be a positive finite number"):
        sch.cosine_betas(10, s=s)


@pytest.mark.parametrize("max_beta", [0.0, 1.0, 2.0])
def test_cosine_bad_max_beta(max_beta):
    with pytest.raises(ValueError, match="max_beta must lie in the open interval"):
        sch.cosine_betas(10, max_beta=max_beta)


@pytest.mark.parametrize("factory", [sch.linear_betas, sch.cosine_betas, lambda n: sch.constant_betas(0.1, n)])
@pytest.mark.parametrize("n_steps", [0, -3])
def test_n_steps_not_positive(factory, n_steps):
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        factory(n_steps)


@pytest.mark.parametrize("factory", [sch.linear_betas, sch.cosine_betas, lambda n: sch.constant_betas(0.1, n)])
@pytest.mark.parametrize("n_steps", [2.5, 10.0, "10", True, np.bool_(True), None])
def test_n_steps_not_integer(factory, n_steps):
    with pytest.raises(TypeError, match="n_steps must be a positive integer"):
        factory(n_steps)


def test_n_steps_numpy_integer_accepted():
    assert sch.linear_betas(np.int64(5)).shape == (5,)
    assert sch.constant_betas(0.1, np.uint8(3)).shape == (3,)


@pytest.mark.parametrize("func", [sch.alpha_bar, sch.log_alpha_bar])
@pytest.mark.parametrize(
    "betas, exc, pattern",
    [
        ([[0.1, 0.2]], ValueError, "betas must be a 1-D sequence"),
        (0.1, ValueError, "betas must be a 1-D sequence"),
        ([], ValueError, "betas must not be empty"),
        ([0.1, 0.0], ValueError, r"every entry of betas must lie in the open interval \(0, 1\); β_2 = "),
        ([1.0], ValueError, r"every entry of betas .*β_1 = "),
        ([0.1, 0.2, -0.1], ValueError, r"every entry of betas .*β_3"),
        ([0.1, float("nan")], ValueError, "betas must be finite"),
        ([0.1, float("inf")], ValueError, "betas must be finite"),
        ([0.1 + 0j], TypeError, "betas must hold real numbers"),
        (["0.1"], TypeError, "betas must hold real numbers"),
    ],
)
def test_betas_errors(func, betas, exc, pattern):
    with pytest.raises(exc, match=pattern):
        func(betas)


def test_betas_integer_and_float32_accepted():
    # Integers cannot lie in (0, 1) — they must be rejected as values, not crash.
    with pytest.raises(ValueError, match="every entry of betas"):
        sch.alpha_bar([1, 2])
    ab = sch.alpha_bar(np.array([0.5, 0.25], dtype=np.float32))
    assert ab.dtype == np.float64
    np.testing.assert_allclose(ab, [1.0, 0.5, 0.375], rtol=4 * EPS)


