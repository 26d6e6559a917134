"""Companion of the chapter *The steady state* (paper Property 5, Proposition 4, Eq. 22): the
chapter's mathematics that no other chapter needs, its figures and explorer.

The Gaussian closed forms are :mod:`lib.core.gaussian` and the exact mixture
:mod:`lib.core.mixture`; what lives here:

* the small-ᾱ expansion of KL(p(u_i) ‖ N(0, I)) for Gaussian training data and the bound on
  its remainder (:func:`kl_leading_order`, :func:`kl_second_order_remainder_bound`);
* the hypothesis of Proposition 4: schedules with Σ β_j < ∞ (:func:`inverse_square_betas`) do
  not forget u_0, ᾱ_∞ = sin(π√c)/(π√c) > 0 (:func:`inverse_square_alpha_bar_limit`), and the
  log of the lower limit of the paper's Eq. (10) where it underflows
  (:func:`log10_eq10_lower_bound`);
* detectability of the initial image in one trajectory: the matched correlation statistic
  (:func:`correlation_z`, :func:`correlation_shift`, :func:`two_sided_power`) and the
  Kolmogorov–Smirnov distance of the pooled pixel law from N(0, 1) (:func:`pooled_ks_distance`).

Step indices follow :mod:`lib.core.schedules`: ``betas[i - 1] = β_i``, ``alpha_bar(betas)[i] = ᾱ_i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special as _sp
from scipy import stats as _st

from lib.core import schedules
from lib.core._validation import (as_float_array, check_alpha_bar, check_covariance, check_mean_cov,
                                  check_int, check_pixel_counts, check_positive_int,
                                  check_probability, check_real)
from lib.core.forward import sample_trajectory
from lib.core.gaussian import LOG_2PIE

from .common import COLUMN_WIDTH, Curve, Explorer, same_length, styled, trajectory_grid
from .prose import Verdict

__all__ = [
    "DetectabilityReport",
    "VERDICTS",
    "correlation_shift",
    "correlation_threshold_step",
    "correlation_z",
    "detectability",
    "detectability_figure",
    "first_step_at_or_below",
    "harmonic_betas",
    "inverse_square_alpha_bar_limit",
    "inverse_square_betas",
    "kl_leading_order",
    "kl_ratio_figure",
    "kl_second_order_remainder_bound",
    "ks_normal",
    "ks_threshold_step",
    "log10_eq10_lower_bound",
    "memory_figure",
    "pixel_law_grid",
    "pooled_ks_distance",
    "rates_figure",
    "simulate_detection",
    "steady_state_explorer",
    "trajectory_grid",
    "two_sided_power",
]

VERDICTS = (
    Verdict(
        claim="Property 5 / Proposition 4",
        paper=r"convergence to $\mathcal N(0, I)$ under the assumptions of Property 3",
        verdict="holds with correction",
        detail=r"the proof needs $\bar\alpha_i\to0$, i.e. $\sum_i\beta_i=\infty$ "
               r"(see {eq}`eq-steady-sum-beta`); Eq. (10) implies it only through an astronomically "
               r"small lower bound on $\beta_i$, and $\beta_j=c/j^2$ never forgets its start",
        section="sec-steady-assumption",
    ),
    Verdict(
        claim="Eq. (22)",
        paper=r"$u_i=\sqrt{\bar\alpha_i}\,u_0+\sqrt{1-\bar\alpha_i}\,\xi$ with $\bar\alpha_i\to0$, "
              r"{eq}`eq-steady-22`",
        verdict="holds with correction",
        detail=r"product from $j=1$ as in {eq}`eq-steady-22-corrected`; the limits hold exactly when "
               r"$\sum_j\beta_j=\infty$, see {eq}`eq-steady-sum-beta`",
        section="sec-steady-derivation",
    ),
)


# ---------------------------------------------------------------------------------------------
# Gaussian training data: the small-ᾱ expansion
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
    shift = correlation_shift(f, schedules.alpha_bar(betas))
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
    ab = schedules.alpha_bar(betas)
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
    ab = schedules.alpha_bar(betas)
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

    The trajectory is :func:`lib.core.forward.sample_trajectory` in float32 (the statistics are
    computed in float64). Returns a dict of arrays over the steps: ``steps``, ``alpha_bar``,
    ``snapshots``, ``z`` (:func:`correlation_z`), ``z_standardised`` = (z − δ_i)/√(1 − ᾱ_i), which
    is N(0, 1) if the analysis is right, ``ks`` = √n D_n of :func:`ks_normal` and
    ``ks_population`` = √n · :func:`pooled_ks_distance`.
    """
    f = as_float_array(f, "f").astype(np.float64, copy=False)
    ab_all = schedules.alpha_bar(betas)
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


