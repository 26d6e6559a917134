"""Tests of :mod:`lib.core.gaussian` (moved from test_entropy.py, test_steady_state.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sst
import numpy as np
import pytest

from lib.core import gaussian as gs
from lib.core import schedules as sch

from _shared import EPS, HYP, LOG_2PIE, gaussian_st, scipy_entropy


def kl_direct(mean, cov):
    """The textbook formula ½[‖μ‖² + tr S − n − ln det S] with slogdet (no stabilisation)."""
    sign, logdet = np.linalg.slogdet(cov)
    assert sign > 0
    return 0.5 * (mean @ mean + np.trace(cov) - mean.size - logdet)


@st.composite
def spd_st(draw, max_n: int = 6):
    """A symmetric positive definite matrix of moderate condition (n ≤ max_n)."""
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal((n, n)) * draw(st.floats(0.1, 3.0))
    return a @ a.T / n + draw(st.floats(0.05, 2.0)) * np.eye(n)


@HYP
@given(g=gaussian_st())
def test_kl_gaussian_matches_scipy_entropy_identity(g):
    mean, cov = g
    n = mean.size
    # KL(N(μ,S) ‖ N(0,I)) = −H(N(μ,S)) + (n/2) ln 2π + ½(tr S + ‖μ‖²), with H from scipy.
    h = sst.multivariate_normal(mean, cov).entropy()
    expected = -h + 0.5 * n * np.log(2 * np.pi) + 0.5 * (np.trace(cov) + mean @ mean)
    kl = gs.kl_gaussian(mean, cov)
    scale = 0.5 * (mean @ mean + np.trace(cov) + n * np.log(2 * np.pi) + abs(h))
    assert kl == pytest.approx(expected, abs=200 * n * EPS * scale)
    assert kl >= 0.0
    assert kl == pytest.approx(kl_direct(mean, cov), abs=200 * n * EPS * scale)


@HYP
@given(g=gaussian_st(), a=st.floats(1e-3, 0.999))
def test_marginal_kl_equals_kl_of_marginal_moments(g, a):
    mean, cov = g
    mu, s = gs.gaussian_marginal_moments(mean, cov, a)
    np.testing.assert_allclose(mu, np.sqrt(a) * mean, rtol=4 * EPS)
    np.testing.assert_allclose(s, a * cov + (1 - a) * np.eye(mean.size), rtol=4 * EPS, atol=4 * EPS)
    expected = kl_direct(mu, s)
    scale = 0.5 * (mu @ mu + np.trace(s) + mean.size)
    assert float(gs.kl_gaussian_marginal(mean, cov, a)) == pytest.approx(expected, abs=200 * mean.size * EPS * scale)


def test_marginal_kl_stays_accurate_where_the_direct_formula_fails():
    rng = np.random.default_rng(3)
    a_mat = rng.standard_normal((5, 5))
    cov = a_mat @ a_mat.T / 5 + 0.2 * np.eye(5)
    zero = np.zeros(5)
    lam = np.linalg.eigvalsh(cov)
    for a in [1e-4, 1e-6, 1e-9]:
        x = a * (lam - 1)
        # reference: the alternating series in exact-enough form (first three terms, error ~x^5)
        ref = 0.5 * np.sum(x**2 / 2 - x**3 / 3 + x**4 / 4)
        exact = float(gs.kl_gaussian_marginal(zero, cov, a))
        assert exact == pytest.approx(ref, rel=1e-12)
    # The unstabilised formula loses every digit at a = 1e-9 (KL ~ 1e-18, terms ~ 1e-9).
    mu, s = gs.gaussian_marginal_moments(zero, cov, 1e-9)
    direct = kl_direct(mu, s)
    assert abs(direct - ref) > 10 * abs(ref)


def test_first_order_covariance_term_cancels():
    # A wrong "leading order" ½ ᾱ (‖m‖² + tr Σ − n) is rejected: for m = 0 and tr Σ ≠ n the
    # true KL is O(ᾱ²) while the wrong term is O(ᾱ).
    cov = np.diag([0.2, 0.5, 3.0, 4.0])
    zero = np.zeros(4)
    a = 1e-4
    exact = float(gs.kl_gaussian_marginal(zero, cov, a))
    wrong = 0.5 * a * (np.trace(cov) - 4)
    assert abs(wrong) > 100 * exact
    assert exact == pytest.approx(0.25 * a**2 * np.sum((np.diag(cov) - 1) ** 2), rel=1e-3)


def test_kl_decreases_along_any_schedule():
    rng = np.random.default_rng(0)
    mean = rng.standard_normal(4)
    a_mat = rng.standard_normal((4, 4))
    cov = a_mat @ a_mat.T
    ab = sch.alpha_bar(sch.linear_betas(200))[1:]
    kl = gs.kl_gaussian_marginal(mean, cov, ab)
    assert np.all(np.diff(kl) < 0)


def test_convexity_bound_holds_and_is_tight_for_a_point_mass():
    f = np.array([[0.3, -1.0, 2.0]])
    for a in [0.9, 0.1, 1e-3]:
        bound = float(gs.kl_convexity_bound(float(f[0] @ f[0]), 3, a))
        exact = float(gs.kl_gaussian_marginal(f[0], np.zeros((3, 3)), a))
        assert bound == pytest.approx(exact, rel=1e-12)  # a single image: the bound is exact
    cov = np.diag([0.5, 1.5, 2.0])
    mean = np.array([1.0, 0.0, -1.0])
    for a in [0.9, 0.1, 1e-3]:
        bound = float(gs.kl_convexity_bound(float(mean @ mean + np.trace(cov)), 3, a))
        assert float(gs.kl_gaussian_marginal(mean, cov, a)) < bound


@HYP
@given(cov=spd_st())
def test_gaussian_entropy_matches_scipy(cov):
    n = cov.shape[0]
    h = gs.gaussian_entropy(cov)
    lam = np.linalg.eigvalsh(cov)
    # Each eigenvalue is computed (by us and by scipy) with an absolute error of about
    # eps·λ_max, i.e. a relative error eps·λ_max/λ_k in ln λ_k: that term was missing and a
    # hypothesis example with λ_max/λ_min ≈ 480 exceeded the old bound by 30 %.
    scale = 0.5 * n * LOG_2PIE + 0.5 * np.abs(np.log(lam)).sum() + 0.5 * np.sum(lam.max() / lam)
    assert h == pytest.approx(scipy_entropy(cov), abs=50 * n * EPS * scale)
    # Wrong variant: ½ ln det Σ without the 2πe.
    assert abs(0.5 * np.linalg.slogdet(cov)[1] - h) > 1.0


@HYP
@given(cov=spd_st(), a=st.floats(1e-3, 1.0))
def test_gaussian_marginal_entropy_matches_scipy_at_every_step(cov, a):
    n = cov.shape[0]
    _, s = gs.gaussian_marginal_moments(np.zeros(n), cov, a)
    h = gs.gaussian_marginal_entropy(cov, a)
    assert h == pytest.approx(scipy_entropy(s), abs=200 * n * EPS * (LOG_2PIE + 10))
    # A Gaussian maximises entropy at fixed covariance; N(0, I) is the ᾱ → 0 limit.
    assert gs.gaussian_marginal_entropy(cov, 1e-12) == pytest.approx(gs.standard_normal_entropy(n), abs=1e-9)


def test_gaussian_marginal_entropy_along_a_schedule_and_small_alpha_bar():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((5, 5))
    cov = b @ b.T / 5 + 0.1 * np.eye(5)
    betas = sch.linear_betas(200)
    ab = sch.alpha_bar(betas)
    h = gs.gaussian_marginal_entropy(cov, ab)  # every step, i = 0 … T
    ref = [scipy_entropy(gs.gaussian_marginal_moments(np.zeros(5), cov, x)[1]) for x in ab]
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-12)
    # Near ᾱ = 0: H − H(N(0, I)) = ½ ᾱ (tr Σ − n) + O(ᾱ²); log1p keeps this to full precision.
    lam = np.linalg.eigvalsh(cov)
    for x in [1e-9, 1e-13]:
        excess = gs.gaussian_marginal_entropy(cov, x) - gs.standard_normal_entropy(5)
        assert excess == pytest.approx(0.5 * x * (lam.sum() - 5), rel=1e-3, abs=1e-14)


@HYP
@given(cov=spd_st(max_n=4), a=st.floats(1e-3, 0.99))
def test_gaussian_entropy_rate_is_the_derivative_in_t(cov, a):
    # Central difference in t = −ln ᾱ with step h: error ≤ h²/6 · max|H'''| + 2 eps·|H|/h.
    h = 1e-4
    t = -np.log(a)
    plus = gs.gaussian_marginal_entropy(cov, np.exp(-(t + h)))
    minus = gs.gaussian_marginal_entropy(cov, np.exp(-(t - h)))
    numeric = (plus - minus) / (2 * h)
    rate = gs.gaussian_marginal_entropy_rate(cov, a)
    n = cov.shape[0]
    lam = np.linalg.eigvalsh(cov)
    assert rate == pytest.approx(numeric, abs=1e-6 * (1 + n * lam.max()))
    # Wrong variant: the derivative in ᾱ instead of t differs by the factor −ᾱ.
    if abs(rate) > 1e-3:
        assert rate != pytest.approx(-rate / a, rel=1e-3)


def test_closed_forms_reject_bad_input():
    # moved from the steady-state chapter's tests
    with pytest.raises(ValueError, match="alpha_bar"):
        gs.kl_gaussian_marginal(np.zeros(2), np.eye(2), 1.0)
    with pytest.raises(ValueError, match="alpha_bar"):
        gs.kl_gaussian_marginal(np.zeros(2), np.eye(2), 0.0)
    with pytest.raises(ValueError, match="positive definite"):
        gs.kl_gaussian(np.zeros(2), np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="symmetric"):
        gs.kl_gaussian(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        gs.kl_gaussian(np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="single number"):
        gs.gaussian_marginal_moments(np.zeros(1), np.eye(1), [0.5])


def test_entropy_closed_forms_validate_their_arguments():
    # moved from the entropy chapter tests
    with pytest.raises(ValueError, match="square"):
        gs.gaussian_entropy(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive definite"):
        gs.gaussian_entropy(np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="symmetric"):
        gs.gaussian_entropy(np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        gs.gaussian_entropy(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="alpha_bar"):
        gs.gaussian_marginal_entropy(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="positive definite"):
        gs.gaussian_marginal_entropy(np.diag([1.0, 0.0]), 1.0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        gs.standard_normal_entropy(0)
    with pytest.raises(ValueError, match="betas"):
        gs.conditional_entropy([0.5, 1.0], 4)
