"""The recorded multi-seed study (``benchmarks/results/study_cpu``) as the chapters show it: a
table with confidence intervals, the plane with every seed, and the verdict sentences; and the
recorded single runs a chapter replays instead of training them (:func:`replay_real_text`).

The files are those of :mod:`textgan_lib.recipes.study`, committed with the repository; a chapter
reads them, it does not recompute them (the study takes hours). Outside a clone of the repository
(a ``pip`` install in Colab) they are not there: :func:`load_study` says where to find them and
returns ``None``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..eval.verdicts import COOLED_MLE, LM_PLANE, METRIC_LABELS, Plane, confidence_interval, verdict_key
from ..recipes.records import RunFileError, read_runs
from ..recipes.runs import profile_tag, write_text_atomic
from ..recipes.sizes import Profile
from ..recipes.summary import PLANES
from .plane import plane_axes

STUDY_FOLDER = Path("benchmarks") / "results" / "study_cpu"
# the same study with each text GAN's checkpoint chosen on validation (``textgan study --until-flat``)
UNTIL_FLAT_FOLDER = Path("benchmarks") / "results" / "study_cpu_until_flat"
# COCO's selection study again, validated on a seeded half of the test file and tested on the other
# (``--set data.coco_validation=test_half``): the training file's last tenth is too close to its training part
UNTIL_FLAT_FAIR_FOLDER = Path("benchmarks") / "results" / "study_cpu_until_flat_coco_test_half"
# single runs of ``real_text`` at a profile (seed 0) that a chapter replays (``profile.real_text.replayed``)
REPLAY_FOLDER = Path("benchmarks") / "results" / "real_text_{profile}"
NAMES = {"mle": "MLE (τ = 1)", "seqgan": "SeqGAN", "gumbel": "Gumbel GAN", "latent": "latent GAN", "arae": "ARAE",
         "scratchgan": "ScratchGAN", "scratchgan_mle": "ScratchGAN from MLE",
         "seqgan_perfect_d": "SeqGAN, perfect D (reward D*)",
         "seqgan_perfect_d_log_odds": "SeqGAN, perfect D (reward log-odds)",
         "seqgan_perfect_d_log_odds_rloo": "SeqGAN, perfect D (log-odds, leave-one-out baseline)"}


@dataclass
class RecordedStudy:
    """A corpus's recorded study: its summary and its run files, by method and seed."""

    corpus: str
    folder: Path
    summary: dict
    runs: dict[str, dict[int, dict]] = field(default_factory=dict)

    @property
    def plane(self) -> Plane:
        return PLANES[self.corpus]

    def seeds(self, method: str) -> list[int]:
        return sorted(self.runs.get(method, {}))

    def verdict(self, method: str) -> dict | None:
        return self.summary["verdicts"].get(method)


