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

import numpy as np
from scipy import fft as _fft

from . import _processes_kernels as _kernels
from ._processes_kernels import _check_limit, _check_memory_steps, _heat_limit, _laplacian_eigenvalues
from ._processes_kernels import GaussianInformation, MarkovCheck, MixtureInformation
from ._validation import (ArgumentTypeError, as_float_array, broadcast_to_shape, check_betas, check_choice,
                          check_log_scale, check_memory, check_positive_int, check_positive_real,
                          check_real, check_rng, check_shape, check_step, check_steps, check_work)
from .forward import _snapshots
from .schedules import log_alpha_bar as _log_alpha_bar

# The result records MarkovCheck, GaussianInformation and MixtureInformation are returned,
# never built by callers: importable from here, documented with the functions that return them.
__all__ = [
    "DiagonalGaussianProcess",
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


# ---------------------------------------------------------------------------------------------
# Validation (private)
# ---------------------------------------------------------------------------------------------


def _check_shape(shape) -> tuple[int, ...]:
    """A signal (N,) or an image (N, M), whose per-frequency arrays must fit in memory."""
    shape = check_shape(shape, "shape", ndims=(1, 2))
    check_memory(2.0 * math.prod(shape), f"the per-frequency arrays of a grid of shape {shape}")
    return shape


def _check_process(process) -> None:
    if not isinstance(process, DiagonalGaussianProcess):
        raise ArgumentTypeError(f"process must be a DiagonalGaussianProcess, got {type(process).__name__}")


# ---------------------------------------------------------------------------------------------
# The Laplacian in the DCT basis
# ---------------------------------------------------------------------------------------------


def laplacian_eigenvalues(shape, kind: str = "discrete", h: float = 1.0) -> np.ndarray:
    """Eigenvalues of the Neumann Laplacian for the orthonormal DCT-II basis functions.

    For frequencies k < N (and l < M) on a cell-centred grid with spacing ``h``:

    * ``"discrete"``: the 5-point Laplacian, −(4/h²)(sin²(πk/2N) + sin²(πl/2M)), exactly the
      eigenvalues of the matrix that ``scipy.fft.dctn`` (type 2, ``norm="ortho"``)
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
    check_choice(kind, "kind", EIGENVALUE_KINDS)
    h = check_positive_real(h, "h")
    return _laplacian_eigenvalues(shape, kind, h)


# ---------------------------------------------------------------------------------------------
# The abstraction
# ---------------------------------------------------------------------------------------------


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
        self.basis = check_choice(basis, "basis", BASES)
        log_scale = check_log_scale(log_scale, "log_scale")
        variance = as_float_array(variance, "variance").astype(np.float64)
        for arr, what in ((log_scale, "log_scale"), (variance, "variance")):
            if arr.ndim < 1 or arr.shape[1:] not in ((), self.shape):
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
        self.limit = None if limit is None else _check_limit(limit, self.shape)

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
        """Coefficients c = Vᵀu over the trailing axes (a copy; pixel basis: u itself).

        ``u`` has shape ``(...) + shape``; float32 stays float32, anything else is float64.
        """
        return self._to_basis(self._as_state(u, "u"))

    def from_basis(self, c) -> np.ndarray:
        """The image u = Vc (inverse of :meth:`to_basis`), for ``c`` of shape ``(...) + shape``."""
        return self._from_basis(self._as_state(c, "c"))

    def _to_basis(self, u: np.ndarray) -> np.ndarray:
        if self.basis == "pixel":
            return np.array(u, copy=True)
        return _fft.dctn(u, type=2, norm="ortho", axes=tuple(range(-len(self.shape), 0)))

    def _from_basis(self, c: np.ndarray) -> np.ndarray:
        if self.basis == "pixel":
            return np.array(c, copy=True)
        return _fft.idctn(c, type=2, norm="ortho", axes=tuple(range(-len(self.shape), 0)))

    # -- closed forms ----------------------------------------------------------------------------

    def marginal(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean factor a_i and variance s_i of p(u_i | u_0), Eq. (P2), per coefficient.

        Returns arrays of shape () for isotropic processes and ``shape`` otherwise.
        """
        step = check_step(step, self.n_steps, "step")
        return np.exp(self.log_scale[step]), self.variance[step].copy()

    def transition(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean factor a_stop/a_start and variance s_stop − (a_stop/a_start)² s_start, Eq. (P3).

        For a process defined by its transitions this is the composition of the steps
        start + 1, …, stop (Chapman–Kolmogorov); for one defined by marginals it is the implied
        transition, which may be negative (see :meth:`markov_check`).
        """
        start = check_step(start, self.n_steps, "start")
        stop = check_step(stop, self.n_steps, "stop")
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
        return _kernels.markov_check(self)

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
        return self._from_basis(self._to_basis(u) * scale).astype(u.dtype, copy=False)

    def sample(self, u0, step: int, rng: np.random.Generator | None = None, *, start: int = 0,
               noise=None) -> np.ndarray:
        """Draw u_step from p(u_step | u_start = u0), Eq. (P3) (Eq. P2 for ``start = 0``).

        u = V(diag(a) Vᵀu0 + diag(√σ²) ξ) with ξ ~ N(0, I) in the coefficient basis. White noise
        is white in every orthonormal basis, so ξ is drawn as coefficients.

        Parameters
        ----------
        u0 : array_like, shape ``(...) + shape``
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
        In the pixel basis the operations are those of :func:`lib.core.forward.sample_marginal`, in
        the same order, so VP draws agree with it bit for bit for the same generator state.
        """
        u = self._as_state(u0, "u0")
        step = check_step(step, self.n_steps, "step")
        start = check_step(start, self.n_steps, "start")
        if step < start:
            raise ValueError(f"step must not precede start, got start={start}, step={step}")
        if noise is None:
            if rng is None:
                raise ArgumentTypeError("give rng (a numpy.random.Generator) or noise")
            check_rng(rng)
        else:
            noise = np.array(as_float_array(noise, "noise"), dtype=u.dtype, copy=True)
            if noise.shape != u.shape:
                raise ValueError(f"noise must have the shape of u0 {u.shape}, got {noise.shape}")
        return self._sample(u, start, step, rng, noise)

    def _sample(self, u, start, step, rng, noise):
        """:meth:`sample` on a validated working copy ``u`` (overwritten) and checked steps."""
        scale, variance = self._transition(start, step)
        variance = np.maximum(variance, 0.0)  # implied negative variances are not samplable
        if self.basis == "pixel" and np.ndim(scale) == 0:
            if float(variance) == 0.0 and float(scale) == 1.0:
                return u
            if noise is None:
                noise = rng.standard_normal(u.shape, dtype=u.dtype)
            u *= u.dtype.type(scale)
            noise *= u.dtype.type(np.sqrt(variance))
            u += noise
            return u
        c = self._to_basis(u)
        if noise is None:
            noise = rng.standard_normal(u.shape, dtype=u.dtype)
        c = c * scale.astype(u.dtype) + noise * np.sqrt(variance).astype(u.dtype)
        return self._from_basis(c).astype(u.dtype, copy=False)

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
        return _snapshots(u, steps, lambda u, previous, step: self._sample(u, previous, step, rng, None))


# ---------------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------------


def vp_process(betas, shape) -> DiagonalGaussianProcess:
    """The variance-preserving process of the paper, Eqs. (3)–(5) (Ho et al. 2020).

    M_i = √(1 − β_i) I, Σ_i = β_i I; marginals a_i = √ᾱ_i, s_i = 1 − ᾱ_i, computed exactly as
    :func:`lib.core.forward.transition_coefficients` does (ln ᾱ from ``log1p`` sums, s = −expm1 ln ᾱ).
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
    check_memory(3.0 * (n_steps + 1), f"the variances of n_steps + 1 = {n_steps + 1} steps")
    sigma_min = check_positive_real(sigma_min, "sigma_min")
    sigma_max = check_positive_real(sigma_max, "sigma_max")
    if sigma_max < sigma_min:
        raise ValueError(f"sigma_max must be at least sigma_min, got {sigma_max} < {sigma_min}")
    sig = np.geomspace(sigma_min, sigma_max, n_steps) if n_steps > 1 else np.array([sigma_max])
    variance = np.concatenate(([0.0], sig**2))
    return DiagonalGaussianProcess(np.zeros(n_steps + 1), variance, shape, "pixel", "VE", limit=None)


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
    check_choice(eigenvalues, "eigenvalues", EIGENVALUE_KINDS)
    if times is None:
        n_steps = check_positive_int(n_steps, "n_steps")
        blur_min = check_positive_real(blur_min, "blur_min")
        blur_max = check_positive_real(blur_max, "blur_max")
        if blur_max < blur_min:
            raise ValueError(f"blur_max must be at least blur_min, got {blur_max} < {blur_min}")
        _check_memory_steps(n_steps, shape, "n_steps")
        times = np.geomspace(blur_min, blur_max, n_steps) ** 2 / 2.0
    else:
        times = as_float_array(times, "times").astype(np.float64)
        if times.ndim != 1 or np.any(times < 0):
            raise ValueError(f"times must be a 1-D sequence of non-negative times t_1, …, t_K, got shape "
                             f"{times.shape} with smallest value {float(times.min())!r}")
        _check_memory_steps(times.size, shape, "len(times)")
    lam = _laplacian_eigenvalues(shape, eigenvalues)
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
    _check_memory_steps(n_steps, shape, "n_steps")
    check_choice(eigenvalues, "eigenvalues", EIGENVALUE_KINDS)
    blur_max = check_positive_real(blur_max, "blur_max")
    d_min = check_real(d_min, "d_min", 0.0, 1.0, low_open=False)
    logsnr_min = check_real(logsnr_min, "logsnr_min")
    logsnr_max = check_real(logsnr_max, "logsnr_max")
    if not logsnr_min < logsnr_max:
        raise ValueError(f"logsnr_min must be smaller than logsnr_max, got {logsnr_min} ≥ {logsnr_max}")
    t = np.arange(1, n_steps + 1) / n_steps
    b = math.atan(math.exp(-0.5 * logsnr_max))
    a = math.atan(math.exp(-0.5 * logsnr_min)) - b
    logsnr = -2.0 * np.log(np.tan(a * t + b))
    log_alpha2 = -np.logaddexp(0.0, -logsnr)  # ln sigmoid(ℓ)
    sigma2 = np.exp(-np.logaddexp(0.0, logsnr))  # sigmoid(−ℓ)
    tau = (blur_max * np.sin(np.pi * t / 2.0) ** 2) ** 2 / 2.0
    lam = _laplacian_eigenvalues(shape, eigenvalues)
    expand = (-1,) + (1,) * len(shape)
    # ln d_t = ln((1 − d_min) e^{τλ} + d_min) without forming e^{τλ}, which underflows to 0 at high
    # frequencies (ln 0 = −inf would lose the ratios a_j/a_i that the log scale keeps exact).
    exponent = tau.reshape(expand) * lam
    log_d = exponent if d_min == 0.0 else np.logaddexp(np.log1p(-d_min) + exponent, math.log(d_min))
    log_scale = 0.5 * log_alpha2.reshape(expand) + log_d
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
    _check_process(process)
    n = process.size
    if n > _MAX_DENSE:
        raise ValueError(f"process has n = {n} pixels; mean_operator builds a dense n × n matrix, "
                         f"only for n ≤ {_MAX_DENSE}")
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
    _check_process(process)
    return _kernels.fokker_planck(process)


# ---------------------------------------------------------------------------------------------
# Information: Gaussian data in closed form, a training set by Monte Carlo
# (kernels and result records in lib.core._processes_kernels)
# ---------------------------------------------------------------------------------------------


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

    Returns
    -------
    GaussianInformation
        Arrays over ``steps`` (nats): ``steps``, ``entropy`` H(U_i) = ½ Σ ln(2πe (a_i² c + s_i)),
        ``conditional_entropy`` H(U_i | U_0) = ½ Σ ln(2πe s_i) (−inf where some s_i = 0),
        ``mutual_information`` I(U_0; U_i) = ½ Σ ln(1 + a_i² c / s_i) and ``kl_to_limit``
        KL(p(u_i) ‖ p(u_∞)) (NaN without a limit).

    Examples
    --------
    >>> info = gaussian_information(vp_process([0.5], 1), 1.0)
    >>> bool(np.isclose(info.entropy[1], 0.5 * np.log(2 * np.pi * np.e)))
    True
    """
    _check_process(process)
    c = broadcast_to_shape(as_float_array(data_variance, "data_variance").astype(np.float64), process.shape,
                           "data_variance")
    if np.any(c < 0):
        raise ValueError(f"data_variance must be non-negative, got {float(c.min())!r}")
    m = broadcast_to_shape(as_float_array(data_mean, "data_mean").astype(np.float64), process.shape, "data_mean")
    steps = np.arange(process.n_steps + 1) if steps is None else check_steps(steps, process.n_steps)
    return _kernels.gaussian(process, c, m, steps)


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
        Arrays over ``steps`` (nats): ``steps``, ``entropy`` and ``entropy_se`` (H(U_i) and its
        standard error), ``conditional_entropy`` (H(U_i | U_0), exact), ``mutual_information``
        (H(U_i) − H(U_i | U_0), in [0, ln N], with the entropy's standard error), ``kl`` and
        ``kl_se`` (NaN without a limit).
    """
    _check_process(process)
    data = as_float_array(data, "data").astype(np.float64)
    if data.ndim != len(process.shape) + 1 or data.shape[1:] != process.shape:
        raise ValueError(f"data must have shape (N,) + {process.shape}, got {data.shape}")
    steps = check_steps(steps, process.n_steps)
    for step in steps.tolist():
        if np.any(process.variance[step] <= 0.0):
            raise ValueError(f"steps must have a positive variance in every coefficient (an entropy, not −∞); "
                             f"step {step} has zero variance in some coefficient")
    n_samples = check_positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError("n_samples must be at least 2 to give a standard error")
    check_rng(rng)
    n_train, n = data.shape[0], process.size
    check_memory(3.0 * n_samples * n, f"n_samples = {n_samples} draws of {n} pixels (held at once)")
    check_work(float(steps.size) * n_samples * n_train * n,
               f"n_samples = {n_samples} draws at {steps.size} steps against N = {n_train} training images "
               f"of n = {n} pixels")
    return _kernels.mixture_mc(process, data, steps, n_samples, rng)
