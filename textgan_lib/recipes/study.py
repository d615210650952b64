r"""A multi-seed study of the GANs, and the one rule by which the book states a verdict.

One run is one (corpus, method, seed), each seed with its own MLE model:

- ``oracle`` (chapters 8, 9): :func:`~textgan_lib.recipes.oracle.oracle_mle`, then
  :func:`~textgan_lib.recipes.oracle.seqgan_oracle` or :func:`~textgan_lib.recipes.oracle.gumbel_oracle`
  (at the profile's largest :math:`\beta_{\max}`). The plane: NLL_oracle (quality, lower is
  better) against NLL_div (diversity, higher is more diverse), at the end of training.
- ``coco``, ``poems`` (chapters 10, 11): :func:`~textgan_lib.recipes.real_text.real_text`. The
  plane: BLEU-4 (quality) against Self-BLEU-4 in subsets (diversity, lower is more diverse).
  ``latent`` and ``arae`` (the code GANs) also record the curve of their Gaussian baseline
  (:func:`~textgan_lib.recipes.measurements.gaussian_curve`).

For ``mle`` the run records the MLE model's temperature curve. A text GAN's checkpoint may be
chosen on validation texts and its training stopped once that criterion flattens
(``profile.real_text.select_on_validation`` and ``patience``; ``textgan study --until-flat N``);
one study runs at one profile (:func:`study` refuses to add runs of another to its folder). Each run writes
``<corpus>_<method>_seed<k>.json`` atomically when it ends, with the GAN's training history, and a
study skips the runs whose file exists, so it can be completed across sessions and machines and
its files committed as they come. Samples and references (test data, never committed) stay in
``cache_dir()/study_runs``.

:func:`summarize` reads every finished run of a corpus and gives

- each method's metrics as mean and 95 % confidence interval over seeds (Student's t);
- each GAN's **diversity gap** to its own seed's MLE curve at matched quality, signed so that a
  **positive gap means more diverse than the MLE model cooled to the same quality** on every
  plane of the book (on the oracle: the GAN's NLL_div minus the curve's; on text: the curve's
  Self-BLEU-4 minus the GAN's); for a code GAN also the gap to its Gaussian baseline's curve;
- the :func:`verdict` on those gaps;
- the same gaps against two **controls** for what a GAN may have changed besides diversity
  (:mod:`~textgan_lib.recipes.measurements`): the MLE model cooled by top-p truncation instead of
  temperature (``top_p_curve``, continued above temperature 1 by the temperature curve), and, on text, the
  MLE temperature curve drawn at the GAN's own length histogram (``length_matched_curve``, per GAN
  run).

The intervals, the gaps and the verdict rule are pure statistics in
:mod:`textgan_lib.eval.verdicts`, which the chapters' recorded tables use too.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from .._seeds import stream_seed
from ..eval.metrics import quality_diversity_sweep
from ..eval.verdicts import (
    COOLED_MLE,
    GAUSSIAN,
    LENGTH_MATCHED,
    RULE,
    TOP_P,
    Plane,
    confidence_interval,
    holm,
    placebo_comparison,
    placebo_key,
    seed_gaps,
    verdict_key,
)
from ..models.oracle import OracleLSTM
from .code_tests import GAN, GAUSSIAN_FULL
from .gan_run import PERFECT_D, PLACEBOS, gan_of
from .language import language_model, text_splits
from .measurements import (
    ORACLE_CURVE_TEMPERATURES,
    add_controls,
    code_tests,
    gaussian_curve,
    mle_temperature_curve,
    work_folder,
)
from .oracle import gumbel_oracle, oracle_mle, oracle_training_data, seqgan_oracle
from .profiles import Profile, get_profile
from .real_text import CODE_METHODS, CORPORA, real_text
from .records import read_run, read_runs, run_file, write_run
from .runs import profile_tag, run_lock, write_csv, write_text_atomic

STUDY_CORPORA = ("oracle", *CORPORA)
STUDY_METHODS = {"oracle": ("seqgan", "gumbel", *PLACEBOS, PERFECT_D),
                 **{corpus: ("seqgan", "gumbel", *CODE_METHODS, *PLACEBOS) for corpus in CORPORA}}
PLANES = {"oracle": Plane("nll_oracle", "nll_div", True, better_quality_is_higher=False),
          **{corpus: Plane("bleu_4", "self_bleu_4", False) for corpus in CORPORA}}

def _oracle_run(method: str, seed: int, profile: Profile, device: str) -> dict:
    """One oracle run: its point on the plane (NLL_oracle, NLL_div, NLL_test), history and settings."""
    oracle = OracleLSTM.from_seqgan().to(device)
    train, held_out = oracle_training_data(oracle, profile.oracle.samples, seed)
    if method == "mle":
        model, history = oracle_mle(oracle, profile, seed, data=(train, held_out), progress=False)
        curve = quality_diversity_sweep(model, ORACLE_CURVE_TEMPERATURES, profile.oracle.samples, oracle.seq_len,
                                        {"nll_oracle": oracle.nll}, seed=stream_seed(seed, "oracle_evaluation"),
                                        held_out=held_out)
        point = curve.loc[curve["temperature"] == 1.0].iloc[0]
        return {"nll_oracle": float(point["nll_oracle"]), "nll_div": float(point["nll_div"]),
                "nll_test": float(point["nll_test"]), "temperature_curve": curve.to_dict("records"),
                "settings": asdict(profile.oracle.config(seed)), "history": history.to_dict("records")}
    if method not in STUDY_METHODS["oracle"]:
        raise ValueError(f"the oracle study has no method {method!r}: choose from {STUDY_METHODS['oracle']}")
    gan, changes = gan_of(method)
    if gan == "seqgan":
        history = seqgan_oracle(oracle, profile, seed, method=method, progress=False)
        pretraining = history[history["phase"] == "d_pretrain"]
        history = history[history["phase"] != "mle"]  # the MLE rows are the mle run's
        settings = asdict(replace(profile.seqgan_oracle.config(seed), **changes))
        if len(pretraining):  # where the discriminator's pretraining stopped (a fixed one has none)
            settings |= {"d_rounds_done": len(pretraining),
                         "d_heldout_accuracy": float(pretraining["d_heldout_accuracy"].iloc[-1])}
    else:
        max_beta = profile.gumbel_oracle.max_betas[-1]
        _, history = gumbel_oracle(oracle, profile, seed, max_beta=max_beta, method=method, progress=False)
        settings = asdict(replace(profile.gumbel_oracle.config(seed, max_beta), **changes))
    last = history.dropna(subset=["nll_oracle"]).iloc[-1]  # the end of training, scored on fresh samples
    return {"nll_oracle": float(last["nll_oracle"]), "nll_div": float(last["nll_div"]),
            "nll_test": float(last["nll_test"]), "settings": settings,
            "history": history.dropna(axis=1, how="all").to_dict("records")}


def run_one(corpus: str, method: str, seed: int, profile: Profile | str, out: str | Path,
            device: str = "cpu") -> Path:
    """One run of the study (skipped when its file exists: another process that is writing it is
    waited for, :func:`~textgan_lib.recipes.runs.run_lock`); returns the file."""
    path = run_file(out, corpus, method, seed)
    with run_lock(path):
        if not path.is_file():
            _record_run(path, corpus, method, seed, profile, device)
    return path


def _record_run(path: Path, corpus: str, method: str, seed: int, profile: Profile | str, device: str) -> None:
    profile = get_profile(profile) if isinstance(profile, str) else profile
    started = time.perf_counter()
    if corpus == "oracle":
        result = {"corpus": corpus, "method": method, "profile": profile.name, "seed": seed,
                  **_oracle_run(method, seed, profile, device)}
    else:
        # samples and references (test data) stay in the cache; the study's folder holds only scores
        work = work_folder(corpus, method, seed, profile)
        result = real_text(corpus, method, profile, seed, out=work, device=device, progress=False)
        result.update(bleu_4=result["bleu"]["4"], self_bleu_4=result["self_bleu"]["4"])
        data = text_splits(corpus, profile)
        if method == "mle":
            model, _ = language_model(data, profile, seed, device=device, progress=False)
            result["temperature_curve"] = mle_temperature_curve(model, data, profile, seed).to_dict("records")
        else:
            result["history"] = pd.read_csv(work / f"{corpus}_{method}_history.csv").to_dict("records")
        if method in CODE_METHODS:
            result["gaussian_curve"] = gaussian_curve(data, profile, seed, device, method).to_dict("records")
            result["code_tests"] = code_tests(data, profile, seed, device, method)
    result["seconds"] = time.perf_counter() - started
    result["profile_tag"] = profile_tag(profile)  # the preset's name, or name-hash when it was changed
    write_run(path, result)


def _seed_runs(corpus: str, methods: Sequence[str], seed: int, profile: Profile | str, out: str | Path,
               device: str) -> list[Path]:
    """A seed's runs in order, each with its controls: its MLE run first, since every GAN of that seed
    starts from its checkpoint."""
    paths = []
    for method in ("mle", *methods):
        paths.append(run_one(corpus, method, seed, profile, out, device))
        add_controls(out, corpus, method, seed, profile, device)
    return paths


BACKENDS = ("local", "ray")


def _ray_seed_runs(corpus: str, methods: Sequence[str], seed: int, profile: Profile | str, device: str,
                   recorded: dict[str, str]) -> dict[str, str]:
    """A Ray task: a seed's runs in a folder of the worker's own, starting from the run files already
    ``recorded`` (name → text); returns the files it wrote or changed (name → text), for the driver
    to write. The worker's cache keeps its checkpoints, as a local run's does."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for name, text in recorded.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        _seed_runs(corpus, methods, seed, profile, folder, device)
        written = {path.name: path.read_text(encoding="utf-8") for path in Path(folder).glob("*.json")}
    return {name: text for name, text in written.items() if recorded.get(name) != text}


