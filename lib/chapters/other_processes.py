"""Companion of ``chapters/other_processes.ipynb``: the scale-space properties of other forward
processes (VP, VE, IHD, BD) side by side.

The mathematics lives in :mod:`lib.core.processes`; this module holds the chapter's experiment
drivers, its figures (in the book's shared style, :func:`lib.chapters.common.styled`), the
axioms table and the verdicts (``VERDICTS``, one per process × property, for the ledger's
"Beyond the paper" section), and the explorer with its kernel-free player.
"""

from __future__ import annotations

import html
import math

import numpy as np
from scipy import fft

from lib.core import processes as pr
from lib.core.schedules import linear_betas

from .common import COLUMN_WIDTH, Explorer, html_table, image_grid, player, show_image, styled
from .prose import Verdict

__all__ = [
    "AXIOMS",
    "PROCESSES",
    "PROPERTIES",
    "VERDICTS",
    "axioms_table_html",
    "book_processes",
    "cat_trajectories",
    "composition_errors",
    "explorer",
    "explorer_player",
    "heat_min_entry",
    "information_curves",
    "monotone_violation",
    "permutation_errors",
    "permutation_table_html",
    "plot_information",
    "plot_positivity",
    "plot_trajectories",
    "positivity_threshold",
]

PROCESSES = ("VP", "VE", "IHD", "BD")

#: property key → (column label, label of the section that checks it)
PROPERTIES = {
    "initial": ("initial state", "sec-other-initial"),
    "markov": ("Markov, semigroup", "sec-other-markov"),
    "entropy": ("H(Uᵢ) ↑", "sec-other-lyapunov"),
    "conditional": ("H(Uᵢ | U₀) ↑", "sec-other-lyapunov"),
    "information": ("I(U₀; Uᵢ) ↓", "sec-other-lyapunov"),
    "kl": ("KL to limit ↓", "sec-other-lyapunov"),
    "permutation": ("permutations", "sec-other-invariance"),
    "steady": ("steady state", "sec-other-steady"),
    "maxmin": ("max–min principle", "sec-other-maxmin"),
    "fokker_planck": ("Fokker–Planck form", "sec-other-fp"),
}

_H, _HC, _HW = "holds", "holds with correction", "fails"

