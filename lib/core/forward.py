"""The forward process of probabilistic diffusion (paper, Eqs. 1–5).

Every function works elementwise on arrays of any shape: an image, a colour image, a stack of
training images, or many copies of one image (many independent chains at once). Randomness
enters only through an explicit ``numpy.random.Generator``. float32 inputs are processed
in float32 (noise drawn in float32: half the memory; whether it is faster depends on
the machine, see benchmarks/bench_forward.py), everything else in float64.

Step indices follow :mod:`lib.core.schedules`: ``betas[i - 1] = β_i`` and ᾱ_0 = 1.

Noise may come from the caller instead of ``rng`` (as in diffusers' ``add_noise(x0, noise, t)``):
:func:`add_noise` is the closed form with given noise, and :func:`forward_step` /
:func:`iterate_forward` accept ``noise=`` realisations, so an experiment can couple or reuse
noise (as the proof of Proposition 3, paper Eq. 21, does) without a copy of the chain. With the noise that
``rng`` would draw, the results are identical bit for bit.

Examples
--------
>>> import numpy as np
>>> from lib.core import forward, schedules
>>> betas = schedules.constant_betas(0.02, 100)
>>> u = forward.sample_trajectory(np.zeros((4, 4)), betas, [10, 100], np.random.default_rng(0))
>>> u.shape
(2, 4, 4)
>>> g = np.ones((4, 4))
>>> x = forward.add_noise(np.zeros((4, 4)), g, betas, 100)
>>> bool(np.allclose(x, np.sqrt(-np.expm1(np.log(0.98) * 100))))
True
"""

from __future__ import annotations

import numpy as np

from ._validation import (as_float_array, as_state, check_beta, check_betas, check_memory, check_rng,
                          check_step, check_steps, check_work)
from .schedules import log_alpha_bar

__all__ = [
    "add_noise",
    "forward_step",
    "iterate_forward",
    "marginal_coefficients",
    "sample_marginal",
    "sample_trajectory",
    "transition_coefficients",
]


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
    start = check_step(start, n_steps, "start")
    stop = check_step(stop, n_steps, "stop")
    if stop < start:
        raise ValueError(f"stop must not precede start, got start={start}, stop={stop}")
    return _coefficients(log_ab, start, stop)


def _coefficients(log_ab: np.ndarray, start: int, stop: int) -> tuple[float, float]:
    log_ratio = log_ab[stop] - log_ab[start]
    return float(np.exp(0.5 * log_ratio)), float(-np.expm1(log_ratio))


def marginal_coefficients(betas, step: int) -> tuple[float, float]:
    """Mean factor √ᾱ_i and variance 1 − ᾱ_i of p(u_i | u_0), paper Eq. (5)."""
    log_ab = log_alpha_bar(betas)
    return _coefficients(log_ab, 0, check_step(step, log_ab.size - 1, "step"))


def _noise_like(noise, u: np.ndarray, name: str = "noise") -> np.ndarray:
    """A caller's noise realisation as a fresh array in the working precision of ``u``."""
    g = np.array(as_float_array(noise, name), dtype=u.dtype, copy=True)
    if g.shape != u.shape:
        raise ValueError(f"{name} must have the shape of u {u.shape}, got {g.shape}")
    return g


def _step(u: np.ndarray, scale, sigma, g: np.ndarray) -> None:
    """u ← scale·u + sigma·g in place (g is overwritten); the one update of Eq. (4)."""
    u *= scale
    g *= sigma
    u += g


def forward_step(u, beta: float, rng: np.random.Generator | None = None, *, noise=None) -> np.ndarray:
    """One step of the forward process, paper Eq. (4).

    U_i = √(1 − β_i) · U_{i−1} + √β_i · G,  G ~ N(0, I); equivalently a draw from the Gaussian
    transition density of Eq. (3).

    Parameters
    ----------
    u : array_like
        The state u_{i−1} (any shape).
    beta : float
        β_i in (0, 1).
    rng : numpy.random.Generator, optional
        Source of the noise G (required unless ``noise`` is given).
    noise : array_like, optional
        The realisation g_i, shape of ``u``; converted to the working precision of ``u``.
        With the noise ``rng`` would draw, the result is identical bit for bit.

    Returns
    -------
    ndarray
        A new array u_i of the same shape (float32 for float32 input, float64 otherwise).
    """
    u = as_state(u, "u")
    beta = check_beta(beta)
    if noise is None:
        g = check_rng(rng).standard_normal(u.shape, dtype=u.dtype)
    else:
        g = _noise_like(noise, u)
    _step(u, u.dtype.type(np.sqrt(1.0 - beta)), u.dtype.type(np.sqrt(beta)), g)
    return u


def _noise_source(noise, rng, u: np.ndarray, last: int):
    """A function filling ``out`` with g_i for step i: from ``rng``, a stack or a callable."""
    if noise is None:
        check_rng(rng)
        return lambda i, out: rng.standard_normal(dtype=u.dtype, out=out)
    if callable(noise):
        def from_callable(i, out):
            out[...] = _noise_like(noise(i), u)
        return from_callable
    stack = as_float_array(noise, "noise")
    if stack.ndim != u.ndim + 1 or stack.shape[1:] != u.shape or stack.shape[0] < last:
        raise ValueError(
            f"noise must have shape (T', ) + {u.shape} with T' ≥ {last} "
            f"(one realisation per step), got {stack.shape}"
        )
    def from_stack(i, out):
        out[...] = stack[i - 1]
    return from_stack


