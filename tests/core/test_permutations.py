"""Tests of :mod:`lib.core.permutations`: constructors agree with numpy's ``roll``/``rot90``/
``flip``, the group laws (inverse, composition, associativity) hold exactly, pixels move with
their colour channels and nothing is computed, shuffles are uniform, bad input is rejected."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sst

from lib.core.permutations import GridPermutation as GP

from _shared import HYP40, channels, grid_shapes, image_for, perm_st, seeds


# ---------------------------------------------------------------------------------------------
# Permutations of the grid
# ---------------------------------------------------------------------------------------------


@HYP40
@given(shape=grid_shapes, c=channels, dy=st.integers(-20, 20), dx=st.integers(-20, 20), seed=seeds)
def test_translation_is_np_roll(shape, c, dy, dx, seed):
    f = image_for(shape, c, np.random.default_rng(seed))
    P = GP.translation(shape, (dy, dx))
    np.testing.assert_array_equal(P.apply(f), np.roll(f, (dy, dx), axis=(0, 1)))
    assert P.out_shape == shape


@HYP40
@given(shape=grid_shapes, c=channels, k=st.integers(-6, 6), seed=seeds)
def test_rotation_is_np_rot90_including_non_square(shape, c, k, seed):
    f = image_for(shape, c, np.random.default_rng(seed))
    P = GP.rotation90(shape, k)
    out = P.apply(f)
    np.testing.assert_array_equal(out, np.rot90(f, k))
    # An odd number of quarter turns maps the H × W grid to the W × H grid.
    assert P.out_shape == (shape[::-1] if k % 2 else shape)
    assert out.shape[:2] == P.out_shape


@HYP40
@given(shape=grid_shapes, c=channels, axis=st.sampled_from([0, 1]), seed=seeds)
def test_flip_is_np_flip(shape, c, axis, seed):
    f = image_for(shape, c, np.random.default_rng(seed))
    np.testing.assert_array_equal(GP.flip(shape, axis).apply(f), np.flip(f, axis))


def test_colour_channels_move_together():
    f = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    P = GP.random((2, 3), np.random.default_rng(0))
    out = P.apply(f)
    for r in range(2):
        for c in range(3):
            y, x = divmod(int(P.index[r, c]), 3)
            np.testing.assert_array_equal(out[r, c], f[y, x])  # the whole colour vector moves


@HYP40
@given(shape=grid_shapes, c=channels, seed=seeds, data=st.data())
def test_apply_moves_values_only(shape, c, seed, data):
    P = data.draw(perm_st(shape))
    for dtype in (np.float32, np.float64, np.int64):
        f = image_for(shape, c, np.random.default_rng(seed)).astype(dtype)
        out = P.apply(f)
        assert out.dtype == f.dtype
        # The same multiset of pixel values (per channel): nothing is computed.
        a = np.sort(f.reshape(f.shape[0] * f.shape[1], -1), axis=0)
        b = np.sort(out.reshape(out.shape[0] * out.shape[1], -1), axis=0)
        np.testing.assert_array_equal(a, b)


@HYP40
@given(shape=grid_shapes, c=channels, seed=seeds, data=st.data())
def test_group_laws(shape, c, seed, data):
    P = data.draw(perm_st(shape))
    f = image_for(shape, c, np.random.default_rng(seed))
    Pinv = P.inverse()
    assert Pinv.in_shape == P.out_shape and Pinv.out_shape == P.in_shape
    np.testing.assert_array_equal(P.apply_inverse(P.apply(f)), f)
    np.testing.assert_array_equal(P.apply(P.apply_inverse(P.apply(f))), P.apply(f))
    assert Pinv.compose(P).is_identity() and P.compose(Pinv).is_identity()
    Q = data.draw(perm_st(P.out_shape))
    R = data.draw(perm_st(Q.out_shape))
    np.testing.assert_array_equal(Q.compose(P).apply(f), Q.apply(P.apply(f)))
    # Associativity and (Q ∘ P)⁻¹ = P⁻¹ ∘ Q⁻¹.
    np.testing.assert_array_equal(
        R.compose(Q.compose(P)).index, R.compose(Q).compose(P).index
    )
    np.testing.assert_array_equal(
        Q.compose(P).inverse().index, P.inverse().compose(Q.inverse()).index
    )


def test_four_quarter_turns_are_the_identity_on_a_non_square_grid():
    P = GP.rotation90((3, 5), 1)
    assert P.out_shape == (5, 3)
    Q = GP.rotation90((5, 3), 1).compose(P)
    assert Q.out_shape == (3, 5) and not Q.is_identity()  # a half turn
    full = GP.rotation90((5, 3), 1).compose(GP.rotation90((3, 5), 1).compose(Q))
    assert full.is_identity()
    assert GP.rotation90((3, 5), 4).is_identity() and GP.translation((3, 5), (3, 10)).is_identity()


def test_random_permutation_is_uniform_on_a_2x2_grid():
    # All 24 permutations of 4 pixels, 4800 draws: expected 200 each. Chi-square with 23 degrees
    # of freedom; a uniform sampler fails at level 1e-4 with probability 1e-4 (seed fixed).
    rng = np.random.default_rng(11)
    draws = [tuple(GP.random((2, 2), rng).index.ravel()) for _ in range(4800)]
    _, counts = np.unique(np.array(draws), axis=0, return_counts=True)
    assert counts.size == 24
    assert sst.chisquare(counts).pvalue > 1e-4
    # A sampler that never moves pixel 0 (a wrong "shuffle") reaches only 6 of them.
    assert np.unique(np.array([d for d in draws if d[0] == 0]), axis=0).shape[0] == 6


def test_random_permutation_reproducible_and_seed_dependent():
    a = GP.random((8, 9), np.random.default_rng(1))
    b = GP.random((8, 9), np.random.default_rng(1))
    c = GP.random((8, 9), np.random.default_rng(2))
    np.testing.assert_array_equal(a.index, b.index)
    assert not np.array_equal(a.index, c.index)


def test_index_array_is_accepted_and_read_only():
    idx = np.array([[1, 0], [3, 2]])
    f = np.array([[10.0, 11.0], [12.0, 13.0]])
    P = GP(idx)
    np.testing.assert_array_equal(P.apply(f), [[11.0, 10.0], [13.0, 12.0]])
    with pytest.raises(ValueError):
        P.index[0, 0] = 5
    with pytest.raises(TypeError, match="q must be a GridPermutation"):
        P.compose(idx)
    # Called like a function, with a leading batch axis.
    np.testing.assert_array_equal(P(np.stack([f, f]), batch_dims=1)[1], P.apply(f))


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
def test_construction_rejects_non_permutations(index, in_shape, exc, pattern):
    with pytest.raises(exc, match=pattern):
        GP(np.array(index), in_shape=in_shape)


def test_direct_construction_validates():
    with pytest.raises(ValueError, match="not a permutation"):
        GP(index=np.array([[0, 0]]), in_shape=(1, 2))
    P = GP(index=np.array([[1, 0, 2]]), in_shape=(3, 1), name="swap")
    assert P.in_shape == (3, 1) and P.out_shape == (1, 3) and not P.index.flags.writeable
    np.testing.assert_array_equal(P.apply(np.array([[5], [6], [7]])), [[6, 5, 7]])


def test_shape_mismatches_are_rejected():
    P = GP.rotation90((3, 4))
    with pytest.raises(ValueError, match=r"image must have shape \(3, 4\) or \(3, 4\) \+ \(C,\), got \(4, 3\)"):
        P.apply(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="image must have shape"):
        P.apply(np.zeros((3, 4, 2, 2)))
    with pytest.raises(ValueError, match="image must have shape"):
        P.apply(np.zeros(12))
    with pytest.raises(ValueError, match="image must have shape"):
        P.apply_inverse(np.zeros((3, 4)))  # P⁻¹ acts on the (4, 3) grid
    with pytest.raises(ValueError, match="cannot compose"):
        P.compose(P)
    with pytest.raises(ValueError, match="batch_dims"):
        P.apply(np.zeros((3, 4)), batch_dims=-1)


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda: GP.translation((3, 3), (1,)), ValueError, "shift must be a pair"),
        (lambda: GP.translation((3, 3), (1.5, 0)), TypeError, "shift must be a pair"),
        (lambda: GP.rotation90((3, 3), 1.0), TypeError, "k must be an integer"),
        (lambda: GP.flip((3, 3), 2), ValueError, "axis must be 0"),
        (lambda: GP.flip((3, 3), True), ValueError, "axis must be 0"),
        (lambda: GP.identity((3, 2.0)), TypeError, "shape must be a pair"),
        (lambda: GP.identity(5), TypeError, "shape must be a pair"),
        (lambda: GP.random((3, 3), 0), TypeError, "numpy.random.Generator"),
    ],
)
def test_constructor_validation(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


