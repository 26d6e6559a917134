"""Permutations of the pixel grid: the group of Property 4 of the paper (and of its Eq. 21).

A :class:`GridPermutation` is a bijection from the pixels of an ``in_shape = (H, W)`` grid to
those of an ``out_shape`` grid with the same number of pixels, stored as an index array: with
pixels numbered row by row (``y * W + x``),

    P(f)[r, c] = f[pixel number index[r, c] of the input grid]      ("gather" convention).

It acts on grey images ``(H, W)`` and colour images ``(H, W, C)`` (the channels of a pixel move
together), after any number of leading batch axes. ``out_shape`` equals ``in_shape`` except for
rotations by an odd multiple of 90°, which map an H × W image to a W × H image: such a rotation
is a bijection between two grids, not a permutation of one. Applying a permutation only moves
values, so it commutes bit for bit with every elementwise computation.

The class is the whole public surface: constructors are class methods (``random``,
``translation``, ``rotation90``, ``flip``, ``identity``), the group operations are methods
(``apply``, ``inverse``, ``apply_inverse``, ``compose``).

Examples
--------
>>> import numpy as np
>>> from lib.core.permutations import GridPermutation
>>> f = np.arange(6.0).reshape(2, 3)
>>> P = GridPermutation.rotation90(f.shape)
>>> P.out_shape
(3, 2)
>>> bool(np.array_equal(P.apply(f), np.rot90(f)))
True
>>> S = GridPermutation.random(f.shape, np.random.default_rng(0))
>>> bool(np.array_equal(S.apply_inverse(S.apply(f)), f))
True
>>> S.compose(S.inverse()).is_identity()
True
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import check_grid_shape, check_int, check_rng

__all__ = ["GridPermutation"]


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
        raise ValueError(f"index has {arr.size} entries but in_shape {in_shape} has {n} pixels; "
                         "a permutation needs the same number of pixels in both grids")
    flat = arr.astype(np.int64).ravel()
    if flat.min() < 0 or flat.max() >= n:
        raise ValueError(f"index is not a permutation: entries must lie in [0, {n - 1}], "
                         f"got values from {flat.min()} to {flat.max()}")
    counts = np.bincount(flat, minlength=n)
    if np.any(counts != 1):
        missing = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(f"index is not a permutation: pixel {missing} never occurs "
                         f"({int(np.sum(counts > 1))} pixel numbers are repeated)")
    out = flat.reshape(arr.shape)
    out.flags.writeable = False
    return out, in_shape


def _check_integer(value, message: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(message)
    return int(value)


@dataclass(frozen=True, eq=False)
class GridPermutation:
    """A bijection between the pixels of two grids with the same number of pixels.

    Parameters
    ----------
    index : array_like of int, 2-D
        ``index[r, c]`` = number (``y * W + x``) of the input pixel placed at ``(r, c)``; every
        number 0, …, H·W − 1 must occur exactly once. Stored as a read-only int64 array whose
        shape is ``out_shape``.
    in_shape : pair of int, optional
        Input grid ``(H, W)``; defaults to ``index.shape`` (a permutation within one grid).
    name : str
        A label for figures and tables.

    Raises
    ------
    TypeError
        If ``index`` does not hold integers.
    ValueError
        If ``index`` is not 2-D, does not have H·W entries, or is not a permutation of
        0, …, H·W − 1 (an entry out of range or repeated).
    """

    index: np.ndarray
    in_shape: tuple[int, int] | None = None
    name: str = ""

    def __post_init__(self):
        index, in_shape = _validated_index(self.index, self.in_shape)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "in_shape", in_shape)
        object.__setattr__(self, "name", str(self.name))

    # --- constructors ------------------------------------------------------------------------

    @classmethod
    def _from_grid_op(cls, shape, op, name: str) -> "GridPermutation":
        """The permutation an array operation ``op`` (roll, rot90, flip, …) performs on pixels."""
        shape = check_grid_shape(shape)
        numbers_ = np.arange(shape[0] * shape[1], dtype=np.int64).reshape(shape)
        return cls(np.ascontiguousarray(op(numbers_)), in_shape=shape, name=name)

    @classmethod
    def identity(cls, shape) -> "GridPermutation":
        """The identity on an ``(H, W)`` grid."""
        return cls._from_grid_op(shape, lambda a: a, "identity")

    @classmethod
    def random(cls, shape, rng: np.random.Generator) -> "GridPermutation":
        """A uniformly random permutation (a shuffle) of the pixels of an ``(H, W)`` grid."""
        shape = check_grid_shape(shape)
        check_rng(rng)
        return cls(rng.permutation(shape[0] * shape[1]).reshape(shape), name="random shuffle")

    @classmethod
    def translation(cls, shape, shift) -> "GridPermutation":
        """Cyclic translation by ``shift = (dy, dx)``: P(f) = ``np.roll(f, shift, (0, 1))``.

        Pixel (y, x) moves to ((y + dy) mod H, (x + dx) mod W): a translation on the torus.
        """
        shape = check_grid_shape(shape)
        try:
            dy, dx = shift
        except (TypeError, ValueError):
            raise ValueError(f"shift must be a pair (dy, dx) of integers, got {shift!r}") from None
        what = f"shift must be a pair (dy, dx) of integers, got {shift!r}"
        dy, dx = _check_integer(dy, what), _check_integer(dx, what)
        return cls._from_grid_op(shape, lambda a: np.roll(a, (dy, dx), axis=(0, 1)),
                                 f"translation ({dy}, {dx})")

    @classmethod
    def rotation90(cls, shape, k: int = 1) -> "GridPermutation":
        """Rotation by k · 90° counter-clockwise: P(f) = ``np.rot90(f, k)``.

        For odd ``k`` the ``(H, W)`` grid maps to the ``(W, H)`` grid (``out_shape``).
        """
        shape = check_grid_shape(shape)
        k = _check_integer(k, f"k must be an integer number of quarter turns, got {k!r}")
        return cls._from_grid_op(shape, lambda a: np.rot90(a, k), f"rotation {90 * (k % 4)}°")

    @classmethod
    def flip(cls, shape, axis: int) -> "GridPermutation":
        """Reflection: ``axis=0`` turns the image upside down, ``axis=1`` mirrors left and right."""
        shape = check_grid_shape(shape)
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral) or axis not in (0, 1):
            raise ValueError(f"axis must be 0 (upside down) or 1 (left-right), got {axis!r}")
        return cls._from_grid_op(shape, lambda a: np.flip(a, int(axis)),
                                 ("upside-down", "left-right")[axis] + " flip")

    # --- the group ---------------------------------------------------------------------------

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
            np.array_equal(self.index.ravel(), np.arange(self.size)))

    def apply(self, image, *, batch_dims: int = 0) -> np.ndarray:
        """P(f): move the pixels of ``image`` (shape ``lead + in_shape [+ (C,)]``, ``lead`` the
        first ``batch_dims`` axes). Any dtype; values are copied, never computed with.

        Returns
        -------
        ndarray, shape ``lead + out_shape [+ (C,)]``, same dtype as ``image``
        """
        arr = np.asarray(image)
        b = check_int(batch_dims, "batch_dims", 0)
        if arr.ndim not in (b + 2, b + 3) or arr.shape[b:b + 2] != self.in_shape:
            lead = f"{b} leading axes, then " if b else ""
            raise ValueError(f"image must have shape {lead}{self.in_shape} or "
                             f"{lead}{self.in_shape} + (C,), got {arr.shape}")
        lead, rest = arr.shape[:b], arr.shape[b + 2:]
        flat = arr.reshape(lead + (self.size,) + rest)
        return np.take(flat, self.index.ravel(), axis=b).reshape(lead + self.out_shape + rest)

    __call__ = apply

    def inverse(self) -> "GridPermutation":
        """P⁻¹, from ``out_shape`` back to ``in_shape``, with P⁻¹(P(f)) = f."""
        inv = np.empty(self.size, dtype=np.int64)
        inv[self.index.ravel()] = np.arange(self.size, dtype=np.int64)
        name = f"inverse of {self.name}" if self.name else ""
        return GridPermutation(inv.reshape(self.in_shape), in_shape=self.out_shape, name=name)

    def apply_inverse(self, image, *, batch_dims: int = 0) -> np.ndarray:
        """P⁻¹(g) for ``image`` on the output grid (shape ``lead + out_shape [+ (C,)]``)."""
        return self.inverse().apply(image, batch_dims=batch_dims)

    def compose(self, q: "GridPermutation") -> "GridPermutation":
        """The composition P ∘ q: ``P.compose(q).apply(f) == P.apply(q.apply(f))``.

        Raises
        ------
        ValueError
            If the output grid of ``q`` is not the input grid of P.
        """
        if not isinstance(q, GridPermutation):
            raise TypeError(f"q must be a GridPermutation, got {type(q).__name__}")
        if q.out_shape != self.in_shape:
            raise ValueError(f"cannot compose: q maps to a {q.out_shape} grid but P acts on a "
                             f"{self.in_shape} grid")
        name = f"{self.name} ∘ {q.name}" if self.name and q.name else ""
        return GridPermutation(q.index.ravel()[self.index], in_shape=q.in_shape, name=name)
