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
