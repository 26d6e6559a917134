"""The chapters in a real JupyterLab, driven by Chromium as a reader would use them (issue 10).

JupyterLab (from this environment, with jupyterlab-myst and the ipywidgets front end) is started
on a free 127.0.0.1 port, token-less, as root if need be, in a temporary copy of ``chapters/``
with ``lib`` importable. Each notebook is opened, Run All is executed (the same command as the
menu's Run > Run All Cells; it also runs the explorer cells the HTML build skips), and then:

- no cell has an error output;
- no rendered markdown still shows MyST markup as text (``{glue``, ``{cite``, ``{ref}``,
  ``{eval``): jupyterlab-myst renders roles and evaluates ``{eval}`` in the kernel;
- moving an explorer's slider changes its figure.

A small fixture notebook is checked first (an ``{eval}`` number, a citation, a slider), then a
real chapter (every chapter is executed by nbmake and in the book build; one in JupyterLab shows
that jupyterlab-myst renders the chapters' markup and their explorers answer). Debian's Chromium drives it (``CHROMIUM`` may name another); nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["fokker_planck.ipynb"]  # a real chapter, quick to run, with an explorer
RAW_MARKUP = ("{glue", "{cite", "{ref}", "{eval", "{numref}", "{doc}")
RUN_TIMEOUT_MS = 120_000

FIXTURE = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell("import ipywidgets as widgets\nimport matplotlib.pyplot as plt\nx = 6 * 7"),
        nbformat.v4.new_markdown_cell(
            "The answer is {eval}`x`, as {cite}`peter2023` would not say; see {ref}`the-slider`."
        ),
        nbformat.v4.new_markdown_cell("(the-slider)=\n## A slider"),
        nbformat.v4.new_code_cell(
            "def show(n):\n"
            "    fig, ax = plt.subplots(figsize=(3, 2))\n"
            "    ax.plot(range(n + 2), [k * k for k in range(n + 2)])\n"
            "    ax.set_title(f'n = {n}')\n"
            "    plt.show()\n"
            "widgets.interactive(show, n=widgets.IntSlider(value=3, min=0, max=10, description='n'))"
        ),
    ],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
)

# JupyterLab user settings: render every cell (no windowing, so the whole notebook is in the
# DOM to be checked) and never ask to fetch news or updates (no network).
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a temporary copy of the chapters; yields its base URL."""
    if not shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)):
        pytest.fail("JupyterLab is not installed in this environment (requirements.txt)")
    base = tmp_path_factory.mktemp("lab")
    work = base / "chapters"
    shutil.copytree(ROOT / "chapters", work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.md"))
    shutil.copy(ROOT / "references.bib", base / "references.bib")
    nbformat.write(FIXTURE, work / "fixture.ipynb")
    settings = base / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    port = _free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
        f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
        "--LabServerApp.announcements_url=", "--ServerApp.open_browser=False",
    ]  # fmt: skip
    log = (base / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(base / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# The notebook panel JupyterLab shows, reached through the app object it exposes
# (--LabApp.expose_app_in_browser).
PANEL = "(() => window.jupyterapp && window.jupyterapp.shell && window.jupyterapp.shell.currentWidget)()"

STATE_JS = f"""() => {{
  const panel = {PANEL};
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets;
  const running = cells.filter(c => c.model.type === 'code' && c.model.executionCount === null).length;
  const busy = [...panel.node.querySelectorAll('.jp-InputArea-prompt')].some(p => p.textContent.includes('*'));
  return {{kernel: kernel ? kernel.status : 'none', busy, unexecuted: running}};
}}"""

ERRORS_JS = f"""() => {{
  const panel = {PANEL};
  const errors = [];
  panel.content.widgets.forEach((cell, k) => {{
    if (cell.model.type !== 'code') return;
    for (const out of cell.model.outputs.toJSON())
      if (out.output_type === 'error') errors.push(`cell ${{k}}: ${{out.ename}}: ${{out.evalue}}`.slice(0, 300));
  }});
  return errors;
}}"""

# The rendered part of a markdown cell, whichever renderer draws it (jupyterlab-myst's ".myst",
# JupyterLab's own ".jp-RenderedMarkdown"): the input area's widget that is not the editor.
RENDERED = ".jp-MarkdownCell .jp-InputArea > .lm-Widget:not(.jp-InputArea-editor):not(.jp-InputArea-prompt)"

RAW_JS = """(markers) => {
  const found = [];
  document.querySelectorAll('""" + RENDERED + """').forEach(el => {
    const text = el.innerText;
    for (const m of markers) { const i = text.indexOf(m); if (i >= 0) found.push(text.slice(Math.max(0, i - 20), i + 40)); }
  });
  return found;
}"""


def open_and_run_all(page, url: str, name: str) -> float:
    """Open a notebook, wait for its kernel, Run All, wait until every cell has run."""
    page.goto(f"{url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
    page.wait_for_function(f"() => {{ const s = ({STATE_JS})(); return s && s.kernel === 'idle'; }}", timeout=60_000)
    started = time.perf_counter()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        f"() => {{ const s = ({STATE_JS})(); return s && s.kernel === 'idle' && !s.busy && s.unexecuted === 0; }}",
        timeout=RUN_TIMEOUT_MS,
        polling=250,
    )
    page.wait_for_timeout(500)  # widget views and MyST re-renders settle after the last reply
    return time.perf_counter() - started


def move_a_slider(page) -> tuple[str, str]:
    """Press → on the first explorer slider; return the figure before and after."""
    slider = page.locator(".jp-OutputArea .widget-slider [role=slider], .jp-OutputArea .widget-slider .noUi-handle").first
    slider.wait_for(state="visible", timeout=30_000)
    slider.scroll_into_view_if_needed()
    output = slider.locator("xpath=ancestor::div[contains(@class,'widget-interact') or contains(@class,'jupyter-widgets')][last()]")
    figure = output.locator("img").first
    figure.wait_for(state="visible", timeout=30_000)
    before = figure.get_attribute("src")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, before]) => { const img = el.querySelector('img'); return img && img.getAttribute('src') !== before; }",
        arg=[output.element_handle(), before],
        timeout=30_000,
    )
    return before, figure.get_attribute("src")


