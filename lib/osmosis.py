"""Linear osmosis filtering (paper, Eqs. 26–28; Weickert et al. 2013, Vogel et al. 2013).

The continuous model (paper, Eq. 26) is ∂ₜu = Δu − div(d u) on the image domain with zero flux
across its boundary; Eq. (27) is its 1-D version. With the *canonical drift* d = ∇v / v of a
positive guidance image v its steady state is w = (μ_f / μ_v) · v.

Discretisation (Vogel et al. 2013). Pixels are cells of side ``h``; u lives in the cell centres
and the drift on the faces between neighbouring cells (a staggered grid). Across the face
between cells p and q (q to the right of / below p)

    flux  F_pq = (u_q − u_p) / h − d_pq · (u_q + u_p) / 2,
    canonical drift  d_pq = 2 (v_q − v_p) / (h (v_q + v_p)),

and the flux across the image boundary is zero. Each face adds F_pq / h to (A u)_p and subtracts
it from (A u)_q, so every column of the matrix A sums to zero (mass is conserved); the
off-diagonals (1/h ∓ d/2)/h are positive whenever |d| h < 2, which the canonical drift of any
positive v satisfies. For the canonical drift, F_pq vanishes at u = v, so A v = 0 exactly.

Time stepping of du/dt = A u (:func:`evolve`): the explicit scheme u ← (I + τA) u, stable and
positivity preserving for τ ≤ 1 / max |a_ii|, and the implicit scheme (I − τA) u^{k+1} = u^k,
which preserves positivity and mass for every τ > 0 because I − τA is a nonsingular M-matrix
with unit column sums. The implicit system is solved by

* ``"bicgstab"`` — BiCGSTAB, as in the paper, warm-started from the previous step;
  ``"bicgstab-cold"`` starts every step from zero (the paper's set-up as we read it);
* ``"splu"`` — one sparse LU factorisation of I − τA per step size, reused for every step;
* ``"krylov"`` — for operators made symmetric by a positive weight (canonical drift: the
  guidance v; homogeneous diffusion: ones), all requested implicit-Euler iterates at once from
  one Lanczos basis: u^k = (I − τA)^{−k} u^0 is a rational function of the symmetrised matrix;
* ``"auto"`` picks between them per run of equal step sizes (see :func:`evolve`).

Grids are 1-D (n,) or 2-D (H, W) arrays; a 3-D array (H, W, C) is a colour image, processed
channel by channel (paper, Section 4.1).
"""

from __future__ import annotations

import inspect
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import eigh_tridiagonal

from ._threads import blas_limit
from ._validation import as_float_array, check_rng
from ._validation import check_positive_real as _check_positive_scalar

__all__ = [
    "amount_of",
    "canonical_drift",
    "column_sum_error",
    "correlation",
    "edge_amount",
    "EvolutionInfo",
    "evolve",
    "exact_solution_1d",
    "explicit_step_bound",
    "forward_relative_entropy",
    "grey_to_unit",
    "guidance_from_drift",
    "homogeneous_diffusion",
    "lyapunov",
    "mass_error",
    "METHODS",
    "noise_guidance",
    "offdiagonal_range",
    "osmosis",
    "osmosis_matrix",
    "relative_entropy",
    "roundoff_bound",
    "space_convergence",
    "staged_schedule",
    "steady_state",
    "steady_state_residual",
    "time_convergence",
    "unit_to_grey",
    "zero_drift",
]

METHODS = ("auto", "explicit", "bicgstab", "bicgstab-cold", "splu", "krylov")
KRYLOV_MEMORY = 2**28  # bytes the stored Lanczos basis may occupy (256 MiB)
_KRYLOV_MAX_ITER = 1000
_SPLU_MAX_UNKNOWNS = 4_000_000
# Rough costs in units of one sparse matrix-vector product with A, measured on the 300 × 451
# cat (benchmarks/bench_osmosis.py): an LU solve ≈ 20–35, a factorisation ≈ 750–1100, a
# Lanczos step with its share of the final assembly ≈ 3. Only the order of magnitude matters.
_COST_SOLVE, _COST_FACTOR, _COST_LANCZOS = 20.0, 750.0, 3.0

# BLAS threads used inside evolve(): the vectors of one image are too short for threaded BLAS
# to pay off, and on a busy 2-core machine threading made runs 2-5× slower. None: no limit.
BLAS_THREADS: int | None = 1
def _blas_limit():
    return blas_limit(BLAS_THREADS)


_BICGSTAB_RTOL = "rtol" if "rtol" in inspect.signature(spla.bicgstab).parameters else "tol"


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------


def _check_h(h) -> float:
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise TypeError(f"h must be a positive real number (the grid spacing), got {h!r}")
    value = float(h)
    if not (0.0 < value < np.inf):
        raise ValueError(f"h must be a positive finite number (the grid spacing), got {value!r}")
    return value



def _positive_array(x, name: str) -> np.ndarray:
    """float64 copy of a finite, strictly positive array (osmosis needs f > 0 and v > 0)."""
    arr = np.array(as_float_array(x, name), dtype=np.float64)
    if np.any(arr <= 0.0):
        raise ValueError(
            f"{name} must be strictly positive (osmosis acts on positive images); "
            f"its smallest value is {float(arr.min())!r} — add an offset"
        )
    return arr


def _grid_array(x, name: str, allow_colour: bool = True) -> np.ndarray:
    arr = _positive_array(x, name)
    allowed = (1, 2, 3) if allow_colour else (1, 2)
    if arr.ndim not in allowed:
        what = "1-D, 2-D or colour (H, W, C)" if allow_colour else "1-D or 2-D"
        raise ValueError(f"{name} must be a {what} array, got shape {arr.shape}")
    return arr


def _same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def _drift_array(d, name: str) -> np.ndarray:
    arr = np.asarray(d)
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf")
    return arr


# ---------------------------------------------------------------------------------------------
# drift and operator
# ---------------------------------------------------------------------------------------------


def _face_drift(vp: np.ndarray, vq: np.ndarray, h: float) -> np.ndarray:
    return 2.0 * (vq - vp) / (h * (vq + vp))


