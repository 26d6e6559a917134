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
    "composition_table",
    "entropy_explorer",
    "fokker_planck_explorer",
    "forward_explorer",
    "osmosis_explorer",
    "osmosis_table",
    "permutation_explorer",
    "permutation_frames",
    "permutation_table",
    "plot_commutation",
    "plot_composition_errors",
    "plot_density_grid",
    "plot_detectability",
    "plot_edge_profiles",
    "plot_entropy_curves",
    "plot_entropy_decomposition",
    "plot_entropy_scale_grid",
    "plot_entropy_turn",
    "plot_feller_moments",
    "plot_gaussian_semigroup",
    "plot_image_rows",
    "plot_kl_ratio",
    "plot_l1_orders",
    "plot_law_check",
    "plot_lyapunov_checks",
    "plot_memory",
    "plot_orders",
    "plot_osmosis_curves",
    "plot_permutation_grid",
    "plot_pixel_law_grid",
    "plot_power",
    "plot_reverse_checks",
    "plot_schedules",
    "plot_steady_state_rates",
    "plot_time_curves",
    "plot_trajectory_grid",
    "plot_two_path_grid",
    "rejection_table",
    "report_table",
    "reverse_explorer",
    "semigroup_explorer",
    "steady_state_explorer",
    "tile_images",
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


# --- steady state ---


def plot_steady_state_rates(curves: dict, mc: dict | None = None) -> plt.Figure:
    """Distance of p(u_i) from N(0, I) against the step i: mean, covariance and KL (Property 5).

    Parameters
    ----------
    curves : dict
        ``label -> dict`` with arrays ``i`` (steps), ``mean`` (‖E U_i‖), ``cov``
        (‖Cov U_i − I‖_F), ``kl`` (closed-form KL) and ``kl_lead`` (the leading-order
        prediction ½ ᾱ_i ‖m‖²), all of the same length.
    mc : dict, optional
        ``label -> dict`` with arrays ``i``, ``value`` and ``se``: Monte Carlo KL estimates
        with standard errors, drawn as markers with ±2 SE bars.
    """
    from matplotlib.lines import Line2D

    fig = plt.figure(figsize=(8, 6.6))
    grid = fig.add_gridspec(2, 2, left=0.1, right=0.98, bottom=0.08, top=0.95, hspace=0.38, wspace=0.32)
    ax_m, ax_c, ax_k = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    colours = {}
    for label, c in curves.items():
        (line,) = ax_m.plot(c["i"], c["mean"], label=label)
        colours[label] = line.get_color()
        ax_c.plot(c["i"], c["cov"], color=colours[label])
        ax_k.plot(c["i"], c["kl"], color=colours[label])
        ax_k.plot(c["i"], c["kl_lead"], color=colours[label], ls=":", lw=1.5)
    for label, m in (mc or {}).items():
        ax_k.errorbar(m["i"], m["value"], yerr=2 * np.asarray(m["se"]), fmt="o", ms=4, mfc="none",
                      color=colours.get(label, "k"))
    proxies = [Line2D([], [], color=colours[k], label=k) for k in colours] + [
        Line2D([], [], color="k", label="Gaussian training data: exact"),
        Line2D([], [], color="k", ls=":", label=r"leading order $\frac{1}{2}\bar\alpha_i\|m\|^2$"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="digit mixture: Monte Carlo ± 2 SE"),
    ]
    ax_m.set(ylabel=r"$\|\mathrm{E}\,U_i\| = \sqrt{\bar\alpha_i}\,\|m\|$", title="mean")
    ax_c.set(ylabel=r"$\|\mathrm{Cov}\,U_i - I\|_F = \bar\alpha_i\|\Sigma - I\|_F$", title="covariance")
    ax_k.set(ylabel=r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$ [nats]", title="Kullback–Leibler divergence")
    for ax in (ax_m, ax_c, ax_k):
        ax.set(xlabel="step i", yscale="log")
    ax_m.legend(fontsize=8)
    ax_k.legend(handles=proxies, fontsize=8, loc="lower left", ncol=2)
    return fig


def plot_kl_ratio(curves: dict, mc: dict | None = None, *, ylim=(0.9, 2.0)) -> plt.Figure:
    """KL divided by its leading-order term against ᾱ_i (log axis): it must tend to 1.

    Parameters
    ----------
    curves : dict
        ``label -> (alpha_bar, ratio, predicted)``: exact ratio and its next-order prediction
        (drawn dashed), arrays of the same length.
    mc : dict, optional
        ``label -> (alpha_bar, ratio, se)``: Monte Carlo ratios with standard errors (±2 SE bars).
    ylim : tuple
        Range of the ratio axis (points outside are not drawn).
    """
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    for label, (ab, ratio, predicted) in curves.items():
        (line,) = ax.plot(ab, ratio, label=f"{label}: exact")
        ax.plot(ab, predicted, ls="--", lw=1, color=line.get_color(), label=f"{label}: next-order prediction")
    for label, (ab, ratio, se) in (mc or {}).items():
        ax.errorbar(ab, ratio, yerr=2 * np.asarray(se), fmt="o", ms=3.5, mfc="none", label=f"{label}: MC ± 2 SE")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xscale="log", xlabel=r"$\bar\alpha_i$", ylabel="KL / leading-order term", ylim=ylim)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_memory(curves: dict, limits: dict | None = None) -> plt.Figure:
    """KL(p(u_i) ‖ N(0, I)) against i on log–log axes for schedules with Σβ = ∞ and Σβ < ∞.

    Parameters
    ----------
    curves : dict
        ``label -> (steps, kl)``.
    limits : dict, optional
        ``label -> value``: the limit KL as i → ∞ (dashed horizontal line).
    """
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    colours = {}
    for label, (steps, kl) in curves.items():
        (line,) = ax.plot(steps, kl, label=label)
        colours[label] = line.get_color()
    for label, value in (limits or {}).items():
        ax.axhline(value, ls="--", lw=1, color=colours.get(label, "k"), label=f"limit: {value:.3g} nats")
    ax.set(xscale="log", yscale="log", xlabel="step i", ylabel=r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$ [nats]")
    ax.legend(fontsize=8)
    return fig


def plot_detectability(curves: dict, sims: dict, z_crit: float, k_crit: float) -> plt.Figure:
    """Detectability of u_0 in one draw of u_i: expected test statistics against i, and draws.

    Parameters
    ----------
    curves : dict
        ``label -> (steps, shift, ks_steps, ks)``: expected matched-correlation statistic δ_i at
        ``steps`` and √n × pooled KS distance at ``ks_steps``.
    sims : dict
        ``label -> (steps, z, ks)``: the same statistics computed from simulated draws.
    z_crit, k_crit : float
        Critical values of the two tests (horizontal dashed lines).
    """
    from matplotlib.lines import Line2D

    fig, (ax_z, ax_k) = plt.subplots(1, 2, figsize=(8.5, 4.0))
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.3, top=0.92, wspace=0.25)
    handles = []
    for label, (steps, shift, ks_steps, ks) in curves.items():
        (line,) = ax_z.plot(steps, shift)
        ax_k.plot(ks_steps, ks, color=line.get_color())
        handles.append(Line2D([], [], color=line.get_color(), label=label))
        if label in sims:
            s_steps, z, ks_sim = sims[label]
            ax_z.plot(s_steps, np.abs(z), "o", ms=5, mfc="none", color=line.get_color())
            ax_k.plot(s_steps, ks_sim, "o", ms=5, mfc="none", color=line.get_color())
    ax_z.axhline(z_crit, color="k", ls="--", lw=1)
    ax_k.axhline(k_crit, color="k", ls="--", lw=1)
    handles += [
        Line2D([], [], color="k", label="expected (lines)"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="one simulated draw"),
        Line2D([], [], color="k", ls="--", lw=1, label="critical value at the level"),
    ]
    ax_z.set(yscale="log", xlabel="step i", ylabel=r"$|Z|$", ylim=(1e-2, None),
             title="matched correlation with f (knows f)")
    ax_k.set(yscale="log", xlabel="step i", ylabel=r"$\sqrt{n}\,D$", ylim=(1e-1, None),
             title="KS against N(0, 1) (blind)")
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def _pixel_law_row(axes, u, f, alpha_bar: float, *, bins: int = 24) -> None:
    """Histogram, QQ-plot and binned mean against f of the pixel values of one draw u_i."""
    from . import steady_state

    u = np.asarray(u, dtype=np.float64).ravel()
    f = np.asarray(f, dtype=np.float64).ravel()
    ax_h, ax_q, ax_m = axes
    grid = np.linspace(-4.5, 4.5, 300)
    ax_h.hist(u, bins=90, range=(-4.5, 4.5), density=True, histtype="stepfilled", color="C0", alpha=0.6)
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
    ax_h.set_title(f"histogram, KS p = {p_ks:.2g}", fontsize=9)
    ax_q.set_title("QQ-plot vs N(0, 1)", fontsize=9)
    ax_m.set_title(f"mean of $u_i$ in bins of $f$, Z = {z:.2f}", fontsize=9)
    for ax in axes:
        ax.tick_params(labelsize=8)


