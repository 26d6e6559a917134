"""Build the book and read every page in a real browser (Debian's headless Chromium).

Page by page: no request leaves the machine, no console error, every display equation typeset
by MathJax, every image loaded, every citation and internal link resolved, and no dead control.
A full-page screenshot of each page is saved under ``_build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import functools
import html.parser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _toc_pages() -> list[str]:
    """HTML pages the book must have: every file of _toc.yml plus Sphinx's own pages."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return ["index.html", "genindex.html", "search.html"] + [f"{f}.html" for f in files]


PAGES = _toc_pages()


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book exactly as the README says (strict: warnings are errors)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", "--all", "-W", "-n", "--keep-going", str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return HTML_DIR


@pytest.fixture(scope="session")
def browser():
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("the browser test needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


@functools.lru_cache(maxsize=None)
def _ids_of(path: Path) -> frozenset:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


def _unresolved(hrefs: list[str], page_path: Path) -> list[str]:
    """Local links whose file or #anchor does not exist."""
    bad = []
    for href in hrefs:
        url = urlparse(href)
        if url.scheme != "file":
            continue
        target = Path(unquote(url.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            bad.append(href)
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids_of(target):
            bad.append(href)
    return bad


RAW_MATH_JS = r"""() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, textarea, mjx-container')) continue;
    const t = node.textContent;
    // any dollar sign left in the text is unrendered TeX (e.g. a formula cut by a table's '|')
    if (t.includes('$') || t.includes('\\[') || t.includes('\\(') || t.includes('\\begin{')) raw.push(t.trim().slice(0, 80));
  }
  return raw;
}"""

IMAGES_JS = """async () => {
  const imgs = [...document.images];
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  return imgs.map(img => [img.getAttribute('src') ? img.src.slice(0, 120) : '(no src)', img.naturalWidth]);
}"""

CONTROLS_JS = """() => document.querySelectorAll(
  '.jupyter-widgets, .widget-slider, .widget-button, ' +
  'script[type="application/vnd.jupyter.widget-view+json"]').length"""


def _check_controls(page) -> list[str]:
    """Every slider and output button must change the page when used (no dead controls)."""
    dead = []
    for k in range(page.locator("input[type=range]").count()):
        slider = page.locator("input[type=range]").nth(k)
        before = page.content()
        slider.evaluate(
            """el => { el.value = String(Number(el.max) > Number(el.value) ? el.max : el.min);
                       el.dispatchEvent(new Event('input', {bubbles: true}));
                       el.dispatchEvent(new Event('change', {bubbles: true})); }"""
        )
        if page.content() == before:
            dead.append(f"slider #{k} changes nothing")
    buttons = page.locator(".cell_output button")
    for k in range(buttons.count()):
        button = buttons.nth(k)
        title = button.get_attribute("title") or f"#{k}"
        if title in ("Increase speed", "Decrease speed", "Pause"):
            continue  # they change timing state, not the DOM; Play/Next/… are checked below
        player = button.locator("xpath=ancestor::*[.//input[@type='range']][1]//input[@type='range']")
        if player.count():  # start mid-way so that every navigation button has somewhere to go
            player.first.evaluate(
                "el => { el.value = String(Math.floor(Number(el.max) / 2));"
                " el.dispatchEvent(new Event('input')); }"
            )
        before = page.content()
        button.click()
        page.wait_for_timeout(300)
        if title in ("Play", "Play backwards"):
            page.locator(".cell_output button[title=Pause]").first.click()
        if page.content() == before:
            dead.append(f"button {title!r} changes nothing")
    return dead


def test_every_built_page_is_checked(built_book):
    built = {
        p.relative_to(built_book).as_posix()
        for p in built_book.rglob("*.html")
        if not p.relative_to(built_book).as_posix().startswith(("_static/", "_sources/", "_images/"))
    }
    assert built == set(PAGES)


def test_mathjax_is_served_locally(built_book):
    mathjax = built_book / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.exists()
    page = (built_book / "chapters" / "forward_process.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


def inspect_page(browser, path: Path, screenshot: Path | None = None) -> tuple[dict, dict]:
    """Open one page from disk and list its problems by kind (an empty list is a pass)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # generous: CI machines are shared, and a long page typesets hundreds of equations
    context.set_default_timeout(90_000)
    page = context.new_page()
    external, errors, failed = [], [], []

    def route(r):
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:  # never sent: the check must not itself touch the network
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    try:
        page.goto(path.as_uri(), wait_until="load")
        redirect = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', path.read_text(encoding="utf-8"), re.I)
        if redirect:  # index.html forwards to the first chapter: check where the reader lands
            page.wait_for_url((path.parent / redirect.group(1)).resolve().as_uri())
        n_math = page.locator("div.math, span.math").count()
        if n_math and page.evaluate("() => !!document.querySelector('script[src*=mathjax]')"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        untypeset = page.evaluate(
            "() => [...document.querySelectorAll('div.math, span.math')]"
            ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))"
        )
        raw_math = page.evaluate(RAW_MATH_JS)
        images = page.evaluate(IMAGES_JS)
        citations = page.evaluate(
            "() => [...document.querySelectorAll('.bibtex-citation')].map(c => "
            "[c.textContent, [...c.querySelectorAll('a[href]')].map(a => a.href)])"
        )
        links = page.evaluate("() => [...document.querySelectorAll('a.reference.internal[href]')].map(a => a.href)")
        widgets = page.evaluate(CONTROLS_JS)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        dead = _check_controls(page)
    finally:
        context.close()
    cited = [href for _, hrefs in citations for href in hrefs]
    problems = {
        "requests leaving the machine": external,
        "console errors": errors,
        "failed requests": failed,
        "equations not typeset by MathJax": untypeset,
        "raw TeX in the text": raw_math,
        "images not loaded": [src for src, width in images if width == 0],
        "unresolved citations": [text for text, hrefs in citations if not hrefs or "?" in text],
        "links to missing targets": _unresolved(cited + links, path),
        "ipywidgets (dead in a static page)": [f"{widgets} widget elements"] if widgets else [],
        "dead controls": dead,
    }
    info = {"equations": n_math, "images": len(images), "citations": len(citations)}
    return problems, info


@pytest.mark.parametrize("name", PAGES)
def test_page_in_browser(name, built_book, browser):
    path = built_book / name
    assert path.exists(), f"{name} was not built"
    shot = SHOTS / (name.replace("/", "__").removesuffix(".html") + ".png")
    problems, info = inspect_page(browser, path, shot)
    assert not {kind: found for kind, found in problems.items() if found}
    if name == "chapters/forward_process.html":
        assert info["equations"] > 5 and info["images"] >= 5 and info["citations"], info


BROKEN_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="https://cdn.example.invalid/lib.js"></script></head><body>
<p>Raw maths: $$x^2$$</p>
<table><tr><td>a formula cut by a table cell: $n\\ln</td><td>a\\rvert$</td></tr></table>
<div class="math notranslate">\\[x^2\\]</div>
<img src="missing.png" alt="">
<script>throw new Error("boom");</script>
<span class="bibtex-citation">[?]</span>
<a class="reference internal" href="#nowhere">dangling</a>
<div class="cell_output"><input type="range" min="0" max="5" value="0"></div>
<div class="jupyter-widgets">a widget without a kernel</div>
</body></html>"""


def test_the_page_check_catches_every_kind_of_problem(browser, tmp_path):
    """The browser check is only worth something if it can fail: feed it a broken page."""
    page = tmp_path / "broken.html"
    page.write_text(BROKEN_PAGE, encoding="utf-8")
    problems, _ = inspect_page(browser, page)
    missed = [kind for kind, found in problems.items() if not found]
    assert not missed, f"the check missed: {missed}"
