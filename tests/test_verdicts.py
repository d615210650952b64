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
from textgan_lib.recipes.study import summarize

MODULE = REPO / "textgan_lib" / "eval" / "verdicts.py"
STUDIES = [REPO / "benchmarks" / "results" / name for name in ("study_cpu", "study_cpu_until_flat")]


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
