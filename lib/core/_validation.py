"""The one module of input checks, used by every module of :mod:`lib` (private).

Every public function validates its arguments once, with these helpers, so that bad input
fails early with a message that names the argument as the caller wrote it and the allowed
range (in the style of scikit-image's ``_shared``). Range checks are NaN-aware: NaN never lies
in an interval. Private code receives validated values and does not check again.
"""

from __future__ import annotations

import numbers
import os

import numpy as np


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a bool for a count, 2.5 for an integer, a string for a number).

    It is a :class:`TypeError`, as Python's convention asks, and also a :class:`ValueError`, so
    that callers who catch ``ValueError`` for any bad input keep working (numpy's ``AxisError``
    does the same).
    """


def _physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``), or 8 GiB where the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX platforms
        return 8 * 2**30


MEMORY_LIMIT = _physical_memory() // 4
"""Largest single allocation (bytes) a public function of :mod:`lib.core` attempts.

A quarter of the physical memory: a function holds its result next to one or two working
arrays of the same size (the input copy, the noise, a snapshot stack), so a request above this
cannot finish without swapping or failing late, after minutes of work. Requests above the limit
fail at once with a :class:`ValueError` naming the size (a ``MemoryError`` would look like a
crash). Raise it deliberately (``lib.core._validation.MEMORY_LIMIT = ...``) on a big machine.
"""

WORK_LIMIT = 1e13
"""Largest amount of arithmetic (multiply-adds) a Monte Carlo loop or time stepper accepts.

