"""A table-driven battery of bad and edge inputs for every public function of :mod:`lib.core`.

Issue 12: every public function rejects NaN/Inf where a finite value is needed, empty and 0-d
arrays where they make no sense, wrong shapes and mismatched lengths, bool/complex/str dtypes,
non-integer counts and shapes, out-of-range scalars and an ``rng`` that is not a Generator, with
a message that names the argument as the caller wrote it. Each case below calls one function
with keyword arguments (so the caller's name of the argument is the keyword), replacing ONE
argument of a good call by a bad value, and expects an exception type and the argument's name
in the message. A few edge cases that must instead give a correct result are listed with a
check of that result.

``benchmarks/bad_inputs_battery.py`` runs the same table and prints the counts by outcome
(clear error / correct result / anything else) for the closing note of the issue.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import lib.core
from lib.core import (data, fokker_planck, forward, gaussian, local_scores, mixture, osmosis, permutations, processes,
                      reverse, schedules, stats)

V, T = ValueError, TypeError

# Result records: built by the library, never from a caller's input, so not validated.
RESULT_RECORDS = {"mixture.MixtureEntropy", "mixture.MonteCarloEstimate", "osmosis.EvolutionInfo",
                  "stats.KSResult", "stats.NormalityReport", "stats.TrajectoryReport"}


def rng():
    return np.random.default_rng(0)


# --- families of bad values -------------------------------------------------------------------

COUNT = [(2.5, T), (8.7, T), (0, V), (-3, V), (True, T), (np.nan, T), ("3", T), (None, T)]
POSITIVE = [(np.nan, V), (-1.0, V), (0.0, V), (np.inf, V), ("1", T), (True, T), (1j, T), (None, T)]
OPEN01 = [(0.0, V), (1.0, V), (np.nan, V), (-0.5, V), (1.5, V), ("0.1", T), (True, T)]
RNG = [(0, T), (None, T), (np.random.RandomState(0), T), ("rng", T)]
FLAG = [("yes", T), (1, T), (np.array([True]), T)]


def array_family(good, *, shape_bad=None, empty=True):
    """Bad versions of a good real array: NaN, Inf, str, complex, bool, empty, a wrong shape."""
    good = np.asarray(good, dtype=np.float64)
    nan, inf = good.copy(), good.copy()
    nan.flat[0], inf.flat[-1] = np.nan, np.inf
    out = [(nan, V), (inf, V), (good.astype(str), T), (good + 1j, T), (good > good.mean(), T),
           ("abc", T)]
    if empty:
        out.append((np.empty((0,) + good.shape[1:]), V))
    if shape_bad is not None:
        out.append((shape_bad, V))
    return out


# --- good calls ---------------------------------------------------------------------------------

BETAS = schedules.constant_betas(0.02, 10)
BAD_BETAS = array_family(BETAS, shape_bad=np.full((2, 5), 0.02)) + [
    (np.array([0.02, 1.0]), V), (np.array([0.02, -0.1]), V), (np.float64(0.02), V)]
U0 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
CENTERS = np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, 1.0]])
BAD_CENTERS = array_family(CENTERS, shape_bad=np.ones(3))
BAD_AB = array_family([0.3, 0.6]) + [(np.array([0.0, 0.5]), V), (np.array([0.5, 1.5]), V)]
BAD_AB_SCALAR = [(np.nan, V), (0.0, V), (1.5, V), ("0.5", T), (True, T), (np.array([0.2, 0.3]), V)]
COV = np.array([[1.0, 0.3], [0.3, 0.5]])
BAD_COV = array_family(COV, shape_bad=np.ones((2, 3))) + [
    (np.array([[1.0, 0.9], [0.0, 1.0]]), V), (np.diag([1.0, -1.0]), V)]
SNAPS = forward.sample_trajectory(U0, BETAS, [3, 7], rng())
Z = rng().standard_normal((200, 4))
V_IMG = 1.0 + np.arange(12.0).reshape(3, 4) / 10.0
F_IMG = 2.0 + np.cos(np.arange(12.0)).reshape(3, 4)
A_MAT = osmosis.osmosis_matrix(osmosis.canonical_drift(V_IMG))
BAD_A = [(np.ones((3, 4)), V), (np.full((2, 2), np.nan), V), (np.array([[1.0 + 1j]]), T), ("A", T),
         (np.ones(3), V), (np.empty((0, 0)), V)]
BAD_TIMES = array_family([1.0, 2.0]) + [(np.array([2.0, 1.0]), V), (np.array([-1.0, 1.0]), V)]
BAD_TAU = [(np.nan, V), (-1.0, V), (0.0, V), ("1", T), (True, T), (0.3, V),
           (np.array([1.0, np.nan]), V), (np.array([1.0]), V)]
X_GRID, H_GRID = fokker_planck.grid(40)
P0 = fokker_planck.mixture_pdf(X_GRID, (1.0,), (0.0,), (1.0,))
MASK = np.array([True, False])
KNOWN = np.array([[0.5, 0.0]])


# processes: a pixel-basis (VP) and a DCT-basis (IHD) process on the (2, 3) grid of U0
PR_SHAPE = (2, 3)
P_VP = processes.vp_process(BETAS, PR_SHAPE)
P_IHD = processes.ihd_process(PR_SHAPE, times=[0.5, 1.0, 2.0], sigma=0.1)
P_BIG = processes.ihd_process((80, 80), times=[1.0])  # too many pixels for a dense matrix
PR_DATA = np.stack([U0, -U0, 0.5 * U0])
LOG_SCALE = np.log([1.0, 0.9, 0.8])
VARIANCE = np.array([0.0, 0.1, 0.2])
BAD_PR_SHAPE = [((8.7, 3), T), ((0, 3), V), ((2, 3, 4), V), ("23", T), ((True, 3), T), (-2, V),
                ((2, np.nan), T), ((), V)]
STEP = [(2.5, T), (-1, V), (11, V), ("3", T), (np.nan, T), (True, T)]  # for a process of 10 steps
BAD_PROCESS = [(None, T), ("VP", T), (VARIANCE, T)]

# permutations
PERM = permutations.GridPermutation.rotation90((2, 3))  # the 2 x 3 grid onto the 3 x 2 grid
BAD_GRID_SHAPE = [((8.7, 3), T), ((0, 3), V), ((2, 3, 4), V), ("23", T), ((True, 3), T), (6, T), (None, T)]

# local_scores: three 4 × 4 training images, two noisy images
TRAIN_LS = np.stack([np.arange(16.0).reshape(4, 4) / 16, -np.ones((4, 4)), np.eye(4)])
X_LS = np.stack([np.zeros(16), np.linspace(-1.0, 1.0, 16)])
BAD_X_LS = array_family(X_LS, shape_bad=np.zeros((2, 15))) + [(np.float64(0.0), V)]
BAD_TRAIN = array_family(TRAIN_LS, shape_bad=np.ones(16)) + [(np.ones((2, 15)), V)]
BAD_PATCH = [(2, V), (0, V), (-3, V), (2.5, T), (True, T), ("3", T), (np.nan, T), (None, T)]
BAD_MACHINE = [("fancy", V), (None, V), (["els"], V)]
BAD_BOUNDARY = [("reflect", V), (None, V), (0, V)]
BAD_LS_SHAPE = [((2, 8), V), ((8.7, 2), T), ("44", T), ((4, 4, 1), V), ((0, 4), V)]


def positive_image_family(good):
    return array_family(good) + [(-good, V), (np.zeros_like(good), V), (np.ones((2, 2, 2, 2)), V)]


@dataclass
class Spec:
    """A public function, a good call (keywords) and, per argument, its bad values."""

    label: str
    func: Callable
    good: dict
    bad: dict
    ok: tuple = ()  # (description, kwargs override, check(result) -> bool)


SPECS = [
    # schedules
    Spec("schedules.constant_betas", schedules.constant_betas, dict(beta=0.02, n_steps=5),
         dict(beta=OPEN01, n_steps=COUNT),
         ok=(("one step", dict(n_steps=1), lambda r: r.shape == (1,)),)),
    Spec("schedules.linear_betas", schedules.linear_betas, dict(n_steps=5, beta_start=1e-4, beta_end=0.02),
         dict(n_steps=COUNT, beta_start=OPEN01, beta_end=OPEN01)),
    Spec("schedules.cosine_betas", schedules.cosine_betas, dict(n_steps=5, s=0.008, max_beta=0.999),
         dict(n_steps=COUNT, s=POSITIVE, max_beta=OPEN01)),
    Spec("schedules.get_betas", schedules.get_betas, dict(name="linear", n_steps=5),
         dict(name=[("quadratic", V), (None, V), (["linear"], V), (3, V)], n_steps=COUNT)),
    Spec("schedules.reference_schedules", schedules.reference_schedules, dict(n_steps=5),
         dict(n_steps=COUNT),
         ok=(("three schedules", dict(n_steps=2), lambda r: list(r) == ["constant 0.02", "linear", "cosine"]),)),
    Spec("schedules.log_alpha_bar", schedules.log_alpha_bar, dict(betas=BETAS), dict(betas=BAD_BETAS)),
    Spec("schedules.alpha_bar", schedules.alpha_bar, dict(betas=BETAS), dict(betas=BAD_BETAS[:6]),
         ok=(("alpha_bar[0] = 1", dict(betas=[0.5]), lambda r: list(r) == [1.0, 0.5]),)),
    # forward
    Spec("forward.transition_coefficients", forward.transition_coefficients,
         dict(betas=BETAS, start=2, stop=5),
         dict(betas=BAD_BETAS[:4], start=[(2.5, T), (-1, V), (11, V), (np.nan, T)],
              stop=[(1, V), (11, V), (4.5, T)]),
         ok=(("start = stop", dict(start=3, stop=3), lambda r: r == (1.0, 0.0)),)),
    Spec("forward.marginal_coefficients", forward.marginal_coefficients, dict(betas=BETAS, step=3),
         dict(betas=BAD_BETAS[:4], step=[(3.5, T), (-1, V), (11, V), ("3", T)])),
    Spec("forward.forward_step", forward.forward_step, dict(u=U0, beta=0.1, rng=rng()),
         dict(u=array_family(U0), beta=OPEN01, rng=RNG[:3],
              noise=[(np.ones(3), V), (np.full_like(U0, np.nan), V), (U0 > 0, T)]),
         ok=(("float16 state kept as float32", dict(u=U0.astype(np.float16)), lambda r: r.dtype == np.float32),)),
    Spec("forward.iterate_forward", forward.iterate_forward, dict(u0=U0, betas=BETAS, steps=[2, 5], rng=rng()),
         dict(u0=array_family(U0), betas=BAD_BETAS[:5],
              steps=[([5, 2], V), ([2.5], T), ([-1], V), ([11], V), ([], V), ("2", T)], rng=RNG[:3],
              noise=[(np.ones((2, 3)), V), (np.full((5, 2, 3), np.nan), V)]),
         ok=(("step 0 is u0", dict(steps=[0]), lambda r: np.array_equal(r[0], U0)),)),
    Spec("forward.add_noise", forward.add_noise, dict(u0=U0, noise=np.ones_like(U0), betas=BETAS, step=4),
         dict(u0=array_family(U0, empty=False), noise=array_family(U0, shape_bad=np.ones(6)),
              betas=BAD_BETAS[:3], step=[(4.2, T), (12, V)])),
    Spec("forward.sample_marginal", forward.sample_marginal, dict(u0=U0, betas=BETAS, step=4, rng=rng()),
         dict(u0=array_family(U0), betas=BAD_BETAS[:3], step=[(4.5, T), (-2, V), (99, V)], rng=RNG)),
    Spec("forward.sample_trajectory", forward.sample_trajectory,
         dict(u0=U0, betas=BETAS, steps=[1, 4], rng=rng()),
         dict(u0=array_family(U0)[:4], betas=BAD_BETAS[:3], steps=[([4, 1], V), ([1.5], T), ([20], V)],
              rng=RNG[:2])),
    # gaussian
    Spec("gaussian.standard_normal_entropy", gaussian.standard_normal_entropy, dict(n=3), dict(n=COUNT)),
    Spec("gaussian.gaussian_entropy", gaussian.gaussian_entropy, dict(cov=COV),
         dict(cov=BAD_COV + [(np.zeros((2, 2)), V)])),
    Spec("gaussian.gaussian_marginal_entropy", gaussian.gaussian_marginal_entropy,
         dict(cov=COV, alpha_bar=0.5), dict(cov=BAD_COV[:5], alpha_bar=BAD_AB)),
    Spec("gaussian.gaussian_marginal_entropy_rate", gaussian.gaussian_marginal_entropy_rate,
         dict(cov=COV, alpha_bar=0.5), dict(cov=BAD_COV[:3], alpha_bar=BAD_AB[:4])),
    Spec("gaussian.conditional_entropy", gaussian.conditional_entropy, dict(betas=BETAS, n=4),
         dict(betas=BAD_BETAS[:3], n=COUNT[:5])),
    Spec("gaussian.gaussian_marginal_moments", gaussian.gaussian_marginal_moments,
         dict(mean=np.zeros(2), cov=COV, alpha_bar=0.5),
         dict(mean=array_family(np.zeros(2), shape_bad=np.zeros(3)), cov=BAD_COV[:3],
              alpha_bar=BAD_AB_SCALAR)),
    Spec("gaussian.kl_gaussian", gaussian.kl_gaussian, dict(mean=np.zeros(2), cov=COV),
         dict(mean=array_family(np.zeros(2), shape_bad=np.zeros((2, 1))), cov=BAD_COV[:4]),
         ok=(("N(0, I) has KL 0", dict(cov=np.eye(2)), lambda r: r == 0.0),)),
    Spec("gaussian.kl_gaussian_marginal", gaussian.kl_gaussian_marginal,
         dict(mean=np.zeros(2), cov=COV, alpha_bar=[0.2, 0.5]),
         dict(mean=array_family(np.zeros(2))[:3], cov=BAD_COV[:3], alpha_bar=BAD_AB[:5])),
    Spec("gaussian.kl_convexity_bound", gaussian.kl_convexity_bound,
         dict(second_moment=2.0, n=2, alpha_bar=0.5),
         dict(second_moment=[(np.nan, V), (-1.0, V), (np.inf, V), ("2", T), (True, T)],
              n=COUNT[:4], alpha_bar=BAD_AB[:4])),
    Spec("gaussian.eq10_lower_bound", gaussian.eq10_lower_bound, dict(n=[1, 2]),
         dict(n=[(0, V), ([1.5], T), (True, T), ("3", T), ([], V), ([1, -2], V)])),
    # mixture
    Spec("mixture.mixture_logpdf", mixture.mixture_logpdf,
         dict(x=np.zeros((2, 2)), centers=CENTERS, scale=0.7, variance=0.5),
         dict(x=array_family(np.zeros((2, 2)), shape_bad=np.zeros((2, 3))), centers=BAD_CENTERS,
              scale=[(np.nan, V), (np.inf, V), ("1", T)], variance=POSITIVE[:5],
              chunk_size=COUNT[:4])),
    Spec("mixture.mixture_posterior_mean", mixture.mixture_posterior_mean,
         dict(x=np.zeros((2, 2)), centers=CENTERS, scale=0.7, variance=0.5),
         dict(x=array_family(np.zeros((2, 2)))[:4], centers=BAD_CENTERS[:4], variance=POSITIVE[:3])),
    Spec("mixture.sample_mixture", mixture.sample_mixture,
         dict(centers=CENTERS, scale=0.7, variance=0.5, size=4, rng=rng()),
         dict(centers=BAD_CENTERS[:4], scale=[(np.nan, V)], variance=POSITIVE[:3], size=COUNT,
              rng=RNG[:2])),
    Spec("mixture.Mixture", mixture.Mixture, dict(centers=CENTERS, bandwidth=0.1),
         dict(centers=BAD_CENTERS, bandwidth=[(-0.1, V), (np.nan, V), ("0", T), (True, T)],
              chunk_size=COUNT[:3]),
         ok=(("bandwidth 0 allowed", dict(bandwidth=0.0), lambda r: r.bandwidth == 0.0),)),
    Spec("mixture.Mixture.logpdf", lambda **k: mixture.Mixture(CENTERS).logpdf(**k),
         dict(x=np.zeros((2, 2)), alpha_bar=0.5),
         dict(x=array_family(np.zeros((2, 2)), shape_bad=np.zeros(3)), alpha_bar=BAD_AB_SCALAR)),
    Spec("mixture.Mixture.parameters", lambda **k: mixture.Mixture(CENTERS).parameters(**k),
         dict(alpha_bar=0.5), dict(alpha_bar=BAD_AB_SCALAR),
         ok=(("h = 0 at alpha_bar = 1 has no density", dict(alpha_bar=1.0), None),)),
    Spec("mixture.Mixture.posterior_mean", lambda **k: mixture.Mixture(CENTERS).posterior_mean(**k),
         dict(x=np.zeros((2, 2)), alpha_bar=0.5),
         dict(x=array_family(np.zeros((2, 2)))[:4], alpha_bar=BAD_AB_SCALAR[:4])),
    Spec("mixture.Mixture.score", lambda **k: mixture.Mixture(CENTERS).score(**k),
         dict(x=np.zeros((2, 2)), alpha_bar=0.5),
         dict(x=array_family(np.zeros((2, 2)))[:4], alpha_bar=BAD_AB_SCALAR[:3])),
    Spec("mixture.Mixture.sample", lambda **k: mixture.Mixture(CENTERS).sample(**k),
         dict(alpha_bar=0.5, size=3, rng=rng()),
         dict(alpha_bar=BAD_AB_SCALAR[:3], size=COUNT[:5], rng=RNG[:2])),
    Spec("mixture.kl_to_standard_normal_mc", mixture.kl_to_standard_normal_mc,
         dict(centers=CENTERS, alpha_bar=0.5, n_samples=50, rng=rng()),
         dict(centers=BAD_CENTERS[:5], alpha_bar=BAD_AB[:4], n_samples=COUNT[:4] + [(1, V)], rng=RNG[:2],
              control_variate=FLAG[:2])),
    Spec("mixture.mixture_entropy_mc", mixture.mixture_entropy_mc,
         dict(centers=CENTERS, alpha_bar=0.5, n_samples=50, rng=rng()),
         dict(centers=BAD_CENTERS[:4], alpha_bar=BAD_AB[:4], n_samples=COUNT[:4], rng=RNG[:2],
              method=[("fancy", V), (None, V)], target_se=POSITIVE[:4],
              max_samples=[(10, V), (60.5, T)], block_size=COUNT[:3])),
    Spec("mixture.mixture_entropy_rate_mc", mixture.mixture_entropy_rate_mc,
         dict(centers=CENTERS, alpha_bar=0.5, n_samples=50, rng=rng()),
         dict(centers=BAD_CENTERS[:4], alpha_bar=BAD_AB[:3], n_samples=COUNT[:4], rng=RNG[:2],
              block_size=COUNT[:3])),
    # stats
    Spec("stats.standardize", stats.standardize, dict(samples=SNAPS[0], u0=U0, betas=BETAS, step=3),
         dict(samples=array_family(SNAPS[0], shape_bad=np.ones((2, 4)))[:5] + [(np.ones((2, 4)), V)],
              u0=array_family(U0)[:4], betas=BAD_BETAS[:3], step=[(0, V), (3.5, T), (99, V)])),
    Spec("stats.innovations", stats.innovations, dict(snapshots=SNAPS, u0=U0, betas=BETAS, steps=[3, 7]),
         dict(snapshots=array_family(SNAPS)[:4] + [(SNAPS[:1], V)], u0=array_family(U0)[:3],
              steps=[([7, 3], V), ([3.5, 7], T), ([3, 70], V), ([0], V)])),
    Spec("stats.lag_correlations", stats.lag_correlations, dict(z=Z),
         dict(z=array_family(Z)[:6] + [(np.array(1.0), V), (np.ones((1, 4)), V)])),
    Spec("stats.normality_report", stats.normality_report, dict(z=Z),
         dict(z=array_family(Z) + [(np.ones(10), V)])),
    Spec("stats.variance_test_power", stats.variance_test_power, dict(n=100, ratio=1.2, alpha=1e-3),
         dict(n=COUNT + [(1, V)], ratio=[(np.nan, V), (-1.0, V), (0.0, V), ("1", T), ([], V)],
              alpha=OPEN01[:5])),
    Spec("stats.detectable_variance_ratio", stats.detectable_variance_ratio,
         dict(n=100, alpha=1e-3, power=0.9),
         dict(n=COUNT[:4], alpha=OPEN01[:4], power=[(np.nan, V), (1e-4, V), (1.0, V), ("0.9", T)])),
    Spec("stats.trajectory_report", stats.trajectory_report,
         dict(snapshots=np.repeat(SNAPS, 20, axis=1), u0=np.repeat(U0, 20, axis=0), betas=BETAS, steps=[3, 7]),
         dict(snapshots=array_family(SNAPS)[:3], steps=[([7, 3], V), ([3.5, 7], T)])),
    Spec("stats.random_directions", stats.random_directions, dict(dim=3, k=2, rng=rng()),
         dict(dim=COUNT[:5], k=COUNT[:5], rng=RNG)),
    Spec("stats.ks_2samp_columns", stats.ks_2samp_columns, dict(x=Z[:100], y=Z[100:]),
         dict(x=array_family(Z[:100], shape_bad=Z[:100, :2]), y=array_family(Z[100:])[:4]),
         ok=(("one draw against 100 is a valid (weak) test", dict(y=Z[:1]),
              lambda r: bool(np.all((r[1] >= 0) & (r[1] <= 1)))),)),
    Spec("stats.nearest_neighbour_distances", stats.nearest_neighbour_distances, dict(x=Z[:5], centers=Z[5:20]),
         dict(x=array_family(Z[:5], shape_bad=np.zeros((5, 3))) + [(np.float64(0.0), V)],
              centers=array_family(Z[5:20], shape_bad=np.ones(4)), exclude_self=FLAG),
         ok=(("leave one out within the training set", dict(x=Z[5:20], centers=Z[5:20], exclude_self=True),
              lambda r: r.shape == (15,) and bool(np.all(r > 0))),)),
    Spec("stats.projection_ks_test", stats.projection_ks_test,
         dict(x=Z[:100], y=Z[100:], directions=np.eye(4)[:, :2]),
         dict(x=array_family(Z[:100])[:4], y=array_family(Z[100:])[:3],
              directions=array_family(np.eye(4)[:, :2], shape_bad=np.eye(3)) + [(np.zeros((4, 2)), V)],
              norm=FLAG, exact=FLAG[:2])),
    # osmosis
    Spec("osmosis.canonical_drift", osmosis.canonical_drift, dict(v=V_IMG, h=1.0),
         dict(v=positive_image_family(V_IMG), h=POSITIVE)),
    Spec("osmosis.zero_drift", osmosis.zero_drift, dict(shape=(3, 4)),
         dict(shape=[((8.7, 3), T), ((0, 3), V), ((3, 4, 5), V), ("34", T), ((True, 3), T), (-2, V),
                     ((3, np.nan), T)]),
         ok=(("an int is a 1-D grid", dict(shape=5), lambda r: r.shape == (4,)),)),
    Spec("osmosis.guidance_from_drift", osmosis.guidance_from_drift, dict(d=np.zeros(4), h=1.0),
         dict(d=array_family(np.zeros(4), empty=False) + [(np.ones((2, 2)), V), (np.full(4, 3.0), V)],
              h=POSITIVE[:4])),
    Spec("osmosis.osmosis_matrix", osmosis.osmosis_matrix, dict(drift=np.zeros(4), h=1.0),
         dict(drift=array_family(np.zeros(4), empty=False)[:5] + [(np.full(4, 5.0), V), ((np.zeros((2, 3)),), V)],
              h=POSITIVE[:4])),
    Spec("osmosis.column_sum_error", osmosis.column_sum_error, dict(A=A_MAT), dict(A=BAD_A)),
    Spec("osmosis.steady_state_residual", osmosis.steady_state_residual, dict(A=A_MAT, w=V_IMG),
         dict(A=BAD_A[:3], w=array_family(V_IMG, shape_bad=np.ones(5))),
         ok=(("w = 0 is a steady state", dict(w=np.zeros(12)), lambda r: r == 0.0),)),
    Spec("osmosis.roundoff_bound", osmosis.roundoff_bound, dict(A=A_MAT, times=[1.0, 2.0], tau=0.5),
         dict(A=BAD_A[:3], times=BAD_TIMES[:5], tau=BAD_TAU[:6])),
    Spec("osmosis.steady_state", osmosis.steady_state, dict(f=F_IMG, v=V_IMG),
         dict(f=positive_image_family(F_IMG) + [(F_IMG[:2], V)], v=positive_image_family(V_IMG)[:6])),
    Spec("osmosis.lyapunov", osmosis.lyapunov, dict(u=F_IMG, w=V_IMG, h=1.0),
         dict(u=positive_image_family(F_IMG)[:7] + [(np.ones((2, 5)), V)], w=positive_image_family(V_IMG)[:5],
              h=POSITIVE[:4]),
         ok=(("L(w, w) = 0", dict(u=V_IMG), lambda r: r == 0.0),)),
    Spec("osmosis.relative_entropy", osmosis.relative_entropy, dict(u=F_IMG, w=V_IMG, h=1.0),
         dict(u=positive_image_family(F_IMG)[:4], w=positive_image_family(V_IMG)[:4], h=POSITIVE[:3])),
    Spec("osmosis.evolve", osmosis.evolve, dict(u0=F_IMG, A=A_MAT, times=[1.0, 2.0]),
         dict(u0=array_family(F_IMG, shape_bad=np.ones(5)), A=BAD_A, times=BAD_TIMES, tau=BAD_TAU,
              method=[("gmres", V), (None, V)], weight=[(-V_IMG, V), (np.ones(5), V)],
              rtol=[(0.0, V), (1.0, V), (np.nan, V), ("1e-9", T)], maxiter=[(0, V), (-5, V), (2.5, T)],
              return_info=FLAG[:2]),
         ok=(("time 0 returns u0", dict(times=[0.0]), lambda r: np.array_equal(r[0], F_IMG)),)),
    Spec("osmosis.osmosis", osmosis.osmosis, dict(f=F_IMG, v=V_IMG, times=[1.0, 2.0]),
         dict(f=positive_image_family(F_IMG), v=positive_image_family(V_IMG)[:5] + [(V_IMG[:2], V)],
              times=BAD_TIMES[:5], tau=BAD_TAU[:5], h=POSITIVE[:4], method=[("fast", V)],
              rtol=[(2.0, V), (np.nan, V)], return_info=FLAG[:2]),
         ok=(("mass conserved", dict(), lambda r: abs(r[-1].sum() - F_IMG.sum()) < 1e-9 * F_IMG.sum()),)),
    Spec("osmosis.homogeneous_diffusion", osmosis.homogeneous_diffusion, dict(f=F_IMG, times=[1.0]),
         dict(f=positive_image_family(F_IMG)[:6], times=BAD_TIMES[:4], tau=BAD_TAU[:4], h=POSITIVE[:3],
              method=[("fast", V)], rtol=[(0.0, V)])),
    # fokker_planck
    Spec("fokker_planck.effective_rate", fokker_planck.effective_rate, dict(betas=BETAS),
         dict(betas=BAD_BETAS[:5] + [(1.0, V)])),
    Spec("fokker_planck.osmosis_time", fokker_planck.osmosis_time, dict(betas=BETAS, steps=[0, 3]),
         dict(betas=BAD_BETAS[:3], steps=[([1.5], T), ([-1], V), ([11], V), ("3", T), ([True], T)])),
    Spec("fokker_planck.grid", fokker_planck.grid, dict(n=10, half_width=8.0),
         dict(n=COUNT, half_width=POSITIVE)),
    Spec("fokker_planck.fokker_planck_operator", fokker_planck.fokker_planck_operator,
         dict(x=X_GRID, h=H_GRID, sign=-1),
         dict(x=array_family(X_GRID)[:5] + [(X_GRID[::-1], V), (np.zeros(1), V), (X_GRID ** 3, V)],
              h=POSITIVE[:4] + [(1.0, V)],
              sign=[(0, V), (2, V), ("-1", V), (True, V)])),
    Spec("fokker_planck.solve_fokker_planck", fokker_planck.solve_fokker_planck,
         dict(p0=P0, x=X_GRID, h=H_GRID, t_osm=[0.1, 0.2]),
         dict(p0=array_family(P0)[:4] + [(P0[:5], V)], x=array_family(X_GRID)[:3], h=POSITIVE[:3] + [(2 * H_GRID, V)],
              t_osm=array_family([0.1, 0.2])[:4] + [([0.2, 0.1], V), ([-0.1], V)],
              n_sub=COUNT[:5], method=[("explicit", V)], sign=[(0, V)])),
    Spec("fokker_planck.mixture_pdf", fokker_planck.mixture_pdf,
         dict(x=X_GRID, weights=(0.5, 0.5), means=(-1.0, 1.0), sds=(0.5, 1.0)),
         dict(x=array_family(X_GRID)[:4], weights=[((0.5,), V), ((-1.0, 2.0), V), ((np.nan, 1.0), V)],
              means=[((0.0,), V), ((np.inf, 0.0), V), (("a", "b"), T)], sds=[((0.0, 1.0), V), ((1.0,), V)])),
    Spec("fokker_planck.mixture_cdf", fokker_planck.mixture_cdf,
         dict(x=X_GRID, weights=(0.5, 0.5), means=(-1.0, 1.0), sds=(0.5, 1.0)),
         dict(x=array_family(X_GRID)[:3], weights=[((0.5,), V)], sds=[((-1.0, 1.0), V)])),
    Spec("fokker_planck.mixture_marginal", fokker_planck.mixture_marginal,
         dict(weights=(0.5, 0.5), means=(-1.0, 1.0), sds=(0.5, 1.0), alpha_bar=0.5),
         dict(weights=[((0.5,), V)], means=[((np.nan, 1.0), V)], sds=[((0.0, 1.0), V)],
              alpha_bar=[(np.nan, V), (1.5, V), (-0.1, V), ("0.5", T)])),
    # reverse
    Spec("reverse.ddpm_posterior_coefficients", reverse.ddpm_posterior_coefficients, dict(betas=BETAS, step=3),
         dict(betas=BAD_BETAS[:4], step=[(0, V), (11, V), (2.5, T), (np.nan, T)])),
    Spec("reverse.reverse_step", reverse.reverse_step,
         dict(u=np.zeros((2, 2)), centers=CENTERS, betas=BETAS, step=3, rng=rng()),
         dict(u=array_family(np.zeros((2, 2)), shape_bad=np.zeros((2, 3))), centers=BAD_CENTERS[:4],
              betas=BAD_BETAS[:3], step=[(0, V), (3.5, T)], rng=RNG[:2], bandwidth=[(-1.0, V), (np.nan, V)])),
    Spec("reverse.sample", reverse.sample, dict(centers=CENTERS, betas=BETAS, size=3, rng=rng()),
         dict(centers=BAD_CENTERS[:5], betas=BAD_BETAS[:4], size=COUNT[:5], rng=RNG[:3],
              bandwidth=[(-1.0, V), ("0", T)], record=[([5, 2], V), ([2.5], T), ([99], V)],
              known=[(KNOWN, V)], mask=[(MASK, V)])),
    Spec("reverse.inpaint", reverse.inpaint,
         dict(centers=CENTERS, betas=BETAS, known=KNOWN, mask=MASK, rng=rng()),
         dict(centers=BAD_CENTERS[:3], known=array_family(KNOWN)[:4] + [(np.zeros((1, 3)), V)],
              mask=[(np.array([1, 0]), T), (np.array([True, False, True]), V)], rng=RNG[:2])),
    Spec("reverse.conditional_mean", reverse.conditional_mean,
         dict(known=KNOWN, mask=MASK, centers=CENTERS, bandwidth=0.3),
         dict(known=array_family(KNOWN)[:4], mask=[(np.array([1, 0]), V), (np.array([False, False]), V)],
              centers=BAD_CENTERS[:3], bandwidth=[(0.0, V), (-0.3, V), (np.nan, V)])),
    Spec("reverse.conditional_sample", reverse.conditional_sample,
         dict(known=KNOWN, mask=MASK, centers=CENTERS, bandwidth=0.3, rng=rng()),
         dict(known=array_family(KNOWN)[:3], mask=[(np.array([True]), V)], bandwidth=[(0.0, V)], rng=RNG[:3])),
    # data
    Spec("data.to_unit_range", data.to_unit_range, dict(image=np.arange(6.0), max_value=255.0),
         dict(image=array_family(np.arange(6.0))[:6] + [(np.array([-1.0, 0.5]), V), (np.array([300.0]), V)],
              max_value=POSITIVE[:5] + [(4.0, V)])),
    Spec("data.block_mean", data.block_mean, dict(image=np.ones((4, 4)), factor=2),
         dict(image=array_family(np.ones((4, 4)))[:5] + [(np.ones(4), V)], factor=COUNT[:5] + [(5, V)])),
    Spec("data.cat", data.cat, dict(grey=True, factor=8), dict(grey=FLAG, factor=COUNT[:4])),
    Spec("data.digits", data.digits, dict(scale="unit"), dict(scale=[("percent", V), (None, V), (1, V)])),
    # permutations: a permutation only moves values, so NaN, bool and str images are moved, not refused
    Spec("permutations.GridPermutation", permutations.GridPermutation, dict(index=np.arange(6).reshape(2, 3)),
         dict(index=[(np.arange(6.0).reshape(2, 3), T), (np.zeros((2, 3), int), V), (np.arange(6), V),
                     (np.arange(1, 7).reshape(2, 3), V), (np.array([[True, False]]), T), (np.empty((0, 0), int), V),
                     ("abc", T), (None, T)],
              in_shape=[((3, 3), V), ((8.7, 2), T), ((0, 6), V), ("23", T), ((2, 3, 1), V)]),
         ok=(("a 2 x 3 grid onto a 3 x 2 grid", dict(index=np.arange(6).reshape(3, 2), in_shape=(2, 3)),
              lambda r: r.out_shape == (3, 2)),)),
    Spec("permutations.GridPermutation.identity", permutations.GridPermutation.identity, dict(shape=(2, 3)), dict(shape=BAD_GRID_SHAPE),
         ok=(("is the identity", dict(), lambda r: r.is_identity()),)),
    Spec("permutations.GridPermutation.random", permutations.GridPermutation.random, dict(shape=(2, 3), rng=rng()), dict(shape=BAD_GRID_SHAPE, rng=RNG)),
    Spec("permutations.GridPermutation.translation", permutations.GridPermutation.translation, dict(shape=(2, 3), shift=(1, 2)),
         dict(shape=BAD_GRID_SHAPE, shift=[((0.5, 0), T), ((1,), V), (1, V), ((True, 0), T), (("1", 0), T)]),
         ok=(("a full turn of the torus is the identity", dict(shift=(2, -3)), lambda r: r.is_identity()),)),
    Spec("permutations.GridPermutation.rotation90", permutations.GridPermutation.rotation90, dict(shape=(2, 3), k=1),
         dict(shape=BAD_GRID_SHAPE, k=[(0.5, T), (True, T), ("1", T), (None, T)]),
         ok=(("k = -1 is three quarter turns", dict(k=-1), lambda r: r.out_shape == (3, 2)),)),
    Spec("permutations.GridPermutation.flip", permutations.GridPermutation.flip, dict(shape=(2, 3), axis=0),
         dict(shape=BAD_GRID_SHAPE, axis=[(2, V), (-1, V), (True, V), ("0", V), (0.0, V)])),
    Spec("permutations.GridPermutation.is_identity", lambda **k: PERM.is_identity(**k), dict(), dict(),
         ok=(("a quarter turn is not the identity", dict(), lambda r: r is False),)),
    Spec("permutations.GridPermutation.apply", lambda **k: PERM.apply(**k), dict(image=U0),
         dict(image=[(np.ones((3, 2)), V), (np.ones(6), V), (np.float64(1.0), V), (np.ones((2, 3, 2, 2)), V),
                     ("abc", V)],
              batch_dims=[(2.5, T), (-1, V), (True, T), ("0", T), (None, T)]),
         ok=(("NaN is moved, not refused", dict(image=np.full((2, 3), np.nan)), lambda r: np.isnan(r).all()),
             ("a bool mask keeps its dtype", dict(image=U0 > 0), lambda r: r.dtype == bool and r.shape == (3, 2)),
             ("a batch of colour images", dict(image=np.ones((4, 2, 3, 3)), batch_dims=1),
              lambda r: r.shape == (4, 3, 2, 3)))),
    Spec("permutations.GridPermutation.apply_inverse", lambda **k: PERM.apply_inverse(**k), dict(image=np.rot90(U0)),
         dict(image=[(U0, V), (np.ones(6), V)], batch_dims=[(2.5, T), (-1, V)]),
         ok=(("undoes apply", dict(), lambda r: np.array_equal(r, U0)),)),
    Spec("permutations.GridPermutation.inverse", lambda **k: PERM.inverse(**k), dict(), dict(),
         ok=(("maps back to the 2 x 3 grid", dict(), lambda r: r.out_shape == (2, 3) and r.in_shape == (3, 2)),)),
    Spec("permutations.GridPermutation.compose", lambda **k: PERM.compose(**k), dict(q=permutations.GridPermutation.identity((2, 3))),
         dict(q=[(None, T), (np.arange(6).reshape(2, 3), T), (PERM, V)]),
         ok=(("with the identity", dict(), lambda r: np.array_equal(r.index, PERM.index)),)),
    # processes
    Spec("processes.DiagonalGaussianProcess", processes.DiagonalGaussianProcess,
         dict(log_scale=LOG_SCALE, variance=VARIANCE, shape=PR_SHAPE),
         dict(log_scale=array_family(LOG_SCALE, shape_bad=np.zeros((3, 4))) + [
                  (np.array([0.1, -0.1, -0.2]), V), (np.float64(0.0), V), (np.zeros((3, 3, 2)), V)],
              variance=array_family(VARIANCE, shape_bad=np.zeros((3, 2, 2))) + [
                  (np.array([0.0, -0.1, 0.2]), V), (np.array([0.1, 0.1, 0.2]), V), (np.zeros(2), V),
                  (np.float64(0.0), V)],
              shape=BAD_PR_SHAPE, basis=[("fourier", V), (None, V), (1, V)],
              limit=[(3, T), ("ab", V), ((np.nan, 1.0), V), ((np.inf, 1.0), V), ((0.0, -1.0), V),
                     ((0.0, np.ones(4)), V), ((0.0,), V), (("a", 1.0), T), ((0.0, np.nan), V)]),
         ok=(("one step", dict(log_scale=[0.0, 0.0], variance=[0.0, 1.0]), lambda r: r.n_steps == 1),
             ("a_i = 0 allowed", dict(log_scale=[0.0, -np.inf, -np.inf]), lambda r: r.n_steps == 2))),
    Spec("processes.DiagonalGaussianProcess.to_basis", lambda **k: P_IHD.to_basis(**k), dict(u=U0),
         dict(u=array_family(U0, shape_bad=np.ones((3, 2))) + [(np.float64(1.0), V)]),
         ok=(("batch axes kept", dict(u=np.ones((4, 2, 3))), lambda r: r.shape == (4, 2, 3)),)),
    Spec("processes.DiagonalGaussianProcess.from_basis", lambda **k: P_IHD.from_basis(**k), dict(c=U0),
         dict(c=array_family(U0, shape_bad=np.ones(6)) + [(np.float64(1.0), V)]),
         ok=(("inverse of to_basis", dict(c=P_IHD.to_basis(U0)), lambda r: np.allclose(r, U0)),)),
    Spec("processes.DiagonalGaussianProcess.marginal", lambda **k: P_VP.marginal(**k), dict(step=3),
         dict(step=STEP),
         ok=(("step 0 is the data", dict(step=0), lambda r: r[0] == 1.0 and r[1] == 0.0),)),
    Spec("processes.DiagonalGaussianProcess.transition", lambda **k: P_VP.transition(**k),
         dict(start=2, stop=5), dict(start=STEP[:5] + [(6, V)], stop=[(1, V), (11, V), (4.5, T), ("5", T)]),
         ok=(("start = stop", dict(start=3, stop=3), lambda r: r[0] == 1.0 and r[1] == 0.0),)),
    Spec("processes.DiagonalGaussianProcess.markov_check", lambda **k: P_VP.markov_check(**k), dict(), dict(),
         ok=(("VP is Markov", dict(), lambda r: r.is_markov),)),
    Spec("processes.DiagonalGaussianProcess.mean", lambda **k: P_IHD.mean(**k), dict(u0=U0, step=2),
         dict(u0=array_family(U0, shape_bad=np.ones((3, 2))) + [(np.float64(1.0), V)], step=STEP[:4]),
         ok=(("step 0 returns u0", dict(step=0), lambda r: np.allclose(r, U0)),)),
    Spec("processes.DiagonalGaussianProcess.sample", lambda **k: P_IHD.sample(**k),
         dict(u0=U0, step=2, rng=rng()),
         dict(u0=array_family(U0, shape_bad=np.ones((3, 2))), step=STEP[:4] + [("2", T), (None, T)], rng=RNG,
              start=[(3, V), (2.5, T), (-1, V), ("0", T), (np.nan, T)],
              noise=[(np.ones(3), V), (np.full_like(U0, np.nan), V), (U0 > 0, T), (U0 + 1j, T)]),
         ok=(("step = start returns u0", dict(step=0), lambda r: np.allclose(r, U0)),)),
    Spec("processes.DiagonalGaussianProcess.trajectory", lambda **k: P_VP.trajectory(**k),
         dict(u0=U0, steps=[2, 5], rng=rng()),
         dict(u0=array_family(U0)[:5], steps=[([5, 2], V), ([2.5], T), ([-1], V), ([11], V), ([], V), ("2", T)],
              rng=RNG)),
    Spec("processes.vp_process", processes.vp_process, dict(betas=BETAS, shape=PR_SHAPE),
         dict(betas=BAD_BETAS, shape=BAD_PR_SHAPE)),
    Spec("processes.ve_process", processes.ve_process, dict(shape=PR_SHAPE, n_steps=5),
         dict(shape=BAD_PR_SHAPE[:4], n_steps=COUNT + [(10**12, V)], sigma_min=POSITIVE + [(100.0, V)],
              sigma_max=POSITIVE[:5]),
         ok=(("one step has sigma_max", dict(n_steps=1), lambda r: r.variance[-1] == 2500.0),)),
    Spec("processes.ihd_process", processes.ihd_process, dict(shape=PR_SHAPE, n_steps=5),
         dict(shape=BAD_PR_SHAPE + [((10**6, 10**6), V)], n_steps=COUNT + [(10**12, V)],
              blur_min=POSITIVE[:5] + [(30.0, V)], blur_max=POSITIVE[:5], sigma=POSITIVE,
              times=array_family([0.5, 1.0], shape_bad=np.ones((2, 2))) + [(np.array([-1.0, 1.0]), V),
                                                                            (np.float64(1.0), V)],
              eigenvalues=[("exact", V), (None, V), (1, V)])),
    Spec("processes.bd_process", processes.bd_process, dict(shape=PR_SHAPE, n_steps=5),
         dict(shape=BAD_PR_SHAPE[:5] + [((10**6, 10**6), V)], n_steps=COUNT[:5] + [(10**12, V)],
              blur_max=POSITIVE[:5], d_min=[(1.0, V), (-0.1, V), (np.nan, V), ("0", T), (True, T)],
              logsnr_min=[(np.nan, V), (np.inf, V), (20.0, V), ("1", T)],
              logsnr_max=[(np.nan, V), (-20.0, V), (None, T)], eigenvalues=[("exact", V), (None, V)]),
         ok=(("d_min = 0 allowed", dict(d_min=0.0), lambda r: r.n_steps == 5),)),
    Spec("processes.laplacian_eigenvalues", processes.laplacian_eigenvalues, dict(shape=PR_SHAPE),
         dict(shape=BAD_PR_SHAPE + [((10**6, 10**6), V)], kind=[("exact", V), (None, V), (1, V)], h=POSITIVE),
         ok=(("an int is a 1-D grid", dict(shape=4), lambda r: r.shape == (4,) and r[0] == 0.0),)),
    Spec("processes.mean_operator", processes.mean_operator, dict(process=P_IHD, step=2),
         dict(process=BAD_PROCESS + [(P_BIG, V)], step=STEP),
         ok=(("rows of a heat kernel sum to 1", dict(), lambda r: np.allclose(r.sum(axis=1), 1.0)),)),
    Spec("processes.fokker_planck_coefficients", processes.fokker_planck_coefficients, dict(process=P_VP),
         dict(process=BAD_PROCESS),
         ok=(("VP: g = -ln(1 - beta)", dict(), lambda r: np.allclose(r[1], -np.log1p(-0.02))),)),
    Spec("processes.gaussian_information", processes.gaussian_information,
         dict(process=P_IHD, data_variance=1.0),
         dict(process=BAD_PROCESS,
              data_variance=[(np.nan, V), (-1.0, V), (np.inf, V), ("1", T), (True, T), (1j, T), (np.ones(4), V),
                             (np.ones((3, 2)), V), (np.array([]), V), (None, T)],
              steps=[([2, 1], V), ([1.5], T), ([4], V), ("1", T), ([], V)],
              data_mean=[(np.nan, V), (np.ones(5), V), ("0", T), (True, T)]),
         ok=(("step 0 is the data", dict(steps=[0]),
              lambda r: np.isclose(r.entropy[0], 3 * np.log(2 * np.pi * np.e))),)),
    Spec("processes.mixture_information_mc", processes.mixture_information_mc,
         dict(process=P_VP, data=PR_DATA, steps=[3, 7], n_samples=50, rng=rng()),
         dict(process=BAD_PROCESS, data=array_family(PR_DATA, shape_bad=np.ones((3, 3, 2))) + [(U0, V)],
              steps=[([0], V), ([7, 3], V), ([2.5], T), ([11], V), ([], V)],
              n_samples=COUNT + [(1, V), (10**13, V)], rng=RNG)),
    # local_scores
    Spec("local_scores.patch_size_schedule", local_scores.patch_size_schedule, dict(betas=BETAS, largest=7),
         dict(betas=BAD_BETAS, largest=BAD_PATCH, smallest=BAD_PATCH[:6] + [(9, V)]),
         ok=(("one size", dict(largest=3), lambda r: np.all(r == 3) and r.shape == (10,)),)),
    Spec("local_scores.denoiser", local_scores.denoiser, dict(x=X_LS, train=TRAIN_LS, alpha_bar=0.5),
         dict(x=BAD_X_LS, train=BAD_TRAIN, alpha_bar=BAD_AB_SCALAR, machine=BAD_MACHINE, patch_size=BAD_PATCH,
              boundary=BAD_BOUNDARY, shape=BAD_LS_SHAPE),
         ok=(("exact machine is the mixture's posterior mean", dict(machine="exact"),
              lambda r: np.allclose(r, mixture.Mixture(TRAIN_LS.reshape(3, 16)).posterior_mean(X_LS, 0.5))),
             ("flat training images with their shape", dict(train=TRAIN_LS.reshape(3, 16), shape=(4, 4)),
              lambda r: r.shape == (2, 16)))),
    Spec("local_scores.score", local_scores.score, dict(x=X_LS, train=TRAIN_LS, alpha_bar=0.5),
         dict(x=BAD_X_LS[:6], train=BAD_TRAIN[:6], alpha_bar=BAD_AB_SCALAR, machine=BAD_MACHINE[:2],
              patch_size=BAD_PATCH[:6], boundary=BAD_BOUNDARY[:2], shape=BAD_LS_SHAPE[:3])),
    Spec("local_scores.sample", local_scores.sample, dict(train=TRAIN_LS, betas=BETAS, size=2, rng=rng()),
         dict(train=BAD_TRAIN, betas=BAD_BETAS, size=COUNT + [(10**12, V)], rng=RNG, machine=BAD_MACHINE,
              patch_size=BAD_PATCH + [([3] * 3, V), ([3] * 9 + [2], V), (["3"] * 10, T), ([3.0] * 9 + [2.5], T),
                                      ([3] * 9 + [np.nan], T), ([3] * 9 + [True], T)],
              boundary=BAD_BOUNDARY, shape=BAD_LS_SHAPE,
              record=[([5, 2], V), ([2.5], T), ([99], V), ([], V), ("0", T)]),
         ok=(("records the start and the end", dict(record=[0, 10]), lambda r: r["states"].shape == (2, 2, 16)),
             ("a patch size per step", dict(patch_size=[3] * 5 + [5] * 5), lambda r: r["states"].shape == (1, 2, 16)))),
    Spec("local_scores.patch_match", local_scores.patch_match, dict(x=X_LS, train=TRAIN_LS, patch_size=3),
         dict(x=BAD_X_LS, train=BAD_TRAIN, patch_size=BAD_PATCH,
              machine=[("exact", V), ("es", V)] + BAD_MACHINE, boundary=BAD_BOUNDARY, shape=BAD_LS_SHAPE),
         ok=(("a training image matches itself", dict(x=TRAIN_LS[1:2]),
              lambda r: float(r["distance"].max()) == 0.0 and int(r["image"].min()) == 1),)),
]


@dataclass(frozen=True)
class Case:
    id: str
    func: Callable
    kwargs: dict
    name: str | None  # the argument the message must name (None: an edge case with a result)
    error: type | None
    check: Any = None


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        head = flat[0] if flat.size else "empty"
        return f"{value.dtype}{list(value.shape)}:{head}"
    return repr(value)[:20]


def build_cases() -> list[Case]:
    cases = []
    for spec in SPECS:
        for arg, bads in spec.bad.items():
            for value, error in bads:
                kwargs = {**spec.good, arg: value}
                cases.append(Case(f"{spec.label}({arg}={_describe(value)})", spec.func, kwargs, arg, error))
        for description, override, check in spec.ok:
            kwargs = {**spec.good, **override}
            if check is None:  # an edge case whose correct answer is a clear refusal
                cases.append(Case(f"{spec.label}: {description}", spec.func, kwargs, "alpha_bar", ValueError))
            else:
                cases.append(Case(f"{spec.label}: {description}", spec.func, kwargs, None, None, check))
    return cases


CASES = build_cases()


def _fresh(kwargs: dict) -> dict:
    """A fresh Generator for every call, so cases do not depend on their order."""
    return {k: (rng() if isinstance(v, np.random.Generator) else v) for k, v in kwargs.items()}


def _names(message: str, name: str) -> bool:
    """The message names the argument (as a word: ``n`` does not match inside ``n_steps``)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message) is not None


