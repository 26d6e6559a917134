"""Companion of the chapter *Initial state and semigroup* (paper Properties 1–2, Eqs. 6–8):
its tables, figures and explorer."""

from __future__ import annotations

import numpy as np

from lib import forward, semigroup

from .common import COLUMN_WIDTH, Explorer, html_table, same_length, show_image, styled

__all__ = [
    "composition_errors_figure",
    "composition_table",
    "gaussian_semigroup_figure",
    "rejection_table",
    "semigroup_explorer",
    "two_path_figure",
]

_METHOD_TITLES = {
    "closed": "closed-form kernels (Eq. 5)",
    "iterated": "one-step kernels of Eq. (3) composed",
}


@styled
def composition_errors_figure(closed, iterated, labels, *, floor: float = 1e-19):
    """Composition error of Property 2 against the step i, with its round-off bound.

    Parameters
    ----------
    closed, iterated : sequence of :class:`lib.semigroup.CompositionErrors`
        One per schedule, from closed-form and from composed one-step kernels. Each curve is
        the largest error over ℓ at step i; the dashed line of the same colour is the bound.
        Exact zeros are drawn at ``floor``, the bottom of the log axis.
    labels : sequence of str
        Schedule names.
    """
    import matplotlib.pyplot as plt

    closed, iterated, labels = same_length(closed=closed, iterated=iterated, labels=labels)
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 4.0), sharey=True, layout="constrained")
    for ax, method, runs in zip(axes, ("closed", "iterated"), (closed, iterated)):
        for k, (label, run) in enumerate(zip(labels, runs)):
            steps, err, bound = run.per_step()
            ax.plot(steps, np.maximum(err, floor), color=f"C{k}", lw=0.8, label=f"{label}: error")
            ax.plot(steps, bound, color=f"C{k}", ls="--", lw=1.2, label=f"{label}: bound")
        ax.set(xlabel="step $i$", yscale="log", title=_METHOD_TITLES[method], ylim=(floor / 2, 1e-11))
    axes[0].set_ylabel(r"max over $\ell$ of the error")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


@styled
def two_path_figure(rows, row_labels, *, bins: int = 40):
    """Histograms of the norm of two samples of p(u_i): direct (Eq. 5) and via step i − ℓ.

    Parameters
    ----------
    rows : sequence of mappings
        One per row: ``(i, ℓ) -> (direct_values, via_values, pvalue)`` (as returned per
        schedule by :func:`lib.semigroup.two_path_experiments`); one panel per entry, the
        p-value of the combined two-sample test in its title.
    row_labels : sequence of str
    """
    import matplotlib.pyplot as plt

    rows, row_labels = same_length(rows=rows, row_labels=row_labels)
    rows = [dict(r) for r in rows]
    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(COLUMN_WIDTH, 1.7 * len(rows) + 0.8),
                             squeeze=False, layout="constrained")
    for r, (label, cells) in enumerate(zip(row_labels, rows)):
        for c, ((i, ell), (direct, via, pvalue)) in enumerate(cells.items()):
            ax = axes[r, c]
            both = np.concatenate([direct, via])
            edges = np.linspace(both.min(), both.max(), bins + 1)
            ax.hist(direct, edges, density=True, histtype="step", label="direct, Eq. (5)")
            ax.hist(via, edges, density=True, histtype="step", ls="--", label=r"via step $i - \ell$")
            ax.set_title(rf"$i = {i}$, $\ell = {ell}$: $p$ = {pvalue:.2g}")
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label)
        for c in range(len(cells), n_cols):
            axes[r, c].set_visible(False)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncol=2, frameon=False)
    fig.supxlabel(r"norm $\|u_i\|$ of each sample")
    return fig


@styled
def gaussian_semigroup_figure(image, two_stage, one_stage, sigmas, pair_labels, series, series_labels):
    """Gaussian scale-space semigroup on an image: two-stage, one-stage, and the error.

    Parameters
    ----------
    image, two_stage, one_stage : ndarray
        The image and its smoothings (values in [−1, 1]).
    sigmas : (σ₁, σ₂)
        The pair shown in the image panels.
    pair_labels : sequence of str
        One label per pair (σ₁, σ₂) on the x-axis of the error panel.
    series, series_labels : sequences
        Values (one per pair, drawn on a log axis) and their legend labels.
    """
    import matplotlib.pyplot as plt

    series, series_labels = same_length(series=series, series_labels=series_labels)
    s1, s2 = sigmas
    fig = plt.figure(figsize=(COLUMN_WIDTH, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.3])
    panels = [(image, "image $f$"),
              (two_stage, rf"$G_{{\sigma_2}} * (G_{{\sigma_1}} * f)$" + "\n"
                          rf"$\sigma_1={s1:g},\ \sigma_2={s2:g}$"),
              (one_stage, rf"$G_{{\sigma}} * f$" + "\n" + r"$\sigma=\sqrt{\sigma_1^2+\sigma_2^2}$")]
    for k, (u, title) in enumerate(panels):
        ax = fig.add_subplot(grid[0, k])
        show_image(ax, u)
        ax.set_title(title)
    ax = fig.add_subplot(grid[1, :])
    x = np.arange(len(pair_labels))
    for k, (values, name) in enumerate(zip(series, series_labels)):
        ax.plot(x, np.maximum(np.asarray(values, dtype=float), 1e-18), "osx^v"[k % 5] + "-",
                lw=0.8, ms=5, label=name)
    ax.set_xticks(x, list(pair_labels))
    ax.set(yscale="log", ylabel="max |two-stage − one-stage|", xlabel=r"$(\sigma_1, \sigma_2)$")
    ax.legend(loc="lower left")
    return fig


