"""What the GAN trainers on tokens (SeqGAN, the Gumbel-softmax GAN) share: their inputs, checked
before any training, and the generator and discriminator they register with the :class:`Trainer`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..models.modes import evaluating
from .base import Evaluation, Trainer


def check_gan_inputs(generator: nn.Module, discriminator: nn.Module, real_tokens: Tensor, max_len: int) -> None:
    """A GAN's inputs, checked before any training: real ids as a tensor ``[N, T]`` within the
    generator's vocabulary and ``T == max_len`` (samples as wide as the real texts), a discriminator
    over the same vocabulary, and samples long enough for the discriminator's widest window."""
    if not isinstance(real_tokens, Tensor) or real_tokens.dim() != 2:
        raise TypeError("real_tokens must be a tensor of token ids [N, T] (encode texts with "
                        "encode_batch(texts, vocab, max_len).tokens)")
    if len(real_tokens) == 0:
        raise ValueError("real_tokens is empty: the discriminator needs real examples")
    generator.check_tokens(real_tokens)
    vocab_size = generator.config.vocab_size
    embedding = getattr(discriminator, "embedding", None)
    if embedding is not None and embedding.num_embeddings != vocab_size:
        raise ValueError(f"the discriminator reads a vocabulary of {embedding.num_embeddings} tokens but the "
                         f"generator writes {vocab_size}: build it with the generator's vocabulary size")
    if real_tokens.shape[1] != max_len:  # a discriminator would tell fakes from reals by their width alone
        raise ValueError(f"the real sequences are {real_tokens.shape[1]} tokens wide but max_len={max_len}: the "
                         "generator's samples and the real texts must have one width; pass "
                         f"max_len={real_tokens.shape[1]}, or encode the texts at max_len")
    windows = getattr(discriminator, "windows", None)
    if windows and max_len < max(windows):
        raise ValueError(f"max_len={max_len} is shorter than the discriminator's widest window ({max(windows)}): "
                         "use longer sequences or narrower windows")


class AdversarialTrainer(Trainer):
    """What the GAN trainers on tokens share: a ``generator`` (pretrained by MLE) against a
    ``discriminator`` on real sequences ``real_tokens`` ``[N, T]``, with samples of ``max_len``
    tokens, the inputs checked by :func:`check_gan_inputs`; ``held_out`` (optional), real sequences
    never trained on, on which the discriminator is measured at every evaluation."""

    config_class: type  # the trainer's config dataclass: its defaults are the config when none is given

    def __init__(self, generator: nn.Module, discriminator: nn.Module, real_tokens: Tensor, max_len: int,
                 config: Any = None, evaluate: Evaluation | None = None, checkpoint_path: str | Path | None = None,
                 progress: bool = True, held_out: Tensor | None = None) -> None:
        config = self.config_class() if config is None else config
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} takes a {self.config_class.__name__}, "
                            f"not a {type(config).__name__}")
        super().__init__(config, generator.device, evaluate=evaluate, checkpoint_path=checkpoint_path,
                         progress=progress)
        check_gan_inputs(generator, discriminator, real_tokens, max_len)
        if held_out is not None:
            check_gan_inputs(generator, discriminator, held_out, max_len)
        self.held_out = None if held_out is None else held_out.to(generator.device)
        self.generator, self.discriminator = generator, discriminator
        self.real = real_tokens.to(generator.device)
        self.max_len = max_len
        self.modules.update(generator=generator, discriminator=discriminator)
        self.setup()

    def setup(self) -> None:
        """The trainer's own optimizers, random streams and state, made at the end of ``__init__``
        (``self.config``, the models, ``self.real`` and ``self.held_out`` are set by then)."""

    def add_adam(self) -> None:
        """Adam for both players at the config's ``g_lr``, ``d_lr`` and ``adam_betas``."""
        cfg = self.config
        self.optimizers["generator"] = torch.optim.Adam(self.generator.parameters(), lr=cfg.g_lr, betas=cfg.adam_betas)
        self.optimizers["discriminator"] = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.d_lr,
                                                            betas=cfg.adam_betas)

    def advice(self) -> str:
        return f"Try lower learning rates (g_lr={self.config.g_lr}, d_lr={self.config.d_lr})."


@torch.no_grad()
def heldout_discrimination(discriminator: nn.Module, real: Tensor, fake: Tensor) -> dict[str, float]:
    """How well ``discriminator`` tells held-out ``real`` sequences from a generator's ``fake`` ones
    (ids ``[N, T]``, dropout off): ``accuracy``, the mean of the two classes' accuracies with the
    logit's sign as the answer, and ``auc``, the share of (real, fake) pairs it ranks the right way
    round (ties count half). A relativistic critic's logits have no fixed threshold, so for it the
    AUC is the measure; both read .5 at chance."""
    with evaluating(discriminator):
        real_logits, fake_logits = discriminator(real).float(), discriminator(fake).float()
    accuracy = ((real_logits > 0).float().mean() + (fake_logits <= 0).float().mean()) / 2
    above = (real_logits[:, None] > fake_logits[None, :]).float().mean()
    ties = (real_logits[:, None] == fake_logits[None, :]).float().mean()
    return {"accuracy": accuracy.item(), "auc": (above + ties / 2).item()}


def generator_step_seconds(trainer: AdversarialTrainer, repeats: int = 3) -> float:
    """The wall time of one of ``trainer``'s generator steps (sample, reward every token, one
    update), the fastest of ``repeats`` after one warm-up step: the least disturbed by other work.
    The steps train the generator (SeqGAN's rollouts against ScratchGAN's dense rewards)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    trainer.generator_step()  # warm-up: the first step pays for allocations
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        trainer.generator_step()
        times.append(time.perf_counter() - started)
    return min(times)


def policy_gradient_noise(trainer: AdversarialTrainer, draws: int) -> float:
    """How noisy ``trainer``'s generator gradient is at its present weights: the gradient of
    ``draws`` independent generator steps (fresh samples and rewards each; the weights restored and
    the learning rate 0, so nothing moves), its total variance (the trace of the covariance over
    every parameter) over the squared norm of its mean. Scale-free, so two trainers whose losses
    weight their rewards differently compare (SeqGAN's rollouts against ScratchGAN's dense rewards)."""
    if draws < 2:
        raise ValueError(f"draws must be at least 2 for a variance, got {draws}")
    weights = {name: value.clone() for name, value in trainer.generator.state_dict().items()}
    optimizer = trainer.optimizers["generator"]
    rates = [group["lr"] for group in optimizer.param_groups]
    gradients = []
    try:
        for group in optimizer.param_groups:
            group["lr"] = 0.0  # the update runs, the weights stay
        for _ in range(draws):
            trainer.generator.load_state_dict(weights)
            trainer.generator_step()
            gradients.append(torch.cat([p.grad.flatten() for p in trainer.generator.parameters()]))
    finally:
        for group, rate in zip(optimizer.param_groups, rates):
            group["lr"] = rate
        trainer.generator.load_state_dict(weights)
    stacked = torch.stack(gradients)  # [draws, P]
    return float(stacked.var(dim=0, unbiased=True).sum() / stacked.mean(dim=0).square().sum())
