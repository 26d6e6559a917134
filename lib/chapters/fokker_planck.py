"""Companion of the chapter *The Feller PDE and density evolution as osmosis* (paper
Eqs. 23–25): its figures and explorer."""

from __future__ import annotations

import numpy as np

from lib import fokker_planck, forward, schedules

from .common import COLUMN_WIDTH, Explorer, convergence_orders, html_table, same_length, styled

__all__ = [
    "BIMODAL_START",
    "convergence_orders",
    "density_grid",
    "feller_moments_figure",
    "fokker_planck_explorer",
    "html_table",
]

#: The chapter's initial density 0.6 N(−2, 0.3²) + 0.4 N(1.5, 0.5²): (weights, means, sds).
BIMODAL_START = ((0.6, 0.4), (-2.0, 1.5), (0.3, 0.5))


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
    :func:`lib.forward.sample_trajectory`; the osmosis curve is
    :func:`lib.fokker_planck.solve_fokker_planck` at t_osm = −½ ln ᾱ_i. Everything is computed
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
    paths = forward.sample_trajectory(u0, betas, steps, rng)
    x, h = fokker_planck.grid(n_cells)
    p0 = fokker_planck.mixture_pdf(x, w, m, s)
    t = fokker_planck.osmosis_time(betas, steps[1:])
    fv = np.vstack([p0, fokker_planck.solve_fokker_planck(p0, x, h, t, 10)])
    ab = schedules.alpha_bar(betas)
    edges = np.linspace(-4, 4, 61)

    def draw(i: int):
        k = int(i) // stride
        density, _ = np.histogram(paths[k], bins=edges, density=True)
        exact = fokker_planck.mixture_pdf(x, *fokker_planck.mixture_marginal(w, m, s, ab[steps[k]]))
        fig, ax = plt.subplots(figsize=(6.0, 3.5))
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.9)
        _density_panel(ax, x, edges, density, fv[k], exact, rf"$\beta = {beta:g}$, $i = {steps[k]}$")
        return fig, int(steps[k])

    return Explorer(draw, dict(
        i=widgets.IntSlider(value=stride * 5, min=0, max=max_step, step=stride, description="step i")))
