"""Named size presets: one switch that scales every chapter from a smoke test to the paper's size.

- ``ci``:  seconds per chapter; only checks that every cell runs (numbers mean little).
- ``cpu``: the default book build on a 2-core laptop CPU: minutes per chapter, results that mean
  something.
- ``gpu``: paper-scale runs for a CUDA GPU (the SeqGAN oracle runs use the paper's schedule).
- ``colab``: the ``cpu`` sizes on whatever Colab offers, so that every chapter finishes within
  minutes on a free Colab GPU (the ``gpu`` profile's paper schedules take hours on one).
- ``auto``: ``$TEXTGAN_PROFILE`` if set, else ``colab`` inside Colab, else ``gpu`` when CUDA is
  available, else ``cpu``.

A :class:`Profile` is made of frozen sections, one per experiment. A section holds its models'
sizes, its run length and a ``trainer`` config template; its ``config(seed, ...)`` is the one place
where a profile becomes a trainer's config. Every GAN section names its run length ``budget``
(rounds or iterations, in the trainer's own unit). ``get_profile("ci", oracle={"samples": 128})``
replaces fields, nested sections included; ``textgan ... --set oracle.samples=128`` does the same
from the command line. How a study uses a profile (selection on validation, its evaluations) is the
study's (:mod:`textgan_lib.recipes.study`), not the profile's.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from typing import Any, ClassVar

import torch

from .._checks import check_sizes
from ..data.corpora import COCO_VALIDATION
from ..paper import RELGAN_ORACLE as R
from ..paper import SEQGAN_PAPER as P
from ..train.arae import ARAEConfig
from ..train.gumbel_gan import GumbelGANConfig, relgan_horizon
from ..train.latent_gan import LatentGANConfig
from ..train.mle import MLEConfig
from ..train.scratchgan import ScratchGANConfig
from ..train.seqgan import SeqGANConfig

PROFILE_ENV = "TEXTGAN_PROFILE"


def evaluated_every(budget: int, evaluations: int) -> int:
    """The ``eval_every`` that evaluates a run of ``budget`` steps about ``evaluations`` times."""
    return max(budget // evaluations, 1)


class _Checked:
    """A profile section: its fields are checked by type, and its numbers are never negative."""

    def __post_init__(self) -> None:
        check_sizes(self)


@dataclass(frozen=True)
class DataSizes(_Checked):
    """The corpora (chapter 1 onwards)."""

    n_sentences: int | None  # texts used from each split; None = all
    max_len: int  # tokens per caption, <eos> included; longer ones are truncated
    char_max_len: int  # characters per caption for the character-level model, <eos> included
    # news training sentences (valid and test keep 1,000 each, or n_sentences); None = all 8,000.
    # A news sentence is 2.6 times a caption's length: fewer of them keep the cpu build in budget
    news_sentences: int | None = None
    # where COCO's validation captions come from (data.corpora.coco_splits): "training_tail", the
    # training file's last tenth (the chapters' split), or "test_half", a seeded half of the test file
    # (the other half is the test set), which selection on validation needs (issue 37)
    coco_validation: str = "training_tail"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.coco_validation not in COCO_VALIDATION:
            raise ValueError(f"DataSizes.coco_validation must be one of {COCO_VALIDATION}, "
                             f"got {self.coco_validation!r}")


@dataclass(frozen=True)
class ToySizes(_Checked):
    """The small tasks of chapters 2, 3, 6 and 7."""

    steps: int  # optimisation steps on the recurrent-network toy tasks
    memory_distance: int  # how far back the long-range memory task must remember
    discriminator_steps: int  # Adam steps that fit the 1-D discriminator of chapter 6
    gradient_repeats: int  # independent gradient estimates per point of chapter 7's bias/variance study


class _SeededTrainer:
    """A section whose ``trainer`` config template becomes a run's config by its seed alone."""

    def config(self, seed: int) -> Any:
        return replace(self.trainer, seed=seed)


class _Budgeted:
    """A GAN section whose run length, in its trainer's own unit, is the field ``budget_field``."""

    budget_field: ClassVar[str] = "iterations"

    @property
    def budget(self) -> int:
        return getattr(self, self.budget_field)


