"""Benchmark: the README's test command on a clean clone, as CI runs it (issue 14: <= 5 min).

Clones the committed HEAD of this repository into a temporary folder, reads the marked test
command out of its README (as ``.ci/run`` does), and runs it there in two timed phases: the
install (everything before ``python -m pytest``) and the test suite. Prints both wall-clock
times, the total, the suite's own summary line, and the load average before and after (the
machines are shared: compare runs made at similar load). Chromium must already be installed.

Run: python benchmarks/bench_test_command.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKED = re.compile(r"<!-- test-command -->\n```(?:bash|sh)?\n(.*?)\n```", re.S)


def _run(command: str, cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode:
        print(result.stdout[-4000:], result.stderr[-4000:])
        raise SystemExit(f"failed after {elapsed:.0f} s: {command}")
    return elapsed, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-test-command-"))
    clone = folder / "book"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    command = MARKED.search((clone / "README.md").read_text()).group(1)
    install, _, test = command.rpartition("&& ")
    assert "pytest" in test and install, command
    print(f"clone of {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=clone, capture_output=True, text=True).stdout.strip()} in {clone}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    install_s, _ = _run(install.strip(), clone)
    print(f"install  {install_s:6.1f} s   {install.strip()}")
    test_s, out = _run(test.strip(), clone)
    summary = [line for line in out.splitlines() if re.search(r"\d+ passed", line)]
    print(f"pytest   {test_s:6.1f} s   {summary[-1].strip('= ') if summary else ''}")
    print(f"total    {install_s + test_s:6.1f} s   ({(install_s + test_s) / 60:.1f} min; target 5 min)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
