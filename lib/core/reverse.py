"""The reverse process with exact scores for Gaussian-mixture training sets (paper, Sec. 3.2).

The training distribution is the mixture p(u_0) = (1/N) Σ_k N(f_k, h² I) of the N training
images f_k with bandwidth h ≥ 0 (h = 0: the empirical set itself), a
:class:`lib.core.mixture.Mixture`. Its marginal at step i is exact, so the posterior mean
E[u_0 | u_i] (the ideal denoiser) is exact too. Plugging it into the DDPM posterior
q(u_{i−1} | u_i, u_0) of Ho et al. (2020) gives a reverse step whose *mean* is the exact
reverse-kernel mean E[u_{i−1} | u_i]; its covariance β̃_i I is the DDPM choice, not the exact
one (see :func:`reverse_step`). :func:`sample` validates its arguments once and runs the T
steps on validated data.

Examples
--------
>>> import numpy as np
>>> from lib.core import schedules
>>> centers = np.array([[-1.0, -1.0], [1.0, 1.0]])
>>> out = sample(centers, schedules.linear_betas(50), 4, np.random.default_rng(0))
>>> out["states"].shape
(1, 4, 2)
>>> bool(np.all(np.isclose(np.abs(out["states"][0]), 1.0)))   # h = 0: the training images
True
"""

from __future__ import annotations

import numpy as np

from ._threads import blas_limit
from ._validation import (ArgumentTypeError, check_betas, check_int, check_memory, check_points,
                          check_positive_int, check_rng, check_steps, check_work)
from .mixture import Mixture, _stream
from .schedules import alpha_bar as _alpha_bar

__all__ = [
    "conditional_mean",
    "conditional_sample",
    "ddpm_posterior_coefficients",
    "inpaint",
    "reverse_step",
    "sample",
]

# BLAS threads inside the sampler: the (chains × components) products are small, and on a busy
# 2-core machine threaded BLAS made the sampler 5-10x slower. None: no limit.
BLAS_THREADS: int | None = 1


def _coefficients(betas: np.ndarray, ab: np.ndarray, step: int) -> tuple[float, float, float]:
    beta = betas[step - 1]
    a_prev, a_i = ab[step - 1], ab[step]
    a = np.sqrt(a_prev) * beta / (1.0 - a_i)
    b = np.sqrt(1.0 - beta) * (1.0 - a_prev) / (1.0 - a_i)
    var = (1.0 - a_prev) * beta / (1.0 - a_i)
    return float(a), float(b), float(var)


def ddpm_posterior_coefficients(betas, step: int) -> tuple[float, float, float]:
    """Coefficients of q(u_{i−1} | u_i, u_0) = N(a u_0 + b u_i, β̃ I) (Ho et al. 2020, Eq. 7).

    a = √ᾱ_{i−1} β_i / (1 − ᾱ_i), b = √(1 − β_i) (1 − ᾱ_{i−1}) / (1 − ᾱ_i),
    β̃ = (1 − ᾱ_{i−1}) β_i / (1 − ᾱ_i). Derived by completing the square in
    p(u_i | u_{i−1}) p(u_{i−1} | u_0) (Eqs. 3 and 5). Returns (a, b, β̃).
    """
    betas = check_betas(betas)
    step = check_int(step, "step", 1, betas.size)
    return _coefficients(betas, _alpha_bar(betas), step)


def _step(u2, mix: Mixture, betas, ab, step: int, rng) -> np.ndarray:
    """One reverse step on validated arguments (see :func:`reverse_step`)."""
    a, b, var = _coefficients(betas, ab, step)
    s, v = mix._parameters(float(ab[step]))
    out = a * mix._denoise(u2, s, v) + b * u2
    if var > 0.0:
        out += np.sqrt(var) * rng.standard_normal(out.shape)
    return out


