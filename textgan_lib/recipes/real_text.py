"""GANs on real text: Image COCO captions, Chinese quatrains and news sentences, one protocol for every method.

``real_text(corpus, method, profile, seed, out=...)`` trains (or reuses) the corpus's MLE language model, then
for ``method``:

- ``mle``: that model itself, sampled at temperature 1;
- ``seqgan``: :class:`~textgan_lib.train.seqgan.SeqGANTrainer` from a copy of it, with the paper's CNN
  discriminator and ``profile.real_text.seqgan``'s rollouts per prefix;
- ``gumbel``: :class:`~textgan_lib.train.gumbel_gan.GumbelGANTrainer` from a copy of it, with a CNN of
  RelGAN's window sizes (``CNNDiscriminator.relgan_sized``), :math:`\\beta_{\\max}` = 100 and the
  profile's learning rate, on RelGAN's schedule compressed to the run's length;
- ``latent``: an LSTM autoencoder and a WGAN-GP on its frozen sentence codes (the LaTextGAN recipe,
  :func:`~textgan_lib.recipes.language.latent_model`);
- ``arae``: the autoencoder and the GAN on its codes trained together (ARAE,
  :func:`~textgan_lib.recipes.language.arae_model`);
- ``scratchgan``: :class:`~textgan_lib.train.scratchgan.ScratchGANTrainer` from an untrained generator of
  the MLE model's sizes and initial weights (the paper's start), against a per-token LSTM discriminator
  (``profile.real_text.scratchgan``); ``scratchgan_mle``: the same from a copy of the MLE model;
- the placebos (:data:`~textgan_lib.recipes.gan_run.PLACEBOS`): SeqGAN with shuffled rewards, a
  constant reward or a fixed untrained discriminator, the Gumbel GAN against a fixed random critic,
  each ScratchGAN with its dense rewards shuffled; each is its GAN's run with the discriminator's
  information removed.

The two code GANs' sentences are decoded greedily from generated codes (``sampled_decoding`` holds
BLEU-4, Self-BLEU-4 and mean length of other generated codes decoded by sampling at temperature 1).

Every method starts from the same MLE checkpoint (trained once per corpus, profile and seed) and is
scored the same way: ``profile.real_text.samples`` samples, decoded to tokens with ``<unk>`` dropped, against
the held-out texts as references (BLEU-2..5, the mean sentence BLEU of NLTK's ``sentence_bleu``
with method-1 smoothing), leave-one-out Self-BLEU-2..5, distinct-n, the share of samples that copy
a training text, the mean length (and the references'), for the poems the share of samples in quatrain form
(:func:`~textgan_lib.data.corpora.quatrain_form`), the model's NLL of the held-out texts
(``nll_test``; ``None`` for the code GANs, whose likelihood is intractable) and the MLE model's NLL
of the samples (``nll_under_mle``, a quality measure every method shares). It writes, in ``out``:

- ``<corpus>_<method>_samples.txt``: one sample a line, tokens separated by single spaces;
- ``<corpus>_references.txt``: the references, tokenized the same way;
- ``<corpus>_<method>.json``: the scores, the profile (its :func:`~textgan_lib.recipes.runs.profile_tag` too),
  the sizes, the trainer's settings and the seconds it took;
- ``<corpus>_<method>_history.csv`` for the GANs: their training history.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import torch

from .._seeds import seeded, stream
from ..data.corpora import TextSplits, quatrain_form
from ..eval.metrics import OutsideSweepError, mean_token_nll
from ..eval.text_scores import decode_samples, score_samples
from ..eval.verdicts import TEXT_PLANE
from ..models.code_gan import generate
from ..models.discriminators import CNNDiscriminator, TokenLSTMDiscriminator
from ..models.generator import LSTMGenerator
from ..train.adversarial import AdversarialTrainer
from ..train.base import Evaluation, Trainer
from ..train.gumbel_gan import GumbelGANTrainer, copy_generator
from ..train.scratchgan import ScratchGANTrainer
from ..train.selection import BestCheckpoint
from ..train.seqgan import SeqGANTrainer
from .gan_run import GAN_ARMS, HELD_OUT, PERFECT_DS, GanArm, gan_of, train_gan
from .language import arae_model, initial_language_model, language_model, latent_model, text_splits
from .profiles import get_profile
from .runs import (
    Checkpoint,
    checkpoint_for,
    profile_tag,
    write_csv,
    write_text_atomic,
)
from .sizes import Profile

CORPORA = ("coco", "poems", "news")
CODE_METHODS = ("latent", "arae")  # GANs on an autoencoder's codes
METHODS = ("mle", *CODE_METHODS, *(method for method in GAN_ARMS if method not in PERFECT_DS))
TRAINERS: dict[str, type[AdversarialTrainer]] = {"seqgan": SeqGANTrainer, "gumbel": GumbelGANTrainer,
                                                 "scratchgan": ScratchGANTrainer}
__all__ = ["CORPORA", "METHODS", "adversarial_part", "decode_samples", "real_text", "score_samples"]


def real_text(corpus: str, method: str, profile: Profile | str, seed: int = 0, checkpoint: Checkpoint = "auto", *,
              out: str | Path, device: torch.device | str = "cpu", progress: bool = True) -> dict:
    """Train ``method`` on ``corpus`` at ``profile`` and write its samples and scores to ``out``.

    ``"auto"`` keeps every model at :func:`~textgan_lib.recipes.runs.run_path` (the MLE model, and
    ``<corpus>_<method>`` for a GAN), so a repeated call reuses them. Returns what it wrote to
    ``<corpus>_<method>.json``.
    """
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus {corpus!r}: choose one of {CORPORA}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {METHODS}")
    profile = get_profile(profile) if isinstance(profile, str) else profile
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = profile.real_text
    started = time.perf_counter()
    data = text_splits(corpus, profile)
    mle, _ = language_model(data, profile, seed, checkpoint, device=device, progress=progress)
    references = data.test_texts[: sizes.references]
    rng = stream(seed, "test_samples", mle.device)
    extra = {}
    if method in CODE_METHODS:  # no tractable likelihood: the model's NLL_test is not defined
        if method == "latent":
            autoencoder, code_generator, _, history = latent_model(data, profile, seed, checkpoint, device=device,
                                                                   progress=progress)
            settings = asdict(profile.latent)
        else:
            autoencoder, code_generator, history = arae_model(data, profile, seed, checkpoint, device=device,
                                                              progress=progress)
            n_train = len(data.train.tokens)
            settings = asdict(profile.latent.arae_config(seed, n_train)) | {
                "iterations": profile.latent.arae_iterations(n_train)}
        write_csv(history, out / f"{corpus}_{method}_history.csv")
        samples = generate(autoencoder, code_generator, sizes.samples, data.max_len, rng=rng, temperature=0.0)
        nll_test = None
        sampled = generate(autoencoder, code_generator, sizes.samples, data.max_len, temperature=1.0,
                           rng=stream(seed, "sampled_decoding", mle.device))
        scored = score_samples(decode_samples(data, sampled), references, data.train_texts, sizes.self_bleu_subset)
        extra["sampled_decoding"] = {key: scored[key] for key in ("bleu_4", "self_bleu_4", "mean_length")}
    else:
        model, settings = mle, asdict(profile.lm.config(seed))
        if method != "mle":
            settings, trainer = _adversarial(method, mle, data, profile, seed, checkpoint, progress)
            model = trainer.generator
            write_csv(trainer.history, out / f"{data.name}_{method}_history.csv")
        samples = model.sample(sizes.samples, data.max_len, rng=rng)
        nll_test = mean_token_nll(model, data.test.tokens[: len(references)])
    texts = decode_samples(data, samples)
    form = {}
    if corpus == "poems":  # checked before <unk> is dropped: an unknown character is still a character
        form["quatrain_form"] = sum(quatrain_form(data.vocab.decode(row)) for row in samples.tolist()) / len(texts)
    result = {
        "corpus": corpus, "method": method, "profile": profile.name, "profile_tag": profile_tag(profile),
        "seed": seed, **score_samples(texts, references, data.train_texts, sizes.self_bleu_subset),
        "self_bleu_subset": sizes.self_bleu_subset, **form,
        "nll_test": nll_test, "nll_under_mle": mean_token_nll(mle, samples),
        "n_samples": len(texts), "n_references": len(references), "vocab_size": len(data.vocab),
        "reference_length": sum(map(len, references)) / len(references), "settings": settings, **extra,
        "seconds": time.perf_counter() - started,
    }
    write_text_atomic(out / f"{corpus}_{method}_samples.txt", _lines(texts))
    write_text_atomic(out / f"{corpus}_references.txt", _lines(references))
    write_text_atomic(out / f"{corpus}_{method}.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def validation_gap(mle: LSTMGenerator, data: TextSplits, profile: Profile, seed: int) -> Evaluation:
    """A generator's diversity gap on the validation texts, for checkpoint selection
    (:class:`~textgan_lib.train.selection.BestCheckpoint`): ``profile.real_text.samples`` samples
    (the same random stream at every call) scored against the validation texts as references, and
    the gap to ``mle``'s temperature curve scored the same way (computed once here): the curve's
    Self-BLEU-4 minus the generator's at its BLEU-4, positive = more diverse. NaN outside the sweep."""
    sizes = profile.real_text
    references = data.valid_texts

    def point(model: LSTMGenerator, temperature: float = 1.0) -> dict[str, float]:
        rng = stream(seed, "validation_samples", model.device)
        samples = model.sample(sizes.samples, data.max_len, rng=rng, temperature=temperature)
        scored = score_samples(decode_samples(data, samples), references, data.train_texts, sizes.self_bleu_subset)
        return {"bleu_4": scored["bleu_4"], "self_bleu_4": scored["self_bleu_4"]}

    curve = pd.DataFrame([{"temperature": t, **point(mle, t)} for t in sizes.curve_temperatures])

    def evaluate(generator: LSTMGenerator) -> dict[str, float]:
        scores = point(generator)
        try:
            gap, _ = TEXT_PLANE.gap(curve, scores)
        except OutsideSweepError:
            gap = math.nan
        return {"valid_bleu_4": scores["bleu_4"], "valid_self_bleu_4": scores["self_bleu_4"], "valid_gap": gap}

    return evaluate


