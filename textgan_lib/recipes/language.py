"""The real-text models that chapters 4, 5, 10 and 11 share: the corpora at a profile's size, the
LSTM language model, the autoencoder with its latent GAN, and ARAE.

Every recipe takes ``(…, profile, seed=0, checkpoint="auto")``: ``"auto"`` keeps the run at
:func:`~textgan_lib.recipes.runs.run_path`, so a later call with the same data, profile and seed
(chapter 5 after chapter 4, every GAN of chapter 10) loads it, finishing the training if it was
interrupted, instead of training again; ``None`` keeps nothing. ``until`` trains a long run in
parts (a chapter cell each): that call stops at ``until`` epochs or iterations of the profile's
budget, and the next call finishes the run exactly as one call would have
(:func:`~textgan_lib.recipes.runs.train_or_resume`).
"""

from __future__ import annotations

import pandas as pd
import torch

from .._seeds import seeded
from ..data.corpora import TextSplits, coco_splits, news_splits, poem_splits
from ..data.vocab import Vocabulary
from ..models.autoencoder import LSTMAutoencoder, encode_all
from ..models.code_gan import CodeGenerator
from ..models.generator import LSTMGenerator
from ..train.arae import ARAETrainer
from ..train.base import Trainer
from ..train.latent_gan import LatentGANTrainer
from ..train.selection import plateau
from ..train.sync_free import mle_trainer
from .runs import Checkpoint, checkpoint_for, train_or_resume
from .sizes import LatentSizes, Profile

LM_SECTIONS = ("data", "lm")  # what the language model depends on


def text_splits(corpus: str, profile: Profile) -> TextSplits:
    """``coco``, ``poems`` or ``news`` at a profile's size (``news`` keeps its sentences whole:
    up to 48 tokens, against COCO's ``profile.data.max_len``)."""
    if corpus == "coco":
        return coco_splits(profile.data.n_sentences, profile.data.max_len, validation=profile.data.coco_validation)
    if corpus == "poems":
        return poem_splits(profile.data.n_sentences)
    if corpus == "news":
        return news_splits(profile.data.n_sentences, train_sentences=profile.data.news_sentences)
    raise ValueError(f"unknown corpus {corpus!r}: choose 'coco', 'poems' or 'news'")


def initial_language_model(vocab: Vocabulary, profile: Profile, seed: int = 0,
                           device: torch.device | str = "cpu") -> LSTMGenerator:
    """The untrained LSTM language model of ``vocab`` at ``profile.lm``'s sizes with ``seed``'s initial
    weights: where :func:`language_model` starts, and where a GAN trained from scratch starts."""
    with seeded(seed):  # a seeded initialisation that leaves the caller's stream alone
        return LSTMGenerator.for_vocabulary(vocab, **profile.lm.model_sizes()).to(device)


def language_model(data: TextSplits, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
                   until: int | None = None, device: torch.device | str = "cpu",
                   progress: bool = True) -> tuple[LSTMGenerator, pd.DataFrame]:
    """The LSTM language model of ``data`` at ``profile.lm``'s sizes, and its training history
    (MLE, one checkpoint per epoch at ``run_path("<corpus>_lm", profile, seed, sections=LM_SECTIONS)``:
    a profile changed elsewhere, e.g. in a GAN's sizes, reuses the same model)."""
    model = initial_language_model(data.vocab, profile, seed, device)
    trainer = mle_trainer(model, data.train.tokens, data.valid.tokens, profile.lm.config(seed),
                          checkpoint_path=checkpoint_for(checkpoint, f"{data.name}_lm", profile, seed,
                                                         sections=LM_SECTIONS),
                          progress=progress)
    train_or_resume(trainer, trainer.checkpoint_path, trainer.config.epochs, until=until)
    return model, trainer.history


def coco_language_model(profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
                        device: torch.device | str = "cpu",
                        progress: bool = True) -> tuple[LSTMGenerator, TextSplits, pd.DataFrame]:
    """Chapter 4's word-level COCO model: :func:`language_model` of the COCO splits at ``profile``."""
    data = text_splits("coco", profile)
    model, history = language_model(data, profile, seed, checkpoint, device=device, progress=progress)
    return model, data, history


def _plateau_rule(trainer: Trainer, sizes: LatentSizes):
    """The autoencoder's stopping rule (``sizes.ae_patience``), for :meth:`Trainer.run`'s ``stop``."""
    if sizes.ae_patience is None:
        return None

    def stop() -> str | None:
        losses = [r["valid_nll"] for r in trainer.records if r.get("valid_nll") is not None]
        if not plateau(losses, sizes.ae_patience, sizes.ae_min_delta):
            return None
        return (f"the validation NLL did not fall by more than {sizes.ae_min_delta:g} for {sizes.ae_patience} "
                f"epochs (lowest {min(losses):.4f})")

    return stop


