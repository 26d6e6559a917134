"""Read (and so execute) the book's notebooks in parallel processes.

Jupyter Book 1.x's ``build`` command has no ``-j`` option, although its Sphinx builder takes
one; notebooks are executed while they are read (``execute_notebooks: inline``), so reading
them in parallel is what makes a clean build fast on a machine with several cores. Sphinx
decides at build time from ``app.parallel`` whether to fork readers, so setting it here has the
effect of ``sphinx-build -j N``. N is ``BOOK_JOBS`` from the environment, else the number of
cores this process may use. Sphinx itself falls back to serial reading when fewer than six
documents are out of date (an incremental rebuild) or an extension is not parallel-safe.

With N readers, each kernel gets cores/N BLAS threads (unless the environment already says),
so that parallel notebooks do not oversubscribe the cores.

Sphinx hands each reader a batch of about (documents / N) documents in alphabetical order, so
one reader got three notebooks and the other seven (the clean build took 66 s instead of ~50 s).
Notebooks differ in cost and there are few documents, so each document is its own batch: the
N readers take the next document as they finish, and the work balances.
"""

from __future__ import annotations

import os


def _jobs() -> int:
    value = os.environ.get("BOOK_JOBS", "")
    if value:
        jobs = int(value)
        if jobs < 1:
            raise ValueError(f"BOOK_JOBS must be a positive integer, got {value!r}")
        return jobs
    return max(1, len(os.sched_getaffinity(0)))


_BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Extensions that Jupyter Book sets up after ours and that do not declare parallel safety,
# with the reason each is safe to read in parallel:
# - sphinx-multitoc-numbering 0.1.3 only replaces TocTreeCollector.assign_section_numbers,
#   which runs in the main process after reading;
# - sphinx-mathjax-offline 0.0.2 only copies MathJax into _static at build-finished;
# - sphinx-jupyterbook-latex 1.0 adds nodes and transforms for the LaTeX builder and keeps no
#   state in the environment.
_SAFE_UNDECLARED = ("sphinx_multitoc_numbering", "sphinx-mathjax-offline", "sphinx_jupyterbook_latex")


def _declare_safe(app, env, docnames):
    for name in _SAFE_UNDECLARED:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True


def _one_document_per_batch(arguments, nproc, maxbatch=10):
    return [[argument] for argument in arguments]


def setup(app):
    jobs = _jobs()
    app.parallel = jobs
    threads = str(max(1, len(os.sched_getaffinity(0)) // jobs))
    for name in _BLAS_THREADS:  # inherited by the kernels the readers start
        os.environ.setdefault(name, threads)
    app.connect("env-before-read-docs", _declare_safe)
    import sphinx.builders  # Sphinx 7: the builder calls this module-level name to batch documents

    sphinx.builders.make_chunks = _one_document_per_batch
    return {"parallel_read_safe": True, "parallel_write_safe": True}