def _run_on_ray(corpus: str, methods: Sequence[str], seeds: Sequence[int], profile: Profile | str, out: Path,
                device: str, jobs: int) -> None:
    """Each seed as a Ray task with its own resources (1 CPU, and 1 GPU on ``cuda``), on the cluster of
    ``RAY_ADDRESS`` or on a local Ray instance of ``jobs`` CPUs started here (and stopped after)."""
    try:
        import ray
    except ImportError as error:
        raise ImportError("the ray backend needs Ray: pip install 'textgan_lib[cluster]' (or use --backend "
                          "local)") from error
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=None if os.environ.get("RAY_ADDRESS") else jobs, include_dashboard=False,
                 log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, num_gpus=1 if device.startswith("cuda") else 0)(_ray_seed_runs)
        pending = {}
        for seed in seeds:
            names = [run_file(out, corpus, m, seed).name for m in ("mle", *methods)]
            recorded = {n: (out / n).read_text(encoding="utf-8") for n in names if (out / n).is_file()}
            pending[task.remote(corpus, methods, seed, profile, device, recorded)] = seed
        while pending:  # write each seed's files as soon as its task ends
            done, _ = ray.wait(list(pending), num_returns=1)
            for name, text in ray.get(done[0]).items():
                write_text_atomic(out / name, text)
            del pending[done[0]]
    finally:
        if started_here:
            ray.shutdown()


