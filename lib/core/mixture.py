"""A training set under the forward process: the exact Gaussian mixture (paper, Eqs. 5, 9, 22).

For a training set {f_1, …, f_N} (U_0 uniform on it, or smoothed with a bandwidth h, i.e.
p(u_0) = (1/N) Σ_k N(f_k, h² I)) and i ≥ 1, Eq. (5) averaged over u_0 gives the marginal

    p(u_i) = (1/N) Σ_k N(s f_k, v I),   s = √ᾱ_i,  v = ᾱ_i h² + 1 − ᾱ_i,

exactly. Its log-density (:func:`mixture_logpdf`), the posterior mean E[U_0 | U_i]
(:func:`mixture_posterior_mean`, Tweedie's denoiser) and hence the score are softmax averages
over the components, computed by ONE chunked streaming log-sum-exp kernel that holds at most
``chunk_size`` (point, component) pairs in memory. :class:`Mixture` binds a validated training
set and bandwidth and evaluates all of these at a given ᾱ; the Monte Carlo estimators of the
entropy H(U_i), the mutual information, KL(p(u_i) ‖ N(0, I)) and dH/dt come with standard
errors (:func:`mixture_entropy_mc`, :func:`kl_to_standard_normal_mc`,
:func:`mixture_entropy_rate_mc`).

Examples
--------
>>> import numpy as np
>>> centers = np.array([[-1.0, 0.0], [1.0, 0.0]])
>>> mix = Mixture(centers)
>>> x = mix.sample(0.5, 3, np.random.default_rng(0))
>>> x.shape
(3, 2)
>>> bool(np.allclose(mix.score(x, 0.5), (np.sqrt(0.5) * mix.posterior_mean(x, 0.5) - x) / 0.5))
True
>>> bool(np.isclose(mixture_logpdf([0.0, 0.0], [[0.0, 0.0]], 1.0, 1.0), -np.log(2 * np.pi)))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import (check_alpha_bar, check_choice, check_flag, check_int, check_memory,
                          check_points, check_positive_int, check_real, check_rng, check_training_set,
                          check_work)
from .gaussian import (LOG_2PI, LOG_2PIE, _marginal_log_eigs, _rate_from_eigs, _x_minus_log1p,
                       kl_gaussian_marginal)

__all__ = [
    "Mixture",
    "MixtureEntropy",
    "MonteCarloEstimate",
    "kl_to_standard_normal_mc",
    "mixture_entropy_mc",
    "mixture_entropy_rate_mc",
    "mixture_logpdf",
    "mixture_posterior_mean",
    "sample_mixture",
]

DEFAULT_CHUNK = 2**20  # (sample, component) pairs held in memory at once: 8 MB of float64
DEFAULT_BLOCK = 1024  # samples drawn and evaluated at once (0.5 MB of float64 for n = 64)


# ---------------------------------------------------------------------------------------------
# the streaming kernel
# ---------------------------------------------------------------------------------------------


def _stream(x2: np.ndarray, centers: np.ndarray, scale: float, variance: float, chunk_size: int,
            *, mean: bool, values: np.ndarray | None = None):
    """log Σ_k exp(e_k(x)) and (with ``mean``) the softmax average Σ_k w_k(x) g_k, per point.

    g_k = f_k unless ``values`` (N, d) gives other rows to average with the same weights.

    e_k(x) = [x·(s f_k) − ‖s f_k‖²/2] / v, i.e. −‖x − s f_k‖²/(2v) + ‖x‖²/(2v): one matrix
    product per chunk plus a row vector; the term constant over the components is left to the
    caller. The sum is accumulated chunk by chunk with a running maximum, so at most
    ``chunk_size`` (point, component) pairs are in memory. Cancellation between the two parts
    costs an absolute error of about eps · (‖x‖² + ‖s f_k‖²) / v in the exponent.
    """
    n_comp = centers.shape[0]
    sc = (scale / variance) * centers
    offset = (0.5 * scale**2 / variance) * np.einsum("ij,ij->i", centers, centers)
    comp_block = min(n_comp, chunk_size)
    point_block = max(1, chunk_size // comp_block)
    values = centers if values is None else values
    lse = np.empty(x2.shape[0])
    avg = np.empty((x2.shape[0], values.shape[1])) if mean else None
    for p0 in range(0, x2.shape[0], point_block):
        xb = x2[p0 : p0 + point_block]
        run_max = np.full(xb.shape[0], -np.inf)
        run_sum = np.zeros(xb.shape[0])
        run_vec = np.zeros((xb.shape[0], values.shape[1])) if mean else None
        for c0 in range(0, n_comp, comp_block):
            e = xb @ sc[c0 : c0 + comp_block].T
            e -= offset[None, c0 : c0 + comp_block]
            new_max = np.maximum(run_max, e.max(axis=1))
            e -= new_max[:, None]
            np.exp(e, out=e)
            shrink = np.exp(run_max - new_max)
            run_sum = run_sum * shrink + e.sum(axis=1)
            if mean:
                run_vec = run_vec * shrink[:, None] + e @ values[c0 : c0 + comp_block]
            run_max = new_max
        lse[p0 : p0 + point_block] = run_max + np.log(run_sum)
        if mean:
            avg[p0 : p0 + point_block] = run_vec / run_sum[:, None]
    return lse, avg


def _logpdf(x2, centers, scale, variance, chunk_size) -> np.ndarray:
    lse, _ = _stream(x2, centers, scale, variance, chunk_size, mean=False)
    out = lse - 0.5 * np.einsum("ij,ij->i", x2, x2) / variance
    out += -np.log(centers.shape[0]) - 0.5 * centers.shape[1] * (LOG_2PI + np.log(variance))
    return out


def _posterior_mean(x2, centers, scale, variance, chunk_size) -> np.ndarray:
    return _stream(x2, centers, scale, variance, chunk_size, mean=True)[1]


def _sample(centers, scale, variance, size, rng) -> np.ndarray:
    k = rng.integers(0, centers.shape[0], size=size)
    noise = rng.standard_normal((size, centers.shape[1]))
    return scale * centers[k] + np.sqrt(variance) * noise


def _scale_variance(scale, variance) -> tuple[float, float]:
    return check_real(scale, "scale"), check_real(variance, "variance", 0.0)


# ---------------------------------------------------------------------------------------------
# mixtures given by their scale and variance
# ---------------------------------------------------------------------------------------------


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
    centers = check_training_set(centers)
    scale, variance = _scale_variance(scale, variance)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    single = np.ndim(x) == 1
    x2 = check_points(x, centers.shape[1])
    out = _logpdf(x2, centers, scale, variance, chunk_size)
    return float(out[0]) if single else out


def sample_mixture(centers, scale: float, variance: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` points of (1/N) Σ_k N(scale · c_k, variance · I).

    With ``scale = √ᾱ_i`` and ``variance = 1 − ᾱ_i`` these are draws of U_i when U_0 is a
    uniformly chosen training image: pick k, then apply Eq. (5).

    Returns
    -------
    ndarray of float64, shape (size, n)
    """
    centers = check_training_set(centers)
    scale, variance = _scale_variance(scale, variance)
    size = check_positive_int(size, "size")
    check_memory(3.0 * size * centers.shape[1], f"{size} draws of {centers.shape[1]} pixels")
    return _sample(centers, scale, variance, size, check_rng(rng))


