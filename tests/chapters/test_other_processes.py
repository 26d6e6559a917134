"""Tests of the companion :mod:`lib.chapters.other_processes`.

Besides the drivers and figures, the declared verdicts are checked against computations: a
verdict is one fact with one source, and the source must agree with the numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from lib.chapters import other_processes as op
from lib.chapters.prose import VERDICT_KINDS, Verdict
from lib.core import processes as pr

from _shared import EPS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "chapters" / "other_processes.ipynb"


@pytest.fixture(scope="module")
def small():
    return op.book_processes((8, 8))


def notebook_labels() -> set:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells)
    return set(re.findall(r"^\((sec-[a-z0-9-]+)\)=", text, re.M))


# --- verdicts and the axioms table ----------------------------------------------------------------


def test_one_verdict_per_process_and_property():
    assert len(op.VERDICTS) == len(op.PROCESSES) * len(op.PROPERTIES)
    assert set(op.AXIOMS) == {(p, k) for p in op.PROCESSES for k in op.PROPERTIES}
    for v in op.VERDICTS:
        assert isinstance(v, Verdict) and v.verdict in VERDICT_KINDS and v.detail


def test_every_verdict_links_to_a_section_of_the_chapter():
    labels = notebook_labels()
    assert {v.section for v in op.VERDICTS} <= labels
    html = op.axioms_table_html()
    links = re.findall(r'href="#([^"]+)"', html)
    assert len(links) == len(op.VERDICTS) and set(links) <= labels
    assert html.count("<tr>") == len(op.PROPERTIES) + 1


def test_verdict_section_shows_every_verdict():
    from lib.chapters.prose import verdict_table

    text = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])
    assert "verdict_table(chapter.VERDICTS)" in text
    assert verdict_table(op.VERDICTS).data.count("\n| ") == len(op.VERDICTS)


def verdict(process, prop):
    return op.AXIOMS[(process, prop)].verdict


def test_markov_and_fokker_planck_verdicts_match_the_computation(small):
    for name, proc in small.items():
        assert proc.markov_check().is_markov == (verdict(name, "markov") == "holds")
        assert op.composition_errors(proc, np.random.default_rng(0), 50) <= 1
        g = pr.fokker_planck_coefficients(proc)[1]
        assert (g.min() >= 0) == (verdict(name, "fokker_planck") == "holds")


def test_lyapunov_verdicts_match_the_closed_forms(small):
    cs = (0.1, 1.0, 4.0)
    for name, proc in small.items():
        infos = [pr.gaussian_information(proc, c) for c in cs]
        up = [op.monotone_violation(i.entropy[1:], "up") / np.abs(i.entropy).max() <= 1e-9 for i in infos]
        expected = {"holds": all(up), "holds with correction": any(up) and not all(up), "fails": not any(up)}
        assert expected[verdict(name, "entropy")], name
        mi_ok = all(op.monotone_violation(i.mutual_information[1:], "down") <= 1e-9 * max(1, i.mutual_information[1:].max()) for i in infos)
        assert mi_ok and verdict(name, "information") in ("holds", "holds with correction")
        if proc.limit is not None:
            kl_ok = all(op.monotone_violation(i.kl_to_limit, "down") <= 1e-9 * max(1, i.kl_to_limit.max()) for i in infos)
            assert kl_ok == (verdict(name, "kl") == "holds"), name
        else:
            assert verdict(name, "kl") == "fails" and verdict(name, "steady") == "fails"


def test_permutation_verdicts_match_the_computation():
    image = np.random.default_rng(0).uniform(-1, 1, (12, 12))
    for name, proc in op.book_processes((12, 12)).items():
        res = op.permutation_errors(proc, image, proc.n_steps // 10, np.random.default_rng(1))
        all_exact = all(ok for _, _, ok in res.values())
        assert all_exact == (verdict(name, "permutation") == "holds")
        for kind in ("flip rows", "flip columns", "rotate 90°", "transpose"):
            err, bound, _ = res[kind]
            assert err <= bound
        if not all_exact:
            assert res["cyclic shift"][0] > 1e6 * res["cyclic shift"][1]


def test_maxmin_verdicts_match_the_computation(small):
    for name, proc in small.items():
        discrete_ok = all(pr.mean_operator(proc, i).min() >= -64 * EPS for i in range(0, proc.n_steps + 1, 25))
        assert discrete_ok
    for name, kind in (("IHD", "continuous"), ("BD", "continuous")):
        proc = op.book_processes((8, 8), eigenvalues=kind)[name]
        worst = min(pr.mean_operator(proc, i).min() for i in range(1, proc.n_steps + 1, 10))
        assert worst < -1e-3 and verdict(name, "maxmin") == "holds with correction"


# --- drivers --------------------------------------------------------------------------------------------


def test_book_processes_have_the_published_settings(small):
    assert set(small) == set(op.PROCESSES)
    assert small["VP"].n_steps == 1000 and small["IHD"].n_steps == 200
    np.testing.assert_allclose(np.sqrt(small["VE"].variance[[1, -1]]), [0.01, 50.0], rtol=1e-12)
    assert np.exp(small["IHD"].log_scale[1]).min() == pytest.approx(np.exp(-0.125 * 4 * 2 * np.sin(7 * np.pi / 16) ** 2))


def test_cat_trajectories_are_coherent_and_start_at_the_image():
    image = np.random.default_rng(0).uniform(-1, 1, (6, 9))
    rows = op.cat_trajectories(image, op.book_processes(image.shape), 4, np.random.default_rng(1))
    for name, (steps, snaps) in rows.items():
        assert steps[0] == 0 and snaps.shape == (len(steps),) + image.shape
        assert np.array_equal(snaps[0], image)


def test_monotone_violation():
    assert op.monotone_violation([1, 2, 3], "up") == 0
    assert op.monotone_violation([1, 3, 2], "up") == 1
    assert op.monotone_violation([3, 2, 2.5], "down") == 0.5
    assert op.monotone_violation([1, 0.9], "up", [0.1, 0.1]) == pytest.approx(0.1 / np.sqrt(0.02))


def test_heat_positivity_and_threshold():
    times = np.geomspace(0.01, 30, 60)
    assert op.heat_min_entry(16, times, "discrete").min() >= -64 * EPS
    cont = op.heat_min_entry(16, times, "continuous")
    assert cont.min() < -0.01
    t_star, worst = op.positivity_threshold(16, "continuous", times)
    assert 0.1 < t_star < 30 and worst == cont.min()
    assert np.all(cont[times >= t_star] >= -64 * EPS)
    assert op.positivity_threshold(16, "discrete", times)[0] == times[0]


def test_figures_fit_the_column(small):
    image = np.zeros((6, 9))
    rows = op.cat_trajectories(image, op.book_processes(image.shape), 3, np.random.default_rng(1))
    figs = [op.plot_trajectories(rows).figure]
    cs = [0.1, 1.0]
    curves = op.information_curves(small, cs)
    digits = np.random.default_rng(0).uniform(-1, 1, (20, 8, 8))
    mc = {"VP": pr.mixture_information_mc(small["VP"], digits, [10, 1000], 20, np.random.default_rng(0))}
    figs.append(op.plot_information(curves, mc, cs))
    times = np.geomspace(0.01, 10, 10)
    figs.append(op.plot_positivity((8,), times, {(8, "continuous"): op.heat_min_entry(8, times, "continuous")}, 8))
    for fig in figs:
        assert fig.get_size_inches()[0] <= 7.5 and fig.dpi == 100


def test_permutation_table_html():
    res = {"VP": {"flip": (0.0, 1e-12, True), "shift": (0.0, 1e-12, True)},
           "IHD": {"flip": (1e-16, 1e-12, False), "shift": (0.2, 1e-12, False)}}
    html = op.permutation_table_html(res)
    assert html.count("bit-exact") == 2 and "2.0e-01" in html


def test_explorer_builds_a_widget():
    widgets = pytest.importorskip("ipywidgets")
    image = np.zeros((6, 9))
    w = op.explorer(image, op.book_processes(image.shape))
    assert isinstance(w.widget, widgets.Widget) and w.result.shape == image.shape
    w.controls["process"].value = "IHD"
    w.controls["fraction"].value = 1.0
    np.testing.assert_allclose(w.result, np.clip(image, -1, 1), atol=0.1)  # IHD keeps a flat image


def test_explorer_player_is_self_contained():
    image = np.zeros((6, 9))
    html = op.explorer_player(image, op.book_processes(image.shape), fractions=[0.0, 1.0])
    assert html.count("data:image/jpeg;base64") == 2 and "https://" not in html
    assert 'alt="Animation of the cat' in html
