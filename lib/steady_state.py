"""Property 5 and Proposition 4 (paper, Eq. 22): convergence to the standard normal distribution.

Given u_0, Eq. (5) / Eq. (22) says U_i = √ᾱ_i u_0 + √(1 − ᾱ_i) ξ with ξ ~ N(0, I). For a training
distribution p(u_0) the marginal p(u_i) is therefore p(u_0) scaled by √ᾱ_i and blurred by
N(0, (1 − ᾱ_i) I). This module measures how far that marginal is from N(0, I):

* for a Gaussian training distribution N(m, Σ), the marginal is N(√ᾱ_i m, ᾱ_i Σ + (1 − ᾱ_i) I)
  and its Kullback–Leibler divergence from N(0, I) is computed in closed form from the
  eigenvalues of Σ (:func:`kl_gaussian_marginal`), with its small-ᾱ expansion
  (:func:`kl_leading_order`) and a rigorous upper bound for any training set
  (:func:`kl_convexity_bound`);
* for an empirical training set {f_k} the marginal is the Gaussian mixture
  (1/N) Σ_k N(√ᾱ_i f_k, (1 − ᾱ_i) I); :func:`mixture_logpdf` evaluates its log-density exactly
  (a chunked logsumexp), :func:`sample_mixture` draws from it and
  :func:`kl_to_standard_normal_mc` estimates its KL divergence from N(0, I) by Monte Carlo with a
  standard error;
* the hypothesis of Proposition 4: schedules with Σ β_j < ∞ (:func:`inverse_square_betas`) do
  not forget u_0, ᾱ_∞ = sin(π√c)/(π√c) > 0 (:func:`inverse_square_alpha_bar_limit`), and the
  lower limit of the paper's Eq. (10) (:func:`eq10_lower_bound`);
* detectability of the initial image in one trajectory: the matched correlation statistic
  (:func:`correlation_z`, :func:`correlation_shift`, :func:`two_sided_power`) and the
  Kolmogorov–Smirnov distance of the pooled pixel law from N(0, 1)
  (:func:`pooled_ks_distance`).

Step indices follow :mod:`lib.schedules`: ``betas[i - 1] = β_i``, ``alpha_bar(betas)[i] = ᾱ_i``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import special as _sp
from scipy import stats as _st

from ._validation import as_float_array, check_rng
from ._validation import check_positive_int as _check_positive_int

__all__ = [
    "MonteCarloEstimate",
    "correlation_shift",
    "correlation_z",
    "eq10_lower_bound",
    "first_step_at_or_below",
    "gaussian_marginal_moments",
    "harmonic_betas",
    "inverse_square_alpha_bar_limit",
    "inverse_square_betas",
    "kl_convexity_bound",
    "kl_gaussian",
    "kl_gaussian_marginal",
    "kl_leading_order",
    "kl_second_order_remainder_bound",
    "kl_to_standard_normal_mc",
    "log10_eq10_lower_bound",
    "mixture_logpdf",
    "DetectabilityReport",
    "correlation_threshold_step",
    "detectability",
    "simulate_detection",
    "ks_normal",
    "ks_threshold_step",
    "pooled_ks_distance",
    "sample_mixture",
    "two_sided_power",
]

_LOG_2PI = float(np.log(2.0 * np.pi))
_LOG_2PIE = float(np.log(2.0 * np.pi * np.e))
DEFAULT_CHUNK = 2**20  # (sample, component) pairs held in memory at once: 8 MB of float64


# ---------------------------------------------------------------------------------------------
# local validation helpers
# ---------------------------------------------------------------------------------------------


def _check_alpha_bars(alpha_bar, name: str = "alpha_bar", closed_right: bool = False) -> np.ndarray:
    """ᾱ values as a float64 array, each in (0, 1) (or (0, 1] with ``closed_right``)."""
    arr = as_float_array(alpha_bar, name).astype(np.float64, copy=False)
    upper_ok = arr <= 1.0 if closed_right else arr < 1.0
    if not np.all((arr > 0.0) & upper_ok):
        interval = "(0, 1]" if closed_right else "(0, 1)"
        raise ValueError(f"every {name} must lie in {interval}, got values from {arr.min()} to {arr.max()}")
    return arr


def _check_scalar_alpha_bar(alpha_bar, closed_right: bool = False) -> float:
    arr = _check_alpha_bars(alpha_bar, closed_right=closed_right)
    if arr.ndim != 0:
        raise ValueError(f"alpha_bar must be a single number here, got shape {arr.shape}")
    return float(arr)



def _check_level(level) -> float:
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    return float(level)


def _check_mean_cov(mean, cov) -> tuple[np.ndarray, np.ndarray]:
    mean = as_float_array(mean, "mean").astype(np.float64, copy=False)
    cov = as_float_array(cov, "cov").astype(np.float64, copy=False)
    if mean.ndim != 1:
        raise ValueError(f"mean must be a 1-D vector, got shape {mean.shape}")
    n = mean.size
    if cov.shape != (n, n):
        raise ValueError(f"cov must have shape ({n}, {n}) to match mean, got {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(cov).max()))):
        raise ValueError("cov must be symmetric")
    return mean, cov


def _check_centers(centers) -> np.ndarray:
    centers = as_float_array(centers, "centers").astype(np.float64, copy=False)
    if centers.ndim != 2:
        raise ValueError(f"centers must have shape (N, n): N training images of n pixels, got {centers.shape}")
    return centers


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


# ---------------------------------------------------------------------------------------------
# Gaussian training distribution: closed form
# ---------------------------------------------------------------------------------------------


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
    mean, cov = _check_mean_cov(mean, cov)
    a = _check_scalar_alpha_bar(alpha_bar, closed_right=True)
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
    mean, cov = _check_mean_cov(mean, cov)
    lam = np.linalg.eigvalsh(cov)
    if lam.min() <= 0.0:
        raise ValueError(f"cov must be positive definite, its smallest eigenvalue is {lam.min():.3g}")
    return float(0.5 * (mean @ mean + _x_minus_log1p(lam - 1.0).sum()))


def _data_spectrum(mean, cov) -> tuple[float, np.ndarray]:
    mean, cov = _check_mean_cov(mean, cov)
    lam = np.linalg.eigvalsh(cov)
    tol = 1e-10 * max(1.0, float(np.abs(lam).max()))
    if lam.min() < -tol:
        raise ValueError(f"cov must be positive semi-definite, its smallest eigenvalue is {lam.min():.3g}")
    return float(mean @ mean), np.clip(lam, 0.0, None)


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
    m2, lam = _data_spectrum(mean, cov)
    a = _check_alpha_bars(alpha_bar)
    x = a[..., None] * (lam - 1.0)
    return 0.5 * a * m2 + 0.5 * _x_minus_log1p(x).sum(axis=-1)


def kl_leading_order(mean, cov, alpha_bar, order: int = 1) -> np.ndarray:
    """Small-ᾱ expansion of :func:`kl_gaussian_marginal`.

    Expanding x − ln(1 + x) = x²/2 − x³/3 + … with x_k = ᾱ(λ_k − 1):

        KL = ½ ᾱ ‖m‖² + ¼ ᾱ² ‖Σ − I‖_F² + O(ᾱ³).

    The first-order term of the covariance, ½ ᾱ (tr Σ − n), cancels between tr S and ln det S:
    the mean enters at order ᾱ = (√ᾱ)², the covariance only at order ᾱ².

    Parameters
    ----------
    order : {1, 2}
        1 returns ½ ᾱ ‖m‖², 2 adds ¼ ᾱ² ‖Σ − I‖_F².
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    m2, lam = _data_spectrum(mean, cov)
    a = _check_alpha_bars(alpha_bar)
    out = 0.5 * a * m2
    if order == 2:
        out = out + 0.25 * a**2 * np.sum((lam - 1.0) ** 2)
    return out


