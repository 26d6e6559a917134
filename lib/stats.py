"""Moved to :mod:`lib.core.stats` (issue 11); the old import path keeps working for the notebooks."""

from .core.stats import *  # noqa: F401,F403
from .core.stats import __all__  # noqa: F401
