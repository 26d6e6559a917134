"""Kernels of :mod:`lib.core.processes` (private): the Markov check, the per-frequency
Fokker–Planck coefficients, and the information quantities — closed form for Gaussian data
(:func:`lib.core.processes.gaussian_information`), Monte Carlo for a training set
(:func:`lib.core.processes.mixture_information_mc`).

The public functions check their arguments once and call these kernels, which do not check
again. The result records are returned by the public functions, never built by callers; they
are importable from :mod:`lib.core.processes` and documented with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import ArgumentTypeError, as_float_array, broadcast_to_shape, check_log_scale, check_memory
from .mixture import mixture_entropy_mc as _mixture_entropy_mc
from .mixture import mixture_logpdf as _mixture_logpdf

_LOG_2PIE = math.log(2.0 * math.pi * math.e)
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MarkovCheck:
    """Result of :meth:`lib.core.processes.DiagonalGaussianProcess.markov_check`.

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


def markov_check(process) -> MarkovCheck:
    """:meth:`lib.core.processes.DiagonalGaussianProcess.markov_check`."""
    sig, tol_all = [], []
    for i in range(1, process.n_steps + 1):
        scale, var = process._transition(i - 1, i)
        sig.append(process._full(var))
        tol_all.append(4 * np.finfo(np.float64).eps * process._full(np.maximum(process.variance[i], scale**2 * process.variance[i - 1])))
    sig = np.stack(sig)
    tol_all = np.stack(tol_all)
    ok = bool(np.all(sig + tol_all >= 0.0))
    flat_worst = np.unravel_index(int(np.argmin(sig)), sig.shape)
    never = np.all(np.abs(sig[1:]) <= tol_all[1:], axis=0) if process.n_steps > 1 else np.zeros(process.shape, bool)
    return MarkovCheck(
        transition_variance=sig,
        min_variance=float(sig[flat_worst]),
        worst=(int(flat_worst[0]) + 1,) + tuple(int(x) for x in flat_worst[1:]),
        tolerance=float(tol_all[flat_worst]),
        is_markov=ok,
        never_noised=np.asarray(never),
    )


def fokker_planck(process) -> tuple[np.ndarray, np.ndarray]:
    """:func:`lib.core.processes.fokker_planck_coefficients` (a checked process)."""
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


def _kl_diag(mean_diff_sq, var, var_ref):
    """Σ ½[v/v∞ − 1 − ln(v/v∞) + (Δm)²/v∞] with x − ln(1 + x) kept accurate for small x."""
    x = var / var_ref - 1.0
    term = np.where(np.abs(x) < 1e-4, x**2 / 2 - x**3 / 3 + x**4 / 4, x - np.log1p(np.maximum(x, -1 + 1e-300)))
    return 0.5 * np.sum(term + mean_diff_sq / var_ref, axis=tuple(range(1, term.ndim)))


def gaussian(process, c: np.ndarray, m: np.ndarray, steps: np.ndarray) -> GaussianInformation:
    """H, H(·|U_0), I and KL to the limit for U_0 ~ N(m, V diag(c) Vᵀ) (checked arguments:
    c and m broadcast to ``process.shape``, ``steps`` valid step indices)."""
    m_coef = process._to_basis(m)
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


def _mixture_logpdf_diag(x, centers, variance) -> np.ndarray:
    """log of (1/N) Σ_k N(x; c_k, diag(variance)), via whitening and the isotropic logsumexp."""
    sd = np.sqrt(variance)
    return _mixture_logpdf(x / sd, centers / sd, 1.0, 1.0) - np.sum(np.log(sd))


def mixture_mc(process, data: np.ndarray, steps: np.ndarray, n_samples: int,
               rng: np.random.Generator) -> MixtureInformation:
    """H(U_i), I(U_0; U_i) and KL to the limit for U_0 uniform on ``data`` (checked
    arguments: data of shape (N,) + process.shape, steps with positive variance, n_samples ≥ 2)."""
    n = process.size
    coef = process._to_basis(data).reshape(data.shape[0], n)
    second = np.mean(coef**2, axis=0)
    out = {k: [] for k in ("h", "se", "hc", "kl", "kl_se")}
    for step in steps.tolist():
        a, s = (process._full(x).ravel() for x in process.marginal(step))
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
    return MixtureInformation(steps, h, np.array(out["se"]), hc, h - hc, np.array(out["kl"]),
                              np.array(out["kl_se"]))


# --- helpers of lib.core.processes: the limit pair, memory of the step arrays, the Laplacian ---


def _check_limit(limit, shape) -> tuple[np.ndarray, np.ndarray]:
    """(ln a_∞, s_∞), each broadcast to ``shape``; s_∞ > 0."""
    try:
        log_scale, variance = limit
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"limit must be None or a pair (ln a_∞, s_∞), got {limit!r}") from None
    log_scale = broadcast_to_shape(check_log_scale(log_scale, "limit[0] (ln a_∞)"), shape, "limit[0] (ln a_∞)")
    variance = broadcast_to_shape(as_float_array(variance, "limit[1] (s_∞)").astype(np.float64),
                                  shape, "limit[1] (s_∞)")
    if np.any(variance <= 0.0):
        raise ValueError(f"limit[1] (s_∞) must be positive, got {float(variance.min())!r}")
    return log_scale, variance


def _check_memory_steps(n_steps: int, shape, what: str) -> None:
    """Mean factors of (n_steps + 1) steps per frequency, held two or three times over."""
    check_memory(3.0 * (n_steps + 1) * math.prod(shape),
                 f"the mean factors of {what} + 1 = {n_steps + 1} steps on a grid of shape {shape}")


def _laplacian_eigenvalues(shape, kind, h=1.0):
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


def _heat_limit(lam: np.ndarray) -> np.ndarray:
    return np.where(lam == 0.0, 0.0, -np.inf)
