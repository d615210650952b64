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

:func:`~textgan_lib.recipes.summary.summarize` then reads every finished run of a corpus and gives
its metrics with intervals over seeds, each GAN's **diversity gap** to its own seed's MLE curve at
matched quality (positive = more diverse than the MLE model cooled to the same quality, on every
plane of the book), the gaps to the controls (:mod:`~textgan_lib.recipes.measurements`: top-p
truncation, the GAN's own lengths) and, for a code GAN, to its Gaussian baseline, each GAN against
its placebos, the noise floor, and the verdicts by one rule (:mod:`textgan_lib.eval.verdicts`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, replace
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from .._seeds import stream_seed
from ..eval.metrics import quality_diversity_sweep
from ..models.oracle import OracleLSTM
from .gan_run import gan_of
from .language import language_model, text_splits
from .measurements import (
    ORACLE_CURVE_TEMPERATURES,
    add_controls,
    check_mle_model,
    code_tests,
    gaussian_curve,
    mle_temperature_curve,
    work_folder,
)
from .oracle import gumbel_oracle, oracle_mle, oracle_training_data, seqgan_oracle
from .profiles import get_profile, override
from .real_text import CODE_METHODS, real_text
from .records import read_run, run_file, write_run
from .runs import profile_tag, run_lock, write_text_atomic
from .sizes import Profile, evaluated_every
from .summary import STUDY_CORPORA, STUDY_METHODS, summarize

# a text GAN selected on validation is evaluated about this many times over its budget
SELECTION_EVALUATIONS = 10


def until_flat(profile: Profile, patience: int) -> Profile:
    """``profile`` with every text GAN's checkpoint chosen on validation texts and its training
    stopped once the validation gap has not risen for ``patience`` evaluations (``textgan study
    --until-flat``; the budget stays the limit). Each GAN is then evaluated every
    1/:data:`SELECTION_EVALUATIONS` of its budget (SeqGAN otherwise only at its end, where there
    would be nothing to choose from)."""
    text = profile.real_text
    return override(profile, real_text={
        "select_on_validation": True, "patience": patience,
        **{gan: {"trainer": {"eval_every": evaluated_every(getattr(text, gan).budget, SELECTION_EVALUATIONS)}}
           for gan in ("seqgan", "gumbel")}})


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
    arm = gan_of(method)
    if arm.trainer == "seqgan":
        history = seqgan_oracle(oracle, profile, seed, method=method, progress=False)
        pretraining = history[history["phase"] == "d_pretrain"]
        history = history[history["phase"] != "mle"]  # the MLE rows are the mle run's
        settings = asdict(replace(profile.seqgan_oracle.config(seed), **arm.changes))
        if len(pretraining):  # where the discriminator's pretraining stopped (a fixed one has none)
            settings |= {"d_rounds_done": len(pretraining),
                         "d_heldout_accuracy": float(pretraining["d_heldout_accuracy"].iloc[-1])}
    else:
        max_beta = profile.gumbel_oracle.max_betas[-1]
        _, history = gumbel_oracle(oracle, profile, seed, max_beta=max_beta, method=method, progress=False)
        settings = asdict(replace(profile.gumbel_oracle.config(seed, max_beta), **arm.changes))
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
    if method != "mle":  # a GAN starts from the seed's MLE model: the one its run file records
        check_mle_model(path.parent, corpus, seed, profile, device)
    started = time.perf_counter()
    if corpus == "oracle":
        result = {"corpus": corpus, "method": method, "profile": profile.name, "seed": seed,
                  **_oracle_run(method, seed, profile, device)}
    else:
        # samples and references (test data) stay in the cache; the study's folder holds only scores
        work = work_folder(corpus, method, seed, profile)
        result = real_text(corpus, method, profile, seed, out=work, device=device, progress=False)
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


def _run_with_controls(corpus: str, method: str, seed: int, profile: Profile | str, out: str | Path,
                       device: str) -> Path:
    """:func:`run_one` and then the run's controls (:func:`add_controls`); returns the run's file and
    prints a line when both are done (a study of hours says what it has recorded as it goes)."""
    started, path = time.perf_counter(), run_file(out, corpus, method, seed)
    recorded_before = path.is_file()
    run_one(corpus, method, seed, profile, out, device)
    add_controls(out, corpus, method, seed, profile, device)
    done = "already recorded, its controls checked" if recorded_before else "recorded with its controls"
    print(f"{path}: {done} ({time.perf_counter() - started:,.0f} s)", flush=True)
    return path


def _seed_runs(corpus: str, methods: Sequence[str], seed: int, profile: Profile | str, out: str | Path,
               device: str) -> list[Path]:
    """A seed's runs in order, each with its controls: its MLE run first, since every GAN of that seed
    starts from its checkpoint."""
    return [_run_with_controls(corpus, method, seed, profile, out, device) for method in ("mle", *methods)]


def _run_in_processes(corpus: str, methods: Sequence[str], seeds: Sequence[int], profile: Profile | str,
                      out: Path, device: str, jobs: int) -> None:
    """``jobs`` runs at a time, each with its controls in a process of a pool, in the order of
    :func:`schedule_runs`."""
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_end_with,
                             initargs=(os.getpid(),)) as pool:
        schedule_runs(lambda method, seed: pool.submit(_run_with_controls, corpus, method, seed, profile, str(out),
                                                       device), methods, seeds)


def schedule_runs(submit: Callable[[str, int], Future], methods: Sequence[str], seeds: Sequence[int]) -> None:
    """Submit every seed's MLE run first, and each of the seed's ``methods`` as soon as its MLE run
    is done (each of them starts from that model), so that the runs of a single seed use every
    worker of the pool behind ``submit(method, seed)``. The first run that fails stops the study:
    the runs not yet started are cancelled, those running go on to their end, and its error is raised."""
    pending = {submit("mle", seed): ("mle", seed) for seed in seeds}
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                method, seed = pending.pop(future)
                future.result()  # a failed run raises here
                if method == "mle":
                    pending |= {submit(gan, seed): (gan, seed) for gan in methods}
    finally:
        for future in pending:
            future.cancel()


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
    seed always, first), then :func:`summarize`. ``backend="local"``: ``jobs`` runs at a time in
    separate processes (:func:`_run_in_processes`: a single seed's runs too); ``"ray"``: each seed a
    Ray task (:func:`_run_on_ray`), whose files the driver writes to ``out``, the same files as the
    local backend's."""
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
        _run_in_processes(corpus, methods, seeds, profile, out, device, jobs)
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
