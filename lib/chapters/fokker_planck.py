"""Companion of the chapter *The Feller PDE and density evolution as osmosis* (paper
Eqs. 23–25, Sec. 4.1): Feller moments of one step, the forward and backward equations checked on
exact solutions, the chain against the osmosis (finite-volume) solution, figures and explorer.

The finite-volume solver, the time parametrisation and the exact 1-D mixture laws are
:mod:`lib.core.fokker_planck`. Conventions as there: ``betas[i - 1] = β_i``; the SDE is
dX = −½ r(t) X dt + √r(t) dW with Feller moments m₁ = −½ r x, m₂ = r, exact at integer times for
r = β_eff = −ln(1 − β).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from lib.core import forward as fwd
from lib.core import schedules
from lib.core._validation import (as_float_array, check_beta, check_betas, check_choice, check_int,
                                  check_memory, check_positive_real, check_real, check_rng,
                                  check_same_shape, check_work)
from lib.core.fokker_planck import (effective_rate, grid, mixture_cdf, mixture_marginal, mixture_pdf,
                                    osmosis_time, solve_fokker_planck)
from lib.core.stats import variance_test_power

from .common import COLUMN_WIDTH, Explorer, convergence_orders, html_table, same_length, styled
from .prose import Verdict

__all__ = [
    "BIMODAL_START",
    "VERDICTS",
    "backward_expectation",
    "backward_expectation_mc",
    "backward_residual",
    "chain_comparison",
    "convergence_orders",
    "density_grid",
    "estimate_step_moments",
    "feller_moments_figure",
    "fokker_planck_explorer",
    "forward_residual",
    "html_table",
    "l1_error",
    "observed_order",
    "ou_variance",
    "rate_discrimination",
    "space_convergence",
    "step_moments",
    "time_convergence",
]

#: The chapter's initial density 0.6 N(−2, 0.3²) + 0.4 N(1.5, 0.5²): (weights, means, sds).
BIMODAL_START = ((0.6, 0.4), (-2.0, 1.5), (0.3, 0.5))

VERDICTS = (
    Verdict(
        claim="Eq. (23)",
        paper="the Feller moments $m_1$, $m_2$, {eq}`eq-fp-23`",
        verdict="holds",
        detail=r"in continuous time: $m_1=-\tfrac12 r x$, $m_2=r$ with rate $r=-\ln(1-\beta)$, not "
               r"$\beta$ (a large sample tells them apart; see {eq}`eq-fp-tosm`); the moments need the "
               r"conditional, not the joint, density",
        section="sec-feller-moments",
    ),
    Verdict(
        claim="Eq. (24)",
        paper="the forward (Fokker–Planck) equation {eq}`eq-fp-24-paper`",
        verdict="holds with correction",
        detail=r"with $m_1$ the mean increment the drift term is $-\partial_x(m_1p)$, not $+$, as in "
               r"{eq}`eq-fp-24`",
        section="sec-feller-signs",
    ),
    Verdict(
        claim="Eq. (25)",
        paper="the backward (Kolmogorov) equation {eq}`eq-fp-25-paper`",
        verdict="holds with correction",
        detail=r"the left-hand side is $-\partial_\tau p$, as in {eq}`eq-fp-25`",
        section="sec-feller-signs",
    ),
    Verdict(
        claim="Sec. 4.1",
        paper="probabilistic diffusion as a 1-D osmosis equation on the density",
        verdict="holds",
        detail=r"for the density of one pixel's grey value: osmosis with guidance $\varphi$ (drift "
               r"$-x$) reproduces $p(u_i)$ at $t_{\mathrm{osm}}=-\tfrac12\ln\bar\alpha_i$ "
               r"by {eq}`eq-fp-osmosis`; osmosis of images (Fig. 1) is only an analogy",
        section="sec-feller-osmosis",
    ),
)


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

    Each point of ``x`` is advanced ``n`` times by :func:`lib.core.forward.forward_step`.

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
    delta = fwd.forward_step(u0, beta, rng) - u0
    d2 = delta * delta
    se = lambda a: a.std(axis=0, ddof=1) / np.sqrt(n)  # noqa: E731
    return delta.mean(axis=0), d2.mean(axis=0), se(delta), se(d2)


# --- time parametrisation ---------------------------------------------------------------


def ou_variance(rate: float, t) -> np.ndarray:
    """Var X_t for the SDE with constant rate r from X_0 = 0: 1 − exp(−r t)."""
    rate = check_positive_real(rate, "rate")
    t = as_float_array(t, "t").astype(np.float64, copy=False)
    if np.any(t < 0):
        raise ValueError(f"t must be non-negative (a time since X_0 = 0), got min {float(t.min())!r}")
    return -np.expm1(-rate * t)


def l1_error(p, q, h: float) -> np.ndarray:
    """h Σ |p − q| along the last axis (L1 distance of two grid densities of the same shape)."""
    p = as_float_array(p, "p")
    q = as_float_array(q, "q")
    check_same_shape(p, q, "p", "q")
    return check_positive_real(h, "h") * np.abs(p - q).sum(axis=-1)




def space_convergence(ns, half_width: float = 8.0, t_osm: float = 0.5) -> np.ndarray:
    """L1 error of the semi-discrete (exact-in-time) solution against the exact mixture law.

    Bimodal start 0.6 N(−2, 0.3²) + 0.4 N(1.5, 0.5²) sampled at cell centres, evolved to
    t_osm (ᾱ = e^{−2 t_osm}). Expected order 2 in h.
    """
    w, m, s = BIMODAL_START
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
    w, m, s = BIMODAL_START
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
    rate = check_positive_real(rate, "rate")
    dt = check_positive_real(dt, "dt")
    t = check_positive_real(t, "t")
    n = check_int(n, "n", 11)
    if dt >= t:
        raise ValueError(f"dt must be smaller than t (central differences at t ± dt), got dt = {dt}, t = {t}")
    w, m, s = BIMODAL_START
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
    u = fwd.iterate_forward(u0, betas[start:stop], [stop - start], rng)[-1]
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
    rate = check_positive_real(rate, "rate")
    t = check_positive_real(t, "t")
    tau = check_real(tau, "tau", 0.0, low_open=False)
    dtau = check_positive_real(dtau, "dtau")
    dx = check_positive_real(dx, "dx")
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
    two-sided level-``alpha`` variance test (:func:`lib.core.stats.variance_test_power`) to reject
    rate β when the truth is the chain.
    """
    beta = check_beta(beta)
    step = check_int(step, "step", 1)
    n = check_int(n, "n", 1)
    rng = check_rng(rng)
    betas = schedules.constant_betas(beta, step)
    u = fwd.sample_marginal(np.zeros(n), betas, step, rng)
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
    and are iterated with Eq. (4) (:func:`lib.core.forward.iterate_forward`, constant β).

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
    w, m, s = BIMODAL_START
    comp = rng.choice(len(w), size=n_chains, p=np.asarray(w) / np.sum(w))
    u0 = rng.normal(np.asarray(m)[comp], np.asarray(s)[comp])
    betas = schedules.constant_betas(beta, int(steps.max()))
    chains = fwd.iterate_forward(u0, betas, steps, rng)
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


