"""Companion of the chapter *Convergence to the steady state* (paper Property 5): its figures
and explorer."""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from lib import schedules, steady_state

from .common import COLUMN_WIDTH, Curve, Explorer, same_length, styled, trajectory_grid

__all__ = [
    "detectability_figure",
    "kl_ratio_figure",
    "memory_figure",
    "pixel_law_grid",
    "rates_figure",
    "steady_state_explorer",
    "trajectory_grid",
]

_KL = r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$ [nats]"


@styled
def rates_figure(steps, mean, cov, kl, kl_lead, labels, *, mc: Curve | None = None, mc_of: int = 0):
    """Distance of p(u_i) from N(0, I) against the step i: mean, covariance and KL (Property 5).

    Parameters
    ----------
    steps : array
        The steps i of every curve.
    mean, cov, kl, kl_lead : sequences of arrays
        One array per schedule: ‖E U_i‖, ‖Cov U_i − I‖_F, the closed-form KL of the Gaussian
        training data and its leading-order prediction ½ ᾱ_i ‖m‖².
    labels : sequence of str
        Schedule names.
    mc : Curve, optional
        Monte Carlo KL estimates for the digit mixture, with standard errors (± 2 SE bars).
    mc_of : int
        Index of the schedule ``mc`` belongs to (it takes that schedule's colour).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    mean, cov, kl, kl_lead, labels = same_length(mean=mean, cov=cov, kl=kl, kl_lead=kl_lead, labels=labels)
    fig = plt.figure(figsize=(COLUMN_WIDTH, 6.6), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    ax_m, ax_c, ax_k = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    for k, label in enumerate(labels):
        ax_m.plot(steps, mean[k], color=f"C{k}", label=label)
        ax_c.plot(steps, cov[k], color=f"C{k}")
        ax_k.plot(steps, kl[k], color=f"C{k}")
        ax_k.plot(steps, kl_lead[k], color=f"C{k}", ls=":", lw=1.5)
    if mc is not None:
        ax_k.errorbar(mc.x, mc.y, yerr=2 * mc.se, fmt="o", ms=4, mfc="none", color=f"C{mc_of}")
    proxies = [
        Line2D([], [], color="k", label="Gaussian training data: exact"),
        Line2D([], [], color="k", ls=":", label=r"leading order $\frac{1}{2}\bar\alpha_i\|m\|^2$"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="digit mixture: Monte Carlo ± 2 SE"),
    ]
    ax_m.set(ylabel=r"$\|\mathrm{E}\,U_i\| = \sqrt{\bar\alpha_i}\,\|m\|$", title="mean")
    ax_c.set(ylabel=r"$\|\mathrm{Cov}\,U_i - I\|_F$", title="covariance")
    ax_k.set(ylabel=_KL, title="Kullback–Leibler divergence")
    for ax in (ax_m, ax_c, ax_k):
        ax.set(xlabel="step $i$", yscale="log")
    ax_m.legend()
    ax_k.legend(handles=proxies, loc="lower left")
    return fig


@styled
def kl_ratio_figure(alpha_bar, ratios, predictions, labels, *, mc: Curve | None = None, ylim=(0.9, 2.0)):
    """KL divided by its leading-order term against ᾱ_i (log axis): it must tend to 1.

    Parameters
    ----------
    alpha_bar : array
        ᾱ values of the exact curves.
    ratios, predictions : sequences of arrays
        Per case: the exact ratio and its next-order prediction (drawn dashed).
    labels : sequence of str
    mc : Curve, optional
        Monte Carlo ratios against ᾱ with standard errors (± 2 SE bars); its label is used.
    ylim : tuple
        Range of the ratio axis.
    """
    import matplotlib.pyplot as plt

    ratios, predictions, labels = same_length(ratios=ratios, predictions=predictions, labels=labels)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6), layout="constrained")
    for ratio, predicted, label in zip(ratios, predictions, labels):
        (line,) = ax.plot(alpha_bar, ratio, label=f"{label}: exact")
        ax.plot(alpha_bar, predicted, ls="--", lw=1, color=line.get_color(), label=f"{label}: next-order prediction")
    if mc is not None:
        ax.errorbar(mc.x, mc.y, yerr=2 * mc.se, fmt="o", ms=4, mfc="none", label=f"{mc.label}: MC ± 2 SE")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xscale="log", xlabel=r"$\bar\alpha_i$", ylabel="KL / leading-order term", ylim=ylim)
    ax.legend(loc="upper left")
    return fig


@styled
def memory_figure(curves, *, limit: float | None = None, limit_of: int = 0):
    """KL(p(u_i) ‖ N(0, I)) against i on log–log axes for schedules with Σβ = ∞ and Σβ < ∞.

    Parameters
    ----------
    curves : sequence of :class:`~lib.chapters.common.Curve`
        KL against the step, one per schedule.
    limit : float, optional
        The limit KL as i → ∞ of schedule ``limit_of`` (dashed horizontal line).
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6), layout="constrained")
    for k, c in enumerate(curves):
        ax.plot(c.x, c.y, color=f"C{k}", label=c.label)
    if limit is not None:
        ax.axhline(limit, ls="--", lw=1, color=f"C{limit_of}", label=f"limit: {limit:.3g} nats")
    ax.set(xscale="log", yscale="log", xlabel="step $i$", ylabel=_KL)
    ax.legend()
    return fig