At the 1-5 Gflop/s one core of the book's machines sustains on these kernels, 1e13
multiply-adds is one to three hours: no experiment of the book needs more than a few seconds of
it, so a request above is taken for a mistake (a missing ``/ 1000``, a swapped argument) and
fails at once with the estimate. Raise it deliberately for a long run.
"""


def _format_bytes(nbytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes:.0f} B"


def check_memory(n_items, what: str, itemsize: int = 8) -> None:
    """Fail at once if an array of ``n_items`` items of ``itemsize`` bytes exceeds MEMORY_LIMIT.

    ``n_items`` may be a product of Python ints or floats (no overflow). ``what`` says which
    array and from which arguments, e.g. ``"the snapshots (len(steps) × u0.size)"``.
    """
    nbytes = float(n_items) * itemsize
    if nbytes > MEMORY_LIMIT:
        raise ValueError(
            f"{what} would need {_format_bytes(nbytes)}, more than the limit of "
            f"{_format_bytes(MEMORY_LIMIT)} (a quarter of this machine's memory, "
            f"lib.core._validation.MEMORY_LIMIT); ask for fewer or smaller arrays"
        )


def check_work(multiply_adds, what: str) -> None:
    """Fail at once if a loop would take more than WORK_LIMIT multiply-adds (see there)."""
    work = float(multiply_adds)
    if work > WORK_LIMIT:
        raise ValueError(
            f"{what} would take about {work:.2g} multiply-adds (hours or more on one core), more "
            f"than lib.core._validation.WORK_LIMIT = {WORK_LIMIT:.0e}; ask for less work or raise "
            f"the limit deliberately"
        )



def as_float_array(x, name: str, *, allow_empty: bool = False, allow_nan: bool = False) -> np.ndarray:
    """Return ``x`` as a finite floating-point array (non-empty unless ``allow_empty``).

    ``allow_nan`` leaves the finiteness check to the caller (who then gives a better message).

    float32 and float64 inputs keep their precision; integers become float64. Booleans are
    refused (True/False are not grey values or coordinates: usually a mask passed by mistake).

    Raises
    ------
    TypeError
        If ``x`` is not real numeric data (booleans, strings, objects, complex numbers).
    ValueError
        If ``x`` is empty or contains NaN or Inf.
    """
    try:
        arr = np.asarray(x)
    except ValueError:  # ragged nested sequences
        raise ArgumentTypeError(f"{name} must be a rectangular array of real numbers") from None
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind != "f":
        raise ArgumentTypeError(
            f"{name} must hold real numbers (float32, float64 or integers), got dtype {arr.dtype}"
        )
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if not allow_nan and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf")
    return arr


def as_state(u, name: str) -> np.ndarray:
    """Validated working copy of a state: float32 stays float32, everything else is float64."""
    arr = as_float_array(u, name)
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    return np.array(arr, dtype=dtype, copy=True, order="C")


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Require an explicit :class:`numpy.random.Generator` (no seeds, no global state)."""
    if not isinstance(rng, np.random.Generator):
        raise ArgumentTypeError(
            f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_beta(beta, name: str = "beta") -> float:
    """Return a scalar noise variance β as float, requiring 0 < β < 1 (paper, below Eq. 3)."""
    if not _is_real(beta):
        raise ArgumentTypeError(f"{name} must be a real number in the open interval (0, 1), got {beta!r}")
    value = float(beta)
    if not (0.0 < value < 1.0):  # also rejects NaN
        raise ValueError(f"{name} must lie in the open interval (0, 1), got {value!r}")
    return value


def check_betas(betas, name: str = "betas") -> np.ndarray:
    """Return a schedule β_1, …, β_T as a 1-D float64 array with every entry in (0, 1)."""
    arr = as_float_array(betas, name, allow_empty=True)
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
    try:
        arr = np.atleast_1d(np.asarray(steps))
    except ValueError:
        raise ArgumentTypeError(f"{name} must be a 1-D sequence of integer step indices") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of step indices, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ArgumentTypeError(
                f"{name} must hold integers (no silent truncation), got {arr.tolist()!r} of dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() > n_steps:
        raise ValueError(
            f"{name} must lie in [0, {n_steps}] (the schedule has {n_steps} steps), "
            f"got values from {arr.min()} to {arr.max()}"
        )
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing, got {arr.tolist()}")
    return arr


def check_step(step, n_steps: int, name: str = "step") -> int:
    """One step index in [0, n_steps] as int (an integer-valued float is accepted, 2.5 is not)."""
    return int(check_steps([step], n_steps, name)[0])


def check_log_scale(x, name: str) -> np.ndarray:
    """Logarithms of mean factors as float64: finite or ``-inf`` (a factor 0); NaN and +inf fail."""
    arr = as_float_array(x, name, allow_nan=True).astype(np.float64, copy=False)
    if np.any(np.isnan(arr)) or np.any(arr == np.inf):
        raise ValueError(f"{name} must be finite or -inf (a mean factor 0); it contains NaN or +inf")
    return arr


def broadcast_to_shape(arr: np.ndarray, shape: tuple, name: str) -> np.ndarray:
    """A read-only view of a validated array broadcast to ``shape``, or a ValueError naming it."""
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} must be a scalar or broadcastable to shape {shape}, got shape {arr.shape}") from None


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as int, requiring a positive integer (booleans are rejected)."""
    return check_int(value, name, 1)


def check_positive_real(value, name: str) -> float:
    """Return ``value`` as float, requiring a positive finite real number."""
    return check_real(value, name, 0.0)


def check_flag(value, name: str) -> bool:
    """A switch: ``True`` or ``False`` only (a truthy string or array is a mistake, not a yes)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_shape(shape, name: str = "shape", ndims=None) -> tuple[int, ...]:
    """A grid shape: an int or a tuple of positive ints (8.7 is refused, not truncated to 8).

    ``ndims`` (a tuple) restricts the number of axes; ``ndims=(2,)`` asks for a pair (H, W).
    """
    what = "a pair (H, W) of positive integers" if ndims == (2,) else "a tuple of positive integers"
    items = (shape,) if _is_integer(shape) and ndims != (2,) else shape
    try:
        items = tuple(items)
    except TypeError:
        raise ArgumentTypeError(f"{name} must be {what}, got {shape!r}") from None
    if not all(_is_integer(s) for s in items):
        raise ArgumentTypeError(f"{name} must be {what} (no silent truncation), got {shape!r}")
    if ndims is not None and len(items) not in ndims:
        raise ValueError(f"{name} must be {what} with {' or '.join(map(str, ndims))} entries, got {shape!r}")
    if not items or min(items) < 1:
        raise ValueError(f"{name} must be {what}, got {shape!r}")
    return tuple(int(s) for s in items)


def check_sparse_square(A, name: str = "A") -> "scipy.sparse.csr_array":
    """A finite square matrix (dense or sparse, at least 1 × 1) as a float64 CSR array."""
    import scipy.sparse as sp

    if sp.issparse(A):
        if A.dtype.kind not in "iuf":
            raise ArgumentTypeError(f"{name} must hold real numbers, got dtype {A.dtype}")
        M = sp.csr_array(A, dtype=np.float64)
        data = M.data
    else:
        dense = as_float_array(A, name)
        if dense.ndim != 2:
            raise ValueError(f"{name} must be a square (N, N) matrix, got shape {dense.shape}")
        M = sp.csr_array(dense.astype(np.float64))
        data = dense
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"{name} must be a square (N, N) matrix with N ≥ 1, got shape {M.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf")
    return M


