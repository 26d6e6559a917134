"""Companion of the chapter *Initial state and semigroup* (paper Properties 1–2, Eqs. 6–8):
its verdicts, the experiments that check them, and its tables, figures and explorer.

* **exact**: :func:`composition_errors` composes the Gaussian kernels 0 → i−ℓ → i
  (:func:`compose`, the integral of Eq. 8 in closed form) and compares them with 0 → i on all
  pairs (i, ℓ), to a stated round-off bound, for closed-form kernels and for composed one-step
  kernels of Eq. (3) (:func:`iterated_kernels`);
* **in law**: :func:`two_path_samples` draws p(u_i) from a training set directly (Eq. 5) and
  via step i−ℓ; :func:`rejection_rate` estimates size and power of the two-sample test;
* deliberately wrong compositions (:data:`RULES`: ``"additive"`` v₁ + v₂, ``"skip"`` Eq. (8)
  as printed with ℓ − 1 steps, ``"homogeneous"`` the first ℓ steps of the schedule) show
  that both checks can fail;
* the contrast: the semigroup of Gaussian scale-space on one image (:func:`gaussian_semigroup`).

Step indices follow :mod:`lib.core.schedules`: ``betas[i - 1] = β_i`` and ᾱ_0 = 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy import stats as _st

from lib.core import forward
from lib.core._validation import (as_float_array, check_betas, check_choice, check_grid_shape,
                                  check_int, check_probability, check_rng, check_training_set)
from lib.core._validation import check_positive_real as _check_positive
from lib.core.schedules import log_alpha_bar
from lib.core.stats import projection_ks_test

from .common import COLUMN_WIDTH, Explorer, html_table, same_length, show_image, styled
from .prose import Verdict

__all__ = [
    "RULES",
    "VERDICTS",
    "CompositionErrors",
    "RejectionRate",
    "compose",
    "composition_errors",
    "composition_errors_figure",
    "composition_table",
    "gaussian_semigroup",
    "gaussian_semigroup_bound",
    "gaussian_semigroup_errors",
    "gaussian_semigroup_figure",
    "gaussian_smooth_periodic",
    "iterated_kernels",
    "rejection_rate",
    "rejection_table",
    "semigroup_explorer",
    "two_path_experiments",
    "two_path_figure",
    "two_path_samples",
]

VERDICTS = (
    Verdict(
        claim="Property 1",
        paper="the training distribution is the initial state",
        verdict="holds",
        detail=r"by definition; with $\bar\alpha_0=1$ ($\beta_0:=0$) the closed form returns $u_0$ "
               "bit for bit and draws no noise",
        section="sec-semigroup-initial",
    ),
    Verdict(
        claim="Property 2",
        paper=r"semigroup: $p(u_i)$ in $i$ steps from $p(u_0)$ or in $\ell$ steps from $p(u_{i-\ell})$ "
              "(Eqs. 6–7)",
        verdict="holds",
        detail="for constant, linear and cosine schedules: composed kernels equal direct ones to "
               "round-off, and samples drawn both ways from the digits agree in law; for "
               r"non-constant $\beta$ a two-parameter (Chapman–Kolmogorov) family "
               r"(see {eq}`eq-semigroup-chapman`), a semigroup in $\tau=-\ln\bar\alpha$",
        section="sec-semigroup-exact",
    ),
    Verdict(
        claim="Eq. (8)",
        paper=r"$p(u_i)$ from $p(u_{i-\ell})$ as an integral over the last $\ell$ steps "
              "(see {eq}`eq-semigroup-eq8-paper`)",
        verdict="holds with correction",
        detail=r"the product must run to $j=i$, not $i-1$ (see {eq}`eq-semigroup-eq8`)",
        section="sec-semigroup-derivation",
    ),
)

EPS = float(np.finfo(np.float64).eps)
RULES = ("correct", "additive", "skip", "homogeneous")


# --- exact composition of the Gaussian kernels (Eqs. 7 and 8 in closed form) ---


def compose(first, second, *, additive: bool = False):
    """Compose two Gaussian Markov kernels u ↦ N(s·u, v·I): first, then second.

    If U_b = s₁U_a + √v₁ G₁ and U_c = s₂U_b + √v₂ G₂ with independent standard normal G₁, G₂,
    then U_c = s₁s₂U_a + (s₂√v₁ G₁ + √v₂ G₂), a Gaussian kernel with mean factor s₁s₂ and
    variance s₂²v₁ + v₂. This is the integral over u_b in Eq. (8) (Chapman–Kolmogorov).

    Parameters
    ----------
    first, second : tuple (scale, variance)
        Mean factors and variances (floats or broadcastable arrays).
    additive : bool
        Deliberately wrong rule for the checks: variance v₁ + v₂ (no factor s₂²).

    Returns
    -------
    scale, variance
    """
    s1, v1 = (np.asarray(x, dtype=np.float64) for x in first)
    s2, v2 = (np.asarray(x, dtype=np.float64) for x in second)
    scale = s1 * s2
    variance = v1 + v2 if additive else s2 * s2 * v1 + v2
    return scale, variance


def _kernels_from_log(log_ab: np.ndarray, start, stop):
    """The formulas of :func:`lib.core.forward.transition_coefficients` on index arrays: the
    kernel p(u_stop | u_start) as (exp(½(ln ᾱ_stop − ln ᾱ_start)), −expm1(ln ᾱ_stop − ln ᾱ_start)),
    bit for bit the same values."""
    log_ratio = log_ab[stop] - log_ab[start]
    return np.exp(0.5 * log_ratio), -np.expm1(log_ratio)


def iterated_kernels(betas):
    """Kernels p(u_t | u_a) for all a ≤ t built by composing one-step kernels of Eq. (3).

    Row t is obtained from row t − 1 by one more step of Eq. (3) with the rule of
    :func:`compose`: S ← √(1−β_t)·S and V ← (1−β_t)·V + β_t, starting from the identity
    kernel (S, V) = (1, 0) at t = a. Nothing here uses ᾱ or a closed form: these are the
    products of transition densities in Eqs. (7) and (8), evaluated in floating point.

    Returns
    -------
    scale, variance : ndarray, shape (T + 1, T + 1)
        ``scale[t, a]`` and ``variance[t, a]`` for a ≤ t; NaN above the diagonal.
    """
    betas = check_betas(betas)
    n = betas.size + 1
    w = 1.0 - betas
    c = np.sqrt(w)
    scale = np.full((n, n), np.nan)
    variance = np.full((n, n), np.nan)
    scale[0, 0], variance[0, 0] = 1.0, 0.0
    for t in range(1, n):
        scale[t, :t] = scale[t - 1, :t] * c[t - 1]
        variance[t, :t] = w[t - 1] * variance[t - 1, :t] + betas[t - 1]
        scale[t, t], variance[t, t] = 1.0, 0.0
    return scale, variance


@dataclass(frozen=True)
class CompositionErrors:
    """Errors of composing the kernels 0 → i−ℓ → i against the kernel 0 → i, all pairs.

    Attributes
    ----------
    method, rule : str
        ``"closed"`` or ``"iterated"``; one of :data:`RULES`.
    step, ell : ndarray of int
        All pairs 1 ≤ ℓ ≤ i ≤ T.
    scale_error, variance_error : ndarray
        |s_composed / s_direct − 1| (relative) and |v_composed − v_direct| (absolute).
    bound : ndarray
        Round-off bound for the correct rule at each pair (see :func:`composition_errors`).
    """

    method: str
    rule: str
    step: np.ndarray
    ell: np.ndarray
    scale_error: np.ndarray
    variance_error: np.ndarray
    bound: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """max(scale_error, variance_error) at each pair."""
        return np.maximum(self.scale_error, self.variance_error)

    @property
    def max_error(self) -> float:
        return float(self.error.max())

    @property
    def max_ratio(self) -> float:
        """Largest error in units of its round-off bound (≤ 1 means the identity holds)."""
        return float(np.max(self.error / self.bound))

    @property
    def holds(self) -> bool:
        return bool(np.all(self.error <= self.bound))

    def per_step(self):
        """(steps i, max over ℓ of the error, bound at i) for plotting against i."""
        starts = np.concatenate(([0], np.flatnonzero(np.diff(self.step)) + 1))
        return (self.step[starts], np.maximum.reduceat(self.error, starts),
                np.maximum.reduceat(self.bound, starts))


def _all_pairs(n_steps: int):
    """All pairs 1 ≤ ℓ ≤ i ≤ n_steps as (i, ℓ), sorted by i."""
    step, mid = np.tril_indices(n_steps + 1, k=-1)
    return step, step - mid


def composition_errors(betas, *, method: str = "closed", rule: str = "correct"):
    """Check Property 2 exactly: compose the kernels 0 → i−ℓ → i, compare with 0 → i.

    For every pair 1 ≤ ℓ ≤ i ≤ T the kernel p(u_{i−ℓ} | u_0) is composed (:func:`compose`)
    with the kernel of the ℓ remaining steps and compared with p(u_i | u_0). Since p(u_i) and
    p(u_{i−ℓ}) are these kernels applied to p(u_0), equal kernels mean equal p(u_i) for *every*
    training distribution: Eq. (7) = Eq. (8).

    Parameters
    ----------
    betas : array_like, shape (T,)
    method : {"closed", "iterated"}
        ``"closed"``: kernels from the closed form (the formulas of
        :func:`lib.core.forward.transition_coefficients`, vectorised). ``"iterated"``:
        kernels composed from one-step kernels of Eq. (3) (:func:`iterated_kernels`).
    rule : str
        ``"correct"`` or a deliberately wrong composition of :data:`RULES`.

    Returns
    -------
    CompositionErrors
        With the round-off bound of the correct rule (u = eps/2 the unit round-off):

        * closed: (|ln ᾱ_i| + 16)·u. Both sides use the same stored ln ᾱ, so only the
          subtraction ln ᾱ_i − ln ᾱ_{i−ℓ} (relative error ≤ u, hence an absolute error
          ≤ u·|ln ᾱ_i| in the exponent) and a handful of exp/expm1/product roundings
          (≤ 2 ulp each, 16u in all) enter; no factor T.
        * iterated: (4i + 2)·eps. The two sides multiply the same rounded factors in a
          different order (≤ i − 1 roundings each); the variance recursion loses ≤ 2u per
          step, and √(1−β)² differs from 1−β by ≤ 2u per step: ≤ (8i + 1)·u in all.
    """
    betas = check_betas(betas)
    rule = check_choice(rule, "rule", RULES)
    if log_alpha_bar(betas)[-1] < -1400.0:
        raise ValueError(
            "betas destroy the signal so completely that √ᾱ_T underflows (ln ᾱ_T < −1400); "
            "relative errors of the mean factor are undefined there"
        )
    n_steps = betas.size
    step, ell = _all_pairs(n_steps)
    mid = step - ell
    if method == "closed":
        log_ab = log_alpha_bar(betas)

        def kernel(a, b):
            return _kernels_from_log(log_ab, a, b)
        bound = (np.abs(log_ab[step]) + 16.0) * (EPS / 2)
    elif method == "iterated":
        table_s, table_v = iterated_kernels(betas)

        def kernel(a, b):
            return table_s[b, a], table_v[b, a]
        bound = (4.0 * step + 2.0) * EPS
    else:
        raise ValueError(f"method must be 'closed' or 'iterated', got {method!r}")
    first = kernel(np.zeros_like(mid), mid)
    if rule == "skip":
        second = kernel(mid, np.maximum(step - 1, mid))
    elif rule == "homogeneous":
        second = kernel(np.zeros_like(ell), ell)
    else:
        second = kernel(mid, step)
    scale, variance = compose(first, second, additive=rule == "additive")
    direct_s, direct_v = kernel(np.zeros_like(step), step)
    return CompositionErrors(method, rule, step, ell, np.abs(scale / direct_s - 1.0),
                             np.abs(variance - direct_v), bound)


# --- in law: two samples of p(u_i) from a training set ---


def two_path_samples(data, betas, step: int, ell: int, n: int, rng: np.random.Generator,
                     *, rule: str = "correct", leg: str = "iterate"):
    """Draw p(u_i) twice from a training set: directly (Eq. 5) and via step i − ℓ (Eq. 8).

    Each sample starts from its own n rows of ``data`` drawn uniformly with replacement, i.e.
    from p(u_0) = p(F) (Property 1).

    * direct: u_i from u_0 with the closed form of Eq. (5), one draw;
    * via: u_{i−ℓ} from u_0 with Eq. (5), then ℓ more steps: Eq. (4) iterated over
      β_{i−ℓ+1}, …, β_i (``leg="iterate"``), or the exact ℓ-step transition in one draw
      (``leg="bridge"``, the law of the iteration, :func:`lib.core.forward.sample_trajectory`).

    Parameters
    ----------
    data : array_like, shape (N, d)
        Training set, one image per row; float32 data are sampled in float32.
    betas : array_like, shape (T,)
    step, ell : int
        i in [1, T] and ℓ in [1, i].
    n : int
        Trajectories per sample, at least 2.
    rng : numpy.random.Generator
    rule : str
        ``"correct"`` or a deliberately wrong composition (see :data:`RULES`).
    leg : {"iterate", "bridge"}

    Returns
    -------
    direct, via : ndarray, shape (n, d)
    """
    data = check_training_set(data, "data", keep_float32=True)
    betas = check_betas(betas)
    step = check_int(step, "step", 1, betas.size)
    ell = check_int(ell, "ell", 1, step)
    n = check_int(n, "n", 2)
    check_rng(rng)
    rule = check_choice(rule, "rule", RULES)
    check_choice(leg, "leg", ("iterate", "bridge"))
    mid = step - ell
    x0 = data[rng.integers(0, data.shape[0], n)]
    direct = forward.sample_marginal(x0, betas, step, rng)
    y0 = data[rng.integers(0, data.shape[0], n)]
    if rule == "skip":
        leg_betas = betas[mid:step - 1]
    elif rule == "homogeneous":
        leg_betas = betas[:ell]
    else:
        leg_betas = betas[mid:step]
    if rule == "additive":
        # the first leg's noise is set aside and added back unshrunk by the second leg
        s1, v1 = forward.transition_coefficients(betas, 0, mid)
        start = y0 * y0.dtype.type(s1)
        set_aside = rng.standard_normal(y0.shape, dtype=y0.dtype)
        set_aside *= y0.dtype.type(math.sqrt(v1))
    else:
        start = forward.sample_marginal(y0, betas, mid, rng)
        set_aside = 0.0
    if leg_betas.size == 0:
        via = start
    elif leg == "iterate":
        via = forward.iterate_forward(start, leg_betas, [leg_betas.size], rng)[0]
    else:
        via = forward.sample_marginal(start, leg_betas, leg_betas.size, rng)
    return direct, via + set_aside


@dataclass(frozen=True)
class RejectionRate:
    """Monte Carlo rejection rate (size or power) of the two-sample test of :func:`rejection_rate`.

    Attributes
    ----------
    rejections, reps : int
    alpha : float
    pvalues : ndarray, shape (reps,)
    """

    rejections: int
    reps: int
    alpha: float
    pvalues: np.ndarray

    @property
    def rate(self) -> float:
        return self.rejections / self.reps

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Clopper–Pearson (exact binomial) confidence interval of the rate."""
        ci = _st.binomtest(self.rejections, self.reps).proportion_ci(confidence, "exact")
        return float(ci.low), float(ci.high)


