"""Input checks shared by the modules of :mod:`lib`.

Every public function of the package validates its arguments with these helpers so that bad
input fails early with a message that names the parameter and the allowed range, in the style
of scikit-image.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_beta",
    "check_betas",
    "check_positive_int",
    "check_positive_real",
    "check_rng",
    "check_steps",
]


def as_float_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a non-empty, finite floating-point array.

    float32 and float64 inputs keep their precision; booleans and integers become float64.

    Raises
    ------
    TypeError
        If ``x`` is not real numeric data (strings, objects, complex numbers).
    ValueError
        If ``x`` is empty or contains NaN or Inf.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must hold real numbers (float32, float64 or integers), got dtype {arr.dtype}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf")
    return arr


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Require an explicit :class:`numpy.random.Generator` (no seeds, no global state)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_beta(beta, name: str = "beta") -> float:
    """Return a scalar noise variance β as float, requiring 0 < β < 1 (paper, below Eq. 3)."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(f"{name} must be a real number in the open interval (0, 1), got {beta!r}")
    value = float(beta)
    if not (0.0 < value < 1.0):  # also rejects NaN
        raise ValueError(f"{name} must lie in the open interval (0, 1), got {value!r}")
    return value


def check_betas(betas, name: str = "betas") -> np.ndarray:
    """Return a schedule β_1, …, β_T as a 1-D float64 array with every entry in (0, 1)."""
    arr = np.asarray(betas)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence β_1, …, β_T, got shape {arr.shape}")
    arr = as_float_array(arr, name).astype(np.float64, copy=False)
    bad = (arr <= 0.0) | (arr >= 1.0)
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"every entry of {name} must lie in the open interval (0, 1); "
            f"β_{first + 1} = {float(arr[first])}"
        )
    return arr


def check_steps(steps, n_steps: int, name: str = "steps") -> np.ndarray:
    """Return requested step indices as a strictly increasing int array within [0, n_steps]."""
    arr = np.atleast_1d(np.asarray(steps))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of step indices")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() > n_steps:
        raise ValueError(
            f"{name} must lie in [0, {n_steps}] (the schedule has {n_steps} steps), "
            f"got values from {arr.min()} to {arr.max()}"
        )
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing, got {arr.tolist()}")
    return arr


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as int, requiring a positive integer (booleans are rejected)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_positive_real(value, name: str) -> float:
    """Return ``value`` as float, requiring a positive finite real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {value!r}")
    value = float(value)
    if not (0.0 < value < np.inf):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value
