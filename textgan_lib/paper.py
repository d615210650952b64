"""The papers' synthetic experiments in one place: their sizes, their schedules, their numbers.

:data:`SEQGAN_PAPER`: Yu et al. (2017), section "Synthetic Data Experiments" and Table 1, with the
details of the authors' code (LantaoYu/SeqGAN, ``sequence_gan.py``). Every default that stands for
the paper (the oracle's shapes, the experiments, the SeqGAN trainer's schedule, the command line,
the benchmarks, chapters 5 and 8) reads it from there.

:data:`RELGAN_ORACLE`: the oracle runs of RelGAN (Nie et al. 2019) with its LSTM generator, from
the authors' run script (weilinie/RelGAN, ``oracle/experiments/oracle_relgan.py``) and training
loop (``oracle/oracle_gan/oracle_train.py``); chapter 9 and the Gumbel GAN's defaults read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeqGANPaperSetting:
    # sizes: the oracle and the generator
    vocab_size: int = 5000
    seq_len: int = 20
    embed_dim: int = 32
    hidden_dim: int = 32
    n_sequences: int = 10_000  # oracle samples for training, and generated samples per evaluation
    # MLE pretraining
    batch_size: int = 64
    mle_lr: float = 0.01
    mle_epochs: int = 120
    mle_eval_every: int = 5  # epochs between NLL_oracle evaluations
    # adversarial training
    d_pretrain_rounds: int = 50
    adversarial_rounds: int = 200
    n_rollouts: int = 16
    d_steps: int = 5  # fresh negative sets per adversarial round
    d_epochs: int = 3  # discriminator epochs per set
    eval_every: int = 5  # adversarial rounds between evaluations
    # reported NLL_oracle (Table 1), and the oracle's NLL of its own samples (its entropy rate)
    random_nll: float = 10.310
    mle_nll: float = 9.038
    seqgan_nll: float = 8.736
    oracle_nll: float = 5.75


SEQGAN_PAPER = SeqGANPaperSetting()


@dataclass(frozen=True)
class RelGANOracleSetting:
    adversarial_iterations: int = 3000  # nadv_steps: each 1 generator step then 5 discriminator steps
    beta_horizon: int = 5000  # the schedule's N, fixed in get_fixed_temperature whatever the run's length
    max_betas: tuple[float, ...] = (2.0, 5.0, 10.0, 100.0)  # the script's "temperature" grid
    lr: float = 1e-4  # Adam for both players, betas (0.9, 0.999), global gradient norm clipped at 5
    d_steps: int = 5
    windows: tuple[int, ...] = (2, 3, 4, 5)  # its CNN discriminator's window sizes ...
    filters: int = 300  # ... with 300 filters each
    mle_epochs: int = 150  # its pretraining (lr 1e-2); chapter 9 reuses the SeqGAN setting's MLE model


RELGAN_ORACLE = RelGANOracleSetting()
