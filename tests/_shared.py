"""Helpers that several test files use, held once: constants, hypothesis settings and strategies,
and small independent references (quadrature, closed forms) that tests compare lib against.

Importable as ``from _shared import ...`` because pyproject.toml puts tests/ on pytest's
``pythonpath``. The hypothesis profile (no example database, no deadline) and the Agg/figure
fixtures live in tests/conftest.py; conftest loads that profile before any test module (and so
this one) is imported, so the settings below inherit it and only set the number of examples.
A helper that one file alone uses stays in that file.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate
from scipy import stats as sst

from lib.core import stats as lst
from lib.core.permutations import GridPermutation as GP

# ---------------------------------------------------------------------------------------------
# Constants and hypothesis settings
# ---------------------------------------------------------------------------------------------

EPS = np.finfo(np.float64).eps

Z_MAX = 5.0  # 5 standard errors: two-sided false-alarm probability 5.7e-7 per assertion

HYP = settings(max_examples=30)
HYP40 = settings(max_examples=40)

LOG_2PIE = math.log(2 * math.pi * math.e)

# Four 2-D centres of the small reference mixture of the reverse-process tests.
CENTERS = np.array([[-1.0, 0.5], [0.8, 0.9], [0.2, -1.0], [1.0, -0.4]])

# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

seeds = st.integers(0, 2**32 - 1)

grid_shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))

channels = st.sampled_from([None, 1, 3])


def betas_st(max_size: int = 40, lo: float = 1e-6, hi: float = 0.5, min_size: int = 1):
    """Schedules of min_size..max_size steps with β in [lo, hi]; with the defaults (hi = 0.5,
    T ≤ 40) ᾱ_T ≥ 2^-40 (no underflow)."""
    return hnp.arrays(np.float64, st.integers(min_size, max_size), elements=st.floats(lo, hi))


@st.composite
def gaussian_st(draw, max_n: int = 6):
    """A mean vector and an SPD covariance of moderate condition (n ≤ max_n)."""
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    cov = a @ a.T / n + draw(st.floats(0.05, 2.0)) * np.eye(n)
    mean = rng.standard_normal(n) * draw(st.floats(0.0, 3.0))
    return mean, cov


@st.composite
def perm_st(draw, shape):
    """A permutation of the given grid: shuffle, translation, rotation, flip or a composition
    (a shuffle after a quarter turn, between two grids if the grid is not square)."""
    kind = draw(st.sampled_from(["shuffle", "translation", "rotation", "flip", "composed"]))
    if kind == "shuffle":
        return GP.random(shape, np.random.default_rng(draw(seeds)))
    if kind == "translation":
        return GP.translation(shape, (draw(st.integers(-9, 9)), draw(st.integers(-9, 9))))
    if kind == "rotation":
        return GP.rotation90(shape, draw(st.integers(-5, 5)))
    if kind == "flip":
        return GP.flip(shape, draw(st.sampled_from([0, 1])))
    q = GP.rotation90(shape, draw(st.integers(0, 3)))
    return GP.random(q.out_shape, np.random.default_rng(draw(seeds))).compose(q)


def image_for(shape, c, rng, dtype=np.float64):
    """A uniform(−1, 1) image of the grid ``shape`` with ``c`` channels (None: no channel axis)."""
    full = shape if c is None else shape + (c,)
    return rng.uniform(-1, 1, size=full).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def assert_standard_normal(z):
    report = lst.normality_report(z)
    # Mean, variance, skewness, excess kurtosis within Z_MAX standard errors of N(0, 1)
    # (SEs 1/√n, √(2/(n−1)), √(6/n), √(24/n) for n values).
    for name, zs in report.z_scores.items():
        assert abs(zs) < Z_MAX, (name, zs)
    # KS and moment tests combined (Bonferroni): p > 1e-3 is a 1e-3 false-alarm rate.
    assert report.pvalue > 1e-3


def scipy_entropy(cov) -> float:
    return float(sst.multivariate_normal(cov=cov).entropy())


def mixture_pdf_1d(centers, a):
    """The density of the 1-D mixture (1/N) Σ N(√a c_k, 1 − a), its centres √a c_k and its sd."""
    c = np.sqrt(a) * np.asarray(centers, dtype=float).ravel()
    sd = np.sqrt(1 - a)
    return lambda x: float(np.mean(sst.norm.pdf(x, c, sd))), c, sd


def entropy_1d_quadrature(centers, a) -> float:
    """−∫ p ln p for the 1-D mixture (1/N) Σ N(√a c_k, 1 − a) (quad, error ~1e-10)."""
    pdf, c, sd = mixture_pdf_1d(centers, a)

    def integrand(x):
        p = pdf(x)
        return -p * np.log(p) if p > 0 else 0.0

    value, _ = integrate.quad(integrand, c.min() - 14 * sd, c.max() + 14 * sd, limit=400,
                              points=list(c), epsabs=1e-12, epsrel=1e-12)
    return value


def assert_verdicts_point_at_sections(nb, verdicts):
    """Assert that the notebook ``nb`` (a chapters/conftest ``Notebook``) has a section label for
    every verdict, renders ``verdict_table(chapter.VERDICTS)`` with its input removed, and has a
    labelled display equation for every {eq} a verdict cites."""
    for x in verdicts:
        assert f"({x.section})=" in nb.text, x.section
    assert nb.shows_verdicts("chapter.VERDICTS")
    assert nb.equation_labels() >= {label for x in verdicts for label in nb.eq_refs(x.detail + x.paper)}
