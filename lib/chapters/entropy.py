"""Companion of the chapter *Lyapunov sequences: entropy* (paper Property 3, Eqs. 9–20,
Propositions 1–2): its figures and explorer."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lib import entropy, steady_state

from .common import (COLUMN_WIDTH, Curve, Explorer, draw_curve, html_table, log_step_axes, same_length,
                     styled)

__all__ = [
    "decomposition_figure",
    "entropy_curves_figure",
    "entropy_explorer",
    "html_table",
    "lyapunov_figure",
    "scale_grid_figure",
    "turn_figure",
]

_H_REF = r"$H(\mathcal{N}(0, I))$"
_KL = r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$"


@styled
def entropy_curves_figure(curves, reference: float, *, zoom=(-8.0, 8.0)):
    """H(U_i) against the step i for several training sets, with the entropy of N(0, I).

    Parameters
    ----------
    curves : sequence of :class:`~lib.chapters.common.Curve`
        Closed forms (no SE) are drawn as lines, Monte Carlo estimates as markers ± 2 SE.
    reference : float
        H(N(0, I)), drawn as a dashed line.
    zoom : (float, float)
        Range of H − H(N(0, I)) shown in the right panel.
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig, (ax, ax_z) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), layout="constrained")
    handles = [draw_curve(ax, c, f"C{k}") for k, c in enumerate(curves)]
    for k, c in enumerate(curves):
        draw_curve(ax_z, c, f"C{k}", offset=reference, label=None)
    handles.append(ax.axhline(reference, color="k", ls="--", lw=1, label=_H_REF))
    ax_z.axhline(0.0, color="k", ls="--", lw=1)
    ax.set(xlabel="step $i$", ylabel=r"$H(U_i)$ [nats]", title="differential entropy")
    ax_z.set(xlabel="step $i$", ylim=zoom, ylabel=r"$H(U_i) - H(\mathcal{N}(0, I))$ [nats]",
             title="zoom near the steady state")
    log_step_axes(ax, ax_z)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def decomposition_figure(entropy_curves, mutual_information, conditional, eq18=None):
    """H(U_i) = H(U_i | U_0) + I(U_0; U_i): the two terms and their sum, for several data sets.

    Parameters
    ----------
    entropy_curves, mutual_information : sequences of :class:`~lib.chapters.common.Curve`
        Monte Carlo H(U_i) and I(U_0; U_i) (with SE) per data set; the labels of the first are
        used in the legend.
    conditional : Curve
        The exact H(U_i | U_0), the same for every data set.
    eq18 : Curve, optional
        The paper's Eq. (18), drawn dotted for comparison.
    """
    import matplotlib.pyplot as plt

    entropy_curves, mutual_information = same_length(entropy_curves=entropy_curves,
                                                     mutual_information=mutual_information)
    fig, (ax_h, ax_i) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), layout="constrained")
    handles = [ax_h.plot(conditional.x, conditional.y, color="k", lw=1.6,
                         label=r"$H(U_i\,|\,U_0)$ (exact, any data)")[0]]
    if eq18 is not None:
        handles.append(ax_h.plot(eq18.x, eq18.y, color="0.5", ls=":", lw=1.6, label="paper's Eq. (18)")[0])
    for k, (h, mi) in enumerate(zip(entropy_curves, mutual_information)):
        handles.append(draw_curve(ax_h, h, f"C{k + 2}", label=rf"$H(U_i)$, {h.label}"))
        draw_curve(ax_i, mi, f"C{k + 2}", label=None)
    ax_h.set(xlabel="step $i$", ylabel="nats", title=r"$H(U_i)$ and $H(U_i\,|\,U_0)$")
    lim = ax_h.get_ylim()
    ax_h.set_ylim(max(lim[0], -60), lim[1])
    ax_i.set(xlabel="step $i$", ylabel="nats", title=r"$I(U_0; U_i) = H(U_i) - H(U_i\,|\,U_0)$")
    log_step_axes(ax_h, ax_i)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def lyapunov_figure(kl, power):
    """The corrected statements: KL(p(u_i) ‖ N(0, I)) and the entropy power N(U_i) against i.

    Parameters
    ----------
    kl, power : sequences of :class:`~lib.chapters.common.Curve`
        One per data set, in the same order (the labels of ``kl`` make the legend).
        N(U_i) ≤ 1 (shaded) is where the entropy power inequality guarantees that H increases.
    """
    import matplotlib.pyplot as plt

    kl, power = same_length(kl=kl, power=power)
    fig, (ax_k, ax_p) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), layout="constrained")
    handles = [draw_curve(ax_k, c, f"C{k}") for k, c in enumerate(kl)]
    for k, c in enumerate(power):
        draw_curve(ax_p, c, f"C{k}", label=None)
    ax_p.axhline(1.0, color="k", ls="--", lw=1)
    ax_p.axhspan(1e-30, 1.0, color="0.85", zorder=0)
    ax_p.text(0.98, 0.04, r"$N(U_i) \leq 1$: $H(U_i)$ must increase", transform=ax_p.transAxes,
              ha="right")
    ax_k.set(yscale="log", xlabel="step $i$", ylabel=f"{_KL} [nats]", title="decreases for every data set")
    ax_p.set(yscale="log", xlabel="step $i$", ylabel=r"$N(U_i) = e^{2H(U_i)/n} / (2\pi e)$",
             title="entropy power")
    lo = min(np.nanmin(c.y) for c in power)
    hi = max(np.nanmax(c.y) for c in power)
    ax_p.set_ylim(lo / 2, hi * 2)
    log_step_axes(ax_k, ax_p)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def turn_figure(probes, bracket, *, scale: float = 1.0, title: str = ""):
    """Monte Carlo estimates of dH/dt (de Bruijn) near the turn of H(U_i), with the bracket.

    Parameters
    ----------
    probes : mapping
        ``step -> (rate, standard error)`` (:class:`lib.entropy.EntropyTurn`).
    bracket : (int, int)
        Last step known to increase and first step known to decrease (shaded between).
    scale : float
        Factor applied to the rates (e.g. −ln(1 − β) for dH/di).
    """
    import matplotlib.pyplot as plt

    steps = np.array(sorted(probes))
    rate = np.array([probes[s][0] for s in steps]) * scale
    se = np.array([probes[s][1] for s in steps]) * abs(scale)
    fig, ax = plt.subplots(figsize=(6.8, 3.3), layout="constrained")
    ax.axvspan(bracket[0], bracket[1], color="C1", alpha=0.25, label="turn of $H$ lies here")
    ax.errorbar(steps, rate, yerr=4 * se, fmt="o", ms=4, capsize=2, label="probe ± 4 SE")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set(xlabel="step $i$", ylabel=r"slope $dH(U_i)/di$ [nats per step]", title=title)
    ax.legend()
    return fig