def rejection_rate(data, betas, step: int, ell: int, n: int, rng: np.random.Generator, *,
                   directions, rule: str = "correct", leg: str = "bridge",
                   alpha: float = 1e-3, reps: int = 50) -> RejectionRate:
    """How often the two-sample test (:func:`lib.core.stats.projection_ks_test` on the
    projections on ``directions`` and the norm) rejects at level α over ``reps`` fresh experiments.

    With ``rule="correct"`` this estimates the size (≤ α by construction); with a wrong rule
    it estimates the power against that alternative. Each repetition draws new training rows
    and new noise from ``rng`` (:func:`two_path_samples`).
    """
    alpha = check_probability(alpha, "alpha")
    reps = check_int(reps, "reps", 1)
    pvalues = np.empty(reps)
    for r in range(reps):
        x, y = two_path_samples(data, betas, step, ell, n, rng, rule=rule, leg=leg)
        pvalues[r] = projection_ks_test(x, y, directions, norm=True).pvalue
    return RejectionRate(int(np.sum(pvalues < alpha)), reps, alpha, pvalues)


def two_path_experiments(data, betas_by_name: dict, pairs, n: int, rng: np.random.Generator,
                         *, directions, leg: str = "iterate") -> dict:
    """Run :func:`two_path_samples` and the two-sample test for schedules × pairs (i, ℓ).

    Returns
    -------
    dict
        ``name -> {(i, ℓ): (norms_direct, norms_via, pvalue)}``: the Euclidean norms of the two
        samples (for plotting) and the combined p-value of the test.
    """
    check_rng(rng)
    out = {}
    for name, betas in betas_by_name.items():
        out[name] = {}
        for i, ell in pairs:
            x, y = two_path_samples(data, betas, i, ell, n, rng, leg=leg)
            pvalue = projection_ks_test(x, y, directions, norm=True).pvalue
            out[name][(i, ell)] = (np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1), pvalue)
    return out


