"""Reverse-process chapter (paper, Sec. 3.2): the mixture at a step, and how generated samples
are compared with exact draws.

The sampler lives in :mod:`lib.core.reverse` and the mixture in :mod:`lib.core.mixture`; their
names are re-exported here until the chapter imports the core directly (issue 11).
"""

from __future__ import annotations

import numpy as np

from .core import schedules
from .core._threads import blas_limit
from .core._validation import (as_float_array, check_betas, check_points, check_positive_int,
                               check_steps, check_training_set)
from .core.mixture import DEFAULT_CHUNK, Mixture
from .core.reverse import (BLAS_THREADS, conditional_mean, conditional_sample,  # noqa: F401
                           ddpm_posterior_coefficients, inpaint, reverse_step, sample)
from .core.stats import projection_ks_test as _projection_ks_test
from .core.stats import random_directions

__all__ = [
    "marginal_parameters",
    "posterior_mean",
    "score",
    "logpdf",
    "sample_data",
    "ddpm_posterior_coefficients",
    "reverse_step",
    "sample",
    "inpaint",
    "conditional_mean",
    "conditional_sample",
    "nearest_neighbour_distances",
    "projection_ks_test",
    "feature_ks_test",
    "gaussian_fit_kl",
    "marginal_report",
]


def marginal_parameters(alpha_bar, bandwidth: float = 0.0) -> tuple[float, float]:
    """Scale √ᾱ and component variance v = ᾱ h² + 1 − ᾱ (:meth:`lib.core.mixture.Mixture.parameters`)."""
    return Mixture(np.zeros((1, 1)), bandwidth).parameters(alpha_bar)


