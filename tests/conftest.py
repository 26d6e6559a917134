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