# --- the classical semigroup: Gaussian scale-space on one image ---


def gaussian_semigroup(image, sigma1: float, sigma2: float, *, truncate: float = 8.0, mode: str = "wrap"):
    """Gaussian smoothing with σ₁ then σ₂, and once with √(σ₁² + σ₂²).

    In the continuum G_{σ₂} ∗ G_{σ₁} = G_{√(σ₁²+σ₂²)} (the semigroup of Gaussian scale-space,
    scale parameter t = σ²/2). The discrete filter of ``scipy.ndimage.gaussian_filter`` is
    a sampled, truncated and renormalised Gaussian, for which this holds only approximately
    (see :func:`gaussian_semigroup_bound`).

    Returns
    -------
    two_stage, one_stage : ndarray, same shape as ``image``
    """
    image = as_float_array(image, "image").astype(np.float64, copy=False)
    sigma1, sigma2 = _check_positive(sigma1, "sigma1"), _check_positive(sigma2, "sigma2")
    truncate = _check_positive(truncate, "truncate")
    kw = {"mode": mode, "truncate": truncate}
    two = ndimage.gaussian_filter(ndimage.gaussian_filter(image, sigma1, **kw), sigma2, **kw)
    one = ndimage.gaussian_filter(image, math.hypot(sigma1, sigma2), **kw)
    return two, one


