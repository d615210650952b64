"""The evidence across methods, from the recorded studies: every primary verdict with Holm's
correction (the conclusion page), and what each GAN's placebo arms say (chapters 8 to 12).

A GAN's effect is the adversary's only when it differs from its placebo: the same training with the
discriminator's information removed (:data:`~textgan_lib.recipes.gan_run.PLACEBOS`). The placebo
arms are recorded in their own study folder (:data:`ARMS_FOLDER`), each seed with its own GAN run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..eval.verdicts import placebo_key
from ..recipes.gan_run import PLACEBOS
from .recorded import NAMES, NOT_HERE, RecordedStudy

# the placebo arms and the perfect discriminator, recorded with their own GAN runs (issue 37)
ARMS_FOLDER = Path("benchmarks") / "results" / "study_cpu_arms"
# what each placebo removes, in words
PLACEBO_NAMES = {"seqgan_shuffled": "shuffled rewards", "seqgan_constant": "a constant reward",
                 "seqgan_fixed_d": "a frozen untrained discriminator",
                 "gumbel_fixed_critic": "a frozen random critic", "scratchgan_shuffled": "shuffled rewards",
                 "scratchgan_mle_shuffled": "shuffled rewards"}


def _side(verdict: str) -> str:
    """A verdict's side: "more diverse than ..." -> "more diverse"; "indistinguishable from ..." ->
    "indistinguishable"."""
    return verdict.split(" than ")[0].split(" from ")[0]


def _corrected(v: dict) -> str:
    """A verdict after Holm's correction where it is a primary one, else the rule's verdict."""
    return v.get("holm_verdict", v["verdict"])


def _placebo_verdicts(placebos: RecordedStudy | None, gan: str) -> dict[str, dict | None]:
    """``gan``'s verdict against each of its placebos (:data:`PLACEBOS`) that ``placebos`` records,
    None for one not recorded yet; never the controls (``<gan>_vs_top_p``, ...), which share the
    spelling."""
    return {p: None if placebos is None else placebos.verdict(placebo_key(gan, p))
            for p, imitated in PLACEBOS.items() if imitated == gan}


def _judged(v: dict) -> bool:
    """Whether a comparison has the two or more seeds the rule's interval needs (one seed is shown,
    not judged)."""
    return v["seeds"] >= 2


def placebo_comparisons(placebos: RecordedStudy | None, judged: bool = True) -> list[tuple[str, str, dict]]:
    """Every GAN-against-placebo comparison that ``placebos`` judges (two or more seeds; with
    ``judged=False``, every one it records), as ``(gan, placebo, verdict)``; never the controls
    (``<gan>_vs_top_p``, ...), which share the spelling."""
    if placebos is None:
        return []
    return [(gan, placebo, v) for placebo, gan in PLACEBOS.items()
            if (v := placebos.verdict(placebo_key(gan, placebo))) is not None and (_judged(v) or not judged)]


def placebo_coverage(placebos: RecordedStudy | None) -> str:
    """How far a corpus's placebo comparisons go, in words: how many are judged and with up to how
    many seeds, how many more have one seed only, or that none is recorded yet."""
    recorded = placebo_comparisons(placebos, judged=False)
    judged = [v for *_, v in recorded if _judged(v)]
    words = [f"{len(judged)}, up to {max(v['seeds'] for v in judged)} seeds"] if judged else []
    if len(recorded) > len(judged):
        words.append(f"{len(recorded) - len(judged)}{' more' if judged else ''} with one seed only (not judged)")
    return " and ".join(words) or "none yet"


def placebo_sentence(arms: RecordedStudy | None, gan: str) -> str:
    """What ``gan``'s placebo arms recorded in ``arms`` say, in words: for each of its placebos, the
    GAN against it by the book's rule (the difference of their diversity gaps to the cooled MLE
    model, seed by seed; positive = the GAN more diverse), its one seed's difference without a
    verdict (the rule needs two or more), or that it is not recorded yet; then
    what follows for the cause: which way the discriminator's information moved the GAN (and whether
    Holm's correction leaves it standing), or, indistinguishable from every placebo, that the
    adversary's share of the effect is not shown at these seeds."""
    name = NAMES.get(gan, gan)
    if arms is None:
        return f"{name}'s placebo arms are {NOT_HERE}"
    placebos = _placebo_verdicts(arms, gan)
    parts, decided, recorded = [], [], 0
    for placebo, v in placebos.items():
        if v is None:
            parts.append(f"with {PLACEBO_NAMES[placebo]}, not recorded yet")
            continue
        if not _judged(v):
            parts.append(f"with {PLACEBO_NAMES[placebo]}, one seed only (difference {v['gap']:+.3f}): "
                         "no verdict yet")
            continue
        recorded += 1
        interval = "" if math.isnan(v["low"]) else f", 95 % CI {v['low']:+.3f} to {v['high']:+.3f}"
        side = v["verdict"].replace(f" {v['baseline']}", "")
        parts.append(f"with {PLACEBO_NAMES[placebo]}, {side} it (difference {v['gap']:+.3f}{interval}; "
                     f"{v['same_sign']} of {v['seeds']} seeds agree in sign)")
        if not v["verdict"].startswith("indistinguishable"):
            decided.append((placebo, v))
    if not placebos:
        return f"{name} has no placebo arm"
    if not recorded:
        cause = "so whether the adversary caused its effect is still open"
    elif decided:
        cause = _what_the_discriminator_did(decided)
    else:
        cause = ("so its effect cannot be told from the same training without the discriminator's "
                 "information: the adversary's share is not shown at these seeds")
    return f"{name} against its placebo arms: {'; '.join(parts)}; {cause}"