def canonical_drift(v, h: float = 1.0):
    """Canonical drift d = ∇v / v of a positive guidance image on the staggered grid.

    On the face between neighbouring cells p and q (q after p along the axis),
    d_pq = 2 (v_q − v_p) / (h (v_q + v_p)): the difference quotient of v over the mean of v on
    the face (Vogel et al. 2013). It is unchanged when v is multiplied by a constant.

    Parameters
    ----------
    v : array_like, shape (n,) or (H, W)
        Strictly positive guidance image.
    h : float
        Grid spacing.

    Returns
    -------
    ndarray of shape (n − 1,) for 1-D ``v``, or a pair ``(d_y, d_x)`` of arrays of shapes
    (H − 1, W) (faces between rows) and (H, W − 1) (faces between columns) for 2-D ``v``.
    """
    h = _check_h(h)
    v = _grid_array(v, "v", allow_colour=False)
    if v.ndim == 1:
        return _face_drift(v[:-1], v[1:], h)
    return _face_drift(v[:-1, :], v[1:, :], h), _face_drift(v[:, :-1], v[:, 1:], h)


def zero_drift(shape):
    """The zero drift field on a grid of ``shape`` (homogeneous diffusion, d = 0)."""
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if len(shape) not in (1, 2) or min(shape) < 1:
        raise ValueError(f"shape must be (n,) or (H, W) with positive sides, got {shape}")
    if len(shape) == 1:
        return np.zeros(shape[0] - 1)
    ny, nx = shape
    return np.zeros((ny - 1, nx)), np.zeros((ny, nx - 1))


def guidance_from_drift(d, h: float = 1.0) -> np.ndarray:
    """The positive v (with v_0 = 1) whose 1-D canonical drift is ``d``: the kernel of A.

    Inverting d = 2 (v_{i+1} − v_i) / (h (v_{i+1} + v_i)) gives
    v_{i+1} / v_i = (2 + h d) / (2 − h d). In 1-D every drift with |d| h < 2 is canonical, so
    this is the discrete steady state of any 1-D operator (up to its mass).

    Parameters
    ----------
    d : array_like, shape (n − 1,)
    h : float
    """
    h = _check_h(h)
    d = _drift_array(d, "d")
    if d.ndim != 1:
        raise ValueError(f"d must be a 1-D drift on the n − 1 inner faces, got shape {d.shape}")
    _check_drift_size(d, h, "d")
    log_ratio = np.log1p(h * d / 2.0) - np.log1p(-h * d / 2.0)
    return np.exp(np.concatenate([[0.0], np.cumsum(log_ratio)]))


def _check_drift_size(d: np.ndarray, h: float, name: str) -> None:
    if d.size and float(np.abs(d).max()) * h >= 2.0:
        raise ValueError(
            f"|{name}| · h must be < 2 on every face so that the off-diagonals (1/h ∓ d/2)/h of A "
            f"are positive (Vogel et al. 2013); got max |{name}| · h = {float(np.abs(d).max()) * h:.4g}"
        )


def _faces(shape: tuple[int, ...], drift) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices (p, q) of the two cells of every face and the drift on it."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) == 1:
        return idx[:-1], idx[1:], drift
    d_y, d_x = drift
    p = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    q = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    return p, q, np.concatenate([d_y.ravel(), d_x.ravel()])


def _drift_shape(drift) -> tuple[tuple[int, ...], object]:
    """Validated drift and the grid shape it belongs to."""
    if isinstance(drift, (tuple, list)):
        if len(drift) != 2:
            raise ValueError("a 2-D drift must be a pair (d_y, d_x)")
        d_y, d_x = _drift_array(drift[0], "drift[0]"), _drift_array(drift[1], "drift[1]")
        if d_y.ndim != 2 or d_x.ndim != 2:
            raise ValueError(f"d_y and d_x must be 2-D, got shapes {d_y.shape} and {d_x.shape}")
        ny, nx = d_y.shape[0] + 1, d_y.shape[1]
        if d_x.shape != (ny, nx - 1) or nx < 1:
            raise ValueError(
                f"drift shapes do not fit one grid: d_y {d_y.shape} needs d_x of shape {(ny, nx - 1)}, "
                f"got {d_x.shape}"
            )
        return (ny, nx), (d_y, d_x)
    d = _drift_array(drift, "drift")
    if d.ndim != 1:
        raise ValueError(
            f"drift must be a 1-D array on the n − 1 inner faces or a pair (d_y, d_x), got shape {d.shape}"
        )
    return (d.size + 1,), d


def osmosis_matrix(drift, h: float = 1.0) -> sp.csr_array:
    """The discrete osmosis operator A of Vogel et al. (2013) as a sparse matrix.

    (A u)_p = Σ_faces ± F_pq / h with F_pq = (u_q − u_p)/h − d_pq (u_q + u_p)/2 and zero flux
    across the grid boundary: a finite-volume discretisation of Δu − div(d u) (paper, Eq. 26;
    Eq. 27 in 1-D). Cells are numbered in C order (``u.ravel()``).

    Parameters
    ----------
    drift : ndarray of shape (n − 1,), or pair (d_y, d_x) of shapes (H − 1, W), (H, W − 1)
        Drift on the inner faces, e.g. from :func:`canonical_drift` or :func:`zero_drift`.
        |d| h < 2 is required (positive off-diagonals).
    h : float
        Grid spacing.

    Returns
    -------
    scipy.sparse.csr_array, shape (N, N) with N the number of cells
        Zero column sums, positive off-diagonals between neighbours, non-positive diagonal.
    """
    h = _check_h(h)
    shape, drift = _drift_shape(drift)
    p, q, d = _faces(shape, drift)
    _check_drift_size(d, h, "drift")
    n = int(np.prod(shape))
    ih = 1.0 / h
    a = ih * (ih - 0.5 * d)  # weight of u_q in F_pq / h: A[p, q]
    b = -ih * (ih + 0.5 * d)  # weight of u_p in F_pq / h: A[p, p] += b, A[q, p] = −b
    rows = np.concatenate([p, p, q, q])
    cols = np.concatenate([q, p, p, q])
    vals = np.concatenate([a, b, -b, -a])
    return sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(n, n)))