def outcome(case: Case) -> tuple[str, str]:
    """("clear error" | "correct result" | "anything else", detail) of running one case."""
    try:
        result = case.func(**_fresh(case.kwargs))
    except Exception as exc:  # noqa: BLE001 - the battery classifies every outcome
        if case.error is None:
            return "anything else", f"raised {type(exc).__name__}: {exc}"
        if not isinstance(exc, case.error):
            return "anything else", f"raised {type(exc).__name__} instead of {case.error.__name__}: {exc}"
        if not _names(str(exc), case.name):
            return "anything else", f"message does not name {case.name!r}: {exc}"
        return "clear error", str(exc)
    if case.error is not None:
        return "anything else", f"returned {_describe(result) if isinstance(result, np.ndarray) else repr(result)[:60]}"
    return ("correct result", "") if case.check(result) else ("anything else", "wrong result")


def public_callables() -> list[str]:
    """Every public function, class and method of the core modules, as "module.name"."""
    found = []
    for module_name in lib.core.__all__:
        module = importlib.import_module(f"lib.core.{module_name}")
        for name in module.__all__:
            obj = getattr(module, name)
            label = f"{module_name}.{name}"
            if label in RESULT_RECORDS:
                continue
            found.append(label)
            if inspect.isclass(obj):
                found += [f"{label}.{m}" for m, f in vars(obj).items()
                          if not m.startswith("_") and inspect.isfunction(f)]
    return found


# --- the tests ---------------------------------------------------------------------------------


def test_every_public_function_has_cases():
    covered = {spec.label for spec in SPECS}
    missing = sorted(set(public_callables()) - covered)
    assert not missing, f"add bad-input cases for {missing}"


def test_battery_is_large_enough():
    assert len(CASES) >= 250


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case):
    kind, detail = outcome(case)
    assert kind in ("clear error", "correct result"), detail
    if case.error is not None:
        assert kind == "clear error"
