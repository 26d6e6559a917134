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
import tracemalloc

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
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


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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


@HYP
@given(cov=spd_st())
def test_gaussian_entropy_matches_scipy(cov):
    n = cov.shape[0]
    h = en.gaussian_entropy(cov)
    scale = 0.5 * n * LOG_2PIE + 0.5 * np.abs(np.log(np.linalg.eigvalsh(cov))).sum()
    assert h == pytest.approx(scipy_entropy(cov), abs=50 * n * EPS * scale)
    # Wrong variant: ½ ln det Σ without the 2πe.
    assert abs(0.5 * np.linalg.slogdet(cov)[1] - h) > 1.0


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
@given(cov=spd_st(), a=st.floats(1e-3, 1.0))
def test_gaussian_marginal_entropy_matches_scipy_at_every_step(cov, a):
    n = cov.shape[0]
    _, s = ss.gaussian_marginal_moments(np.zeros(n), cov, a)
    h = en.gaussian_marginal_entropy(cov, a)
    assert h == pytest.approx(scipy_entropy(s), abs=200 * n * EPS * (LOG_2PIE + 10))
    # A Gaussian maximises entropy at fixed covariance; N(0, I) is the ᾱ → 0 limit.
    assert en.gaussian_marginal_entropy(cov, 1e-12) == pytest.approx(en.standard_normal_entropy(n), abs=1e-9)


def test_gaussian_marginal_entropy_along_a_schedule_and_small_alpha_bar():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((5, 5))
    cov = b @ b.T / 5 + 0.1 * np.eye(5)
    betas = sch.linear_betas(200)
    ab = sch.alpha_bar(betas)
    h = en.gaussian_marginal_entropy(cov, ab)  # every step, i = 0 … T
    ref = [scipy_entropy(ss.gaussian_marginal_moments(np.zeros(5), cov, x)[1]) for x in ab]
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-12)
    # Near ᾱ = 0: H − H(N(0, I)) = ½ ᾱ (tr Σ − n) + O(ᾱ²); log1p keeps this to full precision.
    lam = np.linalg.eigvalsh(cov)
    for x in [1e-9, 1e-13]:
        excess = en.gaussian_marginal_entropy(cov, x) - en.standard_normal_entropy(5)
        assert excess == pytest.approx(0.5 * x * (lam.sum() - 5), rel=1e-3, abs=1e-14)


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


@HYP
@given(cov=spd_st(max_n=4), a=st.floats(1e-3, 0.99))
def test_gaussian_entropy_rate_is_the_derivative_in_t(cov, a):
    # Central difference in t = −ln ᾱ with step h: error ≤ h²/6 · max|H'''| + 2 eps·|H|/h.
    h = 1e-4
    t = -np.log(a)
    plus = en.gaussian_marginal_entropy(cov, np.exp(-(t + h)))
    minus = en.gaussian_marginal_entropy(cov, np.exp(-(t - h)))
    numeric = (plus - minus) / (2 * h)
    rate = en.gaussian_marginal_entropy_rate(cov, a)
    n = cov.shape[0]
    lam = np.linalg.eigvalsh(cov)
    assert rate == pytest.approx(numeric, abs=1e-6 * (1 + n * lam.max()))
    # Wrong variant: the derivative in ᾱ instead of t differs by the factor −ᾱ.
    if abs(rate) > 1e-3:
        assert rate != pytest.approx(-rate / a, rel=1e-3)


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


@pytest.mark.parametrize("method", ["labelled", "plain"])
def test_mixture_entropy_matches_quadrature_in_1d(method):
    centers = np.array([[-1.0], [0.5], [0.9], [3.0]])
    rng = np.random.default_rng(4)
    a_all = np.array([0.99, 0.9, 0.5, 0.05])
    est = en.mixture_entropy_mc(centers, a_all, 20_000, rng, method=method)
    exact = np.array([entropy_1d_quadrature(centers, a) for a in a_all])
    dev = np.abs(est.entropy.value - exact) / est.entropy.standard_error
    assert np.all(dev <= Z_MAX), dev
    # KL(p ‖ N(0, 1)) by the same estimate and its exact second moment
    for k, a in enumerate(a_all):
        pdf, c, sd = _mixture_pdf_1d(centers, a)
        kl, _ = integrate.quad(lambda x: pdf(x) * (np.log(pdf(x)) - sst.norm.logpdf(x)) if pdf(x) > 0 else 0.0,
                               c.min() - 14 * sd, c.max() + 14 * sd, limit=400, points=list(c))
        assert abs(est.kl.value[k] - kl) <= Z_MAX * est.kl.standard_error[k] + 1e-8
    # I(U_0; U_i) = H − H(U|U_0) lies in [0, ln N]; H is below the moment-matched Gaussian's.
    mi = est.mutual_information
    assert np.all(mi.value >= -Z_MAX * mi.standard_error)
    assert np.all(mi.value <= np.log(4) + Z_MAX * mi.standard_error)
    assert np.all(est.entropy.value <= est.entropy.gaussian_part + Z_MAX * est.entropy.standard_error)
    # Wrong variant: H(U | U_0) taken from the paper's Eq. (18), n ln(2πe(1 − ᾱ)).
    wrong = est.mutual_information.value + 2 * est.conditional_entropy
    assert np.all(np.abs(wrong - exact) > 10 * Z_MAX * est.entropy.standard_error)


