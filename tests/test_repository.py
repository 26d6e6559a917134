"""House rules that concern the repository itself."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    dirty = []
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(path.name)
    assert NOTEBOOKS and not dirty, f"strip outputs from {sorted(set(dirty))}"


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    chapters = {p.stem for p in (ROOT / "chapters").iterdir() if p.suffix in (".ipynb", ".md")}
    listed = set(re.findall(r"file: chapters/(\w+)", toc)) | {yaml.safe_load(toc)["root"].split("/")[-1]}
    assert chapters == listed


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"<!-- (build|test)-command -->\n```(?:bash|sh)?\n(.*?)\n```", readme, re.S)
    commands = dict(blocks)
    assert set(commands) == {"build", "test"}, "README must mark one build and one test command"
    assert "test-command" in ci  # .ci/run reads the marked command out of the README
    assert "jupyter-book build" in commands["build"] and "_build" not in commands["test"].split("&&")[0]
    assert "pytest" in commands["test"]


def test_every_cited_key_is_in_the_bibliography():
    bib = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    cited = set()
    for path in list((ROOT / "chapters").glob("*.md")) + NOTEBOOKS:
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text()):
            cited |= {k.strip() for k in keys.split(",")}
    assert cited and cited <= bib, f"unknown keys: {sorted(cited - bib)}"


def test_widget_cells_are_jupyter_only():
    """Explorer cells open ipywidgets: removed from the HTML (no dead controls there) and skipped
    by automated execution, where nbclient intermittently blocks on widget cells (seen here:
    1 of 3 concurrent runs of the forward chapter hung at its widget cell; nbclient issue 312).
    Their code is exercised by tests/chapters instead."""
    offenders = []
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and "_explorer(" in source:
                tags = set(cell.get("metadata", {}).get("tags", []))
                if not {"remove-cell", "skip-execution"} <= tags:
                    offenders.append(path.name)
    assert not offenders, f"explorer cells without remove-cell + skip-execution: {offenders}"


def _code_and_prose(path):
    for cell in json.loads(path.read_text())["cells"]:
        yield cell["cell_type"], "".join(cell["source"])


def test_prose_numbers_are_evaluated_not_glued():
    """Numbers in the prose use MyST's {eval} role (rendered by myst-nb's inline execution and by
    jupyterlab-myst), never {glue:...}, which JupyterLab shows as raw markup."""
    glued = [p.name for p in NOTEBOOKS if "{glue" in p.read_text() or "myst_nb import glue" in p.read_text()]
    assert not glued, f"glue left in {glued}"


def test_every_eval_refers_to_a_value_added_before_it():
    """Inline execution evaluates each {eval} after the code cells above it only: a number
    added further down is not there yet (glue used to allow that)."""
    import ast

    missing = []
    for path in NOTEBOOKS:
        patterns = []
        for kind, source in _code_and_prose(path):
            if kind == "code":
                for node in ast.walk(ast.parse(source)):
                    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                            and node.func.attr == "add" and getattr(node.func.value, "id", None) == "v"):
                        name = node.args[0]
                        if isinstance(name, ast.Constant):
                            patterns.append(re.escape(name.value))
                        elif isinstance(name, ast.JoinedStr):
                            patterns.append("".join(re.escape(p.value) if isinstance(p, ast.Constant)
                                                    else r"\w+" for p in name.values))
            else:
                for name in re.findall(r"\{eval\}`v\.(\w+)`", source):
                    if not any(re.fullmatch(p, name) for p in patterns):
                        missing.append(f"{path.name}: {name}")
    assert not missing, f"{{eval}} before its value is added: {missing}"


def test_no_code_cell_ends_with_a_semicolon():
    """A trailing ';' makes IPython's display hook silence every later expression evaluated
    without history — which is how myst-nb evaluates {eval}: the numbers after such a cell
    vanish from the page. Assign the figure instead (fig = ...)."""
    offenders = [
        path.name
        for path in NOTEBOOKS
        for kind, source in _code_and_prose(path)
        if kind == "code" and source.rstrip().endswith(";")
    ]
    assert not offenders, f"code cells ending with ';' in {sorted(set(offenders))}"


def test_ledger_lists_every_chapter_in_reading_order():
    """The ledger renders the VERDICTS of the chapters it names; it must name every chapter of
    the table of contents, in reading order, and every companion that declares verdicts."""
    import ast
    import importlib
    import pkgutil

    import lib.chapters

    source = "".join(json.loads((ROOT / "chapters" / "ledger.ipynb").read_text())["cells"][1]["source"])
    lists = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(source).body
             if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("PAPER", "BEYOND")}
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbered = [c["file"].split("/")[-1] for part in toc["parts"] if part.get("numbered") for c in part["chapters"]]
    assert lists["PAPER"] + lists["BEYOND"] == numbered
    declaring = {m.name for m in pkgutil.iter_modules(lib.chapters.__path__)
                 if hasattr(importlib.import_module(f"lib.chapters.{m.name}"), "VERDICTS")}
    assert declaring == set(numbered)