def _scale_panels(axes, r: dict, reference: float, title: str, x_mc=None) -> list:
    ax_h, ax_k = axes
    x_mc = r["mc_i"] if x_mc is None else x_mc
    g = ax_h.plot(r["i"], np.asarray(r["gauss_h"]) - reference, color="0.5", lw=1.2)[0]
    m = draw_curve(ax_h, Curve(x_mc, r["h"], r["h_se"]), "C3", offset=reference, label=None)
    ax_h.axhline(0.0, color="k", ls="--", lw=0.8)
    ax_k.plot(r["i"], r["gauss_kl"], color="0.5", lw=1.2)
    draw_curve(ax_k, Curve(x_mc, r["kl"], r["kl_se"]), "C3", label=None)
    ax_h.set_title(title)
    ax_h.set(ylim=(-12, 12))
    ax_k.set(yscale="log", xlabel="step $i$")
    log_step_axes(ax_h, ax_k)
    return [m, g]


_SCALE_LEGEND = ["digit mixture: Monte Carlo ± 2 SE", "Gaussian with the same moments (exact)"]


@styled
def scale_grid_figure(results, titles, reference: float):
    """Static counterpart of :func:`entropy_explorer`: one column per data scale c.

    Parameters
    ----------
    results : sequence of dict
        :func:`lib.entropy.entropy_vs_scale` results: ``i, gauss_h, gauss_kl`` (the
        moment-matched Gaussian in closed form, every step; an upper bound on H and a lower
        bound on KL) and ``mc_i, h, h_se, kl, kl_se`` (Monte Carlo for the mixture).
    titles : sequence of str
        Column titles.
    reference : float
        H(N(0, I)).
    """
    import matplotlib.pyplot as plt

    results, titles = same_length(results=results, titles=titles)
    fig, axes = plt.subplots(2, len(results), figsize=(min(COLUMN_WIDTH, 2.2 * len(results) + 1.0), 5.2),
                             squeeze=False, sharex=True, layout="constrained")
    for col, (title, r) in enumerate(zip(titles, results)):
        handles = _scale_panels(axes[:, col], r, reference, title)
    axes[0, 0].set_ylabel(r"$H(U_i) - H(\mathcal{N}(0, I))$")
    axes[1, 0].set_ylabel(_KL)
    fig.legend(handles=handles, labels=_SCALE_LEGEND, loc="outside lower center", ncol=1, frameon=False)
    return fig


