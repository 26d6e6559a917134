"""Tests of :mod:`lib.core.mixture` (moved from test_entropy.py, test_steady_state.py; every assertion and tolerance kept)."""

from __future__ import annotations

from scipy import integrate
from scipy import special as sp
from scipy import stats as sst
import math
import numpy as np
import pytest
import tracemalloc

from lib.core import data
from lib.core import gaussian as gs
from lib.core import mixture as mx

from _shared import LOG_2PIE, Z_MAX, entropy_1d_quadrature, mixture_pdf_1d


def kl_1d_quadrature(centers, a):
    """KL(p ‖ N(0,1)) for a 1-D mixture by adaptive quadrature (independent of lib's MC)."""

    def integrand(t):
        lp = mx.mixture_logpdf(np.array([t]), centers, np.sqrt(a), 1 - a)
        return np.exp(lp) * (lp - sst.norm.logpdf(t))

    value, _ = integrate.quad(integrand, -15, 15, limit=200, points=list(np.sqrt(a) * centers[:, 0]))
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
        out = mx.mixture_logpdf(x, centers, scale, var, chunk_size=chunk)
        # absolute round-off ≈ eps·(‖x‖² + ‖s c‖²)/var per exponent, ≈ 1e-14 here
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
    assert isinstance(mx.mixture_logpdf(x[0], centers, scale, var), float)
    # A wrong variant (variance read as a standard deviation) is rejected.
    assert np.max(np.abs(mx.mixture_logpdf(x, centers, scale, np.sqrt(var)) - ref)) > 0.1


def test_mixture_logpdf_of_one_component_is_the_gaussian_and_stable_far_out():
    c = np.array([[1.0, -2.0]])
    x = np.array([[0.0, 0.0], [40.0, -40.0]])  # the second point has density ~ e^-800
    out = mx.mixture_logpdf(x, c, 0.5, 0.01)
    ref = sst.multivariate_normal([0.5, -1.0], 0.01 * np.eye(2)).logpdf(x)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert np.all(np.isfinite(out))


def test_mixture_density_integrates_to_one_in_1d():
    centers = np.array([[-1.0], [0.2], [0.9]])
    total, err = integrate.quad(lambda t: np.exp(mx.mixture_logpdf(np.array([t]), centers, 0.8, 0.3)), -20, 20)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_sample_mixture_moments():
    rng = np.random.default_rng(2)
    centers = np.array([[0.0, 1.0], [2.0, -1.0], [1.0, 1.0]])
    scale, var = 0.6, 0.64
    u = mx.sample_mixture(centers, scale, var, 200_000, rng)
    mean = scale * centers.mean(0)
    cov = scale**2 * np.cov(centers, rowvar=False, bias=True) + var * np.eye(2)
    n = u.shape[0]
    assert np.all(np.abs(u.mean(0) - mean) <= Z_MAX * np.sqrt(np.diag(cov) / n))
    # Var of a sample covariance entry ≤ (fourth moments)/n; the mixture is light-tailed, use 3x Gaussian SE.
    se = 3 * np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(u.T) - cov) <= Z_MAX * se)


@pytest.mark.parametrize("control_variate", [True, False])
def test_mc_kl_matches_quadrature_in_1d(control_variate):
    centers = np.array([[-1.0], [0.5], [0.9], [1.0]])
    mean, cov = centers.mean(0), np.cov(centers, rowvar=False, bias=True).reshape(1, 1)
    rng = np.random.default_rng(4)
    for a in [0.9, 0.3, 0.05]:
        exact = kl_1d_quadrature(centers, a)
        est = mx.kl_to_standard_normal_mc(centers, a, 20_000, rng, control_variate=control_variate)
        assert abs(est.value - exact) <= Z_MAX * est.standard_error, (a, est, exact)
        if a == 0.9:
            # Wrong variant 1: the Gaussian with the same moments (the mixture is bimodal here).
            gauss = float(gs.kl_gaussian_marginal(mean, cov, a))
            assert abs(est.value - gauss) > 10 * Z_MAX * est.standard_error
        if a == 0.05 and control_variate:
            # Wrong variant 2: centres scaled by ᾱ instead of √ᾱ.
            wrong = kl_1d_quadrature(centers * np.sqrt(a), a)
            assert abs(est.value - wrong) > 10 * Z_MAX * est.standard_error


