"""The built book in a real browser: headless Chromium (Selenium) opens every page of _build/html.

For every chapter of _toc.yml: the math is typeset by MathJax (no raw ``$$`` or ``\\begin`` left,
no MathJax error), every image has loaded, there is no Sphinx error box and no cell traceback, the
Colab button opens this chapter's notebook on the configured branch, and a chapter that displays
ipywidgets carries their embedded widget views and shows none of them as an empty area. Visible
code (not folded by a hide-input tag) fits the text column: no sideways scrolling. A screenshot of
each page goes to _build/screenshots/<chapter>.png.

Needs ``make book`` first and Chromium with its driver (Debian: ``apt-get install chromium
chromium-driver``). Without them the tests skip, unless DGMLIB_REQUIRE_BROWSER=1 (set by .ci/run),
where a missing browser or site is a failure.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import pathlib
import re
import shutil
import sys
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
REQUIRED = os.environ.get("DGMLIB_REQUIRE_BROWSER") == "1"


def _chapters() -> list[str]:
    """Every page of the table of contents, e.g. 'book/03_iwae' (root first)."""
    toc = (ROOT / "_toc.yml").read_text()
    return re.findall(r"^root:\s*(\S+)", toc, re.M) + re.findall(r"^\s*-\s*file:\s*(\S+)", toc, re.M)


def _repository() -> tuple[str, str]:
    """(repository URL without .git, branch), from _config.yml via tools/notebooks.py."""
    return notebooks.repository_url().rstrip("/").removesuffix(".git"), notebooks.repository_branch()


def _skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(reason + " (DGMLIB_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _browser_binaries() -> tuple[str | None, str | None]:
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    return chrome, shutil.which("chromedriver")


@pytest.fixture(scope="module")
def site():
    """Base URL of _build/html served on localhost."""
    if not (HTML / "index.html").exists():
        _skip_or_fail("no built book at _build/html: run `make book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    chrome, driver = _browser_binaries()
    if not (chrome and driver):
        _skip_or_fail("Chromium and chromedriver are not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _skip_or_fail("selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,2000", "--hide-scrollbars"):
        options.add_argument(arg)
    b = webdriver.Chrome(service=Service(driver), options=options)
    b.set_page_load_timeout(60)
    b.set_script_timeout(60)
    yield b
    b.quit()


# Run in the page after load: wait for MathJax, then report what the checks need.
INSPECT = r"""
const done = arguments[arguments.length - 1];
// MathJax: window.MathJax is first the configuration object; the deferred tex-chtml.js adds
// startup.promise, which resolves once the page is typeset. On a page that loads MathJax, wait
// for it (up to 30 s), then, while the page has math and no typeset formula yet, up to 20 s more
// (a slow CI machine).
const poll = (done_, limit) => new Promise(resolve => {
  const start = Date.now();
  const step = () => (done_() || Date.now() - start > limit) ? resolve() : setTimeout(step, 100);
  step();
});
const hasMathJax = !!document.querySelector("script[src*='mathjax' i]");
const ready = poll(() => !hasMathJax || (window.MathJax && MathJax.startup && MathJax.startup.promise),
                   30000)
  .then(() => window.MathJax && MathJax.startup && MathJax.startup.promise)
  .then(() => poll(() => !document.querySelector(".math") || document.querySelector("mjx-container"),
                   20000));