# --- figures and explorer --------------------------------------------------------------------


@styled
def feller_moments_figure(x, exact, mc, se, beta: float):
    """Exact and Monte Carlo one-step moments E[Δ | x], E[Δ² | x] with ± 2 SE bars (Eq. 23).

    Parameters
    ----------
    x : array
        Start values u_{i−1}.
    exact, mc, se : (array, array)
        First and second moments: exact, Monte Carlo estimates and their standard errors.
    beta : float
        The step's β (for the leading-order terms −βx/2 and β).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2), layout="constrained")
    names = (r"$\mathrm{E}[\Delta\,|\,x]$", r"$\mathrm{E}[\Delta^2\,|\,x]$")
    lead = (-0.5 * beta * np.asarray(x), np.full(np.shape(x), beta))
    for ax, name, e, m, s, ld in zip(axes, names, exact, mc, se, lead):
        ax.plot(x, e, "k-", lw=1, label="exact")
        ax.plot(x, ld, ":", color="C1", label="leading order")
        ax.errorbar(x, m, yerr=2 * np.asarray(s), fmt="o", ms=3, color="C0", label="Monte Carlo ± 2 SE")
        ax.set(xlabel="$x = u_{i-1}$", title=name)
    axes[0].legend()
    return fig


def _density_panel(ax, x, edges, density, fv, exact, title, legend=True):
    ax.stairs(density, edges, color="0.6", fill=True, alpha=0.5, label="histogram of chains")
    ax.plot(x, exact, "k-", lw=1.2, label="exact Fokker–Planck law")
    ax.plot(x, fv, "--", color="C3", lw=1.2, label="osmosis (finite volumes)")
    ax.set(title=title, xlabel="value $x$", xlim=(-4, 4))
    if legend:
        ax.legend(loc="upper right")


@styled
def density_grid(x, edges, histograms, osmosis, exact, titles):
    """Grid of density panels: histogram of the chains, exact law and osmosis solution.

    Parameters
    ----------
    x : array
        Cell centres of the finite-volume grid.
    edges : array
        Histogram bin edges (shared by all panels).
    histograms, osmosis, exact : sequences of arrays
        Per panel: histogram densities, the osmosis solution and the exact density on ``x``.
    titles : sequence of str
    """
    import matplotlib.pyplot as plt

    histograms, osmosis, exact, titles = same_length(histograms=histograms, osmosis=osmosis, exact=exact,
                                                     titles=titles)
    k = len(titles)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(COLUMN_WIDTH, 2.6 * rows), squeeze=False,
                             sharey=True, layout="constrained")
    for j, ax in enumerate(axes.flat):
        if j < k:
            _density_panel(ax, x, edges, histograms[j], osmosis[j], exact[j], titles[j], legend=False)
        else:
            ax.set_axis_off()
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


def fokker_planck_explorer(*, start=BIMODAL_START, beta: float = 0.02, max_step: int = 300,
                           stride: int = 10, n_chains: int = 20000, n_cells: int = 400,
                           seed: int = 0) -> Explorer:
    """ipywidgets slider over the step i: histogram of chains, exact law and osmosis solution.

    The chains start from the mixture ``start`` = (weights, means, sds) and are simulated by
    :func:`lib.core.forward.sample_trajectory`; the osmosis curve is
    :func:`lib.core.fokker_planck.solve_fokker_planck` at t_osm = −½ ln ᾱ_i. Everything is computed
    once when the explorer opens; the slider only redraws. Jupyter only; the HTML book shows
    :func:`density_grid` instead. The explorer's ``result`` is the step shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    w, m, s = (np.asarray(a, dtype=float) for a in start)
    rng = np.random.default_rng(seed)
    comp = rng.choice(w.size, size=n_chains, p=w / w.sum())
    u0 = rng.normal(m[comp], s[comp])
    betas = schedules.constant_betas(beta, max_step)
    steps = np.arange(0, max_step + 1, stride)
    paths = fwd.sample_trajectory(u0, betas, steps, rng)
    x, h = grid(n_cells)
    p0 = mixture_pdf(x, w, m, s)
    t = osmosis_time(betas, steps[1:])
    fv = np.vstack([p0, solve_fokker_planck(p0, x, h, t, 10)])
    ab = schedules.alpha_bar(betas)
    edges = np.linspace(-4, 4, 61)

    def draw(i: int):
        k = int(i) // stride
        density, _ = np.histogram(paths[k], bins=edges, density=True)
        exact = mixture_pdf(x, *mixture_marginal(w, m, s, ab[steps[k]]))
        fig, ax = plt.subplots(figsize=(6.0, 3.5))
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.9)
        _density_panel(ax, x, edges, density, fv[k], exact, rf"$\beta = {beta:g}$, $i = {steps[k]}$")
        return fig, int(steps[k])

    return Explorer(draw, dict(
        i=widgets.IntSlider(value=stride * 5, min=0, max=max_step, step=stride, description="step i")))