def _what_the_discriminator_did(decided: list[tuple[str, dict]]) -> str:
    """The cause clause of :func:`placebo_sentence` for the placebos a GAN differs from by the rule:
    which way the discriminator's information moved it, and which differences Holm's correction over
    the corpus's primary verdicts leaves standing."""
    sides: dict[str, list[str]] = {}
    for placebo, v in decided:  # "more diverse than its placebo (...)" -> "more diverse"
        sides.setdefault(_side(v["verdict"]), []).append(PLACEBO_NAMES[placebo])
    moved = "; ".join(f"{side} than training with {' or with '.join(names)}" for side, names in sides.items())
    fallen = [PLACEBO_NAMES[p] for p, v in decided if _corrected(v).startswith("indistinguishable")]
    corrected = ("" if not fallen else
                 "; after Holm's correction over the corpus's primary verdicts none of these differences holds"
                 if len(fallen) == len(decided) else
                 f"; after Holm's correction over the corpus's primary verdicts the one against "
                 f"{' and '.join(fallen)} does not hold")
    return f"so the discriminator's information made it {moved}{corrected}"


def primary_verdicts_table(study: RecordedStudy | None) -> pd.DataFrame:
    """One row per primary verdict of ``study`` (declared in
    :func:`~textgan_lib.recipes.summary.primary_verdicts`, present in its summary): the comparison,
    the mean gap with its 95 % interval, the seeds agreeing in sign, the verdict, the verdict after
    Holm's correction and the exact sign test's p (an empty table without a study)."""
    columns = ["comparison", "gap", "low", "high", "agree", "verdict", "Holm-corrected", "sign test p"]
    if study is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, v in study.summary["verdicts"].items():
        if not v.get("primary"):
            continue
        rows.append({"comparison": key, "gap": v["gap"], "low": v["low"], "high": v["high"],
                     "agree": f"{v['same_sign']} of {v['seeds']}", "verdict": v["verdict"],
                     "Holm-corrected": v["holm_verdict"], "sign test p": v.get("sign_test_p", math.nan)})
    return pd.DataFrame(rows, columns=columns)


