"""Sphinx glue for the API reference (chapters/api.md): lib's docstrings are plain text
with mathematics such as |x| and ‖x‖, which reStructuredText would read as substitutions."""

from __future__ import annotations

import re

_PIPE = re.compile(r"(?<!\\)\|")


def _escape_pipes(app, what, name, obj, options, lines):
    for k, line in enumerate(lines):
        if "|" in line and not line.lstrip().startswith(("+", "=")):
            lines[k] = _PIPE.sub(r"\\|", line)


def setup(app):
    # before numpydoc (priority 500) rewrites the docstring into reStructuredText
    app.connect("autodoc-process-docstring", _escape_pipes, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
