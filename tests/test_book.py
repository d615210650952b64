"""The book builds from the executed chapters with warnings as errors, and the HTML is whole."""

import re

import pytest
import yaml
from conftest import REPO

from textgan_lib.book.notebooks import book_repository

pytestmark = pytest.mark.slow  # executes every chapter and builds the book (minutes)


def _toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_every_toc_page_exists(built_book):
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    missing = [f for f in _toc_files(toc) if not (built_book / f"{f}.html").is_file()]
    assert not missing


def test_every_chapter_listed_in_toc(executed_notebooks):
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    listed = {f for f in _toc_files(toc) if f.startswith("notebooks/")}
    assert listed == {f"notebooks/{name.removesuffix('.ipynb')}" for name in executed_notebooks}


def test_no_traceback_in_any_page(built_book):
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" not in html, page
        assert "output traceback" not in html, page  # myst-nb's class for an error output


def test_every_chapter_has_a_figure_and_a_colab_link(built_book, executed_notebooks):
    for name in executed_notebooks:
        stem = name.removesuffix(".ipynb")
        html = (built_book / "notebooks" / f"{stem}.html").read_text(encoding="utf-8")
        assert re.search(r'<img[^>]+src="[^"]+\.png"', html), f"{stem}: no figure"
        github_path = book_repository(REPO).removeprefix("https://github.com/")  # the configured repository
        colab = f"https://colab.research.google.com/github/{github_path}/blob/main/notebooks/{name}"
        assert colab in html, f"{stem}: no Colab launch link to {colab}"


def test_glued_numbers_were_substituted(built_book, executed_notebooks):
    for name in executed_notebooks:
        html = (built_book / "notebooks" / f"{name.removesuffix('.ipynb')}.html").read_text(encoding="utf-8")
        assert "{glue:" not in html
