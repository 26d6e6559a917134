"""Tests of :mod:`lib.permutation`: paper Property 4, Proposition 3 and Eq. (21).

Three kinds of checks:

* the permutations themselves: constructors agree with numpy's ``roll``/``rot90``/``flip``,
  group laws (inverse, composition) hold exactly, bad input is rejected;
* Proposition 3 bit for bit: the trajectory from P(f) with noise g_i, computed by
  :func:`lib.forward.iterate_forward`, equals P applied to the trajectory from f with noise
  P⁻¹(g_i), with ``np.array_equal`` — exact, because permuting only moves values and Eq. (4)
  is evaluated elementwise; a wrong coupling is rejected;
* laws and the classical reference: P⁻¹ of a trajectory from P(f) has the law of the process
  from f (a statistical test with stated level), Gaussian smoothing commutes with translations,
  rotations and flips up to a round-off bound but not with a shuffle, and spatially correlated
  noise breaks the invariance in law.
"""

from __future__ import annotations



import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst

import lib
from lib import forward as fw
from lib import permutation as pm
from lib import schedules as sch
from lib import stats as lst

HYP = settings(max_examples=40, deadline=None, database=None)
seeds = st.integers(0, 2**32 - 1)
sides = st.integers(1, 6)
grid_shapes = st.tuples(sides, sides)
channels = st.sampled_from([None, 1, 3])
dtypes = st.sampled_from([np.float32, np.float64])


@st.composite
def perm_st(draw, shape):
    """A permutation of the given grid: shuffle, translation, rotation, flip or a composition."""
    kind = draw(st.sampled_from(["shuffle", "translation", "rotation", "flip", "composed"]))
    if kind == "shuffle":
        return pm.random_permutation(shape, np.random.default_rng(draw(seeds)))
    if kind == "translation":
        return pm.translation(shape, (draw(st.integers(-9, 9)), draw(st.integers(-9, 9))))
    if kind == "rotation":
        return pm.rotation90(shape, draw(st.integers(-5, 5)))
    if kind == "flip":
        return pm.flip(shape, draw(st.sampled_from([0, 1])))
    q = pm.rotation90(shape, draw(st.integers(0, 3)))
    return pm.compose(pm.random_permutation(q.out_shape, np.random.default_rng(draw(seeds))), q)


@st.composite
def schedule_st(draw):
    name = draw(st.sampled_from(["constant", "linear", "cosine"]))
    T = draw(st.integers(1, 12))
    if name == "constant":
        return sch.constant_betas(draw(st.floats(1e-4, 0.9)), T)
    if name == "linear":
        return sch.linear_betas(T, beta_start=1e-4, beta_end=draw(st.floats(1e-3, 0.5)))
    return sch.cosine_betas(T)


def image_for(shape, c, rng, dtype=np.float64):
    full = shape if c is None else shape + (c,)
    return rng.uniform(-1, 1, size=full).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Permutations of the grid
# ---------------------------------------------------------------------------------------------


@HYP
@given(shape=grid_shapes, c=channels, dy=st.integers(-20, 20), dx=st.integers(-20, 20), seed=seeds)
def test_translation_is_np_roll(shape, c, dy, dx, seed):
    f = image_for(shape, c, np.random.default_rng(seed))
    P = pm.translation(shape, (dy, dx))
    np.testing.assert_array_equal(pm.apply(P, f), np.roll(f, (dy, dx), axis=(0, 1)))
    assert P.out_shape == shape


@HYP
@given(shape=grid_shapes, c=channels, k=st.integers(-6, 6), seed=seeds)
def test_rotation_is_np_rot90_including_non_square(shape, c, k, seed):
    f = image_for(shape, c, np.random.default_rng(seed))
    P = pm.rotation90(shape, k)
    out = pm.apply(P, f)
    np.testing.assert_array_equal(out, np.rot90(f, k))
    # An odd number of quarter turns maps the H × W grid to the W × H grid.
    assert P.out_shape == (shape[::-1] if k % 2 else shape)
    assert out.shape[:2] == P.out_shape


