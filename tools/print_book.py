"""Print the built HTML book to one PDF with Chromium (the browser the tests use).

    .venv/bin/python tools/print_book.py            # after the README's build command

Every page of ``_toc.yml`` is opened from ``_build/html``, typeset by MathJax, printed with the
book's print stylesheet (``_static/reader-print.css``: A4, wrapped code, no split cells, chapter
numbers kept) by Chromium's ``page.pdf``, and the pages are merged with pypdf into
``_build/html/downloads/diffusion-scale-space-book.pdf``, one outline (bookmark) entry per page.
The intro links that file. Chromium: ``$CHROMIUM`` or Debian's ``chromium`` (never downloaded).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "diffusion-scale-space-book.pdf"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def toc_pages(root: Path = ROOT) -> list[str]:
    """The book's pages in reading order (paths of the built .html files)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return [f"{f}.html" for f in files]


PREPARE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const imgs = [...document.images];
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  await document.fonts.ready;
  const h1 = document.querySelector('article.bd-article h1');
  return h1 ? h1.textContent.replace(/#\s*$/, '').trim() : document.title;
}"""


def print_book(html_dir: Path, chromium: str, out: Path) -> tuple[Path, int]:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400})
        context.set_default_timeout(120_000)
        for name in toc_pages():
            page = context.new_page()
            # offline, like the book: nothing leaves the machine
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL_SCHEMES) else r.abort())
            page.goto((html_dir / name).as_uri(), wait_until="load")
            page.emulate_media(media="print")
            title = page.evaluate(PREPARE_JS)
            pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True, outline=False)
            page.close()
            start = len(writer.pages)
            writer.append(PdfReader(io.BytesIO(pdf)))
            writer.add_outline_item(title=title, page_number=start)
        browser.close()
    writer.add_metadata({"/Title": "Probabilistic diffusion as a scale-space", "/Author": "The executable-companion team"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        writer.write(handle)
    return out, len(writer.pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built book")
    parser.add_argument("--out", type=Path, default=None, help=f"default: <html>/downloads/{PDF_NAME}")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("print_book: needs Chromium (apt-get install -y chromium, or CHROMIUM=/path)", file=sys.stderr)
        return 2
    if not (args.html / "index.html").exists():
        print(f"print_book: no built book in {args.html}; run the README's build command first", file=sys.stderr)
        return 2
    started = time.perf_counter()
    out, n_pages = print_book(args.html, chromium, args.out or args.html / "downloads" / PDF_NAME)
    print(f"print_book: {out} ({n_pages} pages, {out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