def plot_pixel_law_grid(snapshots, f, alpha_bars, labels) -> plt.Figure:
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
    labels = list(labels)
    if not len(snapshots) == len(alpha_bars) == len(labels):
        raise ValueError(
            f"got {len(snapshots)} snapshots, {len(alpha_bars)} alpha_bars and {len(labels)} labels"
        )
    rows = len(labels)
    height = 2.2 * rows + 0.6
    fig, axes = plt.subplots(rows, 3, figsize=(8.5, height), squeeze=False)
    # fixed margins instead of constrained layout: the layout solver costs a second per figure
    fig.subplots_adjust(left=0.09, right=0.99, bottom=0.45 / height, top=1 - 0.3 / height,
                        wspace=0.3, hspace=0.55)
    for row, (u, ab, label) in enumerate(zip(snapshots, alpha_bars, labels)):
        _pixel_law_row(axes[row], u, f, float(ab))
        axes[row, 0].set_ylabel(label, fontsize=9)
    axes[-1, 0].set_xlabel("pixel value", fontsize=8)
    axes[-1, 1].set_xlabel("N(0, 1) quantile", fontsize=8)
    axes[-1, 2].set_xlabel("grey value of f", fontsize=8)
    return fig


def steady_state_explorer(f, betas_by_name: dict, *, seed: int = 0):
    """ipywidgets explorer of the pixel statistics of u_i: a dropdown for the schedule, a slider for i.

    Each position shows u_i = √ᾱ_i f + √(1 − ᾱ_i) ξ (Eq. 5) with one fixed noise image ξ, so that
    moving the slider changes only ᾱ_i: histogram and QQ-plot against N(0, 1), and the mean of
    the pixels of u_i given their grey value in f. Works in a live Jupyter kernel; the static
    HTML book shows :func:`plot_pixel_law_grid` instead.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the array u_i currently shown.
    """
    import ipywidgets as widgets

    f = np.asarray(f, dtype=np.float64)
    xi = np.random.default_rng(seed).standard_normal(f.shape)
    names = list(betas_by_name)
    n_steps = min(len(b) for b in betas_by_name.values())

    def show(schedule: str, i: int) -> np.ndarray:
        ab = float(schedules.alpha_bar(betas_by_name[schedule])[int(i)])
        u = np.sqrt(ab) * f + np.sqrt(1.0 - ab) * xi
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.0))
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.8, wspace=0.25)
        _pixel_law_row(axes, u, f, ab)
        fig.suptitle(f"{schedule}, i = {i}, " + r"$\bar\alpha_i$" + f" = {ab:.3g}", fontsize=9)
        plt.show()
        return u

    return widgets.interactive(
        show,
        schedule=widgets.Dropdown(options=names, value=names[0], description="schedule"),
        i=widgets.IntSlider(value=min(500, n_steps), min=0, max=n_steps, step=1, description="step i"),
    )


# --- permutation invariance (Property 4, Proposition 3) ---


