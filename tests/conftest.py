"""Shared test set-up, held once: the hypothesis profile, the Agg backend, closing figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display in tests or CI

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
