"""Tests of :mod:`lib.steady_state`: convergence to N(0, I), paper Property 5 / Proposition 4.

Tolerances:

* closed forms are compared with independent formulas (scipy's Gaussian entropy, slogdet, a
  direct logsumexp) to a round-off bound: a sum of n terms of size ≤ S carries an absolute error
  ≤ ≈ n·eps·S, and the tests allow a small multiple of it;
* Monte Carlo estimates are compared with exact values within Z_MAX standard errors
  (two-sided false alarm 5.7e-7 per assertion at Z_MAX = 5, seeds fixed);
* every check is paired with a wrong variant that it must reject.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import special as sp
from scipy import stats as sst

import lib
from lib import forward as fw
from lib import schedules as sch
from lib import steady_state as ss

EPS = np.finfo(np.float64).eps
HYP = settings(max_examples=30, deadline=None, database=None)  # no example database written into the book
Z_MAX = 5.0


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@st.composite
def gaussian_st(draw, max_n: int = 6):
    """A mean vector and an SPD covariance of moderate condition (n ≤ max_n)."""
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    cov = a @ a.T / n + draw(st.floats(0.05, 2.0)) * np.eye(n)
    mean = rng.standard_normal(n) * draw(st.floats(0.0, 3.0))
    return mean, cov


def kl_direct(mean, cov):
    """The textbook formula ½[‖μ‖² + tr S − n − ln det S] with slogdet (no stabilisation)."""
    sign, logdet = np.linalg.slogdet(cov)
    assert sign > 0
    return 0.5 * (mean @ mean + np.trace(cov) - mean.size - logdet)


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


@HYP
@given(g=gaussian_st())
def test_kl_gaussian_matches_scipy_entropy_identity(g):
    mean, cov = g
    n = mean.size
    # KL(N(μ,S) ‖ N(0,I)) = −H(N(μ,S)) + (n/2) ln 2π + ½(tr S + ‖μ‖²), with H from scipy.
    h = sst.multivariate_normal(mean, cov).entropy()
    expected = -h + 0.5 * n * np.log(2 * np.pi) + 0.5 * (np.trace(cov) + mean @ mean)
    kl = ss.kl_gaussian(mean, cov)
    scale = 0.5 * (mean @ mean + np.trace(cov) + n * np.log(2 * np.pi) + abs(h))
    assert kl == pytest.approx(expected, abs=200 * n * EPS * scale)
    assert kl >= 0.0
    assert kl == pytest.approx(kl_direct(mean, cov), abs=200 * n * EPS * scale)


@HYP
@given(g=gaussian_st(), a=st.floats(1e-3, 0.999))
def test_marginal_kl_equals_kl_of_marginal_moments(g, a):
    mean, cov = g
    mu, s = ss.gaussian_marginal_moments(mean, cov, a)
    np.testing.assert_allclose(mu, np.sqrt(a) * mean, rtol=4 * EPS)
    np.testing.assert_allclose(s, a * cov + (1 - a) * np.eye(mean.size), rtol=4 * EPS, atol=4 * EPS)
    expected = kl_direct(mu, s)
    scale = 0.5 * (mu @ mu + np.trace(s) + mean.size)
    assert float(ss.kl_gaussian_marginal(mean, cov, a)) == pytest.approx(expected, abs=200 * mean.size * EPS * scale)


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
        exact = float(ss.kl_gaussian_marginal(zero, cov, a))
        assert exact == pytest.approx(ref, rel=1e-12)
    # The unstabilised formula loses every digit at a = 1e-9 (KL ~ 1e-18, terms ~ 1e-9).
    mu, s = ss.gaussian_marginal_moments(zero, cov, 1e-9)
    direct = kl_direct(mu, s)
    assert abs(direct - ref) > 10 * abs(ref)


@HYP
@given(g=gaussian_st(), a=st.floats(1e-7, 1e-3))
def test_leading_order_terms(g, a):
    mean, cov = g
    lam = np.linalg.eigvalsh(cov)
    x = a * (lam - 1)
    exact = float(ss.kl_gaussian_marginal(mean, cov, a))
    second = float(ss.kl_leading_order(mean, cov, a, order=2))
    # Remainder after second order: ½ Σ |x|³ / (3 (1 − |x|)) (alternating series bound) plus
    # round-off of a sum of n terms.
    remainder = float(ss.kl_second_order_remainder_bound(cov, a))
    assert remainder == pytest.approx(np.sum(np.abs(x) ** 3 / (1 - np.abs(x))) / 6, rel=1e-12)
    assert abs(exact - second) <= remainder + 100 * mean.size * EPS * exact
    first = float(ss.kl_leading_order(mean, cov, a, order=1))
    assert first == pytest.approx(0.5 * a * mean @ mean, rel=4 * EPS)


def test_remainder_bound_requires_small_alpha_bar():
    with pytest.raises(ValueError, match="λ_k"):
        ss.kl_second_order_remainder_bound(np.diag([5.0, 1.0]), 0.5)


def test_first_order_covariance_term_cancels():
    # A wrong "leading order" ½ ᾱ (‖m‖² + tr Σ − n) is rejected: for m = 0 and tr Σ ≠ n the
    # true KL is O(ᾱ²) while the wrong term is O(ᾱ).
    cov = np.diag([0.2, 0.5, 3.0, 4.0])
    zero = np.zeros(4)
    a = 1e-4
    exact = float(ss.kl_gaussian_marginal(zero, cov, a))
    wrong = 0.5 * a * (np.trace(cov) - 4)
    assert abs(wrong) > 100 * exact
    assert exact == pytest.approx(0.25 * a**2 * np.sum((np.diag(cov) - 1) ** 2), rel=1e-3)


def test_kl_decreases_along_any_schedule():
    rng = np.random.default_rng(0)
    mean = rng.standard_normal(4)
    a_mat = rng.standard_normal((4, 4))
    cov = a_mat @ a_mat.T
    ab = sch.alpha_bar(sch.linear_betas(200))[1:]
    kl = ss.kl_gaussian_marginal(mean, cov, ab)
    assert np.all(np.diff(kl) < 0)


def test_gaussian_marginal_moments_match_the_forward_process():
    # Sample U_0 ~ N(m, Σ), push it through Eq. (5) with lib.forward, compare moments within
    # Z_MAX standard errors (mean SE: sqrt(var/N); covariance entries: sqrt((S_jj S_kk + S_jk²)/N)).
    rng = np.random.default_rng(11)
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 0.5]])
    betas = sch.linear_betas(100)
    step = 50
    u0 = rng.multivariate_normal(mean, cov, size=200_000)
    ui = fw.sample_marginal(u0, betas, step, rng)
    a = sch.alpha_bar(betas)[step]
    mu, s = ss.gaussian_marginal_moments(mean, cov, a)
    n = ui.shape[0]
    assert np.all(np.abs(ui.mean(0) - mu) <= Z_MAX * np.sqrt(np.diag(s) / n))
    se_cov = np.sqrt((np.outer(np.diag(s), np.diag(s)) + s**2) / n)
    assert np.all(np.abs(np.cov(ui.T) - s) <= Z_MAX * se_cov)
    # The wrong scaling ᾱ·m (instead of √ᾱ·m) is rejected.
    assert np.any(np.abs(ui.mean(0) - a * mean) > Z_MAX * np.sqrt(np.diag(s) / n))


def test_convexity_bound_holds_and_is_tight_for_a_point_mass():
    f = np.array([[0.3, -1.0, 2.0]])
    for a in [0.9, 0.1, 1e-3]:
        bound = float(ss.kl_convexity_bound(float(f[0] @ f[0]), 3, a))
        exact = float(ss.kl_gaussian_marginal(f[0], np.zeros((3, 3)), a))
        assert bound == pytest.approx(exact, rel=1e-12)  # a single image: the bound is exact
    cov = np.diag([0.5, 1.5, 2.0])
    mean = np.array([1.0, 0.0, -1.0])
    for a in [0.9, 0.1, 1e-3]:
        bound = float(ss.kl_convexity_bound(float(mean @ mean + np.trace(cov)), 3, a))
        assert float(ss.kl_gaussian_marginal(mean, cov, a)) < bound


# ---------------------------------------------------------------------------------------------
# The mixture: log-density, sampler, Monte Carlo KL
# ---------------------------------------------------------------------------------------------


def test_mixture_logpdf_matches_direct_logsumexp_and_is_chunk_invariant():
    rng = np.random.default_rng(1)
    centers = rng.uniform(-1, 1, size=(37, 5))
    x = rng.standard_normal((23, 5))
    scale, var = 0.7, 0.51
    comp = np.stack(
        [sst.multivariate_normal(scale * c, var * np.eye(5)).logpdf(x) for c in centers], axis=1
    )
    ref = sp.logsumexp(comp, axis=1) - np.log(centers.shape[0])
    for chunk in [1, 7, 37, 100, 10_000]:
        out = ss.mixture_logpdf(x, centers, scale, var, chunk_size=chunk)
        # absolute round-off ≈ eps·(‖x‖² + ‖s c‖²)/var per exponent, ≈ 1e-14 here
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
    assert isinstance(ss.mixture_logpdf(x[0], centers, scale, var), float)
    # A wrong variant (variance read as a standard deviation) is rejected.
    assert np.max(np.abs(ss.mixture_logpdf(x, centers, scale, np.sqrt(var)) - ref)) > 0.1


def test_mixture_logpdf_of_one_component_is_the_gaussian_and_stable_far_out():
    c = np.array([[1.0, -2.0]])
    x = np.array([[0.0, 0.0], [40.0, -40.0]])  # the second point has density ~ e^-800
    out = ss.mixture_logpdf(x, c, 0.5, 0.01)
    ref = sst.multivariate_normal([0.5, -1.0], 0.01 * np.eye(2)).logpdf(x)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert np.all(np.isfinite(out))


def test_mixture_density_integrates_to_one_in_1d():
    centers = np.array([[-1.0], [0.2], [0.9]])
    total, err = integrate.quad(lambda t: np.exp(ss.mixture_logpdf(np.array([t]), centers, 0.8, 0.3)), -20, 20)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_sample_mixture_moments():
    rng = np.random.default_rng(2)
    centers = np.array([[0.0, 1.0], [2.0, -1.0], [1.0, 1.0]])
    scale, var = 0.6, 0.64
    u = ss.sample_mixture(centers, scale, var, 200_000, rng)
    mean = scale * centers.mean(0)
    cov = scale**2 * np.cov(centers, rowvar=False, bias=True) + var * np.eye(2)
    n = u.shape[0]
    assert np.all(np.abs(u.mean(0) - mean) <= Z_MAX * np.sqrt(np.diag(cov) / n))
    # Var of a sample covariance entry ≤ (fourth moments)/n; the mixture is light-tailed, use 3x Gaussian SE.
    se = 3 * np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(u.T) - cov) <= Z_MAX * se)


def kl_1d_quadrature(centers, a):
    """KL(p ‖ N(0,1)) for a 1-D mixture by adaptive quadrature (independent of lib's MC)."""

    def integrand(t):
        lp = ss.mixture_logpdf(np.array([t]), centers, np.sqrt(a), 1 - a)
        return np.exp(lp) * (lp - sst.norm.logpdf(t))

    value, _ = integrate.quad(integrand, -15, 15, limit=200, points=list(np.sqrt(a) * centers[:, 0]))
    return value


@pytest.mark.parametrize("control_variate", [True, False])
def test_mc_kl_matches_quadrature_in_1d(control_variate):
    centers = np.array([[-1.0], [0.5], [0.9], [1.0]])
    mean, cov = centers.mean(0), np.cov(centers, rowvar=False, bias=True).reshape(1, 1)
    rng = np.random.default_rng(4)
    for a in [0.9, 0.3, 0.05]:
        exact = kl_1d_quadrature(centers, a)
        est = ss.kl_to_standard_normal_mc(centers, a, 20_000, rng, control_variate=control_variate)
        assert abs(est.value - exact) <= Z_MAX * est.standard_error, (a, est, exact)
        if a == 0.9:
            # Wrong variant 1: the Gaussian with the same moments (the mixture is bimodal here).
            gauss = float(ss.kl_gaussian_marginal(mean, cov, a))
            assert abs(est.value - gauss) > 10 * Z_MAX * est.standard_error
        if a == 0.05 and control_variate:
            # Wrong variant 2: centres scaled by ᾱ instead of √ᾱ.
            wrong = kl_1d_quadrature(centers * np.sqrt(a), a)
            assert abs(est.value - wrong) > 10 * Z_MAX * est.standard_error


def test_control_variate_reduces_the_error_near_gaussianity():
    digits = lib.data.digits()[::6]
    rng = np.random.default_rng(7)
    a = 0.01
    cv = ss.kl_to_standard_normal_mc(digits, a, 400, rng)
    plain = ss.kl_to_standard_normal_mc(digits, a, 400, rng, control_variate=False)
    assert cv.standard_error * 20 < plain.standard_error
    assert abs(cv.value - plain.value) <= Z_MAX * math.hypot(cv.standard_error, plain.standard_error)
    # KL(p ‖ N(0,I)) ≥ KL(moment-matched Gaussian ‖ N(0,I)) (max-entropy), within the SE.
    assert cv.value >= cv.gaussian_part - Z_MAX * cv.standard_error
    assert np.isnan(plain.gaussian_part)


def test_mc_kl_for_a_single_image_is_exact_with_the_control_variate():
    # One centre: the mixture is Gaussian, so log p − log q ≡ 0 and the estimate is exact.
    f = np.array([[0.5, -1.0, 0.25, 1.0]])
    rng = np.random.default_rng(8)
    est = ss.kl_to_standard_normal_mc(f, 0.2, 50, rng)
    exact = float(ss.kl_gaussian_marginal(f[0], np.zeros((4, 4)), 0.2))
    assert est.value == pytest.approx(exact, abs=1e-12)
    assert est.standard_error < 1e-12


def test_mc_kl_vectorised_over_alpha_bar_and_below_convexity_bound():
    digits = lib.data.digits()[::10]
    ab = np.array([0.5, 0.05])
    est = ss.kl_to_standard_normal_mc(digits, ab, 300, np.random.default_rng(9))
    assert est.value.shape == (2,) and est.standard_error.shape == (2,)
    bound = ss.kl_convexity_bound(float(np.mean(np.sum(digits**2, 1))), 64, ab)
    assert np.all(est.value <= bound + Z_MAX * est.standard_error)
    assert est.value[1] < est.value[0]


# ---------------------------------------------------------------------------------------------
# Σ β = ∞ and the paper's Eq. (10)
# ---------------------------------------------------------------------------------------------


@HYP
@given(c=st.floats(0.01, 0.99))
def test_inverse_square_limit_brackets_partial_products(c):
    J = 20_000
    ab_j = sch.alpha_bar(ss.inverse_square_betas(c, J))[-1]
    limit = ss.inverse_square_alpha_bar_limit(c)
    assert limit == pytest.approx(np.sin(np.pi * np.sqrt(c)) / (np.pi * np.sqrt(c)), rel=1e-14)
    # ᾱ_∞ ≤ ᾱ_J ≤ ᾱ_∞ / (1 − c/J), with round-off of J log1p terms (≈ J·eps relative).
    slack = 1 + 4 * J * EPS
    assert limit <= ab_j * slack
    assert ab_j <= limit / (1 - c / J) * slack
    assert limit > 0 and np.sum(ss.inverse_square_betas(c, J)) < c * np.pi**2 / 6


def test_wrong_closed_form_is_rejected():
    # sin(πc)/(πc) (forgetting the square root) misses the partial products badly.
    c = 0.5
    ab_j = sch.alpha_bar(ss.inverse_square_betas(c, 10_000))[-1]
    assert abs(np.sinc(c) - ab_j) > 0.1


def test_harmonic_schedule_forgets_like_a_power_law():
    c = 0.5
    i = np.array([10, 1000, 100_000])
    ab = sch.alpha_bar(ss.harmonic_betas(c, int(i[-1])))[i]
    exact = np.exp(sp.gammaln(i + 1 - c) - sp.gammaln(1 - c) - sp.gammaln(i + 1))
    np.testing.assert_allclose(ab, exact, rtol=1e-9)
    assert ab[-1] < 1e-2  # Σβ = ∞ ⇒ ᾱ → 0, but only like i^-c


def test_eq10_lower_bound_is_stable_and_solves_the_quadratic():
    n = np.arange(1, 200)
    b = ss.eq10_lower_bound(n)
    q = np.exp(-n * np.log(2 * np.pi * np.e))
    # b is the smaller root of β² − β + q = 0: b(1 − b) = q, to a few ulp relative.
    np.testing.assert_allclose(b * (1 - b), q, rtol=8 * EPS)
    assert np.all(b > 0)
    naive = 0.5 - np.sqrt(0.25 - q)
    assert naive[n == 14][0] == 0.0  # the literal formula cancels to exactly zero
    np.testing.assert_allclose(ss.log10_eq10_lower_bound(n), np.log10(b), rtol=1e-13)
    big = ss.log10_eq10_lower_bound(np.array([405_900]))
    assert big[0] == pytest.approx(-405_900 * np.log10(2 * np.pi * np.e) - np.log10(1.0), rel=1e-12)
    with pytest.raises(ValueError, match="positive integers"):
        ss.eq10_lower_bound(0)


# ---------------------------------------------------------------------------------------------
# Detectability of u_0 in one trajectory
# ---------------------------------------------------------------------------------------------


def test_correlation_z_has_the_predicted_law():
    rng = np.random.default_rng(12)
    f = lib.data.cat(grey=True, factor=10)  # 30 x 45
    betas = sch.linear_betas(100)
    step = 60
    a = sch.alpha_bar(betas)[step]
    u = fw.sample_marginal(np.broadcast_to(f, (3000,) + f.shape), betas, step, rng)
    z = np.array([ss.correlation_z(x, f) for x in u])
    delta = float(ss.correlation_shift(f, a))
    sd = np.sqrt(1 - a)
    assert abs(z.mean() - delta) <= Z_MAX * sd / np.sqrt(z.size)
    assert abs(z.std(ddof=1) / sd - 1) <= Z_MAX / np.sqrt(2 * (z.size - 1))
    # Under pure noise Z ~ N(0, 1); the test rejects at level 0.01 about 1% of the time.
    z0 = np.array([ss.correlation_z(x, f) for x in rng.standard_normal((3000,) + f.shape)])
    rate = np.mean(np.abs(z0) > sst.norm.isf(0.005))
    assert abs(rate - 0.01) <= Z_MAX * np.sqrt(0.01 * 0.99 / z0.size)
    # The empirical rejection rate under the alternative matches the power formula.
    power = float(ss.two_sided_power(delta, 0.01, sd))
    emp = np.mean(np.abs(z) > sst.norm.isf(0.005))
    assert abs(emp - power) <= Z_MAX * np.sqrt(power * (1 - power) / z.size) + 1e-3


def test_two_sided_power_limits():
    assert float(ss.two_sided_power(0.0, 0.05)) == pytest.approx(0.05, rel=1e-12)
    z = sst.norm.isf(0.005)
    assert float(ss.two_sided_power(z, 0.01)) == pytest.approx(0.5, abs=1e-6)
    assert float(ss.two_sided_power(10.0, 0.01)) > 0.999


def test_ks_normal_matches_scipy_asymptotic():
    rng = np.random.default_rng(13)
    for shift in [0.0, 0.05]:
        x = rng.standard_normal(5000) + shift
        d, p = ss.ks_normal(x)
        ref = sst.kstest(x, "norm", method="asymp")
        assert d == pytest.approx(ref.statistic, rel=1e-12)
        assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_pooled_ks_distance_matches_large_sample_and_first_order():
    f = lib.data.cat()[::4, ::4]  # subsampled, so grey values stay on the 256 levels
    a = 1e-3
    d = ss.pooled_ks_distance(f, a)
    # First order in √ᾱ: sup |F̄ − Φ| ≈ √ᾱ |mean f| φ(0); second-order terms are O(ᾱ).
    first = np.sqrt(a) * abs(f.mean()) * sst.norm.pdf(0)
    assert d == pytest.approx(first, rel=0.05)
    # Empirical check with many independent copies (n large): D_n → d within the KS spread.
    rng = np.random.default_rng(14)
    u = fw.sample_marginal(np.broadcast_to(f, (60,) + f.shape), sch.constant_betas(0.5, 10), 1, rng)
    ab = sch.alpha_bar(sch.constant_betas(0.5, 10))[1]
    d_big = ss.pooled_ks_distance(f, ab)
    d_n, _ = ss.ks_normal(u)
    assert abs(d_n - d_big) <= sst.kstwobign.isf(1e-4) / np.sqrt(u.size)
    # distances decrease along a schedule (the bisection in ks_threshold_step relies on it)
    ab_grid = sch.alpha_bar(sch.linear_betas())[100::50]
    assert np.all(np.diff(ss.pooled_ks_distance(f, ab_grid)) < 0)


def test_threshold_steps():
    f = lib.data.cat()[::4, ::4]  # subsampled, so grey values stay on the 256 levels
    betas = sch.constant_betas(0.02, 1000)
    ab = sch.alpha_bar(betas)
    i = ss.correlation_threshold_step(f, betas, 0.01)
    shift = ss.correlation_shift(f, ab)
    z = sst.norm.isf(0.005)
    assert shift[i] <= z < shift[i - 1]
    k = ss.ks_threshold_step(f, betas, 0.01)
    crit = sst.kstwobign.isf(0.01)
    root_n = np.sqrt(f.size)
    assert root_n * ss.pooled_ks_distance(f, ab[k]) <= crit < root_n * ss.pooled_ks_distance(f, ab[k - 1])
    # the blind KS test loses its power earlier than the matched test
    assert k < i
    # a schedule that never gets there returns −1
    assert ss.correlation_threshold_step(f, sch.constant_betas(1e-4, 50), 0.01) == -1
    assert ss.ks_threshold_step(f, sch.constant_betas(1e-4, 50), 0.01) == -1


def test_detectability_report_and_simulation_agree_with_the_parts():
    f = lib.data.cat()[::6, ::6]
    betas = sch.linear_betas()
    rep = ss.detectability(f, betas, 0.01)
    ab = sch.alpha_bar(betas)
    np.testing.assert_allclose(rep.shift, ss.correlation_shift(f, ab))
    assert rep.correlation_step == ss.correlation_threshold_step(f, betas, 0.01)
    assert rep.ks_step == ss.ks_threshold_step(f, betas, 0.01)
    assert rep.power_T == pytest.approx(float(ss.two_sided_power(rep.shift[-1], 0.01, np.sqrt(1 - ab[-1]))))
    assert rep.ks_step < rep.correlation_step
    steps = [200, 400, 600, 800, 1000]
    draws, wrong = [], []
    rng = np.random.default_rng(16)
    sd = np.sqrt(1 - ab[steps])
    for _ in range(20):
        sim = ss.simulate_detection(f, betas, steps, rng)
        assert sim["snapshots"].shape == (5,) + f.shape and sim["snapshots"].dtype == np.float32
        draws.append(sim["z_standardised"])
        # the wrong shift ᾱ‖g‖ (mean scaled by ᾱ instead of √ᾱ)
        wrong.append((sim["z"] - np.sqrt(ab[steps]) * ss.correlation_shift(f, ab[steps])) / sd)
    # 20 trajectories x 5 steps; each entry is N(0, 1) if the analysis holds, so the mean over
    # the 20 trajectories has standard error 1/√20.
    draws, wrong = np.array(draws), np.array(wrong)
    assert np.all(np.abs(draws.mean(0)) <= Z_MAX / np.sqrt(20))
    assert np.abs(wrong.mean(0))[0] > 2 * Z_MAX / np.sqrt(20)  # rejected at step 200
    np.testing.assert_allclose(sim["ks_population"], np.sqrt(f.size) * ss.pooled_ks_distance(f, ab[steps]))


def test_first_step_at_or_below():
    assert ss.first_step_at_or_below([5, 4, 1, 2, 0.5], 1.5) == 4  # must stay below
    assert ss.first_step_at_or_below([1, 0], 2) == 0
    assert ss.first_step_at_or_below([3, 2], 1) == -1


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def test_input_validation():
    with pytest.raises(ValueError, match="alpha_bar"):
        ss.kl_gaussian_marginal(np.zeros(2), np.eye(2), 1.0)
    with pytest.raises(ValueError, match="alpha_bar"):
        ss.kl_gaussian_marginal(np.zeros(2), np.eye(2), 0.0)
    with pytest.raises(ValueError, match="positive definite"):
        ss.kl_gaussian(np.zeros(2), np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="symmetric"):
        ss.kl_gaussian(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        ss.kl_gaussian(np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="variance"):
        ss.mixture_logpdf(np.zeros(2), np.zeros((1, 2)), 1.0, 0.0)
    with pytest.raises(ValueError, match="x must have shape"):
        ss.mixture_logpdf(np.zeros(3), np.zeros((1, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match="centers"):
        ss.mixture_logpdf(np.zeros(2), np.zeros(2), 1.0, 1.0)
    with pytest.raises(TypeError, match="Generator"):
        ss.kl_to_standard_normal_mc(np.zeros((2, 2)), 0.5, 10, rng=0)
    with pytest.raises(ValueError, match="n_samples"):
        ss.kl_to_standard_normal_mc(np.zeros((2, 2)), 0.5, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="c must lie"):
        ss.inverse_square_betas(1.0, 10)
    with pytest.raises(ValueError, match="n_steps"):
        ss.harmonic_betas(0.5, 0)
    with pytest.raises(ValueError, match="level"):
        ss.two_sided_power(1.0, 1.5)
    with pytest.raises(ValueError, match="constant"):
        ss.correlation_z(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="same number"):
        ss.correlation_z(np.zeros(4), np.arange(3.0))
    with pytest.raises(ValueError, match="single number"):
        ss.gaussian_marginal_moments(np.zeros(1), np.eye(1), [0.5])
    with pytest.raises(ValueError, match="order"):
        ss.kl_leading_order(np.zeros(1), np.eye(1), 0.5, order=3)
