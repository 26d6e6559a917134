"""lib.chapters.forward_process: the forward chapter's figures, player and explorer."""

import numpy as np
import pytest

import lib
from lib.chapters import forward_process as chapter


def test_schedules_figure(readable):
    fig = readable(chapter.schedules_figure([lib.schedules.linear_betas(50), lib.schedules.cosine_betas(50)],
                                            ["linear", "cosine"]))
    ax_b, ax_a = fig.axes
    assert len(ax_a.lines) == 2 and ax_b.get_yscale() == "log"
    assert ax_a.get_ylabel() == r"$\bar\alpha_i$"
    np.testing.assert_allclose(ax_a.lines[0].get_ydata(), lib.schedules.alpha_bar(lib.schedules.linear_betas(50)))
    with pytest.raises(ValueError, match="labels"):
        chapter.schedules_figure([lib.schedules.linear_betas(50)], [])


def test_law_check_figure(readable):
    z = np.random.default_rng(0).standard_normal(1000)
    fig = readable(chapter.law_check_figure([z, 2 * z], ["a", "b"]))
    ax_h, ax_q = fig.axes
    assert len(ax_h.patches) == 2 and len(ax_q.lines) == 3  # two samples and the diagonal
    assert ax_q.get_xlabel() == r"$\mathcal{N}(0, 1)$ quantile"


def test_power_figure(readable):
    fig = readable(chapter.power_figure(np.arange(1, 10), np.linspace(1, 0, 9), label="test"))
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_ylim()[1] == pytest.approx(1.02)


def test_trajectory_player_describes_itself():
    frames = np.zeros((3, 6, 9))
    html = chapter.trajectory_player(frames, [0, 10, 20], beta=0.02)
    assert html.count("data:image/jpeg;base64") == 3 and "β = 0.02, from step 0 to step 20" in html


def test_explorer_opens_at_step_10_and_follows_the_sliders():
    image = lib.data.cat(grey=True, factor=10)
    explorer = chapter.forward_explorer(image, max_step=100, stride=10, seed=5)
    step, beta = explorer.controls["i"], explorer.controls["beta"]
    assert step.value == 10 and step.continuous_update is False
    step.value = 0
    np.testing.assert_allclose(explorer.result, image, atol=1e-6)  # float32 copy of u_0
    step.value = 50
    first = explorer.result.copy()
    expected = lib.forward.sample_trajectory(
        image.astype(np.float32), lib.schedules.constant_betas(beta.value, 100),
        np.arange(0, 101, 10), np.random.default_rng(5),
    )[5]
    np.testing.assert_array_equal(first, expected)  # the slider shows the coherent path
    beta.value = 0.1
    assert not np.allclose(explorer.result, first)  # β moves the image too
