"""lib.chapters.semigroup: the semigroup chapter's tables, figures and explorer."""

from types import SimpleNamespace

import numpy as np
import pytest

import lib
from lib.chapters import semigroup as chapter


def test_composition_errors_figure(readable):
    betas = [lib.schedules.linear_betas(40), lib.schedules.cosine_betas(40)]
    closed = [lib.semigroup.composition_errors(b, method="closed") for b in betas]
    iterated = [lib.semigroup.composition_errors(b, method="iterated") for b in betas]
    fig = readable(chapter.composition_errors_figure(closed, iterated, ["linear", "cosine"]))
    assert len(fig.axes) == 2 and all(len(ax.lines) == 4 for ax in fig.axes)  # error + bound each
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    with pytest.raises(ValueError, match="length"):
        chapter.composition_errors_figure(closed, iterated[:1], ["linear", "cosine"])


def test_two_path_figure(readable):
    rng = np.random.default_rng(0)
    cells = {(10, 5): (rng.normal(size=50), rng.normal(size=50), 0.5),
             (30, 20): (rng.normal(size=50), rng.normal(size=50), 0.01)}
    fig = readable(chapter.two_path_figure([cells, dict(list(cells.items())[:1])], ["linear", "cosine"]))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and visible[0].get_ylabel() == "linear"
    assert visible[1].get_title() == r"$i = 30$, $\ell = 20$: $p$ = 0.01"


def test_gaussian_semigroup_figure(readable):
    img = np.zeros((8, 12))
    fig = readable(chapter.gaussian_semigroup_figure(img, img, img, (1.0, 2.0), ["0.5, 1", "1, 2"],
                                                     [[1e-3, 1e-5], [1e-2, 1e-4]], ["measured", "bound"]))
    assert len(fig.axes) == 4 and fig.axes[3].get_yscale() == "log"
    assert [t.get_text() for t in fig.axes[3].get_legend().get_texts()] == ["measured", "bound"]


def test_tables():
    html = chapter.composition_table([[1e-3, 2e-3], [3e-3, 4e-3]], ["additive", "skip"], ["linear", "cosine"])
    assert html.count("<tr>") == 3 and "4.00e-03" in html
    with pytest.raises(ValueError, match="shape"):
        chapter.composition_table([[1e-3]], ["a", "b"], ["c"])
    rate = SimpleNamespace(rejections=2, reps=2, alpha=1e-3, pvalues=np.array([0.0, 1e-5]),
                           interval=lambda: (0.16, 1.0))  # the fields of a semigroup.RejectionRate
    html = chapter.rejection_table([rate], ["variances added"])
    assert ">2 / 2</td>" in html and "[0.16, 1.00]" in html and "α = 0.001" in html


def test_explorer_recomputes_on_every_control():
    data = lib.data.digits()[:200]
    betas = [lib.schedules.linear_betas(100), lib.schedules.cosine_betas(100)]
    directions = lib.semigroup.random_directions(64, 4, np.random.default_rng(0))
    explorer = chapter.semigroup_explorer(data, betas, ["linear", "cosine"], directions, n=300, seed=1)
    first = explorer.result
    explorer.controls["i"].value = 80
    second = explorer.result
    explorer.controls["schedule"].value = 1
    third = explorer.result
    assert 0.0 <= first.pvalue <= 1.0
    # each control redraws: new samples give new KS statistics
    assert not np.array_equal(first.statistics, second.statistics)
    assert not np.array_equal(second.statistics, third.statistics)
    assert all(c.layout.width == "100%" for c in explorer.controls.values())
