"""The verdicts' statistics: one module, no torch, and the recorded summaries reproduce from it."""

import ast
import json
import math
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from textgan_lib.eval import verdicts
from textgan_lib.recipes.summary import summarize

MODULE = REPO / "textgan_lib" / "eval" / "verdicts.py"
STUDIES = [REPO / "benchmarks" / "results" / name for name in (
    "study_cpu", "study_cpu_until_flat", "study_cpu_arms", "study_cpu_until_flat_coco_test_half")]


def test_the_verdicts_import_no_torch():
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(MODULE.read_text(encoding="utf-8")))
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(MODULE.read_text(encoding="utf-8")))
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert "torch" not in imported and "textgan_lib" not in imported
    script = ("import importlib.util, sys; "
              f"spec = importlib.util.spec_from_file_location('verdicts', {str(MODULE)!r}); "
              "module = importlib.util.module_from_spec(spec); sys.modules['verdicts'] = module; "
              "spec.loader.exec_module(module); "
              "print(module.verdict([0.1, 0.2, 0.15, 0.12, 0.3]), 'torch' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603
    assert ran.stdout.split()[-1] == "False" and verdicts.MORE_DIVERSE in ran.stdout


def _definitions(path) -> set[str]:
    """The module-level functions and classes of ``path`` (a method may share a name: a lookup)."""
    return {node.name for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)}


def test_intervals_and_verdicts_are_computed_in_one_place():
    statistics = {"confidence_interval", "t975", "verdict", "seed_gaps", "temperature_matched", "Estimate"}
    elsewhere = {f"{path.relative_to(REPO)} defines {name}" for path in (REPO / "textgan_lib").rglob("*.py")
                 if path != MODULE for name in _definitions(path) & statistics}
    assert not elsewhere
    by_hand = [str(path.relative_to(REPO)) for path in (REPO / "textgan_lib").rglob("*.py")
               if path != MODULE and "ddof=1" in path.read_text(encoding="utf-8")]
    assert not by_hand, f"a standard deviation over seeds computed outside eval/verdicts.py: {by_hand}"


def test_an_interval_has_a_half_width_and_a_single_seed_none():
    estimate = verdicts.confidence_interval([1.0, 2.0, 3.0])
    assert estimate.half_width == pytest.approx(verdicts.t975(2) * 1.0 / math.sqrt(3))
    assert estimate.high - estimate.half_width == pytest.approx(estimate.mean)
    assert verdicts.confidence_interval([4.0]).half_width == 0.0


def test_an_interval_is_clipped_to_the_range_its_quantity_can_take():
    accuracies = [0.6, 1.0]  # two seeds: the t-interval runs from -0.67 to 2.07
    free = verdicts.confidence_interval(accuracies)
    assert free.low < 0 and free.high > 1
    clipped = verdicts.confidence_interval(accuracies, bounds=(0.0, 1.0))
    assert (clipped.low, clipped.high, clipped.mean) == (0.0, 1.0, pytest.approx(0.8))


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_no_recorded_accuracy_or_bleu_interval_reaches_past_0_or_1(study):
    bounded = [row for summary in study.glob("*_summary.json")
               for row in json.loads(summary.read_text(encoding="utf-8"))["metrics"]
               if "accuracy" in row["metric"] or "AUC" in row["metric"] or "BLEU" in row["metric"]]
    assert bounded, "no proportion among the recorded metrics: the test checks nothing"
    outside = [f"{row['method']} {row['metric']} [{row['low']:.3f}, {row['high']:.3f}]" for row in bounded
               if row["low"] < 0 or row["high"] > 1]
    assert not outside


@pytest.mark.parametrize(("df", "quantile"), [(1, 12.706205), (4, 2.776445), (30, 2.042272), (40, 2.021075),
                                              (1000, 1.962339)])
def test_the_t_quantile_is_students_to_six_decimals_at_any_degrees_of_freedom(df, quantile):
    assert verdicts.t975(df) == pytest.approx(quantile, abs=1e-6)  # scipy.stats.t.ppf(0.975, df)