def gaussian_smooth_periodic(image, sigma: float) -> np.ndarray:
    """Gaussian smoothing on the torus, exactly: the Fourier multiplier exp(−σ²|ω|²/2).

    The continuum Gaussian scale-space with periodic boundaries (no sampling of the kernel,
    no truncation), via ``scipy.ndimage.fourier_gaussian``. As σ → ∞ it tends to the flat
    image of the mean grey value, the steady state of linear diffusion.
    """
    image = as_float_array(image, "image").astype(np.float64, copy=False)
    sigma = _check_positive(sigma, "sigma")
    spectrum = ndimage.fourier_gaussian(np.fft.fftn(image), sigma)
    return np.fft.ifftn(spectrum).real


def _periodic_kernel(length: int, sigmas, truncate: float) -> np.ndarray:
    """The circulant kernel scipy applies along an axis of this length (mode 'wrap')."""
    k = np.zeros(length)
    k[0] = 1.0
    for sigma in sigmas:
        k = ndimage.gaussian_filter1d(k, sigma, mode="wrap", truncate=truncate)
    return k


def gaussian_semigroup_bound(shape, sigma1: float, sigma2: float, *, truncate: float = 8.0) -> float:
    """Bound on max|two_stage − one_stage| / max|f| for :func:`gaussian_semigroup` (wrap).

    With periodic boundaries each 1-D pass is a circular convolution, so the error operator is
    (R₂₁ − R) ⊗ C₂₁ + R ⊗ (C₂₁ − C), with R, C the one-stage row and column kernels and
    R₂₁, C₂₁ the two-stage ones; the kernels are non-negative with unit sum, hence

        max|two − one| ≤ (‖r₂₁ − r‖₁ + ‖c₂₁ − c‖₁) · max|f|   (+ round-off).

    The kernel differences are computed exactly as scipy applies them (filtering a unit
    impulse), so the bound includes sampling, truncation at ``truncate``·σ and renormalisation.
    Round-off allowance: u per tap of every 1-D pass, u = eps/2. For large σ the sampling
    error behaves like exp(−2π²σ₁²σ₂²/(σ₁²+σ₂²)) (aliasing of the sampled kernels).
    """
    shape = check_grid_shape(shape)
    sigma1, sigma2 = _check_positive(sigma1, "sigma1"), _check_positive(sigma2, "sigma2")
    truncate = _check_positive(truncate, "truncate")
    sigma = math.hypot(sigma1, sigma2)
    total = 0.0
    for length in shape:
        two = _periodic_kernel(length, (sigma1, sigma2), truncate)
        one = _periodic_kernel(length, (sigma,), truncate)
        total += float(np.abs(two - one).sum())
    taps = sum(2 * int(truncate * s + 0.5) + 1 for s in (sigma1, sigma2, sigma))
    return total + 2 * taps * EPS / 2


