"""Run the bad-input battery of tests/core/test_bad_inputs.py and print the counts by outcome.

Usage (from the repository root)::

    PYTHONPATH=$PWD python benchmarks/bad_inputs_battery.py [--list] [--by-module]

Outcomes: "clear error" (the expected exception type, with the argument named in the message),
"correct result" (an edge case that must give a result, and the result passes its check) and
"anything else" (a silent result where an error was due, the wrong exception type, a message
that does not name the argument, or a wrong result). Issue 12's closing note quotes these counts.
``--list`` prints every case that is not a clear error or a correct result.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import pathlib
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_battery():
    path = ROOT / "tests" / "core" / "test_bad_inputs.py"
    spec = importlib.util.spec_from_file_location("bad_inputs_battery_cases", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the cases of 'anything else'")
    parser.add_argument("--by-module", action="store_true", help="counts per core module")
    args = parser.parse_args()
    battery = load_battery()
    counts = collections.Counter()
    per_module = collections.defaultdict(collections.Counter)
    others = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in battery.CASES:
            kind, detail = battery.outcome(case)
            counts[kind] += 1
            per_module[case.id.split(".")[0]][kind] += 1
            if kind == "anything else":
                others.append((case.id, detail))
    elapsed = time.perf_counter() - start
    covered = {s.label for s in battery.SPECS}
    print(f"bad-input battery: {len(battery.CASES)} cases over {len(covered)} public callables "
          f"of lib.core ({elapsed:.1f} s)")
    for kind in ("clear error", "correct result", "anything else"):
        print(f"  {kind:15s} {counts[kind]:5d}")
    if args.by_module:
        for module, c in sorted(per_module.items()):
            print(f"  {module:14s} " + ", ".join(f"{k}: {c[k]}" for k in
                                                  ("clear error", "correct result", "anything else")))
    if args.list:
        for case_id, detail in others:
            print(f"- {case_id}: {detail[:160]}")


if __name__ == "__main__":
    main()
