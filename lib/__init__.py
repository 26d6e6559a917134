"""Tested computations behind the book on Peter (SSVM 2023), *Generalised Scale-Space
Properties for Probabilistic Diffusion Models*.

Two layers; imports run only downward (checked by ``tests/test_architecture.py``):

- :mod:`lib.core` — the mathematics, by object: noise schedules, the forward process, Gaussian
  closed forms, the mixture of a training set under the forward process, statistics, grid
  permutations, osmosis, the 1-D Fokker–Planck equation, the reverse process, other linear
  Gaussian forward processes, local score machines, and the data sets. No drawing, no
  chapter knowledge; documented in the book's API reference.
- :mod:`lib.chapters` — one companion per chapter notebook, with the same file name: that
  chapter's experiments, figures, tables, explorers and verdicts; plus the shared figure
  primitives (:mod:`lib.chapters.common`) and what the prose shows (:mod:`lib.chapters.prose`).
"""

import importlib

_SUBPACKAGES = ("chapters", "core")
__all__ = list(_SUBPACKAGES)
__version__ = "0.2.0"


def __getattr__(name):
    # Subpackages load on first use (PEP 562): a chapter pays only for the modules it calls,
    # which keeps the import cost of every executed notebook down.
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lib' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBPACKAGES))