def autoencoder_model(data: TextSplits, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
                      until: int | None = None, device: torch.device | str = "cpu",
                      progress: bool = True) -> tuple[LSTMAutoencoder, pd.DataFrame]:
    """:func:`latent_model`'s autoencoder alone (for a chapter that trains it in parts): the
    autoencoder (in eval mode) and its history."""
    autoencoder, trainer, _ = _train_autoencoder(data, profile, seed, checkpoint, until, device, progress)
    return autoencoder.eval(), trainer.history


def _train_autoencoder(data: TextSplits, profile: Profile, seed: int, checkpoint: Checkpoint, until: int | None,
                       device: torch.device | str, progress: bool) -> tuple[LSTMAutoencoder, Trainer, bool]:
    """The autoencoder, its trainer, and whether it trained in this call."""
    sizes = profile.latent
    with seeded(seed):
        # the autoencoder's own defaults: word dropout, no other dropout
        autoencoder = LSTMAutoencoder.for_vocabulary(data.vocab, embed_dim=sizes.embed_dim,
                                                     code_dim=sizes.code_dim).to(device)
    trainer = mle_trainer(autoencoder, data.train.tokens, data.valid.tokens, sizes.ae_config(seed),
                          checkpoint_path=checkpoint_for(checkpoint, f"{data.name}_ae", profile, seed),
                          progress=progress)
    trained_now = train_or_resume(trainer, trainer.checkpoint_path, trainer.config.epochs,
                                  stop=_plateau_rule(trainer, sizes), until=until)
    return autoencoder, trainer, trained_now


def latent_model(data: TextSplits, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
                 device: torch.device | str = "cpu", progress: bool = True
                 ) -> tuple[LSTMAutoencoder, CodeGenerator, pd.DataFrame, pd.DataFrame]:
    """Chapter 11's model of ``data``: an LSTM autoencoder (``profile.latent``'s sizes, trained by
    reconstruction for ``ae.epochs`` epochs, or until its validation NLL flattens with
    ``ae_patience``; :func:`autoencoder_model`) and a WGAN-GP on the codes of the training texts.
    ``"auto"`` keeps them at ``run_path("<corpus>_ae", ...)`` and ``run_path("<corpus>_latent", ...)``;
    a saved GAN is reused only with the autoencoder it learned from. Returns the autoencoder (in
    eval mode), the code generator and the two training histories."""
    sizes = profile.latent
    autoencoder, ae_trainer, ae_trained_now = _train_autoencoder(data, profile, seed, checkpoint, None, device,
                                                                 progress)
    gan_trainer = LatentGANTrainer(autoencoder, encode_all(autoencoder, data.train.tokens), sizes.config(seed),
                                   checkpoint_path=checkpoint_for(checkpoint, f"{data.name}_latent", profile, seed),
                                   progress=progress)
    # a saved GAN learned the codes of the saved autoencoder, not of a new one
    train_or_resume(gan_trainer, None if ae_trained_now else gan_trainer.checkpoint_path, sizes.iterations)
    return autoencoder.eval(), gan_trainer.generator, ae_trainer.history, gan_trainer.history


ARAE_HELD_OUT = 500  # validation texts whose greedy reconstruction ARAE's history follows


def arae_model(data: TextSplits, profile: Profile, seed: int = 0, checkpoint: Checkpoint = "auto", *,
               until: int | None = None, device: torch.device | str = "cpu", progress: bool = True
               ) -> tuple[LSTMAutoencoder, CodeGenerator, pd.DataFrame]:
    """Chapter 11's ARAE of ``data``: an autoencoder of ``profile.latent``'s sizes, initialised as
    :func:`latent_model`'s, trained jointly with its code GAN (:class:`~textgan_lib.train.arae.ARAETrainer`)
    for ``profile.latent.arae_iterations`` iterations, kept at ``run_path("<corpus>_arae", ...)``.
    Returns the autoencoder (in eval mode), the code generator and the history (with the greedy
    reconstruction accuracy of validation texts)."""
    sizes = profile.latent
    with seeded(seed):
        autoencoder = LSTMAutoencoder.for_vocabulary(data.vocab, embed_dim=sizes.embed_dim,
                                                     code_dim=sizes.code_dim).to(device)
    trainer = ARAETrainer(autoencoder, data.train.tokens, sizes.arae_config(seed, len(data.train.tokens)),
                          checkpoint_path=checkpoint_for(checkpoint, f"{data.name}_arae", profile, seed),
                          progress=progress, held_out=data.valid.tokens[:ARAE_HELD_OUT])
    train_or_resume(trainer, trainer.checkpoint_path, sizes.arae_iterations(len(data.train.tokens)), until=until)
    return autoencoder.eval(), trainer.generator.eval(), trainer.history