def gaussian_semigroup_errors(image, sigma_pairs, *, truncate: float = 8.0,
                              short_truncate: float = 4.0) -> dict:
    """Semigroup errors of Gaussian smoothing on an image for several (σ₁, σ₂), wrap mode.

    Returns
    -------
    dict of ndarray, one value per pair
        ``"measured"``: max|two-stage − one-stage| with kernels cut at ``truncate``·σ;
        ``"bound"``: :func:`gaussian_semigroup_bound` times max|f|;
        ``"short"``: the measured error with kernels cut at ``short_truncate``·σ (scipy's
        default is 4);
        ``"aliasing"``: the rate exp(−2π²σ₁²σ₂²/(σ₁²+σ₂²)).
    """
    image = as_float_array(image, "image").astype(np.float64, copy=False)
    peak = float(np.abs(image).max())
    out = {"measured": [], "bound": [], "short": [], "aliasing": []}
    for s1, s2 in sigma_pairs:
        two, one = gaussian_semigroup(image, s1, s2, truncate=truncate)
        out["measured"].append(np.abs(two - one).max())
        out["bound"].append(gaussian_semigroup_bound(image.shape, s1, s2, truncate=truncate) * peak)
        two, one = gaussian_semigroup(image, s1, s2, truncate=short_truncate)
        out["short"].append(np.abs(two - one).max())
        out["aliasing"].append(math.exp(-2 * math.pi**2 * s1**2 * s2**2 / (s1**2 + s2**2)))
    return {key: np.array(values) for key, values in out.items()}


