"""BLAS thread limits for the few solvers that are faster single-threaded here.

On the book's 2-core machines, threaded BLAS made the osmosis Krylov solver and the
reverse-process sampler several times slower (small matrix-vector work, thread hand-off).
"""

from __future__ import annotations

import contextlib

try:  # threadpoolctl ships with scikit-learn; without it BLAS keeps its own setting
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None


def blas_limit(threads: int | None):
    """Context manager limiting BLAS to ``threads`` threads (``None``: leave it alone)."""
    if _threadpool_limits is None or threads is None:
        return contextlib.nullcontext()
    return _threadpool_limits(limits=threads, user_api="blas")