@HYP
@given(shape=grid_shapes, c=channels, axis=st.sampled_from([0, 1]), seed=seeds)
def test_flip_is_np_flip(shape, c, axis, seed):
    f = image_for(shape, c, np.random.default_rng(seed))
    np.testing.assert_array_equal(pm.apply(pm.flip(shape, axis), f), np.flip(f, axis))


def test_colour_channels_move_together():
    f = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    P = pm.random_permutation((2, 3), np.random.default_rng(0))
    out = pm.apply(P, f)
    for r in range(2):
        for c in range(3):
            y, x = divmod(int(P.index[r, c]), 3)
            np.testing.assert_array_equal(out[r, c], f[y, x])  # the whole colour vector moves


@HYP
@given(shape=grid_shapes, c=channels, seed=seeds, data=st.data())
def test_apply_moves_values_only(shape, c, seed, data):
    P = data.draw(perm_st(shape))
    for dtype in (np.float32, np.float64, np.int64):
        f = image_for(shape, c, np.random.default_rng(seed)).astype(dtype)
        out = pm.apply(P, f)
        assert out.dtype == f.dtype
        # The same multiset of pixel values (per channel): nothing is computed.
        a = np.sort(f.reshape(f.shape[0] * f.shape[1], -1), axis=0)
        b = np.sort(out.reshape(out.shape[0] * out.shape[1], -1), axis=0)
        np.testing.assert_array_equal(a, b)


@HYP
@given(shape=grid_shapes, c=channels, seed=seeds, data=st.data())
def test_group_laws(shape, c, seed, data):
    P = data.draw(perm_st(shape))
    f = image_for(shape, c, np.random.default_rng(seed))
    Pinv = pm.inverse(P)
    assert Pinv.in_shape == P.out_shape and Pinv.out_shape == P.in_shape
    np.testing.assert_array_equal(pm.apply_inverse(P, pm.apply(P, f)), f)
    np.testing.assert_array_equal(pm.apply(P, pm.apply_inverse(P, pm.apply(P, f))), pm.apply(P, f))
    assert pm.compose(Pinv, P).is_identity() and pm.compose(P, Pinv).is_identity()
    Q = data.draw(perm_st(P.out_shape))
    R = data.draw(perm_st(Q.out_shape))
    np.testing.assert_array_equal(pm.apply(pm.compose(Q, P), f), pm.apply(Q, pm.apply(P, f)))
    # Associativity and (Q ∘ P)⁻¹ = P⁻¹ ∘ Q⁻¹.
    np.testing.assert_array_equal(
        pm.compose(R, pm.compose(Q, P)).index, pm.compose(pm.compose(R, Q), P).index
    )
    np.testing.assert_array_equal(
        pm.inverse(pm.compose(Q, P)).index, pm.compose(pm.inverse(P), pm.inverse(Q)).index
    )


def test_four_quarter_turns_are_the_identity_on_a_non_square_grid():
    P = pm.rotation90((3, 5), 1)
    assert P.out_shape == (5, 3)
    Q = pm.compose(pm.rotation90((5, 3), 1), P)
    assert Q.out_shape == (3, 5) and not Q.is_identity()  # a half turn
    full = pm.compose(pm.rotation90((5, 3), 1), pm.compose(pm.rotation90((3, 5), 1), Q))
    assert full.is_identity()
    assert pm.rotation90((3, 5), 4).is_identity() and pm.translation((3, 5), (3, 10)).is_identity()


def test_random_permutation_is_uniform_on_a_2x2_grid():
    # All 24 permutations of 4 pixels, 4800 draws: expected 200 each. Chi-square with 23 degrees
    # of freedom; a uniform sampler fails at level 1e-4 with probability 1e-4 (seed fixed).
    rng = np.random.default_rng(11)
    draws = [tuple(pm.random_permutation((2, 2), rng).index.ravel()) for _ in range(4800)]
    _, counts = np.unique(np.array(draws), axis=0, return_counts=True)
    assert counts.size == 24
    assert sst.chisquare(counts).pvalue > 1e-4
    # A sampler that never moves pixel 0 (a wrong "shuffle") reaches only 6 of them.
    assert np.unique(np.array([d for d in draws if d[0] == 0]), axis=0).shape[0] == 6


