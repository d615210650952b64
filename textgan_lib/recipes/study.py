"""A multi-seed study of the GANs on real text, and the one rule by which the book states a verdict.

One run is one (corpus, method, seed): :func:`~textgan_lib.recipes.real_text.real_text` at a
profile, each seed with its own MLE model. For ``mle`` the run also records the MLE model's
temperature curve (:func:`mle_temperature_curve`). Each run writes ``<corpus>_<method>_seed<k>.json``
atomically when it ends, and a study skips the runs whose file exists, so it can be completed
across sessions and machines and its files committed as they come. The samples and references
(test data, never committed) stay in ``cache_dir()/study_runs``.

:func:`summarize` reads every finished run of a corpus and gives

- each method's metrics as mean and 95 % confidence interval over seeds (Student's t);
- each GAN's **diversity gap** to its own seed's MLE curve at matched quality (BLEU-4): the curve's
  Self-BLEU-4 minus the GAN's, so that a **positive gap means more diverse than the MLE model
  cooled to the same quality** (on every plane of the book, the same sign);
- the :func:`verdict` on those gaps.

The verdict rule, written once: "more diverse" (or "less diverse") "than the cooled MLE model" only
when the confidence interval of the mean gap excludes 0 *and* the sign holds in at least 80 % of
the seeds (4 of 5); otherwise "indistinguishable from the cooled MLE model".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import torch

from ..data.files import cache_dir
from ..eval.metrics import OutsideSweepError, mean_token_nll, temperature_matched
from ..eval.text_scores import decode_samples, score_samples
from ..models.generator import LSTMGenerator
from .language import language_model, text_splits
from .profiles import Profile, get_profile
from .real_text import CORPORA, METHODS, real_text
from .runs import profile_tag, write_csv, write_text_atomic

MORE_DIVERSE = "more diverse than the cooled MLE model"
LESS_DIVERSE = "less diverse than the cooled MLE model"
INDISTINGUISHABLE = "indistinguishable from the cooled MLE model"
AGREEMENT = 0.8  # the share of seeds whose gap must have the mean's sign

# Student's t, two-sided 95 %: the 0.975 quantile for 1..30 degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % confidence interval (NaN bounds for fewer than two seeds)."""

    mean: float
    low: float
    high: float
    n: int


def confidence_interval(values: Sequence[float]) -> Estimate:
    """Mean and 95 % Student-t interval of ``values`` (one per seed)."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        raise ValueError("no values: a confidence interval needs at least one seed")
    mean = sum(values) / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = (_T975[n - 2] if n - 1 <= len(_T975) else 1.96) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def verdict(gaps: Sequence[float]) -> str:
    """The book's verdict on diversity gaps (one per seed; positive = more diverse than the MLE
    model cooled to the same quality). See the module docstring."""
    if len(gaps) < 2:
        return INDISTINGUISHABLE
    ci = confidence_interval(gaps)
    needed = math.ceil(AGREEMENT * len(gaps))
    if ci.low > 0 and sum(g > 0 for g in gaps) >= needed:
        return MORE_DIVERSE
    if ci.high < 0 and sum(g < 0 for g in gaps) >= needed:
        return LESS_DIVERSE
    return INDISTINGUISHABLE


def mle_temperature_curve(model: LSTMGenerator, data, profile: Profile, seed: int) -> pd.DataFrame:
    """The MLE model's quality–diversity curve on real text: for each of
    ``profile.real_text.curve_temperatures``, ``profile.real_text.samples`` samples drawn with the
    seed :func:`~textgan_lib.recipes.real_text.real_text` uses, scored by its protocol (BLEU-4,
    Self-BLEU-4 in subsets, NLL_test of the held-out texts under the tempered model)."""
    sizes = profile.real_text
    references = data.test_texts[: sizes.references]
    rows = []
    for temperature in sizes.curve_temperatures:
        rng = torch.Generator(device=model.device).manual_seed(seed + 2)
        samples = model.sample(sizes.samples, data.max_len, rng=rng, temperature=temperature)
        scored = score_samples(decode_samples(data, samples), references, data.train_texts, sizes.self_bleu_subset)
        rows.append({"temperature": temperature, "bleu_4": scored["bleu"]["4"],
                     "self_bleu_4": scored["self_bleu"]["4"],
                     "nll_test": mean_token_nll(model, data.test.tokens[: len(references)], temperature=temperature)})
    return pd.DataFrame(rows)


def run_file(out: str | Path, corpus: str, method: str, seed: int) -> Path:
    return Path(out) / f"{corpus}_{method}_seed{seed}.json"


def run_one(corpus: str, method: str, seed: int, profile: Profile | str, out: str | Path,
            device: str = "cpu") -> Path:
    """One run of the study (skipped when its file exists); returns the file."""
    path = run_file(out, corpus, method, seed)
    if path.is_file():
        return path
    profile = get_profile(profile) if isinstance(profile, str) else profile
    # samples and references (test data) stay in the cache; the study's folder holds only scores
    work = cache_dir() / "study_runs" / f"{profile_tag(profile)}_{corpus}_{method}_seed{seed}"
    result = real_text(corpus, method, profile, seed, out=work, device=device, progress=False)
    if method == "mle":
        data = text_splits(corpus, profile)
        model, _ = language_model(data, profile, seed, device=device, progress=False)
        result["temperature_curve"] = mle_temperature_curve(model, data, profile, seed).to_dict("records")
    write_text_atomic(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path


def _seed_runs(corpus: str, methods: Sequence[str], seed: int, profile: Profile | str, out: str | Path,
               device: str) -> list[Path]:
    """A seed's runs in order: its MLE run first, since every GAN of that seed starts from its checkpoint."""
    return [run_one(corpus, method, seed, profile, out, device) for method in ("mle", *methods)]


