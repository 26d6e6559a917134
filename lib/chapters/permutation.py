"""Companion of the chapter *Permutation invariance* (paper Property 4, Proposition 3, Eq. 21):
the experiments (coupled trajectories, Gaussian smoothing as the classical reference, white and
smoothed noise), tables, figures, player and explorer. The permutations themselves are
:class:`lib.core.permutations.GridPermutation`; the chain is :mod:`lib.core.forward`, whose
caller-supplied noise (``noise=``) couples the two trajectories of the proof without a copy of
the chain.

Gaussian smoothing (homogeneous diffusion) and :func:`commutation_error` quantify
‖T(P f) − P(T f)‖ for an image operator T: classical diffusion commutes with translations, 90°
rotations and flips (given a matching boundary condition) but not with arbitrary
permutations, because it couples neighbouring pixels.
"""

from __future__ import annotations

import copy
import numbers
from functools import lru_cache

import numpy as np
from scipy import ndimage

from lib.core import forward, schedules
from lib.core._validation import (as_float_array, as_state, check_betas, check_choice,
                                  check_float_dtype, check_real, check_rng, check_shape, check_steps)
from lib.core.permutations import GridPermutation
from lib.core.stats import innovations

from .common import (COLUMN_WIDTH, Explorer, html_table, image_grid, player, report_table,
                     same_length, show_image, styled, trajectory_grid)
from .prose import Verdict

__all__ = [
    "VERDICTS",
    "commutation_error",
    "commutation_figure",
    "coupled_trajectories",
    "gaussian_commutation",
    "gaussian_roundoff_bound",
    "gaussian_smoothing",
    "html_table",
    "innovation_neighbour_correlations",
    "neighbour_correlation",
    "noise_source",
    "permutation_explorer",
    "permutation_grid",
    "permutation_player",
    "report_table",
    "side_by_side",
    "smoothed_noise",
    "smoothed_noise_correlation",
    "trajectory_grid",
    "unpermuted_innovations",
]

VERDICTS = (
    Verdict(
        claim="Property 4 / Proposition 3",
        paper="trajectories are permuted with the initial image (Eq. 21)",
        verdict="holds",
        detail="bit for bit with the coupled noise $P^{-1}(g_i)$, for shuffles, cyclic translations, "
               "quarter turns (between two grids for a non-square image) and flips; in law with "
               "independent noise, which needs white (uncorrelated) noise",
        section="sec-permutation-exact",
    ),
)


def _as_perm(perm) -> GridPermutation:
    if not isinstance(perm, GridPermutation):
        raise TypeError(f"perm must be a lib.core.permutations.GridPermutation, got {type(perm).__name__}")
    return perm


# ---------------------------------------------------------------------------------------------
# The construction of Proposition 3 (Eq. 21)
# ---------------------------------------------------------------------------------------------


def coupled_trajectories(
    f, perm, betas, steps, rng: np.random.Generator, coupling: str = "inverse"
) -> tuple[np.ndarray, np.ndarray]:
    """The two trajectories of the proof of Proposition 3 (paper, Eq. 21).

    v is the trajectory of Eq. (4) from v_0 = P(f) with fresh noise g_i ~ N(0, I) (drawn from
    ``rng`` in the working precision); u is the trajectory from u_0 = f with the noise
    g̃_i = P⁻¹(g_i). Proposition 3 says ``v[k] == P(u[k])`` for every snapshot. Both runs use
    :func:`lib.core.forward.iterate_forward` with caller-supplied noise; u reads the same
    realisations from a copy of ``rng``.

    Parameters
    ----------
    f : array_like, shape ``in_shape`` or ``in_shape + (C,)``
    perm : lib.core.permutations.GridPermutation
    betas : array_like, shape (T,)
    steps : sequence of int
        Strictly increasing steps in [0, T].
    rng : numpy.random.Generator
    coupling : {"inverse", "same"}
        ``"inverse"`` is the paper's g̃_i = P⁻¹(g_i); ``"same"`` feeds u the unpermuted g_i
        (a wrong coupling, kept to show that the bit-exact check can fail; it needs
        ``in_shape == out_shape``).

    Returns
    -------
    u : ndarray, shape (len(steps),) + f.shape
        Snapshots u_i of the trajectory from f.
    v : ndarray, shape (len(steps),) + P(f).shape
        Snapshots v_i of the trajectory from P(f).
    """
    p = _as_perm(perm)
    u = as_state(f, "f")
    v = p.apply(u)
    betas = check_betas(betas)
    steps = check_steps(steps, betas.size)
    check_rng(rng)
    check_choice(coupling, "coupling", ("inverse", "same"))
    if coupling == "same" and p.in_shape != p.out_shape:
        raise ValueError(f"coupling 'same' needs in_shape == out_shape, got {p.in_shape} and {p.out_shape}")
    p_inv = p.inverse()
    twin = copy.deepcopy(rng)  # replays the draws of rng for the trajectory from f

    def noise_u(i):
        g = twin.standard_normal(v.shape, dtype=v.dtype)
        return p_inv.apply(g) if coupling == "inverse" else g

    out_v = forward.iterate_forward(v, betas, steps, rng)
    out_u = forward.iterate_forward(u, betas, steps, noise=noise_u)
    return out_u, out_v


