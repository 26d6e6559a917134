"""Equivariant, local and equivariant-local score machines (Kamb & Ganguli 2025).

For a finite training set {f_k} the exact score of the forward marginal
p(u_i) = (1/N) Σ_k N(√ᾱ f_k, (1 − ᾱ) I) (paper Eq. 5 averaged over u_0; Kamb & Ganguli
Eqs. 2–4) only memorises: its reverse chain returns training images. Kamb & Ganguli (ICML 2025,
Sec. 3, App. B) give the minimum-mean-squared-error approximations of that score under two
constraints of convolutional denoisers, all in closed form:

* **ES** (equivariant score, their Eqs. 5–6): the exact score of the training set augmented by
  all circular shifts of every image;
* **LS** (local score, Eqs. 7–8): the score at pixel x may depend only on the P × P patch around
  x; the posterior weights are a softmax over the *co-located* training patches;
* **ELS** (equivariant local score, Eqs. 9–10, with boundaries Eq. 41): the same, but the softmax
  runs over training patches from *every* location whose overlap with the image boundary looks
  the same (zero padding) or over all locations (circular boundary).

All of them share one form. With a dictionary 𝒫_x of patches φ (a training image restricted to
a window, φ(0) its centre pixel) and σ² = 1 − ᾱ,

    x̂_0(u)(x) = Σ_{φ ∈ 𝒫_x} W(φ | u, x) φ(0),
    W(φ | u, x) ∝ exp(−‖u_{Ω_x} − √ᾱ φ‖² / (2σ²)),                                  (★)
    M[u](x) = (√ᾱ x̂_0(u)(x) − u(x)) / σ²        (the score; Tweedie's form),

a patch log-sum-exp computed with matrix products, ‖a − b‖² = ‖a‖² − 2a·b + ‖b‖², in chunks
with a running maximum. Identical dictionary patches are merged and weighted by their count
(log-count added to the logits), which is exact and shrinks the dictionaries of the digits
several-fold (backgrounds repeat). The patch size P may change with the noise level
(:func:`patch_size_schedule`), as Kamb & Ganguli calibrate it to trained networks (their
Sec. 5.1, App. C.2: large early in the reverse process, 3 × 3 at the end).

Boundaries (their Sec. 3.4, App. B.2). ``"zero"``: a window that leaves the image is
zero-padded. A padded pixel is exactly 0 with probability one, so it reveals where the window
sits relative to the border; the dictionary of pixel x is then the training patches centred at
every location x' whose window has the *same* padding pattern, and the padded entries (equal on
both sides) drop out of (★). ``"circular"``: windows wrap around; every pixel uses every
location, and the machine is exactly shift-equivariant.

The reverse chain is the book's DDPM chain (:mod:`lib.core.reverse`, Ho et al. 2020) with the exact
denoiser replaced by x̂_0 of (★); that sampler takes training images, not a denoiser, so
:func:`sample` runs the same steps through a small hook of its own (and reproduces
``lib.core.reverse.sample`` bit for bit with ``machine="exact"``).

References
----------
M. Kamb and S. Ganguli, "An analytic theory of creativity in convolutional diffusion models",
ICML 2025, PMLR 267:28795–28831 (arXiv:2412.20292).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from . import reverse as _reverse
from . import schedules as _schedules
from ._threads import blas_limit
from ._validation import (as_float_array, check_alpha_bar, check_betas, check_choice, check_grid_shape, check_int,
                          check_memory, check_positive_int, check_rng, check_steps, check_work)
from .mixture import Mixture

__all__ = [
    "patch_size_schedule",
    "denoiser",
    "score",
    "sample",
    "patch_match",
]

_MACHINES = ("exact", "es", "ls", "els")
_BOUNDARIES = ("zero", "circular")
#: Requests whose patch dictionaries (before merging duplicates) would need more bytes than this
#: are refused before anything is allocated.
_MAX_BYTES = 2**30
# (query × dictionary) entries per block: 2 MB of float64, 32 query rows at a time. Blocks that
# stay in the CPU cache made the patch softmax 3x faster than 16 MB blocks (measured).
_CHUNK = 2**18
_ROWS = 32
_DEDUP_MAX = 25  # merge identical patches for windows of up to 5 x 5 pixels


# ----------------------------------------------------------------------------- validation ----

def _check_train(train, shape):
    if shape is not None:
        shape = check_grid_shape(shape)
    t = as_float_array(train, "train").astype(np.float64, copy=False)
    if t.ndim == 3:
        if shape is not None and shape != t.shape[1:]:
            raise ValueError(f"shape {tuple(shape)} does not match train images {t.shape[1:]}")
        return t
    if t.ndim != 2:
        raise ValueError(f"train must have shape (N, H, W) or (N, H*W), got {t.shape}")
    if shape is None:
        side = int(round(np.sqrt(t.shape[1])))
        if side * side != t.shape[1]:
            raise ValueError("train rows are not square images; give shape=(H, W)")
        shape = (side, side)
    if shape[0] * shape[1] != t.shape[1]:
        raise ValueError(f"shape must be (H, W) with H*W = {t.shape[1]}, got {shape}")
    return t.reshape(t.shape[0], *shape)


def _check_patch_size(p, name="patch_size"):
    p = check_int(p, name, 1)
    if p % 2 == 0:
        raise ValueError(f"{name} must be an odd positive integer (a window centred on its pixel), got {p}")
    return p


def _check_patch_sizes(patch_size, n_steps):
    """One odd size for every step, or a sequence of ``n_steps`` of them (3.0 counts as 3)."""
    if np.ndim(patch_size) == 0:
        return np.full(n_steps, _check_patch_size(patch_size), dtype=np.int64)
    items = list(patch_size)
    if len(items) != n_steps:
        raise ValueError(f"patch_size must be an odd integer or a sequence of {n_steps} of them, "
                         f"got {len(items)} entries")
    return np.array([_check_patch_size(int(p) if isinstance(p, (float, np.floating)) and float(p).is_integer()
                                       else p) for p in items], dtype=np.int64)


def _check_x(x, shape):
    arr = as_float_array(x, "x").astype(np.float64, copy=False)
    n = shape[0] * shape[1]
    if arr.ndim == 1 and arr.size == n:
        return arr[None]
    if arr.ndim == 2 and arr.shape[1] == n:
        return arr
    if arr.ndim == 3 and arr.shape[1:] == tuple(shape):
        return arr.reshape(arr.shape[0], n)
    raise ValueError(f"x must have shape (m, {n}) or (m, {shape[0]}, {shape[1]}), got {arr.shape}")


# ------------------------------------------------------------------------- dictionaries ----

@dataclass(frozen=True)
class _Group:
    """Pixels that share one patch dictionary, with their windows and the dictionary."""

    pixels: np.ndarray      # (g,) flat indices of the pixels served by this dictionary
    windows: np.ndarray     # (g, p) flat indices of each pixel's window (in-image / wrapped)
    patches: np.ndarray     # (K, p) distinct training patches
    sq_norms: np.ndarray    # (K,) their squared norms
    centres: np.ndarray     # (K,) their centre pixels φ(0)
    log_counts: np.ndarray  # (K,) log multiplicity of each distinct patch
    sources: np.ndarray     # (K, 3) training image, row, column of one occurrence


def _radius(patch_size, shape, boundary):
    r = (patch_size - 1) // 2
    if boundary == "circular" and patch_size > min(shape):
        raise ValueError(f"with a circular boundary patch_size must be <= {min(shape)} "
                         f"(a larger window would see pixels twice), got {patch_size}")
    return min(r, max(shape) - 1)  # larger windows see nothing more under zero padding


def _axis_windows(size, r, boundary):
    """Per position along one axis: (key, offsets) of its window."""
    out = []
    for i in range(size):
        if boundary == "circular":
            offs = np.arange(-r, r + 1)
            out.append(("all", (i + offs) % size, offs))
        else:
            lo, hi = max(-i, -r), min(size - 1 - i, r)
            offs = np.arange(lo, hi + 1)
            out.append(((lo, hi), i + offs, offs))
    return out


def _layout(shape, patch_size, machine, boundary):
    """Group the pixels: one group per dictionary. Returns list of (pixel list, windows)."""
    H, W = shape
    r = _radius(patch_size, shape, boundary)
    rows, cols = _axis_windows(H, r, boundary), _axis_windows(W, r, boundary)
    groups: dict = {}
    for i in range(H):
        for j in range(W):
            (kr, ri, _), (kc, ci, _) = rows[i], cols[j]
            key = (i, j) if machine == "ls" else (kr, kc)
            win = (ri[:, None] * W + ci[None, :]).ravel()
            groups.setdefault(key, []).append((i * W + j, win))
    return list(groups.values())


def _dictionary_bytes(n_train: int, shape, patch_size: int, machine: str = "els",
                     boundary: str = "zero") -> int:
    """Bytes of the patch dictionaries of one machine before duplicates are merged.

    ``machine="es"`` counts the shifted training set (N·H·W images of H·W pixels); ``"exact"``
    the training set itself. :func:`denoiser`, :func:`score`, :func:`sample` and
    :func:`patch_match` refuse requests above ``_MAX_BYTES`` (1 GiB).

    Examples
    --------
    >>> _dictionary_bytes(1797, (8, 8), 3)          # all 3 x 3 patches of the digits
    6957984
    """
    n_train = check_positive_int(n_train, "n_train")
    if len(tuple(shape)) != 2:
        raise ValueError(f"shape must be (H, W), got {shape!r}")
    H, W = (check_positive_int(s, "shape entries") for s in shape)
    check_choice(machine, "machine", _MACHINES)
    check_choice(boundary, "boundary", _BOUNDARIES)
    if machine == "exact":
        return 8 * n_train * H * W
    if machine == "es":
        return 8 * n_train * (H * W) ** 2
    p = _check_patch_size(patch_size)
    total = 0
    for members in _layout((H, W), p, machine, boundary):
        total += 8 * n_train * len(members) * members[0][1].size
    return total


def _refuse_if_too_big(n_train, shape, patch_size, machine, boundary):
    need = _dictionary_bytes(n_train, shape, patch_size, machine, boundary)
    if need > _MAX_BYTES:
        raise ValueError(
            f"the {machine} dictionaries for {n_train} images of {shape} with patch_size "
            f"{patch_size} need about {need / 2**20:.0f} MiB, more than _MAX_BYTES = "
            f"{_MAX_BYTES / 2**20:.0f} MiB; use fewer or smaller images or a smaller patch")


def _dictionaries(train3, patch_size, machine, boundary):
    """Build the groups of (★) for a training set of shape (N, H, W)."""
    N, H, W = train3.shape
    flat = train3.reshape(N, H * W)
    groups = []
    for members in _layout((H, W), patch_size, machine, boundary):
        pixels = np.array([m[0] for m in members])
        windows = np.stack([m[1] for m in members])
        # every member window of the group is a dictionary location (ELS) or just one (LS)
        raw = flat[:, windows]                              # (N, g, p)
        p = windows.shape[1]
        raw = raw.reshape(-1, p)
        centre_col = int(np.flatnonzero(windows[0] == pixels[0])[0])
        if p <= _DEDUP_MAX:
            uniq, first, counts = np.unique(raw, axis=0, return_index=True, return_counts=True)
        else:  # long windows rarely repeat; sorting them costs more than it saves
            uniq, first, counts = raw, np.arange(raw.shape[0]), np.ones(raw.shape[0], np.int64)
        img, loc = np.divmod(first, len(members))
        src_pix = pixels[loc]
        sources = np.column_stack([img, src_pix // W, src_pix % W])
        groups.append(_Group(pixels, windows, uniq, np.einsum("ij,ij->i", uniq, uniq),
                             uniq[:, centre_col].copy(), np.log(counts), sources))
    return groups


def _shift_orbit(train3):
    """All circular shifts of every training image: (N·H·W, H·W)."""
    N, H, W = train3.shape
    out = np.empty((N, H, W, H, W))
    for a in range(H):
        for b in range(W):
            out[:, a, b] = np.roll(train3, (a, b), axis=(1, 2))
    return out.reshape(N * H * W, H * W)


# ------------------------------------------------------------------- the patch softmax ----

def _softmax_centres(q, g, s, var):
    """Σ_φ W(φ|q) φ(0) for query patches q (R, p) against one dictionary, chunked (★).

    The logits (s/σ²) q·φ − (s²/2σ²)‖φ‖² + log count(φ) of a block are one product of the
    scaled queries with a 1 appended and the patches with their bias appended; one more
    product with [φ(0), 1] gives the weighted sum and the normaliser together.
    """
    R, K = q.shape[0], g.patches.shape[0]
    qa = np.empty((R, q.shape[1] + 1))
    np.multiply(q, s / var, out=qa[:, :-1])
    qa[:, -1] = 1.0
    pa = np.column_stack([g.patches, g.log_counts - (0.5 * s * s / var) * g.sq_norms])
    ca = np.column_stack([g.centres, np.ones(K)])
    rb = min(R, _ROWS)
    kb = max(1, _CHUNK // rb)
    out = np.empty(R)
    for r0 in range(0, R, rb):
        qb = qa[r0 : r0 + rb]
        run_max = np.full(qb.shape[0], -np.inf)
        acc = np.zeros((qb.shape[0], 2))
        for k0 in range(0, K, kb):
            e = qb @ pa[k0 : k0 + kb].T
            new_max = np.maximum(run_max, e.max(axis=1))
            e -= new_max[:, None]
            np.exp(e, out=e)
            acc *= np.exp(run_max - new_max)[:, None]
            acc += e @ ca[k0 : k0 + kb]
            run_max = new_max
        out[r0 : r0 + rb] = acc[:, 0] / acc[:, 1]
    return out


def _local_denoise(u, groups, s, var):
    out = np.empty_like(u)
    m = u.shape[0]
    for g in groups:
        q = u[:, g.windows].reshape(-1, g.windows.shape[1])   # (m·g, p)
        out[:, g.pixels] = _softmax_centres(q, g, s, var).reshape(m, -1)
    return out


# Dictionaries of recent requests, keyed by the training set's bytes and the request: a chapter
# that samples several machines and patch sizes from one training set builds each only once.
# At most _CACHE_SIZE entries and _MAX_BYTES in all.
_CACHE: dict = {}
_CACHE_SIZE = 16


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    return sum(g.patches.nbytes + g.windows.nbytes + g.sources.nbytes + 3 * g.centres.nbytes
               for g in value)


class _Machine:
    """A denoiser x̂_0(u, ᾱ) with its dictionaries built once per patch size."""

    def __init__(self, train3, machine, boundary):
        self.train3, self.machine, self.boundary = train3, machine, boundary
        self.flat = train3.reshape(train3.shape[0], -1)
        self._digest = (train3.shape, hashlib.blake2b(train3.tobytes(), digest_size=16).digest())

    def prepare(self, patch_size):
        N, H, W = self.train3.shape
        if self.machine == "exact":
            return self.flat
        size = patch_size if self.machine in ("ls", "els") else None
        key = (self._digest, self.machine, self.boundary, size)
        if key not in _CACHE:
            _refuse_if_too_big(N, (H, W), patch_size, self.machine, self.boundary)
            if self.machine == "es":
                value = _shift_orbit(self.train3)
            else:
                value = _dictionaries(self.train3, patch_size, self.machine, self.boundary)
            nbytes = _nbytes(value)
            while _CACHE and (len(_CACHE) >= _CACHE_SIZE
                              or sum(_nbytes(v) for v in _CACHE.values()) + nbytes > _MAX_BYTES):
                _CACHE.pop(next(iter(_CACHE)))  # oldest first
            _CACHE[key] = value
        return _CACHE[key]

    def __call__(self, u, alpha_bar, patch_size):
        d = self.prepare(patch_size)
        if self.machine in ("exact", "es"):
            return Mixture(d).posterior_mean(u, alpha_bar)
        return _local_denoise(u, d, np.sqrt(alpha_bar), 1.0 - alpha_bar)


def _setup(train, shape, machine, boundary, patch_size):
    t3 = _check_train(train, shape)
    check_choice(machine, "machine", _MACHINES)
    check_choice(boundary, "boundary", _BOUNDARIES)
    if machine in ("ls", "els"):
        _check_patch_size(patch_size)
    return t3, _Machine(t3, machine, boundary)


# --------------------------------------------------------------------------- public API ----

def patch_size_schedule(betas, largest: int, smallest: int = 3) -> np.ndarray:
    """Patch size P_i for each reverse step i = 1 … T, shrinking with the noise level.

    Kamb & Ganguli (Sec. 5.1, App. C.2, Fig. 4b) calibrate P per step to trained networks and
    find it large at high noise and decreasing monotonically to 3 × 3 in the last steps; they
    give no formula. We use the simplest rule with that shape, linear in the noise standard
    deviation σ_i = √(1 − ᾱ_i) and rounded to odd sizes:

        P_i = smallest + 2 · round((largest − smallest)/2 · σ_i).

    Parameters
    ----------
    betas : array_like, shape (T,)
        Noise schedule (``betas[i-1] = β_i``).
    largest, smallest : int
        Odd patch sizes at σ = 1 and σ = 0, ``smallest <= largest``.

    Returns
    -------
    ndarray of int, shape (T,); entry i − 1 is the patch size used at step i.

    Examples
    --------
    >>> from lib.core import schedules
    >>> patch_size_schedule(schedules.cosine_betas(10), 7).tolist()
    [3, 5, 5, 5, 5, 7, 7, 7, 7, 7]
    """
    betas = check_betas(betas)
    largest, smallest = _check_patch_size(largest, "largest"), _check_patch_size(smallest, "smallest")
    if smallest > largest:
        raise ValueError(f"smallest ({smallest}) must not exceed largest ({largest})")
    sigma = np.sqrt(1.0 - _schedules.alpha_bar(betas)[1:])
    return smallest + 2 * np.rint((largest - smallest) / 2 * sigma).astype(np.int64)


def denoiser(x, train, alpha_bar, *, machine: str = "els", patch_size: int = 3,
             boundary: str = "zero", shape=None) -> np.ndarray:
    """Posterior-mean estimate x̂_0(x) of one score machine at noise level ᾱ (form ★).

    Parameters
    ----------
    x : array_like, shape (m, H*W) or (m, H, W)
        Noisy images u_i.
    train : array_like, shape (N, H, W) or (N, H*W)
        Training images f_k (square if flat, else give ``shape``).
    alpha_bar : float in (0, 1)
        ᾱ_i of the step.
    machine : {"exact", "es", "ls", "els"}
        ``"exact"``: the exact mixture denoiser (:meth:`lib.core.mixture.Mixture.posterior_mean`);
        ``"es"``: exact denoiser of the circularly shifted training set (Kamb & Ganguli
        Eqs. 5–6); ``"ls"``: local, co-located patches (Eqs. 7–8); ``"els"``: local,
        patches from every location with the same boundary overlap (Eqs. 9–10, 41).
    patch_size : int
        Odd side P of the square window (LS, ELS).
    boundary : {"zero", "circular"}
        Zero padding (boundary-broken equivariance) or wrap-around (LS, ELS).
    shape : (H, W), optional
        Image shape when ``train`` is flat and not square.

    Returns
    -------
    ndarray, shape (m, H*W)

    Examples
    --------
    A training set of one all-black and one all-white 4 × 4 image (Kamb & Ganguli, Fig. 3):
    the local machine pulls each pixel towards black or white on its own.

    >>> import numpy as np
    >>> train = np.stack([-np.ones((4, 4)), np.ones((4, 4))])
    >>> x = np.where(np.arange(16) < 8, -0.9, 0.9)[None]       # top half dark
    >>> np.round(denoiser(x, train, 0.9, machine="els", patch_size=3), 2).reshape(4, 4)
    array([[-1., -1., -1., -1.],
           [-1., -1., -1., -1.],
           [ 1.,  1.,  1.,  1.],
           [ 1.,  1.,  1.,  1.]])
    >>> float(np.round(denoiser(x, train, 0.9, machine="exact")[0, 0], 2))  # global: a tie
    0.0
    """
    t3, mach = _setup(train, shape, machine, boundary, patch_size)
    a = check_alpha_bar(alpha_bar, scalar=True)
    u = _check_x(x, t3.shape[1:])
    return mach(u, a, patch_size)


def score(x, train, alpha_bar, *, machine: str = "els", patch_size: int = 3,
          boundary: str = "zero", shape=None) -> np.ndarray:
    """Score of one machine, M[x] = (√ᾱ x̂_0(x) − x)/(1 − ᾱ) (Kamb & Ganguli Eqs. 3, 5, 7, 9).

    Same parameters as :func:`denoiser`. For ``"exact"`` this is ∇ log p(u_i) of the empirical
    mixture, for ``"es"`` the gradient of the log-density of the shifted set; LS and ELS
    fields are in general not gradients (they are for P = 1).

    Examples
    --------
    >>> import numpy as np
    >>> train = np.arange(8.0).reshape(2, 4) / 8
    >>> x = np.zeros((1, 4))
    >>> big = score(x, train, 0.5, machine="ls", patch_size=7, shape=(2, 2))
    >>> bool(np.allclose(big, score(x, train, 0.5, machine="exact", shape=(2, 2))))
    True
    """
    t3, mach = _setup(train, shape, machine, boundary, patch_size)
    a = check_alpha_bar(alpha_bar, scalar=True)
    u = _check_x(x, t3.shape[1:])
    return (np.sqrt(a) * mach(u, a, patch_size) - u) / (1.0 - a)


def sample(train, betas, size: int, rng, *, machine: str = "els", patch_size=3,
           boundary: str = "zero", shape=None, record=None) -> dict:
    """DDPM reverse chain from N(0, I) with the denoiser of one score machine.

    Each step is the book's reverse step (:func:`lib.core.reverse.reverse_step`):
    u_{i−1} = a_i x̂_0(u_i) + b_i u_i + √β̃_i g with the DDPM coefficients
    (:func:`lib.core.reverse.ddpm_posterior_coefficients`) and x̂_0 from :func:`denoiser`.
    With ``machine="exact"`` the draws equal ``lib.core.reverse.sample`` for the same generator.

    Parameters
    ----------
    train : array_like, shape (N, H, W) or (N, H*W)
    betas : array_like, shape (T,)
    size : int
        Number of chains m.
    rng : numpy.random.Generator
    machine, boundary, shape
        As in :func:`denoiser`.
    patch_size : int or sequence of T ints
        One size for all steps, or P_i per step i = 1 … T (:func:`patch_size_schedule`).
    record : sequence of int, optional
        Steps to store (strictly increasing in [0, T]); default [0].

    Returns
    -------
    dict with "steps" (recorded steps) and "states" (len(steps), m, H*W).

    Examples
    --------
    >>> import numpy as np
    >>> from lib.core import schedules
    >>> train = np.stack([-np.ones((4, 4)), np.ones((4, 4))])
    >>> out = sample(train, schedules.cosine_betas(20), 3, np.random.default_rng(0),
    ...              machine="els", patch_size=3)
    >>> out["states"].shape, bool(np.all(np.abs(np.abs(out["states"]) - 1) < 1e-6))
    ((1, 3, 16), True)
    """
    t3 = _check_train(train, shape)
    check_choice(machine, "machine", _MACHINES)
    check_choice(boundary, "boundary", _BOUNDARIES)
    betas = check_betas(betas)
    check_rng(rng)
    size = check_positive_int(size, "size")
    T = betas.size
    sizes = _check_patch_sizes(patch_size, T)
    rec = np.array([0]) if record is None else check_steps(record, T, "record")
    n = t3.shape[1] * t3.shape[2]
    check_memory(float(rec.size + 2) * size * n,
                 f"the chains and recorded states ((len(record) + 2) × size = {rec.size + 2} × {size} images of "
                 f"{n} pixels)")
    N, H, W = t3.shape
    per_chain = sum(float(np.count_nonzero(sizes == p)) * _dictionary_bytes(N, (H, W), int(p), machine, boundary) / 8
                    for p in np.unique(sizes))  # a lower bound: each step reads every dictionary entry once
    check_work(per_chain * size, f"{T} reverse steps of size = {size} chains against the {machine} dictionaries")
    mach = _Machine(t3, machine, boundary)
    for p in np.unique(sizes):               # refuse before the chain starts
        mach.prepare(int(p))
    return _ddpm_chain(lambda u, a, i: mach(u, a, int(sizes[i - 1])), betas, int(size),
                       t3.shape[1] * t3.shape[2], rng, rec)


def _ddpm_chain(denoise, betas, m, n, rng, rec):
    """The hook: lib.core.reverse.sample's loop with any denoiser(u, ᾱ_i, i)."""
    ab = _schedules.alpha_bar(betas)
    T = betas.size
    where = {int(s): j for j, s in enumerate(rec)}
    states = np.empty((rec.size, m, n))
    u = rng.standard_normal((m, n))
    if T in where:
        states[where[T]] = u
    with blas_limit(_reverse.BLAS_THREADS):
        for i in range(T, 0, -1):
            a, b, var = _reverse.ddpm_posterior_coefficients(betas, i)
            u = a * denoise(u, float(ab[i]), i) + b * u
            if var > 0.0:
                u += np.sqrt(var) * rng.standard_normal(u.shape)
            if i - 1 in where:
                states[where[i - 1]] = u
    return {"steps": rec, "states": states}