# (process, property) → (verdict, what is claimed, detail). The claims are the paper's
# properties (Peter 2023) read for each process; details name the check, numbers are in the
# chapter.
_TABLE = {
    ("VP", "initial"): (_H, "p(u₀) is the data", "Step 0 is the data (the book's convention for Eq. 5)."),
    ("VE", "initial"): (_H, "p(u₀) is the data", "With σ₀ = 0 the chain starts at the data; σ₁ = σ_min is the first step."),
    ("IHD", "initial"): (_H, "p(u₀) is the data", "q(u₀ | u₀) is the data; every later marginal carries noise σ²."),
    ("BD", "initial"): (_HC, "p(u₀) is the data",
                        "At t = 0 the published marginal is not the data: α₀² = sigmoid(ℓ_max) < 1 and "
                        "σ₀² = sigmoid(−ℓ_max) > 0; it is the data only as ℓ_max → ∞."),
    ("VP", "markov"): (_H, "Markov chain, semigroup (Chapman–Kolmogorov)", "Composition exact to round-off."),
    ("VE", "markov"): (_H, "Markov chain, semigroup (Chapman–Kolmogorov)", "Composition exact to round-off."),
    ("IHD", "markov"): (_H, "Markov chain, semigroup (Chapman–Kolmogorov)",
                        "Defined by marginals only, yet every implied transition variance σ²(1 − exp(2λΔt)) is ≥ 0: "
                        "a Markov chain. The mean grey value (DCT mode (0, 0)) never receives noise after step 1."),
    ("BD", "markov"): (_H, "Markov chain, semigroup (Chapman–Kolmogorov)",
                       "Implied transition variances are ≥ 0 because the signal-to-noise ratio and dₜ both fall."),
    ("VP", "entropy"): (_HC, "H(Uᵢ) increases (Prop. 1)",
                        "For Gaussian data of variance c it increases iff c ≤ 1; for c > 1 it decreases."),
    ("VE", "entropy"): (_H, "H(Uᵢ) increases (Prop. 1)",
                        "Uᵢ = Uᵢ₋₁ + independent Gaussian noise: H(X + W) ≥ H(X) for any data."),
    ("IHD", "entropy"): (_HW, "H(Uᵢ) increases (Prop. 1)",
                         "Blurring contracts every non-constant frequency: H(Uᵢ) decreases (Gaussian data and digits)."),
    ("BD", "entropy"): (_HW, "H(Uᵢ) increases (Prop. 1)",
                        "Neither monotone: for small data variance it first falls under the blur, then rises."),
    ("VP", "conditional"): (_H, "H(Uᵢ | U₀) increases (Prop. 2)", "sᵢ = 1 − ᾱᵢ increases."),
    ("VE", "conditional"): (_H, "H(Uᵢ | U₀) increases (Prop. 2)", "sᵢ = σᵢ² increases."),
    ("IHD", "conditional"): (_HC, "H(Uᵢ | U₀) increases (Prop. 2)",
                             "Constant after step 1 (sₖ = σ²): non-decreasing, but it measures nothing."),
    ("BD", "conditional"): (_H, "H(Uᵢ | U₀) increases (Prop. 2)", "sₜ = σₜ² increases."),
    ("VP", "information"): (_H, "I(U₀; Uᵢ) decreases", "Data processing inequality for the Markov chain."),
    ("VE", "information"): (_H, "I(U₀; Uᵢ) decreases", "Data processing inequality for the Markov chain."),
    ("IHD", "information"): (_HC, "I(U₀; Uᵢ) decreases",
                             "Decreases (data processing) but not to 0: the mean grey value is never forgotten."),
    ("BD", "information"): (_H, "I(U₀; Uᵢ) decreases", "Data processing inequality for the Markov chain."),
    ("VP", "kl"): (_H, "KL(p(uᵢ) ‖ limit) decreases", "N(0, I) is invariant under every step: data processing."),
    ("VE", "kl"): (_HW, "KL(p(uᵢ) ‖ limit) decreases",
                   "No limit law. The KL to the prior N(0, σ_max² I) decreases only because the schedule stops "
                   "where the prior is put; the prior is not invariant under the chain."),
    ("IHD", "kl"): (_H, "KL(p(uᵢ) ‖ limit) decreases",
                    "The limit (data mean + N(0, σ² I)) is invariant under every step k ≥ 2: data processing."),
    ("BD", "kl"): (_HW, "KL(p(uᵢ) ‖ limit) decreases",
                   "N(0, I) is not invariant under a blurring step: for N(0, I) data the KL rises from 0 and falls again."),
    ("VP", "permutation"): (_H, "Trajectories commute with every pixel permutation (Prop. 3)", "Bit-exact with coupled noise."),
    ("VE", "permutation"): (_H, "Trajectories commute with every pixel permutation (Prop. 3)", "Bit-exact with coupled noise."),
    ("IHD", "permutation"): (_HC, "Trajectories commute with every pixel permutation (Prop. 3)",
                             "Only with the symmetries of the grid (flips; on square grids rotations and transposes), "
                             "to round-off; not with cyclic shifts or general permutations."),
    ("BD", "permutation"): (_HC, "Trajectories commute with every pixel permutation (Prop. 3)",
                            "Only with the symmetries of the grid, as IHD."),
    ("VP", "steady"): (_H, "Converges to a data-free limit (Prop. 4)", "N(0, I) iff Σβᵢ = ∞ (steady-state chapter)."),
    ("VE", "steady"): (_HW, "Converges to a data-free limit (Prop. 4)", "The variance σᵢ² grows without bound: no limit law."),
    ("IHD", "steady"): (_HC, "Converges to a data-free limit (Prop. 4)",
                        "Converges, but to N(mean grey value of u₀, σ² I): the limit depends on the data."),
    ("BD", "steady"): (_H, "Converges to a data-free limit (Prop. 4)",
                       "N(0, I) as ℓ → −∞; the published schedule stops at α₁² = sigmoid(ℓ_min), like VP at finite T."),
    ("VP", "maxmin"): (_H, "E[Uᵢ | u₀] obeys a max–min principle", "Mean √ᾱᵢ u₀: a positive multiple of the identity."),
    ("VE", "maxmin"): (_H, "E[Uᵢ | u₀] obeys a max–min principle", "Mean u₀: the identity."),
    ("IHD", "maxmin"): (_HC, "E[Uᵢ | u₀] obeys a max–min principle",
                        "Holds for every t with the discrete Laplacian's eigenvalues; with the continuous ones the "
                        "published model uses, the operator has negative weights for small t."),
    ("BD", "maxmin"): (_HC, "E[Uᵢ | u₀] obeys a max–min principle",
                       "As IHD: discrete eigenvalues always, continuous ones not for small τₜ."),
    ("VP", "fokker_planck"): (_H, "A grey-value Fokker–Planck form exists (Eq. 24)", "Per pixel: γ = −½ ln(1 − β), g = −ln(1 − β)."),
    ("VE", "fokker_planck"): (_H, "A grey-value Fokker–Planck form exists (Eq. 24)", "Pure diffusion: γ = 0, g = σᵢ² − σᵢ₋₁²."),
    ("IHD", "fokker_planck"): (_H, "A grey-value Fokker–Planck form exists (Eq. 24)",
                               "Per frequency an Ornstein–Uhlenbeck equation; degenerate (g = 0) in the mean mode."),
    ("BD", "fokker_planck"): (_H, "A grey-value Fokker–Planck form exists (Eq. 24)", "Per frequency an Ornstein–Uhlenbeck equation."),
}