def verdict_forest(ax: Any, study: RecordedStudy | None, placebos: RecordedStudy | None = None) -> None:
    """``study``'s primary verdicts against the cooled MLE model as a forest plot on ``ax``: each
    GAN's mean diversity gap with its 95 % interval (filled where the verdict holds after Holm's
    correction), beside it each of its placebo comparisons recorded in ``placebos``, and the noise
    floor (the MLE model's own gap, fresh samples) shaded where it is recorded."""
    if study is None:
        ax.text(0.5, 0.5, NOT_HERE.replace(" (", "\n("), ha="center", va="center", transform=ax.transAxes,
                fontsize=8)
        return
    table = primary_verdicts_table(study)
    gans = table[~table["comparison"].str.contains("_vs_")].reset_index(drop=True)
    noise = study.verdict("noise_floor")
    if noise is not None and not math.isnan(noise["low"]):
        ax.axvspan(noise["low"], noise["high"], color="grey", alpha=0.2, label="noise floor (95 % CI)")
    ax.axvline(0, color="black", linewidth=0.8)
    for y, row in gans.iterrows():
        decided = not row["Holm-corrected"].startswith("indistinguishable")
        ax.errorbar(row["gap"], y, xerr=[[row["gap"] - row["low"]], [row["high"] - row["gap"]]], fmt="o",
                    color="C0", mfc="C0" if decided else "white", capsize=3)
        # one seed has no interval: only judged comparisons are drawn
        against_placebos = [v for v in _placebo_verdicts(placebos, row["comparison"]).values()
                            if v is not None and _judged(v)]
        for offset, v in enumerate(against_placebos):
            ax.errorbar(v["gap"], y + 0.2 * (offset + 1), xerr=[[v["gap"] - v["low"]], [v["high"] - v["gap"]]],
                        fmt="s", color="C3", ms=4, capsize=2,
                        label="GAN against its placebo" if y == 0 and offset == 0 else None)
    ax.set_yticks(range(len(gans)), [NAMES.get(m, m) for m in gans["comparison"]])
    ax.set_ylim(-0.6, len(gans) - 0.2)
    ax.set_xlabel("diversity gap (more diverse →)")


def corpus_paragraph(study: RecordedStudy | None, placebos: RecordedStudy | None = None) -> str:
    """What the recorded study says about one corpus, in words: which GANs are more or less diverse
    than the cooled MLE model after Holm's correction, which are indistinguishable, how many of
    their placebo comparisons are recorded, and what each comparison with two or more seeds says
    (after the placebo study's own Holm correction)."""
    if study is None:
        return NOT_HERE
    table = primary_verdicts_table(study)
    gans = table[~table["comparison"].str.contains("_vs_")]
    groups: dict[str, list[str]] = {}
    for _, row in gans.iterrows():
        groups.setdefault(_side(row["Holm-corrected"]), []).append(f"{NAMES.get(row['comparison'], row['comparison'])} "
                                           f"({row['gap']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}])")
    parts = [f"{side} than the cooled MLE model: {', '.join(names)}" if side != "indistinguishable" else
             f"indistinguishable from it: {', '.join(names)}" for side, names in sorted(groups.items())]
    recorded = [(gan, placebo, v) for gan in gans["comparison"]
                for placebo, v in _placebo_verdicts(placebos, gan).items() if v is not None]
    judged = [comparison for comparison in recorded if _judged(comparison[2])]
    single = sum(v["seeds"] == 1 for *_, v in recorded)
    placebo_note = (f"{len(judged)} comparisons of these GANs with their placebos recorded" if judged
                    else "no placebo comparison recorded yet")
    if single:
        placebo_note += f", {single} more with one seed only (not judged)"
    words = "; ".join(parts) + f" ({len(gans)} GANs, 95 % intervals over seeds, Holm-corrected; {placebo_note})"
    if judged:
        against = "; ".join(_against_placebo(*comparison) for comparison in judged)
        words += f"; against their placebos, Holm-corrected within the placebo study: {against}"
    return words


def _against_placebo(gan: str, placebo: str, v: dict) -> str:
    """One GAN-against-placebo verdict in words, after Holm's correction where it has one (and the
    rule's uncorrected verdict where the correction changed it)."""
    corrected, uncorrected = _side(_corrected(v)), _side(v["verdict"])
    unless = "" if corrected == uncorrected else f"; {uncorrected} by the rule alone"
    return (f"{NAMES.get(gan, gan)} against {PLACEBO_NAMES[placebo]}, {corrected} "
            f"({v['gap']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}], {v['seeds']} seeds{unless})")
