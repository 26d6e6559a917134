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


# ---------------------------------------------------------------------------------------------
# The mixture: log-density, sampler, Monte Carlo KL
# ---------------------------------------------------------------------------------------------


def kl_1d_quadrature(centers, a):
    """KL(p ‖ N(0,1)) for a 1-D mixture by adaptive quadrature (independent of lib's MC)."""

    def integrand(t):
        lp = ss.mixture_logpdf(np.array([t]), centers, np.sqrt(a), 1 - a)
        return np.exp(lp) * (lp - sst.norm.logpdf(t))

    value, _ = integrate.quad(integrand, -15, 15, limit=200, points=list(np.sqrt(a) * centers[:, 0]))
    return value


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


def test_two_sided_power_limits():
    assert float(ss.two_sided_power(0.0, 0.05)) == pytest.approx(0.05, rel=1e-12)
    z = sst.norm.isf(0.005)
    assert float(ss.two_sided_power(z, 0.01)) == pytest.approx(0.5, abs=1e-6)
    assert float(ss.two_sided_power(10.0, 0.01)) > 0.999
