"""One companion module per chapter notebook (same file name): that chapter's experiment
drivers, tables, figures and explorers. Companions import :mod:`lib.core` and
:mod:`lib.chapters.common` only, never each other."""
