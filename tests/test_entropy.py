"""Tests of :mod:`lib.entropy`: Lyapunov sequences, paper Property 3 (Eqs. 9-20).

Tolerances:

* closed forms are compared with scipy's Gaussian entropy (an independent implementation,
  ``multivariate_normal(...).entropy()``) to a round-off bound: a sum of n terms of size ≤ S
  carries an absolute error of at most ≈ n·eps·S, and the tests allow a small multiple of it;
* Monte Carlo estimates are compared with exact values (closed forms, 1-D quadrature to ~1e-10)
  within Z_MAX standard errors: two-sided false alarm 5.7e-7 per assertion at Z_MAX = 5, and
  the seeds are fixed, so the outcome is reproducible;
* every check is paired with a wrong variant that it must reject.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate
from scipy import stats as sst

import lib
from lib import entropy as en
from lib import schedules as sch
from lib import steady_state as ss

EPS = np.finfo(np.float64).eps
HYP = settings(max_examples=30, deadline=None, database=None)  # no example database in the book
Z_MAX = 5.0
LOG_2PIE = math.log(2 * math.pi * math.e)


@st.composite
def spd_st(draw, max_n: int = 6):
    """A symmetric positive definite matrix of moderate condition (n ≤ max_n)."""
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal((n, n)) * draw(st.floats(0.1, 3.0))
    return a @ a.T / n + draw(st.floats(0.05, 2.0)) * np.eye(n)


def betas_st(max_size: int = 40, lo: float = 1e-6, hi: float = 0.9):
    return hnp.arrays(np.float64, st.integers(1, max_size), elements=st.floats(lo, hi))


def scipy_entropy(cov) -> float:
    return float(sst.multivariate_normal(cov=cov).entropy())


# ---------------------------------------------------------------------------------------------
# 1-D references by quadrature
# ---------------------------------------------------------------------------------------------


def _mixture_pdf_1d(centers, a):
    c = np.sqrt(a) * np.asarray(centers, dtype=float).ravel()
    sd = np.sqrt(1 - a)
    return lambda x: float(np.mean(sst.norm.pdf(x, c, sd))), c, sd


def entropy_1d_quadrature(centers, a) -> float:
    """−∫ p ln p for the 1-D mixture (1/N) Σ N(√a c_k, 1 − a) (quad, error ~1e-10)."""
    pdf, c, sd = _mixture_pdf_1d(centers, a)

    def integrand(x):
        p = pdf(x)
        return -p * np.log(p) if p > 0 else 0.0

    value, _ = integrate.quad(integrand, c.min() - 14 * sd, c.max() + 14 * sd, limit=400,
                              points=list(c), epsabs=1e-12, epsrel=1e-12)
    return value


def rate_1d_quadrature(centers, a, h: float = 2e-3) -> float:
    """dH/dt at t = −ln a by Richardson-extrapolated central differences of the quadrature.

    Truncation O(h⁴ H⁽⁵⁾) and quadrature error ~1e-11 / h: together below 1e-6 for the cases used.
    """
    t = -np.log(a)

    def central(step):
        return (entropy_1d_quadrature(centers, np.exp(-t - step))
                - entropy_1d_quadrature(centers, np.exp(-t + step))) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


def test_isotropic_marginal_entropy_is_the_paper_counterexample():
    n = 64
    betas = sch.constant_betas(0.02, 1000)
    ab = sch.alpha_bar(betas)
    for s in (0.25, 4.0):
        h = en.isotropic_marginal_entropy(s, n, ab)
        np.testing.assert_allclose(h, en.gaussian_marginal_entropy(s * np.eye(n), ab), atol=1e-11)
        step = np.diff(h)
        assert np.all(step > 0) if s < 1 else np.all(step < 0)
    # and β = 0.02 satisfies the paper's Eq. (10) for n = 64
    assert en.satisfies_eq10(0.02, n)


@HYP
@given(betas=betas_st(), s=st.floats(0.01, 100.0).filter(lambda v: abs(v - 1) > 1e-3))
def test_isotropic_entropy_moves_against_its_variance_for_every_schedule(betas, s):
    ab = sch.alpha_bar(betas)
    h = en.isotropic_marginal_entropy(s, 3, ab)
    step = np.diff(h)
    # s_i − s_{i−1} = −β_i ᾱ_{i−1}(σ² − 1): the sign is that of 1 − σ², whatever β_i ∈ (0, 1).
    # Where the step is below the rounding of H (|H| ≈ 10, eps·10) its sign is undetermined.
    visible = np.abs(step) > 100 * EPS * (np.abs(h[1:]) + 1)
    assert np.all(np.sign(step[visible]) == np.sign(1 - s))


# ---------------------------------------------------------------------------------------------
# Proposition 2: the conditional entropy (Eqs. 16-20)
# ---------------------------------------------------------------------------------------------


def test_conditional_entropy_matches_scipy_and_eq18_is_twice_it():
    n = 64
    betas = sch.linear_betas(100)
    h = en.conditional_entropy(betas, n)
    ab = sch.alpha_bar(betas)
    assert h[0] == -np.inf
    for i in (1, 10, 100):
        assert h[i] == pytest.approx(scipy_entropy((1 - ab[i]) * np.eye(n)), abs=1e-11)
    eq18 = en.conditional_entropy_eq18(betas, n)
    np.testing.assert_allclose(eq18[1:], 2 * h[1:], rtol=1e-14)
    # The two coincide only where 2πe(1 − ᾱ) = 1.
    i = int(np.argmin(np.abs(h[1:]))) + 1
    assert abs(np.log(2 * np.pi * np.e * (1 - ab[i]))) < 0.1


def test_conditional_entropy_monte_carlo_on_the_digits():
    """Average of −log p(u_i | u_0) over training images and noise: Eq. (16) by simulation."""
    digits = lib.data.digits()[::4]
    n = digits.shape[1]
    betas = sch.constant_betas(0.02, 300)
    ab = sch.alpha_bar(betas)
    rng = np.random.default_rng(2)
    exact = en.conditional_entropy(betas, n)
    paper = en.conditional_entropy_eq18(betas, n)
    for i in (1, 30, 300):
        u0 = digits[rng.integers(0, digits.shape[0], 4000)]
        u = np.sqrt(ab[i]) * u0 + np.sqrt(1 - ab[i]) * rng.standard_normal(u0.shape)
        logp = sst.norm.logpdf(u, np.sqrt(ab[i]) * u0, np.sqrt(1 - ab[i])).sum(axis=1)
        est, se = -logp.mean(), logp.std(ddof=1) / np.sqrt(logp.size)
        assert abs(est - exact[i]) <= Z_MAX * se
        assert abs(est - paper[i]) > 50 * Z_MAX * se  # Eq. (18) as printed is rejected


# ---------------------------------------------------------------------------------------------
# Proposition 1: Eqs. (10) and (12)
# ---------------------------------------------------------------------------------------------


@HYP
@given(s=st.floats(1e-2, 1e2), beta=st.floats(1e-6, 1 - 1e-6), n=st.integers(1, 70))
def test_eq12_terms_against_scipy(s, beta, n):
    t = en.eq12_gaussian(s, beta, n)
    ref = scipy_entropy(((1 - beta) * s + beta) * np.eye(n))
    tol = 100 * n * EPS * (LOG_2PIE + abs(np.log(s)) + 20)
    assert t.exact == pytest.approx(ref, abs=tol)
    h_u = scipy_entropy(s * np.eye(n))
    h_scaled = scipy_entropy((1 - beta) * s * np.eye(n))
    h_g = scipy_entropy(np.eye(n))
    h_noise = scipy_entropy(beta * np.eye(n))
    assert t.scaling_exact == pytest.approx(h_scaled - h_u, abs=tol)
    assert t.sum_of_entropies == pytest.approx(h_scaled + h_noise, abs=tol)
    assert t.paper == pytest.approx(h_u + 0.5 * np.log(1 - beta) + h_g + 0.5 * np.log(beta), abs=tol)
    # additivity error in closed form: (n/2) ln(2πe (1−β)s β / ((1−β)s + β))
    add = 0.5 * n * (LOG_2PIE + np.log((1 - beta) * s * beta / ((1 - beta) * s + beta)))
    assert t.additivity_error == pytest.approx(add, abs=tol)


def test_eq12_is_false_and_by_how_much():
    t = en.eq12_gaussian(1.0, 0.02, 64)
    # U_i ~ N(0, I) stays N(0, I): H(U_{i+1}) = H(U_i) = (n/2) ln 2πe, but Eq. (12) adds H(G).
    assert t.exact == pytest.approx(en.standard_normal_entropy(64), abs=1e-12)
    assert t.paper_error == pytest.approx(en.standard_normal_entropy(64) + 0.5 * np.log(0.98 * 0.02), abs=1e-11)
    assert t.paper_error > 85
    # n = 1: the scaling term is right, the additivity still fails.
    t1 = en.eq12_gaussian(1.0, 0.02, 1)
    assert t1.scaling_exact == t1.scaling_paper
    assert abs(t1.paper_error) > 0.1
    # Eq. (12) holds by coincidence on one curve: n = 1, s = 1, β(1 − β) = 1/(2πe).
    beta = 0.5 - math.sqrt(0.25 - 1 / (2 * math.pi * math.e))
    assert en.eq12_gaussian(1.0, beta, 1).paper_error == pytest.approx(0.0, abs=1e-12)


def test_eq10_interval_solves_the_quadratic_and_membership_is_robust():
    for n in range(1, 12):
        lo, hi = en.eq10_interval(n)
        q = (2 * math.pi * math.e) ** -n
        for root in (lo, hi):
            assert abs(root * root - root + q) <= 4 * EPS * q / min(lo, 1 - hi) + 4 * EPS
        assert lo == pytest.approx(float(ss.eq10_lower_bound(n)), rel=0)
        # membership by the log form agrees with the interval away from the boundary
        for beta in (lo * (1 - 1e-9), lo * (1 + 1e-9), 0.5):
            assert en.satisfies_eq10(beta, n) == (lo <= beta <= hi)
        if n <= 4:  # near 1, β = 1 − lo(1 ± δ) is representable only while lo·δ ≫ eps
            for beta in (1 - lo * (1 + 1e-6), 1 - lo * (1 - 1e-6)):
                assert en.satisfies_eq10(beta, n) == (lo <= beta <= hi)
    # n = 64: the upper limit rounds to 1.0, but membership is still decided correctly.
    lo, hi = en.eq10_interval(64)
    assert hi == 1.0 and 0 < lo < 1e-78
    assert not en.satisfies_eq10(1e-80, 64) and en.satisfies_eq10(1e-78, 64)
    assert not en.satisfies_eq10(1 - 1e-16, 64) or (1e-16 * (1 - 1e-16) >= (2 * math.pi * math.e) ** -64)
    # huge n: b_n underflows to 0, the log form still works
    assert en.eq10_interval(10**6)[0] == 0.0
    assert en.satisfies_eq10(1e-300, 10**6)
    np.testing.assert_array_equal(en.satisfies_eq10(np.array([0.01, 0.5]), np.array([1, 1])), [False, True])


@HYP
@given(beta=st.floats(1e-6, 1 - 1e-6), n=st.integers(1, 8))
def test_satisfies_eq10_matches_the_quadratic(beta, n):
    q = (2 * math.pi * math.e) ** -n
    lhs = beta * (1 - beta)
    if abs(lhs - q) > 1e-12 * q:  # away from the boundary, where the two roundings may differ
        assert en.satisfies_eq10(beta, n) == (lhs >= q)


# ---------------------------------------------------------------------------------------------
# Entropy power inequality
# ---------------------------------------------------------------------------------------------


@HYP
@given(s=st.floats(1e-2, 1e2), r=st.floats(1e-4, 1.0), n=st.integers(1, 64))
def test_epi_bound_is_tight_for_isotropic_gaussians(s, r, n):
    h = en.isotropic_gaussian_entropy(s, n)
    assert en.entropy_power(h, n) == pytest.approx(s, rel=1e-12)
    bound = en.epi_lower_bound(h, r, n)
    exact = en.isotropic_gaussian_entropy(r * s + 1 - r, n)  # √r U + √(1−r) G ~ N(0, (rs+1−r)I)
    assert bound == pytest.approx(exact, abs=100 * n * EPS * (LOG_2PIE + abs(np.log(s)) + 1))
    # The bound exceeds H(U) exactly when N(U) < 1.
    if abs(s - 1) > 1e-6 and r < 1 - 1e-6:
        assert (bound > h) == (s < 1)


def test_epi_bound_holds_for_a_non_gaussian_and_for_a_point_mass():
    centers = np.array([[-3.0], [0.0], [4.0]])
    for a, r in [(0.9, 0.5), (0.5, 0.2), (0.99, 0.9)]:
        h = entropy_1d_quadrature(centers, a)
        h_next = entropy_1d_quadrature(centers, a * r)  # √r U + √(1−r) G has ᾱ = a r
        bound = en.epi_lower_bound(h, r, 1)
        assert h_next >= bound - 1e-9
        # strict for a non-Gaussian U
        assert h_next > bound + 1e-4
    assert en.epi_lower_bound(-np.inf, 0.3, 5) == pytest.approx(en.isotropic_gaussian_entropy(0.7, 5))


# ---------------------------------------------------------------------------------------------
# Monte Carlo for an empirical training set
# ---------------------------------------------------------------------------------------------


def test_entropy_turn_brackets_the_maximum():
    # Two well-separated centres in 1-D: H(U_i) rises from the two spikes, overshoots
    # H(N(0, 1)) and falls back (the centres have variance 16 > 1).
    centers = np.array([[-4.0], [4.0]])
    betas = sch.constant_betas(0.05, 200)
    ab = sch.alpha_bar(betas)
    steps = np.arange(5, 61)  # the maximum is near step 29
    h = np.array([entropy_1d_quadrature(centers, ab[i]) for i in steps])
    i_max = int(steps[np.argmax(h)])
    assert 5 < i_max < 60
    turn = en.entropy_turn(centers, betas, 5, 60, 4000, np.random.default_rng(17))
    assert turn.last_increasing <= i_max <= turn.first_decreasing
    assert turn.first_decreasing - turn.last_increasing < 15
    with pytest.raises(ValueError, match="not significantly negative"):
        en.entropy_turn(centers, betas, 5, 10, 500, np.random.default_rng(18))


def test_log_spaced_steps():
    s = en.log_spaced_steps(1000, 20)
    assert s[0] == 1 and s[-1] == 1000 and np.all(np.diff(s) > 0) and s.size <= 20
    np.testing.assert_array_equal(en.log_spaced_steps(5, 1), [1])


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def test_input_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="square"):
        en.gaussian_entropy(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive definite"):
        en.gaussian_entropy(np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="symmetric"):
        en.gaussian_entropy(np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        en.gaussian_entropy(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="alpha_bar"):
        en.gaussian_marginal_entropy(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="positive definite"):
        en.gaussian_marginal_entropy(np.diag([1.0, 0.0]), 1.0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        en.standard_normal_entropy(0)
    with pytest.raises(ValueError, match="variance"):
        en.isotropic_gaussian_entropy(-1.0, 3)
    for bad in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            en.eq12_gaussian(1.0, bad, 3)
        with pytest.raises(ValueError, match="beta"):
            en.satisfies_eq10(bad, 3)
    with pytest.raises(TypeError, match="beta"):
        en.eq12_gaussian(1.0, True, 3)
    with pytest.raises(ValueError, match="beta"):
        en.satisfies_eq10(np.array([0.5, 1.0]), 3)
    with pytest.raises(ValueError, match="n must hold"):
        en.satisfies_eq10(0.5, 0)
    with pytest.raises(ValueError, match="betas"):
        en.conditional_entropy([0.5, 1.0], 4)
    with pytest.raises(ValueError, match="betas"):
        en.conditional_entropy_increments([[0.5]], 4)
    with pytest.raises(ValueError, match="centers"):
        en.mixture_entropy_mc(np.zeros(3), 0.5, 10, rng)
    with pytest.raises(ValueError, match="finite"):
        en.mixture_entropy_mc(np.array([[0.0, np.inf]]), 0.5, 10, rng)
    with pytest.raises(ValueError, match="alpha_bar"):
        en.mixture_entropy_mc(np.zeros((2, 2)), 1.0, 10, rng)
    with pytest.raises(ValueError, match="n_samples"):
        en.mixture_entropy_mc(np.zeros((2, 2)), 0.5, 1, rng)
    with pytest.raises(ValueError, match="method"):
        en.mixture_entropy_mc(np.zeros((2, 2)), 0.5, 10, rng, method="exact")
    with pytest.raises(TypeError, match="Generator"):
        en.mixture_entropy_mc(np.zeros((2, 2)), 0.5, 10, 0)
    with pytest.raises(ValueError, match="x must have shape"):
        en.mixture_posterior_mean(np.zeros((4, 3)), np.zeros((2, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match="variance"):
        en.mixture_posterior_mean(np.zeros((4, 2)), np.zeros((2, 2)), 1.0, 0.0)
    with pytest.raises(ValueError, match="lo must be smaller"):
        en.entropy_turn(np.zeros((2, 1)), sch.constant_betas(0.1, 10), 5, 5, 10, rng)
    with pytest.raises(ValueError, match=r"hi must lie in \[1, 10\]"):
        en.entropy_turn(np.zeros((2, 1)), sch.constant_betas(0.1, 10), 1, 11, 10, rng)
    with pytest.raises(ValueError, match="entropy"):
        en.epi_lower_bound(np.nan, 0.5, 2)
    with pytest.raises(ValueError, match="count"):
        en.log_spaced_steps(10, 0)


def test_standardised_differences():
    z = en.standardised_differences([1.0, 2.0, 2.0], [0.3, 0.4, 0.0])
    np.testing.assert_allclose(z, [1.0 / 0.5, 0.0])
    with pytest.raises(ValueError, match="same length"):
        en.standardised_differences([1.0, 2.0], [0.1])
    with pytest.raises(ValueError, match="non-negative"):
        en.standardised_differences([1.0, 2.0], [0.1, -0.1])


def test_entropy_vs_scale_closed_forms_and_mc_agree_with_their_sources():
    data = lib.data.digits()[::15]
    betas = sch.constant_betas(0.05, 100)
    ab = sch.alpha_bar(betas)
    r = en.entropy_vs_scale(data, 2.0, betas, [1, 10, 100], 200, np.random.default_rng(21))
    cov = np.cov(2 * data, rowvar=False, bias=True)
    np.testing.assert_allclose(r["gauss_h"], en.gaussian_marginal_entropy(cov, ab[1:]))
    np.testing.assert_array_equal(r["i"], np.arange(1, 101))
    # the mixture's entropy is below the Gaussian bound and its KL above the Gaussian KL
    assert np.all(r["h"] <= r["gauss_h"][r["mc_i"] - 1] + Z_MAX * r["h_se"])
    assert np.all(r["kl"] >= r["gauss_kl"][r["mc_i"] - 1] - Z_MAX * r["kl_se"])
    with pytest.raises(ValueError, match="scale"):
        en.entropy_vs_scale(data, -1.0, betas, [1], 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mc_steps"):
        en.entropy_vs_scale(data, 1.0, betas, [0, 5], 10, np.random.default_rng(0))


def test_epi_slack_is_zero_for_gaussians_and_catches_a_wrong_entropy():
    ab = sch.alpha_bar(sch.constant_betas(0.05, 100))[[1, 10, 50, 100]]
    h = en.isotropic_marginal_entropy(3.0, 8, ab)  # Gaussian: the EPI holds with equality
    slack = en.epi_slack(h, np.full(4, 1e-3), ab, 8)
    np.testing.assert_allclose(slack, 0.0, atol=1e-8)
    wrong = h.copy()
    wrong[2] -= 1.0  # an entropy 1 nat too low at one step violates the bound by 1000 SE
    assert en.epi_slack(wrong, np.full(4, 1e-3), ab, 8).min() < -500
    with pytest.raises(ValueError, match="decrease"):
        en.epi_slack(h, np.full(4, 1e-3), ab[::-1], 8)
    with pytest.raises(ValueError, match="errors"):
        en.epi_slack(h, np.full(3, 1e-3), ab, 8)


@HYP
@given(s=st.floats(1e-3, 1e3), n=st.integers(1, 80))
def test_isotropic_and_standard_normal_entropy(s, n):
    ref = scipy_entropy(s * np.eye(n))
    tol = 50 * n * EPS * (LOG_2PIE + abs(np.log(s)))
    assert en.isotropic_gaussian_entropy(s, n) == pytest.approx(ref, abs=tol)
    assert en.standard_normal_entropy(n) == pytest.approx(scipy_entropy(np.eye(n)), abs=50 * n * EPS * LOG_2PIE)
    # Scaling by a adds n ln|a| (not ln|a|): N(0, a² s I) against N(0, s I).
    a = 1.7
    diff = en.isotropic_gaussian_entropy(a * a * s, n) - en.isotropic_gaussian_entropy(s, n)
    assert diff == pytest.approx(n * np.log(a), abs=tol + 1e-12)
    if n > 1:
        assert abs(diff - np.log(a)) > 0.5 * (n - 1) * np.log(a)


@HYP
@given(betas=betas_st(max_size=60), n=st.integers(1, 100))
def test_conditional_entropy_increases_for_every_schedule(betas, n):
    inc = en.conditional_entropy_increments(betas, n)
    assert inc[0] == np.inf
    assert np.all(inc[1:] > 0)
    h = en.conditional_entropy(betas, n)
    finite = np.diff(h)[1:]
    np.testing.assert_allclose(finite, inc[1:], rtol=1e-6, atol=200 * EPS * n * (1 + np.abs(h[1:]).max()))


def test_conditional_increments_stay_positive_where_differencing_fails():
    # β = 0.5: 1 − ᾱ_i = 1 − 2^(−i) rounds to 1 from i = 54 on, so differences of H vanish.
    betas = np.full(80, 0.5)
    h = en.conditional_entropy(betas, 4)
    assert np.all(np.diff(h)[60:] == 0.0)
    inc = en.conditional_entropy_increments(betas, 4)
    assert np.all(inc > 0)
    # exact: (n/2) ln(1 + β ᾱ_{i−1}/(1 − ᾱ_{i−1})) ≈ 2 · 2^(−i) for large i
    assert inc[69] == pytest.approx(2 * 2.0**-70 / (1 - 2.0**-69), rel=1e-12)
