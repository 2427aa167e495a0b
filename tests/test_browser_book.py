"""The built book and a slide deck, opened in headless Chromium with the network cut off.

The book is served from ``book/_build/html`` on 127.0.0.1 (it is built first, by
book/build.py, when it is missing or older than its sources). Every request to another
host is blocked and recorded; the tests then check, page by page, that

* nothing was fetched from elsewhere (and no local file was missing),
* MathJax typeset the equations (``mjx-container`` elements, no MathJax error, no raw
  ``$$`` left in the visible text),
* every link to another page of the site answers 200, and its ``#anchor`` exists,
* the browser console shows no error,

and save screenshots under ``test-output/``. Every chapter's slide deck, generated here by
book/slides.py exactly as ``make slides`` does, is opened at 1280 × 720 and every slide measured:
none may overflow the screen or scroll sideways, none may be empty, and each deck has speaker notes.

Chromium comes from the system (Debian's ``chromium`` package); Playwright never
downloads a browser here. Without Chromium (or Node.js's npm, which the first build needs
to fetch the pinned JavaScript) the tests are skipped, except under CI (environment
variable ``CI`` set), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"
STAMP = BOOK / "_build" / "html-ok.stamp"
OUTPUT = ROOT / "test-output"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))  # Debian's package
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
CHAPTER = "06"  # the chapter opened in the book, and whose deck is photographed
VIEWPORT = {"width": 1280, "height": 900}
SCREEN = {"width": 1280, "height": 720}  # a projector: every slide must fit it
CHAPTER_GLOB = "[0-9][0-9]*_*"  # 01_..., 06b_...


def _unavailable(reason: str, module: bool = False) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


if not CHROMIUM.is_file():
    _unavailable(f"{CHROMIUM} not found: install Debian's chromium package "
                 "(apt-get install chromium) to run the browser tests", module=True)
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - playwright is pinned in pyproject.toml
    _unavailable("playwright is not installed (it is pinned in pyproject.toml)", module=True)

sys.path.insert(0, str(BOOK))
import slides  # noqa: E402  (book/slides.py)


# --------------------------------------------------------------------------- building

def _book_sources() -> list[Path]:
    sources = [p for p in BOOK.rglob("*") if p.is_file()
               and "_build" not in p.parts and "__pycache__" not in p.parts]
    return sources + sorted((ROOT / "notebooks").glob(f"{CHAPTER_GLOB}.ipynb"))


def _book_is_current() -> bool:
    if not STAMP.is_file() or not (HTML / "index.html").is_file():
        return False
    built = STAMP.stat().st_mtime
    return all(source.stat().st_mtime <= built for source in _book_sources())


def _chapter_page(number: str) -> str:
    """The chapter's page, relative to the site root: notebooks/06_....html."""
    found = sorted((HTML / "notebooks").glob(f"{number}_*.html"))
    assert found, f"the book has no page for chapter {number} under {HTML / 'notebooks'}"
    return found[0].relative_to(HTML).as_posix()


@pytest.fixture(scope="session")
def book() -> Path:
    """book/_build/html, rebuilt (about a minute) when missing or older than its sources."""
    if not _book_is_current():
        if shutil.which("npm") is None and not (BOOK / "_build" / "_npm").is_dir():
            _unavailable("npm (Node.js) is needed once to fetch the book's pinned JavaScript")
        result = subprocess.run([sys.executable, str(BOOK / "build.py")], cwd=ROOT,
                                capture_output=True, text=True)
        assert result.returncode == 0, (
            "book/build.py failed:\n" + result.stdout[-3000:] + result.stderr[-3000:]
        )
    return HTML


@pytest.fixture(scope="session")
def decks() -> dict[str, Path]:
    """Every chapter's deck (name -> path), written to test-output/slides by the code `make slides` runs."""
    if shutil.which("npm") is None and not (BOOK / "_build" / "_npm").is_dir():
        _unavailable("npm (Node.js) is needed once to fetch reveal.js")
    return {deck.name.split(".")[0]: deck for deck in slides.build_slides(output=OUTPUT / "slides")}


@pytest.fixture(scope="session")
def deck(decks) -> Path:
    """The chapter-6 deck."""
    return next(path for name, path in decks.items() if name.startswith(f"{CHAPTER}_"))


# --------------------------------------------------------------------------- serving

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A browser that navigates on drops its pending requests (broken pipes); the
        # tests judge the pages from the browser's side, not from the server's log.
        pass


