"""Fokker–Planck chapter (paper, Eqs. 23–25): Feller moments of one step, the forward and
backward equations checked on exact solutions, and the chapter's comparisons.

The finite-volume solver, the time parametrisation and the exact 1-D mixture laws live in
:mod:`lib.core.fokker_planck` (re-exported here until the chapter imports the core directly).
Conventions as there: ``betas[i - 1] = β_i``; the SDE is dX = −½ r(t) X dt + √r(t) dW with
Feller moments m₁ = −½ r x, m₂ = r, exact at integer times for r = β_eff = −ln(1 − β).
"""

from __future__ import annotations


import numpy as np
from scipy import stats as _st

from .core import forward, schedules
from .core._validation import (as_float_array, check_beta, check_betas, check_choice, check_int,
                               check_memory, check_real, check_rng, check_same_shape, check_work)
from .core._validation import check_positive_real as _positive_float
from .core.fokker_planck import *  # noqa: F401,F403
from .core.fokker_planck import (effective_rate, grid, mixture_cdf, mixture_marginal, mixture_pdf,
                                 osmosis_time, solve_fokker_planck)
from .core.stats import variance_test_power

__all__ = [
    "step_moments",
    "estimate_step_moments",
    "effective_rate",
    "osmosis_time",
    "ou_variance",
    "grid",
    "fokker_planck_operator",
    "solve_fokker_planck",
    "mixture_pdf",
    "mixture_cdf",
    "mixture_marginal",
    "l1_error",
    "space_convergence",
    "time_convergence",
    "forward_residual",
    "backward_expectation",
    "backward_expectation_mc",
    "backward_residual",
    "observed_order",
    "rate_discrimination",
    "chain_comparison",
]


# --- Eq. (23): Feller moments of one step -------------------------------------------------


