"""Moved to :mod:`lib.core.forward` (issue 11); the old import path keeps working for the notebooks
that still use it. (``sample_marginals``, which only the forward-process chapter needs, is
:func:`lib.chapters.forward_process.sample_marginals`.)"""

from .core.forward import *  # noqa: F401,F403
from .core.forward import __all__  # noqa: F401