def kl_second_order_remainder_bound(cov, alpha_bar) -> np.ndarray:
    """Bound on |KL − (½ᾱ‖m‖² + ¼ᾱ²‖Σ − I‖_F²)| for p(u_0) = N(m, Σ) (see :func:`kl_leading_order`).

    The remainder is ½ Σ_k [x_k − ln(1 + x_k) − x_k²/2] = ½ Σ_k Σ_{j≥3} (−x_k)^j / j with
    x_k = ᾱ(λ_k − 1); for |x_k| < 1 each inner sum is at most |x_k|³ / (3 (1 − |x_k|)), so the
    remainder is at most (1/6) Σ_k |x_k|³ / (1 − |x_k|) = O(ᾱ³). Requires every |x_k| < 1.
    """
    _, lam = _data_spectrum(np.zeros(np.shape(cov)[0]), cov)
    a = _check_alpha_bars(alpha_bar)
    x = np.abs(a[..., None] * (lam - 1.0))
    if np.any(x >= 1.0):
        raise ValueError("the bound needs ᾱ |λ_k − 1| < 1 for every eigenvalue λ_k of cov")
    return (x**3 / (1.0 - x)).sum(axis=-1) / 6.0


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
    if not isinstance(second_moment, numbers.Real) or not (0 <= second_moment < np.inf):
        raise ValueError(f"second_moment must be a finite non-negative number, got {second_moment!r}")
    n = _check_positive_int(n, "n")
    a = _check_alpha_bars(alpha_bar)
    # ½[ᾱ(E‖F‖² − n) − n ln(1 − ᾱ)] = ½ᾱE‖F‖² + ½n[−ᾱ − ln(1 − ᾱ)], the bracket ≥ 0.
    return 0.5 * a * float(second_moment) + 0.5 * n * _x_minus_log1p(-a)


