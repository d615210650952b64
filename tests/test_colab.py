"""The chapters' Colab install cell: one source, and it installs the library as Colab would run it."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from textgan_lib import __version__
from textgan_lib.book.notebooks import INSTALL_CELL_MARK, book_repository, colab_install_cell

STAND_IN = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"


def test_every_chapter_has_the_install_cell_made_from_the_config():
    expected = colab_install_cell(book_repository(REPO), __version__)
    assert f"@v{__version__}" in expected  # pinned to the book's version
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                 if INSTALL_CELL_MARK in "".join(c["source"])]
        assert cells == [expected], f"{path.name}: run `python -m textgan_lib.book` to rewrite its install cell"


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory):
    """A clone of this repository tagged with the book's version (its URL), and a fresh environment that
    sees the installed packages (as Colab's Python has torch) but not this checkout's library."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path_factory.mktemp("colab")
    clone = root / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)  # noqa: S603, S607
    subprocess.run(["git", "-C", str(clone), "tag", "-f", f"v{__version__}"], check=True,  # noqa: S603, S607
                   capture_output=True)
    # --without-pip: the environment's own pip and setuptools (the installed ones), as in Colab
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",  # noqa: S603
                    str(root / "env")], check=True)
    python = root / "env" / "bin" / "python"
    # offline: no package index, and the build backend (setuptools) taken from the environment
    env = {"PATH": f"{root / 'env' / 'bin'}:/usr/bin:/bin", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "HOME": str(root)}
    return f"file://localhost{clone}", python, env


def _run(python, env, code):
    """``code`` in the stand-in environment, outside this checkout (whose library it must not see)."""
    return subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=600, cwd=python.parent)


@pytest.mark.slow  # a pip install of the library into a fresh environment (about 8 s)
def test_the_install_cell_installs_the_pinned_library_in_a_colab_stand_in(colab_like):
    repository, python, env = colab_like
    result = _run(python, env, STAND_IN + colab_install_cell(repository, __version__))
    assert result.returncode == 0, result.stderr[-3000:]
    check = _run(python, env, "import textgan_lib, textgan_lib.recipes.oracle; "
                 "print(textgan_lib.__file__, textgan_lib.__version__)")
    assert check.returncode == 0, check.stderr[-3000:]
    location, version = check.stdout.split()
    assert str(python.parent.parent) in location and version == __version__  # the installed copy, not ours


def test_a_failed_install_stops_the_notebook_with_the_fix(colab_like):
    repository, python, env = colab_like
    result = _run(python, env, STAND_IN + colab_install_cell(repository, "999.0"))  # a tag that does not exist
    assert result.returncode != 0
    assert "RuntimeError: pip could not install" in result.stderr and "rerun this cell" in result.stderr
