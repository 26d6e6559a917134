"""Tested computations behind the book on Peter (SSVM 2023), *Generalised Scale-Space
Properties for Probabilistic Diffusion Models*.

One module per concept:

- :mod:`lib.schedules` — noise schedules β_i and ᾱ_i (index convention stated there);
- :mod:`lib.forward` — the forward process, paper Eqs. (1)–(5);
- :mod:`lib.stats` — checks of laws (standardisation, innovations, normality tests, power);
- :mod:`lib.entropy` — Lyapunov sequences (entropies), paper Property 3;
- :mod:`lib.semigroup` — initial state and semigroup, paper Properties 1–2;
- :mod:`lib.permutation` — permutation invariance, paper Property 4;
- :mod:`lib.steady_state` — convergence to N(0, I), paper Property 5;
- :mod:`lib.fokker_planck` — Feller moments and the Fokker–Planck equation, paper Eqs. (23)–(25);
- :mod:`lib.reverse` — the reverse process with exact scores, paper Section 3.2;
- :mod:`lib.osmosis` — linear osmosis filtering, paper Eqs. (26)–(28);
- :mod:`lib.data` — images and training sets that ship with installed packages.

Figures, tables and explorers live in :mod:`lib.chapters`, one companion per chapter.
"""

import importlib

_SUBMODULES = (
    "data",
    "entropy",
    "fokker_planck",
    "forward",
    "osmosis",
    "permutation",
    "reverse",
    "schedules",
    "semigroup",
    "stats",
    "steady_state",
)
__all__ = list(_SUBMODULES)
__version__ = "0.1.0"


def __getattr__(name):
    # Submodules load on first use (PEP 562): a chapter pays only for the modules it calls,
    # which keeps the import cost of every executed notebook down.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lib' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
