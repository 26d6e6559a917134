"""The reverse process with exact scores for Gaussian-mixture training sets (paper, Sec. 3.2).

The training distribution is the mixture p(u_0) = (1/N) Σ_k N(f_k, h² I) of the N training
images f_k with bandwidth h ≥ 0 (h = 0: the empirical set itself). Eq. (5) averaged over u_0
gives the marginal at step i in closed form,

    p(u_i) = (1/N) Σ_k N(√ᾱ_i f_k, v_i I),   v_i = ᾱ_i h² + 1 − ᾱ_i,

so the posterior mean E[u_0 | u_i] (the ideal denoiser) and the score ∇ log p(u_i) are exact
softmax averages over the components (:func:`lib.entropy.mixture_posterior_mean`). Plugging the
exact posterior mean into the DDPM posterior q(u_{i−1} | u_i, u_0) of Ho et al. (2020) gives a
reverse step whose *mean* is the exact reverse-kernel mean E[u_{i−1} | u_i]; its covariance
β̃_i I is the DDPM choice, not the exact one (see :func:`reverse_step`).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import stats as _st

from . import schedules
from ._threads import blas_limit
from ._validation import as_float_array, check_betas, check_rng, check_steps
from .entropy import mixture_posterior_mean
from .steady_state import mixture_logpdf

# BLAS threads inside the sampler: the (chains × components) products are small, and on a busy
# 2-core machine threaded BLAS made the sampler 5-10x slower. None: no limit.
BLAS_THREADS: int | None = 1
def _blas_limit():
    return blas_limit(BLAS_THREADS)


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


def _check_centers(centers) -> np.ndarray:
    c = as_float_array(centers, "centers").astype(np.float64, copy=False)
    if c.ndim != 2:
        raise ValueError(f"centers must have shape (N, n), got {c.shape}")
    return c


def _check_bandwidth(h) -> float:
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise TypeError(f"bandwidth must be a real number >= 0, got {h!r}")
    h = float(h)
    if not (np.isfinite(h) and h >= 0.0):
        raise ValueError(f"bandwidth must be finite and >= 0, got {h!r}")
    return h


def _check_alpha_bar(a) -> float:
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, numbers.Real):
        raise TypeError(f"alpha_bar must be a real number in (0, 1], got {a!r}")
    a = float(a)
    if not (0.0 < a <= 1.0):
        raise ValueError(f"alpha_bar must lie in (0, 1], got {a!r}")
    return a


def _check_points(x, n: int, name: str = "x") -> np.ndarray:
    arr = as_float_array(x, name).astype(np.float64, copy=False)
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"{name} must have shape (m, {n}), got {np.shape(x)}")
    return arr


def marginal_parameters(alpha_bar, bandwidth: float = 0.0) -> tuple[float, float]:
    """Scale √ᾱ and component variance v = ᾱ h² + 1 − ᾱ of p(u_i) (Eq. 5 averaged over u_0).

    Raises
    ------
    ValueError
        If v = 0, i.e. ᾱ = 1 with h = 0 (the empirical set has no density at step 0).
    """
    a = _check_alpha_bar(alpha_bar)
    h = _check_bandwidth(bandwidth)
    v = a * h * h + (1.0 - a)
    if not v > 0.0:
        raise ValueError("the empirical mixture (bandwidth 0) has no density at alpha_bar = 1")
    return float(np.sqrt(a)), float(v)


def posterior_mean(x, centers, alpha_bar, bandwidth: float = 0.0, **kw) -> np.ndarray:
    """Exact denoiser E[U_0 | U_i = x] for the mixture (1/N) Σ_k N(f_k, h² I).

    With weights w_k(x) ∝ N(x; √ᾱ f_k, v I) and m(x) = Σ_k w_k f_k
    (:func:`lib.entropy.mixture_posterior_mean`, chunked and logsumexp-stable),
    the within-component posterior of u_0 is Gaussian with mean f_k + c (x − √ᾱ f_k),
    c = h² √ᾱ / v (the Wiener shrinkage), so

        E[U_0 | U_i = x] = (1 − c √ᾱ) m(x) + c x.

    For h = 0 this is m(x). Returns shape (m, n).
    """
    c = _check_centers(centers)
    x2 = _check_points(x, c.shape[1])
    s, v = marginal_parameters(alpha_bar, bandwidth)
    m = mixture_posterior_mean(x2, c, s, v, **kw)
    h = float(bandwidth)
    if h == 0.0:
        return m
    coef = h * h * s / v
    return (1.0 - coef * s) * m + coef * x2


def score(x, centers, alpha_bar, bandwidth: float = 0.0, **kw) -> np.ndarray:
    """Exact score ∇ log p(u_i) at x: (√ᾱ m(x) − x) / v (m as in :func:`posterior_mean`).

    Equivalently (Tweedie), √ᾱ E[U_0 | x] = x + (1 − ᾱ) ∇ log p(x).
    """
    c = _check_centers(centers)
    x2 = _check_points(x, c.shape[1])
    s, v = marginal_parameters(alpha_bar, bandwidth)
    return (s * mixture_posterior_mean(x2, c, s, v, **kw) - x2) / v


def logpdf(x, centers, alpha_bar, bandwidth: float = 0.0) -> np.ndarray:
    """log p(u_i) at x for the (smoothed) mixture (:func:`lib.steady_state.mixture_logpdf`)."""
    c = _check_centers(centers)
    x2 = _check_points(x, c.shape[1])
    s, v = marginal_parameters(alpha_bar, bandwidth)
    return mixture_logpdf(x2, c, s, v)


def sample_data(centers, alpha_bar, bandwidth: float, size: int, rng) -> np.ndarray:
    """Exact draws of U_i: pick k uniformly, return √ᾱ f_k + √v g."""
    c = _check_centers(centers)
    s, v = marginal_parameters(alpha_bar, bandwidth)
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    check_rng(rng)
    k = rng.integers(0, c.shape[0], size=int(size))
    return s * c[k] + np.sqrt(v) * rng.standard_normal((int(size), c.shape[1]))


def ddpm_posterior_coefficients(betas, step: int) -> tuple[float, float, float]:
    """Coefficients of q(u_{i−1} | u_i, u_0) = N(a u_0 + b u_i, β̃ I) (Ho et al. 2020, Eq. 7).

    a = √ᾱ_{i−1} β_i / (1 − ᾱ_i), b = √(1 − β_i) (1 − ᾱ_{i−1}) / (1 − ᾱ_i),
    β̃ = (1 − ᾱ_{i−1}) β_i / (1 − ᾱ_i). Derived by completing the square in
    p(u_i | u_{i−1}) p(u_{i−1} | u_0) (Eqs. 3 and 5). Returns (a, b, β̃).
    """
    betas = check_betas(betas)
    T = betas.size
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Integral):
        raise TypeError(f"step must be an integer in [1, {T}], got {step!r}")
    if not 1 <= step <= T:
        raise ValueError(f"step must lie in [1, {T}], got {step}")
    ab = schedules.alpha_bar(betas)
    beta = betas[step - 1]
    a_prev, a_i = ab[step - 1], ab[step]
    a = np.sqrt(a_prev) * beta / (1.0 - a_i)
    b = np.sqrt(1.0 - beta) * (1.0 - a_prev) / (1.0 - a_i)
    var = (1.0 - a_prev) * beta / (1.0 - a_i)
    return float(a), float(b), float(var)


def reverse_step(u, centers, betas, step: int, rng, bandwidth: float = 0.0) -> np.ndarray:
    """One DDPM reverse step u_i → u_{i−1} with the exact denoiser.

    u_{i−1} ~ N(a x̂_0 + b u_i, β̃_i I), x̂_0 = E[U_0 | U_i = u_i] (:func:`posterior_mean`).
    Because the DDPM posterior mean is affine in u_0, the mean of this kernel,
    a E[U_0|u_i] + b u_i = E[U_{i−1} | U_i = u_i], is exact. The exact covariance is
    β̃_i I + a² Cov[U_0 | U_i = u_i]; DDPM keeps only β̃_i I. At i = 1, β̃_1 = 0 and the step
    returns x̂_0.
    """
    c = _check_centers(centers)
    u2 = _check_points(u, c.shape[1], "u")
    check_rng(rng)
    a, b, var = ddpm_posterior_coefficients(betas, step)
    ab = schedules.alpha_bar(betas)[step]
    x0 = posterior_mean(u2, c, float(ab), bandwidth)
    out = a * x0 + b * u2
    if var > 0.0:
        out += np.sqrt(var) * rng.standard_normal(out.shape)
    return out


def _check_record(record, T: int) -> np.ndarray:
    if record is None:
        return np.array([0], dtype=np.int64)
    return check_steps(record, T, "record")


def sample(centers, betas, size: int, rng, *, bandwidth: float = 0.0, record=None,
           known=None, mask=None) -> dict:
    """Ancestral sampling from U_T ~ N(0, I) back to step 0 (DDPM reverse chain, exact x̂_0).

    Parameters
    ----------
    centers : array_like, shape (N, n)
        Training images f_k.
    betas : array_like, shape (T,)
        Any schedule (``betas[i-1] = β_i``).
    size : int
        Number of independent chains (ignored if ``known`` is given: one chain per row).
    rng : numpy.random.Generator
    bandwidth : float
        h ≥ 0 of the smoothed mixture.
    record : sequence of int, optional
        Steps i at which to store the state (strictly increasing in [0, T]); default [0].
    known, mask : array_like, shape (m, n), optional
        Inpainting by replacement: after every step (and at the start), pixels where ``mask``
        is True are overwritten by √ᾱ_i known + √(1 − ᾱ_i) g, a fresh forward-noised copy of
        the known image at that step (exactly ``known`` at step 0).

    Returns
    -------
    dict with "steps" (recorded steps, increasing) and "states" (len(steps), m, n) float64.
    """
    c = _check_centers(centers)
    betas = check_betas(betas)
    check_rng(rng)
    h = _check_bandwidth(bandwidth)
    T = betas.size
    rec = _check_record(record, T)
    ab = schedules.alpha_bar(betas)
    if (known is None) != (mask is None):
        raise ValueError("give both known and mask for inpainting, or neither")
    if known is not None:
        known = _check_points(known, c.shape[1], "known")
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        mask = np.broadcast_to(mask, known.shape)
        m = known.shape[0]
    else:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"size must be a positive integer, got {size!r}")
        m = int(size)

    def replace(u, i):
        if known is not None:
            noisy = np.sqrt(ab[i]) * known + np.sqrt(1.0 - ab[i]) * rng.standard_normal(known.shape)
            u = np.where(mask, noisy, u)
        return u

    u = replace(rng.standard_normal((m, c.shape[1])), T)
    states = np.empty((rec.size, m, c.shape[1]))
    where = {int(s): j for j, s in enumerate(rec)}
    if T in where:
        states[where[T]] = u
    with _blas_limit():
        for i in range(T, 0, -1):
            u = replace(reverse_step(u, c, betas, i, rng, h), i - 1)
            if i - 1 in where:
                states[where[i - 1]] = u
    return {"steps": rec, "states": states}


def inpaint(centers, betas, known, mask, rng, *, bandwidth: float = 0.0) -> np.ndarray:
    """Inpainting with known pixels as side information (replacement scheme of :func:`sample`).

    Returns the completed images, shape (m, n); pixels with ``mask`` True equal ``known``.
    """
    return sample(centers, betas, 1, rng, bandwidth=bandwidth, known=known, mask=mask)["states"][-1]


def nearest_neighbour_distances(x, centers, *, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance of each row of x to its nearest row of centers.

    ``exclude_self`` (x is centers): skip the zero distance of a point to itself, giving the
    leave-one-out nearest-neighbour distances within the training set.
    """
    c = _check_centers(centers)
    x2 = _check_points(x, c.shape[1])
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

    Projects both samples on ``n_projections`` random directions (or on the columns of
    ``directions``, shape (n, K), if given; then rng is unused and K replaces n_projections),
    runs scipy's two-sample KS test on each and returns (largest KS statistic, Bonferroni
    p-value = min(1, K · min p)). The level is at most the nominal one for any dependence
    between the projections.
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be (m, n) arrays with the same n, got {a.shape}, {b.shape}")
    if isinstance(n_projections, (bool, np.bool_)) or not isinstance(n_projections, numbers.Integral) \
            or n_projections < 1:
        raise ValueError(f"n_projections must be a positive integer, got {n_projections!r}")
    if directions is None:
        check_rng(rng)
        d = rng.standard_normal((a.shape[1], int(n_projections)))
    else:
        d = as_float_array(directions, "directions").astype(np.float64)
        if d.ndim != 2 or d.shape[0] != a.shape[1]:
            raise ValueError(f"directions must have shape ({a.shape[1]}, K), got {d.shape}")
    d = d / np.linalg.norm(d, axis=0)
    pa, pb = a @ d, b @ d
    return feature_ks_test(a @ d, b @ d)