def composition_table(values, row_labels, column_labels) -> str:
    """HTML table of largest composition errors: ``values[r][c]`` for composition rule r and
    schedule c."""
    values = np.asarray(values, dtype=float)
    if values.shape != (len(row_labels), len(column_labels)):
        raise ValueError(f"values has shape {values.shape} for {len(row_labels)} rows and "
                         f"{len(column_labels)} columns")
    rows = [[label] + [f"{v:.2e}" for v in row] for label, row in zip(row_labels, values)]
    return html_table(["composition"] + list(column_labels), rows)


def rejection_table(rates, row_labels) -> str:
    """HTML table of :class:`lib.semigroup.RejectionRate` results, one row per composition.

    Columns: rejections out of repetitions at level α, the exact (Clopper–Pearson) 95 %
    interval of the rate, and the median p-value (p-values below the smallest double print
    as 0).
    """
    rates, row_labels = same_length(rates=rates, row_labels=row_labels)
    rows = []
    for label, rate in zip(row_labels, rates):
        low, high = rate.interval()
        rows.append([label, f"{rate.rejections} / {rate.reps}", f"[{low:.2f}, {high:.2f}]",
                     f"{float(np.median(rate.pvalues)):.2g}"])
    header = ["composition", f"rejected at α = {rates[0].alpha:g}", "95 % interval of the rate",
              "median p-value"]
    return html_table(header, rows)


def semigroup_explorer(data, betas, names, directions, *, n: int = 2000, seed: int = 0) -> Explorer:
    """ipywidgets explorer of Property 2: sliders for i and ℓ, a menu for the schedule.

    Shows the histograms of the norm and of the first projection of two samples of p(u_i)
    from the training set ``data`` — direct (Eq. 5) and via step i − ℓ (the ℓ-step leg in one
    exact draw) — with the p-value of :func:`lib.semigroup.ks_features_test` and the
    closed-form composition error at (i, ℓ). The static HTML book shows
    :func:`two_path_figure` instead. The explorer's ``result`` is the
    :class:`lib.semigroup.KSFeaturesResult` shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    betas, names = same_length(betas=betas, names=names)
    betas = [np.asarray(b) for b in betas]
    n_steps = min(b.size for b in betas)

    def draw(schedule: int, i: int, ell: int):
        b = betas[schedule]
        i, ell = int(i), min(int(ell), int(i))
        x, y = semigroup.two_path_samples(data, b, i, ell, n, np.random.default_rng(seed), leg="bridge")
        result = semigroup.ks_features_test(x, y, directions)
        s, v = semigroup.compose(forward.transition_coefficients(b, 0, i - ell),
                                 forward.transition_coefficients(b, i - ell, i))
        s0, v0 = forward.transition_coefficients(b, 0, i)
        error = max(abs(float(s) / s0 - 1.0), abs(float(v) - v0))
        fx, fy = semigroup.features(x, directions), semigroup.features(y, directions)
        fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0), layout="constrained")
        for ax, col, name in zip(axes, (-1, 0), (r"norm $\|u_i\|$", "projection 1")):
            edges = np.linspace(min(fx[:, col].min(), fy[:, col].min()),
                                max(fx[:, col].max(), fy[:, col].max()), 41)
            ax.hist(fx[:, col], edges, density=True, histtype="step", label="direct")
            ax.hist(fy[:, col], edges, density=True, histtype="step", ls="--", label=r"via $i - \ell$")
            ax.set(xlabel=name, yticks=[])
        axes[0].legend()
        fig.suptitle(rf"{names[schedule]}, $i = {i}$, $\ell = {ell}$: combined $p$ = {result.pvalue:.3g}, "
                     f"composition error {error:.1e}")
        return fig, result

    return Explorer(draw, dict(
        schedule=widgets.Dropdown(options=[(name, k) for k, name in enumerate(names)], value=0,
                                  description="schedule"),
        i=widgets.IntSlider(value=100, min=1, max=n_steps, description="step i"),
        ell=widgets.IntSlider(value=50, min=1, max=n_steps, description="ℓ (≤ i)"),
    ))