def find_study_folder(start: str | Path = ".", study: Path = STUDY_FOLDER) -> Path | None:
    """``study`` (a path below the repository's root, e.g. ``benchmarks/results/study_cpu``) in
    ``start`` or the nearest folder above it that has one."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / study).is_dir():
            return folder / study
    return None


def load_study(corpus: str, folder: str | Path | None = None, study: Path = STUDY_FOLDER) -> RecordedStudy | None:
    """The recorded study of ``corpus`` from ``folder`` (default: :func:`find_study_folder` of
    ``study``), or ``None``, with a printed note, when it has no summary of that corpus."""
    folder = find_study_folder(study=study) if folder is None else Path(folder)
    summary_file = None if folder is None else folder / f"{corpus}_summary.json"
    if summary_file is None:
        print(f"No recorded study of {corpus} here: it lives in the repository's {study.as_posix()} "
              "(clone the repository and run the chapter there to see it).")
        return None
    if not summary_file.is_file():
        print(f"No summary of {corpus} in {folder} yet: `textgan study --corpus {corpus} --out {folder}` makes it.")
        return None
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFileError(f"{summary_file} is damaged ({err}): `textgan study --corpus {corpus} --out {folder}` "
                           "writes it again from the run files (it reruns nothing)") from None
    recorded = RecordedStudy(corpus, folder, summary)
    recorded.runs = read_runs(folder, corpus, PLANES[corpus])
    return recorded


def replay_real_text(corpus: str, method: str, profile: Profile, seed: int, out: str | Path) -> dict | None:
    """What ``real_text(corpus, method, profile, seed, out=out)`` returns, read from the repository's
    recorded run (:data:`REPLAY_FOLDER` of the profile, written by ``benchmarks/record_real_text.py``)
    instead of trained: its scores, samples and training history are copied into ``out`` as the call
    would have written them, and the returned scores say where they came from (``replayed_from``).
    ``None``, with a printed note, when no run of that corpus, method, profile (the same sizes: its
    :func:`~textgan_lib.recipes.runs.profile_tag`) and seed is recorded: then the caller trains it."""
    names = [f"{corpus}_{method}.json", f"{corpus}_{method}_samples.txt"]
    found = _recorded_run(corpus, method, profile, seed, names)
    if found is None:
        return None
    folder, scores = found
    history = f"{corpus}_{method}_history.csv"
    _copy_into(out, folder, names + ([history] if (folder / history).is_file() else []))
    return scores | {"replayed_from": folder.as_posix()}


def replay_sweep(corpus: str, profile: Profile, seed: int,
                 out: str | Path) -> tuple[pd.DataFrame, dict[str, float]] | None:
    """What :func:`~textgan_lib.recipes.sweep.temperature_sweep` returns, read (and copied into
    ``out``) from the recorded run of the corpus's MLE model, as :func:`replay_real_text` reads the
    run itself; ``None``, with a printed note, when there is none."""
    names = [f"{corpus}_mle_temperature_curve.csv", f"{corpus}_real_point.json"]
    found = _recorded_run(corpus, "mle", profile, seed, [f"{corpus}_mle.json", *names])
    if found is None:
        return None
    folder, _ = found
    _copy_into(out, folder, names)
    return pd.read_csv(folder / names[0]), json.loads((folder / names[1]).read_text(encoding="utf-8"))


def replay_folder(profile_name: str) -> Path:
    """Where the recorded runs a chapter replays at ``profile_name`` live, below the repository's root."""
    return Path(str(REPLAY_FOLDER).format(profile=profile_name))


