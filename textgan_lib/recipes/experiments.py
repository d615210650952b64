"""Reproducible experiments that chapters and the command line share.

``oracle_mle`` is the MLE row of the SeqGAN paper's synthetic experiment (Yu et al. 2017, Table 1):
10,000 sequences of length 20 sampled from the oracle train a generator with embedding 32 and hidden
32 by maximum likelihood (Adam, lr 0.01, batch 64, gradient clipping at 5); every few epochs
10,000 of the generator's samples are scored by the oracle (NLL_oracle). The paper reports 9.038 for
MLE after pretraining and 10.310 for a random generator. The generator starts, as in the SeqGAN
code, from N(0, 0.1²) weights: with PyTorch's default initialisation the same run plateaus about
0.3 nats higher.

``text_splits`` and ``language_model`` are the real-text pipeline of chapters 4, 5 and 10: tokenize
(Image COCO captions into words; the Chinese quatrains come as characters), hold out the last
tenth of the training file for validation, build the vocabulary on the rest, encode, and train an
``LSTMGenerator`` at a profile's sizes, reusing a checkpoint of the same run when one exists.

``gumbel_oracle`` starts from the same MLE model (:func:`oracle_mle_checkpoint`) and trains it as a
Gumbel-softmax GAN on RelGAN's oracle schedule (chapter 9).

``seqgan_oracle`` continues to the paper's SeqGAN row (8.736): MLE pretraining as above, then
discriminator pretraining and adversarial rounds with :class:`~textgan_lib.seqgan.SeqGANTrainer`,
NLL_oracle and NLL_test recorded through all phases, optionally within a time limit.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..data.batching import TokenBatch, encode_batch
from ..data.files import POEM_LENGTH, cache_dir, load_coco, load_poems
from ..data.tokenize import WordTokenizer
from ..data.vocab import Vocabulary
from ..eval.metrics import mean_token_nll, nll_oracle
from ..models.autoencoder import LSTMAutoencoder, encode_all
from ..models.checkpoint import (
    CheckpointMismatchError,
    generator_entry,
    load_generator_entry,
    read_checkpoint,
    save_checkpoint,
    saved_config,
)
from ..models.code_gan import CodeGenerator
from ..models.discriminators import CNNDiscriminator
from ..models.generator import GeneratorConfig, LSTMGenerator
from ..models.oracle import OracleLSTM
from ..paper import SEQGAN_PAPER
from ..train.base import Trainer
from ..train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer, copy_generator, relgan_horizon
from ..train.latent_gan import LatentGANConfig, LatentGANTrainer
from ..train.mle import MLEConfig
from ..train.seqgan import SeqGANConfig, SeqGANTrainer
from ..train.sync_free import mle_trainer
from .profiles import Profile


@dataclass(frozen=True)
class TextSplits:
    """A corpus as tokens and as ids: train / valid / test, with the vocabulary built on train."""

    name: str  # "coco" or "poems"
    tokenizer: WordTokenizer | None  # None: the file comes tokenized (the poems' characters)
    train_texts: list[list[str]]
    valid_texts: list[list[str]]
    test_texts: list[list[str]]  # the held-out set: BLEU's references
    vocab: Vocabulary  # built on train_texts, tokens seen at least twice
    train: TokenBatch
    valid: TokenBatch
    test: TokenBatch

    @property
    def max_len(self) -> int:
        return self.train.tokens.shape[1]


def _splits(name: str, tokenizer: WordTokenizer | None, train_file: list[list[str]], test_texts: list[list[str]],
            max_len: int, min_freq: int) -> TextSplits:
    n_valid = len(train_file) // 10  # the last tenth of the training file validates
    train_texts, valid_texts = train_file[:-n_valid], train_file[-n_valid:]
    vocab = Vocabulary.build(train_texts, min_freq=min_freq)
    return TextSplits(name, tokenizer, train_texts, valid_texts, test_texts, vocab,
                      *(encode_batch(t, vocab, max_len) for t in (train_texts, valid_texts, test_texts)))


def coco_splits(n_sentences: int | None = None, max_len: int = 32, min_freq: int = 2) -> TextSplits:
    """The word-level Image COCO data of chapters 4, 5 and 10 (``n_sentences`` from each file; None:
    all 10,000): training captions, the training file's last tenth for validation, the test file."""
    words = WordTokenizer()
    train_file = [words.tokenize(c) for c in load_coco("train")[:n_sentences]]
    test_texts = [words.tokenize(c) for c in load_coco("test")[:n_sentences]]
    return _splits("coco", words, train_file, test_texts, max_len, min_freq)


