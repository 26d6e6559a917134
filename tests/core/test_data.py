"""Tests of :mod:`lib.core.data` (moved from test_data.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest

from lib.core import data

from _shared import EPS, HYP40


LUMA = np.array([0.299, 0.587, 0.114])


@pytest.fixture(scope="module")
def rgb():
    return data.cat()


@pytest.fixture(scope="module")
def grey():
    return data.cat(grey=True)


def test_cat_rgb(rgb):
    from skimage.data import chelsea

    assert rgb.shape == (300, 451, 3)
    assert rgb.dtype == np.float64
    assert rgb.min() >= -1.0 and rgb.max() <= 1.0
    # It is the chelsea image mapped linearly: exact (division by 127.5 then −1).
    np.testing.assert_array_equal(rgb, chelsea() / 127.5 - 1.0)
    # Not degenerate: uses a good part of the range.
    assert rgb.max() - rgb.min() > 1.0


def test_cat_grey(rgb, grey):
    assert grey.shape == (300, 451)
    assert grey.dtype == np.float64
    # Convex combination of values in [−1, 1] (the weights sum to 1 − 1 ulp): stays in range.
    assert grey.min() >= -1.0 and grey.max() <= 1.0
    # ITU-R 601 luminance; a 3-term dot product has round-off ≤ 3·eps·max|value|.
    np.testing.assert_allclose(grey, rgb @ LUMA, rtol=0, atol=3 * EPS)


@pytest.mark.parametrize("grey_flag, shape", [(False, (150, 225, 3)), (True, (150, 225))])
def test_cat_factor_two(grey_flag, shape, rgb, grey):
    small = data.cat(grey=grey_flag, factor=2)
    assert small.shape == shape
    full = grey if grey_flag else rgb
    # Manual mean of each 2×2 block (row 300 is even; column 450 is cropped):
    manual = (full[0:300:2, 0:450:2] + full[1:300:2, 0:450:2] + full[0:300:2, 1:450:2] + full[1:300:2, 1:450:2]) / 4
    # Mean of four values ≤ 1 in magnitude, summed in another order: ≤ 4·eps absolute.
    np.testing.assert_allclose(small, manual, rtol=0, atol=4 * EPS)
    assert small.min() >= -1.0 and small.max() <= 1.0


def test_cat_factor_three_shape():
    assert data.cat(factor=3).shape == (100, 150, 3)
    assert data.cat(grey=True, factor=7).shape == (300 // 7, 451 // 7)


@HYP40
@given(
    image=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=9),
        elements=st.floats(-1, 1),
    ),
    data_=st.data(),
)
def test_block_mean_matches_loops(image, data_):
    h, w = image.shape[:2]
    factor = data_.draw(st.integers(1, min(h, w)))
    out = data.block_mean(image, factor)
    H, W = h // factor, w // factor
    assert out.shape == (H, W) + image.shape[2:]
    for i in range(H):
        for j in range(W):
            block = image[i * factor : (i + 1) * factor, j * factor : (j + 1) * factor]
            # Mean of factor² values in [−1, 1]: summation round-off ≤ factor²·eps.
            np.testing.assert_allclose(out[i, j], block.mean(axis=(0, 1)), rtol=0, atol=factor**2 * EPS + EPS)


def test_block_mean_of_integers_and_identity():
    img = np.arange(16).reshape(4, 4)
    np.testing.assert_array_equal(data.block_mean(img, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(data.block_mean(img, 1), img.astype(float))


@pytest.mark.parametrize("factor", [0, -2])
def test_block_mean_factor_not_positive(factor):
    with pytest.raises(ValueError, match="factor must be a positive integer"):
        data.block_mean(np.zeros((4, 4)), factor)


@pytest.mark.parametrize("factor", [True, np.bool_(True), 2.0, 1.5, "2", None])
def test_block_mean_factor_not_integer(factor):
    # not an integer at all: a TypeError (one convention for every check in lib.core._validation)
    with pytest.raises(TypeError, match="factor must be a positive integer"):
        data.block_mean(np.zeros((4, 4)), factor)


def test_block_mean_factor_too_large():
    with pytest.raises(ValueError, match=r"factor 5 is larger than the image \(4, 6\)"):
        data.block_mean(np.zeros((4, 6)), 5)


def test_block_mean_needs_two_axes():
    with pytest.raises(ValueError, match="image must have at least two axes"):
        data.block_mean(np.zeros(8), 2)


@pytest.mark.parametrize("factor, pattern", [(0, "factor must be a positive integer"), (1000, "factor 1000 is larger")])
def test_cat_bad_factor(factor, pattern):
    with pytest.raises(ValueError, match=pattern):
        data.cat(factor=factor)


@pytest.mark.parametrize("factor", [True, 1.0])
def test_cat_factor_bool_or_float_rejected(factor):
    with pytest.raises(TypeError, match="factor must be a positive integer"):
        data.cat(factor=factor)


def test_cat_factor_false_rejected():
    with pytest.raises(TypeError, match="factor must be a positive integer"):
        data.cat(factor=False)


def test_to_unit_range_endpoints():
    out = data.to_unit_range(np.array([0, 255, 127.5], dtype=np.float64))
    # 255/127.5 = 2 and 127.5/127.5 = 1 are exact.
    np.testing.assert_array_equal(out, [-1.0, 1.0, 0.0])
    np.testing.assert_array_equal(data.to_unit_range(np.array([0, 255], dtype=np.uint8)), [-1.0, 1.0])
    np.testing.assert_array_equal(data.to_unit_range([0.0, 0.5, 1.0], max_value=1.0), [-1.0, 0.0, 1.0])
    assert data.to_unit_range(np.uint8(255)).dtype == np.float64


@HYP40
@given(v=hnp.arrays(np.uint8, st.integers(1, 50)))
def test_to_unit_range_affine_and_monotone(v):
    out = data.to_unit_range(v)
    assert np.all((out >= -1.0) & (out <= 1.0))
    # Affine map x ↦ 2x/255 − 1 (one division, one subtraction: ≤ 2 eps absolute).
    np.testing.assert_allclose(out, 2.0 * v / 255.0 - 1.0, rtol=0, atol=2 * EPS)
    order = np.argsort(v, kind="stable")
    assert np.all(np.diff(out[order]) >= 0)


@pytest.mark.parametrize("max_value, error", [(0, ValueError), (-255, ValueError), (np.nan, ValueError),
                                              (np.inf, ValueError), (True, TypeError), ("255", TypeError)])
def test_to_unit_range_bad_max_value(max_value, error):
    with pytest.raises(error, match="max_value must be a positive finite number"):
        data.to_unit_range(np.zeros(3), max_value=max_value)


def test_digits_scales():
    raw = data.digits("raw")
    unit = data.digits()
    assert raw.shape == unit.shape == (1797, 64)
    assert raw.min() == 0 and raw.max() == 16
    np.testing.assert_allclose(unit, raw / 8.0 - 1.0)
    with pytest.raises(ValueError, match="scale"):
        data.digits("percent")
