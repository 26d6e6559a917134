"""Tests for lib.reverse: exact denoiser and score, DDPM reverse step, sampling, inpainting."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst

import lib
from lib import reverse as R

SETTINGS = settings(max_examples=30, deadline=None)


def brute_posterior_mean(x, centers, ab, h):
    """Direct formula: weights from explicit Gaussian densities, within-component Wiener mean."""
    v = ab * h * h + 1 - ab
    d2 = ((x[:, None, :] - np.sqrt(ab) * centers[None]) ** 2).sum(-1)
    w = np.exp(-(d2 - d2.min(1, keepdims=True)) / (2 * v))
    w /= w.sum(1, keepdims=True)
    comp = centers[None] + (h * h * np.sqrt(ab) / v) * (x[:, None, :] - np.sqrt(ab) * centers[None])
    return (w[:, :, None] * comp).sum(1)


@SETTINGS
@given(
    ab=st.floats(0.01, 0.999),
    h=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_posterior_mean_matches_brute_force(ab, h, seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-1, 1, (7, 3))
    x = rng.standard_normal((5, 3))
    got = R.posterior_mean(x, centers, ab, h, chunk_size=4)  # chunking exercised
    # both are softmax averages of O(1) numbers: agreement to a few hundred eps
    np.testing.assert_allclose(got, brute_posterior_mean(x, centers, ab, h), atol=1e-12)


@SETTINGS
@given(ab=st.floats(0.05, 0.95), h=st.floats(0.0, 0.8), seed=st.integers(0, 2**31))
def test_score_is_gradient_of_logpdf_and_tweedie(ab, h, seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-1, 1, (6, 2))
    x = rng.standard_normal((1, 2))
    s = R.score(x, centers, ab, h)
    eps = 1e-5
    fd = np.array([(R.logpdf(x + eps * e, centers, ab, h) - R.logpdf(x - eps * e, centers, ab, h))
                   / (2 * eps) for e in np.eye(2)]).T
    # central differences: truncation O(eps^2 |d^3 log p|) with |d^3 log p| <~ 1/v^3 <= 1e4,
    # round-off ~ 1e-16 * |log p| / eps ~ 1e-10: 1e-5 bounds both
    np.testing.assert_allclose(s, fd, rtol=1e-5, atol=1e-5)
    # Tweedie: sqrt(ab) E[U0|x] = x + (1 - ab) score
    lhs = np.sqrt(ab) * R.posterior_mean(x, centers, ab, h)
    np.testing.assert_allclose(lhs, x + (1 - ab) * s, atol=1e-12)


def test_posterior_mean_is_stable_far_out():
    # exponents of order 1e6 would overflow a naive softmax
    centers = np.array([[0.0], [1.0]])
    got = R.posterior_mean(np.array([[1e4]]), centers, 0.5, 0.0)
    assert np.all(np.isfinite(got)) and got[0, 0] == pytest.approx(1.0)


@SETTINGS
@given(T=st.integers(2, 40), step=st.integers(1, 40), h=st.floats(0.05, 2.0),
       f=st.floats(-2, 2), u=st.floats(-3, 3))
def test_reverse_mean_is_exact_for_one_gaussian(T, step, h, f, u):
    """For U0 ~ N(f, h^2) the reverse kernel is Gaussian: its mean by conditioning must match."""
    step = min(step, T)
    betas = lib.schedules.cosine_betas(T)
    ab = lib.schedules.alpha_bar(betas)
    a, b, _ = R.ddpm_posterior_coefficients(betas, step)
    x0 = R.posterior_mean(np.array([[u]]), np.array([[f]]), float(ab[step]), h)[0, 0]
    got = a * x0 + b * u
    var_prev = ab[step - 1] * h * h + 1 - ab[step - 1]
    var_i = ab[step] * h * h + 1 - ab[step]
    cov = np.sqrt(1 - betas[step - 1]) * var_prev
    exact = np.sqrt(ab[step - 1]) * f + cov / var_i * (u - np.sqrt(ab[step]) * f)
    assert got == pytest.approx(exact, rel=1e-9, abs=1e-9)


CENTERS = np.array([[-1.0, 0.5], [0.8, 0.9], [0.2, -1.0], [1.0, -0.4]])


def test_empirical_sampler_memorises_and_matches_marginals():
    betas = lib.schedules.cosine_betas(60)
    ab = lib.schedules.alpha_bar(betas)
    rng = np.random.default_rng(1)
    out = R.sample(CENTERS, betas, 3000, rng, record=[0, 10, 30])
    s0 = out["states"][0]
    # bandwidth 0: the last step returns E[U0|U1], a training image up to the weights of the
    # other components, exp(-O(d^2)/(2(1-ab_1))) with 1-ab_1 ~ 6e-4; a chain that happens to
    # sit between two components keeps ~1e-8 of the other; a non-memorising sampler would put
    # its samples O(0.1) away
    assert R.nearest_neighbour_distances(s0, CENTERS).max() < 1e-6
    # every training image is hit with frequency 1/4; SE sqrt(3/16/3000) = 0.008, 5 SE
    freq = np.bincount(np.argmin(((s0[:, None] - CENTERS) ** 2).sum(-1), 1), minlength=4) / 3000
    assert np.all(np.abs(freq - 0.25) < 0.04)
    for j, i in [(1, 10), (2, 30)]:
        exact = R.sample_data(CENTERS, float(ab[i]), 0.0, 3000, rng)
        _, p = R.projection_ks_test(out["states"][j], exact, 8, rng)
        assert p > 1e-3  # level 1e-3 (Bonferroni over 8 directions)


def test_marginal_check_rejects_a_wrong_sampler():
    # wrong variant: deterministic steps (variance dropped) collapse the spread of u_i
    betas = lib.schedules.cosine_betas(60)
    ab = lib.schedules.alpha_bar(betas)
    rng = np.random.default_rng(2)
    u = rng.standard_normal((3000, 2))
    for i in range(60, 30, -1):
        a, b, _ = R.ddpm_posterior_coefficients(betas, i)
        u = a * R.posterior_mean(u, CENTERS, float(ab[i])) + b * u
    exact = R.sample_data(CENTERS, float(ab[30]), 0.0, 3000, rng)
    _, p = R.projection_ks_test(u, exact, 8, rng)
    assert p < 1e-3


def test_smoothed_sampler_matches_marginal_at_step_zero():
    betas = lib.schedules.cosine_betas(60)
    rng = np.random.default_rng(3)
    h = 0.3
    s0 = R.sample(CENTERS, betas, 3000, rng, bandwidth=h)["states"][0]
    exact = R.sample_data(CENTERS, 1.0, h, 3000, rng)
    _, p = R.projection_ks_test(s0, exact, 8, rng)
    assert p > 1e-3
    # not memorised: typical distance to the nearest centre is ~ h (a 2-d Rayleigh median
    # 1.18 h), far above zero
    assert np.median(R.nearest_neighbour_distances(s0, CENTERS)) > 0.5 * h


def test_inpainting_keeps_known_pixels_and_completes_with_training_halves():
    rng = np.random.default_rng(4)
    centers = rng.uniform(-1, 1, (30, 6))
    mask = np.array([True, True, True, False, False, False])
    truth = centers[rng.integers(0, 30, 40)]
    betas = lib.schedules.cosine_betas(50)
    got = R.inpaint(centers, betas, truth, mask, rng)
    np.testing.assert_array_equal(got[:, mask], truth[:, mask])
    # bandwidth 0: the missing half is the missing half of some training image
    assert R.nearest_neighbour_distances(got[:, ~mask], centers[:, ~mask]).max() < 1e-6
    # the replacement scheme is NOT exact conditioning (the exact conditional law puts all mass
    # on the one training image whose known half matches): it picks the matching image only
    # part of the time, but far more often than chance (1/30)
    hit = np.mean(np.all(np.abs(got - truth) < 1e-6, axis=1))
    assert 0.2 < hit < 1.0


def test_helpers():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 3))
    c = rng.standard_normal((25, 3))
    brute = np.sqrt(((x[:, None] - c[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(R.nearest_neighbour_distances(x, c), brute, atol=1e-12)
    d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1)) + np.diag(np.full(25, np.inf))
    np.testing.assert_allclose(R.nearest_neighbour_distances(c, c, exclude_self=True),
                               d.min(1), atol=1e-12)
    # KL(N(mu, I) || N(0, I)) = |mu|^2 / 2 = 2; sample version: SE ~ sqrt(n/(2m)) ~ 0.03
    y = rng.standard_normal((4000, 4)) + np.array([2.0, 0, 0, 0])
    assert R.gaussian_fit_kl(y) == pytest.approx(2.0, abs=0.15)
    assert R.projection_ks_test(y, y[::-1] + 0.3, 4, rng)[1] < 1e-6


@pytest.mark.parametrize(
    "call, err",
    [
        (lambda: R.marginal_parameters(1.0, 0.0), ValueError),
        (lambda: R.marginal_parameters(0.5, -0.1), ValueError),
        (lambda: R.marginal_parameters(1.5, 0.1), ValueError),
        (lambda: R.posterior_mean(np.zeros((2, 3)), CENTERS, 0.5), ValueError),
        (lambda: R.ddpm_posterior_coefficients([0.1, 0.2], 3), ValueError),
        (lambda: R.ddpm_posterior_coefficients([0.1, 0.2], 1.5), TypeError),
        (lambda: R.sample(CENTERS, [0.1, 0.2], 3, 0), TypeError),
        (lambda: R.sample(CENTERS, [0.1, 1.2], 3, np.random.default_rng()), ValueError),
        (lambda: R.sample(CENTERS, [0.1, 0.2], 0, np.random.default_rng()), ValueError),
        (lambda: R.sample(CENTERS, [0.1, 0.2], 3, np.random.default_rng(), known=CENTERS),
         ValueError),
        (lambda: R.inpaint(CENTERS, [0.1, 0.2], CENTERS, np.ones((4, 2)), np.random.default_rng()),
         TypeError),
        (lambda: R.sample(CENTERS, [0.1, 0.2], 3, np.random.default_rng(), record=[2, 1]),
         ValueError),
    ],
)
def test_bad_input(call, err):
    with pytest.raises(err):
        call()


def test_marginal_report_size_and_power():
    betas = lib.schedules.cosine_betas(60)
    ab = lib.schedules.alpha_bar(betas)
    rng = np.random.default_rng(10)
    states = np.stack([R.sample_data(CENTERS, float(ab[i]), 0.1, 500, rng) for i in (5, 20)])
    dirs = np.eye(2)
    ok = R.marginal_report(states, [5, 20], CENTERS, betas, 0.1, rng, directions=dirs)
    bad = R.marginal_report(states, [5, 20], CENTERS, betas, 0.1, rng, directions=dirs,
                            shift=5)
    assert np.all(ok["p"] > 1e-3)  # exact draws: rejection only at the 1e-3 level
    assert np.all(bad["p"] < 1e-3)  # five steps off is detected by the noise-level feature
    with pytest.raises(ValueError):
        R.marginal_report(states, [5, 20], CENTERS, betas, 0.1, rng, shift=50)
