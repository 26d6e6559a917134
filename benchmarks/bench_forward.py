"""Benchmark: a 1000-step trajectory of the 300×451×3 cat kept at 10 requested steps.

Baseline: iterating Eq. (4) at every step (lib.core.forward.iterate_forward, 1000 noise draws).
Candidate: the bridge (lib.core.forward.sample_trajectory, one draw per requested step).
Both have the same law (tests/test_forward.py and the forward-process chapter check it).
Both are timed in the same run, interleaved, best of ``--repeats``; the ratio is what counts
on a shared, noisy machine. Run: python benchmarks/bench_forward.py [--repeats 3]
"""

import argparse
import time

import numpy as np

from lib.core import data, forward, schedules


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    steps = np.linspace(100, 1000, 10).astype(int)
    betas = schedules.constant_betas(0.02, 1000)
    rng = np.random.default_rng(0)
    print(f"snapshots at steps {steps.tolist()} of a 1000-step chain, best of {args.repeats}")
    for dtype in (np.float64, np.float32):
        cat = data.cat().astype(dtype)
        t_iter = best_time(lambda: forward.iterate_forward(cat, betas, steps, rng), args.repeats)
        t_bridge = best_time(lambda: forward.sample_trajectory(cat, betas, steps, rng), args.repeats)
        buffer = np.empty(cat.shape, dtype=dtype)  # iterate_forward also draws into a buffer
        t_draws = best_time(
            lambda: [rng.standard_normal(dtype=dtype, out=buffer) for _ in range(1000)], args.repeats
        )
        print(
            f"{np.dtype(dtype).name:>8}: iterate {t_iter * 1e3:8.1f} ms | bridge {t_bridge * 1e3:6.1f} ms | "
            f"ratio {t_iter / t_bridge:6.1f}x | noise generation alone is {t_draws / t_iter:.0%} of iterating"
        )


if __name__ == "__main__":
    main()
