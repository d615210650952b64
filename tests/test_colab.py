"""The chapters' Colab install cell: one source, and it installs the library as Colab would run it."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from textgan_lib import __version__
from textgan_lib.book import INSTALL_CELL_MARK, book_repository, colab_install_cell

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
    """A clone of this repository tagged with the book's version, and a fresh environment that
    sees the installed packages (as Colab's Python has torch) but not this checkout's library."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path_factory.mktemp("colab")
    clone = root / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)  # noqa: S603, S607
    subprocess.run(["git", "-C", str(clone), "tag", "-f", f"v{__version__}"], check=True,  # noqa: S603, S607
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "env")],  # noqa: S603
                   check=True)
    python = root / "env" / "bin" / "python"
    # offline: no package index, and the build backend (setuptools) taken from the environment
    env = {"PATH": f"{root / 'env' / 'bin'}:/usr/bin:/bin", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "HOME": str(root)}
    return clone, python, env


def _run_cell(python, env, cell):
    return subprocess.run([str(python), "-c", STAND_IN + cell], env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=600)


def test_the_install_cell_installs_the_pinned_library_in_a_colab_stand_in(colab_like):
    clone, python, env = colab_like
    result = _run_cell(python, env, colab_install_cell(f"file://{clone}", __version__))
    assert result.returncode == 0, result.stderr[-3000:]
    check = subprocess.run([str(python), "-c", "import textgan_lib, textgan_lib.experiments; "  # noqa: S603
                            "print(textgan_lib.__file__, textgan_lib.__version__)"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-3000:]
    location, version = check.stdout.split()
    assert str(python.parent.parent) in location and version == __version__  # the installed copy, not ours


def test_a_failed_install_stops_the_notebook_with_the_fix(colab_like):
    clone, python, env = colab_like
    result = _run_cell(python, env, colab_install_cell(f"file://{clone}", "999.0"))  # a tag that does not exist
    assert result.returncode != 0
    assert "RuntimeError: pip could not install" in result.stderr and "rerun this cell" in result.stderr