# --- the chapter's tables, figures and explorer ---

_METHOD_TITLES = {
    "closed": "closed-form kernels (Eq. 5)",
    "iterated": "one-step kernels of Eq. (3) composed",
}


@styled
def composition_errors_figure(closed, iterated, labels, *, floor: float = 1e-19):
    """Composition error of Property 2 against the step i, with its round-off bound.

    Parameters
    ----------
    closed, iterated : sequence of :class:`CompositionErrors`
        One per schedule, from closed-form and from composed one-step kernels. Each curve is
        the largest error over ℓ at step i; the dashed line of the same colour is the bound.
        Exact zeros are drawn at ``floor``, the bottom of the log axis.
    labels : sequence of str
        Schedule names.
    """
    import matplotlib.pyplot as plt

    closed, iterated, labels = same_length(closed=closed, iterated=iterated, labels=labels)
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), sharey=True, layout="constrained")
    for ax, method, runs in zip(axes, ("closed", "iterated"), (closed, iterated)):
        for k, (label, run) in enumerate(zip(labels, runs)):
            steps, err, bound = run.per_step()
            ax.plot(steps, np.maximum(err, floor), color=f"C{k}", lw=0.8, label=f"{label}: error")
            ax.plot(steps, bound, color=f"C{k}", ls="--", lw=1.2, label=f"{label}: bound")
        ax.set(xlabel="step $i$", yscale="log", title=_METHOD_TITLES[method], ylim=(floor / 2, 1e-11))
    axes[0].set_ylabel(r"max over $\ell$ of the error")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


