"""Moved to :mod:`lib.core.data` (issue 11); the old import path keeps working for the notebooks."""

from .core.data import *  # noqa: F401,F403
from .core.data import __all__  # noqa: F401