def posterior_mean(x, centers, alpha_bar, bandwidth: float = 0.0, *,
                   chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """Exact denoiser E[U_0 | U_i = x] (:meth:`lib.core.mixture.Mixture.posterior_mean`)."""
    return Mixture(centers, bandwidth, chunk_size=chunk_size).posterior_mean(x, alpha_bar)


def score(x, centers, alpha_bar, bandwidth: float = 0.0, *,
          chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """Exact score ∇ log p(u_i) at x (:meth:`lib.core.mixture.Mixture.score`)."""
    return Mixture(centers, bandwidth, chunk_size=chunk_size).score(x, alpha_bar)


def logpdf(x, centers, alpha_bar, bandwidth: float = 0.0, *,
           chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """log p(u_i) at x (:meth:`lib.core.mixture.Mixture.logpdf`)."""
    return Mixture(centers, bandwidth, chunk_size=chunk_size).logpdf(x, alpha_bar)


def sample_data(centers, alpha_bar, bandwidth: float, size: int, rng) -> np.ndarray:
    """Exact draws of U_i (:meth:`lib.core.mixture.Mixture.sample`)."""
    return Mixture(centers, bandwidth).sample(alpha_bar, size, rng)


def nearest_neighbour_distances(x, centers, *, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance of each row of x to its nearest row of centers.

    ``exclude_self`` (x is centers): skip the zero distance of a point to itself, giving the
    leave-one-out nearest-neighbour distances within the training set.
    """
    c = check_training_set(centers)
    x2 = check_points(x, c.shape[1])
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


def projection_ks_test(a, b, n_projections: int, rng, *, directions=None) -> tuple[float, float]:
    """Two-sample test of a and b on unit projections (Kolmogorov–Smirnov, Bonferroni).

    :func:`lib.core.stats.projection_ks_test` with scipy's two-sample test (``exact=True``) on
    ``n_projections`` random directions (:func:`lib.core.stats.random_directions`), or on the
    columns of ``directions`` (n, K) if given (then rng is unused). Returns
    (largest KS statistic, Bonferroni p-value = min(1, K · min p)).
    """
    n_projections = check_positive_int(n_projections, "n_projections")
    if directions is None:
        directions = random_directions(np.shape(a)[-1], n_projections, rng)
    res = _projection_ks_test(a, b, directions, exact=True)
    return res.statistic, res.pvalue


def feature_ks_test(fa, fb) -> tuple[float, float]:
    """Bonferroni-combined two-sample KS tests on the columns of two feature matrices (m, K).

    Returns (largest KS statistic, min(1, K · smallest p-value)).
    """
    fa = np.atleast_2d(as_float_array(fa, "fa").T).T
    fb = np.atleast_2d(as_float_array(fb, "fb").T).T
    res = _projection_ks_test(fa, fb, np.eye(fa.shape[1]), exact=True)
    return res.statistic, res.pvalue


def gaussian_fit_kl(x) -> float:
    """KL(N(m̂, Σ̂) ‖ N(0, I)) of the Gaussian with the sample mean and covariance of x.

    Since log q − log φ is quadratic, KL(p ‖ φ) = KL(p ‖ q) + KL(q ‖ φ) for q the moment-matched
    Gaussian: this is a lower bound on the KL of the law of x to N(0, I), computable from
    samples alone. Needs more rows than columns.
    """
    x = as_float_array(x, "x").astype(np.float64, copy=False)
    if x.ndim != 2 or x.shape[0] <= x.shape[1]:
        raise ValueError(f"x must be (m, n) with m > n, got {x.shape}")
    mu = x.mean(axis=0)
    cov = np.cov(x, rowvar=False)
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise ValueError("sample covariance is singular")
    return float(0.5 * (np.trace(cov) + mu @ mu - x.shape[1] - logdet))


def marginal_report(states, steps, centers, betas, bandwidth: float, rng, *,
                    n_projections: int = 20, directions=None, shift: int = 0) -> dict:
    """Compare generated states at ``steps`` with exact draws of p(u_{i + shift}).

    For each step i: a two-sample KS test against the same number of exact draws
    (:func:`sample_data`) — on random projections (:func:`projection_ks_test`), or, if
    ``directions`` (n, K) is given, on the projections on its columns together with the norm
    ‖x‖ and the distance to the nearest scaled training image √ᾱ_i f_k (which measures the
    noise level) (:func:`feature_ks_test`, K + 2 features, Bonferroni) — the Gaussian-fit KL to N(0, I)
    (:func:`gaussian_fit_kl`) of both samples, and the largest pixel-mean difference in units
    of its standard error. ``shift`` ≠ 0 compares with a wrong step (to measure power).

    Returns
    -------
    dict of arrays keyed "steps", "ks", "p", "kl_generated", "kl_exact", "mean_z".
    """
    states = as_float_array(states, "states")
    betas = check_betas(betas)
    steps = check_steps(steps, betas.size, "steps")
    if states.ndim != 3 or states.shape[0] != steps.size:
        raise ValueError(f"states must have shape ({steps.size}, m, n), got {states.shape}")
    ab = schedules.alpha_bar(betas)
    out = {k: [] for k in ("ks", "p", "kl_generated", "kl_exact", "mean_z")}
    with blas_limit(BLAS_THREADS):
        for x, i in zip(states, steps):
            _report_step(out, x, int(i), int(shift), centers, betas, ab, bandwidth, rng,
                         n_projections, directions)
    res = {k: np.array(v) for k, v in out.items()}
    res["steps"] = steps
    return res


def _report_step(out, x, i, shift, centers, betas, ab, bandwidth, rng, n_projections,
                 directions):
    """One row of :func:`marginal_report`, appended to the lists in ``out``."""
    j = i + shift
    if not 0 <= j <= betas.size:
        raise ValueError(f"step {i} + shift {shift} is outside [0, {betas.size}]")
    exact = sample_data(centers, float(ab[j]), bandwidth, x.shape[0], rng)
    if directions is None:
        ks, p = projection_ks_test(x, exact, n_projections, rng)
    else:
        scaled = np.sqrt(ab[int(i)]) * check_training_set(centers)
        feats = [np.column_stack([y @ directions, np.linalg.norm(y, axis=1),
                                  nearest_neighbour_distances(y, scaled)])
                 for y in (x, exact)]
        ks, p = feature_ks_test(*feats)
    se = np.sqrt((x.var(axis=0, ddof=1) + exact.var(axis=0, ddof=1)) / x.shape[0])
    out["ks"].append(ks)
    out["p"].append(p)
    out["kl_generated"].append(gaussian_fit_kl(x))
    out["kl_exact"].append(gaussian_fit_kl(exact))
    out["mean_z"].append(float(np.max(np.abs(x.mean(0) - exact.mean(0)) / se)))
