"""Linear Gaussian forward processes that are diagonal in one orthonormal basis.

Every forward process of this module is a chain u_0 → u_1 → … → u_T with

    p(u_i | u_{i−1}) = N(M_i u_{i−1}, Σ_i),                                             (P1)

where M_i and Σ_i are diagonal in one orthonormal basis V of the image space: the pixel basis,
or the orthonormal 2-D DCT-II (``scipy.fft.dctn(u, type=2, norm="ortho")``), which
diagonalises the 5-point Laplacian with reflecting (Neumann) boundaries. In coefficients
c = Vᵀu every frequency is an independent scalar chain, so everything is closed form:

    p(u_i | u_0) = N(V diag(a_i) Vᵀ u_0, V diag(s_i) Vᵀ),                               (P2)
    p(u_j | u_i) = N(V diag(a_j / a_i) Vᵀ u_i, V diag(s_j − (a_j/a_i)² s_i) Vᵀ),  i ≤ j,   (P3)

with per-frequency mean factors a_i (stored as ln a_i) and variances s_i, a_0 = 1, s_0 = 0.
A process given by its marginals (P2) alone, as inverse heat dissipation is, is a Markov chain
(P1) exactly when every implied transition variance of (P3) is non-negative
(:meth:`DiagonalGaussianProcess.markov_check`).

Constructors
    :func:`vp_process` (the book's DDPM process, paper Eqs. 3–5), :func:`ve_process` (variance
    exploding, Song et al. 2021), :func:`ihd_process` (inverse heat dissipation, Rissanen et
    al. 2023), :func:`bd_process` (blurring diffusion, Hoogeboom & Salimans 2023).
Closed forms for Gaussian data
    :func:`gaussian_information`: H(U_i), H(U_i | U_0), I(U_0; U_i), KL to the limit.
Monte Carlo for a training set
    :func:`mixture_information_mc`: the same for the exact Gaussian mixture p(u_i).
Operators
    :func:`laplacian_eigenvalues` (discrete and continuous), :func:`mean_operator` (the matrix
    of u_0 ↦ E[U_i | u_0] in the pixel basis), :func:`fokker_planck_coefficients`.

Arrays: a process acts on arrays whose trailing axes have the process's ``shape`` (e.g.
(H, W) for grey images; put colour channels first); leading axes are a batch.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import fft as _fft

from ._validation import (
    as_float_array,
    check_betas,
    check_positive_int,
    check_positive_real,
    check_rng,
    check_steps,
)
from .mixture import mixture_entropy_mc as _mixture_entropy_mc
from .mixture import mixture_logpdf as _mixture_logpdf
from .schedules import log_alpha_bar as _log_alpha_bar

__all__ = [
    "DiagonalGaussianProcess",
    "GaussianInformation",
    "MarkovCheck",
    "MixtureInformation",
    "bd_process",
    "fokker_planck_coefficients",
    "gaussian_information",
    "ihd_process",
    "laplacian_eigenvalues",
    "mean_operator",
    "mixture_information_mc",
    "ve_process",
    "vp_process",
]

BASES = ("pixel", "dct")
EIGENVALUE_KINDS = ("discrete", "continuous")
_LOG_2PIE = math.log(2.0 * math.pi * math.e)
_LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# Validation (private)
# ---------------------------------------------------------------------------------------------


def _check_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of positive integers, got {shape!r}") from None
    if not 1 <= len(shape) <= 2:
        raise ValueError(f"shape must have one or two axes (a signal or an image), got {shape!r}")
    return tuple(check_positive_int(s, "shape") for s in shape)


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_step(step, n_steps: int, name: str) -> int:
    return int(check_steps([step], n_steps, name)[0])


def _check_real(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------------------
# The Laplacian in the DCT basis
# ---------------------------------------------------------------------------------------------


def laplacian_eigenvalues(shape, kind: str = "discrete", h: float = 1.0) -> np.ndarray:
    """Eigenvalues of the Neumann Laplacian for the orthonormal DCT-II basis functions.

    For frequencies k < N (and l < M) on a cell-centred grid with spacing ``h``:

    * ``"discrete"``: the 5-point Laplacian, −(4/h²)(sin²(πk/2N) + sin²(πl/2M)), exactly the
      eigenvalues of the matrix that :func:`scipy.fft.dctn` (type 2, ``norm="ortho"``)
      diagonalises;
    * ``"continuous"``: the Laplacian of the continuous domain [0, Nh] × [0, Mh] restricted to
      the same cosines, −(π/h)²(k²/N² + l²/M²), as written by Rissanen et al. (2023) and
      Hoogeboom & Salimans (2023).

    The two agree to O(k⁴/N⁴) at low frequencies; at the highest frequency k = N − 1 the
    discrete value per axis tends to −4/h², the continuous one to −π²/h².

    Parameters
    ----------
    shape : int or tuple of one or two ints
        Grid size N or (N, M).
    kind : {"discrete", "continuous"}
    h : float
        Grid spacing (positive).

    Returns
    -------
    ndarray of float64, shape ``shape``
        ``out[k, l]`` is the eigenvalue of frequency (k, l); all ≤ 0 and ``out[0, 0] = 0``.

    Examples
    --------
    >>> laplacian_eigenvalues(4).round(4)
    array([-0.    , -0.5858, -2.    , -3.4142])
    >>> laplacian_eigenvalues(4, "continuous").round(4)
    array([-0.    , -0.6169, -2.4674, -5.5517])
    """
    shape = _check_shape(shape)
    _check_choice(kind, "kind", EIGENVALUE_KINDS)
    h = check_positive_real(h, "h")
    per_axis = []
    for n in shape:
        k = np.arange(n, dtype=np.float64)
        if kind == "discrete":
            per_axis.append(-(4.0 / h**2) * np.sin(np.pi * k / (2 * n)) ** 2)
        else:
            per_axis.append(-((np.pi / h) ** 2) * (k / n) ** 2)
    if len(per_axis) == 1:
        return per_axis[0]
    return per_axis[0][:, None] + per_axis[1][None, :]


# ---------------------------------------------------------------------------------------------
# The abstraction
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkovCheck:
    """Result of :meth:`DiagonalGaussianProcess.markov_check`.

    Attributes
    ----------
    transition_variance : ndarray, shape (T,) + shape
        The implied one-step variances Σ_i = s_i − (a_i/a_{i−1})² s_{i−1} per frequency.
    min_variance : float
        Their minimum over steps and frequencies.
    worst : tuple
        (step, frequency index) of that minimum.
    tolerance : float
        Round-off allowance: 4 eps · max(s_i, (a_i/a_{i−1})² s_{i−1}) at the worst entry.
    is_markov : bool
        ``min_variance ≥ −tolerance`` everywhere (each Σ_i is positive semi-definite).
    never_noised : ndarray of bool, shape ``shape``
        Frequencies whose transition variance is zero (to round-off) at every step i ≥ 2.
    """

    transition_variance: np.ndarray
    min_variance: float
    worst: tuple
    tolerance: float
    is_markov: bool
    never_noised: np.ndarray


class DiagonalGaussianProcess:
    """A linear Gaussian process diagonal in the pixel or DCT basis, Eqs. (P1)–(P3).

    Parameters
    ----------
    log_scale : array_like, shape (T + 1,) + S
        ln a_i per step i = 0, …, T and frequency (``-inf`` allowed: a_i = 0); ``log_scale[0]``
        must be 0. S is either () (the same for every coefficient) or ``shape``.
    variance : array_like, shape (T + 1,) + S'
        Marginal variances s_i ≥ 0 with ``variance[0] = 0`` (step 0 is the data, Property 1);
        S' is () or ``shape``, independently of S (isotropic noise costs no memory).
    shape : int or tuple
        The spatial shape (N,) or (N, M) on which the process acts.
    basis : {"pixel", "dct"}
        The basis in which the coefficients are diagonal.
    name : str
        Short label (``"VP"``, …).
    limit : tuple of two array_like, optional
        (ln a_∞, s_∞) of the limit law p(u_∞ | u_0) = N(V diag(a_∞) Vᵀ u_0, V diag(s_∞) Vᵀ), if
        the process converges; ``None`` if it has no limit law (VE).

    Notes
    -----
    The process is stored through its marginals (P2); transitions (P3) are derived. Mean factors
    are kept as logarithms so that ratios a_j/a_i keep full relative accuracy.
    """

    def __init__(self, log_scale, variance, shape, basis: str = "pixel", name: str = "", limit=None):
        self.shape = _check_shape(shape)
        self.basis = _check_choice(basis, "basis", BASES)
        log_scale = np.asarray(log_scale, dtype=np.float64)
        variance = as_float_array(variance, "variance").astype(np.float64)
        if log_scale.ndim < 1 or np.any(np.isnan(log_scale)) or np.any(log_scale == np.inf):
            raise ValueError("log_scale must be an array of shape (T + 1, ...) without NaN or +inf")
        for arr, what in ((log_scale, "log_scale"), (variance, "variance")):
            if arr.shape[1:] not in ((), self.shape):
                raise ValueError(f"{what} must have shape (T + 1,) or (T + 1,) + {self.shape}, got {arr.shape}")
        if log_scale.shape[0] != variance.shape[0]:
            raise ValueError(f"log_scale and variance must cover the same steps, got {log_scale.shape[0]} and {variance.shape[0]}")
        if log_scale.shape[0] < 2:
            raise ValueError("a process needs at least one step (T ≥ 1)")
        if np.any(log_scale[0] != 0.0) or np.any(variance[0] != 0.0):
            raise ValueError("step 0 must be the data: log_scale[0] = 0 and variance[0] = 0")
        if np.any(variance < 0.0):
            raise ValueError("variance must be non-negative")
        self.log_scale = log_scale
        self.variance = variance
        self.name = str(name)
        if limit is not None:
            lim_ls = np.broadcast_to(np.asarray(limit[0], dtype=np.float64), self.shape)
            lim_var = np.broadcast_to(as_float_array(limit[1], "limit variance").astype(np.float64), self.shape)
            if np.any(lim_var <= 0.0):
                raise ValueError("the limit variance must be positive")
            limit = (lim_ls, lim_var)
        self.limit = limit

    # -- basic properties ----------------------------------------------------------------------

    @property
    def n_steps(self) -> int:
        """T, the number of steps."""
        return self.log_scale.shape[0] - 1

    @property
    def size(self) -> int:
        """n, the number of coefficients (pixels) of one image."""
        return int(np.prod(self.shape))

    def __repr__(self) -> str:
        return f"DiagonalGaussianProcess(name={self.name!r}, basis={self.basis!r}, shape={self.shape}, T={self.n_steps})"

    def _full(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, self.shape)

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        """Per-step rows of coefficients, shape (k,) or (k,) + shape, as (k,) + shape."""
        if rows.ndim == 1:
            rows = rows.reshape((-1,) + (1,) * len(self.shape))
        return np.broadcast_to(rows, (rows.shape[0],) + self.shape)

    def to_basis(self, u) -> np.ndarray:
        """Coefficients c = Vᵀu over the trailing axes (a copy; pixel basis: u itself)."""
        u = np.asarray(u)
        axes = tuple(range(-len(self.shape), 0))
        if self.basis == "pixel":
            return np.array(u, copy=True)
        return _fft.dctn(u, type=2, norm="ortho", axes=axes)

    def from_basis(self, c) -> np.ndarray:
        """The image u = Vc (inverse of :meth:`to_basis`)."""
        c = np.asarray(c)
        axes = tuple(range(-len(self.shape), 0))
        if self.basis == "pixel":
            return np.array(c, copy=True)
        return _fft.idctn(c, type=2, norm="ortho", axes=axes)

    # -- closed forms ----------------------------------------------------------------------------

    def marginal(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean factor a_i and variance s_i of p(u_i | u_0), Eq. (P2), per coefficient.

        Returns arrays of shape () for isotropic processes and ``shape`` otherwise.
        """
        step = _check_step(step, self.n_steps, "step")
        return np.exp(self.log_scale[step]), self.variance[step].copy()

    def transition(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean factor a_stop/a_start and variance s_stop − (a_stop/a_start)² s_start, Eq. (P3).

        For a process defined by its transitions this is the composition of the steps
        start + 1, …, stop (Chapman–Kolmogorov); for one defined by marginals it is the implied
        transition, which may be negative (see :meth:`markov_check`).
        """
        start = _check_step(start, self.n_steps, "start")
        stop = _check_step(stop, self.n_steps, "stop")
        if stop < start:
            raise ValueError(f"stop must not precede start, got start={start}, stop={stop}")
        return self._transition(start, stop)

    def _transition(self, start, stop):
        with np.errstate(invalid="ignore"):
            log_ratio = self.log_scale[stop] - self.log_scale[start]
        # a_start = 0 cannot be undone: the chain then forgets u_start entirely.
        log_ratio = np.where(np.isneginf(self.log_scale[start]), -np.inf, log_ratio)
        if start == stop:
            log_ratio = np.zeros_like(log_ratio)
        scale = np.exp(log_ratio)
        if start == 0:
            return scale, self.variance[stop].copy()
        variance = self.variance[stop] - scale**2 * self.variance[start]
        return scale, variance

    def markov_check(self) -> MarkovCheck:
        """Is every implied one-step transition variance of (P3) positive semi-definite?

        In the common basis each Σ_i is diagonal, so it is PSD iff every entry is ≥ 0; entries
        within 4 eps of the larger of the two terms are counted as round-off.
        """
        sig, tol_all = [], []
        for i in range(1, self.n_steps + 1):
            scale, var = self._transition(i - 1, i)
            sig.append(self._full(var))
            tol_all.append(4 * np.finfo(np.float64).eps * self._full(np.maximum(self.variance[i], scale**2 * self.variance[i - 1])))
        sig = np.stack(sig)
        tol_all = np.stack(tol_all)
        ok = bool(np.all(sig + tol_all >= 0.0))
        flat_worst = np.unravel_index(int(np.argmin(sig)), sig.shape)
        never = np.all(np.abs(sig[1:]) <= tol_all[1:], axis=0) if self.n_steps > 1 else np.zeros(self.shape, bool)
        return MarkovCheck(
            transition_variance=sig,
            min_variance=float(sig[flat_worst]),
            worst=(int(flat_worst[0]) + 1,) + tuple(int(x) for x in flat_worst[1:]),
            tolerance=float(tol_all[flat_worst]),
            is_markov=ok,
            never_noised=np.asarray(never),
        )

    # -- sampling --------------------------------------------------------------------------------

    def _as_state(self, u, name):
        arr = as_float_array(u, name)
        if arr.shape[arr.ndim - len(self.shape):] != self.shape or arr.ndim < len(self.shape):
            raise ValueError(f"{name} must end with the process shape {self.shape}, got {arr.shape}")
        dtype = np.float32 if arr.dtype == np.float32 else np.float64
        return np.array(arr, dtype=dtype, copy=True, order="C")

    def mean(self, u0, step: int) -> np.ndarray:
        """E[U_i | u_0] = V diag(a_i) Vᵀ u_0."""
        u = self._as_state(u0, "u0")
        scale, _ = self.marginal(step)
        return self.from_basis(self.to_basis(u) * scale).astype(u.dtype, copy=False)

    def sample(self, u0, step: int, rng: np.random.Generator | None = None, *, start: int = 0,
               noise=None) -> np.ndarray:
        """Draw u_step from p(u_step | u_start = u0), Eq. (P3) (Eq. P2 for ``start = 0``).

        u = V(diag(a) Vᵀu0 + diag(√σ²) ξ) with ξ ~ N(0, I) in the coefficient basis. White noise
        is white in every orthonormal basis, so ξ is drawn as coefficients.

        Parameters
        ----------
        u0 : array_like, shape (..., *shape)
        step : int
        rng : numpy.random.Generator, optional
            Source of ξ; required unless ``noise`` is given.
        start : int
            The step at which ``u0`` is observed (default 0).
        noise : array_like, optional
            ξ itself (same shape as ``u0``, coefficients of the basis), for coupled experiments.

        Returns
        -------
        ndarray, same shape as ``u0`` (float32 for float32 input)

        Notes
        -----
        In the pixel basis the operations are those of :func:`lib.forward.sample_marginal`, in
        the same order, so VP draws agree with it bit for bit for the same generator state.
        """
        u = self._as_state(u0, "u0")
        if step < start:
            raise ValueError(f"step must not precede start, got start={start}, step={step}")
        scale, variance = self.transition(start, step)
        variance = np.maximum(variance, 0.0)  # implied negative variances are not samplable
        if noise is None:
            if rng is None:
                raise TypeError("give rng (a numpy.random.Generator) or noise")
            check_rng(rng)
        else:
            noise = np.array(as_float_array(noise, "noise"), dtype=u.dtype, copy=True)
            if noise.shape != u.shape:
                raise ValueError(f"noise must have the shape of u0 {u.shape}, got {noise.shape}")
        if self.basis == "pixel" and np.ndim(scale) == 0:
            if float(variance) == 0.0 and float(scale) == 1.0:
                return u
            if noise is None:
                noise = rng.standard_normal(u.shape, dtype=u.dtype)
            u *= u.dtype.type(scale)
            noise *= u.dtype.type(np.sqrt(variance))
            u += noise
            return u
        c = self.to_basis(u)
        if noise is None:
            noise = rng.standard_normal(u.shape, dtype=u.dtype)
        c = c * scale.astype(u.dtype) + noise * np.sqrt(variance).astype(u.dtype)
        return self.from_basis(c).astype(u.dtype, copy=False)

    def trajectory(self, u0, steps, rng: np.random.Generator) -> np.ndarray:
        """One coherent trajectory at ``steps`` (strictly increasing), one draw per step.

        Consecutive requested steps are bridged by the exact transition (P3), so the snapshots
        have the joint law of iterating (P1) (for a Markov process).

        Returns
        -------
        ndarray, shape (len(steps),) + u0.shape
        """
        steps = check_steps(steps, self.n_steps)
        check_rng(rng)
        u = self._as_state(u0, "u0")
        out = np.empty((steps.size,) + u.shape, dtype=u.dtype)
        previous = 0
        for k, step in enumerate(steps.tolist()):
            if step > previous:
                u = self.sample(u, step, rng, start=previous)
            out[k] = u
            previous = step
        return out


# ---------------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------------


def vp_process(betas, shape) -> DiagonalGaussianProcess:
    """The variance-preserving process of the paper, Eqs. (3)–(5) (Ho et al. 2020).

    M_i = √(1 − β_i) I, Σ_i = β_i I; marginals a_i = √ᾱ_i, s_i = 1 − ᾱ_i, computed exactly as
    :func:`lib.forward.transition_coefficients` does (ln ᾱ from ``log1p`` sums, s = −expm1 ln ᾱ).
    The limit is N(0, I) (it is reached iff Σβ_i = ∞).

    Parameters
    ----------
    betas : array_like, shape (T,)
        ``betas[i − 1] = β_i`` in (0, 1).
    shape : int or tuple

    Examples
    --------
    >>> p = vp_process([0.5, 0.5], (2, 2))
    >>> a, s = p.marginal(2)
    >>> float(a), float(s)
    (0.5, 0.75)
    """
    log_ab = _log_alpha_bar(check_betas(betas))
    return DiagonalGaussianProcess(0.5 * log_ab, -np.expm1(log_ab), shape, "pixel", "VP",
                                   limit=(-np.inf, 1.0))


def ve_process(shape, n_steps: int = 1000, sigma_min: float = 0.01, sigma_max: float = 50.0) -> DiagonalGaussianProcess:
    """Variance exploding (Song et al. 2021): u_i = u_{i−1} + √(σ_i² − σ_{i−1}²) g.

    σ_i = σ_min (σ_max/σ_min)^((i−1)/(T−1)) for i = 1, …, T (geometric) and σ_0 = 0, so step 0
    is the data: a_i = 1, s_i = σ_i². The variance grows without bound as σ_max grows; there is
    no limit law.

    Examples
    --------
    >>> p = ve_process(4, n_steps=3, sigma_min=1.0, sigma_max=4.0)
    >>> p.variance.tolist()
    [0.0, 1.0, 4.0, 16.0]
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    sigma_min = check_positive_real(sigma_min, "sigma_min")
    sigma_max = check_positive_real(sigma_max, "sigma_max")
    if sigma_max < sigma_min:
        raise ValueError(f"sigma_max must be at least sigma_min, got {sigma_max} < {sigma_min}")
    sig = np.geomspace(sigma_min, sigma_max, n_steps) if n_steps > 1 else np.array([sigma_max])
    variance = np.concatenate(([0.0], sig**2))
    return DiagonalGaussianProcess(np.zeros(n_steps + 1), variance, shape, "pixel", "VE", limit=None)


def _heat_limit(lam: np.ndarray) -> np.ndarray:
    return np.where(lam == 0.0, 0.0, -np.inf)


def ihd_process(shape, n_steps: int = 200, blur_min: float = 0.5, blur_max: float = 20.0,
                sigma: float = 0.01, *, times=None, eigenvalues: str = "discrete") -> DiagonalGaussianProcess:
    """Inverse heat dissipation (Rissanen et al. 2023), defined by its marginals.

    q(u_k | u_0) = N(F(t_k) u_0, σ² I), F(t) = exp(tΔ) = V diag(e^{tλ}) Vᵀ, for k = 1, …, K,
    and u_0 the data. The default times follow the paper: blur widths σ_B log-spaced from
    ``blur_min`` to ``blur_max`` and t_k = σ_B²/2. The limit t → ∞ keeps the mean grey value:
    a_∞ = 1 for λ = 0 and 0 otherwise, s_∞ = σ².

    Parameters
    ----------
    shape : int or tuple
    n_steps : int
        K (ignored if ``times`` is given).
    blur_min, blur_max : float
        Range of σ_B = √(2t) in pixels.
    sigma : float
        Noise standard deviation σ.
    times : array_like, optional
        Explicit t_1, …, t_K (non-negative).
    eigenvalues : {"discrete", "continuous"}
        Which eigenvalues of Δ (see :func:`laplacian_eigenvalues`); the paper uses the
        continuous ones.

    Examples
    --------
    >>> p = ihd_process((4, 4), times=[1.0, 2.0], sigma=0.1)
    >>> p.markov_check().is_markov, bool(p.markov_check().never_noised[0, 0])
    (True, True)
    """
    shape = _check_shape(shape)
    sigma = check_positive_real(sigma, "sigma")
    if times is None:
        n_steps = check_positive_int(n_steps, "n_steps")
        blur_min = check_positive_real(blur_min, "blur_min")
        blur_max = check_positive_real(blur_max, "blur_max")
        times = np.geomspace(blur_min, blur_max, n_steps) ** 2 / 2.0
    times = as_float_array(times, "times").astype(np.float64)
    if times.ndim != 1 or np.any(times < 0):
        raise ValueError("times must be a 1-D sequence of non-negative times t_1, …, t_K")
    lam = laplacian_eigenvalues(shape, eigenvalues)
    log_scale = np.concatenate((np.zeros((1,) + shape), times.reshape((-1,) + (1,) * len(shape)) * lam))
    variance = np.concatenate(([0.0], np.full(times.size, sigma**2)))
    return DiagonalGaussianProcess(log_scale, variance, shape, "dct", "IHD",
                                   limit=(_heat_limit(lam), sigma**2))


def bd_process(shape, n_steps: int = 1000, blur_max: float = 20.0, d_min: float = 0.001,
               logsnr_min: float = -10.0, logsnr_max: float = 10.0, *,
               eigenvalues: str = "discrete") -> DiagonalGaussianProcess:
    """Blurring diffusion (Hoogeboom & Salimans 2023), per DCT frequency.

    u_t = α_t d_t u_0 + σ_t ε with the cosine log-SNR schedule α_t² = sigmoid(ℓ_t),
    σ_t² = sigmoid(−ℓ_t), ℓ_t = −2 ln tan(a t + b) clipped to [``logsnr_min``, ``logsnr_max``],
    and the frequency scaling d_t = (1 − d_min) e^{−λ τ_t} + d_min (here with λ the *negative*
    eigenvalue: d_t = (1 − d_min) e^{λτ_t} + d_min), τ_t = (σ_B,max sin²(πt/2))²/2. With
    ``d_min = 0`` this is d_t = exp(−|λ| τ_t). Step 0 is the data; steps i = 1, …, T are
    t = i/T. The limit (ℓ → −∞) is N(0, I).

    Examples
    --------
    >>> p = bd_process((4, 4), n_steps=10)
    >>> p.markov_check().is_markov
    True
    """
    shape = _check_shape(shape)
    n_steps = check_positive_int(n_steps, "n_steps")
    blur_max = check_positive_real(blur_max, "blur_max")
    d_min = _check_real(d_min, "d_min")
    if not 0.0 <= d_min < 1.0:
        raise ValueError(f"d_min must lie in [0, 1), got {d_min}")
    logsnr_min = _check_real(logsnr_min, "logsnr_min")
    logsnr_max = _check_real(logsnr_max, "logsnr_max")
    if not logsnr_min < logsnr_max:
        raise ValueError("logsnr_min must be smaller than logsnr_max")
    t = np.arange(1, n_steps + 1) / n_steps
    b = math.atan(math.exp(-0.5 * logsnr_max))
    a = math.atan(math.exp(-0.5 * logsnr_min)) - b
    logsnr = -2.0 * np.log(np.tan(a * t + b))
    log_alpha2 = -np.logaddexp(0.0, -logsnr)  # ln sigmoid(ℓ)
    sigma2 = np.exp(-np.logaddexp(0.0, logsnr))  # sigmoid(−ℓ)
    tau = (blur_max * np.sin(np.pi * t / 2.0) ** 2) ** 2 / 2.0
    lam = laplacian_eigenvalues(shape, eigenvalues)
    expand = (-1,) + (1,) * len(shape)
    d = (1.0 - d_min) * np.exp(tau.reshape(expand) * lam) + d_min
    log_scale = 0.5 * log_alpha2.reshape(expand) + np.log(d)
    return DiagonalGaussianProcess(
        np.concatenate((np.zeros((1,) + shape), log_scale)),
        np.concatenate(([0.0], sigma2)),
        shape, "dct", "BD", limit=(-np.inf, 1.0),
    )


# ---------------------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------------------

_MAX_DENSE = 4096


def mean_operator(process: DiagonalGaussianProcess, step: int) -> np.ndarray:
    """The matrix of u_0 ↦ E[U_i | u_0] = V diag(a_i) Vᵀ u_0 in the pixel basis.

    A classical scale-space satisfies a maximum–minimum principle when this matrix has
    non-negative entries and constant row sums (then every pixel of the mean is a weighted
    average of u_0, scaled by the row sum). Dense, so only for n ≤ 4096 pixels.

    Returns
    -------
    ndarray, shape (n, n)
        Row p holds the weights of pixel p (row-major flattening of ``shape``).

    Examples
    --------
    >>> m = mean_operator(ihd_process(3, times=[0.5]), 1)
    >>> bool(np.all(m >= 0)), np.allclose(m.sum(axis=1), 1.0)
    (True, True)
    """
    if not isinstance(process, DiagonalGaussianProcess):
        raise TypeError(f"process must be a DiagonalGaussianProcess, got {type(process).__name__}")
    n = process.size
    if n > _MAX_DENSE:
        raise ValueError(f"mean_operator builds a dense n × n matrix; n = {n} exceeds {_MAX_DENSE}")
    eye = np.eye(n).reshape((n,) + process.shape)
    return process.mean(eye, step).reshape(n, n).T


def fokker_planck_coefficients(process: DiagonalGaussianProcess) -> tuple[np.ndarray, np.ndarray]:
    """Drift rate γ_i and diffusion g_i of the per-frequency Fokker–Planck equation.

    On the unit time interval of step i, the Ornstein–Uhlenbeck equation
    ∂_t p = ∂_x(γ_i x p) + ½ g_i ∂_x² p (Risken 1984) in each coefficient x transports
    N(m, v) to N(e^{−γ_i} m, e^{−2γ_i} v + g_i (1 − e^{−2γ_i})/(2γ_i)). Matching (P1) gives

        γ_i = −ln M_i,   g_i = 2γ_i Σ_i / (1 − e^{−2γ_i})  (g_i = Σ_i when γ_i = 0),

    so a Fokker–Planck form with non-negative diffusion exists iff every Σ_i ≥ 0. For VP,
    γ_i = −½ ln(1 − β_i) and g_i = −ln(1 − β_i) (the effective rate of the VP SDE).

    Returns
    -------
    gamma, g : ndarray, shape (T,) + shape
    """
    if not isinstance(process, DiagonalGaussianProcess):
        raise TypeError(f"process must be a DiagonalGaussianProcess, got {type(process).__name__}")
    gam, diff = [], []
    for i in range(1, process.n_steps + 1):
        with np.errstate(invalid="ignore"):
            log_ratio = process._full(process.log_scale[i] - process.log_scale[i - 1])
        _, var = process._transition(i - 1, i)
        var = process._full(var)
        gamma = -log_ratio
        denom = -np.expm1(-2.0 * gamma)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(gamma == 0.0, var, 2.0 * gamma * var / np.where(denom == 0.0, 1.0, denom))
        gam.append(gamma)
        diff.append(g)
    return np.stack(gam), np.stack(diff)


# ---------------------------------------------------------------------------------------------
# Information: Gaussian data in closed form, a training set by Monte Carlo
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GaussianInformation:
    """Closed-form information quantities for Gaussian data, per requested step (in nats).

    Attributes
    ----------
    steps : ndarray of int
    entropy : ndarray
        H(U_i) = ½ Σ ln(2πe (a_i² c + s_i)).
    conditional_entropy : ndarray
        H(U_i | U_0) = ½ Σ ln(2πe s_i) (−inf where some s_i = 0).
    mutual_information : ndarray
        I(U_0; U_i) = ½ Σ ln(1 + a_i² c / s_i) (+inf where some s_i = 0 < a_i² c).
    kl_to_limit : ndarray
        KL(p(u_i) ‖ p(u_∞)); NaN if the process has no limit.
    """

    steps: np.ndarray
    entropy: np.ndarray
    conditional_entropy: np.ndarray
    mutual_information: np.ndarray
    kl_to_limit: np.ndarray


def _steps_or_all(process, steps):
    if steps is None:
        return np.arange(process.n_steps + 1)
    return check_steps(steps, process.n_steps)


def _kl_diag(mean_diff_sq, var, var_ref):
    """Σ ½[v/v∞ − 1 − ln(v/v∞) + (Δm)²/v∞] with x − ln(1 + x) kept accurate for small x."""
    x = var / var_ref - 1.0
    term = np.where(np.abs(x) < 1e-4, x**2 / 2 - x**3 / 3 + x**4 / 4, x - np.log1p(np.maximum(x, -1 + 1e-300)))
    return 0.5 * np.sum(term + mean_diff_sq / var_ref, axis=tuple(range(1, term.ndim)))


def gaussian_information(process: DiagonalGaussianProcess, data_variance, steps=None,
                         data_mean=0.0) -> GaussianInformation:
    """H(U_i), H(U_i | U_0), I(U_0; U_i) and KL to the limit for Gaussian data, in closed form.

    For U_0 ~ N(m, V diag(c) Vᵀ) (c a scalar, or per coefficient of the process basis) the
    marginal (P2) is N(V diag(a_i) Vᵀ m, V diag(a_i² c + s_i) Vᵀ): every quantity is a sum of
    scalar Gaussian terms over the n coefficients (entropy is invariant under the orthonormal V).

    Parameters
    ----------
    process : DiagonalGaussianProcess
    data_variance : float or array_like broadcastable to ``process.shape``
        c ≥ 0, in the coefficients of ``process.basis``.
    steps : sequence of int, optional
        Default: every step 0, …, T.
    data_mean : float or array_like
        m (pixel values); enters only the KL to a limit that forgets it.

    Examples
    --------
    >>> info = gaussian_information(vp_process([0.5], 1), 1.0)
    >>> bool(np.isclose(info.entropy[1], 0.5 * np.log(2 * np.pi * np.e)))
    True
    """
    if not isinstance(process, DiagonalGaussianProcess):
        raise TypeError(f"process must be a DiagonalGaussianProcess, got {type(process).__name__}")
    c = np.broadcast_to(as_float_array(data_variance, "data_variance").astype(np.float64), process.shape)
    if np.any(c < 0):
        raise ValueError("data_variance must be non-negative")
    m = np.broadcast_to(as_float_array(data_mean, "data_mean").astype(np.float64), process.shape)
    m_coef = process.to_basis(m)
    steps = _steps_or_all(process, steps)
    a = process._rows(np.exp(process.log_scale[steps]))
    s = process._rows(process.variance[steps])
    var = a**2 * c + s
    axes = tuple(range(1, var.ndim))
    with np.errstate(divide="ignore"):
        h = 0.5 * np.sum(_LOG_2PIE + np.log(var), axis=axes)
        h_cond = 0.5 * np.sum(_LOG_2PIE + np.log(s), axis=axes)
        ratio = np.where(s > 0, a**2 * c / np.where(s > 0, s, 1.0), np.where(a**2 * c > 0, np.inf, 0.0))
    mi = 0.5 * np.sum(np.log1p(ratio), axis=axes)
    if process.limit is None:
        kl = np.full(steps.size, np.nan)
    else:
        a_inf = np.exp(process.limit[0])
        var_inf = a_inf**2 * c + process.limit[1]
        kl = _kl_diag(((a - a_inf) * m_coef) ** 2, var, var_inf)
    return GaussianInformation(steps, h, h_cond, mi, kl)


@dataclass(frozen=True)
class MixtureInformation:
    """Monte Carlo information quantities for a training set, per requested step (nats).

    Attributes
    ----------
    steps : ndarray of int
    entropy, entropy_se : ndarray
        H(U_i) and its standard error.
    conditional_entropy : ndarray
        H(U_i | U_0), exact.
    mutual_information : ndarray
        I(U_0; U_i) = H(U_i) − H(U_i | U_0) (same standard error as the entropy), in [0, ln N].
    kl, kl_se : ndarray
        KL(p(u_i) ‖ p(u_∞)) and its standard error (NaN without a limit).
    """

    steps: np.ndarray
    entropy: np.ndarray
    entropy_se: np.ndarray
    conditional_entropy: np.ndarray
    mutual_information: np.ndarray
    kl: np.ndarray
    kl_se: np.ndarray


def _mixture_logpdf_diag(x, centers, variance) -> np.ndarray:
    """log of (1/N) Σ_k N(x; c_k, diag(variance)), via whitening and the isotropic logsumexp."""
    sd = np.sqrt(variance)
    return _mixture_logpdf(x / sd, centers / sd, 1.0, 1.0) - np.sum(np.log(sd))


def mixture_information_mc(process: DiagonalGaussianProcess, data, steps, n_samples: int,
                           rng: np.random.Generator) -> MixtureInformation:
    """H(U_i), I(U_0; U_i) and KL(p(u_i) ‖ p(u_∞)) for U_0 uniform on a training set.

    In the coefficient basis the marginal is exactly the Gaussian mixture
    p(x) = (1/N) Σ_k N(a_i ∘ f̂_k, diag(s_i)). Whitening y = x / √s_i (a diagonal map adding
    ½ Σ ln s_i to the entropy; V itself is orthonormal and changes nothing) turns it into the
    isotropic mixture of :func:`lib.core.mixture.mixture_entropy_mc`, whose labelled estimator
    (exact H(U | K) plus a Monte Carlo I(U; K)) is used with ᾱ = ½: there U = y/√2.

    KL to a limit N(0, diag(s_∞)) (VP, BD) is −H(U_i) + ½ Σ (E x_j² / s_∞ + ln 2π s_∞) with the
    exact second moment, so it has the entropy's standard error. A data-dependent limit (IHD
    keeps the mean grey value) is a mixture itself; its KL is the mean of
    log p(X) − log p_∞(X) over fresh draws X of p(u_i) (standard error: sample sd / √M).

    Parameters
    ----------
    process : DiagonalGaussianProcess
    data : array_like, shape (N,) + process.shape
        The training images.
    steps : sequence of int
        Steps ≥ 1 with s_i > 0 in every coefficient.
    n_samples : int
        Draws per step (≥ 2).
    rng : numpy.random.Generator

    Returns
    -------
    MixtureInformation
    """
    if not isinstance(process, DiagonalGaussianProcess):
        raise TypeError(f"process must be a DiagonalGaussianProcess, got {type(process).__name__}")
    data = as_float_array(data, "data").astype(np.float64)
    if data.ndim != len(process.shape) + 1 or data.shape[1:] != process.shape:
        raise ValueError(f"data must have shape (N,) + {process.shape}, got {data.shape}")
    steps = check_steps(steps, process.n_steps)
    n_samples = check_positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError("n_samples must be at least 2 to give a standard error")
    check_rng(rng)
    n = process.size
    coef = process.to_basis(data).reshape(data.shape[0], n)
    second = np.mean(coef**2, axis=0)
    out = {k: [] for k in ("h", "se", "hc", "kl", "kl_se")}
    for step in steps.tolist():
        a, s = (process._full(x).ravel() for x in process.marginal(step))
        if np.any(s <= 0):
            raise ValueError(f"step {step} has zero variance in some coefficient; its entropy is −∞")
        sd = np.sqrt(s)
        centers = a * coef
        est = _mixture_entropy_mc(centers / sd, 0.5, n_samples, rng)
        h = est.entropy.value + 0.5 * n * math.log(2.0) + float(np.sum(np.log(sd)))
        hc = 0.5 * float(np.sum(_LOG_2PIE + np.log(s)))
        kl, kl_se = np.nan, np.nan
        if process.limit is not None:
            a_inf = process._full(np.exp(process.limit[0])).ravel()
            s_inf = process._full(process.limit[1]).ravel()
            if np.all(a_inf == 0.0):
                ex2 = a**2 * second + s
                kl = -h + 0.5 * float(np.sum(ex2 / s_inf + _LOG_2PI + np.log(s_inf)))
                kl_se = est.entropy.standard_error
            else:
                k = rng.integers(0, coef.shape[0], size=n_samples)
                x = centers[k] + sd * rng.standard_normal((n_samples, n))
                d = _mixture_logpdf_diag(x, centers, s) - _mixture_logpdf_diag(x, a_inf * coef, s_inf)
                kl, kl_se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n_samples))
        out["h"].append(h)
        out["se"].append(est.entropy.standard_error)
        out["hc"].append(hc)
        out["kl"].append(kl)
        out["kl_se"].append(kl_se)
    h = np.array(out["h"])
    hc = np.array(out["hc"])
    return MixtureInformation(steps, h, np.array(out["se"]), hc, h - hc, np.array(out["kl"]), np.array(out["kl_se"]))