def test_random_permutation_reproducible_and_seed_dependent():
    a = pm.random_permutation((8, 9), np.random.default_rng(1))
    b = pm.random_permutation((8, 9), np.random.default_rng(1))
    c = pm.random_permutation((8, 9), np.random.default_rng(2))
    np.testing.assert_array_equal(a.index, b.index)
    assert not np.array_equal(a.index, c.index)


def test_index_array_is_accepted_and_read_only():
    idx = np.array([[1, 0], [3, 2]])
    f = np.array([[10.0, 11.0], [12.0, 13.0]])
    np.testing.assert_array_equal(pm.apply(idx, f), [[11.0, 10.0], [13.0, 12.0]])
    P = pm.as_permutation(idx)
    with pytest.raises(ValueError):
        P.index[0, 0] = 5
    assert pm.as_permutation(P) is P
    # Called like a function, with a leading batch axis.
    np.testing.assert_array_equal(P(np.stack([f, f]), batch_dims=1)[1], pm.apply(P, f))


@pytest.mark.parametrize(
    "index, in_shape, exc, pattern",
    [
        ([[0.0, 1.0]], None, TypeError, "index must hold integers"),
        ([[True, False]], None, TypeError, "index must hold integers"),
        ([0, 1, 2], None, ValueError, "non-empty 2-D"),
        ([[0, 0], [1, 2]], None, ValueError, "not a permutation: pixel 3 never occurs"),
        ([[0, 1], [2, 4]], None, ValueError, r"not a permutation: entries must lie in \[0, 3\]"),
        ([[0, -1], [2, 3]], None, ValueError, "not a permutation"),
        ([[0, 1, 2, 3]], (3, 2), ValueError, "index has 4 entries but in_shape"),
        ([[0, 1], [2, 3]], (0, 4), ValueError, "in_shape must be a pair"),
        ([[0, 1], [2, 3]], (2, 2, 1), ValueError, "in_shape must be a pair"),
    ],
)
def test_as_permutation_rejects_non_permutations(index, in_shape, exc, pattern):
    with pytest.raises(exc, match=pattern):
        pm.as_permutation(np.array(index), in_shape=in_shape)
    if exc is ValueError and in_shape is None:
        with pytest.raises(exc, match=pattern):  # also when passed straight to apply
            pm.apply(np.array(index), np.zeros(np.shape(index)))


def test_direct_construction_validates():
    with pytest.raises(ValueError, match="not a permutation"):
        pm.GridPermutation(index=np.array([[0, 0]]), in_shape=(1, 2))
    P = pm.GridPermutation(index=np.array([[1, 0, 2]]), in_shape=(3, 1), name="swap")
    assert P.in_shape == (3, 1) and P.out_shape == (1, 3) and not P.index.flags.writeable
    np.testing.assert_array_equal(pm.apply(P, np.array([[5], [6], [7]])), [[6, 5, 7]])


def test_shape_mismatches_are_rejected():
    P = pm.rotation90((3, 4))
    with pytest.raises(ValueError, match=r"image must have shape \(3, 4\) or \(3, 4\) \+ \(C,\), got \(4, 3\)"):
        pm.apply(P, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="image must have shape"):
        pm.apply(P, np.zeros((3, 4, 2, 2)))
    with pytest.raises(ValueError, match="image must have shape"):
        pm.apply(P, np.zeros(12))
    with pytest.raises(ValueError, match="image must have shape"):
        pm.apply_inverse(P, np.zeros((3, 4)))  # P⁻¹ acts on the (4, 3) grid
    with pytest.raises(ValueError, match="cannot compose"):
        pm.compose(P, P)
    with pytest.raises(ValueError, match="batch_dims"):
        pm.apply(P, np.zeros((3, 4)), batch_dims=-1)


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda: pm.translation((3, 3), (1,)), ValueError, "shift must be a pair"),
        (lambda: pm.translation((3, 3), (1.5, 0)), TypeError, "shift must be a pair"),
        (lambda: pm.rotation90((3, 3), 1.0), TypeError, "k must be an integer"),
        (lambda: pm.flip((3, 3), 2), ValueError, "axis must be 0"),
        (lambda: pm.flip((3, 3), True), ValueError, "axis must be 0"),
        (lambda: pm.identity((3, 2.0)), TypeError, "shape must be a pair"),
        (lambda: pm.identity(5), TypeError, "shape must be a pair"),
        (lambda: pm.random_permutation((3, 3), 0), TypeError, "numpy.random.Generator"),
    ],
)
def test_constructor_validation(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ---------------------------------------------------------------------------------------------
# Eq. (4) with explicit noise: identical to lib.forward
# ---------------------------------------------------------------------------------------------


@HYP
@given(shape=grid_shapes, c=channels, dtype=dtypes, beta=st.floats(1e-6, 1 - 1e-6), seed=seeds)
def test_forward_step_with_noise_is_forward_step(shape, c, dtype, beta, seed):
    u = image_for(shape, c, np.random.default_rng(seed), dtype)
    g = np.random.default_rng(seed + 1).standard_normal(u.shape, dtype=dtype)
    ref = fw.forward_step(u, beta, np.random.default_rng(seed + 1))
    out = pm.forward_step_with_noise(u, beta, g)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref)  # same operations, same order: bit for bit


