"""Companion of the chapter *Lyapunov sequences: entropy* (paper Property 3, Eqs. 9–20,
Propositions 1–2): its verdicts, the closed forms and checks only this chapter needs, and its
figures and explorer.

The Gaussian closed forms shared with other chapters are in :mod:`lib.core.gaussian`, the Monte
Carlo estimators for a training set (p(u_i) is exactly the mixture
(1/N) Σ_k N(√ᾱ_i f_k, (1 − ᾱ_i) I)) in :mod:`lib.core.mixture`. Here:

* the paper's Eq. (18) as printed (:func:`conditional_entropy_eq18`), the increments of the
  correct H(U_i | U_0) without cancellation (:func:`conditional_entropy_increments`), the
  terms of Eq. (12) for a Gaussian U_i (:func:`eq12_gaussian`), the β-interval of Eq. (10)
  (:func:`eq10_interval`, :func:`satisfies_eq10`), the Gaussian counterexample
  (:func:`isotropic_marginal_entropy`);
* the corrected Proposition 1: entropy power and the entropy power inequality
  (:func:`entropy_power`, :func:`epi_lower_bound`, :func:`epi_slack`);
* checks along a grid of steps (:func:`standardised_differences`), the bracket of the turn of
  H(U_i) (:func:`entropy_turn`) and the data-scale experiment (:func:`entropy_vs_scale`).

Step indices follow :mod:`lib.core.schedules`: ``betas[i - 1] = β_i``, ``alpha_bar(betas)[i] = ᾱ_i``.
Entropies are in nats.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lib.core import gaussian, mixture
from lib.core._validation import (as_float_array, check_alpha_bar, check_beta, check_betas, check_int,
                                  check_pixel_counts, check_positive_array, check_real, check_rng,
                                  check_training_set)
from lib.core.gaussian import LOG_2PIE
from lib.core.schedules import log_alpha_bar

from .common import (COLUMN_WIDTH, Curve, Explorer, draw_curve, html_table, log_step_axes, same_length,
                     styled)
from .prose import Verdict

__all__ = [
    "VERDICTS", "Curve", "EntropyTurn", "Eq12Terms", "conditional_entropy_eq18",
    "conditional_entropy_increments", "decomposition_figure", "entropy_curves_figure",
    "entropy_explorer", "entropy_power", "entropy_turn", "entropy_vs_scale", "epi_lower_bound",
    "epi_slack", "eq10_interval", "eq12_gaussian", "html_table", "isotropic_gaussian_entropy",
    "isotropic_marginal_entropy", "log_spaced_steps", "lyapunov_figure", "satisfies_eq10",
    "scale_grid_figure", "standardised_differences", "turn_figure",
]

VERDICTS = (
    Verdict(
        claim="Property 3",
        paper="Lyapunov sequences on the evolving density",
        verdict="holds with correction",
        detail=r"$H(U_i)$ is not a Lyapunov sequence in general; "
               r"$\mathrm{KL}(p(u_i)\,\Vert\,\mathcal N(0,I))$ (see {eq}`eq-entropy-kl`) and $I(U_0;U_i)$ "
               r"decrease and $H(U_i\mid U_0)$ increases for every training set",
        section="sec-entropy-corrected",
    ),
    Verdict(
        claim="Proposition 1",
        paper=r"$H(U_i)$ increases if $\beta_i$ satisfies Eq. (10)",
        verdict="fails",
        detail=r"Gaussian data with variance 4 and the raw-scale digits lose entropy for every "
               r"admissible $\beta$; true instead whenever $H(U_i)\le H(\mathcal N(0,I))$ "
               r"(see {eq}`eq-entropy-epi`), e.g. for all data in $[-1,1]$",
        section="sec-entropy-prop1",
    ),
    Verdict(
        claim="Eq. (10)",
        paper=r"the admissible interval of $\beta_i$ for Proposition 1 (see {eq}`eq-entropy-eq10-paper`)",
        verdict="fails",
        detail="the algebra is right, but as a condition the interval is neither sufficient nor "
               "necessary for increasing entropy",
        section="sec-entropy-eq10",
    ),
    Verdict(
        claim="Eq. (12)",
        paper=r"$H(U_{i+1})$ split additively into $H(U_i)$, $H(G)$ and two logarithms "
              r"(see {eq}`eq-entropy-eq12-paper`)",
        verdict="fails",
        detail=r"scaling adds $n\ln\lvert a\rvert$, not $\ln\lvert a\rvert$, and entropies of "
               r"independent summands do not add (see {eq}`eq-entropy-eq12`)",
        section="sec-entropy-eq12",
    ),
    Verdict(
        claim="Proposition 2",
        paper=r"$H(U_i\mid U_0)$ increases for every $\beta_i\in(0,1)$",
        verdict="holds",
        detail=r"strictly, at every step of every schedule (see {eq}`eq-entropy-increment`)",
        section="sec-entropy-prop2",
    ),
    Verdict(
        claim="Eq. (18)",
        paper=r"the closed form of $H(U_i\mid U_0)$ (see {eq}`eq-entropy-eq18-paper`)",
        verdict="holds with correction",
        detail=r"a factor $\tfrac12$ is missing, $H(U_i\mid U_0)=\tfrac n2\ln(2\pi e(1-\bar\alpha_i))$ "
               r"(see {eq}`eq-entropy-eq18`); monotonicity is unaffected",
        section="sec-entropy-prop2",
    ),
)


# --- Gaussian closed forms ---


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


# --- Conditional entropy, Proposition 2 (Eqs. 16-20) ---


def conditional_entropy_eq18(betas, n: int) -> np.ndarray:
    """The paper's Eq. (18) as printed: ln((2πe)^n (1 − ᾱ_i)^n) = n ln(2πe (1 − ᾱ_i)).

    It is exactly twice :func:`conditional_entropy`: the factor ½ of the Gaussian entropy
    ½ ln det(2πe Σ) is missing. Both are increasing functions of 1 − ᾱ_i, so the conclusion
    of Proposition 2 is unaffected; the two agree only where 2πe(1 − ᾱ_i) = 1.
    """
    n = check_int(n, "n", 1)
    with np.errstate(divide="ignore"):
        return n * (LOG_2PIE + np.log(-np.expm1(log_alpha_bar(betas))))


# --- Proposition 1: Eqs. (10) and (12) ---


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
    h_g = gaussian.standard_normal_entropy(n)
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

    b_n is computed by :func:`lib.core.gaussian.eq10_lower_bound` (rationalised, no cancellation).
    In float64 the upper limit 1 − b_n rounds to 1.0 once b_n < 2^(−53) (n ≥ 13), and b_n itself
    underflows to 0 for n ≳ 290;
    :func:`satisfies_eq10` decides membership without either problem.

    Returns
    -------
    (lower, upper) : tuple of float or of ndarray
    """
    lower = gaussian.eq10_lower_bound(n)
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


