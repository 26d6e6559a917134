"""The core of :mod:`lib`, organised by mathematical object (no drawing, no chapter knowledge).

- :mod:`lib.core.schedules` — noise schedules β_i and ᾱ_i;
- :mod:`lib.core.forward` — the forward process: transition law, closed form, bridge,
  caller-supplied noise (paper, Eqs. 1–5);
- :mod:`lib.core.gaussian` — closed forms for Gaussian data: entropies, KL, marginal moments;
- :mod:`lib.core.mixture` — a training set under the forward process: the exact Gaussian
  mixture (log-density, score, posterior mean, sampling, Monte Carlo entropy and KL);
- :mod:`lib.core.permutations` — permutations of the pixel grid (shuffles, cyclic translations,
  quarter turns, flips) as one object with its group operations (paper, Property 4);
- :mod:`lib.core.stats` — law tests, Kolmogorov–Smirnov tests on projections, power;
- :mod:`lib.core.osmosis` — linear osmosis: discretisation, matrix, steady state, Lyapunov
  functional, time stepping (paper, Eqs. 26–28);
- :mod:`lib.core.fokker_planck` — the 1-D Fokker–Planck equation by finite volumes (Eq. 24);
- :mod:`lib.core.reverse` — the DDPM reverse sampler with exact scores of the mixture;
- :mod:`lib.core.processes` — linear Gaussian forward processes diagonal in the pixel or DCT
  basis (VP, VE, inverse heat dissipation, blurring diffusion) in closed form;
- :mod:`lib.core.local_scores` — the equivariant, local and equivariant-local score machines
  (Kamb & Ganguli, 2025) and a reverse sampler driven by them;
- :mod:`lib.core.data` — images and training sets that ship with installed packages.

Imports run only downward: core modules import core modules, never the chapter modules.
"""

__all__ = [
    "data",
    "fokker_planck",
    "forward",
    "gaussian",
    "local_scores",
    "mixture",
    "osmosis",
    "permutations",
    "processes",
    "reverse",
    "schedules",
    "stats",
]


def __getattr__(name):
    # Modules load on first use (PEP 562), as in :mod:`lib`: ``lib.core.forward`` works after
    # ``import lib`` alone, and a chapter pays only for the modules it calls.
    if name in __all__:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lib.core' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
