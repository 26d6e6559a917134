"""lib.chapters.reverse: the reverse chapter's figures, player and explorer."""

import numpy as np
import pytest

import lib
from lib.chapters import reverse as chapter


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
    digits = lib.data.digits()[:6]
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
    data = lib.data.digits()[:30]
    explorer = chapter.reverse_explorer(data, lib.schedules.linear_betas(20), bandwidths=(0.0, 0.2), n=4, stride=5)
    assert explorer.result.shape == (17, 17)  # 2 × 2 tiles of 8 × 8 with a 1-pixel gap
    start = explorer.result.copy()
    explorer.controls["i"].value = 0
    final = explorer.result
    assert not np.array_equal(start, final)
    explorer.controls["h"].value = 0.2
    assert not np.array_equal(explorer.result, final)