def column_sum_error(A) -> float:
    """Largest |column sum| of A relative to the largest column sum of |A| (0 for mass conservation).

    A time step u ← P u conserves Σ u for every u exactly when every column of P sums to one, i.e.
    when the columns of A sum to zero. Round-off makes this ~1e-16, not 0.
    """
    A = sp.csr_array(A)
    scale = float(np.abs(A).sum(axis=0).max()) or 1.0
    return float(np.abs(A.sum(axis=0)).max()) / scale


def explicit_step_bound(A) -> float:
    """Largest τ of the explicit scheme u ← (I + τA) u: 1 / max |a_ii|.

    For τ up to this bound I + τA has non-negative entries and unit column sums, so the explicit
    scheme preserves positivity and mass (Vogel et al. 2013); beyond it, it does not.
    """
    diag = np.abs(sp.csr_array(A).diagonal())
    top = float(diag.max()) if diag.size else 0.0
    return np.inf if top == 0.0 else 1.0 / top


def offdiagonal_range(A) -> tuple[float, float, int]:
    """Smallest and largest off-diagonal entry stored in A, and how many there are."""
    A = sp.coo_array(A)
    off = A.data[(A.row != A.col) & (A.data != 0)]
    if off.size == 0:
        return float("nan"), float("nan"), 0
    return float(off.min()), float(off.max()), int(off.size)


def steady_state_residual(A, w) -> float:
    """max_p |(A w)_p| / max_p (|A| |w|)_p: 0 in exact arithmetic when w is a steady state."""
    A = sp.csr_array(A)
    w = np.asarray(w, dtype=np.float64).ravel()
    scale = float((abs(A) @ np.abs(w)).max())
    return float(np.abs(A @ w).max()) / scale if scale > 0 else 0.0


def roundoff_bound(A, times, tau=None) -> float:
    """ε Σ_k κ₁(I − τ_k A): round-off bound on the relative mass error of an implicit run.

    κ₁(I − τA) = ‖I − τA‖₁ ‖(I − τA)⁻¹‖₁ = (1 + 2τ max|a_ii|) · 1, because the columns of
    I − τA have absolute sums 1 + 2τ|a_ii| and its inverse is positive with unit column sums.
    A backward-stable solve perturbs each step by about ε κ₁ relative.
    """
    times = _check_times(times)
    taus, counts = _step_plan(times, tau)
    top = float(np.abs(sp.csr_array(A).diagonal()).max())
    return float(np.finfo(np.float64).eps * (counts * (1.0 + 2.0 * taus * top)).sum())


def mass_error(snapshots, f) -> float:
    """Largest relative change of the total mass Σu: one state (f.shape) or a stack (K,) + f.shape."""
    f = as_float_array(f, "f").astype(np.float64)
    u = as_float_array(snapshots, "snapshots").astype(np.float64)
    if u.shape == f.shape:
        u = u[None]
    elif u.shape[1:] != f.shape:
        raise ValueError(f"snapshots must have shape {f.shape} or (K,) + {f.shape}, got {u.shape}")
    total = u.reshape(u.shape[0], -1).sum(axis=1)
    return float(np.abs(total / f.sum() - 1.0).max())


# ---------------------------------------------------------------------------------------------
# steady state, Lyapunov functional, guidance
# ---------------------------------------------------------------------------------------------


def _spatial_axes(arr: np.ndarray) -> tuple[int, ...]:
    return (0,) if arr.ndim == 1 else (0, 1)


def steady_state(f, v) -> np.ndarray:
    """Steady state w = (μ_f / μ_v) · v of osmosis with the canonical drift of v (paper, Sec. 4.2).

    μ denotes the mean grey value; colour images (H, W, C) use the means of each channel.
    w has the mass of f and A w = 0, so it is the limit of the evolution (closed form, no solve).
    """
    f = _grid_array(f, "f")
    v = _grid_array(v, "v")
    _same_shape(f, v, "f", "v")
    axes = _spatial_axes(f)
    return f.mean(axis=axes, keepdims=True) / v.mean(axis=axes, keepdims=True) * v


def _states_and_reference(u, w, h):
    """Validate a state u (or a stack (K,) + w.shape of states) against a reference w."""
    h = _check_h(h)
    w = _grid_array(w, "w")
    u = _positive_array(u, "u")
    stacked = u.shape != w.shape
    if stacked and u.shape[1:] != w.shape:
        raise ValueError(f"u must have shape {w.shape} or (K,) + {w.shape}, got {u.shape}")
    return h, u, w, stacked


def lyapunov(u, w, h: float = 1.0):
    """The Lyapunov functional of paper Eq. (28): L = −∫ u ln(u / w) dx.

    Discretised as −h^D Σ_cells u ln(u / w) with D = 1 for 1-D grids and 2 for images (colour
    channels are summed). −L is the relative entropy (Kullback–Leibler divergence) of u with
    respect to the steady state w; when u and w have the same mass it is ≥ 0 (Gibbs), so L ≤ 0,
    with equality only at u = w.

    Parameters
    ----------
    u : array_like, shape ``w.shape`` or (K,) + ``w.shape``
        One state or a stack of K states (strictly positive).
    w : array_like
        Strictly positive steady state.
    h : float
        Grid spacing.

    Returns
    -------
    float, or ndarray of shape (K,)
    """
    h, u, w, stacked = _states_and_reference(u, w, h)
    cell = h ** min(w.ndim, 2)
    terms = u * np.log(u / w)
    value = -cell * terms.reshape((u.shape[0], -1) if stacked else (-1,)).sum(axis=-1)
    return value if stacked else float(value)


def relative_entropy(u, w, h: float = 1.0):
    """Relative entropy h^D Σ [u ln(u/w) − u + w] of u with respect to w (≥ 0 termwise).

    When u and w have the same mass (as along the osmosis evolution) this is exactly −L of
    Eq. (28); unlike −L it stays non-negative when round-off changes the mass by ~1e-13, so
    it can be plotted on a log axis down to its round-off floor. Each term is w φ(u/w) with
    φ(r) = r ln r − r + 1 ≥ 0, evaluated as (1 + x) log1p(x) − x, x = r − 1.

    Parameters and shapes as in :func:`lyapunov`.
    """
    h, u, w, stacked = _states_and_reference(u, w, h)
    x = u / w - 1.0
    terms = w * np.maximum((1.0 + x) * np.log1p(x) - x, 0.0)
    value = h ** min(w.ndim, 2) * terms.reshape((u.shape[0], -1) if stacked else (-1,)).sum(axis=-1)
    return value if stacked else float(value)


