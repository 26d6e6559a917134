"""Companion of the chapter *Osmosis* (paper Eqs. 26–28, Fig. 1): its measures (how much of
an image is left), noise guidance, grey-value maps, the step-size schedule of the long runs,
the convergence studies against a known 1-D solution, and its tables, figures, player and
explorer. The mathematics of osmosis is :mod:`lib.core.osmosis`."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import scipy.sparse as sp
import scipy.sparse.linalg as spla

from lib.core import osmosis as osm
from lib.core._validation import (as_float_array, check_alpha_bar, check_int, check_positive_real,
                                  check_rng)

from .common import (COLUMN_WIDTH, Curve, Explorer, convergence_orders, html_table, image_grid,
                     player, same_length, show_image, styled, time_curves)
from .prose import Verdict

__all__ = [
    "VERDICTS",
    "Curve",
    "amount_of",
    "convergence_orders",
    "correlation",
    "edge_amount",
    "edge_profiles_figure",
    "exact_solution_1d",
    "forward_relative_entropy",
    "grey_to_unit",
    "html_table",
    "image_rows",
    "mass_error",
    "noise_guidance",
    "offdiagonal_range",
    "osmosis_explorer",
    "osmosis_player",
    "processes_figure",
    "space_convergence",
    "staged_schedule",
    "time_convergence",
    "time_curves",
    "unit_to_grey",
]

VERDICTS = (
    Verdict(
        claim="Eq. (26)",
        paper=r"the osmosis equation $\partial_t u=\Delta u-\operatorname{div}(d\,u)$",
        verdict="holds",
        detail=r"as discretised (Vogel et al.): mass conserved, positivity for every $\tau$, "
               r"steady state $w=(\mu_f/\mu_v)\,v$; second order in space, first in time",
        section="sec-osmosis-eq26",
    ),
    Verdict(
        claim="Eq. (28)",
        paper="the relative entropy $L(t)$ of osmosis increases",
        verdict="holds with correction",
        detail=r"wording: $L=-\int u\ln(u/w)$ increases ({eq}`eq-osmosis-lyapunov`), but it "
               r"is *minus* the relative entropy, which decreases",
        section="sec-osmosis-eq28",
    ),
    Verdict(
        claim="Fig. 1(b)",
        paper="osmosis of an image with a noise guidance image, compared with the diffusion trajectory",
        verdict="holds",
        detail=r"reproduced, with the choices the paper leaves open stated (noise offset, grid, "
               r"times); at $t=1000$, where the paper's figure stops, osmosis is still far from "
               r"its steady state",
        section="sec-osmosis-fig1",
    ),
)


def offdiagonal_range(A) -> tuple[float, float, int]:
    """Smallest and largest off-diagonal entry stored in A, and how many there are."""
    A = sp.coo_array(A)
    off = A.data[(A.row != A.col) & (A.data != 0)]
    if off.size == 0:
        return float("nan"), float("nan"), 0
    return float(off.min()), float(off.max()), int(off.size)


def mass_error(snapshots, f) -> float:
    """Largest relative change of the total mass Σu: one state (f.shape) or a stack (K,) + f.shape."""
    f = as_float_array(f, "f").astype(np.float64)
    u = as_float_array(snapshots, "snapshots").astype(np.float64)
    if u.shape == f.shape:
        u = u[None]
    elif u.shape[1:] != f.shape:
        raise ValueError(f"snapshots must have shape {f.shape} or (K,) + {f.shape}, got {u.shape}")
    total = u.reshape(u.shape[0], -1).sum(axis=1)
    return float(np.abs(total / f.sum() - 1.0).max())


# ---------------------------------------------------------------------------------------------
# steady state, Lyapunov functional, guidance
# ---------------------------------------------------------------------------------------------


def noise_guidance(shape, offset: float, rng: np.random.Generator) -> np.ndarray:
    """Positive Gaussian-noise guidance image v = offset + G, G ~ N(0, I).

    The paper guides osmosis with a "standard normal noise sample"; osmosis needs v > 0, hence
    the offset. Since the scheme is invariant to scaling v, the offset alone sets how noisy the
    steady state w ∝ v is: its relative fluctuation is about 1 / offset.

    Raises
    ------
    ValueError
        If some value is ≤ 0 (the offset is too small for this draw).
    """
    offset = check_positive_real(offset, "offset")
    check_rng(rng)
    v = offset + rng.standard_normal(tuple(np.atleast_1d(shape).astype(int)))
    bad = int(np.count_nonzero(v <= 0.0))
    if bad:
        raise ValueError(
            f"offset {offset:g} is too small: {bad} of the {v.size} guidance values are ≤ 0"
        )
    return v


def unit_to_grey(u, offset: float = 1.0) -> np.ndarray:
    """Map values in [−1, 1] to positive grey values 127.5 (u + 1) + offset ∈ [offset, 255 + offset]."""
    offset = check_positive_real(offset, "offset")
    return 127.5 * (as_float_array(u, "u").astype(np.float64) + 1.0) + offset


def grey_to_unit(g, offset: float = 1.0) -> np.ndarray:
    """Inverse of :func:`unit_to_grey`, for display with :func:`lib.chapters.common.to_display`."""
    offset = check_positive_real(offset, "offset")
    return (as_float_array(g, "g").astype(np.float64) - offset) / 127.5 - 1.0


# ---------------------------------------------------------------------------------------------
# comparison measures
# ---------------------------------------------------------------------------------------------


def _stack_and_reference(u, f):
    f = as_float_array(f, "f").astype(np.float64)
    u = as_float_array(u, "u").astype(np.float64)
    stacked = u.shape != f.shape
    if stacked and u.shape[1:] != f.shape:
        raise ValueError(f"u must have shape {f.shape} or (K,) + {f.shape}, got {u.shape}")
    uu = u.reshape((u.shape[0], -1) if stacked else (1, -1))
    fc = f.ravel() - f.mean()
    if not np.any(fc):
        raise ValueError("f must not be constant")
    return uu - uu.mean(axis=1, keepdims=True), fc, stacked


def amount_of(u, f):
    """How much of f is left in u: the regression coefficient ⟨u − ū, f − f̄⟩ / ‖f − f̄‖².

    1 for u = f (or f plus a constant), 0 when u carries no component along f (a constant image,
    or independent noise on average). For the forward process E[amount] = √ᾱ_i. Unlike the
    correlation, it is defined for a constant u and measures amplitude, not shape.

    Returns
    -------
    float, or ndarray of shape (K,) for a stack u of shape (K,) + f.shape
    """
    uc, fc, stacked = _stack_and_reference(u, f)
    value = uc @ fc / (fc @ fc)
    return value if stacked else float(value[0])


def correlation(u, f):
    """Pearson correlation of u with f over all pixels.

    NaN when u is constant up to round-off (spread ≤ 1e-12 of its magnitude): the correlation
    of round-off noise with f means nothing.
    """
    uu = np.asarray(u, dtype=np.float64)
    uc, fc, stacked = _stack_and_reference(u, f)
    spread = np.sqrt((uc * uc).mean(axis=1))
    level = np.abs(uu.reshape(uc.shape)).max(axis=1)
    flat = spread <= 1e-12 * level  # constant up to round-off: no shape to correlate
    norm = np.sqrt((uc * uc).sum(axis=1)) * np.sqrt(fc @ fc)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(flat | (norm == 0), np.nan, uc @ fc / np.where(norm > 0, norm, 1.0))
    return value if stacked else float(value[0])


def _gradients(a: np.ndarray) -> np.ndarray:
    if a.ndim == 1:
        return np.diff(a)
    return np.concatenate([np.diff(a, axis=0).ravel(), np.diff(a, axis=1).ravel()])


def edge_amount(u, f):
    """How much of the edges of f is left in u: ⟨∇u, ∇f⟩ / ‖∇f‖² (forward differences).

    The regression coefficient of the gradient field of u on that of f. For the forward process
    its expectation is √ᾱ_i, the same as :func:`amount_of` (noise is independent of f, edges
    only lose contrast); smoothing removes edges faster than the coarse layout, so for diffusion
    and osmosis it falls below :func:`amount_of`. Images: 1-D or 2-D (stacks along axis 0).
    """
    f = as_float_array(f, "f").astype(np.float64)
    u = as_float_array(u, "u").astype(np.float64)
    stacked = u.shape != f.shape
    if stacked and u.shape[1:] != f.shape:
        raise ValueError(f"u must have shape {f.shape} or (K,) + {f.shape}, got {u.shape}")
    if f.ndim not in (1, 2):
        raise ValueError(f"f must be 1-D or 2-D, got shape {f.shape}")
    gf = _gradients(f)
    if not np.any(gf):
        raise ValueError("f must not be constant")
    stack = u if stacked else u[None]
    if f.ndim == 1:
        dots = np.diff(stack, axis=1) @ gf
    else:
        gy, gx = np.diff(f, axis=0), np.diff(f, axis=1)
        dots = (np.tensordot(np.diff(stack, axis=1), gy, axes=2)
                + np.tensordot(np.diff(stack, axis=2), gx, axes=2))
    value = np.asarray(dots, dtype=np.float64) / (gf @ gf)
    return value if stacked else float(value[0])


def forward_relative_entropy(f, alpha_bar):
    """KL(p(u_i | u_0 = f) ‖ N(0, I)) of the forward process, in nats (closed form).

    p(u_i | f) = N(√ᾱ f, (1 − ᾱ) I) (paper, Eq. 5), so with n = f.size

        KL = ½ [ᾱ (‖f‖² − n) − n ln(1 − ᾱ)],

    the relative entropy of row (a) of Fig. 1 with respect to its steady state, decreasing to 0
    as ᾱ → 0: the counterpart of −L (Eq. 28). ᾱ = 1 (step 0) gives +∞.

    Parameters
    ----------
    f : array_like
    alpha_bar : float or array_like of values in (0, 1]
    """
    f = as_float_array(f, "f").astype(np.float64)
    a = check_alpha_bar(alpha_bar, upper_closed=True)
    n = f.size
    out = np.full(a.shape, np.inf)
    inner = a < 1.0
    ai = a[inner]
    out[inner] = 0.5 * (ai * (float(f.ravel() @ f.ravel()) - n) - n * np.log1p(-ai))
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# time stepping
# ---------------------------------------------------------------------------------------------


def staged_schedule(fine_until: int = 1000, stages=((250.0, 1e4), (2500.0, 1e5)), *,
                    per_decade: int = 10, include=()) -> tuple[np.ndarray, np.ndarray]:
    """Output times and step sizes: τ = 1 up to ``fine_until``, then coarser stages.

    Up to ``fine_until`` the step is τ = 1 (the paper's) and the output times are the integers
    closest to ``per_decade`` log-spaced points per decade, plus ``include``. Each stage
    ``(tau, t_end)`` then continues with step ``tau`` up to ``t_end``; its outputs are again
    about ``per_decade`` log-spaced times per decade, rounded to whole steps, ending at
    ``t_end``. Pass both arrays to :func:`lib.core.osmosis.evolve` or
    :func:`lib.core.osmosis.osmosis` (``times``, ``tau``); an
    interval between two outputs may hold several steps.

    Returns
    -------
    times, taus : ndarray
        ``taus[j]`` is the step size on (times[j−1], times[j]].
    """
    fine_until = check_int(fine_until, "fine_until", 1)
    per_decade = check_int(per_decade, "per_decade", 1)
    n_points = int(round(per_decade * np.log10(fine_until))) + 1
    early = np.rint(np.geomspace(1.0, fine_until, max(n_points, 2)))
    extra = np.asarray(include, dtype=np.float64).ravel()
    if extra.size and (np.any(extra != np.rint(extra)) or extra.min() < 0 or extra.max() > fine_until):
        raise ValueError(f"include must hold integers in [0, {fine_until}], got {extra.tolist()}")
    times = [np.unique(np.concatenate([early, extra, [float(fine_until)]]))]
    taus = [np.ones(times[0].size)]
    start = float(fine_until)
    for tau, end in stages:
        tau = check_positive_real(tau, "stage tau")
        end = float(end)
        n_steps = (end - start) / tau
        if n_steps < 1 or abs(n_steps - round(n_steps)) > 1e-9 * n_steps:
            raise ValueError(f"stage ({tau:g}, {end:g}) must hold a whole number ≥ 1 of steps from t = {start:g}")
        n_log = max(int(round(per_decade * np.log10(end / start))), 1)
        targets = np.geomspace(start, end, n_log + 1)[1:]
        steps = np.unique(np.clip(np.rint((targets - start) / tau), 1, round(n_steps)))
        times.append(start + tau * steps)
        taus.append(np.full(steps.size, tau))
        start = end
    return np.concatenate(times), np.concatenate(taus)


# ---------------------------------------------------------------------------------------------
# convergence studies (1-D, known solutions)
# ---------------------------------------------------------------------------------------------


def exact_solution_1d(x, t, c: float = 1.0, amplitude: float = 0.3) -> np.ndarray:
    """Exact solution of Eq. (27) on [0, 1] with constant drift d = c and zero flux.

    d = c is the canonical drift of v = e^{cx}. Writing u = e^{cx/2} ψ turns
    u_t = u_xx − c u_x into ψ_t = ψ_xx − (c²/4) ψ with ψ_x = (c/2) ψ at x = 0 and x = 1
    (zero flux u_x − c u = 0), which ψ = π cos(πx) + (c/2) sin(πx) satisfies with decay rate
    π² + c²/4. So u = e^{cx} + amplitude · e^{−(π² + c²/4) t} e^{cx/2} ψ(x).
    """
    x = np.asarray(x, dtype=np.float64)
    rate = np.pi**2 + c**2 / 4.0
    mode = np.exp(c * x / 2.0) * (np.pi * np.cos(np.pi * x) + c / 2.0 * np.sin(np.pi * x))
    return np.exp(c * x) + amplitude * np.exp(-rate * t) * mode


def space_convergence(ns=(20, 40, 80, 160), t: float = 0.02, c: float = 1.0) -> np.ndarray:
    """Max error of the semi-discrete scheme against :func:`exact_solution_1d` at time t.

    n cells of size h = 1/n on [0, 1], canonical drift of v = e^{cx} sampled at the centres;
    the ODE u' = A u is integrated exactly (scipy's expm_multiply), so only the spatial error
    remains. Expected order 2.
    """
    errors = []
    for n in ns:
        h = 1.0 / int(n)
        x = (np.arange(int(n)) + 0.5) * h
        A = osm.osmosis_matrix(osm.canonical_drift(np.exp(c * x), h), h)
        u = spla.expm_multiply(t * A, exact_solution_1d(x, 0.0, c))
        errors.append(float(np.abs(u - exact_solution_1d(x, t, c)).max()))
    return np.array(errors)


def time_convergence(n_steps=(10, 20, 40, 80, 160), t: float = 0.05, n: int = 30) -> np.ndarray:
    """Max error of implicit Euler against the exact flow exp(tA) f of the semi-discrete system.

    1-D grid of n cells on [0, 1], guidance v = 2 + sin(2πx), f = 1 + x²; implicit Euler with
    τ = t / N for each N in ``n_steps`` (LU solver). Expected order 1.
    """
    n_steps = [check_int(k, f"n_steps[{j}]", 1) for j, k in enumerate(np.atleast_1d(n_steps).tolist())]
    t = check_positive_real(t, "t")
    n = check_int(n, "n", 2)
    h = 1.0 / n
    x = (np.arange(n) + 0.5) * h
    A = osm.osmosis_matrix(osm.canonical_drift(2.0 + np.sin(2.0 * np.pi * x), h), h)
    f = 1.0 + x**2
    reference = spla.expm_multiply(t * A, f)
    return np.array([
        float(np.abs(osm.evolve(f, A, [t], t / N, method="splu")[0] - reference).max())
        for N in n_steps
    ])


# ---------------------------------------------------------------------------------------------
# tables, figures, player, explorer
# ---------------------------------------------------------------------------------------------


def image_rows(rows, titles, row_labels, *, width: float = COLUMN_WIDTH):
    """Image grid with its own titles over every row (Fig. 1 and its variants; JPEG).

    Parameters
    ----------
    rows, titles : sequences of sequences
        ``rows[r][c]`` an image in [−1, 1] (map positive osmosis images with
        :func:`grey_to_unit` first) and ``titles[r][c]`` its title.
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
        (:func:`amount_of`), correlation with f, and relative entropy with respect
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

    ``f`` is a positive grey image (grey values, e.g. :func:`unit_to_grey`); the
    guidance is ``offset + N(0, I)`` drawn with the same seed for every offset, evolved with
    τ = 1 and grid spacing ``h`` by :func:`lib.core.osmosis.osmosis` (cached per offset); the last
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
        v = noise_guidance(f.shape, offset, np.random.default_rng(seed))
        snaps = osm.osmosis(f, v, times, 1.0, h=h)
        return np.concatenate([snaps, osm.steady_state(f, v)[None]])

    def draw(when: int, offset: float):
        image = path(float(offset))[when]
        fig, ax = plt.subplots(figsize=(5.0, 5.0 * f.shape[0] / f.shape[1] + 0.35))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.35 / (5.0 * f.shape[0] / f.shape[1] + 0.35))
        show_image(ax, grey_to_unit(image))
        ax.set_title(f"osmosis, offset {offset:g}: {labels[when]}")
        return fig, image

    return Explorer(draw, dict(
        when=widgets.SelectionSlider(options=[(label, k) for k, label in enumerate(labels)],
                                     value=min(3, len(labels) - 1), description="time"),
        offset=widgets.SelectionSlider(options=[float(o) for o in offsets], value=float(offsets[1]),
                                       description="offset"),
    ))
