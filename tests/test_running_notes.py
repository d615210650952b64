"""The book's helpers: every chapter opens with its "Running this chapter" note, made from the
measured times, and shows its tables with captions."""

import json
import shutil

import pandas as pd
import pytest
import yaml
from conftest import REPO

from textgan_lib.book.notebooks import RUNNING_NOTE_TITLE, captioned, running_note, sync_running_notes

CHAPTERS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
RECORDS = [json.loads(p.read_text()) for p in (REPO / "benchmarks" / "results").glob("chapter_times_*.json")]
TIMES = {record["profile"]: record for record in RECORDS}


def test_the_notes_match_the_plan_and_the_measured_times():
    plan = yaml.safe_load((REPO / "book" / "running.yml").read_text(encoding="utf-8"))
    assert set(plan) == set(CHAPTERS)
    assert set(TIMES["cpu"]["chapters"]) == set(CHAPTERS)  # every chapter measured at the book's profile
    for chapter in CHAPTERS:
        cells = json.loads((REPO / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))["cells"]
        assert "".join(cells[1]["source"]) == running_note(chapter, plan[chapter], TIMES), (
            f"{chapter}: run `python -m textgan_lib.book` to rewrite its running note")


def test_a_note_states_only_measured_numbers():
    plan = {"gpu": "Trains longer.", "profiles": "`ci` is small."}
    times = {"cpu": {"machine": "a test CPU", "date": "2026-01-01", "chapters": {"x": 150.0}}}
    note = running_note("x", plan, times)
    assert note.startswith(RUNNING_NOTE_TITLE) and note.endswith(":::")
    assert "2.5 min, measured on a test CPU (2026-01-01)" in note
    assert "`gpu` (paper-scale runs): not measured yet" in note and "Trains longer." in note
    assert "`colab`" in note and "not measured yet" in note.split("`colab`")[1]
    times["gpu"] = {"machine": "a test GPU", "date": "2026-01-02", "chapters": {"x": 30.0},
                    "longest_cells": {"x": {"id": "x-004", "first_line": "run()", "seconds": 12.0}}}
    assert "0.5 min (its longest cell 0.2 min), measured on a test GPU" in running_note("x", plan, times)
    # a chapter added after the build and timed apart says so, and only that chapter
    times["cpu"] |= {"chapters": {"x": 150.0, "y": 60.0}, "measured_apart": {"y": "a second CPU (2026-01-03)"}}
    assert "1.0 min, measured on a second CPU (2026-01-03)." in running_note("y", plan, times)
    assert "2.5 min, measured on a test CPU (2026-01-01)." in running_note("x", plan, times)
    # a chapter changed since its measurement says how, until it is measured again
    times["cpu"]["changed_since"] = {"x": "It trains less since 2026-01-04."}
    assert "2.5 min, measured on a test CPU (2026-01-01). It trains less since 2026-01-04." in running_note(
        "x", plan, times)
    assert "trains less" not in running_note("y", plan, times)


def test_sync_rewrites_a_stale_note_and_names_a_missing_plan(tmp_path):
    for name in ["notebooks", "book", "benchmarks"]:
        shutil.copytree(REPO / name, tmp_path / name)
    path = tmp_path / "notebooks" / f"{CHAPTERS[0]}.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"][1]["source"] = ["stale"]
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert sync_running_notes(tmp_path) == [path]
    assert sync_running_notes(tmp_path) == []  # in step now
    (tmp_path / "book" / "running.yml").write_text("{}")
    with pytest.raises(ValueError, match="has no entry for"):
        sync_running_notes(tmp_path)


def test_a_table_carries_its_caption_and_the_chapter_rounding():
    frame = pd.DataFrame({"nll": [2.5, 0.000125, float("nan")], "epoch": [1, 2, 3]})
    html = captioned(frame, "Table 9.9: a test").to_html()
    assert "<caption>Table 9.9: a test</caption>" in html
    cells = [c.split(">")[-1] for c in html.split("</td>")[:-1]]
    assert cells == ["2.5", "1", "0.000125", "2", "nan", "3"]  # no padding to six decimals
    assert "<caption>s</caption>" in captioned(pd.Series([1.0], name="x"), "s").to_html()  # a Series too
