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
channel by channel (paper, Section 4.1). The solvers live in the private module
``lib.core._osmosis_solvers`` behind :func:`evolve`.

Examples
--------
>>> import numpy as np
>>> v = np.array([1.0, 2.0, 4.0, 2.0])
>>> f = np.ones(4)
>>> A = osmosis_matrix(canonical_drift(v))
>>> float(np.abs(A @ v).max()) < 1e-15        # the guidance is a steady state
True
>>> u = osmosis(f, v, [1e3], 10.0)[0]           # 100 implicit steps of size 10
>>> bool(np.allclose(u, steady_state(f, v)))
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _osmosis_solvers as _solvers
from ._osmosis_solvers import EvolutionInfo
from ._validation import (as_float_array, check_flag, check_memory, check_positive_array,
                          check_real, check_same_shape, check_shape, check_sparse_square)

__all__ = [
    "EvolutionInfo",
    "canonical_drift",
    "column_sum_error",
    "evolve",
    "guidance_from_drift",
    "homogeneous_diffusion",
    "lyapunov",
    "osmosis",
    "osmosis_matrix",
    "relative_entropy",
    "roundoff_bound",
    "steady_state",
    "steady_state_residual",
    "zero_drift",
]


def _check_h(h) -> float:
    return check_real(h, "h", 0.0)


def _grid_array(x, name: str, allow_colour: bool = True) -> np.ndarray:
    """A strictly positive 1-D, 2-D (or colour) grid (osmosis needs f > 0 and v > 0)."""
    arr = check_positive_array(x, name, " (osmosis acts on positive images; add an offset)")
    allowed = (1, 2, 3) if allow_colour else (1, 2)
    if arr.ndim not in allowed:
        what = "1-D, 2-D or colour (H, W, C)" if allow_colour else "1-D or 2-D"
        raise ValueError(f"{name} must be a {what} array, got shape {arr.shape}")
    return arr


def _drift_array(d, name: str) -> np.ndarray:
    """A finite drift array (float64); it may be empty (the drift of a one-cell grid)."""
    return as_float_array(d, name, allow_empty=True).astype(np.float64, copy=False)


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
    return _canonical_drift(_grid_array(v, "v", allow_colour=False), h)


def _canonical_drift(v: np.ndarray, h: float):
    if v.ndim == 1:
        return _face_drift(v[:-1], v[1:], h)
    return _face_drift(v[:-1, :], v[1:, :], h), _face_drift(v[:, :-1], v[:, 1:], h)


def zero_drift(shape):
    """The zero drift field on a grid of ``shape`` (homogeneous diffusion, d = 0).

    ``shape`` is ``n`` or ``(n,)`` for a 1-D grid, ``(H, W)`` for an image (positive integers).
    """
    shape = check_shape(shape, "shape", ndims=(1, 2))
    check_memory(2.0 * np.prod(shape, dtype=np.float64), f"the zero drift of a grid of shape {shape}")
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
    return _matrix(shape, p, q, d, h)


def _matrix(shape, p, q, d, h: float) -> sp.csr_array:
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
    A = check_sparse_square(A, "A")
    scale = float(np.abs(A).sum(axis=0).max()) or 1.0
    return float(np.abs(A.sum(axis=0)).max()) / scale


def steady_state_residual(A, w) -> float:
    """max_p |(A w)_p| / max_p (|A| |w|)_p: 0 in exact arithmetic when w is a steady state.

    ``w`` must be finite with one value per row of A (any shape, cells in C order); where
    |A| |w| vanishes (w = 0 or A = 0) A w = 0 exactly and the residual is 0.
    """
    A = check_sparse_square(A, "A")
    w = as_float_array(w, "w").astype(np.float64, copy=False).ravel()
    if w.size != A.shape[0]:
        raise ValueError(f"w has {w.size} cells but A is {A.shape[0]} × {A.shape[0]}")
    scale = float((abs(A) @ np.abs(w)).max())
    return float(np.abs(A @ w).max()) / scale if scale > 0 else 0.0


