"""Benchmark: H(U_i) of the full digits set (1797 images, 64 pixels) at 19 log-spaced steps.

The entropy chapter's Monte Carlo (lib.core.mixture.mixture_entropy_mc) at full size: for both the
[−1, 1] and the raw 0…16 scaling, along the constant schedule β = 0.02 (T = 1000), every step
estimated with the exact mixture log-density. Three runs per data set:

* plain estimator −mean log p(U), fixed draws per step (the baseline: its SE is ≈ √(n/2)/√M);
* labelled estimator H(U|U_0) + mean(ln N + ln w_K), the same fixed draws per step;
* labelled estimator with ``target_se`` (at least 200 draws, blocks of 200 until SE ≤ target),
  as in the chapter.

Reported: wall time (best of ``--repeats``; the machine is shared, so compare within one run),
the largest standard error over the steps, the draws used, and the memory peak of one run
(tracemalloc, in a separate run so that tracing does not distort the timing), plus the
process's maximum resident set size. Run: python benchmarks/bench_entropy.py [--draws 2000]
"""

import argparse
import resource
import time
import tracemalloc

import numpy as np

from lib.chapters import entropy as chapter
from lib.core import data as ds
from lib.core import mixture as mix
from lib.core import schedules as sch


def best_time(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def traced_peak(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000, help="fixed draws per step")
    parser.add_argument("--target-se", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    betas = sch.constant_betas(0.02, 1000)
    ab = sch.alpha_bar(betas)
    steps = chapter.log_spaced_steps(1000, 20)
    a = ab[steps]
    print(f"{steps.size} steps {steps.tolist()}, 1797 images x 64 pixels, best of {args.repeats}")
    runs = {
        "plain, fixed": lambda f: mix.mixture_entropy_mc(
            f, a, args.draws, np.random.default_rng(0), method="plain"),
        "labelled, fixed": lambda f: mix.mixture_entropy_mc(f, a, args.draws, np.random.default_rng(0)),
        f"labelled, target SE {args.target_se:g}": lambda f: mix.mixture_entropy_mc(
            f, a, 200, np.random.default_rng(0), target_se=args.target_se, block_size=200),
    }
    for scale in ("unit", "raw"):
        data = ds.digits(scale)
        for name, run in runs.items():
            seconds, est = best_time(lambda: run(data), args.repeats)
            peak = traced_peak(lambda: run(data))
            draws = int(np.sum(est.n_draws))
            print(
                f"{scale:>4} | {name:<26}: {seconds:6.2f} s | max SE {est.entropy.standard_error.max():.4f}"
                f" nats | {draws:6d} draws | traced peak {peak / 2**20:6.1f} MiB"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"maximum resident set size of the whole process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
