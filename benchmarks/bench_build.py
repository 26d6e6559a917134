"""Benchmark: a clean build of the whole book (every notebook executed), in a temporary copy.

Prints the wall-clock time of `jupyter-book build --all -W -n --keep-going` from an empty
_build folder, and the execution time of each notebook as myst-nb reports it.
Run: python benchmarks/bench_build.py
"""

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "book"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "*.egg-info"))
        command = [str(Path(sys.executable).with_name("jupyter-book")), "build", "--all", "-W", "-n", "--keep-going", str(copy)]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if result.returncode:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit("build failed")
    for name, seconds in re.findall(r"/([\w.-]+\.ipynb): Executed notebook in ([\d.]+) seconds", result.stdout + result.stderr):
        print(f"  {name}: executed in {float(seconds):.1f} s")
    print(f"clean build of the whole book: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
