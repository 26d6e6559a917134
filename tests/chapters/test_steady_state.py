"""Tests of :mod:`lib.chapters.steady_state` (paper Property 5, Proposition 4, Eq. 22): the
chapter's mathematics, figures, explorer and verdicts.

Tolerances:

* closed forms are compared with independent formulas to a round-off bound: a sum of n terms of
  size ≤ S carries an absolute error ≤ ≈ n·eps·S, and the tests allow a small multiple of it;
* Monte Carlo estimates are compared with exact values within Z_MAX standard errors
  (two-sided false alarm 5.7e-7 per assertion at Z_MAX = 5, seeds fixed);
* every check is paired with a wrong variant that it must reject.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special as sp
from scipy import stats as sst

from lib.chapters import steady_state as chapter
from lib.chapters.common import Curve
from lib.core import data as ds
from lib.core import forward as fw
from lib.core import gaussian as gauss
from lib.core import schedules as sch

from _shared import EPS, HYP, Z_MAX, gaussian_st


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


@HYP
@given(g=gaussian_st(), a=st.floats(1e-7, 1e-3))
def test_leading_order_terms(g, a):
    mean, cov = g
    lam = np.linalg.eigvalsh(cov)
    x = a * (lam - 1)
    exact = float(gauss.kl_gaussian_marginal(mean, cov, a))
    second = float(chapter.kl_leading_order(mean, cov, a, order=2))
    # Remainder after second order: ½ Σ |x|³ / (3 (1 − |x|)) (alternating series bound) plus
    # round-off of a sum of n terms.
    remainder = float(chapter.kl_second_order_remainder_bound(cov, a))
    assert remainder == pytest.approx(np.sum(np.abs(x) ** 3 / (1 - np.abs(x))) / 6, rel=1e-12)
    assert abs(exact - second) <= remainder + 100 * mean.size * EPS * exact
    first = float(chapter.kl_leading_order(mean, cov, a, order=1))
    assert first == pytest.approx(0.5 * a * mean @ mean, rel=4 * EPS)


def test_remainder_bound_requires_small_alpha_bar():
    with pytest.raises(ValueError, match="λ_k"):
        chapter.kl_second_order_remainder_bound(np.diag([5.0, 1.0]), 0.5)


# ---------------------------------------------------------------------------------------------
# Σ β = ∞ and the paper's Eq. (10)
# ---------------------------------------------------------------------------------------------


@HYP
@given(c=st.floats(0.01, 0.99))
def test_inverse_square_limit_brackets_partial_products(c):
    J = 20_000
    ab_j = sch.alpha_bar(chapter.inverse_square_betas(c, J))[-1]
    limit = chapter.inverse_square_alpha_bar_limit(c)
    assert limit == pytest.approx(np.sin(np.pi * np.sqrt(c)) / (np.pi * np.sqrt(c)), rel=1e-14)
    # ᾱ_∞ ≤ ᾱ_J ≤ ᾱ_∞ / (1 − c/J), with round-off of J log1p terms (≈ J·eps relative).
    slack = 1 + 4 * J * EPS
    assert limit <= ab_j * slack
    assert ab_j <= limit / (1 - c / J) * slack
    assert limit > 0 and np.sum(chapter.inverse_square_betas(c, J)) < c * np.pi**2 / 6


def test_wrong_closed_form_is_rejected():
    # sin(πc)/(πc) (forgetting the square root) misses the partial products badly.
    c = 0.5
    ab_j = sch.alpha_bar(chapter.inverse_square_betas(c, 10_000))[-1]
    assert abs(np.sinc(c) - ab_j) > 0.1


def test_harmonic_schedule_forgets_like_a_power_law():
    c = 0.5
    i = np.array([10, 1000, 100_000])
    ab = sch.alpha_bar(chapter.harmonic_betas(c, int(i[-1])))[i]
    exact = np.exp(sp.gammaln(i + 1 - c) - sp.gammaln(1 - c) - sp.gammaln(i + 1))
    np.testing.assert_allclose(ab, exact, rtol=1e-9)
    assert ab[-1] < 1e-2  # Σβ = ∞ ⇒ ᾱ → 0, but only like i^-c


def test_eq10_lower_bound_is_stable_and_solves_the_quadratic():
    n = np.arange(1, 200)
    b = gauss.eq10_lower_bound(n)
    q = np.exp(-n * np.log(2 * np.pi * np.e))
    # b is the smaller root of β² − β + q = 0: b(1 − b) = q, to a few ulp relative.
    np.testing.assert_allclose(b * (1 - b), q, rtol=8 * EPS)
    assert np.all(b > 0)
    naive = 0.5 - np.sqrt(0.25 - q)
    assert naive[n == 14][0] == 0.0  # the literal formula cancels to exactly zero
    np.testing.assert_allclose(chapter.log10_eq10_lower_bound(n), np.log10(b), rtol=1e-13)
    big = chapter.log10_eq10_lower_bound(np.array([405_900]))
    assert big[0] == pytest.approx(-405_900 * np.log10(2 * np.pi * np.e) - np.log10(1.0), rel=1e-12)
    with pytest.raises(ValueError, match="positive integers"):
        gauss.eq10_lower_bound(0)


# ---------------------------------------------------------------------------------------------
# Detectability of u_0 in one trajectory
# ---------------------------------------------------------------------------------------------


def test_correlation_z_has_the_predicted_law():
    rng = np.random.default_rng(12)
    f = ds.cat(grey=True, factor=10)  # 30 x 45
    betas = sch.linear_betas(100)
    step = 60
    a = sch.alpha_bar(betas)[step]
    u = fw.sample_marginal(np.broadcast_to(f, (3000,) + f.shape), betas, step, rng)
    z = np.array([chapter.correlation_z(x, f) for x in u])
    delta = float(chapter.correlation_shift(f, a))
    sd = np.sqrt(1 - a)
    assert abs(z.mean() - delta) <= Z_MAX * sd / np.sqrt(z.size)
    assert abs(z.std(ddof=1) / sd - 1) <= Z_MAX / np.sqrt(2 * (z.size - 1))
    # Under pure noise Z ~ N(0, 1); the test rejects at level 0.01 about 1% of the time.
    z0 = np.array([chapter.correlation_z(x, f) for x in rng.standard_normal((3000,) + f.shape)])
    rate = np.mean(np.abs(z0) > sst.norm.isf(0.005))
    assert abs(rate - 0.01) <= Z_MAX * np.sqrt(0.01 * 0.99 / z0.size)
    # The empirical rejection rate under the alternative matches the power formula.
    power = float(chapter.two_sided_power(delta, 0.01, sd))
    emp = np.mean(np.abs(z) > sst.norm.isf(0.005))
    assert abs(emp - power) <= Z_MAX * np.sqrt(power * (1 - power) / z.size) + 1e-3


def test_ks_normal_matches_scipy_asymptotic():
    rng = np.random.default_rng(13)
    for shift in [0.0, 0.05]:
        x = rng.standard_normal(5000) + shift
        d, p = chapter.ks_normal(x)
        ref = sst.kstest(x, "norm", method="asymp")
        assert d == pytest.approx(ref.statistic, rel=1e-12)
        assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_pooled_ks_distance_matches_large_sample_and_first_order():
    f = ds.cat()[::4, ::4]  # subsampled, so grey values stay on the 256 levels
    a = 1e-3
    d = chapter.pooled_ks_distance(f, a)
    # First order in √ᾱ: sup |F̄ − Φ| ≈ √ᾱ |mean f| φ(0); second-order terms are O(ᾱ).
    first = np.sqrt(a) * abs(f.mean()) * sst.norm.pdf(0)
    assert d == pytest.approx(first, rel=0.05)
    # Empirical check with many independent copies (n large): D_n → d within the KS spread.
    rng = np.random.default_rng(14)
    u = fw.sample_marginal(np.broadcast_to(f, (60,) + f.shape), sch.constant_betas(0.5, 10), 1, rng)
    ab = sch.alpha_bar(sch.constant_betas(0.5, 10))[1]
    d_big = chapter.pooled_ks_distance(f, ab)
    d_n, _ = chapter.ks_normal(u)
    assert abs(d_n - d_big) <= sst.kstwobign.isf(1e-4) / np.sqrt(u.size)
    # distances decrease along a schedule (the bisection in ks_threshold_step relies on it)
    ab_grid = sch.alpha_bar(sch.linear_betas())[100::50]
    assert np.all(np.diff(chapter.pooled_ks_distance(f, ab_grid)) < 0)


def test_threshold_steps():
    f = ds.cat()[::4, ::4]  # subsampled, so grey values stay on the 256 levels
    betas = sch.constant_betas(0.02, 1000)
    ab = sch.alpha_bar(betas)
    i = chapter.correlation_threshold_step(f, betas, 0.01)
    shift = chapter.correlation_shift(f, ab)
    z = sst.norm.isf(0.005)
    assert shift[i] <= z < shift[i - 1]
    k = chapter.ks_threshold_step(f, betas, 0.01)
    crit = sst.kstwobign.isf(0.01)
    root_n = np.sqrt(f.size)
    assert root_n * chapter.pooled_ks_distance(f, ab[k]) <= crit < root_n * chapter.pooled_ks_distance(f, ab[k - 1])
    # the blind KS test loses its power earlier than the matched test
    assert k < i
    # a schedule that never gets there returns −1
    assert chapter.correlation_threshold_step(f, sch.constant_betas(1e-4, 50), 0.01) == -1
    assert chapter.ks_threshold_step(f, sch.constant_betas(1e-4, 50), 0.01) == -1


def test_detectability_report_and_simulation_agree_with_the_parts():
    f = ds.cat()[::6, ::6]
    betas = sch.linear_betas()
    rep = chapter.detectability(f, betas, 0.01)
    ab = sch.alpha_bar(betas)
    np.testing.assert_allclose(rep.shift, chapter.correlation_shift(f, ab))
    assert rep.correlation_step == chapter.correlation_threshold_step(f, betas, 0.01)
    assert rep.ks_step == chapter.ks_threshold_step(f, betas, 0.01)
    assert rep.power_T == pytest.approx(float(chapter.two_sided_power(rep.shift[-1], 0.01, np.sqrt(1 - ab[-1]))))
    assert rep.ks_step < rep.correlation_step
    steps = [200, 400, 600, 800, 1000]
    draws, wrong = [], []
    rng = np.random.default_rng(16)
    sd = np.sqrt(1 - ab[steps])
    for _ in range(20):
        sim = chapter.simulate_detection(f, betas, steps, rng)
        assert sim["snapshots"].shape == (5,) + f.shape and sim["snapshots"].dtype == np.float32
        draws.append(sim["z_standardised"])
        # the wrong shift ᾱ‖g‖ (mean scaled by ᾱ instead of √ᾱ)
        wrong.append((sim["z"] - np.sqrt(ab[steps]) * chapter.correlation_shift(f, ab[steps])) / sd)
    # 20 trajectories x 5 steps; each entry is N(0, 1) if the analysis holds, so the mean over
    # the 20 trajectories has standard error 1/√20.
    draws, wrong = np.array(draws), np.array(wrong)
    assert np.all(np.abs(draws.mean(0)) <= Z_MAX / np.sqrt(20))
    assert np.abs(wrong.mean(0))[0] > 2 * Z_MAX / np.sqrt(20)  # rejected at step 200
    np.testing.assert_allclose(sim["ks_population"], np.sqrt(f.size) * chapter.pooled_ks_distance(f, ab[steps]))


def test_first_step_at_or_below():
    assert chapter.first_step_at_or_below([5, 4, 1, 2, 0.5], 1.5) == 4  # must stay below
    assert chapter.first_step_at_or_below([1, 0], 2) == 0
    assert chapter.first_step_at_or_below([3, 2], 1) == -1


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def test_input_validation():
    with pytest.raises(ValueError, match="c must lie"):
        chapter.inverse_square_betas(1.0, 10)
    with pytest.raises(ValueError, match="n_steps"):
        chapter.harmonic_betas(0.5, 0)
    with pytest.raises(ValueError, match="level"):
        chapter.two_sided_power(1.0, 1.5)
    with pytest.raises(ValueError, match="constant"):
        chapter.correlation_z(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="same number"):
        chapter.correlation_z(np.zeros(4), np.arange(3.0))
    with pytest.raises(ValueError, match="order"):
        chapter.kl_leading_order(np.zeros(1), np.eye(1), 0.5, order=3)


def test_two_sided_power_limits():
    assert float(chapter.two_sided_power(0.0, 0.05)) == pytest.approx(0.05, rel=1e-12)
    z = sst.norm.isf(0.005)
    assert float(chapter.two_sided_power(z, 0.01)) == pytest.approx(0.5, abs=1e-6)
    assert float(chapter.two_sided_power(10.0, 0.01)) > 0.999


# ---------------------------------------------------------------------------------------------
# Figures and explorer
# ---------------------------------------------------------------------------------------------

I = np.arange(1, 11)
AB = np.linspace(0.9, 0.01, 10)


def test_rates_figure(readable):
    fig = readable(chapter.rates_figure(I, [np.sqrt(AB)], [AB], [AB / 2], [AB / 2], ["s"],
                                        mc=Curve(I, AB, AB / 10), mc_of=0))
    assert len(fig.axes) == 3 and all(ax.get_yscale() == "log" for ax in fig.axes)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), np.sqrt(AB))
    assert fig.axes[2].containers  # the Monte Carlo error bars
    with pytest.raises(ValueError, match="one length"):
        chapter.rates_figure(I, [AB], [AB], [AB], [], ["s"])


def test_kl_ratio_memory_and_detectability_figures(readable):
    fig = readable(chapter.kl_ratio_figure(AB, [1 + AB], [1 + AB], ["g"], mc=Curve(AB, 1 + AB, AB / 10, "m")))
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_xlabel() == r"$\bar\alpha_i$"
    fig = readable(chapter.memory_figure([Curve(I, AB, label="a"), Curve(I, AB / 2, label="b")], limit=0.5))
    assert len(fig.axes[0].lines) == 3
    fig = readable(chapter.detectability_figure(I, [AB, AB], I, [AB, AB], ["a", "b"],
                                                [(I[:3], AB[:3], AB[:3]), None], 2.5, 1.6))
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "$|Z|$"
    assert len(fig.axes[0].lines) == 4  # two curves, one set of draws, the critical value


def test_pixel_law_grid(readable):
    f = ds.cat(grey=True, factor=10)
    rng = np.random.default_rng(15)
    snaps = [rng.standard_normal(f.shape) for _ in range(2)]
    fig = readable(chapter.pixel_law_grid(snaps, f, [1e-3, 1e-4], ["a", "b"]))
    assert len(fig.axes) == 6 and fig.axes[3].get_ylabel() == "b"
    with pytest.raises(ValueError, match="one length"):
        chapter.pixel_law_grid(snaps, f, [1e-3], ["a", "b"])


def test_explorer_shows_eq5_with_one_noise_image():
    f = ds.cat(grey=True, factor=10)
    betas = [sch.linear_betas(100), sch.constant_betas(0.02, 100)]
    explorer = chapter.steady_state_explorer(f, betas, ["linear", "constant"], seed=3)
    schedule, step = explorer.controls["schedule"], explorer.controls["i"]
    step.value = 0
    np.testing.assert_allclose(explorer.result, f)  # ᾱ_0 = 1: the image itself
    step.value = 60
    xi = np.random.default_rng(3).standard_normal(f.shape)
    a = sch.alpha_bar(betas[0])[60]
    np.testing.assert_allclose(explorer.result, np.sqrt(a) * f + np.sqrt(1 - a) * xi, rtol=1e-12)
    first = explorer.result.copy()
    schedule.value = 1
    assert not np.allclose(explorer.result, first)  # the schedule changes ᾱ_i
    assert step.continuous_update is False and step.layout.width == "100%"


# ---------------------------------------------------------------------------------------------
# Verdicts: one source, checked against the notebook
# ---------------------------------------------------------------------------------------------


def test_verdicts_are_shown_and_their_sections_and_equations_exist(verdicts_shown):
    verdicts_shown("steady_state", chapter.VERDICTS)


def test_verdicts_are_what_the_chapter_establishes():
    prop, eq22 = chapter.VERDICTS
    # Property 5 needs a correction: Σβ < ∞ keeps ᾱ_∞ > 0 although every β_j ∈ (0, 1) (and
    # Eq. 10's lower bound is positive), while Σβ = ∞ forgets.
    assert chapter.inverse_square_alpha_bar_limit(0.5) > 0.3 and gauss.eq10_lower_bound(64) > 0
    assert sch.alpha_bar(chapter.harmonic_betas(0.5, 10**6))[-1] < 1e-2
    assert prop.verdict == "holds with correction"
    # Eq. (22) with the product from j = 1 is the closed form of Eq. (5) (ᾱ_1 = 1 − β_1).
    betas = sch.linear_betas(10)
    assert sch.alpha_bar(betas)[1] == pytest.approx(1 - betas[0], rel=1e-15)
    assert eq22.verdict == "holds with correction"
