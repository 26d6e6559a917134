"""Build the book from notebooks that are already executed, instead of executing them again.

The test run executes every chapter with nbmake, and then builds the book; executing each
notebook a second time in the build doubled the suite's largest cost (issue 14). With
``BOOK_EXECUTED_NOTEBOOKS=<folder>`` in the environment, a notebook ``chapters/x.ipynb`` whose
executed copy ``<folder>/x.ipynb`` has exactly the same code cells takes its outputs from that
copy, and MyST's ``{eval}`` role takes its numbers from the copy's last cell, which displays the
chapter's :class:`lib.chapters.prose.Values` (every number as ``{eval}`` would show it, under
``VALUES_MIME``). A notebook without a matching copy is executed as ``_config.yml`` says
(inline). Without the variable — the README's build — this extension does nothing.

``{eval}`` then shows the value a name has at the end of the notebook; inline execution shows the
value at the place of the role. They agree because a name is added before the prose quotes it
(tests/test_repository.py) and a name added twice with different texts is refused here.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import nbformat

VALUES_MIME = "application/vnd.diffusion-book.values+json"  # = lib.chapters.prose.VALUES_MIME
ENV = "BOOK_EXECUTED_NOTEBOOKS"


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _stored_values(notebook) -> dict | None:
    """The Values the notebook displayed last (its closing cell), or None."""
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    shown = [output.data[VALUES_MIME] for output in outputs if VALUES_MIME in output.get("data", {})]
    return shown[-1] if shown else None


def executed_copy(source: Path, notebook):
    """The executed copy of ``source`` if the environment names a folder holding one whose code
    cells are those of ``notebook``; else None."""
    folder = os.environ.get(ENV, "")
    if not folder or source is None:
        return None
    copy = Path(folder) / source.name
    if not copy.is_file():
        return None
    executed = nbformat.read(copy, as_version=4)
    if _code(executed) != _code(notebook) or _stored_values(executed) is None:
        return None
    return executed


def make_client_class():
    from myst_nb.core.execute.base import EvalNameError, NotebookClientBase

    class NotebookClientStored(NotebookClientBase):
        """Outputs copied from an executed copy of the notebook; ``{eval}`` from its Values."""

        def start_client(self):
            executed = self._kwargs["executed"]
            code = iter(cell for cell in executed.cells if cell.cell_type == "code")
            for cell in self.notebook.cells:  # in place: the build writes this notebook out
                if cell.cell_type == "code":
                    done = next(code)
                    cell.outputs = done.outputs
                    cell.execution_count = done.execution_count
            if "language_info" in executed.metadata:  # what the kernel reported (the code's lexer)
                self.notebook.metadata["language_info"] = executed.metadata["language_info"]
            self._values = _stored_values(executed)
            self.logger.info(f"Outputs from the executed copy in ${ENV}")
            self.exec_metadata = {
                "mtime": datetime.now().timestamp(),
                "runtime": None,
                "method": "stored",
                "succeeded": True,
                "error": None,
                "traceback": None,
            }

        def eval_variable(self, name: str):
            if not re.match(self.nb_config.eval_name_regex, name):
                raise EvalNameError(name)
            key = name.split(".", 1)[1]
            if key in self._values["changed"]:
                raise ValueError(f"{name} was added twice with different texts; its stored value may not be the one quoted")
            if key not in self._values["values"]:
                raise NameError(f"{name} is not among the notebook's values")
            return [nbformat.v4.new_output("execute_result", data=self._values["values"][key], execution_count=None)]

    return NotebookClientStored


def setup(app):
    import myst_nb.sphinx_ as myst_sphinx

    configured = myst_sphinx.create_client
    stored_client = make_client_class()

    def create_client(notebook, source, nb_config, logger, read_fmt=None):
        try:
            path = Path(source) if Path(source).is_file() else None
        except OSError:
            path = None
        executed = executed_copy(path, notebook)
        if executed is None:
            return configured(notebook, source, nb_config, logger, read_fmt)
        return stored_client(notebook, path, nb_config, logger, executed=executed)

    myst_sphinx.create_client = create_client
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
