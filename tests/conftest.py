"""Shared fixtures. Tests read data through the loaders' local-data setting (``TEXTGAN_DATA``),
which defaults here to ``../shared/data`` beside the repository when that folder exists."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent

_shared = REPO.parent / "shared" / "data"
if not os.environ.get("TEXTGAN_DATA") and _shared.is_dir():
    os.environ["TEXTGAN_DATA"] = str(_shared)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def coco_train() -> list[str]:
    from textgan_lib import load_coco

    return load_coco("train")


NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> dict[str, Path]:
    """Every chapter executed with papermill at ``PROFILE="ci"``; maps notebook name to its output.

    A notebook that fails stops the session's book checks with papermill's error, which names
    the failing cell.
    """
    import papermill

    out_dir = tmp_path_factory.mktemp("executed")
    executed = {}
    for notebook in NOTEBOOKS:
        output = out_dir / notebook.name
        papermill.execute_notebook(
            str(notebook), str(output), parameters={"PROFILE": "ci"}, kernel_name="python3",
            cwd=str(notebook.parent), progress_bar=False,
            # a cell takes seconds at ci: a hang (once seen on an overloaded machine, kernel and client
            # both waiting) fails with the cell's name instead of stalling the run
            execution_timeout=900,
        )
        executed[notebook.name] = output
    return executed


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
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