def poem_splits(n_poems: int | None = None, min_freq: int = 2) -> TextSplits:
    """The Chinese quatrains as characters: the first 90 % of the file (its last tenth validates) and
    the fixed held-out last 10 %; ``n_poems`` from each. Sequences of 24 characters and ``<eos>``."""
    train_file, test_texts = load_poems("train")[:n_poems], load_poems("test")[:n_poems]
    return _splits("poems", None, train_file, test_texts, POEM_LENGTH + 1, min_freq)


def text_splits(corpus: str, profile: Profile) -> TextSplits:
    """``coco`` or ``poems`` at a profile's size."""
    if corpus == "coco":
        return coco_splits(profile.n_sentences, profile.max_len)
    if corpus == "poems":
        return poem_splits(profile.n_sentences)
    raise ValueError(f"unknown corpus {corpus!r}: choose 'coco' or 'poems'")


def run_path(run: str, profile: Profile, seed: int, variant: str = "") -> Path:
    """Where a run keeps its checkpoint: ``cache_dir()/checkpoints/<run>_<profile><variant>_seed<seed>.pt``
    (``run`` e.g. ``coco_lm``, ``oracle_mle``, ``seqgan_oracle``; ``variant`` e.g. ``_beta100``)."""
    return cache_dir() / "checkpoints" / f"{run}_{profile.name}{variant}_seed{seed}.pt"


def language_model_checkpoint(corpus: str, profile: Profile, seed: int = 0) -> Path:
    """Where :func:`language_model` keeps the MLE model of a corpus, profile and seed by default."""
    return run_path(f"{corpus}_lm", profile, seed)