def study(corpus: str, methods: Sequence[str], seeds: Sequence[int], profile: Profile | str, out: str | Path, *,
          jobs: int = 1, device: str = "cpu", backend: str = "local") -> dict:
    """Run every (method, seed) of ``corpus`` that has no file in ``out`` yet (the MLE run of each
    seed always, first), then :func:`summarize`. ``backend="local"``: ``jobs`` seeds at a time in
    separate processes; ``"ray"``: each seed a Ray task (:func:`_run_on_ray`), whose files the
    driver writes to ``out``, the same files as the local backend's."""
    if corpus not in STUDY_CORPORA:
        raise ValueError(f"unknown corpus {corpus!r}: choose one of {STUDY_CORPORA}")
    unknown = [m for m in methods if m not in ("mle", *STUDY_METHODS[corpus])]
    if unknown:
        raise ValueError(f"no method {unknown} in the {corpus} study: choose from {STUDY_METHODS[corpus]}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: choose one of {BACKENDS}")
    methods = [m for m in methods if m != "mle"]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_one_profile(out, corpus, get_profile(profile) if isinstance(profile, str) else profile)
    if backend == "ray":
        _run_on_ray(corpus, methods, seeds, profile, out, device, jobs)
    elif jobs == 1:
        for seed in seeds:
            _seed_runs(corpus, methods, seed, profile, out, device)
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_end_with,
                                 initargs=(os.getpid(),)) as pool:
            for done in [pool.submit(_seed_runs, corpus, methods, seed, profile, str(out), device) for seed in seeds]:
                done.result()
    return summarize(out, corpus)


