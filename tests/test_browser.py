"""The rendered book as a reader sees it: every page opened in headless Chromium, offline.

Checks per page: no error in the browser console, every image loaded, every formula typeset by
the book's own MathJax (no raw ``\\(`` or ``$$`` left in the text), every figure numbered and
captioned with alt text, every table captioned, launch links pointing at the configured repository, and the playgrounds'
static notes shown. A screenshot of each page goes to ``_build/screenshots/`` for review.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); without them the
test is skipped locally and fails in CI.
"""

import functools
import http.server
import os
import re
import shutil
import threading

import pytest
import yaml
from conftest import REPO, read_notebook

from textgan_lib.book.notebooks import book_repository
from textgan_lib.book.widgets import LIVE_ONLY_NOTE

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PLAYGROUND_CHAPTERS = ["04_language_model", "07_discrete_gradients", "09_gumbel_gan", "11_latent_gan"]
SCREENSHOTS = REPO / "_build" / "screenshots"

# Text nodes outside code, scripts and typeset math that still hold TeX delimiters: math MathJax
# did not typeset.
RAW_MATH_JS = r"""
const walker = document.createTreeWalker(document.querySelector("main") || document.body,
                                         NodeFilter.SHOW_TEXT);
const raw = [];
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (node.parentElement.closest("pre, code, script, style, mjx-container, .MathJax")) continue;
  // a TeX delimiter left in the prose, or a lone $ (a formula broken across lines of a list item)
  if (/\\\(|\\\[|\$|\\begin\{/.test(node.textContent)) raw.push(node.textContent.slice(0, 80));
}
return raw;
"""

TYPESET_SOURCES_JS = """
if (!window.MathJax || !MathJax.startup || !MathJax.startup.document) return [];
return Array.from(MathJax.startup.document.math).map(item => item.math);
"""


def _mostly_words(tex: str) -> bool:
    """Whether a typeset formula is really English prose (a ``$`` that opened the wrong span)."""
    plain = re.sub(r"\\(?:text|mathrm|operatorname|mathbf|textrm)\{[^}]*\}|\\[A-Za-z]+", " ", tex)
    words = re.findall(r"[A-Za-z]{3,}", plain)
    return len(words) >= 4 and sum(map(len, words)) > 0.5 * len(re.sub(r"\s", "", plain))


TABLE_CAPTIONS_JS = """
return Array.from(document.querySelectorAll("article .cell_output table")).map(
  t => (t.querySelector("caption")?.innerText || "").trim());
"""

IMAGES_JS = """
return Array.from(document.querySelectorAll("article img")).map(img => ({
  src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0,
  alt: img.getAttribute("alt") || "",
  caption: (img.closest("figure")?.querySelector("figcaption")?.innerText || "").trim(),
}));
"""


def _pages() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _has_math(page: str) -> bool:
    """Whether the page's prose (not its code) writes a formula."""
    path = REPO / f"{page}.ipynb"
    if path.is_file():
        prose = "".join("".join(c["source"]) for c in read_notebook(path)["cells"] if c["cell_type"] == "markdown")
    else:
        prose = (REPO / f"{page}.md").read_text(encoding="utf-8")
    return "$" in re.sub(r"`[^`]*`", "", prose)


@pytest.fixture(scope="module")
def served_book(built_book):
    """The built HTML on a local HTTP server (as a reader's browser would load it)."""
    handler = functools.partial(QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test reports what failed; no access log
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        message = "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_the_formula_check_tells_prose_from_math():
    assert _mostly_words(" is a differentiable stand-in that the discriminator can judge, so its gradient ")
    for tex in [r"\\operatorname{softmax}(\\beta(o + g))", r"\\mathrm{NLL}_\\mathrm{oracle}", r"\\beta_{\\max}",
                r"Q(y_{1:t}) = \\frac{1}{M} \\sum_{m=1}^{M} D(y)", r"\\text{if the sequence ended}"]:
        assert not _mostly_words(tex), tex


@pytest.mark.parametrize("page", _pages())
def test_page_renders_for_a_reader(page, served_book, browser):
    browser.get(f"{served_book}/{page}.html")
    # Wait for MathJax to finish typesetting, where the page loads it.
    typeset = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        if (!window.MathJax || !MathJax.startup) { done("no MathJax"); return; }
        MathJax.startup.promise.then(() => done("typeset"), e => done("error: " + e));
    """)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{page.replace('/', '__')}.png"))

    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{page}: console errors {errors}"

    assert typeset in ("typeset", "no MathJax"), f"{page}: MathJax {typeset}"
    assert not browser.execute_script(RAW_MATH_JS), f"{page}: math left untypeset, or a lone $ in the prose"
    prose = [tex for tex in browser.execute_script(TYPESET_SOURCES_JS) if _mostly_words(tex)]
    assert not prose, f"{page}: prose typeset as a formula: {prose[0][:80]!r}"
    mathjax_sources = browser.execute_script(
        "return Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert all(src.startswith(served_book) for src in mathjax_sources), mathjax_sources  # served by the book
    if _has_math(page):
        assert browser.find_elements("css selector", "mjx-container"), f"{page}: its formulas were not typeset"

    images = browser.execute_script(IMAGES_JS)
    assert all(image["loaded"] for image in images), f"{page}: images not loaded {images}"
    if page.startswith("notebooks/"):
        assert images, f"{page}: no figure"
        chapter = int(page.split("/")[1][:2])
        for image in images:
            assert re.match(rf"Figure {chapter}\.\d+: \S", image["caption"]), f"{page}: uncaptioned {image}"
            assert image["alt"].strip(), f"{page}: figure without alt text: {image['caption'][:40]}"

        for caption in browser.execute_script(TABLE_CAPTIONS_JS):
            assert re.match(rf"Table {chapter}\.\d+: \S", caption), f"{page}: a table without a caption"

        repository = book_repository(REPO).removeprefix("https://github.com/")
        links = browser.execute_script("return Array.from(document.links).map(a => a.href)")
        colab = [link for link in links if "colab.research.google.com" in link]
        assert colab == [f"https://colab.research.google.com/github/{repository}/blob/main/{page}.ipynb"], colab
        assert f"https://github.com/{repository}" in links, f"{page}: no repository link"

    if page.split("/")[-1] in PLAYGROUND_CHAPTERS:
        text = browser.find_element("css selector", "main").text
        assert LIVE_ONLY_NOTE in " ".join(text.split()), f"{page}: the playground's static note is missing"