def feature_ks_test(fa, fb) -> tuple[float, float]:
    """Bonferroni-combined two-sample KS tests on the columns of two feature matrices (m, K).

    Returns (largest KS statistic, min(1, K · smallest p-value)).
    """
    fa = np.atleast_2d(as_float_array(fa, "fa").T).T
    fb = np.atleast_2d(as_float_array(fb, "fb").T).T
    if fa.ndim != 2 or fb.ndim != 2 or fa.shape[1] != fb.shape[1]:
        raise ValueError(f"fa and fb must be (m, K) with the same K, got {fa.shape}, {fb.shape}")
    res = [_st.ks_2samp(fa[:, k], fb[:, k]) for k in range(fa.shape[1])]
    stat = max(float(r.statistic) for r in res)
    p = min(1.0, fa.shape[1] * min(float(r.pvalue) for r in res))
    return stat, p


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


def conditional_mean(known, mask, centers, bandwidth: float) -> np.ndarray:
    """Exact E[U_0 | U_0[mask] = known[mask]] under (1/N) Σ_k N(f_k, h² I), h > 0.

    Given the component k, the pixels are independent, so the missing pixels have mean f_k
    there and the component weights are w_k ∝ N(known[mask]; f_k[mask], h² I): a softmax over
    the known pixels only (a logsumexp-stabilised softmax; memory m × N).
    The MMSE completion under the model, the reference for the replacement scheme. ``mask`` is
    one boolean vector of length n shared by all rows. Returns shape (m, n), known pixels kept.
    """
    c = _check_centers(centers)
    known = _check_points(known, c.shape[1], "known")
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (c.shape[1],):
        raise ValueError(f"mask must be a boolean vector of length {c.shape[1]}")
    if not mask.any():
        raise ValueError("mask must mark at least one known pixel")
    h = _check_bandwidth(bandwidth)
    if h == 0.0:
        raise ValueError("conditional_mean needs bandwidth > 0")
    out = known.copy()
    kc = c[:, mask]
    lw = (known[:, mask] @ kc.T - 0.5 * np.einsum("ij,ij->i", kc, kc)[None, :]) / (h * h)
    lw -= lw.max(axis=1, keepdims=True)
    w = np.exp(lw)
    w /= w.sum(axis=1, keepdims=True)
    out[:, ~mask] = w @ c[:, ~mask]
    return out


