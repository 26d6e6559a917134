"""The forward process of probabilistic diffusion (paper, Eqs. 1–5).

Every function works elementwise on arrays of any shape: an image, a colour image, a stack of
training images, or many copies of one image (many independent chains at once). Randomness
enters only through an explicit :class:`numpy.random.Generator`. float32 inputs are processed
in float32 (noise drawn in float32: half the memory; whether it is faster depends on
the machine, see benchmarks/bench_forward.py), everything else in float64.

Step indices follow :mod:`lib.schedules`: ``betas[i - 1] = β_i`` and ᾱ_0 = 1.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_beta, check_betas, check_rng, check_steps
from .schedules import log_alpha_bar

__all__ = [
    "forward_step",
    "iterate_forward",
    "marginal_coefficients",
    "sample_marginal",
    "sample_marginals",
    "sample_trajectory",
    "transition_coefficients",
]


def _as_state(u, name: str) -> np.ndarray:
    """Validated working copy of a state: float32 stays float32, everything else is float64."""
    arr = as_float_array(u, name)
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    return np.array(arr, dtype=dtype, copy=True, order="C")


def _check_step(step, n_steps: int, name: str = "step") -> int:
    return int(check_steps([step], n_steps, name)[0])


def transition_coefficients(betas, start: int, stop: int) -> tuple[float, float]:
    """Mean factor and variance of p(u_stop | u_start) for ``start ≤ stop``.

    Composing Eq. (4) from step ``start`` to step ``stop`` gives

        U_stop = √(ᾱ_stop/ᾱ_start) · U_start + √(1 − ᾱ_stop/ᾱ_start) · G,

    with G ~ N(0, I) independent of U_start. For ``start = 0`` this is Eq. (5).

    Parameters
    ----------
    betas : array_like, shape (T,)
        Schedule, ``betas[i - 1] = β_i`` in (0, 1).
    start, stop : int
        Step indices with ``0 ≤ start ≤ stop ≤ T``.

    Returns
    -------
    scale : float
        √(ᾱ_stop/ᾱ_start).
    variance : float
        1 − ᾱ_stop/ᾱ_start, computed as ``-expm1(ln ᾱ_stop − ln ᾱ_start)`` so that it keeps full
        relative accuracy for neighbouring steps.
    """
    log_ab = log_alpha_bar(betas)
    n_steps = log_ab.size - 1
    start = _check_step(start, n_steps, "start")
    stop = _check_step(stop, n_steps, "stop")
    if stop < start:
        raise ValueError(f"stop must not precede start, got start={start}, stop={stop}")
    log_ratio = log_ab[stop] - log_ab[start]
    return float(np.exp(0.5 * log_ratio)), float(-np.expm1(log_ratio))


def marginal_coefficients(betas, step: int) -> tuple[float, float]:
    """Mean factor √ᾱ_i and variance 1 − ᾱ_i of p(u_i | u_0), paper Eq. (5)."""
    _check_step(step, check_betas(betas).size, "step")
    return transition_coefficients(betas, 0, step)


def forward_step(u, beta: float, rng: np.random.Generator) -> np.ndarray:
    """One step of the forward process, paper Eq. (4).

    U_i = √(1 − β_i) · U_{i−1} + √β_i · G,  G ~ N(0, I); equivalently a draw from the Gaussian
    transition density of Eq. (3).

    Parameters
    ----------
    u : array_like
        The state u_{i−1} (any shape).
    beta : float
        β_i in (0, 1).
    rng : numpy.random.Generator
        Source of the noise G.

    Returns
    -------
    ndarray
        A new array u_i of the same shape (float32 for float32 input, float64 otherwise).
    """
    u = _as_state(u, "u")
    beta = check_beta(beta)
    check_rng(rng)
    noise = rng.standard_normal(u.shape, dtype=u.dtype)
    u *= u.dtype.type(np.sqrt(1.0 - beta))
    noise *= u.dtype.type(np.sqrt(beta))
    u += noise
    return u


def iterate_forward(u0, betas, steps, rng: np.random.Generator) -> np.ndarray:
    """Run the chain by iterating Eq. (4) for every step and keep the requested snapshots.

    This is the reference implementation: it draws noise for every step up to ``max(steps)``,
    however few snapshots are requested.

    Parameters
    ----------
    u0 : array_like
        Initial state u_0 = f (Property 1).
    betas : array_like, shape (T,)
        Schedule, ``betas[i - 1] = β_i``.
    steps : sequence of int or None
        Strictly increasing step indices in [0, T] to return; ``None`` returns every step
        0, …, T (memory grows with T · u0.size; request only what you need for large images).
    rng : numpy.random.Generator

    Returns
    -------
    snapshots : ndarray, shape (len(steps),) + u0.shape
        ``snapshots[k]`` is u_{steps[k]} of one coherent trajectory.
    """
    u = _as_state(u0, "u0")
    betas = check_betas(betas)
    check_rng(rng)
    n_steps = betas.size
    steps = np.arange(n_steps + 1) if steps is None else check_steps(steps, n_steps)
    out = np.empty((steps.size,) + u.shape, dtype=u.dtype)
    keep = dict(zip(steps.tolist(), range(steps.size)))
    scale = np.sqrt(1.0 - betas).astype(u.dtype)
    sigma = np.sqrt(betas).astype(u.dtype)
    noise = np.empty(u.shape, dtype=u.dtype)
    if 0 in keep:
        out[keep[0]] = u
    for i in range(1, int(steps[-1]) + 1):
        rng.standard_normal(dtype=u.dtype, out=noise)
        u *= scale[i - 1]
        noise *= sigma[i - 1]
        u += noise
        if i in keep:
            out[keep[i]] = u
    return out


def sample_marginal(u0, betas, step: int, rng: np.random.Generator) -> np.ndarray:
    """Draw u_i from p(u_i | u_0) in closed form, paper Eq. (5).

    u_i = √ᾱ_i · u_0 + √(1 − ᾱ_i) · ξ with ξ ~ N(0, I). Draws for different ``step`` values
    are *independent* samples, not one trajectory; use :func:`sample_trajectory` for that.

    Parameters
    ----------
    u0 : array_like
    betas : array_like, shape (T,)
    step : int
        The step i in [0, T].
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, same shape as ``u0``
    """
    u = _as_state(u0, "u0")
    check_rng(rng)
    scale, variance = marginal_coefficients(betas, step)
    if variance == 0.0:
        return u
    noise = rng.standard_normal(u.shape, dtype=u.dtype)
    u *= u.dtype.type(scale)
    noise *= u.dtype.type(np.sqrt(variance))
    u += noise
    return u


def sample_marginals(u0, betas, steps, rng: np.random.Generator) -> np.ndarray:
    """Independent closed-form draws from p(u_i | u_0) at each requested step (Eq. 5).

    Each snapshot has the right marginal law, but the snapshots are independent of each other:
    this is *not* a trajectory (compare :func:`sample_trajectory`). The book uses it to show
    that the innovation test of :func:`lib.stats.innovations` tells the two apart.

    Returns
    -------
    samples : ndarray, shape (len(steps),) + u0.shape
    """
    n_steps = check_betas(betas).size
    steps = check_steps(steps, n_steps)
    return np.stack([sample_marginal(u0, betas, step, rng) for step in steps.tolist()])


def sample_trajectory(u0, betas, steps, rng: np.random.Generator) -> np.ndarray:
    """One coherent trajectory at the requested steps, one noise draw per requested step.

    Between consecutive requested steps s < s' the chain is advanced by the exact Gaussian
    transition (the "bridge" obtained by composing Eq. 4 from s to s'):

        u_{s'} = √(ᾱ_{s'}/ᾱ_s) · u_s + √(1 − ᾱ_{s'}/ᾱ_s) · g,   g ~ N(0, I).

    Because the chain is Markov and Gaussian, the snapshots have exactly the joint law of
    :func:`iterate_forward` at the same steps, at a cost of ``len(steps)`` draws instead of
    ``max(steps)``.

    Parameters
    ----------
    u0 : array_like
    betas : array_like, shape (T,)
    steps : sequence of int
        Strictly increasing step indices in [0, T].
    rng : numpy.random.Generator

    Returns
    -------
    snapshots : ndarray, shape (len(steps),) + u0.shape
    """
    u = _as_state(u0, "u0")
    log_ab = log_alpha_bar(betas)
    steps = check_steps(steps, log_ab.size - 1)
    check_rng(rng)
    out = np.empty((steps.size,) + u.shape, dtype=u.dtype)
    previous = 0
    for k, step in enumerate(steps.tolist()):
        if step > previous:
            log_ratio = log_ab[step] - log_ab[previous]
            noise = rng.standard_normal(u.shape, dtype=u.dtype)
            noise *= u.dtype.type(np.sqrt(-np.expm1(log_ratio)))
            u *= u.dtype.type(np.exp(0.5 * log_ratio))
            u += noise
        out[k] = u
        previous = step
    return out
