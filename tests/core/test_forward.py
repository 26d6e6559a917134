"""Tests of :mod:`lib.core.forward` (moved from test_forward.py, test_steady_state.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest

from lib.core import forward as fw
from lib.core import gaussian as gs
from lib.core import schedules as sch

from _shared import EPS, HYP, Z_MAX, assert_standard_normal, betas_st, seeds


EPS32 = float(np.finfo(np.float32).eps)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5)


betas_01 = st.floats(1e-6, 1 - 1e-6)


@st.composite
def state_st(draw, dtype=None):
    """A small array u of float64, float32 or integer dtype with moderate values."""
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.int32])) if dtype is None else dtype
    shape = draw(shapes)
    if np.dtype(dtype).kind == "f":
        elements = st.floats(-100, 100, width=np.dtype(dtype).itemsize * 8)
    else:
        elements = st.integers(-100, 100)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def work_dtype(dtype) -> np.dtype:
    return np.dtype(np.float32) if np.dtype(dtype) == np.float32 else np.dtype(np.float64)


def manual_step(u, beta, noise):
    """Eq. (4) in the working precision of ``noise``: √(1−β)·u + √β·G."""
    t = noise.dtype.type
    return t(np.sqrt(1.0 - beta)) * u.astype(noise.dtype) + t(np.sqrt(beta)) * noise


def same_state(a: np.random.Generator, b: np.random.Generator) -> bool:
    return a.bit_generator.state == b.bit_generator.state


def log_ab_abs_bound(betas: np.ndarray) -> float:
    """Absolute round-off bound of any ln ᾱ_i or difference of two: 2·(T+2)·eps·(1+|L_T|).

    A same-sign cumulative sum of T correctly rounded terms has absolute error ≤ (1+T/2)·eps·|L_T|
    (see test_schedules); a difference of two such sums at most doubles it.
    """
    L_T = float(np.sum(np.log1p(-betas)))
    return 2.0 * (betas.size + 2) * EPS * (1.0 + abs(L_T))


BETAS5 = sch.constant_betas(0.1, 5)


def call_all(u0=np.zeros(3), betas=BETAS5, steps=(1, 3), step=2, beta=0.1):
    """The four samplers with the given arguments, each with a fresh Generator."""
    make = lambda: np.random.default_rng(0)  # noqa: E731
    return {
        "forward_step": lambda: fw.forward_step(u0, beta, rng=make()),
        "iterate_forward": lambda: fw.iterate_forward(u0, betas, steps=steps, rng=make()),
        "sample_marginal": lambda: fw.sample_marginal(u0, betas, step, rng=make()),
        "sample_trajectory": lambda: fw.sample_trajectory(u0, betas, steps=steps, rng=make()),
    }


def u_name(func: str) -> str:
    return "u" if func == "forward_step" else "u0"


FUNCS = ["forward_step", "iterate_forward", "sample_marginal", "sample_trajectory"]


BAD_STEP = [(6, ValueError, r"must lie in \[0, 5\]"), (-1, ValueError, "must lie in"), (1.5, TypeError, "must hold integers")]


@HYP
@given(u=state_st(), beta=betas_01, seed=seeds)
def test_forward_step_is_eq4_with_same_noise(u, beta, seed):
    u_before = u.copy()
    rng, rng2 = np.random.default_rng(seed), np.random.default_rng(seed)
    out = fw.forward_step(u, beta, rng=rng)
    dt = work_dtype(u.dtype)
    # float32 stays float32; integers become float64.
    assert out.dtype == dt
    assert out.shape == u.shape
    noise = np.asarray(rng2.standard_normal(u.shape, dtype=dt))
    # Exact in either precision: same noise, same correctly rounded operations.
    np.testing.assert_array_equal(out, manual_step(u, beta, noise))
    # Exactly u.size normals were consumed.
    assert same_state(rng, rng2)
    # The input is not modified.
    np.testing.assert_array_equal(u, u_before)
    assert out is not u


@HYP
@given(u=state_st(dtype=np.float32), beta=betas_01, seed=seeds)
def test_forward_step_float32_close_to_float64_formula(u, beta, seed):
    out = fw.forward_step(u, beta, rng=np.random.default_rng(seed))
    noise = np.random.default_rng(seed).standard_normal(u.shape, dtype=np.float32)
    ref = np.sqrt(1.0 - beta) * u.astype(np.float64) + np.sqrt(beta) * noise.astype(np.float64)
    # float32 round-off: two coefficient roundings, two products and one sum, each ≤ eps32/2
    # relative to the magnitude of its operands → ≤ 3·eps32·(|√(1−β)u| + |√β G|).
    bound = 3 * EPS32 * (np.sqrt(1.0 - beta) * np.abs(u) + np.sqrt(beta) * np.abs(noise))
    assert np.all(np.abs(out - ref) <= bound)


def test_forward_step_float16_integer_and_bool_inputs():
    rng = np.random.default_rng(1)
    assert fw.forward_step(np.ones(3, np.float16), 0.1, rng=rng).dtype == np.float32
    assert fw.forward_step([1, 2, 3], 0.1, rng=rng).dtype == np.float64
    # a boolean array is a mask passed by mistake, not grey values (issue 12): refused by name
    with pytest.raises(TypeError, match="u must hold real numbers"):
        fw.forward_step(np.array([True, False]), 0.1, rng=rng)


@HYP
@given(u=state_st(), beta=betas_01, seed=seeds)
def test_forward_step_reproducible_from_seed(u, beta, seed):
    a = fw.forward_step(u, beta, rng=np.random.default_rng(seed))
    b = fw.forward_step(u, beta, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(a, b)


def test_forward_step_different_seeds_differ():
    u = np.zeros(100)
    a = fw.forward_step(u, 0.5, rng=np.random.default_rng(0))
    b = fw.forward_step(u, 0.5, rng=np.random.default_rng(1))
    assert not np.any(a == b)


@HYP
@given(u0=state_st(), betas=betas_st(max_size=12), seed=seeds)
def test_iterate_forward_equals_repeated_forward_step(u0, betas, seed):
    u_before = u0.copy()
    traj = fw.iterate_forward(u0, betas, steps=None, rng=np.random.default_rng(seed))
    dt = work_dtype(u0.dtype)
    assert traj.dtype == dt
    assert traj.shape == (betas.size + 1,) + u0.shape
    np.testing.assert_array_equal(u0, u_before)
    # Step 0 snapshot is u0 itself.
    np.testing.assert_array_equal(traj[0], u0.astype(dt))
    # Iterating Eq. (4) by hand with the same generator gives the same trajectory bit for bit.
    rng2 = np.random.default_rng(seed)
    u = u0
    for i, beta in enumerate(betas, start=1):
        u = fw.forward_step(u, float(beta), rng=rng2)
        np.testing.assert_array_equal(traj[i], u)


@HYP
@given(
    u0=state_st(),
    betas=betas_st(max_size=15),
    seed=seeds,
    data=st.data(),
)
def test_iterate_forward_subset_is_slice_of_full_trajectory(u0, betas, seed, data):
    T = betas.size
    steps = sorted(data.draw(st.sets(st.integers(0, T), min_size=1, max_size=T + 1)))
    full = fw.iterate_forward(u0, betas, steps=None, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    sub = fw.iterate_forward(u0, betas, steps=steps, rng=rng)
    assert sub.shape == (len(steps),) + u0.shape
    # Identical: the subset run draws the same noise for steps 1..max(steps).
    np.testing.assert_array_equal(sub, full[steps])
    # It consumes exactly max(steps) arrays of u0.size normals.
    rng2 = np.random.default_rng(seed)
    for _ in range(max(steps)):
        rng2.standard_normal(u0.shape, dtype=work_dtype(u0.dtype))
    assert same_state(rng, rng2)


def test_iterate_forward_accepts_float_steps_that_are_integers():
    betas = sch.constant_betas(0.1, 5)
    a = fw.iterate_forward(np.ones(3), betas, steps=[1.0, 3.0], rng=np.random.default_rng(2))
    b = fw.iterate_forward(np.ones(3), betas, steps=[1, 3], rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)


@HYP
@given(betas=betas_st(max_size=30), data=st.data())
def test_transition_coefficients_semigroup(betas, data):
    T = betas.size
    a, b, c = sorted(data.draw(st.lists(st.integers(0, T), min_size=3, max_size=3)))
    s_ab, v_ab = fw.transition_coefficients(betas, a, b)
    s_bc, v_bc = fw.transition_coefficients(betas, b, c)
    s_ac, v_ac = fw.transition_coefficients(betas, a, c)
    for s, v in [(s_ab, v_ab), (s_bc, v_bc), (s_ac, v_ac)]:
        assert isinstance(s, float) and isinstance(v, float)
        assert 0 < s <= 1 and 0 <= v < 1
        # Scale and variance of a variance-preserving step: s² + v = 1 (round-off: few eps).
        assert abs(s * s + v - 1.0) <= 8 * EPS
    # Chapman–Kolmogorov for Gaussian transitions: composing a→b→c gives a→c.
    # An absolute error δ in a log-ratio gives relative error δ/2 (scale) and absolute error ≤ δ
    # (variance); δ ≤ log_ab_abs_bound, plus a few eps for exp/expm1/products.
    tol = log_ab_abs_bound(betas) + 8 * EPS
    assert abs(s_ab * s_bc - s_ac) <= tol * s_ac
    assert abs(s_bc**2 * v_ab + v_bc - v_ac) <= tol


@HYP
@given(betas=betas_st(max_size=30), data=st.data())
def test_marginal_coefficients_are_eq5(betas, data):
    i = data.draw(st.integers(0, betas.size))
    scale, var = fw.marginal_coefficients(betas, i)
    ab = np.concatenate(([1.0], np.cumprod(1.0 - betas)))[i]
    # ᾱ_i from cumprod and from the log-sum agree to (i+2)·eps·(1+|L_i|) relative (test_schedules);
    # bound taken over the whole schedule, times 2.
    tol = log_ab_abs_bound(betas)
    assert abs(scale / np.sqrt(ab) - 1.0) <= tol
    assert abs(var - (1.0 - ab)) <= tol * ab + 2 * EPS
    assert (scale, var) == fw.transition_coefficients(betas, 0, i)


@HYP
@given(betas=betas_st(max_size=30), data=st.data())
def test_one_step_transition_is_eq3(betas, data):
    i = data.draw(st.integers(1, betas.size))
    scale, var = fw.transition_coefficients(betas, i - 1, i)
    beta = betas[i - 1]
    # Eq. (3): mean factor √(1−β_i), variance β_i. The log-difference carries absolute error
    # ≤ log_ab_abs_bound, so the relative error of β_i is at most that bound over β_i.
    tol = log_ab_abs_bound(betas)
    assert abs(var - beta) <= tol + 2 * EPS * beta
    assert abs(scale - np.sqrt(1.0 - beta)) <= tol


def test_transition_identity():
    betas = sch.linear_betas(50)
    for a in [0, 7, 50]:
        scale, var = fw.transition_coefficients(betas, a, a)
        assert scale == 1.0 and var == 0.0


def test_transition_variance_relative_accuracy_tiny_betas():
    T, beta = 1000, 1e-12
    betas = np.full(T, beta)
    # Neighbouring steps: variance β to relative accuracy ≈ 2·i·eps (cumsum round-off of
    # |L_i| ≈ i·β relative to the increment β); 1 − ᾱ_i/ᾱ_{i−1} formed directly would carry an
    # absolute error ≈ eps, i.e. relative 2e-4.
    for i in [1, 10, 500, 1000]:
        _, var = fw.transition_coefficients(betas, i - 1, i)
        assert abs(var / beta - 1.0) <= 4 * (i + 2) * EPS
    # Marginal: 1 − ᾱ_i = i·β·(1 − O(iβ)) to relative accuracy (i+2)·eps.
    for i in [1, 10, 1000]:
        _, var = fw.marginal_coefficients(betas, i)
        exact = -np.expm1(i * np.log1p(-beta))
        assert abs(var / exact - 1.0) <= 4 * (i + 2) * EPS


@HYP
@given(u0=state_st(), betas=betas_st(max_size=30), seed=seeds, data=st.data())
def test_sample_marginal_is_eq5_with_same_noise(u0, betas, seed, data):
    step = data.draw(st.integers(0, betas.size))
    u_before = u0.copy()
    rng, rng2 = np.random.default_rng(seed), np.random.default_rng(seed)
    out = fw.sample_marginal(u0, betas, step, rng=rng)
    dt = work_dtype(u0.dtype)
    assert out.dtype == dt and out.shape == u0.shape
    np.testing.assert_array_equal(u0, u_before)
    scale, var = fw.marginal_coefficients(betas, step)
    if step == 0:
        # No noise at step 0, and no draw.
        np.testing.assert_array_equal(out, u0.astype(dt))
    else:
        noise = np.asarray(rng2.standard_normal(u0.shape, dtype=dt))
        t = dt.type
        np.testing.assert_array_equal(out, t(scale) * u0.astype(dt) + t(np.sqrt(var)) * noise)
    assert same_state(rng, rng2)


@HYP
@given(u0=state_st(), betas=betas_st(max_size=20), seed=seeds, data=st.data())
def test_sample_trajectory_is_bridge_with_same_noise(u0, betas, seed, data):
    T = betas.size
    steps = sorted(data.draw(st.sets(st.integers(0, T), min_size=1, max_size=T + 1)))
    u_before = u0.copy()
    rng, rng2 = np.random.default_rng(seed), np.random.default_rng(seed)
    traj = fw.sample_trajectory(u0, betas, steps=steps, rng=rng)
    dt = work_dtype(u0.dtype)
    assert traj.dtype == dt and traj.shape == (len(steps),) + u0.shape
    np.testing.assert_array_equal(u0, u_before)
    # By hand: u_{s'} = √(ᾱ_{s'}/ᾱ_s)·u_s + √(1 − ᾱ_{s'}/ᾱ_s)·g with one draw per step s' > s.
    t = dt.type
    u, prev = u0.astype(dt), 0
    for k, s in enumerate(steps):
        if s > prev:
            scale, var = fw.transition_coefficients(betas, prev, s)
            noise = np.asarray(rng2.standard_normal(u0.shape, dtype=dt))
            u = t(scale) * u + t(np.sqrt(var)) * noise
        np.testing.assert_array_equal(traj[k], u)
        prev = s
    # Exactly len([s for s in steps if s > 0]) draws of u0.size normals: the states agree.
    assert same_state(rng, rng2)


def test_sample_trajectory_draw_count_explicit():
    u0 = np.zeros((4, 3))
    betas = sch.linear_betas(100)
    for steps in ([0], [0, 100], [3, 50, 100], [0, 1, 2, 3, 4]):
        rng, rng2 = np.random.default_rng(5), np.random.default_rng(5)
        fw.sample_trajectory(u0, betas, steps=steps, rng=rng)
        n_draws = len([s for s in steps if s > 0])
        rng2.standard_normal(n_draws * u0.size)
        assert same_state(rng, rng2)
        # …and not one more.
        rng2.standard_normal()
        assert not same_state(rng, rng2)


def test_steady_state_after_many_steps():
    # Property: u_T → N(0, I) whatever u_0 (Eq. 22). With the linear schedule ᾱ_1000 ≈ 4e-5,
    # so starting from u0 = ±1 the mean is ≈ √ᾱ·u0 ≈ 6e-3 — below the 5-SE band 5/√n = 0.05
    # for n = 10⁴, and the variance 1 − ᾱ is within 4e-5 of 1 (SE √(2/n) ≈ 0.014).
    u0 = np.ones(10_000)
    z = fw.sample_marginal(u0, sch.linear_betas(1000), 1000, rng=np.random.default_rng(7))
    assert_standard_normal(z)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_state(func, bad):
    with pytest.raises(ValueError, match=f"^{u_name(func)} must be finite"):
        call_all(u0=np.array([0.0, bad]))[func]()


@pytest.mark.parametrize("func", FUNCS)
def test_empty_state(func):
    with pytest.raises(ValueError, match=f"^{u_name(func)} must not be empty"):
        call_all(u0=np.zeros((0, 3)))[func]()


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("bad", [np.array([1 + 1j]), np.array(["a"]), np.array([None], dtype=object)])
def test_non_real_state(func, bad):
    with pytest.raises(TypeError, match=f"^{u_name(func)} must hold real numbers"):
        call_all(u0=bad)[func]()


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("rng", [0, np.random.RandomState(0), None, np.random.PCG64(0)])
def test_rng_must_be_generator(func, rng):
    call = {
        "forward_step": lambda: fw.forward_step(np.zeros(3), 0.1, rng=rng),
        "iterate_forward": lambda: fw.iterate_forward(np.zeros(3), BETAS5, steps=None, rng=rng),
        "sample_marginal": lambda: fw.sample_marginal(np.zeros(3), BETAS5, 2, rng=rng),
        "sample_trajectory": lambda: fw.sample_trajectory(np.zeros(3), BETAS5, steps=[1], rng=rng),
    }[func]
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        call()


@pytest.mark.parametrize("func", ["iterate_forward", "sample_trajectory"])
@pytest.mark.parametrize(
    "steps, exc, pattern",
    [
        ([3, 2], ValueError, "steps must be strictly increasing"),
        ([1, 1], ValueError, "steps must be strictly increasing"),
        ([-1, 2], ValueError, r"steps must lie in \[0, 5\]"),
        ([2, 6], ValueError, r"steps must lie in \[0, 5\]"),
        ([1.5], TypeError, "steps must hold integers"),
        ([True, False], TypeError, "steps must hold integers"),
        (["1"], TypeError, "steps must hold integers"),
        ([np.nan], TypeError, "steps must hold integers"),
        ([], ValueError, "steps must be a non-empty 1-D sequence"),
        ([[1, 2]], ValueError, "steps must be a non-empty 1-D sequence"),
    ],
)
def test_bad_steps(func, steps, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call_all(steps=steps)[func]()


@pytest.mark.parametrize("step, exc, pattern", BAD_STEP)
def test_sample_marginal_bad_step(step, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call_all(step=step)["sample_marginal"]()
    with pytest.raises(exc, match=pattern):
        fw.marginal_coefficients(BETAS5, step)


@pytest.mark.parametrize("step, exc, pattern", BAD_STEP)
def test_sample_marginal_bad_step_message_names_step(step, exc, pattern):
    with pytest.raises(exc, match="^step " + pattern):
        call_all(step=step)["sample_marginal"]()


@pytest.mark.parametrize("beta", [0.0, 1.0, -0.5, 2.0, np.nan])
def test_forward_step_bad_beta(beta):
    with pytest.raises(ValueError, match=r"beta must lie in the open interval \(0, 1\)"):
        call_all(beta=beta)["forward_step"]()


@pytest.mark.parametrize("func", ["iterate_forward", "sample_marginal", "sample_trajectory"])
@pytest.mark.parametrize("betas", [[0.1, 0.0], [0.1, 1.0], [0.5, -0.1, 0.2, 0.3, 0.1]])
def test_bad_betas(func, betas):
    with pytest.raises(ValueError, match=r"every entry of betas must lie in the open interval \(0, 1\)"):
        call_all(betas=np.array(betas), steps=[1], step=1)[func]()


@pytest.mark.parametrize(
    "start, stop, exc, pattern",
    [
        (3, 2, ValueError, "stop must not precede start"),
        (-1, 2, ValueError, r"start must lie in \[0, 5\]"),
        (0, 6, ValueError, r"stop must lie in \[0, 5\]"),
        (0.5, 2, TypeError, "start must hold integers"),
        (0, 2.5, TypeError, "stop must hold integers"),
    ],
)
def test_transition_coefficients_bad_steps(start, stop, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fw.transition_coefficients(BETAS5, start, stop)


def test_gaussian_marginal_moments_match_the_forward_process():
    # Sample U_0 ~ N(m, Σ), push it through Eq. (5) with lib.core.forward, compare moments within
    # Z_MAX standard errors (mean SE: sqrt(var/N); covariance entries: sqrt((S_jj S_kk + S_jk²)/N)).
    rng = np.random.default_rng(11)
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 0.5]])
    betas = sch.linear_betas(100)
    step = 50
    u0 = rng.multivariate_normal(mean, cov, size=200_000)
    ui = fw.sample_marginal(u0, betas, step, rng)
    a = sch.alpha_bar(betas)[step]
    mu, s = gs.gaussian_marginal_moments(mean, cov, a)
    n = ui.shape[0]
    assert np.all(np.abs(ui.mean(0) - mu) <= Z_MAX * np.sqrt(np.diag(s) / n))
    se_cov = np.sqrt((np.outer(np.diag(s), np.diag(s)) + s**2) / n)
    assert np.all(np.abs(np.cov(ui.T) - s) <= Z_MAX * se_cov)
    # The wrong scaling ᾱ·m (instead of √ᾱ·m) is rejected.
    assert np.any(np.abs(ui.mean(0) - a * mean) > Z_MAX * np.sqrt(np.diag(s) / n))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_caller_noise_reproduces_the_chain_bit_for_bit(dtype):
    """iterate_forward(noise=...), forward_step(noise=...) and add_noise use the noise the
    rng would draw and give identical bits (the permutation chapter relies on it)."""
    u0 = np.random.default_rng(0).standard_normal((5, 4)).astype(dtype)
    betas = sch.linear_betas(30, 1e-3, 0.2)
    ref = fw.iterate_forward(u0, betas, [0, 7, 30], np.random.default_rng(1))
    twin = np.random.default_rng(1)
    stack = np.stack([twin.standard_normal(u0.shape, dtype=dtype) for _ in range(30)])
    np.testing.assert_array_equal(fw.iterate_forward(u0, betas, [0, 7, 30], noise=stack), ref)
    twin = np.random.default_rng(1)
    got = fw.iterate_forward(u0, betas, [0, 7, 30],
                             noise=lambda i: twin.standard_normal(u0.shape, dtype=dtype))
    np.testing.assert_array_equal(got, ref)
    g = np.random.default_rng(2).standard_normal(u0.shape, dtype=dtype)
    np.testing.assert_array_equal(fw.forward_step(u0, 0.1, noise=g),
                                  fw.forward_step(u0, 0.1, np.random.default_rng(2)))
    np.testing.assert_array_equal(fw.add_noise(u0, g, betas, 12),
                                  fw.sample_marginal(u0, betas, 12, np.random.default_rng(2)))


def test_add_noise_is_eq5_and_checks_its_noise():
    betas = sch.constant_betas(0.02, 100)
    u0, g = np.full(3, 0.5), np.array([1.0, -1.0, 0.0])
    scale, var = fw.transition_coefficients(betas, 0, 40)
    np.testing.assert_allclose(fw.add_noise(u0, g, betas, 40), scale * u0 + np.sqrt(var) * g,
                               rtol=1e-15)
    np.testing.assert_array_equal(fw.add_noise(u0, g, betas, 0), u0)  # step 0: the data
    with pytest.raises(ValueError, match="noise must have the shape of u"):
        fw.add_noise(u0, np.zeros(2), betas, 1)
    with pytest.raises(ValueError, match="noise must be finite"):
        fw.add_noise(u0, [0.0, np.nan, 0.0], betas, 1)
    with pytest.raises(TypeError, match="Generator"):
        fw.forward_step(u0, 0.1)  # neither rng nor noise
