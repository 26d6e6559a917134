"""What the prose of every chapter shows: computed numbers and the verdicts.

Numbers in a chapter's prose are computed in its code cells and shown with MyST's ``{eval}``
role, which both the HTML build (myst-nb, inline execution) and JupyterLab (jupyterlab-myst)
evaluate in the notebook's kernel::

    v = Values()
    v.add("max_error", 1.7e-9, ".1e")   # in the markdown: {eval}`v.max_error` -> 1.7 × 10⁻⁹

Each companion declares its chapter's verdicts once, as a tuple ``VERDICTS`` of
:class:`Verdict`; the chapter's Verdict section and the claims ledger both render them with
:func:`verdict_table`, so the two cannot disagree.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Shown", "Values", "VALUES_MIME", "Verdict", "VERDICT_KINDS", "format_number", "verdict_table"]

# The MIME type under which a displayed Values object carries every number as its {eval} shows
# it. _ext/stored_outputs.py reads it back when the book is built from notebooks nbmake has
# already executed (the test run), so that {eval} needs no second execution.
VALUES_MIME = "application/vnd.diffusion-book.values+json"

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_EXPONENT = re.compile(r"^([-+]?[\d.]+)e([-+]\d+)$")


class Shown(str):
    """A piece of text shown as is: its ``repr`` has no quotes, so Jupyter's ``text/plain``
    rendering of an ``{eval}`` expression reads like the prose around it."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's pretty printer
        printer.text(str(self))


def format_number(value, spec: str = "") -> str:
    """Format ``value`` with the format ``spec`` for reading in prose.

    Exponent notation is written as a power of ten (``1.7e-09`` becomes ``1.7 × 10⁻⁹``), a
    minus sign is the typographic one, and ``spec = ""`` gives ``str(value)`` for integers and
    strings and ``.4g`` for other reals.

    Examples
    --------
    >>> format_number(1.68e-9, ".1e")
    '1.7 × 10⁻⁹'
    >>> format_number(-0.25, ".2f")
    '−0.25'
    >>> format_number(1234567, ",")
    '1,234,567'
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a format specification string, got {type(spec).__name__}")
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"value must be a real number or a string, got {type(value).__name__}")
    if isinstance(value, numbers.Integral) and spec == "":
        text = str(int(value))
    else:
        if not math.isfinite(float(value)):
            text = {math.inf: "∞", -math.inf: "−∞"}.get(float(value), "NaN")
            return text
        text = format(value, spec or ".4g")
    match = _EXPONENT.match(text)
    if match:
        mantissa, exponent = match.groups()
        if float(mantissa) == 0:  # "0.0e+00" is just zero, not "0.0 × 10⁰"
            return "0"
        exponent = str(int(exponent))
        text = ("10" if mantissa in ("1", "1.0") else f"{mantissa} × 10") + exponent.translate(_SUPERSCRIPT)
    return text.replace("-", "−")


class Values:
    """The numbers a chapter quotes in its prose, each formatted once where it is computed.

    ``v.add(name, value, spec)`` stores ``format_number(value, spec)``; ``v.name`` returns it
    as :class:`Shown` text, and ``v.raw(name)`` the value itself.
    """

    _NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

    def __init__(self):
        object.__setattr__(self, "_shown", {})
        object.__setattr__(self, "_raw", {})
        object.__setattr__(self, "_changed", set())  # names added again with another text

    def add(self, name: str, value, spec: str = "") -> None:
        """Store ``value`` formatted with ``spec``. Returns None, so that a cell ending in
        ``v.add(...)`` shows no output (a returned object would be printed into the page, and
        in a figure cell it would become a second, empty figure)."""
        if not isinstance(name, str) or not self._NAME.match(name):
            raise ValueError(f"name must be a Python identifier (letters, digits, _), got {name!r}")
        shown = Shown(format_number(value, spec))
        if name in self._shown and self._shown[name] != shown:
            self._changed.add(name)
        self._shown[name] = shown
        self._raw[name] = value

    def raw(self, name: str):
        return self._raw[name]

    def __getattr__(self, name: str) -> Shown:
        try:
            return self._shown[name]
        except KeyError:
            raise AttributeError(f"no value named {name!r}; add it with Values.add") from None

    def __setattr__(self, name, value):
        raise AttributeError("use Values.add(name, value, spec)")

    def __dir__(self):
        return sorted(self._shown)

    def __len__(self) -> int:
        return len(self._shown)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Displayed (a chapter's last cell): a table of every number the text quotes, and the
        same numbers under :data:`VALUES_MIME`, each as the ``{eval}`` role would receive it
        (``text/plain``). A name that was added again with another text is listed apart: its
        stored value could differ from what the text showed where it was quoted."""
        rows = "\n".join(f"| `{name}` | {_cell(text)} |" for name, text in self._shown.items())
        return {
            "text/markdown": f"The numbers this chapter quotes ({len(self)}):\n\n| name | shown as |\n|---|---|\n{rows}",
            "text/plain": f"{len(self)} numbers quoted in the text",
            VALUES_MIME: {
                "values": {name: {"text/plain": str(text)} for name, text in self._shown.items()},
                "changed": sorted(self._changed),
            },
        }