def check_notebook(browser, url: str, name: str) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    console = []
    page.on("pageerror", lambda e: console.append(str(e)))
    try:
        seconds = open_and_run_all(page, url, name)
        errors = page.evaluate(ERRORS_JS)
        raw = page.evaluate(RAW_JS, list(RAW_MARKUP))
        n_markdown = [page.locator(RENDERED).count(), page.locator(".jp-MarkdownCell:not(.jp-mod-rendered)").count()]
        before, after = move_a_slider(page)
        text = page.locator(".jp-MarkdownCell").all_inner_texts()
    finally:
        context.close()
    return {"seconds": seconds, "errors": errors, "raw": raw, "markdown": n_markdown,
            "slider": before != after, "text": "\n".join(text), "page errors": console}  # fmt: skip


def test_fixture_notebook_renders_myst_and_answers_its_slider(lab, browser):
    """{eval} shows the kernel's value, {cite}/{ref} render, the slider redraws the figure."""
    result = check_notebook(browser, lab, "fixture.ipynb")
    assert not result["errors"], result["errors"]
    assert result["markdown"][0] >= 2 and not result["markdown"][1]
    assert not result["raw"], f"raw MyST markup in rendered markdown: {result['raw']}"
    assert "The answer is 42" in result["text"], result["text"][:500]
    assert result["slider"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_runs_in_jupyterlab(lab, browser, name):
    """A real chapter: Run All without an error, every MyST role rendered, an explorer that
    redraws when its slider moves."""
    result = check_notebook(browser, lab, name)
    print(f"{name}: Run All took {result['seconds']:.1f} s")
    assert not result["errors"], result["errors"]
    rendered, unrendered = result["markdown"]
    assert rendered > 3 and not unrendered, f"{unrendered} markdown cells left unrendered"
    assert not result["raw"], f"raw MyST markup in rendered markdown: {result['raw'][:10]}"
    assert result["slider"], "moving the explorer's slider did not change its figure"
