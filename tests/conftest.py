"""Shared test set-up, held once: the hypothesis profile, the Agg backend, closing figures, and
one headless Chromium for the browser tests (the book's pages and JupyterLab)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display in tests or CI

import os  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# No example database (nothing written into the book's tree) and no deadline (the machines are
# shared and slow); each test sets its own max_examples.
settings.register_profile("book", database=None, deadline=None)
settings.load_profile("book")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so figures do not pile up across tests."""
    yield
    plt.close("all")


# Debian's Chromium, never a downloaded one; without the background-networking flags it tries
# to reach Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test process: Playwright's sync API cannot run two sessions in one
    process, and under pytest-xdist the page and JupyterLab tests may share a worker."""
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("the browser tests need Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- Notebooks executed once per run --------------------------------------------------------
# nbmake executes every chapter (the test that it runs top to bottom); each executed notebook is
# kept in a folder of this run, and the book build of tests/test_book.py renders those outputs
# instead of executing the notebooks again (_ext/stored_outputs.py, BOOK_EXECUTED_NOTEBOOKS).
# A notebook that failed under nbmake leaves a "<name>.failed" marker; the build then executes it
# itself, inline, and fails on the same error.

ROOT = Path(__file__).resolve().parents[1]
EXECUTED_ROOT = ROOT / "_build" / "executed"


def executed_folder(config) -> Path:
    """This run's folder of executed notebooks (the same for every pytest-xdist worker)."""
    return EXECUTED_ROOT / config.stash[_RUN_ID]


_RUN_ID = pytest.StashKey[str]()


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:  # the controller, or a run without xdist
        import time
        import uuid

        # pytest-xdist hands its workers the run's id (workerinput["testrunuid"]); give it ours
        run_id = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):
            config.option.testrunuid = run_id
        config.stash[_RUN_ID] = run_id
        # folders of runs that ended without cleaning up (killed), a day or older; never another
        # run's that may still be going
        for old in EXECUTED_ROOT.glob("*"):
            if old.is_dir() and time.time() - old.stat().st_mtime > 86_400:
                shutil.rmtree(old, ignore_errors=True)
        _share_the_cores(config)
        # Every process the run starts (workers, kernels, the build, JupyterLab) may write
        # bytecode: each module is then compiled once, when first imported, not by each of the
        # ~20 processes again (where PYTHONDONTWRITEBYTECODE is set, as on our CI), and the
        # README's test command need not compile all of site-packages at install (17 s).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        config.stash[_RUN_ID] = workerinput["testrunuid"]
    if config.pluginmanager.hasplugin("nbmake"):
        _keep_executed_notebooks(executed_folder(config))


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _share_the_cores(config) -> None:
    """Under pytest-xdist, each worker (and every kernel, build and JupyterLab it starts) gets
    cores/workers BLAS threads: the workers already use every core, and two-thread BLAS in each
    of two workers cost a fifth more CPU for the notebooks and the unit tests (measured: 116 ->
    95 and 88 -> 67 CPU seconds). Set in the controller, before it starts the workers; a value
    already in the environment is kept."""
    workers = getattr(config.option, "numprocesses", None)
    if not isinstance(workers, int) or workers < 2:
        return
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for name in BLAS_THREADS:
        os.environ.setdefault(name, threads)


def pytest_unconfigure(config):
    if getattr(config, "workerinput", None) is None and _RUN_ID in config.stash:
        shutil.rmtree(executed_folder(config), ignore_errors=True)


def _keep_executed_notebooks(folder: Path) -> None:
    """Wrap nbmake's execution so that it also writes the executed notebook into ``folder``."""
    import nbformat
    from nbmake.nb_run import NotebookRun

    if getattr(NotebookRun.execute, "keeps_copies", False):
        return
    execute = NotebookRun.execute

    def execute_and_keep(self):
        name = Path(self.filename).name
        folder.mkdir(parents=True, exist_ok=True)
        ok = False
        try:
            result = execute(self)
            ok = result.error is None
            if ok:
                nbformat.write(result.nb, str(folder / f".{name}.part"))
                (folder / f".{name}.part").replace(folder / name)  # whole or not at all
            return result
        finally:
            if not ok:  # the book build then executes this one itself (and meets the same error)
                (folder / f"{name}.failed").write_text("")

    execute_and_keep.keeps_copies = True
    NotebookRun.execute = execute_and_keep