#: (process, property) → Verdict
AXIOMS = {
    key: Verdict(claim=f"{key[0]}: {PROPERTIES[key[1]][0]}", paper=claim, verdict=verdict,
                 detail=detail, section=PROPERTIES[key[1]][1])
    for key, (verdict, claim, detail) in _TABLE.items()
}
VERDICTS = tuple(AXIOMS[(p, k)] for p in PROCESSES for k in PROPERTIES)


# ---------------------------------------------------------------------------------------------
# The processes as the book runs them
# ---------------------------------------------------------------------------------------------


def book_processes(shape, eigenvalues: str = "discrete") -> dict:
    """The four processes with their published settings, on images of ``shape``.

    VP: linear β from 10⁻⁴ to 0.02, T = 1000 (Ho et al. 2020). VE: σ from 0.01 to 50, T = 1000
    (Song et al. 2021). IHD: K = 200, σ_B from 0.5 to 20, σ = 0.01 (Rissanen et al. 2023). BD:
    T = 1000, σ_B,max = 20, d_min = 0.001, log-SNR from 10 to −10 (Hoogeboom & Salimans 2023).
    """
    return {
        "VP": pr.vp_process(linear_betas(), shape),
        "VE": pr.ve_process(shape, 1000, 0.01, 50.0),
        "IHD": pr.ihd_process(shape, 200, 0.5, 20.0, 0.01, eigenvalues=eigenvalues),
        "BD": pr.bd_process(shape, 1000, 20.0, 0.001, eigenvalues=eigenvalues),
    }


def display_steps(process, count: int = 5) -> np.ndarray:
    """``count`` steps from 0 to T, evenly spaced (rounded)."""
    return np.unique(np.round(np.linspace(0, process.n_steps, count)).astype(int))