def noise_guidance(shape, offset: float, rng: np.random.Generator) -> np.ndarray:
    """Positive Gaussian-noise guidance image v = offset + G, G ~ N(0, I).

    The paper guides osmosis with a "standard normal noise sample"; osmosis needs v > 0, hence
    the offset. Since the scheme is invariant to scaling v, the offset alone sets how noisy the
    steady state w ∝ v is: its relative fluctuation is about 1 / offset.

    Raises
    ------
    ValueError
        If some value is ≤ 0 (the offset is too small for this draw).
    """
    offset = _check_positive_scalar(offset, "offset")
    check_rng(rng)
    v = offset + rng.standard_normal(tuple(np.atleast_1d(shape).astype(int)))
    bad = int(np.count_nonzero(v <= 0.0))
    if bad:
        raise ValueError(
            f"offset {offset:g} is too small: {bad} of the {v.size} guidance values are ≤ 0"
        )
    return v


def unit_to_grey(u, offset: float = 1.0) -> np.ndarray:
    """Map values in [−1, 1] to positive grey values 127.5 (u + 1) + offset ∈ [offset, 255 + offset]."""
    offset = _check_positive_scalar(offset, "offset")
    return 127.5 * (as_float_array(u, "u").astype(np.float64) + 1.0) + offset


def grey_to_unit(g, offset: float = 1.0) -> np.ndarray:
    """Inverse of :func:`unit_to_grey`, for display with :func:`lib.plotting.to_display`."""
    offset = _check_positive_scalar(offset, "offset")
    return (as_float_array(g, "g").astype(np.float64) - offset) / 127.5 - 1.0


# ---------------------------------------------------------------------------------------------
# comparison measures
# ---------------------------------------------------------------------------------------------


def _stack_and_reference(u, f):
    f = as_float_array(f, "f").astype(np.float64)
    u = as_float_array(u, "u").astype(np.float64)
    stacked = u.shape != f.shape
    if stacked and u.shape[1:] != f.shape:
        raise ValueError(f"u must have shape {f.shape} or (K,) + {f.shape}, got {u.shape}")
    uu = u.reshape((u.shape[0], -1) if stacked else (1, -1))
    fc = f.ravel() - f.mean()
    if not np.any(fc):
        raise ValueError("f must not be constant")
    return uu - uu.mean(axis=1, keepdims=True), fc, stacked


def amount_of(u, f):
    """How much of f is left in u: the regression coefficient ⟨u − ū, f − f̄⟩ / ‖f − f̄‖².

    1 for u = f (or f plus a constant), 0 when u carries no component along f (a constant image,
    or independent noise on average). For the forward process E[amount] = √ᾱ_i. Unlike the
    correlation, it is defined for a constant u and measures amplitude, not shape.

    Returns
    -------
    float, or ndarray of shape (K,) for a stack u of shape (K,) + f.shape
    """
    uc, fc, stacked = _stack_and_reference(u, f)
    value = uc @ fc / (fc @ fc)
    return value if stacked else float(value[0])


def correlation(u, f):
    """Pearson correlation of u with f over all pixels.

    NaN when u is constant up to round-off (spread ≤ 1e-12 of its magnitude): the correlation
    of round-off noise with f means nothing.
    """
    uu = np.asarray(u, dtype=np.float64)
    uc, fc, stacked = _stack_and_reference(u, f)
    spread = np.sqrt((uc * uc).mean(axis=1))
    level = np.abs(uu.reshape(uc.shape)).max(axis=1)
    flat = spread <= 1e-12 * level  # constant up to round-off: no shape to correlate
    norm = np.sqrt((uc * uc).sum(axis=1)) * np.sqrt(fc @ fc)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(flat | (norm == 0), np.nan, uc @ fc / np.where(norm > 0, norm, 1.0))
    return value if stacked else float(value[0])


def _gradients(a: np.ndarray) -> np.ndarray:
    if a.ndim == 1:
        return np.diff(a)
    return np.concatenate([np.diff(a, axis=0).ravel(), np.diff(a, axis=1).ravel()])


def edge_amount(u, f):
    """How much of the edges of f is left in u: ⟨∇u, ∇f⟩ / ‖∇f‖² (forward differences).

    The regression coefficient of the gradient field of u on that of f. For the forward process
    its expectation is √ᾱ_i, the same as :func:`amount_of` (noise is independent of f, edges
    only lose contrast); smoothing removes edges faster than the coarse layout, so for diffusion
    and osmosis it falls below :func:`amount_of`. Images: 1-D or 2-D (stacks along axis 0).
    """
    f = as_float_array(f, "f").astype(np.float64)
    u = as_float_array(u, "u").astype(np.float64)
    stacked = u.shape != f.shape
    if stacked and u.shape[1:] != f.shape:
        raise ValueError(f"u must have shape {f.shape} or (K,) + {f.shape}, got {u.shape}")
    if f.ndim not in (1, 2):
        raise ValueError(f"f must be 1-D or 2-D, got shape {f.shape}")
    gf = _gradients(f)
    if not np.any(gf):
        raise ValueError("f must not be constant")
    stack = u if stacked else u[None]
    if f.ndim == 1:
        dots = np.diff(stack, axis=1) @ gf
    else:
        gy, gx = np.diff(f, axis=0), np.diff(f, axis=1)
        dots = (np.tensordot(np.diff(stack, axis=1), gy, axes=2)
                + np.tensordot(np.diff(stack, axis=2), gx, axes=2))
    value = np.asarray(dots, dtype=np.float64) / (gf @ gf)
    return value if stacked else float(value[0])