def permutation_frames(stacks, *, gap: int = 4, fill: float = 1.0) -> np.ndarray:
    """Put snapshot stacks side by side, frame by frame, for :func:`trajectory_player`.

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


def plot_permutation_grid(rows: dict, columns, *, width: float = 1.7) -> plt.Figure:
    """Image table whose panels may differ in shape (e.g. an H × W image and its W × H rotation).

    Parameters
    ----------
    rows : dict
        ``label -> list of images`` (values in [−1, 1]), one image per column.
    columns : sequence of str
        Column titles.
    """
    columns = list(columns)
    if not rows:
        raise ValueError("rows must hold at least one row of images")
    for label, images in rows.items():
        if len(images) != len(columns):
            raise ValueError(f"row {label!r} has {len(images)} images for {len(columns)} columns")
    fig, axes = plt.subplots(
        len(rows), len(columns), figsize=(width * len(columns), 0.95 * width * len(rows) + 0.4),
        squeeze=False, layout="constrained",
    )
    for r, (label, images) in enumerate(rows.items()):
        for c, image in enumerate(images):
            _imshow(axes[r, c], image)
            if r == 0:
                axes[r, c].set_title(columns[c], fontsize=9)
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def plot_commutation(images: dict, errors: dict, *, floor: float = 1e-18) -> plt.Figure:
    """Gaussian smoothing against a permutation: images, and relative commutation errors.

    Parameters
    ----------
    images : dict
        ``title -> image`` (values in [−1, 1]) for the top row.
    errors : dict
        ``label -> relative error`` ‖T(P f) − P(T f)‖ / ‖P(T f)‖, shown as horizontal bars on a
        log axis; an error of exactly 0 is drawn as a marker at ``floor`` labelled "0".
    """
    if not images or not errors:
        raise ValueError("images and errors must both be non-empty")
    fig = plt.figure(figsize=(10, 2.3 + 0.32 * len(errors)), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.0, 0.3 + 0.32 * len(errors)])
    axes = top.subplots(1, len(images), squeeze=False)[0]
    for ax, (title, image) in zip(axes, images.items()):
        _imshow(ax, image)
        ax.set_title(title, fontsize=9)
    ax = bottom.subplots()
    labels = list(errors)
    values = np.array([float(errors[k]) for k in labels])
    y = np.arange(len(labels))[::-1]
    shown = np.where(values > 0, values, floor)
    ax.barh(y, shown, left=floor * 0.5, color=["C3" if v > 1e-6 else "C0" for v in values])
    for yy, v in zip(y, values):
        ax.text(max(v, floor), yy, f"  {v:.2g}" if v > 0 else "  0 (exact)", va="center", fontsize=8)
    ax.axvline(np.finfo(np.float64).eps, color="k", ls=":", lw=1)
    ax.text(np.finfo(np.float64).eps, y.max() + 0.55, " machine ε", fontsize=8, va="bottom")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(floor * 0.5, 10.0)
    ax.set_ylim(-0.6, y.max() + 1.1)
    ax.set_xlabel(r"relative commutation error $\|G(Pf)-P(Gf)\|\,/\,\|P(Gf)\|$", fontsize=9)
    return fig


def permutation_explorer(u0, perms: dict, *, beta: float = 0.02, max_step: int = 200,
                         stride: int = 10, seed: int = 0):
    """ipywidgets explorer of Proposition 3: sliders for the step i and the permutation.

    For each permutation P it computes the coupled trajectories of the paper's proof
    (:func:`lib.permutation.coupled_trajectories`, constant β, same seed): u from f, v from
    P(f). It shows u_i, v_i and P⁻¹(v_i), and says whether P⁻¹(v_i) equals u_i bit for bit.
    Works in a live Jupyter kernel; the static HTML book shows a player and a grid instead.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the tuple (u_i, v_i, P⁻¹(v_i)) currently shown.
    """
    import ipywidgets as widgets

    from . import permutation

    u0 = np.asarray(u0, dtype=np.float32)
    if not perms:
        raise ValueError("perms must hold at least one permutation")
    steps = np.arange(0, max_step + 1, stride)
    betas = schedules.constant_betas(beta, max_step)

    @lru_cache(maxsize=8)
    def paths(name: str):
        return permutation.coupled_trajectories(u0, perms[name], betas, steps, np.random.default_rng(seed))

    def show(i: int, permutation_name: str):
        u, v = paths(permutation_name)
        k = int(i) // stride
        back = permutation.apply_inverse(perms[permutation_name], v[k])
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
        for ax, image, title in zip(axes, (u[k], v[k], back), ("$u_i$ from f", "$v_i$ from P(f)", "$P^{-1}(v_i)$")):
            _imshow(ax, image)
            ax.set_title(title, fontsize=10)
        fig.suptitle(f"{permutation_name}, i = {int(i)}:  P⁻¹(v_i) == u_i bit for bit: {np.array_equal(back, u[k])}")
        plt.show()
        return u[k], v[k], back

    return widgets.interactive(
        show,
        i=widgets.IntSlider(value=steps[min(5, steps.size - 1)], min=0, max=max_step, step=stride, description="step i"),
        permutation_name=widgets.Dropdown(options=list(perms), description="P"),
    )


def permutation_table(header, rows) -> str:
    """A plain HTML table: ``header`` is a list of column titles, ``rows`` a list of lists."""
    header = list(header)
    pad = 'style="padding: 0.15em 0.7em 0.15em 0"'
    head = "<table><thead><tr>" + "".join(f"<th {pad}>{h}</th>" for h in header)
    head += "</tr></thead><tbody>"
    body = []
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns")
        body.append("<tr>" + "".join(f"<td {pad}>{cell}</td>" for cell in row) + "</tr>")
    return head + "".join(body) + "</tbody></table>"


# --- semigroup (Properties 1 and 2) ---


def plot_composition_errors(errors: dict, *, floor: float = 1e-19) -> plt.Figure:
    """Composition error of Property 2 against the step i, with its round-off bound.

    Parameters
    ----------
    errors : dict
        ``schedule name -> {"closed": CompositionErrors, "iterated": CompositionErrors}``
        (:func:`lib.semigroup.composition_errors`). Each curve is the largest error over ℓ at
        step i; the dashed line of the same colour is the bound. Exact zeros are drawn at
        ``floor``, the bottom of the log axis.
    """
    titles = {
        "closed": "closed-form kernels (Eq. 5)",
        "iterated": "one-step kernels of Eq. (3) composed",
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.91, wspace=0.06)
    for ax, method in zip(axes, ("closed", "iterated")):
        for k, (name, by_method) in enumerate(errors.items()):
            steps, err, bound = by_method[method].per_step()
            colour = f"C{k}"
            ax.plot(steps, np.maximum(err, floor), color=colour, lw=0.8, label=f"{name}: error")
            ax.plot(steps, bound, color=colour, ls="--", lw=1.2, label=f"{name}: bound")
        ax.set(xlabel="step i", yscale="log", title=titles[method], ylim=(floor / 2, 1e-11))
    axes[0].set_ylabel("max over ℓ of the error")
    axes[1].legend(fontsize=7, ncol=2, loc="lower right")
    return fig


def plot_two_path_grid(rows: dict, *, bins: int = 40) -> plt.Figure:
    """Histograms of one feature of two samples of p(u_i): direct (Eq. 5) and via i − ℓ.

    Parameters
    ----------
    rows : dict
        ``row label -> {(i, ℓ): (direct_values, via_values, pvalue)}``; one panel per entry,
        the p-value of the combined two-sample test in the title.
    """
    n_cols = max(len(r) for r in rows.values())
    fig, axes = plt.subplots(
        len(rows), n_cols, figsize=(2.45 * n_cols, 1.9 * len(rows) + 0.5), squeeze=False
    )
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.1, top=0.89, hspace=0.45, wspace=0.08)
    for r, (label, cells) in enumerate(rows.items()):
        for c, ((i, ell), (direct, via, pvalue)) in enumerate(cells.items()):
            ax = axes[r, c]
            both = np.concatenate([direct, via])
            edges = np.linspace(both.min(), both.max(), bins + 1)
            ax.hist(direct, edges, density=True, histtype="step", label="direct, Eq. (5)")
            ax.hist(via, edges, density=True, histtype="step", ls="--", label="via step i − ℓ")
            ax.set_title(f"i = {i}, ℓ = {ell}: p = {pvalue:.2g}", fontsize=8)
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
        axes[r, 0].set_ylabel(label, fontsize=9)
        for c in range(len(cells), n_cols):
            axes[r, c].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, fontsize=8, frameon=False)
    fig.supxlabel("norm ‖u_i‖ of each sample", fontsize=9, y=0.01)
    return fig


def plot_gaussian_semigroup(image, two_stage, one_stage, labels, series: dict, *,
                            sigmas=(None, None)) -> plt.Figure:
    """Gaussian scale-space semigroup on an image: two-stage, one-stage, and the error.

    Parameters
    ----------
    image, two_stage, one_stage : ndarray
        The image and its smoothings (values in [−1, 1]).
    labels : sequence of str
        One label per pair (σ₁, σ₂) on the x-axis of the error panel.
    series : dict
        ``legend label -> values`` (one per pair) drawn on a log axis.
    sigmas : (σ₁, σ₂)
        Shown in the titles of the image panels.
    """
    s1, s2 = sigmas
    fig = plt.figure(figsize=(9, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.25])
    images = [
        (image, "image f"),
        (two_stage, rf"$G_{{\sigma_2}} * (G_{{\sigma_1}} * f)$, $\sigma_1={s1:g}, \sigma_2={s2:g}$"),
        (one_stage, rf"$G_{{\sigma}} * f$, $\sigma=\sqrt{{\sigma_1^2+\sigma_2^2}}$"),
    ]
    for k, (u, title) in enumerate(images):
        ax = fig.add_subplot(grid[0, k])
        _imshow(ax, u)
        ax.set_title(title, fontsize=9)
    ax = fig.add_subplot(grid[1, :])
    x = np.arange(len(labels))
    markers = "osx^v"
    for k, (name, values) in enumerate(series.items()):
        ax.plot(x, np.maximum(np.asarray(values, dtype=float), 1e-18), markers[k % 5] + "-",
                lw=0.8, ms=5, label=name)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(yscale="log", ylabel="max |two-stage − one-stage|", xlabel=r"$(\sigma_1, \sigma_2)$")
    ax.legend(fontsize=8, loc="lower left")
    return fig


def _html_table(header, rows) -> str:
    pad = 'style="padding: 0.15em 0.9em 0.15em 0"'
    head = "<table><thead><tr>" + "".join(f"<th {pad}>{h}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td {pad}>{cell}</td>" for cell in row) + "</tr>" for row in rows
    )
    return head + "</tr></thead><tbody>" + body + "</tbody></table>"


def composition_table(values: dict, row_labels: dict | None = None) -> str:
    """HTML table of largest composition errors: ``row -> {column -> value}``."""
    row_labels = row_labels or {}
    columns = list(next(iter(values.values())))
    rows = [
        [row_labels.get(key, key)] + [f"{row[c]:.2e}" for c in columns]
        for key, row in values.items()
    ]
    return _html_table(["composition"] + columns, rows)


def rejection_table(rates: dict, row_labels: dict | None = None) -> str:
    """HTML table of :class:`lib.semigroup.RejectionRate` results, one row per composition.

    Columns: rejections out of repetitions at level α, the exact (Clopper–Pearson) 95 %
    interval of the rate, and the median p-value (p-values below the smallest double print
    as 0).
    """
    row_labels = row_labels or {}
    alpha = next(iter(rates.values())).alpha
    rows = []
    for key, rate in rates.items():
        low, high = rate.interval()
        rows.append([
            row_labels.get(key, key), f"{rate.rejections} / {rate.reps}",
            f"[{low:.2f}, {high:.2f}]", f"{float(np.median(rate.pvalues)):.2g}",
        ])
    header = ["composition", f"rejected at α = {alpha:g}", "95 % interval of the rate",
              "median p-value"]
    return _html_table(header, rows)


def semigroup_explorer(data, betas_by_name: dict, directions, *, n: int = 2000, seed: int = 0):
    """ipywidgets explorer of Property 2: sliders for i and ℓ, a menu for the schedule.

    Shows the histograms of the norm and of the first projection of two samples of p(u_i)
    from the training set ``data`` — direct (Eq. 5) and via step i − ℓ (the ℓ-step leg in one
    exact draw) — with the p-value of :func:`lib.semigroup.ks_features_test` and the
    closed-form composition error at (i, ℓ). The static HTML book shows
    :func:`plot_two_path_grid` instead.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the :class:`lib.semigroup.KSFeaturesResult` currently shown.
    """
    import ipywidgets as widgets

    from . import semigroup

    names = list(betas_by_name)
    n_steps = len(betas_by_name[names[0]])

    def show(schedule: str, i: int, ell: int):
        betas = betas_by_name[schedule]
        ell = min(int(ell), int(i))
        rng = np.random.default_rng(seed)
        x, y = semigroup.two_path_samples(data, betas, int(i), ell, n, rng, leg="bridge")
        result = semigroup.ks_features_test(x, y, directions)
        first = forward.transition_coefficients(betas, 0, i - ell)
        second = forward.transition_coefficients(betas, i - ell, i)
        s, v = semigroup.compose(first, second)
        s0, v0 = forward.transition_coefficients(betas, 0, i)
        error = max(abs(float(s) / s0 - 1.0), abs(float(v) - v0))
        fx, fy = semigroup.features(x, directions), semigroup.features(y, directions)
        fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
        for ax, col, name in zip(axes, (-1, 0), ("norm ‖u_i‖", "projection 1")):
            edges = np.linspace(min(fx[:, col].min(), fy[:, col].min()),
                                max(fx[:, col].max(), fy[:, col].max()), 41)
            ax.hist(fx[:, col], edges, density=True, histtype="step", label="direct")
            ax.hist(fy[:, col], edges, density=True, histtype="step", ls="--", label="via i − ℓ")
            ax.set(xlabel=name, yticks=[])
        axes[0].legend(fontsize=8)
        fig.suptitle(f"{schedule}, i = {i}, ℓ = {ell}: combined p = {result.pvalue:.3g}, "
                     f"composition error {error:.1e}", fontsize=10)
        plt.show()
        return result

    return widgets.interactive(
        show,
        schedule=widgets.Dropdown(options=names, value=names[0], description="schedule"),
        i=widgets.IntSlider(value=100, min=1, max=n_steps, description="step i"),
        ell=widgets.IntSlider(value=50, min=1, max=n_steps, description="ℓ (≤ i)"),
    )


# --- osmosis (Eqs. 26-28, Fig. 1) ---


def plot_image_rows(rows: dict, *, width: float = 1.45, fontsize: int = 10) -> plt.Figure:
    """Image grid with its own column titles in every row (Fig. 1 and its variants).

    The layout is computed directly (no constrained layout, which is slow for many panels).

    Parameters
    ----------
    rows : dict
        ``row label -> (images, titles)``; images in [−1, 1] (map positive osmosis images with
        :func:`lib.osmosis.grey_to_unit` first). Rows may have different numbers of images.
    width : float
        Width of one panel in inches.
    """
    if not rows:
        raise ValueError("rows must hold at least one row")
    for label, (images, titles) in rows.items():
        if len(images) != len(titles):
            raise ValueError(f"row {label!r} has {len(images)} images for {len(titles)} titles")
    n_rows = len(rows)
    n_cols = max(len(images) for images, _ in rows.values())
    first = np.asarray(next(iter(rows.values()))[0][0])
    height = width * first.shape[0] / first.shape[1]
    lines = max(str(label).count("\n") + 1 for label in rows)
    left, gap, title, bottom = 0.1 + 0.18 * lines, 0.06, 0.08 + fontsize / 40, 0.05  # inches
    fig_w = left + n_cols * width + (n_cols - 1) * gap + 0.05
    fig_h = n_rows * (height + title) + bottom
    fig = plt.figure(figsize=(fig_w, fig_h))
    for r, (label, (images, titles)) in enumerate(rows.items()):
        y0 = fig_h - (r + 1) * (height + title)
        for c, (image, name) in enumerate(zip(images, titles)):
            x0 = left + c * (width + gap)
            ax = fig.add_axes((x0 / fig_w, y0 / fig_h, width / fig_w, height / fig_h))
            _imshow(ax, image)
            ax.set_title(name, fontsize=fontsize, pad=2)
            if c == 0:
                ax.set_ylabel(label, fontsize=fontsize)
    return fig


def plot_osmosis_curves(curves: dict) -> plt.Figure:
    """Three processes against time: how much of f is left, correlation with f, relative entropy.

    Parameters
    ----------
    curves : dict
        ``process -> dict`` with arrays ``t`` (step i or time t > 0), ``amount``
        (:func:`lib.osmosis.amount_of`), ``correlation`` and ``entropy`` (relative entropy
        with respect to the process's own steady state; drawn divided by its first value).
    """
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.5))
    fig.subplots_adjust(left=0.065, right=0.99, bottom=0.14, top=0.91, wspace=0.3)
    for k, (name, c) in enumerate(curves.items()):
        t = np.asarray(c["t"], dtype=float)
        style = dict(color=f"C{k}", label=name, lw=1.3)
        axes[0].plot(t, c["amount"], **style)
        axes[1].plot(t, c["correlation"], **style)
        entropy = np.asarray(c["entropy"], dtype=float)
        axes[2].plot(t, entropy / entropy[0], **style)
    axes[0].axhline(0, color="k", lw=0.6)
    axes[1].axhline(0, color="k", lw=0.6)
    axes[0].set(ylabel="amount of f left (regression on f)", title="how much of f is left")
    axes[1].set(ylabel="correlation with f", title="shape: correlation with f")
    axes[2].set(ylabel="relative entropy / value at the first time", yscale="log",
                title=r"Lyapunov: relative entropy", ylim=(1e-16, 3))
    for ax in axes:
        ax.set(xscale="log", xlabel="step i (diffusion model) or time t (PDEs)")
    axes[0].legend(fontsize=8)
    return fig


def plot_edge_profiles(x, panels: dict, *, xlabel: str = "column") -> plt.Figure:
    """Grey-value profiles across edges, one panel per process, one line per time.

    Parameters
    ----------
    x : array_like
        Positions along the profile.
    panels : dict
        ``process -> (ylabel, {label: profile})``; a label ending in "(mean)" is drawn dashed.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.7 * len(panels), 3.2), squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.15, top=0.91, wspace=0.3)
    for ax, (name, (ylabel, lines)) in zip(axes[0], panels.items()):
        for k, (label, profile) in enumerate(lines.items()):
            dashed = label.endswith("(mean)")
            ax.plot(x, profile, ls="--" if dashed else "-", lw=1.0 if dashed else 1.3,
                    color="k" if dashed else f"C{k}", label=label)
        ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
        ax.legend(fontsize=7)
    return fig