def entropy_explorer(data, *, n_steps: int = 1000, n_grid: int = 8, n_samples: int = 80,
                     seed: int = 0) -> Explorer:
    """ipywidgets explorer of Proposition 1: sliders for the data scale c and a constant β.

    The training set is c · ``data``; the panels show H(U_i) − H(N(0, I)) and
    KL(p(u_i) ‖ N(0, I)) against i: the Gaussian with the same moments in closed form at every
    step, and Monte Carlo estimates for the mixture itself (``n_samples`` draws at ``n_grid``
    values of ᾱ). With a constant β, p(u_i) depends on β only through ᾱ_i = (1 − β)^i, so the
    Monte Carlo estimates are computed once per c, on a fixed grid of ᾱ, and drawn at
    i = ln ᾱ / ln(1 − β): moving β costs no sampling, and each c is cached. Jupyter only; the
    static HTML book shows :func:`scale_grid_figure` instead. The explorer's ``result`` is a
    dict with the arrays shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    data = np.asarray(data, dtype=np.float64)
    reference = entropy.standard_normal_entropy(data.shape[1])
    ab_grid = np.exp(-np.geomspace(1e-3, 14.0, n_grid))  # t = −ln ᾱ from 10⁻³ to 14

    @lru_cache(maxsize=32)
    def mixture(c: float) -> dict:
        rng = np.random.default_rng(seed)
        centers = c * data
        h = entropy.mixture_entropy_mc(centers, ab_grid, n_samples, rng, block_size=n_samples).entropy
        kl = steady_state.kl_to_standard_normal_mc(centers, ab_grid, n_samples, rng)
        cov = np.atleast_2d(np.cov(centers, rowvar=False, bias=True))
        return dict(mean=centers.mean(axis=0), cov=cov, h=h.value, h_se=h.standard_error,
                    kl=kl.value, kl_se=kl.standard_error)

    def draw(c: float, beta: float):
        m = mixture(float(c))
        steps = np.arange(1, n_steps + 1)
        ab = (1.0 - beta) ** steps
        keep = ab > 0
        r = dict(i=steps[keep], gauss_h=entropy.gaussian_marginal_entropy(m["cov"], ab[keep]),
                 gauss_kl=steady_state.kl_gaussian_marginal(m["mean"], m["cov"], ab[keep]),
                 mc_i=np.log(ab_grid) / np.log1p(-beta), h=m["h"], h_se=m["h_se"], kl=m["kl"],
                 kl_se=m["kl_se"])
        shown = (r["mc_i"] >= 1) & (r["mc_i"] <= n_steps)
        r.update({k: r[k][shown] for k in ("mc_i", "h", "h_se", "kl", "kl_se")})
        # fixed margins: the constrained-layout solver alone would cost ~0.8 s per redraw
        fig, axes = plt.subplots(2, 1, figsize=(6.0, 5.6), sharex=True)
        fig.subplots_adjust(left=0.14, right=0.98, top=0.94, bottom=0.19, hspace=0.08)
        handles = _scale_panels(axes, r, reference, rf"$c = {c:.3g}$, $\beta = {beta:.3g}$")
        axes[0].set_ylabel(r"$H(U_i) - H(\mathcal{N}(0, I))$")
        axes[1].set_ylabel(_KL)
        fig.legend(handles=handles, labels=_SCALE_LEGEND, loc="lower center", frameon=False)
        return fig, r

    return Explorer(draw, dict(
        c=widgets.FloatLogSlider(value=1.0, base=2, min=-2, max=4, step=0.25, description="scale c"),
        beta=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=-0.7, step=0.1, description="β"),
    ))
