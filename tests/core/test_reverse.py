"""Tests of :mod:`lib.core.reverse` (moved from test_reverse.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst
import numpy as np
import pytest

from lib.core import reverse as rv
from lib.core import schedules as sch


SETTINGS = settings(max_examples=30, deadline=None)


def brute_posterior_mean(x, centers, ab, h):
    """Direct formula: weights from explicit Gaussian densities, within-component Wiener mean."""
    v = ab * h * h + 1 - ab
    d2 = ((x[:, None, :] - np.sqrt(ab) * centers[None]) ** 2).sum(-1)
    w = np.exp(-(d2 - d2.min(1, keepdims=True)) / (2 * v))
    w /= w.sum(1, keepdims=True)
    comp = centers[None] + (h * h * np.sqrt(ab) / v) * (x[:, None, :] - np.sqrt(ab) * centers[None])
    return (w[:, :, None] * comp).sum(1)


CENTERS = np.array([[-1.0, 0.5], [0.8, 0.9], [0.2, -1.0], [1.0, -0.4]])


@SETTINGS
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