@HYP
@given(shape=grid_shapes, c=channels, dtype=dtypes, betas=schedule_st(), seed=seeds)
def test_iterate_with_noise_is_iterate_forward(shape, c, dtype, betas, seed):
    f = image_for(shape, c, np.random.default_rng(seed), dtype)
    ref = fw.iterate_forward(f, betas, None, np.random.default_rng(seed))
    T = betas.size
    # iterate_forward draws one array of f.shape per step; a (T,) + f.shape draw is the same
    # stream, and so is a noise source called once per step.
    stack = np.random.default_rng(seed).standard_normal((T,) + f.shape, dtype=dtype)
    np.testing.assert_array_equal(pm.iterate_with_noise(f, betas, stack), ref)
    source = pm.noise_source(f.shape, np.random.default_rng(seed), dtype=dtype)
    np.testing.assert_array_equal(pm.iterate_with_noise(f, betas, source), ref)
    steps = sorted({0, T, T // 2})
    np.testing.assert_array_equal(pm.iterate_with_noise(f, betas, stack, steps), ref[steps])


def test_iterate_with_noise_validation():
    betas = sch.constant_betas(0.1, 3)
    with pytest.raises(ValueError, match=r"noise must have shape \(T', \) \+ \(2, 2\) with T' ≥ 3"):
        pm.iterate_with_noise(np.zeros((2, 2)), betas, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="noise must have shape"):
        pm.iterate_with_noise(np.zeros((2, 2)), betas, np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="noise must have the shape of u"):
        pm.iterate_with_noise(np.zeros((2, 2)), betas, lambda i: np.zeros(3))
    with pytest.raises(ValueError, match=r"beta must lie in the open interval \(0, 1\)"):
        pm.forward_step_with_noise(np.zeros(2), 1.0, np.zeros(2))
    with pytest.raises(ValueError, match="noise must be finite"):
        pm.forward_step_with_noise(np.zeros(2), 0.5, np.array([0.0, np.nan]))


# ---------------------------------------------------------------------------------------------
# Proposition 3 (Eq. 21), bit for bit
# ---------------------------------------------------------------------------------------------


@HYP
@given(shape=grid_shapes, c=channels, dtype=dtypes, betas=schedule_st(), seed=seeds, data=st.data())
def test_proposition3_bit_exact(shape, c, dtype, betas, seed, data):
    P = data.draw(perm_st(shape))
    f = image_for(shape, c, np.random.default_rng(seed), dtype)
    steps = np.arange(betas.size + 1)
    u, v = pm.coupled_trajectories(f, P, betas, steps, np.random.default_rng(seed))
    assert u.dtype == v.dtype == dtype
    assert u.shape == (steps.size,) + f.shape
    # v_i = P(u_i) for every i, and u_i = P⁻¹(v_i): exact equality, not closeness.
    assert np.array_equal(v, pm.apply(P, u, batch_dims=1))
    assert np.array_equal(u, pm.apply_inverse(P, v, batch_dims=1))
    # v is an ordinary trajectory of lib.forward from P(f) (same generator stream) …
    np.testing.assert_array_equal(v, fw.iterate_forward(pm.apply(P, f), betas, None, np.random.default_rng(seed)))
    # … and u the trajectory from f with the noise P⁻¹(g_i).
    g = np.random.default_rng(seed).standard_normal((betas.size,) + v.shape[1:], dtype=dtype)
    np.testing.assert_array_equal(u, pm.iterate_with_noise(f, betas, pm.apply_inverse(P, g, batch_dims=1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_proposition3_on_the_shuffled_cat(dtype):
    cat = lib.data.cat(factor=8).astype(dtype)
    P = pm.random_permutation(cat.shape[:2], np.random.default_rng(4))
    steps = [0, 1, 10, 100, 1000]
    u, v = pm.coupled_trajectories(cat, P, sch.linear_betas(1000), steps, np.random.default_rng(5))
    assert np.array_equal(v, pm.apply(P, u, batch_dims=1))


def test_wrong_coupling_is_rejected():
    # Feeding u the unpermuted noise g_i (instead of P⁻¹(g_i)) breaks the identity: the check
    # is not vacuous. v_i − P(u_i) = Σ (…)·(g_j − P(g_j)), nonzero wherever P moves a pixel.
    f = lib.data.cat(grey=True, factor=16)
    P = pm.random_permutation(f.shape, np.random.default_rng(0))
    betas = sch.constant_betas(0.02, 20)
    u, v = pm.coupled_trajectories(f, P, betas, [0, 1, 20], np.random.default_rng(1), coupling="same")
    assert np.array_equal(v[0], pm.apply(P, u[0]))  # same start …
    moved = P.index.ravel() != np.arange(P.size)
    differs = (v[1] != pm.apply(P, u[1])).ravel()
    np.testing.assert_array_equal(differs, moved)  # … but differ exactly where P moves pixels
    # For the identity both couplings coincide.
    Id = pm.identity(f.shape)
    a = pm.coupled_trajectories(f, Id, betas, [20], np.random.default_rng(1), coupling="same")
    b = pm.coupled_trajectories(f, Id, betas, [20], np.random.default_rng(1))
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="coupling 'same' needs"):
        pm.coupled_trajectories(f, pm.rotation90(f.shape), betas, [1], np.random.default_rng(1), coupling="same")
    with pytest.raises(ValueError, match="coupling must be"):
        pm.coupled_trajectories(f, P, betas, [1], np.random.default_rng(1), coupling="other")


# ---------------------------------------------------------------------------------------------
# In law: P⁻¹ of a trajectory from P(f) has the law of the process from f
# ---------------------------------------------------------------------------------------------

ALPHA = 1e-3  # a correct sampler is rejected with probability ≤ 1e-3 (Bonferroni); seeds fixed


@pytest.fixture(scope="module")
def law_setup():
    f = lib.data.cat(grey=True, factor=4)  # 75 × 112 = 8400 values per snapshot
    P = pm.random_permutation(f.shape, np.random.default_rng(7))
    betas = sch.constant_betas(0.02, 200)
    steps = [1, 10, 50, 200]
    # An independent trajectory from P(f), sampled by lib.forward (no coupling with anything).
    v = fw.sample_trajectory(pm.apply(P, f), betas, steps, np.random.default_rng(8))
    return f, P, betas, steps, v


def test_unpermuted_trajectory_has_the_law_from_f(law_setup):
    f, P, betas, steps, v = law_setup
    report = lst.trajectory_report(pm.apply_inverse(P, v, batch_dims=1), f, betas, steps)
    assert report.passes(ALPHA)


def test_law_check_rejects_wrong_variants(law_setup):
    f, P, betas, steps, v = law_setup
    # Forgetting to un-permute, or un-permuting with another shuffle, is rejected: at step 1 the
    # mean √ᾱ₁·P(f) is off from √ᾱ₁·f by O(1) in units of √(1 − ᾱ₁) ≈ 0.14.
    assert lst.trajectory_report(v, f, betas, steps).pvalue < 1e-12
    Q = pm.random_permutation(f.shape, np.random.default_rng(9))
    assert lst.trajectory_report(pm.apply_inverse(Q, v, batch_dims=1), f, betas, steps).pvalue < 1e-12


# ---------------------------------------------------------------------------------------------
# The classical reference: Gaussian smoothing
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cat_small():
    return lib.data.cat(factor=8)  # 37 × 56 × 3


@pytest.mark.parametrize("mode", ["reflect", "wrap"])
@pytest.mark.parametrize("sigma", [0.7, 2.0])
def test_gaussian_commutes_with_rotations_and_flips(cat_small, mode, sigma):
    shape = cat_small.shape[:2]
    square = cat_small[:, :37]
    cases = [(pm.rotation90(shape, k), cat_small) for k in (1, 2, 3)]
    cases += [(pm.rotation90((37, 37), 1), square), (pm.flip(shape, 0), cat_small), (pm.flip(shape, 1), cat_small)]
    for P, f in cases:
        res = pm.gaussian_commutation(f, P, sigma, mode)
        assert res["commutes"], (P.name, res)  # within the round-off bound of the docstring


def test_gaussian_commutes_with_cyclic_translations_only_with_periodic_boundary(cat_small):
    T = pm.translation(cat_small.shape[:2], (5, -9))
    assert pm.gaussian_commutation(cat_small, T, 2.0, "wrap")["commutes"]
    res = pm.gaussian_commutation(cat_small, T, 2.0, "reflect")
    # With a reflecting boundary the seam created by the cyclic shift is smoothed differently.
    assert not res["commutes"] and res["relative"] > 1e-3


@pytest.mark.parametrize("mode", ["reflect", "wrap"])
def test_gaussian_does_not_commute_with_a_shuffle(cat_small, mode):
    P = pm.random_permutation(cat_small.shape[:2], np.random.default_rng(0))
    res = pm.gaussian_commutation(cat_small, P, 2.0, mode)
    assert not res["commutes"]
    assert res["relative"] > 0.3 and res["max_abs"] > 1e12 * res["bound"]


def test_gaussian_grey_value_affine_invariance(cat_small):
    # Linearity and normalised weights: G(a f + b) = a G(f) + b, up to the same round-off
    # bound scaled by max|a f + b|.
    a, b = -1.7, 0.3
    lhs = pm.gaussian_smoothing(a * cat_small + b, 1.5)
    rhs = a * pm.gaussian_smoothing(cat_small, 1.5) + b
    bound = pm.gaussian_roundoff_bound(a * cat_small + b, 1.5) + 4 * np.finfo(float).eps * 2.0
    assert np.max(np.abs(lhs - rhs)) <= bound


def test_gaussian_smoothing_is_channelwise_and_validated(cat_small):
    out = pm.gaussian_smoothing(cat_small, 1.0)
    for ch in range(3):
        np.testing.assert_array_equal(out[..., ch], pm.gaussian_smoothing(cat_small[..., ch], 1.0))
    # A constant image is a fixed point (weights sum to 1).
    np.testing.assert_allclose(pm.gaussian_smoothing(np.full((9, 9), 0.25), 2.0), 0.25, rtol=1e-14)
    with pytest.raises(ValueError, match="sigma must be a positive"):
        pm.gaussian_smoothing(cat_small, 0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        pm.gaussian_smoothing(cat_small, 1.0, mode="periodic")
    with pytest.raises(ValueError, match=r"image must have shape \(H, W\)"):
        pm.gaussian_smoothing(np.zeros(5), 1.0)
    with pytest.raises(ValueError, match="undefined"):
        pm.commutation_error(lambda x: 0 * x, pm.identity((2, 2)), np.ones((2, 2)))


# ---------------------------------------------------------------------------------------------
# What the proof uses: white noise. Smoothed noise breaks the invariance in law.
# ---------------------------------------------------------------------------------------------

Z_MAX = 5.0  # |t| > 5 with 29 degrees of freedom has probability 2.4e-5 under the null


def neighbour_stats(f, P, kind, seed, T=30):
    """Mean neighbour correlation of the innovations of P⁻¹(V) and its standard error.

    The T steps use independent noise, so the T per-step estimates are i.i.d.: SE = sd/√T.
    """
    betas = sch.constant_betas(0.1, T)
    noise = pm.noise_source(P.out_shape, np.random.default_rng(seed), kind)
    c = pm.innovation_neighbour_correlations(f, P, betas, noise)
    assert c.shape == (T,)
    return c.mean(), c.std(ddof=1) / np.sqrt(T)


def test_unpermuted_innovations_are_the_unpermuted_noise(grey):
    # For the process from P(f) with noise g_i, the innovations of P⁻¹(V) against f are P⁻¹(g_i)
    # up to round-off: z = (w_i − a·w_{i−1})/b with a = √(1−β), b = √β. Forming w_i, the
    # difference and the coefficients (lib.stats gets them from ln ᾱ, not from √(1−β)) costs a
    # few eps·(|w| + |g|) each; with |w|, |g| < 6 (asserted) a bound of 10·eps·12/b is generous.
    P = pm.random_permutation(grey.shape, np.random.default_rng(0))
    betas = sch.constant_betas(0.1, 5)
    g = np.random.default_rng(1).standard_normal((5,) + grey.shape)
    z = pm.unpermuted_innovations(grey, P, betas, g)
    w = pm.iterate_with_noise(pm.apply(P, grey), betas, g)
    assert np.max(np.abs(g)) < 6 and np.max(np.abs(w)) < 6
    bound = 10 * np.finfo(float).eps * 12 / np.sqrt(0.1)
    err = np.max(np.abs(z - pm.apply_inverse(P, g, batch_dims=1)))
    assert 0 < err < bound  # not exact (different operations), but round-off only


@pytest.fixture(scope="module")
def grey():
    return lib.data.cat(grey=True, factor=4)


def test_smoothed_noise_has_unit_variance_and_the_stated_correlation():
    rho = pm.smoothed_noise_correlation(1.5)
    # Σ w_k w_{k+1} / Σ w_k² for a sampled Gaussian: close to exp(−1/(4σ²)) = 0.895 for σ = 1.5.
    assert abs(rho - np.exp(-1 / (4 * 1.5**2))) < 2e-3
    assert pm.smoothed_noise_correlation(1.5, 0) == pytest.approx(1.0, abs=1e-15)
    rng = np.random.default_rng(3)
    draws = [pm.smoothed_noise((60, 70), rng, 1.5) for _ in range(30)]
    var = np.array([np.mean(d * d) for d in draws])
    corr = np.array([pm.neighbour_correlation(d) for d in draws])
    se = lambda x: x.std(ddof=1) / np.sqrt(x.size)  # noqa: E731  30 independent draws
    assert abs(var.mean() - 1.0) < Z_MAX * se(var)
    assert abs(corr.mean() - rho) < Z_MAX * se(corr)
    with pytest.raises(ValueError, match="larger than the kernel"):
        pm.smoothed_noise((10, 70), rng, 1.5)


def test_white_noise_law_is_permutation_invariant(grey):
    P = pm.random_permutation(grey.shape, np.random.default_rng(1))
    mean, se = neighbour_stats(grey, P, "white", 2)
    assert abs(mean) < Z_MAX * se


def test_smoothed_noise_law_is_not_permutation_invariant(grey):
    rho = pm.smoothed_noise_correlation(1.5)
    # Reference: the process from f itself (identity) and the symmetries of the covariance.
    for P in (pm.identity(grey.shape), pm.translation(grey.shape, (7, -20)), pm.rotation90(grey.shape)):
        mean, se = neighbour_stats(grey, P, "smoothed", 3)
        assert abs(mean - rho) < Z_MAX * se, P.name
    # A shuffle destroys the neighbour correlation: P⁻¹(V) does not have the law from f.
    mean, se = neighbour_stats(grey, pm.random_permutation(grey.shape, np.random.default_rng(4)), "smoothed", 5)
    assert abs(mean - rho) > 100 * se and abs(mean) < Z_MAX * se


def test_noise_source_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind must be"):
        pm.noise_source((40, 40), rng, kind="pink")
    with pytest.raises(ValueError, match="dtype must be"):
        pm.noise_source((40, 40), rng, dtype=np.int64)
    assert pm.noise_source((40, 40), rng, "smoothed", dtype=np.float32)(1).dtype == np.float32