def roundoff_bound(A, times, tau=None) -> float:
    """ε Σ_k κ₁(I − τ_k A): round-off bound on the relative mass error of an implicit run.

    κ₁(I − τA) = ‖I − τA‖₁ ‖(I − τA)⁻¹‖₁ = (1 + 2τ max|a_ii|) · 1, because the columns of
    I − τA have absolute sums 1 + 2τ|a_ii| and its inverse is positive with unit column sums.
    A backward-stable solve perturbs each step by about ε κ₁ relative.
    """
    A = check_sparse_square(A, "A")
    times = _solvers._check_times(times)
    taus, counts = _solvers._step_plan(times, tau)
    top = float(np.abs(A.diagonal()).max())
    return float(np.finfo(np.float64).eps * (counts * (1.0 + 2.0 * taus * top)).sum())


# ---------------------------------------------------------------------------------------------
# steady state and Lyapunov functional
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
    check_same_shape(f, v, "f", "v")
    axes = _spatial_axes(f)
    return f.mean(axis=axes, keepdims=True) / v.mean(axis=axes, keepdims=True) * v


def _states_and_reference(u, w, h):
    """Validate a state u (or a stack (K,) + w.shape of states) against a reference w."""
    h = _check_h(h)
    w = _grid_array(w, "w")
    u = check_positive_array(u, "u")
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



# ---------------------------------------------------------------------------------------------
# evolution
# ---------------------------------------------------------------------------------------------


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
        ``"explicit"`` requires τ ≤ 1 / max |a_ii|. The implicit methods compute
        the same iterates of (I − τA) u^{k+1} = u^k to the tolerance. ``"auto"`` decides per run
        of equal step sizes: ``"krylov"`` when ``weight`` symmetrises A and the estimated number
        of Lanczos steps √(ρ t ln(1/rtol)) (ρ ≥ ‖A‖) is cheaper than the LU solves and fits in
        ``KRYLOV_MEMORY`` (256 MiB, in ``lib.core._osmosis_solvers``); otherwise ``"splu"`` (``"bicgstab"`` beyond 4e6 unknowns).
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
        (a ``SolverError``) when a step fails its own check: BiCGSTAB does not converge (scipy
        reports it through ``info``; we check it), the true relative residual of a BiCGSTAB or
        sparse-LU step (after one step of iterative refinement) exceeds ``rtol`` — in float64 it
        cannot go below about eps · (1 + 2τ max|a_ii|), so a very large τ fails here instead of
        returning a wrong state — the mass drifts by more than rtol and the round-off of A allow
        (checked at every output time when the columns of A sum to zero), or Lanczos does not
        converge within ``KRYLOV_MEMORY`` (256 MiB, in ``lib.core._osmosis_solvers``) when ``method="krylov"``.
    ValueError
        For bad arguments (``maxiter`` must be a positive integer, ``rtol`` lie in (0, 1)), and
        before any work when the snapshots would not fit in memory or the number of steps is
        out of reach (see ``lib.core._validation.MEMORY_LIMIT`` and ``WORK_LIMIT``).

    Notes
    -----
    Cost: one sparse solve per implicit step (a sparse LU solve costs about 20 products with
    A, i.e. ~100 N multiply-adds), plus one factorisation per step size for ``"splu"``; the
    number of steps is Σ (t_j − t_{j−1}) / τ_j.
    """
    return _solvers.run(u0, A, times, tau, method, weight, rtol, maxiter, return_info)


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
    check_same_shape(f, v, "f", "v")
    return _osmosis(f, v, times, tau, h, method, rtol, return_info)


def _osmosis(f, v, times, tau, h, method, rtol, return_info):
    """:func:`osmosis` after the checks of f and v: each argument is checked once, here."""
    h = _check_h(h)
    check_flag(return_info, "return_info")
    plan = _solvers.check_plan(times, tau, method, rtol, None, f.size)
    channels = [(f, v)] if f.ndim < 3 else [(f[..., c], v[..., c]) for c in range(f.shape[2])]
    results, infos = [], []
    for fc, vc in channels:
        # the canonical drift of a positive v always has |d| h < 2: no check needed
        A = _matrix(vc.shape, *_faces(vc.shape, _canonical_drift(vc, h)), h)
        snaps, info = _solvers.run_checked(fc, A, vc.ravel(), plan, True)
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
    return _osmosis(f, np.ones_like(f), times, tau, h, method, rtol, return_info)