# --- Entropy power (the corrected Proposition 1) ---


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

    ``entropy`` is H(U) in nats (−∞ allowed: a point mass has N = 0), ``ratio`` is r in (0, 1]
    and ``n`` the number of pixels.
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


# --- Monte Carlo for an empirical training set ---


def standardised_differences(values, errors) -> np.ndarray:
    """(v_{k+1} − v_k) / √(e_k² + e_{k+1}²) for estimates v_k with independent errors e_k.

    Used to check monotonicity along a grid of steps: for a sequence that cannot increase, every
    entry must be ≤ z (z standard errors, e.g. 4) up to the stated false-alarm rate. Pass
    ``errors = hypot(standard error, round-off bound)`` where the standard error can be smaller
    than the round-off (see :class:`lib.core.mixture.MixtureEntropy`). Zero errors give ±inf (or
    NaN for a zero difference).
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

    Returns the curves of :func:`scale_grid_figure`: for the Gaussian with the same mean and
    covariance, the closed forms at every step i = 1, …, T (an upper bound on H and a lower
    bound on KL, :mod:`lib.core.gaussian`); for the mixture itself, Monte Carlo estimates at
    ``mc_steps`` (:func:`lib.core.mixture.mixture_entropy_mc` and
    :func:`lib.core.mixture.kl_to_standard_normal_mc`, whose control variate is more precise
    where KL is small), each with ``n_samples`` draws (for H at least that many, more where needed to
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
    h = mixture.mixture_entropy_mc(centers, ab[mc_steps], n_samples, rng, target_se=target_se,
                           block_size=n_samples).entropy
    kl = mixture.kl_to_standard_normal_mc(centers, ab[mc_steps], n_samples, rng)
    return dict(
        i=steps, gauss_h=gaussian.gaussian_marginal_entropy(cov, ab[steps]),
        gauss_kl=gaussian.kl_gaussian_marginal(mean, cov, ab[steps]),
        mc_i=mc_steps, h=h.value, h_se=h.standard_error, kl=kl.value, kl_se=kl.standard_error,
    )


@dataclass(frozen=True)
class EntropyTurn:
    """Where H(U_i) stops increasing (see :func:`entropy_turn`).

    ``last_increasing`` is the largest probed step a with dH/dt significantly > 0 at every probe
    in [lo, a], ``first_decreasing`` the smallest probed step b with dH/dt significantly < 0 at
    every probe in [b, hi]; ``probes`` maps step → (rate, standard error) of every probe made,
    and ``z`` is the significance threshold in standard errors.
    """

    last_increasing: int
    first_decreasing: int
    probes: dict
    z: float


def entropy_turn(centers, betas, lo: int, hi: int, n_samples: int, rng: np.random.Generator,
                 *, z: float = 4.0) -> EntropyTurn:
    """Bracket the step at which H(U_i) of an empirical training set turns from up to down.

    Requires dH/dt (:func:`lib.core.mixture.mixture_entropy_rate_mc`) to be significantly
    positive (> z SE) at step ``lo`` and significantly negative at step ``hi``, and assumes it changes sign once in
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

    def sign(i: int) -> int:
        """+1 (−1) if dH/dt is significantly positive (negative) at step i, else 0."""
        if i not in probes:
            est = mixture.mixture_entropy_rate_mc(centers, float(np.exp(log_ab[i])), n_samples, rng)
            probes[i] = (float(est.value), float(est.standard_error))
        v, s = probes[i]
        return 1 if v > z * s else (-1 if v < -z * s else 0)

    if sign(lo) != 1:
        raise ValueError(f"dH/dt is not significantly positive at lo = {lo}: {probes[lo]}")
    if sign(hi) != -1:
        raise ValueError(f"dH/dt is not significantly negative at hi = {hi}: {probes[hi]}")
    a, b = lo, hi  # sign(a) == 1 holds, sign(b) == 1 fails
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (mid, b) if sign(mid) == 1 else (a, mid)
    last_inc = a
    a, b = lo, hi  # sign(a) == −1 fails, sign(b) == −1 holds
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (a, mid) if sign(mid) == -1 else (mid, b)
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