def notebooks_of_this_run(session) -> set[str]:
    """Names of the notebooks nbmake executes in this run (after deselection)."""
    return {Path(item.filename).name for item in session.items if getattr(item, "nbmake", False)}


NOTEBOOK_WAIT_S = 900  # then the build executes whatever is missing itself


@pytest.fixture(scope="session")
def executed_notebooks(request) -> Path:
    """This run's folder of executed notebooks, once every notebook nbmake runs in this run has
    finished (on any worker). The order of the run puts the notebooks first."""
    import time

    folder = executed_folder(request.config)
    expected = notebooks_of_this_run(request.session)
    deadline = time.monotonic() + NOTEBOOK_WAIT_S
    while time.monotonic() < deadline and any(
        not (folder / name).exists() and not (folder / f"{name}.failed").exists() for name in expected
    ):
        time.sleep(0.5)
    return folder


# --- Order of the run -------------------------------------------------------------------------
# The book is built from the notebooks nbmake has executed, so the notebooks come first. Under
# pytest-xdist (`--dist worksteal`) each worker gets one contiguous part of the collection, and a
# worker that runs out takes the not-yet-started end of the longest queue: every part starts
# with its share of the notebooks; the first then builds the book (and checks its pages), the
# second runs JupyterLab; the many short unit tests fill the parts up and, sitting at their ends,
# are what an idle worker steals first.


def _kind(item) -> str:
    if getattr(item, "nbmake", False):
        return "notebook"
    if "printed_book" in getattr(item, "fixturenames", ()):
        return "pdf"  # waits for the PDF, which prints in the background while pages are checked
    if "built_book" in getattr(item, "fixturenames", ()):
        return "book"
    if item.nodeid.startswith("tests/test_jupyterlab.py"):
        return "lab"
    return "unit"


def _page_weight(item) -> float:
    """How long a page's check takes, roughly, for ordering (heaviest first, so that what an
    idle worker steals from the end is short): the API reference renders every docstring of
    lib.core and is the heaviest; a chapter weighs as much as its notebook's source."""
    name = getattr(item, "callspec", None) and item.callspec.params.get("name")
    if getattr(item, "originalname", "") != "test_page" or not name:
        return 0.0
    if name == "chapters/api.html":
        return float("inf")
    source = ROOT / name.replace(".html", ".ipynb")
    return float(source.stat().st_size) if source.exists() else 1.0


def _xdist_parts(n_items: int, workers: int) -> list[int]:
    """Sizes of the contiguous parts pytest-xdist's worksteal scheduler first sends the workers."""
    sizes, left = [], n_items
    for i in range(workers):
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    return sizes


def pytest_collection_modifyitems(config, items):
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    by_kind = {kind: [item for item in items if _kind(item) == kind] for kind in ("notebook", "book", "pdf", "lab", "unit")}
    if workers < 2:
        items[:] = by_kind["notebook"] + by_kind["book"] + by_kind["pdf"] + by_kind["lab"] + by_kind["unit"]
        return
    pages = sorted((item for item in by_kind["book"] if _page_weight(item)), key=_page_weight, reverse=True)
    book = [item for item in by_kind["book"] if not _page_weight(item)] + pages
    parts = [by_kind["notebook"][i::workers] for i in range(workers)]
    parts[0] += book + by_kind["pdf"]
    parts[1] += by_kind["lab"]
    rest, ordered = by_kind["unit"], []
    for part, size in zip(parts, _xdist_parts(len(items), workers)):
        take = max(0, size - len(part))
        ordered += part + rest[:take]
        rest = rest[take:]
    items[:] = ordered + rest
