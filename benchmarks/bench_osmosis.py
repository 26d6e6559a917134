"""Benchmark: implicit osmosis on the 300×451 grey cat (paper, Eq. 26 and Fig. 1b).

Guidance: v = 5 + N(0, I) (seed 0), f = grey values in [1, 256], h = 1.

1. 100 implicit steps at τ = 1.
   Baseline: the paper's solver set-up as we read it — unpreconditioned BiCGSTAB, cold start
   (x0 = 0) in every step, relative residual 1e-9 (lib.core.osmosis.evolve, method="bicgstab-cold").
   Candidate: lib.core.osmosis.evolve(method="auto"), which picks the Lanczos method here.
2. Evolution to t = 1000 with τ = 100 (10 steps).
   Baseline: per-step BiCGSTAB, cold and warm. Candidate: method="auto" (one sparse LU
   factorisation reused for the 10 steps).
3. The steady state: closed form w = (μ_f/μ_v) v, no linear solve.

Accuracy: every result is compared with a direct-solver reference (splu, residual ~1e-16),
and the relative residual ‖(I − τA)u^{k+1} − u^k‖ / ‖u^k‖ of the checked steps is printed.
Baseline and candidate are timed in the same run, interleaved, best of ``--repeats``; the ratio
is what counts on a shared, noisy machine.
Run: python benchmarks/bench_osmosis.py [--repeats 3]
"""

import argparse
import time

import numpy as np

from lib.core import data
from lib.chapters import osmosis as chapter
from lib.core import osmosis as osm


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def race(candidates: dict, repeats: int) -> dict:
    """Best time and last result of each callable, runs interleaved."""
    best = {name: np.inf for name in candidates}
    results = {}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t, results[name] = timed(fn)
            best[name] = min(best[name], t)
    return {name: (best[name], results[name]) for name in candidates}


def report(title, runs, reference, baseline, candidate, f):
    print(f"\n{title}")
    scale = float(np.abs(reference).max())
    for name, (t, (u, info)) in runs.items():
        err = float(np.abs(u - reference).max()) / scale
        print(
            f"  {name:<30s} {t:7.3f} s | {','.join(info.methods):<13s} {sum(info.iterations):5d} it. "
            f"| max |u - ref|/max ref "
            f"{err:8.1e} | residual {info.residual:8.1e} | mass err {chapter.mass_error(u, f):8.1e} "
            f"| min u {float(u.min()):.3f}"
        )
    (t_b, (u_b, _)), (t_c, (u_c, _)) = runs[baseline], runs[candidate]
    diff = float(np.abs(u_b - u_c).max()) / scale
    print(f"  ratio {baseline} / {candidate}: {t_b / t_c:.1f}x; max |baseline - candidate|/max ref {diff:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    f = chapter.unit_to_grey(data.cat(grey=True))
    v = chapter.noise_guidance(f.shape, 5.0, np.random.default_rng(0))
    A = osm.osmosis_matrix(osm.canonical_drift(v))
    weight = v.ravel()
    print(f"grey cat {f.shape}, {f.size} unknowns, best of {args.repeats}, runs interleaved")

    def run(times, tau, method):
        def go():
            u, info = osm.evolve(f, A, times, tau, method=method, weight=weight, return_info=True)
            return u[-1], info

        return go

    # 1. 100 steps at tau = 1 (times 99 and 100 so that every method's last step is checked)
    times = [99.0, 100.0]
    reference, _ = run(times, 1.0, "splu")()
    runs = race({
        "paper: BiCGSTAB, cold start": run(times, 1.0, "bicgstab-cold"),
        "auto (Lanczos)": run(times, 1.0, "auto"),
        "BiCGSTAB, warm start": run(times, 1.0, "bicgstab"),
        "splu (one LU, 100 solves)": run(times, 1.0, "splu"),
    }, args.repeats)
    report("1. 100 implicit steps, tau = 1", runs, reference,
           "paper: BiCGSTAB, cold start", "auto (Lanczos)", f)

    # 2. to t = 1000 with tau = 100
    times = [900.0, 1000.0]
    reference, _ = run(times, 100.0, "splu")()
    runs = race({
        "paper: BiCGSTAB, cold start": run(times, 100.0, "bicgstab-cold"),
        "BiCGSTAB, warm start": run(times, 100.0, "bicgstab"),
        "auto (one LU, 10 solves)": run(times, 100.0, "auto"),
    }, args.repeats)
    report("2. t = 1000 with tau = 100", runs, reference,
           "paper: BiCGSTAB, cold start", "auto (one LU, 10 solves)", f)
    (t_w, _), (t_c, _) = runs["BiCGSTAB, warm start"], runs["auto (one LU, 10 solves)"]
    print(f"  ratio BiCGSTAB warm / auto: {t_w / t_c:.1f}x")

    # 3. steady state in closed form
    t_w, w = min((timed(lambda: osm.steady_state(f, v)) for _ in range(args.repeats)),
                 key=lambda r: r[0])
    print(
        f"\n3. steady state in closed form: {t_w * 1e3:.2f} ms | A w relative residual "
        f"{osm.steady_state_residual(A, w):.1e} | mass err {chapter.mass_error(w, f):.1e} | "
        f"column sums of A {osm.column_sum_error(A):.1e} | min off-diagonal "
        f"{chapter.offdiagonal_range(A)[0]:.3f}"
    )


if __name__ == "__main__":
    main()
