"""lib.chapters.steady_state: the steady-state chapter's figures and explorer."""

import numpy as np
import pytest

import lib
from lib import schedules as sch
from lib.chapters import steady_state as chapter
from lib.chapters.common import Curve

I = np.arange(1, 11)
AB = np.linspace(0.9, 0.01, 10)


def test_rates_figure(readable):
    fig = readable(chapter.rates_figure(I, [np.sqrt(AB)], [AB], [AB / 2], [AB / 2], ["s"],
                                        mc=Curve(I, AB, AB / 10), mc_of=0))
    assert len(fig.axes) == 3 and all(ax.get_yscale() == "log" for ax in fig.axes)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), np.sqrt(AB))
    assert fig.axes[2].containers  # the Monte Carlo error bars
    with pytest.raises(ValueError, match="one length"):
        chapter.rates_figure(I, [AB], [AB], [AB], [], ["s"])


def test_kl_ratio_memory_and_detectability_figures(readable):
    fig = readable(chapter.kl_ratio_figure(AB, [1 + AB], [1 + AB], ["g"], mc=Curve(AB, 1 + AB, AB / 10, "m")))
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_xlabel() == r"$\bar\alpha_i$"
    fig = readable(chapter.memory_figure([Curve(I, AB, label="a"), Curve(I, AB / 2, label="b")], limit=0.5))
    assert len(fig.axes[0].lines) == 3
    fig = readable(chapter.detectability_figure(I, [AB, AB], I, [AB, AB], ["a", "b"],
                                                [(I[:3], AB[:3], AB[:3]), None], 2.5, 1.6))
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "$|Z|$"
    assert len(fig.axes[0].lines) == 4  # two curves, one set of draws, the critical value


def test_pixel_law_grid(readable):
    f = lib.data.cat(grey=True, factor=10)
    rng = np.random.default_rng(15)
    snaps = [rng.standard_normal(f.shape) for _ in range(2)]
    fig = readable(chapter.pixel_law_grid(snaps, f, [1e-3, 1e-4], ["a", "b"]))
    assert len(fig.axes) == 6 and fig.axes[3].get_ylabel() == "b"
    with pytest.raises(ValueError, match="one length"):
        chapter.pixel_law_grid(snaps, f, [1e-3], ["a", "b"])


def test_explorer_shows_eq5_with_one_noise_image():
    f = lib.data.cat(grey=True, factor=10)
    betas = [sch.linear_betas(100), sch.constant_betas(0.02, 100)]
    explorer = chapter.steady_state_explorer(f, betas, ["linear", "constant"], seed=3)
    schedule, step = explorer.controls["schedule"], explorer.controls["i"]
    step.value = 0
    np.testing.assert_allclose(explorer.result, f)  # ᾱ_0 = 1: the image itself
    step.value = 60
    xi = np.random.default_rng(3).standard_normal(f.shape)
    a = sch.alpha_bar(betas[0])[60]
    np.testing.assert_allclose(explorer.result, np.sqrt(a) * f + np.sqrt(1 - a) * xi, rtol=1e-12)
    first = explorer.result.copy()
    schedule.value = 1
    assert not np.allclose(explorer.result, first)  # the schedule changes ᾱ_i
    assert step.continuous_update is False and step.layout.width == "100%"