@pytest.fixture(scope="session")
def serve():
    """serve(folder) -> base URL of an http.server on 127.0.0.1 for that folder."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = _QuietServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")  # the sync API runs an event loop: stop it before other modules
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser page with the network cut off, and what it saw."""

    def __init__(self, browser, base: str, viewport: dict = VIEWPORT):
        self.base = base
        self.blocked: list[str] = []   # requests to anywhere but the local server
        self.failed: list[str] = []    # local requests that failed or answered >= 400
        self.errors: list[str] = []    # console errors and uncaught exceptions
        self.context = browser.new_context(viewport=viewport)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} ({r.status})"))

    def _request_failed(self, request) -> None:
        # ERR_ABORTED: the page moved on (a redirect) before a request finished. Blocked
        # requests are counted in self.blocked; HTTP errors in the response handler.
        if "ERR_ABORTED" not in (request.failure or "") and request.url.startswith(self.base):
            self.failed.append(f"{request.url} ({request.failure})")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="load")
        wait_for_mathjax(self.page)

    def check_clean(self) -> None:
        assert self.blocked == [], f"pages tried to reach the network: {self.blocked}"
        assert self.failed == [], f"local requests failed: {self.failed}"
        assert self.errors == [], f"browser console errors: {self.errors}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser):
    opened = []

    def start(base: str, viewport: dict = VIEWPORT) -> Visit:
        opened.append(Visit(browser, base, viewport))
        return opened[-1]

    yield start
    for v in opened:
        v.close()


# --------------------------------------------------------------------------- checks

def wait_for_mathjax(page) -> None:
    """Wait until MathJax 3 (where the page loads it) has finished its first typesetting pass."""
    if not page.locator("script[src*='tex-mml-chtml']").count():
        return
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                           timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")


def check_equations(page, at_least: int = 1) -> int:
    count = page.locator("mjx-container").count()
    assert count >= at_least, f"only {count} typeset equations on {page.url}"
    errors = page.locator("mjx-merror").all_inner_texts()
    assert errors == [], f"MathJax errors on {page.url}: {errors}"
    visible = page.inner_text("body")
    assert "$$" not in visible, f"raw $$ in the visible text of {page.url}"
    assert not re.search(r"\\(begin|frac|tag)\{", visible), f"raw TeX in the text of {page.url}"
    return count


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


def check_internal_links(visit: Visit) -> int:
    """Every same-site link of the open page answers 200, and its #anchor exists there."""
    page = visit.page
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    targets: dict[str, set[str]] = {}
    for href in hrefs:
        if urlsplit(href).netloc != urlsplit(visit.base).netloc:
            continue
        url, fragment = urldefrag(href)
        targets.setdefault(url, set())
        if fragment:
            targets[url].add(fragment)
    assert targets, f"no internal links on {page.url}"
    for url, fragments in sorted(targets.items()):
        response = page.request.get(url)
        assert response.status == 200, f"{page.url} links to {url}: HTTP {response.status}"
        if fragments and url.endswith(".html"):
            anchors = _Anchors()
            anchors.feed(response.text())
            missing = sorted(fragments - anchors.ids)
            assert missing == [], f"{page.url} links to {url} with unknown anchors {missing}"
    return len(targets)


