"""lib.chapters.common: style, image grid, curves, HTML table, offline player, explorer frame."""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lib.core import forward as fwd, schedules as sch, stats as st
from lib.chapters import common, prose


def test_to_display_maps_unit_range_and_clips():
    np.testing.assert_array_equal(common.to_display([-1.0, 0.0, 1.0, -3.0, 3.0]), [0, 0.5, 1, 0, 1])


def test_styled_applies_the_style_and_rejects_figures_wider_than_the_column(readable):
    @common.styled
    def small():
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set(xlabel="x", title="t")
        return fig

    fig = readable(small())
    assert fig.axes[0].xaxis.label.get_fontsize() >= common.MIN_FONT_SIZE

    @common.styled
    def wide():
        return plt.figure(figsize=(9, 3))

    with pytest.raises(RuntimeError, match="column"):
        wide()
    assert plt.rcParams["figure.dpi"] != 0  # the style is a context: nothing leaks
    assert plt.rcParams["xtick.labelsize"] == plt.rcParamsDefault["xtick.labelsize"]


def test_image_grid_lays_out_rows_titles_and_labels(readable):
    img = np.zeros((4, 6))
    grid = common.image_grid([[img, img, img], [img]], titles=["a", "b", "c"], row_labels=["r1", "r2\nx"])
    fig = readable(grid)
    assert len(fig.axes) == 4 and fig.get_size_inches()[0] == pytest.approx(common.COLUMN_WIDTH)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"] and fig.axes[3].get_title() == ""
    assert fig.axes[0].get_ylabel() == "r1" and fig.axes[3].get_ylabel() == "r2\nx"
    per_row = common.image_grid([[img], [img, img]], titles=[["x"], ["y", "z"]])
    assert [ax.get_title() for ax in per_row.figure.axes] == ["x", "y", "z"]
    with pytest.raises(ValueError, match="titles"):
        common.image_grid([[img]], titles=["a", "b"])
    with pytest.raises(ValueError, match="row labels"):
        common.image_grid([[img]], row_labels=["a", "b"])
    with pytest.raises(ValueError, match="width"):
        common.image_grid([[img]], width=9.0)


def test_raster_is_a_jpeg_or_png_and_not_shown_twice():
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1, 1, size=(400, 600))  # finer than the screen, like the photo grids
    jpeg = common.image_grid([[noise, noise]])
    assert plt.get_fignums() == []  # closed: the inline backend will not show it again
    data = jpeg._repr_mimebundle_()["image/jpeg"]
    assert data[:3] == b"\xff\xd8\xff"
    png = common.image_grid([[noise, noise]], format="png")
    assert png._repr_mimebundle_()["image/png"][:4] == b"\x89PNG"
    assert len(data) < len(png.to_bytes()) / 2  # why photo and noise grids are JPEG
    with pytest.raises(ValueError, match="format"):
        common.Raster(plt.figure(), format="gif")


def test_trajectory_grid_has_one_panel_per_step_and_row(readable):
    snaps = np.zeros((3, 4, 6))
    fig = readable(common.trajectory_grid([snaps, snaps], ["a", "b"], [0, 1, 2]))
    assert len(fig.axes) == 6 and fig.axes[2].get_title() == "$i = 2$"
    with pytest.raises(ValueError, match="3 steps"):
        common.trajectory_grid([snaps[:2]], ["a"], [0, 1, 2])


def test_curve_and_draw_curve():
    fig, ax = plt.subplots()
    line = common.draw_curve(ax, common.Curve([1, 2, 3], [1.0, 2.0, 3.0], label="exact"), "C0")
    np.testing.assert_array_equal(line.get_ydata(), [1, 2, 3])
    assert line.get_label() == "exact"
    bars = common.draw_curve(ax, common.Curve([1, 2], [1.0, 2.0], se=[0.1, 0.2]), "C1", offset=1.0, label=None)
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [0.0, 1.0])  # markers, offset applied
    with pytest.raises(ValueError, match="one shape"):
        common.Curve([1, 2], [1.0])
    common.log_step_axes(ax)
    assert ax.get_xscale() == "log"


def test_time_curves_and_convergence_orders(readable):
    t = np.array([1.0, 10.0, 100.0])
    fig = readable(common.time_curves([common.Curve(t, 1 / t, label="p"), common.Curve(t, 0 * t, label="q")],
                                      ylabel="y", styles=[{}, dict(ls="--")]))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "y"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 1e-17)  # clipped at the floor on a log axis
    with pytest.raises(ValueError, match="style"):
        common.time_curves([common.Curve(t, t)], ylabel="y", styles=[{}, {}])
    fig = readable(common.convergence_orders([("space", "$h$", [0.1, 0.05], [1e-2, 2.5e-3], 2),
                                              ("time", r"$\tau$", [0.1, 0.05], [1e-2, 5e-3], 1)]))
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "space"
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), [1e-2, 2.5e-3])  # slope 2 through the last point


def test_html_table_is_the_one_table_builder():
    html = common.html_table(["a", "b"], [[1, 2], [3, "<b>no</b>"]])
    assert html.count("<tr>") == 3 and html.count("<td") == 4 and "<b>no</b></td>" in html
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        common.html_table(["a", "b"], [[1]])


