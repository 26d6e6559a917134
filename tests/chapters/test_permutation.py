"""lib.chapters.permutation: the permutation chapter's figures, player and explorer."""

import numpy as np
import pytest

import lib
from lib import permutation as pm
from lib import schedules as sch
from lib.chapters import permutation as chapter


def test_side_by_side_frames():
    a, b = np.zeros((3, 4, 5, 3)), np.ones((3, 4, 2, 3))
    frames = chapter.side_by_side([a, b, a], gap=2)
    assert frames.shape == (3, 4, 5 + 2 + 2 + 2 + 5, 3)
    np.testing.assert_array_equal(frames[:, :, 5:7], 1.0)  # white spacer
    with pytest.raises(ValueError, match="agree in K, H"):
        chapter.side_by_side([a, np.zeros((2, 4, 5, 3))])


def test_player_shows_frames_at_their_own_resolution():
    u = np.zeros((2, 10, 20))
    html = chapter.permutation_player(u, u, u, [0, 10])
    assert html.count("data:image/jpeg;base64") == 2 and "P⁻¹(v_i), identical to u_i" in html


def test_permutation_grid(readable):
    fig = readable(chapter.permutation_grid([[np.zeros((4, 6)), np.zeros((6, 4))]], ["r1"], ["a", "b"]))
    assert len(fig.axes) == 2 and fig.axes[1].images[0].get_array().shape == (6, 4)
    with pytest.raises(ValueError, match="2 images for 3 columns"):
        chapter.permutation_grid([[np.zeros((4, 6))] * 2], ["r1"], ["a", "b", "c"])


def test_commutation_figure(readable):
    errors = {"x": 0.5, "y": 0.0}  # dict views are sequences enough
    fig = readable(chapter.commutation_figure([np.zeros((4, 6))] * 2, ["$f$", "$G(f)$"], errors.values(),
                                              errors.keys()))
    bars = fig.axes[-1].patches
    assert len(fig.axes) == 3 and len(bars) == 2
    assert any("exact" in t.get_text() for t in fig.axes[-1].texts)  # a zero error is labelled
    with pytest.raises(ValueError, match="errors, labels must be non-empty and of one length"):
        chapter.commutation_figure([np.zeros((4, 6))], ["f"], [0.5], [])


def test_explorer_shows_the_coupled_trajectories():
    image = lib.data.cat(grey=True, factor=12)
    perms = [pm.random_permutation(image.shape, np.random.default_rng(0)), pm.rotation90(image.shape)]
    explorer = chapter.permutation_explorer(image, perms, ["shuffle", "rotation"], max_step=40, stride=10, seed=3)
    step, choice = explorer.controls["i"], explorer.controls["which"]
    step.value = 0
    u, v, back = explorer.result
    np.testing.assert_array_equal(u, image.astype(np.float32))
    np.testing.assert_array_equal(v, pm.apply(perms[0], image.astype(np.float32)))
    step.value = 30
    u, v, back = explorer.result
    expected_u, expected_v = pm.coupled_trajectories(
        image.astype(np.float32), perms[0], sch.constant_betas(0.02, 40), [30], np.random.default_rng(3))
    np.testing.assert_array_equal(u, expected_u[0])
    np.testing.assert_array_equal(v, expected_v[0])
    np.testing.assert_array_equal(back, u)  # the un-shuffled v_i is u_i
    choice.value = 1
    assert explorer.result[1].shape == image.shape[::-1]  # the rotated grid is W × H
    np.testing.assert_array_equal(explorer.result[2], explorer.result[0])