# ---------------------------------------------------------------------------------------------
# Figures and explorer
# ---------------------------------------------------------------------------------------------

_KL = r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$ [nats]"


@styled
def rates_figure(steps, mean, cov, kl, kl_lead, labels, *, mc: Curve | None = None, mc_of: int = 0):
    """Distance of p(u_i) from N(0, I) against the step i: mean, covariance and KL (Property 5).

    Parameters
    ----------
    steps : array
        The steps i of every curve.
    mean, cov, kl, kl_lead : sequences of arrays
        One array per schedule: ‖E U_i‖, ‖Cov U_i − I‖_F, the closed-form KL of the Gaussian
        training data and its leading-order prediction ½ ᾱ_i ‖m‖².
    labels : sequence of str
        Schedule names.
    mc : Curve, optional
        Monte Carlo KL estimates for the digit mixture, with standard errors (± 2 SE bars).
    mc_of : int
        Index of the schedule ``mc`` belongs to (it takes that schedule's colour).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    mean, cov, kl, kl_lead, labels = same_length(mean=mean, cov=cov, kl=kl, kl_lead=kl_lead, labels=labels)
    fig = plt.figure(figsize=(COLUMN_WIDTH, 6.6), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    ax_m, ax_c, ax_k = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    for k, label in enumerate(labels):
        ax_m.plot(steps, mean[k], color=f"C{k}", label=label)
        ax_c.plot(steps, cov[k], color=f"C{k}")
        ax_k.plot(steps, kl[k], color=f"C{k}")
        ax_k.plot(steps, kl_lead[k], color=f"C{k}", ls=":", lw=1.5)
    if mc is not None:
        ax_k.errorbar(mc.x, mc.y, yerr=2 * mc.se, fmt="o", ms=4, mfc="none", color=f"C{mc_of}")
    proxies = [
        Line2D([], [], color="k", label="Gaussian training data: exact"),
        Line2D([], [], color="k", ls=":", label=r"leading order $\frac{1}{2}\bar\alpha_i\|m\|^2$"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="digit mixture: Monte Carlo ± 2 SE"),
    ]
    ax_m.set(ylabel=r"$\|\mathrm{E}\,U_i\| = \sqrt{\bar\alpha_i}\,\|m\|$", title="mean")
    ax_c.set(ylabel=r"$\|\mathrm{Cov}\,U_i - I\|_F$", title="covariance")
    ax_k.set(ylabel=_KL, title="Kullback–Leibler divergence")
    for ax in (ax_m, ax_c, ax_k):
        ax.set(xlabel="step $i$", yscale="log")
    ax_m.legend()
    ax_k.legend(handles=proxies, loc="lower left")
    return fig


@styled
def kl_ratio_figure(alpha_bar, ratios, predictions, labels, *, mc: Curve | None = None, ylim=(0.9, 2.0)):
    """KL divided by its leading-order term against ᾱ_i (log axis): it must tend to 1.

    Parameters
    ----------
    alpha_bar : array
        ᾱ values of the exact curves.
    ratios, predictions : sequences of arrays
        Per case: the exact ratio and its next-order prediction (drawn dashed).
    labels : sequence of str
    mc : Curve, optional
        Monte Carlo ratios against ᾱ with standard errors (± 2 SE bars); its label is used.
    ylim : tuple
        Range of the ratio axis.
    """
    import matplotlib.pyplot as plt

    ratios, predictions, labels = same_length(ratios=ratios, predictions=predictions, labels=labels)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6), layout="constrained")
    for ratio, predicted, label in zip(ratios, predictions, labels):
        (line,) = ax.plot(alpha_bar, ratio, label=f"{label}: exact")
        ax.plot(alpha_bar, predicted, ls="--", lw=1, color=line.get_color(), label=f"{label}: next-order prediction")
    if mc is not None:
        ax.errorbar(mc.x, mc.y, yerr=2 * mc.se, fmt="o", ms=4, mfc="none", label=f"{mc.label}: MC ± 2 SE")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xscale="log", xlabel=r"$\bar\alpha_i$", ylabel="KL / leading-order term", ylim=ylim)
    ax.legend(loc="upper left")
    return fig


@styled
def memory_figure(curves, *, limit: float | None = None, limit_of: int = 0):
    """KL(p(u_i) ‖ N(0, I)) against i on log–log axes for schedules with Σβ = ∞ and Σβ < ∞.

    Parameters
    ----------
    curves : sequence of :class:`~lib.chapters.common.Curve`
        KL against the step, one per schedule.
    limit : float, optional
        The limit KL as i → ∞ of schedule ``limit_of`` (dashed horizontal line).
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6), layout="constrained")
    for k, c in enumerate(curves):
        ax.plot(c.x, c.y, color=f"C{k}", label=c.label)
    if limit is not None:
        ax.axhline(limit, ls="--", lw=1, color=f"C{limit_of}", label=f"limit: {limit:.3g} nats")
    ax.set(xscale="log", yscale="log", xlabel="step $i$", ylabel=_KL)
    ax.legend()
    return fig