def test_control_variate_reduces_the_error_near_gaussianity():
    digits = data.digits()[::6]
    rng = np.random.default_rng(7)
    a = 0.01
    cv = mx.kl_to_standard_normal_mc(digits, a, 400, rng)
    plain = mx.kl_to_standard_normal_mc(digits, a, 400, rng, control_variate=False)
    assert cv.standard_error * 20 < plain.standard_error
    assert abs(cv.value - plain.value) <= Z_MAX * math.hypot(cv.standard_error, plain.standard_error)
    # KL(p ‖ N(0,I)) ≥ KL(moment-matched Gaussian ‖ N(0,I)) (max-entropy), within the SE.
    assert cv.value >= cv.gaussian_part - Z_MAX * cv.standard_error
    assert np.isnan(plain.gaussian_part)


def test_mc_kl_for_a_single_image_is_exact_with_the_control_variate():
    # One centre: the mixture is Gaussian, so log p − log q ≡ 0 and the estimate is exact.
    f = np.array([[0.5, -1.0, 0.25, 1.0]])
    rng = np.random.default_rng(8)
    est = mx.kl_to_standard_normal_mc(f, 0.2, 50, rng)
    exact = float(gs.kl_gaussian_marginal(f[0], np.zeros((4, 4)), 0.2))
    assert est.value == pytest.approx(exact, abs=1e-12)
    assert est.standard_error < 1e-12


def test_mc_kl_vectorised_over_alpha_bar_and_below_convexity_bound():
    digits = data.digits()[::10]
    ab = np.array([0.5, 0.05])
    est = mx.kl_to_standard_normal_mc(digits, ab, 300, np.random.default_rng(9))
    assert est.value.shape == (2,) and est.standard_error.shape == (2,)
    bound = gs.kl_convexity_bound(float(np.mean(np.sum(digits**2, 1))), 64, ab)
    assert np.all(est.value <= bound + Z_MAX * est.standard_error)
    assert est.value[1] < est.value[0]


@pytest.mark.parametrize("method", ["labelled", "plain"])
def test_mixture_entropy_matches_quadrature_in_1d(method):
    centers = np.array([[-1.0], [0.5], [0.9], [3.0]])
    rng = np.random.default_rng(4)
    a_all = np.array([0.99, 0.9, 0.5, 0.05])
    est = mx.mixture_entropy_mc(centers, a_all, 20_000, rng, method=method)
    exact = np.array([entropy_1d_quadrature(centers, a) for a in a_all])
    dev = np.abs(est.entropy.value - exact) / est.entropy.standard_error
    assert np.all(dev <= Z_MAX), dev
    # KL(p ‖ N(0, 1)) by the same estimate and its exact second moment
    for k, a in enumerate(a_all):
        pdf, c, sd = mixture_pdf_1d(centers, a)
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
    est = mx.mixture_entropy_mc(f, [0.2, 0.9], 50, np.random.default_rng(5))
    exact = 0.5 * 4 * (LOG_2PIE + np.log([0.8, 0.1]))
    np.testing.assert_allclose(est.entropy.value, exact, atol=1e-12)
    assert np.all(est.entropy.standard_error < 1e-12)
    np.testing.assert_allclose(est.mutual_information.value, 0.0, atol=1e-12)
    digits = data.digits()[::8]
    rng = np.random.default_rng(6)
    lab = mx.mixture_entropy_mc(digits, 0.9, 500, rng)
    plain = mx.mixture_entropy_mc(digits, 0.9, 500, rng, method="plain")
    assert lab.entropy.standard_error * 50 < plain.entropy.standard_error
    gap = abs(lab.entropy.value - plain.entropy.value)
    assert gap <= Z_MAX * math.hypot(lab.entropy.standard_error, plain.entropy.standard_error)


def test_mixture_entropy_in_many_dimensions_has_the_1d_answer():
    # Two centres ±3 e_1 in n = 16 dimensions: H = H_1d + (n − 1)/2 ln(2πe(1 − ᾱ)).
    n = 16
    centers = np.zeros((2, n))
    centers[:, 0] = [-3.0, 3.0]
    a_all = np.array([0.8, 0.2])
    est = mx.mixture_entropy_mc(centers, a_all, 5000, np.random.default_rng(7))
    exact = np.array([entropy_1d_quadrature(centers[:, :1], a) + 0.5 * (n - 1) * (LOG_2PIE + np.log(1 - a))
                      for a in a_all])
    # + 1e-7: at ᾱ = 0.8 the components are 6 SD from the midpoint; draws there (probability
    # ~1e-9) carry the last ~1e-9 of I(U_0; U_i) and are never seen, so the SE (1e-16) understates
    # the error; the quadrature itself is good to ~1e-10.
    assert np.all(np.abs(est.entropy.value - exact) <= Z_MAX * est.entropy.standard_error + 1e-7)


