"""Companion of the chapter *The reverse process with exact scores* (paper Section 3.2): its
tables, figures, player and explorer."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lib import reverse

from .common import COLUMN_WIDTH, Explorer, html_table, image_grid, player, same_length, show_image, styled

__all__ = [
    "digit_rows",
    "html_table",
    "reverse_checks_figure",
    "reverse_explorer",
    "reverse_player",
    "tile_images",
]


def tile_images(images, n_cols: int, *, gap: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile flattened square images (m, s·s) into one grid image with ``gap`` pixels between."""
    images = np.asarray(images, dtype=np.float64)
    side = int(round(np.sqrt(images.shape[-1])))
    if side * side != images.shape[-1]:
        raise ValueError(f"images must be flattened squares, got length {images.shape[-1]}")
    n_rows = -(-images.shape[0] // n_cols)
    out = np.full((n_rows * (side + gap) - gap, n_cols * (side + gap) - gap), fill)
    for k, im in enumerate(images):
        r, c = divmod(k, n_cols)
        out[r * (side + gap): r * (side + gap) + side, c * (side + gap): c * (side + gap) + side] = (
            im.reshape(side, side))
    return out


def digit_rows(rows, row_labels, *, titles=None, width: float = COLUMN_WIDTH):
    """Grid of digits with values in [−1, 1]: ``rows[r]`` is an array (k, 64) of flattened
    8 × 8 digits or a list of images (flattened squares or 2-D, e.g. :func:`tile_images`);
    ``titles`` over the first row. PNG, which keeps the pixels sharp."""
    rows = [[np.asarray(u) if np.ndim(u) == 2 else np.asarray(u).reshape(int(round(np.sqrt(np.size(u)))), -1)
             for u in r] for r in rows]
    return image_grid(rows, titles=titles, row_labels=list(row_labels), width=width, format="png")


@styled
def reverse_checks_figure(steps, kl_generated, kl_exact, nn, nn_labels, nn_train):
    """Left: Gaussian-fit KL to N(0, I) of generated and exact samples along the steps.
    Right: histograms of nearest-neighbour distances to the training set.

    Parameters
    ----------
    steps, kl_generated, kl_exact : arrays
    nn, nn_labels : sequences
        Nearest-neighbour distances of each set of generated samples, and their labels.
    nn_train : array
        Leave-one-out nearest-neighbour distances within the training set.
    """
    import matplotlib.pyplot as plt

    nn, nn_labels = same_length(nn=nn, nn_labels=nn_labels)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.4), layout="constrained")
    ax1.plot(steps, kl_exact, "o-", label="exact marginal $p(u_i)$")
    ax1.plot(steps, kl_generated, "x--", label="reverse sampler")
    ax1.set(yscale="log", xlabel="step $i$", ylabel=r"Gaussian-fit KL to $\mathcal{N}(0, I)$ [nats]")
    ax1.legend()
    top = max(float(np.max(nn_train)), *(float(np.max(d)) for d in nn))
    bins = np.linspace(0, top, 40)
    ax2.hist(nn_train, bins=bins, alpha=0.5, density=True, label="training (leave-one-out)")
    for d, label in zip(nn, nn_labels):
        ax2.hist(d, bins=bins, alpha=0.5, density=True, label=label)
    ax2.set(xlabel="distance to nearest training image", ylabel="density")
    ax2.legend()
    return fig


def reverse_player(frames, steps, *, bandwidth: float) -> str:
    """Offline player of reverse chains (tiled digits), from noise at i = T down to i = 0."""
    captions = [f"reverse, h = {bandwidth:g}, i = {s}" for s in steps]
    alt = (f"Animation of 16 reverse chains with bandwidth h = {bandwidth:g}, tiled 4 by 4, from "
           f"pure noise at step {steps[0]} to digits at step {steps[-1]}.")
    return player(frames, captions, alt=alt, width=3.0)


def reverse_explorer(centers, betas, *, bandwidths=(0.0, 0.1, 0.2, 0.3), n: int = 16,
                     stride: int = 5, seed: int = 0) -> Explorer:
    """ipywidgets explorer of the exact-score reverse sampler: sliders for step i and bandwidth h.

    For each h, ``n`` chains are run once from the same seed (:func:`lib.reverse.sample`, states
    stored every ``stride`` steps, cached); the slider moves along those paths. Jupyter only; the
    HTML book shows :func:`reverse_player` instead. The explorer's ``result`` is the tiled image.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    betas = np.asarray(betas)
    T = betas.size
    steps = np.arange(0, T + 1, stride)

    @lru_cache(maxsize=8)
    def paths(h: float):
        return reverse.sample(centers, betas, n, np.random.default_rng(seed), bandwidth=h,
                              record=steps)["states"]

    def draw(i: int, h: float):
        grid = tile_images(paths(float(h))[int(i) // stride], int(np.ceil(np.sqrt(n))))
        fig, ax = plt.subplots(figsize=(4.0, 4.3))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.92)
        show_image(ax, grid)
        ax.set_title(rf"$h = {h:g}$, $i = {int(i)}$")
        return fig, grid

    return Explorer(draw, dict(
        i=widgets.IntSlider(value=T, min=0, max=int(steps[-1]), step=stride, description="step i"),
        h=widgets.SelectionSlider(options=list(bandwidths), value=bandwidths[0], description="h"),
    ))
