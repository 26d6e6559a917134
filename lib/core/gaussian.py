"""Closed forms for Gaussian data under the forward process (paper, Eqs. 5, 9–22).

If p(u_0) = N(m, Σ), the marginal of Eq. (5) is p(u_i) = N(√ᾱ_i m, ᾱ_i Σ + (1 − ᾱ_i) I): its
moments (:func:`gaussian_marginal_moments`), entropy (:func:`gaussian_marginal_entropy`) and
its rate along t = −ln ᾱ, and its Kullback–Leibler divergence from the steady state N(0, I)
(:func:`kl_gaussian_marginal`, with the small-ᾱ expansion and a bound for any training
distribution) are computed from the eigenvalues of Σ, with ``log1p``-type formulas that keep
their accuracy as ᾱ → 0 or Σ → I. The conditional entropy H(U_i | U_0) does not depend on the
data (:func:`conditional_entropy`). Entropies are in nats.

Examples
--------
>>> import numpy as np
>>> from scipy import stats
>>> cov = np.diag([0.5, 2.0])
>>> h = gaussian_marginal_entropy(cov, 0.3)
>>> bool(np.isclose(h, stats.multivariate_normal(cov=0.3 * cov + 0.7 * np.eye(2)).entropy()))
True
>>> float(kl_gaussian_marginal(np.zeros(2), np.eye(2), 0.5))
0.0
"""

from __future__ import annotations

import numpy as np

from ._validation import (check_alpha_bar, check_covariance, check_int, check_mean_cov,
                          check_pixel_counts, check_real)
from .schedules import log_alpha_bar

__all__ = [
    "conditional_entropy",
    "eq10_lower_bound",
    "gaussian_entropy",
    "gaussian_marginal_entropy",
    "gaussian_marginal_entropy_rate",
    "gaussian_marginal_moments",
    "kl_convexity_bound",
    "kl_gaussian",
    "kl_gaussian_marginal",
    "standard_normal_entropy",
]

LOG_2PI = float(np.log(2.0 * np.pi))
LOG_2PIE = float(np.log(2.0 * np.pi * np.e))


# ---------------------------------------------------------------------------------------------
# entropies
# ---------------------------------------------------------------------------------------------


def standard_normal_entropy(n: int) -> float:
    """H(N(0, I_n)) = (n/2) ln(2πe), the entropy of the steady state (paper, Eq. 14)."""
    return 0.5 * check_int(n, "n", 1) * LOG_2PIE


def gaussian_entropy(cov) -> float:
    """H(N(m, Σ)) = ½ ln det(2πe Σ) = ½ Σ_k ln(2πe λ_k), λ_k the eigenvalues of Σ.

    Parameters
    ----------
    cov : array_like, shape (n, n)
        Symmetric positive definite.
    """
    _, lam = check_covariance(cov, definite=True)
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
    _, lam = check_covariance(cov, definite=False)
    a = check_alpha_bar(alpha_bar, upper_closed=True)
    if np.any(a == 1.0) and lam.min() <= 0.0:
        raise ValueError("at alpha_bar = 1 the marginal is U_0 itself: cov must be positive definite")
    out = 0.5 * np.sum(LOG_2PIE + _marginal_log_eigs(lam, a), axis=-1)
    return float(out) if out.ndim == 0 else out


def gaussian_marginal_entropy_rate(cov, alpha_bar):
    """dH(U_i)/dt along t = −ln ᾱ for p(u_0) = N(m, Σ) (closed form).

    Differentiating :func:`gaussian_marginal_entropy`,

        dH/dt = −ᾱ dH/dᾱ = −½ ᾱ Σ_k (λ_k − 1) / (1 + ᾱ(λ_k − 1)),

    positive when every λ_k < 1 and negative when every λ_k > 1. For a constant β the step i
    is t = −i ln(1 − β), so dH/di = −ln(1 − β) · dH/dt.
    """
    _, lam = check_covariance(cov, definite=False)
    a = check_alpha_bar(alpha_bar)
    out = _rate_from_eigs(lam, a)
    return float(out) if out.ndim == 0 else out


def _rate_from_eigs(lam: np.ndarray, a):
    """−½ ᾱ Σ_k (λ_k − 1) / (1 + ᾱ(λ_k − 1)) for every ᾱ (see the rate function above)."""
    x = lam - 1.0
    return -0.5 * a * np.sum(x / (1.0 + np.asarray(a)[..., None] * x), axis=-1)


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
    n = check_int(n, "n", 1)
    with np.errstate(divide="ignore"):
        return 0.5 * n * (LOG_2PIE + np.log(_one_minus_alpha_bar(betas)))


# ---------------------------------------------------------------------------------------------
# moments and Kullback–Leibler divergence from N(0, I)
# ---------------------------------------------------------------------------------------------