def screenshot(page, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / name
    page.screenshot(path=str(path))
    return path


# --------------------------------------------------------------------------- tests

def test_landing_page(book, serve, visit):
    v = visit(serve(book))
    v.page.goto(v.base + "index.html")  # the site's front door redirects to the landing page
    v.page.wait_for_url("**/book/intro.html", timeout=10_000)
    v.page.wait_for_load_state("load")
    wait_for_mathjax(v.page)
    check_equations(v.page)
    # The chapter map links every chapter of the toc.
    chapters = sorted(p.name for p in (book / "notebooks").glob(f"{CHAPTER_GLOB}.html"))
    linked = set(v.page.eval_on_selector_all(
        "article a[href*='notebooks/']", "links => links.map(a => a.pathname.split('/').pop())"))
    assert set(chapters) <= linked, f"chapter map misses {sorted(set(chapters) - linked)}"
    check_internal_links(v)
    screenshot(v.page, "book-landing.png")
    v.check_clean()


def test_chapter_page(book, serve, visit):
    v = visit(serve(book))
    v.open(_chapter_page(CHAPTER))
    page = v.page
    check_equations(page, at_least=5)
    # Solutions sit folded, code and output, behind a toggle; opening one shows both. An
    # exercise's check folds its code and shows its verdict.
    solutions = page.locator("div.cell.tag_solution details.hide")
    assert solutions.count() >= 1, "no folded solution on the chapter page"
    first = solutions.first
    assert not first.locator("div.cell_input").is_visible()
    assert not first.locator("div.cell_output").is_visible()
    first.scroll_into_view_if_needed()
    first.locator("summary").click()
    assert first.locator("div.cell_input").is_visible()
    assert first.locator("div.cell_output").is_visible()
    check = page.locator("div.cell.tag_check").first
    assert not check.locator("div.cell_input").is_visible()
    assert check.locator("div.cell_output").is_visible()
    page.wait_for_timeout(600)  # the theme fades the unfolded code in
    screenshot(page, f"book-chapter{CHAPTER}-solution.png")
    page.locator("mjx-container[display='true']").first.scroll_into_view_if_needed()
    screenshot(page, f"book-chapter{CHAPTER}-equation.png")
    check_internal_links(v)
    v.check_clean()


def test_text_chapter_heatmaps(book, serve, visit):
    """Chapter 9's heatmaps are coloured words in the page itself (inline styles only), drawn offline:
    tables of spans whose computed backgrounds run from red through white to blue."""
    v = visit(serve(book))
    v.open(_chapter_page("09"))
    page = v.page
    tables = page.locator("div.output.text_html table")
    assert tables.count() >= 3, f"only {tables.count()} heatmap tables on the chapter-9 page"
    spans = page.locator("div.output.text_html table span[title]")
    assert spans.count() >= 100, f"only {spans.count()} coloured words on the chapter-9 page"
    colours = spans.evaluate_all("spans => spans.map(s => getComputedStyle(s).backgroundColor)")
    reds = [c for c in colours if re.fullmatch(r"rgb\(255, (\d+), \1\)", c) and c != "rgb(255, 255, 255)"]
    blues = [c for c in colours if re.fullmatch(r"rgb\((\d+), \1, 255\)", c) and c != "rgb(255, 255, 255)"]
    assert reds and blues, f"the heatmaps are not coloured: {sorted(set(colours))[:5]}"
    first = tables.first
    first.scroll_into_view_if_needed()
    assert first.is_visible() and first.bounding_box()["width"] > 200
    screenshot(page, "book-chapter09-heatmap.png")
    v.check_clean()


def _source_tags(source: Path) -> set[str]:
    """The \\tag{n} numbers in a page's source (a notebook's markdown cells, or a .md file)."""
    text = source.read_text(encoding="utf8")
    if source.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return set(re.findall(r"\\tag\{([^{}]+)\}", text))


def test_equation_numbers_match_the_sources(book, serve, visit):
    """Each \\tag{n} in a chapter notebook or a book page is drawn as the label "(n)"."""
    v = visit(serve(book))
    sources = sorted((ROOT / "notebooks").glob(f"{CHAPTER_GLOB}.ipynb")) + sorted(BOOK.glob("*.md"))
    checked = 0
    for source in sources:
        wanted = _source_tags(source)
        page = book / source.relative_to(ROOT).with_suffix(".html")
        if not wanted or not page.is_file():
            continue
        v.open(page.relative_to(book).as_posix())
        check_equations(v.page)
        # MathJax gives each drawn label the id "mjx-eqn:<tag>" and the text "(<tag>)".
        labels = v.page.eval_on_selector_all(
            "mjx-container[display='true'] mjx-labels mjx-mtd[id^='mjx-eqn:']",
            "cells => cells.map(c => c.id.slice('mjx-eqn:'.length))")
        missing = sorted(wanted - set(labels))
        assert missing == [], f"{page.name}: \\tag{{n}} not drawn for n in {missing}"
        checked += 1
    assert checked, "no page uses \\tag{n}"
    v.check_clean()


def test_every_chapter_typesets(book, serve, visit):
    """Every chapter page and book page: MathJax draws every formula, without an error."""
    v = visit(serve(book))
    pages = sorted((book / "notebooks").glob(f"{CHAPTER_GLOB}.html")) + sorted((book / "book").glob("*.html"))
    for page in pages:
        v.open(page.relative_to(book).as_posix())
        check_equations(v.page, at_least=1 if page.parent.name == "notebooks" else 0)
    v.check_clean()


def test_widgets_show_their_saved_state(book, serve, visit):
    """Pages whose notebook saved widget state draw the widgets from local files."""
    pages = [p for p in sorted((book / "notebooks").glob(f"{CHAPTER_GLOB}.html"))
             if "application/vnd.jupyter.widget-view+json" in p.read_text(encoding="utf8")]
    if not pages:
        pytest.skip("no chapter with saved widget state yet")
    v = visit(serve(book))
    for page_file in pages:
        v.open(page_file.relative_to(book).as_posix())
        widget = v.page.wait_for_selector(
            ".jupyter-widgets.widget-container, .jupyter-widgets .widget-inline-hbox", timeout=30_000)
    widget.scroll_into_view_if_needed()
    v.page.wait_for_timeout(500)
    screenshot(v.page, "book-widgets.png")
    v.check_clean()


def test_search_works_offline(book, serve, visit):
    v = visit(serve(book))
    v.open("search.html?q=Shapley")
    v.page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    assert v.page.locator("#search-results ul.search li").count() >= 1
    screenshot(v.page, "book-search.png")
    v.check_clean()


def test_slide_deck(deck, serve, visit):
    v = visit(serve(deck.parent))
    v.open(deck.name)
    page = v.page
    page.wait_for_selector(".reveal.ready", timeout=30_000)
    check_equations(page, at_least=5)
    screenshot(page, f"slides-chapter{CHAPTER}-title.png")
    # Go to the first slide with a display equation and photograph it.
    indices = page.evaluate("""() => {
        const math = document.querySelector(".reveal .slides mjx-container[display='true']");
        const sections = [];
        for (let s = math.closest('section'); s; s = s.parentElement.closest('section')) sections.unshift(s);
        const top = Array.from(document.querySelectorAll('.reveal .slides > section'));
        const h = top.indexOf(sections[0]);
        const v = sections.length > 1 ? Array.from(sections[0].children).filter(c => c.tagName === 'SECTION').indexOf(sections[1]) : 0;
        return [h, v];
    }""")
    page.evaluate("""([h, v]) => new Promise(done => require(["reveal.js/dist/reveal.js"],
        reveal => { reveal.slide(h, v); setTimeout(done, 800); }))""", indices)
    current = page.locator(".reveal .slides section.present mjx-container[display='true']")
    assert current.count() >= 1, "the slide shown has no display equation"
    screenshot(page, f"slides-chapter{CHAPTER}-equation.png")
    v.check_clean()


# What a slide may not do on a 1280 x 720 screen, measured in the browser after MathJax (and the
# widget manager) have drawn it: be taller or wider than the deck's canvas, hold a code or output
# block that scrolls sideways, or show nothing (its prose went to the notes, nothing stayed).
MEASURE_SLIDES = """async () => {
  const Reveal = await new Promise(done => require(["reveal.js/dist/reveal.js"], done));
  Reveal.configure({ transition: "none", backgroundTransition: "none" });
  const { width, height } = Reveal.getConfig();
  const problems = [];
  const slides = Reveal.getSlides();
  for (const slide of slides) {
    const { h, v } = Reveal.getIndices(slide);
    Reveal.slide(h, v);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const first = slide.querySelector("h1, h2, h3, h4, p, pre");
    const label = `slide ${h + 1}.${(v || 0) + 1} (${first ? first.innerText.trim().split("\\n")[0].slice(0, 40) : ""})`;
    if (slide.scrollHeight > height + 1) problems.push(`${label}: ${slide.scrollHeight}px tall`);
    if (slide.scrollWidth > width + 1) problems.push(`${label}: ${slide.scrollWidth}px wide`);
    for (const el of slide.querySelectorAll("pre, .jp-OutputArea-output, mjx-container")) {
      if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
        problems.push(`${label}: a ${el.tagName.toLowerCase()} scrolls sideways`);
    }
    const shown = Array.from(slide.children).filter(c => !["ASIDE", "SECTION"].includes(c.tagName));
    if (!shown.some(c => c.innerText.trim() || c.querySelector("img, mjx-container, .jupyter-widgets")))
      problems.push(`${label}: empty`);
  }
  return { slides: slides.length, notes: document.querySelectorAll("aside.notes").length, problems };
}"""


def _deck_names() -> list[str]:
    return [nb.stem for nb in slides.chapters()]


@pytest.mark.parametrize("name", _deck_names())
def test_every_slide_fits_the_screen(name, decks, serve, visit):
    deck = decks[name]
    v = visit(serve(deck.parent), SCREEN)
    v.open(deck.name)
    v.page.wait_for_selector(".reveal.ready", timeout=30_000)
    if v.page.locator(".jupyter-widgets").count():
        v.page.wait_for_timeout(1000)  # the widget manager draws the saved state after load
    measured = v.page.evaluate(MEASURE_SLIDES)
    assert measured["slides"] >= 8, f"{name}: only {measured['slides']} slides"
    assert measured["notes"] >= measured["slides"] // 3, f"{name}: only {measured['notes']} speaker notes"
    assert measured["problems"] == [], f"{name} at 1280 x 720:\n" + "\n".join(measured["problems"])
    check_equations(v.page)
    v.check_clean()