def _end_with(parent: int) -> None:
    """A study worker's initializer: end this worker once the study that started it is gone (killed
    with SIGKILL, it cannot tell its workers), instead of idling until someone kills it by hand.
    What the worker was training stays in its checkpoint, for the next study to resume."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _check_one_profile(out: Path, corpus: str, profile: Profile) -> None:
    """A study's seeds are comparable only when they ran at one profile: refuse to add runs of
    another (e.g. ``--until-flat``, or changed sizes) to a folder that holds some of this corpus."""
    tag = profile_tag(profile)
    for path in sorted(out.glob(f"{corpus}_*_seed*.json")):
        saved = read_run(path)
        saved_tag = saved.get("profile_tag", saved.get("profile"))  # files written before the tag: the preset
        if saved_tag != tag:
            raise ValueError(f"{path} is a run at profile {saved_tag!r}, this study's profile is {tag!r}: "
                             "give this study its own --out folder")


def _recorded(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value)


REFERENCES = {"ngram_lr_accuracy": "reference: n-gram classifier accuracy",
              "likelihood_ratio_accuracy": "reference: likelihood-ratio accuracy"}


def _discriminator_metrics(result: dict) -> dict[str, float]:
    """The discriminator, measured on held-out data where recorded: SeqGAN's at the end of its
    pretraining (accuracy, rounds) and any GAN's at its last evaluation (accuracy, and the
    critic's AUC); for an MLE run, the reference classifiers' accuracy (what the data allow)."""
    settings, metrics = result.get("settings", {}), {}
    if "d_heldout_accuracy" in settings:
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


def _metrics(corpus: str, result: dict) -> dict[str, float]:
    if corpus == "oracle":
        return {"NLL_oracle": result["nll_oracle"], "NLL_div": result["nll_div"], "NLL_test": result["nll_test"],
                **_discriminator_metrics(result)}
    metrics = {"BLEU-4": result["bleu_4"], "Self-BLEU-4": result["self_bleu_4"],
               "NLL under MLE": result["nll_under_mle"], "mean length": result.get("mean_length", math.nan)}
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


def primary_verdicts(corpus: str) -> list[str]:
    """The verdicts declared primary, before any run, for ``corpus``: each GAN of its study against
    the cooled MLE model, and each token GAN against each of its placebos. Holm's correction is
    applied over them (:func:`summarize`); every other verdict (controls, Gaussian baselines) is
    secondary and reported uncorrected."""
    gans = [method for method in STUDY_METHODS[corpus] if method not in PLACEBOS and method != PERFECT_D]
    return [verdict_key(gan) for gan in gans] + [placebo_key(gan, placebo) for placebo, (gan, _) in PLACEBOS.items()]


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
            e = confidence_interval(values)
            metrics.append({"method": method, "metric": metric, "mean": e.mean, "low": e.low, "high": e.high,
                            "seeds": e.n})
    mle_curves = {seed: pd.DataFrame(r["temperature_curve"]) for seed, r in runs["mle"].items()}
    gaps, verdicts = [], {}
    for method, by_seed in runs.items():
        if method == "mle":
            continue
        rows, verdicts[method] = seed_gaps(plane, by_seed, mle_curves, COOLED_MLE, method)
        gaps += rows
        top_p = {seed: _top_p_control(r) for seed, r in runs["mle"].items() if "top_p_curve" in r}
        rows, verdicts[verdict_key(method, TOP_P)] = seed_gaps(plane, by_seed, top_p, TOP_P, method)
        gaps += rows
        matched = {seed: pd.DataFrame(r["length_matched_curve"]) for seed, r in by_seed.items()
                   if "length_matched_curve" in r}
        rows, verdicts[verdict_key(method, LENGTH_MATCHED)] = seed_gaps(plane, by_seed, matched, LENGTH_MATCHED,
                                                                     method)
        gaps += rows
        if method in CODE_METHODS:
            gaussian = {seed: pd.DataFrame(r["gaussian_curve"]) for seed, r in by_seed.items() if "gaussian_curve" in r}
            rows, verdicts[verdict_key(method, GAUSSIAN)] = seed_gaps(plane, by_seed, gaussian, GAUSSIAN, method)
            gaps += rows
    for placebo, (gan, _) in PLACEBOS.items():  # each GAN against its placebo: is the effect the adversary's?
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
