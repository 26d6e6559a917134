"""Noise schedules β_1, …, β_T and the products ᾱ_i of the forward process.

Index convention (used throughout the book)
-------------------------------------------
Step ``i`` (``i = 1, …, T``) maps u_{i-1} to u_i with noise variance β_i (paper, Eq. 3).
A schedule is stored as a 1-D array ``betas`` of length ``T`` with ``betas[i - 1] = β_i``, and

    ᾱ_i = ∏_{j=1}^{i} (1 − β_j),   ᾱ_0 = 1   (empty product).

The paper writes the product of Eqs. (5) and (22) from ``j = 0`` and that of Eqs. (18)–(19)
from ``j = 1``; the two agree when β_0 := 0, i.e. when step 0 is the training data itself
(Property 1). :func:`alpha_bar` returns the array ``[ᾱ_0, ᾱ_1, …, ᾱ_T]`` so that
``alpha_bar(betas)[i]`` is ᾱ_i.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_beta, check_betas, check_choice, check_int, check_memory, check_real

__all__ = [
    "alpha_bar",
    "constant_betas",
    "cosine_betas",
    "get_betas",
    "linear_betas",
    "log_alpha_bar",
    "reference_schedules",
]


def constant_betas(beta: float, n_steps: int) -> np.ndarray:
    """Constant schedule β_i = β for i = 1, …, T (the paper's Fig. 1 uses β = 0.02).

    Parameters
    ----------
    beta : float
        Noise variance per step, in the open interval (0, 1).
    n_steps : int
        Number of steps T ≥ 1.

    Returns
    -------
    betas : ndarray of float64, shape (n_steps,)
    """
    beta = check_beta(beta)
    return np.full(_check_n_steps(n_steps), beta, dtype=np.float64)


def _check_n_steps(n_steps) -> int:
    n_steps = check_int(n_steps, "n_steps", 1)
    check_memory(n_steps, f"a schedule of n_steps = {n_steps} steps")
    return n_steps


def linear_betas(n_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """Linear schedule of Ho et al. (2020): β rises linearly from ``beta_start`` to ``beta_end``.

    The defaults are the published ones (1e-4 to 0.02 over T = 1000).

    Returns
    -------
    betas : ndarray of float64, shape (n_steps,)
    """
    beta_start = check_beta(beta_start, "beta_start")
    beta_end = check_beta(beta_end, "beta_end")
    return np.linspace(beta_start, beta_end, _check_n_steps(n_steps), dtype=np.float64)


def cosine_betas(n_steps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Cosine schedule of Nichol and Dhariwal (2021).

    ᾱ(t) = f(t) / f(0) with f(t) = cos²(((t/T) + s) / (1 + s) · π/2), and
    β_t = 1 − ᾱ(t)/ᾱ(t − 1), clipped at ``max_beta`` (the last steps would otherwise reach 1).

    Parameters
    ----------
    n_steps : int
        Number of steps T.
    s : float
        Small offset that keeps β_1 away from 0; must be positive.
    max_beta : float
        Upper clip of β, in (0, 1).

    Returns
    -------
    betas : ndarray of float64, shape (n_steps,)
    """
    n_steps = _check_n_steps(n_steps)
    s = check_real(s, "s", 0.0)
    max_beta = check_beta(max_beta, "max_beta")
    t = np.arange(n_steps + 1, dtype=np.float64) / n_steps
    f = np.cos((t + s) / (1.0 + s) * np.pi / 2.0) ** 2
    betas = 1.0 - f[1:] / f[:-1]
    return np.clip(betas, None, max_beta)


SCHEDULES = {"constant": constant_betas, "linear": linear_betas, "cosine": cosine_betas}
"""The named schedules of :func:`get_betas` (name → constructor)."""


def get_betas(name: str, n_steps: int = 1000, **kwargs) -> np.ndarray:
    """Return a named schedule: ``"constant"`` (needs ``beta=``), ``"linear"`` or ``"cosine"``.

    Examples
    --------
    >>> get_betas("constant", 3, beta=0.02)
    array([0.02, 0.02, 0.02])
    """
    try:
        check_choice(name, "name", tuple(sorted(SCHEDULES)))
    except ValueError:
        raise ValueError(f"unknown schedule {name!r}: name must be one of {sorted(SCHEDULES)}") from None
    if name == "constant":
        if "beta" not in kwargs:
            raise TypeError("the constant schedule needs the keyword argument beta=")
        return constant_betas(kwargs.pop("beta"), n_steps, **kwargs)
    return SCHEDULES[name](n_steps, **kwargs)


def log_alpha_bar(betas) -> np.ndarray:
    """Return ``[ln ᾱ_0, …, ln ᾱ_T]`` computed as cumulative sums of ln(1 − β_j).

    Summing logarithms (with ``log1p``) keeps full relative accuracy even where ᾱ_i underflows
    towards 0 or where 1 − ᾱ_j/ᾱ_i is tiny.
    """
    betas = check_betas(betas)
    return np.concatenate(([0.0], np.cumsum(np.log1p(-betas))))


def alpha_bar(betas) -> np.ndarray:
    """Return ``[ᾱ_0, ᾱ_1, …, ᾱ_T]`` with ᾱ_i = ∏_{j=1}^{i}(1 − β_j) (paper, Eq. 5).

    Parameters
    ----------
    betas : array_like, shape (T,)
        Schedule with ``betas[i - 1] = β_i`` in (0, 1).

    Returns
    -------
    alpha_bar : ndarray of float64, shape (T + 1,)
        ``alpha_bar[0] = 1`` and ``alpha_bar[i] = ᾱ_i``.

    Examples
    --------
    >>> alpha_bar([0.5, 0.5])
    array([1.  , 0.5 , 0.25])
    """
    return np.exp(log_alpha_bar(betas))


def reference_schedules(n_steps: int = 1000) -> dict[str, np.ndarray]:
    """The three schedules the book compares, by display name: β = 0.02 constant (the paper's
    Fig. 1), the linear schedule of Ho et al. and the cosine schedule of Nichol & Dhariwal.

    Examples
    --------
    >>> {name: round(float(alpha_bar(b)[-1]), 6) for name, b in reference_schedules().items()}
    {'constant 0.02': 0.0, 'linear': 4e-05, 'cosine': 0.0}
    """
    return {
        "constant 0.02": constant_betas(0.02, n_steps),
        "linear": linear_betas(n_steps),
        "cosine": cosine_betas(n_steps),
    }
