"""Tests of :mod:`lib.core.fokker_planck`: the 1-D Fokker–Planck equation of the forward
process as finite-volume osmosis (paper, Eqs. 23–25). Moved from tests/test_fokker_planck.py
where they exercise only the core; tolerances as there."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from lib.core import fokker_planck as fp
from lib.core import forward, osmosis, schedules

from _shared import HYP

# the bimodal start law used throughout: 0.6 N(-2, 0.3²) + 0.4 N(1.5, 0.5²)
W, M, S = (0.6, 0.4), (-2.0, 1.5), (0.3, 0.5)


def l1(p, q, h):
    return h * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=-1)


@HYP
@given(beta=st.floats(1e-4, 0.9), i=st.integers(1, 300))
def test_osmosis_time_and_effective_rate_are_exact(beta, i):
    betas = schedules.constant_betas(beta, i)
    ab = schedules.alpha_bar(betas)[i]
    t = fp.osmosis_time(betas, [i])[0]
    assert np.isclose(np.exp(-2 * t), ab, rtol=1e-12)
    # the SDE with rate β_eff has variance 1 − exp(−β_eff i) = 1 − ᾱ_i at integer times
    r = fp.effective_rate(beta)[0]
    assert np.isclose(-np.expm1(-r * i), 1 - ab, rtol=1e-10, atol=1e-15)


def test_operator_conserves_mass_and_is_m_matrix():
    x, h = fp.grid(200)
    A = fp.fokker_planck_operator(x, h)
    assert osmosis.column_sum_error(A) < 1e-14
    coo = sp.coo_array(A)
    assert coo.data[coo.row != coo.col].min() > 0
    # the sampled standard normal density is a steady state (round-off level)
    assert osmosis.steady_state_residual(A, np.exp(-x * x / 2)) < 1e-12


def test_solver_mass_positivity_and_accuracy():
    x, h = fp.grid(400)
    betas = schedules.constant_betas(0.02, 200)
    steps = [25, 100, 200]
    t = fp.osmosis_time(betas, steps)
    P = fp.solve_fokker_planck(fp.mixture_pdf(x, W, M, S), x, h, t, 40)
    assert np.all(P > 0)
    assert np.allclose(P.sum(axis=1) * h, 1.0, atol=1e-12)
    ab = schedules.alpha_bar(betas)[steps]
    exact = np.array([fp.mixture_pdf(x, *fp.mixture_marginal(W, M, S, a)) for a in ab])
    # implicit Euler with tau <= 0.013 and h = 0.04: time error ~ 5e-3 dominates
    assert np.all(l1(P, exact, h) < 1e-2)
    # the paper's sign (+d(m1 p)) gives a different evolution, far outside that tolerance
    Q = fp.solve_fokker_planck(fp.mixture_pdf(x, W, M, S), x, h, t, 40, sign=1)
    assert np.all(l1(Q, exact, h)[1:] > 0.3)


def test_exact_in_time_solver_has_no_time_error():
    x, h = fp.grid(800)
    p0 = fp.mixture_pdf(x, W, M, S)
    exact = fp.mixture_pdf(x, *fp.mixture_marginal(W, M, S, np.exp(-1.0)))
    p = fp.solve_fokker_planck(p0, x, h, [0.5], method="exact")[0]
    implicit = fp.solve_fokker_planck(p0, x, h, [0.5], 10)[0]
    # space error only (order 2, h = 0.02): far below the implicit scheme's time error
    assert l1(p, exact, h) < 2e-3 < l1(implicit, exact, h)


def test_mixture_marginal_matches_chain():
    rng = np.random.default_rng(2)
    n = 40_000
    comp = rng.choice(2, size=n, p=np.array(W) / sum(W))
    u0 = rng.normal(np.array(M)[comp], np.array(S)[comp])
    betas = schedules.constant_betas(0.02, 50)
    u = forward.iterate_forward(u0, betas, [50], rng)[-1]
    ab = schedules.alpha_bar(betas)[50]
    p = stats.kstest(u, lambda z: fp.mixture_cdf(z, *fp.mixture_marginal(W, M, S, ab))).pvalue
    assert p > 1e-3  # level 1e-3: a false alarm once in 1000 seeds
    # the start law itself is rejected (D ~ 0.1 >> 1.95/sqrt(n) ~ 0.01)
    assert stats.kstest(u, lambda z: fp.mixture_cdf(z, W, M, S)).pvalue < 1e-3


def test_mixture_pdf_and_cdf_agree():
    # the cdf is the integral of the pdf (adaptive quadrature, tolerance 1e-10)
    for z in (-3.0, -1.0, 0.5, 2.0):
        val, err = integrate.quad(lambda y: float(fp.mixture_pdf(np.array([y]), W, M, S)[0]),
                                  -np.inf, z, epsabs=1e-12)
        assert fp.mixture_cdf(z, W, M, S) == pytest.approx(val, abs=1e-10 + err)
    # weights are normalised
    assert fp.mixture_cdf(50.0, (3.0, 2.0), M, S) == pytest.approx(1.0, abs=1e-15)


def test_mixture_marginal_moments():
    a = 0.3
    w, m, s = fp.mixture_marginal(W, M, S, a)
    np.testing.assert_allclose(m, np.sqrt(a) * np.array(M), rtol=1e-15)
    np.testing.assert_allclose(s**2, a * np.array(S) ** 2 + 1 - a, rtol=1e-14)
    # ᾱ = 0: the standard normal, whatever the start
    _, m0, s0 = fp.mixture_marginal(W, M, S, 0.0)
    np.testing.assert_array_equal(m0, 0.0)
    np.testing.assert_allclose(s0, 1.0, rtol=1e-15)


def test_validation():
    with pytest.raises(ValueError, match="sign"):
        fp.fokker_planck_operator(np.zeros(5), 0.1, sign=0)
    with pytest.raises(TypeError, match="n must be a positive integer"):
        fp.grid(10.5)
    with pytest.raises(ValueError, match="t_osm"):
        fp.solve_fokker_planck(np.ones(4), np.arange(4.0), 1.0, [1.0, 0.5])
    with pytest.raises(ValueError, match="method"):
        fp.solve_fokker_planck(np.ones(4), np.arange(4.0), 1.0, [1.0], method="rk4")
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \[0, 1\]"):
        fp.mixture_marginal(W, M, S, 1.5)
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \[0, 1\]"):
        fp.mixture_marginal(W, M, S, float("nan"))
    with pytest.raises(ValueError, match="positive"):
        fp.mixture_pdf(0.0, (1.0, -1.0), M, S)
    with pytest.raises(ValueError, match="steps"):
        fp.osmosis_time(schedules.constant_betas(0.1, 5), [6])
