"""Time stepping of du/dt = A u for :func:`lib.core.osmosis.evolve` (private).

Every solver variant lives here, behind the one entry point :func:`run`, which receives
validated arguments:

* ``"explicit"`` — u ← (I + τA) u, for τ ≤ 1 / max |a_ii|;
* ``"bicgstab"`` — BiCGSTAB, as in the paper, warm-started from the previous step;
  ``"bicgstab-cold"`` starts every step from zero (the paper's set-up as we read it);
* ``"splu"`` — one sparse LU factorisation of I − τA per step size, reused for every step;
* ``"krylov"`` — for operators made symmetric by a positive weight (canonical drift: the
  guidance v; homogeneous diffusion: ones), all requested implicit-Euler iterates at once from
  one Lanczos basis: u^k = (I − τA)^{−k} u^0 is a rational function of the symmetrised matrix;
* ``"auto"`` picks between them per run of equal step sizes.
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
from ._validation import (as_float_array, check_choice, check_flag, check_int, check_memory,
                          check_positive_array, check_positive_real, check_real,
                          check_sparse_square, check_work)

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

_BICGSTAB_RTOL = "rtol" if "rtol" in inspect.signature(spla.bicgstab).parameters else "tol"


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
    if _is_number(tau):
        taus = np.full(times.size, check_positive_real(tau, "tau"))
    else:
        taus = as_float_array(tau, "tau").astype(np.float64).ravel()
        if taus.shape != times.shape:
            raise ValueError(f"tau must be a scalar or have one entry per time ({times.size}), got shape {np.shape(tau)}")
        if np.any(taus <= 0.0):
            raise ValueError(f"every tau must be positive, got {taus.tolist()}")
    ratio = gaps / taus
    if float(ratio.max()) > 1e15:
        raise ValueError(
            f"times and tau ask for {float(ratio.max()):.3g} time steps; at most 1e15 can be counted "
            f"(and far fewer done): use a larger tau")
    counts = np.rint(ratio).astype(np.int64)
    if np.any(np.abs(ratio - counts) > 1e-9 * np.maximum(1.0, ratio)):
        j = int(np.flatnonzero(np.abs(ratio - counts) > 1e-9 * np.maximum(1.0, ratio))[0])
        raise ValueError(
            f"the interval up to times[{j}] = {times[j]:g} has length {gaps[j]:g}, "
            f"not a whole number of steps tau = {taus[j]:g}"
        )
    return taus, counts


def _is_number(x) -> bool:
    return isinstance(x, numbers.Number) or (isinstance(x, np.ndarray) and x.ndim == 0)


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
                if residual <= rtol:
                    return X[:-1], j + 1, residual
                if invariant:
                    raise _KrylovNotConverged(
                        f"Lanczos found an invariant subspace but the residual {residual:.3g} "
                        f"exceeds rtol = {rtol:g}")
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


# BiCGSTAB stops on its recursively updated residual; the true one differs from it by rounding
# errors of size ~eps · ‖M‖ ‖x‖ / ‖u‖ ≈ eps (1 + 2τ max|a_ii|), e.g. 2e-13 at τ = 100 on the cat,
# so a step that stopped just below rtol may show a true residual a hair above it (the benchmark
# shows 1.0e-9 at rtol = 1e-9). A relative excess of 0.1 % is accepted: rtol is an order of
# magnitude, not a sharp bound. Where the rounding floor itself approaches rtol (τ ≳ 1e5 at
# rtol = 1e-9) the residual cannot certify rtol, and the step fails, as it should.
_RESIDUAL_SLACK = 1.0 + 1e-3


class SolverError(RuntimeError):
    """A time step whose own check failed (residual above rtol, or mass not conserved)."""


def _check_residual(solver: str, res: float, rtol: float, tau: float) -> None:
    """Raise unless the relative residual ‖(I − τA) x − u‖ / ‖u‖ of a step is at most rtol."""
    if not res <= rtol * _RESIDUAL_SLACK:  # NaN fails too
        raise SolverError(
            f"{solver}: the implicit step with tau = {tau:g} has relative residual {res:.3g}, above "
            f"rtol = {rtol:g}. In float64 the residual cannot go below about eps · κ₁(I − τA) = "
            f"eps · (1 + 2 τ max|a_ii|); use a smaller tau or a larger rtol"
        )


def check_mass(mass0: float, u: np.ndarray, tol: float, where: str) -> None:
    """Raise unless Σu is within ``tol`` of the initial mass (A has zero column sums)."""
    err = abs(float(u.sum()) - mass0)
    if not err <= tol:  # NaN fails too
        scale = max(abs(mass0), 1e-300)
        raise SolverError(
            f"{where}: the mass is off by {err:.3g} (relative {err / scale:.3g}), above the "
            f"tolerance {tol:.3g} that the solver's tolerance and round-off allow; the result "
            f"would be wrong. Use a smaller step"
        )


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
            res = _rel_residual(M, x, u)
            if res > rtol:  # one step of iterative refinement before giving up
                x = x + lu.solve(u - M @ x)
                res = _rel_residual(M, x, u)
            _check_residual("sparse LU", res, rtol, tau)
            return x, 0, res

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
            raise SolverError(
                f"BiCGSTAB {what} iterations (tau = {tau:g}, rtol = {rtol:g}, scipy info = {flag})"
            )
        res = _rel_residual(M, x, u)  # the true residual, not BiCGSTAB's recursively updated one
        _check_residual("BiCGSTAB", res, rtol, tau)
        return x, counter[0], res

    return bicgstab_step


def explicit_step_bound(A) -> float:
    """Largest τ of the explicit scheme u ← (I + τA) u: 1 / max |a_ii|.

    For τ up to this bound I + τA has non-negative entries and unit column sums, so the explicit
    scheme preserves positivity and mass (Vogel et al. 2013); beyond it, it does not.
    """
    diag = np.abs(sp.csr_array(A).diagonal())
    top = float(diag.max()) if diag.size else 0.0
    return np.inf if top == 0.0 else 1.0 / top


def run(u0, A, times, tau, method, weight, rtol, maxiter, return_info):
    """:func:`lib.core.osmosis.evolve`: check every argument once, then time-step."""
    A = check_sparse_square(A, "A")
    u0 = np.array(as_float_array(u0, "u0"), dtype=np.float64)
    n = A.shape[0]
    if u0.size != n:
        raise ValueError(f"u0 has {u0.size} cells but A is {n} × {n}")
    check_flag(return_info, "return_info")
    plan = check_plan(times, tau, method, rtol, maxiter, n)
    if weight is not None:
        weight = check_positive_array(weight, "weight").ravel()
        if weight.size != n:
            raise ValueError(f"weight has {weight.size} entries but A is {n} × {n}")
    return run_checked(u0, A, weight, plan, return_info)


def check_plan(times, tau, method, rtol, maxiter, n_cells: int) -> tuple:
    """The checks of the time-stepping arguments shared by ``evolve`` and ``osmosis``.

    Returns ``(times, taus, counts, method, rtol, maxiter)``; fails before any work when the
    snapshots would not fit in memory or the steps are out of reach.
    """
    check_choice(method, "method", METHODS)
    rtol = check_real(rtol, "rtol", 0.0, 1.0)
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", 1)
    times = _check_times(times)
    taus, counts = _step_plan(times, tau)
    check_memory(float(times.size) * n_cells, f"the snapshots (len(times) = {times.size} × {n_cells} cells)")
    check_work(float(counts.sum()) * _COST_SOLVE * 5.0 * n_cells,
               f"{int(counts.sum())} time steps on {n_cells} cells")
    return times, taus, counts, method, rtol, maxiter


def run_checked(u0, A, weight, plan, return_info):
    """Time-step validated arguments (``plan`` from :func:`check_plan`)."""
    times, taus, counts, method, rtol, maxiter = plan
    sym = _Symmetriser(A, weight) if weight is not None and method in ("auto", "krylov") else None
    if method == "krylov" and (sym is None or not sym.ok):
        raise ValueError("method='krylov' needs a positive weight with A·diag(weight) symmetric")
    if method == "explicit":
        bound = explicit_step_bound(A)
        if np.any((counts > 0) & (taus > bound * (1 + 1e-12))):
            raise ValueError(
                f"explicit scheme: tau = {float(taus[counts > 0].max()):g} exceeds the stability "
                f"bound 1/max|a_ii| = {bound:g}; use an implicit method or a smaller tau"
            )
    with blas_limit(BLAS_THREADS):
        return _time_steps(u0, A, times, taus, counts, method, sym, rtol, maxiter, return_info)


def _mass_check(A, u0: np.ndarray, rtol: float):
    """Per-step tolerance on the change of Σu, or None where A does not conserve mass.

    A step with relative residual ≤ rtol changes the mass by at most √n rtol ‖u‖₂ (the residual
    summed over the cells), plus τ |1ᵀA| ‖u‖₁ from the round-off in A's own column sums and the
    round-off of the two sums; ‖u^k‖₁ ≤ ‖u0‖₁ because the implicit step is a 1-norm contraction.
    Returns (mass0, f(tau) = tolerance of one step of size tau).
    """
    colsum = np.abs(np.asarray(A.sum(axis=0))).ravel()
    scale = float(np.abs(A).sum(axis=0).max()) or 1.0
    if float(colsum.max()) > 1e-10 * scale:
        return None
    n = u0.size
    l1 = float(np.abs(u0).sum())
    c_max = float(colsum.max())
    eps = np.finfo(np.float64).eps

    def per_step(tau):
        return (np.sqrt(n) * rtol * _RESIDUAL_SLACK + tau * c_max + 4.0 * n * eps) * l1

    return float(u0.sum()), per_step


def _time_steps(u0, A, times, taus, counts, method, sym, rtol, maxiter, return_info):
    n = A.shape[0]
    mass = _mass_check(A, u0, rtol)
    mass_tol = 0.0
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
            except _KrylovNotConverged as exc:
                if method == "krylov":
                    raise SolverError(
                        f"Lanczos did not converge to rtol = {rtol:g} within {m_cap} steps "
                        f"(tau = {tau_r:g}, {run_steps} steps: {exc}); use method='splu'"
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
        if mass is not None and run_steps:
            mass_tol += run_steps * mass[1](tau_r)
            for j, _ in keep:
                check_mass(mass[0], out[j], mass_tol, f"{choice}, after the steps with tau = {tau_r:g}")
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

