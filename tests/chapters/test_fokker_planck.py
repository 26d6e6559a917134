"""lib.chapters.fokker_planck: the Fokker–Planck chapter's figures and explorer."""

import numpy as np
import pytest

import lib
from lib.chapters import fokker_planck as chapter


def test_bimodal_start_is_the_one_lib_uses():
    assert chapter.BIMODAL_START == lib.fokker_planck._case()[:3]


def test_feller_moments_figure(readable):
    x = np.linspace(-3, 3, 5)
    fig = readable(chapter.feller_moments_figure(x, (x, x**2), (x, x**2), (0.1 + 0 * x, 0.1 + 0 * x), 0.1))
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == r"$\mathrm{E}[\Delta\,|\,x]$"
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), -0.05 * x)  # leading order −βx/2


def test_density_grid(readable):
    x = np.linspace(-4, 4, 9)
    edges = np.linspace(-4, 4, 5)
    h = [np.ones(4) / 8] * 4
    fig = readable(chapter.density_grid(x, edges, h, [0 * x] * 4, [0 * x] * 4, ["a", "b", "c", "d"]))
    assert len(fig.axes) == 6 and not fig.axes[5].axison  # two rows of three, one left empty
    assert fig.legends
    with pytest.raises(ValueError, match="one length"):
        chapter.density_grid(x, edges, h, [0 * x], [0 * x] * 4, ["a", "b", "c", "d"])


def test_explorer_moves_along_the_precomputed_paths():
    explorer = chapter.fokker_planck_explorer(max_step=40, stride=10, n_chains=500, n_cells=100)
    assert explorer.result == 40  # opens at step 5 · stride, clipped to the last step
    explorer.controls["i"].value = 20
    assert explorer.result == 20
    first = explorer.image.value
    explorer.controls["i"].value = 0
    assert explorer.result == 0 and explorer.image.value != first
