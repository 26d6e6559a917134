"""lib.chapters.reverse: the reverse chapter's sample comparisons (projection KS tests,
Gaussian-fit KL, marginal report), verdicts, figures, player and explorer.

Moved from the old tests/test_reverse.py: the sampler checks that go through this companion's
two-sample tests. Levels: 1e-3 (Bonferroni over the projections) for "not rejected", and the
same level for the power checks; Monte Carlo estimates within about 5 standard errors."""

import numpy as np
import pytest

import json
from pathlib import Path

from lib.core import data as ds
from lib.chapters import reverse as chapter
from lib.core import reverse as rev
from lib.core import schedules as sch
from lib.core import stats as st
from lib.core.mixture import Mixture

from _shared import CENTERS

NOTEBOOK = Path(__file__).resolve().parents[2] / "chapters" / "reverse.ipynb"


def test_tile_images():
    images = np.arange(5 * 4, dtype=float).reshape(5, 4)  # five 2 × 2 images
    out = chapter.tile_images(images, 3, gap=1)
    assert out.shape == (2 * 2 + 1, 3 * 2 + 2)
    np.testing.assert_array_equal(out[:2, :2], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(out[3:5, 3:5], [[16, 17], [18, 19]])
    assert out[4, 7] == 1.0  # the empty sixth slot is filled
    with pytest.raises(ValueError, match="squares"):
        chapter.tile_images(np.zeros((2, 5)), 2)


def test_digit_rows_are_png(readable):
    digits = ds.digits()[:6]
    grid = chapter.digit_rows([digits[:3], list(digits[3:])], ["forward", "reverse"], titles=["a", "b", "c"])
    assert grid.format == "png"
    fig = readable(grid)
    assert len(fig.axes) == 6 and fig.axes[0].images[0].get_array().shape == (8, 8)
    tiles = chapter.digit_rows([[chapter.tile_images(digits, 3)]], ["tiled"])  # 2-D images stay as they are
    assert tiles.figure.axes[0].images[0].get_array().shape == (17, 26)


def test_reverse_checks_figure(readable):
    rng = np.random.default_rng(0)
    steps = np.arange(5, 50, 5)
    fig = readable(chapter.reverse_checks_figure(steps, 1 / steps, 1 / steps, [rng.random(20)], ["$h = 0$"],
                                                 rng.random(30)))
    ax1, ax2 = fig.axes
    assert ax1.get_yscale() == "log" and len(ax1.lines) == 2
    assert len(ax2.get_legend().get_texts()) == 2


def test_player_and_explorer():
    html = chapter.reverse_player(np.zeros((3, 9, 9)), [100, 50, 0], bandwidth=0.2)
    assert html.count("data:image/jpeg;base64") == 3 and "h = 0.2" in html
    data = ds.digits()[:30]
    explorer = chapter.reverse_explorer(data, sch.linear_betas(20), bandwidths=(0.0, 0.2), n=4, stride=5)
    assert explorer.result.shape == (17, 17)  # 2 × 2 tiles of 8 × 8 with a 1-pixel gap
    start = explorer.result.copy()
    explorer.controls["i"].value = 0
    final = explorer.result
    assert not np.array_equal(start, final)
    explorer.controls["h"].value = 0.2
    assert not np.array_equal(explorer.result, final)


def test_empirical_sampler_memorises_and_matches_marginals():
    betas = sch.cosine_betas(60)
    ab = sch.alpha_bar(betas)
    rng = np.random.default_rng(1)
    out = rev.sample(CENTERS, betas, 3000, rng, record=[0, 10, 30])
    s0 = out["states"][0]
    # bandwidth 0: the last step returns E[U0|U1], a training image up to the weights of the
    # other components, exp(-O(d^2)/(2(1-ab_1))) with 1-ab_1 ~ 6e-4; a chain that happens to
    # sit between two components keeps ~1e-8 of the other; a non-memorising sampler would put
    # its samples O(0.1) away
    assert st.nearest_neighbour_distances(s0, CENTERS).max() < 1e-6
    # every training image is hit with frequency 1/4; SE sqrt(3/16/3000) = 0.008, 5 SE
    freq = np.bincount(np.argmin(((s0[:, None] - CENTERS) ** 2).sum(-1), 1), minlength=4) / 3000
    assert np.all(np.abs(freq - 0.25) < 0.04)
    for j, i in [(1, 10), (2, 30)]:
        exact = Mixture(CENTERS, 0.0).sample(float(ab[i]), 3000, rng)
        _, p = chapter.projection_ks_test(out["states"][j], exact, 8, rng)
        assert p > 1e-3  # level 1e-3 (Bonferroni over 8 directions)


def test_marginal_check_rejects_a_wrong_sampler():
    # wrong variant: deterministic steps (variance dropped) collapse the spread of u_i
    betas = sch.cosine_betas(60)
    ab = sch.alpha_bar(betas)
    rng = np.random.default_rng(2)
    u = rng.standard_normal((3000, 2))
    for i in range(60, 30, -1):
        a, b, _ = rev.ddpm_posterior_coefficients(betas, i)
        u = a * Mixture(CENTERS).posterior_mean(u, float(ab[i])) + b * u
    exact = Mixture(CENTERS, 0.0).sample(float(ab[30]), 3000, rng)
    _, p = chapter.projection_ks_test(u, exact, 8, rng)
    assert p < 1e-3


def test_smoothed_sampler_matches_marginal_at_step_zero():
    betas = sch.cosine_betas(60)
    rng = np.random.default_rng(3)
    h = 0.3
    s0 = rev.sample(CENTERS, betas, 3000, rng, bandwidth=h)["states"][0]
    exact = Mixture(CENTERS, h).sample(1.0, 3000, rng)
    _, p = chapter.projection_ks_test(s0, exact, 8, rng)
    assert p > 1e-3
    # not memorised: typical distance to the nearest centre is ~ h (a 2-d Rayleigh median
    # 1.18 h), far above zero
    assert np.median(st.nearest_neighbour_distances(s0, CENTERS)) > 0.5 * h


def test_helpers():
    rng = np.random.default_rng(5)
    # KL(N(mu, I) || N(0, I)) = |mu|^2 / 2 = 2; sample version: SE ~ sqrt(n/(2m)) ~ 0.03
    y = rng.standard_normal((4000, 4)) + np.array([2.0, 0, 0, 0])
    assert chapter.gaussian_fit_kl(y) == pytest.approx(2.0, abs=0.15)
    assert chapter.projection_ks_test(y, y[::-1] + 0.3, 4, rng)[1] < 1e-6


def test_marginal_report_size_and_power():
    betas = sch.cosine_betas(60)
    ab = sch.alpha_bar(betas)
    rng = np.random.default_rng(10)
    states = np.stack([Mixture(CENTERS, 0.1).sample(float(ab[i]), 500, rng) for i in (5, 20)])
    dirs = np.eye(2)
    ok = chapter.marginal_report(states, [5, 20], CENTERS, betas, 0.1, rng, directions=dirs)
    bad = chapter.marginal_report(states, [5, 20], CENTERS, betas, 0.1, rng, directions=dirs,
                            shift=5)
    assert np.all(ok["p"] > 1e-3)  # exact draws: rejection only at the 1e-3 level
    assert np.all(bad["p"] < 1e-3)  # five steps off is detected by the noise-level feature
    with pytest.raises(ValueError):
        chapter.marginal_report(states, [5, 20], CENTERS, betas, 0.1, rng, shift=50)


def test_verdict_section_exists_and_matches_the_checks():
    """One verdict, "holds with correction": traversal in law holds (tested above), but with the
    exact empirical score every sample is a training image, and replacement inpainting is not
    exact conditioning (tests/core/test_reverse.py)."""
    text = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])
    for verdict in chapter.VERDICTS:
        assert f"({verdict.section})=" in text, verdict.section
    assert "verdict_table(chapter.VERDICTS)" in text
    betas = sch.cosine_betas(40)
    s0 = rev.sample(CENTERS, betas, 200, np.random.default_rng(7))["states"][0]
    memorises = st.nearest_neighbour_distances(s0, CENTERS).max() < 1e-6
    assert memorises and [v.verdict for v in chapter.VERDICTS] == ["holds with correction"]