def _is_integer(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral)


def _is_real(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def _int_kind(low, high) -> str:
    if high is None:
        return {1: "a positive integer", 0: "a non-negative integer", None: "an integer"}.get(
            low, f"an integer of at least {low}")
    return f"an integer in [{low if low is not None else '-inf'}, {high}]"


def check_int(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as int, requiring an integer (not a bool) in [low, high].

    ``check_int(n, "n", 1)`` reads "n must be a positive integer" when it fails; a value out
    of [low, high] reads "step must lie in [1, 10], got 11".
    """
    kind = _int_kind(low, high)
    if not _is_integer(value):
        raise ArgumentTypeError(f"{name} must be {kind} (no silent truncation), got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        if high is not None:
            raise ValueError(f"{name} must lie in [{low if low is not None else '-inf'}, {high}], got {value}")
        if low in (0, 1):
            raise ValueError(f"{name} must be {kind}, got {value}")
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def _real_kind(low, high, low_open, high_open) -> str:
    if high is None and low == 0:
        return "a positive finite number" if low_open else "a finite non-negative number"
    if low is None and high is None:
        return "a finite real number"
    return f"a real number in {_interval(low, high, low_open, high_open)}"


def check_real(value, name: str, low: float | None = None, high: float | None = None, *,
               low_open: bool = True, high_open: bool = True) -> float:
    """Return ``value`` as float, requiring a finite real number in the given interval.

    ``low``/``high`` of ``None`` leave that side unbounded; ±inf and NaN always fail.
    ``check_real(s, "s", 0.0)`` reads "s must be a positive finite number" when it fails,
    ``check_real(c, "c", 0.0, 1.0)`` "c must lie in (0, 1)".
    """
    kind = _real_kind(low, high, low_open, high_open)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if not _is_real(value):
        raise ArgumentTypeError(f"{name} must be {kind}, got {value!r}")
    x = float(value)
    ok = bool(np.isfinite(x))
    if low is not None:
        ok = ok and (x > low if low_open else x >= low)
    if high is not None:
        ok = ok and (x < high if high_open else x <= high)
    if not ok:
        if low is not None and high is not None:
            raise ValueError(f"{name} must lie in {_interval(low, high, low_open, high_open)}, got {x!r}")
        raise ValueError(f"{name} must be {kind}, got {x!r}")
    return x


def check_probability(value, name: str) -> float:
    """A level or probability in the open interval (0, 1) (NaN fails)."""
    return check_real(value, name, 0.0, 1.0)


def check_alpha_bar(alpha_bar, name: str = "alpha_bar", *, lower_closed: bool = False,
                    upper_closed: bool = False, scalar: bool = False):
    """ᾱ values as float64 in (0, 1) (optionally with 0 and/or 1 allowed); NaN fails.

    With ``scalar=True`` a single real number is required and a float is returned.
    """
    interval = ("[" if lower_closed else "(") + "0, 1" + ("]" if upper_closed else ")")
    if scalar:
        if np.ndim(alpha_bar) != 0:
            raise ValueError(f"{name} must be a single number here, got shape {np.shape(alpha_bar)}")
        if isinstance(alpha_bar, np.ndarray) and alpha_bar.dtype.kind in "iuf":
            alpha_bar = alpha_bar.item()
        if not _is_real(alpha_bar):
            raise ArgumentTypeError(f"{name} must be a real number in {interval}, got {alpha_bar!r}")
        arr = np.asarray(float(alpha_bar))
    else:
        arr = as_float_array(alpha_bar, name).astype(np.float64, copy=False)
    low_ok = arr >= 0.0 if lower_closed else arr > 0.0
    high_ok = arr <= 1.0 if upper_closed else arr < 1.0
    if not np.all(low_ok & high_ok):  # NaN fails both comparisons
        if scalar:
            raise ValueError(f"{name} must lie in {interval}, got {float(arr)!r}")
        raise ValueError(
            f"every {name} must lie in {interval}, got values from {arr.min()} to {arr.max()}"
        )
    return float(arr) if scalar else arr


def check_choice(value, name: str, options) -> str:
    """``value`` must be one of ``options``."""
    try:
        known = value in options
    except (TypeError, ValueError):  # unhashable value, or an array (ambiguous truth value)
        known = False
    if not known or isinstance(value, (bool, np.bool_)) != any(isinstance(o, bool) for o in options):
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def check_training_set(centers, name: str = "centers", *, keep_float32: bool = False) -> np.ndarray:
    """A training set as a 2-D float array (N images, n pixels); float64 unless kept float32."""
    arr = as_float_array(centers, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (N, n): N training images of n pixels, got {arr.shape}"
        )
    if keep_float32 and arr.dtype == np.float32:
        return arr
    return arr.astype(np.float64, copy=False)


def check_points(x, n: int, name: str = "x") -> np.ndarray:
    """Points as a float64 array of shape (m, n) (a single point (n,) becomes (1, n))."""
    arr = np.atleast_2d(as_float_array(x, name).astype(np.float64, copy=False))
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"{name} must have shape (m, {n}) or ({n},), got {np.shape(x)}")
    return arr


def check_positive_array(x, name: str, hint: str = "") -> np.ndarray:
    """float64 copy of a finite, strictly positive array (``hint`` is added to the message)."""
    arr = np.array(as_float_array(x, name), dtype=np.float64)
    if np.any(arr <= 0.0):
        raise ValueError(
            f"{name} must be strictly positive{hint}; its smallest value is {float(arr.min())!r}"
        )
    return arr


def check_same_shape(a, b, name_a: str, name_b: str) -> None:
    """Raise unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {np.shape(a)} and {np.shape(b)}"
        )


def check_pixel_counts(n, name: str = "n") -> np.ndarray:
    """Pixel counts: an integer array (or scalar) of values ≥ 1."""
    try:
        arr = np.asarray(n)
    except ValueError:
        arr = np.asarray([None])
    if arr.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{name} must hold positive integers (pixel counts), got {n!r}")
    if arr.size == 0 or np.any(arr < 1):
        raise ValueError(f"{name} must hold positive integers (pixel counts), got {n!r}")
    return arr


def check_covariance(cov, *, definite: bool, name: str = "cov", n: int | None = None):
    """A symmetric positive (semi-)definite matrix and its eigenvalues (clipped at 0).

    Returns ``(cov, eigenvalues)``; ``n`` fixes the size (n, n) when given.
    """
    cov = as_float_array(cov, name).astype(np.float64, copy=False)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {cov.shape}")
    if n is not None and cov.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}) to match mean, got {cov.shape}")
    scale = max(1.0, float(np.abs(cov).max()))
    if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-12 * scale):
        raise ValueError(f"{name} must be symmetric")
    lam = np.linalg.eigvalsh(cov)
    tol = 0.0 if definite else 1e-10 * max(1.0, float(np.abs(lam).max()))
    if (lam.min() <= 0.0) if definite else (lam.min() < -tol):
        kind = "definite" if definite else "semi-definite"
        raise ValueError(f"{name} must be positive {kind}; its smallest eigenvalue is {lam.min():.3g}")
    return cov, np.clip(lam, 0.0, None)


def check_mean(mean, name: str = "mean") -> np.ndarray:
    """A mean vector as a 1-D float64 array."""
    mean = as_float_array(mean, name).astype(np.float64, copy=False)
    if mean.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector, got shape {mean.shape}")
    return mean


def check_mean_cov(mean, cov, *, definite: bool = False):
    """A mean (n,) and a matching covariance (n, n): returns ``(mean, cov, eigenvalues)``."""
    mean = check_mean(mean)
    cov, lam = check_covariance(cov, definite=definite, n=mean.size)
    return mean, cov, lam


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """float32 or float64 (an integer dtype would truncate Gaussian noise to integers)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ArgumentTypeError(f"{name} must be numpy.float32 or numpy.float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{name} must be numpy.float32 or numpy.float64, got {dt}")
    return dt


def check_grid_shape(shape, name: str = "shape") -> tuple[int, int]:
    """A grid shape (H, W) of two positive integers."""
    return check_shape(shape, name, ndims=(2,))
