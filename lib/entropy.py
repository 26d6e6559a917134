"""Entropy chapter (paper, Property 3, Eqs. 9-20): Lyapunov sequences of differential and
conditional entropy.

The Gaussian closed forms now live in :mod:`lib.core.gaussian` and the Monte Carlo estimators
for a training set in :mod:`lib.core.mixture` (issue 11); they are re-exported here until the
chapter imports the core directly. What stays here is what only this chapter needs.

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
    log-density :func:`lib.core.mixture.mixture_logpdf`; :func:`mixture_entropy_rate_mc`
    estimates the derivative dH(U_i)/dt along t = −ln ᾱ_i (de Bruijn's identity), and
    :func:`entropy_turn` brackets the step where H(U_i) stops increasing;
    :func:`entropy_vs_scale` runs both for a rescaled training set. All Monte Carlo work is done
    in blocks of samples, so memory does not grow with the number of samples.

Checks along a grid of steps
    :func:`standardised_differences` (monotonicity within standard errors) and
    :func:`epi_slack` (the entropy power inequality between grid steps).

Step indices follow :mod:`lib.core.schedules`: ``betas[i - 1] = β_i``, ``alpha_bar(betas)[i] = ᾱ_i``.
Entropies are in nats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core._validation import (as_float_array, check_alpha_bar, check_beta, check_int,
                               check_pixel_counts, check_positive_array, check_real, check_rng,
                               check_training_set)
from .core.gaussian import (LOG_2PIE, conditional_entropy,  # noqa: F401
                            eq10_lower_bound, gaussian_entropy, gaussian_marginal_entropy,
                            gaussian_marginal_entropy_rate, kl_gaussian_marginal,
                            standard_normal_entropy)
from .core.mixture import (MixtureEntropy, kl_to_standard_normal_mc,  # noqa: F401
                           mixture_entropy_mc, mixture_entropy_rate_mc, mixture_posterior_mean)
from .core.schedules import log_alpha_bar
from .core._validation import check_betas

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


# ---------------------------------------------------------------------------------------------
# local validation helpers
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


def isotropic_marginal_entropy(variance: float, n: int, alpha_bar):
    """H(U_i) = (n/2) ln(2πe s_i), s_i = ᾱ_i σ² + 1 − ᾱ_i, for p(u_0) = N(m, σ² I_n).

    s_i − s_{i−1} = −β_i ᾱ_{i−1} (σ² − 1): the entropy *decreases* at every step, for every
    β_i ∈ (0, 1), when σ² > 1 — a counterexample to the paper's Proposition 1.
    """
    s = float(check_positive_array(variance, "variance"))
    n = check_int(n, "n", 1)
    a = check_alpha_bar(alpha_bar, upper_closed=True)
    out = 0.5 * n * (LOG_2PIE + np.log1p(a * (s - 1.0)))
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# Conditional entropy, Proposition 2 (Eqs. 16-20)
# ---------------------------------------------------------------------------------------------


def conditional_entropy_eq18(betas, n: int) -> np.ndarray:
    """The paper's Eq. (18) as printed: ln((2πe)^n (1 − ᾱ_i)^n) = n ln(2πe (1 − ᾱ_i)).

    It is exactly twice :func:`conditional_entropy`: the factor ½ of the Gaussian entropy
    ½ ln det(2πe Σ) is missing. Both are increasing functions of 1 − ᾱ_i, so the conclusion
    of Proposition 2 is unaffected; the two agree only where 2πe(1 − ᾱ_i) = 1.
    """
    n = check_int(n, "n", 1)
    with np.errstate(divide="ignore"):
        return n * (LOG_2PIE + np.log(-np.expm1(log_alpha_bar(betas))))


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
    s = float(check_positive_array(variance, "variance"))
    beta = check_beta(beta)
    n = check_int(n, "n", 1)
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
    lower = eq10_lower_bound(n)
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
    n_arr = check_pixel_counts(n)
    out = np.log(b) + np.log1p(-b) >= -n_arr.astype(np.float64) * LOG_2PIE
    return bool(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# Entropy power (the corrected Proposition 1)
# ---------------------------------------------------------------------------------------------


def entropy_power(entropy, n: int):
    """Entropy power N(X) = exp(2H(X)/n) / (2πe); N(N(0, s I_n)) = s, N(N(0, I)) = 1."""
    h = as_float_array(entropy, "entropy").astype(np.float64, copy=False)
    out = np.exp(2.0 * h / check_int(n, "n", 1) - LOG_2PIE)
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
    r = check_alpha_bar(ratio, "ratio", upper_closed=True)
    n = check_int(n, "n", 1)
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
    a = check_alpha_bar(alpha_bar, upper_closed=True)
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
    n_steps = check_int(n_steps, "n_steps", 1)
    count = check_int(count, "count", 1)
    return np.unique(np.round(np.geomspace(1, n_steps, count)).astype(np.int64))


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
    data = check_training_set(data, "data")
    scale = check_real(scale, "scale", 0.0)
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
    kl = kl_to_standard_normal_mc(centers, ab[mc_steps], n_samples, rng)
    return dict(
        i=steps, gauss_h=gaussian_marginal_entropy(cov, ab[steps]),
        gauss_kl=kl_gaussian_marginal(mean, cov, ab[steps]),
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
    centers = check_training_set(centers)
    log_ab = log_alpha_bar(betas)
    n_steps = log_ab.size - 1
    lo = check_int(lo, "lo", 1, n_steps)
    hi = check_int(hi, "hi", 1, n_steps)
    if not lo < hi:
        raise ValueError(f"lo must be smaller than hi, got lo={lo}, hi={hi}")
    z = check_real(z, "z", 0.0)
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


def isotropic_gaussian_entropy(variance, n: int):
    """H(N(m, s I_n)) = (n/2) ln(2πe s); vectorised over the variance s > 0.

    Scaling a random vector by a multiplies s by a², which adds n ln|a| — not ln|a| — to the
    entropy (the point where the paper's Eq. 12 goes wrong).
    """
    s = check_positive_array(variance, "variance")
    out = 0.5 * check_int(n, "n", 1) * (LOG_2PIE + np.log(s))
    return float(out) if out.ndim == 0 else out


def conditional_entropy_increments(betas, n: int) -> np.ndarray:
    """H(U_i | U_0) − H(U_{i−1} | U_0) for i = 1, …, T, computed without cancellation.

    Since 1 − ᾱ_i = (1 − ᾱ_{i−1}) + β_i ᾱ_{i−1},

        H(U_i | U_0) − H(U_{i−1} | U_0) = (n/2) ln(1 + β_i ᾱ_{i−1} / (1 − ᾱ_{i−1})) > 0

    for every β_i ∈ (0, 1) (Proposition 2); the first increment (from −∞) is +∞. Differencing
    :func:`conditional_entropy` instead loses everything once the increment falls below the
    rounding of H itself.
    """
    n = check_int(n, "n", 1)
    betas = check_betas(betas)
    log_ab = log_alpha_bar(betas)
    prev_ab = np.exp(log_ab[1:-1])
    prev_one_minus = -np.expm1(log_ab[1:-1])  # 1 − ᾱ_{i−1} > 0 for i ≥ 2
    out = np.empty_like(betas)
    out[0] = np.inf  # from H(U_0 | U_0) = −∞
    out[1:] = 0.5 * n * np.log1p(betas[1:] * prev_ab / prev_one_minus)
    return out

