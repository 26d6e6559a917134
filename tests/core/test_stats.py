"""Tests of :mod:`lib.core.stats` (moved from test_forward.py, test_stats.py, test_steady_state.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sst
import numpy as np
import pytest

from lib.core import forward as fw
from lib.core import schedules as sch
from lib.core import stats as lst

from _shared import EPS, HYP, HYP40, Z_MAX, assert_standard_normal


N_PIX = 10_000  # values per snapshot: mean SE = 1/√N = 0.01, lag-correlation SE = 0.01


LAW_STEPS = [1, 10, 100, 400, 1000]


@pytest.fixture(scope="module")
def law():
    rng = np.random.default_rng(20230601)
    u0 = rng.uniform(-1.0, 1.0, N_PIX)  # one chain per pixel, different starting values
    betas = sch.linear_betas(1000)
    return {
        "u0": u0,
        "betas": betas,
        "iterate": fw.iterate_forward(u0, betas, steps=LAW_STEPS, rng=np.random.default_rng(1)),
        "iterate32": fw.iterate_forward(
            u0.astype(np.float32), betas, steps=LAW_STEPS, rng=np.random.default_rng(2)
        ),
        "trajectory": fw.sample_trajectory(u0, betas, steps=LAW_STEPS, rng=np.random.default_rng(3)),
        "marginal": np.stack(
            [fw.sample_marginal(u0, betas, s, rng=np.random.default_rng(100 + s)) for s in LAW_STEPS]
        ),
    }


BETAS = sch.linear_betas(100)


@pytest.mark.parametrize("sampler", ["iterate", "iterate32", "trajectory", "marginal"])
def test_marginals_follow_eq5(law, sampler):
    snaps = law[sampler]
    for k, step in enumerate(LAW_STEPS):
        z = lst.standardize(snaps[k], law["u0"], law["betas"], step)
        assert z.shape == (N_PIX,)
        assert_standard_normal(z)


@pytest.mark.parametrize("sampler", ["iterate", "iterate32", "trajectory"])
def test_trajectory_innovations_iid_normal(law, sampler):
    z = lst.innovations(law[sampler], law["u0"], law["betas"], LAW_STEPS)
    assert z.shape == (len(LAW_STEPS), N_PIX)
    for zk in z:
        assert_standard_normal(zk)
    lags = lst.lag_correlations(z)
    assert lags.shape == (len(LAW_STEPS) - 1,)
    # Under independence each lag correlation has mean 0 and SE 1/√N_PIX.
    assert np.all(np.abs(lags) < Z_MAX / np.sqrt(N_PIX)), lags * np.sqrt(N_PIX)
    report = lst.trajectory_report(law[sampler], law["u0"], law["betas"], LAW_STEPS)
    assert report.passes(alpha=1e-3)
    assert report.max_lag_z < Z_MAX


def test_independent_marginals_are_not_a_trajectory(law):
    # Independent closed-form draws have the right marginals (test above) but correlated
    # innovations: E[z_k z_{k+1}] = −√(ᾱ_{k+1}/ᾱ_k)·(1 − ᾱ_k)/(σ_k σ_{k+1}) ≈ −0.2 here, i.e.
    # ≈ 20 standard errors. The check must flag it.
    z = lst.innovations(law["marginal"], law["u0"], law["betas"], LAW_STEPS)
    lags = lst.lag_correlations(z)
    assert np.max(np.abs(lags)) * np.sqrt(N_PIX) > 10  # more than 10 SE from 0
    report = lst.trajectory_report(law["marginal"], law["u0"], law["betas"], LAW_STEPS)
    assert not report.passes(alpha=1e-3)
    assert report.max_lag_z > 10


def test_normality_report_accepts_standard_normal():
    z = np.random.default_rng(11).standard_normal(100_000)
    rep = lst.normality_report(z)
    assert rep.n == z.size
    # The moments and their null standard errors are the documented ones.
    assert rep.statistics["mean"] == pytest.approx((z.mean(), 0.0, 1 / np.sqrt(z.size)), rel=1e-12)
    assert rep.statistics["variance"] == pytest.approx((z.var(ddof=1), 1.0, np.sqrt(2 / (z.size - 1))), rel=1e-12)
    assert rep.statistics["skewness"][2] == pytest.approx(np.sqrt(6 / z.size), rel=1e-12)
    assert rep.statistics["excess kurtosis"][2] == pytest.approx(np.sqrt(24 / z.size), rel=1e-12)
    assert rep.ks_pvalue == pytest.approx(sst.kstest(z, "norm").pvalue, rel=1e-12)
    # Under the null: p > 1e-3 has false-alarm rate 1e-3; |z| < 5 has 5.7e-7 per moment.
    assert rep.pvalue > 1e-3
    assert all(abs(v) < Z_MAX for v in rep.z_scores.values()), rep.z_scores


def test_normality_report_pvalue_is_bonferroni():
    rep = lst.normality_report(np.random.default_rng(3).standard_normal(1000))
    ps = [2 * sst.norm.sf(abs(v)) for v in rep.z_scores.values()] + [rep.ks_pvalue]
    assert rep.pvalue == pytest.approx(min(1.0, 5 * min(ps)), rel=1e-12)
    assert 0.0 <= rep.pvalue <= 1.0


def test_normality_report_detects_five_percent_sd_excess():
    # Variance 1.05² = 1.1025 with n = 2e5: the variance z-score is ≈ 0.1025/√(2/n) ≈ 32 SE.
    z = 1.05 * np.random.default_rng(12).standard_normal(200_000)
    rep = lst.normality_report(z)
    assert rep.pvalue < 1e-6
    assert rep.z_scores["variance"] > 20


@pytest.mark.parametrize(
    "make, moment",
    [
        # Mean shift 0.02 at n = 2e5: 0.02·√n ≈ 9 SE.
        (lambda r, n: r.standard_normal(n) + 0.02, "mean"),
        # Uniform with unit variance: excess kurtosis −1.2 ≈ −110 SE of √(24/n).
        (lambda r, n: np.sqrt(3) * r.uniform(-1, 1, n), "excess kurtosis"),
        # Centred exponential: skewness 2 ≈ 360 SE of √(6/n).
        (lambda r, n: r.exponential(1.0, n) - 1.0, "skewness"),
    ],
)
def test_normality_report_detects_other_departures(make, moment):
    rep = lst.normality_report(make(np.random.default_rng(13), 200_000))
    assert rep.pvalue < 1e-6
    assert abs(rep.z_scores[moment]) > 8


def test_normality_report_flattens_and_needs_100_values():
    z = np.random.default_rng(4).standard_normal((10, 20))
    assert lst.normality_report(z).n == 200
    with pytest.raises(ValueError, match="at least 100 values, got 99"):
        lst.normality_report(np.zeros(99))
    with pytest.raises(ValueError, match="z must be finite"):
        lst.normality_report(np.full(200, np.nan))


@HYP40
@given(n=st.integers(2, 10**7), alpha=st.floats(1e-8, 0.5))
def test_power_at_ratio_one_is_alpha(n, alpha):
    # At the null the two tails have α/2 each; the only error is round-off in 1 ± crit and the
    # sf(isf(·)) round trip: far below 1e-9 relative.
    assert lst.variance_test_power(n, 1.0, alpha) == pytest.approx(alpha, rel=1e-9)


@HYP40
@given(
    n=st.integers(5, 10**6),
    r1=st.floats(1.0, 3.0),
    factor=st.floats(1.001, 2.0),
    alpha=st.sampled_from([1e-6, 1e-3, 0.05]),
)
def test_power_increases_with_ratio(n, r1, factor, alpha):
    p1 = lst.variance_test_power(n, r1, alpha)
    p2 = lst.variance_test_power(n, r1 * factor, alpha)
    assert 0.0 <= p1 <= 1.0 and 0.0 <= p2 <= 1.0
    # Monotone; strictly so unless the power has saturated at 1 in floating point.
    assert p2 > p1 or p1 >= 1.0 - 1e-12


@HYP40
@given(n1=st.integers(5, 10**5), factor=st.integers(2, 100), r=st.floats(1.01, 3.0))
def test_power_increases_with_n(n1, factor, r):
    p1 = lst.variance_test_power(n1, r)
    p2 = lst.variance_test_power(n1 * factor, r)
    assert p2 > p1 or p1 >= 1.0 - 1e-12


def test_power_array_input():
    ratios = np.linspace(1.0, 1.2, 41)
    p = lst.variance_test_power(10_000, ratios)
    assert isinstance(p, np.ndarray) and p.shape == ratios.shape
    np.testing.assert_allclose(p, [lst.variance_test_power(10_000, float(r)) for r in ratios], rtol=1e-14)
    assert p[0] == pytest.approx(1e-3, rel=1e-9)
    assert np.all(np.diff(p[p < 1 - 1e-12]) > 0)


def test_power_matches_simulation():
    # Simulate the variance test exactly as normality_report applies it: reject when
    # |s² − 1| / √(2/(n−1)) > z_{1−α/2}. With n = 1000 and the ratio of 50 % predicted power,
    # M = 4000 replicates give a binomial SE √(0.25/M) ≈ 0.0079; allow 4 SE (0.032).
    # The normal approximation of s² used by the library shifts the median of s² by
    # ≈ 2/(3(n−1)) ≈ 0.015 of its SD, i.e. ≈ 0.006 in power: well inside the tolerance.
    n, alpha, M = 1000, 1e-3, 4000
    ratio = lst.detectable_variance_ratio(n, alpha=alpha, power=0.5)
    rng = np.random.default_rng(99)
    s2 = np.concatenate(
        [(np.sqrt(ratio) * rng.standard_normal((500, n))).var(axis=1, ddof=1) for _ in range(M // 500)]
    )
    z = (s2 - 1.0) / np.sqrt(2.0 / (n - 1))
    empirical = np.mean(np.abs(z) > sst.norm.isf(alpha / 2))
    predicted = lst.variance_test_power(n, ratio, alpha)
    se = np.sqrt(predicted * (1 - predicted) / M)
    assert abs(empirical - predicted) < 4 * se, (empirical, predicted, se)
    # The decision rule simulated here is the one normality_report uses (same z-score).
    x = np.sqrt(ratio) * rng.standard_normal(n)
    zr = lst.normality_report(x).z_scores["variance"]
    assert zr == pytest.approx((x.var(ddof=1) - 1) / np.sqrt(2 / (n - 1)), rel=1e-12)


@pytest.mark.parametrize("n", [100, 10_000, 1_000_000])
@pytest.mark.parametrize("power", [0.5, 0.9, 0.99])
def test_detectable_ratio_has_requested_power(n, power):
    alpha = 1e-3
    r = lst.detectable_variance_ratio(n, alpha=alpha, power=power)
    assert r > 1.0
    # brentq locates r to xtol = 2e-12 + 4·eps·r; the power is then off by at most
    # slope · that (slope estimated by a central difference), times 4 for margin.
    h = 1e-6 * r
    slope = (lst.variance_test_power(n, r + h, alpha) - lst.variance_test_power(n, r - h, alpha)) / (2 * h)
    tol = 4 * slope * (2e-12 + 4 * EPS * r) + 1e-13
    assert abs(lst.variance_test_power(n, r, alpha) - power) <= tol
    # Smallest such ratio: a slightly smaller ratio has less power.
    assert lst.variance_test_power(n, r * (1 - 1e-6), alpha) < power


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"n": 1, "ratio": 1.1}, "n must be at least 2"),
        ({"n": 100, "ratio": 0.0}, "ratio must be positive"),
        ({"n": 100, "ratio": -1.0}, "ratio must be positive"),
        ({"n": 100, "ratio": np.nan}, "ratio must be positive"),
        ({"n": 100, "ratio": 1.1, "alpha": 0.0}, r"alpha must lie in \(0, 1\)"),
        ({"n": 100, "ratio": 1.1, "alpha": 1.0}, r"alpha must lie in \(0, 1\)"),
    ],
)
def test_power_errors(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        lst.variance_test_power(**kwargs)


@pytest.mark.parametrize("power", [0.0, 1.0, 1.5])
def test_detectable_ratio_bad_power(power):
    with pytest.raises(ValueError, match=r"power must lie in \(alpha, 1\)"):
        lst.detectable_variance_ratio(1000, power=power)


def test_detectable_ratio_power_below_alpha_message():
    with pytest.raises(ValueError, match="power"):
        lst.detectable_variance_ratio(1000, alpha=1e-3, power=1e-4)


def test_standardize_formula():
    rng = np.random.default_rng(5)
    u0 = rng.uniform(-1, 1, (4, 3))
    samples = rng.normal(size=(7, 4, 3))
    ab = np.cumprod(1 - BETAS)[49]  # ᾱ_50
    expected = (samples - np.sqrt(ab) * u0) / np.sqrt(1 - ab)
    z = lst.standardize(samples, u0, BETAS, 50)
    assert z.shape == samples.shape
    # ᾱ via cumprod vs log-sum: ≈ 2·52·eps·(1+|L|) relative, amplified by ≤ 1/(1−ᾱ) ≈ 10 here
    # and by |u|/√(1−ᾱ) ≤ 10 in the difference: 1e-11 is a safe absolute bound on O(1) values.
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-11)
    # A single draw of u0's shape is accepted too.
    np.testing.assert_allclose(lst.standardize(samples[0], u0, BETAS, 50), expected[0], atol=1e-11)


def test_standardize_errors():
    u0 = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"samples must end with the shape of u0 \(4, 3\)"):
        lst.standardize(np.zeros((7, 3, 4)), u0, BETAS, 5)
    with pytest.raises(ValueError, match="samples must end with the shape of u0"):
        lst.standardize(np.zeros(3), u0, BETAS, 5)
    with pytest.raises(ValueError, match="step must be at least 1"):
        lst.standardize(np.zeros((7, 4, 3)), u0, BETAS, 0)
    with pytest.raises(ValueError, match=r"step must lie in \[0, 100\]"):
        lst.standardize(np.zeros((7, 4, 3)), u0, BETAS, 101)
    with pytest.raises(ValueError, match="samples must be finite"):
        lst.standardize(np.full((7, 4, 3), np.nan), u0, BETAS, 5)


def test_standardize_scalar_u0():
    samples = np.random.default_rng(6).normal(size=50)
    z = lst.standardize(samples, 0.3, BETAS, 10)
    ab = np.cumprod(1 - BETAS)[9]
    np.testing.assert_allclose(z, (samples - np.sqrt(ab) * 0.3) / np.sqrt(1 - ab), atol=1e-11)


def test_innovations_formula_and_step0():
    rng = np.random.default_rng(8)
    u0 = rng.uniform(-1, 1, 6)
    steps = [0, 3, 10, 40]
    snaps = fw.sample_trajectory(u0, BETAS, steps=steps, rng=rng)
    z = lst.innovations(snaps, u0, BETAS, steps)
    assert z.shape == (3, 6)  # the step-0 snapshot is dropped
    ab = np.concatenate(([1.0], np.cumprod(1 - BETAS)))
    prev_s, prev = 0, u0
    for k, s in enumerate(steps[1:]):
        r = ab[s] / ab[prev_s]
        # Same round-off argument as test_standardize_formula.
        np.testing.assert_allclose(z[k], (snaps[k + 1] - np.sqrt(r) * prev) / np.sqrt(1 - r), atol=1e-11)
        prev_s, prev = s, snaps[k + 1]
    # Without the step-0 snapshot the innovations are the same.
    np.testing.assert_array_equal(lst.innovations(snaps[1:], u0, BETAS, steps[1:]), z)


def test_innovations_errors():
    u0 = np.zeros(6)
    with pytest.raises(ValueError, match="snapshots and .* must have the same shape"):
        lst.innovations(np.zeros((2, 6)), u0, BETAS, [1, 2, 3])
    with pytest.raises(ValueError, match="snapshots and .* must have the same shape"):
        lst.innovations(np.zeros((3, 5)), u0, BETAS, [1, 2, 3])
    with pytest.raises(ValueError, match="the snapshot at step 0 must equal u0"):
        lst.innovations(np.ones((2, 6)), u0, BETAS, [0, 3])
    with pytest.raises(ValueError, match="steps must be strictly increasing"):
        lst.innovations(np.ones((2, 6)), u0, BETAS, [3, 1])


def test_innovations_only_step0_message():
    u0 = np.zeros(6)
    with pytest.raises(ValueError, match="steps"):
        lst.innovations(u0[None], u0, BETAS, [0])


def test_lag_correlations_values_and_null_se():
    rng = np.random.default_rng(10)
    n = 40_000
    z = rng.standard_normal((6, n))
    lags = lst.lag_correlations(z)
    assert lags.shape == (5,)
    np.testing.assert_allclose(lags, [np.mean(z[k] * z[k + 1]) for k in range(5)], rtol=1e-12)
    # Independent rows: each lag correlation has SE 1/√n.
    assert np.all(np.abs(lags) < Z_MAX / np.sqrt(n))
    # Correlated rows (ρ = 0.1, i.e. 20 SE) are detected.
    zc = np.empty_like(z)
    zc[0] = z[0]
    for k in range(1, 6):
        zc[k] = 0.1 * zc[k - 1] + np.sqrt(1 - 0.01) * z[k]
    lc = lst.lag_correlations(zc)
    assert np.all(np.abs(lc - 0.1) < Z_MAX * np.sqrt(1 + 0.01) / np.sqrt(n))
    # Multi-dimensional rows are flattened.
    np.testing.assert_allclose(lst.lag_correlations(z.reshape(6, 200, 200)), lags, rtol=1e-12)


def test_lag_correlations_needs_two_rows():
    with pytest.raises(ValueError, match="at least two innovations"):
        lst.lag_correlations(np.zeros((1, 10)))
    with pytest.raises(ValueError, match="at least two innovations"):
        lst.lag_correlations(np.zeros(1))


def test_projection_ks_test_one_test_two_distributions():
    rng = np.random.default_rng(11)
    d = lst.random_directions(6, 3, rng)
    x, y = rng.standard_normal((300, 6)), rng.standard_normal((200, 6))
    asym = lst.projection_ks_test(x, y, d, norm=True)
    assert asym.statistics.shape == asym.pvalues.shape == (4,)
    assert asym.pvalue == min(1.0, 4 * asym.pvalues.min())
    exact = lst.projection_ks_test(x, y, d, exact=True)
    from scipy import stats as sst
    for k in range(3):  # the exact variant is scipy's two-sample test on each projection
        ref = sst.ks_2samp(x @ d[:, k], y @ d[:, k])
        assert exact.statistics[k] == pytest.approx(ref.statistic, abs=1e-12)
        assert exact.pvalues[k] == pytest.approx(ref.pvalue, rel=1e-12)
    # the asymptotic statistics are the same numbers
    np.testing.assert_allclose(asym.statistics[:3], exact.statistics, atol=1e-12)
    # a shift along the first direction is detected
    assert lst.projection_ks_test(x, y + 1.0 * d[:, 0], d).pvalue < 1e-6  # D ≈ 0.38, √n_eff·D ≈ 4
    # directions are normalised: scaling them changes nothing
    assert lst.projection_ks_test(x, y, 3.0 * d).pvalue == pytest.approx(
        lst.projection_ks_test(x, y, d).pvalue, rel=1e-9)


def test_projection_ks_test_validation():
    with pytest.raises(ValueError, match="directions must have shape"):
        lst.projection_ks_test(np.zeros((5, 6)), np.zeros((5, 6)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="same columns"):
        lst.projection_ks_test(np.zeros((5, 6)), np.zeros((5, 5)), np.ones((6, 2)))
    with pytest.raises(TypeError, match="Generator"):
        lst.random_directions(3, 2, 0)


def test_nearest_neighbour_distances_against_brute_force():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 3))
    c = rng.standard_normal((25, 3))
    brute = np.sqrt(((x[:, None] - c[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(lst.nearest_neighbour_distances(x, c), brute, atol=1e-12)
    d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1)) + np.diag(np.full(25, np.inf))
    np.testing.assert_allclose(lst.nearest_neighbour_distances(c, c, exclude_self=True),
                               d.min(1), atol=1e-12)


@HYP
@given(
    n=st.integers(2, 40), m=st.integers(1, 40), seed=st.integers(0, 2**32 - 1),
    discrete=st.booleans(),
)
def test_ks_2samp_columns_equals_scipy(n, m, seed, discrete):
    # moved from the semigroup tests with the KS test they used
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, 3)), rng.standard_normal((m, 3)) + 0.3
    if discrete:  # ties within and between the samples
        x, y = np.round(x), np.round(y)
    stat, p = lst.ks_2samp_columns(x, y)
    for j in range(3):
        ref = sst.ks_2samp(x[:, j], y[:, j], method="asymp")
        assert stat[j] == pytest.approx(ref.statistic, abs=1e-12)
        assert p[j] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_random_directions_are_unit_vectors():
    w = lst.random_directions(64, 8, np.random.default_rng(1))
    assert w.shape == (64, 8)
    np.testing.assert_allclose(np.linalg.norm(w, axis=0), 1.0, rtol=1e-14)