def iterate_forward(u0, betas, steps, rng: np.random.Generator | None = None, *,
                    noise=None) -> np.ndarray:
    """Run the chain by iterating Eq. (4) for every step and keep the requested snapshots.

    This is the reference implementation: it draws noise for every step up to ``max(steps)``,
    however few snapshots are requested: max(steps) · u0.size normal draws (about 10
    multiply-adds each); requests above ``lib.core._validation.WORK_LIMIT`` fail at once, and
    so do snapshot stacks above ``MEMORY_LIMIT``.

    Parameters
    ----------
    u0 : array_like
        Initial state u_0 = f (Property 1).
    betas : array_like, shape (T,)
        Schedule, ``betas[i - 1] = β_i``.
    steps : sequence of int or None
        Strictly increasing step indices in [0, T] to return; ``None`` returns every step
        0, …, T (memory grows with T · u0.size; request only what you need for large images).
    rng : numpy.random.Generator, optional
        Source of the noise (one ``standard_normal`` array of ``u0.shape`` per step, in the
        working precision); required unless ``noise`` is given.
    noise : array_like of shape (T', ) + u0.shape with T' ≥ max(steps), or callable, optional
        Caller-supplied realisations: ``noise[i - 1]`` (or ``noise(i)``) is g_i, the noise of
        step i. With the noise ``rng`` would draw, the result is identical bit for bit.

    Returns
    -------
    snapshots : ndarray, shape (len(steps),) + u0.shape
        ``snapshots[k]`` is u_{steps[k]} of one coherent trajectory.
    """
    u = as_state(u0, "u0")
    betas = check_betas(betas)
    n_steps = betas.size
    steps = np.arange(n_steps + 1) if steps is None else check_steps(steps, n_steps)
    check_memory(float(steps.size) * u.size, f"the snapshots (len(steps) = {steps.size} × u0.size = {u.size})",
                 u.itemsize)
    check_work(10.0 * float(steps[-1]) * u.size, f"{int(steps[-1])} steps of a chain of {u.size} values")
    draw = _noise_source(noise, rng, u, int(steps[-1]))
    out = np.empty((steps.size,) + u.shape, dtype=u.dtype)
    keep = dict(zip(steps.tolist(), range(steps.size)))
    scale = np.sqrt(1.0 - betas).astype(u.dtype)
    sigma = np.sqrt(betas).astype(u.dtype)
    g = np.empty(u.shape, dtype=u.dtype)
    if 0 in keep:
        out[keep[0]] = u
    for i in range(1, int(steps[-1]) + 1):
        draw(i, g)
        _step(u, scale[i - 1], sigma[i - 1], g)
        if i in keep:
            out[keep[i]] = u
    return out


def add_noise(u0, noise, betas, step: int) -> np.ndarray:
    """The closed form of Eq. (5) with caller-supplied noise: √ᾱ_i · u_0 + √(1 − ᾱ_i) · ξ.

    The counterpart of diffusers' ``add_noise(x0, noise, t)``: :func:`sample_marginal` is
    ``add_noise(u0, rng.standard_normal(u0.shape), betas, step)`` (bit for bit).

    Parameters
    ----------
    u0 : array_like
    noise : array_like, shape of ``u0``
        The realisation ξ; converted to the working precision of ``u0``.
    betas : array_like, shape (T,)
    step : int
        The step i in [0, T].

    Returns
    -------
    ndarray, same shape as ``u0``
    """
    u = as_state(u0, "u0")
    g = _noise_like(noise, u)
    scale, variance = marginal_coefficients(betas, step)
    _step(u, u.dtype.type(scale), u.dtype.type(np.sqrt(variance)), g)
    return u


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
    u = as_state(u0, "u0")
    check_rng(rng)
    scale, variance = marginal_coefficients(betas, step)
    if variance == 0.0:
        return u
    noise = rng.standard_normal(u.shape, dtype=u.dtype)
    _step(u, u.dtype.type(scale), u.dtype.type(np.sqrt(variance)), noise)
    return u


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
    u = as_state(u0, "u0")
    log_ab = log_alpha_bar(betas)
    steps = check_steps(steps, log_ab.size - 1)
    check_rng(rng)

    def bridge(u, previous, step):
        log_ratio = log_ab[step] - log_ab[previous]
        noise = rng.standard_normal(u.shape, dtype=u.dtype)
        _step(u, u.dtype.type(np.exp(0.5 * log_ratio)), u.dtype.type(np.sqrt(-np.expm1(log_ratio))), noise)
        return u

    return _snapshots(u, steps, bridge)


def _snapshots(u: np.ndarray, steps: np.ndarray, advance) -> np.ndarray:
    """The states of a chain at the increasing ``steps``, from ``u`` at step 0:
    ``advance(u, s, s')`` returns the state at s' from the state at s (it may work in place).
    The one snapshot-keeping loop of the core (also used by :mod:`lib.core.processes`)."""
    check_memory(float(steps.size) * u.size, f"the snapshots (len(steps) = {steps.size} × u0.size = {u.size})",
                 u.itemsize)
    out = np.empty((steps.size,) + u.shape, dtype=u.dtype)
    previous = 0
    for k, step in enumerate(steps.tolist()):
        if step > previous:
            u = advance(u, previous, step)
        out[k] = u
        previous = step
    return out