def cat_trajectories(image, processes: dict, count: int, rng: np.random.Generator) -> dict:
    """One coherent trajectory per process at ``count`` evenly spaced steps: name → (steps, snapshots)."""
    out = {}
    for name, proc in processes.items():
        steps = display_steps(proc, count)
        out[name] = (steps, proc.trajectory(image, steps, rng))
    return out


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def composition_errors(process, rng: np.random.Generator, n_triples: int = 200) -> float:
    """Largest Chapman–Kolmogorov error over random triples i < j < k, in units of its bound.

    Composing the transitions i → j → k must give i → k: mean a_jk a_ij = a_ik and variance
    a_jk² s_ij + s_jk = s_ik. The bound is the round-off of the log-ratios and of the differences
    s − M²s: relative (4 + 4 max|ln a|) eps for the means and twice that times the size of the
    terms for the variances. Returns max(error / bound); ≤ 1 means exact to round-off.
    """
    eps = np.finfo(np.float64).eps
    worst = 0.0
    T = process.n_steps
    for _ in range(n_triples):
        i, j, k = np.sort(rng.choice(T + 1, 3, replace=False))
        a_ij, s_ij = process.transition(i, j)
        a_jk, s_jk = process.transition(j, k)
        a_ik, s_ik = process.transition(i, k)
        big = max(float(np.max(np.abs(np.where(np.isinf(process.log_scale[[i, j, k]]), 0, process.log_scale[[i, j, k]])))), 1.0)
        rel = (4 + 4 * big) * eps
        err_m = np.abs(a_jk * a_ij - a_ik) / (rel * np.maximum(np.abs(a_ik), np.finfo(float).tiny))
        scale = process._full(process.variance[k]) + a_ik**2 * process._full(process.variance[i])
        err_s = np.abs(a_jk**2 * s_ij + s_jk - s_ik) / (2 * rel * np.maximum(scale, np.finfo(float).tiny))
        worst = max(worst, float(np.max(err_m)), float(np.max(err_s)))
    return worst


def monotone_violation(values, direction: str, errors=None) -> float:
    """Largest step against ``direction`` ("up" or "down") of a sequence, in its units.

    With ``errors`` (standard errors of independent estimates) the step is divided by the
    standard error of the difference, √(se_i² + se_j²): values above 3 are significant.
    """
    values = np.asarray(values, dtype=float)
    diff = np.diff(values) if direction == "up" else -np.diff(values)
    if errors is not None:
        se = np.asarray(errors, dtype=float)
        diff = diff / np.sqrt(se[1:] ** 2 + se[:-1] ** 2)
    return float(max(0.0, -diff.min()))


def grid_permutations(shape, rng: np.random.Generator) -> dict:
    """The permutations the chapter tests, as functions of an image with trailing axes ``shape``."""
    perm = rng.permutation(int(np.prod(shape)))
    square = len(shape) == 2 and shape[0] == shape[1]

    def random_perm(u):
        return u.reshape(u.shape[: u.ndim - 2] + (-1,))[..., perm].reshape(u.shape)

    out = {
        "flip rows": lambda u: np.flip(u, -2),
        "flip columns": lambda u: np.flip(u, -1),
        "cyclic shift": lambda u: np.roll(u, 1, axis=-1),
        "random": random_perm,
    }
    if square:
        out["rotate 90°"] = lambda u: np.rot90(u, 1, axes=(-2, -1))
        out["transpose"] = lambda u: np.swapaxes(u, -1, -2)
    return out


