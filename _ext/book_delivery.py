"""Sphinx extension of this book: the way from every page to the code (issue 10).

Loaded by ``_config.yml`` (``sphinx.local_extensions``). It does three things:

1. **Repository and launch buttons, only when a repository is known.** The URL comes from the
   environment variable ``BOOK_REPOSITORY_URL`` (the GitHub Pages workflow sets it from
   ``github.server_url``/``github.repository``) or from ``repository.url`` in ``_config.yml``.
   With a URL, every page gets a repository button and every chapter a Binder launch button
   (configured in ``_config.yml``); without one -- a local build -- neither is shown, so there is
   no dead button. ``BOOK_REPOSITORY_BRANCH`` overrides the branch (default ``main``).
2. **Downloads built with the book**, into ``_build/html/downloads/``:
   ``diffusion-scale-space-book.zip`` (lib, chapters, requirements, README, ...: everything to run
   the notebooks, see ``BUNDLE``), its ``README.md`` and ``executed-notebooks.zip`` (every chapter as executed by
   this build, with its outputs). The page's own download button offers the executed notebook
   too: the output-free source in ``_sources/`` is replaced by the executed copy.
3. **Author-year reference list.** The text cites author-year (``bibtex_reference_style``);
   the pybtex style ``book_author_year`` labels the list the same way ("Peter, 2023") and sorts
   it by author, year and title.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections import Counter
from pathlib import Path

from pybtex.plugin import find_plugin, register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

BUNDLE_NAME = "diffusion-scale-space-book"
# What a reader needs to run (and rebuild) the chapters: paths relative to the book root.
BUNDLE = [
    "README.md",
    "requirements.txt",
    "pyproject.toml",
    "references.bib",
    "_config.yml",
    "_toc.yml",
    "lib",
    "chapters",
    "_static",
    "_ext",
]
SKIP = ("__pycache__", ".ipynb_checkpoints", ".pyc")
DOWNLOADS = "downloads"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed: the same sources give the same zip


# --- 1. repository and launch buttons -------------------------------------------------------


def configure_repository(app, config) -> None:
    """``config-inited``: turn the repository button on exactly when a URL is configured."""
    options = config.html_theme_options
    url = os.environ.get("BOOK_REPOSITORY_URL", "").strip() or str(options.get("repository_url") or "").strip()
    if url:
        options["repository_url"] = url.rstrip("/")
        options["repository_branch"] = os.environ.get("BOOK_REPOSITORY_BRANCH", "").strip() or options.get(
            "repository_branch", "main"
        )
        options["use_repository_button"] = True
        options["use_issues_button"] = True
    else:
        options.pop("repository_url", None)
        options["use_repository_button"] = False
        options["use_issues_button"] = False
        options["use_edit_page_button"] = False
        # no launch buttons either: they open the repository (and sphinx-book-theme 1.3 fails
        # on a launch URL without a repository instead of skipping the button)
        launch = dict(options.get("launch_buttons") or {})
        for key in ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url"):
            launch.pop(key, None)
        options["launch_buttons"] = launch


# --- 2. downloads ---------------------------------------------------------------------------


def _bundle_files(root: Path):
    for name in BUNDLE:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and not any(part in SKIP or part.endswith(SKIP) for part in file.parts):
                    yield file


def _write_zip(target: Path, files: list[tuple[Path, str]]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path, arcname in files:
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())


def write_downloads(app, exception) -> None:
    """``build-finished``: the bundle, the executed notebooks, and executed ``_sources``."""
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    out = Path(app.outdir)
    downloads = out / DOWNLOADS
    files = [(path, f"{BUNDLE_NAME}/{path.relative_to(root).as_posix()}") for path in _bundle_files(root)]
    _write_zip(downloads / f"{BUNDLE_NAME}.zip", files)
    shutil.copyfile(root / "README.md", downloads / "README.md")  # the set-up the intro links

    executed_dir = out.parent / "jupyter_execute"
    executed = sorted(executed_dir.rglob("*.ipynb")) if executed_dir.is_dir() else []
    _write_zip(
        downloads / "executed-notebooks.zip",
        [(path, f"executed-notebooks/{path.relative_to(executed_dir).as_posix()}") for path in executed],
    )
    # the page's download button serves _sources/<page>.ipynb: make it the executed notebook
    for path in executed:
        source = out / "_sources" / path.relative_to(executed_dir)
        if source.exists():
            shutil.copyfile(path, source)


# --- 3. author-year reference list ----------------------------------------------------------


# pybtex's render_as("text") looks the backend up among the installed entry points at every
# call (~0.2 s each here, 10 s per build for the reference list); look it up once.
_TEXT_BACKEND = find_plugin("pybtex.backends", "text")()


def _plain(latex: str) -> str:
    return Text.from_latex(latex).render(_TEXT_BACKEND)


def _surname(person) -> str:
    return _plain(" ".join(person.prelast_names + person.last_names))


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Peter, 2023", "Ho and Salimans, 2022", "Ho et al., 2020"; "2020a"/"2020b" when
    two entries would share a label."""

    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] > 1:
                seen[label] += 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label

    @staticmethod
    def format_label(entry) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_surname(p) for p in persons]
        if not names:
            who = _plain(entry.fields.get("organization", entry.key))
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(PlainStyle):
    default_label_style = "book_author_year"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "book_author_year", AuthorYearLabelStyle, force=True)
register_plugin("pybtex.style.formatting", "book_author_year", AuthorYearStyle, force=True)


def setup(app):
    app.connect("config-inited", configure_repository)
    app.connect("build-finished", write_downloads)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
