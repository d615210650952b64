"""The summary of a study: what the book states about a corpus, computed from its run files.

:func:`summarize` reads every finished run of a corpus (each checked, :mod:`~textgan_lib.recipes.records`)
and gives each method's metrics as mean and 95 % interval over seeds (clipped to [0, 1] for
BLEU, accuracies and AUCs: :func:`metric_bounds`), each GAN's diversity gap to
its seed's MLE curve and to the controls, each GAN against its placebos, the noise floor, and the
verdicts by the book's rule (:mod:`textgan_lib.eval.verdicts`), with Holm's correction over the
primary verdicts declared here (:func:`primary_verdicts`). The study's corpora, methods and planes
are declared here too.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from ..eval.verdicts import (
    COOLED_MLE,
    GAUSSIAN,
    LENGTH_MATCHED,
    LM_PLANE,
    LM_SCORES,
    METRIC_LABELS,
    ORACLE_PLANE,
    RULE,
    TEXT_PLANE,
    TOP_P,
    confidence_interval,
    holm,
    placebo_comparison,
    placebo_key,
    seed_gaps,
    verdict_key,
)
from .code_tests import GAN, GAUSSIAN_FULL
from .gan_run import PERFECT_DS, PLACEBOS
from .real_text import CODE_METHODS, CORPORA
from .records import read_runs
from .runs import write_csv, write_text_atomic

STUDY_CORPORA = ("oracle", *CORPORA)
_TOKEN_GANS = ("seqgan", "gumbel", *(p for p, gan in PLACEBOS.items() if gan in ("seqgan", "gumbel")))
# ScratchGAN (chapter 12) from scratch and from the MLE model, with their placebos: on COCO and news
_SCRATCHGANS = ("scratchgan", "scratchgan_mle", *(p for p, gan in PLACEBOS.items() if gan.startswith("scratchgan")))
STUDY_METHODS = {"oracle": (*_TOKEN_GANS, *PERFECT_DS),
                 "coco": (*_TOKEN_GANS, *CODE_METHODS, *_SCRATCHGANS),
                 "poems": (*_TOKEN_GANS, *CODE_METHODS),
                 "news": (*_TOKEN_GANS, *CODE_METHODS, *_SCRATCHGANS)}
PLANES = {"oracle": ORACLE_PLANE, **{corpus: TEXT_PLANE for corpus in CORPORA}}

def _recorded(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value)


REFERENCES = {"ngram_lr_accuracy": "reference: n-gram classifier accuracy",
              "likelihood_ratio_accuracy": "reference: likelihood-ratio accuracy"}


def _discriminator_metrics(result: dict) -> dict[str, float]:
    """The discriminator, measured on held-out data where recorded: SeqGAN's at the end of its
    pretraining (accuracy, rounds) and any GAN's at its last evaluation (accuracy, and the
    critic's AUC); for an MLE run, the reference classifiers' accuracy (what the data allow)."""
    settings, metrics = result.get("settings", {}), {}
    if _recorded(settings.get("d_heldout_accuracy")):  # None: nothing pretrained (a frozen discriminator)
        metrics |= {"D held-out accuracy": settings["d_heldout_accuracy"],
                    "D pretraining rounds": settings["d_rounds_done"]}
    measured = [row for row in result.get("history", []) if row.get("phase", "adversarial") == "adversarial"
                and _recorded(row.get("d_heldout_accuracy"))]  # a CSV's missing value comes back as NaN
    if measured:
        metrics["D held-out accuracy, end of training"] = measured[-1]["d_heldout_accuracy"]
        if _recorded(measured[-1].get("d_heldout_auc")):
            metrics["D held-out AUC, end of training"] = measured[-1]["d_heldout_auc"]
    for key, label in REFERENCES.items():
        if key in result.get("reference_classifiers", {}):
            metrics[label] = result["reference_classifiers"][key]
    return metrics


def metric_bounds(metric: str) -> tuple[float, float] | None:
    """The range a summary metric can take, where it has one: BLEU, Self-BLEU, accuracies and AUCs
    lie in [0, 1], and their intervals over seeds are clipped to it."""
    proportion = metric in (METRIC_LABELS["bleu_4"], METRIC_LABELS["self_bleu_4"]) or any(
        word in metric for word in ("accuracy", "AUC"))
    return (0.0, 1.0) if proportion else None


# on the oracle NLL_oracle - NLL_div is the per-token KL(model's samples || oracle), what a perfect
# discriminator's log-odds reward descends in expectation
REVERSE_KL = "reverse KL per token"


def _metrics(corpus: str, result: dict) -> dict[str, float]:
    if corpus == "oracle":
        return {METRIC_LABELS[key]: result[key] for key in ("nll_oracle", "nll_div", "nll_test")} | \
            {REVERSE_KL: result["nll_oracle"] - result["nll_div"]} | _discriminator_metrics(result)
    metrics = {METRIC_LABELS[key]: result[key] for key in ("bleu_4", "self_bleu_4")}
    metrics |= {"NLL under MLE": result["nll_under_mle"], "mean length": result.get("mean_length", math.nan)}
    metrics |= _discriminator_metrics(result)
    for label, candidate in (("GAN", GAN), ("Gaussian", GAUSSIAN_FULL)):  # a code GAN's codes, and its baseline's
        if candidate in result.get("code_tests", {}):
            tests = result["code_tests"][candidate]
            metrics |= {f"1-NN accuracy, {label} codes": tests["nn_accuracy"], f"MMD², {label} codes": tests["mmd2"]}
    return metrics


def _top_p_control(mle_run: dict) -> pd.DataFrame:
    """The top-p curve (p < 1 at temperature 1, its ``temperature`` column holding p), continued
    above temperature 1 by the temperature curve: truncation can only cool a model, so a GAN of
    lower quality than the MLE model at temperature 1 is matched on the warm side as before."""
    warm = pd.DataFrame(mle_run["temperature_curve"])
    return pd.concat([pd.DataFrame(mle_run["top_p_curve"]), warm[warm["temperature"] > 1.0]], ignore_index=True)


HOLM = ("holm_verdict: the verdict after Holm's correction over this corpus's primary verdicts (each GAN "
        "against the cooled MLE model and each token GAN against each placebo), at family-wise error .05 on the "
        "t-tests' p; the sign test's p beside it (with 5 seeds, 5 of 5 gives .0625)")


NOISE_FLOOR = "noise_floor"  # the summary's key for the noise floor: the MLE model's gap to its own curve


def primary_verdicts(corpus: str) -> list[str]:
    """The verdicts declared primary, before any run, for ``corpus``: each GAN of its study against
    the cooled MLE model, and each token GAN against each of its placebos. Holm's correction is
    applied over them (:func:`summarize`); every other verdict (controls, Gaussian baselines) is
    secondary and reported uncorrected."""
    methods = STUDY_METHODS[corpus]
    gans = [method for method in methods if method not in PLACEBOS and method not in PERFECT_DS]
    return [verdict_key(gan) for gan in gans] + [placebo_key(PLACEBOS[p], p) for p in methods if p in PLACEBOS]


def summarize(out: str | Path, corpus: str) -> dict:
    """The study's summary of ``corpus`` from the run files in ``out``, written there as
    ``<corpus>_summary.json`` and ``<corpus>_summary.csv`` (metrics) and ``<corpus>_gaps.csv``."""
    out = Path(out)
    plane = PLANES[corpus]
    runs = read_runs(out, corpus, plane)  # each file checked: a damaged one stops the summary
    if "mle" not in runs:
        raise FileNotFoundError(f"no MLE run of {corpus} in {out}: the gaps are measured against its curve")
    metrics = []
    for method, by_seed in runs.items():
        columns: dict[str, list[float]] = {}
        for result in by_seed.values():
            for metric, value in _metrics(corpus, result).items():
                columns.setdefault(metric, []).append(value)
        for metric, values in columns.items():
            e = confidence_interval(values, metric_bounds(metric))
            metrics.append({"method": method, "metric": metric, "mean": e.mean, "low": e.low, "high": e.high,
                            "seeds": e.n})
    mle_curves = {seed: pd.DataFrame(r["temperature_curve"]) for seed, r in runs["mle"].items()}
    # the other curves of each seed's MLE model, built once for every method
    top_p = {seed: _top_p_control(r) for seed, r in runs["mle"].items() if "top_p_curve" in r}
    lm_curves = {seed: pd.DataFrame(r["lm_plane_curve"]) for seed, r in runs["mle"].items() if "lm_plane_curve" in r}
    gaps, verdicts = [], {}
    for method, by_seed in runs.items():
        if method == "mle":
            continue
        rows, verdicts[method] = seed_gaps(plane, by_seed, mle_curves, COOLED_MLE, method)
        gaps += rows
        rows, verdicts[verdict_key(method, TOP_P)] = seed_gaps(plane, by_seed, top_p, TOP_P, method)
        gaps += rows
        matched = {seed: pd.DataFrame(r["length_matched_curve"]) for seed, r in by_seed.items()
                   if "length_matched_curve" in r}
        rows, verdicts[verdict_key(method, LENGTH_MATCHED)] = seed_gaps(plane, by_seed, matched, LENGTH_MATCHED,
                                                                     method)
        gaps += rows
        # the same runs on Caccia et al.'s plane (their settings along: a run that kept the MLE model is labelled)
        lm_points = {seed: r["lm_plane_point"] | {"settings": r.get("settings", {})} for seed, r in by_seed.items()
                     if "lm_plane_point" in r}
        rows, verdicts[verdict_key(method, LM_SCORES)] = seed_gaps(LM_PLANE, lm_points, lm_curves, LM_SCORES, method)
        gaps += rows
        if method in CODE_METHODS:
            gaussian = {seed: pd.DataFrame(r["gaussian_curve"]) for seed, r in by_seed.items() if "gaussian_curve" in r}
            rows, verdicts[verdict_key(method, GAUSSIAN)] = seed_gaps(plane, by_seed, gaussian, GAUSSIAN, method)
            gaps += rows
    noise = {seed: r["noise_point"] for seed, r in runs["mle"].items() if "noise_point" in r}
    if noise:  # the MLE model against its own curve, fresh samples: the gap that sampling noise alone gives
        rows, verdicts[NOISE_FLOOR] = seed_gaps(plane, noise, mle_curves, COOLED_MLE, "mle (fresh samples)")
        gaps += rows
    for placebo, gan in PLACEBOS.items():  # each GAN against its placebo: is the effect the adversary's?
        if gan in runs and placebo in runs:
            verdicts[placebo_key(gan, placebo)] = placebo_comparison(gaps, gan, placebo)
    verdicts = {k: v for k, v in verdicts.items() if v is not None}  # None: no seed has its baseline yet
    primary = {key: verdicts[key] for key in primary_verdicts(corpus) if "t_test_p" in verdicts.get(key, {})}
    rejected = holm({key: v["t_test_p"] for key, v in primary.items()})
    for key, v in primary.items():
        corrected = v["verdict"] if rejected[key] else f"indistinguishable from {v['baseline']}"
        v |= {"primary": True, "holm_verdict": corrected}
    summary = {"corpus": corpus, "plane": asdict(plane), "metrics": metrics, "gaps": gaps, "verdicts": verdicts,
               "rule": RULE, "holm": HOLM}
    write_text_atomic(out / f"{corpus}_summary.json", json.dumps(summary, indent=2) + "\n")
    write_csv(pd.DataFrame(metrics), out / f"{corpus}_summary.csv")
    write_csv(pd.DataFrame(gaps), out / f"{corpus}_gaps.csv")
    return summary
