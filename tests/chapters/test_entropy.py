"""lib.chapters.entropy: the entropy chapter's figures and explorer."""

import numpy as np
import pytest

import lib
from lib import entropy as en
from lib.chapters import entropy as chapter
from lib.chapters.common import Curve

I = np.arange(1, 11)
H = np.linspace(0.0, 5.0, 10)


def test_entropy_curves_figure(readable):
    curves = [Curve(I, H, label="exact"), Curve(I, H + 1, se=np.full(10, 0.1), label="mc")]
    fig = readable(chapter.entropy_curves_figure(curves, 2.0))
    ax, ax_z = fig.axes
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), H)
    np.testing.assert_allclose(ax_z.lines[0].get_ydata(), H - 2.0)  # the zoom is H − H(N(0, I))
    assert ax.get_xscale() == "log" and ax.get_ylabel() == r"$H(U_i)$ [nats]"
    with pytest.raises(ValueError, match="curves"):
        chapter.entropy_curves_figure([], 0.0)


def test_decomposition_figure(readable):
    h = [Curve(I, H, se=H / 10, label="digits")]
    mi = [Curve(I, H[::-1], se=H / 10)]
    fig = readable(chapter.decomposition_figure(h, mi, Curve(I, H), Curve(I, 2 * H)))
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), H)
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), 2 * H)  # Eq. (18), dotted
    assert "$H(U_i)$, digits" in [t.get_text() for t in fig.legends[0].get_texts()]
    with pytest.raises(ValueError, match="one length"):
        chapter.decomposition_figure(h, [], Curve(I, H))


def test_lyapunov_figure(readable):
    fig = readable(chapter.lyapunov_figure([Curve(I, H + 1, label="a")], [Curve(I, H + 1)]))
    assert all(a.get_yscale() == "log" for a in fig.axes)
    assert fig.axes[1].patches  # the shaded region N ≤ 1


def test_turn_figure(readable):
    fig = readable(chapter.turn_figure({5: (1.0, 0.1), 9: (-1.0, 0.1)}, (6, 8), scale=0.5, title="t"))
    assert fig.axes[0].patches  # the shaded bracket
    np.testing.assert_allclose(fig.axes[0].containers[0].lines[0].get_ydata(), [0.5, -0.5])


def test_scale_grid_figure(readable):
    r = dict(i=I, gauss_h=H, gauss_kl=H + 1, mc_i=I[::3], h=H[::3], h_se=H[::3] / 10,
             kl=H[::3] + 1, kl_se=H[::3] / 10)
    fig = readable(chapter.scale_grid_figure([r, r], ["$c = 1$", "$c = 2$"], 1.0))
    assert len(fig.axes) == 4
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), H - 1.0)
    assert fig.axes[0].get_title() == "$c = 1$"


def test_explorer_follows_the_sliders_and_samples_once_per_scale(monkeypatch):
    data = lib.data.digits()[::60]
    calls = []
    real = en.mixture_entropy_mc
    monkeypatch.setattr(en, "mixture_entropy_mc", lambda *a, **k: calls.append(1) or real(*a, **k))
    explorer = chapter.entropy_explorer(data, n_steps=100, n_grid=6, n_samples=40)
    c, beta = explorer.controls["c"], explorer.controls["beta"]
    cov = np.cov(data, rowvar=False, bias=True)
    first = explorer.result
    np.testing.assert_allclose(first["gauss_h"], en.gaussian_marginal_entropy(
        cov, lib.schedules.alpha_bar(lib.schedules.constant_betas(0.02, 100))[1:]), rtol=1e-12)
    c.value = 4.0
    assert not np.allclose(explorer.result["gauss_h"], first["gauss_h"])
    beta.value = 0.1
    np.testing.assert_allclose(explorer.result["gauss_h"], en.gaussian_marginal_entropy(
        16 * cov, lib.schedules.alpha_bar(lib.schedules.constant_betas(beta.value, 100))[1:]), rtol=1e-12)
    assert len(calls) == 2  # one Monte Carlo run per scale c; β only moves the points
    # the Monte Carlo points sit where ᾱ_i = (1 − β)^i equals their ᾱ, inside [1, T]
    r = explorer.result
    assert np.all((r["mc_i"] >= 1) & (r["mc_i"] <= 100)) and r["mc_i"].size >= 2
    c.value = 1.0
    assert len(calls) == 2  # cached