# --- the chapter's figures and explorer ---

_H_REF = r"$H(\mathcal{N}(0, I))$"
_KL = r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$"


@styled
def entropy_curves_figure(curves, reference: float, *, zoom=(-8.0, 8.0)):
    """H(U_i) against the step i for several training sets, with the entropy of N(0, I).

    Parameters
    ----------
    curves : sequence of :class:`~lib.chapters.common.Curve`
        Closed forms (no SE) are drawn as lines, Monte Carlo estimates as markers ± 2 SE.
    reference : float
        H(N(0, I)), drawn as a dashed line.
    zoom : (float, float)
        Range of H − H(N(0, I)) shown in the right panel.
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig, (ax, ax_z) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), layout="constrained")
    handles = [draw_curve(ax, c, f"C{k}") for k, c in enumerate(curves)]
    for k, c in enumerate(curves):
        draw_curve(ax_z, c, f"C{k}", offset=reference, label=None)
    handles.append(ax.axhline(reference, color="k", ls="--", lw=1, label=_H_REF))
    ax_z.axhline(0.0, color="k", ls="--", lw=1)
    ax.set(xlabel="step $i$", ylabel=r"$H(U_i)$ [nats]", title="differential entropy")
    ax_z.set(xlabel="step $i$", ylim=zoom, ylabel=r"$H(U_i) - H(\mathcal{N}(0, I))$ [nats]",
             title="zoom near the steady state")
    log_step_axes(ax, ax_z)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def decomposition_figure(entropy_curves, mutual_information, conditional, eq18=None):
    """H(U_i) = H(U_i | U_0) + I(U_0; U_i): the two terms and their sum, for several data sets.

    Parameters
    ----------
    entropy_curves, mutual_information : sequences of :class:`~lib.chapters.common.Curve`
        Monte Carlo H(U_i) and I(U_0; U_i) (with SE) per data set; the labels of the first are
        used in the legend.
    conditional : Curve
        The exact H(U_i | U_0), the same for every data set.
    eq18 : Curve, optional
        The paper's Eq. (18), drawn dotted for comparison.
    """
    import matplotlib.pyplot as plt

    entropy_curves, mutual_information = same_length(entropy_curves=entropy_curves,
                                                     mutual_information=mutual_information)
    fig, (ax_h, ax_i) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), layout="constrained")
    handles = [ax_h.plot(conditional.x, conditional.y, color="k", lw=1.6,
                         label=r"$H(U_i\,|\,U_0)$ (exact, any data)")[0]]
    if eq18 is not None:
        handles.append(ax_h.plot(eq18.x, eq18.y, color="0.5", ls=":", lw=1.6, label="paper's Eq. (18)")[0])
    for k, (h, mi) in enumerate(zip(entropy_curves, mutual_information)):
        handles.append(draw_curve(ax_h, h, f"C{k + 2}", label=rf"$H(U_i)$, {h.label}"))
        draw_curve(ax_i, mi, f"C{k + 2}", label=None)
    ax_h.set(xlabel="step $i$", ylabel="nats", title=r"$H(U_i)$ and $H(U_i\,|\,U_0)$")
    lim = ax_h.get_ylim()
    ax_h.set_ylim(max(lim[0], -60), lim[1])
    ax_i.set(xlabel="step $i$", ylabel="nats", title=r"$I(U_0; U_i) = H(U_i) - H(U_i\,|\,U_0)$")
    log_step_axes(ax_h, ax_i)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def lyapunov_figure(kl, power):
    """The corrected statements: KL(p(u_i) ‖ N(0, I)) and the entropy power N(U_i) against i.

    Parameters
    ----------
    kl, power : sequences of :class:`~lib.chapters.common.Curve`
        One per data set, in the same order (the labels of ``kl`` make the legend).
        N(U_i) ≤ 1 (shaded) is where the entropy power inequality guarantees that H increases.
    """
    import matplotlib.pyplot as plt

    kl, power = same_length(kl=kl, power=power)
    fig, (ax_k, ax_p) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), layout="constrained")
    handles = [draw_curve(ax_k, c, f"C{k}") for k, c in enumerate(kl)]
    for k, c in enumerate(power):
        draw_curve(ax_p, c, f"C{k}", label=None)
    ax_p.axhline(1.0, color="k", ls="--", lw=1)
    ax_p.axhspan(1e-30, 1.0, color="0.85", zorder=0)
    ax_p.text(0.98, 0.04, r"$N(U_i) \leq 1$: $H(U_i)$ must increase", transform=ax_p.transAxes,
              ha="right")
    ax_k.set(yscale="log", xlabel="step $i$", ylabel=f"{_KL} [nats]", title="decreases for every data set")
    ax_p.set(yscale="log", xlabel="step $i$", ylabel=r"$N(U_i) = e^{2H(U_i)/n} / (2\pi e)$",
             title="entropy power")
    lo = min(np.nanmin(c.y) for c in power)
    hi = max(np.nanmax(c.y) for c in power)
    ax_p.set_ylim(lo / 2, hi * 2)
    log_step_axes(ax_k, ax_p)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def turn_figure(probes, bracket, *, scale: float = 1.0, title: str = ""):
    """Monte Carlo estimates of dH/dt (de Bruijn) near the turn of H(U_i), with the bracket.

    Parameters
    ----------
    probes : mapping
        ``step -> (rate, standard error)`` (:class:`EntropyTurn`).
    bracket : (int, int)
        Last step known to increase and first step known to decrease (shaded between).
    scale : float
        Factor applied to the rates (e.g. −ln(1 − β) for dH/di).
    """
    import matplotlib.pyplot as plt

    steps = np.array(sorted(probes))
    rate = np.array([probes[s][0] for s in steps]) * scale
    se = np.array([probes[s][1] for s in steps]) * abs(scale)
    fig, ax = plt.subplots(figsize=(6.8, 3.3), layout="constrained")
    ax.axvspan(bracket[0], bracket[1], color="C1", alpha=0.25, label="turn of $H$ lies here")
    ax.errorbar(steps, rate, yerr=4 * se, fmt="o", ms=4, capsize=2, label="probe ± 4 SE")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set(xlabel="step $i$", ylabel=r"slope $dH(U_i)/di$ [nats per step]", title=title)
    ax.legend()
    return fig


def _scale_panels(axes, r: dict, reference: float, title: str, x_mc=None) -> list:
    ax_h, ax_k = axes
    x_mc = r["mc_i"] if x_mc is None else x_mc
    g = ax_h.plot(r["i"], np.asarray(r["gauss_h"]) - reference, color="0.5", lw=1.2)[0]
    m = draw_curve(ax_h, Curve(x_mc, r["h"], r["h_se"]), "C3", offset=reference, label=None)
    ax_h.axhline(0.0, color="k", ls="--", lw=0.8)
    ax_k.plot(r["i"], r["gauss_kl"], color="0.5", lw=1.2)
    draw_curve(ax_k, Curve(x_mc, r["kl"], r["kl_se"]), "C3", label=None)
    ax_h.set_title(title)
    ax_h.set(ylim=(-12, 12))
    ax_k.set(yscale="log", xlabel="step $i$")
    log_step_axes(ax_h, ax_k)
    return [m, g]


_SCALE_LEGEND = ["digit mixture: Monte Carlo ± 2 SE", "Gaussian with the same moments (exact)"]


@styled
def scale_grid_figure(results, titles, reference: float):
    """Static counterpart of :func:`entropy_explorer`: one column per data scale c.

    Parameters
    ----------
    results : sequence of dict
        :func:`entropy_vs_scale` results: ``i, gauss_h, gauss_kl`` (the
        moment-matched Gaussian in closed form, every step; an upper bound on H and a lower
        bound on KL) and ``mc_i, h, h_se, kl, kl_se`` (Monte Carlo for the mixture).
    titles : sequence of str
        Column titles.
    reference : float
        H(N(0, I)).
    """
    import matplotlib.pyplot as plt

    results, titles = same_length(results=results, titles=titles)
    fig, axes = plt.subplots(2, len(results), figsize=(min(COLUMN_WIDTH, 2.2 * len(results) + 1.0), 5.2),
                             squeeze=False, sharex=True, layout="constrained")
    for col, (title, r) in enumerate(zip(titles, results)):
        handles = _scale_panels(axes[:, col], r, reference, title)
    axes[0, 0].set_ylabel(r"$H(U_i) - H(\mathcal{N}(0, I))$")
    axes[1, 0].set_ylabel(_KL)
    fig.legend(handles=handles, labels=_SCALE_LEGEND, loc="outside lower center", ncol=1, frameon=False)
    return fig


def entropy_explorer(data, *, n_steps: int = 1000, n_grid: int = 8, n_samples: int = 80,
                     seed: int = 0) -> Explorer:
    """ipywidgets explorer of Proposition 1: sliders for the data scale c and a constant β.

    The training set is c · ``data``; the panels show H(U_i) − H(N(0, I)) and
    KL(p(u_i) ‖ N(0, I)) against i: the Gaussian with the same moments in closed form at every
    step, and Monte Carlo estimates for the mixture itself (``n_samples`` draws at ``n_grid``
    values of ᾱ). With a constant β, p(u_i) depends on β only through ᾱ_i = (1 − β)^i, so the
    Monte Carlo estimates are computed once per c, on a fixed grid of ᾱ, and drawn at
    i = ln ᾱ / ln(1 − β): moving β costs no sampling, and each c is cached. Jupyter only; the
    static HTML book shows :func:`scale_grid_figure` instead. The explorer's ``result`` is a
    dict with the arrays shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    data = np.asarray(data, dtype=np.float64)
    reference = gaussian.standard_normal_entropy(data.shape[1])
    ab_grid = np.exp(-np.geomspace(1e-3, 14.0, n_grid))  # t = −ln ᾱ from 10⁻³ to 14

    @lru_cache(maxsize=32)
    def estimates(c: float) -> dict:
        rng = np.random.default_rng(seed)
        centers = c * data
        h = mixture.mixture_entropy_mc(centers, ab_grid, n_samples, rng, block_size=n_samples).entropy
        kl = mixture.kl_to_standard_normal_mc(centers, ab_grid, n_samples, rng)
        cov = np.atleast_2d(np.cov(centers, rowvar=False, bias=True))
        return dict(mean=centers.mean(axis=0), cov=cov, h=h.value, h_se=h.standard_error,
                    kl=kl.value, kl_se=kl.standard_error)

    def draw(c: float, beta: float):
        m = estimates(float(c))
        steps = np.arange(1, n_steps + 1)
        ab = (1.0 - beta) ** steps
        keep = ab > 0
        r = dict(i=steps[keep], gauss_h=gaussian.gaussian_marginal_entropy(m["cov"], ab[keep]),
                 gauss_kl=gaussian.kl_gaussian_marginal(m["mean"], m["cov"], ab[keep]),
                 mc_i=np.log(ab_grid) / np.log1p(-beta), h=m["h"], h_se=m["h_se"], kl=m["kl"],
                 kl_se=m["kl_se"])
        shown = (r["mc_i"] >= 1) & (r["mc_i"] <= n_steps)
        r.update({k: r[k][shown] for k in ("mc_i", "h", "h_se", "kl", "kl_se")})
        # fixed margins: the constrained-layout solver alone would cost ~0.8 s per redraw
        fig, axes = plt.subplots(2, 1, figsize=(6.0, 5.6), sharex=True)
        fig.subplots_adjust(left=0.14, right=0.98, top=0.94, bottom=0.19, hspace=0.08)
        handles = _scale_panels(axes, r, reference, rf"$c = {c:.3g}$, $\beta = {beta:.3g}$")
        axes[0].set_ylabel(r"$H(U_i) - H(\mathcal{N}(0, I))$")
        axes[1].set_ylabel(_KL)
        fig.legend(handles=handles, labels=_SCALE_LEGEND, loc="lower center", frameon=False)
        return fig, r

    return Explorer(draw, dict(
        c=widgets.FloatLogSlider(value=1.0, base=2, min=-2, max=4, step=0.25, description="scale c"),
        beta=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=-0.7, step=0.1, description="β"),
    ))