def test_report_table_marks_rejections():
    u0 = np.zeros((200, 8))
    betas = sch.constant_betas(0.1, 20)
    steps = [5, 10, 20]
    rng = np.random.default_rng(1)
    reports = [
        st.trajectory_report(fwd.sample_trajectory(u0, betas, steps, rng), u0, betas, steps),
        st.trajectory_report(np.stack([fwd.sample_marginal(u0, betas, s, rng) for s in steps]),
                                    u0, betas, steps),
    ]
    html = common.report_table(reports, ["traj", "indep"])
    assert html.count("<tr>") == 3
    assert html.count("<b>rejected</b>") == 1  # the independent draws, not the trajectory
    with pytest.raises(ValueError, match="names"):
        common.report_table(reports, ["traj"])


def test_player_is_offline_accessible_and_scales_to_the_column():
    rng = np.random.default_rng(0)
    frames = rng.uniform(-1, 1, size=(4, 8, 10))
    html = common.player(frames, [f"i = {k}" for k in range(4)], alt="noise frames")
    assert "https://" not in html and "http://" not in html  # no CDN stylesheet or font
    assert "fa fa-" not in html
    assert html.count("data:image/jpeg;base64") == 4  # one embedded frame per snapshot
    assert 'alt="noise frames"' in html  # axe: images must have alternative text
    assert 'type="range" aria-label="frame"' in html  # axe: form elements must have labels
    assert ".animation img { max-width: 100%; height: auto; }" in html
    with pytest.raises(ValueError, match="captions"):
        common.player(frames, ["a", "b"], alt="x")
    with pytest.raises(ValueError, match="alt"):
        common.player(frames, list("abcd"), alt="")


def test_explorer_redraws_on_release_with_a_status_line():
    calls = []

    def draw(n: int, colour: str):
        calls.append((n, colour))
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(range(n), color=colour)
        return fig, (n, colour)

    slider = widgets.IntSlider(value=3, min=1, max=1000)
    menu = widgets.Dropdown(options=["red", "blue"], value="red")
    explorer = common.explorer(draw, n=slider, colour=menu)
    assert explorer.result == (3, "red") and calls == [(3, "red")]
    assert slider.continuous_update is False  # a drag recomputes once, on release
    assert slider.layout.width == "100%"  # 1000 steps need more than 125 px
    first = explorer.image.value
    assert first[:4] == b"\x89PNG"
    slider.value = 500
    assert explorer.result == (500, "red") and explorer.image.value != first
    menu.value = "blue"
    assert explorer.result == (500, "blue")
    assert "shown in" in explorer.status.value and explorer.seconds >= 0
    assert plt.get_fignums() == []
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_figures_of_every_cell_show_in_a_kernel(tmp_path):
    """Jupyter's inline backend shows a cell's figures only in interactive mode; the style's
    rc_context must not switch that off when the first figure activates the backend (it did:
    only the first figure of each notebook was shown)."""
    import os
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    import lib as package

    root = str(Path(package.__file__).parent.parent)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        f"import sys; sys.path.insert(0, {root!r})\nfrom lib.chapters import common\n"
        "fig = common.time_curves([common.Curve([1, 10], [1, 2], label='a')], ylabel='y')")]
    nb.cells += [nbformat.v4.new_code_cell(
        "fig = common.time_curves([common.Curve([1, 10], [2, 1], label='b')], ylabel='y')")]
    nb.cells += [nbformat.v4.new_code_cell("common.image_grid([[__import__('numpy').zeros((4, 6))]])")]
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline")
    os.environ.update(MPLBACKEND=env["MPLBACKEND"])
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.pop("MPLBACKEND")
    kinds = [[k for o in cell.outputs for k in o.get("data", {})] for cell in nb.cells]
    assert "image/png" in kinds[0] and "image/png" in kinds[1], kinds
    assert "image/jpeg" in kinds[2] and "image/png" not in kinds[2], kinds  # the grid once, as JPEG


def test_row_labels_wrap_between_words_only():
    assert common._wrap("(c) homogeneous diffusion", 0.6) == "(c)\nhomogeneous\ndiffusion"
    assert common._wrap("linear", 0.6) == "linear"
    assert common._wrap("$\\beta_j = c/j^2$ long maths", 0.3) == "$\\beta_j = c/j^2$ long maths"  # maths is never split


def test_values_add_returns_nothing_to_print():
    """A cell that ends in v.add(...) must show no output (it printed the Values object into the
    page, and in a figure cell myst-nb made it a second figure)."""
    v = prose.Values()
    assert v.add("x", 1.68e-9, ".1e") is None
    assert v.x == "1.7 × 10⁻⁹" and v.raw("x") == 1.68e-9


def test_same_length_checks_arguments_that_go_together():
    assert common.same_length(a=(1, 2), b={"x": 1, "y": 2}.keys()) == [[1, 2], ["x", "y"]]
    with pytest.raises(ValueError, match=r"a, b must be non-empty and of one length, got lengths \[2, 1\]"):
        common.same_length(a=[1, 2], b=[1])
    with pytest.raises(ValueError, match="non-empty"):
        common.same_length(a=[], b=[])
