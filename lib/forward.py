"""Forward-process chapter: what only the first chapter needs on top of :mod:`lib.core.forward`.

The forward process itself moved to :mod:`lib.core.forward` (issue 11); its names are
re-exported here until the notebooks import the core directly.
"""

from __future__ import annotations

import numpy as np

from .core._validation import check_betas, check_steps
from .core.forward import *  # noqa: F401,F403
from .core.forward import __all__ as _core_all
from .core.forward import sample_marginal

__all__ = sorted(_core_all + ["sample_marginals"])


def sample_marginals(u0, betas, steps, rng: np.random.Generator) -> np.ndarray:
    """Independent closed-form draws from p(u_i | u_0) at each requested step (Eq. 5).

    Each snapshot has the right marginal law, but the snapshots are independent of each other:
    this is *not* a trajectory (compare :func:`sample_trajectory`). The book uses it to show
    that the innovation test of :func:`lib.core.stats.innovations` tells the two apart.

    Returns
    -------
    samples : ndarray, shape (len(steps),) + u0.shape
    """
    n_steps = check_betas(betas).size
    steps = check_steps(steps, n_steps)
    return np.stack([sample_marginal(u0, betas, step, rng) for step in steps.tolist()])