def forward_relative_entropy(f, alpha_bar):
    """KL(p(u_i | u_0 = f) ‖ N(0, I)) of the forward process, in nats (closed form).

    p(u_i | f) = N(√ᾱ f, (1 − ᾱ) I) (paper, Eq. 5), so with n = f.size

        KL = ½ [ᾱ (‖f‖² − n) − n ln(1 − ᾱ)],

    the relative entropy of row (a) of Fig. 1 with respect to its steady state, decreasing to 0
    as ᾱ → 0: the counterpart of −L (Eq. 28). ᾱ = 1 (step 0) gives +∞.

    Parameters
    ----------
    f : array_like
    alpha_bar : float or array_like of values in (0, 1]
    """
    f = as_float_array(f, "f").astype(np.float64)
    a = as_float_array(alpha_bar, "alpha_bar").astype(np.float64)
    if np.any((a <= 0.0) | (a > 1.0)):
        raise ValueError("alpha_bar must lie in (0, 1]")
    n = f.size
    out = np.full(a.shape, np.inf)
    inner = a < 1.0
    ai = a[inner]
    out[inner] = 0.5 * (ai * (float(f.ravel() @ f.ravel()) - n) - n * np.log1p(-ai))
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# time stepping
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvolutionInfo:
    """What :func:`evolve` did, one entry per run of equal step sizes.

    Attributes
    ----------
    taus : tuple of float
        Step size of each run.
    steps : tuple of int
        Number of time steps in each run.
    methods : tuple of str
        Solver used in each run.
    iterations : tuple of int
        BiCGSTAB iterations summed over the run, Lanczos steps for ``"krylov"``, 0 otherwise.
    residual : float
        Largest relative residual ‖(I − τA) u^{k+1} − u^k‖ / ‖u^k‖ over the checked implicit
        steps (every step for ``"bicgstab"`` and ``"splu"``, the last step of each run for
        ``"krylov"``); NaN if no implicit step was taken.
    """

    taus: tuple
    steps: tuple
    methods: tuple
    iterations: tuple
    residual: float


def _check_times(times) -> np.ndarray:
    t = np.atleast_1d(as_float_array(times, "times").astype(np.float64))
    if t.ndim != 1:
        raise ValueError(f"times must be a 1-D sequence, got shape {t.shape}")
    if t[0] < 0.0 or np.any(np.diff(t) <= 0.0):
        raise ValueError(f"times must be non-negative and strictly increasing, got {t.tolist()}")
    return t


def _step_plan(times: np.ndarray, tau) -> tuple[np.ndarray, np.ndarray]:
    """Step size and number of steps for each interval (t_{j−1}, t_j], t_{−1} = 0."""
    gaps = np.diff(np.concatenate([[0.0], times]))
    if tau is None:
        taus = gaps.copy()
        counts = (gaps > 0).astype(np.int64)
        taus[gaps == 0] = 1.0
        return taus, counts
    tau_arr = np.asarray(tau, dtype=np.float64) if not isinstance(tau, numbers.Real) else None
    if isinstance(tau, (bool, np.bool_)):
        raise TypeError(f"tau must be a positive number or a sequence of them, got {tau!r}")
    if tau_arr is None:
        taus = np.full(times.size, _check_positive_scalar(tau, "tau"))
    else:
        taus = tau_arr.ravel()
        if taus.shape != times.shape:
            raise ValueError(f"tau must be a scalar or have one entry per time ({times.size}), got {tau_arr.shape}")
        if not np.all(np.isfinite(taus)) or np.any(taus <= 0.0):
            raise ValueError(f"every tau must be positive and finite, got {taus.tolist()}")
    ratio = gaps / taus
    counts = np.rint(ratio).astype(np.int64)
    if np.any(np.abs(ratio - counts) > 1e-9 * np.maximum(1.0, ratio)):
        j = int(np.flatnonzero(np.abs(ratio - counts) > 1e-9 * np.maximum(1.0, ratio))[0])
        raise ValueError(
            f"the interval up to times[{j}] = {times[j]:g} has length {gaps[j]:g}, "
            f"not a whole number of steps tau = {taus[j]:g}"
        )
    return taus, counts


def _runs(taus: np.ndarray, counts: np.ndarray):
    """Group consecutive intervals with equal step size (intervals without steps join any run)."""
    runs = []
    for j, (tau, k) in enumerate(zip(taus.tolist(), counts.tolist())):
        if runs and (k == 0 or abs(runs[-1]["tau"] - tau) <= 1e-12 * tau):
            runs[-1]["keep"].append((j, k))
        else:
            runs.append({"tau": tau, "keep": [(j, k)]})
    return runs


class _Symmetriser:
    """B = −D⁻¹ A D with D = diag(√weight), symmetric when A diag(weight) is (detailed balance)."""

    def __init__(self, A: sp.csr_array, weight: np.ndarray):
        self.d = np.sqrt(weight)
        B = sp.csr_array(-(_diag(1.0 / self.d) @ A @ _diag(self.d)))
        asym = float(abs(B - B.T).max()) if B.nnz else 0.0
        scale = float(abs(B).max()) if B.nnz else 1.0
        self.ok = asym <= 1e-10 * scale
        self.B = sp.csr_array(0.5 * (B + B.T))
        self.rho = float(np.abs(self.B).sum(axis=1).max()) if B.nnz else 0.0


class _KrylovNotConverged(RuntimeError):
    pass


def _lanczos_coefficients(alpha, beta, nb, tau, counts):
    """Coordinates in the Lanczos basis of (I + τB)^{−k} b for every k in ``counts``."""
    if len(alpha) == 1:
        theta, S = np.array(alpha), np.ones((1, 1))
    else:
        theta, S = eigh_tridiagonal(np.array(alpha), np.array(beta))
    theta = np.clip(theta, 0.0, None)  # B is positive semi-definite; clip round-off
    log_decay = np.log1p(tau * theta)
    R = np.exp(-log_decay[:, None] * np.asarray(counts, dtype=np.float64)[None, :])
    return nb * (S @ (R * S[0][:, None]))


