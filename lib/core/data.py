"""Images and training sets that ship with installed packages (no download at run time).

Grey values are mapped to [−1, 1], the range in which diffusion models (Ho et al. 2020) apply
the forward process: then the steady state N(0, I) and the data live on comparable scales. The
paper does not state its range; the book uses this one throughout and says so.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_choice, check_flag, check_int, check_real

__all__ = ["block_mean", "cat", "digits", "to_unit_range"]


def to_unit_range(image, max_value: float = 255.0) -> np.ndarray:
    """Map grey values in [0, max_value] linearly to [−1, 1] (float64).

    Values outside [0, max_value] are refused: they are not grey values of that range (an image
    already in [−1, 1], or a wrong ``max_value``), and mapping them would silently leave [−1, 1].
    """
    max_value = check_real(max_value, "max_value", 0.0)
    arr = as_float_array(image, "image").astype(np.float64, copy=False)
    if arr.min() < 0.0 or arr.max() > max_value:
        raise ValueError(
            f"image must hold grey values in [0, max_value] = [0, {max_value:g}], got values from "
            f"{float(arr.min()):g} to {float(arr.max()):g}")
    return arr / (max_value / 2.0) - 1.0


def block_mean(image, factor: int) -> np.ndarray:
    """Downscale the two leading axes by averaging ``factor × factor`` blocks.

    Rows and columns that do not fill a whole block are cropped.
    """
    factor = check_int(factor, "factor", 1)
    arr = as_float_array(image, "image").astype(np.float64, copy=False)
    if arr.ndim < 2:
        raise ValueError(f"image must have at least two axes, got shape {arr.shape}")
    h, w = (arr.shape[0] // factor) * factor, (arr.shape[1] // factor) * factor
    if h == 0 or w == 0:
        raise ValueError(f"factor {factor} is larger than the image {arr.shape[:2]}")
    arr = arr[:h, :w]
    return arr.reshape(h // factor, factor, w // factor, factor, *arr.shape[2:]).mean(axis=(1, 3))


def cat(grey: bool = False, factor: int = 1) -> np.ndarray:
    """The cat of ``skimage.data.chelsea()`` (300 × 451 RGB) in [−1, 1].

    It stands in for the BSDS500 cat of the paper's Fig. 1, which cannot be downloaded here.

    Parameters
    ----------
    grey : bool
        Return the luminance (ITU-R 601 weights) instead of RGB.
    factor : int
        Block-averaging downscale factor (1 keeps the full size).

    Returns
    -------
    ndarray of float64, shape (300 // factor, 451 // factor[, 3])
    """
    from skimage import data

    factor = check_int(factor, "factor", 1)
    check_flag(grey, "grey")
    rgb = to_unit_range(data.chelsea())
    image = rgb @ np.array([0.299, 0.587, 0.114]) if grey else rgb
    return image if factor == 1 else block_mean(image, factor)


def digits(scale: str = "unit") -> np.ndarray:
    """The 1797 handwritten digits of ``sklearn.datasets.load_digits()`` as a (1797, 64) array.

    A real training set that ships with scikit-learn and is small enough for exact
    Gaussian-mixture computations.

    Parameters
    ----------
    scale : {"unit", "raw"}
        ``"unit"`` maps the grey values 0…16 to [−1, 1]; ``"raw"`` keeps 0…16.

    Returns
    -------
    ndarray of float64, shape (1797, 64)

    Examples
    --------
    >>> x = digits()
    >>> x.shape, float(x.min()), float(x.max())
    ((1797, 64), -1.0, 1.0)
    """
    from sklearn.datasets import load_digits

    check_choice(scale, "scale", ("unit", "raw"))
    raw = load_digits().data.astype(np.float64)
    return raw if scale == "raw" else to_unit_range(raw, 16.0)