def _x_minus_log1p(x) -> np.ndarray:
    """x − ln(1 + x) for x > −1, accurate to a few ulp also where it is tiny (|x| ≪ 1).

    The direct difference loses all digits for |x| < 1e-8 (it is ≈ x²/2 but computed from two
    numbers of size |x|). For |x| < 0.1 the alternating series Σ_{k≥2} (−x)^k / k is summed to
    k = 18, whose truncation error is below 0.1^17 / 18 relative to x²/2 · … ≈ 1e-17.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < 0.1
    xs = x[small]
    series = np.zeros_like(xs)
    for k in range(18, 1, -1):  # Horner-like accumulation from the smallest term
        series = series + (-xs) ** k / k
    out[small] = series
    out[~small] = x[~small] - np.log1p(x[~small])
    return out


def gaussian_marginal_moments(mean, cov, alpha_bar: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of p(u_i) when p(u_0) = N(m, Σ) (paper, Eq. 22).

    U_i = √ᾱ_i U_0 + √(1 − ᾱ_i) ξ with ξ independent of U_0 gives
    E U_i = √ᾱ_i m and Cov U_i = ᾱ_i Σ + (1 − ᾱ_i) I; the law is Gaussian. The same two moments
    hold for *any* training distribution with mean m and covariance Σ.

    Parameters
    ----------
    mean : array_like, shape (n,)
    cov : array_like, shape (n, n)
        Symmetric positive semi-definite.
    alpha_bar : float
        ᾱ_i in (0, 1].
    """
    mean, cov, _ = check_mean_cov(mean, cov)
    a = check_alpha_bar(alpha_bar, upper_closed=True, scalar=True)
    return np.sqrt(a) * mean, a * cov + (1.0 - a) * np.eye(mean.size)


def kl_gaussian(mean, cov) -> float:
    """KL(N(μ, S) ‖ N(0, I)) = ½ [‖μ‖² + tr S − n − ln det S], from the eigenvalues of S.

    With the eigenvalues λ_k of S this is ½ [‖μ‖² + Σ_k (λ_k − 1 − ln λ_k)]; each term is
    evaluated as x − ln(1 + x) with x = λ_k − 1 so that it stays accurate when S is close to I.

    Parameters
    ----------
    mean : array_like, shape (n,)
    cov : array_like, shape (n, n)
        Symmetric positive definite.

    Returns
    -------
    float
        The divergence in nats.
    """
    mean, _, lam = check_mean_cov(mean, cov, definite=True)
    return float(0.5 * (mean @ mean + _x_minus_log1p(lam - 1.0).sum()))


def kl_gaussian_marginal(mean, cov, alpha_bar) -> np.ndarray:
    """KL(p(u_i) ‖ N(0, I)) for p(u_0) = N(m, Σ), for one or many ᾱ_i (closed form).

    With the eigenvalues λ_k of Σ, the marginal N(√ᾱ m, ᾱΣ + (1 − ᾱ)I) has covariance
    eigenvalues 1 + x_k with x_k = ᾱ (λ_k − 1), so

        KL = ½ ᾱ ‖m‖² + ½ Σ_k [x_k − ln(1 + x_k)].

    x_k is formed directly (not as an eigenvalue minus one), which keeps full relative accuracy
    as ᾱ → 0. Σ may be singular (λ_k = 0 gives x_k = −ᾱ > −1).

    Parameters
    ----------
    mean : array_like, shape (n,)
    cov : array_like, shape (n, n)
        Symmetric positive semi-definite.
    alpha_bar : float or array_like
        ᾱ_i values in (0, 1).

    Returns
    -------
    ndarray of float64, shape of ``alpha_bar``
    """
    mean, _, lam = check_mean_cov(mean, cov)
    m2 = float(mean @ mean)
    a = check_alpha_bar(alpha_bar)
    x = a[..., None] * (lam - 1.0)
    return 0.5 * a * m2 + 0.5 * _x_minus_log1p(x).sum(axis=-1)


def kl_convexity_bound(second_moment: float, n: int, alpha_bar) -> np.ndarray:
    """Rigorous upper bound on KL(p(u_i) ‖ N(0, I)) for *any* training distribution.

    p(u_i) = E_F N(√ᾱ F, (1 − ᾱ) I) is a mixture, and KL is jointly convex, so

        KL(p(u_i) ‖ N(0, I)) ≤ E_F KL(N(√ᾱ F, (1 − ᾱ)I) ‖ N(0, I))
                             = ½ [ᾱ (E‖F‖² − n) − n ln(1 − ᾱ)]  =  ½ ᾱ E‖F‖² + O(n ᾱ²).

    Parameters
    ----------
    second_moment : float
        E‖F‖², the mean squared norm of a training image.
    n : int
        Number of pixels.
    alpha_bar : float or array_like
        ᾱ_i values in (0, 1).
    """
    second_moment = check_real(second_moment, "second_moment", 0.0, low_open=False)
    n = check_int(n, "n", 1)
    a = check_alpha_bar(alpha_bar)
    # ½[ᾱ(E‖F‖² − n) − n ln(1 − ᾱ)] = ½ᾱE‖F‖² + ½n[−ᾱ − ln(1 − ᾱ)], the bracket ≥ 0.
    return 0.5 * a * float(second_moment) + 0.5 * n * _x_minus_log1p(-a)


def eq10_lower_bound(n) -> np.ndarray:
    """Lower limit b_n = ½ − √(¼ − (2πe)^(−n)) of the β-interval in the paper's Eq. (10).

    Evaluated in the rationalised form q / (½ + √(¼ − q)), q = (2πe)^(−n): the literal
    formula cancels catastrophically and returns exactly 0 in float64 from n = 14 on, although
    b_n > 0 for every n. b_n ≈ (2πe)^(−n) underflows to 0 itself for n ≳ 290; use
    logarithms there (log10 b_n ≈ −n log10(2πe)).

    Any schedule with β_i ≥ b_n for all i has ᾱ_i ≤ (1 − b_n)^i → 0, so Eq. (10) *does* imply
    Proposition 4 — with a guaranteed rate that is useless for real n.
    """
    n = check_pixel_counts(n)
    q = np.exp(-n.astype(np.float64) * LOG_2PIE)
    return q / (0.5 + np.sqrt(0.25 - q))

