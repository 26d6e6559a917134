"""Moved to :mod:`lib.core.schedules` (issue 11); the old import path keeps working for the notebooks."""

from .core.schedules import *  # noqa: F401,F403
from .core.schedules import SCHEDULES  # noqa: F401
from .core.schedules import __all__ as _core_all

__all__ = sorted(_core_all + ["SCHEDULES"])