def test_labelled_estimator_is_exact_for_one_image_and_far_better_near_the_data():
    f = np.array([[0.5, -1.0, 0.25, 1.0]])
    est = en.mixture_entropy_mc(f, [0.2, 0.9], 50, np.random.default_rng(5))
    exact = 0.5 * 4 * (LOG_2PIE + np.log([0.8, 0.1]))
    np.testing.assert_allclose(est.entropy.value, exact, atol=1e-12)
    assert np.all(est.entropy.standard_error < 1e-12)
    np.testing.assert_allclose(est.mutual_information.value, 0.0, atol=1e-12)
    digits = lib.data.digits()[::8]
    rng = np.random.default_rng(6)
    lab = en.mixture_entropy_mc(digits, 0.9, 500, rng)
    plain = en.mixture_entropy_mc(digits, 0.9, 500, rng, method="plain")
    assert lab.entropy.standard_error * 50 < plain.entropy.standard_error
    gap = abs(lab.entropy.value - plain.entropy.value)
    assert gap <= Z_MAX * math.hypot(lab.entropy.standard_error, plain.entropy.standard_error)


def test_mixture_entropy_in_many_dimensions_has_the_1d_answer():
    # Two centres ±3 e_1 in n = 16 dimensions: H = H_1d + (n − 1)/2 ln(2πe(1 − ᾱ)).
    n = 16
    centers = np.zeros((2, n))
    centers[:, 0] = [-3.0, 3.0]
    a_all = np.array([0.8, 0.2])
    est = en.mixture_entropy_mc(centers, a_all, 5000, np.random.default_rng(7))
    exact = np.array([entropy_1d_quadrature(centers[:, :1], a) + 0.5 * (n - 1) * (LOG_2PIE + np.log(1 - a))
                      for a in a_all])
    # + 1e-7: at ᾱ = 0.8 the components are 6 SD from the midpoint; draws there (probability
    # ~1e-9) carry the last ~1e-9 of I(U_0; U_i) and are never seen, so the SE (1e-16) understates
    # the error; the quadrature itself is good to ~1e-10.
    assert np.all(np.abs(est.entropy.value - exact) <= Z_MAX * est.entropy.standard_error + 1e-7)


def test_kl_agrees_with_the_steady_state_estimator():
    """Two independent estimators of KL(p(u_i) ‖ N(0, I)): ours (via H) and lib.steady_state's."""
    digits = lib.data.digits()[::5]
    a_all = np.array([0.9, 0.3, 0.02])
    ours = en.mixture_entropy_mc(digits, a_all, 600, np.random.default_rng(8)).kl
    theirs = ss.kl_to_standard_normal_mc(digits, a_all, 600, np.random.default_rng(9))
    se = np.hypot(ours.standard_error, theirs.standard_error)
    assert np.all(np.abs(ours.value - theirs.value) <= Z_MAX * se)
    np.testing.assert_allclose(ours.gaussian_part, theirs.gaussian_part, rtol=1e-12)
    # KL ≥ KL of the moment-matched Gaussian, within the SE.
    assert np.all(ours.value >= ours.gaussian_part - Z_MAX * ours.standard_error)


def test_block_size_does_not_change_the_labelled_estimate():
    digits = lib.data.digits()[::20]
    a = [0.7, 0.1]
    big = en.mixture_entropy_mc(digits, a, 1000, np.random.default_rng(10), block_size=4096)
    small = en.mixture_entropy_mc(digits, a, 1000, np.random.default_rng(10), block_size=37, chunk_size=500)
    np.testing.assert_allclose(small.entropy.value, big.entropy.value, rtol=1e-12)
    np.testing.assert_allclose(small.entropy.standard_error, big.entropy.standard_error, rtol=1e-8)
    other = en.mixture_entropy_mc(digits, a, 1000, np.random.default_rng(11))
    assert not np.allclose(other.entropy.value, big.entropy.value, rtol=1e-12)


