"""Lyapunov sequences: differential and conditional entropy (paper, Property 3, Eqs. 9-20).

Closed forms
    * the differential entropy of a Gaussian N(m, Σ) (:func:`gaussian_entropy`,
      :func:`isotropic_gaussian_entropy`, :func:`standard_normal_entropy`) and of the forward
      marginal p(u_i) of a Gaussian training distribution (:func:`gaussian_marginal_entropy`,
      :func:`isotropic_marginal_entropy`), with its rate of change
      (:func:`gaussian_marginal_entropy_rate`);
    * the conditional entropy H(U_i | U_0) of Eqs. (16)-(20), correct
      (:func:`conditional_entropy`, :func:`conditional_entropy_increments`) and as printed in the
      paper's Eq. (18) (:func:`conditional_entropy_eq18`);
    * the terms of the paper's Eq. (12) for a Gaussian U_i (:func:`eq12_gaussian`), and the
      β-interval of Eq. (10) (:func:`eq10_interval`, :func:`satisfies_eq10`);
    * entropy power and the entropy power inequality (:func:`entropy_power`,
      :func:`epi_lower_bound`).

Monte Carlo for an empirical training set {f_k}
    For i ≥ 1 the marginal p(u_i) is exactly the Gaussian mixture
    (1/N) Σ_k N(√ᾱ_i f_k, (1 − ᾱ_i) I). :func:`mixture_entropy_mc` estimates H(U_i), the mutual
    information I(U_0; U_i) and KL(p(u_i) ‖ N(0, I)) with standard errors, using the exact
    log-density :func:`lib.steady_state.mixture_logpdf`; :func:`mixture_entropy_rate_mc`
    estimates the derivative dH(U_i)/dt along t = −ln ᾱ_i (de Bruijn's identity), and
    :func:`entropy_turn` brackets the step where H(U_i) stops increasing;
    :func:`entropy_vs_scale` runs both for a rescaled training set. All Monte Carlo work is done
    in blocks of samples, so memory does not grow with the number of samples.

Checks along a grid of steps
    :func:`standardised_differences` (monotonicity within standard errors) and
    :func:`epi_slack` (the entropy power inequality between grid steps).

Step indices follow :mod:`lib.schedules`: ``betas[i - 1] = β_i``, ``alpha_bar(betas)[i] = ᾱ_i``.
Entropies are in nats.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from . import steady_state as _ss
from ._validation import as_float_array, check_beta, check_betas, check_rng
from ._validation import check_positive_int as _check_positive_int
from .schedules import log_alpha_bar
from .steady_state import MonteCarloEstimate

__all__ = [
    "EntropyTurn",
    "Eq12Terms",
    "MixtureEntropy",
    "conditional_entropy",
    "conditional_entropy_eq18",
    "conditional_entropy_increments",
    "entropy_power",
    "entropy_turn",
    "entropy_vs_scale",
    "epi_lower_bound",
    "epi_slack",
    "eq10_interval",
    "eq12_gaussian",
    "gaussian_entropy",
    "gaussian_marginal_entropy",
    "gaussian_marginal_entropy_rate",
    "isotropic_gaussian_entropy",
    "isotropic_marginal_entropy",
    "log_spaced_steps",
    "mixture_entropy_mc",
    "mixture_entropy_rate_mc",
    "mixture_posterior_mean",
    "satisfies_eq10",
    "standard_normal_entropy",
    "standardised_differences",
]

LOG_2PI = float(np.log(2.0 * np.pi))
LOG_2PIE = float(np.log(2.0 * np.pi * np.e))
DEFAULT_BLOCK = 1024  # samples drawn and evaluated at once (0.5 MB of float64 for n = 64)


# ---------------------------------------------------------------------------------------------
# local validation helpers
# ---------------------------------------------------------------------------------------------


def _check_n(n, name: str = "n") -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer (the number of pixels), got {n!r}")
    return int(n)


def _check_alpha_bar(alpha_bar, *, lower_closed: bool = False, upper_closed: bool = False):
    """ᾱ values as float64 in (0, 1), optionally with 0 and/or 1 allowed."""
    arr = as_float_array(alpha_bar, "alpha_bar").astype(np.float64, copy=False)
    low_ok = arr >= 0.0 if lower_closed else arr > 0.0
    high_ok = arr <= 1.0 if upper_closed else arr < 1.0
    if not np.all(low_ok & high_ok):
        interval = ("[" if lower_closed else "(") + "0, 1" + ("]" if upper_closed else ")")
        raise ValueError(
            f"every alpha_bar must lie in {interval}, got values from {arr.min()} to {arr.max()}"
        )
    return arr


def _check_variance(variance, name: str = "variance") -> np.ndarray:
    arr = as_float_array(variance, name).astype(np.float64, copy=False)
    if not np.all(arr > 0.0):
        raise ValueError(f"{name} must be positive, got values from {arr.min()} to {arr.max()}")
    return arr


def _check_cov(cov, *, definite: bool) -> np.ndarray:
    """Eigenvalues of a symmetric covariance matrix (positive (semi-)definite)."""
    cov = as_float_array(cov, "cov").astype(np.float64, copy=False)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square (n, n) matrix, got shape {cov.shape}")
    scale = max(1.0, float(np.abs(cov).max()))
    if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-12 * scale):
        raise ValueError("cov must be symmetric")
    lam = np.linalg.eigvalsh(cov)
    tol = 0.0 if definite else 1e-10 * max(1.0, float(np.abs(lam).max()))
    if lam.min() <= 0.0 if definite else lam.min() < -tol:
        kind = "definite" if definite else "semi-definite"
        raise ValueError(f"cov must be positive {kind}; its smallest eigenvalue is {lam.min():.3g}")
    return np.clip(lam, 0.0, None)



def _check_centers(centers) -> np.ndarray:
    centers = as_float_array(centers, "centers").astype(np.float64, copy=False)
    if centers.ndim != 2:
        raise ValueError(
            f"centers must have shape (N, n): N training images of n pixels, got {centers.shape}"
        )
    return centers


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


def standard_normal_entropy(n: int) -> float:
    """H(N(0, I_n)) = (n/2) ln(2πe), the entropy of the steady state (paper, Eq. 14)."""
    return 0.5 * _check_n(n) * LOG_2PIE


def isotropic_gaussian_entropy(variance, n: int):
    """H(N(m, s I_n)) = (n/2) ln(2πe s); vectorised over the variance s > 0.

    Scaling a random vector by a multiplies s by a², which adds n ln|a| — not ln|a| — to the
    entropy (the point where the paper's Eq. 12 goes wrong).
    """
    s = _check_variance(variance)
    out = 0.5 * _check_n(n) * (LOG_2PIE + np.log(s))
    return float(out) if out.ndim == 0 else out


def gaussian_entropy(cov) -> float:
    """H(N(m, Σ)) = ½ ln det(2πe Σ) = ½ Σ_k ln(2πe λ_k), λ_k the eigenvalues of Σ.

    Parameters
    ----------
    cov : array_like, shape (n, n)
        Symmetric positive definite.
    """
    lam = _check_cov(cov, definite=True)
    return float(0.5 * np.sum(LOG_2PIE + np.log(lam)))


def _marginal_log_eigs(lam: np.ndarray, a: np.ndarray) -> np.ndarray:
    """ln(1 + ᾱ(λ_k − 1)) for every ᾱ (rows) and eigenvalue (columns), accurate as ᾱ → 0."""
    return np.log1p(a[..., None] * (lam - 1.0))


def gaussian_marginal_entropy(cov, alpha_bar):
    """H(U_i) when p(u_0) = N(m, Σ): the marginal is N(√ᾱ_i m, ᾱ_i Σ + (1 − ᾱ_i) I) (Eq. 5).

    With the eigenvalues λ_k of Σ,

        H(U_i) = ½ Σ_k ln(2πe (1 + ᾱ_i (λ_k − 1))),

    evaluated with ``log1p`` so that it stays accurate as ᾱ_i → 0. It does not depend on the
    mean m. For any training distribution with covariance Σ this is an upper bound on H(U_i)
    (the Gaussian maximises entropy at fixed covariance).

    Parameters
    ----------
    cov : array_like, shape (n, n)
        Symmetric positive semi-definite (positive definite if some ᾱ_i = 1).
    alpha_bar : float or array_like
        ᾱ_i in (0, 1].

    Returns
    -------
    float or ndarray of the shape of ``alpha_bar``
    """
    lam = _check_cov(cov, definite=False)
    a = _check_alpha_bar(alpha_bar, upper_closed=True)
    if np.any(a == 1.0) and lam.min() <= 0.0:
        raise ValueError("at alpha_bar = 1 the marginal is U_0 itself: cov must be positive definite")
    out = 0.5 * np.sum(LOG_2PIE + _marginal_log_eigs(lam, a), axis=-1)
    return float(out) if out.ndim == 0 else out


def isotropic_marginal_entropy(variance: float, n: int, alpha_bar):
    """H(U_i) = (n/2) ln(2πe s_i), s_i = ᾱ_i σ² + 1 − ᾱ_i, for p(u_0) = N(m, σ² I_n).

    s_i − s_{i−1} = −β_i ᾱ_{i−1} (σ² − 1): the entropy *decreases* at every step, for every
    β_i ∈ (0, 1), when σ² > 1 — a counterexample to the paper's Proposition 1.
    """
    s = float(_check_variance(variance))
    n = _check_n(n)
    a = _check_alpha_bar(alpha_bar, upper_closed=True)
    out = 0.5 * n * (LOG_2PIE + np.log1p(a * (s - 1.0)))
    return float(out) if out.ndim == 0 else out


def gaussian_marginal_entropy_rate(cov, alpha_bar):
    """dH(U_i)/dt along t = −ln ᾱ for p(u_0) = N(m, Σ) (closed form).

    Differentiating :func:`gaussian_marginal_entropy`,

        dH/dt = −ᾱ dH/dᾱ = −½ ᾱ Σ_k (λ_k − 1) / (1 + ᾱ(λ_k − 1)),

    positive when every λ_k < 1 and negative when every λ_k > 1. For a constant β the step i
    is t = −i ln(1 − β), so dH/di = −ln(1 − β) · dH/dt.
    """
    lam = _check_cov(cov, definite=False)
    a = _check_alpha_bar(alpha_bar)
    x = lam - 1.0
    out = -0.5 * a * np.sum(x / (1.0 + a[..., None] * x), axis=-1)
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# Conditional entropy, Proposition 2 (Eqs. 16-20)
# ---------------------------------------------------------------------------------------------


def _one_minus_alpha_bar(betas) -> np.ndarray:
    """[1 − ᾱ_0, …, 1 − ᾱ_T] as −expm1(ln ᾱ_i): full relative accuracy for tiny β."""
    return -np.expm1(log_alpha_bar(betas))


def conditional_entropy(betas, n: int) -> np.ndarray:
    """H(U_i | U_0) = (n/2) ln(2πe (1 − ᾱ_i)) for i = 0, …, T (paper, Eq. 16, corrected Eq. 18).

    Given u_0, U_i ~ N(√ᾱ_i u_0, (1 − ᾱ_i) I) (Eq. 5), whose entropy does not depend on u_0, so
    the average over p(u_0) in Eq. (17) is that entropy. It is the same for every training
    distribution. At i = 0 the conditional law is a point mass and the value is −∞.

    Parameters
    ----------
    betas : array_like, shape (T,)
        Schedule, ``betas[i - 1] = β_i`` in (0, 1).
    n : int
        Number of pixels.

    Returns
    -------
    ndarray of float64, shape (T + 1,)
    """
    n = _check_n(n)
    with np.errstate(divide="ignore"):
        return 0.5 * n * (LOG_2PIE + np.log(_one_minus_alpha_bar(betas)))


def conditional_entropy_eq18(betas, n: int) -> np.ndarray:
    """The paper's Eq. (18) as printed: ln((2πe)^n (1 − ᾱ_i)^n) = n ln(2πe (1 − ᾱ_i)).

    It is exactly twice :func:`conditional_entropy`: the factor ½ of the Gaussian entropy
    ½ ln det(2πe Σ) is missing. Both are increasing functions of 1 − ᾱ_i, so the conclusion
    of Proposition 2 is unaffected; the two agree only where 2πe(1 − ᾱ_i) = 1.
    """
    n = _check_n(n)
    with np.errstate(divide="ignore"):
        return n * (LOG_2PIE + np.log(_one_minus_alpha_bar(betas)))


def conditional_entropy_increments(betas, n: int) -> np.ndarray:
    """H(U_i | U_0) − H(U_{i−1} | U_0) for i = 1, …, T, computed without cancellation.

    Since 1 − ᾱ_i = (1 − ᾱ_{i−1}) + β_i ᾱ_{i−1},

        H(U_i | U_0) − H(U_{i−1} | U_0) = (n/2) ln(1 + β_i ᾱ_{i−1} / (1 − ᾱ_{i−1})) > 0

    for every β_i ∈ (0, 1) (Proposition 2); the first increment (from −∞) is +∞. Differencing
    :func:`conditional_entropy` instead loses everything once the increment falls below the
    rounding of H itself.
    """
    n = _check_n(n)
    betas = check_betas(betas)
    log_ab = log_alpha_bar(betas)
    prev_ab = np.exp(log_ab[1:-1])
    prev_one_minus = -np.expm1(log_ab[1:-1])  # 1 − ᾱ_{i−1} > 0 for i ≥ 2
    out = np.empty_like(betas)
    out[0] = np.inf  # from H(U_0 | U_0) = −∞
    out[1:] = 0.5 * n * np.log1p(betas[1:] * prev_ab / prev_one_minus)
    return out


# ---------------------------------------------------------------------------------------------
# Proposition 1: Eqs. (10) and (12)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eq12Terms:
    """The two sides of the paper's Eq. (12) for U_i ~ N(m, s I_n), in nats.

    Attributes
    ----------
    exact : float
        H(U_{i+1}) = H(√(1−β) U_i + √β G) = (n/2) ln(2πe((1 − β)s + β)).
    paper : float
        The right-hand side of Eq. (12): H(U_i) + ln√(1−β) + H(G) + ln√β.
    sum_of_entropies : float
        H(√(1−β) U_i) + H(√β G) = H(U_i) + (n/2) ln(1−β) + H(G) + (n/2) ln β: Eq. (12) with the
        scaling repaired but the additivity kept.
    scaling_exact, scaling_paper : float
        H(√(1−β) U_i) − H(U_i): exactly (n/2) ln(1 − β); in Eq. (12), ½ ln(1 − β).
    """

    exact: float
    paper: float
    sum_of_entropies: float
    scaling_exact: float
    scaling_paper: float

    @property
    def paper_error(self) -> float:
        """Right-hand side of Eq. (12) minus the true H(U_{i+1})."""
        return self.paper - self.exact

    @property
    def additivity_error(self) -> float:
        """H(X) + H(Y) − H(X + Y) for the two independent summands of Eq. (11)."""
        return self.sum_of_entropies - self.exact


def eq12_gaussian(variance: float, beta: float, n: int) -> Eq12Terms:
    """Every term of the paper's Eqs. (11)-(12) in closed form for a Gaussian U_i ~ N(m, s I_n).

    Parameters
    ----------
    variance : float
        s > 0, the per-pixel variance of U_i.
    beta : float
        β in (0, 1).
    n : int
        Number of pixels.
    """
    s = float(_check_variance(variance))
    beta = check_beta(beta)
    n = _check_n(n)
    h_u = isotropic_gaussian_entropy(s, n)
    h_g = standard_normal_entropy(n)
    log_a2, log_b2 = float(np.log1p(-beta)), float(np.log(beta))  # ln(1 − β), ln β
    # (1 − β)s + β = s (1 + β(1/s − 1)): written this way it keeps its accuracy for tiny β.
    exact = 0.5 * n * (LOG_2PIE + np.log(s) + float(np.log1p(beta * (1.0 / s - 1.0))))
    return Eq12Terms(
        exact=float(exact),
        paper=h_u + 0.5 * log_a2 + h_g + 0.5 * log_b2,
        sum_of_entropies=h_u + 0.5 * n * log_a2 + h_g + 0.5 * n * log_b2,
        scaling_exact=0.5 * n * log_a2,
        scaling_paper=0.5 * log_a2,
    )


def eq10_interval(n) -> tuple:
    """The β-interval [b_n, 1 − b_n] of the paper's Eq. (10), b_n = ½ − √(¼ − (2πe)^(−n)).

    b_n is computed by :func:`lib.steady_state.eq10_lower_bound` (rationalised, no cancellation).
    In float64 the upper limit 1 − b_n rounds to 1.0 once b_n < 2^(−53) (n ≥ 13), and b_n itself
    underflows to 0 for n ≳ 290 (use :func:`lib.steady_state.log10_eq10_lower_bound` there);
    :func:`satisfies_eq10` decides membership without either problem.

    Returns
    -------
    (lower, upper) : tuple of float or of ndarray
    """
    lower = _ss.eq10_lower_bound(n)
    upper = 1.0 - lower
    if np.ndim(lower) == 0:
        return float(lower), float(upper)
    return lower, upper


def satisfies_eq10(beta, n) -> np.ndarray | bool:
    """Whether β satisfies Eq. (10), i.e. β(1 − β) ≥ (2πe)^(−n) (the paper's Eq. 15).

    Decided in logarithms, ln β + ln(1 − β) ≥ −n ln(2πe), which neither underflows nor rounds
    the upper limit to 1, whatever n is.
    """
    if np.ndim(beta) == 0 and not isinstance(beta, np.ndarray):
        b = np.asarray(check_beta(beta))
    else:
        b = as_float_array(beta, "beta").astype(np.float64, copy=False)
        if not np.all((b > 0.0) & (b < 1.0)):
            raise ValueError("every beta must lie in the open interval (0, 1)")
    n_arr = np.asarray(n)
    if n_arr.dtype.kind not in "iu" or np.any(n_arr < 1):
        raise ValueError(f"n must hold positive integers (pixel counts), got {n!r}")
    out = np.log(b) + np.log1p(-b) >= -n_arr.astype(np.float64) * LOG_2PIE
    return bool(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# Entropy power (the corrected Proposition 1)
# ---------------------------------------------------------------------------------------------


def entropy_power(entropy, n: int):
    """Entropy power N(X) = exp(2H(X)/n) / (2πe); N(N(0, s I_n)) = s, N(N(0, I)) = 1."""
    h = as_float_array(entropy, "entropy").astype(np.float64, copy=False)
    out = np.exp(2.0 * h / _check_n(n) - LOG_2PIE)
    return float(out) if out.ndim == 0 else out


def epi_lower_bound(entropy, ratio, n: int):
    """Lower bound on H(√r U + √(1−r) G) from the entropy power inequality, G ~ N(0, I) ⊥ U.

    The EPI e^{2H(X+Y)/n} ≥ e^{2H(X)/n} + e^{2H(Y)/n} (Cover and Thomas, Thm. 17.7.3) with
    X = √r U (H(X) = H(U) + (n/2) ln r) and Y = √(1−r) G gives, in entropy powers,

        N(√r U + √(1−r) G) ≥ r N(U) + (1 − r),

    i.e. H ≥ (n/2) ln(2πe) + (n/2) ln(r N(U) + 1 − r). With r = ᾱ_j/ᾱ_i (j > i) it bounds
    H(U_j) by H(U_i); with r = 1 − β_{i+1}, one step. The right-hand side exceeds H(U)
    exactly when N(U) < 1, i.e. H(U) < H(N(0, I)).

    Parameters
    ----------
    entropy : float or array_like
        H(U) in nats (−∞ allowed: a point mass has N = 0).
    ratio : float or array_like
        r in (0, 1].
    n : int
        Number of pixels.
    """
    h = np.asarray(entropy, dtype=np.float64)
    if np.any(np.isnan(h)) or np.any(h == np.inf):
        raise ValueError("entropy must be a real number or −inf")
    r = _check_alpha_bar(ratio, upper_closed=True)
    n = _check_n(n)
    log_power = 2.0 * h / n - LOG_2PIE
    with np.errstate(divide="ignore"):
        log_mix = np.logaddexp(np.log(r) + log_power, np.log1p(-r))
    out = 0.5 * n * (LOG_2PIE + log_mix)
    return float(out) if out.ndim == 0 else out


def epi_slack(entropy, errors, alpha_bar, n: int) -> np.ndarray:
    """Standardised slack of the EPI bound between neighbouring points of a grid of steps.

    For estimates H_k of H(U_{i_k}) at steps i_0 < i_1 < … with ᾱ values ``alpha_bar`` and
    independent errors e_k, returns

        (H_{k+1} − epi_lower_bound(H_k, ᾱ_{k+1}/ᾱ_k, n)) / √(e_k² + e_{k+1}²),

    which must be ≥ −z (z standard errors) if the estimates are right (:func:`epi_lower_bound`).
    """
    h = as_float_array(entropy, "entropy").astype(np.float64, copy=False)
    a = _check_alpha_bar(alpha_bar, upper_closed=True)
    if h.ndim != 1 or a.shape != h.shape or h.size < 2:
        raise ValueError("entropy and alpha_bar must be 1-D of the same length ≥ 2")
    if np.any(np.diff(a) >= 0):
        raise ValueError("alpha_bar must decrease along the grid (increasing steps)")
    e = as_float_array(errors, "errors").astype(np.float64, copy=False)
    if e.shape != h.shape or np.any(e < 0):
        raise ValueError("errors must be non-negative and match entropy in shape")
    bound = epi_lower_bound(h[:-1], a[1:] / a[:-1], n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (h[1:] - bound) / np.hypot(e[1:], e[:-1])


# ---------------------------------------------------------------------------------------------
# Monte Carlo for an empirical training set
# ---------------------------------------------------------------------------------------------


def standardised_differences(values, errors) -> np.ndarray:
    """(v_{k+1} − v_k) / √(e_k² + e_{k+1}²) for estimates v_k with independent errors e_k.

    Used to check monotonicity along a grid of steps: for a sequence that cannot increase, every
    entry must be ≤ z (z standard errors, e.g. 4) up to the stated false-alarm rate. Pass
    ``errors = hypot(standard error, round-off bound)`` where the standard error can be smaller
    than the round-off (see :class:`MixtureEntropy`). Zero errors give ±inf (or NaN for a zero
    difference).
    """
    v = as_float_array(values, "values").astype(np.float64, copy=False)
    e = as_float_array(errors, "errors").astype(np.float64, copy=False)
    if v.ndim != 1 or v.shape != e.shape or v.size < 2:
        raise ValueError(f"values and errors must be 1-D of the same length ≥ 2, got {v.shape} and {e.shape}")
    if np.any(e < 0):
        raise ValueError("errors must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diff(v) / np.hypot(e[1:], e[:-1])


def log_spaced_steps(n_steps: int, count: int) -> np.ndarray:
    """At most ``count`` distinct integer steps from 1 to ``n_steps``, spaced evenly in log i."""
    n_steps = _check_positive_int(n_steps, "n_steps")
    count = _check_positive_int(count, "count")
    return np.unique(np.round(np.geomspace(1, n_steps, count)).astype(np.int64))


class _Accumulator:
    """Running mean and sum of squared deviations (Chan et al.'s pairwise update)."""

    def __init__(self) -> None:
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        k = values.size
        mean_b = float(values.mean())
        m2_b = float(np.sum((values - mean_b) ** 2))
        total = self.count + k
        delta = mean_b - self.mean
        self.mean += delta * k / total
        self.m2 += m2_b + delta * delta * self.count * k / total
        self.count = total

    def standard_error(self) -> float:
        return float(np.sqrt(self.m2 / (self.count - 1) / self.count))


def _labelled_blocks(centers, a, n_samples, block_size, rng_k, rng_z):
    """Yield (labels, noise, u) blocks of draws from the mixture with scale √a, variance 1 − a.

    Labels come from ``rng_k`` and noise from ``rng_z``; both streams are consumed sequentially,
    so the draws do not depend on ``block_size``.
    """
    n_comp = centers.shape[0]
    scale, sd = np.sqrt(a), np.sqrt(1.0 - a)
    for start in range(0, n_samples, block_size):
        m = min(block_size, n_samples - start)
        k = np.minimum((rng_k.random(m) * n_comp).astype(np.int64), n_comp - 1)
        z = rng_z.standard_normal((m, centers.shape[1]))
        yield k, z, scale * centers[k] + sd * z


def _moment_spectrum(centers):
    mean = centers.mean(axis=0)
    cov = np.atleast_2d(np.cov(centers, rowvar=False, bias=True))  # 1/N, as in the mixture
    lam = np.clip(np.linalg.eigvalsh(cov), 0.0, None)
    return mean, cov, lam


@dataclass(frozen=True)
class MixtureEntropy:
    """Monte Carlo estimates for the marginals p(u_i) of an empirical training set.

    Fields are floats when a single ᾱ was requested, arrays of shape (K,) otherwise.

    Attributes
    ----------
    alpha_bar : ndarray, shape (K,)
    entropy : MonteCarloEstimate
        H(U_i). ``gaussian_part`` holds the entropy of the Gaussian with the same mean and
        covariance (closed form); it is an upper bound, and ``gaussian_part − value`` estimates
        KL(p(u_i) ‖ that Gaussian) ≥ 0.
    mutual_information : MonteCarloEstimate
        I(U_0; U_i) = H(U_i) − H(U_i | U_0), in [0, ln N].
    kl : MonteCarloEstimate
        KL(p(u_i) ‖ N(0, I)) = −H(U_i) + ½ E‖U_i‖² + (n/2) ln 2π with the exact second moment
        E‖U_i‖² = ᾱ_i mean_k ‖f_k‖² + (1 − ᾱ_i) n; same standard error as the entropy.
        ``gaussian_part`` holds the KL of the moment-matched Gaussian (a lower bound).
    conditional_entropy : ndarray, shape (K,)
        H(U_i | U_0) = (n/2) ln(2πe(1 − ᾱ_i)), exact.
    method : str
    n_draws : int or ndarray
        Draws used per ᾱ (they differ only with ``target_se``; the ``n_samples`` field of the
        estimates holds the minimum).
    roundoff : float or ndarray
        Bound on the floating-point error of each estimate: the exponents of the logsumexp are
        formed from products of size ‖u‖² and ᾱ‖f‖² divided by 1 − ᾱ, so each log-density
        carries an absolute error of at most about n · eps · (max ‖u‖² + ᾱ max ‖f_k‖²) / (1 − ᾱ).
        Where the standard error is smaller than this (well-separated components near ᾱ = 1),
        compare estimates with the round-off bound, not the standard error.
    """

    alpha_bar: np.ndarray
    entropy: MonteCarloEstimate
    mutual_information: MonteCarloEstimate
    kl: MonteCarloEstimate
    conditional_entropy: np.ndarray
    method: str
    n_draws: int | np.ndarray = field(default=0)
    roundoff: float | np.ndarray = field(default=0.0)


def mixture_entropy_mc(
    centers,
    alpha_bar,
    n_samples: int,
    rng: np.random.Generator,
    *,
    method: str = "labelled",
    target_se: float | None = None,
    max_samples: int | None = None,
    block_size: int = DEFAULT_BLOCK,
    chunk_size: int = _ss.DEFAULT_CHUNK,
) -> MixtureEntropy:
    """Monte Carlo estimate of H(U_i), I(U_0; U_i) and KL(p(u_i) ‖ N(0, I)) (paper, Eq. 9).

    For a training set {f_1, …, f_N} (U_0 uniform on it) and ᾱ_i < 1, the marginal is exactly
    p(u) = (1/N) Σ_k φ_k(u) with φ_k = N(√ᾱ_i f_k, (1 − ᾱ_i) I). Draw K uniform, Z ~ N(0, I) and
    U = √ᾱ_i f_K + √(1 − ᾱ_i) Z, and evaluate log p(U) exactly with
    :func:`lib.steady_state.mixture_logpdf` (a chunked logsumexp).

    * ``method="plain"``: H = E[−log p(U)], estimated by the sample mean of −log p(U)
      (draws from :func:`lib.steady_state.sample_mixture`).
    * ``method="labelled"`` (default): split H(U) = H(U | K) + I(U; K). The first term is the
      Gaussian entropy (n/2) ln(2πe(1 − ᾱ_i)), known exactly, and the second is the mean of
      log φ_K(U) − log p(U) = ln N + ln w_K(U), with w_K(U) the posterior probability of the
      component that produced U. The summand lies in (−∞, ln N]; it is nearly constant both
      when the components are well separated (≈ ln N) and when they overlap (≈ 0), which cuts
      the standard error by orders of magnitude against the plain estimator (whose summand has
      variance ≥ ≈ n/2 near ᾱ = 1). Since U_0 = f_K is a function of K and U ⊥ K | U_0,
      I(U; K) = I(U_0; U_i).

    Both estimators are unbiased; the standard error is the sample standard deviation of the
    summand over √(number of draws). Samples are drawn and evaluated ``block_size`` at a time
    and :func:`~lib.steady_state.mixture_logpdf` holds at most ``chunk_size`` (sample,
    component) pairs, so memory stays bounded by about 8 · (block_size · n + chunk_size) bytes
    whatever the number of draws. With the labelled method and no ``target_se`` the result does
    not depend on ``block_size`` (up to summation order).

    With ``target_se``, each ᾱ gets at least ``n_samples`` draws and then further blocks until
    the standard error is at most ``target_se`` or ``max_samples`` draws are reached. The
    labelled summand has a tiny spread where the components are well separated or strongly
    overlapping, so most steps stop at the minimum and the work goes where the spread is. (The
    stopping rule looks at the spread, not at the mean, so the estimate stays unbiased up to a
    correlation between sample mean and sample variance of order 1/draws.)

    Parameters
    ----------
    centers : array_like, shape (N, n)
        The training images f_k, flattened.
    alpha_bar : float or array_like, shape (K,)
        ᾱ_i in (0, 1); different values get independent samples.
    n_samples : int
        Draws per value of ᾱ (at least 2).
    rng : numpy.random.Generator
    method : {"labelled", "plain"}
    target_se : float, optional
        Keep drawing blocks until the standard error is at most this (see above).
    max_samples : int, optional
        Upper limit on the draws per ᾱ with ``target_se`` (default 100 · n_samples).
    block_size, chunk_size : int
        Memory controls (see above).

    Returns
    -------
    MixtureEntropy
        ``n_draws`` holds the number of draws actually used per ᾱ.
    """
    centers = _check_centers(centers)
    a_checked = _check_alpha_bar(alpha_bar)
    a_all = np.atleast_1d(a_checked)
    n_samples = _check_positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError("n_samples must be at least 2 to give a standard error")
    check_rng(rng)
    if method not in ("labelled", "plain"):
        raise ValueError(f"method must be 'labelled' or 'plain', got {method!r}")
    block_size = _check_positive_int(block_size, "block_size")
    if target_se is not None and (
        isinstance(target_se, (bool, np.bool_)) or not isinstance(target_se, numbers.Real)
        or not 0 < target_se < np.inf
    ):
        raise ValueError(f"target_se must be a positive number or None, got {target_se!r}")
    if max_samples is None:
        max_samples = 100 * n_samples if target_se is not None else n_samples
    max_samples = max(_check_positive_int(max_samples, "max_samples"), n_samples)
    n_comp, n = centers.shape
    mean, cov, lam = _moment_spectrum(centers)
    second_moment = float(np.mean(np.einsum("ij,ij->i", centers, centers)))
    rng_k, rng_z = rng.spawn(2)
    h_cond = 0.5 * n * (LOG_2PIE + np.log1p(-a_all))
    values, ses, draws, u_sq_max = [], [], [], []
    f_sq_max = float(np.max(np.einsum("ij,ij->i", centers, centers)))

    def done(acc: _Accumulator) -> bool:
        if acc.count < n_samples:
            return False
        return target_se is None or acc.count >= max_samples or acc.standard_error() <= target_se

    for a, hc in zip(a_all.tolist(), h_cond.tolist()):
        acc = _Accumulator()
        scale, variance = float(np.sqrt(a)), 1.0 - a
        u_sq = 0.0
        if method == "labelled":
            blocks = _labelled_blocks(centers, a, max_samples, block_size, rng_k, rng_z)
            for _, z, u in blocks:
                u_sq = max(u_sq, float(np.max(np.einsum("ij,ij->i", u, u))))
                log_p = _ss.mixture_logpdf(u, centers, scale, variance, chunk_size=chunk_size)
                log_phi_k = -0.5 * np.einsum("ij,ij->i", z, z) - 0.5 * n * (LOG_2PI + np.log(variance))
                acc.add(log_phi_k - log_p)
                if done(acc):
                    break
            values.append(hc + acc.mean)
        else:
            while not done(acc):
                m = min(block_size, max_samples - acc.count)
                u = _ss.sample_mixture(centers, scale, variance, m, rng)
                u_sq = max(u_sq, float(np.max(np.einsum("ij,ij->i", u, u))))
                acc.add(-_ss.mixture_logpdf(u, centers, scale, variance, chunk_size=chunk_size))
            values.append(acc.mean)
        ses.append(acc.standard_error())
        draws.append(acc.count)
        u_sq_max.append(u_sq)
    h = np.array(values)
    se = np.array(ses)
    h_gauss = 0.5 * np.sum(LOG_2PIE + _marginal_log_eigs(lam, a_all), axis=-1)
    kl_const = 0.5 * (a_all * second_moment + (1.0 - a_all) * n) + 0.5 * n * LOG_2PI
    kl_gauss = np.asarray(_ss.kl_gaussian_marginal(mean, cov, a_all))
    eps = np.finfo(np.float64).eps
    roundoff = n * eps * (np.array(u_sq_max) + a_all * f_sq_max) / (1.0 - a_all)
    if a_checked.ndim == 0:  # a single ᾱ: plain floats, as in lib.steady_state
        h, se, h_gauss, h_cond, kl_const, kl_gauss, a_all, roundoff = (
            float(x[0]) for x in (h, se, h_gauss, h_cond, kl_const, kl_gauss, a_all, roundoff)
        )
    m = int(min(draws))
    return MixtureEntropy(
        alpha_bar=a_all,
        entropy=MonteCarloEstimate(h, se, m, h_gauss),
        mutual_information=MonteCarloEstimate(h - h_cond, se, m),
        kl=MonteCarloEstimate(kl_const - h, se, m, kl_gauss),
        conditional_entropy=h_cond,
        method=method,
        n_draws=np.array(draws) if a_checked.ndim else int(draws[0]),
        roundoff=roundoff,
    )


def mixture_posterior_mean(x, centers, scale: float, variance: float, *,
                           chunk_size: int = _ss.DEFAULT_CHUNK) -> np.ndarray:
    """E[U_0 | U_i = x] for the mixture (1/N) Σ_k N(scale · f_k, variance · I) (Tweedie's denoiser).

    The posterior weights w_k(x) ∝ exp(−‖x − scale f_k‖² / (2 variance)) are a softmax over the
    components, accumulated chunk by chunk with a running maximum (as in
    :func:`lib.steady_state.mixture_logpdf`), so at most ``chunk_size`` (point, component) pairs
    are in memory. Returns Σ_k w_k(x) f_k, shape (m, n).
    """
    centers = _check_centers(centers)
    x = as_float_array(x, "x").astype(np.float64, copy=False)
    x2 = np.atleast_2d(x)
    if x2.ndim != 2 or x2.shape[1] != centers.shape[1]:
        raise ValueError(f"x must have shape (m, {centers.shape[1]}), got {x.shape}")
    if not (np.isfinite(scale) and np.isfinite(variance) and variance > 0):
        raise ValueError("scale must be finite and variance positive and finite")
    chunk_size = _check_positive_int(chunk_size, "chunk_size")
    n_comp = centers.shape[0]
    sc = (scale / variance) * centers
    offset = (0.5 * scale**2 / variance) * np.einsum("ij,ij->i", centers, centers)
    comp_block = min(n_comp, chunk_size)
    point_block = max(1, chunk_size // comp_block)
    out = np.empty_like(x2)
    for p0 in range(0, x2.shape[0], point_block):
        xb = x2[p0 : p0 + point_block]
        run_max = np.full(xb.shape[0], -np.inf)
        run_sum = np.zeros(xb.shape[0])
        run_vec = np.zeros((xb.shape[0], centers.shape[1]))
        for c0 in range(0, n_comp, comp_block):
            e = xb @ sc[c0 : c0 + comp_block].T
            e -= offset[None, c0 : c0 + comp_block]
            new_max = np.maximum(run_max, e.max(axis=1))
            e -= new_max[:, None]
            np.exp(e, out=e)
            shrink = np.exp(run_max - new_max)
            run_sum = run_sum * shrink + e.sum(axis=1)
            run_vec = run_vec * shrink[:, None] + e @ centers[c0 : c0 + comp_block]
            run_max = new_max
        out[p0 : p0 + point_block] = run_vec / run_sum[:, None]
    return out


def mixture_entropy_rate_mc(
    centers,
    alpha_bar,
    n_samples: int,
    rng: np.random.Generator,
    *,
    block_size: int = DEFAULT_BLOCK,
    chunk_size: int = _ss.DEFAULT_CHUNK,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of dH(U_i)/dt along t = −ln ᾱ (de Bruijn's identity), with SE.

    The marginal depends on the schedule only through ᾱ, and U = √ᾱ U_0 + √(1 − ᾱ) Z solves the
    Ornstein-Uhlenbeck equation in t = −ln ᾱ. Its Fokker-Planck equation
    ∂_t p = ½ ∇·(u p) + ½ Δp gives dH/dt = ½ (J − n), J = E‖∇ log p(U)‖² the Fisher information
    (Cover and Thomas, Thm. 17.7.2, for the heat-equation part). Writing the score through the
    posterior mean f̂(U) = E[U_0 | U] (:func:`mixture_posterior_mean`),

        J = [n − ᾱ mmse / (1 − ᾱ)] / (1 − ᾱ),   mmse = E‖U_0 − f̂(U)‖²,

    so dH/dt = ᾱ / (2 (1 − ᾱ)²) · (n (1 − ᾱ) − mmse): the entropy increases iff
    mmse < n(1 − ᾱ). The summand ᾱ (n(1 − ᾱ) − ‖f_K − f̂(U)‖²) / (2(1 − ᾱ)²) is averaged over
    labelled draws (as in :func:`mixture_entropy_mc`). For a constant β, dH/di = −ln(1 − β) dH/dt.

    Returns
    -------
    MonteCarloEstimate
        ``value`` and ``standard_error`` of dH/dt (float or array over ``alpha_bar``);
        ``gaussian_part`` is the rate of the moment-matched Gaussian
        (:func:`gaussian_marginal_entropy_rate`), for comparison only (not a bound).
    """
    centers = _check_centers(centers)
    a_all = _check_alpha_bar(alpha_bar)
    n_samples = _check_positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError("n_samples must be at least 2 to give a standard error")
    check_rng(rng)
    block_size = _check_positive_int(block_size, "block_size")
    n = centers.shape[1]
    _, _, lam = _moment_spectrum(centers)
    rng_k, rng_z = rng.spawn(2)
    values, ses = [], []
    for a in np.atleast_1d(a_all).tolist():
        acc = _Accumulator()
        for k, _, u in _labelled_blocks(centers, a, n_samples, block_size, rng_k, rng_z):
            f_hat = mixture_posterior_mean(u, centers, np.sqrt(a), 1.0 - a, chunk_size=chunk_size)
            err = centers[k] - f_hat
            acc.add(a * (n * (1.0 - a) - np.einsum("ij,ij->i", err, err)) / (2.0 * (1.0 - a) ** 2))
        values.append(acc.mean)
        ses.append(acc.standard_error())
    x = lam - 1.0
    gauss = -0.5 * a_all * np.sum(x / (1.0 + np.asarray(a_all)[..., None] * x), axis=-1)
    if a_all.ndim == 0:
        return MonteCarloEstimate(values[0], ses[0], n_samples, float(gauss))
    return MonteCarloEstimate(np.array(values), np.array(ses), n_samples, gauss)


def entropy_vs_scale(data, scale: float, betas, mc_steps, n_samples: int,
                     rng: np.random.Generator, *, target_se: float | None = None) -> dict:
    """H(U_i) and KL(p(u_i) ‖ N(0, I)) for the training set c · ``data`` along a schedule.

    Returns the curves of :func:`lib.plotting.plot_entropy_scale_grid`: for the Gaussian with
    the same mean and covariance, the closed forms at every step i = 1, …, T (an upper bound on
    H and a lower bound on KL, :func:`gaussian_marginal_entropy`,
    :func:`lib.steady_state.kl_gaussian_marginal`); for the mixture itself, Monte Carlo estimates
    at ``mc_steps``: H from :func:`mixture_entropy_mc` and KL from
    :func:`lib.steady_state.kl_to_standard_normal_mc` (its control variate is more precise where
    KL is small), each with ``n_samples`` draws (for H at least that many, more where needed to
    reach ``target_se``). Steps where ᾱ_i underflows to 0 are left out.

    Returns
    -------
    dict
        ``i``, ``gauss_h``, ``gauss_kl`` (every step) and ``mc_i``, ``h``, ``h_se``, ``kl``,
        ``kl_se`` (Monte Carlo steps).
    """
    data = _check_centers(data)
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real) or not (
        0 < scale < np.inf
    ):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    log_ab = log_alpha_bar(betas)
    n_steps = log_ab.size - 1
    mc_steps = np.asarray(mc_steps)
    if mc_steps.ndim != 1 or mc_steps.dtype.kind not in "iu" or np.any(mc_steps < 1) or np.any(
        mc_steps > n_steps
    ):
        raise ValueError(f"mc_steps must be integer steps in [1, {n_steps}], got {mc_steps!r}")
    check_rng(rng)
    ab = np.exp(log_ab)
    steps = np.arange(1, n_steps + 1)
    steps, mc_steps = steps[ab[steps] > 0], mc_steps[ab[mc_steps] > 0]
    centers = float(scale) * data
    mean = centers.mean(axis=0)
    cov = np.atleast_2d(np.cov(centers, rowvar=False, bias=True))
    h = mixture_entropy_mc(centers, ab[mc_steps], n_samples, rng, target_se=target_se,
                           block_size=n_samples).entropy
    kl = _ss.kl_to_standard_normal_mc(centers, ab[mc_steps], n_samples, rng)
    return dict(
        i=steps, gauss_h=gaussian_marginal_entropy(cov, ab[steps]),
        gauss_kl=_ss.kl_gaussian_marginal(mean, cov, ab[steps]),
        mc_i=mc_steps, h=h.value, h_se=h.standard_error, kl=kl.value, kl_se=kl.standard_error,
    )


@dataclass(frozen=True)
class EntropyTurn:
    """Where H(U_i) stops increasing (see :func:`entropy_turn`).

    Attributes
    ----------
    last_increasing : int
        Largest probed step a with dH/dt significantly > 0 at every probe in [lo, a].
    first_decreasing : int
        Smallest probed step b with dH/dt significantly < 0 at every probe in [b, hi].
    probes : dict
        step → (rate, standard error) of every probe made.
    z : float
        Significance threshold in standard errors.
    """

    last_increasing: int
    first_decreasing: int
    probes: dict
    z: float


def entropy_turn(centers, betas, lo: int, hi: int, n_samples: int, rng: np.random.Generator,
                 *, z: float = 4.0) -> EntropyTurn:
    """Bracket the step at which H(U_i) of an empirical training set turns from up to down.

    Requires dH/dt (:func:`mixture_entropy_rate_mc`) to be significantly positive (> z SE) at
    step ``lo`` and significantly negative at step ``hi``, and assumes it changes sign once in
    between (check this on a coarse grid first). Two bisections over integer steps then find
    a = the last step with a significantly positive rate and b = the first step with a
    significantly negative one. Under the single-sign-change assumption H(U_lo) < … < H(U_a)
    and H(U_b) > … > H(U_hi), so max_i H(U_i) over [lo, hi] is attained in [a, b]. Each probe
    is a fresh Monte Carlo estimate with ``n_samples`` draws; with about 2 log2(hi − lo) probes
    at z = 4, the chance that any probe has the wrong significant sign is below 1e-3.
    """
    centers = _check_centers(centers)
    log_ab = log_alpha_bar(betas)
    n_steps = log_ab.size - 1
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or not 1 <= v <= n_steps:
            raise ValueError(f"{name} must be an integer step in [1, {n_steps}], got {v!r}")
    if not lo < hi:
        raise ValueError(f"lo must be smaller than hi, got lo={lo}, hi={hi}")
    if isinstance(z, (bool, np.bool_)) or not isinstance(z, numbers.Real) or not z > 0:
        raise ValueError(f"z must be a positive number, got {z!r}")
    check_rng(rng)
    probes: dict = {}

    def rate(i: int) -> tuple[float, float]:
        if i not in probes:
            est = mixture_entropy_rate_mc(centers, float(np.exp(log_ab[i])), n_samples, rng)
            probes[i] = (float(est.value), float(est.standard_error))
        return probes[i]

    def positive(i: int) -> bool:
        v, s = rate(i)
        return v > z * s

    def negative(i: int) -> bool:
        v, s = rate(i)
        return v < -z * s

    if not positive(int(lo)):
        raise ValueError(f"dH/dt is not significantly positive at lo = {lo}: {probes[int(lo)]}")
    if not negative(int(hi)):
        raise ValueError(f"dH/dt is not significantly negative at hi = {hi}: {probes[int(hi)]}")
    a, b = int(lo), int(hi)  # positive(a) holds, positive(b) fails
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (mid, b) if positive(mid) else (a, mid)
    last_inc = a
    a, b = int(lo), int(hi)  # negative(a) fails, negative(b) holds
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (a, mid) if negative(mid) else (mid, b)
    return EntropyTurn(last_inc, b, dict(sorted(probes.items())), float(z))