VERDICT_KINDS = ("holds", "holds with correction", "fails")


@dataclass(frozen=True)
class Verdict:
    """One numbered claim of the paper with the book's verdict.

    Parameters
    ----------
    claim : str
        The claim as the paper numbers it, e.g. ``"Eq. (5)"`` or ``"Property 3"``.
    paper : str
        What the paper says, in one line (MyST markdown, maths allowed).
    verdict : str
        One of :data:`VERDICT_KINDS`.
    detail : str
        The correction or counterexample in one or two lines (MyST markdown).
    section : str
        The label of the section that checks it (e.g. ``"sec-forward-eq5"``).
    """

    claim: str
    paper: str
    verdict: str
    detail: str
    section: str

    def __post_init__(self):
        if self.verdict not in VERDICT_KINDS:
            raise ValueError(f"verdict must be one of {VERDICT_KINDS}, got {self.verdict!r}")


def _cell(text: str) -> str:
    """Markdown table cell: no line breaks, and a literal | escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def verdict_table(verdicts, numbers=None):
    """The verdicts as a MyST markdown table (displayed as markdown in a notebook).

    One row per :class:`Verdict`: the claim with a link to the section that checks it, what the
    paper says, and the verdict in bold followed by its detail.

    Parameters
    ----------
    verdicts : sequence of Verdict, or mapping of str to sequence of Verdict
        One chapter's ``VERDICTS``; or, for the ledger, chapter documents (e.g.
        ``"forward_process"``) mapped to their ``VERDICTS``, which adds a first column linking
        each row's chapter.
    numbers : mapping of str to int, optional
        With a mapping of chapters: the chapter numbers shown as the links' text (a narrow first
        column), instead of the chapters' titles.

    Returns
    -------
    IPython.display.Markdown
        Rendered by myst-nb as MyST (``nb_render_markdown_format: myst``), so roles and maths
        work; its text is ``.data``.
    """
    from IPython.display import Markdown

    by_chapter = dict(verdicts) if isinstance(verdicts, dict) else {None: verdicts}
    head = ["Claim", "What the paper says", "Verdict"]
    if None not in by_chapter:
        head.insert(0, "Chapter")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for chapter, rows in by_chapter.items():
        rows = tuple(rows)
        if not rows or not all(isinstance(x, Verdict) for x in rows):
            raise TypeError("verdicts must be a non-empty sequence of Verdict (per chapter)")
        for x in rows:
            row = [f"{{ref}}`{_cell(x.claim)} <{x.section}>`", _cell(x.paper),
                   f"**{x.verdict}**" + (f": {_cell(x.detail)}" if x.detail else "")]
            if chapter is not None:
                row.insert(0, f"{{doc}}`{numbers[chapter]} <{chapter}>`" if numbers else f"{{doc}}`{chapter}`")
            lines.append("| " + " | ".join(row) + " |")
    return Markdown("\n".join(lines))
