"""lib.plotting: figures, the offline player and the Jupyter explorer really show the data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import lib
from lib import plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_to_display_maps_unit_range_and_clips():
    np.testing.assert_array_equal(plotting.to_display([-1.0, 0.0, 1.0, -3.0, 3.0]), [0, 0.5, 1, 0, 1])


def test_trajectory_grid_has_one_panel_per_step_and_row():
    snaps = np.zeros((3, 4, 6))
    fig = plotting.plot_trajectory_grid({"a": snaps, "b": snaps}, [0, 1, 2])
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="3 steps"):
        plotting.plot_trajectory_grid({"a": snaps[:2]}, [0, 1, 2])


def test_player_is_offline_and_holds_every_frame():
    rng = np.random.default_rng(0)
    snaps = rng.uniform(-1, 1, size=(4, 8, 10))
    html = plotting.trajectory_player(snaps, [0, 1, 2, 3])
    assert "https://" not in html and "http://" not in html  # no CDN stylesheet or font
    assert "fa fa-" not in html
    assert html.count("data:image/jpeg;base64") == 4  # one embedded frame per snapshot
    assert 'type="range"' in html
    with pytest.raises(ValueError, match="snapshots"):
        plotting.trajectory_player(snaps, [0, 1])


def test_report_table_marks_rejections():
    u0 = np.zeros((200, 8))
    betas = lib.schedules.constant_betas(0.1, 20)
    steps = [5, 10, 20]
    rng = np.random.default_rng(1)
    reports = {
        "traj": lib.stats.trajectory_report(lib.forward.sample_trajectory(u0, betas, steps, rng), u0, betas, steps),
        "indep": lib.stats.trajectory_report(lib.forward.sample_marginals(u0, betas, steps, rng), u0, betas, steps),
    }
    html = plotting.report_table(reports)
    assert html.count("<tr>") == 3
    assert html.count("<b>rejected</b>") == 1  # the independent draws, not the trajectory


def test_explorer_sliders_change_the_image():
    image = lib.data.cat(grey=True, factor=10)
    explorer = plotting.forward_explorer(image, max_step=100, stride=10, seed=5)
    step, beta = explorer.children[:2]
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


def test_schedule_and_law_figures():
    fig = plotting.plot_schedules({"linear": lib.schedules.linear_betas(50)})
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 1
    fig = plotting.plot_law_check({"z": np.random.default_rng(0).standard_normal(1000)})
    assert len(fig.axes) == 2
    fig = plotting.plot_power(np.arange(1, 10), np.linspace(1, 0, 9))
    assert fig.axes[0].get_xscale() == "log"


def test_semigroup_explorer_recomputes_on_every_slider():
    data = lib.data.digits()[:200]
    schedules = {"linear": lib.schedules.linear_betas(100), "cosine": lib.schedules.cosine_betas(100)}
    directions = lib.semigroup.random_directions(64, 4, np.random.default_rng(0))
    explorer = plotting.semigroup_explorer(data, schedules, directions, n=300, seed=1)
    schedule, step, ell = explorer.children[:3]
    first = explorer.result
    step.value = 80
    second = explorer.result
    schedule.value = "cosine"
    third = explorer.result
    assert 0.0 <= first.pvalue <= 1.0
    # each control redraws: new samples give new KS statistics
    assert not np.array_equal(first.statistics, second.statistics)
    assert not np.array_equal(second.statistics, third.statistics)
