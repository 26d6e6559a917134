"""Tested computations behind the book on Peter (SSVM 2023), *Generalised Scale-Space
Properties for Probabilistic Diffusion Models*.

One module per concept:

- :mod:`lib.schedules` — noise schedules β_i and ᾱ_i (index convention stated there);
- :mod:`lib.forward` — the forward process, paper Eqs. (1)–(5);
- :mod:`lib.stats` — checks of laws (standardisation, innovations, normality tests, power);
- :mod:`lib.data` — images and training sets that ship with installed packages;
- :mod:`lib.plotting` — every figure, player and widget (the only module that draws).
"""

from . import data, forward, plotting, schedules, stats

__all__ = ["data", "forward", "plotting", "schedules", "stats"]
__version__ = "0.1.0"
