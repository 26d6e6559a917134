"""Tests for lib.core.local_scores: ES, LS and ELS score machines (Kamb & Ganguli 2025)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from lib.core import data as ds
from lib.core import local_scores as L
from lib.core import reverse as R
from lib.core import schedules as sch
from lib.core.mixture import Mixture

SETTINGS = settings(max_examples=25, deadline=None)


def small_set(seed, n=5, shape=(4, 5)):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape))


def orbit(train3):
    """All circular shifts, built independently of the module (np.roll per shift)."""
    N, H, W = train3.shape
    return np.array([np.roll(f, (a, b), axis=(0, 1)).ravel()
                     for f in train3 for a in range(H) for b in range(W)])


# --- exactness where the machines must reduce to known scores -------------------------------

@pytest.mark.parametrize("machine", ["ls", "els"])
@pytest.mark.parametrize("ab", [0.05, 0.5, 0.97])
def test_patch_as_large_as_the_image_gives_the_exact_score(machine, ab):
    # A (2H-1) x (2W-1) window sees the whole image from every pixel, and under zero padding
    # every pixel then knows its position: LS and ELS both reduce to the exact mixture score.
    data = ds.digits()[:300]
    x = np.random.default_rng(1).standard_normal((6, 64))
    got = L.score(x, data, ab, machine=machine, patch_size=15)
    want = Mixture(data).score(x, ab)
    # both are softmax averages of the same terms in a different order; scores are
    # O(|x| / (1 - ab)) <= ~200, so 1e-9 absolute is ~1e3 ulps of the largest entries
    np.testing.assert_allclose(got, want, atol=1e-9 * max(1.0, 1 / (1 - ab)))


def test_exact_and_es_machines_match_the_mixture_formulas():
    t3 = small_set(0, 3, (3, 4))
    x = np.random.default_rng(2).standard_normal((4, 12))
    np.testing.assert_allclose(L.denoiser(x, t3, 0.6, machine="exact"),
                               Mixture(t3.reshape(3, -1)).posterior_mean(x, 0.6), atol=1e-13)
    np.testing.assert_allclose(L.denoiser(x, t3, 0.6, machine="es"),
                               Mixture(orbit(t3)).posterior_mean(x, 0.6), atol=1e-13)


def test_es_with_one_training_image_reproduces_its_shifts():
    f = ds.digits()[7].reshape(1, 8, 8)
    shifts = orbit(f)
    out = L.sample(f, sch.cosine_betas(20), 12, np.random.default_rng(3),
                   machine="es")["states"][0]
    d = np.sqrt(((out[:, None, :] - shifts[None]) ** 2).sum(-1)).min(axis=1)
    # the last step returns x̂_0(u_1), a softmax average; at ᾱ_1 the competing shifts are
    # > 1 apart in norm against σ_1 < 0.1, so their weights are below exp(-50)
    assert d.max() < 1e-8
    # and several different shifts occur (12 chains over 64 shifts)
    nearest = np.argmin(((out[:, None, :] - shifts[None]) ** 2).sum(-1), axis=1)
    assert len(np.unique(nearest)) >= 4


# --- finite differences of a log-density where one exists ------------------------------------

def central_diff(f, x, eps=1e-5):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_es_score_is_the_gradient_of_the_shifted_mixture(seed):
    t3 = small_set(seed, 3, (3, 3))
    centers = orbit(t3)
    ab = 0.4
    x = np.random.default_rng(seed + 10).standard_normal(9)
    fd = central_diff(lambda y: Mixture(centers).logpdf(y[None], ab)[0], x)
    # central differences: truncation eps² |∂³ log p| / 6 with |∂³ log p| <~ 8/σ⁶ ~ 40,
    # round-off ~ 1e-16 |log p| / eps ~ 1e-10: 1e-6 bounds both
    np.testing.assert_allclose(L.score(x[None], t3, ab, machine="es")[0], fd, atol=1e-6)


@pytest.mark.parametrize("machine", ["ls", "els"])
def test_one_pixel_patches_give_the_score_of_a_product_density(machine):
    # P = 1: each pixel sees only itself, so the field is the gradient of
    # Σ_x log Σ_v N(u(x); √ᾱ v, σ²) over the pixel values v at x (LS) or anywhere (ELS).
    t3 = small_set(4, 4, (3, 3))
    ab, var = 0.7, 0.3
    vals = t3.reshape(4, 9)

    def logp(y):
        if machine == "ls":
            return sum(logsumexp(-(y[k] - np.sqrt(ab) * vals[:, k]) ** 2 / (2 * var))
                       for k in range(9))
        return sum(logsumexp(-(y[k] - np.sqrt(ab) * vals.ravel()) ** 2 / (2 * var))
                   for k in range(9))

    x = np.random.default_rng(5).standard_normal(9)
    got = L.score(x[None], t3, ab, machine=machine, patch_size=1)[0]
    np.testing.assert_allclose(got, central_diff(logp, x), atol=1e-6)


# --- properties -------------------------------------------------------------------------------

@SETTINGS
@given(seed=st.integers(0, 2**31), ab=st.floats(0.05, 0.95), p=st.sampled_from([1, 3]),
       a=st.integers(0, 3), b=st.integers(0, 4))
def test_circular_els_is_shift_equivariant(seed, ab, p, a, b):
    t3 = small_set(seed, 3, (4, 5))
    x = np.random.default_rng(seed + 1).standard_normal((2, 4, 5))
    den = lambda y: L.denoiser(y, t3, ab, machine="els", patch_size=p,
                               boundary="circular").reshape(-1, 4, 5)
    np.testing.assert_allclose(den(np.roll(x, (a, b), axis=(1, 2))),
                               np.roll(den(x), (a, b), axis=(1, 2)), atol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**31), ab=st.floats(0.01, 0.99),
       machine=st.sampled_from(["ls", "els"]), p=st.sampled_from([1, 3, 5]),
       boundary=st.sampled_from(["zero", "circular"]))
def test_denoiser_is_a_convex_combination_of_training_pixels(seed, ab, machine, p, boundary):
    t3 = small_set(seed, 4, (5, 5))
    x = 3 * np.random.default_rng(seed).standard_normal((3, 25))
    out = L.denoiser(x, t3, ab, machine=machine, patch_size=p, boundary=boundary)
    assert np.all(out >= t3.min() - 1e-12) and np.all(out <= t3.max() + 1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**31), ab=st.floats(0.05, 0.95))
def test_chunking_does_not_change_the_result(seed, ab):
    t3 = small_set(seed, 6, (4, 4))
    x = np.random.default_rng(seed).standard_normal((3, 16))
    full = L.denoiser(x, t3, ab, machine="els", patch_size=3)
    old = L._CHUNK
    try:
        L._CHUNK = 7  # forces several dictionary blocks with a running maximum
        small = L.denoiser(x, t3, ab, machine="els", patch_size=3)
    finally:
        L._CHUNK = old
    np.testing.assert_allclose(small, full, atol=1e-13)


def test_sample_with_the_exact_machine_is_the_books_sampler():
    data = ds.digits()[:100]
    betas = sch.cosine_betas(15)
    ours = L.sample(data, betas, 5, np.random.default_rng(9), machine="exact", record=[0, 7])
    book = R.sample(data, betas, 5, np.random.default_rng(9), record=[0, 7])
    np.testing.assert_array_equal(ours["states"], book["states"])


def test_local_machine_samples_are_locally_consistent_mosaics():
    # Kamb & Ganguli Fig. 3 / Thm. 4.1: black and white training images, 3 x 3 windows:
    # every pixel ends black or white and (for the continuous-time flow) equals the centre of
    # its nearest training patch. A finite-step sampler breaks this at a few pixels (their
    # Fig. 3c); with 30 DDPM steps about 1 % here, so we require 97 %.
    train = np.stack([-np.ones((6, 6)), np.ones((6, 6))])
    out = L.sample(train, sch.cosine_betas(30), 20, np.random.default_rng(1),
                   machine="els", patch_size=3, boundary="circular")["states"][0]
    assert np.all(np.abs(np.abs(out) - 1) < 1e-6)
    match = L.patch_match(out, train, 3, boundary="circular")
    assert np.mean(np.abs(match["centre"] - out) < 1e-6) > 0.97
    # and some are new: neither training image (7 of these 20 chains; on a 6 x 6 torus many
    # chains still settle on one colour)
    assert np.mean(np.abs(out.sum(axis=1)) < 36) >= 0.2


def test_patch_match_finds_training_patches_and_their_sources():
    data = ds.digits()[:50]
    m = L.patch_match(data[[3, 17]], data, 3)
    assert m["distance"].max() < 1e-12
    np.testing.assert_array_equal(m["centre"], data[[3, 17]])
    # the source patch equals the window (it may be another occurrence of the same patch)
    img, row, col = m["image"][1, 27], m["row"][1, 27], m["col"][1, 27]
    src = data[img].reshape(8, 8)[row - 1 : row + 2, col - 1 : col + 2]
    np.testing.assert_array_equal(src, data[17].reshape(8, 8)[2:5, 2:5])


def test_ls_dictionary_is_co_located_and_els_is_not():
    # a training image whose only bright pixel is at (0, 0); a query bright at (1, 1)
    train = -np.ones((1, 4, 4))
    train[0, 1, 1] = 1.0
    x = -np.ones((1, 4, 4))
    x[0, 2, 2] = 1.0
    ls = L.patch_match(x, train, 3, machine="ls")
    els = L.patch_match(x, train, 3, machine="els")
    assert ls["distance"][0, 2 * 4 + 2] > 1.0    # co-located patch is dark at its centre
    assert els["distance"][0, 2 * 4 + 2] < 1e-12  # interior patch from (1, 1) matches


def test_patch_size_schedule_shrinks_to_the_smallest():
    betas = sch.cosine_betas(40)
    ps = L.patch_size_schedule(betas, 11)
    assert ps[0] == 3 and ps[-1] == 11 and np.all(np.diff(ps) >= 0) and np.all(ps % 2 == 1)


def test_dictionary_bytes_counts_windows():
    # 3 x 3 windows on 8 x 8 under zero padding: 4 corner windows of 4 pixels, 24 edge
    # windows of 6, 36 interior windows of 9 = 484 values per image, for LS (one dictionary
    # per pixel) and ELS (one per padding pattern, holding every location of that pattern)
    for machine in ("ls", "els"):
        assert L._dictionary_bytes(10, (8, 8), 3, machine) == 8 * 10 * (4 * 4 + 24 * 6 + 36 * 9)
    assert L._dictionary_bytes(2, (8, 8), 3, "es") == 8 * 2 * 64 * 64


# --- validation at the public boundary --------------------------------------------------------

def test_validation_names_the_argument():
    t3 = small_set(0, 2, (4, 4))
    x = np.zeros((1, 16))
    with pytest.raises(ValueError, match="machine"):
        L.denoiser(x, t3, 0.5, machine="cnn")
    with pytest.raises(ValueError, match="patch_size"):
        L.denoiser(x, t3, 0.5, patch_size=4)
    with pytest.raises(TypeError, match="patch_size"):
        L.denoiser(x, t3, 0.5, patch_size=3.0)
    with pytest.raises(ValueError, match="circular"):
        L.denoiser(x, t3, 0.5, patch_size=5, boundary="circular")
    with pytest.raises(ValueError, match="alpha_bar"):
        L.denoiser(x, t3, 1.0)
    with pytest.raises(ValueError, match="alpha_bar"):
        L.denoiser(x, t3, float("nan"))
    with pytest.raises(ValueError, match="x must have shape"):
        L.denoiser(np.zeros((1, 15)), t3, 0.5)
    with pytest.raises(ValueError, match="finite"):
        L.denoiser(np.full((1, 16), np.nan), t3, 0.5)
    with pytest.raises(TypeError, match="Generator"):
        L.sample(t3, sch.cosine_betas(5), 2, 0)
    with pytest.raises(ValueError, match="patch_size"):
        L.sample(t3, sch.cosine_betas(5), 2, np.random.default_rng(0),
                 patch_size=[3, 3])


def test_out_of_reach_requests_are_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(L, "_MAX_BYTES", 10_000)
    t3 = small_set(0, 20, (8, 8))
    with pytest.raises(ValueError, match="MAX_BYTES"):
        L.denoiser(np.zeros((1, 64)), t3, 0.5, machine="els", patch_size=3)
    with pytest.raises(ValueError, match="MAX_BYTES"):
        L.sample(t3, sch.cosine_betas(5), 2, np.random.default_rng(0), machine="es")


def test_dictionary_bytes_validates():
    with pytest.raises(ValueError, match="n_train"):
        L._dictionary_bytes(0, (8, 8), 3)
    with pytest.raises(ValueError, match="shape"):
        L._dictionary_bytes(5, (8, 8, 1), 3)
    with pytest.raises(ValueError, match="boundary"):
        L._dictionary_bytes(5, (8, 8), 3, boundary="reflect")


def test_dictionary_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(L, "_CACHE", {})
    monkeypatch.setattr(L, "_MAX_BYTES", 400_000)
    t3 = small_set(0, 20, (8, 8))  # LS dictionaries of 20 - 200 kB for P = 1 ... 7
    x = np.zeros((1, 64))
    for p in (1, 3, 5, 7, 3, 5, 7):
        L.denoiser(x, t3, 0.5, machine="ls", patch_size=p)
        assert sum(L._nbytes(v) for v in L._CACHE.values()) <= 400_000
    assert len(L._CACHE) <= L._CACHE_SIZE