def patch_match(x, train, patch_size: int, *, machine: str = "els", boundary: str = "zero",
                shape=None) -> dict:
    """Nearest training patch of every pixel's window (Kamb & Ganguli Thm. 4.1, App. B.4).

    For each pixel x of each image, the patch φ ∈ 𝒫_x (the LS or ELS dictionary) closest to
    the window x_{Ω_x} in L2. A locally consistent patch mosaic has x(x) = φ(0) for that
    patch at every pixel; the distance measures how far an image is from being one, and the
    source says which training image and location each pixel's patch came from.

    Returns
    -------
    dict with "distance" (m, H*W): ‖x_{Ω_x} − φ‖ of the nearest patch; "centre" (m, H*W):
    its centre pixel φ(0); "image", "row", "col" (m, H*W) int: where it sits in the
    training set (one occurrence if the patch repeats); "count" (m, H*W) int: how often it
    occurs in the dictionary (windows of up to 5 × 5 pixels; 1 for longer ones).

    Examples
    --------
    >>> import numpy as np
    >>> train = np.stack([-np.ones((4, 4)), np.ones((4, 4))])
    >>> m = patch_match(train[1:], train, 3)
    >>> float(m["distance"].max()), int(m["image"].min())
    (0.0, 1)
    """
    t3, _ = _setup(train, shape, machine, boundary, patch_size)
    if machine not in ("ls", "els"):
        raise ValueError(f"machine must be 'ls' or 'els' for patch_match, got {machine!r}")
    u = _check_x(x, t3.shape[1:])
    groups = _Machine(t3, machine, boundary).prepare(patch_size)
    m, n = u.shape
    out = {k: np.empty((m, n)) for k in ("distance", "centre")}
    out.update({k: np.empty((m, n), dtype=np.int64) for k in ("image", "row", "col", "count")})
    for g in groups:
        q = u[:, g.windows].reshape(-1, g.windows.shape[1])
        # exact nearest neighbours in patch space (k-d tree; the windows are short vectors)
        dist, best = cKDTree(g.patches).query(q, k=1)
        sl = (slice(None), g.pixels)
        out["distance"][sl] = dist.reshape(m, -1)
        out["centre"][sl] = g.centres[best].reshape(m, -1)
        for c, name in enumerate(("image", "row", "col")):
            out[name][sl] = g.sources[best, c].reshape(m, -1)
        out["count"][sl] = np.rint(np.exp(g.log_counts[best])).astype(np.int64).reshape(m, -1)
    return out
