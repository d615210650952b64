"""Run files the summary reads are checked, and a damaged one stops it by name (never fewer seeds)."""

import json
import math

import pytest
from test_study import synthetic_study

from textgan_lib.recipes.records import RunFileError, read_runs, run_file, write_run
from textgan_lib.recipes.summary import PLANES, summarize


def _edit(folder, name, edit):
    path = folder / name
    result = json.loads(path.read_text())
    edit(result)
    path.write_text(json.dumps(result))


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "coco_seqgan_seed1.json").write_text('{"corpus": "coco", "meth'), "cut short"),
    (lambda f: (f / "coco_seqgan_seed1.json").write_text(""), "cut short"),
    (lambda f: (f / "coco_seqgan_seed1.json").write_text("{}"), "has no corpus, method, seed"),
    (lambda f: (f / "coco_seqgan_seed1.json").write_text("[1, 2]"), "not a run record"),
    (lambda f: _edit(f, "coco_seqgan_seed1.json", lambda r: r.update(seed=0)), "renamed or edited"),
    (lambda f: _edit(f, "coco_seqgan_seed1.json", lambda r: r.update(seed="1")), "seed an integer"),
    (lambda f: _edit(f, "coco_seqgan_seed1.json", lambda r: r.update(bleu_4=math.nan)), "no finite bleu_4"),
    (lambda f: _edit(f, "coco_seqgan_seed1.json", lambda r: r.pop("self_bleu_4")), "no finite self_bleu_4"),
    (lambda f: _edit(f, "coco_mle_seed2.json", lambda r: r.pop("temperature_curve")), "no whole temperature_curve"),
    (lambda f: _edit(f, "coco_mle_seed2.json", lambda r: r["temperature_curve"][0].update(bleu_4=None)),
     "no whole temperature_curve"),
])
def test_a_damaged_run_file_stops_the_summary_by_name(tmp_path, damage, message):
    synthetic_study(tmp_path)
    damage(tmp_path)
    with pytest.raises(RunFileError, match=message) as caught:
        summarize(tmp_path, "coco")
    assert str(tmp_path / "coco_") in str(caught.value)  # the file is named
    assert "delete" in str(caught.value)  # and the fix
    assert not (tmp_path / "coco_summary.json").exists()  # nothing decided on fewer seeds


def test_whole_run_files_are_read_by_method_and_seed(tmp_path):
    synthetic_study(tmp_path)
    runs = read_runs(tmp_path, "coco", PLANES["coco"])
    assert {m: sorted(s) for m, s in runs.items()} == {"mle": [0, 1, 2, 3, 4], "seqgan": [0, 1, 2, 3, 4]}


def test_a_run_file_is_written_whole_and_reads_back(tmp_path):
    path = run_file(tmp_path, "oracle", "mle", 3)
    result = {"corpus": "oracle", "method": "mle", "seed": 3, "nll_oracle": 9.5, "nll_div": 4.0,
              "temperature_curve": [{"temperature": 1.0, "nll_oracle": 9.5, "nll_div": 4.0}]}
    write_run(path, result)
    assert read_runs(tmp_path, "oracle", PLANES["oracle"]) == {"mle": {3: result}}


def test_runs_of_another_profile_in_the_folder_stop_the_summary_by_name(tmp_path):
    """Found by benchmarks/fault_classes.py (2026-12-07): one run edited to another profile was summarized."""
    synthetic_study(tmp_path)
    _edit(tmp_path, "coco_seqgan_seed1.json", lambda r: r.update(profile="gpu"))
    with pytest.raises(RunFileError, match=r"several profiles .*coco_seqgan_seed1\.json is at 'gpu'; move the runs"):
        summarize(tmp_path, "coco")
    assert not (tmp_path / "coco_summary.json").exists()