def adversarial_part(corpus: str, method: str, profile: Profile | str, seed: int = 0,
                     checkpoint: Checkpoint = "auto", *, until: int, device: torch.device | str = "cpu",
                     progress: bool = True) -> Trainer:
    """The first ``until`` rounds (SeqGAN; 0: its discriminator's pretraining only) or iterations
    (the Gumbel GAN, ScratchGAN) of :func:`real_text`'s GAN run, for a chapter that trains a long run
    in parts: they are kept in the run's checkpoint, paused there, and the :func:`real_text` call that
    follows finishes and scores the run exactly as one call would have. Returns the trainer."""
    if method not in METHODS or method == "mle" or method in CODE_METHODS:
        raise ValueError(f"{method!r} is not a token GAN on text: choose one of "
                         f"{[m for m in METHODS if m != 'mle' and m not in CODE_METHODS]}")
    profile = get_profile(profile) if isinstance(profile, str) else profile
    data = text_splits(corpus, profile)
    mle, _ = language_model(data, profile, seed, checkpoint, device=device, progress=progress)
    _, trainer = _adversarial(method, mle, data, profile, seed, checkpoint, progress, until)
    return trainer


def starting_generator(arm: GanArm, mle: LSTMGenerator, profile: Profile, seed: int) -> LSTMGenerator:
    """Where ``arm``'s generator starts: a copy of the seed's MLE model, or (``arm.from_scratch``) an
    untrained generator of its sizes with the initial weights the MLE model started from."""
    if not arm.from_scratch:
        return copy_generator(mle)
    return initial_language_model(mle.vocab, profile, seed, mle.device)