def test_kl_agrees_with_the_steady_state_estimator():
    """Two independent estimators of KL(p(u_i) ‖ N(0, I)): ours (via H) and the direct one of lib.core.mixture."""
    digits = data.digits()[::5]
    a_all = np.array([0.9, 0.3, 0.02])
    ours = mx.mixture_entropy_mc(digits, a_all, 600, np.random.default_rng(8)).kl
    theirs = mx.kl_to_standard_normal_mc(digits, a_all, 600, np.random.default_rng(9))
    se = np.hypot(ours.standard_error, theirs.standard_error)
    assert np.all(np.abs(ours.value - theirs.value) <= Z_MAX * se)
    np.testing.assert_allclose(ours.gaussian_part, theirs.gaussian_part, rtol=1e-12)
    # KL ≥ KL of the moment-matched Gaussian, within the SE.
    assert np.all(ours.value >= ours.gaussian_part - Z_MAX * ours.standard_error)


def test_block_size_does_not_change_the_labelled_estimate():
    digits = data.digits()[::20]
    a = [0.7, 0.1]
    big = mx.mixture_entropy_mc(digits, a, 1000, np.random.default_rng(10), block_size=4096)
    small = mx.mixture_entropy_mc(digits, a, 1000, np.random.default_rng(10), block_size=37, chunk_size=500)
    np.testing.assert_allclose(small.entropy.value, big.entropy.value, rtol=1e-12)
    np.testing.assert_allclose(small.entropy.standard_error, big.entropy.standard_error, rtol=1e-8)
    other = mx.mixture_entropy_mc(digits, a, 1000, np.random.default_rng(11))
    assert not np.allclose(other.entropy.value, big.entropy.value, rtol=1e-12)


def test_memory_stays_bounded_whatever_the_sample_count():
    centers = np.random.default_rng(12).standard_normal((100, 64))
    tracemalloc.start()
    mx.mixture_entropy_mc(centers, 0.5, 20_000, np.random.default_rng(13), block_size=500, chunk_size=2**14)
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
        np.testing.assert_allclose(mx.mixture_posterior_mean(x, centers, s, v, chunk_size=chunk), direct,
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mx.mixture_posterior_mean(x, centers[:1], s, v), np.repeat(centers[:1], 17, 0))


def test_entropy_rate_is_exact_for_one_image_and_matches_quadrature_in_1d():
    f = np.array([[0.5, -1.0, 0.25]])
    a_all = np.array([0.2, 0.9])
    est = mx.mixture_entropy_rate_mc(f, a_all, 20, np.random.default_rng(15))
    np.testing.assert_allclose(est.value, 3 * a_all / (2 * (1 - a_all)), rtol=1e-12)  # mmse = 0
    centers = np.array([[-3.0], [0.0], [4.0]])
    rng = np.random.default_rng(16)
    # ᾱ ≤ 0.6 keeps the components overlapping: at ᾱ = 0.9 the draws that carry the overlap
    # term (~7e-4 of the rate) have probability ~1e-6 and the SE would not see them.
    for a in (0.6, 0.3, 0.05):
        numeric = rate_1d_quadrature(centers, a)
        est = mx.mixture_entropy_rate_mc(centers, a, 20_000, rng)
        assert abs(est.value - numeric) <= Z_MAX * est.standard_error + 1e-6, (a, est, numeric)
        # Wrong variant: the derivative with respect to ᾱ (dH/dᾱ = −dH/dt / ᾱ).
        assert abs(-est.value / a - numeric) > 10 * Z_MAX * est.standard_error


def test_target_se_puts_the_draws_where_the_summand_varies():
    digits = data.digits()[::6]
    a_all = np.array([0.999, 0.6, 1e-6])  # separated, overlapping, nearly N(0, I)
    est = mx.mixture_entropy_mc(digits, a_all, 100, np.random.default_rng(19), target_se=0.02,
                                block_size=100, max_samples=20_000)
    se = est.entropy.standard_error
    assert np.all((se <= 0.02) | (est.n_draws >= 20_000))
    assert est.n_draws[0] == 100 and est.n_draws[2] == 100 and est.n_draws[1] > 100
    assert est.entropy.n_samples == 100
    fixed = mx.mixture_entropy_mc(digits, a_all, 3000, np.random.default_rng(20))
    dev = np.abs(est.entropy.value - fixed.entropy.value)
    assert np.all(dev <= Z_MAX * np.hypot(se, fixed.entropy.standard_error) + 1e-9)
    # round-off bound: largest near ᾱ = 1 (exponents divided by 1 − ᾱ), tiny elsewhere
    assert est.roundoff[0] > est.roundoff[1] > 0 and est.roundoff[0] < 1e-6
    with pytest.raises(ValueError, match="target_se"):
        mx.mixture_entropy_mc(digits, 0.5, 10, np.random.default_rng(0), target_se=0.0)