def mixture_posterior_mean(x, centers, scale: float, variance: float, *,
                           chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """E[U_0 | U_i = x] for the mixture (1/N) Σ_k N(scale · f_k, variance · I) (Tweedie's denoiser).

    The posterior weights w_k(x) ∝ exp(−‖x − scale f_k‖² / (2 variance)) are a softmax over the
    components, accumulated chunk by chunk with a running maximum (as in
    :func:`mixture_logpdf`), so at most ``chunk_size`` (point, component) pairs
    are in memory. Returns Σ_k w_k(x) f_k, shape (m, n).
    """
    centers = check_training_set(centers)
    x2 = check_points(x, centers.shape[1])
    scale, variance = _scale_variance(scale, variance)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    return _posterior_mean(x2, centers, scale, variance, chunk_size)


class Mixture:
    """A training set {f_k}, smoothed with bandwidth h ≥ 0, under the forward process.

    p(u_0) = (1/N) Σ_k N(f_k, h² I) (h = 0: the empirical set itself). At ᾱ = ᾱ_i the
    marginal is (1/N) Σ_k N(√ᾱ f_k, v I) with v = ᾱ h² + 1 − ᾱ (:meth:`parameters`). The
    training set is validated once, here; the methods check only their own arguments.

    Parameters
    ----------
    centers : array_like, shape (N, n)
        The training images f_k, flattened.
    bandwidth : float
        h ≥ 0.
    chunk_size : int
        (point, component) pairs held in memory at once by the log-sum-exp kernel.
    """

    def __init__(self, centers, bandwidth: float = 0.0, *, chunk_size: int = DEFAULT_CHUNK):
        self.centers = check_training_set(centers)
        self.bandwidth = check_real(bandwidth, "bandwidth", 0.0, low_open=False)
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")

    @property
    def dim(self) -> int:
        """Number of pixels n."""
        return int(self.centers.shape[1])

    def parameters(self, alpha_bar: float) -> tuple[float, float]:
        """Scale √ᾱ and component variance v = ᾱ h² + 1 − ᾱ of p(u_i) (Eq. 5 averaged over u_0).

        Raises
        ------
        ValueError
            If v = 0, i.e. ᾱ = 1 with h = 0 (the empirical set has no density at step 0).
        """
        a = check_alpha_bar(alpha_bar, upper_closed=True, scalar=True)
        return self._parameters(a)

    def _parameters(self, a: float) -> tuple[float, float]:
        h = self.bandwidth
        v = a * h * h + (1.0 - a)
        if not v > 0.0:
            raise ValueError("the empirical mixture (bandwidth 0) has no density at alpha_bar = 1")
        return float(np.sqrt(a)), float(v)

    def logpdf(self, x, alpha_bar: float) -> np.ndarray:
        """log p(u_i) at the rows of x, shape (m,)."""
        s, v = self.parameters(alpha_bar)
        return _logpdf(check_points(x, self.dim), self.centers, s, v, self.chunk_size)

    def posterior_mean(self, x, alpha_bar: float) -> np.ndarray:
        """Exact denoiser E[U_0 | U_i = x], shape (m, n).

        With weights w_k(x) ∝ N(x; √ᾱ f_k, v I) and m(x) = Σ_k w_k f_k, the within-component
        posterior of u_0 is Gaussian with mean f_k + c (x − √ᾱ f_k), c = h² √ᾱ / v (the Wiener
        shrinkage), so E[U_0 | U_i = x] = (1 − c √ᾱ) m(x) + c x; for h = 0 this is m(x).
        """
        s, v = self.parameters(alpha_bar)
        return self._denoise(check_points(x, self.dim), s, v)

    def _denoise(self, x2: np.ndarray, s: float, v: float) -> np.ndarray:
        m = _posterior_mean(x2, self.centers, s, v, self.chunk_size)
        h = self.bandwidth
        if h == 0.0:
            return m
        coef = h * h * s / v
        return (1.0 - coef * s) * m + coef * x2

    def score(self, x, alpha_bar: float) -> np.ndarray:
        """Exact score ∇ log p(u_i) at x: (√ᾱ m(x) − x) / v, m as in :meth:`posterior_mean`.

        Equivalently (Tweedie), √ᾱ E[U_0 | x] = x + (1 − ᾱ) ∇ log p(x) for h = 0.
        """
        s, v = self.parameters(alpha_bar)
        x2 = check_points(x, self.dim)
        return (s * _posterior_mean(x2, self.centers, s, v, self.chunk_size) - x2) / v

    def sample(self, alpha_bar: float, size: int, rng: np.random.Generator) -> np.ndarray:
        """Exact draws of U_i: pick k uniformly, return √ᾱ f_k + √v g; shape (size, n)."""
        s, v = self.parameters(alpha_bar)
        size = check_positive_int(size, "size")
        check_memory(3.0 * size * self.dim, f"{size} draws of {self.dim} pixels")
        return _sample(self.centers, s, v, size, check_rng(rng))


# ---------------------------------------------------------------------------------------------
# Monte Carlo with standard errors
# ---------------------------------------------------------------------------------------------


def _check_mc(centers, alpha_bar, n_samples, rng, chunk_size):
    """The arguments every Monte Carlo estimator shares, checked once."""
    centers = check_training_set(centers)
    a = check_alpha_bar(alpha_bar)
    n_samples = check_int(n_samples, "n_samples", 2)
    check_rng(rng)
    return centers, a, n_samples, check_positive_int(chunk_size, "chunk_size")


def _check_mc_work(centers, a, draws) -> None:
    """Fail before a Monte Carlo run of about K · draws · N · n multiply-adds that is out of reach."""
    n_comp, n = centers.shape
    k = int(np.size(a))
    check_work(float(k) * draws * n_comp * n,
               f"{k} × {draws} draws against N = {n_comp} components of n = {n} pixels")


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
        (:func:`lib.core.gaussian.kl_gaussian_marginal`); ``value − gaussian_part`` estimates KL(p ‖ Gaussian) ≥ 0.
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


def kl_to_standard_normal_mc(centers, alpha_bar, n_samples: int, rng: np.random.Generator, *,
                             control_variate: bool = True,
                             chunk_size: int = DEFAULT_CHUNK) -> MonteCarloEstimate:
    """Monte Carlo estimate of KL(p(u_i) ‖ N(0, I)) for an empirical training set.

    p(u_i) = (1/N) Σ_k N(√ᾱ f_k, (1 − ᾱ) I) is the exact marginal of the forward process started
    from a uniformly chosen training image f_k (Eqs. 5 and 22). With U^(1), …, U^(M) drawn from
    p (:func:`sample_mixture`) and log p evaluated exactly (:func:`mixture_logpdf`):

    * plain estimator: KL ≈ mean of d = log p(U) − log φ(U), φ the N(0, I) density;
    * control variate (default): with q the Gaussian with the same mean and covariance as p,
      log q − log φ is a quadratic, so its mean under p equals its mean under q, i.e.
      KL(q ‖ φ), known in closed form (:func:`lib.core.gaussian.kl_gaussian_marginal`). Hence
      KL(p ‖ φ) = KL(q ‖ φ) + E_p[log p − log q], and the second term is estimated from
      d = log p(U) − log q(U), whose spread is far smaller when p is close to Gaussian
      (small ᾱ). Both are unbiased; the second term is KL(p ‖ q) ≥ 0.

    The standard error is the sample standard deviation of d over √M.

    Cost: about K · M · N · n multiply-adds (K values of ᾱ, M = n_samples draws, N
    components of n pixels): 10⁹ for one ᾱ, 10⁴ draws and the digits, about a second. More than
    ``lib.core._validation.WORK_LIMIT`` (10¹³, hours) fails at once with the estimate.

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
    centers, a_all, n_samples, chunk_size = _check_mc(centers, alpha_bar, n_samples, rng, chunk_size)
    control_variate = check_flag(control_variate, "control_variate")
    n = centers.shape[1]
    check_memory(3.0 * n_samples * n, f"n_samples = {n_samples} draws of {n} pixels (held at once)")
    _check_mc_work(centers, a_all, n_samples)
    if control_variate:
        mean = centers.mean(axis=0)
        cov = np.atleast_2d(np.cov(centers, rowvar=False, bias=True))  # 1/N, as in the mixture
        lam, evecs = np.linalg.eigh(cov)
        lam = np.clip(lam, 0.0, None)
    values, ses, gauss = [], [], []
    for a in np.atleast_1d(a_all).tolist():
        u = _sample(centers, np.sqrt(a), 1.0 - a, n_samples, rng)
        log_p = _logpdf(u, centers, np.sqrt(a), 1.0 - a, chunk_size)
        d = log_p - (-0.5 * np.einsum("ij,ij->i", u, u) - 0.5 * n * LOG_2PI)
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
    chunk_size: int = DEFAULT_CHUNK,
) -> MixtureEntropy:
    """Monte Carlo estimate of H(U_i), I(U_0; U_i) and KL(p(u_i) ‖ N(0, I)) (paper, Eq. 9).

    For a training set {f_1, …, f_N} (U_0 uniform on it) and ᾱ_i < 1, the marginal is exactly
    p(u) = (1/N) Σ_k φ_k(u) with φ_k = N(√ᾱ_i f_k, (1 − ᾱ_i) I). Draw K uniform, Z ~ N(0, I) and
    U = √ᾱ_i f_K + √(1 − ᾱ_i) Z, and evaluate log p(U) exactly with
    :func:`mixture_logpdf` (a chunked logsumexp).

    * ``method="plain"``: H = E[−log p(U)], estimated by the sample mean of −log p(U)
      (draws from :func:`sample_mixture`).
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
    and :func:`mixture_logpdf` holds at most ``chunk_size`` (sample,
    component) pairs, so memory stays bounded by about 8 · (block_size · n + chunk_size) bytes
    whatever the number of draws. With the labelled method and no ``target_se`` the result does
    not depend on ``block_size`` (up to summation order).

    With ``target_se``, each ᾱ gets at least ``n_samples`` draws and then further blocks until
    the standard error is at most ``target_se`` or ``max_samples`` draws are reached. The
    labelled summand has a tiny spread where the components are well separated or strongly
    overlapping, so most steps stop at the minimum and the work goes where the spread is. (The
    stopping rule looks at the spread, not at the mean, so the estimate stays unbiased up to a
    correlation between sample mean and sample variance of order 1/draws.)

    Cost: about K · M · N · n multiply-adds (K values of ᾱ, M = max_samples draws, or n_samples
    without target_se, N components of n pixels): 10⁹ for one ᾱ, 10⁴ draws and the digits, about a
    second. More than
    ``lib.core._validation.WORK_LIMIT`` (10¹³, hours) fails at once with the estimate.

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
    centers, a_checked, n_samples, chunk_size = _check_mc(centers, alpha_bar, n_samples, rng,
                                                          chunk_size)
    a_all = np.atleast_1d(a_checked)
    check_choice(method, "method", ("labelled", "plain"))
    block_size = check_positive_int(block_size, "block_size")
    if target_se is not None:
        target_se = check_real(target_se, "target_se", 0.0)
    if max_samples is None:
        max_samples = 100 * n_samples if target_se is not None else n_samples
    else:
        max_samples = check_int(max_samples, "max_samples", n_samples)
    _check_mc_work(centers, a_all, max_samples)
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
                log_p = _logpdf(u, centers, scale, variance, chunk_size)
                log_phi_k = -0.5 * np.einsum("ij,ij->i", z, z) - 0.5 * n * (LOG_2PI + np.log(variance))
                acc.add(log_phi_k - log_p)
                if done(acc):
                    break
            values.append(hc + acc.mean)
        else:
            while not done(acc):
                m = min(block_size, max_samples - acc.count)
                u = _sample(centers, scale, variance, m, rng)
                u_sq = max(u_sq, float(np.max(np.einsum("ij,ij->i", u, u))))
                acc.add(-_logpdf(u, centers, scale, variance, chunk_size))
            values.append(acc.mean)
        ses.append(acc.standard_error())
        draws.append(acc.count)
        u_sq_max.append(u_sq)
    h = np.array(values)
    se = np.array(ses)
    h_gauss = 0.5 * np.sum(LOG_2PIE + _marginal_log_eigs(lam, a_all), axis=-1)
    kl_const = 0.5 * (a_all * second_moment + (1.0 - a_all) * n) + 0.5 * n * LOG_2PI
    kl_gauss = np.asarray(kl_gaussian_marginal(mean, cov, a_all))
    eps = np.finfo(np.float64).eps
    roundoff = n * eps * (np.array(u_sq_max) + a_all * f_sq_max) / (1.0 - a_all)
    if a_checked.ndim == 0:  # a single ᾱ: plain floats
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


def mixture_entropy_rate_mc(centers, alpha_bar, n_samples: int, rng: np.random.Generator, *,
                            block_size: int = DEFAULT_BLOCK,
                            chunk_size: int = DEFAULT_CHUNK) -> MonteCarloEstimate:
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

    Cost: about K · M · N · n multiply-adds (K values of ᾱ, M = n_samples draws, N
    components of n pixels): 10⁹ for one ᾱ, 10⁴ draws and the digits, about a second. More than
    ``lib.core._validation.WORK_LIMIT`` (10¹³, hours) fails at once with the estimate.

    Returns
    -------
    MonteCarloEstimate
        ``value`` and ``standard_error`` of dH/dt (float or array over ``alpha_bar``);
        ``gaussian_part`` is the rate of the moment-matched Gaussian
        (:func:`lib.core.gaussian.gaussian_marginal_entropy_rate`), for comparison only (not a bound).
    """
    centers, a_all, n_samples, chunk_size = _check_mc(centers, alpha_bar, n_samples, rng, chunk_size)
    block_size = check_positive_int(block_size, "block_size")
    _check_mc_work(centers, a_all, n_samples)
    n = centers.shape[1]
    _, _, lam = _moment_spectrum(centers)
    rng_k, rng_z = rng.spawn(2)
    values, ses = [], []
    for a in np.atleast_1d(a_all).tolist():
        acc = _Accumulator()
        for k, _, u in _labelled_blocks(centers, a, n_samples, block_size, rng_k, rng_z):
            f_hat = _posterior_mean(u, centers, np.sqrt(a), 1.0 - a, chunk_size)
            err = centers[k] - f_hat
            acc.add(a * (n * (1.0 - a) - np.einsum("ij,ij->i", err, err)) / (2.0 * (1.0 - a) ** 2))
        values.append(acc.mean)
        ses.append(acc.standard_error())
    gauss = _rate_from_eigs(lam, a_all)
    if a_all.ndim == 0:
        return MonteCarloEstimate(values[0], ses[0], n_samples, float(gauss))
    return MonteCarloEstimate(np.array(values), np.array(ses), n_samples, gauss)