@dataclass(frozen=True)
class LanguageModelSizes(_SeededTrainer, _Checked):
    """The LSTM language models of real text (chapters 4, 5, 10)."""

    embed_dim: int
    hidden_dim: int
    num_layers: int
    dropout: float
    trainer: MLEConfig
    char_epochs: int  # the character-level model for contrast (chapter 4)
    n_samples: int  # samples drawn for tables and metrics

    def model_sizes(self) -> dict[str, Any]:
        """Keyword arguments of ``LSTMGenerator.for_vocabulary``."""
        return {"embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim, "num_layers": self.num_layers,
                "dropout": self.dropout}


@dataclass(frozen=True)
class OracleSizes(_SeededTrainer, _Checked):
    """MLE on the SeqGAN oracle's samples (chapters 5, 8, 9; ``textgan oracle-mle``)."""

    samples: int  # training sequences drawn from the oracle, and samples per NLL_oracle estimate
    trainer: MLEConfig  # its eval_every: epochs between NLL_oracle evaluations
    embed_dim: int = P.embed_dim
    hidden_dim: int = P.hidden_dim
    init_std: float | None = 0.1  # weights ~ N(0, std²) as in the SeqGAN code; None: PyTorch's


@dataclass(frozen=True)
class SeqGANSizes(_Budgeted, _SeededTrainer, _Checked):
    """A SeqGAN run: discriminator pretraining, then ``rounds`` adversarial rounds."""

    budget_field: ClassVar[str] = "rounds"
    rounds: int
    trainer: SeqGANConfig


@dataclass(frozen=True)
class GumbelSizes(_Budgeted, _Checked):
    """A Gumbel-softmax GAN run of ``iterations`` on RelGAN's schedule compressed to that length."""

    iterations: int
    filters: int  # filters per window (2 to 5) of the critic, CNNDiscriminator.relgan_sized
    trainer: GumbelGANConfig
    max_betas: tuple[float, ...] = (R.max_betas[-1],)  # the final inverse temperatures run

    def config(self, seed: int, max_beta: float | None = None) -> GumbelGANConfig:
        return replace(self.trainer, max_beta=self.max_betas[-1] if max_beta is None else max_beta,
                       beta_horizon=relgan_horizon(self.iterations), seed=seed)


@dataclass(frozen=True)
class ScratchGANSizes(_Budgeted, _SeededTrainer, _Checked):
    """A ScratchGAN run (chapter 12): ``iterations`` of one generator and one discriminator step,
    against a per-token LSTM discriminator of ``embed_dim`` and ``hidden_dim``."""

    iterations: int
    embed_dim: int
    hidden_dim: int
    trainer: ScratchGANConfig


@dataclass(frozen=True)
class RealTextSizes(_Checked):
    """GANs on real text (chapter 10, ``textgan real-text``)."""

    samples: int  # generated samples scored (BLEU, Self-BLEU, distinct-n)
    references: int | None  # held-out texts used as BLEU references; None = all
    seqgan: SeqGANSizes
    gumbel: GumbelSizes
    scratchgan: ScratchGANSizes
    # Self-BLEU is the mean over disjoint subsets of this many texts, for samples and real texts alike
    self_bleu_subset: int = 1000
    # the MLE model's temperature curve, against which every GAN is compared at matched quality;
    # it reaches up to 2 because a GAN can lose quality below the MLE model's at 1.3 (news)
    curve_temperatures: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 2.0)
    # choose each GAN's checkpoint by its diversity gap on the validation texts (real_text's
    # validation_gap); off: the last iteration, as the recorded study of 2026-11-30 ran
    select_on_validation: bool = False
    # with select_on_validation: stop a GAN once its validation gap has not risen for this many
    # evaluations (None: train the whole budget); the run file says where it stopped and why
    patience: int | None = None


