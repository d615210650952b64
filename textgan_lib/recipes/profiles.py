"""Named size presets: one switch that scales every chapter from a smoke test to the paper's size.

- ``ci``:  seconds per chapter; only checks that every cell runs (numbers mean little).
- ``cpu``: the default book build on a 2-core laptop CPU: minutes per chapter, results that mean
  something.
- ``gpu``: paper-scale runs for a CUDA GPU (the SeqGAN oracle runs use the paper's schedule).
- ``colab``: the ``cpu`` sizes on whatever Colab offers, so that every chapter finishes within
  minutes on a free Colab GPU (the ``gpu`` profile's paper schedules take hours on one).
- ``auto``: ``$TEXTGAN_PROFILE`` if set, else ``colab`` inside Colab, else ``gpu`` when CUDA is
  available, else ``cpu``.

Chapters read only the fields they need; fields are grouped by the chapter that introduces them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, replace

import torch

from ..paper import RELGAN_ORACLE as R
from ..paper import SEQGAN_PAPER as P

PROFILE_ENV = "TEXTGAN_PROFILE"


@dataclass(frozen=True)
class Profile:
    name: str
    # data (chapter 1 onwards)
    n_sentences: int | None  # captions used from each split; None = all 10,000
    max_len: int  # tokens per caption, <eos> included; longer ones are truncated
    # recurrent-network toy tasks (chapters 2-3)
    toy_steps: int  # optimisation steps on the synthetic tasks
    memory_distance: int  # how far back the long-range memory task must remember
    # GAN basics and gradient estimators (chapters 6-7)
    discriminator_steps: int  # Adam steps that fit the 1-D discriminator of chapter 6
    gradient_repeats: int  # independent gradient estimates per point of chapter 7's bias/variance study
    # word-level language model (chapter 4)
    embed_dim: int
    hidden_dim: int
    num_layers: int
    dropout: float
    batch_size: int
    lr: float
    lm_epochs: int
    char_epochs: int  # the character-level model for contrast
    char_max_len: int  # characters per caption, <eos> included
    n_samples: int  # samples drawn for tables and metrics
    # the SeqGAN synthetic oracle (chapters 5 and 8)
    oracle_samples: int  # training sequences drawn from the oracle, and samples per NLL_oracle estimate
    oracle_epochs: int  # MLE epochs on the oracle's samples (the paper: 120)
    oracle_eval_every: int  # epochs between NLL_oracle evaluations
    # SeqGAN (chapter 8); the paper: 50 pretraining rounds, 200 rounds, 5 sets x 3 epochs of 10,000
    seqgan_d_pretrain_rounds: int  # discriminator pretraining rounds (fresh negatives each)
    seqgan_rounds: int  # adversarial rounds (one generator step each)
    seqgan_d_steps: int  # fresh negative sets per adversarial round
    seqgan_d_epochs: int  # discriminator epochs per set
    seqgan_d_samples: int  # negatives (and positives) per set
    seqgan_eval_every: int  # adversarial rounds between NLL_oracle evaluations
    # Gumbel-softmax GANs (chapters 9 and 10); RelGAN: 3000 iterations at lr 1e-4, 300 filters per window
    gumbel_lr: float  # Adam's learning rate for both players
    gumbel_filters: int  # filters per window (2 to 5) of the critic, CNNDiscriminator.relgan_sized
    gumbel_oracle_iterations: int  # adversarial iterations on the oracle (1 G + 5 D steps each)
    gumbel_max_betas: tuple[float, ...]  # the final inverse temperatures compared on the oracle
    gumbel_eval_every: int  # iterations between NLL_oracle evaluations
    # GANs on real text (chapter 10, `textgan real-text`): COCO captions and Chinese poems
    realtext_samples: int  # generated samples scored (BLEU, Self-BLEU, distinct-n)
    realtext_references: int | None  # held-out texts used as BLEU references; None = all
    realtext_d_pretrain_rounds: int  # SeqGAN: discriminator pretraining rounds
    realtext_seqgan_rounds: int  # SeqGAN: adversarial rounds
    realtext_d_samples: int  # SeqGAN: negatives (and positives) per discriminator set
    realtext_rollouts: int  # SeqGAN: Monte-Carlo rollouts per prefix (the paper: 16)
    realtext_gumbel_iterations: int  # Gumbel GAN: adversarial iterations (1 G + 5 D steps each)
    # the autoencoder and its latent GAN (chapter 11, `textgan real-text --method latent`)
    ae_epochs: int  # reconstruction epochs of the LSTM autoencoder
    latent_iterations: int  # WGAN-GP iterations on the codes (5 critic steps + 1 generator step each)

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci", n_sentences=400, max_len=24,
        toy_steps=30, memory_distance=10, discriminator_steps=300, gradient_repeats=200,
        embed_dim=16, hidden_dim=32, num_layers=1, dropout=0.0, batch_size=64, lr=3e-3,
        lm_epochs=2, char_epochs=1, char_max_len=64, n_samples=50,
        oracle_samples=500, oracle_epochs=2, oracle_eval_every=1,
        seqgan_d_pretrain_rounds=1, seqgan_rounds=2, seqgan_d_steps=1, seqgan_d_epochs=1, seqgan_d_samples=200,
        seqgan_eval_every=1,
        gumbel_lr=1e-3, gumbel_filters=20, gumbel_oracle_iterations=4, gumbel_max_betas=(2.0, 100.0),
        gumbel_eval_every=2,
        realtext_samples=50, realtext_references=200, realtext_d_pretrain_rounds=1, realtext_seqgan_rounds=1,
        realtext_d_samples=64, realtext_rollouts=2, realtext_gumbel_iterations=2,
        ae_epochs=2, latent_iterations=4,
    ),
    "cpu": Profile(
        name="cpu", n_sentences=None, max_len=32,
        toy_steps=600, memory_distance=30, discriminator_steps=3000, gradient_repeats=4000,
        embed_dim=128, hidden_dim=256, num_layers=1, dropout=0.3, batch_size=64, lr=3e-3,
        lm_epochs=10, char_epochs=6, char_max_len=128, n_samples=1000,
        oracle_samples=10_000, oracle_epochs=40, oracle_eval_every=5,
        seqgan_d_pretrain_rounds=10, seqgan_rounds=40, seqgan_d_steps=1, seqgan_d_epochs=1, seqgan_d_samples=2000,
        seqgan_eval_every=5,
        # 120 iterations at 10x RelGAN's learning rate: Adam moves each weight by about lr per step, so
        # the generator travels a good way towards RelGAN's 3000 (at 1e-4 it barely moves in 120).
        gumbel_lr=1e-3, gumbel_filters=100, gumbel_oracle_iterations=120, gumbel_max_betas=(2.0, 100.0),
        gumbel_eval_every=40,
        # chapter 10 runs two corpora x two GANs in 15 minutes: about 2 minutes for each GAN
        realtext_samples=1000, realtext_references=None, realtext_d_pretrain_rounds=3, realtext_seqgan_rounds=10,
        realtext_d_samples=2000, realtext_rollouts=4, realtext_gumbel_iterations=60,
        # chapter 11 trains an autoencoder and a latent GAN per corpus in its 10 minutes; the
        # critic's Wasserstein estimate flattens out by about 1,000 iterations at these sizes
        ae_epochs=8, latent_iterations=1000,
    ),
    "gpu": Profile(
        name="gpu", n_sentences=None, max_len=32,
        toy_steps=3000, memory_distance=60, discriminator_steps=3000, gradient_repeats=4000,
        embed_dim=256, hidden_dim=512, num_layers=2, dropout=0.4, batch_size=128, lr=2e-3,
        lm_epochs=40, char_epochs=25, char_max_len=128, n_samples=10000,
        oracle_samples=P.n_sequences, oracle_epochs=P.mle_epochs, oracle_eval_every=P.mle_eval_every,
        seqgan_d_pretrain_rounds=P.d_pretrain_rounds, seqgan_rounds=P.adversarial_rounds, seqgan_d_steps=P.d_steps,
        seqgan_d_epochs=P.d_epochs, seqgan_d_samples=P.n_sequences, seqgan_eval_every=P.eval_every,
        gumbel_lr=R.lr, gumbel_filters=R.filters, gumbel_oracle_iterations=R.adversarial_iterations,
        gumbel_max_betas=R.max_betas, gumbel_eval_every=100,
        realtext_samples=P.n_sequences, realtext_references=None, realtext_d_pretrain_rounds=P.d_pretrain_rounds,
        realtext_seqgan_rounds=P.adversarial_rounds, realtext_d_samples=P.n_sequences, realtext_rollouts=P.n_rollouts,
        ae_epochs=30, latent_iterations=20_000,
        realtext_gumbel_iterations=3000,  # RelGAN's oracle runs; its COCO runs: 2,000
    ),
}

PROFILES["colab"] = replace(PROFILES["cpu"], name="colab")


def in_colab() -> bool:
    """Whether this Python runs in a Google Colab session."""
    return "google.colab" in sys.modules


def resolve_profile_name(name: str = "auto") -> str:
    """The preset ``name`` stands for (``auto`` → env override, else by hardware)."""
    if name == "auto":
        name = os.environ.get(PROFILE_ENV) or (
            "colab" if in_colab() else "gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: choose one of {sorted(PROFILES)} or 'auto'")
    return name


def get_profile(name: str = "auto", **overrides: object) -> Profile:
    """The preset for ``name``, with any field replaced by ``overrides`` (e.g. ``lm_epochs=3``)."""
    profile = PROFILES[resolve_profile_name(name)]
    unknown = set(overrides) - set(profile.to_dict())
    if unknown:
        raise TypeError(f"unknown profile fields {sorted(unknown)}; known: {sorted(profile.to_dict())}")
    return replace(profile, **overrides)


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(profile: Profile, device: torch.device | None = None) -> str:
    """A printable summary of the resolved configuration, for the top of every chapter."""
    device = device or default_device()
    fields = ", ".join(f"{k}={v}" for k, v in profile.to_dict().items() if k != "name")
    return f"profile={profile.name!r} on {device} (torch {torch.__version__})\n  {fields}"
