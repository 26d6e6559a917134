"""Benchmark: a clean build of the whole book, then the rebuild after a prose edit.

In a temporary copy of the book:

1. ``jupyter-book build --all -W -n --keep-going`` from an empty ``_build`` (every notebook
   executed; inline execution, notebooks read in parallel by ``_ext/parallel_read.py``);
2. one word appended to a markdown cell of one chapter, then the README's incremental command
   ``jupyter-book build -W -n --keep-going`` (only that chapter is read, so only it executes).

Prints both wall-clock times, the execution time of each notebook as myst-nb reports it, and the
load average before each run (the machines are shared: a loaded machine is slower; compare
runs made at similar load).

Run: python benchmarks/bench_build.py [--chapter semigroup] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))


def _build(book: Path, *, clean: bool, env: dict) -> tuple[float, dict[str, float]]:
    command = [JUPYTER_BOOK, "build", "-W", "-n", "--keep-going", str(book)]
    if clean:
        command.insert(2, "--all")
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit("build failed")
    times = {
        name: float(seconds)
        for name, seconds in re.findall(
            r"/([\w.-]+\.ipynb): Executed notebook in ([\d.]+) seconds", result.stdout + result.stderr
        )
    }
    return elapsed, times


def _edit_prose(notebook: Path) -> None:
    nb = json.loads(notebook.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    cell["source"] = cell["source"][:-1] + [cell["source"][-1] + " Edited."]
    notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="semigroup", help="chapter whose prose is edited")
    parser.add_argument("--jobs", type=int, default=None, help="BOOK_JOBS (default: usable cores)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.jobs:
        env["BOOK_JOBS"] = str(args.jobs)
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "book"
        shutil.copytree(ROOT, book, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "*.egg-info", ".pytest_cache", ".hypothesis"))
        env["PYTHONPATH"] = str(book)  # the copy's lib, not the installed checkout's
        load = os.getloadavg()[0]
        clean, times = _build(book, clean=True, env=env)
        print(f"clean build (load {load:.1f}, {len(os.sched_getaffinity(0))} cores, jobs {env.get('BOOK_JOBS', 'auto')}):")
        for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {name:28s} executed in {seconds:5.1f} s")
        print(f"  sum of notebook executions {sum(times.values()):5.1f} s")
        print(f"clean build of the whole book: {clean:.1f} s")
        _edit_prose(book / "chapters" / f"{args.chapter}.ipynb")
        load = os.getloadavg()[0]
        rebuild, times = _build(book, clean=False, env=env)
        print(f"rebuild after a prose edit of {args.chapter} (load {load:.1f}): {rebuild:.1f} s; executed {sorted(times)}")


if __name__ == "__main__":
    main()