@styled
def detectability_figure(steps, shift, ks_steps, ks, labels, sims, z_crit: float, k_crit: float):
    """Detectability of u_0 in one draw of u_i: expected test statistics against i, and draws.

    Parameters
    ----------
    steps, ks_steps : arrays
        Steps of the expected matched-correlation statistic and of the KS distance.
    shift, ks : sequences of arrays
        Per schedule: expected δ_i at ``steps`` and √n × pooled KS distance at ``ks_steps``.
    labels : sequence of str
    sims : sequence of (steps, z, ks) or None
        Per schedule, the statistics of simulated draws (or None).
    z_crit, k_crit : float
        Critical values of the two tests (horizontal dashed lines).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    shift, ks, labels, sims = same_length(shift=shift, ks=ks, labels=labels, sims=sims)
    fig, (ax_z, ax_k) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.2), layout="constrained")
    handles = []
    for k, label in enumerate(labels):
        colour = f"C{k}"
        ax_z.plot(steps, shift[k], color=colour)
        ax_k.plot(ks_steps, ks[k], color=colour)
        handles.append(Line2D([], [], color=colour, label=label))
        if sims[k] is not None:
            s_steps, z, ks_sim = sims[k]
            ax_z.plot(s_steps, np.abs(z), "o", ms=5, mfc="none", color=colour)
            ax_k.plot(s_steps, ks_sim, "o", ms=5, mfc="none", color=colour)
    ax_z.axhline(z_crit, color="k", ls="--", lw=1)
    ax_k.axhline(k_crit, color="k", ls="--", lw=1)
    handles += [
        Line2D([], [], color="k", label="expected (lines)"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="one simulated draw"),
        Line2D([], [], color="k", ls="--", lw=1, label="critical value at the level"),
    ]
    ax_z.set(yscale="log", xlabel="step $i$", ylabel=r"$|Z|$", ylim=(1e-2, None),
             title="matched correlation with $f$\n(knows $f$)")
    ax_k.set(yscale="log", xlabel="step $i$", ylabel=r"$\sqrt{n}\,D$", ylim=(1e-1, None),
             title=r"KS against $\mathcal{N}(0, 1)$" + "\n(blind)")
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return fig


def _pixel_law_row(axes, u, f, alpha_bar: float, *, bins: int = 24) -> None:
    """Histogram, QQ-plot and binned mean against f of the pixel values of one draw u_i."""
    u = np.asarray(u, dtype=np.float64).ravel()
    f = np.asarray(f, dtype=np.float64).ravel()
    ax_h, ax_q, ax_m = axes
    grid = np.linspace(-4.5, 4.5, 300)
    density, edges = np.histogram(u, bins=90, range=(-4.5, 4.5), density=True)
    ax_h.stairs(density, edges, fill=True, color="C0", alpha=0.6)
    ax_h.plot(grid, _st.norm.pdf(grid), "k", lw=1)
    probs = (np.arange(1, 501) - 0.5) / 500
    ref = _st.norm.ppf(probs)
    ax_q.plot(ref, ref, "k", lw=1)
    ax_q.plot(ref, np.quantile(u, probs), ".", ms=2)
    # bins of (nearly) equal pixel count, so that every binned mean has a comparable error
    order = np.argsort(f, kind="stable")
    which = np.empty(f.size, dtype=np.int64)
    which[order] = np.arange(f.size) * bins // f.size
    count = np.bincount(which, minlength=bins)
    keep = count > 0
    mean_u = np.bincount(which, weights=u, minlength=bins)[keep] / count[keep]
    centre = np.bincount(which, weights=f, minlength=bins)[keep] / count[keep]
    se = np.sqrt(max(1.0 - alpha_bar, 1e-12) / count[keep])
    ax_m.errorbar(centre, mean_u, yerr=se, fmt=".", ms=3, lw=0.8, label="binned mean ± SE")
    ax_m.plot(centre, np.sqrt(alpha_bar) * centre, "k", lw=1, label=r"$\sqrt{\bar\alpha_i}\,f$")
    ax_m.axhline(0.0, color="0.6", lw=0.8)
    z = correlation_z(u, f)
    _, p_ks = ks_normal(u)
    ax_h.set_title(f"histogram, KS $p$ = {p_ks:.2g}")
    ax_q.set_title(r"QQ-plot vs $\mathcal{N}(0, 1)$")
    ax_m.set_title(f"mean of $u_i$ in bins of $f$\n$Z$ = {z:.2f}")


@styled
def pixel_law_grid(snapshots, f, alpha_bars, labels):
    """One row per draw: histogram, QQ-plot and binned mean against f of the pixels of u_i.

    The static counterpart of :func:`steady_state_explorer`.

    Parameters
    ----------
    snapshots : sequence of arrays
        Draws u_i started from f (each with f's number of values).
    f : array_like
        The initial image u_0.
    alpha_bars : sequence of float
        ᾱ_i of each draw.
    labels : sequence of str
        Row labels, e.g. ``"linear, i = 1000"``.
    """
    import matplotlib.pyplot as plt

    snapshots, alpha_bars, labels = same_length(snapshots=snapshots, alpha_bars=alpha_bars, labels=labels)
    rows = len(labels)
    height = 2.3 * rows + 0.6
    fig, axes = plt.subplots(rows, 3, figsize=(COLUMN_WIDTH, height), squeeze=False)
    # fixed margins instead of constrained layout: the layout solver costs a second per figure
    fig.subplots_adjust(left=0.1, right=0.99, bottom=0.5 / height, top=1 - 0.45 / height,
                        wspace=0.3, hspace=0.75)
    for row, (u, ab, label) in enumerate(zip(snapshots, alpha_bars, labels)):
        _pixel_law_row(axes[row], u, f, float(ab))
        axes[row, 0].set_ylabel(label)
    axes[-1, 0].set_xlabel("pixel value")
    axes[-1, 1].set_xlabel(r"$\mathcal{N}(0, 1)$ quantile")
    axes[-1, 2].set_xlabel("grey value of $f$")
    return fig


def steady_state_explorer(f, betas, names, *, seed: int = 0) -> Explorer:
    """ipywidgets explorer of the pixel statistics of u_i: a menu for the schedule, a slider for i.

    Each position shows u_i = √ᾱ_i f + √(1 − ᾱ_i) ξ (Eq. 5) with one fixed noise image ξ, so that
    moving the slider changes only ᾱ_i: histogram and QQ-plot against N(0, 1), and the mean of
    the pixels of u_i given their grey value in f. The ᾱ of every schedule are computed once.
    Jupyter only; the static HTML book shows :func:`pixel_law_grid` instead. The explorer's
    ``result`` is the array u_i shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    f = np.asarray(f, dtype=np.float64)
    xi = np.random.default_rng(seed).standard_normal(f.shape)
    betas, names = same_length(betas=betas, names=names)
    alpha_bars = [schedules.alpha_bar(b) for b in betas]
    n_steps = min(ab.size - 1 for ab in alpha_bars)

    def draw(schedule: int, i: int):
        ab = float(alpha_bars[schedule][int(i)])
        u = np.sqrt(ab) * f + np.sqrt(1.0 - ab) * xi
        fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 3.0))
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.74, wspace=0.3)
        _pixel_law_row(axes, u, f, ab)
        fig.suptitle(rf"{names[schedule]}, $i = {int(i)}$, $\bar\alpha_i$ = {ab:.3g}")
        return fig, u

    return Explorer(draw, dict(
        schedule=widgets.Dropdown(options=[(name, k) for k, name in enumerate(names)], value=0,
                                  description="schedule"),
        i=widgets.IntSlider(value=min(500, n_steps), min=0, max=n_steps, step=1, description="step i"),
    ))
