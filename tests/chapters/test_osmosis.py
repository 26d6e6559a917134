"""lib.chapters.osmosis: the osmosis chapter's figures, player and explorer."""

import numpy as np
import pytest

from lib import osmosis as osm
from lib.chapters import osmosis as chapter
from lib.chapters.common import Curve

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
    v = osm.noise_guidance(f.shape, 5.0, np.random.default_rng(0))
    np.testing.assert_allclose(explorer.result, osm.steady_state(f, v))  # the last position is w