def permutation_errors(process, image, step: int, rng: np.random.Generator) -> dict:
    """Does P commute with the process? name → (max error, round-off bound, bit-exact).

    With coupled noise (ξ for u₀, Pξ for Pu₀, as in the proof of the paper's Prop. 3 — in
    the DCT basis the noise is coupled in pixel space, ξ_coef = Vᵀ P V ξ) the two samples
    must agree: v_i = P u_i. The bound 64 eps (‖u₀‖ + ‖ξ‖) covers the DCT round trips.
    """
    eps = np.finfo(np.float64).eps
    perms = grid_permutations(process.shape, np.random.default_rng(rng.integers(2**32)))
    xi = rng.standard_normal(image.shape)
    plain = process.sample(image, step, noise=xi)
    out = {}
    for name, p in perms.items():
        if process.basis == "pixel":
            noise = p(xi)
        else:
            noise = process.to_basis(p(process.from_basis(xi)))
        moved = process.sample(p(image), step, noise=noise)
        err = float(np.abs(moved - p(plain)).max())
        bound = 64 * eps * (np.linalg.norm(image) + np.linalg.norm(xi))
        out[name] = (err, bound, bool(np.array_equal(moved, p(plain))))
    return out


def heat_min_entry(n: int, times, kind: str) -> np.ndarray:
    """Smallest entry of the 1-D heat operator exp(tΔ) (DCT, ``kind`` eigenvalues) per time t.

    The 2-D operator is the Kronecker product of the two 1-D ones (its eigenvalues are sums), so
    it has a negative entry iff one 1-D factor has.
    """
    lam = pr.laplacian_eigenvalues(n, kind)
    basis = fft.idct(np.eye(n), type=2, norm="ortho", axis=0)
    return np.array([((basis * np.exp(t * lam)) @ basis.T).min() for t in np.atleast_1d(times)])


def positivity_threshold(n: int, kind: str, times) -> tuple[float, float]:
    """(t*, most negative entry): every t ≥ t* on the grid ``times`` gives a non-negative
    operator up to round-off (−64 eps); t* = times[0] if all do."""
    mins = heat_min_entry(n, times, kind)
    bad = np.flatnonzero(mins < -64 * np.finfo(np.float64).eps)
    t_star = float(times[bad[-1] + 1]) if bad.size and bad[-1] + 1 < len(times) else (
        float("inf") if bad.size else float(times[0]))
    return t_star, float(mins.min())


def information_curves(processes: dict, variances) -> dict:
    """Closed-form H, H(·|U₀), I and KL for Gaussian data N(0, cI): name → c → GaussianInformation."""
    return {name: {c: pr.gaussian_information(p, c) for c in variances} for name, p in processes.items()}


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

_COLOURS = {"VP": "#1b6ca8", "VE": "#c0392b", "IHD": "#27ae60", "BD": "#8e44ad"}


def plot_trajectories(rows: dict, display_scale: dict | None = None):
    """Image grid: one row per process, its snapshots left to right, grey values clipped to [−1, 1].

    ``rows``: name → (steps, snapshots); ``display_scale``: name → per-snapshot divisors.
    Returns a JPEG :class:`lib.chapters.common.Raster` (show it as a cell's last expression).
    """
    display_scale = display_scale or {}
    images, titles = [], []
    for name, (steps, snaps) in rows.items():
        div = display_scale.get(name, np.ones(len(steps)))
        images.append([np.clip(snaps[c] / div[c], -1, 1) for c in range(len(steps))])
        titles.append([f"$i = {s}$" for s in steps])
    return image_grid(images, titles=titles, row_labels=list(rows))


