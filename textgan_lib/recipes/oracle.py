"""The SeqGAN oracle experiments that chapters 5, 8 and 9 and the command line share.

``oracle_mle`` is the MLE row of the SeqGAN paper's synthetic experiment (Yu et al. 2017, Table 1):
sequences of length 20 sampled from the oracle train a generator with embedding 32 and hidden 32
by maximum likelihood; every few epochs the generator's samples are scored by the oracle
(NLL_oracle). The generator starts, as in the SeqGAN code, from N(0, 0.1²) weights (with
PyTorch's default initialisation the same run plateaus about 0.3 nats higher).
``seqgan_oracle`` continues to the paper's SeqGAN row; ``gumbel_oracle`` trains a copy of the same
MLE model as a Gumbel-softmax GAN on RelGAN's oracle schedule.

Every recipe takes ``(oracle, profile, seed=0, checkpoint="auto")``; ``"auto"`` keeps the run at
:func:`~textgan_lib.recipes.runs.run_path` and resumes or reuses it by
:func:`~textgan_lib.recipes.runs.resume_if_same`; ``None`` keeps nothing. The ``gpu`` profile's
sections are the papers' settings.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import torch

from .._seeds import seeded, stream
from ..eval.metrics import mean_token_nll
from ..models.discriminators import CNNDiscriminator
from ..models.generator import GeneratorConfig, LSTMGenerator
from ..models.oracle import LikelihoodRatio, OracleLSTM
from ..train.gumbel_gan import GumbelGANTrainer, copy_generator
from ..train.seqgan import SeqGANTrainer
from ..train.sync_free import mle_trainer
from .gan_run import HELD_OUT, PERFECT_DS, gan_of, train_gan
from .runs import Checkpoint, checkpoint_for, train_or_resume, write_csv
from .sizes import Profile


def oracle_training_data(oracle: OracleLSTM, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training and ``n`` held-out sequences sampled from ``oracle`` (two disjoint draws)."""
    rng = stream(seed, "data", oracle.device)
    return oracle.sample(n, rng=rng), oracle.sample(n, rng=rng)


class OracleEvaluation:
    """The evaluation of the oracle experiments, for a trainer's ``evaluate``: called on a generator,
    it returns NLL_oracle of ``n_samples`` fresh samples (quality), NLL_div of the same samples (the
    generator's NLL of its own samples: diversity) and NLL_test of ``held_out``. Its samples come
    from the stream ``oracle_evaluation`` of ``seed``, continued call after call; the stream is in
    ``rngs``, which a :class:`~textgan_lib.train.base.Trainer` saves and restores with its run, so a
    resumed run records the numbers an uninterrupted one does."""

    def __init__(self, oracle: OracleLSTM, held_out: torch.Tensor, n_samples: int, seed: int = 0) -> None:
        self.oracle, self.held_out, self.n_samples = oracle, held_out, n_samples
        self.rngs = {"samples": stream(seed, "oracle_evaluation", oracle.device)}

    def __call__(self, generator: LSTMGenerator) -> dict[str, float]:
        samples = generator.sample(self.n_samples, self.oracle.seq_len, rng=self.rngs["samples"])
        return {"nll_oracle": self.oracle.nll(samples), "nll_div": mean_token_nll(generator, samples),
                "nll_test": mean_token_nll(generator, self.held_out)}


def oracle_evaluator(oracle: OracleLSTM, held_out: torch.Tensor, n_samples: int, seed: int = 0) -> OracleEvaluation:
    """The oracle experiments' evaluation (:class:`OracleEvaluation`) for a trainer's ``evaluate``."""
    return OracleEvaluation(oracle, held_out, n_samples, seed)


def oracle_mle(oracle: OracleLSTM, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
               data: tuple[torch.Tensor, torch.Tensor] | None = None, until: int | None = None,
               progress: bool = True) -> tuple[LSTMGenerator, pd.DataFrame]:
    """A generator trained by MLE on ``profile.oracle.samples`` oracle sequences, and its history:
    one row every ``eval_every`` epochs (row 0: the untrained generator) with NLL_oracle, NLL_div
    and NLL_test (:func:`oracle_evaluator`), the training NLL and the seconds. ``data`` (training,
    held-out) defaults to :func:`oracle_training_data`; pass it when you already drew it.
    ``"auto"`` keeps the run at ``run_path("oracle_mle", profile, seed)`` (chapters 5, 8 and 9
    share it). ``until`` stops this call at that epoch, for a chapter that trains in parts: the
    run and its checkpoint stay the profile's, so the next call goes on from there and the
    finished run equals one trained in a single call (:func:`~textgan_lib.recipes.runs.train_or_resume`)."""
    sizes = profile.oracle
    train, held_out = oracle_training_data(oracle, sizes.samples, seed) if data is None else data
    with seeded(seed):
        model = LSTMGenerator(GeneratorConfig(oracle.config.vocab_size, sizes.embed_dim, sizes.hidden_dim,
                                              start_id=0, pad_id=None, eos_id=None))
        if sizes.init_std is not None:
            model.normal_init_(sizes.init_std)
    model.to(oracle.device)
    trainer = mle_trainer(model, train, config=sizes.config(seed),
                          checkpoint_path=checkpoint_for(checkpoint, "oracle_mle", profile, seed),
                          evaluate=oracle_evaluator(oracle, held_out, sizes.samples, seed), progress=progress)
    train_or_resume(trainer, trainer.checkpoint_path, trainer.config.epochs, until=until)
    return model, trainer.history


