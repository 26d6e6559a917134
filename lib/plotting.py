"""All figures, players and widgets of the book (the only module that draws).

Functions take computed arrays and return matplotlib figures, HTML strings or ipywidgets; the
numerics they show live in the other modules of :mod:`lib`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import matplotlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from scipy import stats as _st

from . import forward, schedules

__all__ = [
    "forward_explorer",
    "plot_power",
    "report_table",
    "plot_law_check",
    "plot_schedules",
    "plot_trajectory_grid",
    "to_display",
    "trajectory_player",
]


def to_display(u) -> np.ndarray:
    """Map values in [−1, 1] to displayable intensities in [0, 1], clipping the rest."""
    return np.clip((np.asarray(u, dtype=np.float64) + 1.0) / 2.0, 0.0, 1.0)


def _imshow(ax, u) -> matplotlib.image.AxesImage:
    u = to_display(u)
    ax.set_xticks([])
    ax.set_yticks([])
    if u.ndim == 2:
        return ax.imshow(u, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    return ax.imshow(u, interpolation="nearest")


def plot_trajectory_grid(rows: dict, steps, *, width: float = 1.6) -> plt.Figure:
    """Image grid: one row per trajectory, one column per step (as in the paper's Fig. 1).

    Parameters
    ----------
    rows : dict
        ``label -> snapshots`` with ``snapshots[k]`` the image at ``steps[k]`` (values in [−1, 1]).
    steps : sequence of int
        Column titles.
    width : float
        Width of one panel in inches.
    """
    steps = list(steps)
    if not rows:
        raise ValueError("rows must hold at least one trajectory")
    for label, snaps in rows.items():
        if len(snaps) != len(steps):
            raise ValueError(f"row {label!r} has {len(snaps)} snapshots for {len(steps)} steps")
    first = np.asarray(next(iter(rows.values()))[0])
    aspect = first.shape[0] / first.shape[1]
    fig, axes = plt.subplots(
        len(rows), len(steps), figsize=(width * len(steps), width * aspect * len(rows) + 0.5),
        squeeze=False, layout="constrained",
    )
    for r, (label, snaps) in enumerate(rows.items()):
        for c, step in enumerate(steps):
            _imshow(axes[r, c], snaps[c])
            if r == 0:
                axes[r, c].set_title(f"i = {step}", fontsize=9)
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def plot_schedules(betas_by_name: dict) -> plt.Figure:
    """β_i and ᾱ_i against the step i for several schedules (two panels)."""
    fig, (ax_b, ax_a) = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
    for name, betas in betas_by_name.items():
        ab = schedules.alpha_bar(betas)
        ax_b.plot(np.arange(1, len(betas) + 1), betas, label=name)
        ax_a.plot(np.arange(ab.size), ab, label=name)
    ax_b.set(xlabel="step i", ylabel=r"$\beta_i$", yscale="log", title=r"noise variance per step $\beta_i$")
    ax_a.set(xlabel="step i", ylabel=r"$\bar\alpha_i$", title=r"signal fraction $\bar\alpha_i=\prod_{j\leq i}(1-\beta_j)$")
    ax_a.legend(fontsize=8)
    return fig


def plot_law_check(samples: dict, *, bins: int = 80) -> plt.Figure:
    """Histogram and normal QQ-plot of standardised samples that should be N(0, 1).

    Parameters
    ----------
    samples : dict
        ``label -> array`` of standardised values.
    """
    fig, (ax_h, ax_q) = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
    grid = np.linspace(-4.5, 4.5, 300)
    ax_h.plot(grid, _st.norm.pdf(grid), "k", lw=1, label="N(0, 1)")
    probs = (np.arange(1, 1001) - 0.5) / 1000
    ref = _st.norm.ppf(probs)
    ax_q.plot(ref, ref, "k", lw=1)
    for label, z in samples.items():
        z = np.asarray(z, dtype=np.float64).ravel()
        ax_h.hist(z, bins=bins, range=(-4.5, 4.5), density=True, histtype="step", label=label)
        ax_q.plot(ref, np.quantile(z, probs), ".", ms=2, label=label)
    ax_h.set(xlabel="standardised value z", ylabel="density", title="histogram")
    ax_q.set(xlabel="N(0, 1) quantile", ylabel="sample quantile", title="QQ-plot")
    ax_h.legend(fontsize=8)
    return fig


def report_table(reports: dict, alpha: float = 1e-3) -> str:
    """HTML table of :class:`lib.stats.TrajectoryReport` objects, one row per sampler."""
    head = (
        "<table><thead><tr><th>sampler</th><th>marginals (Eq. 5): p</th>"
        "<th>innovations: p</th><th>largest lag correlation</th><th>combined p</th>"
        f"<th>law of Eq. (4) at α = {alpha:g}</th></tr></thead><tbody>"
    )
    rows = []
    for name, rep in reports.items():
        verdict = "not rejected" if rep.passes(alpha) else "<b>rejected</b>"
        rows.append(
            f"<tr><td>{name}</td><td>{rep.marginal_pvalue:.3g}</td><td>{rep.innovations.pvalue:.3g}</td>"
            f"<td>{rep.max_lag_z:.1f} SE</td><td>{rep.pvalue:.3g}</td><td>{verdict}</td></tr>"
        )
    return head + "".join(rows) + "</tbody></table>"


def plot_power(steps, power, *, target: float = 0.99, label: str = "") -> plt.Figure:
    """Power of a test against the step index, with the target power as a dashed line."""
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.plot(steps, power, label=label or None)
    ax.axhline(target, color="k", ls="--", lw=1, label=f"power {target:g}")
    ax.set(xlabel="step i", ylabel="power", xscale="log", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    return fig


def trajectory_player(snapshots, steps, *, title: str = "", interval: int = 250, width: float = 4.0) -> str:
    """A self-contained HTML player (matplotlib ``to_jshtml``) stepping through snapshots.

    It needs no kernel and no network: frames are embedded as JPEG data and driven by inline
    JavaScript, so the slider and buttons work in the static HTML book.

    Returns
    -------
    str
        HTML to show with ``IPython.display.HTML``.
    """
    snapshots = np.asarray(snapshots)
    steps = list(steps)
    if len(steps) != len(snapshots):
        raise ValueError(f"got {len(snapshots)} snapshots for {len(steps)} steps")
    aspect = snapshots.shape[1] / snapshots.shape[2]
    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": 100}):
        fig, ax = plt.subplots(figsize=(width, width * aspect + 0.4), layout="constrained")
        image = _imshow(ax, snapshots[0])
        label = ax.set_title(f"{title} i = {steps[0]}".strip(), fontsize=10)

        def update(k):
            image.set_data(to_display(snapshots[k]))
            label.set_text(f"{title} i = {steps[k]}".strip())
            return image, label

        anim = animation.FuncAnimation(fig, update, frames=len(steps), interval=interval, blit=False)
        html = anim.to_jshtml(default_mode="once")
        plt.close(fig)
    return _offline_player(html)


# matplotlib's player loads Font Awesome 4 from a CDN for its button icons; the book must not
# touch the network, so the stylesheet link goes and the icons become plain Unicode symbols.
_PLAYER_ICONS = {  # symbols that common system fonts (DejaVu, Segoe, Helvetica) all have
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u21e4",
    "fa fa-step-backward": "\u25c1",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u2016",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b7",
    "fa fa-fast-forward": "\u21e5",
    "fa fa-plus": "+",
}


def _offline_player(html: str) -> str:
    html, n_links = re.subn(r"<link[^>]*font-awesome[^>]*>", "", html)
    for css, symbol in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', f'<span aria-hidden="true">{symbol}</span>')
    if n_links != 1 or "fa fa-" in html or "https://" in html:
        raise RuntimeError("matplotlib's to_jshtml output changed; update lib.plotting._offline_player")
    return html


def forward_explorer(u0, *, max_step: int = 1000, stride: int = 10, seed: int = 0):
    """ipywidgets explorer of one forward trajectory: sliders for the step i and for β.

    For each β the trajectory is one coherent path (:func:`lib.forward.sample_trajectory` at
    every ``stride``-th step, same seed), so moving i shows the path, not independent draws.
    Works in a live Jupyter kernel; the static HTML book shows :func:`trajectory_player` instead.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the image currently shown.
    """
    import ipywidgets as widgets

    u0 = np.asarray(u0)
    steps = np.arange(0, max_step + 1, stride)

    @lru_cache(maxsize=4)
    def path(beta: float) -> np.ndarray:
        betas = schedules.constant_betas(beta, max_step)
        return forward.sample_trajectory(u0.astype(np.float32), betas, steps, np.random.default_rng(seed))

    def show(i: int, beta: float) -> np.ndarray:
        image = path(float(beta))[int(i) // stride]
        fig, ax = plt.subplots(figsize=(5, 5 * u0.shape[0] / u0.shape[1]), layout="constrained")
        _imshow(ax, image)
        ax.set_title(f"β = {beta:.4g}, i = {i}")
        plt.show()
        return image

    return widgets.interactive(
        show,
        i=widgets.IntSlider(value=steps[min(10, steps.size - 1)], min=0, max=max_step, step=stride, description="step i"),
        beta=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=-0.7, step=0.05, description="β"),
    )