@dataclass(frozen=True)
class LatentSizes(_Checked):
    """The LSTM autoencoder and the WGAN-GP on its codes (chapter 11, ``--method latent``)."""

    embed_dim: int
    code_dim: int
    ae: MLEConfig  # the autoencoder's reconstruction training
    iterations: int  # WGAN-GP iterations (critic_steps critic steps + 1 generator step each)
    trainer: LatentGANConfig
    # ARAE's joint loop, from an untrained autoencoder of the same sizes, for as many
    # reconstruction steps as the autoencoder above gets in its ae.epochs (one per iteration)
    arae: ARAEConfig = ARAEConfig()
    # stop the autoencoder once its validation NLL has not fallen by more than ae_min_delta for
    # ae_patience epochs (ae.epochs is then the limit); None: train ae.epochs epochs
    ae_patience: int | None = None
    ae_min_delta: float = 0.0
    # chapter 11's code-space tests (recipes.code_tests): bootstrap resamples, steps of the critic
    code_test_resamples: int = 200
    code_test_critic_steps: int = 1000

    @property
    def budget(self) -> int:
        """The latent GAN's iterations (ARAE's are :meth:`arae_iterations`, set by the autoencoder's epochs)."""
        return self.iterations

    def ae_config(self, seed: int) -> MLEConfig:
        return replace(self.ae, seed=seed)

    def config(self, seed: int) -> LatentGANConfig:
        return replace(self.trainer, seed=seed)

    def arae_iterations(self, n_train: int) -> int:
        """ARAE's iterations on ``n_train`` training texts: ``ae.epochs`` epochs of its batches."""
        return self.ae.epochs * math.ceil(n_train / self.arae.batch_size)

    def arae_config(self, seed: int, n_train: int) -> ARAEConfig:
        """ARAE's settings, evaluated 20 times over its run."""
        return replace(self.arae, seed=seed, eval_every=evaluated_every(self.arae_iterations(n_train), 20))


@dataclass(frozen=True)
class Profile(_Checked):
    name: str
    data: DataSizes
    toys: ToySizes
    lm: LanguageModelSizes
    oracle: OracleSizes
    seqgan_oracle: SeqGANSizes  # chapter 8; the paper: 50 pretraining rounds, 200 rounds, 5 sets x 3 epochs
    gumbel_oracle: GumbelSizes  # chapter 9; RelGAN: 3000 iterations at lr 1e-4, 300 filters per window
    real_text: RealTextSizes
    latent: LatentSizes

    def to_dict(self) -> dict:
        return asdict(self)


def _gumbel(lr: float, filters: int, iterations: int, eval_every: int, monitor: int = 1000,
            max_betas: tuple[float, ...] = (R.max_betas[-1],)) -> GumbelSizes:
    return GumbelSizes(iterations, filters, GumbelGANConfig(g_lr=lr, d_lr=lr, eval_every=eval_every,
                                                            monitor_samples=monitor), max_betas)


# SeqGAN's discriminator is pretrained until its held-out accuracy reaches this (issue 23): below it
# the rewards are nearly constant and REINFORCE only sharpens the generator. At the cpu sizes the
# rounds are capped (10 on text, 5 on the oracle): on COCO, with the paper's learning rate 1e-4, the
# held-out accuracy plateaus near .62 from round 10 to round 30 (the study's first seed, 2026-11-30);
# on the oracle it stayed between .49 and .53 through all 15 rounds of the first two recorded seeds,
# so rounds 6-15 bought nothing but 2.5 minutes of the book's build.
D_TARGET = 0.75


def _real_text_seqgan(d_pretrain_rounds: int, rounds: int, d_samples: int, rollouts: int,
                      d_target_accuracy: float | None = D_TARGET, d_pretrain_max_rounds: int = 10) -> SeqGANSizes:
    return SeqGANSizes(rounds, SeqGANConfig(d_pretrain_rounds=d_pretrain_rounds, d_steps=1, d_epochs=1,
                                            d_samples=d_samples, n_rollouts=rollouts,
                                            eval_every=evaluated_every(rounds, 1),
                                            d_target_accuracy=d_target_accuracy,
                                            d_pretrain_max_rounds=max(d_pretrain_max_rounds, d_pretrain_rounds)))


def _scratchgan(iterations: int, embed_dim: int, hidden_dim: int, batch_size: int, g_lr: float = 9.59e-5,
                d_lr: float = 9.38e-3) -> ScratchGANSizes:
    """ScratchGAN at the paper's learning rates, discount and baseline unless given (``ScratchGANConfig``'s
    defaults), evaluated 10 times over its run."""
    return ScratchGANSizes(iterations, embed_dim, hidden_dim,
                           ScratchGANConfig(batch_size=batch_size, g_lr=g_lr, d_lr=d_lr,
                                            eval_every=evaluated_every(iterations, 10)))


def _latent(embed_dim: int, code_dim: int, lm: MLEConfig, ae_epochs: int, iterations: int) -> LatentSizes:
    return LatentSizes(embed_dim, code_dim, replace(lm, epochs=ae_epochs, padding_targets=False), iterations,
                       LatentGANConfig(eval_every=evaluated_every(iterations, 20)),
                       ARAEConfig(batch_size=lm.batch_size, ae_lr=lm.lr))  # the autoencoder's own batch and lr