@styled
def detectability_figure(steps, shift, ks_steps, ks, labels, sims, z_crit: float, k_crit: float):
    """Detectability of u_0 in one draw of u_i: expected test statistics against i, and draws.

    Parameters
    ----------
    steps, ks_steps : arrays
        Steps of the expected matched-correlation statistic and of the KS distance.
    shift, ks : sequences of arrays
        Per schedule: expected δ_i at ``steps`` and √n × pooled KS distance at ``ks_steps``.
    labels : sequence of str
    sims : sequence of (steps, z, ks) or None
        Per schedule, the statistics of simulated draws (or None).
    z_crit, k_crit : float
        Critical values of the two tests (horizontal dashed lines).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    shift, ks, labels, sims = same_length(shift=shift, ks=ks, labels=labels, sims=sims)
    fig, (ax_z, ax_k) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.2), layout="constrained")
    handles = []
    for k, label in enumerate(labels):
        colour = f"C{k}"
        ax_z.plot(steps, shift[k], color=colour)
        ax_k.plot(ks_steps, ks[k], color=colour)
        handles.append(Line2D([], [], color=colour, label=label))
        if sims[k] is not None:
            s_steps, z, ks_sim = sims[k]
            ax_z.plot(s_steps, np.abs(z), "o", ms=5, mfc="none", color=colour)
            ax_k.plot(s_steps, ks_sim, "o", ms=5, mfc="none", color=colour)
    ax_z.axhline(z_crit, color="k", ls="--", lw=1)
    ax_k.axhline(k_crit, color="k", ls="--", lw=1)
    handles += [
        Line2D([], [], color="k", label="expected (lines)"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="one simulated draw"),
        Line2D([], [], color="k", ls="--", lw=1, label="critical value at the level"),
    ]
    ax_z.set(yscale="log", xlabel="step $i$", ylabel=r"$|Z|$", ylim=(1e-2, None),
             title="matched correlation with $f$\n(knows $f$)")
    ax_k.set(yscale="log", xlabel="step $i$", ylabel=r"$\sqrt{n}\,D$", ylim=(1e-1, None),
             title=r"KS against $\mathcal{N}(0, 1)$" + "\n(blind)")
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return fig


def _pixel_law_row(axes, u, f, alpha_bar: float, *, bins: int = 24) -> None:
    """Histogram, QQ-plot and binned mean against f of the pixel values of one draw u_i."""
    u = np.asarray(u, dtype=np.float64).ravel()
    f = np.asarray(f, dtype=np.float64).ravel()
    ax_h, ax_q, ax_m = axes
    grid = np.linspace(-4.5, 4.5, 300)
    density, edges = np.histogram(u, bins=90, range=(-4.5, 4.5), density=True)
    ax_h.stairs(density, edges, fill=True, color="C0", alpha=0.6)
    ax_h.plot(grid, _st.norm.pdf(grid), "k", lw=1)
    probs = (np.arange(1, 501) - 0.5) / 500
    ref = _st.norm.ppf(probs)
    ax_q.plot(ref, ref, "k", lw=1)
    ax_q.plot(ref, np.quantile(u, probs), ".", ms=2)
    # bins of (nearly) equal pixel count, so that every binned mean has a comparable error
    order = np.argsort(f, kind="stable")
    which = np.empty(f.size, dtype=np.int64)
    which[order] = np.arange(f.size) * bins // f.size
    count = np.bincount(which, minlength=bins)
    keep = count > 0
    mean_u = np.bincount(which, weights=u, minlength=bins)[keep] / count[keep]
    centre = np.bincount(which, weights=f, minlength=bins)[keep] / count[keep]
    se = np.sqrt(max(1.0 - alpha_bar, 1e-12) / count[keep])
    ax_m.errorbar(centre, mean_u, yerr=se, fmt=".", ms=3, lw=0.8, label="binned mean ± SE")
    ax_m.plot(centre, np.sqrt(alpha_bar) * centre, "k", lw=1, label=r"$\sqrt{\bar\alpha_i}\,f$")
    ax_m.axhline(0.0, color="0.6", lw=0.8)
    z = steady_state.correlation_z(u, f)
    _, p_ks = steady_state.ks_normal(u)
    ax_h.set_title(f"histogram, KS $p$ = {p_ks:.2g}")
    ax_q.set_title(r"QQ-plot vs $\mathcal{N}(0, 1)$")
    ax_m.set_title(f"mean of $u_i$ in bins of $f$\n$Z$ = {z:.2f}")


@styled
def pixel_law_grid(snapshots, f, alpha_bars, labels):
    """One row per draw: histogram, QQ-plot and binned mean against f of the pixels of u_i.

    The static counterpart of :func:`steady_state_explorer`.

    Parameters
    ----------
    snapshots : sequence of arrays
        Draws u_i started from f (each with f's number of values).
    f : array_like
        The initial image u_0.
    alpha_bars : sequence of float
        ᾱ_i of each draw.
    labels : sequence of str
        Row labels, e.g. ``"linear, i = 1000"``.
    """
    import matplotlib.pyplot as plt

    snapshots, alpha_bars, labels = same_length(snapshots=snapshots, alpha_bars=alpha_bars, labels=labels)
    rows = len(labels)
    height = 2.3 * rows + 0.6
    fig, axes = plt.subplots(rows, 3, figsize=(COLUMN_WIDTH, height), squeeze=False)
    # fixed margins instead of constrained layout: the layout solver costs a second per figure
    fig.subplots_adjust(left=0.1, right=0.99, bottom=0.5 / height, top=1 - 0.45 / height,
                        wspace=0.3, hspace=0.75)
    for row, (u, ab, label) in enumerate(zip(snapshots, alpha_bars, labels)):
        _pixel_law_row(axes[row], u, f, float(ab))
        axes[row, 0].set_ylabel(label)
    axes[-1, 0].set_xlabel("pixel value")
    axes[-1, 1].set_xlabel(r"$\mathcal{N}(0, 1)$ quantile")
    axes[-1, 2].set_xlabel("grey value of $f$")
    return fig


def steady_state_explorer(f, betas, names, *, seed: int = 0) -> Explorer:
    """ipywidgets explorer of the pixel statistics of u_i: a menu for the schedule, a slider for i.

    Each position shows u_i = √ᾱ_i f + √(1 − ᾱ_i) ξ (Eq. 5) with one fixed noise image ξ, so that
    moving the slider changes only ᾱ_i: histogram and QQ-plot against N(0, 1), and the mean of
    the pixels of u_i given their grey value in f. The ᾱ of every schedule are computed once.
    Jupyter only; the static HTML book shows :func:`pixel_law_grid` instead. The explorer's
    ``result`` is the array u_i shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    f = np.asarray(f, dtype=np.float64)
    xi = np.random.default_rng(seed).standard_normal(f.shape)
    betas, names = same_length(betas=betas, names=names)
    alpha_bars = [schedules.alpha_bar(b) for b in betas]
    n_steps = min(ab.size - 1 for ab in alpha_bars)

    def draw(schedule: int, i: int):
        ab = float(alpha_bars[schedule][int(i)])
        u = np.sqrt(ab) * f + np.sqrt(1.0 - ab) * xi
        fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 3.0))
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.74, wspace=0.3)
        _pixel_law_row(axes, u, f, ab)
        fig.suptitle(rf"{names[schedule]}, $i = {int(i)}$, $\bar\alpha_i$ = {ab:.3g}")
        return fig, u

    return Explorer(draw, dict(
        schedule=widgets.Dropdown(options=[(name, k) for k, name in enumerate(names)], value=0,
                                  description="schedule"),
        i=widgets.IntSlider(value=min(500, n_steps), min=0, max=n_steps, step=1, description="step i"),
    ))