# ---------------------------------------------------------------------------------------------
# Empirical training set: the exact Gaussian mixture
# ---------------------------------------------------------------------------------------------


def _check_scale_variance(scale, variance) -> tuple[float, float]:
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real) or not np.isfinite(scale):
        raise ValueError(f"scale must be a finite real number, got {scale!r}")
    if (
        isinstance(variance, (bool, np.bool_))
        or not isinstance(variance, numbers.Real)
        or not (0.0 < variance < np.inf)
    ):
        raise ValueError(f"variance must be a positive finite number, got {variance!r}")
    return float(scale), float(variance)


def mixture_logpdf(x, centers, scale: float, variance: float, *, chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """Log-density of the Gaussian mixture (1/N) Σ_k N(scale · c_k, variance · I) at x.

    For an empirical training set {f_k} (the centers) and i ≥ 1, this is exactly the marginal
    p(u_i) of the forward process with ``scale = √ᾱ_i`` and ``variance = 1 − ᾱ_i`` (Eq. 5 averaged
    over u_0). The sum over components is a logsumexp, accumulated chunk by chunk so that at most
    ``chunk_size`` (point, component) pairs are held in memory, whatever the sizes.

    The exponents −‖x − scale·c_k‖²/(2 variance) are formed from one matrix product per chunk,
    x·(scale c_k) − ‖scale c_k‖²/2, with ‖x‖²/2 subtracted after the logsumexp; the absolute
    round-off of the result is ≈ eps · (‖x‖² + scale²‖c_k‖²) / variance, negligible for the
    sizes used in the book (variance ≥ 1e-4, ‖x‖² ≈ 64).

    Parameters
    ----------
    x : array_like, shape (m, n) or (n,)
        Points at which to evaluate.
    centers : array_like, shape (N, n)
        Mixture centres before scaling (the training images, flattened).
    scale : float
        Factor applied to the centres (√ᾱ_i).
    variance : float
        Component variance (1 − ᾱ_i), positive.
    chunk_size : int
        Maximum number of (point, component) pairs processed at once.

    Returns
    -------
    ndarray of float64, shape (m,) (or a float for a single point)

    Notes
    -----
    The differential entropy of the marginal is H(U_i) = −E log p(U_i), which
    ``-mixture_logpdf(sample_mixture(...), ...).mean()`` estimates with standard error
    ``std / √m``.
    """
    centers = _check_centers(centers)
    scale, variance = _check_scale_variance(scale, variance)
    chunk_size = _check_positive_int(chunk_size, "chunk_size")
    x = as_float_array(x, "x").astype(np.float64, copy=False)
    single = x.ndim == 1
    x2 = np.atleast_2d(x)
    if x2.ndim != 2 or x2.shape[1] != centers.shape[1]:
        raise ValueError(f"x must have shape (m, {centers.shape[1]}) or ({centers.shape[1]},), got {x.shape}")
    n_comp, n = centers.shape
    # −‖x − s c‖² / (2v) = [x·(s c) − ‖s c‖²/2] / v − ‖x‖²/(2v): the bracket is a matrix
    # product plus a row vector; the last term is constant over the components and added after
    # the logsumexp. Cancellation between the two parts costs an absolute error of about
    # eps · (‖x‖² + ‖s c‖²) / v in the exponent.
    sc = (scale / variance) * centers
    offset = (0.5 * scale**2 / variance) * np.einsum("ij,ij->i", centers, centers)
    comp_block = min(n_comp, chunk_size)
    point_block = max(1, chunk_size // comp_block)
    out = np.empty(x2.shape[0])
    for p0 in range(0, x2.shape[0], point_block):
        xb = x2[p0 : p0 + point_block]
        running_max = np.full(xb.shape[0], -np.inf)
        running_sum = np.zeros(xb.shape[0])
        for c0 in range(0, n_comp, comp_block):
            e = xb @ sc[c0 : c0 + comp_block].T
            e -= offset[None, c0 : c0 + comp_block]
            new_max = np.maximum(running_max, e.max(axis=1))
            e -= new_max[:, None]
            np.exp(e, out=e)
            running_sum = running_sum * np.exp(running_max - new_max) + e.sum(axis=1)
            running_max = new_max
        xb_sq = np.einsum("ij,ij->i", xb, xb)
        out[p0 : p0 + point_block] = running_max + np.log(running_sum) - 0.5 * xb_sq / variance
    out += -np.log(n_comp) - 0.5 * n * (_LOG_2PI + np.log(variance))
    return float(out[0]) if single else out


def sample_mixture(centers, scale: float, variance: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` points of (1/N) Σ_k N(scale · c_k, variance · I).

    With ``scale = √ᾱ_i`` and ``variance = 1 − ᾱ_i`` these are draws of U_i when U_0 is a
    uniformly chosen training image: pick k, then apply Eq. (5).

    Returns
    -------
    ndarray of float64, shape (size, n)
    """
    centers = _check_centers(centers)
    scale, variance = _check_scale_variance(scale, variance)
    size = _check_positive_int(size, "size")
    check_rng(rng)
    k = rng.integers(0, centers.shape[0], size=size)
    noise = rng.standard_normal((size, centers.shape[1]))
    return scale * centers[k] + np.sqrt(variance) * noise


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate with its standard error.

    Attributes
    ----------
    value : float or ndarray
        The estimate (an array when several ᾱ were requested).
    standard_error : float or ndarray
        Sample standard deviation of the summands over √n_samples.
    n_samples : int
        Draws per estimate.
    gaussian_part : float or ndarray
        With the control variate, the exactly known KL of the moment-matched Gaussian
        (:func:`kl_gaussian_marginal`); ``value − gaussian_part`` estimates KL(p ‖ Gaussian) ≥ 0.
        NaN without the control variate.
    """

    value: float | np.ndarray
    standard_error: float | np.ndarray
    n_samples: int
    gaussian_part: float | np.ndarray = float("nan")


def _gaussian_log_ratio(x, mean, evecs, lam, a):
    """log N(x; √a m, aΣ + (1−a)I) − log N(x; 0, I) with Σ = V diag(λ) Vᵀ."""
    s = 1.0 + a * (lam - 1.0)  # eigenvalues of the marginal covariance
    y = (x - np.sqrt(a) * mean) @ evecs
    z = x @ evecs
    return -0.5 * (y**2 / s).sum(axis=1) + 0.5 * (z**2).sum(axis=1) - 0.5 * np.log(s).sum()


def kl_to_standard_normal_mc(
    centers,
    alpha_bar,
    n_samples: int,
    rng: np.random.Generator,
    *,
    control_variate: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of KL(p(u_i) ‖ N(0, I)) for an empirical training set.

    p(u_i) = (1/N) Σ_k N(√ᾱ f_k, (1 − ᾱ) I) is the exact marginal of the forward process started
    from a uniformly chosen training image f_k (Eqs. 5 and 22). With U^(1), …, U^(M) drawn from
    p (:func:`sample_mixture`) and log p evaluated exactly (:func:`mixture_logpdf`):

    * plain estimator: KL ≈ mean of d = log p(U) − log φ(U), φ the N(0, I) density;
    * control variate (default): with q the Gaussian with the same mean and covariance as p,
      log q − log φ is a quadratic, so its mean under p equals its mean under q, i.e.
      KL(q ‖ φ), known in closed form (:func:`kl_gaussian_marginal`). Hence
      KL(p ‖ φ) = KL(q ‖ φ) + E_p[log p − log q], and the second term is estimated from
      d = log p(U) − log q(U), whose spread is far smaller when p is close to Gaussian
      (small ᾱ). Both are unbiased; the second term is KL(p ‖ q) ≥ 0.

    The standard error is the sample standard deviation of d over √M.

    Parameters
    ----------
    centers : array_like, shape (N, n)
        The training images f_k, flattened.
    alpha_bar : float or array_like of shape (K,)
        ᾱ_i in (0, 1); several values are estimated with independent samples, sharing the
        eigendecomposition of the covariance.
    n_samples : int
        Number M ≥ 2 of Monte Carlo draws per value of ᾱ.
    rng : numpy.random.Generator
    control_variate : bool
        Use the moment-matched Gaussian as control variate (see above).
    chunk_size : int
        Passed to :func:`mixture_logpdf`.

    Returns
    -------
    MonteCarloEstimate
        With float fields for a scalar ``alpha_bar``, arrays of shape (K,) otherwise.
    """
    centers = _check_centers(centers)
    a_all = _check_alpha_bars(alpha_bar)
    n_samples = _check_positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError("n_samples must be at least 2 to give a standard error")
    check_rng(rng)
    n = centers.shape[1]
    if control_variate:
        mean = centers.mean(axis=0)
        cov = np.atleast_2d(np.cov(centers, rowvar=False, bias=True))  # 1/N, as in the mixture
        lam, evecs = np.linalg.eigh(cov)
        lam = np.clip(lam, 0.0, None)
    values, ses, gauss = [], [], []
    for a in np.atleast_1d(a_all).tolist():
        u = sample_mixture(centers, np.sqrt(a), 1.0 - a, n_samples, rng)
        log_p = mixture_logpdf(u, centers, np.sqrt(a), 1.0 - a, chunk_size=chunk_size)
        d = log_p - (-0.5 * np.einsum("ij,ij->i", u, u) - 0.5 * n * _LOG_2PI)
        g = float("nan")
        if control_variate:
            d = d - _gaussian_log_ratio(u, mean, evecs, lam, a)
            g = float(0.5 * a * (mean @ mean) + 0.5 * _x_minus_log1p(a * (lam - 1.0)).sum())
        values.append(float(d.mean()) + (g if control_variate else 0.0))
        ses.append(float(d.std(ddof=1) / np.sqrt(n_samples)))
        gauss.append(g)
    if a_all.ndim == 0:
        return MonteCarloEstimate(values[0], ses[0], n_samples, gauss[0])
    return MonteCarloEstimate(np.array(values), np.array(ses), n_samples, np.array(gauss))


# ---------------------------------------------------------------------------------------------
# The hypothesis of Proposition 4: Σ β_j = ∞
# ---------------------------------------------------------------------------------------------


def _check_c(c) -> float:
    if isinstance(c, (bool, np.bool_)) or not isinstance(c, numbers.Real) or not 0 < c < 1:
        raise ValueError(f"c must lie in the open interval (0, 1) so that every β_j = c/j^p is in (0, 1), got {c!r}")
    return float(c)


def inverse_square_betas(c: float, n_steps: int) -> np.ndarray:
    """Schedule β_j = c / j² (j = 1, …, T): every β_j ∈ (0, 1), but Σ β_j = c π²/6 < ∞.

    Proposition 4 fails for it: ᾱ_i decreases to ᾱ_∞ = sin(π√c)/(π√c) > 0
    (:func:`inverse_square_alpha_bar_limit`), so the process never forgets u_0.
    """
    c = _check_c(c)
    j = np.arange(1, _check_positive_int(n_steps, "n_steps") + 1, dtype=np.float64)
    return c / j**2


def harmonic_betas(c: float, n_steps: int) -> np.ndarray:
    """Schedule β_j = c / j: Σ β_j = ∞ with β_j → 0, so ᾱ_i → 0, but only like i^(−c).

    Exactly, ᾱ_i = ∏_{j≤i}(1 − c/j) = Γ(i + 1 − c) / (Γ(1 − c) Γ(i + 1)) ~ i^(−c) / Γ(1 − c).
    """
    c = _check_c(c)
    j = np.arange(1, _check_positive_int(n_steps, "n_steps") + 1, dtype=np.float64)
    return c / j


def inverse_square_alpha_bar_limit(c: float) -> float:
    """ᾱ_∞ = ∏_{j≥1} (1 − c/j²) = sin(π√c) / (π√c) for the schedule of :func:`inverse_square_betas`.

    Euler's product sin(πx) = πx ∏_{j≥1}(1 − x²/j²) with x = √c ∈ (0, 1). The partial products
    approach it from above: ᾱ_∞ ≤ ᾱ_J ≤ ᾱ_∞ / (1 − c/J), because
    ∏_{j>J}(1 − c/j²) ≥ 1 − c Σ_{j>J} 1/j² ≥ 1 − c/J.
    """
    x = np.sqrt(_check_c(c))
    return float(np.sinc(x))  # numpy's sinc is sin(πx)/(πx)


def log10_eq10_lower_bound(n) -> np.ndarray:
    """log10 of the lower limit b_n of the paper's Eq. (10), for pixel counts n where b_n underflows.

    b_n = ½ − √(¼ − q) with q = (2πe)^(−n); rationalised, b_n = q / (½ + √(¼ − q)), so
    log10 b_n = −n log10(2πe) − log10(½ + √(¼ − q)).
    """
    n = np.asarray(n)
    if n.dtype.kind not in "iu" or np.any(n < 1):
        raise ValueError(f"n must hold positive integers (pixel counts), got {n!r}")
    log_q = -n.astype(np.float64) * _LOG_2PIE
    q = np.exp(log_q)
    return (log_q - np.log(0.5 + np.sqrt(0.25 - q))) / np.log(10.0)


def eq10_lower_bound(n) -> np.ndarray:
    """Lower limit b_n = ½ − √(¼ − (2πe)^(−n)) of the β-interval in the paper's Eq. (10).

    Evaluated in the rationalised form q / (½ + √(¼ − q)), q = (2πe)^(−n): the literal
    formula cancels catastrophically and returns exactly 0 in float64 from n = 14 on, although
    b_n > 0 for every n. b_n ≈ (2πe)^(−n) underflows to 0 itself for n ≳ 290; use
    :func:`log10_eq10_lower_bound` there.

    Any schedule with β_i ≥ b_n for all i has ᾱ_i ≤ (1 − b_n)^i → 0, so Eq. (10) *does* imply
    Proposition 4 — with a guaranteed rate that is useless for real n.
    """
    n = np.asarray(n)
    if n.dtype.kind not in "iu" or np.any(n < 1):
        raise ValueError(f"n must hold positive integers (pixel counts), got {n!r}")
    q = np.exp(-n.astype(np.float64) * _LOG_2PIE)
    return q / (0.5 + np.sqrt(0.25 - q))


# ---------------------------------------------------------------------------------------------
# Detectability of u_0 in one trajectory
# ---------------------------------------------------------------------------------------------


def correlation_z(u, f) -> float:
    """Matched correlation statistic Z = gᵀu / ‖g‖ with g = f − mean(f), over all pixels.

    If the pixels of u are i.i.d. N(0, 1) and independent of f, Z ~ N(0, 1) exactly. Given
    u_0 = f, the pixels of u_i are independent N(√ᾱ_i f_p, 1 − ᾱ_i) (Eq. 5), so
    Z ~ N(δ_i, 1 − ᾱ_i) with δ_i = √ᾱ_i ‖g‖ (:func:`correlation_shift`). Z / √n is the
    correlation of u with f up to the normalisation of u, whose standard error under the null
    is 1/√n.
    """
    u = as_float_array(u, "u").astype(np.float64, copy=False).ravel()
    f = as_float_array(f, "f").astype(np.float64, copy=False).ravel()
    if u.size != f.size:
        raise ValueError(f"u and f must have the same number of pixels, got {u.size} and {f.size}")
    g = f - f.mean()
    norm = np.linalg.norm(g)
    if norm == 0.0:
        raise ValueError("f must not be constant: its centred version is zero")
    return float(g @ u / norm)


def correlation_shift(f, alpha_bar) -> np.ndarray:
    """Mean δ_i = √ᾱ_i ‖f − mean(f)‖ = √ᾱ_i · std(f) · √n of :func:`correlation_z` given u_0 = f."""
    f = as_float_array(f, "f").astype(np.float64, copy=False).ravel()
    a = _check_alpha_bars(alpha_bar, closed_right=True)
    return np.sqrt(a) * float(np.linalg.norm(f - f.mean()))


def two_sided_power(shift, level: float = 0.01, sd=1.0) -> np.ndarray:
    """Power of the two-sided z-test at ``level`` when the statistic is N(shift, sd²).

    The test rejects when |Z| > z_{1−level/2}; the power is
    Φ((shift − z)/sd) + Φ((−shift − z)/sd). It equals ``level`` at shift 0 (with sd = 1) and
    ≈ ½ at shift = z_{1−level/2}.
    """
    level = _check_level(level)
    shift = np.asarray(shift, dtype=np.float64)
    sd = np.asarray(sd, dtype=np.float64)
    if np.any(sd <= 0):
        raise ValueError("sd must be positive")
    z = _st.norm.isf(level / 2.0)
    return _st.norm.cdf((shift - z) / sd) + _st.norm.cdf((-shift - z) / sd)


def pooled_ks_distance(f, alpha_bar, *, grid: int = 601):
    """sup_x |F̄(x) − Φ(x)| for the pooled pixel law of u_i given u_0 = f.

    Given u_0 = f, pixel p of u_i is N(√ᾱ f_p, 1 − ᾱ), independently (Eq. 5); the empirical
    distribution of all n pixel values converges to F̄(x) = (1/n) Σ_p Φ((x − √ᾱ f_p)/√(1 − ᾱ)).
    A one-sample Kolmogorov–Smirnov test of the n pixels against N(0, 1) (valid because the
    pixels are independent given u_0) then has statistic ≈ this distance plus O(1/√n); it
    rejects at level α roughly once √n · distance exceeds the critical value
    ``scipy.stats.kstwobign.isf(α)`` (1.63 at α = 0.01).

    The supremum is taken over ``grid`` points in [−6, 6] (spacing 0.02 by default). The
    difference varies on the scale 1 (to first order it is −√ᾱ mean(f) φ(x)), so the grid
    misses the supremum by a relative (h/2)²/2 ≈ 5e-5. Distinct values of f are grouped
    (images have few grey levels).

    Parameters
    ----------
    f : array_like
        The initial image u_0 (any shape).
    alpha_bar : float or array_like
        ᾱ_i in (0, 1); an array gives one distance per value.
    grid : int
        Number of evaluation points.

    Returns
    -------
    float or ndarray
    """
    f = as_float_array(f, "f").astype(np.float64, copy=False).ravel()
    a_all = _check_alpha_bars(alpha_bar)
    grid = _check_positive_int(grid, "grid")
    values, counts = np.unique(f, return_counts=True)
    weights = counts / f.size
    x = np.linspace(-6.0, 6.0, grid)
    phi = _sp.ndtr(x)
    out = []
    for a in np.atleast_1d(a_all).tolist():
        sd = np.sqrt(1.0 - a)
        mix = np.zeros_like(x)
        for start in range(0, values.size, 256):
            v = values[start : start + 256]
            mix += _sp.ndtr((x[:, None] - np.sqrt(a) * v[None, :]) / sd) @ weights[start : start + 256]
        out.append(float(np.max(np.abs(mix - phi))))
    return out[0] if a_all.ndim == 0 else np.array(out)


def first_step_at_or_below(values, threshold: float) -> int:
    """Smallest index i with values[i] ≤ threshold and values[j] ≤ threshold for all j ≥ i.

    For a quantity that decreases along the steps (such as δ_i) this is the first step from which
    on it stays below the threshold. Returns −1 if values[-1] > threshold (never, within T).
    """
    values = as_float_array(values, "values").astype(np.float64, copy=False)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {values.shape}")
    above = np.flatnonzero(values > threshold)
    if above.size == 0:
        return 0
    last = int(above[-1])
    return -1 if last == values.size - 1 else last + 1


def correlation_threshold_step(f, betas, level: float = 0.01) -> int:
    """First step from which on δ_i = √ᾱ_i ‖f − mean f‖ ≤ z_{1−level/2}.

    From that step on, the two-sided matched correlation test (:func:`correlation_z`) at
    ``level`` detects u_0 = f in one draw of u_i with probability at most about ½
    (:func:`two_sided_power`). Returns −1 if this does not happen within the schedule.
    """
    from .schedules import alpha_bar as _alpha_bar

    shift = correlation_shift(f, _alpha_bar(betas))
    return first_step_at_or_below(shift, float(_st.norm.isf(_check_level(level) / 2.0)))


def ks_threshold_step(f, betas, level: float = 0.01) -> int:
    """First step i with √n · :func:`pooled_ks_distance` ≤ the asymptotic KS critical value.

    From that step on, a KS test of the n pixel values of one draw of u_i against N(0, 1) at
    ``level`` rejects with probability of roughly ½ or less. Found by bisection over the steps,
    which assumes that the pooled distance decreases along the schedule (it does for the
    book's images: ᾱ_i decreases and the distance is increasing in ᾱ in that range; the tests
    check this on a grid). Returns −1 if the distance at step T is still above the critical
    value.
    """
    from .schedules import alpha_bar as _alpha_bar

    f = as_float_array(f, "f").astype(np.float64, copy=False).ravel()
    crit = float(_st.kstwobign.isf(_check_level(level)))
    ab = _alpha_bar(betas)
    root_n = np.sqrt(f.size)

    def below(i: int) -> bool:
        return ab[i] < 1.0 and root_n * pooled_ks_distance(f, float(ab[i])) <= crit

    lo, hi = 0, ab.size - 1  # invariant: not below at lo (ᾱ_0 = 1), below at hi (if at all)
    if not below(hi):
        return -1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if below(mid):
            hi = mid
        else:
            lo = mid
    return hi


def ks_normal(u) -> tuple[float, float]:
    """One-sample Kolmogorov–Smirnov test of all values of ``u`` against N(0, 1).

    Returns the statistic D_n = sup_x |F_n(x) − Φ(x)| and its asymptotic p-value
    P(K > √n D_n) with K Kolmogorov-distributed (``scipy.stats.kstwobign``); the same as
    ``scipy.stats.kstest(u, "norm", method="asymp")``, which is accurate for the ≥ 10⁴ values
    used here and avoids the slow exact distribution.
    """
    u = np.sort(as_float_array(u, "u").astype(np.float64, copy=False).ravel())
    n = u.size
    cdf = _sp.ndtr(u)
    d_plus = np.max(np.arange(1, n + 1) / n - cdf)
    d_minus = np.max(cdf - np.arange(n) / n)
    d = float(max(d_plus, d_minus))
    return d, float(_st.kstwobign.sf(np.sqrt(n) * d))


@dataclass(frozen=True)
class DetectabilityReport:
    """How long u_0 = f stays detectable in one draw of u_i (see :func:`detectability`).

    Attributes
    ----------
    shift : ndarray, shape (T + 1,)
        δ_i = √ᾱ_i ‖f − mean f‖, the mean of the matched statistic :func:`correlation_z`.
    correlation_step, ks_step : int
        First steps from which on the matched correlation test and the blind KS test at
        ``level`` have power ≲ ½ (−1: not within the schedule).
    shift_T, power_T : float
        δ_T and the power of the matched test at the final step T.
    ks_T : float
        √n · :func:`pooled_ks_distance` at step T.
    level : float
    """

    shift: np.ndarray
    correlation_step: int
    ks_step: int
    shift_T: float
    power_T: float
    ks_T: float
    level: float


def detectability(f, betas, level: float = 0.01) -> DetectabilityReport:
    """Analytic detectability of the initial image f along a schedule (one draw per step).

    Combines :func:`correlation_shift`, :func:`two_sided_power`,
    :func:`correlation_threshold_step`, :func:`ks_threshold_step` and
    :func:`pooled_ks_distance`; see those for the derivations.
    """
    from .schedules import alpha_bar as _alpha_bar

    level = _check_level(level)
    f = as_float_array(f, "f").astype(np.float64, copy=False)
    ab = _alpha_bar(betas)
    shift = correlation_shift(f, ab)
    return DetectabilityReport(
        shift=shift,
        correlation_step=correlation_threshold_step(f, betas, level),
        ks_step=ks_threshold_step(f, betas, level),
        shift_T=float(shift[-1]),
        power_T=float(two_sided_power(shift[-1], level, np.sqrt(1.0 - ab[-1]))),
        ks_T=float(np.sqrt(f.size) * pooled_ks_distance(f, float(ab[-1]))),
        level=level,
    )


def simulate_detection(f, betas, steps, rng: np.random.Generator) -> dict:
    """Draw one trajectory from u_0 = f and compute both test statistics at the requested steps.

    The trajectory is :func:`lib.forward.sample_trajectory` in float32 (the statistics are
    computed in float64). Returns a dict of arrays over the steps: ``steps``, ``alpha_bar``,
    ``snapshots``, ``z`` (:func:`correlation_z`), ``z_standardised`` = (z − δ_i)/√(1 − ᾱ_i), which
    is N(0, 1) if the analysis is right, ``ks`` = √n D_n of :func:`ks_normal` and
    ``ks_population`` = √n · :func:`pooled_ks_distance`.
    """
    from .forward import sample_trajectory
    from .schedules import alpha_bar as _alpha_bar

    f = as_float_array(f, "f").astype(np.float64, copy=False)
    ab_all = _alpha_bar(betas)
    path = sample_trajectory(f.astype(np.float32), betas, steps, rng)
    steps = np.asarray(steps, dtype=np.int64)
    ab = ab_all[steps]
    z = np.array([correlation_z(u, f) for u in path])
    root_n = np.sqrt(f.size)
    return {
        "steps": steps,
        "alpha_bar": ab,
        "snapshots": path,
        "z": z,
        "z_standardised": (z - correlation_shift(f, ab)) / np.sqrt(1.0 - ab),
        "ks": np.array([root_n * ks_normal(u)[0] for u in path]),
        "ks_population": root_n * pooled_ks_distance(f, ab),
    }
