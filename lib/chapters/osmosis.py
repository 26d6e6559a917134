"""Companion of the chapter *Osmosis* (paper Eqs. 26–28, Fig. 1): its tables, figures, player
and explorer."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lib import osmosis

from .common import (COLUMN_WIDTH, Explorer, convergence_orders, html_table, image_grid, player,
                     same_length, show_image, styled, time_curves)

__all__ = [
    "convergence_orders",
    "edge_profiles_figure",
    "html_table",
    "image_rows",
    "osmosis_explorer",
    "osmosis_player",
    "processes_figure",
    "time_curves",
]


def image_rows(rows, titles, row_labels, *, width: float = COLUMN_WIDTH):
    """Image grid with its own titles over every row (Fig. 1 and its variants; JPEG).

    Parameters
    ----------
    rows, titles : sequences of sequences
        ``rows[r][c]`` an image in [−1, 1] (map positive osmosis images with
        :func:`lib.osmosis.grey_to_unit` first) and ``titles[r][c]`` its title.
    row_labels : sequence of str
    """
    return image_grid(rows, titles=titles, row_labels=row_labels, width=width)


@styled
def processes_figure(t, amount, correlation, entropy, labels):
    """Three processes against time: how much of f is left, correlation with f, relative entropy.

    Parameters
    ----------
    t, amount, correlation, entropy : sequences of arrays
        Per process: times (step i or time t > 0), amount of f left
        (:func:`lib.osmosis.amount_of`), correlation with f, and relative entropy with respect
        to the process's own steady state (drawn divided by its first value).
    labels : sequence of str
    """
    import matplotlib.pyplot as plt

    t, amount, correlation, entropy, labels = same_length(t=t, amount=amount, correlation=correlation,
                                                          entropy=entropy, labels=labels)
    fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 3.6), layout="constrained")
    for k, label in enumerate(labels):
        style = dict(color=f"C{k}", label=label, lw=1.3)
        tk = np.asarray(t[k], dtype=float)
        axes[0].plot(tk, amount[k], **style)
        axes[1].plot(tk, correlation[k], **style)
        e = np.asarray(entropy[k], dtype=float)
        axes[2].plot(tk, e / e[0], **style)
    for ax in axes[:2]:
        ax.axhline(0, color="k", lw=0.6)
    axes[0].set(ylabel="amount of $f$ left", title="how much of $f$ is left")
    axes[1].set(ylabel="correlation with $f$", title="shape")
    axes[2].set(ylabel="relative entropy / first value", yscale="log", title="Lyapunov", ylim=(1e-16, 3))
    for ax in axes:
        ax.set(xscale="log")
    axes[1].set_xlabel("step $i$ (diffusion model) or time $t$ (PDEs)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


@styled
def edge_profiles_figure(x, panels, titles, ylabels, *, references=None, xlabel: str = "column"):
    """Grey-value profiles across edges, one panel per process, one line per time.

    Parameters
    ----------
    x : array
        Positions along the profile.
    panels : sequence of sequences of :class:`~lib.chapters.common.Curve`
        Per panel, the profiles (their labels make the panel's legend).
    titles, ylabels : sequences of str
        Per panel.
    references : sequence of Curve or None, optional
        Per panel, a reference profile drawn dashed in black (e.g. the mean).
    """
    import matplotlib.pyplot as plt

    panels = [list(p) for p in panels]
    references = [None] * len(panels) if references is None else references
    panels, titles, ylabels, references = same_length(panels=panels, titles=titles, ylabels=ylabels,
                                                      references=references)
    fig, axes = plt.subplots(1, len(panels), figsize=(COLUMN_WIDTH, 3.4), squeeze=False, layout="constrained")
    for ax, curves, title, ylabel, ref in zip(axes[0], panels, titles, ylabels, references):
        for k, c in enumerate(curves):
            ax.plot(x, c.y, color=f"C{k}", lw=1.3, label=c.label)
        if ref is not None:
            ax.plot(x, ref.y, color="k", ls="--", lw=1.0, label=ref.label)
        ax.set(title=title, ylabel=ylabel)
        ax.legend(fontsize=9, handlelength=1.2)
    fig.supxlabel(xlabel)
    return fig


def osmosis_player(frames, times) -> str:
    """Offline player of the osmosis evolution of the cat towards its noise steady state."""
    captions = [f"osmosis, τ = 1, t = {t:g}" for t in times]
    alt = ("Animation of osmosis with a noise guidance: the cat image drifts towards the noisy "
           f"steady state from time {times[0]:g} to {times[-1]:g}, its edges outlasting the rest.")
    frames = np.asarray(frames)
    return player(frames, captions, alt=alt, width=min(4.0, 2.0 * frames.shape[2] / 100))


def osmosis_explorer(f, *, offsets=(4.5, 5.0, 10.0, 20.0), times=(0, 10, 50, 100, 200, 500, 1000),
                     h: float = 1.0, seed: int = 0) -> Explorer:
    """ipywidgets explorer of Fig. 1(b): sliders for the time t and the noise offset.

    ``f`` is a positive grey image (grey values, e.g. :func:`lib.osmosis.unit_to_grey`); the
    guidance is ``offset + N(0, I)`` drawn with the same seed for every offset, evolved with
    τ = 1 and grid spacing ``h`` by :func:`lib.osmosis.osmosis` (cached per offset); the last
    slider position is the steady state w. The static HTML book shows :func:`osmosis_player`
    and :func:`image_rows` instead. The explorer's ``result`` is the image shown (grey values).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    f = np.asarray(f, dtype=np.float64)
    times = [int(t) for t in times]
    labels = [f"t = {t}" for t in times] + ["steady state w"]

    @lru_cache(maxsize=8)
    def path(offset: float) -> np.ndarray:
        v = osmosis.noise_guidance(f.shape, offset, np.random.default_rng(seed))
        snaps = osmosis.osmosis(f, v, times, 1.0, h=h)
        return np.concatenate([snaps, osmosis.steady_state(f, v)[None]])

    def draw(when: int, offset: float):
        image = path(float(offset))[when]
        fig, ax = plt.subplots(figsize=(5.0, 5.0 * f.shape[0] / f.shape[1] + 0.35))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.35 / (5.0 * f.shape[0] / f.shape[1] + 0.35))
        show_image(ax, osmosis.grey_to_unit(image))
        ax.set_title(f"osmosis, offset {offset:g}: {labels[when]}")
        return fig, image

    return Explorer(draw, dict(
        when=widgets.SelectionSlider(options=[(label, k) for k, label in enumerate(labels)],
                                     value=min(3, len(labels) - 1), description="time"),
        offset=widgets.SelectionSlider(options=[float(o) for o in offsets], value=float(offsets[1]),
                                       description="offset"),
    ))
