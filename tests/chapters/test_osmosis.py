"""lib.chapters.osmosis: the osmosis chapter's measures, guidance, schedule, convergence
studies, verdicts, figures, player and explorer (paper Eqs. 26–28, Fig. 1).

The driver tests came from the old tests/test_osmosis.py; the tests of the core's operator and
time stepping are in tests/core/test_osmosis.py. Tolerances: exact identities of the discrete
scheme are checked to round-off (k·eps·S for a sum of k terms of absolute sum S); Monte Carlo
means within 5 standard errors; orders of accuracy within the size of the next term of the
error expansion.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given
from hypothesis import strategies as st

from lib.chapters import osmosis as chapter
from lib.chapters.common import Curve
from lib.core import gaussian as gauss
from lib.core import osmosis as osm

from _shared import EPS, HYP, seeds

NOTEBOOK = Path(__file__).resolve().parents[2] / "chapters" / "osmosis.ipynb"

T = np.array([1.0, 10.0, 100.0])


def test_image_rows(readable):
    img = np.zeros((4, 6))
    fig = readable(chapter.image_rows([[img, img], [img]], [["x", "y"], ["z"]], ["(a)\ndiffusion", "(b)"]))
    assert [ax.get_title() for ax in fig.axes] == ["x", "y", "z"]
    with pytest.raises(ValueError, match="titles"):
        chapter.image_rows([[img]], [["x", "y"]], ["a"])


def test_processes_figure(readable):
    fig = readable(chapter.processes_figure([T, T], [T * 0, T * 0], [T * 0, T * 0], [1 / T, 1 / T**2], ["a", "b"]))
    assert len(fig.axes) == 3 and fig.axes[2].get_yscale() == "log"
    np.testing.assert_allclose(fig.axes[2].lines[1].get_ydata(), [1, 1e-2, 1e-4])  # divided by the first value
    with pytest.raises(ValueError, match="one length"):
        chapter.processes_figure([T], [T], [T], [T], ["a", "b"])


def test_edge_profiles_figure(readable):
    x = np.arange(3)
    panels = [[Curve(x, np.ones(3), label="$i = 0$")], [Curve(x, np.ones(3), label="$t = 0$")]]
    fig = readable(chapter.edge_profiles_figure(x, panels, ["(a)", "(b)"], ["value", "grey value"],
                                                references=[Curve(x, np.zeros(3), label="mean"), None]))
    assert len(fig.axes[0].lines) == 2 and fig.axes[0].lines[1].get_linestyle() == "--"
    assert fig.axes[1].get_ylabel() == "grey value"


def test_shared_primitives_are_reexported(readable):
    readable(chapter.time_curves([Curve(T, 1 / T, label="p")], ylabel="distance"))
    readable(chapter.convergence_orders([("space", "$h$", [0.1, 0.05], [1e-2, 2.5e-3], 2)]))
    assert "<table>" in chapter.html_table(["a", "b"], [[1, 2]])


def test_player_and_explorer():
    html = chapter.osmosis_player(np.zeros((2, 10, 15)), [0, 10])
    assert html.count("data:image/jpeg;base64") == 2 and "from time 0 to 10" in html
    f = 100 + np.random.default_rng(17).random((6, 8))
    explorer = chapter.osmosis_explorer(f, times=(0, 10), h=3.0)
    assert explorer.result.shape == f.shape
    explorer.controls["when"].value = 0
    np.testing.assert_allclose(explorer.result, f)  # t = 0
    explorer.controls["when"].value = 2
    v = chapter.noise_guidance(f.shape, 5.0, np.random.default_rng(0))
    np.testing.assert_allclose(explorer.result, osm.steady_state(f, v))  # the last position is w


def exact_1d(x, t, c=1.0, amplitude=0.3):
    """Exact solution of u_t = u_xx − (c u)_x on [0, 1] with zero flux u_x − c u = 0.

    u = e^{cx} ψ/e^{cx/2} turns the equation into ψ_t = ψ_xx − c²/4 ψ with ψ_x = (c/2) ψ at both
    ends, solved by ψ = π cos(πx) + (c/2) sin(πx) with rate π² + c²/4.
    """
    rate = np.pi**2 + c**2 / 4
    mode = np.exp(c * x / 2) * (np.pi * np.cos(np.pi * x) + c / 2 * np.sin(np.pi * x))
    return np.exp(c * x) + amplitude * np.exp(-rate * t) * mode


def test_guidance_scale_is_irrelevant_but_offset_is_not():
    rng = np.random.default_rng(2)
    f = rng.uniform(1, 2, (6, 7))
    v = chapter.noise_guidance(f.shape, 5.0, rng)
    a = osm.osmosis(f, v, [3.0], 1.0, method="splu")
    b = osm.osmosis(f, 7.5 * v, [3.0], 1.0, method="splu")
    np.testing.assert_allclose(a, b, rtol=1e-12)
    c = osm.osmosis(f, v + 5.0, [3.0], 1.0, method="splu")
    assert np.abs(a - c).max() > 1e-3
    # steady state: relative fluctuation ≈ 1/offset
    assert osm.steady_state(f, v).std() / f.mean() == pytest.approx(v.std() / v.mean())


def test_time_order_one_for_implicit_euler():
    # Implicit Euler vs the exact solution exp(tA) f of the semi-discrete system: the global
    # error is C τ + O(τ²), so the observed order log2(e(τ)/e(τ/2)) = 1 + O(τ); at τ = T/80 the
    # O(τ) part is ~1 % (measured 1.010), so we require |p − 1| < 0.05.
    n = 30
    h = 1.0 / n
    x = (np.arange(n) + 0.5) * h
    A = osm.osmosis_matrix(osm.canonical_drift(2 + np.sin(2 * np.pi * x), h), h)
    f = 1 + x**2
    T = 0.05
    ref = spla.expm_multiply(T * A, f)
    err = [np.abs(osm.evolve(f, A, [T], T / N, method="splu")[0] - ref).max() for N in (40, 80)]
    order = np.log2(err[0] / err[1])
    assert abs(order - 1) < 0.05
    np.testing.assert_allclose(chapter.time_convergence((40, 80)), err, rtol=1e-10)  # the book's study
    # a wrong variant is rejected: Crank-Nicolson-like averaging would give order 2
    cn = []
    for N in (40, 80):
        tau = T / N
        M1 = sp.csc_array(sp.identity(n) - 0.5 * tau * A)
        M2 = sp.identity(n) + 0.5 * tau * A
        u = f.copy()
        for _ in range(N):
            u = spla.spsolve(M1, M2 @ u)
        cn.append(np.abs(u - ref).max())
    assert np.log2(cn[0] / cn[1]) > 1.8


def test_space_order_two_against_a_smooth_exact_solution():
    # Canonical drift of v = e^{x} (continuous drift d = 1), cell-centred grid, exact time
    # integration (matrix exponential), so only the spatial error is left. Measured orders:
    # 1.97, 1.99 for n = 20/40/80; the O(h²) term dominates, so we require |p − 2| < 0.1.
    T = 0.02
    err = []
    for n in (20, 40, 80):
        h = 1.0 / n
        x = (np.arange(n) + 0.5) * h
        A = osm.osmosis_matrix(osm.canonical_drift(np.exp(x), h), h)
        u = spla.expm_multiply(T * A, exact_1d(x, 0.0))
        err.append(np.abs(u - exact_1d(x, T)).max())
    orders = np.log2(np.array(err[:-1]) / np.array(err[1:]))
    assert np.all(np.abs(orders - 2) < 0.1)
    np.testing.assert_allclose(chapter.space_convergence((20, 40, 80)), err, rtol=1e-10)


def test_exact_solution_solves_the_pde_with_zero_flux():
    # Finite differences of the closed form (step 1e-4: truncation ~1e-8, round-off ~1e-8 for
    # second differences of O(1) values) must satisfy u_t = u_xx − c u_x and u_x − c u = 0.
    c, d = 1.0, 1e-4
    x = np.linspace(0.1, 0.9, 9)
    t = 0.03
    u = lambda x, t: chapter.exact_solution_1d(x, t, c)  # noqa: E731
    u_t = (u(x, t + d) - u(x, t - d)) / (2 * d)
    u_x = (u(x + d, t) - u(x - d, t)) / (2 * d)
    u_xx = (u(x + d, t) - 2 * u(x, t) + u(x - d, t)) / d**2
    np.testing.assert_allclose(u_t, u_xx - c * u_x, atol=1e-5)
    for x0 in (0.0, 1.0):
        flux = (u(x0 + d, t) - u(x0 - d, t)) / (2 * d) - c * u(x0, t)
        assert abs(flux) < 1e-7


@HYP
@given(n=st.integers(1, 6), seed=seeds, a=st.floats(1e-4, 0.9999))
def test_forward_relative_entropy_matches_the_gaussian_formula(n, seed, a):
    f = np.random.default_rng(seed).uniform(-1, 1, n)
    ours = chapter.forward_relative_entropy(f, a)
    theirs = float(gauss.kl_gaussian_marginal(f, np.zeros((n, n)), a))
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_forward_relative_entropy_decreases():
    f = np.linspace(-1, 1, 50)
    a = np.array([1.0, 0.9, 0.5, 0.1, 1e-3])
    kl = chapter.forward_relative_entropy(f, a)
    assert np.isinf(kl[0]) and np.all(np.diff(kl[1:]) < 0) and kl[-1] > 0


def test_amount_and_correlation():
    f = np.random.default_rng(13).uniform(0, 1, (5, 6))
    assert chapter.amount_of(f, f) == pytest.approx(1.0)
    assert chapter.amount_of(0.3 * f + 7, f) == pytest.approx(0.3)
    assert chapter.amount_of(np.full_like(f, 2.0), f) == 0.0
    assert chapter.correlation(0.3 * f + 7, f) == pytest.approx(1.0)
    assert np.isnan(chapter.correlation(np.full_like(f, 2.0), f))
    np.testing.assert_allclose(chapter.amount_of(np.stack([f, 2 * f]), f), [1.0, 2.0])


def test_grey_mapping_round_trip():
    u = np.linspace(-1, 1, 7)
    g = chapter.unit_to_grey(u)
    assert g.min() == 1.0 and g.max() == 256.0
    np.testing.assert_allclose(chapter.grey_to_unit(g), u, atol=1e-15)


def test_clear_errors():
    f = np.ones((4, 5))
    v = np.ones((4, 5))
    with pytest.raises(ValueError, match="f must be strictly positive"):
        osm.osmosis(f - 1, v, [1.0])
    with pytest.raises(ValueError, match="v must be strictly positive"):
        osm.osmosis(f, -v, [1.0])
    with pytest.raises(ValueError, match="v must be strictly positive"):
        osm.canonical_drift(np.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        osm.osmosis(f, np.ones((5, 4)), [1.0])
    with pytest.raises(ValueError, match="same shape"):
        osm.steady_state(f, np.ones(20))
    bad = f.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        osm.osmosis(bad, v, [1.0])
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        osm.canonical_drift(bad)
    with pytest.raises(ValueError, match="tau"):
        osm.osmosis(f, v, [1.0], 0.0)
    with pytest.raises(ValueError, match="tau"):
        osm.osmosis(f, v, [1.0], -1.0)
    with pytest.raises(ValueError, match="tau"):
        osm.osmosis(f, v, [1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="whole number of steps"):
        osm.osmosis(f, v, [1.0], 0.3)
    with pytest.raises(ValueError, match="strictly increasing"):
        osm.osmosis(f, v, [2.0, 1.0])
    with pytest.raises(ValueError, match="method"):
        osm.osmosis(f, v, [1.0], method="cg")
    with pytest.raises(ValueError, match="h must be"):
        osm.canonical_drift(v, h=0.0)
    with pytest.raises(ValueError, match="< 2"):
        osm.osmosis_matrix(np.array([0.5, 2.5]))
    with pytest.raises(ValueError, match="fit one grid"):
        osm.osmosis_matrix((np.zeros((3, 5)), np.zeros((3, 4))))
    with pytest.raises(ValueError, match="cells"):
        osm.evolve(np.ones(3), osm.osmosis_matrix(np.zeros(4)), [1.0])
    with pytest.raises(ValueError, match="offset 1 is too small"):
        chapter.noise_guidance((50, 50), 1.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        chapter.noise_guidance((5, 5), 5.0, 0)
    with pytest.raises(ValueError, match="colour"):
        osm.osmosis(np.ones((2, 2, 2, 2)), np.ones((2, 2, 2, 2)), [1.0])


def test_edge_amount_of_forward_draws_is_unbiased():
    # For u = √ᾱ f + √(1 − ᾱ) g, E[edge_amount] = √ᾱ and its standard deviation is
    # √(1 − ᾱ) ‖Dᵀ∇f‖ / ‖∇f‖² (D: the difference operator). The mean of 400 draws must lie
    # within 5 standard errors (false alarm 6e-7).
    rng = np.random.default_rng(14)
    f = np.cumsum(rng.standard_normal((12, 14)), axis=1) / 4
    a = 0.3
    draws = np.sqrt(a) * f + np.sqrt(1 - a) * rng.standard_normal((400,) + f.shape)
    e = chapter.edge_amount(draws, f)
    assert abs(e.mean() - np.sqrt(a)) < 5 * e.std(ddof=1) / np.sqrt(e.size)
    # and the smoothing of diffusion removes edges faster than the image
    u = osm.homogeneous_diffusion(f + 5, [20.0], 1.0, method="splu")[0]
    assert chapter.edge_amount(u, f) < 0.5 * chapter.amount_of(u, f)
    with pytest.raises(ValueError, match="constant"):
        chapter.edge_amount(f, np.ones_like(f))


def test_correlation_of_a_roundoff_constant_image_is_nan():
    f = np.random.default_rng(15).random((6, 7))
    assert np.isnan(chapter.correlation(100 + 1e-13 * f, f))
    assert chapter.correlation(100 + 1e-6 * f, f) == pytest.approx(1.0)


def test_staged_schedule():
    times, taus = chapter.staged_schedule(1000, ((100.0, 1e4), (1000.0, 1e5)), include=[0, 50, 500])
    assert times[0] == 0 and np.all(np.diff(times) > 0)
    assert {0.0, 50.0, 500.0, 1000.0, 1e4, 1e5} <= set(times.tolist())
    np.testing.assert_array_equal(taus[times <= 1000], 1.0)
    assert set(taus[(times > 1000) & (times <= 1e4)]) == {100.0}
    assert set(taus[times > 1e4]) == {1000.0}
    # every interval holds a whole number of steps: evolve accepts it
    f = np.random.default_rng(16).uniform(1, 2, (4, 5))
    u = osm.homogeneous_diffusion(f, times, taus, method="splu")
    np.testing.assert_allclose(u[-1], f.mean(), rtol=1e-10)
    with pytest.raises(ValueError, match="whole number"):
        chapter.staged_schedule(1000, ((300.0, 2000.0),))
    with pytest.raises(ValueError, match="include"):
        chapter.staged_schedule(100, include=[150])


def test_small_helpers():
    A = osm.osmosis_matrix(np.array([0.5, -0.5]))  # 3 cells
    lo, hi, count = chapter.offdiagonal_range(A)
    assert count == 4 and lo == pytest.approx(0.75) and hi == pytest.approx(1.25)
    g = osm.guidance_from_drift(np.array([0.5, -0.5]))
    assert osm.steady_state_residual(A, g) <= 16 * EPS
    assert osm.steady_state_residual(A, np.ones(3)) > 0.1
    # κ₁ = 1 + 2τ max|a_ii| per step: 3 steps of τ = 2 with max|a_ii| = 2 (middle cell: 1.25 + 0.75)
    assert osm.roundoff_bound(A, [6.0], 2.0) == pytest.approx(3 * (1 + 2 * 2 * 2.0) * EPS)
    stack = np.array([[1.0, 2.0], [1.5, 1.5], [1.0, 2.0 + 3e-3]])
    assert chapter.mass_error(stack, np.array([1.0, 2.0])) == pytest.approx(1e-3)
    assert chapter.mass_error(stack[2], np.array([1.0, 2.0])) == pytest.approx(1e-3)


# ---------------------------------------------------------------------------------------------
# verdicts: one source, and what the chapter computes
# ---------------------------------------------------------------------------------------------


def test_verdict_sections_exist_in_the_notebook():
    text = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])
    for verdict in chapter.VERDICTS:
        assert f"({verdict.section})=" in text, verdict.section
    assert "verdict_table(chapter.VERDICTS)" in text


def test_verdicts_are_what_the_checks_establish():
    """Eq. (26) holds: mass, positivity, steady state, to round-off. Eq. (28) holds with a
    correction: L increases to 0 and stays <= 0, so the relative entropy -L decreases."""
    verdict = {v.claim: v.verdict for v in chapter.VERDICTS}
    rng = np.random.default_rng(3)
    f = chapter.unit_to_grey(rng.uniform(-1, 1, (12, 15)))
    guide = chapter.noise_guidance(f.shape, 5.0, rng)
    A = osm.osmosis_matrix(osm.canonical_drift(guide, 2.0), 2.0)
    w = osm.steady_state(f, guide)
    lo, _, _ = chapter.offdiagonal_range(A)
    holds_26 = (osm.column_sum_error(A) <= 16 * EPS and lo > 0
                and osm.steady_state_residual(A, w) <= 16 * EPS)
    assert verdict["Eq. (26)"] == ("holds" if holds_26 else "fails")
    times = [1.0, 10.0, 100.0, 1000.0]
    L = osm.lyapunov(osm.osmosis(f, guide, times, 1.0, h=2.0), w, h=2.0)
    increases = bool(np.all(np.diff(L) >= -1e-9 * np.abs(L).max()))
    assert increases and L.max() <= 1e-9 * np.abs(L).max()  # L rises to 0 from below
    assert verdict["Eq. (28)"] == "holds with correction"  # the wording: -L is the relative entropy