def _recorded_run(corpus: str, method: str, profile: Profile, seed: int,
                  names: list[str]) -> tuple[Path, dict] | None:
    """The folder and the scores of the recorded run of ``corpus`` and ``method`` at ``profile`` and
    ``seed`` when its folder holds every file of ``names`` (the first: the run's scores), else
    ``None`` with a note why."""
    study = replay_folder(profile.name)
    folder = find_study_folder(study=study)
    run = f"{corpus} / {method} at {profile_tag(profile)}, seed {seed}"
    if folder is None or not all((folder / name).is_file() for name in names):
        print(f"No recorded run of {run} (the repository's {study.as_posix()} holds the recorded ones): trained here.")
        return None
    try:
        scores = json.loads((folder / names[0]).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFileError(f"{folder / names[0]} is damaged ({err}): `python benchmarks/record_real_text.py "
                           f"--profile {profile.name}` in the repository records it again") from None
    recorded = f"{scores.get('profile_tag')}, seed {scores.get('seed')}"  # a run with no tag predates the check
    if recorded != f"{profile_tag(profile)}, seed {seed}":
        print(f"The recorded run of {corpus} / {method} in {folder} is of {recorded}, not of {run}: trained here.")
        return None
    return folder, scores


def _copy_into(out: str | Path, folder: Path, names: list[str]) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_text_atomic(out / name, (folder / name).read_text(encoding="utf-8"))


def _interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    if math.isnan(mean):
        return "—"
    if math.isnan(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


NOT_HERE = "not recorded here (the README of each study in the repository's benchmarks/results says how to record it)"


def study_table(study: RecordedStudy | None, methods: list[str] | None = None,
                baseline: str = COOLED_MLE, also: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per method: the plane's two metrics and the summary's metrics named in ``also``
    (e.g. ``"NLL_test"``) as mean [95 % CI] over seeds, the diversity gap against ``baseline``
    with its interval, how many seeds share its sign (and how many lie outside the baseline's
    curve, unmatched), and the verdict (an empty table without a study)."""
    if study is None:
        return pd.DataFrame({"note": [NOT_HERE]})
    methods = methods or [m for m in NAMES if m in study.runs]
    quality, diversity = (METRIC_LABELS[study.plane.quality], METRIC_LABELS[study.plane.diversity])
    metrics = {(m["method"], m["metric"]): m for m in study.summary["metrics"]}
    recorded = {metric for _, metric in metrics}
    if unknown := [metric for metric in also if metric not in recorded]:
        raise ValueError(f"{study.folder / (study.corpus + '_summary.json')} has no metric {unknown}: it has "
                         f"{sorted(recorded)} (a summary written by older code may lack a newer metric: "
                         f"`textgan study --corpus {study.corpus} --out {study.folder}` writes it again)")
    rows = []
    for method in methods:
        row: dict[str, Any] = {"method": NAMES.get(method, method), "seeds": len(study.seeds(method))}
        for metric in (quality, diversity, *also):
            m = metrics.get((method, metric))
            row[metric] = "—" if m is None else _interval(m["mean"], m["low"], m["high"])
        v = study.verdict(verdict_key(method, baseline))
        if method == "mle" or v is None:
            row.update({"diversity gap": "—", "seeds agreeing": "—", "verdict": "—"})
        elif v["seeds"] == 0:  # every seed outside the curve, or kept the MLE model: no gap to show
            row.update({"diversity gap": "—", "seeds agreeing": "—", "verdict": v["verdict"]})
        else:
            outside = v.get("outside_sweep", 0)
            row.update({"diversity gap": _interval(v["gap"], v["low"], v["high"]),
                        "seeds agreeing": f"{v['same_sign']} of {v['seeds']}"
                                          + (f" ({outside} outside the curve)" if outside else ""),
                        "verdict": v["verdict"]})
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def metric_interval(study: RecordedStudy | None, method: str, metric: str, digits: int = 3) -> str:
    """A recorded metric of ``method`` as "mean [95 % CI] over n seeds" (e.g. the code-space 1-NN
    accuracy), or why it is not there."""
    if study is None:
        return NOT_HERE
    for m in study.summary["metrics"]:
        if m["method"] == method and m["metric"] == metric:
            seeds = f"{m['seeds']} seed{'s' * (m['seeds'] != 1)}"
            return f"{_interval(m['mean'], m['low'], m['high'], digits)} over {seeds}"
    return f"not yet recorded ({metric} of {NAMES.get(method, method)})"


def verdict_sentence(study: RecordedStudy | None, method: str, baseline: str = COOLED_MLE) -> str:
    """The verdict on ``method`` in words, with its evidence: e.g. "less diverse than the cooled
    MLE model (gap −0.256, 95 % CI −0.339 to −0.172; 5 of 5 seeds agree in sign)"."""
    if study is None:
        return NOT_HERE
    v = study.verdict(verdict_key(method, baseline))
    if v is None:
        return f"not yet recorded (no finished seed of {NAMES.get(method, method)})"
    outside = v.get("outside_sweep", 0)
    same_side = v.get("outside_same_side")
    more = " more" if v["seeds"] else ""  # all of them, when no seed is matched
    beyond = ("" if not outside else
              f"; {outside}{more} seed{'s lie' if outside > 1 else ' lies'} outside the range of quality that "
              f"the curve of {v['baseline']} reaches, where no gap is measured"
              + ("" if same_side is None else f" ({same_side} of them beyond the curve's end on the mean's side)"))
    kept = v.get("kept_mle", 0)
    if kept and v["seeds"]:
        beyond += (f"; {kept} more seed{'s' if kept > 1 else ''} kept the MLE model and "
                   f"{'are' if kept > 1 else 'is'} not judged")
    if v["seeds"] == 0:
        return v["verdict"] + beyond
    if v["seeds"] == 1:
        return (f"{v['verdict']}: only one seed is matched (its gap {v['gap']:+.3f}){beyond}, and the rule "
                "needs an interval over two or more")
    interval = "" if math.isnan(v["low"]) else f", 95 % CI {v['low']:+.3f} to {v['high']:+.3f}"
    return (f"{v['verdict']} (gap {v['gap']:+.3f}{interval}; {v['same_sign']} of {v['seeds']} seeds "
            f"agree in sign{beyond})")


# where a text run keeps Caccia et al.'s LM plane (LM_PLANE): the MLE model's curve, any other run's point
LM_CURVE, LM_POINT = "lm_plane_curve", "lm_plane_point"


def study_plane(study: RecordedStudy | None, methods: list[str], ax: Any = None, curve: str = "temperature_curve",
                curve_label: str = "MLE at temperature τ, one line per seed", point: str | None = None) -> Any:
    """The quality–diversity plane of the recorded study, more diverse to the right: each seed's
    baseline curve (grey; ``curve`` names it in the MLE runs, or ``gaussian_curve`` in the runs of
    ``methods[0]``, a code GAN), each method's seeds (small markers) and their mean with its 95 %
    interval (error bars). ``point=LM_POINT`` with ``curve=LM_CURVE`` draws the LM plane
    (:data:`~textgan_lib.eval.verdicts.LM_PLANE`) from the points the runs keep there; runs without
    one are left out."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    if study is None:
        ax.text(0.5, 0.5, NOT_HERE.replace(" (", "\n("), ha="center", va="center", transform=ax.transAxes)
        return ax.figure
    plane = LM_PLANE if point == LM_POINT else study.plane
    q, d = plane.quality, plane.diversity
    holder = "mle" if curve in ("temperature_curve", LM_CURVE) else methods[0]
    for i, seed in enumerate(s for s in study.seeds(holder) if curve in study.runs[holder][s]):
        frame = pd.DataFrame(study.runs[holder][seed][curve])
        ax.plot(frame[d], frame[q], "-", color="grey", alpha=0.5, lw=1, label=curve_label if i == 0 else None)
    for colour, method in zip(("C0", "C3", "C2", "C1", "C4", "C5"), methods):
        kept = [r if point is None else r.get(point) for r in study.runs.get(method, {}).values()]
        points = pd.DataFrame([{q: r[q], d: r[d]} for r in kept if r is not None])
        if points.empty:
            continue
        ax.plot(points[d], points[q], "o", color=colour, alpha=0.45, ms=5)
        n = len(points)
        half = {c: confidence_interval(points[c]).half_width for c in (q, d)}
        ax.errorbar(points[d].mean(), points[q].mean(), xerr=half[d], yerr=half[q], fmt="s", color=colour,
                    ms=8, capsize=4, label=f"{NAMES.get(method, method)}: {n} seeds, mean ± 95 % CI")
    plane_axes(ax, plane)
    return ax.figure


def _adversarial_gaps(run: dict) -> tuple[pd.DataFrame, str]:
    """A selected run's validation gap at each evaluation of its adversarial phase (columns
    ``step``, ``valid_gap``) and the unit of its steps (``iteration`` or ``round``)."""
    rows = [r for r in run.get("history", []) if "valid_gap" in r and r.get("phase", "adversarial") == "adversarial"]
    unit = "round" if rows and "round" in rows[0] else "iteration"
    return pd.DataFrame({"step": [r[unit] for r in rows], "valid_gap": [r["valid_gap"] for r in rows]}), unit


def _stopped_early(settings: dict) -> bool:
    return not str(settings.get("stopped_because", "the budget")).startswith("the budget")


def _kept(runs: dict[int, dict]) -> dict[str, Any]:
    """What selection did over a GAN's seeds: their number, how many runs stopped early, how many
    kept the MLE start (step 0), and the kept steps in the order of the seeds."""
    settings = [runs[seed]["settings"] for seed in sorted(runs)]
    return {"seeds": len(settings), "stopped_early": sum(map(_stopped_early, settings)),
            "start": sum(s["selected_step"] == 0 for s in settings),
            "steps": ", ".join(str(s["selected_step"]) for s in settings)}


def selection_curves(study: RecordedStudy | None, method: str, ax: Any = None, colour: str = "C0") -> Any:
    """The diversity gap on the validation texts against the training step of each seed of a
    GAN whose checkpoint was chosen on validation (``textgan study --until-flat``): one line per
    seed from the MLE model it started from (step 0, gap 0 by construction: it lies on its own
    curve), a star at the chosen checkpoint, a cross where a run stopped before its budget."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    runs = {} if study is None else study.runs.get(method, {})
    if not runs:
        note = NOT_HERE if study is None else f"no selected run of {NAMES.get(method, method)} recorded yet"
        ax.text(0.5, 0.5, note.replace(" (", "\n("), ha="center", va="center", transform=ax.transAxes)
        return ax.figure
    for i, (_, run) in enumerate(sorted(runs.items())):
        (gaps, unit), settings = _adversarial_gaps(run), run["settings"]
        ax.plot(gaps["step"], gaps["valid_gap"], "-o", color=colour, alpha=0.6, ms=3,
                label="one line per seed" if i == 0 else None)
        chosen = gaps[gaps["step"] == settings["selected_step"]]
        ax.plot(chosen["step"], chosen["valid_gap"], "*", color="k", ms=11,
                label="chosen on validation" if i == 0 else None)
        if _stopped_early(settings):
            ax.plot(gaps["step"].iloc[-1:], gaps["valid_gap"].iloc[-1:], "x", color="C3", ms=9, mew=2,
                    label="stopped: the gap had flattened" if i == 0 else None)
    ax.axhline(0.0, color="grey", lw=1, ls="--")
    ax.set_xlabel(f"{unit}s of adversarial training")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("validation gap (+: more diverse)")
    ax.legend(fontsize=8)
    return ax.figure


def selection_gaps(study: RecordedStudy | None, method: str) -> pd.DataFrame:
    """Per seed of a GAN with checkpoint selection: the chosen step, its diversity gap on the
    validation texts (what chose it) and on the test texts (what is reported). A validation set
    drawn like the test set gives test gaps about as large as the validation gaps; selection's own
    optimism (the largest of several noisy values) makes them a little smaller."""
    columns = ["seed", "chosen step", "validation gap", "test gap"]
    if study is None or not study.runs.get(method):
        return pd.DataFrame(columns=columns)
    test = {g["seed"]: g["gap"] for g in study.summary["gaps"]
            if g["method"] == method and g["baseline"] == COOLED_MLE}
    return pd.DataFrame([[seed, run["settings"]["selected_step"], run["settings"]["selected_valid_gap"],
                          test.get(seed, math.nan)] for seed, run in sorted(study.runs[method].items())],
                        columns=columns)


def selection_table(study: RecordedStudy | None, methods: list[str]) -> pd.DataFrame:
    """One row per GAN of a study with checkpoint selection: its seeds, how many stopped before
    the budget because the validation gap had flattened, the chosen step of each seed (0: the MLE
    model it started from), the chosen checkpoints' mean gap on validation beside their test gap,
    and the test gap's verdict."""
    if study is None:
        return pd.DataFrame({"note": [NOT_HERE]})
    rows = []
    for method in methods:
        runs = study.runs.get(method, {})
        if not runs:
            continue
        kept, v = _kept(runs), study.verdict(verdict_key(method, COOLED_MLE))
        rows.append({
            "method": NAMES.get(method, method), "seeds": kept["seeds"],
            "stopped early": f"{kept['stopped_early']} of {kept['seeds']}",
            "chosen step, by seed": kept["steps"],
            "chose the MLE start": f"{kept['start']} of {kept['seeds']}",
            "validation gap (mean)": f"{selection_gaps(study, method)['validation gap'].mean():+.3f}",
            "test gap": "—" if v is None else _interval(v["gap"], v["low"], v["high"]),
            "verdict": "—" if v is None else v["verdict"],
        })
    return pd.DataFrame(rows).set_index("method") if rows else pd.DataFrame({"note": ["no selected run recorded"]})


def selection_sentence(study: RecordedStudy | None, method: str, with_verdict: bool = True) -> str:
    """What checkpoint selection on validation did to ``method``'s seeds, in words: how often the
    MLE model it started from was chosen, the chosen steps, how many runs stopped early, and (with
    ``with_verdict``) the verdict on the chosen checkpoints (:func:`verdict_sentence`)."""
    runs = {} if study is None else study.runs.get(method, {})
    if not runs:
        return NOT_HERE if study is None else f"not yet recorded (no selected run of {NAMES.get(method, method)})"
    kept, unit = _kept(runs), _adversarial_gaps(next(iter(runs.values())))[1]
    sentence = (f"the checkpoint chosen on validation was the MLE model it started from in {kept['start']} of "
                f"{kept['seeds']} seeds (chosen {unit}s {kept['steps']}), {kept['stopped_early']} of {kept['seeds']} "
                "runs stopped before their budget because the validation gap had stopped rising")
    if not with_verdict:
        return sentence
    verdict = verdict_sentence(study, method)
    return f"{sentence}, so there is {verdict}" if verdict.startswith("no verdict") else (
        f"{sentence}, and the chosen checkpoints are {verdict}")
