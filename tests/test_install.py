"""`import lib` must find this book's package from anywhere, `/` included.

Python puts the working directory first on sys.path; in `/` that holds the system's `/lib`
folder, which an import hook (setuptools' default editable install) would lose to. The install
writes a .pth path entry instead, and a regular package found on any path entry beats a
namespace folder.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = str(ROOT / "lib" / "__init__.py")


@pytest.mark.parametrize("cwd", ["/", "/tmp", str(ROOT / "chapters")])
def test_import_lib_from_any_directory(cwd):
    out = subprocess.run(
        [sys.executable, "-c", "import lib; print(lib.__file__); print(lib.core.forward.__name__)"],
        cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out == [EXPECTED, "lib.core.forward"]


def test_import_lib_in_a_kernel_started_from_root():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os, lib\nprint(os.getcwd(), lib.__file__)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": "/"}}).execute()
    cwd, path = nb.cells[0].outputs[0]["text"].split()
    assert (cwd, path) == ("/", EXPECTED)
