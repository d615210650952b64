"""The recorded chapter times keep the book's build inside its cell timeout with a margin: a
machine four times slower than the one that recorded them still builds every chapter."""

import importlib.util
import json
import sys

import pytest
import yaml
from conftest import REPO

CHAPTERS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
MARGIN = 4  # a recorded cell may take at most a quarter of the timeout


def _chapter_times():
    spec = importlib.util.spec_from_file_location("chapter_times", REPO / "benchmarks" / "chapter_times.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(REPO / "benchmarks"))  # the script imports its neighbour seqgan_step
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


def cells_too_close_to_the_timeout(record: dict, timeout: float) -> list[str]:
    """The chapters of ``record`` whose longest cell has less than ``MARGIN`` times its time left."""
    return [f"{chapter}: cell {cell['id']} ({cell['first_line']!r}) took {cell['seconds']} s"
            for chapter, cell in record["longest_cells"].items() if MARGIN * cell["seconds"] > timeout]


def test_every_recorded_cell_leaves_the_timeout_a_fourfold_margin():
    timeout = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["execute"]["timeout"]
    record = json.loads((REPO / "benchmarks" / "results" / "chapter_times_cpu.json").read_text(encoding="utf-8"))
    if "longest_cells" not in record:  # recorded before the build kept cell times
        pytest.skip("chapter_times_cpu.json has no cell times yet: build the book, then run "
                    "benchmarks/chapter_times.py --profile cpu")
    assert set(record["longest_cells"]) == set(CHAPTERS), "every chapter's longest cell is recorded"
    assert record["cell_timeout_s"] == timeout, "recorded under another timeout: rerun benchmarks/chapter_times.py"
    too_close = cells_too_close_to_the_timeout(record, timeout)
    assert not too_close, (f"within a factor {MARGIN} of the {timeout} s cell timeout: split these cells "
                           f"(one per run) or raise execute.timeout in _config.yml: {too_close}")


def test_a_cell_within_the_margin_is_named():
    record = {"longest_cells": {"10_real_text": {"id": "10-017", "first_line": 'run("news", "seqgan")',
                                                 "seconds": 301.0},
                                "01_text_as_data": {"id": "01-004", "first_line": "x = 1", "seconds": 3.0}}}
    assert cells_too_close_to_the_timeout(record, 1200) == [
        "10_real_text: cell 10-017 ('run(\"news\", \"seqgan\")') took 301.0 s"]


def test_the_longest_cell_is_read_from_nbclients_stamps():
    def cell(start: str, end: str, source: str) -> dict:
        stamps = {"iopub.execute_input": f"2026-12-06T05:{start}Z", "shell.execute_reply": f"2026-12-06T05:{end}Z"}
        return {"cell_type": "code", "id": source, "source": [source], "metadata": {"execution": stamps}}

    notebook = {"cells": [cell("00:00.000000", "00:02.500000", "a"), {"cell_type": "markdown", "source": []},
                          cell("00:02.600000", "04:12.700000", "b"),
                          {"cell_type": "code", "id": "c", "source": ["never ran"], "metadata": {}}]}
    times = _chapter_times()
    assert times.longest_cell(notebook) == {"id": "b", "first_line": "b", "seconds": 250.1}
    assert times.longest_cell({"cells": [notebook["cells"][3]]}) is None


@pytest.mark.parametrize("name", ["book_html", "cell_times"])
def test_the_build_loads_the_local_extensions(name):
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["local_extensions"][name] == "book/_ext"
    assert (REPO / "book" / "_ext" / f"{name}.py").is_file()


def test_the_cell_times_extension_turns_on_nbclients_timing():
    from myst_nb.core.execute import cache

    spec = importlib.util.spec_from_file_location("cell_times", REPO / "book" / "_ext" / "cell_times.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original = cache.single_nb_execution
    try:
        module.setup(None)
        module.setup(None)  # a second build in the same process wraps nothing twice
        assert cache.single_nb_execution.keywords == {"record_timing": True}
        assert cache.single_nb_execution.func is original
    finally:
        cache.single_nb_execution = original
