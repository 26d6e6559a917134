"""Tests of :mod:`lib.core.reverse` (moved from test_reverse.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
import numpy as np
import pytest

from lib.core import reverse as rv
from lib.core import stats as lstats
from lib.core.mixture import Mixture
from lib.core import schedules as sch

from _shared import CENTERS, HYP


def brute_posterior_mean(x, centers, ab, h):
    """Direct formula: weights from explicit Gaussian densities, within-component Wiener mean."""
    v = ab * h * h + 1 - ab
    d2 = ((x[:, None, :] - np.sqrt(ab) * centers[None]) ** 2).sum(-1)
    w = np.exp(-(d2 - d2.min(1, keepdims=True)) / (2 * v))
    w /= w.sum(1, keepdims=True)
    comp = centers[None] + (h * h * np.sqrt(ab) / v) * (x[:, None, :] - np.sqrt(ab) * centers[None])
    return (w[:, :, None] * comp).sum(1)


@HYP
@given(T=st.integers(2, 60), step=st.integers(1, 60), sched=st.sampled_from(["linear", "cosine"]))
def test_ddpm_coefficients_equal_gaussian_conditioning(T, step, sched):
    step = min(step, T)
    betas = sch.get_betas(sched, T)
    ab = sch.alpha_bar(betas)
    a, b, var = rv.ddpm_posterior_coefficients(betas, step)
    # independent derivation: given u0, (u_{i-1}, u_i) is jointly Gaussian with
    # Var u_{i-1} = 1 - ab_{i-1}, Cov = sqrt(1-beta) Var u_{i-1}, Var u_i = 1 - ab_i
    vp, vi, beta = 1 - ab[step - 1], 1 - ab[step], betas[step - 1]
    cov = np.sqrt(1 - beta) * vp
    reg = cov / vi
    assert b == pytest.approx(reg, rel=1e-12, abs=1e-15)
    assert a == pytest.approx(np.sqrt(ab[step - 1]) - reg * np.sqrt(ab[step]), rel=1e-9, abs=1e-12)
    assert var == pytest.approx(vp - cov**2 / vi, rel=1e-8, abs=1e-14)


def test_seeded_and_recorded_steps():
    betas = sch.linear_betas(20, 1e-3, 0.3)
    a = rv.sample(CENTERS, betas, 5, np.random.default_rng(7), record=[0, 5, 20])
    b = rv.sample(CENTERS, betas, 5, np.random.default_rng(7), record=[0, 5, 20])
    np.testing.assert_array_equal(a["states"], b["states"])
    assert a["states"].shape == (3, 5, 2) and list(a["steps"]) == [0, 5, 20]


def test_ddpm_covariance_is_not_exact_for_one_gaussian():
    """Only the mean of the DDPM step is exact: for U0 ~ N(f, h^2) in 1-d the sampler's law
    at step 0 is Gaussian with a variance given by a linear recursion, and it is below h^2."""
    T, h, f = 20, 0.5, 0.3
    betas = sch.cosine_betas(T)
    ab = sch.alpha_bar(betas)
    var = 1.0
    for i in range(T, 0, -1):
        a, b, bt = rv.ddpm_posterior_coefficients(betas, i)
        c = h * h * np.sqrt(ab[i]) / (ab[i] * h * h + 1 - ab[i])
        var = (a * c + b) ** 2 * var + bt
    s0 = rv.sample(np.array([[f]]), betas, 20000, np.random.default_rng(8), bandwidth=h)
    x = s0["states"][0, :, 0]
    # SE of a sample variance of a Gaussian: var * sqrt(2/(m-1)) = 0.01 var; 5 SE
    assert np.var(x, ddof=1) == pytest.approx(var, rel=0.05)
    assert np.mean(x) == pytest.approx(f, abs=5 * np.sqrt(var / 20000))
    assert var < 0.9 * h * h  # the exact law has variance h^2: DDPM loses spread


def test_conditional_mean_and_sample():
    rng = np.random.default_rng(9)
    centers = rng.uniform(-1, 1, (12, 5))
    mask = np.array([True, False, True, False, False])
    known = rng.uniform(-1, 1, (4, 5))
    h = 0.4
    got = rv.conditional_mean(known, mask, centers, h)
    d2 = ((known[:, None, mask] - centers[None][:, :, mask]) ** 2).sum(-1)
    w = np.exp(-d2 / (2 * h * h))
    w /= w.sum(1, keepdims=True)
    np.testing.assert_allclose(got[:, ~mask], w @ centers[:, ~mask], atol=1e-12)
    np.testing.assert_array_equal(got[:, mask], known[:, mask])
    # sampling: the mean of 20000 draws of one row matches, SE <= sqrt(var/20000) ~ 0.006
    draws = rv.conditional_sample(np.repeat(known[:1], 20000, 0), mask, centers, h, rng)
    se = draws[:, ~mask].std(0) / np.sqrt(20000)
    assert np.all(np.abs(draws[:, ~mask].mean(0) - got[0, ~mask]) < 5 * se)
    with pytest.raises(ValueError):
        rv.conditional_mean(known, mask, centers, 0.0)


# --- moved from tests/test_reverse.py (the old lib.reverse wrappers are now Mixture methods) ---


@HYP
@given(
    ab=st.floats(0.01, 0.999),
    h=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_posterior_mean_matches_brute_force(ab, h, seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-1, 1, (7, 3))
    x = rng.standard_normal((5, 3))
    got = Mixture(centers, h, chunk_size=4).posterior_mean(x, ab)  # chunking exercised
    # both are softmax averages of O(1) numbers: agreement to a few hundred eps
    np.testing.assert_allclose(got, brute_posterior_mean(x, centers, ab, h), atol=1e-12)


@HYP
@given(ab=st.floats(0.05, 0.95), h=st.floats(0.0, 0.8), seed=st.integers(0, 2**31))
def test_score_is_gradient_of_logpdf_and_tweedie(ab, h, seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-1, 1, (6, 2))
    x = rng.standard_normal((1, 2))
    s = Mixture(centers, h).score(x, ab)
    eps = 1e-5
    fd = np.array([(Mixture(centers, h).logpdf(x + eps * e, ab) - Mixture(centers, h).logpdf(x - eps * e, ab))
                   / (2 * eps) for e in np.eye(2)]).T
    # central differences: truncation O(eps^2 |d^3 log p|) with |d^3 log p| <~ 1/v^3 <= 1e4,
    # round-off ~ 1e-16 * |log p| / eps ~ 1e-10: 1e-5 bounds both
    np.testing.assert_allclose(s, fd, rtol=1e-5, atol=1e-5)
    # Tweedie: sqrt(ab) E[U0|x] = x + (1 - ab) score
    lhs = np.sqrt(ab) * Mixture(centers, h).posterior_mean(x, ab)
    np.testing.assert_allclose(lhs, x + (1 - ab) * s, atol=1e-12)


def test_posterior_mean_is_stable_far_out():
    # exponents of order 1e6 would overflow a naive softmax
    centers = np.array([[0.0], [1.0]])
    got = Mixture(centers, 0.0).posterior_mean(np.array([[1e4]]), 0.5)
    assert np.all(np.isfinite(got)) and got[0, 0] == pytest.approx(1.0)


@HYP
@given(T=st.integers(2, 40), step=st.integers(1, 40), h=st.floats(0.05, 2.0),
       f=st.floats(-2, 2), u=st.floats(-3, 3))
def test_reverse_mean_is_exact_for_one_gaussian(T, step, h, f, u):
    """For U0 ~ N(f, h^2) the reverse kernel is Gaussian: its mean by conditioning must match."""
    step = min(step, T)
    betas = sch.cosine_betas(T)
    ab = sch.alpha_bar(betas)
    a, b, _ = rv.ddpm_posterior_coefficients(betas, step)
    x0 = Mixture(np.array([[f]]), h).posterior_mean(np.array([[u]]), float(ab[step]))[0, 0]
    got = a * x0 + b * u
    var_prev = ab[step - 1] * h * h + 1 - ab[step - 1]
    var_i = ab[step] * h * h + 1 - ab[step]
    cov = np.sqrt(1 - betas[step - 1]) * var_prev
    exact = np.sqrt(ab[step - 1]) * f + cov / var_i * (u - np.sqrt(ab[step]) * f)
    assert got == pytest.approx(exact, rel=1e-9, abs=1e-9)


def test_inpainting_keeps_known_pixels_and_completes_with_training_halves():
    rng = np.random.default_rng(4)
    centers = rng.uniform(-1, 1, (30, 6))
    mask = np.array([True, True, True, False, False, False])
    truth = centers[rng.integers(0, 30, 40)]
    betas = sch.cosine_betas(50)
    got = rv.inpaint(centers, betas, truth, mask, rng)
    np.testing.assert_array_equal(got[:, mask], truth[:, mask])
    # bandwidth 0: the missing half is the missing half of some training image
    assert lstats.nearest_neighbour_distances(got[:, ~mask], centers[:, ~mask]).max() < 1e-6
    # the replacement scheme is NOT exact conditioning (the exact conditional law puts all mass
    # on the one training image whose known half matches): it picks the matching image only
    # part of the time, but far more often than chance (1/30)
    hit = np.mean(np.all(np.abs(got - truth) < 1e-6, axis=1))
    assert 0.2 < hit < 1.0


@pytest.mark.parametrize(
    "call, err",
    [
        (lambda: Mixture(np.zeros((1, 1)), 0.0).parameters(1.0), ValueError),
        (lambda: Mixture(np.zeros((1, 1)), -0.1).parameters(0.5), ValueError),
        (lambda: Mixture(np.zeros((1, 1)), 0.1).parameters(1.5), ValueError),
        (lambda: Mixture(CENTERS).posterior_mean(np.zeros((2, 3)), 0.5), ValueError),
        (lambda: rv.ddpm_posterior_coefficients([0.1, 0.2], 3), ValueError),
        (lambda: rv.ddpm_posterior_coefficients([0.1, 0.2], 1.5), TypeError),
        (lambda: rv.sample(CENTERS, [0.1, 0.2], 3, 0), TypeError),
        (lambda: rv.sample(CENTERS, [0.1, 1.2], 3, np.random.default_rng()), ValueError),
        (lambda: rv.sample(CENTERS, [0.1, 0.2], 0, np.random.default_rng()), ValueError),
        (lambda: rv.sample(CENTERS, [0.1, 0.2], 3, np.random.default_rng(), known=CENTERS),
         ValueError),
        (lambda: rv.inpaint(CENTERS, [0.1, 0.2], CENTERS, np.ones((4, 2)), np.random.default_rng()),
         TypeError),
        (lambda: rv.sample(CENTERS, [0.1, 0.2], 3, np.random.default_rng(), record=[2, 1]),
         ValueError),
    ],
)
def test_bad_input(call, err):
    with pytest.raises(err):
        call()