# ScratchGAN at the cpu profile (benchmarks/results/scratchgan_cpu_pilot_2026-12-07.md): batch 256
# (half the paper's: an iteration took 2.9 s on COCO and 5.7 s on news on one core of a 2-core AMD
# EPYC with a book build beside it), a 256-unit discriminator (the paper's 512), 150 iterations (the
# paper's 200,000), so that a study run takes minutes; the generator keeps the MLE model's sizes.
# The learning rates are both about 1e-3, not the paper's 9.59e-5 and 9.38e-3: from an untrained
# generator at the paper's rates the discriminator is perfect at once (held-out accuracy 1.0, every
# reward near -1, the advantages near 0) and the generator had not moved after 75 iterations; at
# these it learns (mean length 31.6 -> 19.1, NLL under the MLE model 12.97 -> 11.59 in 25). The
# cost, measured from the MLE model: its discriminator stays at chance (.49-.51 over 100 iterations;
# .57 after 25 at the paper's rates), so that arm's rewards carry little.
CPU_SCRATCHGAN = _scratchgan(150, 64, 256, 256, g_lr=9.59e-4, d_lr=9.38e-4)

# the language models learn <pad> after <eos> (as RelGAN's do) for the Gumbel GAN's full-length relaxation
_CI_LM = MLEConfig(epochs=2, batch_size=64, lr=3e-3, padding_targets=True)
_CPU_LM = MLEConfig(epochs=10, batch_size=64, lr=3e-3, padding_targets=True)
_GPU_LM = MLEConfig(epochs=40, batch_size=128, lr=2e-3, padding_targets=True)