@styled
def plot_information(curves: dict, mc: dict, variances):
    """Four panels over normalised time i/T (log scale, i ≥ 1): H(U_i) − H(U_0), H(U_i | U_0),
    I(U_0; U_i) and the KL divergence to the limit.

    ``curves``: name → c → GaussianInformation; ``mc``: name → MixtureInformation (digits).
    """
    import matplotlib.pyplot as plt

    styles = ["-", "--", ":"]
    fig, axes = plt.subplots(2, 2, figsize=(COLUMN_WIDTH, 5.4))
    (ax_h, ax_hc), (ax_i, ax_kl) = axes
    for name, by_c in curves.items():
        col = _COLOURS[name]
        for ls, c in zip(styles, variances):
            info = by_c[c]
            x = info.steps / info.steps[-1]
            label = f"{name}, c = {c:g}" if ls == "-" else None
            ax_h.plot(x[1:], info.entropy[1:] - info.entropy[0], ls, color=col, label=label if c == variances[0] else None)
            ax_i.plot(x[1:], info.mutual_information[1:], ls, color=col)
            if not np.all(np.isnan(info.kl_to_limit)):
                ax_kl.plot(x[1:], info.kl_to_limit[1:], ls, color=col)
        info = by_c[variances[0]]
        ax_hc.plot(info.steps[1:] / info.steps[-1], info.conditional_entropy[1:], color=col, label=name)
        if name in mc:
            r = mc[name]
            xm = r.steps / curves[name][variances[0]].steps[-1]
            ax_i.errorbar(xm, r.mutual_information, 2 * r.entropy_se, fmt="o", ms=3.5, color=col, mfc="white")
            if not np.all(np.isnan(r.kl)):
                ax_kl.errorbar(xm, r.kl, 2 * r.kl_se, fmt="o", ms=3.5, color=col, mfc="white")
    ax_h.set_ylabel(r"$H(U_i)-H(U_0)$ (nats)")
    ax_hc.set_ylabel(r"$H(U_i\,|\,U_0)$ (nats)")
    ax_i.set_ylabel(r"$I(U_0;U_i)$ (nats)")
    ax_kl.set_ylabel(r"KL$(p(u_i)\,\|\,p(u_\infty))$ (nats)")
    ax_i.set_yscale("symlog", linthresh=1e-2)
    ax_kl.set_yscale("log")
    ax_kl.set_ylim(1e-6, None)
    ax_h.set_yscale("symlog", linthresh=1.0)
    for ax in axes.ravel():
        ax.set_xlabel("$i/T$")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    ax_hc.legend(loc="upper left")
    lines = [plt.Line2D([], [], color="k", ls=ls) for ls in styles[: len(variances)]]
    ax_h.legend(lines, [f"c = {c:g}" for c in variances], loc="lower left")
    fig.tight_layout(pad=0.4)
    return fig


@styled
def plot_positivity(sizes, times, curves: dict, eig_n: int):
    """Left: discrete and continuous eigenvalues of the 1-D Laplacian (n = ``eig_n``); right:
    smallest entry of exp(tΔ) over t for both, per grid size (``curves``: (n, kind) → minima)."""
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 2.9))
    k = np.arange(eig_n)
    ax_l.plot(k, -pr.laplacian_eigenvalues(eig_n), label="discrete")
    ax_l.plot(k, -pr.laplacian_eigenvalues(eig_n, "continuous"), "--", label="continuous")
    ax_l.set_xlabel("frequency $k$")
    ax_l.set_ylabel(r"$-\lambda_k$")
    ax_l.legend()
    for (n, kind), mins in curves.items():
        ls = "-" if kind == "discrete" else "--"
        ax_r.plot(times, np.maximum(-mins, 1e-18), ls, label=f"{kind}, N = {n}")
    ax_r.set_xscale("log")
    ax_r.set_yscale("log")
    ax_r.axhline(64 * np.finfo(float).eps, color="0.5", lw=0.8)
    ax_r.set_xlabel("$t$")
    ax_r.set_ylabel(r"$-\min_{pq}\,[e^{t\Delta}]_{pq}$")
    ax_r.legend()
    for ax in (ax_l, ax_r):
        ax.grid(alpha=0.3)
    fig.tight_layout(pad=0.4)
    return fig


# ---------------------------------------------------------------------------------------------
# Tables and text
# ---------------------------------------------------------------------------------------------

_CELL_COLOUR = {_H: "#d9f2d9", _HC: "#fff2cc", _HW: "#f8d7da"}