# ---------------------------------------------------------------------------------------------
# The classical reference: homogeneous diffusion (Gaussian smoothing)
# ---------------------------------------------------------------------------------------------

_MODES = ("reflect", "wrap", "nearest", "mirror", "constant")


def gaussian_smoothing(image, sigma: float, mode: str = "reflect", truncate: float = 4.0) -> np.ndarray:
    """Homogeneous diffusion of an image: convolution with a Gaussian of standard deviation σ.

    This is the solution of ∂_t u = Δu at time t = σ²/2 (Iijima 1962; Weickert 1998), evaluated
    by :func:`scipy.ndimage.gaussian_filter` over the two grid axes only (colour channels are
    smoothed separately, never mixed).

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
    sigma : float
        Standard deviation in pixels.
    mode : {"reflect", "wrap", "nearest", "mirror", "constant"}
        Boundary condition of ``scipy.ndimage``: ``"reflect"`` mirrors about the pixel edge
        (homogeneous Neumann boundary), ``"wrap"`` is periodic (the image lives on a torus).
    truncate : float
        Kernel radius in standard deviations (scipy's default 4).

    Returns
    -------
    ndarray of float64, same shape as ``image``
    """
    arr = as_float_array(image, "image").astype(np.float64, copy=False)
    if arr.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got {arr.shape}")
    sigma = check_real(sigma, "sigma", 0.0)
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    sigmas = (sigma, sigma) + (0.0,) * (arr.ndim - 2)
    return ndimage.gaussian_filter(arr, sigmas, mode=mode, truncate=truncate)


def gaussian_roundoff_bound(image, sigma: float, truncate: float = 4.0) -> float:
    """Bound on max |G(P f) − P(G f)| from round-off alone, for a P that G commutes with exactly.

    :func:`gaussian_smoothing` runs two 1-D passes (rows, then columns) with n = 2r + 1 positive
    weights summing to 1, r = ⌊truncate·σ + ½⌋. A floating-point sum of n products differs from
    the exact one by at most γ_{n+1}·Σ w_k|x_k| ≤ (n + 1)·ε·max|x| (ε = 2⁻⁵², γ_m = mε/(1 − mε),
    Higham 2002, §3.1), and a pass with weights summing to 1 does not enlarge errors made before
    it in the max norm. So each of G(P f) and P(G f) is within 2(n + 1)·ε·max|f| of the exact
    result, and the two within 4(n + 1)·ε·max|f| of each other (with a factor 1.01 for γ).
    """
    arr = as_float_array(image, "image")
    sigma = check_real(sigma, "sigma", 0.0)
    n = 2 * int(truncate * sigma + 0.5) + 1
    return float(1.01 * 4 * (n + 1) * np.finfo(np.float64).eps * np.max(np.abs(arr)))


def gaussian_commutation(image, perm, sigma: float, mode: str = "reflect") -> dict:
    """Commutation of Gaussian smoothing with a permutation, against the round-off bound.

    Returns
    -------
    dict
        ``relative`` and ``max_abs`` from :func:`commutation_error` with
        T = :func:`gaussian_smoothing` (``sigma``, ``mode``), ``bound`` from
        :func:`gaussian_roundoff_bound`, and ``commutes`` = ``max_abs <= bound``.
    """
    sigma = check_real(sigma, "sigma", 0.0)
    relative, max_abs = commutation_error(lambda x: gaussian_smoothing(x, sigma, mode), perm, image)
    bound = gaussian_roundoff_bound(image, sigma)
    return {"relative": relative, "max_abs": max_abs, "bound": bound, "commutes": max_abs <= bound}