def study(corpus: str, methods: Sequence[str], seeds: Sequence[int], profile: Profile | str, out: str | Path, *,
          jobs: int = 1, device: str = "cpu") -> dict:
    """Run every (method, seed) of ``corpus`` that has no file in ``out`` yet (the MLE run of each
    seed always, first), ``jobs`` seeds at a time in separate processes, then :func:`summarize`."""
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus {corpus!r}: choose one of {CORPORA}")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}: choose from {METHODS}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    methods = [m for m in methods if m != "mle"]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if jobs == 1:
        for seed in seeds:
            _seed_runs(corpus, methods, seed, profile, out, device)
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            for done in [pool.submit(_seed_runs, corpus, methods, seed, profile, str(out), device) for seed in seeds]:
                done.result()
    return summarize(out, corpus)


def summarize(out: str | Path, corpus: str) -> dict:
    """The study's summary of ``corpus`` from the run files in ``out``, written there as
    ``<corpus>_summary.json`` and ``<corpus>_summary.csv`` (metrics) and ``<corpus>_gaps.csv``."""
    out = Path(out)
    runs: dict[str, dict[int, dict]] = {}
    for path in sorted(out.glob(f"{corpus}_*_seed*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        runs.setdefault(result["method"], {})[result["seed"]] = result
    if "mle" not in runs:
        raise FileNotFoundError(f"no MLE run of {corpus} in {out}: the gaps are measured against its curve")
    metrics = []
    for method, by_seed in runs.items():
        columns = {"BLEU-4": [r["bleu"]["4"] for r in by_seed.values()],
                   "Self-BLEU-4": [r["self_bleu"]["4"] for r in by_seed.values()],
                   "NLL under MLE": [r["nll_under_mle"] for r in by_seed.values()]}
        for metric, values in columns.items():
            e = confidence_interval(values)
            metrics.append({"method": method, "metric": metric, "mean": e.mean, "low": e.low, "high": e.high,
                            "seeds": e.n})
    gaps, verdicts = [], {}
    for method, by_seed in runs.items():
        if method == "mle":
            continue
        seeds_gaps = {}
        for seed, result in sorted(by_seed.items()):
            if seed not in runs["mle"]:
                continue  # its seed's MLE run is not finished
            curve = pd.DataFrame(runs["mle"][seed]["temperature_curve"])
            try:
                match = temperature_matched(curve, result["bleu"]["4"], result["self_bleu"]["4"], "bleu_4",
                                            "self_bleu_4")
            except OutsideSweepError:
                gaps.append({"method": method, "seed": seed, "gap": None, "note": "outside the temperature sweep"})
                continue
            seeds_gaps[seed] = -match.gap  # Self-BLEU: lower is more diverse, so the curve's minus the GAN's
            gaps.append({"method": method, "seed": seed, "gap": seeds_gaps[seed],
                         "matched_temperature": match.temperature})
        if seeds_gaps:
            e = confidence_interval(list(seeds_gaps.values()))
            verdicts[method] = {"gap": e.mean, "low": e.low, "high": e.high, "seeds": e.n,
                                "same_sign": sum((g > 0) == (e.mean > 0) for g in seeds_gaps.values()),
                                "verdict": verdict(list(seeds_gaps.values()))}
    summary = {"corpus": corpus, "metrics": metrics, "gaps": gaps, "verdicts": verdicts,
               "rule": f"'{MORE_DIVERSE}' or '{LESS_DIVERSE}' only when the 95 % interval of the mean gap excludes 0 "
                       f"and at least {AGREEMENT:.0%} of the seeds share its sign; else '{INDISTINGUISHABLE}'"}
    write_text_atomic(out / f"{corpus}_summary.json", json.dumps(summary, indent=2) + "\n")
    write_csv(pd.DataFrame(metrics), out / f"{corpus}_summary.csv")
    write_csv(pd.DataFrame(gaps), out / f"{corpus}_gaps.csv")
    return summary
