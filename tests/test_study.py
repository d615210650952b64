"""The multi-seed study and its verdict rule."""

import json
import math

import pytest

from textgan_lib.cli import main
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.study import (
    INDISTINGUISHABLE,
    LESS_DIVERSE,
    MORE_DIVERSE,
    confidence_interval,
    run_file,
    study,
    verdict,
)

SMALL = {"data": {"n_sentences": 120}, "lm": {"embed_dim": 8, "hidden_dim": 16, "trainer": {"epochs": 1}},
         "real_text": {"samples": 20, "references": 60, "self_bleu_subset": 10,
                       "curve_temperatures": (0.2, 0.6, 1.0, 1.6, 3.0)}}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))


def test_the_interval_is_students_t_over_seeds():
    e = confidence_interval([1.0, 2.0, 3.0])
    assert e.mean == 2.0 and e.n == 3
    assert e.high - e.mean == pytest.approx(4.303 * 1.0 / math.sqrt(3))  # t(0.975, 2 df) x sd / sqrt(n)
    one = confidence_interval([0.5])
    assert one.mean == 0.5 and math.isnan(one.low) and math.isnan(one.high)
    with pytest.raises(ValueError):
        confidence_interval([])


@pytest.mark.parametrize(("gaps", "expected"), [
    ([0.05, 0.06, 0.04, 0.05, 0.07], MORE_DIVERSE),
    ([-0.05, -0.06, -0.04, -0.05, -0.07], LESS_DIVERSE),
    ([0.05, -0.04, 0.06, -0.05, 0.01], INDISTINGUISHABLE),  # the interval straddles 0
    ([0.30, 0.31, 0.29, 0.30, -0.001], MORE_DIVERSE),  # 4 of 5 agree and the interval excludes 0
    ([0.30, 0.31, -0.001, 0.30, -0.001], INDISTINGUISHABLE),  # only 3 of 5 agree
    ([0.05], INDISTINGUISHABLE),  # one seed decides nothing
])
def test_the_verdict_rule(gaps, expected):
    assert verdict(gaps) == expected


@pytest.mark.slow  # four small real-text runs (about 15 s)
def test_a_study_runs_each_seed_once_and_summarizes_the_gaps(tmp_path):
    profile = get_profile("ci", **SMALL)
    out = tmp_path / "study"
    summary = study("coco", ["gumbel"], [0, 1], profile, out)
    for method in ("mle", "gumbel"):
        for seed in (0, 1):
            assert run_file(out, "coco", method, seed).is_file()
    mle = json.loads(run_file(out, "coco", "mle", 0).read_text())
    assert [row["temperature"] for row in mle["temperature_curve"]] == [0.2, 0.6, 1.0, 1.6, 3.0]
    row_at_one = next(r for r in mle["temperature_curve"] if r["temperature"] == 1.0)
    assert row_at_one["bleu_4"] == mle["bleu"]["4"]  # the curve at 1 is the MLE run's own samples
    assert {m["method"] for m in summary["metrics"]} == {"mle", "gumbel"}
    assert all(m["seeds"] == 2 for m in summary["metrics"])
    assert len(summary["gaps"]) == 2 and (out / "coco_summary.json").is_file() and (out / "coco_gaps.csv").is_file()
    if "gumbel" in summary["verdicts"]:
        assert summary["verdicts"]["gumbel"]["verdict"] in (MORE_DIVERSE, LESS_DIVERSE, INDISTINGUISHABLE)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("coco_*_seed*.json")}
    study("coco", ["gumbel"], [0, 1], profile, out)  # everything done: nothing runs again
    assert {p: p.stat().st_mtime_ns for p in out.glob("coco_*_seed*.json")} == stamps


def test_the_command_line_parses_seed_ranges_and_refuses_bad_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["study", "--corpus", "coco", "--seeds", "4-x", "--out", str(tmp_path)])
    assert stopped.value.code == 2 and "argument --seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["study", "--corpus", "coco", "--jobs", "0", "--out", str(tmp_path)])
    assert "argument --jobs" in capsys.readouterr().err
