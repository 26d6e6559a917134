"""Companion of the chapter *The forward process* (paper Eqs. 1–5, Fig. 1): its verdicts,
the independent-draws sampler it contrasts with a trajectory, the correlation that says how much
of the cat a snapshot still holds, and its tables, figures and explorer."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats as _st

from lib.core import forward, schedules
from lib.core._validation import as_float_array, check_alpha_bar, check_betas, check_steps

from .common import (COLUMN_WIDTH, Explorer, player, report_table, same_length, show_image, styled,
                     trajectory_grid)
from .prose import Verdict

__all__ = [
    "VERDICTS",
    "expected_correlation",
    "forward_explorer",
    "law_check_figure",
    "power_figure",
    "report_table",
    "sample_marginals",
    "schedules_figure",
    "signal_correlation",
    "trajectory_grid",
    "trajectory_player",
]

VERDICTS = (
    Verdict(
        claim="Eqs. (3)–(4)",
        paper=r"Gaussian transitions; one step $U_i=\sqrt{1-\beta_i}\,U_{i-1}+\sqrt{\beta_i}\,G$",
        verdict="holds",
        detail="iterating Eq. (4) passes every test of the law of the chain at level $10^{-3}$",
        section="sec-forward-check",
    ),
    Verdict(
        claim="Eq. (5)",
        paper=r"closed form of $p(u_i\mid u_0)$, with products $\prod_{j=0}^{i}(1-\beta_j)$",
        verdict="holds with correction",
        detail=r"the product runs over $j=1,\dots,i$ (see {eq}`eq-forward-eq5` with {eq}`eq-forward-alpha-bar`), "
               r"or $\beta_0:=0$ in the printed {eq}`eq-forward-eq5-paper`; the off-by-one reading is detected",
        section="sec-forward-eq5",
    ),
    Verdict(
        claim="Fig. 1(a)",
        paper=r"diffusion trajectory of an image at $\beta=0.02$",
        verdict="holds",
        detail="reproduced on the scikit-image cat, one coherent trajectory per schedule; the cat "
               "stays statistically detectable long after it looks like noise",
        section="sec-forward-fig1a",
    ),
)


def sample_marginals(u0, betas, steps, rng: np.random.Generator) -> np.ndarray:
    """Independent closed-form draws from p(u_i | u_0) at each requested step (paper Eq. 5).

    Each snapshot has the right marginal law, but the snapshots are independent of each other:
    this is *not* a trajectory (compare :func:`lib.core.forward.sample_trajectory`). The chapter
    uses it to show that the innovation test of :func:`lib.core.stats.innovations` tells the
    two apart.

    Returns
    -------
    samples : ndarray, shape (len(steps),) + u0.shape
    """
    n_steps = check_betas(betas).size
    steps = check_steps(steps, n_steps)
    return np.stack([forward.sample_marginal(u0, betas, step, rng) for step in steps.tolist()])


def signal_correlation(snapshots, u0) -> np.ndarray:
    """Pearson correlation of each snapshot u_i with the start u_0, over all pixel values.

    If u_i carried nothing of u_0 (noise independent of it), the correlation over N values
    would be approximately N(0, 1/N): ``correlation · √N`` is the test statistic in standard
    errors.

    Parameters
    ----------
    snapshots : array_like, shape (K,) + u0.shape
    u0 : array_like
        The start, not constant.

    Returns
    -------
    ndarray, shape (K,)
    """
    u0 = as_float_array(u0, "u0").astype(np.float64).ravel()
    snaps = as_float_array(snapshots, "snapshots")
    if snaps.ndim < 1 or snaps[0].size != u0.size:
        raise ValueError(f"snapshots must have shape (K,) + u0.shape, got {snaps.shape}")
    if np.ptp(u0) == 0:
        raise ValueError("u0 must not be constant (its correlation is undefined)")
    f = (u0 - u0.mean()) / u0.std()
    x = snaps.reshape(snaps.shape[0], -1).astype(np.float64)
    x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return x @ f / u0.size


def expected_correlation(u0, alpha_bar):
    """Correlation of u_i = √ᾱ u_0 + √(1−ᾱ) g with u_0 over the pixels, for large images.

    With σ² the pixel variance of u_0: ρ = √ᾱ σ / √(ᾱ σ² + 1 − ᾱ) (Eq. 5; the noise is
    uncorrelated with u_0). Vectorised over ``alpha_bar`` in [0, 1].
    """
    var = float(as_float_array(u0, "u0").astype(np.float64).var())
    a = check_alpha_bar(alpha_bar, lower_closed=True, upper_closed=True)
    return np.sqrt(a * var) / np.sqrt(a * var + 1.0 - a)


@styled
def schedules_figure(betas, labels):
    """β_i and ᾱ_i against the step i for several schedules (two panels).

    Parameters
    ----------
    betas : sequence of arrays
        One schedule β_1 … β_T per curve.
    labels : sequence of str
        Legend label of each schedule.
    """
    import matplotlib.pyplot as plt

    betas, labels = same_length(betas=betas, labels=labels)
    fig, (ax_b, ax_a) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0), layout="constrained")
    for b, label in zip(betas, labels):
        ab = schedules.alpha_bar(b)
        ax_b.plot(np.arange(1, len(b) + 1), b, label=label)
        ax_a.plot(np.arange(ab.size), ab, label=label)
    ax_b.set(xlabel="step $i$", ylabel=r"$\beta_i$", yscale="log", title=r"noise variance per step $\beta_i$")
    ax_a.set(xlabel="step $i$", ylabel=r"$\bar\alpha_i$",
             title=r"signal fraction $\bar\alpha_i=\prod_{j\leq i}(1-\beta_j)$")
    ax_a.legend()
    return fig


@styled
def law_check_figure(samples, labels, *, bins: int = 80):
    """Histogram and normal QQ-plot of standardised samples that should be N(0, 1).

    Parameters
    ----------
    samples : sequence of arrays
        Standardised values, one array per sampler.
    labels : sequence of str
        Legend label of each array.
    """
    import matplotlib.pyplot as plt

    samples, labels = same_length(samples=samples, labels=labels)
    fig, (ax_h, ax_q) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2), layout="constrained")
    grid = np.linspace(-4.5, 4.5, 300)
    ax_h.plot(grid, _st.norm.pdf(grid), "k", lw=1, label=r"$\mathcal{N}(0, 1)$")
    probs = (np.arange(1, 1001) - 0.5) / 1000
    ref = _st.norm.ppf(probs)
    ax_q.plot(ref, ref, "k", lw=1)
    for z, label in zip(samples, labels):
        z = np.asarray(z, dtype=np.float64).ravel()
        ax_h.hist(z, bins=bins, range=(-4.5, 4.5), density=True, histtype="step", label=label)
        ax_q.plot(ref, np.quantile(z, probs), ".", ms=2, label=label)
    ax_h.set(xlabel="standardised value $z$", ylabel="density", title="histogram")
    ax_q.set(xlabel=r"$\mathcal{N}(0, 1)$ quantile", ylabel="sample quantile", title="QQ-plot")
    fig.legend(*ax_h.get_legend_handles_labels(), loc="outside lower center", ncol=2, frameon=False)
    return fig


@styled
def power_figure(steps, power, *, target: float = 0.99, label: str = ""):
    """Power of a test against the step index, with the target power as a dashed line."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.0), layout="constrained")
    ax.plot(steps, power, label=label or None)
    ax.axhline(target, color="k", ls="--", lw=1, label=f"power {target:g}")
    ax.set(xlabel="step $i$", ylabel="power", xscale="log", ylim=(0, 1.02))
    ax.legend()
    return fig