def test_an_interval_excludes_zero_exactly_when_the_t_test_rejects():
    # five seeds whose t statistic is 2.7762: above a table's 2.776, below the quantile 2.776445
    spread = [-2.0, -1.0, 0.0, 1.0, 2.0]  # standard error sqrt(2.5) / sqrt(5)
    for t in (2.7762, 2.7767):
        values = [t * math.sqrt(0.5) + v for v in spread]
        estimate = verdicts.confidence_interval(values)
        assert (estimate.low > 0) == (verdicts.t_test_p(values) < 0.05), t


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_the_recorded_summaries_are_what_the_code_computes_from_the_run_files(study, tmp_path):
    for summary in sorted(study.glob("*_summary.json")):
        corpus = summary.name.removesuffix("_summary.json")
        work = tmp_path / study.name / corpus
        work.mkdir(parents=True)
        for run in study.glob(f"{corpus}_*_seed*.json"):
            shutil.copy(run, work)
        recomputed = summarize(work, corpus)
        assert json.loads(json.dumps(recomputed)) == json.loads(summary.read_text(encoding="utf-8")), corpus


def _gap_runs(gaps):
    """COCO runs (by seed) whose gaps to TEXT_CURVE are ``gaps`` (BLEU-4 .5: the curve's Self-BLEU-4 is .7)."""
    return {seed: {"bleu_4": 0.5, "self_bleu_4": 0.7 - gap} for seed, gap in enumerate(gaps)}


def _text_curves():
    import pandas as pd
    from test_study import TEXT_CURVE

    return {seed: pd.DataFrame(TEXT_CURVE) for seed in range(5)}


def test_five_zero_gaps_agree_with_no_sign_and_decide_nothing():
    """Issue 37: a zero gap was counted with a negative mean ('+0.000, 5 of 5 agree')."""
    from textgan_lib.recipes.summary import PLANES

    _, decided = verdicts.seed_gaps(PLANES["coco"], _gap_runs([0.0] * 5), _text_curves(), verdicts.COOLED_MLE, "x")
    assert decided["same_sign"] == 0 and decided["verdict"] == verdicts.INDISTINGUISHABLE
    assert decided["sign_test_p"] == 1.0 and decided["t_test_p"] == 1.0


def test_four_negative_gaps_and_a_zero_count_four_and_the_sign_test_says_what_four_is_worth():
    from textgan_lib.recipes.summary import PLANES

    _, decided = verdicts.seed_gaps(PLANES["coco"], _gap_runs([-0.1, -0.12, -0.09, -0.11, 0.0]), _text_curves(),
                                    verdicts.COOLED_MLE, "x")
    assert decided["same_sign"] == 4 and decided["verdict"] == verdicts.LESS_DIVERSE  # 4 of 5 is the rule's 80 %
    assert decided["sign_test_p"] == pytest.approx(0.125)  # 4 of 4 nonzero signs
    assert verdicts.sign_test_p([1, 2, 3, 4, 5]) == pytest.approx(0.0625)  # five seeds never pass a sign test


def test_a_seed_outside_the_sweep_on_a_known_side_counts_in_the_sign_test():
    """Four gaps above 0 and a fifth seed beyond the curve's most diverse end: 5 of 5 on one side."""
    from textgan_lib.recipes.summary import PLANES

    runs = _gap_runs([0.1, 0.12, 0.09, 0.11, 0.0])
    runs[4] = {"bleu_4": 0.55, "self_bleu_4": 0.5}  # above the curve's best BLEU-4 (.5), more diverse than it
    rows, decided = verdicts.seed_gaps(PLANES["coco"], runs, _text_curves(), verdicts.COOLED_MLE, "x")
    assert rows[4]["note"] == "outside the curve's sweep" and rows[4]["sign"] == 1
    assert (decided["seeds"], decided["outside_same_side"]) == (4, 1)
    assert decided["sign_test_p"] == pytest.approx(0.0625)  # 5 of 5 signs, not 4 of 4 (.125)


def test_the_t_test_p_is_the_test_the_interval_inverts():
    for values in ([0.1, 0.2, 0.15, 0.12, 0.3], [0.05, -0.02, 0.01], [1.0, 1.1]):
        e = verdicts.confidence_interval(values)
        assert (verdicts.t_test_p(values) < 0.05) == (e.low > 0 or e.high < 0)
    assert verdicts.t_test_p([0.04, 0.01, 0.03, 0.05, 0.003]) == pytest.approx(0.039899, abs=1e-6)  # scipy's


def test_runs_that_kept_the_mle_model_are_labelled_and_never_judged():
    from textgan_lib.recipes.summary import PLANES

    runs = _gap_runs([0.0] * 5)
    for result in runs.values():
        result["settings"] = {"selected_on_validation": True, "selected_step": 0}
    rows, decided = verdicts.seed_gaps(PLANES["coco"], runs, _text_curves(), verdicts.COOLED_MLE, "x")
    assert decided["verdict"] == "no verdict: every seed kept the MLE model" and decided["kept_mle"] == 5
    assert all(row["note"] == verdicts.KEPT_MLE and row["gap"] is None for row in rows)