def reverse_step(u, centers, betas, step: int, rng, bandwidth: float = 0.0) -> np.ndarray:
    """One DDPM reverse step u_i → u_{i−1} with the exact denoiser.

    u_{i−1} ~ N(a x̂_0 + b u_i, β̃_i I), x̂_0 = E[U_0 | U_i = u_i]
    (:meth:`lib.core.mixture.Mixture.posterior_mean`). Because the DDPM posterior mean is
    affine in u_0, the mean of this kernel, a E[U_0|u_i] + b u_i = E[U_{i−1} | U_i = u_i], is
    exact. The exact covariance is β̃_i I + a² Cov[U_0 | U_i = u_i]; DDPM keeps only β̃_i I.
    At i = 1, β̃_1 = 0 and the step returns x̂_0.
    """
    mix = Mixture(centers, bandwidth)
    u2 = check_points(u, mix.dim, "u")
    check_rng(rng)
    betas = check_betas(betas)
    step = check_int(step, "step", 1, betas.size)
    return _step(u2, mix, betas, _alpha_bar(betas), step, rng)


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
    dict
        ``"steps"`` (recorded steps, increasing) and ``"states"`` (len(steps), m, n) float64.

    Notes
    -----
    Cost: about T · m · N · n multiply-adds (T steps, m chains, N training images of n pixels),
    e.g. 10¹⁰ (seconds) for T = 1000, 100 chains and 1797 digits of 64 pixels; requests above
    ``lib.core._validation.WORK_LIMIT`` (10¹³, hours) fail at once with the estimate, and the
    recorded states must fit in ``MEMORY_LIMIT``.
    """
    mix = Mixture(centers, bandwidth)
    betas = check_betas(betas)
    check_rng(rng)
    T = betas.size
    rec = np.array([0], dtype=np.int64) if record is None else check_steps(record, T, "record")
    ab = _alpha_bar(betas)
    if (known is None) != (mask is None):
        raise ValueError("give both known and mask for inpainting, or neither")
    if known is not None:
        known = check_points(known, mix.dim, "known")
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ArgumentTypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, known.shape)
        except ValueError:
            raise ValueError(f"mask of shape {mask.shape} does not fit known of shape {known.shape}") from None
        m = known.shape[0]
    else:
        m = check_positive_int(size, "size")
    check_memory(3.0 * (rec.size + 2) * m * mix.dim,
                 f"{rec.size} recorded states of {m} chains × {mix.dim} pixels")
    check_work(float(T) * m * mix.centers.shape[0] * mix.dim,
               f"T = {T} reverse steps of {m} chains against N = {mix.centers.shape[0]} training images")

    def replace(u, i):
        if known is not None:
            noisy = np.sqrt(ab[i]) * known + np.sqrt(1.0 - ab[i]) * rng.standard_normal(known.shape)
            u = np.where(mask, noisy, u)
        return u

    u = replace(rng.standard_normal((m, mix.dim)), T)
    states = np.empty((rec.size, m, mix.dim))
    where = {int(s): j for j, s in enumerate(rec)}
    if T in where:
        states[where[T]] = u
    with blas_limit(BLAS_THREADS):
        for i in range(T, 0, -1):
            u = replace(_step(u, mix, betas, ab, i, rng), i - 1)
            if i - 1 in where:
                states[where[i - 1]] = u
    return {"steps": rec, "states": states}


def inpaint(centers, betas, known, mask, rng, *, bandwidth: float = 0.0) -> np.ndarray:
    """Inpainting with known pixels as side information (replacement scheme of :func:`sample`).

    Returns the completed images, shape (m, n); pixels with ``mask`` True equal ``known``.
    """
    return sample(centers, betas, 1, rng, bandwidth=bandwidth, known=known, mask=mask)["states"][-1]


def _conditional_args(known, mask, centers, bandwidth):
    """Validated arguments of the conditional law given the known pixels."""
    mix = Mixture(centers, bandwidth)
    known = check_points(known, mix.dim, "known")
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (mix.dim,):
        raise ValueError(f"mask must be a boolean vector of length {mix.dim}")
    if not mask.any():
        raise ValueError("mask must mark at least one known pixel")
    if mix.bandwidth == 0.0:
        raise ValueError("the conditional law needs bandwidth > 0")
    return known, mask, mix


def conditional_mean(known, mask, centers, bandwidth: float) -> np.ndarray:
    """Exact E[U_0 | U_0[mask] = known[mask]] under (1/N) Σ_k N(f_k, h² I), h > 0.

    Given the component k, the pixels are independent, so the missing pixels have mean f_k
    there and the component weights are w_k ∝ N(known[mask]; f_k[mask], h² I): a softmax over
    the known pixels only, computed by the streaming log-sum-exp kernel of
    :mod:`lib.core.mixture` (bounded memory). The MMSE completion under the model, the
    reference for the replacement scheme. ``mask`` is one boolean vector of length n shared by
    all rows. Returns shape (m, n), known pixels kept.
    """
    known, mask, mix = _conditional_args(known, mask, centers, bandwidth)
    c, h = mix.centers, mix.bandwidth
    out = known.copy()
    out[:, ~mask] = _stream(known[:, mask], c[:, mask], 1.0, h * h, mix.chunk_size, mean=True,
                            values=c[:, ~mask])[1]
    return out


def conditional_sample(known, mask, centers, bandwidth: float, rng) -> np.ndarray:
    """Exact draw of U_0 given U_0[mask] = known[mask] under (1/N) Σ_k N(f_k, h² I), h > 0.

    Draw k with the weights of :func:`conditional_mean`, then the missing pixels are
    f_k + h g. The reference that the replacement scheme would match if it were exact.
    """
    check_rng(rng)
    known, mask, mix = _conditional_args(known, mask, centers, bandwidth)
    c, h = mix.centers, mix.bandwidth
    kc = c[:, mask]
    lw = (known[:, mask] @ kc.T - 0.5 * np.einsum("ij,ij->i", kc, kc)[None, :]) / (h * h)
    w = np.exp(lw - lw.max(axis=1, keepdims=True))
    cdf = np.cumsum(w, axis=1)
    k = (cdf < rng.uniform(size=(known.shape[0], 1)) * cdf[:, -1:]).sum(axis=1)
    out = known.copy()
    miss = c[k][:, ~mask]
    out[:, ~mask] = miss + h * rng.standard_normal(miss.shape)
    return out