const images = () => Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(r => { img.onload = img.onerror = r; })));
// ipywidgets render after their embed script has loaded: wait up to 15 s for every view.
const widgetsRendered = () => new Promise(resolve => {
  const start = Date.now();
  const poll = () => {
    const views = [...document.querySelectorAll("script[type='application/vnd.jupyter.widget-view+json']")];
    if (views.every(v => v.parentElement.querySelector(".jupyter-widgets, .widget-container, img"))
        || Date.now() - start > 15000) { resolve(); } else { setTimeout(poll, 250); }
  };
  poll();
});
const visible = el => !!(el.offsetParent || el.getClientRects().length) && !el.closest("details:not([open])");
Promise.all([ready, images(), widgetsRendered()]).then(() => {
  const main = document.querySelector("main") || document.body;
  const text = main.innerText;
  done(JSON.stringify({
    title: document.title,
    headings: main.querySelectorAll("h1").length,
    mathjax: !!window.MathJax,
    typeset: document.querySelectorAll("mjx-container").length,
    math_errors: document.querySelectorAll("mjx-merror, .MathJax_Error").length,
    raw_math: (text.match(/\$\$|\\begin\{|\\frac\{/g) || []).length,
    images: [...main.querySelectorAll("img")].map(i => ({src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0})),
    error_boxes: [...document.querySelectorAll(".system-message, div.error, .output.error, .output.traceback")]
                 .map(e => e.innerText.slice(0, 200)),
    tracebacks: (text.match(/Traceback \(most recent call last\)/g) || []).length,
    stray_reprs: text.match(/<[\w.]+ (object )?at 0x[0-9a-f]+>/g) || [],
    colab: [...document.querySelectorAll("a[href*='colab.research.google.com']")].map(a => a.href),
    widget_views: document.querySelectorAll("script[type='application/vnd.jupyter.widget-view+json']").length,
    empty_widget_areas: [...document.querySelectorAll("script[type='application/vnd.jupyter.widget-view+json']")]
        .map(v => v.parentElement)
        .filter(area => (area.getBoundingClientRect().height < 20
                         || !area.querySelector(".jupyter-widgets, .widget-container, img"))
                        && !(area.closest(".cell_output") || area).querySelector(".widget-fallback"))
        .length,
    wide_code: [...main.querySelectorAll("div.cell_input pre")]
        .filter(pre => visible(pre) && pre.scrollWidth > pre.clientWidth + 2)
        .map(pre => pre.innerText.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "").slice(0, 120)),
    // every output area, and every box inside one, that the reader would scroll sideways
    wide_outputs: [...main.querySelectorAll("div.cell_output, div.cell_output *")]
        .filter(el => visible(el) && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0
                      && ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
        .map(el => (el.closest(".cell") || el).id + ": " + el.innerText.split("\n")
             .reduce((a, b) => (b.length > a.length ? b : a), "").slice(0, 120)),
  }));
}).catch(e => done(JSON.stringify({failed: String(e)})));
"""


def _uses_widgets(chapter: str) -> bool:
    path = ROOT / f"{chapter}.ipynb"
    return path.exists() and "dgmlib.widgets" in path.read_text()


@functools.lru_cache(maxsize=None)
def _inspect(browser, site: str, chapter: str) -> dict:
    # A script that throws (seen on a loaded CI machine: the page's <main> and <body> were not
    # there yet when the script ran) says nothing about the page: load it again, once. A page
    # whose script throws twice fails the tests below.
    for _ in range(2):
        browser.get(f"{site}/{chapter}.html")
        info = json.loads(browser.execute_async_script(INSPECT))
        if "failed" not in info:
            break
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{pathlib.Path(chapter).name}.png"))
    return info


CHAPTERS = _chapters()
NOTEBOOKS = [c for c in CHAPTERS if (ROOT / f"{c}.ipynb").exists()]


def test_the_toc_lists_pages():
    assert len(NOTEBOOKS) >= 5 and len(CHAPTERS) > len(NOTEBOOKS)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_page_renders_without_errors_and_every_image_loads(browser, site, chapter):
    assert (HTML / f"{chapter}.html").is_file(), f"{chapter}.html was not built"
    info = _inspect(browser, site, chapter)
    assert "failed" not in info, info
    assert info["headings"] >= 1, "the page has a title"
    assert info["error_boxes"] == [] and info["tracebacks"] == 0, info["error_boxes"]
    assert info["stray_reprs"] == [], "a cell shows an object's repr (end the line with ';')"
    broken = [i["src"] for i in info["images"] if not i["ok"]]
    assert not broken, f"images that did not load: {broken}"
    assert (SCREENSHOTS / f"{pathlib.Path(chapter).name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_chapter_math_is_typeset(browser, site, chapter):
    info = _inspect(browser, site, chapter)
    assert info["mathjax"], "MathJax did not load"
    assert info["typeset"] > 0 and info["math_errors"] == 0, info
    assert info["raw_math"] == 0, "untypeset TeX left on the page"


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_chapter_has_figures(browser, site, chapter):
    info = _inspect(browser, site, chapter)
    assert any(i["src"].startswith(("../_images/", "_images/")) for i in info["images"]), \
        "a chapter shows at least one figure"


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_colab_button_opens_this_chapter(browser, site, chapter):
    url, branch = _repository()
    expected = url.replace("https://github.com/", "https://colab.research.google.com/github/", 1) + \
        f"/blob/{branch}/{chapter}.ipynb"
    assert expected in _inspect(browser, site, chapter)["colab"]


@pytest.mark.parametrize("chapter", [c for c in NOTEBOOKS if _uses_widgets(c)] or
                         [pytest.param(None, marks=pytest.mark.skip("no chapter uses widgets yet"))])
def test_widget_outputs_are_embedded(browser, site, chapter):
    assert _inspect(browser, site, chapter)["widget_views"] > 0


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_visible_code_fits_the_text_column(browser, site, chapter):
    wide = _inspect(browser, site, chapter)["wide_code"]
    assert wide == [], f"visible code wider than the text column (sideways scrolling): {wide}"


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_no_output_scrolls_sideways(browser, site, chapter):
    wide = _inspect(browser, site, chapter)["wide_outputs"]
    assert wide == [], f"outputs wider than the text column (sideways scrolling): {wide}"


@pytest.mark.parametrize("chapter", [c for c in NOTEBOOKS if _uses_widgets(c)] or
                         [pytest.param(None, marks=pytest.mark.skip("no chapter uses widgets yet"))])
def test_no_widget_area_is_empty(browser, site, chapter):
    info = _inspect(browser, site, chapter)
    assert info["empty_widget_areas"] == 0, \
        "a widget view rendered as an empty area, with no dgmlib.widgets.fallback_note beside it"


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_a_screenshot_is_saved_for_every_chapter(browser, site, chapter):
    _inspect(browser, site, chapter)
    shot = SCREENSHOTS / f"{pathlib.Path(chapter).name}.png"
    assert shot.is_file() and shot.stat().st_size > 10_000