def language_model(
    data: TextSplits,
    profile: Profile,
    seed: int = 0,
    device: torch.device | str = "cpu",
    checkpoint: str | Path | None = "auto",
    progress: bool = True,
) -> tuple[LSTMGenerator, pd.DataFrame]:
    """The LSTM language model of ``data`` at ``profile``'s sizes, and its training history.

    Trained by MLE (``MLETrainer``, one checkpoint per epoch). ``checkpoint="auto"`` keeps it at
    :func:`language_model_checkpoint`: a later call with the same data, profile and seed (chapter 5
    after chapter 4, every GAN of chapter 10) loads it, finishing the training if it was
    interrupted, instead of training again. A checkpoint of another run there is replaced, with a
    warning.
    """
    if checkpoint == "auto":
        checkpoint = language_model_checkpoint(data.name, profile, seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LSTMGenerator.for_vocabulary(data.vocab, embed_dim=profile.embed_dim, hidden_dim=profile.hidden_dim,
                                             num_layers=profile.num_layers, dropout=profile.dropout).to(device)
    config = MLEConfig(epochs=profile.lm_epochs, batch_size=profile.batch_size, lr=profile.lr, seed=seed)
    trainer = mle_trainer(model, data.train.tokens, data.valid.tokens, config, checkpoint_path=checkpoint,
                          progress=progress)
    resume_if_same(trainer, checkpoint)
    if trainer.step < config.epochs:
        trainer.run()
    return model, trainer.history


def resume_if_same(trainer: Trainer, checkpoint: str | Path | None) -> bool:
    """The one resume rule: load ``checkpoint`` into ``trainer`` when it holds a run of the same
    kind, training config and model; otherwise warn and leave the trainer fresh, so that the run
    trains afresh and replaces the file. Returns whether it resumed."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return False
    try:
        # fields added to the config class since the file was written count at their defaults
        saved = saved_config(read_checkpoint(checkpoint, kind=trainer.kind)["train_config"], trainer.config)
        if saved != asdict(trainer.config):
            raise CheckpointMismatchError(f"it was trained with {saved}, this run is {asdict(trainer.config)}")
        trainer.load(checkpoint)
    except CheckpointMismatchError as err:
        warnings.warn(f"not reusing {checkpoint}: {err}", stacklevel=3)
        return False
    return True


def latent_model(
    data: TextSplits,
    profile: Profile,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> tuple[LSTMAutoencoder, CodeGenerator, pd.DataFrame, pd.DataFrame]:
    """Chapter 11's model of ``data``: an LSTM autoencoder and a WGAN-GP on its codes.

    The autoencoder (the profile's embedding and hidden sizes; the code is the hidden state) is
    trained by reconstruction for ``profile.ae_epochs`` epochs, then the latent GAN for
    ``profile.latent_iterations`` iterations on the codes of the training texts. Both are kept in
    ``cache_dir()/checkpoints`` (``<corpus>_ae_...`` and ``<corpus>_latent_...``) and reused or
    resumed as :func:`language_model` does. Returns the autoencoder, the code generator and the two
    training histories.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        # the autoencoder's own defaults: word dropout, no other dropout
        autoencoder = LSTMAutoencoder.for_vocabulary(data.vocab, embed_dim=profile.embed_dim,
                                                     code_dim=profile.hidden_dim).to(device)
    ae_config = MLEConfig(epochs=profile.ae_epochs, batch_size=profile.batch_size, lr=profile.lr, seed=seed)
    ae_checkpoint = run_path(f"{data.name}_ae", profile, seed)
    ae_trainer = mle_trainer(autoencoder, data.train.tokens, data.valid.tokens, ae_config,
                             checkpoint_path=ae_checkpoint, progress=progress)
    resume_if_same(ae_trainer, ae_checkpoint)
    ae_trained_now = ae_trainer.step < ae_config.epochs
    if ae_trained_now:
        ae_trainer.run()
    codes = encode_all(autoencoder, data.train.tokens)
    gan_config = LatentGANConfig(eval_every=max(profile.latent_iterations // 20, 1), seed=seed)
    gan_checkpoint = run_path(f"{data.name}_latent", profile, seed)
    gan_trainer = LatentGANTrainer(autoencoder, codes, gan_config, checkpoint_path=gan_checkpoint, progress=progress)
    if not ae_trained_now:  # a saved GAN learned the codes of the saved autoencoder, not of a new one
        resume_if_same(gan_trainer, gan_checkpoint)
    if gan_trainer.step < profile.latent_iterations:
        gan_trainer.run(until=profile.latent_iterations)
    return autoencoder.eval(), gan_trainer.generator, ae_trainer.history, gan_trainer.history


def coco_language_model(
    profile: Profile,
    seed: int = 0,
    device: torch.device | str = "cpu",
    checkpoint: str | Path | None = "auto",
    progress: bool = True,
) -> tuple[LSTMGenerator, TextSplits, pd.DataFrame]:
    """Chapter 4's word-level COCO model: :func:`language_model` of :func:`coco_splits` at ``profile``."""
    data = text_splits("coco", profile)
    model, history = language_model(data, profile, seed, device, checkpoint, progress)
    return model, data, history


def oracle_training_data(oracle: OracleLSTM, n: int = SEQGAN_PAPER.n_sequences,
                         seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training and ``n`` held-out sequences sampled from ``oracle`` (two disjoint draws)."""
    rng = torch.Generator(device=oracle.device).manual_seed(seed)
    return oracle.sample(n, rng=rng), oracle.sample(n, rng=rng)


def oracle_evaluator(oracle: OracleLSTM, held_out: torch.Tensor, n_samples: int = SEQGAN_PAPER.n_sequences,
                     seed: int = 0) -> Callable[[LSTMGenerator], dict[str, float]]:
    """The evaluation of the SeqGAN oracle experiment, for ``SeqGANTrainer(evaluate=...)``: a function
    of a generator returning NLL_oracle of ``n_samples`` fresh samples (quality), NLL_div of the same
    samples (the generator's NLL of its own samples: diversity) and NLL_test of ``held_out``.
    Its samples come from one random stream seeded with ``seed + 1``, continued call after call."""
    rng = torch.Generator(device=oracle.device).manual_seed(seed + 1)

    def evaluate(generator: LSTMGenerator) -> dict[str, float]:
        samples = generator.sample(n_samples, oracle.seq_len, rng=rng)
        return {"nll_oracle": oracle.nll(samples), "nll_div": mean_token_nll(generator, samples),
                "nll_test": mean_token_nll(generator, held_out)}

    return evaluate


def oracle_mle(
    oracle: OracleLSTM,
    epochs: int = SEQGAN_PAPER.mle_epochs,
    eval_every: int = SEQGAN_PAPER.mle_eval_every,
    n_train: int = SEQGAN_PAPER.n_sequences,
    n_eval: int = SEQGAN_PAPER.n_sequences,
    embed_dim: int = SEQGAN_PAPER.embed_dim,
    hidden_dim: int = SEQGAN_PAPER.hidden_dim,
    lr: float = SEQGAN_PAPER.mle_lr,
    batch_size: int = SEQGAN_PAPER.batch_size,
    init_std: float | None = 0.1,
    seed: int = 0,
    progress: bool = True,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    checkpoint: str | Path | None = None,
) -> tuple[LSTMGenerator, pd.DataFrame]:
    """Train a generator by MLE on oracle samples; returns it and one row per evaluation:
    epoch, NLL_oracle (quality of its samples), NLL_test (its NLL of held-out oracle samples), the
    training NLL and the elapsed seconds. Epoch 0 is the untrained generator. ``init_std`` draws
    every generator parameter from N(0, init_std²) as the SeqGAN code does; None keeps PyTorch's
    initialisation. ``data`` (training, held-out) defaults to ``oracle_training_data(oracle,
    n_train, seed)``; pass it when you already drew it.

    With ``checkpoint`` the finished run (generator and table) is saved there, and a later call with
    the same settings and data returns it instead of training again (chapters 5, 8 and 9 share one
    MLE model this way); a checkpoint of other settings is replaced.
    """
    train, held_out = oracle_training_data(oracle, n_train, seed) if data is None else data
    settings = {"epochs": epochs, "eval_every": eval_every, "n_eval": n_eval, "embed_dim": embed_dim,
                "hidden_dim": hidden_dim, "lr": lr, "batch_size": batch_size, "init_std": init_std, "seed": seed,
                "data_sha256": _fingerprint(train, held_out), "oracle_sha256": _fingerprint(*oracle.parameters())}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LSTMGenerator(GeneratorConfig(oracle.config.vocab_size, embed_dim, hidden_dim, start_id=0,
                                              pad_id=None, eos_id=None))
        if init_std is not None:
            model.normal_init_(init_std)
    model.to(oracle.device)
    if checkpoint is not None and Path(checkpoint).is_file():
        payload = read_checkpoint(checkpoint)
        if payload.get("kind") == "oracle_mle" and payload["settings"] == settings:
            load_generator_entry(model, payload, checkpoint)
            return model, pd.DataFrame(payload["evaluations"])
    trainer = mle_trainer(model, train, config=MLEConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed),
                         progress=False)
    eval_rng = torch.Generator(device=oracle.device).manual_seed(seed + 1)
    started = time.perf_counter()
    rows = []
    checkpoints = sorted(set(range(0, epochs, eval_every)) | {epochs})  # the last epoch is always evaluated
    for epoch in tqdm(checkpoints, desc="oracle MLE", unit="evaluation", disable=not progress):
        if epoch:
            trainer.run(until=epoch)
        rows.append({"epoch": epoch, "nll_oracle": nll_oracle(model, oracle, n_eval, eval_rng),
                     "nll_test": mean_token_nll(model, held_out),
                     "train_nll": trainer.records[-1]["train_nll"] if trainer.records else float("nan"),
                     "elapsed_s": time.perf_counter() - started})
    if checkpoint is not None:
        save_checkpoint(checkpoint, "oracle_mle", {"generator": generator_entry(model, None), "settings": settings,
                                                   "evaluations": rows})
    return model, pd.DataFrame(rows)


def oracle_mle_checkpoint(profile: Profile, seed: int = 0) -> Path:
    """Where chapters 5, 8 and 9 and :func:`gumbel_oracle` keep the oracle MLE model of a profile and seed."""
    return run_path("oracle_mle", profile, seed)


def gumbel_oracle(
    oracle: OracleLSTM,
    profile: Profile,
    max_beta: float,
    seed: int = 0,
    checkpoint: str | Path | None = "auto",
    progress: bool = True,
) -> tuple[LSTMGenerator, pd.DataFrame]:
    """A Gumbel-softmax GAN on the SeqGAN oracle (chapter 9), from the profile's MLE model.

    The MLE model is :func:`oracle_mle` at the profile's sizes, kept at :func:`oracle_mle_checkpoint`
    (chapter 5 writes it). A copy of it is trained by :class:`~textgan_lib.gumbel_gan.GumbelGANTrainer`
    against ``CNNDiscriminator.relgan_sized`` for ``profile.gumbel_oracle_iterations`` iterations at
    ``profile.gumbel_lr``, with :math:`\\beta` rising to ``max_beta`` on RelGAN's exponential schedule
    compressed to the run's length (:func:`~textgan_lib.gumbel_gan.relgan_horizon`). Every
    ``profile.gumbel_eval_every`` iterations :func:`oracle_evaluator` records NLL_oracle, NLL_div and
    NLL_test. Returns the generator and the history (row 0: the MLE model).

    ``checkpoint="auto"`` keeps the run at ``cache_dir()/checkpoints/gumbel_oracle_<profile>_beta<b>_seed<s>.pt``:
    a finished run is loaded instead of trained again, an interrupted one resumes, a checkpoint of
    other settings is replaced with a warning.
    """
    train, held_out = oracle_training_data(oracle, profile.oracle_samples, seed)
    mle, _ = oracle_mle(oracle, epochs=profile.oracle_epochs, eval_every=profile.oracle_eval_every,
                        n_train=profile.oracle_samples, n_eval=profile.oracle_samples, seed=seed,
                        progress=progress, data=(train, held_out), checkpoint=oracle_mle_checkpoint(profile, seed))
    if checkpoint == "auto":
        checkpoint = run_path("gumbel_oracle", profile, seed, f"_beta{max_beta:g}")
    iterations = profile.gumbel_oracle_iterations
    config = GumbelGANConfig(g_lr=profile.gumbel_lr, d_lr=profile.gumbel_lr, max_beta=max_beta,
                             beta_horizon=relgan_horizon(iterations), eval_every=profile.gumbel_eval_every, seed=seed)
    generator = copy_generator(mle)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        discriminator = CNNDiscriminator.relgan_sized(oracle.config.vocab_size, profile.gumbel_filters)
    discriminator.to(oracle.device)
    trainer = GumbelGANTrainer(generator, discriminator, train, oracle.seq_len, config,
                               evaluate=oracle_evaluator(oracle, held_out, profile.oracle_samples, seed),
                               checkpoint_path=checkpoint, progress=progress)
    resume_if_same(trainer, checkpoint)
    if trainer.step < iterations:
        trainer.run(until=iterations)
    return generator, trainer.history


def _fingerprint(*tensors: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def seqgan_oracle(
    oracle: OracleLSTM,
    mle_epochs: int = SEQGAN_PAPER.mle_epochs,
    rounds: int = SEQGAN_PAPER.adversarial_rounds,
    config: SeqGANConfig = SeqGANConfig(),
    n_samples: int = SEQGAN_PAPER.n_sequences,
    time_limit_s: float | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The SeqGAN paper's synthetic experiment, all three phases; the defaults are its schedule.

    MLE pretraining (:func:`oracle_mle`, evaluated every 5 epochs), then discriminator pretraining
    and ``rounds`` adversarial rounds with the paper's CNN discriminator, evaluated every
    ``config.eval_every`` rounds on ``n_samples`` samples. Returns one row per evaluation or
    discriminator round (``phase``: mle, d_pretrain, adversarial), with the seconds elapsed since
    the start. With ``out`` the table is written there (CSV) after every evaluation, so that an
    interrupted run leaves what it measured; with ``time_limit_s`` the adversarial phase stops at
    the first evaluation past the limit, and ``rounds_done`` in the table says how far it got.
    """
    started = time.perf_counter()
    train, held_out = oracle_training_data(oracle, n_samples, config.seed)
    generator, mle_history = oracle_mle(oracle, epochs=mle_epochs, n_train=n_samples, n_eval=n_samples,
                                        seed=config.seed, progress=progress, data=(train, held_out))
    mle_rows = mle_history.assign(phase="mle").to_dict("records")
    evaluate = oracle_evaluator(oracle, held_out, n_samples, config.seed)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        discriminator = CNNDiscriminator(oracle.config.vocab_size)
    discriminator.to(oracle.device)
    trainer = SeqGANTrainer(generator, discriminator, train, seq_len=oracle.seq_len, config=config,
                            evaluate=evaluate, progress=progress)
    mle_seconds = time.perf_counter() - started

    def table() -> pd.DataFrame:
        later = [{**r, "elapsed_s": r["elapsed_s"] + mle_seconds} for r in trainer.records]
        frame = pd.DataFrame(mle_rows + later).assign(rounds_done=trainer.step,
                                                      schedule=str(asdict(config)))
        if out is not None:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(out, index=False)
        return frame

    table()
    trainer.pretrain_discriminator()
    table()
    while trainer.step < rounds:
        trainer.run(until=min(trainer.step + config.eval_every, rounds))
        table()
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            break
    return table()
