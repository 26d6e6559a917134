"""Shared by the companion tests: the Agg backend, closing figures after each test, and a
check that a figure reads well in the book's column."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

from lib.chapters import common


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _readable(figure):
    """Assert that ``figure`` (a matplotlib Figure or a common.Raster) fits the column, keeps an
    opaque white background and uses no font under 9 pt; return the Figure."""
    fig = figure.figure if isinstance(figure, common.Raster) else figure
    width = fig.get_size_inches()[0]
    assert width <= common.COLUMN_WIDTH + 1e-9, f"{width} in wider than the column"
    assert fig.dpi == common.DPI
    assert matplotlib.colors.to_rgba(fig.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    fig.canvas.draw()
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
             if t.get_text().strip() and t.get_visible() and t.get_fontsize() < common.MIN_FONT_SIZE]
    assert not small, f"text under {common.MIN_FONT_SIZE} pt: {small[:5]}"
    return fig


@pytest.fixture
def readable():
    return _readable