def _krylov_run(sym: _Symmetriser, A, u0: np.ndarray, tau: float, counts, rtol: float, max_iter: int):
    """All iterates u^k = (I − τA)^{−k} u0, k in ``counts`` (sorted), from one Lanczos basis.

    Stopping rule: the coordinates change by less than rtol ‖u0‖ (in the original variables)
    between two checks, and the last implicit step has relative residual ≤ rtol.
    """
    n = u0.size
    b = u0 / sym.d
    nb = float(np.linalg.norm(b))
    counts = np.asarray(counts, dtype=np.int64)
    if nb == 0.0:
        return np.zeros((counts.size, n)), 0, 0.0
    last = int(counts.max())
    wanted = np.concatenate([counts, [max(last - 1, 0)]])
    dmax = float(sym.d.max())
    target = rtol * float(np.linalg.norm(u0))
    Q = np.empty((max_iter, n))
    alpha, beta = [], []
    q, q_prev, beta_prev = b / nb, None, 0.0
    previous, next_check = None, 10
    M = None
    for j in range(max_iter):
        Q[j] = q
        w = sym.B @ q
        if q_prev is not None:
            w -= beta_prev * q_prev
        a = float(q @ w)
        w -= a * q
        beta_next = float(np.linalg.norm(w))
        alpha.append(a)
        invariant = beta_next <= 1e-13 * max(abs(a), beta_prev, 1e-300)
        if invariant or j + 1 == next_check or j + 1 == max_iter:
            C = _lanczos_coefficients(alpha, beta, nb, tau, wanted)
            change = np.inf
            if previous is not None:
                padded = np.zeros_like(C)
                padded[: previous.shape[0]] = previous
                change = dmax * float(np.linalg.norm(C - padded, axis=0).max())
            if invariant or change <= target:
                X = (C.T @ Q[: j + 1]) * sym.d
                residual = 0.0
                if last >= 1:
                    if M is None:
                        M = sp.csr_array(_diag(np.ones(n)) - tau * A)
                    prev = X[-1]
                    r = float(np.linalg.norm(M @ X[np.flatnonzero(counts == last)[0]] - prev))
                    residual = r / max(float(np.linalg.norm(prev)), 1e-300)
                if invariant or residual <= rtol:
                    return X[:-1], j + 1, residual
            previous = C
            next_check = j + 1 + max(10, (j + 1) // 8)
        if invariant:
            break
        beta.append(beta_next)
        q_prev, q, beta_prev = q, w / beta_next, beta_next
    raise _KrylovNotConverged(f"Lanczos did not reach rtol = {rtol:g} in {max_iter} steps")


def _krylov_estimate(sym: _Symmetriser, t_span: float, rtol: float) -> int:
    """Rough number of Lanczos steps for (I − τA)^{−k}, k τ = t_span: √(ρ t ln(1/rtol))."""
    return int(1.2 * np.sqrt(max(sym.rho * t_span, 1.0) * np.log(1.0 / rtol))) + 20


def _choose(run_steps: int, tau: float, n: int, sym, rtol: float, factored: bool) -> str:
    if sym is not None and sym.ok:
        m = _krylov_estimate(sym, run_steps * tau, rtol)
        m_cap = min(_KRYLOV_MAX_ITER, KRYLOV_MEMORY // (8 * n))
        lu_cost = _COST_SOLVE * run_steps + (0.0 if factored else _COST_FACTOR)
        if m <= m_cap and _COST_LANCZOS * m < lu_cost:
            return "krylov"
    return "splu" if n <= _SPLU_MAX_UNKNOWNS else "bicgstab"


def _diag(x: np.ndarray) -> sp.csr_array:
    idx = np.arange(x.size)
    return sp.csr_array((x, (idx, idx)), shape=(x.size, x.size))


def _rel_residual(M, x: np.ndarray, rhs: np.ndarray) -> float:
    return float(np.linalg.norm(M @ x - rhs)) / max(float(np.linalg.norm(rhs)), 1e-300)


def _stepper(choice: str, A, identity, tau: float, factors: dict, rtol: float, maxiter):
    """One time step u -> (new u, iterations, relative residual or None) of the chosen scheme."""
    if choice == "explicit":
        return lambda u: (u + tau * (A @ u), 0, None)
    M = sp.csr_array(identity - tau * A)
    if choice == "splu":
        if tau not in factors:
            factors[tau] = spla.splu(sp.csc_array(M), permc_spec="MMD_AT_PLUS_A")
        lu = factors[tau]

        def lu_step(u):
            x = lu.solve(u)
            return x, 0, _rel_residual(M, x, u)

        return lu_step
    warm = choice == "bicgstab"

    def bicgstab_step(u):
        counter = [0]

        def count(_xk):
            counter[0] += 1

        x, flag = spla.bicgstab(M, u, x0=u if warm else None, atol=0.0, maxiter=maxiter,
                                callback=count, **{_BICGSTAB_RTOL: rtol})
        if flag != 0:
            what = f"did not converge in {flag}" if flag > 0 else f"broke down after {counter[0]}"
            raise RuntimeError(
                f"BiCGSTAB {what} iterations (tau = {tau:g}, rtol = {rtol:g}, scipy info = {flag})"
            )
        return x, counter[0], _rel_residual(M, x, u)

    return bicgstab_step


def evolve(u0, A, times, tau=None, *, method: str = "auto", weight=None, rtol: float = 1e-9,
           maxiter: int | None = None, return_info: bool = False):
    """Evolve du/dt = A u and return the states at the requested times (paper, Eq. 26).

    Parameters
    ----------
    u0 : array_like
        Initial state with ``u0.size == A.shape[0]`` (any shape; cells in C order).
    A : sparse matrix, shape (N, N)
        E.g. from :func:`osmosis_matrix`.
    times : sequence of float
        Non-negative, strictly increasing output times (0 returns ``u0``).
    tau : None, float or sequence of float
        Step sizes. ``None``: one implicit step per interval (τ_j = t_j − t_{j−1}); a float: a
        constant step; a sequence (one per time): ``tau[j]`` is used on (t_{j−1}, t_j]. Every
        interval must hold a whole number of steps.
    method : {"auto", "explicit", "bicgstab", "bicgstab-cold", "splu", "krylov"}
        ``"explicit"`` requires τ ≤ :func:`explicit_step_bound`. The implicit methods compute
        the same iterates of (I − τA) u^{k+1} = u^k to the tolerance. ``"auto"`` decides per run
        of equal step sizes: ``"krylov"`` when ``weight`` symmetrises A and the estimated number
        of Lanczos steps √(ρ t ln(1/rtol)) (ρ ≥ ‖A‖) is cheaper than the LU solves and fits in
        :data:`KRYLOV_MEMORY`; otherwise ``"splu"`` (``"bicgstab"`` beyond 4e6 unknowns).
    weight : array_like, optional
        Positive vector with A diag(weight) symmetric (for the canonical drift of v: v itself;
        for d = 0: ones). Needed for ``"krylov"``.
    rtol : float
        Relative tolerance: BiCGSTAB stops when ‖(I − τA) x − u^k‖ ≤ rtol ‖u^k‖ (atol = 0);
        Lanczos stops when its coordinates change by less than rtol ‖u(run start)‖ and the last
        step's residual meets the same bound.
    maxiter : int, optional
        BiCGSTAB iterations per step (scipy's default when None).
    return_info : bool
        Also return an :class:`EvolutionInfo`.

    Returns
    -------
    snapshots : ndarray, shape (len(times),) + u0.shape
    info : EvolutionInfo, only if ``return_info``

    Raises
    ------
    RuntimeError
        If BiCGSTAB does not converge (scipy reports it through ``info``; we check it), or
        Lanczos does not converge within :data:`KRYLOV_MEMORY` when ``method="krylov"``.
    """
    with _blas_limit():
        return _evolve(u0, A, times, tau, method, weight, rtol, maxiter, return_info)


def _evolve(u0, A, times, tau, method, weight, rtol, maxiter, return_info):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    A = sp.csr_array(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {A.shape}")
    u0 = np.array(as_float_array(u0, "u0"), dtype=np.float64)
    n = A.shape[0]
    if u0.size != n:
        raise ValueError(f"u0 has {u0.size} cells but A is {n} × {n}")
    rtol = _check_positive_scalar(rtol, "rtol")
    if rtol >= 1.0:
        raise ValueError(f"rtol must be < 1, got {rtol}")
    times = _check_times(times)
    taus, counts = _step_plan(times, tau)
    sym = None
    if weight is not None:
        weight = _positive_array(weight, "weight").ravel()
        if weight.size != n:
            raise ValueError(f"weight has {weight.size} entries but A is {n} × {n}")
        if method in ("auto", "krylov"):
            sym = _Symmetriser(A, weight)
    if method == "krylov" and (sym is None or not sym.ok):
        raise ValueError("method='krylov' needs a positive weight with A·diag(weight) symmetric")
    if method == "explicit":
        bound = explicit_step_bound(A)
        if np.any((counts > 0) & (taus > bound * (1 + 1e-12))):
            raise ValueError(
                f"explicit scheme: tau = {float(taus[counts > 0].max()):g} exceeds the stability "
                f"bound 1/max|a_ii| = {bound:g}; use an implicit method or a smaller tau"
            )

    out = np.empty((times.size, n))
    u = u0.ravel().copy()
    identity = _diag(np.ones(n))
    factors: dict = {}
    rec_taus, rec_steps, rec_methods, rec_iters, residuals = [], [], [], [], []

    for run in _runs(taus, counts):
        tau_r, keep = run["tau"], run["keep"]
        run_steps = sum(k for _, k in keep)
        choice = method
        if method == "auto":
            choice = _choose(run_steps, tau_r, n, sym, rtol, tau_r in factors) if run_steps else "splu"
        iters = 0
        if choice == "krylov" and run_steps:
            m_cap = min(_KRYLOV_MAX_ITER, max(20, KRYLOV_MEMORY // (8 * n)))
            try:
                X, iters, res = _krylov_run(sym, A, u, tau_r, np.cumsum([k for _, k in keep]), rtol, m_cap)
            except _KrylovNotConverged:
                if method == "krylov":
                    raise RuntimeError(
                        f"Lanczos did not converge to rtol = {rtol:g} within {m_cap} steps "
                        f"(tau = {tau_r:g}, {run_steps} steps); use method='splu'"
                    ) from None
                choice = "splu"
            else:
                for (j, _), x in zip(keep, X):
                    out[j] = x
                u = X[-1].copy()
                residuals.append(res)
        if choice != "krylov" or not run_steps:
            step = _stepper(choice, A, identity, tau_r, factors, rtol, maxiter) if run_steps else None
            for j, k in keep:
                for _ in range(k):
                    u, it, res = step(u)
                    iters += it
                    if res is not None:
                        residuals.append(res)
                out[j] = u
        rec_taus.append(tau_r)
        rec_steps.append(run_steps)
        rec_methods.append(choice)
        rec_iters.append(iters)
    snapshots = out.reshape((times.size,) + u0.shape)
    if not return_info:
        return snapshots
    info = EvolutionInfo(
        taus=tuple(rec_taus), steps=tuple(rec_steps), methods=tuple(rec_methods),
        iterations=tuple(rec_iters), residual=float(max(residuals)) if residuals else float("nan"),
    )
    return snapshots, info


def staged_schedule(fine_until: int = 1000, stages=((250.0, 1e4), (2500.0, 1e5)), *,
                    per_decade: int = 10, include=()) -> tuple[np.ndarray, np.ndarray]:
    """Output times and step sizes: τ = 1 up to ``fine_until``, then coarser stages.

    Up to ``fine_until`` the step is τ = 1 (the paper's) and the output times are the integers
    closest to ``per_decade`` log-spaced points per decade, plus ``include``. Each stage
    ``(tau, t_end)`` then continues with step ``tau`` up to ``t_end``; its outputs are again
    about ``per_decade`` log-spaced times per decade, rounded to whole steps, ending at
    ``t_end``. Pass both arrays to :func:`evolve` / :func:`osmosis` (``times``, ``tau``); an
    interval between two outputs may hold several steps.

    Returns
    -------
    times, taus : ndarray
        ``taus[j]`` is the step size on (times[j−1], times[j]].
    """
    for name, value in (("fine_until", fine_until), ("per_decade", per_decade)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    n_points = int(round(per_decade * np.log10(fine_until))) + 1
    early = np.rint(np.geomspace(1.0, fine_until, max(n_points, 2)))
    extra = np.asarray(include, dtype=np.float64).ravel()
    if extra.size and (np.any(extra != np.rint(extra)) or extra.min() < 0 or extra.max() > fine_until):
        raise ValueError(f"include must hold integers in [0, {fine_until}], got {extra.tolist()}")
    times = [np.unique(np.concatenate([early, extra, [float(fine_until)]]))]
    taus = [np.ones(times[0].size)]
    start = float(fine_until)
    for tau, end in stages:
        tau = _check_positive_scalar(tau, "stage tau")
        end = float(end)
        n_steps = (end - start) / tau
        if n_steps < 1 or abs(n_steps - round(n_steps)) > 1e-9 * n_steps:
            raise ValueError(f"stage ({tau:g}, {end:g}) must hold a whole number ≥ 1 of steps from t = {start:g}")
        n_log = max(int(round(per_decade * np.log10(end / start))), 1)
        targets = np.geomspace(start, end, n_log + 1)[1:]
        steps = np.unique(np.clip(np.rint((targets - start) / tau), 1, round(n_steps)))
        times.append(start + tau * steps)
        taus.append(np.full(steps.size, tau))
        start = end
    return np.concatenate(times), np.concatenate(taus)


def osmosis(f, v, times, tau=None, *, h: float = 1.0, method: str = "auto", rtol: float = 1e-9,
            return_info: bool = False):
    """Osmosis evolution of f guided by v (canonical drift ∇v / v; paper, Eqs. 26–27).

    Builds :func:`osmosis_matrix` of :func:`canonical_drift` (v) and calls :func:`evolve` with
    ``weight = v`` (the canonical drift makes A diag(v) symmetric, which enables ``"krylov"``).
    Colour images (H, W, C) are processed channel by channel.

    Parameters
    ----------
    f, v : array_like, same shape (n,), (H, W) or (H, W, C)
        Strictly positive initial and guidance images.
    times, tau, method, rtol : see :func:`evolve`
    h : float
        Grid spacing.
    return_info : bool
        Also return the list of :class:`EvolutionInfo` (one per channel).

    Returns
    -------
    snapshots : ndarray, shape (len(times),) + f.shape
    """
    f = _grid_array(f, "f")
    v = _grid_array(v, "v")
    _same_shape(f, v, "f", "v")
    h = _check_h(h)
    channels = [(f, v)] if f.ndim < 3 else [(f[..., c], v[..., c]) for c in range(f.shape[2])]
    results, infos = [], []
    for fc, vc in channels:
        A = osmosis_matrix(canonical_drift(vc, h), h)
        snaps, info = evolve(fc, A, times, tau, method=method, weight=vc, rtol=rtol, return_info=True)
        results.append(snaps)
        infos.append(info)
    snapshots = results[0] if f.ndim < 3 else np.stack(results, axis=-1)
    return (snapshots, infos) if return_info else snapshots


def homogeneous_diffusion(f, times, tau=None, *, h: float = 1.0, method: str = "auto",
                          rtol: float = 1e-9, return_info: bool = False):
    """Homogeneous diffusion ∂ₜu = Δu with zero flux: osmosis with d = 0 (constant guidance).

    The classical linear scale-space (Iijima 1962); the steady state is the constant μ_f.
    Same arguments and result as :func:`osmosis` without ``v``.
    """
    f = _grid_array(f, "f")
    return osmosis(f, np.ones_like(f), times, tau, h=h, method=method, rtol=rtol,
                   return_info=return_info)



# ---------------------------------------------------------------------------------------------
# convergence studies (1-D, known solutions)
# ---------------------------------------------------------------------------------------------


def exact_solution_1d(x, t, c: float = 1.0, amplitude: float = 0.3) -> np.ndarray:
    """Exact solution of Eq. (27) on [0, 1] with constant drift d = c and zero flux.

    d = c is the canonical drift of v = e^{cx}. Writing u = e^{cx/2} ψ turns
    u_t = u_xx − c u_x into ψ_t = ψ_xx − (c²/4) ψ with ψ_x = (c/2) ψ at x = 0 and x = 1
    (zero flux u_x − c u = 0), which ψ = π cos(πx) + (c/2) sin(πx) satisfies with decay rate
    π² + c²/4. So u = e^{cx} + amplitude · e^{−(π² + c²/4) t} e^{cx/2} ψ(x).
    """
    x = np.asarray(x, dtype=np.float64)
    rate = np.pi**2 + c**2 / 4.0
    mode = np.exp(c * x / 2.0) * (np.pi * np.cos(np.pi * x) + c / 2.0 * np.sin(np.pi * x))
    return np.exp(c * x) + amplitude * np.exp(-rate * t) * mode


def space_convergence(ns=(20, 40, 80, 160), t: float = 0.02, c: float = 1.0) -> np.ndarray:
    """Max error of the semi-discrete scheme against :func:`exact_solution_1d` at time t.

    n cells of size h = 1/n on [0, 1], canonical drift of v = e^{cx} sampled at the centres;
    the ODE u' = A u is integrated exactly (scipy's expm_multiply), so only the spatial error
    remains. Expected order 2.
    """
    errors = []
    for n in ns:
        h = 1.0 / int(n)
        x = (np.arange(int(n)) + 0.5) * h
        A = osmosis_matrix(canonical_drift(np.exp(c * x), h), h)
        u = spla.expm_multiply(t * A, exact_solution_1d(x, 0.0, c))
        errors.append(float(np.abs(u - exact_solution_1d(x, t, c)).max()))
    return np.array(errors)


def time_convergence(n_steps=(10, 20, 40, 80, 160), t: float = 0.05, n: int = 30) -> np.ndarray:
    """Max error of implicit Euler against the exact flow exp(tA) f of the semi-discrete system.

    1-D grid of n cells on [0, 1], guidance v = 2 + sin(2πx), f = 1 + x²; implicit Euler with
    τ = t / N for each N in ``n_steps`` (LU solver). Expected order 1.
    """
    h = 1.0 / n
    x = (np.arange(n) + 0.5) * h
    A = osmosis_matrix(canonical_drift(2.0 + np.sin(2.0 * np.pi * x), h), h)
    f = 1.0 + x**2
    reference = spla.expm_multiply(t * A, f)
    return np.array([
        float(np.abs(evolve(f, A, [t], t / int(N), method="splu")[0] - reference).max())
        for N in n_steps
    ])
