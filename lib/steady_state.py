"""Steady-state chapter (paper, Property 5, Proposition 4, Eq. 22): convergence to N(0, I).

The Gaussian closed forms live in :mod:`lib.core.gaussian` and the exact mixture in
:mod:`lib.core.mixture` (issue 11); they are re-exported here until the chapter imports the
core directly. What stays here is what only this chapter needs (counterexample schedules,
detectability of u_0).

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

Step indices follow :mod:`lib.core.schedules`: ``betas[i - 1] = β_i``, ``alpha_bar(betas)[i] = ᾱ_i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special as _sp
from scipy import stats as _st

from .core._validation import (as_float_array, check_alpha_bar, check_covariance, check_mean_cov,
                               check_pixel_counts, check_positive_int, check_probability,
                               check_int, check_real)
from .core.forward import sample_trajectory
from .core.gaussian import (LOG_2PIE, eq10_lower_bound, gaussian_marginal_moments,  # noqa: F401
                            kl_convexity_bound, kl_gaussian, kl_gaussian_marginal)
from .core.mixture import (DEFAULT_CHUNK, MonteCarloEstimate,  # noqa: F401
                           kl_to_standard_normal_mc, mixture_logpdf, sample_mixture)
from .core.schedules import alpha_bar as _alpha_bar

__all__ = [
    "DetectabilityReport",
    "MonteCarloEstimate",
    "correlation_shift",
    "correlation_threshold_step",
    "correlation_z",
    "detectability",
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
    "ks_normal",
    "ks_threshold_step",
    "log10_eq10_lower_bound",
    "mixture_logpdf",
    "pooled_ks_distance",
    "sample_mixture",
    "simulate_detection",
    "two_sided_power",
]


# ---------------------------------------------------------------------------------------------
# local validation helpers
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Gaussian training distribution: closed form
# ---------------------------------------------------------------------------------------------


def kl_second_order_remainder_bound(cov, alpha_bar) -> np.ndarray:
    """Bound on |KL − (½ᾱ‖m‖² + ¼ᾱ²‖Σ − I‖_F²)| for p(u_0) = N(m, Σ) (see :func:`kl_leading_order`).

    The remainder is ½ Σ_k [x_k − ln(1 + x_k) − x_k²/2] = ½ Σ_k Σ_{j≥3} (−x_k)^j / j with
    x_k = ᾱ(λ_k − 1); for |x_k| < 1 each inner sum is at most |x_k|³ / (3 (1 − |x_k|)), so the
    remainder is at most (1/6) Σ_k |x_k|³ / (1 − |x_k|) = O(ᾱ³). Requires every |x_k| < 1.
    """
    _, lam = check_covariance(cov, definite=False)
    a = check_alpha_bar(alpha_bar)
    x = np.abs(a[..., None] * (lam - 1.0))
    if np.any(x >= 1.0):
        raise ValueError("the bound needs ᾱ |λ_k − 1| < 1 for every eigenvalue λ_k of cov")
    return (x**3 / (1.0 - x)).sum(axis=-1) / 6.0


# ---------------------------------------------------------------------------------------------
# Empirical training set: the exact Gaussian mixture
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# The hypothesis of Proposition 4: Σ β_j = ∞
# ---------------------------------------------------------------------------------------------


def _check_c(c) -> float:
    """c in (0, 1), so that every β_j = c/j^p lies in (0, 1)."""
    return check_real(c, "c", 0.0, 1.0)


def inverse_square_betas(c: float, n_steps: int) -> np.ndarray:
    """Schedule β_j = c / j² (j = 1, …, T): every β_j ∈ (0, 1), but Σ β_j = c π²/6 < ∞.

    Proposition 4 fails for it: ᾱ_i decreases to ᾱ_∞ = sin(π√c)/(π√c) > 0
    (:func:`inverse_square_alpha_bar_limit`), so the process never forgets u_0.
    """
    c = _check_c(c)
    j = np.arange(1, check_positive_int(n_steps, "n_steps") + 1, dtype=np.float64)
    return c / j**2


def harmonic_betas(c: float, n_steps: int) -> np.ndarray:
    """Schedule β_j = c / j: Σ β_j = ∞ with β_j → 0, so ᾱ_i → 0, but only like i^(−c).

    Exactly, ᾱ_i = ∏_{j≤i}(1 − c/j) = Γ(i + 1 − c) / (Γ(1 − c) Γ(i + 1)) ~ i^(−c) / Γ(1 − c).
    """
    c = _check_c(c)
    j = np.arange(1, check_positive_int(n_steps, "n_steps") + 1, dtype=np.float64)
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
    n = check_pixel_counts(n)
    log_q = -n.astype(np.float64) * LOG_2PIE
    q = np.exp(log_q)
    return (log_q - np.log(0.5 + np.sqrt(0.25 - q))) / np.log(10.0)


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
    a = check_alpha_bar(alpha_bar, upper_closed=True)
    return np.sqrt(a) * float(np.linalg.norm(f - f.mean()))


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
    a_all = check_alpha_bar(alpha_bar)
    # at least 61 points (spacing 0.2): the relative miss of the supremum, (h/2)²/2, stays < 1 %
    grid = check_int(grid, "grid", 61)
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
    threshold = check_real(threshold, "threshold")  # NaN would make every comparison False
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
    shift = correlation_shift(f, _alpha_bar(betas))
    return first_step_at_or_below(shift, float(_st.norm.isf(check_probability(level, "level") / 2.0)))


def ks_threshold_step(f, betas, level: float = 0.01) -> int:
    """First step i with √n · :func:`pooled_ks_distance` ≤ the asymptotic KS critical value.

    From that step on, a KS test of the n pixel values of one draw of u_i against N(0, 1) at
    ``level`` rejects with probability of roughly ½ or less. Found by bisection over the steps,
    which assumes that the pooled distance decreases along the schedule (it does for the
    book's images: ᾱ_i decreases and the distance is increasing in ᾱ in that range; the tests
    check this on a grid). Returns −1 if the distance at step T is still above the critical
    value.
    """
    f = as_float_array(f, "f").astype(np.float64, copy=False).ravel()
    crit = float(_st.kstwobign.isf(check_probability(level, "level")))
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
    level = check_probability(level, "level")
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
    mean, _, lam = check_mean_cov(mean, cov)
    m2 = float(mean @ mean)
    a = check_alpha_bar(alpha_bar)
    out = 0.5 * a * m2
    if order == 2:
        out = out + 0.25 * a**2 * np.sum((lam - 1.0) ** 2)
    return out


def two_sided_power(shift, level: float = 0.01, sd=1.0) -> np.ndarray:
    """Power of the two-sided z-test at ``level`` when the statistic is N(shift, sd²).

    The test rejects when |Z| > z_{1−level/2}; the power is
    Φ((shift − z)/sd) + Φ((−shift − z)/sd). It equals ``level`` at shift 0 (with sd = 1) and
    ≈ ½ at shift = z_{1−level/2}.
    """
    level = check_probability(level, "level")
    shift = np.asarray(shift, dtype=np.float64)
    sd = np.asarray(sd, dtype=np.float64)
    if not np.all(sd > 0):
        raise ValueError("sd must be positive")
    z = _st.norm.isf(level / 2.0)
    return _st.norm.cdf((shift - z) / sd) + _st.norm.cdf((-shift - z) / sd)