def plot_orders(panels: dict) -> plt.Figure:
    """Log–log error plots with reference slopes (observed orders of accuracy).

    Parameters
    ----------
    panels : dict
        ``title -> (xlabel, x, errors, slope)``: errors against step size or grid spacing and
        the expected order, drawn as a dashed line through the last point.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.91, wspace=0.3)
    for ax, (title, (xlabel, x, err, slope)) in zip(axes[0], panels.items()):
        x = np.asarray(x, dtype=float)
        err = np.asarray(err, dtype=float)
        ax.loglog(x, err, "o-", label="measured max error")
        ax.loglog(x, err[-1] * (x / x[-1]) ** slope, "k--", lw=1, label=f"slope {slope}")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set(title=title, xlabel=xlabel, ylabel="max error")
        ax.legend(fontsize=8)
    return fig


def plot_time_curves(series: dict, *, ylabel: str, yscale: str = "log", floor: float = 1e-17,
                     hline: float | None = None) -> plt.Figure:
    """Curves against time on a log time axis (e.g. distances to the steady state).

    Parameters
    ----------
    series : dict
        ``label -> (t, values)`` or ``label -> (t, values, line_kwargs)`` (e.g. colour, style).
    yscale : {"log", "linear"}
        On a log axis values are clipped below at ``floor``.
    hline : float, optional
        A horizontal reference line.
    """
    fig, ax = plt.subplots(figsize=(6.8, 3.2))
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.15, top=0.96)
    for name, (t, values, *style) in series.items():
        values = np.asarray(values, dtype=float)
        kwargs = style[0] if style else {}
        ax.plot(t, np.maximum(values, floor) if yscale == "log" else values, label=name, **kwargs)
    if hline is not None:
        ax.axhline(hline, color="k", lw=0.7, ls="--")
    ax.set(xscale="log", yscale=yscale, xlabel="step i or time t", ylabel=ylabel)
    ax.legend(fontsize=8)
    return fig


def osmosis_table(header, rows) -> str:
    """A plain HTML table (``header``: column titles; ``rows``: lists of cells)."""
    header = list(header)
    pad = 'style="padding: 0.15em 0.8em 0.15em 0"'
    out = ["<table><thead><tr>"] + [f"<th {pad}>{h}</th>" for h in header] + ["</tr></thead><tbody>"]
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns")
        out.append("<tr>" + "".join(f"<td {pad}>{cell}</td>" for cell in row) + "</tr>")
    return "".join(out) + "</tbody></table>"


def osmosis_explorer(f, *, offsets=(4.5, 5.0, 10.0, 20.0), times=(0, 10, 50, 100, 200, 500, 1000),
                     h: float = 1.0, seed: int = 0):
    """ipywidgets explorer of Fig. 1(b): sliders for the time t and the noise offset.

    ``f`` is a positive grey image (grey values, e.g. :func:`lib.osmosis.unit_to_grey`); the
    guidance is ``offset + N(0, I)`` drawn with the same seed for every offset, evolved with
    τ = 1 and grid spacing ``h`` by :func:`lib.osmosis.osmosis`; the last slider position is the
    steady state w.
    The static HTML book shows :func:`trajectory_player` and :func:`plot_image_rows` instead.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the image currently shown (grey values).
    """
    import ipywidgets as widgets

    from . import osmosis

    f = np.asarray(f, dtype=np.float64)
    times = [int(t) for t in times]
    labels = [f"t = {t}" for t in times] + ["steady state w"]

    @lru_cache(maxsize=8)
    def path(offset: float) -> np.ndarray:
        v = osmosis.noise_guidance(f.shape, offset, np.random.default_rng(seed))
        snaps = osmosis.osmosis(f, v, times, 1.0, h=h)
        return np.concatenate([snaps, osmosis.steady_state(f, v)[None]])

    def show(when: str, offset: float) -> np.ndarray:
        image = path(float(offset))[labels.index(when)]
        fig, ax = plt.subplots(figsize=(5, 5 * f.shape[0] / f.shape[1]), layout="constrained")
        _imshow(ax, osmosis.grey_to_unit(image))
        ax.set_title(f"osmosis, offset {offset:g}: {when}")
        plt.show()
        return image

    return widgets.interactive(
        show,
        when=widgets.SelectionSlider(options=labels, value=labels[min(3, len(labels) - 1)],
                                     description="time"),
        offset=widgets.SelectionSlider(options=[float(o) for o in offsets], value=float(offsets[1]),
                                       description="offset"),
    )


# --- entropy (Property 3, Propositions 1-2) ---


def _entropy_series(ax, c: dict, colour, label=None, *, offset=0.0, z: float = 2.0):
    """A curve ``c`` = dict(i, value[, se]): a line if it has no ``se``, else markers ± z·SE."""
    i = np.asarray(c["i"])
    y = np.asarray(c["value"], dtype=np.float64) - offset
    if c.get("se") is None:
        return ax.plot(i, y, color=colour, lw=1.6, label=label)[0]
    ax.plot(i, y, color=colour, lw=0.7, alpha=0.6)
    return ax.errorbar(i, y, yerr=z * np.asarray(c["se"]), fmt="o", ms=3.5, mfc="none", lw=1,
                       capsize=2, color=colour, label=label)


def _entropy_log_steps(*axes) -> None:
    """Logarithmic step axes labelled 1, 10, 100, 1000, without minor ticks.

    Plain labels and no minor ticks on log axes (also on logarithmic y axes, which get at most
    six labelled decades) cut the drawing time of these figures by more than half.
    """
    from matplotlib import ticker

    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        if ax.get_yscale() == "log":
            ax.yaxis.set_major_locator(ticker.LogLocator(numticks=6))
            ax.yaxis.set_minor_locator(ticker.NullLocator())


def plot_entropy_curves(curves: dict, reference: float, *, zoom=(-8.0, 8.0)) -> plt.Figure:
    """H(U_i) against the step i for several training sets, with the entropy of N(0, I).

    Parameters
    ----------
    curves : dict
        ``label -> dict(i=steps, value=H, se=standard errors or None)``: closed forms (no SE)
        are drawn as lines, Monte Carlo estimates as markers with ±2 SE bars.
    reference : float
        H(N(0, I)), drawn as a dashed line.
    zoom : (float, float)
        Range of H − H(N(0, I)) shown in the right panel.
    """
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig, (ax, ax_z) = plt.subplots(1, 2, figsize=(10, 3.9))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.3, top=0.92, wspace=0.22)
    handles = []
    for k, (label, c) in enumerate(curves.items()):
        handles.append(_entropy_series(ax, c, f"C{k}", label))
        _entropy_series(ax_z, c, f"C{k}", offset=reference)
    ref = ax.axhline(reference, color="k", ls="--", lw=1, label=r"$H(\mathcal{N}(0, I))$")
    ax_z.axhline(0.0, color="k", ls="--", lw=1)
    ax.set(xscale="log", xlabel="step i", ylabel=r"$H(U_i)$ [nats]", title="differential entropy")
    ax_z.set(xscale="log", xlabel="step i", ylim=zoom,
             ylabel=r"$H(U_i) - H(\mathcal{N}(0, I))$ [nats]", title="zoom near the steady state")
    _entropy_log_steps(ax, ax_z)
    fig.legend(handles=handles + [ref], loc="lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def plot_entropy_decomposition(panels: dict, conditional: dict, eq18: dict | None = None) -> plt.Figure:
    """H(U_i) = H(U_i | U_0) + I(U_0; U_i): the two terms and their sum, for several data sets.

    Parameters
    ----------
    panels : dict
        ``label -> dict(i, entropy, entropy_se, mi, mi_se)`` (Monte Carlo, ±2 SE bars).
    conditional : dict
        ``dict(i, value)``: the exact H(U_i | U_0), the same for every data set.
    eq18 : dict, optional
        ``dict(i, value)``: the paper's Eq. (18), drawn dotted for comparison.
    """
    if not panels:
        raise ValueError("panels must hold at least one data set")
    fig, (ax_h, ax_i) = plt.subplots(1, 2, figsize=(10, 3.8))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.3, top=0.92, wspace=0.22)
    handles = [ax_h.plot(conditional["i"], conditional["value"], color="k", lw=1.6,
                         label=r"$H(U_i\,|\,U_0)$ (exact, any data)")[0]]
    if eq18 is not None:
        handles.append(ax_h.plot(eq18["i"], eq18["value"], color="0.5", ls=":", lw=1.6,
                                 label="paper's Eq. (18)")[0])
    for k, (label, p) in enumerate(panels.items()):
        colour = f"C{k + 2}"
        handles.append(_entropy_series(ax_h, dict(i=p["i"], value=p["entropy"], se=p["entropy_se"]),
                                    colour, rf"$H(U_i)$, {label}"))
        _entropy_series(ax_i, dict(i=p["i"], value=p["mi"], se=p["mi_se"]), colour)
    ax_h.set(xscale="log", xlabel="step i", ylabel="nats", title=r"$H(U_i)$ and $H(U_i\,|\,U_0)$")
    lim = ax_h.get_ylim()
    ax_h.set_ylim(max(lim[0], -60), lim[1])
    ax_i.set(xscale="log", xlabel="step i", ylabel="nats",
             title=r"$I(U_0; U_i) = H(U_i) - H(U_i\,|\,U_0)$")
    _entropy_log_steps(ax_h, ax_i)
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def plot_lyapunov_checks(kl: dict, power: dict) -> plt.Figure:
    """The corrected statements: KL(p(u_i) ‖ N(0, I)) and the entropy power N(U_i) against i.

    Parameters
    ----------
    kl, power : dict
        ``label -> dict(i, value, se=None)`` as in :func:`plot_entropy_curves`. N(U_i) ≤ 1
        (shaded) is where the entropy power inequality guarantees that H increases.
    """
    fig, (ax_k, ax_p) = plt.subplots(1, 2, figsize=(10, 3.9))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.3, top=0.92, wspace=0.22)
    handles = []
    for k, (label, c) in enumerate(kl.items()):
        handles.append(_entropy_series(ax_k, c, f"C{k}", label))
    for k, (label, c) in enumerate(power.items()):
        _entropy_series(ax_p, c, f"C{k}")
    ax_p.axhline(1.0, color="k", ls="--", lw=1)
    ax_p.axhspan(1e-30, 1.0, color="0.85", zorder=0)
    ax_p.text(0.98, 0.04, "N(U_i) ≤ 1: H(U_i) must increase", transform=ax_p.transAxes,
              ha="right", fontsize=8)
    ax_k.set(xscale="log", yscale="log", xlabel="step i",
             ylabel=r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$ [nats]", title="decreases for every data set")
    ax_p.set(xscale="log", yscale="log", xlabel="step i",
             ylabel=r"$N(U_i) = e^{2H(U_i)/n} / (2\pi e)$", title="entropy power")
    lo = min(np.nanmin(np.asarray(c["value"], dtype=float)) for c in power.values())
    hi = max(np.nanmax(np.asarray(c["value"], dtype=float)) for c in power.values())
    ax_p.set_ylim(lo / 2, hi * 2)
    _entropy_log_steps(ax_k, ax_p)
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    return fig


def plot_entropy_turn(probes: dict, bracket, *, scale: float = 1.0, title: str = "") -> plt.Figure:
    """Monte Carlo estimates of dH/dt (de Bruijn) near the turn of H(U_i), with the bracket.

    Parameters
    ----------
    probes : dict
        ``step -> (rate, standard error)`` (:class:`lib.entropy.EntropyTurn`).
    bracket : (int, int)
        Last step known to increase and first step known to decrease (shaded between).
    scale : float
        Factor applied to the rates (e.g. −ln(1 − β) for dH/di).
    """
    steps = np.array(sorted(probes))
    rate = np.array([probes[s][0] for s in steps]) * scale
    se = np.array([probes[s][1] for s in steps]) * abs(scale)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.17, top=0.88)
    ax.axvspan(bracket[0], bracket[1], color="C1", alpha=0.25, label="turn of H lies here")
    ax.errorbar(steps, rate, yerr=4 * se, fmt="o", ms=4, capsize=2, label="probe ± 4 SE")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set(xlabel="step i", ylabel=r"slope $dH(U_i)/di$ [nats per step]", title=title)
    ax.legend(fontsize=8)
    return fig


def plot_entropy_scale_grid(results: dict, reference: float) -> plt.Figure:
    """Static counterpart of :func:`entropy_explorer`: one column per data scale c.

    Parameters
    ----------
    results : dict
        ``title -> dict(i, gauss_h, gauss_kl, mc_i, h, h_se, kl, kl_se)``: the moment-matched
        Gaussian (closed form, every step; an upper bound on H and a lower bound on KL) and the
        Monte Carlo estimates for the mixture.
    reference : float
        H(N(0, I)).
    """
    cols = len(results)
    if cols == 0:
        raise ValueError("results must hold at least one scale")
    fig, axes = plt.subplots(2, cols, figsize=(2.3 * cols + 0.8, 5.0), squeeze=False, sharex=True)
    fig.subplots_adjust(left=0.09, right=0.99, bottom=0.2, top=0.93, wspace=0.35, hspace=0.12)
    for col, (title, r) in enumerate(results.items()):
        ax_h, ax_k = axes[0, col], axes[1, col]
        g = ax_h.plot(r["i"], np.asarray(r["gauss_h"]) - reference, color="0.5", lw=1.2)[0]
        m = _entropy_series(ax_h, dict(i=r["mc_i"], value=r["h"], se=r["h_se"]), "C3", offset=reference)
        ax_h.axhline(0.0, color="k", ls="--", lw=0.8)
        ax_k.plot(r["i"], r["gauss_kl"], color="0.5", lw=1.2)
        _entropy_series(ax_k, dict(i=r["mc_i"], value=r["kl"], se=r["kl_se"]), "C3")
        ax_h.set_title(title, fontsize=9)
        ax_h.set(xscale="log", ylim=(-12, 12))
        ax_k.set(xscale="log", yscale="log", xlabel="step i")
        _entropy_log_steps(ax_h, ax_k)
        for ax in (ax_h, ax_k):
            ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel(r"$H(U_i) - H(\mathcal{N}(0, I))$", fontsize=8)
    axes[1, 0].set_ylabel(r"KL$(p(u_i)\,\|\,\mathcal{N}(0, I))$", fontsize=8)
    fig.legend(handles=[m, g], labels=["digit mixture: Monte Carlo ± 2 SE",
                                       "Gaussian with the same moments (exact)"],
               loc="lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def entropy_explorer(data, *, n_steps: int = 1000, mc_steps: int = 10, n_samples: int = 150,
                     seed: int = 0):
    """ipywidgets explorer of Proposition 1: sliders for the data scale c and a constant β.

    The training set is c · ``data``; the panels show H(U_i) − H(N(0, I)) and
    KL(p(u_i) ‖ N(0, I)) against i: the Gaussian with the same moments in closed form at every
    step and a small Monte Carlo estimate for the mixture itself, both from
    :func:`lib.entropy.entropy_vs_scale` (``n_samples`` draws at ``mc_steps`` log-spaced steps,
    cached per (c, β)). Works in a live Jupyter kernel; the static HTML book
    shows :func:`plot_entropy_scale_grid` instead.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is a dict with the arrays shown.
    """
    import ipywidgets as widgets

    from . import entropy

    data = np.asarray(data, dtype=np.float64)
    reference = entropy.standard_normal_entropy(data.shape[1])
    mc_i = entropy.log_spaced_steps(n_steps, mc_steps)

    @lru_cache(maxsize=16)
    def compute(c: float, beta: float) -> dict:
        betas = schedules.constant_betas(beta, n_steps)
        return entropy.entropy_vs_scale(data, c, betas, mc_i, n_samples, np.random.default_rng(seed))

    def show(c: float, beta: float) -> dict:
        r = compute(float(c), float(beta))
        fig = plot_entropy_scale_grid({f"c = {c:.3g}, β = {beta:.3g}": r}, reference)
        fig.set_size_inches(6, 5)
        plt.show()
        return r

    return widgets.interactive(
        show,
        c=widgets.FloatLogSlider(value=1.0, base=2, min=-2, max=4, step=0.25, description="scale c"),
        beta=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=-0.7, step=0.1, description="β"),
    )


# --- Fokker-Planck (Eqs. 23-25) ---


def plot_feller_moments(x, exact: tuple, mc: tuple, se: tuple, beta: float) -> plt.Figure:
    """Exact and Monte Carlo one-step moments E[Δ|x], E[Δ²|x] with ±2 SE bars (Eq. 23)."""
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.1), layout="constrained")
    names = ("E[Δ | x]", "E[Δ² | x]")
    lead = (-0.5 * beta * np.asarray(x), np.full(np.shape(x), beta))
    for ax, name, e, m, s, ld in zip(axes, names, exact, mc, se, lead):
        ax.plot(x, e, "k-", lw=1, label="exact")
        ax.plot(x, ld, ":", color="C1", label="leading order")
        ax.errorbar(x, m, yerr=2 * np.asarray(s), fmt="o", ms=3, color="C0",
                    label="Monte Carlo ± 2 SE")
        ax.set(xlabel="$x = u_{i-1}$", title=name)
        ax.legend(fontsize=8)
    return fig


def _density_panel(ax, x, hist, fv, exact, title, legend=True):
    edges, dens = hist
    ax.stairs(dens, edges, color="0.6", fill=True, alpha=0.5, label="histogram of chains")
    ax.plot(x, exact, "k-", lw=1.2, label="exact Fokker–Planck law")
    ax.plot(x, fv, "--", color="C3", lw=1.2, label="osmosis (finite volumes)")
    ax.set(title=title, xlabel="grey value x", xlim=(-4, 4))
    if legend:
        ax.legend(fontsize=8, loc="upper right")


def plot_density_grid(x, panels: dict) -> plt.Figure:
    """Grid of density panels: ``title -> ((edges, density), fv, exact)`` on the grid x."""
    k = len(panels)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.1 * rows), squeeze=False,
                             layout="constrained")
    for j, (ax, (title, (hist, fv, exact))) in enumerate(zip(axes.flat, panels.items())):
        _density_panel(ax, x, hist, fv, exact, title, legend=(j == 0))
    for ax in list(axes.flat)[k:]:
        ax.set_axis_off()
    return fig


def plot_l1_orders(panels: dict) -> plt.Figure:
    """Log–log L1 errors with reference slopes: ``title -> (xlabel, sizes, errors, slope)``."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False,
                             layout="constrained")
    for ax, (title, (xlabel, x, err, slope)) in zip(axes[0], panels.items()):
        x, err = np.asarray(x, dtype=float), np.asarray(err, dtype=float)
        ax.loglog(x, err, "o-", label="L1 error")
        ax.loglog(x, err[-1] * (x / x[-1]) ** slope, "k--", lw=1, label=f"slope {slope}")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set(title=title, xlabel=xlabel, ylabel="L1 error")
        ax.legend(fontsize=8)
    return fig


