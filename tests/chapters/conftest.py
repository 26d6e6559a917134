"""Fixtures of the companion tests: a check that a figure reads well in the book's column, and
readers of the chapter notebooks (the Agg backend and closing figures are in tests/conftest.py)."""

import matplotlib
import pytest
from matplotlib.text import Text

from lib.chapters import common


def _readable(figure):
    """Assert that ``figure`` (a matplotlib Figure or a common.Raster) fits the column, keeps an
    opaque white background and uses no font under 9 pt; return the Figure."""
    fig = figure.figure if isinstance(figure, common.Raster) else figure
    width = fig.get_size_inches()[0]
    assert width <= common.COLUMN_WIDTH + 1e-9, f"{width} in wider than the column"
    assert fig.dpi == common.DPI
    assert matplotlib.colors.to_rgba(fig.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    fig.canvas.draw()
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
             if t.get_text().strip() and t.get_visible() and t.get_fontsize() < common.MIN_FONT_SIZE]
    assert not small, f"text under {common.MIN_FONT_SIZE} pt: {small[:5]}"
    return fig


@pytest.fixture
def readable():
    return _readable


def _check_verdicts_shown(notebook: str, verdicts) -> list:
    """Assert that chapters/<notebook>.ipynb shows ``verdicts`` once with
    ``verdict_table(chapter.VERDICTS)`` (input removed), that every verdict's section label exists
    and that every {eq} label a verdict cites is a labelled display equation of the notebook;
    return the notebook's cells as (kind, source, metadata)."""
    import json
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "chapters" / f"{notebook}.ipynb"
    cells = [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}))
             for c in json.loads(path.read_text())["cells"]]
    prose = "\n".join(src for kind, src, _ in cells if kind == "markdown")
    assert {v.section for v in verdicts} <= set(re.findall(r"^\((sec-[\w-]+)\)=", prose, re.M))
    cited = {e for v in verdicts for e in re.findall(r"\{eq\}`([\w-]+)`", v.paper + v.detail)}
    assert cited <= set(re.findall(r"\$\$ \((eq-[\w-]+)\)", prose))
    shown = [meta for kind, src, meta in cells if kind == "code" and "verdict_table(chapter.VERDICTS)" in src]
    assert len(shown) == 1 and "remove-input" in shown[0].get("tags", [])
    return cells


@pytest.fixture
def verdicts_shown():
    return _check_verdicts_shown


class Notebook:
    """A chapter notebook read as JSON: its whole source text, and what the verdict tests ask."""

    ROOT = __import__("pathlib").Path(__file__).resolve().parents[2] / "chapters"

    def __init__(self, name: str):
        import json

        self.cells = json.loads((self.ROOT / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
        self.text = "\n".join("".join(c["source"]) for c in self.cells)

    def shows_verdicts(self, expression: str) -> bool:
        """Whether a code cell tagged remove-input renders ``verdict_table(expression)``."""
        return any(c["cell_type"] == "code" and "".join(c["source"]).strip() == f"verdict_table({expression})"
                   and "remove-input" in c["metadata"].get("tags", []) for c in self.cells)

    def equation_labels(self) -> set:
        """Labels of the numbered display equations, ``$$ … $$ (label)``."""
        import re

        return set(re.findall(r"\$\$[ \t]*\((eq-[\w-]+)\)", self.text))

    @staticmethod
    def eq_refs(text: str) -> list:
        import re

        return re.findall(r"\{eq\}`([^`<>]+)`", text)


@pytest.fixture
def notebook():
    """``notebook(name)`` reads chapters/<name>.ipynb as a :class:`Notebook`."""
    return Notebook