def _brute_force(x, centers, s, v):
    """Weights, log-density and posterior mean of (1/N) Σ N(s f_k, v I) without any tricks."""
    d2 = ((x[:, None, :] - s * centers[None]) ** 2).sum(-1)
    logw = -0.5 * d2 / v
    lse = np.log(np.exp(logw - logw.max(1, keepdims=True)).sum(1)) + logw.max(1)
    n = centers.shape[1]
    logp = lse - np.log(len(centers)) - 0.5 * n * np.log(2 * np.pi * v)
    w = np.exp(logw - lse[:, None])
    return logp, w @ centers


@pytest.mark.parametrize("h", [0.0, 0.4])
def test_mixture_object_matches_brute_force(h):
    rng = np.random.default_rng(3)
    centers = rng.uniform(-1, 1, (9, 4))
    x = rng.standard_normal((6, 4))
    mix = mx.Mixture(centers, h, chunk_size=5)  # chunking exercised
    a = 0.4
    s, v = mix.parameters(a)
    assert (s, v) == (pytest.approx(np.sqrt(a)), pytest.approx(a * h * h + 1 - a))
    logp, m = _brute_force(x, centers, s, v)
    np.testing.assert_allclose(mix.logpdf(x, a), logp, rtol=1e-12, atol=1e-12)
    c = h * h * s / v  # Wiener shrinkage within a component
    np.testing.assert_allclose(mix.posterior_mean(x, a), (1 - c * s) * m + c * x, rtol=1e-12,
                               atol=1e-12)
    # score = ∇ log p, checked by central differences (step 1e-5: error ~1e-10)
    eps = 1e-5
    fd = np.stack([(mix.logpdf(x + eps * e, a) - mix.logpdf(x - eps * e, a)) / (2 * eps)
                   for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(mix.score(x, a), fd, rtol=1e-6, atol=1e-6)
    draws = mix.sample(a, 5, np.random.default_rng(0))
    assert draws.shape == (5, 4)


def test_mixture_object_validates_once_and_clearly():
    with pytest.raises(ValueError, match="centers must have shape"):
        mx.Mixture(np.zeros(3))
    with pytest.raises(ValueError, match="bandwidth must be a finite non-negative number"):
        mx.Mixture(np.zeros((2, 2)), -0.1)
    mix = mx.Mixture(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="no density at alpha_bar = 1"):
        mix.logpdf(np.zeros(2), 1.0)
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \(0, 1\]"):
        mix.score(np.zeros(2), float("nan"))
    with pytest.raises(ValueError, match=r"x must have shape \(m, 2\)"):
        mix.posterior_mean(np.zeros(3), 0.5)


def test_logpdf_and_mc_kl_reject_bad_input():
    # moved from the steady-state chapter's tests
    with pytest.raises(ValueError, match="variance"):
        mx.mixture_logpdf(np.zeros(2), np.zeros((1, 2)), 1.0, 0.0)
    with pytest.raises(ValueError, match="x must have shape"):
        mx.mixture_logpdf(np.zeros(3), np.zeros((1, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match="centers"):
        mx.mixture_logpdf(np.zeros(2), np.zeros(2), 1.0, 1.0)
    with pytest.raises(TypeError, match="Generator"):
        mx.kl_to_standard_normal_mc(np.zeros((2, 2)), 0.5, 10, rng=0)
    with pytest.raises(ValueError, match="n_samples"):
        mx.kl_to_standard_normal_mc(np.zeros((2, 2)), 0.5, 1, np.random.default_rng(0))


def test_entropy_estimators_validate_their_arguments():
    # moved from the entropy chapter tests
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="centers"):
        mx.mixture_entropy_mc(np.zeros(3), 0.5, 10, rng)
    with pytest.raises(ValueError, match="finite"):
        mx.mixture_entropy_mc(np.array([[0.0, np.inf]]), 0.5, 10, rng)
    with pytest.raises(ValueError, match="alpha_bar"):
        mx.mixture_entropy_mc(np.zeros((2, 2)), 1.0, 10, rng)
    with pytest.raises(ValueError, match="n_samples"):
        mx.mixture_entropy_mc(np.zeros((2, 2)), 0.5, 1, rng)
    with pytest.raises(ValueError, match="method"):
        mx.mixture_entropy_mc(np.zeros((2, 2)), 0.5, 10, rng, method="exact")
    with pytest.raises(TypeError, match="Generator"):
        mx.mixture_entropy_mc(np.zeros((2, 2)), 0.5, 10, 0)
    with pytest.raises(ValueError, match="x must have shape"):
        mx.mixture_posterior_mean(np.zeros((4, 3)), np.zeros((2, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match="variance"):
        mx.mixture_posterior_mean(np.zeros((4, 2)), np.zeros((2, 2)), 1.0, 0.0)
