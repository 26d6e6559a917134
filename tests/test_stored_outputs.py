"""Building from notebooks nbmake has executed (_ext/stored_outputs.py, issue 14): a copy is used
only if its code is the notebook's, and ``{eval}`` shows what the chapter's Values showed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from lib.chapters.prose import VALUES_MIME, Values

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _extension():
    spec = importlib.util.spec_from_file_location("stored_outputs", ROOT / "_ext" / "stored_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(code: list[str], values: Values | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("A number: {eval}`v.x`.")] + [nbformat.v4.new_code_cell(c) for c in code]
    if values is not None:
        bundle = values._repr_mimebundle_()
        nb.cells[-1].outputs = [nbformat.v4.new_output("execute_result", data=bundle, execution_count=3)]
    return nb


def test_the_extension_and_lib_name_the_same_mime_type():
    assert _extension().VALUES_MIME == VALUES_MIME


def test_values_display_every_number_as_eval_shows_it():
    v = Values()
    v.add("x", 1.68e-9, ".1e")
    v.add("label", "a | b")
    bundle = v._repr_mimebundle_()
    assert bundle[VALUES_MIME]["values"] == {"x": {"text/plain": "1.7 × 10⁻⁹"}, "label": {"text/plain": "a | b"}}
    assert bundle[VALUES_MIME]["changed"] == []
    assert "1.7 × 10⁻⁹" in bundle["text/markdown"] and "a \\| b" in bundle["text/markdown"]
    v.add("x", 1.68e-9, ".1e")  # the same text again: fine
    v.add("label", "c")
    assert v._repr_mimebundle_()[VALUES_MIME]["changed"] == ["label"]


def test_a_copy_is_used_only_with_the_same_code(tmp_path, monkeypatch):
    ext = _extension()
    v = Values()
    v.add("x", 42)
    source = tmp_path / "src" / "chapter.ipynb"
    source.parent.mkdir()
    notebook = _notebook(["v = 1", "v"])
    nbformat.write(notebook, source)
    folder = tmp_path / "executed"
    folder.mkdir()
    nbformat.write(_notebook(["v = 1", "v"], v), folder / "chapter.ipynb")
    assert ext.executed_copy(source, notebook) is None  # no folder named: nothing changes
    monkeypatch.setenv(ext.ENV, str(folder))
    assert ext.executed_copy(source, notebook) is not None
    nbformat.write(_notebook(["v = 2", "v"], v), folder / "chapter.ipynb")
    assert ext.executed_copy(source, notebook) is None  # edited code: executed again
    nbformat.write(_notebook(["v = 1", "v"]), folder / "chapter.ipynb")
    assert ext.executed_copy(source, notebook) is None  # no Values shown: executed again


def test_the_stored_client_copies_outputs_and_answers_eval(tmp_path):
    from myst_nb.core.config import NbParserConfig

    ext = _extension()
    v = Values()
    v.add("x", 0.25, ".2f")
    v.add("twice", 1)
    v.add("twice", 2)
    executed = _notebook(["v = 1", "v"], v)
    executed.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    notebook = _notebook(["v = 1", "v"])
    config = NbParserConfig(eval_name_regex=r"^v\.[a-zA-Z][a-zA-Z0-9_]*$")

    class Logger:
        def info(self, *args, **kwargs):
            pass

    client = ext.make_client_class()(notebook, None, config, Logger(), executed=executed)
    with client:
        assert notebook.cells[-1].outputs == executed.cells[-1].outputs
        assert notebook.metadata["language_info"]["pygments_lexer"] == "ipython3"
        assert client.eval_variable("v.x")[0]["data"] == {"text/plain": "0.25"}
        with pytest.raises(ValueError, match="added twice"):
            client.eval_variable("v.twice")
        with pytest.raises(NameError):
            client.eval_variable("v.missing")


def test_every_chapter_ends_by_showing_its_values():
    """The stored build takes {eval} numbers from the last cell's Values: every notebook with a
    Values object ends with a cell showing it, left out of the HTML."""
    offenders = []
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        if not any("Values()" in "".join(c["source"]) for c in cells if c["cell_type"] == "code"):
            continue
        last = cells[-1]
        lines = [line for line in "".join(last["source"]).splitlines() if line.strip() and not line.startswith("#")]
        if last["cell_type"] != "code" or lines != ["v"] or "remove-cell" not in last["metadata"].get("tags", []):
            offenders.append(path.name)
    assert not offenders, f"notebooks not ending with a remove-cell showing v: {offenders}"