def test_memory_stays_bounded_whatever_the_sample_count():
    centers = np.random.default_rng(12).standard_normal((100, 64))
    tracemalloc.start()
    en.mixture_entropy_mc(centers, 0.5, 20_000, np.random.default_rng(13), block_size=500, chunk_size=2**14)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Holding all 20 000 samples would take 20 000 · 64 · 8 B = 10 MB; blocks of 500 take 0.26 MB.
    assert peak < 2_000_000, peak


def test_posterior_mean_matches_direct_softmax_and_is_chunk_invariant():
    rng = np.random.default_rng(14)
    centers = rng.standard_normal((30, 3)) * 2
    x = rng.standard_normal((17, 3))
    s, v = 0.8, 0.36
    logits = -((x[:, None, :] - s * centers[None]) ** 2).sum(-1) / (2 * v)
    w = np.exp(logits - logits.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    direct = w @ centers
    for chunk in (1, 7, 30, 2**20):
        np.testing.assert_allclose(en.mixture_posterior_mean(x, centers, s, v, chunk_size=chunk), direct,
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(en.mixture_posterior_mean(x, centers[:1], s, v), np.repeat(centers[:1], 17, 0))


def test_entropy_rate_is_exact_for_one_image_and_matches_quadrature_in_1d():
    f = np.array([[0.5, -1.0, 0.25]])
    a_all = np.array([0.2, 0.9])
    est = en.mixture_entropy_rate_mc(f, a_all, 20, np.random.default_rng(15))
    np.testing.assert_allclose(est.value, 3 * a_all / (2 * (1 - a_all)), rtol=1e-12)  # mmse = 0
    centers = np.array([[-3.0], [0.0], [4.0]])
    rng = np.random.default_rng(16)
    # ᾱ ≤ 0.6 keeps the components overlapping: at ᾱ = 0.9 the draws that carry the overlap
    # term (~7e-4 of the rate) have probability ~1e-6 and the SE would not see them.
    for a in (0.6, 0.3, 0.05):
        numeric = rate_1d_quadrature(centers, a)
        est = en.mixture_entropy_rate_mc(centers, a, 20_000, rng)
        assert abs(est.value - numeric) <= Z_MAX * est.standard_error + 1e-6, (a, est, numeric)
        # Wrong variant: the derivative with respect to ᾱ (dH/dᾱ = −dH/dt / ᾱ).
        assert abs(-est.value / a - numeric) > 10 * Z_MAX * est.standard_error


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
    with pytest.raises(ValueError, match="hi must be an integer step"):
        en.entropy_turn(np.zeros((2, 1)), sch.constant_betas(0.1, 10), 1, 11, 10, rng)
    with pytest.raises(ValueError, match="entropy"):
        en.epi_lower_bound(np.nan, 0.5, 2)
    with pytest.raises(ValueError, match="count"):
        en.log_spaced_steps(10, 0)


def test_target_se_puts_the_draws_where_the_summand_varies():
    digits = lib.data.digits()[::6]
    a_all = np.array([0.999, 0.6, 1e-6])  # separated, overlapping, nearly N(0, I)
    est = en.mixture_entropy_mc(digits, a_all, 100, np.random.default_rng(19), target_se=0.02,
                                block_size=100, max_samples=20_000)
    se = est.entropy.standard_error
    assert np.all((se <= 0.02) | (est.n_draws >= 20_000))
    assert est.n_draws[0] == 100 and est.n_draws[2] == 100 and est.n_draws[1] > 100
    assert est.entropy.n_samples == 100
    fixed = en.mixture_entropy_mc(digits, a_all, 3000, np.random.default_rng(20))
    dev = np.abs(est.entropy.value - fixed.entropy.value)
    assert np.all(dev <= Z_MAX * np.hypot(se, fixed.entropy.standard_error) + 1e-9)
    # round-off bound: largest near ᾱ = 1 (exponents divided by 1 − ᾱ), tiny elsewhere
    assert est.roundoff[0] > est.roundoff[1] > 0 and est.roundoff[0] < 1e-6
    with pytest.raises(ValueError, match="target_se"):
        en.mixture_entropy_mc(digits, 0.5, 10, np.random.default_rng(0), target_se=0.0)


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
