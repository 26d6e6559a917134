"""The Feller / Fokker-Planck view of the forward process (paper, Eqs. 23-25).

Conventions. A schedule is ``betas`` with ``betas[i - 1] = β_i`` (as in :mod:`lib.core.schedules`).
The continuous-time limit of the chain is the variance-preserving SDE

    dX = −½ r(t) X dt + √r(t) dW,

whose Feller moments (Eq. 23) are m₁ = −½ r x and m₂ = r. The chain agrees with it *exactly*
at integer times when r = β_eff = −ln(1 − β) on (i − 1, i]; then the osmosis time
t_osm = ½ ∫ r dt equals −½ ln ᾱ_i (:func:`osmosis_time`), and the density obeys the 1-D osmosis
equation ∂p/∂t_osm = p'' − (d p)' with the canonical drift d = −x of the standard normal
density (:func:`fokker_planck_operator`), solved by finite volumes
(:func:`solve_fokker_planck`, built on :mod:`lib.core.osmosis`). For a Gaussian-mixture start the
law at every time is known exactly (:func:`mixture_marginal`), the reference for the solver.

Examples
--------
>>> import numpy as np
>>> x, h = grid(200)
>>> w, m, s = (0.6, 0.4), (-2.0, 1.5), (0.3, 0.5)
>>> p = solve_fokker_planck(mixture_pdf(x, w, m, s), x, h, [0.5], method="exact")[0]
>>> exact = mixture_pdf(x, *mixture_marginal(w, m, s, np.exp(-1.0)))
>>> float(h * np.abs(p - exact).sum()) < 1e-2
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import stats as _st
from scipy.sparse.linalg import expm_multiply

from . import _osmosis_solvers as _solvers
from . import osmosis, schedules
from ._validation import (ArgumentTypeError, as_float_array, check_alpha_bar, check_betas,
                          check_choice, check_int, check_memory, check_work)
from ._validation import check_positive_real as _positive_float
from .mixture import mixture_logpdf

__all__ = [
    "effective_rate",
    "fokker_planck_operator",
    "grid",
    "mixture_cdf",
    "mixture_marginal",
    "mixture_pdf",
    "osmosis_time",
    "solve_fokker_planck",
]


def _check_sign(sign) -> float:
    return float(check_choice(sign, "sign", (1, -1)))


# --- time parametrisation ---------------------------------------------------------------


def effective_rate(betas) -> np.ndarray:
    """β_eff = −ln(1 − β): the SDE rate under which the chain is exact at integer times."""
    return -np.log1p(-check_betas(np.atleast_1d(betas)))


def osmosis_time(betas, steps) -> np.ndarray:
    """t_osm(i) = ½ Σ_{j≤i} β_eff,j = −½ ln ᾱ_i for each step i in ``steps``."""
    log_ab = schedules.log_alpha_bar(betas)
    try:
        steps = np.asarray(steps)
    except ValueError:
        steps = np.asarray([None])
    if steps.dtype.kind not in "iu":
        raise ArgumentTypeError(
            f"steps must be integers in [0, {log_ab.size - 1}] (no silent truncation), got {steps!r}")
    if np.any(steps < 0) or np.any(steps >= log_ab.size):
        raise ValueError(f"steps must be integers in [0, {log_ab.size - 1}], got {steps}")
    return -0.5 * log_ab[steps]



# --- Eq. (24) as osmosis: the finite-volume solver -----------------------------------------


def grid(n: int, half_width: float = 8.0) -> tuple[np.ndarray, float]:
    """Cell centres and spacing of n equal cells on [−half_width, half_width]."""
    n = check_int(n, "n", 1)
    L = _positive_float(half_width, "half_width")
    check_memory(n, f"a grid of n = {n} cells")
    h = 2.0 * L / n
    return -L + h * (np.arange(n) + 0.5), h


def fokker_planck_operator(x, h: float, sign: int = -1) -> sp.csr_array:
    """Osmosis matrix of Eq. (27) with guidance v = exp(sign · x²/2) on the cell centres x.

    ``sign = -1`` (default): v is the standard normal density, canonical drift d = −x, and
    ∂p/∂t_osm = A p is the finite-volume Fokker–Planck equation of the variance-preserving
    process (standard sign, −∂ₓ(m₁p)). ``sign = +1`` gives drift +x, i.e. the paper's
    Eq. (24) read literally (+∂ₓ(m₁p) with m₁ = −½βx), used as the counterexample.
    Zero column sums, positive off-diagonals: implicit steps keep mass and positivity.
    """
    sign = _check_sign(sign)
    x = as_float_array(x, "x")
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"x must be a 1-D array of at least 2 cell centres, got shape {x.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing (cell centres from left to right)")
    h = _positive_float(h, "h")
    if not np.allclose(np.diff(x), h, rtol=1e-6, atol=0.0):
        raise ValueError(f"h must be the spacing of the cell centres x (from grid), got h = {h:g} "
                         f"and spacings from {float(np.diff(x).min()):g} to {float(np.diff(x).max()):g}")
    log_v = sign * 0.5 * x * x
    v = np.exp(log_v - log_v.max())
    return osmosis.osmosis_matrix(osmosis.canonical_drift(v, h), h)


def solve_fokker_planck(p0, x, h: float, t_osm, n_sub: int = 1, *, sign: int = -1,
                        method: str = "implicit") -> np.ndarray:
    """Densities at the osmosis times ``t_osm`` from the initial density p0 on the grid x.

    ``method="implicit"``: implicit Euler with ``n_sub`` equal steps on every interval between
    consecutive output times (one sparse LU, :func:`lib.core.osmosis.evolve`, method "splu").
    ``method="exact"``: the semi-discrete flow exp(t A) p0 (no time error; for convergence
    studies in space).

    Returns
    -------
    ndarray, shape (len(t_osm), n)
    """
    p0 = as_float_array(p0, "p0")
    t = as_float_array(t_osm, "t_osm").astype(np.float64, copy=False)  # NaN and Inf fail here
    if t.ndim != 1 or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise ValueError(f"t_osm must be a 1-D strictly increasing array of times >= 0, got {t!r}")
    n_sub = check_int(n_sub, "n_sub", 1)
    check_choice(method, "method", ("implicit", "exact"))
    A = fokker_planck_operator(x, h, sign)
    if p0.ndim != 1 or p0.size != A.shape[0]:
        raise ValueError(f"p0 must hold one value per cell of x ({A.shape[0]}), got shape {p0.shape}")
    check_memory(float(t.size) * p0.size, f"the densities (len(t_osm) = {t.size} × {p0.size} cells)")
    if method == "exact":
        # expm_multiply takes about ‖t A‖₁ products with A (5 n multiply-adds each)
        norm1 = float(abs(A).sum(axis=0).max())
        check_work(10.0 * float(t[-1]) * norm1 * p0.size,
                   f"the exact flow up to t_osm = {float(t[-1]):g} on {p0.size} cells")
        out = np.empty((t.size, p0.size))
        prev, state = 0.0, p0.copy()
        mass0, l1 = float(p0.sum()), float(np.abs(p0).sum())
        for k, tk in enumerate(t):
            if tk > prev:
                state = expm_multiply(A * (tk - prev), state)
            out[k], prev = state, tk
            # A conserves mass; expm_multiply's rounding grows with its ~‖tA‖₁ products
            tol = (1e-9 + 64 * np.finfo(np.float64).eps * tk * norm1) * l1
            _solvers.check_mass(mass0, state, tol, f"expm_multiply up to t_osm = {tk:g}")
        return out
    taus = np.diff(np.concatenate([[0.0], t])) / n_sub
    taus = np.where(taus > 0, taus, 1.0)
    return osmosis.evolve(p0, A, t, taus, method="splu")  # checks its residual and mass


def _mixture(weights, means, sds):
    w = as_float_array(weights, "weights")
    m = as_float_array(means, "means")
    s = as_float_array(sds, "sds")
    if not (w.ndim == m.ndim == s.ndim == 1 and w.size == m.size == s.size and w.size > 0):
        raise ValueError("weights, means and sds must be 1-D arrays of equal length")
    if np.any(w <= 0) or np.any(s <= 0):
        raise ValueError("weights and sds must be positive")
    return w / w.sum(), m, s


def mixture_pdf(x, weights, means, sds) -> np.ndarray:
    """Density of Σ_k w_k N(μ_k, s_k²) at x (weights normalised to sum 1).

    Each component is evaluated with :func:`lib.core.mixture.mixture_logpdf` (one centre).
    """
    w, m, s = _mixture(weights, means, sds)
    x = as_float_array(x, "x")
    col = x.reshape(-1, 1)
    out = sum(wk * np.exp(mixture_logpdf(col, [[mk]], 1.0, sk * sk))
              for wk, mk, sk in zip(w, m, s))
    return out.reshape(x.shape)


def mixture_cdf(x, weights, means, sds) -> np.ndarray:
    """Distribution function of the mixture Σ_k w_k N(μ_k, s_k²)."""
    w, m, s = _mixture(weights, means, sds)
    x = as_float_array(x, "x")
    return sum(wk * _st.norm.cdf(x, mk, sk) for wk, mk, sk in zip(w, m, s))


def mixture_marginal(weights, means, sds, alpha_bar: float):
    """Exact law of U_i for U_0 ~ Σ w_k N(μ_k, s_k²): components N(√ᾱ μ_k, ᾱ s_k² + 1 − ᾱ)."""
    w, m, s = _mixture(weights, means, sds)
    ab = check_alpha_bar(alpha_bar, lower_closed=True, upper_closed=True, scalar=True)
    return w, np.sqrt(ab) * m, np.sqrt(ab * s * s + 1.0 - ab)