def _adversarial(method: str, mle: LSTMGenerator, data: TextSplits, profile: Profile, seed: int,
                 checkpoint: Checkpoint, progress: bool, until: int | None = None) -> tuple[dict, Trainer]:
    """``method``'s generator, from its :func:`starting_generator`, trained until ``until`` (None: its
    budget), then its settings and its trainer (the generator is ``trainer.generator``). With
    ``profile.real_text.select_on_validation``, a finished run leaves the generator at the checkpoint
    of its best validation gap (and, with ``profile.real_text.patience``, training stops once that
    gap stops rising: ``stopped_because``)."""
    arm = gan_of(method)
    generator = starting_generator(arm, mle, profile, seed)
    sizes = getattr(profile.real_text, arm.trainer)
    budget = sizes.budget
    config = replace(sizes.start_config(seed, arm.from_scratch), **arm.changes)
    path = checkpoint_for(checkpoint, f"{data.name}_{method}", profile, seed)
    with seeded(seed):
        discriminator = _discriminator(arm.trainer, len(data.vocab), sizes)
    discriminator.to(generator.device)
    selector = None
    if profile.real_text.select_on_validation:
        selector = BestCheckpoint(validation_gap(mle, data, profile, seed), "valid_gap",
                                  patience=profile.real_text.patience)
    trainer = TRAINERS[arm.trainer](generator, discriminator, data.train.tokens, data.max_len, config,
                                    checkpoint_path=path, progress=progress, held_out=data.valid.tokens[:HELD_OUT])
    train_gan(trainer, budget, until=until, selection=selector)
    settings = asdict(trainer.config)
    if until is not None and until < budget:  # a part, paused in the checkpoint
        return settings, trainer
    if arm.trainer == "scratchgan":  # where its generator started
        settings["start"] = "untrained" if arm.from_scratch else "mle"
    if arm.trainer == "seqgan":  # where the discriminator's pretraining stopped
        pretraining = [r for r in trainer.records if r.get("phase") == "d_pretrain"]
        settings |= {"d_rounds_done": trainer.counters["d_rounds"],
                     "d_heldout_accuracy": pretraining[-1].get("d_heldout_accuracy") if pretraining else None}
    if selector is not None:  # the test scores are the selected checkpoint's
        evaluated = [r for r in trainer.records if "valid_gap" in r]
        chosen = evaluated[selector.restore(generator)]
        settings |= {"selected_on_validation": True, "selected_step": chosen[trainer.unit],
                     "selected_phase": chosen.get("phase"), "selected_valid_gap": chosen["valid_gap"],
                     "last_step": trainer.step,
                     "stopped_because": trainer.stopped_because or f"the budget ({trainer.step} {trainer.unit})"}
    return settings, trainer


def _discriminator(trainer: str, vocab_size: int, sizes: object) -> torch.nn.Module:
    """The discriminator a GAN of ``trainer`` plays against: SeqGAN's CNN, a CNN of RelGAN's windows
    for the Gumbel GAN, ScratchGAN's per-token LSTM."""
    if trainer == "seqgan":
        return CNNDiscriminator(vocab_size)
    if trainer == "gumbel":
        return CNNDiscriminator.relgan_sized(vocab_size, sizes.filters)
    return TokenLSTMDiscriminator(vocab_size, embed_dim=sizes.embed_dim, hidden_dim=sizes.hidden_dim)


def _lines(texts: list[list[str]]) -> str:
    return "".join(" ".join(t) + "\n" for t in texts)
