"""Chapters: stored clean, parameterised, and executable end to end at the ``ci`` profile."""

import pytest
from conftest import NOTEBOOKS, read_notebook


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean(notebook):
    nb = read_notebook(notebook)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count") is not None]
    assert not dirty, f"code cells {dirty} have stored outputs or execution counts: strip them"
    parameter_cells = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameter_cells) == 1, "exactly one code cell must be tagged 'parameters'"
    source = "".join(parameter_cells[0]["source"])
    assert 'PROFILE = "auto"' in source
    for line in filter(None, (raw.strip() for raw in source.splitlines())):
        name, _, value = line.partition(" = ")
        assert name.isidentifier() and eval(value, {"__builtins__": {}}) is not None, f"not a literal: {line}"  # noqa: S307


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_plotting_cell_carries_its_numbered_caption(notebook):
    chapter = int(notebook.stem[:2])
    for cell in read_notebook(notebook)["cells"]:
        if cell["cell_type"] == "code" and "plt.show()" in "".join(cell["source"]):
            figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
            assert figure.get("caption", "").startswith(f"Figure {chapter}."), (
                f"{notebook.stem} cell {cell.get('id')}: a plot without mystnb figure caption metadata")


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_at_ci_profile(notebook, executed_notebooks):
    nb = read_notebook(executed_notebooks[notebook.name])
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "profile='ci'" in printed, "the chapter must print its resolved profile and device"
    # A table the reader sees is numbered and captioned (``captioned``); a cell that ends on a bare
    # DataFrame shows an uncaptioned one.
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            assert "<table" not in html or "<caption" in html, (
                f"{notebook.stem} cell {cell.get('id')}: a table without a caption")