def commutation_error(operator, perm, image) -> tuple[float, float]:
    """How far an image operator T is from commuting with a permutation P.

    Parameters
    ----------
    operator : callable
        T, mapping an image to an image of the same shape (e.g. Gaussian smoothing).
    perm : lib.core.permutations.GridPermutation
    image : array_like, shape ``in_shape`` or ``in_shape + (C,)``

    Returns
    -------
    relative : float
        ‖T(P f) − P(T f)‖ / ‖P(T f)‖ in the Euclidean (Frobenius) norm.
    max_abs : float
        max |T(P f) − P(T f)|, to compare with a round-off bound.
    """
    p = _as_perm(perm)
    f = as_float_array(image, "image")
    a = np.asarray(operator(p.apply(f)), dtype=np.float64)
    b = p.apply(np.asarray(operator(f), dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"operator must preserve the image shape, got {a.shape} and {b.shape}")
    diff = a - b
    norm = np.linalg.norm(b)
    if norm == 0:
        raise ValueError("T(f) is zero; the relative commutation error is undefined")
    return float(np.linalg.norm(diff) / norm), float(np.max(np.abs(diff)))


# ---------------------------------------------------------------------------------------------
# What the proof uses: white noise. Spatially correlated noise as a counterexample in law.
# ---------------------------------------------------------------------------------------------


def _kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian weights scipy.ndimage uses (read off a filtered impulse)."""
    r = int(truncate * sigma + 0.5)
    impulse = np.zeros(2 * r + 1)
    impulse[r] = 1.0
    return ndimage.gaussian_filter1d(impulse, sigma, mode="constant", truncate=truncate)


def smoothed_noise_correlation(sigma: float, lag: int = 1) -> float:
    """Correlation of :func:`smoothed_noise` at horizontal distance ``lag`` (on a large grid).

    For white noise filtered with weights w (separably, periodic boundary, grid wider than the
    kernel) the correlation at lag ℓ along one axis is Σ_k w_k w_{k+ℓ} / Σ_k w_k².
    """
    sigma = check_real(sigma, "sigma", 0.0)
    if isinstance(lag, (bool, np.bool_)) or not isinstance(lag, numbers.Integral) or lag < 0:
        raise ValueError(f"lag must be a non-negative integer, got {lag!r}")
    w = _kernel1d(sigma)
    if lag >= w.size:
        return 0.0
    return float(np.dot(w[: w.size - lag], w[lag:]) / np.dot(w, w))


def smoothed_noise(shape, rng: np.random.Generator, sigma: float, dtype=np.float64) -> np.ndarray:
    """Spatially correlated Gaussian noise with unit variance per pixel (not the paper's noise).

    White noise ξ ~ N(0, I) filtered by a Gaussian of standard deviation ``sigma`` pixels over the
    first two axes with periodic boundary, divided by √(Σ w²) per axis so that every pixel has
    variance exactly 1. Its law is invariant under cyclic translations, 90° rotations of square
    grids and flips, but not under arbitrary permutations: neighbours are correlated
    (:func:`smoothed_noise_correlation`).

    Parameters
    ----------
    shape : tuple of int
        (H, W) or (H, W, C); both H and W must exceed the kernel width 2r + 1.
    rng : numpy.random.Generator
    sigma : float
    dtype : float32 or float64
    """
    check_rng(rng)
    sigma = check_real(sigma, "sigma", 0.0)
    shape = check_shape(shape, "shape", ndims=(2, 3))
    dtype = check_float_dtype(dtype)
    w = _kernel1d(sigma)
    if min(shape[:2]) <= w.size:
        raise ValueError(f"the grid {shape[:2]} must be larger than the kernel width {w.size}")
    xi = rng.standard_normal(shape)
    sigmas = (sigma, sigma) + (0.0,) * (len(shape) - 2)
    g = ndimage.gaussian_filter(xi, sigmas, mode="wrap") / np.dot(w, w)
    return g.astype(np.dtype(dtype))


def neighbour_correlation(z) -> float:
    """Mean of z[y, x] · z[y, x + 1] over all horizontally adjacent pixels.

    For noise with unit variance per pixel (white noise, :func:`smoothed_noise`, or innovations
    of the forward process) this is an unbiased estimate of the correlation of horizontal
    neighbours: 0 for white noise, :func:`smoothed_noise_correlation` for smoothed noise.
    (Dividing by the sample variance would add a bias of order 1/n_eff.) ``z`` has shape
    (H, W) or (H, W, C).
    """
    z = as_float_array(z, "z").astype(np.float64, copy=False)
    if z.ndim not in (2, 3) or z.shape[1] < 2:
        raise ValueError(f"z must have shape (H, W) or (H, W, C) with W ≥ 2, got {z.shape}")
    return float(np.mean(z[:, 1:] * z[:, :-1]))


def noise_source(shape, rng: np.random.Generator, kind: str = "white", sigma: float = 1.5, dtype=np.float64):
    """A callable ``i -> g_i`` drawing one noise realisation per step, for :func:`lib.core.forward.iterate_forward` (``noise=``).

    Parameters
    ----------
    shape : tuple of int
        Shape of one realisation.
    rng : numpy.random.Generator
    kind : {"white", "smoothed"}
        ``"white"``: g_i ~ N(0, I), the noise of the paper (drawn exactly as
        :func:`lib.core.forward.iterate_forward` draws it). ``"smoothed"``: :func:`smoothed_noise`
        with standard deviation ``sigma`` (shape (H, W) or (H, W, C)), a variant whose law is
        not permutation invariant.
    sigma : float
    dtype : float32 or float64
    """
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    shape = check_shape(shape, "shape")
    if kind == "white":
        return lambda i: rng.standard_normal(shape, dtype=dtype)
    if kind == "smoothed":
        check_real(sigma, "sigma", 0.0)
        smoothed_noise(shape, np.random.default_rng(0), sigma)  # validates the shape once
        return lambda i: smoothed_noise(shape, rng, sigma, dtype)
    raise ValueError(f"kind must be 'white' or 'smoothed', got {kind!r}")


def unpermuted_innovations(f, perm, betas, noise) -> np.ndarray:
    """Innovations of P⁻¹(V) measured against the process from f (law part of Proposition 3).

    Runs Eq. (4) from v_0 = P(f) with the given noise (array or callable, as in
    :func:`lib.core.forward.iterate_forward`), maps every snapshot back with P⁻¹ and returns the standardised
    increments z_i = (w_i − √(1 − β_i) w_{i−1}) / √β_i of w_i = P⁻¹(v_i)
    (:func:`lib.core.stats.innovations` at every step). If P⁻¹(V) has the law of the process from f,
    these are distributed like the noise of that process; here they equal P⁻¹(g_i) up to
    round-off.

    Returns
    -------
    z : ndarray of float64, shape (T,) + f.shape
    """
    p = _as_perm(perm)
    f = as_state(f, "f")
    betas = check_betas(betas)
    v = forward.iterate_forward(p.apply(f), betas, None, noise=noise)
    w = p.apply_inverse(v, batch_dims=1)
    return innovations(w, f, betas, np.arange(betas.size + 1))


def innovation_neighbour_correlations(f, perm, betas, noise) -> np.ndarray:
    """Per-step neighbour correlation of the innovations of P⁻¹(V) (see
    :func:`unpermuted_innovations` and :func:`neighbour_correlation`).

    If P⁻¹(V) has the law of the process from f, the T values are i.i.d. estimates of the
    neighbour correlation of that process's noise (0 for white noise), so their mean has
    standard error sd/√T.

    Returns
    -------
    ndarray of float64, shape (T,)
    """
    z = unpermuted_innovations(f, perm, betas, noise)
    return np.array([neighbour_correlation(z_i) for z_i in z])


# ---------------------------------------------------------------------------------------------
# Tables, figures, player, explorer
# ---------------------------------------------------------------------------------------------


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
    (:func:`coupled_trajectories`, constant β, same seed; cached): u from f, v
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
        return coupled_trajectories(u0, perms[which], betas, steps, np.random.default_rng(seed))

    def draw(i: int, which: int):
        u, v = paths(which)
        k = int(i) // stride
        back = perms[which].apply_inverse(v[k])
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