@styled
def two_path_figure(rows, row_labels, *, bins: int = 40):
    """Histograms of the norm of two samples of p(u_i): direct (Eq. 5) and via step i − ℓ.

    Parameters
    ----------
    rows : sequence of mappings
        One per row: ``(i, ℓ) -> (direct_values, via_values, pvalue)`` (as returned per
        schedule by :func:`two_path_experiments`); one panel per entry, the
        p-value of the combined two-sample test in its title.
    row_labels : sequence of str
    """
    import matplotlib.pyplot as plt

    rows, row_labels = same_length(rows=rows, row_labels=row_labels)
    rows = [dict(r) for r in rows]
    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(COLUMN_WIDTH, 1.7 * len(rows) + 0.8),
                             squeeze=False, layout="constrained")
    for r, (label, cells) in enumerate(zip(row_labels, rows)):
        for c, ((i, ell), (direct, via, pvalue)) in enumerate(cells.items()):
            ax = axes[r, c]
            both = np.concatenate([direct, via])
            edges = np.linspace(both.min(), both.max(), bins + 1)
            ax.hist(direct, edges, density=True, histtype="step", label="direct, Eq. (5)")
            ax.hist(via, edges, density=True, histtype="step", ls="--", label=r"via step $i - \ell$")
            ax.set_title(rf"$i = {i}$, $\ell = {ell}$: $p$ = {pvalue:.2g}")
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label)
        for c in range(len(cells), n_cols):
            axes[r, c].set_visible(False)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncol=2, frameon=False)
    fig.supxlabel(r"norm $\|u_i\|$ of each sample")
    return fig


@styled
def gaussian_semigroup_figure(image, two_stage, one_stage, sigmas, pair_labels, series, series_labels):
    """Gaussian scale-space semigroup on an image: two-stage, one-stage, and the error.

    Parameters
    ----------
    image, two_stage, one_stage : ndarray
        The image and its smoothings (values in [−1, 1]).
    sigmas : (σ₁, σ₂)
        The pair shown in the image panels.
    pair_labels : sequence of str
        One label per pair (σ₁, σ₂) on the x-axis of the error panel.
    series, series_labels : sequences
        Values (one per pair, drawn on a log axis) and their legend labels.
    """
    import matplotlib.pyplot as plt

    series, series_labels = same_length(series=series, series_labels=series_labels)
    s1, s2 = sigmas
    fig = plt.figure(figsize=(COLUMN_WIDTH, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.3])
    panels = [(image, "image $f$"),
              (two_stage, rf"$G_{{\sigma_2}} * (G_{{\sigma_1}} * f)$" + "\n"
                          rf"$\sigma_1={s1:g},\ \sigma_2={s2:g}$"),
              (one_stage, rf"$G_{{\sigma}} * f$" + "\n" + r"$\sigma=\sqrt{\sigma_1^2+\sigma_2^2}$")]
    for k, (u, title) in enumerate(panels):
        ax = fig.add_subplot(grid[0, k])
        show_image(ax, u)
        ax.set_title(title)
    ax = fig.add_subplot(grid[1, :])
    x = np.arange(len(pair_labels))
    for k, (values, name) in enumerate(zip(series, series_labels)):
        ax.plot(x, np.maximum(np.asarray(values, dtype=float), 1e-18), "osx^v"[k % 5] + "-",
                lw=0.8, ms=5, label=name)
    ax.set_xticks(x, list(pair_labels))
    ax.set(yscale="log", ylabel="max |two-stage − one-stage|", xlabel=r"$(\sigma_1, \sigma_2)$")
    ax.legend(loc="lower left")
    return fig


