"""The book builds from the executed chapters with warnings as errors, and the HTML is whole."""

import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from textgan_lib.book import book_repository

pytestmark = pytest.mark.slow  # executes every chapter and builds the book (minutes)


def _toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


@pytest.fixture(scope="module")
def built_book(tmp_path_factory, executed_notebooks):
    """Build a copy of the book whose chapters are the ci-executed notebooks (no re-execution)."""
    root = tmp_path_factory.mktemp("book")
    for name in ["_toc.yml", "book"]:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "notebooks").mkdir()
    for name, path in executed_notebooks.items():
        shutil.copy(path, root / "notebooks" / name)
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    build = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(root),
             "--warningiserror", "--keep-going"]
    result = subprocess.run(  # noqa: S603 -- our own interpreter and a temporary folder we made
        build,
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return root / "_build" / "html"


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