def conditional_sample(known, mask, centers, bandwidth: float, rng) -> np.ndarray:
    """Exact draw of U_0 given U_0[mask] = known[mask] under (1/N) Σ_k N(f_k, h² I), h > 0.

    Draw k with the weights of :func:`conditional_mean`, then the missing pixels are
    f_k + h g. The reference that the replacement scheme would match if it were exact.
    """
    c = _check_centers(centers)
    known = _check_points(known, c.shape[1], "known")
    check_rng(rng)
    h = _check_bandwidth(bandwidth)
    if h == 0.0:
        raise ValueError("conditional_sample needs bandwidth > 0")
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (c.shape[1],) or not mask.any():
        raise ValueError(f"mask must be a boolean vector of length {c.shape[1]} with a True")
    kc = c[:, mask]
    lw = (known[:, mask] @ kc.T - 0.5 * np.einsum("ij,ij->i", kc, kc)[None, :]) / (h * h)
    lw -= lw.max(axis=1, keepdims=True)
    w = np.exp(lw)
    cdf = np.cumsum(w, axis=1)
    k = (cdf < rng.uniform(size=(known.shape[0], 1)) * cdf[:, -1:]).sum(axis=1)
    out = known.copy()
    miss = c[k][:, ~mask]
    out[:, ~mask] = miss + h * rng.standard_normal(miss.shape)
    return out


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
    with _blas_limit():
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
        scaled = np.sqrt(ab[int(i)]) * _check_centers(centers)
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
