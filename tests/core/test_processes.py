"""Tests of :mod:`lib.core.processes`: linear Gaussian processes diagonal in a basis.

Tolerances:

* identities that the code evaluates with the same floating-point operations as a reference
  are compared bit for bit (VP against :mod:`lib.core.forward`; permutations in the pixel basis);
* identities evaluated along different paths are compared with round-off bounds: a difference
  s_j − M² s_i of terms of size ≤ S carries an absolute error ≤ 4 eps S, and the orthonormal
  DCT of an n-pixel array has an error of a few eps · ‖u‖ (the tests allow 64 eps ‖u‖);
* Monte Carlo estimates are compared with closed forms within Z_MAX = 5 standard errors
  (two-sided false alarm 5.7e-7 per assertion; seeds are fixed);
* every check is paired with a case it must reject.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import fft, stats

from lib.core import forward as fw
from lib.core import schedules as sch
from lib.core import _processes_kernels as _kernels
from lib.core import processes as pr

from _shared import EPS, Z_MAX

HYP = settings(max_examples=25, deadline=None, database=None)


def shapes_st():
    return st.tuples(st.integers(2, 7), st.integers(2, 7))


def all_processes(shape):
    return [
        pr.vp_process(sch.linear_betas(50, 1e-3, 0.2), shape),
        pr.ve_process(shape, n_steps=40, sigma_min=0.01, sigma_max=5.0),
        pr.ihd_process(shape, n_steps=30, blur_min=0.5, blur_max=4.0, sigma=0.05),
        pr.bd_process(shape, n_steps=40, blur_max=3.0),
    ]


# --- the Laplacian ------------------------------------------------------------------------------


def neumann_laplacian(n: int) -> np.ndarray:
    """The 1-D 3-point Laplacian with reflecting boundaries (ghost cell = boundary cell)."""
    lap = -2 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    lap[0, 0] = lap[-1, -1] = -1
    return lap


@pytest.mark.parametrize("shape", [(5,), (4, 6), (8, 8)])
def test_discrete_eigenvalues_diagonalise_the_5_point_laplacian(shape):
    n = int(np.prod(shape))
    lap = neumann_laplacian(shape[0])
    if len(shape) == 2:
        lap = np.kron(lap, np.eye(shape[1])) + np.kron(np.eye(shape[0]), neumann_laplacian(shape[1]))
    basis = fft.idctn(np.eye(n).reshape((n,) + shape), type=2, norm="ortho", axes=tuple(range(1, len(shape) + 1)))
    basis = basis.reshape(n, n).T  # columns: DCT basis images
    lam = np.diag(basis.T @ lap @ basis)
    np.testing.assert_allclose(lam, pr.laplacian_eigenvalues(shape).ravel(), atol=64 * EPS)
    off = basis.T @ lap @ basis - np.diag(lam)
    assert np.abs(off).max() <= 64 * EPS
    # the continuous eigenvalues are not those of this matrix (must fail)
    assert np.abs(lam - pr.laplacian_eigenvalues(shape, "continuous").ravel()).max() > 0.1


def test_continuous_and_discrete_eigenvalues_agree_at_low_frequency():
    n = 400
    disc = pr.laplacian_eigenvalues(n)
    cont = pr.laplacian_eigenvalues(n, "continuous")
    k = np.arange(1, 20)
    # 4 sin²(x/2) = x² − x⁴/12 + …, x = πk/N: relative difference ≤ x²/12
    assert np.all(np.abs(disc[k] / cont[k] - 1) <= (np.pi * k / n) ** 2 / 12 + 1e-12)
    assert disc[-1] > -4 and cont[-1] < -9.8


def test_laplacian_eigenvalues_validate():
    with pytest.raises(ValueError, match="kind"):
        pr.laplacian_eigenvalues(4, "exact")
    with pytest.raises(ValueError, match="shape"):
        pr.laplacian_eigenvalues((2, 2, 2))
    with pytest.raises(ValueError, match="h"):
        pr.laplacian_eigenvalues(4, h=0.0)


# --- VP is the book's forward process -------------------------------------------------------------


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_vp_marginals_equal_lib_forward_bit_for_bit(name):
    betas = sch.get_betas(name, 1000)
    vp = pr.vp_process(betas, (3, 4))
    for step in [0, 1, 2, 17, 500, 999, 1000]:
        a, s = vp.marginal(step)
        a_ref, s_ref = fw.marginal_coefficients(betas, step)
        assert float(a) == a_ref and float(s) == s_ref


def test_vp_transitions_equal_lib_forward_to_round_off():
    betas = sch.linear_betas()
    vp = pr.vp_process(betas, 5)
    for start, stop in [(0, 1), (3, 4), (10, 900), (999, 1000), (500, 500)]:
        a, s = vp.transition(start, stop)
        a_ref, s_ref = fw.transition_coefficients(betas, start, stop)
        assert float(a) == a_ref
        # s_stop − M² s_start: two terms ≤ 1, round-off ≤ 4 eps
        assert abs(float(s) - s_ref) <= 4 * EPS


def test_vp_samples_equal_lib_forward_bit_for_bit():
    betas = sch.linear_betas()
    cat = np.random.default_rng(1).uniform(-1, 1, (3, 10, 12))
    vp = pr.vp_process(betas, (10, 12))
    for dtype in (np.float64, np.float32):
        for step in [1, 300, 1000]:
            ours = vp.sample(cat.astype(dtype), step, np.random.default_rng(7))
            ref = fw.sample_marginal(cat.astype(dtype), betas, step, np.random.default_rng(7))
            assert ours.dtype == ref.dtype and np.array_equal(ours, ref)
    traj = vp.trajectory(cat, [0, 5, 80, 1000], np.random.default_rng(3))
    ref = fw.sample_trajectory(cat, betas, [0, 5, 80, 1000], np.random.default_rng(3))
    assert np.array_equal(traj, ref)


def test_vp_in_the_dct_basis_is_the_same_law():
    # isotropic coefficients are diagonal in every basis: the DCT-basis sampler with the same
    # coefficient noise gives V(a Vᵀu + √s ξ) = a u + √s Vξ, i.e. the pixel sampler fed Vξ
    betas = sch.linear_betas(100)
    vp = pr.vp_process(betas, (6, 6))
    vp_dct = pr.DiagonalGaussianProcess(vp.log_scale, vp.variance, (6, 6), "dct", "VP-dct")
    u0 = np.random.default_rng(0).standard_normal((6, 6))
    xi = np.random.default_rng(1).standard_normal((6, 6))
    ours = vp_dct.sample(u0, 40, noise=xi)
    ref = vp.sample(u0, 40, noise=fft.idctn(xi, type=2, norm="ortho"))
    assert np.abs(ours - ref).max() <= 64 * EPS * np.linalg.norm(u0)


# --- Markov property, Chapman–Kolmogorov ----------------------------------------------------------


@HYP
@given(shapes_st(), st.data())
def test_chapman_kolmogorov_composition_exact_to_round_off(shape, data):
    for proc in all_processes(shape):
        T = proc.n_steps
        i = data.draw(st.integers(0, T - 2))
        j = data.draw(st.integers(i + 1, T - 1))
        k = data.draw(st.integers(j + 1, T))
        a_ij, s_ij = proc.transition(i, j)
        a_jk, s_jk = proc.transition(j, k)
        a_ik, s_ik = proc.transition(i, k)
        # composing N(a_ij u, s_ij) with N(a_jk ·, s_jk): mean a_jk a_ij, variance a_jk² s_ij + s_jk.
        # The log-ratios carry an absolute round-off of eps·|ln a|, a relative one in a.
        big = max(np.abs(proc.log_scale[[i, j, k]]).max(), 1.0)
        rel = (4 + 4 * big) * EPS
        assert np.all(np.abs(a_jk * a_ij - a_ik) <= rel * np.abs(a_ik))
        bound = 2 * rel * (proc._full(proc.variance[k]) + np.abs(a_ik) ** 2 * proc._full(proc.variance[i]))
        assert np.all(np.abs(a_jk**2 * s_ij + s_jk - s_ik) <= bound)


def test_chapman_kolmogorov_by_sampling_the_two_paths():
    # one frequency-rich image: the two-step sampler has the one-step law (mean and variance
    # per pixel within Z_MAX standard errors)
    proc = pr.bd_process((4, 4), n_steps=20, blur_max=3.0)
    u0 = np.random.default_rng(0).uniform(-1, 1, (4, 4))
    m = 20000
    batch = np.broadcast_to(u0, (m, 4, 4))
    rng = np.random.default_rng(11)
    two = proc.sample(proc.sample(batch, 8, rng), 15, rng, start=8)
    mean = proc.mean(u0, 15)
    _, var = proc.marginal(15)
    basis = proc.from_basis(np.eye(16).reshape(16, 4, 4)).reshape(16, 16).T
    cov = basis @ np.diag(proc._full(var).ravel()) @ basis.T
    z = (two.mean(axis=0) - mean) / np.sqrt(np.diag(cov).reshape(4, 4) / m)
    assert np.abs(z).max() < Z_MAX
    # the variances: sample variance of n draws has sd ≈ σ² √(2/(m−1))
    v = two.var(axis=0, ddof=1)
    zv = (v - np.diag(cov).reshape(4, 4)) / (np.diag(cov).reshape(4, 4) * math.sqrt(2 / (m - 1)))
    assert np.abs(zv).max() < Z_MAX


@pytest.mark.parametrize("eigenvalues", ["discrete", "continuous"])
def test_ihd_implied_covariances_are_psd_and_only_the_mean_is_never_noised(eigenvalues):
    sigma = 0.01
    ihd = pr.ihd_process((6, 5), n_steps=50, sigma=sigma, eigenvalues=eigenvalues)
    check = ihd.markov_check()
    assert check.is_markov
    # closed form of the implied one-step variances: σ²(1 − e^{2λ(t_k − t_{k−1})}), σ² at k = 1
    lam = pr.laplacian_eigenvalues((6, 5), eigenvalues)
    times = np.geomspace(0.5, 20.0, 50) ** 2 / 2
    expected = sigma**2 * -np.expm1(2 * np.diff(times)[:, None, None] * lam)
    got = check.transition_variance[1:]
    assert np.all(np.abs(got - expected) <= 4 * EPS * sigma**2)
    np.testing.assert_array_equal(check.transition_variance[0], sigma**2)
    never = np.zeros((6, 5), bool)
    never[0, 0] = True
    np.testing.assert_array_equal(check.never_noised, never)


def test_psd_check_fails_when_it_must():
    # heat run backwards (sharpening marginals) with constant noise: Σ = σ²(1 − e^{−2λΔt}) < 0
    ihd = pr.ihd_process((4, 4), times=[2.0, 1.0], sigma=0.1)
    check = ihd.markov_check()
    assert not check.is_markov
    lam = pr.laplacian_eigenvalues((4, 4))
    assert check.min_variance == pytest.approx(0.01 * -np.expm1(-2 * lam.min()), rel=1e-12)
    assert check.worst[0] == 2
    # marginals with shrinking noise: variance decreasing in the mean direction
    shrink = pr.DiagonalGaussianProcess(np.zeros(3), [0.0, 0.2, 0.1], 4, "pixel")
    assert not shrink.markov_check().is_markov
    assert shrink.markov_check().min_variance == pytest.approx(-0.1)


def test_fokker_planck_coefficients_reproduce_the_transitions():
    for proc in all_processes((5, 4)):
        gamma, g = pr.fokker_planck_coefficients(proc)
        assert np.all(g >= 0)
        for i in [1, 2, proc.n_steps]:
            m, var = proc.transition(i - 1, i)
            # OU over unit time: mean e^{−γ}, variance g (1 − e^{−2γ}) / (2γ)
            np.testing.assert_allclose(np.exp(-gamma[i - 1]), proc._full(m), rtol=4 * EPS)
            with np.errstate(divide="ignore", invalid="ignore"):
                back = np.where(gamma[i - 1] == 0, g[i - 1], g[i - 1] * -np.expm1(-2 * gamma[i - 1]) / (2 * gamma[i - 1]))
            np.testing.assert_allclose(back, proc._full(var), rtol=16 * EPS, atol=16 * EPS * proc._full(proc.variance[i]).max())
    betas = sch.linear_betas(30)
    gamma, g = pr.fokker_planck_coefficients(pr.vp_process(betas, 3))
    # γ = −½ ln(1 − β), Σ = β and 1 − e^{−2γ} = β each carry a few ulp: g to 32 eps
    np.testing.assert_allclose(g[:, 0], -np.log1p(-betas), rtol=32 * EPS)
    bad = pr.ihd_process(3, times=[2.0, 1.0], sigma=0.1)
    assert np.any(pr.fokker_planck_coefficients(bad)[1] < 0)


# --- sampling -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: pr.ihd_process((5, 6), n_steps=10, blur_max=3.0, sigma=0.2),
    lambda: pr.bd_process((5, 6), n_steps=10, blur_max=3.0),
    lambda: pr.ve_process((5, 6), n_steps=10, sigma_max=2.0),
])
def test_marginal_samples_have_the_closed_form_law(make):
    proc = make()
    u0 = np.random.default_rng(0).uniform(-1, 1, (5, 6))
    m = 4000
    x = proc.sample(np.broadcast_to(u0, (m, 5, 6)), 7, np.random.default_rng(2))
    c = proc.to_basis(x) - proc.to_basis(proc.mean(u0, 7))
    _, s = proc.marginal(7)
    z = c / np.sqrt(proc._full(s))  # i.i.d. N(0, 1) in coefficient space
    assert abs(z.mean()) < Z_MAX / math.sqrt(z.size)
    assert abs(z.var() - 1) < Z_MAX * math.sqrt(2 / z.size)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-6
    # wrong variance must be rejected
    assert abs((z * 1.05).var() - 1) > Z_MAX * math.sqrt(2 / z.size)


def test_caller_noise_and_validation():
    proc = pr.bd_process((4, 4), n_steps=5)
    u0 = np.zeros((4, 4))
    xi = np.random.default_rng(0).standard_normal((4, 4))
    a = proc.sample(u0, 3, noise=xi)
    b = proc.sample(u0, 3, noise=xi)
    assert np.array_equal(a, b)
    with pytest.raises(TypeError, match="rng"):
        proc.sample(u0, 3)
    with pytest.raises(TypeError, match="Generator"):
        proc.sample(u0, 3, rng=0)
    with pytest.raises(ValueError, match="shape"):
        proc.sample(np.zeros((3, 4)), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="step"):
        proc.sample(u0, 9, np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite"):
        proc.sample(u0 + np.nan, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="step 0"):
        pr.DiagonalGaussianProcess([0.1, 0.0], [0.0, 1.0], 3)
    with pytest.raises(ValueError, match="sigma_max"):
        pr.ve_process(3, sigma_min=2.0, sigma_max=1.0)
    with pytest.raises(ValueError, match="d_min"):
        pr.bd_process(3, d_min=1.0)


# --- permutations -----------------------------------------------------------------------------------


def grid_symmetries(u):
    return {
        "flip rows": np.flip(u, -2), "flip cols": np.flip(u, -1),
        "rotate 90": np.rot90(u, 1, axes=(-2, -1)), "transpose": np.swapaxes(u, -1, -2),
    }


def test_isotropic_processes_commute_with_every_permutation_bit_exactly():
    rng = np.random.default_rng(0)
    u0 = rng.uniform(-1, 1, (6, 6))
    xi = rng.standard_normal((6, 6))
    perm = rng.permutation(36)
    for proc in [pr.vp_process(sch.linear_betas(20), (6, 6)), pr.ve_process((6, 6), 20)]:
        for step in [1, 10, 20]:
            plain = proc.sample(u0, step, noise=xi)
            permuted = proc.sample(u0.ravel()[perm].reshape(6, 6), step, noise=xi.ravel()[perm].reshape(6, 6))
            assert np.array_equal(permuted, plain.ravel()[perm].reshape(6, 6))


def test_blur_processes_commute_with_grid_symmetries_only():
    rng = np.random.default_rng(0)
    u0 = rng.uniform(-1, 1, (8, 8))
    for proc in [pr.ihd_process((8, 8), 20, blur_max=3.0), pr.bd_process((8, 8), 20, blur_max=3.0)]:
        for step in [1, 10]:
            mean = proc.mean(u0, step)
            for name, moved in grid_symmetries(u0).items():
                err = np.abs(proc.mean(moved, step) - grid_symmetries(mean)[name]).max()
                assert err <= 64 * EPS * np.linalg.norm(u0), name
            shifted = np.roll(u0, 1, axis=-1)
            err = np.abs(proc.mean(shifted, step) - np.roll(mean, 1, axis=-1)).max()
            # a cyclic shift does not commute with the Neumann boundary: far above round-off
            assert err > 1e4 * 64 * EPS * np.linalg.norm(u0)


# --- operators ---------------------------------------------------------------------------------------


def test_discrete_heat_is_positive_and_continuous_is_not_at_small_times():
    for n in [8, 31]:
        for t in [0.05, 0.125, 1.0, 10.0]:
            disc = pr.mean_operator(pr.ihd_process(n, times=[t]), 1)
            assert disc.min() >= -8 * EPS  # exp(tL) of a Metzler matrix is non-negative
            np.testing.assert_allclose(disc.sum(axis=1), 1.0, atol=8 * n * EPS)
        cont = pr.mean_operator(pr.ihd_process(n, times=[0.125], eigenvalues="continuous"), 1)
        assert cont.min() < -1e-3
        np.testing.assert_allclose(cont.sum(axis=1), 1.0, atol=8 * n * EPS)
    with pytest.raises(ValueError, match="dense"):
        pr.mean_operator(pr.ihd_process((100, 100), times=[1.0]), 1)


def test_mean_operator_matches_the_matrix_exponential():
    from scipy.linalg import expm

    n, t = 7, 0.8
    lap = neumann_laplacian(n)
    np.testing.assert_allclose(pr.mean_operator(pr.ihd_process(n, times=[t]), 1), expm(t * lap), atol=64 * EPS)


# --- information: closed forms ------------------------------------------------------------------------


@HYP
@given(shapes_st(), st.floats(0.05, 5.0))
def test_gaussian_information_against_scipy(shape, c):
    for proc in all_processes(shape):
        info = pr.gaussian_information(proc, c, steps=[0, 1, proc.n_steps])
        n = proc.size
        for k, step in enumerate([0, 1, proc.n_steps]):
            op = pr.mean_operator(proc, step)
            a, s = proc.marginal(step)
            basis = proc.from_basis(np.eye(n).reshape((n,) + shape)).reshape(n, n).T
            cov_noise = basis @ np.diag(proc._full(s).ravel()) @ basis.T
            cov = c * op @ op.T + cov_noise
            h_ref = stats.multivariate_normal(np.zeros(n), cov, allow_singular=True).entropy()
            assert abs(info.entropy[k] - h_ref) <= 1e-8 * max(1.0, abs(h_ref))
            if step > 0:
                hc = stats.multivariate_normal(np.zeros(n), cov_noise).entropy()
                assert abs(info.conditional_entropy[k] - hc) <= 1e-8 * max(1.0, abs(hc))
                assert abs(info.mutual_information[k] - (h_ref - hc)) <= 1e-7 * max(1.0, abs(h_ref))


def test_mutual_information_never_increases_for_a_markov_chain():
    for proc in all_processes((4, 4)):
        for c in [0.1, 1.0, 4.0]:
            mi = pr.gaussian_information(proc, c).mutual_information[1:]
            assert np.all(np.diff(mi) <= 8 * EPS * np.maximum(mi[:-1], 1.0))


def test_kl_to_the_limit_closed_form():
    vp = pr.vp_process(sch.linear_betas(200), (3, 3))
    info = pr.gaussian_information(vp, 1.0)
    assert np.all(np.abs(info.kl_to_limit) <= 1e-12)  # N(0, I) data stays N(0, I)
    assert np.all(np.isnan(pr.gaussian_information(pr.ve_process(3, 10), 1.0).kl_to_limit))
    bd = pr.bd_process((4, 4), 200)
    kl = pr.gaussian_information(bd, 1.0).kl_to_limit
    assert kl[0] == 0 and kl.max() > 1.0  # blurring N(0, I) moves it away from N(0, I)


# --- information: Monte Carlo ---------------------------------------------------------------------------


def test_mixture_logpdf_diag_against_scipy():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((5, 3))
    var = np.array([0.3, 1.7, 0.05])
    x = rng.standard_normal((4, 3))
    ref = np.log(np.mean([stats.multivariate_normal(c, np.diag(var)).pdf(x) for c in centers], axis=0))
    np.testing.assert_allclose(_kernels._mixture_logpdf_diag(x, centers, var), ref, rtol=1e-12)


def test_mixture_mc_on_a_gaussian_like_cloud_matches_the_closed_form_bounds():
    # a large training set drawn from N(0, c I) behaves like Gaussian data once the noise
    # exceeds the spacing of the points; H is bounded above by the Gaussian with the same
    # covariance (maximum entropy) and the estimates must respect the exact identities
    rng = np.random.default_rng(0)
    c, shape = 0.5, (2, 2)
    data = rng.normal(0, math.sqrt(c), (3000,) + shape)
    for proc in [pr.vp_process(sch.linear_betas(100, 0.01, 0.1), shape), pr.bd_process(shape, 100, blur_max=2.0),
                 pr.ihd_process(shape, 20, blur_max=2.0, sigma=0.3)]:
        steps = [5, proc.n_steps]
        est = pr.mixture_information_mc(proc, data, steps, 2000, np.random.default_rng(1))
        emp = data.reshape(len(data), -1).var(axis=0).mean()
        gauss = pr.gaussian_information(proc, emp, steps)
        assert np.all(est.entropy <= gauss.entropy + Z_MAX * est.entropy_se + 0.02)
        assert np.all(est.mutual_information >= -Z_MAX * est.entropy_se)
        assert np.all(est.mutual_information <= math.log(len(data)) + Z_MAX * est.entropy_se)
        np.testing.assert_allclose(est.conditional_entropy, gauss.conditional_entropy, rtol=1e-12)
        # at the final step the points are far below the noise: the cloud is Gaussian
        assert abs(est.entropy[-1] - gauss.entropy[-1]) <= Z_MAX * est.entropy_se[-1] + 0.02
        if proc.name != "IHD":
            assert abs(est.kl[-1] - gauss.kl_to_limit[-1]) <= Z_MAX * est.kl_se[-1] + 0.02


def test_mixture_mc_single_point_is_exact():
    # one training image: p(u_i) is Gaussian, H(U_i) = H(U_i | U_0) and I = 0 exactly
    proc = pr.ihd_process((3, 3), 5, blur_max=2.0, sigma=0.2)
    data = np.random.default_rng(0).uniform(-1, 1, (1, 3, 3))
    est = pr.mixture_information_mc(proc, data, [1, 5], 50, np.random.default_rng(0))
    np.testing.assert_allclose(est.entropy, est.conditional_entropy, atol=1e-10)
    exact = pr.gaussian_information(proc, 0.0, [1, 5], data[0]).kl_to_limit
    assert np.all(np.abs(est.kl - exact) <= Z_MAX * est.kl_se)
    with pytest.raises(ValueError, match="zero variance"):
        pr.mixture_information_mc(proc, data, [0, 1], 50, np.random.default_rng(0))
