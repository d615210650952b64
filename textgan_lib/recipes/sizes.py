"""The sections of a :class:`Profile`, one per experiment, and the profile that holds them.

A section holds its models' sizes, its run length and a ``trainer`` config template; its
``config(seed, ...)`` is the one place where a profile becomes a trainer's config. Every GAN section
names its run length ``budget`` (rounds or iterations, in the trainer's own unit). The presets that
fill them are :mod:`textgan_lib.recipes.profiles`'.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

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

    def start_config(self, seed: int, from_scratch: bool) -> Any:
        """The trainer's config of a run from the MLE model or (``from_scratch``) from an untrained
        generator: the same recipe from both starts unless the section says otherwise."""
        return self.config(seed)


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
    # the generator's and the discriminator's learning rates of a run that starts from the MLE model,
    # where they differ from ``trainer``'s (None: the same recipe from both starts)
    mle_start_lrs: tuple[float, float] | None = None

    def start_config(self, seed: int, from_scratch: bool) -> ScratchGANConfig:
        """The trainer's config of a run from an untrained generator or (``from_scratch=False``)
        from the MLE model."""
        config = self.config(seed)
        if from_scratch or self.mle_start_lrs is None:
            return config
        g_lr, d_lr = self.mle_start_lrs
        return replace(config, g_lr=g_lr, d_lr=d_lr)


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
    # corpora whose chapter-10 runs a chapter reads from the repository's recorded runs of this profile
    # and seed (``book.recorded.replay_real_text``) instead of training them; trained when there are none
    replayed: tuple[str, ...] = ()


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
