"""Named size presets: one switch that scales every chapter from a smoke test to the paper's size.

- ``ci``:  seconds per chapter; only checks that every cell runs (numbers mean little).
- ``cpu``: the default book build on a 2-core laptop CPU: minutes per chapter, results that mean
  something.
- ``gpu``: paper-scale runs for a CUDA GPU (the SeqGAN oracle runs use the paper's schedule).
- ``colab``: the ``cpu`` sizes on whatever Colab offers, so that every chapter finishes within
  minutes on a free Colab GPU (the ``gpu`` profile's paper schedules take hours on one).
- ``auto``: ``$TEXTGAN_PROFILE`` if set, else ``colab`` inside Colab, else ``gpu`` when CUDA is
  available, else ``cpu``.

A :class:`~textgan_lib.recipes.sizes.Profile` is made of frozen sections, one per experiment
(:mod:`textgan_lib.recipes.sizes`). ``get_profile("ci", oracle={"samples": 128})``
replaces fields, nested sections included; ``textgan ... --set oracle.samples=128`` does the same
from the command line. How a study uses a profile (selection on validation, its evaluations) is the
study's (:mod:`textgan_lib.recipes.study`), not the profile's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields, is_dataclass, replace
from typing import Any

import torch

from ..paper import RELGAN_ORACLE as R
from ..paper import SEQGAN_PAPER as P
from ..train.arae import ARAEConfig
from ..train.gumbel_gan import GumbelGANConfig
from ..train.latent_gan import LatentGANConfig
from ..train.mle import MLEConfig
from ..train.scratchgan import ScratchGANConfig
from ..train.seqgan import SeqGANConfig
from .sizes import (
    DataSizes,
    GumbelSizes,
    LanguageModelSizes,
    LatentSizes,
    OracleSizes,
    Profile,
    RealTextSizes,
    ScratchGANSizes,
    SeqGANSizes,
    ToySizes,
    evaluated_every,
)

PROFILE_ENV = "TEXTGAN_PROFILE"


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


def _scratchgan(iterations: int, embed_dim: int, hidden_dim: int, batch_size: int,
                g_lr: float = ScratchGANConfig.g_lr, d_lr: float = ScratchGANConfig.d_lr,
                mle_start_lrs: tuple[float, float] | None = None) -> ScratchGANSizes:
    """ScratchGAN at the paper's learning rates, discount and baseline unless given (``ScratchGANConfig``'s
    defaults), evaluated 10 times over its run."""
    return ScratchGANSizes(iterations, embed_dim, hidden_dim,
                           ScratchGANConfig(batch_size=batch_size, g_lr=g_lr, d_lr=d_lr,
                                            eval_every=evaluated_every(iterations, 10)),
                           mle_start_lrs)


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
# these it learns (mean length 31.6 -> 19.1, NLL under the MLE model 12.97 -> 11.59 in 25). From the
# MLE model the paper's rates are kept: over the 150 iterations on COCO's seed 0 (one seed, a pilot)
# they left the model on its temperature curve (at tau 1.05: Self-BLEU-4 .005 above it at equal
# BLEU-4, NLL_test 3.577 where the curve has 3.577), where the rates near 1e-3 moved it .050 below
# the curve (less diverse) and NLL_test to 3.698, worse than the curve anywhere from tau .9 to 1.3.
CPU_SCRATCHGAN = _scratchgan(150, 64, 256, 256, g_lr=9.59e-4, d_lr=9.38e-4,
                             mle_start_lrs=(ScratchGANConfig.g_lr, ScratchGANConfig.d_lr))

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
        # 1.5-4 minutes for each GAN of chapter 10; training the poems and news there too took about 17 of
        # the book's 82 minutes on 2 cores (by the study's run times), so the book replays their seed-0 runs
        real_text=RealTextSizes(1000, None, _real_text_seqgan(3, 10, 2000, 4), _gumbel(1e-3, 100, 60, 6),
                                CPU_SCRATCHGAN, replayed=("poems", "news")),
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
