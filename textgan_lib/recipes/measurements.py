"""What completes a run file: the curves and tests a verdict compares a run with.

Each measurement reads the run's models from their checkpoints (the cache) and is added to the
run's file by :func:`add_controls`, which a study calls after every run, so that runs recorded
before a measurement existed get it too:

- the MLE model's temperature curve (:func:`mle_temperature_curve`, in every MLE run file), and
  the MLE model truncated by top-p (:func:`top_p_curve`), another way of cooling it;
- per text GAN, the MLE temperature curve drawn at the GAN's own length histogram
  (:func:`length_matched_curve`);
- per code GAN, the curve of the Gaussian fit to the autoencoder's codes (:func:`gaussian_curve`)
  and the code-space two-sample tests (:func:`code_tests`);
- on text, every run on Caccia et al.'s second plane (:mod:`~textgan_lib.recipes.lm_plane`): the MLE
  model's curve there, and each GAN's point.

A measurement is made on the seed's MLE model only when it is the model that the run file records
(:func:`check_mle_model`): a model trained again on another machine is another model.

A curve recorded with fewer points than the current ones (temperatures, scales) gets the missing
points, each drawn from its own stream, so that an extended curve equals a fresh one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from torch import Tensor

from .._seeds import stream, stream_seed
from ..data.corpora import TextSplits
from ..data.files import cache_dir
from ..eval.metrics import mean_token_nll, quality_diversity_sweep
from ..eval.reference_classifier import ngram_classifier_accuracy
from ..eval.text_scores import decode_samples, score_samples
from ..eval.verdicts import TEXT_PLANE
from ..models.autoencoder import encode_all
from ..models.code_gan import gaussian_codes
from ..models.generator import LSTMGenerator
from ..models.oracle import LikelihoodRatio, OracleLSTM
from .code_tests import code_candidates, code_space_tests
from .language import arae_model, language_model, latent_model, text_splits
from .lm_plane import lm_plane_curve, lm_plane_point, scorer
from .oracle import oracle_mle, oracle_training_data
from .profiles import get_profile
from .real_text import CODE_METHODS
from .records import read_run, run_file, write_run
from .runs import profile_tag, run_lock
from .sizes import Profile

# chapter 8's sweep of the oracle MLE model
ORACLE_CURVE_TEMPERATURES = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.15, 1.3)
# chapter 11's: the Gaussian's std times this. The small scales reach the cold end (near the mean
# code every sample decodes alike), where the code GANs of the recorded study lie: with the
# scales from 0.5 up only, 4 of 5 seeds of the latent GAN fell outside the curve.
GAUSSIAN_SCALES = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
# the controls (their curves): another way of cooling the MLE model, and cooling at the GAN's own lengths
TOP_P_VALUES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
LENGTH_POOL = 4  # MLE samples drawn per GAN sample, from which the length-matched set is chosen



def work_folder(corpus: str, method: str, seed: int, profile: Profile) -> Path:
    """Where a text run keeps its samples and references (test data, never committed): the cache."""
    return cache_dir() / "study_runs" / f"{profile_tag(profile)}_{corpus}_{method}_seed{seed}"


def mle_temperature_curve(model: LSTMGenerator, data, profile: Profile, seed: int,
                          temperatures: Sequence[float] | None = None) -> pd.DataFrame:
    """The MLE model's quality–diversity curve on real text: for each of ``temperatures`` (default
    ``profile.real_text.curve_temperatures``), ``profile.real_text.samples`` samples drawn with the
    seed :func:`~textgan_lib.recipes.real_text.real_text` uses, scored by its protocol (BLEU-4,
    Self-BLEU-4 in subsets, NLL_test of the held-out texts under the tempered model). Each
    temperature draws from its own stream, so a curve extended by more temperatures equals a fresh one."""
    sizes = profile.real_text
    references = data.test_texts[: sizes.references]
    rows = []
    for temperature in sizes.curve_temperatures if temperatures is None else temperatures:
        rng = stream(seed, "test_samples", model.device)
        samples = model.sample(sizes.samples, data.max_len, rng=rng, temperature=temperature)
        rows.append({"temperature": temperature, **_text_scores(data, samples, profile),
                     "nll_test": mean_token_nll(model, data.test.tokens[: len(references)], temperature=temperature)})
    return pd.DataFrame(rows)


def _text_scores(data: TextSplits, samples, profile: Profile) -> dict[str, float]:
    """BLEU-4 and Self-BLEU-4 of sample ids ``[n, T]`` by the real-text protocol."""
    sizes = profile.real_text
    scored = score_samples(decode_samples(data, samples), data.test_texts[: sizes.references], data.train_texts,
                           sizes.self_bleu_subset)
    return _plane_point(scored)


def _plane_point(scored: dict) -> dict[str, float]:
    return {TEXT_PLANE.quality: scored[TEXT_PLANE.quality], TEXT_PLANE.diversity: scored[TEXT_PLANE.diversity]}


def gaussian_curve(data: TextSplits, profile: Profile, seed: int, device: str = "cpu",
                   method: str = "latent", scales: Sequence[float] = GAUSSIAN_SCALES) -> pd.DataFrame:
    """Chapter 11's baseline of a code GAN: ``profile.real_text.samples`` codes from the Gaussian fit of
    the training codes of ``method``'s autoencoder (``latent``'s or ``arae``'s;
    :func:`~textgan_lib.models.code_gan.gaussian_codes`), decoded greedily as the GAN's are, at each
    of ``scales`` (column ``temperature``: the scale plays its part), scored on the real-text plane.
    Each scale draws from its own seeded stream, so a curve can be extended scale by scale."""
    if method == "latent":
        autoencoder, _, _, _ = latent_model(data, profile, seed, device=device, progress=False)
    else:
        autoencoder, _, _ = arae_model(data, profile, seed, device=device, progress=False)
    codes = encode_all(autoencoder, data.train.tokens)
    rows = []
    for scale in scales:
        rng = stream(seed, "gaussian_codes", codes.device)
        fake = gaussian_codes(codes, scale, profile.real_text.samples, rng=rng)
        samples = autoencoder.decode(fake, data.max_len, temperature=0.0)
        rows.append({"temperature": scale, **_text_scores(data, samples, profile)})
    return pd.DataFrame(rows)


def code_tests(data: TextSplits, profile: Profile, seed: int, device: str = "cpu", method: str = "latent") -> dict:
    """The code-space tests of ``method``'s codes (``latent`` or ``arae``; models reloaded from their
    checkpoints) against held-out codes (:func:`~textgan_lib.recipes.code_tests.code_space_tests`):
    one dict per candidate set, the kernel width under ``"bandwidth"``."""
    if method == "latent":
        autoencoder, generator, _, _ = latent_model(data, profile, seed, device=device, progress=False)
    else:
        autoencoder, generator, _ = arae_model(data, profile, seed, device=device, progress=False)
    n = min(profile.real_text.samples, len(data.valid.tokens))
    held_out, candidates = code_candidates(autoencoder, generator, data, n, seed)
    table, bandwidth = code_space_tests(held_out, candidates, seed=seed, resamples=profile.latent.code_test_resamples,
                                        critic_steps=profile.latent.code_test_critic_steps)
    return {"bandwidth": bandwidth, **table.to_dict("index")}


def top_p_curve(model: LSTMGenerator, data: TextSplits, profile: Profile, seed: int) -> pd.DataFrame:
    """The MLE model cooled by top-p truncation instead of temperature: for each of
    :data:`TOP_P_VALUES` (column ``temperature`` holds p, the curve's parameter, and ``top_p``),
    samples at temperature 1 scored by the real-text protocol, with the seed of the temperature curve."""
    rows = []
    for p in TOP_P_VALUES:
        rng = stream(seed, "test_samples", model.device)
        samples = model.sample(profile.real_text.samples, data.max_len, rng=rng, top_p=p)
        rows.append({"temperature": p, "top_p": p, **_text_scores(data, samples, profile)})
    return pd.DataFrame(rows)


def length_matched(pool: list[list[str]], lengths: Sequence[int]) -> list[list[str]]:
    """Texts of ``pool`` with the length histogram of ``lengths``: for each length, in order, an unused
    text of that length, or of the nearest length that has one left."""
    by_length: dict[int, list[list[str]]] = {}
    for text in pool:
        by_length.setdefault(len(text), []).append(text)
    chosen = []
    for length in lengths:
        available = [k for k, texts in by_length.items() if texts]
        if not available:
            raise ValueError(f"the pool of {len(pool)} texts is smaller than the {len(lengths)} lengths to match")
        nearest = min(available, key=lambda k: (abs(k - length), k))
        chosen.append(by_length[nearest].pop())
    return chosen


def length_matched_curve(model: LSTMGenerator, data: TextSplits, profile: Profile, seed: int,
                         lengths: Sequence[int], temperatures: Sequence[float] | None = None) -> pd.DataFrame:
    """The MLE temperature curve at a GAN's length histogram: at each of ``temperatures`` (default
    the profile's curve temperatures), :data:`LENGTH_POOL` times as many samples as ``lengths`` are
    drawn (each temperature from its own stream) and :func:`length_matched` to them, then scored by
    the real-text protocol. It controls for what a shorter or longer text does to BLEU and
    Self-BLEU by itself."""
    sizes = profile.real_text
    rows = []
    for temperature in sizes.curve_temperatures if temperatures is None else temperatures:
        rng = stream(seed, "sampled_decoding", model.device)
        pool = decode_samples(data, model.sample(LENGTH_POOL * len(lengths), data.max_len, rng=rng,
                                                 temperature=temperature))
        texts = length_matched(pool, lengths)
        scored = score_samples(texts, data.test_texts[: sizes.references], data.train_texts, sizes.self_bleu_subset)
        rows.append({"temperature": temperature} | _plane_point(scored) | {"mean_length": scored["mean_length"]})
    return pd.DataFrame(rows)


class ModelMismatchError(RuntimeError):
    """The seed's MLE model at hand (from the cache, or trained again) is not the one its run file records."""


def check_mle_model(out: str | Path, corpus: str, seed: int, profile: Profile, device: str = "cpu") -> None:
    """Refuse (:class:`ModelMismatchError`) to measure, or to train a GAN from, the seed's MLE model
    unless it is the model that the seed's MLE run file in ``out`` records: its NLL_test, a
    deterministic number, must be the recorded one to the last digit. A model trained again on
    another CPU is not (float sums differ in their last digits, and training amplifies that), and
    what was measured on it would be put beside curves of a model it is not. Nothing to check
    while the folder has no MLE run of the seed."""
    path = run_file(out, corpus, "mle", seed)
    if not path.is_file():
        return
    recorded = read_run(path)
    if corpus == "oracle":  # as the run's sweep computed it, at temperature 1
        _, held_out, model = _oracle_mle_run(seed, profile, device)
        now = mean_token_nll(model, held_out, temperature=1.0, top_k=None, top_p=None)
    else:  # as real_text computed it
        data = text_splits(corpus, profile)
        model, _ = language_model(data, profile, seed, device=device, progress=False)
        now = mean_token_nll(model, data.test.tokens[: recorded["n_references"]])
    if now != recorded["nll_test"]:
        raise ModelMismatchError(
            f"the MLE model of {corpus} seed {seed} at hand gives NLL_test {now!r}, but {path} records "
            f"{recorded['nll_test']!r}: it is another model (trained again on another CPU or with another number "
            "of threads, or by other code), and a measurement of it or a GAN trained from it would sit beside "
            "the recorded model's curves. Run this where the MLE run was recorded (with its cache), or record "
            "the seed again, MLE run included, in a folder of its own")


def _oracle_mle_run(seed: int, profile: Profile, device: str) -> tuple[OracleLSTM, Tensor, LSTMGenerator]:
    """The SeqGAN oracle, the seed's held-out oracle sequences and its MLE model (from its checkpoint)."""
    oracle = OracleLSTM.from_seqgan().to(device)
    train, held_out = oracle_training_data(oracle, profile.oracle.samples, seed)
    model, _ = oracle_mle(oracle, profile, seed, data=(train, held_out), progress=False)
    return oracle, held_out, model


def noise_point(corpus: str, seed: int, profile: Profile, device: str = "cpu") -> dict[str, float]:
    """The seed's MLE model at temperature 1 again, from a fresh sample stream: its point on the
    plane, whose gap to the model's own curve is pure sampling noise. Over seeds, that gap's
    interval is the noise floor: a GAN's gap inside it is not a finding."""
    if corpus == "oracle":
        oracle, held_out, model = _oracle_mle_run(seed, profile, device)
        samples = model.sample(profile.oracle.samples, oracle.seq_len, rng=stream(seed, "noise_floor", model.device))
        return {"nll_oracle": oracle.nll(samples), "nll_div": mean_token_nll(model, samples)}
    data = text_splits(corpus, profile)
    model, _ = language_model(data, profile, seed, device=device, progress=False)
    samples = model.sample(profile.real_text.samples, data.max_len, rng=stream(seed, "noise_floor", model.device))
    return _text_scores(data, samples, profile)


REFERENCE_TEXTS = 2000  # of each set, real and generated, for the reference classifiers (half fit, half test)


def reference_classifiers(corpus: str, seed: int, profile: Profile, device: str = "cpu") -> dict[str, float]:
    """How well the data allow real texts to be told from the seed's MLE model's: the held-out
    accuracy of logistic regression on hashed n-grams
    (:func:`~textgan_lib.eval.reference_classifier.ngram_classifier_accuracy`) between held-out real
    texts and as many MLE samples, and on the oracle also the accuracy of the
    exact likelihood ratio (the optimal discriminator). A GAN's discriminator far below these is the
    bottleneck, not the data."""
    if corpus == "oracle":
        oracle, held_out, model = _oracle_mle_run(seed, profile, device)
        held_out = held_out[:REFERENCE_TEXTS]
        fake = model.sample(len(held_out), oracle.seq_len, rng=stream(seed, "reference_samples", model.device))
        ratio = LikelihoodRatio(oracle, model)
        exact = ((ratio(held_out) > 0).float().mean() + (ratio(fake) <= 0).float().mean()).item() / 2
        real_texts, fake_texts = ([[str(t) for t in row] for row in x.tolist()] for x in (held_out, fake))
        return {"ngram_lr_accuracy": ngram_classifier_accuracy(real_texts, fake_texts, seed),
                "likelihood_ratio_accuracy": exact}
    data = text_splits(corpus, profile)
    fake_texts = _sample_texts(corpus, "mle", seed, profile)
    n = min(len(fake_texts), len(data.valid_texts), REFERENCE_TEXTS)
    return {"ngram_lr_accuracy": ngram_classifier_accuracy(data.valid_texts[:n], fake_texts[:n], seed)}


def add_controls(out: str | Path, corpus: str, method: str, seed: int, profile: Profile | str,
                 device: str = "cpu") -> bool:
    """Add the controls to a finished run file that lacks them (so that runs recorded before the
    controls existed get them): ``top_p_curve`` to an MLE run, ``length_matched_curve`` to a GAN
    run on text, ``code_tests`` to a code GAN's run, and to an MLE run the reference classifiers'
    accuracy (:func:`reference_classifiers`) and its noise point (:func:`noise_point`); a text run's
    curves recorded with fewer
    temperatures (or a code GAN's Gaussian curve with fewer scales) get the missing points. Returns
    whether the control curve was added."""
    path = run_file(out, corpus, method, seed)
    with run_lock(path):  # read, extended and written by one process at a time
        return _add_controls(path, corpus, method, seed, profile, device)


def _add_controls(path: Path, corpus: str, method: str, seed: int, profile: Profile | str, device: str) -> bool:
    result = read_run(path)
    profile = get_profile(profile) if isinstance(profile, str) else profile
    data = None if corpus == "oracle" else text_splits(corpus, profile)
    if _pending_controls(result, corpus, method, profile):  # measured on the recorded MLE model, or not at all
        check_mle_model(path.parent, corpus, seed, profile, device)
    # each addition is written as soon as it is made, so that a killed run keeps what it finished
    if method == "mle" and "reference_classifiers" not in result:
        result["reference_classifiers"] = reference_classifiers(corpus, seed, profile, device)
        write_run(path, result)
    if method == "mle" and "noise_point" not in result:
        result["noise_point"] = noise_point(corpus, seed, profile, device)
        write_run(path, result)
    if method in CODE_METHODS and "code_tests" not in result:
        result["code_tests"] = code_tests(data, profile, seed, device, method)
        write_run(path, result)
    if method in CODE_METHODS and "gaussian_curve" in result:  # a curve recorded with fewer scales
        missing = _missing_points(result["gaussian_curve"], GAUSSIAN_SCALES)
        if missing:
            added = gaussian_curve(data, profile, seed, device, method, missing)
            result["gaussian_curve"] = _with_points(result["gaussian_curve"], added)
            write_run(path, result)
    if corpus != "oracle":
        _extend_temperature_curves(path, result, corpus, method, seed, profile, data, device)
        _add_lm_plane(path, result, corpus, method, seed, profile, data, device)
    key = "top_p_curve" if method == "mle" else "length_matched_curve"
    if key in result or (corpus == "oracle" and method != "mle"):
        return False
    if corpus == "oracle":
        oracle, held_out, model = _oracle_mle_run(seed, profile, device)
        sweep_seed = stream_seed(seed, "oracle_evaluation")
        curve = pd.concat([quality_diversity_sweep(model, [1.0], profile.oracle.samples, oracle.seq_len,
                                                   {"nll_oracle": oracle.nll}, seed=sweep_seed, held_out=held_out,
                                                   top_p=p).assign(temperature=p, top_p=p) for p in TOP_P_VALUES])
    else:
        model, _ = language_model(data, profile, seed, device=device, progress=False)
        if method == "mle":
            curve = top_p_curve(model, data, profile, seed)
        else:
            curve = length_matched_curve(model, data, profile, seed, _sample_lengths(corpus, method, seed, profile))
    result[key] = curve.to_dict("records")
    write_run(path, result)
    return True


def _add_lm_plane(path: Path, result: dict, corpus: str, method: str, seed: int, profile: Profile,
                  data: TextSplits, device: str) -> None:
    """The run on Caccia et al.'s plane (:mod:`~textgan_lib.recipes.lm_plane`): the MLE model's curve
    (``lm_plane_curve``), or a GAN's point from the samples its run wrote (``lm_plane_point``)."""
    key = "lm_plane_curve" if method == "mle" else "lm_plane_point"
    if key in result:
        return
    scoring = scorer(data, profile, seed, device)
    if method == "mle":
        model, _ = language_model(data, profile, seed, device=device, progress=False)
        result[key] = lm_plane_curve(model, data, profile, seed, scoring).to_dict("records")
    else:
        result[key] = lm_plane_point(data, _sample_texts(corpus, method, seed, profile), profile, seed, scoring)
    write_run(path, result)


def _pending_controls(result: dict, corpus: str, method: str, profile: Profile) -> bool:
    """Whether :func:`add_controls` has anything to add to ``result`` (the same conditions, in short)."""
    wanted = {"mle": ["reference_classifiers", "noise_point", "top_p_curve"]}.get(
        method, [] if corpus == "oracle" else ["length_matched_curve"])
    wanted += ["code_tests"] if method in CODE_METHODS else []
    if corpus != "oracle":
        wanted += ["lm_plane_curve" if method == "mle" else "lm_plane_point"]
    curves = [] if corpus == "oracle" else [("temperature_curve" if method == "mle" else "length_matched_curve",
                                             profile.real_text.curve_temperatures)]
    curves += [("gaussian_curve", GAUSSIAN_SCALES)] if method in CODE_METHODS else []
    return any(key not in result for key in wanted) or any(
        key in result and _missing_points(result[key], points) for key, points in curves)


def _extend_temperature_curves(path: Path, result: dict, corpus: str, method: str, seed: int, profile: Profile,
                               data: TextSplits, device: str) -> None:
    """Add the profile's curve temperatures that a text run's ``temperature_curve`` (MLE) or
    ``length_matched_curve`` (a GAN) was recorded without; each temperature has its own stream,
    so the extended curve equals a fresh one."""
    key = "temperature_curve" if method == "mle" else "length_matched_curve"
    if key not in result:
        return
    missing = _missing_points(result[key], profile.real_text.curve_temperatures)
    if not missing:
        return
    model, _ = language_model(data, profile, seed, device=device, progress=False)
    if method == "mle":
        added = mle_temperature_curve(model, data, profile, seed, missing)
    else:
        added = length_matched_curve(model, data, profile, seed, _sample_lengths(corpus, method, seed, profile),
                                     missing)
    result[key] = _with_points(result[key], added)
    write_run(path, result)


def _missing_points(curve: list[dict], wanted: Sequence[float]) -> list[float]:
    """The curve parameters (temperatures, scales) of ``wanted`` that a recorded curve lacks."""
    recorded = {row["temperature"] for row in curve}
    return [t for t in wanted if t not in recorded]


def _with_points(curve: list[dict], added: pd.DataFrame) -> list[dict]:
    """A recorded curve with the rows of ``added``, in the order of their parameter."""
    return sorted(curve + added.to_dict("records"), key=lambda row: row["temperature"])


def _sample_texts(corpus: str, method: str, seed: int, profile: Profile) -> list[list[str]]:
    """The samples a finished run left in its work folder, as token lists."""
    samples = work_folder(corpus, method, seed, profile) / f"{corpus}_{method}_samples.txt"
    return [line.split() for line in samples.read_text(encoding="utf-8").splitlines()]


def _sample_lengths(corpus: str, method: str, seed: int, profile: Profile) -> list[int]:
    """The token count of each sample a finished GAN run left in its work folder."""
    return [len(text) for text in _sample_texts(corpus, method, seed, profile)]


