"""Companion of the chapter *Permutation invariance* (paper Property 4, Proposition 3): its
tables, figures, player and explorer."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lib import permutation, schedules

from .common import (COLUMN_WIDTH, Explorer, html_table, image_grid, player, report_table,
                     same_length, show_image, styled, trajectory_grid)

__all__ = [
    "commutation_figure",
    "html_table",
    "permutation_explorer",
    "permutation_grid",
    "permutation_player",
    "report_table",
    "side_by_side",
    "trajectory_grid",
]


def side_by_side(stacks, *, gap: int = 4, fill: float = 1.0) -> np.ndarray:
    """Put snapshot stacks side by side, frame by frame (frames of a player).

    Parameters
    ----------
    stacks : sequence of arrays, each of shape (K, H, W_j[, C])
        Same K, H and channel layout; widths may differ.
    gap : int
        Columns of ``fill`` (white for values in [−1, 1]) between the stacks.

    Returns
    -------
    ndarray, shape (K, H, Σ W_j + gap · (len(stacks) − 1)[, C])
    """
    stacks = [np.asarray(s, dtype=np.float64) for s in stacks]
    if not stacks:
        raise ValueError("stacks must hold at least one snapshot stack")
    first = stacks[0]
    for s in stacks[1:]:
        if s.shape[:2] != first.shape[:2] or s.shape[3:] != first.shape[3:]:
            raise ValueError(f"stacks must agree in K, H and channels, got {first.shape} and {s.shape}")
    spacer = np.full(first.shape[:2] + (gap,) + first.shape[3:], fill)
    parts = [stacks[0]]
    for s in stacks[1:]:
        parts += [spacer, s]
    return np.concatenate(parts, axis=2)


def permutation_player(u, v, back, steps) -> str:
    """Offline player of the coupled trajectories: u_i | v_i | P⁻¹(v_i) side by side (HTML).

    The frames are drawn at the images' own resolution (one image pixel per screen pixel).
    """
    frames = side_by_side([u, v, back])
    captions = [f"u_i  |  v_i  |  P⁻¹(v_i),   i = {s}" for s in steps]
    alt = ("Animation of three images side by side along the steps i: the cat's trajectory u_i, "
           "the trajectory v_i of the shuffled cat, which looks like noise throughout, and "
           "P⁻¹(v_i), identical to u_i at every step.")
    return player(frames, captions, alt=alt, width=min(COLUMN_WIDTH, frames.shape[2] / 100))


def permutation_grid(rows, row_labels, titles):
    """Image table whose panels may differ in shape (e.g. an H × W image and its W × H
    rotation): ``rows[r][c]`` with column titles ``titles`` (JPEG)."""
    rows = [list(r) for r in rows]
    titles = list(titles)
    for label, images in zip(row_labels, rows):
        if len(images) != len(titles):
            raise ValueError(f"row {label!r} has {len(images)} images for {len(titles)} columns")
    return image_grid(rows, titles=titles, row_labels=list(row_labels), width=6.0)


@styled
def commutation_figure(images, titles, errors, labels, *, floor: float = 1e-18):
    """Gaussian smoothing against a permutation: images, and relative commutation errors.

    Parameters
    ----------
    images, titles : sequences
        Images (values in [−1, 1]) for the top row, with their titles.
    errors, labels : sequences
        Relative errors ‖G(P f) − P(G f)‖ / ‖P(G f)‖ and their labels, shown as horizontal bars
        on a log axis; an error of exactly 0 is drawn at ``floor`` and labelled "0 (exact)".
    """
    import matplotlib.pyplot as plt

    images, titles = same_length(images=images, titles=titles)
    errors, labels = same_length(errors=errors, labels=labels)
    values = np.asarray(errors, dtype=float)
    fig = plt.figure(figsize=(COLUMN_WIDTH, 2.2 + 0.3 * len(labels)), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.6, 0.4 + 0.3 * len(labels)])
    for ax, image, title in zip(top.subplots(1, len(images), squeeze=False)[0], images, titles):
        show_image(ax, image)
        ax.set_title(title)
    ax = bottom.subplots()
    y = np.arange(len(labels))[::-1]
    ax.barh(y, np.where(values > 0, values, floor), left=floor * 0.5,
            color=["C3" if v > 1e-6 else "C0" for v in values])
    for yy, v in zip(y, values):
        ax.text(max(v, floor), yy, f"  {v:.2g}" if v > 0 else "  0 (exact)", va="center")
    eps = np.finfo(np.float64).eps
    ax.axvline(eps, color="k", ls=":", lw=1)
    ax.text(eps, y.max() + 0.55, r" machine $\varepsilon$", va="bottom")
    ax.set_yticks(y, labels)
    ax.set(xscale="log", xlim=(floor * 0.5, 10.0), ylim=(-0.6, y.max() + 1.2))
    ax.set_xlabel(r"relative commutation error $\|G(Pf)-P(Gf)\|\,/\,\|P(Gf)\|$")
    return fig


def permutation_explorer(u0, perms, names, *, beta: float = 0.02, max_step: int = 200,
                         stride: int = 10, seed: int = 0) -> Explorer:
    """ipywidgets explorer of Proposition 3: a slider for the step i, a menu for the permutation.

    For each permutation P it computes the coupled trajectories of the paper's proof
    (:func:`lib.permutation.coupled_trajectories`, constant β, same seed; cached): u from f, v
    from P(f). It shows u_i, v_i and P⁻¹(v_i), and says whether P⁻¹(v_i) equals u_i bit for
    bit. Jupyter only; the static HTML book shows a player and a grid instead. The explorer's
    ``result`` is the tuple (u_i, v_i, P⁻¹(v_i)) shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    u0 = np.asarray(u0, dtype=np.float32)
    perms, names = same_length(perms=perms, names=names)
    steps = np.arange(0, max_step + 1, stride)
    betas = schedules.constant_betas(beta, max_step)

    @lru_cache(maxsize=8)
    def paths(which: int):
        return permutation.coupled_trajectories(u0, perms[which], betas, steps, np.random.default_rng(seed))

    def draw(i: int, which: int):
        u, v = paths(which)
        k = int(i) // stride
        back = permutation.apply_inverse(perms[which], v[k])
        fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 3.0))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.8, wspace=0.05)
        for ax, image, title in zip(axes, (u[k], v[k], back), ("$u_i$ from $f$", "$v_i$ from $P(f)$", "$P^{-1}(v_i)$")):
            show_image(ax, image)
            ax.set_title(title)
        same = np.array_equal(back, u[k])
        fig.suptitle(rf"{names[which]}, $i = {int(i)}$: $P^{{-1}}(v_i) = u_i$ bit for bit: {'yes' if same else 'no'}")
        return fig, (u[k], v[k], back)

    return Explorer(draw, dict(
        i=widgets.IntSlider(value=steps[min(5, steps.size - 1)], min=0, max=max_step, step=stride, description="step i"),
        which=widgets.Dropdown(options=[(name, k) for k, name in enumerate(names)], value=0, description="P"),
    ))