def trajectory_player(snapshots, steps, *, beta: float) -> str:
    """Offline player of one forward trajectory of constant β (HTML)."""
    captions = [f"β = {beta:g}, i = {s}" for s in steps]
    alt = (f"Animation of the cat image under the forward process with constant β = {beta:g}, "
           f"from step {steps[0]} to step {steps[-1]}: the picture fades into Gaussian noise.")
    return player(snapshots, captions, alt=alt, width=3.5)


def forward_explorer(u0, *, max_step: int = 1000, stride: int = 10, seed: int = 0) -> Explorer:
    """ipywidgets explorer of one forward trajectory: sliders for the step i and for β.

    For each β the trajectory is one coherent path (:func:`lib.core.forward.sample_trajectory` at
    every ``stride``-th step, same seed), so moving i shows the path, not independent draws. It
    opens at i = 10. Jupyter only; the static HTML book shows :func:`trajectory_player` instead.
    The explorer's ``result`` is the image shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    u0 = np.asarray(u0)
    steps = np.arange(0, max_step + 1, stride)

    @lru_cache(maxsize=4)
    def path(beta: float) -> np.ndarray:
        betas = schedules.constant_betas(beta, max_step)
        return forward.sample_trajectory(u0.astype(np.float32), betas, steps, np.random.default_rng(seed))

    def draw(i: int, beta: float):
        image = path(float(beta))[int(i) // stride]
        width = 5.0
        fig, ax = plt.subplots(figsize=(width, width * u0.shape[0] / u0.shape[1] + 0.3), layout="constrained")
        show_image(ax, image)
        ax.set_title(rf"$\beta = {beta:.4g}$, $i = {int(i)}$")
        return fig, image

    return Explorer(draw, dict(
        i=widgets.IntSlider(value=min(stride, max_step), min=0, max=max_step, step=stride, description="step i"),
        beta=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=-0.7, step=0.05, description="β"),
    ))
