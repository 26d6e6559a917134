"""Tests of :mod:`lib.core.osmosis` (moved from test_osmosis.py; every assertion and tolerance kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from lib.core import _osmosis_solvers
from lib.core import osmosis as osm

from _shared import EPS, HYP, seeds


taus = st.floats(-3, 5).map(lambda e: 10.0**e)  # τ from 1e-3 to 1e5, log-uniform


spacings = st.sampled_from([0.05, 0.5, 1.0, 2.0])


@st.composite
def grid_st(draw, max_side: int = 6):
    """Shape of a small 1-D or 2-D grid with at least two cells."""
    if draw(st.booleans()):
        return (draw(st.integers(2, 3 * max_side)),)
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    return shape if shape[0] * shape[1] >= 2 else (2, shape[1])


@st.composite
def positive_st(draw, shape=None, spread: float | None = None):
    """A strictly positive image: exp of Gaussian noise, spread up to e^±3σ."""
    shape = draw(grid_st()) if shape is None else shape
    sigma = draw(st.floats(0.0, 1.5)) if spread is None else spread
    rng = np.random.default_rng(draw(seeds))
    return np.exp(sigma * rng.standard_normal(shape)) * draw(st.floats(0.1, 100.0))


@st.composite
def problem_st(draw):
    shape = draw(grid_st())
    return draw(positive_st(shape)), draw(positive_st(shape))


def flux_reference(u, d, h):
    """(A u) computed cell by cell from the flux formula (independent of osmosis_matrix)."""
    out = np.zeros_like(u)
    if u.ndim == 1:
        for i in range(u.size - 1):
            flux = (u[i + 1] - u[i]) / h - d[i] * (u[i + 1] + u[i]) / 2
            out[i] += flux / h
            out[i + 1] -= flux / h
        return out
    d_y, d_x = d
    for i in range(u.shape[0]):
        for j in range(u.shape[1]):
            if i + 1 < u.shape[0]:
                flux = (u[i + 1, j] - u[i, j]) / h - d_y[i, j] * (u[i + 1, j] + u[i, j]) / 2
                out[i, j] += flux / h
                out[i + 1, j] -= flux / h
            if j + 1 < u.shape[1]:
                flux = (u[i, j + 1] - u[i, j]) / h - d_x[i, j] * (u[i, j + 1] + u[i, j]) / 2
                out[i, j] += flux / h
                out[i, j + 1] -= flux / h
    return out


def residual_scale(A, w):
    """Per-row round-off scale of (A w): Σ_faces max(|a|, |b|) (w_p + w_q).

    The entries (1/h ∓ d/2)/h of a face are computed with an absolute error of a few
    eps·(1/h + |d|/2)/h; when |d| h → 2 (neighbouring guidance values differing by orders of
    magnitude) this is large relative to the smaller entry, so the bound uses the larger entry
    of each face, not |A| itself.
    """
    M = abs(sp.csr_array(A)).tolil()
    M.setdiag(0)
    M = sp.csr_array(M)
    M = M.maximum(M.T)
    w = np.abs(np.asarray(w, dtype=float).ravel())
    return M @ w + w * np.asarray(M.sum(axis=1)).ravel()


def reflect_padded_operator(v, h=1.0):
    """A WRONG 1-D operator: ghost cells from np.pad(mode="reflect"), i.e. u_{-1} := u_1.

    The boundary flux is computed from the ghost value instead of being set to zero. The
    canonical drift of the padded v still annihilates v, so A v = 0 holds, but mass leaks.
    """
    n = v.size
    vp = np.pad(v, 1, mode="reflect")
    d = 2 * (vp[1:] - vp[:-1]) / (h * (vp[1:] + vp[:-1]))  # faces -1/2, ..., n-1/2
    rows, cols, vals = [], [], []
    ghost = {-1: 1, n: n - 2}  # reflect: u_{-1} = u_1, u_n = u_{n-2}
    for f in range(n + 1):  # face between padded cells f-1 and f (original indices)
        p, q = f - 1, f
        a, b = (1 / h - d[f] / 2) / h, -(1 / h + d[f] / 2) / h  # F/h = a u_q + b u_p
        pp, qq = ghost.get(p, p), ghost.get(q, q)
        if 0 <= p < n:  # row p gains +F/h
            rows += [p, p]
            cols += [qq, pp]
            vals += [a, b]
        if 0 <= q < n:  # row q loses F/h
            rows += [q, q]
            cols += [qq, pp]
            vals += [-a, -b]
    return sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(n, n)))


@HYP
@given(v=positive_st(), u=st.integers(0, 2**32 - 1), h=spacings)
def test_matrix_is_the_flux_formula(v, u, h):
    d = osm.canonical_drift(v, h)
    A = osm.osmosis_matrix(d, h)
    u = np.random.default_rng(u).uniform(0.1, 10, v.shape)
    ref = flux_reference(u, d, h)
    scale = residual_scale(A, u)  # round-off bound of each row (see residual_scale)
    np.testing.assert_array_less(np.abs(A @ u.ravel() - ref.ravel()), 16 * EPS * scale + 1e-300)


@HYP
@given(v=positive_st(), h=spacings)
def test_column_sums_vanish_and_offdiagonals_are_positive(v, h):
    A = osm.osmosis_matrix(osm.canonical_drift(v, h), h)
    # Mass conservation, tested directly on the matrix (round-off bound 16 eps).
    assert osm.column_sum_error(A) <= 16 * EPS
    dense = A.toarray()
    off = dense - np.diag(np.diag(dense))
    neighbours = off != 0
    # Exactly the 2·(number of faces) neighbour entries are non-zero, and all are positive.
    n_faces = v.size - 1 if v.ndim == 1 else (v.shape[0] - 1) * v.shape[1] + v.shape[0] * (v.shape[1] - 1)
    assert neighbours.sum() == 2 * n_faces
    assert np.all(off[neighbours] > 0)
    assert np.all(np.diag(dense) < 0)


@HYP
@given(v=positive_st(), h=spacings, c=st.floats(1e-3, 1e3))
def test_canonical_drift_annihilates_v_and_ignores_scale(v, h, c):
    A = osm.osmosis_matrix(osm.canonical_drift(v, h), h)
    residual = np.abs(A @ v.ravel())
    assert np.all(residual <= 16 * EPS * residual_scale(A, v))
    # d is invariant to v -> c v (up to the rounding of c v: a few eps relative per face).
    d1, d2 = osm.canonical_drift(v, h), osm.canonical_drift(c * v, h)
    for a, b in zip(np.atleast_1d(d1) if v.ndim == 1 else d1, np.atleast_1d(d2) if v.ndim == 1 else d2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 / h)


def test_reflect_padding_is_caught_by_the_column_sums_only():
    v = np.exp(np.random.default_rng(0).standard_normal(12))
    wrong = reflect_padded_operator(v)
    right = osm.osmosis_matrix(osm.canonical_drift(v))
    # The steady-state residual cannot tell them apart ...
    for A in (wrong, right):
        assert np.abs(A @ v).max() <= 16 * EPS * (np.abs(A) @ v).max()
    # ... the column sums can: the wrong variant does not conserve mass.
    assert osm.column_sum_error(right) <= 16 * EPS
    assert osm.column_sum_error(wrong) > 1e-3
    u = np.ones(12)
    assert abs((wrong @ u).sum()) > 1e-3


@HYP
@given(n=st.integers(2, 30), h=spacings, seed=seeds)
def test_any_1d_drift_has_the_guidance_of_guidance_from_drift(n, h, seed):
    # A general (not canonical) 1-D drift with |d| h < 2 is accepted, and its steady state is
    # known: every 1-D drift is the canonical drift of guidance_from_drift(d).
    d = np.random.default_rng(seed).uniform(-1.9, 1.9, n - 1) / h
    A = osm.osmosis_matrix(d, h)
    g = osm.guidance_from_drift(d, h)
    assert osm.column_sum_error(A) <= 16 * EPS
    assert np.all(np.abs(A @ g) <= 64 * EPS * residual_scale(A, g))
    np.testing.assert_allclose(osm.canonical_drift(g, h), d, rtol=1e-9, atol=1e-9 / h)


def test_density_grid_with_spacing_h():
    # The Fokker-Planck use: a density on x in [-6, 6] with drift d = -x on the n - 1 inner
    # faces. The discrete steady state approximates the standard normal density to O(h^2).
    errors = []
    for n in (60, 120):
        h = 12.0 / n
        faces = -6.0 + h * np.arange(1, n)
        g = osm.guidance_from_drift(-faces, h)
        x = -6.0 + h * (np.arange(n) + 0.5)
        p = g / (g.sum() * h)
        errors.append(np.abs(p - np.exp(-x**2 / 2) / np.sqrt(2 * np.pi)).max())
        A = osm.osmosis_matrix(-faces, h)
        u = osm.evolve(np.full(n, 1 / 12), A, [1.0, 50.0], 1.0, method="splu")
        np.testing.assert_allclose(u.sum(axis=1) * h, 1.0, rtol=1e-12)  # mass ∫u dx = 1
        np.testing.assert_allclose(u[-1], p, atol=1e-9)  # t = 50 ≫ relaxation time 1
    # second order in h: halving h divides the error by 4 (within 10 %)
    assert 3.6 < errors[0] / errors[1] < 4.4


def test_general_2d_drift_keeps_the_m_matrix_property():
    rng = np.random.default_rng(3)
    d = (rng.uniform(-1.9, 1.9, (4, 5)), rng.uniform(-1.9, 1.9, (5, 4)))
    A = osm.osmosis_matrix(d)
    assert osm.column_sum_error(A) <= 16 * EPS
    P = np.linalg.inv(np.eye(25) - 3.0 * A.toarray())
    assert P.min() > 0
    np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=1e-12)


@HYP
@given(fv=problem_st(), tau=taus)
def test_implicit_step_is_positive_and_mass_preserving_for_every_tau(fv, tau):
    f, v = fv
    A = osm.osmosis_matrix(osm.canonical_drift(v))
    n = f.size
    P = np.linalg.inv(np.eye(n) - tau * A.toarray())
    # (I − τA)⁻¹ is entrywise positive (nonsingular M-matrix, irreducible) with unit column sums.
    assert P.min() > 0
    np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=1e-9)
    # The direct solver (backward stable) inherits both properties up to round-off. Iterative
    # solvers (BiCGSTAB, Lanczos) only approximate the positive solution to their tolerance;
    # they are compared with splu in test_all_implicit_solvers_agree.
    u = osm.osmosis(f, v, [tau, 3 * tau], tau, method="splu")
    assert u.min() > 0
    np.testing.assert_allclose(u.reshape(2, -1).sum(axis=1), f.sum(), rtol=1e-9)


@HYP
@given(fv=problem_st(), tau=taus)
def test_lyapunov_functional_increases_to_zero(fv, tau):
    f, v = fv
    w = osm.steady_state(f, v)
    times = tau * np.arange(0, 9)
    u = osm.osmosis(f, v, times, tau, method="splu")
    L = osm.lyapunov(u, w)
    # Round-off: each LU solve is backward stable, so it perturbs u by ~eps·κ₁ relative, with
    # κ₁(I − τA) = ‖I − τA‖₁ ‖(I − τA)⁻¹‖₁ = (1 + 2τ max|a_ii|) · 1 (unit column sums of the
    # positive inverse); L changes by about Σ|δu|·(1 + |ln(u/w)|).
    kappa = 1 + 2 * tau * np.abs(osm.osmosis_matrix(osm.canonical_drift(v)).diagonal()).max()
    log_ratio = np.abs(np.log(u / w)).max()
    tol = 64 * EPS * kappa * f.sum() * (1 + log_ratio)
    # Eq. (28) as printed: L = −∫ u ln(u/w) is non-decreasing ...
    assert np.all(np.diff(L) >= -tol)
    # ... and non-positive (Gibbs: u and w have the same mass), with L(w) = 0.
    assert np.all(L <= tol)
    assert abs(osm.lyapunov(w, w)) == 0.0
    # The relative entropy ∫ u ln(u/w) = −L is what decreases; a check with the opposite sign
    # convention would fail whenever anything happens:
    if L[-1] - L[0] > 1e3 * tol:
        assert not np.all(np.diff(-L) >= -tol)


def test_lyapunov_explicit_and_closed_form():
    u = np.array([1.0, 2.0, 3.0])
    w = np.array([2.0, 2.0, 2.0])
    expected = -(1 * np.log(0.5) + 0 + 3 * np.log(1.5))
    assert osm.lyapunov(u, w) == pytest.approx(expected, rel=1e-15)
    assert osm.lyapunov(u, w, h=0.5) == pytest.approx(0.5 * expected, rel=1e-15)
    img = np.ones((2, 2, 3))
    assert osm.lyapunov(2 * img, img, h=0.5) == pytest.approx(-0.25 * 12 * 2 * np.log(2))
    stack = osm.lyapunov(np.stack([u, w]), w)
    np.testing.assert_allclose(stack, [expected, 0.0])


@HYP
@given(fv=problem_st(), h=spacings)
def test_steady_state_closed_form(fv, h):
    f, v = fv
    w = osm.steady_state(f, v)
    A = osm.osmosis_matrix(osm.canonical_drift(v, h), h)
    assert w.sum() == pytest.approx(f.sum(), rel=1e-12)
    assert np.all(np.abs(A @ w.ravel()) <= 16 * EPS * residual_scale(A, w))


def test_colour_is_channel_by_channel():
    rng = np.random.default_rng(1)
    f = rng.uniform(1, 2, (5, 6, 3))
    v = rng.uniform(1, 3, (5, 6, 3))
    u = osm.osmosis(f, v, [1.0, 5.0], 1.0, method="splu")
    for c in range(3):
        np.testing.assert_array_equal(u[..., c], osm.osmosis(f[..., c], v[..., c], [1.0, 5.0], 1.0, method="splu"))
    w = osm.steady_state(f, v)
    np.testing.assert_allclose(w.mean(axis=(0, 1)), f.mean(axis=(0, 1)), rtol=1e-13)


def test_explicit_and_implicit_agree_for_small_steps():
    n = 20
    x = (np.arange(n) + 0.5) / n
    v = 2 + np.sin(2 * np.pi * x)
    A = osm.osmosis_matrix(osm.canonical_drift(v))
    f = 1 + x
    ex = osm.evolve(f, A, [2.0], 0.01, method="explicit")
    im = osm.evolve(f, A, [2.0], 0.01, method="splu")
    ref = spla.expm_multiply(2.0 * A, f)
    # both are first order: errors ≈ C τ with opposite signs of the leading term
    assert np.abs(ex[0] - ref).max() < 0.02 * np.abs(f).max()
    assert np.abs(im[0] - ref).max() < 0.02 * np.abs(f).max()


def test_tau_none_is_one_step_per_interval():
    rng = np.random.default_rng(9)
    f, v = rng.uniform(1, 2, (5, 5)), rng.uniform(1, 2, (5, 5))
    a = osm.osmosis(f, v, [0.0, 1.0, 3.0, 7.0], method="splu")
    np.testing.assert_array_equal(a[0], f)
    b1 = osm.osmosis(f, v, [1.0], 1.0, method="splu")[0]
    b2 = osm.osmosis(b1, v, [2.0], 2.0, method="splu")[0]
    b3 = osm.osmosis(b2, v, [4.0], 4.0, method="splu")[0]
    np.testing.assert_allclose(a[1:], [b1, b2, b3], rtol=1e-13)


def test_homogeneous_diffusion_tends_to_the_mean():
    f = np.random.default_rng(10).uniform(1, 2, (6, 8))
    u = osm.homogeneous_diffusion(f, [1e4], 100.0, method="splu")[0]
    np.testing.assert_allclose(u, f.mean(), rtol=1e-12)
    A0 = osm.osmosis_matrix(osm.zero_drift(f.shape))
    np.testing.assert_allclose(A0.toarray(), osm.osmosis_matrix(osm.canonical_drift(np.full(f.shape, 3.0))).toarray())


def test_krylov_limits(monkeypatch):
    rng = np.random.default_rng(12)
    f = rng.uniform(1, 2, (10, 10))
    v = rng.uniform(0.5, 3, (10, 10))
    A = osm.osmosis_matrix(osm.canonical_drift(v))
    with pytest.raises(ValueError, match="krylov"):
        osm.evolve(f, A, [1.0], 1.0, method="krylov")  # no weight
    with pytest.raises(ValueError, match="krylov"):
        osm.evolve(f, A, [1.0], 1.0, method="krylov", weight=np.ones(100))  # wrong weight
    monkeypatch.setattr(_osmosis_solvers, "_KRYLOV_MAX_ITER", 15)
    with pytest.raises(RuntimeError, match="Lanczos did not converge"):
        osm.evolve(f, A, [500.0], 1.0, method="krylov", weight=v)
    # auto falls back to splu and still gives the right answer
    u, info = osm.evolve(f, A, [500.0], 1.0, weight=v, return_info=True)
    assert info.methods == ("splu",)


@HYP
@given(fv=problem_st())
def test_relative_entropy_is_minus_lyapunov_at_equal_mass_and_never_negative(fv):
    f, v = fv
    w = osm.steady_state(f, v)
    # equal mass (w has the mass of f): the two agree up to the round-off of the sums
    scale = np.abs(f * np.log(f / w)).sum() + f.sum()
    assert abs(osm.relative_entropy(f, w) + osm.lyapunov(f, w)) <= 64 * EPS * scale
    # unequal mass: −L = Σ u ln(u/w) can be negative, the termwise form cannot
    assert osm.relative_entropy(0.5 * f, w) >= 0
    assert -osm.lyapunov(0.5 * w, w) < 0 < osm.relative_entropy(0.5 * w, w)
    assert osm.relative_entropy(w, w) == 0.0


def test_explicit_scheme_within_and_beyond_its_bound():
    rng = np.random.default_rng(4)
    f = rng.uniform(1, 2, (6, 7))
    v = 3.5 + rng.standard_normal(f.shape)  # a positive noise guidance
    assert v.min() > 0
    A = osm.osmosis_matrix(osm.canonical_drift(v))
    bound = _osmosis_solvers.explicit_step_bound(A)
    assert bound == pytest.approx(1 / np.abs(A.diagonal()).max())
    # homogeneous diffusion in 2-D with h = 1: the classical bound 1/4
    assert _osmosis_solvers.explicit_step_bound(osm.osmosis_matrix(osm.zero_drift((5, 5)))) == pytest.approx(0.25)
    u = osm.evolve(f, A, bound * np.arange(1, 30), bound, method="explicit")
    assert u.min() > 0
    np.testing.assert_allclose(u.reshape(29, -1).sum(axis=1), f.sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="stability bound"):
        osm.evolve(f, A, [1.01 * bound], 1.01 * bound, method="explicit")
    # The bound is sharp: just beyond it a point mass at the stiffest cell turns negative.
    k = int(np.argmax(np.abs(A.diagonal())))
    delta = np.zeros(f.size)
    delta[k] = 1.0
    assert (delta + 1.01 * bound * (A @ delta)).min() < 0


def test_converges_to_the_steady_state():
    rng = np.random.default_rng(5)
    f = rng.uniform(1, 2, (8, 9))
    v = 4.0 + rng.standard_normal(f.shape)  # positive noise guidance
    assert v.min() > 0
    w = osm.steady_state(f, v)
    times = [10.0, 100.0, 1000.0, 1e4]
    u = osm.osmosis(f, v, times, tau=10.0, method="splu")
    err = np.abs(u - w).reshape(4, -1).max(axis=1)
    # the slowest mode of an 8 × 9 grid decays like exp(−λt), λ ≈ (π/9)² ≈ 0.1: by t = 1000 the
    # difference is round-off, which accumulates over the 1000 steps of condition number
    # κ₁ = 1 + 2τ max|a_ii| each (see the Lyapunov test)
    assert err[0] > err[1] > err[2]
    kappa = 1 + 2 * 10.0 * np.abs(osm.osmosis_matrix(osm.canonical_drift(v)).diagonal()).max()
    assert err[-1] <= 1000 * kappa * EPS * f.max()


@pytest.mark.parametrize("tau", [0.5, 1.0, 20.0])
def test_all_implicit_solvers_agree(tau):
    rng = np.random.default_rng(7)
    f = rng.uniform(1, 256, (12, 15))
    v = 5.0 + rng.standard_normal(f.shape)  # positive noise guidance
    assert v.min() > 0
    times = tau * np.array([1, 2, 5, 10, 20])
    ref = osm.osmosis(f, v, times, tau, method="splu")
    scale = np.linalg.norm(f)
    for method in ("bicgstab", "bicgstab-cold", "krylov", "auto"):
        u, (info,) = osm.osmosis(f, v, times, tau, method=method, rtol=1e-10, return_info=True)
        # Each of the 20 implicit steps is solved to a relative residual of 1e-10, i.e. an error
        # of at most 1e-10 ‖u^k‖ ‖(I − τA)⁻¹‖₂ in the step. (I − τA)⁻¹ = V^½ (I + τB)⁻¹ V^-½ with
        # B symmetric positive semi-definite, so ‖(I − τA)^-k‖₂ ≤ √(max v / min v) =: c for
        # every k: ‖u^k‖ ≤ c ‖f‖, each step's error is ≤ 1e-10 c ‖u^k‖, and propagating it
        # costs another factor c. 20 steps add up to at most 20 · 1e-10 · c³ · ‖f‖ (Lanczos:
        # its stopping rule bounds the same quantity).
        c3 = (v.max() / v.min()) ** 1.5
        assert np.abs(u - ref).max() <= 20 * 1e-10 * c3 * scale, method
        assert info.residual <= 1e-10 or method == "splu"


def test_krylov_with_variable_steps_and_auto_split():
    rng = np.random.default_rng(8)
    f = rng.uniform(1, 256, (20, 24))
    v = 5.0 + rng.standard_normal(f.shape)  # positive noise guidance
    assert v.min() > 0
    times = np.concatenate([np.arange(1, 21), np.arange(30, 201, 10), [1200.0, 2200.0]])
    tau = np.concatenate([np.ones(20), np.full(18, 10.0), [1000.0, 1000.0]])
    ref = osm.osmosis(f, v, times, tau, method="splu")
    u, (info,) = osm.osmosis(f, v, times, tau, return_info=True)
    assert info.methods[0] == "krylov" and info.methods[-1] == "splu"
    assert info.steps == (20, 18, 2)
    np.testing.assert_allclose(u, ref, rtol=0, atol=1e-9 * np.linalg.norm(f))
    k, (kinfo,) = osm.osmosis(f, v, times, tau, method="krylov", return_info=True)
    np.testing.assert_allclose(k, ref, rtol=0, atol=1e-9 * np.linalg.norm(f))
    assert kinfo.methods == ("krylov",) * 3


def test_bicgstab_non_convergence_raises():
    rng = np.random.default_rng(11)
    f = rng.uniform(1, 2, (10, 10))
    v = rng.uniform(0.5, 3, (10, 10))
    A = osm.osmosis_matrix(osm.canonical_drift(v))
    with pytest.raises(RuntimeError, match="BiCGSTAB did not converge"):
        osm.evolve(f, A, [100.0], 100.0, method="bicgstab-cold", rtol=1e-14, maxiter=2)
