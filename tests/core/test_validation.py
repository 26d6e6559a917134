"""The shared input checks: clear errors naming the parameter and the allowed range."""

import numpy as np
import pytest

from lib.core import _validation as v


@pytest.mark.parametrize("bad", [0, -3, True, 2.0, "3"])
def test_check_positive_int_rejects(bad):
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        v.check_positive_int(bad, "steps")


def test_check_positive_int_accepts_numpy_integers():
    assert v.check_positive_int(np.int64(7), "n") == 7


@pytest.mark.parametrize("bad, error", [(0.0, ValueError), (-1, ValueError), (np.inf, ValueError),
                                        (np.nan, ValueError), (True, TypeError), ("1", TypeError)])
def test_check_positive_real_rejects(bad, error):
    with pytest.raises(error, match="tau must be a positive"):
        v.check_positive_real(bad, "tau")


def test_check_positive_real_accepts():
    assert v.check_positive_real(np.float32(0.5), "tau") == 0.5


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, float("nan")])
def test_check_beta_names_the_interval(bad):
    with pytest.raises(ValueError, match=r"open interval \(0, 1\)"):
        v.check_beta(bad)


def test_check_rng_requires_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        v.check_rng(np.random.RandomState(0))


@pytest.mark.parametrize("bad, error, pattern", [
    (1.5, TypeError, "k must be an integer in \\[1, 5\\]"), (True, TypeError, "k must be"),
    (0, ValueError, r"k must lie in \[1, 5\], got 0"), (6, ValueError, r"k must lie in \[1, 5\]")])
def test_check_int_names_the_range(bad, error, pattern):
    with pytest.raises(error, match=pattern):
        v.check_int(bad, "k", 1, 5)


def test_check_int_lower_bounds():
    assert v.check_int(np.int32(3), "n", 2) == 3
    with pytest.raises(ValueError, match="n must be at least 2, got 1"):
        v.check_int(1, "n", 2)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        v.check_int(-1, "n", 0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 0.0, 1.0])
def test_check_real_is_nan_aware(bad):
    with pytest.raises(ValueError, match=r"c must lie in \(0, 1\)"):
        v.check_real(bad, "c", 0.0, 1.0)
    assert v.check_real(0.5, "c", 0.0, 1.0) == 0.5
    assert v.check_real(1.0, "c", 0.0, 1.0, high_open=False) == 1.0


