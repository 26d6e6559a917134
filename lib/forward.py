"""Moved to :mod:`lib.core.forward` (issue 11); the old import path keeps working for the notebooks."""

from .core.forward import *  # noqa: F401,F403
from .core.forward import __all__  # noqa: F401