def axioms_table_html(axioms: dict = None) -> str:
    """The axioms table: one row per property, one column per process; each cell is the
    verdict, linking to the section that checks it, with the reason as its tooltip."""
    axioms = AXIOMS if axioms is None else axioms
    rows = []
    for key, (label, _) in PROPERTIES.items():
        cells = [f"<b>{html.escape(label)}</b>"]
        for p in PROCESSES:
            v = axioms[(p, key)]
            cells.append(f'<a href="#{v.section}" title="{html.escape(v.detail)}" '
                         f'style="background:{_CELL_COLOUR[v.verdict]};padding:0 0.3em">'
                         f"{html.escape(v.verdict)}</a>")
        rows.append(cells)
    return html_table(["property", *PROCESSES], rows)


def permutation_table_html(errors: dict) -> str:
    """Table of :func:`permutation_errors` results: process × permutation, "bit-exact" or the
    maximal difference."""
    names = list(next(iter(errors.values())))
    rows = [[f"<b>{html.escape(proc)}</b>"]
            + ["bit-exact" if ok else f"{err:.1e}" for err, _, ok in result.values()]
            for proc, result in errors.items()]
    return html_table(["process", *(html.escape(k) for k in names)], rows)


# ---------------------------------------------------------------------------------------------
# Explorer (Jupyter only)
# ---------------------------------------------------------------------------------------------


def _display(process, name: str, u: np.ndarray, step: int) -> np.ndarray:
    """u_i for display: VE divided by √(1 + σ_i²) (it is not scaled down), clipped to [−1, 1]."""
    div = math.sqrt(1.0 + float(np.max(process.marginal(step)[1]))) if name == "VE" else 1.0
    return np.clip(u / div, -1.0, 1.0)


def _frame(image, processes: dict, fraction: float, xi: np.ndarray) -> np.ndarray:
    """The four processes at i = fraction · T with one noise image ξ, tiled 2 × 2 (1-px gaps)."""
    tiles = []
    for name, proc in processes.items():
        step = int(round(fraction * proc.n_steps))
        tiles.append(_display(proc, name, proc.sample(image, step, noise=xi), step))
    h, w = image.shape
    out = np.ones((2 * h + 1, 2 * w + 1))
    for k, tile in enumerate(tiles[:4]):
        r, c = divmod(k, 2)
        out[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = tile
    return out


def explorer_player(image, processes: dict, fractions=np.linspace(0.0, 1.0, 11), seed: int = 0) -> str:
    """Kernel-free stand-in of :func:`explorer`: an offline player stepping through i/T, the
    four processes tiled 2 × 2 (VP, VE on top; IHD, BD below) with one fixed noise image."""
    xi = np.random.default_rng(seed).standard_normal(image.shape)
    frames = [_frame(image, processes, float(f), xi) for f in fractions]
    names = ", ".join(processes)
    captions = [f"i / T = {f:.1f} ({names})" for f in fractions]
    alt = (f"Animation of the cat under {names}, tiled two by two, from the image at i / T = 0 "
           "to the end of each schedule, all with the same noise image.")
    return player(frames, captions, alt=alt, width=min(COLUMN_WIDTH, 5.0))


def explorer(image, processes: dict, seed: int = 0) -> Explorer:
    """ipywidgets explorer (Jupyter only): choose a process and i/T; the cat u_i with one fixed
    noise image ξ. The explorer's ``result`` is the image shown; the HTML book shows
    :func:`explorer_player` instead."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    xi = np.random.default_rng(seed).standard_normal(image.shape)
    names = list(processes)

    def draw(process: str, fraction: float):
        proc = processes[process]
        step = int(round(fraction * proc.n_steps))
        u = _display(proc, process, proc.sample(image, step, noise=xi), step)
        fig, ax = plt.subplots(figsize=(4.5, 3.4))
        show_image(ax, u)
        ax.set_title(f"{process}, $i = {step}$ of {proc.n_steps}")
        return fig, u

    return Explorer(draw, dict(
        process=widgets.Dropdown(options=names, value=names[0], description="process"),
        fraction=widgets.FloatSlider(min=0.0, max=1.0, step=0.01, value=0.2, description="i / T"),
    ))