def test_check_alpha_bar_arrays_scalars_and_nan():
    np.testing.assert_array_equal(v.check_alpha_bar([0.1, 0.9]), [0.1, 0.9])
    with pytest.raises(ValueError, match=r"every alpha_bar must lie in \(0, 1\)"):
        v.check_alpha_bar([0.5, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        v.check_alpha_bar([0.5, float("nan")])
    assert v.check_alpha_bar(1.0, upper_closed=True, scalar=True) == 1.0
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \(0, 1\]"):
        v.check_alpha_bar(float("nan"), upper_closed=True, scalar=True)
    with pytest.raises(ValueError, match="single number"):
        v.check_alpha_bar([0.5], scalar=True)
    with pytest.raises(TypeError, match="real number"):
        v.check_alpha_bar("0.5", scalar=True)


def test_shape_and_array_checks():
    with pytest.raises(ValueError, match=r"centers must have shape \(N, n\)"):
        v.check_training_set(np.zeros(3))
    assert v.check_training_set(np.zeros((2, 3), np.float32), keep_float32=True).dtype == np.float32
    assert v.check_points(np.zeros(3), 3).shape == (1, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(m, 3\)"):
        v.check_points(np.zeros((2, 4)), 3)
    with pytest.raises(ValueError, match="v must be strictly positive"):
        v.check_positive_array([1.0, 0.0], "v")
    with pytest.raises(ValueError, match="a and b must have the same shape"):
        v.check_same_shape(np.zeros(2), np.zeros(3), "a", "b")
    with pytest.raises(ValueError, match="method must be one of"):
        v.check_choice("x", "method", ("a", "b"))
    with pytest.raises(ValueError, match="positive semi-definite"):
        v.check_covariance(np.diag([1.0, -1.0]), definite=False)
    with pytest.raises(ValueError, match="pixel counts"):
        v.check_pixel_counts(np.array([1, 0]))
    u = v.as_state(np.arange(3), "u")
    assert u.dtype == np.float64 and v.as_state(np.zeros(2, np.float32), "u").dtype == np.float32


# --- issue 12: the helpers that make bad input fail loudly ------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def test_type_errors_are_also_value_errors():
    """ArgumentTypeError is a TypeError (Python's convention) and a ValueError (old callers)."""
    with pytest.raises(TypeError):
        v.check_int(2.5, "n", 1)
    with pytest.raises(ValueError):
        v.check_int(2.5, "n", 1)


@settings(max_examples=200)
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: x != int(x) if abs(x) < 1e300 else True))
def test_check_int_never_truncates(x):
    with pytest.raises(TypeError, match="n must be"):
        v.check_int(x, "n")


@settings(max_examples=100)
@given(st.one_of(st.none(), st.floats(-10, 10)), st.one_of(st.none(), st.floats(-10, 10)))
def test_check_real_refuses_nan_whatever_the_bounds(low, high):
    with pytest.raises(ValueError, match="x must"):
        v.check_real(float("nan"), "x", low, high)


def test_memory_and_work_limits(monkeypatch):
    monkeypatch.setattr(v, "MEMORY_LIMIT", 2**20)
    v.check_memory(2**17, "small")  # 1 MiB of float64: at the limit, accepted
    with pytest.raises(ValueError, match=r"the stack would need 1\.5 MiB, more than the limit of 1 MiB"):
        v.check_memory(3 * 2**16, "the stack")
    v.check_work(v.WORK_LIMIT, "a run")
    with pytest.raises(ValueError, match="a run would take about 2e\\+13 multiply-adds"):
        v.check_work(2 * v.WORK_LIMIT, "a run")
    assert 0 < v._physical_memory() and v.MEMORY_LIMIT > 0


@pytest.mark.parametrize("shape, error", [((8.7, 3), TypeError), ((0, 3), ValueError), ("ab", TypeError),
                                          ((True, 2), TypeError), ((), ValueError), (None, TypeError)])
def test_check_shape_refuses(shape, error):
    with pytest.raises(error, match="shape must be"):
        v.check_shape(shape, "shape")


def test_check_shape_flag_dtype_and_square():
    assert v.check_shape(5) == (5,) and v.check_shape((2, np.int64(3))) == (2, 3)
    assert v.check_grid_shape([2, 3]) == (2, 3)
    with pytest.raises(ValueError, match=r"pair \(H, W\)"):
        v.check_grid_shape((2, 3, 4))
    assert v.check_flag(np.bool_(True), "norm") is True
    with pytest.raises(TypeError, match="norm must be True or False"):
        v.check_flag("yes", "norm")
    assert v.check_float_dtype("float32") == np.float32
    with pytest.raises(ValueError, match="dtype must be numpy.float32 or numpy.float64"):
        v.check_float_dtype(np.int32)
    assert v.check_sparse_square(np.eye(2)).shape == (2, 2)
    with pytest.raises(ValueError, match="A must be finite"):
        v.check_sparse_square(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match=r"A must be a square"):
        v.check_sparse_square(np.ones((2, 3)))


def test_booleans_are_not_data_but_may_be_choices():
    with pytest.raises(TypeError, match="u must hold real numbers"):
        v.as_float_array(np.array([True, False]), "u")
    with pytest.raises(ValueError, match="sign must be one of"):
        v.check_choice(True, "sign", (1, -1))
    assert v.check_choice(-1, "sign", (1, -1)) == -1