def test_holms_correction_turns_two_marginal_primary_verdicts_into_indistinguishable(tmp_path):
    from test_study import TEXT_CURVE, _write

    for seed, gap in enumerate([0.04, 0.01, 0.03, 0.05, 0.003]):  # p = .040 each: below .05, above .05 / 2
        _write(tmp_path, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0,
               temperature_curve=TEXT_CURVE)
        for method in ("seqgan", "gumbel"):
            _write(tmp_path, "coco", method, seed, bleu_4=0.5, self_bleu_4=0.7 - gap, nll_under_mle=3.5)
    decided = summarize(tmp_path, "coco")["verdicts"]
    for method in ("seqgan", "gumbel"):
        assert decided[method]["verdict"] == verdicts.MORE_DIVERSE and decided[method]["primary"]
        assert decided[method]["holm_verdict"] == verdicts.INDISTINGUISHABLE
    assert verdicts.holm({"a": 0.01, "b": 0.04}) == {"a": True, "b": True}  # .01 <= .025, then .04 <= .05


def test_seeds_outside_the_sweep_count_for_the_side_they_lie_on_and_against_when_open():
    """Issue 37: outside seeds were dropped, so a verdict could rest on 2 of 5 seeds."""
    from textgan_lib.recipes.summary import PLANES

    plane = PLANES["coco"]  # BLEU-4 better higher, Self-BLEU-4 more diverse lower; TEXT_CURVE's best: (.5, .7)
    curve = _text_curves()[0]
    assert plane.outside_sign(curve, {"bleu_4": 0.55, "self_bleu_4": 0.65}) == 1  # better and more diverse
    assert plane.outside_sign(curve, {"bleu_4": 0.55, "self_bleu_4": 0.75}) is None  # better, less diverse: open
    assert plane.outside_sign(curve, {"bleu_4": 0.25, "self_bleu_4": 0.4}) == -1  # worse than (.3, .3), less diverse
    oracle = PLANES["oracle"]  # NLL_oracle better lower, NLL_div more diverse higher
    import pandas as pd
    from test_study import ORACLE_CURVE

    assert oracle.outside_sign(pd.DataFrame(ORACLE_CURVE), {"nll_oracle": 8.5, "nll_div": 3.0}) == 1
    gaps = [0.1, 0.12, 0.11]  # three matched seeds, all positive
    assert verdicts.verdict(gaps) == verdicts.MORE_DIVERSE
    assert verdicts.verdict(gaps, outside=[1, 1]) == verdicts.MORE_DIVERSE  # 5 of 5
    assert verdicts.verdict(gaps, outside=[None, None]) == verdicts.INDISTINGUISHABLE  # 3 of 5 < 80 %
    assert verdicts.verdict(gaps, outside=[1, None]) == verdicts.MORE_DIVERSE  # 4 of 5


def test_a_planes_gap_and_curve_values_come_from_one_crossing_and_say_more_diverse_as_positive():
    import pandas as pd

    curve = pd.DataFrame({"temperature": [0.5, 1.0, 1.5], "bleu_4": [0.5, 0.4, 0.2],
                          "self_bleu_4": [0.9, 0.7, 0.5], "nll_test": [5.0, 4.0, 4.5]})
    point = {"bleu_4": 0.3, "self_bleu_4": 0.5}  # halfway between tau 1 and 1.5
    gap, temperature = verdicts.TEXT_PLANE.gap(curve, point)
    assert temperature == pytest.approx(1.25) and gap == pytest.approx(0.1)  # Self-BLEU 0.1 lower: more diverse
    assert verdicts.TEXT_PLANE.curve_at(curve, point, "nll_test") == pytest.approx(4.25)
    assert verdicts.TEXT_PLANE.curve_at(curve, point, "self_bleu_4") == pytest.approx(0.6)
    oracle = pd.DataFrame({"temperature": [0.8, 1.0], "nll_oracle": [9.0, 10.0], "nll_div": [6.0, 8.0]})
    gap, _ = verdicts.ORACLE_PLANE.gap(oracle, {"nll_oracle": 9.5, "nll_div": 6.5})
    assert gap == pytest.approx(-0.5)  # NLL_div below the curve's 7.0: less diverse
    with pytest.raises(verdicts.OutsideSweepError):
        verdicts.TEXT_PLANE.curve_at(curve, {"bleu_4": 0.9}, "nll_test")
