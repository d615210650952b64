"""Shared fixtures. Tests read data through the loaders' local-data setting (``TEXTGAN_DATA``),
which defaults here to ``../shared/data`` beside the repository when that folder exists."""

import json
import os
from pathlib import Path

import pytest

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
        )
        executed[notebook.name] = output
    return executed


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
