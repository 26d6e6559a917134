"""Permutation chapter (paper, Property 4, Proposition 3, Eq. 21): permutation invariance of
trajectories. The chain itself is :mod:`lib.core.forward`, whose caller-supplied noise
(``noise=``) couples the two trajectories of the proof without a copy of the chain (issue 11).

Permutations of the pixel grid
------------------------------
A :class:`GridPermutation` is a bijection from the pixels of an ``in_shape = (H, W)`` grid to
those of an ``out_shape`` grid with the same number of pixels, stored as an index array: with
pixels numbered row by row (``y * W + x``),

    P(f)[r, c] = f[pixel number index[r, c] of the input grid]      ("gather" convention).

It acts on grey images of shape ``(H, W)`` and on colour images of shape ``(H, W, C)``; the
colour channels of a pixel move together. ``out_shape`` equals ``in_shape`` except for rotations
by an odd multiple of 90°, which map an H × W image to a W × H image: the book treats such a
rotation as what it is, a bijection between two different grids, rather than cropping to a
square. Everything in this module works for both.

The construction of Proposition 3
---------------------------------
If the trajectory v_0 = P(f), v_1, … from the permuted image uses the noise realisations g_i,
the trajectory u_0 = f, u_1, … from the original image with the noise g̃_i = P⁻¹(g_i) satisfies
v_i = P(u_i) for every i (paper, Eq. 21). Permuting only moves values and Eq. (4) is evaluated
elementwise, so the identity holds bit for bit in floating point, not only up to round-off;
:func:`coupled_trajectories` computes both trajectories so that this can be checked with
``np.array_equal``.

The classical reference
-----------------------
:func:`gaussian_smoothing` (homogeneous diffusion, i.e. Gaussian convolution) and
:func:`commutation_error` quantify ‖T(P f) − P(T f)‖ for an image operator T; classical
diffusion commutes with translations, 90° rotations and flips (given a matching boundary
condition) but not with arbitrary permutations, because it couples neighbouring pixels.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

import copy

from .core._validation import (as_float_array, as_state, check_betas, check_choice,
                               check_float_dtype, check_grid_shape, check_int, check_real, check_rng,
                               check_shape, check_steps)
from .core.forward import forward_step, iterate_forward
from .core.stats import innovations

__all__ = [
    "GridPermutation",
    "apply",
    "apply_inverse",
    "as_permutation",
    "commutation_error",
    "compose",
    "coupled_trajectories",
    "flip",
    "forward_step_with_noise",
    "gaussian_commutation",
    "gaussian_roundoff_bound",
    "gaussian_smoothing",
    "identity",
    "innovation_neighbour_correlations",
    "inverse",
    "iterate_with_noise",
    "neighbour_correlation",
    "noise_source",
    "random_permutation",
    "rotation90",
    "smoothed_noise",
    "smoothed_noise_correlation",
    "translation",
    "unpermuted_innovations",
]


# ---------------------------------------------------------------------------------------------
# Permutations of the pixel grid
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GridPermutation:
    """A bijection between the pixels of two grids with the same number of pixels.

    Build instances with :func:`as_permutation` or the constructors (:func:`random_permutation`,
    :func:`translation`, :func:`rotation90`, :func:`flip`, :func:`identity`). Direct
    construction validates too (see :func:`as_permutation` for the errors raised).

    Attributes
    ----------
    index : ndarray of int64, shape ``out_shape`` (read-only)
        ``index[r, c]`` is the number (``y * W + x``) of the input pixel that lands at ``(r, c)``.
    in_shape : tuple of int
        ``(H, W)`` of the grid the permutation acts on.
    name : str
        A label for figures and tables.
    """

    index: np.ndarray
    in_shape: tuple[int, int]
    name: str = ""

    def __post_init__(self):
        index, in_shape = _validated_index(self.index, self.in_shape)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "in_shape", in_shape)
        object.__setattr__(self, "name", str(self.name))

    @property
    def out_shape(self) -> tuple[int, int]:
        """``(H', W')`` of the permuted grid (``(W, H)`` for odd quarter turns)."""
        return tuple(int(d) for d in self.index.shape)

    @property
    def size(self) -> int:
        """Number of pixels n = H · W."""
        return int(self.index.size)

    def is_identity(self) -> bool:
        """True if P maps every pixel to itself on the same grid."""
        return self.out_shape == self.in_shape and bool(
            np.array_equal(self.index.ravel(), np.arange(self.size))
        )

    def __call__(self, image, *, batch_dims: int = 0) -> np.ndarray:
        return apply(self, image, batch_dims=batch_dims)


def _validated_index(index, in_shape) -> tuple[np.ndarray, tuple[int, int]]:
    """Checked, read-only int64 copy of a permutation index array, and the input grid shape."""
    arr = np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"index must hold integers (pixel numbers), got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"index must be a non-empty 2-D array (the output grid), got shape {arr.shape}")
    in_shape = check_grid_shape(arr.shape if in_shape is None else in_shape, "in_shape")
    n = in_shape[0] * in_shape[1]
    if arr.size != n:
        raise ValueError(
            f"index has {arr.size} entries but in_shape {in_shape} has {n} pixels; "
            "a permutation needs the same number of pixels in both grids"
        )
    flat = arr.astype(np.int64).ravel()
    if flat.min() < 0 or flat.max() >= n:
        raise ValueError(
            f"index is not a permutation: entries must lie in [0, {n - 1}], "
            f"got values from {flat.min()} to {flat.max()}"
        )
    counts = np.bincount(flat, minlength=n)
    if np.any(counts != 1):
        missing = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"index is not a permutation: pixel {missing} never occurs "
            f"({int(np.sum(counts > 1))} pixel numbers are repeated)"
        )
    out = flat.reshape(arr.shape)
    out.flags.writeable = False
    return out, in_shape


def as_permutation(index, in_shape=None, name: str = "") -> GridPermutation:
    """Validate an index array and wrap it as a :class:`GridPermutation`.

    Parameters
    ----------
    index : array_like of int, 2-D, or GridPermutation
        ``index[r, c]`` = number of the input pixel placed at ``(r, c)``; every number
        0, …, H·W − 1 must occur exactly once. A :class:`GridPermutation` is returned as is.
    in_shape : pair of int, optional
        Input grid ``(H, W)``; defaults to ``index.shape`` (a permutation within one grid).
    name : str

    Raises
    ------
    TypeError
        If ``index`` does not hold integers.
    ValueError
        If ``index`` is not 2-D, does not have H·W entries, or is not a permutation of
        0, …, H·W − 1 (an entry out of range or repeated).
    """
    if isinstance(index, GridPermutation):
        return index
    shape = np.shape(index) if in_shape is None else in_shape
    return GridPermutation(index=index, in_shape=shape, name=name)


def _from_grid_op(shape, op, name: str) -> GridPermutation:
    """The permutation that an array operation ``op`` (roll, rot90, flip, …) performs on pixels."""
    shape = check_grid_shape(shape)
    numbers_ = np.arange(shape[0] * shape[1], dtype=np.int64).reshape(shape)
    return as_permutation(np.ascontiguousarray(op(numbers_)), in_shape=shape, name=name)


def identity(shape) -> GridPermutation:
    """The identity on an ``(H, W)`` grid."""
    return _from_grid_op(shape, lambda a: a, "identity")


def random_permutation(shape, rng: np.random.Generator) -> GridPermutation:
    """A uniformly random permutation of the pixels of an ``(H, W)`` grid (a shuffle).

    Parameters
    ----------
    shape : pair of int
    rng : numpy.random.Generator
    """
    shape = check_grid_shape(shape)
    check_rng(rng)
    index = rng.permutation(shape[0] * shape[1]).reshape(shape)
    return as_permutation(index, name="random shuffle")


def translation(shape, shift) -> GridPermutation:
    """Cyclic translation by ``shift = (dy, dx)`` pixels: P(f) = ``np.roll(f, shift, (0, 1))``.

    Pixel (y, x) moves to ((y + dy) mod H, (x + dx) mod W): the image is translated on a torus.
    """
    shape = check_grid_shape(shape)
    try:
        dy, dx = shift
    except (TypeError, ValueError):
        raise ValueError(f"shift must be a pair (dy, dx) of integers, got {shift!r}") from None
    for d in (dy, dx):
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral):
            raise TypeError(f"shift must be a pair (dy, dx) of integers, got {shift!r}")
    dy, dx = int(dy), int(dx)
    return _from_grid_op(shape, lambda a: np.roll(a, (dy, dx), axis=(0, 1)), f"translation ({dy}, {dx})")


def rotation90(shape, k: int = 1) -> GridPermutation:
    """Rotation by k · 90° counter-clockwise: P(f) = ``np.rot90(f, k)``.

    For odd ``k`` an H × W image becomes a W × H image, so P maps the ``(H, W)`` grid to the
    ``(W, H)`` grid (``out_shape``); for square images, and for even ``k``, the grid is the same.
    """
    shape = check_grid_shape(shape)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer number of quarter turns, got {k!r}")
    k = int(k)
    return _from_grid_op(shape, lambda a: np.rot90(a, k), f"rotation {90 * (k % 4)}°")


def flip(shape, axis: int) -> GridPermutation:
    """Reflection: ``axis=0`` turns the image upside down, ``axis=1`` mirrors left and right."""
    shape = check_grid_shape(shape)
    if isinstance(axis, (bool, np.bool_)) or axis not in (0, 1):
        raise ValueError(f"axis must be 0 (upside down) or 1 (left-right), got {axis!r}")
    return _from_grid_op(shape, lambda a: np.flip(a, int(axis)), ("upside-down", "left-right")[axis] + " flip")


def _move(index: np.ndarray, grid_in: tuple, grid_out: tuple, image, batch_dims, name: str) -> np.ndarray:
    arr = np.asarray(image)
    b = check_int(batch_dims, "batch_dims", 0)
    if arr.ndim not in (b + 2, b + 3) or arr.shape[b : b + 2] != grid_in:
        lead = f"{b} leading axes, then " if b else ""
        raise ValueError(
            f"{name} must have shape {lead}{grid_in} or {lead}{grid_in} + (C,), got {arr.shape}"
        )
    lead, rest = arr.shape[:b], arr.shape[b + 2 :]
    flat = arr.reshape(lead + (grid_in[0] * grid_in[1],) + rest)
    return np.take(flat, index.ravel(), axis=b).reshape(lead + grid_out + rest)


def apply(perm, image, *, batch_dims: int = 0) -> np.ndarray:
    """P(f): move the pixels of ``image`` by the permutation ``perm``.

    Parameters
    ----------
    perm : GridPermutation or 2-D integer index array
    image : array_like, shape ``in_shape`` or ``in_shape + (C,)``
        After ``batch_dims`` leading axes (e.g. ``batch_dims=1`` for a stack of snapshots).
        Any dtype; values are copied, never computed with.
    batch_dims : int

    Returns
    -------
    ndarray, shape ``lead + out_shape [+ (C,)]``, same dtype as ``image``
    """
    p = as_permutation(perm)
    return _move(p.index, p.in_shape, p.out_shape, image, batch_dims, "image")


def inverse(perm) -> GridPermutation:
    """P⁻¹, the permutation from ``out_shape`` back to ``in_shape`` with P⁻¹(P(f)) = f."""
    p = as_permutation(perm)
    inv = np.empty(p.size, dtype=np.int64)
    inv[p.index.ravel()] = np.arange(p.size, dtype=np.int64)
    name = f"inverse of {p.name}" if p.name else ""
    return as_permutation(inv.reshape(p.in_shape), in_shape=p.out_shape, name=name)


def apply_inverse(perm, image, *, batch_dims: int = 0) -> np.ndarray:
    """P⁻¹(g) for ``image`` on the output grid of ``perm`` (shape ``out_shape [+ (C,)]``)."""
    return apply(inverse(perm), image, batch_dims=batch_dims)


def compose(p, q) -> GridPermutation:
    """The composition p ∘ q: ``apply(compose(p, q), f) == apply(p, apply(q, f))``.

    Raises
    ------
    ValueError
        If the output grid of ``q`` is not the input grid of ``p``.
    """
    p, q = as_permutation(p), as_permutation(q)
    if q.out_shape != p.in_shape:
        raise ValueError(
            f"cannot compose: q maps to a {q.out_shape} grid but p acts on a {p.in_shape} grid"
        )
    index = q.index.ravel()[p.index]
    name = f"{p.name} ∘ {q.name}" if p.name and q.name else ""
    return as_permutation(index, in_shape=q.in_shape, name=name)


# ---------------------------------------------------------------------------------------------
# The forward process with explicit noise realisations (paper Eq. 4, used in Eq. 21)
# ---------------------------------------------------------------------------------------------


def forward_step_with_noise(u, beta: float, noise) -> np.ndarray:
    """One step of Eq. (4) with a given noise realisation: √(1 − β)·u + √β·g.

    :func:`lib.core.forward.forward_step` with ``noise=``: with the noise that ``forward_step``
    would draw, the result is identical bit for bit.
    """
    return forward_step(u, beta, noise=noise)


def iterate_with_noise(u0, betas, noise, steps=None) -> np.ndarray:
    """Iterate Eq. (4) with given noise realisations g_1, g_2, … and keep snapshots.

    :func:`lib.core.forward.iterate_forward` with ``noise=`` (an array of shape
    (T', ) + u0.shape or a callable ``i -> g_i``); with the noise ``iterate_forward`` would
    draw, the result is identical bit for bit.
    """
    return iterate_forward(u0, betas, steps, noise=noise)


def coupled_trajectories(
    f, perm, betas, steps, rng: np.random.Generator, coupling: str = "inverse"
) -> tuple[np.ndarray, np.ndarray]:
    """The two trajectories of the proof of Proposition 3 (paper, Eq. 21).

    v is the trajectory of Eq. (4) from v_0 = P(f) with fresh noise g_i ~ N(0, I) (drawn from
    ``rng`` in the working precision); u is the trajectory from u_0 = f with the noise
    g̃_i = P⁻¹(g_i). Proposition 3 says ``v[k] == P(u[k])`` for every snapshot. Both runs use
    :func:`lib.core.forward.iterate_forward` with caller-supplied noise; u reads the same
    realisations from a copy of ``rng``.

    Parameters
    ----------
    f : array_like, shape ``in_shape`` or ``in_shape + (C,)``
    perm : GridPermutation or 2-D integer index array
    betas : array_like, shape (T,)
    steps : sequence of int
        Strictly increasing steps in [0, T].
    rng : numpy.random.Generator
    coupling : {"inverse", "same"}
        ``"inverse"`` is the paper's g̃_i = P⁻¹(g_i); ``"same"`` feeds u the unpermuted g_i
        (a wrong coupling, kept to show that the bit-exact check can fail; it needs
        ``in_shape == out_shape``).

    Returns
    -------
    u : ndarray, shape (len(steps),) + f.shape
        Snapshots u_i of the trajectory from f.
    v : ndarray, shape (len(steps),) + P(f).shape
        Snapshots v_i of the trajectory from P(f).
    """
    p = as_permutation(perm)
    u = as_state(f, "f")
    v = apply(p, u)
    betas = check_betas(betas)
    steps = check_steps(steps, betas.size)
    check_rng(rng)
    check_choice(coupling, "coupling", ("inverse", "same"))
    if coupling == "same" and p.in_shape != p.out_shape:
        raise ValueError(f"coupling 'same' needs in_shape == out_shape, got {p.in_shape} and {p.out_shape}")
    p_inv = inverse(p)
    twin = copy.deepcopy(rng)  # replays the draws of rng for the trajectory from f

    def noise_u(i):
        g = twin.standard_normal(v.shape, dtype=v.dtype)
        return apply(p_inv, g) if coupling == "inverse" else g

    out_v = iterate_forward(v, betas, steps, rng)
    out_u = iterate_forward(u, betas, steps, noise=noise_u)
    return out_u, out_v


# ---------------------------------------------------------------------------------------------
# The classical reference: homogeneous diffusion (Gaussian smoothing)
# ---------------------------------------------------------------------------------------------

_MODES = ("reflect", "wrap", "nearest", "mirror", "constant")


def gaussian_smoothing(image, sigma: float, mode: str = "reflect", truncate: float = 4.0) -> np.ndarray:
    """Homogeneous diffusion of an image: convolution with a Gaussian of standard deviation σ.

    This is the solution of ∂_t u = Δu at time t = σ²/2 (Iijima 1962; Weickert 1998), evaluated
    by :func:`scipy.ndimage.gaussian_filter` over the two grid axes only (colour channels are
    smoothed separately, never mixed).

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
    sigma : float
        Standard deviation in pixels.
    mode : {"reflect", "wrap", "nearest", "mirror", "constant"}
        Boundary condition of ``scipy.ndimage``: ``"reflect"`` mirrors about the pixel edge
        (homogeneous Neumann boundary), ``"wrap"`` is periodic (the image lives on a torus).
    truncate : float
        Kernel radius in standard deviations (scipy's default 4).

    Returns
    -------
    ndarray of float64, same shape as ``image``
    """
    arr = as_float_array(image, "image").astype(np.float64, copy=False)
    if arr.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got {arr.shape}")
    sigma = check_real(sigma, "sigma", 0.0)
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    sigmas = (sigma, sigma) + (0.0,) * (arr.ndim - 2)
    return ndimage.gaussian_filter(arr, sigmas, mode=mode, truncate=truncate)


def gaussian_roundoff_bound(image, sigma: float, truncate: float = 4.0) -> float:
    """Bound on max |G(P f) − P(G f)| from round-off alone, for a P that G commutes with exactly.

    :func:`gaussian_smoothing` runs two 1-D passes (rows, then columns) with n = 2r + 1 positive
    weights summing to 1, r = ⌊truncate·σ + ½⌋. A floating-point sum of n products differs from
    the exact one by at most γ_{n+1}·Σ w_k|x_k| ≤ (n + 1)·ε·max|x| (ε = 2⁻⁵², γ_m = mε/(1 − mε),
    Higham 2002, §3.1), and a pass with weights summing to 1 does not enlarge errors made before
    it in the max norm. So each of G(P f) and P(G f) is within 2(n + 1)·ε·max|f| of the exact
    result, and the two within 4(n + 1)·ε·max|f| of each other (with a factor 1.01 for γ).
    """
    arr = as_float_array(image, "image")
    sigma = check_real(sigma, "sigma", 0.0)
    n = 2 * int(truncate * sigma + 0.5) + 1
    return float(1.01 * 4 * (n + 1) * np.finfo(np.float64).eps * np.max(np.abs(arr)))


def gaussian_commutation(image, perm, sigma: float, mode: str = "reflect") -> dict:
    """Commutation of Gaussian smoothing with a permutation, against the round-off bound.

    Returns
    -------
    dict
        ``relative`` and ``max_abs`` from :func:`commutation_error` with
        T = :func:`gaussian_smoothing` (``sigma``, ``mode``), ``bound`` from
        :func:`gaussian_roundoff_bound`, and ``commutes`` = ``max_abs <= bound``.
    """
    sigma = check_real(sigma, "sigma", 0.0)
    relative, max_abs = commutation_error(lambda x: gaussian_smoothing(x, sigma, mode), perm, image)
    bound = gaussian_roundoff_bound(image, sigma)
    return {"relative": relative, "max_abs": max_abs, "bound": bound, "commutes": max_abs <= bound}


def commutation_error(operator, perm, image) -> tuple[float, float]:
    """How far an image operator T is from commuting with a permutation P.

    Parameters
    ----------
    operator : callable
        T, mapping an image to an image of the same shape (e.g. Gaussian smoothing).
    perm : GridPermutation or 2-D integer index array
    image : array_like, shape ``in_shape`` or ``in_shape + (C,)``

    Returns
    -------
    relative : float
        ‖T(P f) − P(T f)‖ / ‖P(T f)‖ in the Euclidean (Frobenius) norm.
    max_abs : float
        max |T(P f) − P(T f)|, to compare with a round-off bound.
    """
    p = as_permutation(perm)
    f = as_float_array(image, "image")
    a = np.asarray(operator(apply(p, f)), dtype=np.float64)
    b = apply(p, np.asarray(operator(f), dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"operator must preserve the image shape, got {a.shape} and {b.shape}")
    diff = a - b
    norm = np.linalg.norm(b)
    if norm == 0:
        raise ValueError("T(f) is zero; the relative commutation error is undefined")
    return float(np.linalg.norm(diff) / norm), float(np.max(np.abs(diff)))


# ---------------------------------------------------------------------------------------------
# What the proof uses: white noise. Spatially correlated noise as a counterexample in law.
# ---------------------------------------------------------------------------------------------


def _kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian weights scipy.ndimage uses (read off a filtered impulse)."""
    r = int(truncate * sigma + 0.5)
    impulse = np.zeros(2 * r + 1)
    impulse[r] = 1.0
    return ndimage.gaussian_filter1d(impulse, sigma, mode="constant", truncate=truncate)


def smoothed_noise_correlation(sigma: float, lag: int = 1) -> float:
    """Correlation of :func:`smoothed_noise` at horizontal distance ``lag`` (on a large grid).

    For white noise filtered with weights w (separably, periodic boundary, grid wider than the
    kernel) the correlation at lag ℓ along one axis is Σ_k w_k w_{k+ℓ} / Σ_k w_k².
    """
    sigma = check_real(sigma, "sigma", 0.0)
    if isinstance(lag, (bool, np.bool_)) or not isinstance(lag, numbers.Integral) or lag < 0:
        raise ValueError(f"lag must be a non-negative integer, got {lag!r}")
    w = _kernel1d(sigma)
    if lag >= w.size:
        return 0.0
    return float(np.dot(w[: w.size - lag], w[lag:]) / np.dot(w, w))


def smoothed_noise(shape, rng: np.random.Generator, sigma: float, dtype=np.float64) -> np.ndarray:
    """Spatially correlated Gaussian noise with unit variance per pixel (not the paper's noise).

    White noise ξ ~ N(0, I) filtered by a Gaussian of standard deviation ``sigma`` pixels over the
    first two axes with periodic boundary, divided by √(Σ w²) per axis so that every pixel has
    variance exactly 1. Its law is invariant under cyclic translations, 90° rotations of square
    grids and flips, but not under arbitrary permutations: neighbours are correlated
    (:func:`smoothed_noise_correlation`).

    Parameters
    ----------
    shape : tuple of int
        (H, W) or (H, W, C); both H and W must exceed the kernel width 2r + 1.
    rng : numpy.random.Generator
    sigma : float
    dtype : float32 or float64
    """
    check_rng(rng)
    sigma = check_real(sigma, "sigma", 0.0)
    shape = check_shape(shape, "shape", ndims=(2, 3))
    dtype = check_float_dtype(dtype)
    w = _kernel1d(sigma)
    if min(shape[:2]) <= w.size:
        raise ValueError(f"the grid {shape[:2]} must be larger than the kernel width {w.size}")
    xi = rng.standard_normal(shape)
    sigmas = (sigma, sigma) + (0.0,) * (len(shape) - 2)
    g = ndimage.gaussian_filter(xi, sigmas, mode="wrap") / np.dot(w, w)
    return g.astype(np.dtype(dtype))


def neighbour_correlation(z) -> float:
    """Mean of z[y, x] · z[y, x + 1] over all horizontally adjacent pixels.

    For noise with unit variance per pixel (white noise, :func:`smoothed_noise`, or innovations
    of the forward process) this is an unbiased estimate of the correlation of horizontal
    neighbours: 0 for white noise, :func:`smoothed_noise_correlation` for smoothed noise.
    (Dividing by the sample variance would add a bias of order 1/n_eff.) ``z`` has shape
    (H, W) or (H, W, C).
    """
    z = as_float_array(z, "z").astype(np.float64, copy=False)
    if z.ndim not in (2, 3) or z.shape[1] < 2:
        raise ValueError(f"z must have shape (H, W) or (H, W, C) with W ≥ 2, got {z.shape}")
    return float(np.mean(z[:, 1:] * z[:, :-1]))


def noise_source(shape, rng: np.random.Generator, kind: str = "white", sigma: float = 1.5, dtype=np.float64):
    """A callable ``i -> g_i`` drawing one noise realisation per step, for :func:`iterate_with_noise`.

    Parameters
    ----------
    shape : tuple of int
        Shape of one realisation.
    rng : numpy.random.Generator
    kind : {"white", "smoothed"}
        ``"white"``: g_i ~ N(0, I), the noise of the paper (drawn exactly as
        :func:`lib.forward.iterate_forward` draws it). ``"smoothed"``: :func:`smoothed_noise`
        with standard deviation ``sigma`` (shape (H, W) or (H, W, C)), a variant whose law is
        not permutation invariant.
    sigma : float
    dtype : float32 or float64
    """
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    shape = check_shape(shape, "shape")
    if kind == "white":
        return lambda i: rng.standard_normal(shape, dtype=dtype)
    if kind == "smoothed":
        check_real(sigma, "sigma", 0.0)
        smoothed_noise(shape, np.random.default_rng(0), sigma)  # validates the shape once
        return lambda i: smoothed_noise(shape, rng, sigma, dtype)
    raise ValueError(f"kind must be 'white' or 'smoothed', got {kind!r}")


def unpermuted_innovations(f, perm, betas, noise) -> np.ndarray:
    """Innovations of P⁻¹(V) measured against the process from f (law part of Proposition 3).

    Runs Eq. (4) from v_0 = P(f) with the given noise (array or callable, as in
    :func:`iterate_with_noise`), maps every snapshot back with P⁻¹ and returns the standardised
    increments z_i = (w_i − √(1 − β_i) w_{i−1}) / √β_i of w_i = P⁻¹(v_i)
    (:func:`lib.stats.innovations` at every step). If P⁻¹(V) has the law of the process from f,
    these are distributed like the noise of that process; here they equal P⁻¹(g_i) up to
    round-off.

    Returns
    -------
    z : ndarray of float64, shape (T,) + f.shape
    """
    p = as_permutation(perm)
    f = as_state(f, "f")
    betas = check_betas(betas)
    v = iterate_with_noise(apply(p, f), betas, noise)
    w = apply_inverse(p, v, batch_dims=1)
    return innovations(w, f, betas, np.arange(betas.size + 1))


def innovation_neighbour_correlations(f, perm, betas, noise) -> np.ndarray:
    """Per-step neighbour correlation of the innovations of P⁻¹(V) (see
    :func:`unpermuted_innovations` and :func:`neighbour_correlation`).

    If P⁻¹(V) has the law of the process from f, the T values are i.i.d. estimates of the
    neighbour correlation of that process's noise (0 for white noise), so their mean has
    standard error sd/√T.

    Returns
    -------
    ndarray of float64, shape (T,)
    """
    z = unpermuted_innovations(f, perm, betas, noise)
    return np.array([neighbour_correlation(z_i) for z_i in z])
