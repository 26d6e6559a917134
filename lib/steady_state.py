"""Temporary shim (issue 11): the steady-state chapter's code is now :mod:`lib.chapters.steady_state`
and the mathematics :mod:`lib.core.gaussian` / :mod:`lib.core.mixture`. Only the entropy chapter
still imports these two core names from here; delete this module once it imports the core.
"""

from .core.gaussian import kl_gaussian_marginal
from .core.mixture import kl_to_standard_normal_mc

__all__ = ["kl_gaussian_marginal", "kl_to_standard_normal_mc"]