def gumbel_oracle(oracle: OracleLSTM, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
                  max_beta: float, method: str = "gumbel", progress: bool = True) -> tuple[LSTMGenerator, pd.DataFrame]:
    """A Gumbel-softmax GAN on the SeqGAN oracle (chapter 9), from the profile's MLE model
    (:func:`oracle_mle`, which chapter 5 trains): a copy of it trained against
    ``CNNDiscriminator.relgan_sized`` for ``profile.gumbel_oracle.iterations`` iterations, with
    :math:`\\beta` rising to ``max_beta`` on RelGAN's exponential schedule compressed to the run's
    length; :func:`oracle_evaluator` records NLL_oracle, NLL_div and NLL_test. Returns the
    generator and the history (row 0: the MLE model). ``method="gumbel_fixed_critic"`` runs its
    placebo (the critic never trained). ``"auto"`` keeps the run at
    ``run_path("<method>_oracle", profile, seed, "_beta<max_beta>")``."""
    sizes = profile.gumbel_oracle
    train, held_out = oracle_training_data(oracle, profile.oracle.samples, seed)
    mle, _ = oracle_mle(oracle, profile, seed, data=(train, held_out), progress=progress)
    generator = copy_generator(mle)
    with seeded(seed):
        discriminator = CNNDiscriminator.relgan_sized(oracle.config.vocab_size, sizes.filters)
    arm = gan_of(method)
    if arm.trainer != "gumbel":
        raise ValueError(f"gumbel_oracle trains the Gumbel GAN or its placebo, not {method!r}")
    trainer = GumbelGANTrainer(generator, discriminator.to(oracle.device), train, oracle.seq_len,
                               replace(sizes.config(seed, max_beta), **arm.changes),
                               evaluate=oracle_evaluator(oracle, held_out, profile.oracle.samples, seed),
                               checkpoint_path=checkpoint_for(checkpoint, f"{method}_oracle", profile, seed,
                                                              f"_beta{max_beta:g}"),
                               progress=progress, held_out=held_out[:HELD_OUT])
    train_gan(trainer, sizes.iterations)
    return generator, trainer.history


def seqgan_oracle(oracle: OracleLSTM, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
                  method: str = "seqgan", time_limit_s: float | None = None, out: str | Path | None = None,
                  progress: bool = True) -> pd.DataFrame:
    """The SeqGAN paper's synthetic experiment, all three phases (the ``gpu`` profile: its schedule).

    MLE pretraining (:func:`oracle_mle`), then discriminator pretraining and
    ``profile.seqgan_oracle.rounds`` adversarial rounds with the paper's CNN discriminator. Returns
    one row per evaluation or discriminator round (``phase``: mle, d_pretrain, adversarial), with
    the seconds since the start. With ``out`` the table is written there (CSV, atomically) after
    every evaluation; with ``time_limit_s`` the adversarial phase stops at the first evaluation
    past the limit (``rounds_done`` says how far it got). ``method`` may name a SeqGAN placebo
    (:data:`~textgan_lib.recipes.gan_run.PLACEBOS`) or one of
    :data:`~textgan_lib.recipes.gan_run.PERFECT_DS`, whose discriminator is the exact likelihood
    ratio of the oracle and the generator (:class:`~textgan_lib.models.oracle.LikelihoodRatio`, never
    trained), its probability or its log-odds the reward. ``"auto"`` keeps the run at
    ``run_path("<method>_oracle", profile, seed)`` and resumes it.
    """
    started = time.perf_counter()
    sizes = profile.seqgan_oracle
    arm = gan_of(method)
    if arm.trainer != "seqgan":
        raise ValueError(f"seqgan_oracle trains SeqGAN, a placebo of it or one of {PERFECT_DS}, not {method!r}")
    config = replace(sizes.config(seed), **arm.changes)
    train, held_out = oracle_training_data(oracle, profile.oracle.samples, seed)
    generator, mle_history = oracle_mle(oracle, profile, seed, checkpoint, data=(train, held_out),
                                        progress=progress)
    mle_rows = mle_history.assign(phase="mle").to_dict("records")
    generator = copy_generator(generator)
    if method in PERFECT_DS:
        discriminator = LikelihoodRatio(oracle, generator)
    else:
        with seeded(seed):
            discriminator = CNNDiscriminator(oracle.config.vocab_size)
    trainer = SeqGANTrainer(generator, discriminator.to(oracle.device), train,
                            max_len=oracle.seq_len, config=config,
                            evaluate=oracle_evaluator(oracle, held_out, profile.oracle.samples, seed),
                            checkpoint_path=checkpoint_for(checkpoint, f"{method}_oracle", profile, seed),
                            progress=progress, held_out=held_out[:HELD_OUT])
    mle_seconds = time.perf_counter() - started

    def table() -> pd.DataFrame:
        later = [{**r, "elapsed_s": r["elapsed_s"] + mle_seconds} for r in trainer.records]
        frame = pd.DataFrame(mle_rows + later).assign(rounds_done=trainer.step, schedule=str(asdict(config)))
        if out is not None:
            write_csv(frame, out)
        return frame

    def after_evaluation() -> str | None:
        table()
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            return f"the time limit ({time_limit_s:g} s)"
        return None

    train_gan(trainer, sizes.rounds, after_evaluation=after_evaluation)
    return table()