def step_moments(x, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact first and second moments of one increment Δ = U_i − U_{i−1} given U_{i−1} = x.

    From Eq. (4), Δ = (√(1−β) − 1) x + √β G, so E[Δ | x] = (√(1−β) − 1) x and
    E[Δ² | x] = (√(1−β) − 1)² x² + β. Divided by the step (h = 1) these are the discrete
    versions of the Feller moments m₁, m₂ of paper Eq. (23); to leading order in β they are
    −½ β x and β.
    """
    x = as_float_array(x, "x")
    beta = check_beta(beta)
    c = np.sqrt(1.0 - beta) - 1.0
    return c * x, c * c * x * x + beta


def estimate_step_moments(x, beta: float, n: int, rng: np.random.Generator):
    """Monte Carlo estimates of E[Δ | x], E[Δ² | x] from ``n`` simulated steps per point x.

    Each point of ``x`` is advanced ``n`` times by :func:`lib.forward.forward_step`.

    Returns
    -------
    m1, m2, se1, se2 : ndarray, shape x.shape
        Sample means of Δ and Δ² and their standard errors (sample sd / √n).
    """
    x = as_float_array(x, "x")
    beta = check_beta(beta)
    n = check_int(n, "n", 1)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    rng = check_rng(rng)
    u0 = np.broadcast_to(x, (n,) + x.shape)
    delta = forward.forward_step(u0, beta, rng) - u0
    d2 = delta * delta
    se = lambda a: a.std(axis=0, ddof=1) / np.sqrt(n)  # noqa: E731
    return delta.mean(axis=0), d2.mean(axis=0), se(delta), se(d2)


# --- time parametrisation ---------------------------------------------------------------


def ou_variance(rate: float, t) -> np.ndarray:
    """Var X_t for the SDE with constant rate r from X_0 = 0: 1 − exp(−r t)."""
    rate = _positive_float(rate, "rate")
    t = as_float_array(t, "t").astype(np.float64, copy=False)
    if np.any(t < 0):
        raise ValueError(f"t must be non-negative (a time since X_0 = 0), got min {float(t.min())!r}")
    return -np.expm1(-rate * t)


# --- Eq. (24) as osmosis: the finite-volume solver -----------------------------------------


# --- exact solution for a Gaussian mixture -------------------------------------------------


def l1_error(p, q, h: float) -> np.ndarray:
    """h Σ |p − q| along the last axis (L1 distance of two grid densities of the same shape)."""
    p = as_float_array(p, "p")
    q = as_float_array(q, "q")
    check_same_shape(p, q, "p", "q")
    return _positive_float(h, "h") * np.abs(p - q).sum(axis=-1)


def _case(alpha_bar=np.exp(-1.0)):
    return (0.6, 0.4), (-2.0, 1.5), (0.3, 0.5), float(alpha_bar)


def space_convergence(ns, half_width: float = 8.0, t_osm: float = 0.5) -> np.ndarray:
    """L1 error of the semi-discrete (exact-in-time) solution against the exact mixture law.

    Bimodal start 0.6 N(−2, 0.3²) + 0.4 N(1.5, 0.5²) sampled at cell centres, evolved to
    t_osm (ᾱ = e^{−2 t_osm}). Expected order 2 in h.
    """
    w, m, s, _ = _case()
    ab = np.exp(-2.0 * t_osm)
    errs = []
    for n in ns:
        x, h = grid(int(n), half_width)
        p = solve_fokker_planck(mixture_pdf(x, w, m, s), x, h, [t_osm], method="exact")[0]
        errs.append(l1_error(p, mixture_pdf(x, *mixture_marginal(w, m, s, ab)), h))
    return np.array(errs)


def time_convergence(n_steps, n: int = 400, half_width: float = 8.0,
                     t_osm: float = 0.5) -> np.ndarray:
    """L1 error of implicit Euler (N steps) against exp(t A) p0 on the same grid. Order 1."""
    n_steps = [check_int(k, f"n_steps[{j}]", 1) for j, k in enumerate(np.atleast_1d(n_steps).tolist())]
    w, m, s, _ = _case()
    x, h = grid(n, half_width)
    p0 = mixture_pdf(x, w, m, s)
    ref = solve_fokker_planck(p0, x, h, [t_osm], method="exact")[0]
    return np.array([l1_error(solve_fokker_planck(p0, x, h, [t_osm], k)[0], ref, h)
                     for k in n_steps])


def observed_order(sizes, errors) -> np.ndarray:
    """Observed orders log(e_k/e_{k+1}) / log(N_{k+1}/N_k) between successive refinements."""
    sizes = as_float_array(sizes, "sizes").astype(np.float64, copy=False)
    errors = as_float_array(errors, "errors").astype(np.float64, copy=False)
    if sizes.ndim != 1 or sizes.size < 2:
        raise ValueError(f"sizes must be a 1-D sequence of at least two refinements, got shape {sizes.shape}")
    check_same_shape(sizes, errors, "sizes", "errors")
    if np.any(sizes <= 0) or np.any(np.diff(sizes) == 0):
        raise ValueError(f"sizes must be positive and distinct, got {sizes.tolist()}")
    if np.any(errors <= 0):
        raise ValueError(f"errors must be positive (a zero error has no order), got {errors.tolist()}")
    return np.log(errors[:-1] / errors[1:]) / np.log(sizes[1:] / sizes[:-1])


def forward_residual(sign: int = -1, rate: float = 1.0, dt: float = 1e-4, n: int = 801,
                     t: float = 0.7) -> float:
    """Max residual of ∂ₜp = sign·∂ₓ(m₁p) + ½∂ₓ²(m₂p) for the exact Gaussian-mixture law.

    m₁ = −½ r x, m₂ = r (SDE with rate r), p(x, t) = the mixture of :func:`space_convergence`
    at ᾱ = e^{−r t}. Derivatives by central differences (dt in time, h = 16/(n−1) on [−8, 8]),
    so the residual of the right equation is O(dt² + h²) ≈ 1e-4 while a wrong sign leaves
    O(1). ``sign = -1`` is the standard form; ``sign = +1`` is the paper's Eq. (24).
    """
    sgn = float(check_choice(sign, "sign", (1, -1)))
    rate = _positive_float(rate, "rate")
    dt = _positive_float(dt, "dt")
    t = _positive_float(t, "t")
    n = check_int(n, "n", 11)
    if dt >= t:
        raise ValueError(f"dt must be smaller than t (central differences at t ± dt), got dt = {dt}, t = {t}")
    w, m, s, _ = _case()
    x = np.linspace(-8.0, 8.0, n)
    h = x[1] - x[0]
    p = lambda tt: mixture_pdf(x, *mixture_marginal(w, m, s, np.exp(-rate * tt)))  # noqa
    pt = (p(t + dt) - p(t - dt)) / (2 * dt)
    q = p(t)
    flux = -0.5 * rate * x * q
    rhs = sgn * np.gradient(flux, h) + 0.5 * rate * np.gradient(np.gradient(q, h), h)
    return float(np.abs(pt - rhs)[5:-5].max())


# --- Eq. (25): backward equation -------------------------------------------------------------

_PHIS = ("cos", "square", "bump")


def _phi(phi, y):
    return {"cos": np.cos, "square": np.square, "bump": lambda z: np.exp(-z * z)}[phi](y)


def backward_expectation(phi: str, x, a, var) -> np.ndarray:
    """E[φ(a x + √var G)], G ~ N(0, 1), in closed form.

    cos: cos(a x) e^{−var/2}; square: a² x² + var; bump exp(−y²): e^{−a²x²/(1+2var)} / √(1+2var).
    With a = e^{−r(t−τ)/2}, var = 1 − a², this is u(x, τ) = E[φ(U_t) | U_τ = x] of the SDE.
    """
    check_choice(phi, "phi", _PHIS)
    x = np.asarray(x, dtype=np.float64)
    a, var = np.asarray(a, dtype=np.float64), np.asarray(var, dtype=np.float64)
    if phi == "cos":
        return np.cos(a * x) * np.exp(-0.5 * var)
    if phi == "square":
        return a * a * x * x + var
    return np.exp(-(a * x) ** 2 / (1.0 + 2.0 * var)) / np.sqrt(1.0 + 2.0 * var)


def backward_expectation_mc(phi: str, x, betas, start: int, stop: int, n: int,
                            rng: np.random.Generator):
    """Monte Carlo E[φ(U_stop) | U_start = x]: ``n`` chains per x iterated with Eq. (4).

    Returns the means and their standard errors (shape x.shape); ``n ≥ 2`` so that the
    standard error exists. Cost: n · x.size · (stop − start) normal draws.
    """
    check_choice(phi, "phi", _PHIS)
    x = as_float_array(x, "x")
    betas = check_betas(betas)
    n = check_int(n, "n", 2)
    rng = check_rng(rng)
    start = check_int(start, "start", 0, betas.size - 1)
    stop = check_int(stop, "stop", start + 1, betas.size)
    check_memory(float(n) * x.size, f"n = {n} chains for each of the {x.size} values of x")
    check_work(10.0 * n * x.size * (stop - start), f"{n} × {x.size} chains over {stop - start} steps")
    u0 = np.broadcast_to(x, (n,) + x.shape).copy()
    u = forward.iterate_forward(u0, betas[start:stop], [stop - start], rng)[-1]
    vals = _phi(phi, u)
    return vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(n)


def backward_residual(phi: str, sign: int = -1, rate: float = 1.0, t: float = 2.0,
                      tau: float = 1.0, dtau: float = 1e-4, dx: float = 1e-3) -> float:
    """Max over x ∈ [−3, 3] of the residual of the backward equation for u = E[φ(X_t)|X_τ=x].

    Tests ``sign`` · ∂_τ u = ½ m₂ ∂ₓ²u + m₁ ∂ₓu with m₁ = −½ r x, m₂ = r. The standard
    (Kolmogorov) form has sign = −1; sign = +1 is the paper's Eq. (25) read literally.
    Central differences: the residual of the right form is O(dτ² + dx²) plus round-off.
    """
    check_choice(phi, "phi", _PHIS)
    sgn = float(check_choice(sign, "sign", (1, -1)))
    rate = _positive_float(rate, "rate")
    t = _positive_float(t, "t")
    tau = check_real(tau, "tau", 0.0, low_open=False)
    dtau = _positive_float(dtau, "dtau")
    dx = _positive_float(dx, "dx")
    if not tau + dtau < t:
        raise ValueError(f"tau must lie before t (tau + dtau < t: the backward equation runs for τ < t), "
                         f"got tau = {tau}, dtau = {dtau}, t = {t}")
    x = np.linspace(-3.0, 3.0, 61)

    def u(xx, tt):
        a = np.exp(-0.5 * rate * (t - tt))
        return backward_expectation(phi, xx, a, 1.0 - a * a)

    ut = (u(x, tau + dtau) - u(x, tau - dtau)) / (2 * dtau)
    ux = (u(x + dx, tau) - u(x - dx, tau)) / (2 * dx)
    uxx = (u(x + dx, tau) - 2 * u(x, tau) + u(x - dx, tau)) / dx**2
    return float(np.abs(sgn * ut - (0.5 * rate * uxx - 0.5 * rate * x * ux)).max())


# --- chapter-level comparisons ----------------------------------------------------------------


def rate_discrimination(beta: float, step: int, n: int, rng: np.random.Generator,
                        alpha: float = 1e-3) -> dict:
    """Does a Monte Carlo sample of U_i (u_0 = 0) tell the rate β_eff from the rate β?

    Draws ``n`` values of U_step of the chain from u_0 = 0 (closed form, Eq. 5, which has the
    law of iterating Eq. 4) and estimates its variance by the mean of U² (the mean is 0).
    Under rate r the SDE variance is 1 − e^{−r i}. Returns the estimate, its standard error
    √(2/n)·var, both hypothesised variances, z-scores against each, and the power of the
    two-sided level-``alpha`` variance test (:func:`lib.stats.variance_test_power`) to reject
    rate β when the truth is the chain.
    """
    beta = check_beta(beta)
    step = check_int(step, "step", 1)
    n = check_int(n, "n", 1)
    rng = check_rng(rng)
    betas = schedules.constant_betas(beta, step)
    u = forward.sample_marginal(np.zeros(n), betas, step, rng)
    est = float(np.mean(u * u))
    v_eff = float(ou_variance(float(effective_rate(beta)[0]), step))
    v_naive = float(ou_variance(beta, step))
    se = float(np.sqrt(2.0 / n) * v_eff)
    return {
        "estimate": est, "se": se, "var_eff": v_eff, "var_naive": v_naive,
        "difference": v_eff - v_naive,
        "z_eff": (est - v_eff) / se, "z_naive": (est - v_naive) / se,
        "power": float(variance_test_power(n, v_eff / v_naive, alpha)),
    }


def chain_comparison(beta: float, steps, n_chains: int, rng: np.random.Generator, *,
                     n_cells: int = 400, n_sub: int = 20, bins: int = 80) -> dict:
    """Simulated chains vs the osmosis (finite-volume) solution vs the exact mixture law.

    ``n_chains`` chains start from the bimodal density 0.6 N(−2, 0.3²) + 0.4 N(1.5, 0.5²)
    and are iterated with Eq. (4) (:func:`lib.forward.iterate_forward`, constant β).

    Returns
    -------
    dict with x, h, edges, hist (densities per step), fv, exact (grid densities per step),
    l1_fv (finite volume vs exact), l1_hist (histogram vs exact bin probabilities),
    l1_hist_expected (its mean under the exact law, Σ √(2 p_k (1 − p_k) / (π n))), ks_stat and
    ks_p (Kolmogorov–Smirnov of the chains against the exact CDF).
    """
    beta = check_beta(beta)
    rng = check_rng(rng)
    n_chains = check_int(n_chains, "n_chains", 1)
    steps = np.atleast_1d(np.asarray(steps))
    if steps.dtype.kind not in "iu" or steps.ndim != 1 or np.any(steps < 1):
        raise ValueError(f"steps must be a 1-D sequence of positive integers (no silent truncation), got {steps!r}")
    w, m, s, _ = _case()
    comp = rng.choice(len(w), size=n_chains, p=np.asarray(w) / np.sum(w))
    u0 = rng.normal(np.asarray(m)[comp], np.asarray(s)[comp])
    betas = schedules.constant_betas(beta, int(steps.max()))
    chains = forward.iterate_forward(u0, betas, steps, rng)
    x, h = grid(n_cells)
    fv = solve_fokker_planck(mixture_pdf(x, w, m, s), x, h, osmosis_time(betas, steps), n_sub)
    ab = schedules.alpha_bar(betas)[steps]
    laws = [mixture_marginal(w, m, s, a) for a in ab]
    exact = np.array([mixture_pdf(x, *law) for law in laws])
    edges = np.linspace(-5.0, 5.0, bins + 1)
    hist, l1_hist, l1_exp, ks_stat, ks_p = [], [], [], [], []
    for u, law in zip(chains, laws):
        counts, _ = np.histogram(u, bins=edges)
        dens = counts / (n_chains * np.diff(edges))
        cdf = mixture_cdf(edges, *law)
        hist.append(dens)
        pk = np.diff(cdf)
        l1_exp.append(float(np.sqrt(2.0 * pk * (1.0 - pk) / (np.pi * n_chains)).sum()))
        outside = cdf[0] + 1.0 - cdf[-1]
        l1_hist.append(float(np.abs(dens * np.diff(edges) - np.diff(cdf)).sum() + outside))
        res = _st.kstest(u, lambda z, law=law: mixture_cdf(z, *law))
        ks_stat.append(float(res.statistic))
        ks_p.append(float(res.pvalue))
    return {"x": x, "h": h, "edges": edges, "hist": np.array(hist), "fv": fv,
            "exact": exact, "l1_fv": l1_error(fv, exact, h), "l1_hist": np.array(l1_hist),
            "l1_hist_expected": np.array(l1_exp),
            "ks_stat": np.array(ks_stat), "ks_p": np.array(ks_p), "steps": steps}