def _oracle_mle(epochs: int, eval_every: int) -> MLEConfig:
    return MLEConfig(epochs=epochs, batch_size=P.batch_size, lr=P.mle_lr, eval_every=eval_every)


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci",
        data=DataSizes(n_sentences=400, max_len=24, char_max_len=64),
        toys=ToySizes(steps=30, memory_distance=10, discriminator_steps=300, gradient_repeats=200),
        lm=LanguageModelSizes(16, 32, 1, 0.0, _CI_LM, char_epochs=1, n_samples=50),
        oracle=OracleSizes(samples=500, trainer=_oracle_mle(2, 1)),
        seqgan_oracle=SeqGANSizes(2, SeqGANConfig(d_pretrain_rounds=1, d_steps=1, d_epochs=1, d_samples=200,
                                                  eval_every=1)),
        gumbel_oracle=_gumbel(1e-3, 20, 4, 2, max_betas=(2.0, 100.0)),
        real_text=RealTextSizes(50, 200, _real_text_seqgan(1, 1, 64, 2, d_target_accuracy=None),
                                _gumbel(1e-3, 20, 2, 1, monitor=50), _scratchgan(4, 16, 32, 64),
                                self_bleu_subset=40),
        latent=replace(_latent(16, 32, _CI_LM, ae_epochs=2, iterations=4), code_test_resamples=20,
                       code_test_critic_steps=100),
    ),
    "cpu": Profile(
        name="cpu",
        data=DataSizes(n_sentences=None, max_len=32, char_max_len=128, news_sentences=4000),
        toys=ToySizes(steps=600, memory_distance=30, discriminator_steps=3000, gradient_repeats=4000),
        lm=LanguageModelSizes(128, 256, 1, 0.3, _CPU_LM, char_epochs=4, n_samples=1000),
        oracle=OracleSizes(samples=10_000, trainer=_oracle_mle(40, 5)),
        seqgan_oracle=SeqGANSizes(40, SeqGANConfig(d_pretrain_rounds=3, d_steps=1, d_epochs=1, d_samples=2000,
                                                   eval_every=5, d_target_accuracy=D_TARGET,
                                                   d_pretrain_max_rounds=5)),
        # 120 iterations at 10x RelGAN's learning rate: Adam moves each weight by about lr per step, so
        # the generator travels a good way towards RelGAN's 3000 (at 1e-4 it barely moves in 120).
        gumbel_oracle=_gumbel(1e-3, 100, 120, 40, max_betas=(2.0, 100.0)),
        # chapter 10 runs three corpora x two GANs in about 19 minutes: 1.5-4 minutes for each GAN
        real_text=RealTextSizes(1000, None, _real_text_seqgan(3, 10, 2000, 4), _gumbel(1e-3, 100, 60, 6),
                                CPU_SCRATCHGAN),
        # the critic's Wasserstein estimate flattens out by about 1,000 iterations at these sizes
        latent=_latent(128, 256, _CPU_LM, ae_epochs=8, iterations=1000),
    ),
    "gpu": Profile(
        name="gpu",
        data=DataSizes(n_sentences=None, max_len=32, char_max_len=128),
        toys=ToySizes(steps=3000, memory_distance=60, discriminator_steps=3000, gradient_repeats=4000),
        lm=LanguageModelSizes(256, 512, 2, 0.4, _GPU_LM, char_epochs=25, n_samples=10_000),
        oracle=OracleSizes(samples=P.n_sequences, trainer=_oracle_mle(P.mle_epochs, P.mle_eval_every)),
        # the paper's schedule (its 50 pretraining rounds, then on to the accuracy target if need be)
        seqgan_oracle=SeqGANSizes(P.adversarial_rounds, SeqGANConfig(d_target_accuracy=D_TARGET,
                                                                     d_pretrain_max_rounds=100)),
        gumbel_oracle=_gumbel(R.lr, R.filters, R.adversarial_iterations, 100, max_betas=R.max_betas),
        # RelGAN's oracle iterations (its COCO runs: 2,000)
        real_text=RealTextSizes(P.n_sequences, None,
                                _real_text_seqgan(P.d_pretrain_rounds, P.adversarial_rounds, P.n_sequences,
                                                  P.n_rollouts, d_pretrain_max_rounds=100),
                                _gumbel(R.lr, R.filters, 3000, 300),
                                # the paper's: 200,000 iterations of batch 512, a 1 x 512 discriminator
                                # over trainable embeddings of 64 (its GloVe embeddings are not used)
                                _scratchgan(200_000, 64, 512, 512)),
        latent=replace(_latent(256, 512, _GPU_LM, ae_epochs=30, iterations=20_000), ae_patience=3, ae_min_delta=0.01),
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


def override(profile: Profile, **overrides: Any) -> Profile:
    """``profile`` with fields replaced as :func:`get_profile` replaces them."""
    return _overridden(profile, overrides, "")


def _overridden(obj: Any, overrides: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(obj)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown profile fields {sorted(f'{where}{k}' for k in unknown)}; "
                        f"{where.rstrip('.') or 'the profile'} has {sorted(known)}")
    changes = {k: _overridden(getattr(obj, k), v, f"{where}{k}.")
               if isinstance(v, dict) and is_dataclass(getattr(obj, k)) else v for k, v in overrides.items()}
    return replace(obj, **changes)


def get_profile(name: str = "auto", **overrides: Any) -> Profile:
    """The preset for ``name`` with fields replaced; a section takes a dict of its own fields, e.g.
    ``get_profile("ci", oracle={"samples": 128, "trainer": {"epochs": 1}})``."""
    return override(PROFILES[resolve_profile_name(name)], **overrides)


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(profile: Profile, device: torch.device | None = None) -> str:
    """A printable summary of the resolved configuration, for the top of every chapter: the
    sections a chapter reads most (data, language model) and the run lengths of the others."""
    device = device or default_device()
    lm = profile.lm
    lines = [
        f"profile={profile.name!r} on {device} (torch {torch.__version__})",
        f"  data: {_fields(profile.data)}",
        f"  language model: {_fields(lm, skip=('trainer',))}, epochs={lm.trainer.epochs}, "
        f"batch_size={lm.trainer.batch_size}, lr={lm.trainer.lr}",
        f"  oracle MLE: {profile.oracle.samples} sequences, {profile.oracle.trainer.epochs} epochs; SeqGAN "
        f"{profile.seqgan_oracle.rounds} rounds; Gumbel GAN {profile.gumbel_oracle.iterations} iterations",
        f"  real text: {profile.real_text.samples} samples; SeqGAN {profile.real_text.seqgan.rounds} rounds, "
        f"Gumbel GAN {profile.real_text.gumbel.iterations} iterations; latent GAN {profile.latent.iterations} "
        f"iterations",
    ]
    return "\n".join(lines)


def _fields(section: Any, skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{f.name}={getattr(section, f.name)}" for f in fields(section) if f.name not in skip)