def fokker_planck_explorer(*, beta: float = 0.02, max_step: int = 300, stride: int = 10,
                           n_chains: int = 20000, n_cells: int = 400, seed: int = 0):
    """ipywidgets slider over the step i: histogram of chains, exact law and osmosis solution.

    The chains start from the bimodal density of the chapter and are simulated by
    :func:`lib.forward.sample_trajectory`; the osmosis curve is
    :func:`lib.fokker_planck.solve_fokker_planck` at t_osm = −½ ln ᾱ_i. Jupyter only; the
    HTML book shows :func:`plot_density_grid` instead.
    """
    import ipywidgets as widgets

    from . import fokker_planck as fp

    w, m, s, _ = fp._case()
    rng = np.random.default_rng(seed)
    comp = rng.choice(len(w), size=n_chains, p=np.asarray(w) / np.sum(w))
    u0 = rng.normal(np.asarray(m)[comp], np.asarray(s)[comp])
    betas = schedules.constant_betas(beta, max_step)
    steps = np.arange(0, max_step + 1, stride)
    paths = forward.sample_trajectory(u0, betas, steps, rng)
    x, h = fp.grid(n_cells)
    t = fp.osmosis_time(betas, steps[1:])
    fv = np.vstack([fp.mixture_pdf(x, w, m, s),
                    fp.solve_fokker_planck(fp.mixture_pdf(x, w, m, s), x, h, t, 10)])
    ab = schedules.alpha_bar(betas)
    edges = np.linspace(-4, 4, 61)

    def show(i: int):
        k = int(i) // stride
        dens, _ = np.histogram(paths[k], bins=edges, density=True)
        exact = fp.mixture_pdf(x, *fp.mixture_marginal(w, m, s, ab[steps[k]]))
        fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
        _density_panel(ax, x, (edges, dens), fv[k], exact, f"β = {beta}, i = {steps[k]}")
        plt.show()

    return widgets.interactive(
        show, i=widgets.IntSlider(value=stride * 5, min=0, max=max_step, step=stride,
                                  description="step i"))


