"""lib.chapters.entropy: Lyapunov sequences, paper Property 3 (Eqs. 9-20), and the chapter's
verdicts, figures and explorer.

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
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sst

from lib.chapters import entropy as chapter
from lib.core import data as ds
from lib.core import gaussian as gauss
from lib.core import mixture as mix
from lib.core import schedules as sch

from _shared import (EPS, HYP, LOG_2PIE, Z_MAX, assert_verdicts_point_at_sections, betas_st,
                     entropy_1d_quadrature, scipy_entropy)

Curve = chapter.Curve


# ---------------------------------------------------------------------------------------------
# 1-D references by quadrature
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


def test_isotropic_marginal_entropy_is_the_paper_counterexample():
    n = 64
    betas = sch.constant_betas(0.02, 1000)
    ab = sch.alpha_bar(betas)
    for s in (0.25, 4.0):
        h = chapter.isotropic_marginal_entropy(s, n, ab)
        np.testing.assert_allclose(h, gauss.gaussian_marginal_entropy(s * np.eye(n), ab), atol=1e-11)
        step = np.diff(h)
        assert np.all(step > 0) if s < 1 else np.all(step < 0)
    # and β = 0.02 satisfies the paper's Eq. (10) for n = 64
    assert chapter.satisfies_eq10(0.02, n)


@HYP
@given(betas=betas_st(hi=0.9), s=st.floats(0.01, 100.0).filter(lambda v: abs(v - 1) > 1e-3))
def test_isotropic_entropy_moves_against_its_variance_for_every_schedule(betas, s):
    ab = sch.alpha_bar(betas)
    h = chapter.isotropic_marginal_entropy(s, 3, ab)
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
    h = gauss.conditional_entropy(betas, n)
    ab = sch.alpha_bar(betas)
    assert h[0] == -np.inf
    for i in (1, 10, 100):
        assert h[i] == pytest.approx(scipy_entropy((1 - ab[i]) * np.eye(n)), abs=1e-11)
    eq18 = chapter.conditional_entropy_eq18(betas, n)
    np.testing.assert_allclose(eq18[1:], 2 * h[1:], rtol=1e-14)
    # The two coincide only where 2πe(1 − ᾱ) = 1.
    i = int(np.argmin(np.abs(h[1:]))) + 1
    assert abs(np.log(2 * np.pi * np.e * (1 - ab[i]))) < 0.1


def test_conditional_entropy_monte_carlo_on_the_digits():
    """Average of −log p(u_i | u_0) over training images and noise: Eq. (16) by simulation."""
    digits = ds.digits()[::4]
    n = digits.shape[1]
    betas = sch.constant_betas(0.02, 300)
    ab = sch.alpha_bar(betas)
    rng = np.random.default_rng(2)
    exact = gauss.conditional_entropy(betas, n)
    paper = chapter.conditional_entropy_eq18(betas, n)
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
    t = chapter.eq12_gaussian(s, beta, n)
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
    t = chapter.eq12_gaussian(1.0, 0.02, 64)
    # U_i ~ N(0, I) stays N(0, I): H(U_{i+1}) = H(U_i) = (n/2) ln 2πe, but Eq. (12) adds H(G).
    assert t.exact == pytest.approx(gauss.standard_normal_entropy(64), abs=1e-12)
    assert t.paper_error == pytest.approx(gauss.standard_normal_entropy(64) + 0.5 * np.log(0.98 * 0.02), abs=1e-11)
    assert t.paper_error > 85
    # n = 1: the scaling term is right, the additivity still fails.
    t1 = chapter.eq12_gaussian(1.0, 0.02, 1)
    assert t1.scaling_exact == t1.scaling_paper
    assert abs(t1.paper_error) > 0.1
    # Eq. (12) holds by coincidence on one curve: n = 1, s = 1, β(1 − β) = 1/(2πe).
    beta = 0.5 - math.sqrt(0.25 - 1 / (2 * math.pi * math.e))
    assert chapter.eq12_gaussian(1.0, beta, 1).paper_error == pytest.approx(0.0, abs=1e-12)


def test_eq10_interval_solves_the_quadratic_and_membership_is_robust():
    for n in range(1, 12):
        lo, hi = chapter.eq10_interval(n)
        q = (2 * math.pi * math.e) ** -n
        for root in (lo, hi):
            assert abs(root * root - root + q) <= 4 * EPS * q / min(lo, 1 - hi) + 4 * EPS
        assert lo == pytest.approx(float(gauss.eq10_lower_bound(n)), rel=0)
        # membership by the log form agrees with the interval away from the boundary
        for beta in (lo * (1 - 1e-9), lo * (1 + 1e-9), 0.5):
            assert chapter.satisfies_eq10(beta, n) == (lo <= beta <= hi)
        if n <= 4:  # near 1, β = 1 − lo(1 ± δ) is representable only while lo·δ ≫ eps
            for beta in (1 - lo * (1 + 1e-6), 1 - lo * (1 - 1e-6)):
                assert chapter.satisfies_eq10(beta, n) == (lo <= beta <= hi)
    # n = 64: the upper limit rounds to 1.0, but membership is still decided correctly.
    lo, hi = chapter.eq10_interval(64)
    assert hi == 1.0 and 0 < lo < 1e-78
    assert not chapter.satisfies_eq10(1e-80, 64) and chapter.satisfies_eq10(1e-78, 64)
    assert not chapter.satisfies_eq10(1 - 1e-16, 64) or (1e-16 * (1 - 1e-16) >= (2 * math.pi * math.e) ** -64)
    # huge n: b_n underflows to 0, the log form still works
    assert chapter.eq10_interval(10**6)[0] == 0.0
    assert chapter.satisfies_eq10(1e-300, 10**6)
    np.testing.assert_array_equal(chapter.satisfies_eq10(np.array([0.01, 0.5]), np.array([1, 1])), [False, True])


@HYP
@given(beta=st.floats(1e-6, 1 - 1e-6), n=st.integers(1, 8))
def test_satisfies_eq10_matches_the_quadratic(beta, n):
    q = (2 * math.pi * math.e) ** -n
    lhs = beta * (1 - beta)
    if abs(lhs - q) > 1e-12 * q:  # away from the boundary, where the two roundings may differ
        assert chapter.satisfies_eq10(beta, n) == (lhs >= q)


# ---------------------------------------------------------------------------------------------
# Entropy power inequality
# ---------------------------------------------------------------------------------------------


@HYP
@given(s=st.floats(1e-2, 1e2), r=st.floats(1e-4, 1.0), n=st.integers(1, 64))
def test_epi_bound_is_tight_for_isotropic_gaussians(s, r, n):
    h = chapter.isotropic_gaussian_entropy(s, n)
    assert chapter.entropy_power(h, n) == pytest.approx(s, rel=1e-12)
    bound = chapter.epi_lower_bound(h, r, n)
    exact = chapter.isotropic_gaussian_entropy(r * s + 1 - r, n)  # √r U + √(1−r) G ~ N(0, (rs+1−r)I)
    assert bound == pytest.approx(exact, abs=100 * n * EPS * (LOG_2PIE + abs(np.log(s)) + 1))
    # The bound exceeds H(U) exactly when N(U) < 1.
    if abs(s - 1) > 1e-6 and r < 1 - 1e-6:
        assert (bound > h) == (s < 1)


def test_epi_bound_holds_for_a_non_gaussian_and_for_a_point_mass():
    centers = np.array([[-3.0], [0.0], [4.0]])
    for a, r in [(0.9, 0.5), (0.5, 0.2), (0.99, 0.9)]:
        h = entropy_1d_quadrature(centers, a)
        h_next = entropy_1d_quadrature(centers, a * r)  # √r U + √(1−r) G has ᾱ = a r
        bound = chapter.epi_lower_bound(h, r, 1)
        assert h_next >= bound - 1e-9
        # strict for a non-Gaussian U
        assert h_next > bound + 1e-4
    assert chapter.epi_lower_bound(-np.inf, 0.3, 5) == pytest.approx(chapter.isotropic_gaussian_entropy(0.7, 5))


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
    turn = chapter.entropy_turn(centers, betas, 5, 60, 4000, np.random.default_rng(17))
    assert turn.last_increasing <= i_max <= turn.first_decreasing
    assert turn.first_decreasing - turn.last_increasing < 15
    with pytest.raises(ValueError, match="not significantly negative"):
        chapter.entropy_turn(centers, betas, 5, 10, 500, np.random.default_rng(18))


def test_log_spaced_steps():
    s = chapter.log_spaced_steps(1000, 20)
    assert s[0] == 1 and s[-1] == 1000 and np.all(np.diff(s) > 0) and s.size <= 20
    np.testing.assert_array_equal(chapter.log_spaced_steps(5, 1), [1])


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def test_input_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="variance"):
        chapter.isotropic_gaussian_entropy(-1.0, 3)
    for bad in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            chapter.eq12_gaussian(1.0, bad, 3)
        with pytest.raises(ValueError, match="beta"):
            chapter.satisfies_eq10(bad, 3)
    with pytest.raises(TypeError, match="beta"):
        chapter.eq12_gaussian(1.0, True, 3)
    with pytest.raises(ValueError, match="beta"):
        chapter.satisfies_eq10(np.array([0.5, 1.0]), 3)
    with pytest.raises(ValueError, match="n must hold"):
        chapter.satisfies_eq10(0.5, 0)
    with pytest.raises(ValueError, match="betas"):
        chapter.conditional_entropy_increments([[0.5]], 4)
    with pytest.raises(ValueError, match="lo must be smaller"):
        chapter.entropy_turn(np.zeros((2, 1)), sch.constant_betas(0.1, 10), 5, 5, 10, rng)
    with pytest.raises(ValueError, match=r"hi must lie in \[1, 10\]"):
        chapter.entropy_turn(np.zeros((2, 1)), sch.constant_betas(0.1, 10), 1, 11, 10, rng)
    with pytest.raises(ValueError, match="entropy"):
        chapter.epi_lower_bound(np.nan, 0.5, 2)
    with pytest.raises(ValueError, match="count"):
        chapter.log_spaced_steps(10, 0)


def test_standardised_differences():
    z = chapter.standardised_differences([1.0, 2.0, 2.0], [0.3, 0.4, 0.0])
    np.testing.assert_allclose(z, [1.0 / 0.5, 0.0])
    with pytest.raises(ValueError, match="same length"):
        chapter.standardised_differences([1.0, 2.0], [0.1])
    with pytest.raises(ValueError, match="non-negative"):
        chapter.standardised_differences([1.0, 2.0], [0.1, -0.1])


def test_entropy_vs_scale_closed_forms_and_mc_agree_with_their_sources():
    data = ds.digits()[::15]
    betas = sch.constant_betas(0.05, 100)
    ab = sch.alpha_bar(betas)
    r = chapter.entropy_vs_scale(data, 2.0, betas, [1, 10, 100], 200, np.random.default_rng(21))
    cov = np.cov(2 * data, rowvar=False, bias=True)
    np.testing.assert_allclose(r["gauss_h"], gauss.gaussian_marginal_entropy(cov, ab[1:]))
    np.testing.assert_array_equal(r["i"], np.arange(1, 101))
    # the mixture's entropy is below the Gaussian bound and its KL above the Gaussian KL
    assert np.all(r["h"] <= r["gauss_h"][r["mc_i"] - 1] + Z_MAX * r["h_se"])
    assert np.all(r["kl"] >= r["gauss_kl"][r["mc_i"] - 1] - Z_MAX * r["kl_se"])
    with pytest.raises(ValueError, match="scale"):
        chapter.entropy_vs_scale(data, -1.0, betas, [1], 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mc_steps"):
        chapter.entropy_vs_scale(data, 1.0, betas, [0, 5], 10, np.random.default_rng(0))


def test_epi_slack_is_zero_for_gaussians_and_catches_a_wrong_entropy():
    ab = sch.alpha_bar(sch.constant_betas(0.05, 100))[[1, 10, 50, 100]]
    h = chapter.isotropic_marginal_entropy(3.0, 8, ab)  # Gaussian: the EPI holds with equality
    slack = chapter.epi_slack(h, np.full(4, 1e-3), ab, 8)
    np.testing.assert_allclose(slack, 0.0, atol=1e-8)
    wrong = h.copy()
    wrong[2] -= 1.0  # an entropy 1 nat too low at one step violates the bound by 1000 SE
    assert chapter.epi_slack(wrong, np.full(4, 1e-3), ab, 8).min() < -500
    with pytest.raises(ValueError, match="decrease"):
        chapter.epi_slack(h, np.full(4, 1e-3), ab[::-1], 8)
    with pytest.raises(ValueError, match="errors"):
        chapter.epi_slack(h, np.full(3, 1e-3), ab, 8)


@HYP
@given(s=st.floats(1e-3, 1e3), n=st.integers(1, 80))
def test_isotropic_and_standard_normal_entropy(s, n):
    ref = scipy_entropy(s * np.eye(n))
    tol = 50 * n * EPS * (LOG_2PIE + abs(np.log(s)))
    assert chapter.isotropic_gaussian_entropy(s, n) == pytest.approx(ref, abs=tol)
    assert gauss.standard_normal_entropy(n) == pytest.approx(scipy_entropy(np.eye(n)), abs=50 * n * EPS * LOG_2PIE)
    # Scaling by a adds n ln|a| (not ln|a|): N(0, a² s I) against N(0, s I).
    a = 1.7
    diff = chapter.isotropic_gaussian_entropy(a * a * s, n) - chapter.isotropic_gaussian_entropy(s, n)
    assert diff == pytest.approx(n * np.log(a), abs=tol + 1e-12)
    if n > 1:
        assert abs(diff - np.log(a)) > 0.5 * (n - 1) * np.log(a)


@HYP
@given(betas=betas_st(max_size=60, hi=0.9), n=st.integers(1, 100))
def test_conditional_entropy_increases_for_every_schedule(betas, n):
    inc = chapter.conditional_entropy_increments(betas, n)
    assert inc[0] == np.inf
    assert np.all(inc[1:] > 0)
    h = gauss.conditional_entropy(betas, n)
    finite = np.diff(h)[1:]
    np.testing.assert_allclose(finite, inc[1:], rtol=1e-6, atol=200 * EPS * n * (1 + np.abs(h[1:]).max()))


def test_conditional_increments_stay_positive_where_differencing_fails():
    # β = 0.5: 1 − ᾱ_i = 1 − 2^(−i) rounds to 1 from i = 54 on, so differences of H vanish.
    betas = np.full(80, 0.5)
    h = gauss.conditional_entropy(betas, 4)
    assert np.all(np.diff(h)[60:] == 0.0)
    inc = chapter.conditional_entropy_increments(betas, 4)
    assert np.all(inc > 0)
    # exact: (n/2) ln(1 + β ᾱ_{i−1}/(1 − ᾱ_{i−1})) ≈ 2 · 2^(−i) for large i
    assert inc[69] == pytest.approx(2 * 2.0**-70 / (1 - 2.0**-69), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# figures and explorer
# ---------------------------------------------------------------------------------------------

I = np.arange(1, 11)
H = np.linspace(0.0, 5.0, 10)


def test_entropy_curves_figure(readable):
    curves = [Curve(I, H, label="exact"), Curve(I, H + 1, se=np.full(10, 0.1), label="mc")]
    fig = readable(chapter.entropy_curves_figure(curves, 2.0))
    ax, ax_z = fig.axes
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), H)
    np.testing.assert_allclose(ax_z.lines[0].get_ydata(), H - 2.0)  # the zoom is H − H(N(0, I))
    assert ax.get_xscale() == "log" and ax.get_ylabel() == r"$H(U_i)$ [nats]"
    with pytest.raises(ValueError, match="curves"):
        chapter.entropy_curves_figure([], 0.0)


def test_decomposition_figure(readable):
    h = [Curve(I, H, se=H / 10, label="digits")]
    mi = [Curve(I, H[::-1], se=H / 10)]
    fig = readable(chapter.decomposition_figure(h, mi, Curve(I, H), Curve(I, 2 * H)))
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), H)
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), 2 * H)  # Eq. (18), dotted
    assert "$H(U_i)$, digits" in [t.get_text() for t in fig.legends[0].get_texts()]
    with pytest.raises(ValueError, match="one length"):
        chapter.decomposition_figure(h, [], Curve(I, H))


def test_lyapunov_figure(readable):
    fig = readable(chapter.lyapunov_figure([Curve(I, H + 1, label="a")], [Curve(I, H + 1)]))
    assert all(a.get_yscale() == "log" for a in fig.axes)
    assert fig.axes[1].patches  # the shaded region N ≤ 1


def test_turn_figure(readable):
    fig = readable(chapter.turn_figure({5: (1.0, 0.1), 9: (-1.0, 0.1)}, (6, 8), scale=0.5, title="t"))
    assert fig.axes[0].patches  # the shaded bracket
    np.testing.assert_allclose(fig.axes[0].containers[0].lines[0].get_ydata(), [0.5, -0.5])


def test_scale_grid_figure(readable):
    r = dict(i=I, gauss_h=H, gauss_kl=H + 1, mc_i=I[::3], h=H[::3], h_se=H[::3] / 10,
             kl=H[::3] + 1, kl_se=H[::3] / 10)
    fig = readable(chapter.scale_grid_figure([r, r], ["$c = 1$", "$c = 2$"], 1.0))
    assert len(fig.axes) == 4
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), H - 1.0)
    assert fig.axes[0].get_title() == "$c = 1$"


def test_explorer_follows_the_sliders_and_samples_once_per_scale(monkeypatch):
    data = ds.digits()[::60]
    calls = []
    real = mix.mixture_entropy_mc
    monkeypatch.setattr(mix, "mixture_entropy_mc", lambda *a, **k: calls.append(1) or real(*a, **k))
    explorer = chapter.entropy_explorer(data, n_steps=100, n_grid=6, n_samples=40)
    c, beta = explorer.controls["c"], explorer.controls["beta"]
    cov = np.cov(data, rowvar=False, bias=True)
    first = explorer.result
    np.testing.assert_allclose(first["gauss_h"], gauss.gaussian_marginal_entropy(
        cov, sch.alpha_bar(sch.constant_betas(0.02, 100))[1:]), rtol=1e-12)
    c.value = 4.0
    assert not np.allclose(explorer.result["gauss_h"], first["gauss_h"])
    beta.value = 0.1
    np.testing.assert_allclose(explorer.result["gauss_h"], gauss.gaussian_marginal_entropy(
        16 * cov, sch.alpha_bar(sch.constant_betas(beta.value, 100))[1:]), rtol=1e-12)
    assert len(calls) == 2  # one Monte Carlo run per scale c; β only moves the points
    # the Monte Carlo points sit where ᾱ_i = (1 − β)^i equals their ᾱ, inside [1, T]
    r = explorer.result
    assert np.all((r["mc_i"] >= 1) & (r["mc_i"] <= 100)) and r["mc_i"].size >= 2
    c.value = 1.0
    assert len(calls) == 2  # cached


# ---------------------------------------------------------------------------------------------
# the verdicts
# ---------------------------------------------------------------------------------------------


def test_verdicts_point_at_sections_of_the_notebook(notebook):
    assert_verdicts_point_at_sections(notebook("entropy"), chapter.VERDICTS)


def test_verdicts_are_what_the_checks_establish():
    """The notebook's closed-form asserts (its Monte Carlo ones for the digits are in the
    notebook): Proposition 2 and Eq. (18), Eq. (12) at the steady state, Eq. (10) neither
    sufficient nor necessary, Proposition 1 failing for σ² = 4 while KL decreases."""
    n, T = 64, 1000
    betas = sch.constant_betas(0.02, T)
    ab = sch.alpha_bar(betas)
    increments = [chapter.conditional_entropy_increments(b, n)[1:] for b in sch.reference_schedules().values()]
    prop2 = all(np.all(inc > 0) for inc in increments)
    h, eq18 = gauss.conditional_entropy(betas, n), chapter.conditional_entropy_eq18(betas, n)
    eq18_twice = np.allclose(eq18[1:], 2 * h[1:], rtol=1e-14)
    eq12_off = abs(chapter.eq12_gaussian(1.0, 0.02, n).paper_error) > 1.0
    down = np.diff(chapter.isotropic_marginal_entropy(4.0, n, ab))
    up = np.diff(chapter.isotropic_marginal_entropy(0.25, 1, sch.alpha_bar(sch.constant_betas(0.01, T))))
    not_sufficient = chapter.satisfies_eq10(0.02, n) and np.all(down < 0)
    not_necessary = not chapter.satisfies_eq10(0.01, 1) and np.all(up > 0)
    kl_down = np.all(np.diff(gauss.kl_gaussian_marginal(np.zeros(n), 4.0 * np.eye(n), ab[1:])) < 0)
    computed = {
        "Proposition 2": "holds" if prop2 else "fails",
        "Eq. (18)": "holds with correction" if prop2 and eq18_twice else "holds",
        "Eq. (12)": "fails" if eq12_off else "holds",
        "Eq. (10)": "fails" if not_sufficient and not_necessary else "holds",
        "Proposition 1": "fails" if np.all(down < 0) else "holds",
        "Property 3": "holds with correction" if np.all(down < 0) and kl_down else "holds",
    }
    assert {x.claim: x.verdict for x in chapter.VERDICTS} == computed