def composition_table(values, row_labels, column_labels) -> str:
    """HTML table of largest composition errors: ``values[r][c]`` for composition rule r and
    schedule c."""
    values = np.asarray(values, dtype=float)
    if values.shape != (len(row_labels), len(column_labels)):
        raise ValueError(f"values has shape {values.shape} for {len(row_labels)} rows and "
                         f"{len(column_labels)} columns")
    rows = [[label] + [f"{v:.2e}" for v in row] for label, row in zip(row_labels, values)]
    return html_table(["composition"] + list(column_labels), rows)


def rejection_table(rates, row_labels) -> str:
    """HTML table of :class:`RejectionRate` results, one row per composition.

    Columns: rejections out of repetitions at level α, the exact (Clopper–Pearson) 95 %
    interval of the rate, and the median p-value (p-values below the smallest double print
    as 0).
    """
    rates, row_labels = same_length(rates=rates, row_labels=row_labels)
    rows = []
    for label, rate in zip(row_labels, rates):
        low, high = rate.interval()
        rows.append([label, f"{rate.rejections} / {rate.reps}", f"[{low:.2f}, {high:.2f}]",
                     f"{float(np.median(rate.pvalues)):.2g}"])
    return html_table(["composition", f"rejected at α = {rates[0].alpha:g}",
                       "95 % interval of the rate", "median p-value"], rows)


def semigroup_explorer(data, betas, names, directions, *, n: int = 2000, seed: int = 0) -> Explorer:
    """ipywidgets explorer of Property 2: sliders for i and ℓ, a menu for the schedule.

    Shows the histograms of the norm and of the first projection of two samples of p(u_i)
    from the training set ``data`` — direct (Eq. 5) and via step i − ℓ (the ℓ-step leg in one
    exact draw) — with the p-value of the two-sample test of :func:`rejection_rate` and the
    closed-form composition error at (i, ℓ). The static HTML book shows
    :func:`two_path_figure` instead. The explorer's ``result`` is the
    :class:`lib.core.stats.KSResult` shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    betas, names = same_length(betas=betas, names=names)
    betas = [np.asarray(b) for b in betas]
    n_steps = min(b.size for b in betas)

    def draw(schedule: int, i: int, ell: int):
        b = betas[schedule]
        i, ell = int(i), min(int(ell), int(i))
        x, y = two_path_samples(data, b, i, ell, n, np.random.default_rng(seed), leg="bridge")
        result = projection_ks_test(x, y, directions, norm=True)
        s, v = compose(forward.transition_coefficients(b, 0, i - ell), forward.transition_coefficients(b, i - ell, i))
        s0, v0 = forward.transition_coefficients(b, 0, i)
        error = max(abs(float(s) / s0 - 1.0), abs(float(v) - v0))
        fx, fy = (np.column_stack([u @ directions, np.linalg.norm(u, axis=1)]) for u in (x, y))
        fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0), layout="constrained")
        for ax, col, name in zip(axes, (-1, 0), (r"norm $\|u_i\|$", "projection 1")):
            edges = np.linspace(min(fx[:, col].min(), fy[:, col].min()),
                                max(fx[:, col].max(), fy[:, col].max()), 41)
            ax.hist(fx[:, col], edges, density=True, histtype="step", label="direct")
            ax.hist(fy[:, col], edges, density=True, histtype="step", ls="--", label=r"via $i - \ell$")
            ax.set(xlabel=name, yticks=[])
        axes[0].legend()
        fig.suptitle(rf"{names[schedule]}, $i = {i}$, $\ell = {ell}$: combined $p$ = {result.pvalue:.3g}, "
                     f"composition error {error:.1e}")
        return fig, result

    return Explorer(draw, dict(
        schedule=widgets.Dropdown(options=[(name, k) for k, name in enumerate(names)], value=0,
                                  description="schedule"),
        i=widgets.IntSlider(value=100, min=1, max=n_steps, description="step i"),
        ell=widgets.IntSlider(value=50, min=1, max=n_steps, description="ℓ (≤ i)"),
    ))
