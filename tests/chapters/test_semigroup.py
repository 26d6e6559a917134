"""lib.chapters.semigroup: Properties 1–2 (paper Eqs. 6–8), the scale-space contrast, and the
chapter's verdicts, tables, figures and explorer.

* exact: composed Gaussian kernels equal direct ones within the stated round-off bounds, for
  random schedules (hypothesis), and every deliberately wrong composition exceeds the bound;
* samplers: reproduced bit for bit from the same generator by hand;
* the two-sample test: of size ≤ α and powerful against a wrong composition;
* Gaussian scale-space: the discrete semigroup error stays below its bound, and the bound is
  not vacuous (truncation and small σ break the semigroup visibly);
* the verdicts: each points at a section of the notebook and is what the checks establish.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.chapters import semigroup as chapter
from lib.core import data as ds
from lib.core import forward as fw
from lib.core import schedules as sch
from lib.core import stats as lst

from _shared import EPS, HYP, assert_verdicts_point_at_sections, betas_st


# ---------------------------------------------------------------------------------------------
# Property 1 and the kernels
# ---------------------------------------------------------------------------------------------


def test_property1_step_zero_is_identity():
    data = np.random.default_rng(0).uniform(-1, 1, (30, 7))
    for betas in (sch.constant_betas(0.02, 50), sch.linear_betas(50), sch.cosine_betas(50)):
        assert fw.transition_coefficients(betas, 0, 0) == (1.0, 0.0)
        s, v = chapter._kernels_from_log(sch.log_alpha_bar(betas), 0, 0)
        assert (s, v) == (1.0, 0.0)
        table_s, table_v = chapter.iterated_kernels(betas)
        assert np.all(np.diag(table_s) == 1.0) and np.all(np.diag(table_v) == 0.0)
        rng = np.random.default_rng(1)
        before = rng.bit_generator.state
        np.testing.assert_array_equal(fw.sample_marginal(data, betas, 0, rng), data)
        assert rng.bit_generator.state == before  # no noise drawn at step 0


@HYP
@given(betas=betas_st(hi=0.999), data=st.data())
def test_closed_form_kernels_bitwise_equal_transition_coefficients(betas, data):
    # composition_errors(method="closed") uses the formulas of transition_coefficients, vectorised
    T = betas.size
    start = np.array(data.draw(st.lists(st.integers(0, T), min_size=1, max_size=8)))
    stop = np.array([data.draw(st.integers(int(a), T)) for a in start])
    s, v = chapter._kernels_from_log(sch.log_alpha_bar(betas), start, stop)
    for k in range(start.size):
        expected = fw.transition_coefficients(betas, int(start[k]), int(stop[k]))
        assert (float(s[k]), float(v[k])) == expected


@HYP
@given(betas=betas_st(max_size=30, hi=0.999))
def test_iterated_kernels_one_step_is_eq3_and_close_to_closed_form(betas):
    T = betas.size
    table_s, table_v = chapter.iterated_kernels(betas)
    t = np.arange(1, T + 1)
    # One step of Eq. (3) exactly: mean factor fl(√(1−β)), variance β.
    np.testing.assert_array_equal(table_s[t, t - 1], np.sqrt(1.0 - betas))
    np.testing.assert_array_equal(table_v[t, t - 1], betas)
    assert np.all(np.isnan(table_s[np.triu_indices(T + 1, 1)]))
    # Against the closed form of Eq. (5) (an independent computation via ln ᾱ): the iterated
    # side errs by ≤ (4i+2)·eps (see composition_errors), the closed form by the cumulative
    # log-sum bound 2·(T+2)·eps·(1+|ln ᾱ_T|) of test_forward, plus a few eps for exp/expm1.
    L_T = float(np.sum(np.log1p(-betas)))
    tol = (4 * T + 2) * EPS + 2 * (T + 2) * EPS * (1 + abs(L_T)) + 8 * EPS
    step, a = np.tril_indices(T + 1)
    s, v = chapter._kernels_from_log(sch.log_alpha_bar(betas), a, step)
    assert np.all(np.abs(table_s[step, a] / s - 1.0) <= tol)
    assert np.all(np.abs(table_v[step, a] - v) <= tol)


def test_compose_identity_and_formula():
    k = (0.8, 0.36)
    assert chapter.compose((1.0, 0.0), k) == k  # identity kernel first
    s, v = chapter.compose(k, (1.0, 0.0))
    assert (s, v) == k
    s, v = chapter.compose((0.5, 0.75), (0.8, 0.36))
    assert s == 0.5 * 0.8 and v == 0.8**2 * 0.75 + 0.36
    s, v = chapter.compose((0.5, 0.75), (0.8, 0.36), additive=True)
    assert v == 0.75 + 0.36


def test_compose_matches_monte_carlo():
    # The composition rule is the law of U_c = c2 (c1 U_a + √v1 G1) + √v2 G2: with 10^6 draws
    # the sample variance has relative standard error √(2/10^6) = 1.4e-3; 5 SE tolerance.
    rng = np.random.default_rng(3)
    (c1, v1), (c2, v2) = (0.9, 0.19), (0.7, 0.51)
    g1, g2 = rng.standard_normal((2, 10**6))
    u = c2 * (c1 * 2.0 + np.sqrt(v1) * g1) + np.sqrt(v2) * g2
    s, v = chapter.compose((c1, v1), (c2, v2))
    assert abs(u.mean() - 2.0 * s) <= 5 * np.sqrt(v / 10**6)
    assert abs(u.var() / v - 1.0) <= 5 * np.sqrt(2 / 10**6)
    assert abs(u.var() / (v1 + v2) - 1.0) > 20 * np.sqrt(2 / 10**6)  # the additive rule is off


# ---------------------------------------------------------------------------------------------
# composition errors (the exact check of Property 2)
# ---------------------------------------------------------------------------------------------


@HYP
@given(betas=betas_st(hi=0.999), method=st.sampled_from(["closed", "iterated"]))
def test_correct_composition_within_roundoff_bound(betas, method):
    errs = chapter.composition_errors(betas, method=method)
    T = betas.size
    assert errs.step.size == T * (T + 1) // 2
    assert np.all((errs.ell >= 1) & (errs.ell <= errs.step))
    # The a-priori bound of the docstring holds on every pair of every random schedule.
    assert errs.holds, (errs.max_ratio, method)


@HYP
@given(betas=betas_st(min_size=2, lo=1e-3, hi=0.999))
def test_wrong_compositions_exceed_bound(betas):
    for method in ("closed", "iterated"):
        # additive: at (i, ℓ) = (T, 1) the variance is off by (1 − ᾱ_{T−1})·β_T ≥ β_1 β_T ≥ 1e-6.
        assert not chapter.composition_errors(betas, method=method, rule="additive").holds
        # skip: at ℓ = 1 the mean factor is off by 1/√(1−β_i) − 1 ≥ β_i/2 ≥ 5e-4.
        skip = chapter.composition_errors(betas, method=method, rule="skip")
        assert skip.max_error >= betas.max() / 2 * (1 - 1e-9)


def test_homogeneous_reading_right_only_for_constant_schedule():
    betas = sch.constant_betas(0.05, 200)
    # Iterated: the same factors in the same order, so the same numbers as the correct rule.
    assert chapter.composition_errors(betas, method="iterated", rule="homogeneous").holds
    # Closed form: ln ᾱ_ℓ and ln ᾱ_i − ln ᾱ_{i−ℓ} are different cumulative sums, equal up to
    # their round-off 2·(T+2)·eps·(1+|ln ᾱ_T|) (test_forward), not up to the tighter bound.
    closed = chapter.composition_errors(betas, rule="homogeneous")
    assert closed.max_error <= 2 * 202 * EPS * (1 + 200 * abs(np.log1p(-0.05))) + 16 * EPS
    for betas in (sch.linear_betas(200), sch.cosine_betas(200)):
        for method in ("closed", "iterated"):
            wrong = chapter.composition_errors(betas, method=method, rule="homogeneous")
            assert not wrong.holds and wrong.max_error > 1e-3


def test_bounds_are_not_vacuous():
    # The bound is not so loose that it would hide a one-ulp-per-step drift: the iterated bound
    # at i = T is ~1e-12, the closed one ~1e-14; a relative perturbation 1e-10 of one β fails.
    betas = sch.linear_betas(300)
    errs = chapter.composition_errors(betas, method="iterated")
    assert errs.bound.max() < 1e-12 and errs.max_ratio > 1e-3
    perturbed = betas.copy()
    perturbed[150] *= 1 + 1e-6
    s_true, _ = fw.transition_coefficients(betas, 0, 300)
    s_pert, _ = fw.transition_coefficients(perturbed, 0, 300)
    assert abs(s_pert / s_true - 1) > errs.bound.max()


def test_per_step_matches_brute_force():
    errs = chapter.composition_errors(sch.cosine_betas(25), rule="additive")
    steps, err, bound = errs.per_step()
    np.testing.assert_array_equal(steps, np.arange(1, 26))
    for i in (1, 7, 25):
        assert err[i - 1] == errs.error[errs.step == i].max()
        assert bound[i - 1] == errs.bound[errs.step == i].max()


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        ({"method": "exact"}, ValueError, "method must be 'closed' or 'iterated'"),
        ({"rule": "wrong"}, ValueError, "rule must be one of"),
    ],
)
def test_composition_errors_bad_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        chapter.composition_errors(sch.linear_betas(5), **kwargs)


def test_composition_errors_refuses_underflowing_schedule():
    with pytest.raises(ValueError, match="underflows"):
        chapter.composition_errors(np.full(300, 0.999))


# ---------------------------------------------------------------------------------------------
# samplers of the two paths
# ---------------------------------------------------------------------------------------------

DATA = np.random.default_rng(5).uniform(-1, 1, (40, 6))


@pytest.mark.parametrize("rule", chapter.RULES)
@pytest.mark.parametrize("leg", ["iterate", "bridge"])
def test_two_path_samples_reproduced_by_hand(rule, leg):
    betas = sch.linear_betas(30)
    i, ell, n = 20, 7, 11
    x, y = chapter.two_path_samples(DATA, betas, i, ell, n, np.random.default_rng(9), rule=rule, leg=leg)
    rng = np.random.default_rng(9)
    direct = fw.sample_marginal(DATA[rng.integers(0, 40, n)], betas, i, rng)
    y0 = DATA[rng.integers(0, 40, n)]
    leg_betas = {"skip": betas[13:19], "homogeneous": betas[:7]}.get(rule, betas[13:20])
    if rule == "additive":
        s1, v1 = fw.transition_coefficients(betas, 0, 13)
        start, aside = s1 * y0, np.sqrt(v1) * rng.standard_normal(y0.shape)
    else:
        start, aside = fw.sample_marginal(y0, betas, 13, rng), 0.0
    if leg == "iterate":
        via = fw.iterate_forward(start, leg_betas, [leg_betas.size], rng)[0]
    else:
        via = fw.sample_marginal(start, leg_betas, leg_betas.size, rng)
    np.testing.assert_array_equal(x, direct)
    np.testing.assert_array_equal(y, via + aside)


def test_two_path_samples_float32_and_full_ell():
    betas = sch.cosine_betas(10)
    x, y = chapter.two_path_samples(DATA.astype(np.float32), betas, 10, 10, 5, np.random.default_rng(0))
    assert x.dtype == y.dtype == np.float32 and x.shape == y.shape == (5, 6)
    # ℓ = 1 with the one-step-short reading: the second leg is empty, u_{i-1} is returned.
    x, y = chapter.two_path_samples(DATA, betas, 4, 1, 5, np.random.default_rng(0), rule="skip")
    assert y.shape == (5, 6)


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        ({"step": 0}, ValueError, r"step must lie in \[1, 10\]"),
        ({"step": 11}, ValueError, r"step must lie in \[1, 10\]"),
        ({"ell": 6}, ValueError, r"ell must lie in \[1, 5\]"),
        ({"ell": 0}, ValueError, r"ell must lie in \[1, 5\]"),
        ({"ell": 2.0}, TypeError, "ell must be an integer"),
        ({"n": 1}, ValueError, "n must be at least 2"),
        ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
        ({"rule": "bad"}, ValueError, "rule must be one of"),
        ({"leg": "jump"}, ValueError, "leg must be one of \\('iterate', 'bridge'\\)"),
        ({"data": np.zeros(6)}, ValueError, "data must have shape \\(N, n\\)"),
        ({"data": np.full((3, 2), np.nan)}, ValueError, "data must be finite"),
    ],
)
def test_two_path_samples_bad_arguments(kwargs, exc, pattern):
    args = {"data": DATA, "betas": sch.linear_betas(10), "step": 5, "ell": 2, "n": 4,
            "rng": np.random.default_rng(0)}
    args.update(kwargs)
    rule = args.pop("rule", "correct")
    leg = args.pop("leg", "iterate")
    with pytest.raises(exc, match=pattern):
        chapter.two_path_samples(**args, rule=rule, leg=leg)


# ---------------------------------------------------------------------------------------------
# the two-sample test
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return ds.digits()


@pytest.fixture(scope="module")
def directions():
    return lst.random_directions(64, 8, np.random.default_rng(2023))


def test_size_at_most_alpha(digits, directions):
    # 300 experiments at α = 0.05 (n = 300 per sample, the ℓ-step leg iterated): under the null
    # the Bonferroni test rejects with probability ≤ 0.05, so the count is at most
    # Binomial(300, 0.05): mean 15, SD 3.8; the size claim fails only beyond 15 + 4 SD = 30.
    rate = chapter.rejection_rate(
        digits, sch.cosine_betas(), 60, 8, 300, np.random.default_rng(5),
        directions=directions, leg="iterate", alpha=0.05, reps=300,
    )
    assert rate.rejections <= 30


@pytest.mark.parametrize("rule", ["additive", "homogeneous"])
def test_power_against_wrong_composition(digits, directions, rule):
    # The notebook's stated alternative: linear schedule, i = 600, ℓ = 300, n = 2000, α = 1e-3.
    rate = chapter.rejection_rate(
        digits, sch.linear_betas(), 600, 300, 2000, np.random.default_rng(7),
        directions=directions, rule=rule, alpha=1e-3, reps=15,
    )
    assert rate.rejections == 15  # the check can fail, and does (median p ≤ 1e-8)


def test_rejection_rate_interval_is_clopper_pearson():
    rate = chapter.RejectionRate(20, 20, 1e-3, np.zeros(20))
    low, high = rate.interval()
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 20), rel=1e-9)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 1\)"):
        chapter.rejection_rate(np.zeros((3, 2)), [0.1], 1, 1, 2, np.random.default_rng(0),
                          directions=np.ones((2, 1)), alpha=1.5)


# ---------------------------------------------------------------------------------------------
# Gaussian scale-space
# ---------------------------------------------------------------------------------------------

IMAGE = np.random.default_rng(8).uniform(-1, 1, (37, 52))  # white noise: all frequencies


@pytest.mark.parametrize("s1, s2", [(0.4, 0.6), (0.5, 1.0), (1.0, 1.0), (1.0, 2.0), (2.0, 3.0)])
@pytest.mark.parametrize("truncate", [4.0, 8.0])
def test_gaussian_semigroup_error_below_bound(s1, s2, truncate):
    two, one = chapter.gaussian_semigroup(IMAGE, s1, s2, truncate=truncate)
    err = np.abs(two - one).max()
    bound = chapter.gaussian_semigroup_bound(IMAGE.shape, s1, s2, truncate=truncate)
    assert err <= bound * np.abs(IMAGE).max()


def test_gaussian_semigroup_bound_is_sharp_enough():
    # Small σ: the sampled Gaussian is visibly not a semigroup, and the bound is within a factor
    # 20 of the error on white noise; large σ with truncate=8: both at round-off.
    two, one = chapter.gaussian_semigroup(IMAGE, 0.5, 0.5)
    err = np.abs(two - one).max()
    bound = chapter.gaussian_semigroup_bound(IMAGE.shape, 0.5, 0.5)
    assert err > 1e-2 and bound < 20 * err
    two, one = chapter.gaussian_semigroup(IMAGE, 2.0, 3.0)
    assert np.abs(two - one).max() < 1e-14
    assert chapter.gaussian_semigroup_bound(IMAGE.shape, 2.0, 3.0) < 1e-13
    # scipy's default truncation at 4σ breaks the semigroup at a visible level.
    two, one = chapter.gaussian_semigroup(IMAGE, 2.0, 3.0, truncate=4.0)
    assert np.abs(two - one).max() > 1e-7


def test_gaussian_bound_follows_aliasing_rate():
    # Poisson summation: the sampled kernels alias at the rate exp(−2π²σ₁²σ₂²/(σ₁²+σ₂²)); the
    # ℓ1 bound follows it within a modest factor where it is above round-off.
    for s1, s2 in [(0.5, 0.5), (0.7, 0.7), (1.0, 1.0), (0.8, 1.5)]:
        rate = np.exp(-2 * np.pi**2 * s1**2 * s2**2 / (s1**2 + s2**2))
        bound = chapter.gaussian_semigroup_bound((64, 64), s1, s2)
        assert 0.1 * rate < bound < 10 * rate, (s1, s2, bound, rate)


def test_gaussian_smooth_periodic_is_an_exact_semigroup_with_flat_limit():
    a = chapter.gaussian_smooth_periodic(chapter.gaussian_smooth_periodic(IMAGE, 1.0), 2.0)
    b = chapter.gaussian_smooth_periodic(IMAGE, np.sqrt(5.0))
    np.testing.assert_allclose(a, b, atol=1e-14)
    flat = chapter.gaussian_smooth_periodic(IMAGE, 500.0)
    np.testing.assert_allclose(flat, IMAGE.mean(), atol=1e-12)


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda: chapter.gaussian_semigroup(IMAGE, 0.0, 1.0), ValueError, "sigma1 must be a positive"),
        (lambda: chapter.gaussian_semigroup(IMAGE, 1.0, "a"), TypeError, "sigma2 must be a positive"),
        (lambda: chapter.gaussian_semigroup_bound((5,), 1.0, 1.0), ValueError, "shape must be"),
        (lambda: chapter.gaussian_semigroup_bound((5, 5), 1.0, 1.0, truncate=-1.0), ValueError,
         "truncate must be a positive"),
    ],
)
def test_gaussian_bad_arguments(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_gaussian_semigroup_errors_table():
    pairs = [(0.5, 0.5), (2.0, 3.0)]
    out = chapter.gaussian_semigroup_errors(IMAGE, pairs)
    assert set(out) == {"measured", "bound", "short", "aliasing"}
    assert all(v.shape == (2,) for v in out.values())
    assert np.all(out["measured"] <= out["bound"])
    two, one = chapter.gaussian_semigroup(IMAGE, 0.5, 0.5)
    assert out["measured"][0] == np.abs(two - one).max()
    assert out["short"][1] > 1e-7 > out["measured"][1]  # truncation at 4σ is visible


def test_two_path_experiments_structure_and_reproducibility(digits, directions):
    betas = {"linear": sch.linear_betas(50), "cosine": sch.cosine_betas(50)}
    pairs = [(10, 3), (50, 50)]
    out = chapter.two_path_experiments(digits, betas, pairs, 100, np.random.default_rng(3),
                                  directions=directions)
    assert list(out) == ["linear", "cosine"] and list(out["cosine"]) == pairs
    rng = np.random.default_rng(3)
    x, y = chapter.two_path_samples(digits, betas["linear"], 10, 3, 100, rng)
    direct_norm, via_norm, p = out["linear"][(10, 3)]
    np.testing.assert_array_equal(direct_norm, np.linalg.norm(x, axis=1))
    np.testing.assert_array_equal(via_norm, np.linalg.norm(y, axis=1))
    assert p == lst.projection_ks_test(x, y, directions, norm=True).pvalue


# ---------------------------------------------------------------------------------------------
# tables, figures and explorer
# ---------------------------------------------------------------------------------------------


def test_composition_errors_figure(readable):
    betas = [sch.linear_betas(40), sch.cosine_betas(40)]
    closed = [chapter.composition_errors(b, method="closed") for b in betas]
    iterated = [chapter.composition_errors(b, method="iterated") for b in betas]
    fig = readable(chapter.composition_errors_figure(closed, iterated, ["linear", "cosine"]))
    assert len(fig.axes) == 2 and all(len(ax.lines) == 4 for ax in fig.axes)  # error + bound each
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    with pytest.raises(ValueError, match="length"):
        chapter.composition_errors_figure(closed, iterated[:1], ["linear", "cosine"])


def test_two_path_figure(readable):
    rng = np.random.default_rng(0)
    cells = {(10, 5): (rng.normal(size=50), rng.normal(size=50), 0.5),
             (30, 20): (rng.normal(size=50), rng.normal(size=50), 0.01)}
    fig = readable(chapter.two_path_figure([cells, dict(list(cells.items())[:1])], ["linear", "cosine"]))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and visible[0].get_ylabel() == "linear"
    assert visible[1].get_title() == r"$i = 30$, $\ell = 20$: $p$ = 0.01"


def test_gaussian_semigroup_figure(readable):
    img = np.zeros((8, 12))
    fig = readable(chapter.gaussian_semigroup_figure(img, img, img, (1.0, 2.0), ["0.5, 1", "1, 2"],
                                                     [[1e-3, 1e-5], [1e-2, 1e-4]], ["measured", "bound"]))
    assert len(fig.axes) == 4 and fig.axes[3].get_yscale() == "log"
    assert [t.get_text() for t in fig.axes[3].get_legend().get_texts()] == ["measured", "bound"]


def test_tables():
    html = chapter.composition_table([[1e-3, 2e-3], [3e-3, 4e-3]], ["additive", "skip"], ["linear", "cosine"])
    assert html.count("<tr>") == 3 and "4.00e-03" in html
    with pytest.raises(ValueError, match="shape"):
        chapter.composition_table([[1e-3]], ["a", "b"], ["c"])
    rate = SimpleNamespace(rejections=2, reps=2, alpha=1e-3, pvalues=np.array([0.0, 1e-5]),
                           interval=lambda: (0.16, 1.0))  # the fields of a RejectionRate
    html = chapter.rejection_table([rate], ["variances added"])
    assert ">2 / 2</td>" in html and "[0.16, 1.00]" in html and "α = 0.001" in html


def test_explorer_recomputes_on_every_control():
    data = ds.digits()[:200]
    betas = [sch.linear_betas(100), sch.cosine_betas(100)]
    directions = lst.random_directions(64, 4, np.random.default_rng(0))
    explorer = chapter.semigroup_explorer(data, betas, ["linear", "cosine"], directions, n=300, seed=1)
    first = explorer.result
    explorer.controls["i"].value = 80
    second = explorer.result
    explorer.controls["schedule"].value = 1
    third = explorer.result
    assert 0.0 <= first.pvalue <= 1.0
    # each control redraws: new samples give new KS statistics
    assert not np.array_equal(first.statistics, second.statistics)
    assert not np.array_equal(second.statistics, third.statistics)
    assert all(c.layout.width == "100%" for c in explorer.controls.values())


# ---------------------------------------------------------------------------------------------
# the verdicts
# ---------------------------------------------------------------------------------------------


def test_verdicts_point_at_sections_of_the_notebook(notebook):
    assert_verdicts_point_at_sections(notebook("semigroup"), chapter.VERDICTS)


def test_verdicts_are_what_the_checks_establish():
    """The notebook's asserts, on the three schedules of the book: Property 1 exactly, Property 2
    on every pair (i, ℓ) within the round-off bound, and Eq. (8) as printed (one step short) far
    outside it while the corrected product holds."""
    schedules = sch.reference_schedules()
    rng = np.random.default_rng(0)
    data = ds.digits()[:50]
    property1 = all(fw.transition_coefficients(b, 0, 0) == (1.0, 0.0)
                    and np.array_equal(fw.sample_marginal(data, b, 0, rng), data) for b in schedules.values())
    exact = [chapter.composition_errors(b, method=m) for b in schedules.values() for m in ("closed", "iterated")]
    skip = [chapter.composition_errors(b, rule="skip") for b in schedules.values()]
    holds = all(e.holds for e in exact)
    computed = {
        "Property 1": "holds" if property1 else "fails",
        "Property 2": "holds" if holds else "fails",
        "Eq. (8)": "holds with correction" if holds and not any(e.holds for e in skip) else "holds",
    }
    assert {x.claim: x.verdict for x in chapter.VERDICTS} == computed