# --- reverse process ---


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


def plot_reverse_checks(steps, kl_generated, kl_exact, nn: dict, nn_train) -> plt.Figure:
    """Left: Gaussian-fit KL to N(0, I) of generated and exact samples along the steps.
    Right: histograms of nearest-neighbour distances to the training set."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    ax1.plot(steps, kl_exact, "o-", label="exact marginal p(u_i)")
    ax1.plot(steps, kl_generated, "x--", label="reverse sampler")
    ax1.set_yscale("log")
    ax1.set_xlabel("step i")
    ax1.set_ylabel("Gaussian-fit KL to N(0, I) [nats]")
    ax1.legend(fontsize=8)
    bins = np.linspace(0, max(float(np.max(nn_train)), *(float(np.max(v)) for v in nn.values())), 40)
    ax2.hist(nn_train, bins=bins, alpha=0.5, density=True, label="training (leave-one-out)")
    for name, d in nn.items():
        ax2.hist(d, bins=bins, alpha=0.5, density=True, label=name)
    ax2.set_xlabel("distance to nearest training image")
    ax2.set_ylabel("density")
    ax2.legend(fontsize=8)
    return fig


def reverse_explorer(centers, betas, *, bandwidths=(0.0, 0.1, 0.2, 0.3), n: int = 16,
                     stride: int = 5, seed: int = 0):
    """ipywidgets explorer of the exact-score reverse sampler: sliders for step i and bandwidth h.

    For each h, ``n`` chains are run once from the same seed (:func:`lib.reverse.sample`, states
    stored every ``stride`` steps); the slider moves along those paths. Jupyter only; the HTML
    book shows :func:`trajectory_player` instead.
    """
    import ipywidgets as widgets

    from . import reverse

    betas = np.asarray(betas)
    T = betas.size
    steps = np.arange(0, T + 1, stride)

    @lru_cache(maxsize=8)
    def paths(h: float):
        return reverse.sample(centers, betas, n, np.random.default_rng(seed), bandwidth=h,
                              record=steps)["states"]

    def show(i: int, h: float):
        grid = tile_images(paths(float(h))[int(i) // stride], int(np.ceil(np.sqrt(n))))
        fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
        _imshow(ax, grid)
        ax.set_title(f"h = {h}, i = {i}")
        plt.show()
        return grid

    return widgets.interactive(
        show,
        i=widgets.IntSlider(value=T, min=0, max=int(steps[-1]), step=stride, description="step i"),
        h=widgets.SelectionSlider(options=list(bandwidths), value=bandwidths[0], description="h"),
    )
