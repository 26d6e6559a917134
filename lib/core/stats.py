"""Statistical checks of laws: standardisation, innovations, normality tests and their power.

The forward process is Gaussian and Markov, so a correct sampler can be checked by turning its
output into quantities that must be i.i.d. N(0, 1) and testing those. Every test here reports
its statistic together with the standard error it has under the null hypothesis, so that a
book chapter can state its tolerance as "k standard errors" or as a significance level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st
from scipy.optimize import brentq

from ._validation import (as_float_array, check_flag, check_int, check_memory, check_points,
                          check_probability, check_real, check_rng, check_same_shape, check_steps,
                          check_training_set)
from .schedules import log_alpha_bar

__all__ = [
    "detectable_variance_ratio",
    "innovations",
    "ks_2samp_columns",
    "lag_correlations",
    "nearest_neighbour_distances",
    "normality_report",
    "projection_ks_test",
    "random_directions",
    "standardize",
    "trajectory_report",
    "variance_test_power",
]


def standardize(samples, u0, betas, step: int) -> np.ndarray:
    """Map draws of u_i given u_0 to z = (u_i − √ᾱ_i u_0)/√(1 − ᾱ_i), i.i.d. N(0, 1) under Eq. (5).

    Parameters
    ----------
    samples : array_like, shape (m,) + u0.shape or u0.shape
        Draws of u_i, each started from ``u0``.
    u0 : array_like
    betas : array_like, shape (T,)
    step : int
        i in [1, T] (at i = 0 there is no noise to standardise).
    """
    samples = as_float_array(samples, "samples")
    u0 = as_float_array(u0, "u0")
    log_ab = log_alpha_bar(betas)
    step = int(check_steps([step], log_ab.size - 1, "step")[0])
    if step == 0:
        raise ValueError("step must be at least 1: u_0 carries no noise to standardise")
    if u0.ndim and samples.shape[-u0.ndim:] != u0.shape:
        raise ValueError(f"samples must end with the shape of u0 {u0.shape}, got {samples.shape}")
    return _standardize(samples, u0, log_ab, step)


def _standardize(samples, u0, log_ab, step: int) -> np.ndarray:
    scale = np.exp(0.5 * log_ab[step])
    sd = np.sqrt(-np.expm1(log_ab[step]))
    return (samples - scale * u0) / sd


def innovations(snapshots, u0, betas, steps) -> np.ndarray:
    """Standardised increments of a trajectory; i.i.d. N(0, 1) iff it has the law of Eq. (4).

    For requested steps s_1 < … < s_K (and s_0 = 0 with u_{s_0} = u_0), the k-th innovation is

        z_k = (u_{s_k} − √(ᾱ_{s_k}/ᾱ_{s_{k−1}}) · u_{s_{k−1}}) / √(1 − ᾱ_{s_k}/ᾱ_{s_{k−1}}).

    For a Gaussian Markov chain the z_k are independent standard normal exactly when the joint law
    of the snapshots is that of the iterated chain. Independent closed-form draws at each step
    (Eq. 5) have the right marginals but correlated innovations, which
    :func:`lag_correlations` detects.

    Parameters
    ----------
    snapshots : array_like, shape (K,) + u0.shape
    u0 : array_like
    betas : array_like, shape (T,)
    steps : sequence of int, length K, strictly increasing in [0, T]

    Returns
    -------
    z : ndarray, shape (K',) + u0.shape
        K' = K, or K − 1 when ``steps[0] == 0`` (that snapshot is u_0 itself and is checked to be).
    """
    snapshots = as_float_array(snapshots, "snapshots")
    u0 = as_float_array(u0, "u0")
    log_ab = log_alpha_bar(betas)
    steps = check_steps(steps, log_ab.size - 1)
    if steps[-1] == 0:
        raise ValueError("steps must contain at least one step > 0: u_0 alone has no innovations")
    check_same_shape(snapshots, np.empty((steps.size,) + u0.shape), "snapshots",
                     "(len(steps),) + u0.shape")
    return _innovations(snapshots, u0, log_ab, steps)


def _innovations(snapshots, u0, log_ab, steps) -> np.ndarray:
    previous_step, previous = 0, u0
    out = []
    for step, u in zip(steps.tolist(), snapshots):
        if step == 0:
            if not np.array_equal(u, u0.astype(u.dtype)):
                raise ValueError("the snapshot at step 0 must equal u0")
            continue
        log_ratio = log_ab[step] - log_ab[previous_step]
        out.append((u - np.exp(0.5 * log_ratio) * previous) / np.sqrt(-np.expm1(log_ratio)))
        previous_step, previous = step, u
    return np.stack(out)


def lag_correlations(z) -> np.ndarray:
    """Empirical correlations between consecutive innovations z_k and z_{k+1}.

    Each is an average of n = z[k].size products; under independence it has mean 0 and
    standard error 1/√n. Returns an array of length K − 1.
    """
    z = as_float_array(z, "z")
    if z.ndim == 0 or z.shape[0] < 2:
        raise ValueError(
            f"z must be a stack (K, ...) of at least two innovations, got shape {z.shape}")
    flat = z.reshape(z.shape[0], -1)
    return np.mean(flat[1:] * flat[:-1], axis=1)


@dataclass(frozen=True)
class NormalityReport:
    """Moments of a sample against N(0, 1), each with its standard error under the null.

    Attributes
    ----------
    n : int
        Sample size.
    statistics : dict
        ``name -> (value, expected, standard_error)`` for mean, variance, skewness and excess
        kurtosis (large-sample standard errors 1/√n, √(2/(n−1)), √(6/n), √(24/n)).
    ks_statistic, ks_pvalue : float
        One-sample Kolmogorov–Smirnov test against N(0, 1).
    """

    n: int
    statistics: dict
    ks_statistic: float
    ks_pvalue: float

    @property
    def z_scores(self) -> dict:
        """Deviation of each moment from its expected value, in standard errors."""
        return {k: (v - e) / se for k, (v, e, se) in self.statistics.items()}

    @property
    def pvalue(self) -> float:
        """Bonferroni-combined two-sided p-value of the four moment tests and the KS test."""
        ps = [2.0 * _st.norm.sf(abs(z)) for z in self.z_scores.values()] + [self.ks_pvalue]
        return float(min(1.0, len(ps) * min(ps)))


def normality_report(z) -> NormalityReport:
    """Test a sample for being i.i.d. N(0, 1): four moments with standard errors, and KS.

    Parameters
    ----------
    z : array_like
        Any shape; it is flattened. Needs at least 100 values for the large-sample standard
        errors to be meaningful.
    """
    z = as_float_array(z, "z").ravel().astype(np.float64)
    if z.size < 100:
        raise ValueError(f"z must hold at least 100 values, got {z.size} (normality_report)")
    return _normality_report(z)


def _normality_report(z: np.ndarray) -> NormalityReport:
    n = z.size
    mean = z.mean()
    var = z.var(ddof=1)
    stats_ = {
        "mean": (mean, 0.0, 1.0 / np.sqrt(n)),
        "variance": (var, 1.0, np.sqrt(2.0 / (n - 1))),
        "skewness": (_st.skew(z), 0.0, np.sqrt(6.0 / n)),
        "excess kurtosis": (_st.kurtosis(z), 0.0, np.sqrt(24.0 / n)),
    }
    ks = _st.kstest(z, "norm")
    return NormalityReport(
        n=n,
        statistics={k: tuple(float(x) for x in v) for k, v in stats_.items()},
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
    )


def variance_test_power(n: int, ratio, alpha: float = 1e-3):
    """Power of the two-sided variance z-test of :func:`normality_report` at level ``alpha``.

    ``ratio`` may be a scalar (returns a float) or an array (returns an array).

    The test rejects when |s² − 1| exceeds z_{1−α/2} · √(2/(n−1)). If the true variance is
    ``ratio`` (a normal sample), s² is approximately N(ratio, 2·ratio²/(n−1)).
    """
    n = check_int(n, "n", 2)
    ratio = as_float_array(ratio, "ratio", allow_nan=True).astype(np.float64, copy=False)
    if not np.all((ratio > 0) & np.isfinite(ratio)):  # NaN fails too
        raise ValueError(f"ratio must be positive and finite (a variance ratio), got {ratio}")
    alpha = check_probability(alpha, "alpha")
    return _variance_test_power(n, ratio, alpha)


def _variance_test_power(n: int, ratio: np.ndarray, alpha: float):
    se0 = np.sqrt(2.0 / (n - 1))
    crit = _st.norm.isf(alpha / 2) * se0
    se1 = ratio * se0
    power = _st.norm.sf((1.0 + crit - ratio) / se1) + _st.norm.cdf((1.0 - crit - ratio) / se1)
    return float(power) if power.ndim == 0 else power


def detectable_variance_ratio(n: int, alpha: float = 1e-3, power: float = 0.99) -> float:
    """Smallest variance ratio r > 1 that the variance test detects with the given power."""
    n = check_int(n, "n", 2)
    alpha = check_probability(alpha, "alpha")
    power = check_real(power, "power")
    if not alpha < power < 1.0:  # below alpha any test has that power
        raise ValueError(f"power must lie in (alpha, 1) = ({alpha:g}, 1), got {power!r}")

    def power_at(r: float) -> float:
        return float(_variance_test_power(n, np.asarray(r), alpha))

    upper = 2.0
    while power_at(upper) < power:
        upper *= 2.0
        if upper > 1e12:
            raise ValueError(f"n = {n} is too small to reach power {power} at any variance ratio")
    return float(brentq(lambda r: power_at(r) - power, 1.0, upper))


@dataclass(frozen=True)
class TrajectoryReport:
    """Law check of snapshots started from one u_0 (see :func:`trajectory_report`).

    Attributes
    ----------
    marginals : dict
        ``step -> NormalityReport`` of the standardised snapshot at that step (Eq. 5).
    innovations : NormalityReport
        Pooled innovations (:func:`innovations`), i.i.d. N(0, 1) for the law of Eq. (4).
    lag_correlations : ndarray
        Correlations of consecutive innovations; each has standard error ``lag_standard_error``.
    lag_standard_error : float
        1/√n with n the number of values per snapshot.
    """

    marginals: dict
    innovations: NormalityReport
    lag_correlations: np.ndarray
    lag_standard_error: float

    @property
    def marginal_pvalue(self) -> float:
        """Bonferroni-combined p-value over the per-step marginal tests."""
        ps = [r.pvalue for r in self.marginals.values()]
        return float(min(1.0, len(ps) * min(ps)))

    @property
    def lag_pvalue(self) -> float:
        """Bonferroni-combined two-sided p-value of the lag correlations (1 if there are none)."""
        if self.lag_correlations.size == 0:
            return 1.0
        ps = 2.0 * _st.norm.sf(np.abs(self.lag_correlations) / self.lag_standard_error)
        return float(min(1.0, ps.size * ps.min()))

    @property
    def pvalue(self) -> float:
        """Bonferroni combination of the marginal, innovation and lag-correlation checks."""
        return float(min(1.0, 3 * min(self.marginal_pvalue, self.innovations.pvalue, self.lag_pvalue)))

    def passes(self, alpha: float = 1e-3) -> bool:
        """True if the combined check does not reject the law of Eq. (4) at level ``alpha``."""
        return self.pvalue >= alpha

    @property
    def max_lag_z(self) -> float:
        """Largest |lag correlation| in standard errors (0 when there is a single innovation)."""
        if self.lag_correlations.size == 0:
            return 0.0
        return float(np.max(np.abs(self.lag_correlations)) / self.lag_standard_error)


def trajectory_report(snapshots, u0, betas, steps) -> TrajectoryReport:
    """Check snapshots against the law of the forward process started from ``u0``.

    Three checks, each reported with its standard error: every marginal against Eq. (5)
    (four moments and KS after :func:`standardize`), the pooled innovations against N(0, 1),
    and the lag correlations of the innovations against 0 (independence of increments, which
    only a coherent trajectory has).

    Parameters
    ----------
    snapshots : array_like, shape (K,) + u0.shape
    u0 : array_like
    betas : array_like, shape (T,)
    steps : sequence of int, length K
    """
    z = innovations(snapshots, u0, betas, steps)  # validates every argument, once
    if z[0].size < 100:
        raise ValueError(f"u0 must hold at least 100 values per snapshot (trajectory_report), got {z[0].size}")
    snapshots = as_float_array(snapshots, "snapshots")
    u0 = as_float_array(u0, "u0")
    log_ab = log_alpha_bar(betas)
    marginals = {
        int(step): _normality_report(_standardize(snap, u0, log_ab, int(step)).ravel().astype(np.float64))
        for step, snap in zip(np.asarray(steps).tolist(), snapshots)
        if step > 0
    }
    lags = lag_correlations(z) if z.shape[0] > 1 else np.empty(0)
    return TrajectoryReport(
        marginals=marginals,
        innovations=_normality_report(z.ravel().astype(np.float64)),
        lag_correlations=lags,
        lag_standard_error=float(1.0 / np.sqrt(z[0].size)),
    )


# ---------------------------------------------------------------------------------------------
# two-sample Kolmogorov–Smirnov tests on projections
# ---------------------------------------------------------------------------------------------


def random_directions(dim: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """k fixed random unit vectors in R^dim (columns), uniformly distributed on the sphere."""
    dim = check_int(dim, "dim", 1)
    k = check_int(k, "k", 1)
    check_memory(float(dim) * k, f"the directions (dim = {dim} × k = {k})")
    g = check_rng(rng).standard_normal((dim, k))
    return g / np.linalg.norm(g, axis=0)


def _check_samples(x, y, x_name: str = "x", y_name: str = "y"):
    x = as_float_array(x, x_name)
    y = as_float_array(y, y_name)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{x_name} and {y_name} must be 2-D with the same columns, got {x.shape} and {y.shape}"
        )
    return x, y


def ks_2samp_columns(x, y):
    """Two-sample Kolmogorov–Smirnov test of every column of x against the same column of y.

    Vectorised over columns; statistic and p-value are those of
    ``scipy.stats.ks_2samp(x[:, j], y[:, j], method="asymp")`` (Smirnov's distribution with
    n_eff = round(nm/(n+m)), ``scipy.stats.kstwo``), ties handled as scipy does.

    Returns
    -------
    statistic, pvalue : ndarray, shape (n_columns,)
    """
    x, y = _check_samples(x, y)
    statistic, n_eff = _ks_statistics(x, y)
    return statistic, _st.kstwo.sf(statistic, n_eff)


def _ks_statistics(x: np.ndarray, y: np.ndarray):
    """Two-sample KS statistics of the columns, and the effective sample size n_eff."""
    n, m = x.shape[0], y.shape[0]
    en = np.round(float(max(n, m)) * float(min(n, m)) / (n + m))
    if en < 1:
        raise ValueError(f"x and y are too small for the test (n = {n}, m = {m})")
    z = np.ascontiguousarray(np.concatenate([x, y]).T)  # one row per column: fast sorts
    order = np.argsort(z, axis=1)  # order within runs of ties does not matter (below)
    steps = np.where(order < n, 1.0 / n, -1.0 / m)
    diff = np.cumsum(steps, axis=1)
    zs = np.take_along_axis(z, order, axis=1)
    diff[:, :-1][zs[:, 1:] == zs[:, :-1]] = 0.0  # only the end of a run of ties is an ECDF jump
    return np.abs(diff).max(axis=1), en


@dataclass(frozen=True)
class KSResult:
    """Outcome of :func:`projection_ks_test`.

    Attributes
    ----------
    statistics : ndarray
        Per feature (the K projections, then the norm if requested), the two-sample KS statistic.
    pvalues : ndarray
        Per-feature p-values.
    pvalue : float
        Bonferroni combination min(1, (number of features) · min p): at level α it rejects a
        true null with probability at most α, whatever the dependence between features.
    """

    statistics: np.ndarray
    pvalues: np.ndarray
    pvalue: float

    @property
    def statistic(self) -> float:
        """The largest per-feature statistic."""
        return float(self.statistics.max())


def projection_ks_test(x, y, directions, *, norm: bool = False, exact: bool = False) -> KSResult:
    """Two-sample test of p(x) = p(y) on projections (Kolmogorov–Smirnov, Bonferroni).

    Features: the projections on the columns of ``directions`` (they see shifts and changes of
    shape along those directions) and, with ``norm=True``, the Euclidean norm (it sums a
    variance change over all coordinates). Each feature is compared with a two-sample KS test;
    the combined p-value is min(1, K·min p) (Bonferroni), valid for any dependence.

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
    directions : array_like, shape (d, K)
        E.g. :func:`random_directions`; columns are normalised to unit length.
    norm : bool
        Add the Euclidean norm as a feature.
    exact : bool
        ``False``: Smirnov's asymptotic distribution, vectorised (:func:`ks_2samp_columns`);
        ``True``: ``scipy.stats.ks_2samp`` with its default method (exact for small samples).

    Returns
    -------
    KSResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = random_directions(5, 3, rng)
    >>> res = projection_ks_test(rng.normal(size=(400, 5)), rng.normal(size=(300, 5)) + 1.0, d)
    >>> res.pvalue < 1e-6
    True
    """
    x, y = _check_samples(x, y)
    d = as_float_array(directions, "directions").astype(np.float64, copy=False)
    if d.ndim != 2 or d.shape[0] != x.shape[1]:
        raise ValueError(f"directions must have shape (d, K) with d = {x.shape[1]}, got {d.shape}")
    check_flag(norm, "norm")
    check_flag(exact, "exact")
    lengths = np.linalg.norm(d, axis=0)
    if not np.all(lengths > 0):
        raise ValueError(f"every column of directions must be non-zero; column {int(np.argmin(lengths))} is 0")
    d = d / lengths
    fx, fy = x @ d, y @ d
    if norm:
        fx = np.column_stack([fx, np.linalg.norm(x, axis=1)])
        fy = np.column_stack([fy, np.linalg.norm(y, axis=1)])
    if exact:
        res = [_st.ks_2samp(fx[:, k], fy[:, k]) for k in range(fx.shape[1])]
        stat = np.array([float(r.statistic) for r in res])
        pvalues = np.array([float(r.pvalue) for r in res])
        p_min = float(pvalues.min())
    else:
        stat, n_eff = _ks_statistics(fx, fy)
        pvalues = _st.kstwo.sf(stat, n_eff)
        # the p-value decreases with the statistic: min p is the p-value of the largest one
        p_min = float(_st.kstwo.sf(stat.max(), n_eff))
    return KSResult(stat, pvalues, min(1.0, stat.size * p_min))


def nearest_neighbour_distances(x, centers, *, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance of each row of x to its nearest row of ``centers``.

    How far samples are from a training set: 0 for a copy of a training image. With
    ``exclude_self`` (x is ``centers``) the zero distance of a point to itself is skipped,
    giving the leave-one-out nearest-neighbour distances within the training set. Computed in
    blocks of 256 rows, so the memory is O(256 N).

    Parameters
    ----------
    x : array_like, shape (m, n)
    centers : array_like, shape (N, n)
    exclude_self : bool

    Returns
    -------
    ndarray, shape (m,)

    Examples
    --------
    >>> c = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> nearest_neighbour_distances(np.array([[0.0, 1.0]]), c)
    array([1.])
    >>> nearest_neighbour_distances(c, c, exclude_self=True)
    array([5., 5.])
    """
    c = check_training_set(centers)
    x2 = check_points(x, c.shape[1])
    exclude_self = check_flag(exclude_self, "exclude_self")
    if exclude_self and x2.shape != c.shape:
        raise ValueError("exclude_self needs x to be the centers themselves")
    out = np.empty(x2.shape[0])
    c2 = np.einsum("ij,ij->i", c, c)
    for p0 in range(0, x2.shape[0], 256):
        xb = x2[p0 : p0 + 256]
        d2 = np.einsum("ij,ij->i", xb, xb)[:, None] + c2[None, :] - 2.0 * xb @ c.T
        if exclude_self:
            d2[np.arange(xb.shape[0]), np.arange(p0, p0 + xb.shape[0])] = np.inf
        out[p0 : p0 + 256] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out
