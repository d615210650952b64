"""SeqGAN training (Yu et al. 2017): an LSTM generator trained by policy gradient against a
discriminator, with Monte-Carlo rollout rewards.

The generator is pretrained by MLE elsewhere (``MLETrainer``). This trainer then runs

1. **discriminator pretraining**: ``d_pretrain_rounds`` times, draw fresh negatives from the
   generator and train the discriminator for ``d_epochs`` epochs on them and the real data; with
   held-out real sequences and ``d_target_accuracy``, go on until the discriminator's held-out
   accuracy reaches it (a discriminator near chance gives nearly constant rewards);
2. **adversarial rounds**: ``g_steps`` policy-gradient steps (sample ``batch_size`` sequences,
   reward every prefix with ``n_rollouts`` rollouts of the rollout policy, minimise
   :func:`~textgan_lib.train.losses.policy_gradient_loss`), then ``d_steps`` times fresh negatives and
   ``d_epochs`` discriminator epochs.

Defaults are the paper's schedule, with the details of its reference code (LantaoYu/SeqGAN); each
place where the paper, the code and common re-implementations differ is a field of
:class:`SeqGANConfig` whose comment says which is which. ``evaluate`` (a function of the generator returning a dict of
numbers, e.g. NLL_oracle) is recorded in the history every ``eval_every`` rounds. Checkpoints hold
both networks, the rollout copy, both optimizers, the position and the random states, so training
resumes exactly as with MLE.

Dropout is off for the generator throughout the adversarial phase: it samples in eval mode, and the
log-probabilities of REINFORCE's gradient are of that same policy (eval mode, gradients on), so
the gradient is that of the distribution that is sampled and evaluated. The discriminator trains
with its dropout.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from .._checks import check_config
from .._seeds import stream_seed
from ..models.generator import LSTMGenerator
from ..models.modes import evaluating
from ..paper import SEQGAN_PAPER
from .adversarial import AdversarialTrainer
from .base import training_target
from .cuda_graph import GraphedStep
from .dense_rewards import leave_one_out, shuffled_per_position
from .losses import policy_gradient_loss
from .rollout import REWARD_DTYPES, default_reward_dtype, rollout_rewards

# Where a SeqGAN run's rewards come from. "discriminator": the GAN. Its placebos keep the policy
# gradient and remove the discriminator's information: "shuffled" permutes each step's rewards
# across the batch's sequences (the same rewards, tied to other sequences); "constant" gives every
# token the step's mean reward (REINFORCE towards the generator's own samples: cooling alone);
# "fixed_discriminator" never trains the discriminator it is given (an untrained CNN: a placebo;
# the oracle's exact likelihood ratio, models.oracle.LikelihoodRatio: the perfect discriminator).
REWARDS = ("discriminator", "shuffled", "constant", "fixed_discriminator")
# What a rollout averages: "probability", the discriminator's D (the paper's reward), or "log_odds",
# log D - log(1 - D). A sure discriminator's D saturates near 0 on every sample (the oracle's exact
# likelihood ratio gives the MLE model's samples D < 1e-10) and the policy gradient vanishes; the
# log-odds keep its information (for the exact ratio: minus the reverse KL, in expectation).
REWARD_SCALES = ("probability", "log_odds")


@dataclass(frozen=True)
class SeqGANConfig:
    batch_size: int = SEQGAN_PAPER.batch_size  # generated sequences per generator step
    n_rollouts: int = SEQGAN_PAPER.n_rollouts
    g_lr: float = 0.01
    d_lr: float = 1e-4
    clip_norm: float = 5.0  # global gradient norm of the generator's policy-gradient step
    # "sum": the SeqGAN code's loss, -Σ log p · Q over batch and tokens, whose gradient norm is large
    # enough for the clipping at 5 to act; "mean" divides by the number of tokens (clipping then
    # almost never engages).
    pg_reduction: str = "sum"
    # The rollout policy. 0: the generator itself, as in the paper's Algorithm 1 (β ← θ) and in what
    # the reference code computes (its rollout graph reads the live generator variables through
    # tf.identity, so its update_params(0.8) never changes the rewards). r > 0: a delayed copy,
    # θ_rollout ← r θ_rollout + (1 - r) θ after every round, which that code's update_params meant.
    rollout_update_rate: float = 0.0
    d_pretrain_rounds: int = SEQGAN_PAPER.d_pretrain_rounds
    # With held-out real sequences given to the trainer: after d_pretrain_rounds, pretraining goes
    # on until the discriminator's held-out accuracy reaches this (None: no target), for at most
    # d_pretrain_max_rounds rounds in all. A near-chance discriminator gives nearly constant rewards.
    d_target_accuracy: float | None = None
    d_pretrain_max_rounds: int = 50
    g_steps: int = 1  # generator steps per adversarial round
    d_steps: int = SEQGAN_PAPER.d_steps  # fresh negative sets per adversarial round
    d_epochs: int = SEQGAN_PAPER.d_epochs  # discriminator epochs per negative set
    # Negatives per set, and as many real sequences drawn without replacement (all of them when
    # there are this many, as in the SeqGAN code).
    d_samples: int = SEQGAN_PAPER.n_sequences
    d_batch_size: int = 64
    eval_every: int = SEQGAN_PAPER.eval_every  # adversarial rounds between evaluations (the SeqGAN code's)
    # Precision of the discriminator when it scores rollouts: "float32" gives the same rewards on every
    # CPU; "bfloat16" and "float16" are faster on GPUs; None: rollout.default_reward_dtype, float32 on
    # a CPU, bfloat16 on GPUs of compute capability >= 8, float16 on 7.x.
    reward_dtype: str | None = None
    cuda_graphs: bool = True  # on CUDA, replay each discriminator step as a CUDA graph
    # Where the policy gradient's rewards come from (one of REWARDS): the GAN, or a placebo of it
    reward: str = "discriminator"
    reward_scale: str = "probability"  # one of REWARD_SCALES
    # subtract each token's leave-one-out baseline (train.dense_rewards.leave_one_out) from its reward;
    # the paper's SeqGAN has none, and log-odds rewards share a large offset that only adds noise
    leave_one_out_baseline: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, positive=("batch_size", "n_rollouts", "g_lr", "d_lr", "clip_norm", "g_steps", "d_steps",
                                     "d_epochs", "d_samples", "d_batch_size", "eval_every"),
                     non_negative=("d_pretrain_rounds", "d_pretrain_max_rounds", "seed"))
        if self.d_target_accuracy is not None and not 0.5 < self.d_target_accuracy < 1:
            raise ValueError(f"d_target_accuracy must lie in (0.5, 1) or be None, got {self.d_target_accuracy}")
        if self.d_pretrain_max_rounds < self.d_pretrain_rounds:
            raise ValueError(f"d_pretrain_max_rounds ({self.d_pretrain_max_rounds}) is below d_pretrain_rounds "
                             f"({self.d_pretrain_rounds})")
        if self.pg_reduction not in ("sum", "mean"):
            raise ValueError(f"pg_reduction must be 'sum' or 'mean', got {self.pg_reduction!r}")
        if not 0 <= self.rollout_update_rate < 1:
            raise ValueError(f"rollout_update_rate must be in [0, 1) (0: the generator itself), "
                             f"got {self.rollout_update_rate}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if self.reward_scale not in REWARD_SCALES:
            raise ValueError(f"reward_scale must be one of {REWARD_SCALES}, got {self.reward_scale!r}")
        if self.reward_dtype is not None and self.reward_dtype not in REWARD_DTYPES:
            raise ValueError(f"reward_dtype must be one of {sorted(REWARD_DTYPES)} or None, got {self.reward_dtype!r}")


def discriminator_optimizer(discriminator: nn.Module, lr: float) -> torch.optim.Adam:
    """The discriminator's Adam. On CUDA it is ``capturable`` (its step count stays on the GPU, so
    that a CUDA graph can replay the update) and ``fused`` (one kernel for all parameters)."""
    on_cuda = next(discriminator.parameters()).is_cuda
    return torch.optim.Adam(discriminator.parameters(), lr=lr, capturable=on_cuda, fused=on_cuda or None)


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, rate: float) -> None:
    """``target ← rate * target + (1 - rate) * source``, parameter by parameter."""
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(rate).add_(s, alpha=1 - rate)


class SeqGANTrainer(AdversarialTrainer):
    """SeqGAN's two phases on ``generator`` (pretrained by MLE) and ``discriminator``, with real
    sequences ``real_tokens`` ``[N, T]`` and samples of ``max_len`` tokens.

    :meth:`pretrain_discriminator` runs the discriminator pretraining rounds (``counters["d_rounds"]``);
    :meth:`run` the adversarial rounds (``step``), recording ``evaluate(generator)`` and saving every
    ``eval_every`` rounds. History rows carry ``phase`` (``d_pretrain`` or ``adversarial``) and
    ``round``; adversarial rows ``g_loss`` (the policy-gradient loss), ``mean_reward``,
    ``g_grad_norm``, ``mean_length`` (of the step's samples), ``d_loss`` and ``d_accuracy``.

    With ``held_out`` real sequences ``[M, T]`` (never trained on), every pretraining row and every
    adversarial evaluation also holds ``d_heldout_accuracy`` (:meth:`held_out_accuracy`, from a
    stream of its own, so measuring changes no training number), and pretraining goes on past
    ``d_pretrain_rounds`` until it reaches ``d_target_accuracy`` (or ``d_pretrain_max_rounds``).
    """

    kind = "seqgan"
    unit = "round"
    name = "SeqGAN"
    plan_fields = ("d_pretrain_rounds", "eval_every")

    config_class = SeqGANConfig

    def setup(self) -> None:
        generator, discriminator, config = self.generator, self.discriminator, self.config
        self.rollout = generator if config.rollout_update_rate == 0 else self._delayed_copy(generator)
        if self.rollout is not generator:
            self.modules["rollout"] = self.rollout
        self.optimizers["generator"] = torch.optim.Adam(generator.parameters(), lr=config.g_lr)
        self.optimizers["discriminator"] = discriminator_optimizer(discriminator, config.d_lr)
        self.rngs["sample"] = self.seeded_rng(config.seed, generator.device)
        self.rngs["shuffle"] = self.seeded_rng(config.seed)
        self.counters["d_rounds"] = 0
        if config.reward == "shuffled":
            self.rngs["reward_shuffle"] = self.seeded_rng(stream_seed(config.seed, "reward_shuffle"), generator.device)
        if self.held_out is not None:  # its own stream, so that measuring leaves the training samples as they were
            self.rngs["held_out"] = self.seeded_rng(stream_seed(config.seed, "seqgan_held_out"), generator.device)
        self._d_step = self._graphed_discriminator_update()
        self.reward_dtype = config.reward_dtype or default_reward_dtype(generator.device)
        self.reward_autocast = REWARD_DTYPES[self.reward_dtype]

    @staticmethod
    def _delayed_copy(generator: LSTMGenerator) -> LSTMGenerator:
        rollout = copy.deepcopy(generator).requires_grad_(False)
        rollout.lstm.flatten_parameters()  # a copy's weights are no longer one cuDNN block
        return rollout

    def position_columns(self) -> dict:
        return {"phase": "adversarial", "round": self.step}

    def record(self, stats: dict[str, float], **position: object) -> None:
        """:meth:`Trainer.record`; an adversarial row (no ``position`` given) also measures the
        discriminator on the held-out sequences, when there are some (``d_heldout_accuracy``)."""
        if not position and self.held_out is not None and "d_heldout_accuracy" not in stats:
            stats = {**stats, "d_heldout_accuracy": self.held_out_accuracy()}
        super().record(stats, **position)

    def after_load(self) -> None:
        self._d_step = self._graphed_discriminator_update()  # recorded graphs point at the old optimizer state

    # -- the discriminator ----------------------------------------------------------------------

    def train_discriminator(self, n_sets: int) -> dict[str, float]:
        """``n_sets`` times: fresh negatives, then ``d_epochs`` epochs on them plus real data.

        Losses are summed on the device and checked once per set, so that no step waits for the
        host (on CUDA each step is a replayed graph). A non-finite loss, or non-finite weights after
        the set (a non-finite gradient reached them), puts the discriminator and its optimizer back
        as they were before the set and raises ``NonFiniteLossError``.
        """
        cfg = self.config
        device = self.real.device
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        steps = seen = 0
        self.discriminator.train()
        for _ in range(n_sets):
            fake = self.generator.sample(cfg.d_samples, self.max_len, rng=self.rngs["sample"])
            real = self.real[self._real_indices(cfg.d_samples).to(device)]
            inputs = torch.cat([real, fake])  # [2 * d_samples, T]
            labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(device)
            before = self._discriminator_snapshot()
            for _ in range(cfg.d_epochs):
                epoch_loss, epoch_correct, epoch_steps = self.discriminator_epoch(inputs, labels)
                loss_sum += epoch_loss
                correct += epoch_correct
                steps += epoch_steps
                seen += len(inputs)
            # one host sync per set: a non-finite loss, or weights that a non-finite gradient reached
            weights_finite = torch.stack([torch.isfinite(p).all() for p in self.discriminator.parameters()]).all()
            if not (torch.isfinite(loss_sum) & weights_finite):
                self._restore_discriminator(before)
                what, value = (("discriminator loss", loss_sum.item()) if not torch.isfinite(loss_sum)
                               else ("discriminator's weights (a non-finite gradient)", float("nan")))
                self.fail(what, value, f"discriminator round {self.counters['d_rounds']}",
                          updated="the discriminator and its optimizer are back as they were before these negatives")
        return {"d_loss": loss_sum.item() / steps, "d_accuracy": correct.item() / seen}

    def _real_indices(self, n: int) -> Tensor:
        """``n`` indices of real sequences, without replacement (cycling through fresh orders if n > len)."""
        parts = []
        while n > 0:
            parts.append(torch.randperm(len(self.real), generator=self.rngs["shuffle"])[:n])
            n -= len(parts[-1])
        return torch.cat(parts)

    def discriminator_epoch(self, inputs: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, int]:
        """One epoch of discriminator steps over ``inputs`` in a fresh order, in minibatches of
        ``d_batch_size``; returns the summed loss and correct count (on the device) and the steps."""
        loss_sum = torch.zeros((), device=inputs.device)
        correct = torch.zeros((), dtype=torch.long, device=inputs.device)
        order = torch.randperm(len(inputs), generator=self.rngs["shuffle"]).to(inputs.device)
        batches = order.split(self.config.d_batch_size)
        for index in batches:
            loss, n_correct = self._d_step(inputs[index], labels[index])
            loss_sum += loss
            correct += n_correct
        return loss_sum, correct, len(batches)

    def discriminator_update(self, inputs: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """One Adam step of the discriminator on a mixed minibatch; returns (loss, correct count),
        both on the device (no host synchronisation, so that it can be recorded as a CUDA graph)."""
        logits = self.discriminator(inputs)  # [B]
        # Binary cross-entropy, real → 1 and fake → 0, plus the paper's L2 penalty.
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels) + self.discriminator.l2_penalty()
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach(), ((logits > 0) == (labels > 0.5)).sum()

    def _graphed_discriminator_update(self) -> GraphedStep:
        return GraphedStep(self.discriminator_update, enabled=self.config.cuda_graphs)

    def _discriminator_snapshot(self) -> tuple[dict, dict]:
        weights = {k: v.clone() for k, v in self.discriminator.state_dict().items()}
        return weights, copy.deepcopy(self.optimizers["discriminator"].state_dict())

    def _restore_discriminator(self, snapshot: tuple[dict, dict]) -> None:
        weights, optimizer_state = snapshot
        self.discriminator.load_state_dict(weights)
        self.optimizers["discriminator"].load_state_dict(optimizer_state)
        self._d_step = self._graphed_discriminator_update()

    @torch.no_grad()
    def held_out_accuracy(self) -> float:
        """The discriminator's accuracy (eval mode) on the held-out real sequences and as many fresh
        samples of the generator."""
        if self.held_out is None:
            raise ValueError("no held-out sequences: pass held_out= to the trainer")
        fake = self.generator.sample(len(self.held_out), self.max_len, rng=self.rngs["held_out"])
        with evaluating(self.discriminator):
            real_right = (self.discriminator(self.held_out) > 0).sum()
            fake_right = (self.discriminator(fake) <= 0).sum()
        return (real_right + fake_right).item() / (2 * len(self.held_out))

    def _pretraining_goes_on(self) -> bool:
        """After ``d_pretrain_rounds``: whether the held-out accuracy is still below the target."""
        cfg = self.config
        if cfg.d_target_accuracy is None or self.held_out is None or self.step > 0:
            return False
        if self.counters["d_rounds"] >= cfg.d_pretrain_max_rounds:
            return False
        rows = [r for r in self.records if r.get("phase") == "d_pretrain"]
        return not rows or rows[-1]["d_heldout_accuracy"] < cfg.d_target_accuracy

    def pretrain_discriminator(self, *, until: int | None = None, more: int | None = None) -> pd.DataFrame:
        """Discriminator pretraining until ``until`` rounds are done in total, or for ``more``
        more; with neither, until the config's ``d_pretrain_rounds`` and then, with held-out
        sequences and a ``d_target_accuracy``, until the held-out accuracy reaches it (at most
        ``d_pretrain_max_rounds`` in all). Saves at the end."""
        if self.config.reward == "fixed_discriminator":
            raise ValueError("this run's discriminator is fixed (reward='fixed_discriminator'): it is never trained")
        done = self.counters["d_rounds"]
        target = training_target(done, until, more, self.config.d_pretrain_rounds, "round")
        for _ in self.progress_bar(range(done, target), "D pretraining"):
            self._pretraining_round()
        if until is None and more is None:
            while self._pretraining_goes_on():
                self._pretraining_round()
        self.save_if_set()
        return self.history

    def _pretraining_round(self) -> None:
        with self.rng_scope():
            stats = self.train_discriminator(1)
            if self.held_out is not None:
                stats["d_heldout_accuracy"] = self.held_out_accuracy()
        self.counters["d_rounds"] += 1
        self.record(stats, phase="d_pretrain", round=self.counters["d_rounds"])

    @property
    def pretraining_done(self) -> bool:
        """Whether :meth:`pretrain_discriminator` (with neither argument) has nothing left to do."""
        if self.step > 0 or self.config.reward == "fixed_discriminator":
            return True
        return self.counters["d_rounds"] >= self.config.d_pretrain_rounds and not self._pretraining_goes_on()

    # -- the generator --------------------------------------------------------------------------

    def generator_step(self) -> dict[str, float]:
        """One policy-gradient step on ``batch_size`` fresh samples with rollout rewards."""
        cfg = self.config
        samples = self.generator.sample(cfg.batch_size, self.max_len, rng=self.rngs["sample"])  # [B, T]
        rewards = rollout_rewards(self.rollout, self.discriminator, samples, cfg.n_rollouts, self.rngs["sample"],
                                  autocast_dtype=self.reward_autocast,
                                  log_odds=cfg.reward_scale == "log_odds")  # [B, T]
        mask = self.generator.mask(samples)  # [B, T]: the tokens up to and including each end
        rewards = self._placebo(rewards, mask)
        if cfg.leave_one_out_baseline:
            rewards = leave_one_out(rewards, mask)
        with evaluating(self.generator):  # the policy that sampled: no dropout (see the module docstring)
            log_probs = -self.generator.token_nll(samples, check_ids=False)  # [B, T]; its own samples
        loss = policy_gradient_loss(log_probs, rewards, mask, reduction=cfg.pg_reduction)
        grad_norm = self.update(loss, "generator", "policy-gradient loss", cfg.clip_norm)
        return {"g_loss": loss.item(), "mean_reward": rewards.mean().item(), "g_grad_norm": grad_norm.item(),
                "mean_length": mask.sum(dim=1).float().mean().item()}

    def run(self, **kwargs: Any) -> pd.DataFrame:
        """:meth:`Trainer.run` of the adversarial rounds (same arguments), after the discriminator's
        pretraining (:meth:`pretrain_discriminator`) when it is not done yet."""
        if not self.pretraining_done:
            self.pretrain_discriminator()
        return super().run(**kwargs)

    def _placebo(self, rewards: Tensor, mask: Tensor) -> Tensor:
        """The rewards ``[B, T]`` a ``shuffled`` or ``constant`` placebo passes on (see :data:`REWARDS`);
        the others pass them unchanged. Only the tokens that ``mask`` ``[B, T]`` keeps take part."""
        if self.config.reward == "constant":
            return ((rewards * mask).sum() / mask.sum()).expand_as(rewards)
        if self.config.reward != "shuffled":
            return rewards
        return shuffled_per_position(rewards, mask, self.rngs["reward_shuffle"])

    def before_run(self) -> None:
        if self.evaluate is not None and not any(r["phase"] == "adversarial" for r in self.records):
            self.record({})

    def train_step(self) -> dict[str, float]:
        """One adversarial round: ``g_steps`` generator steps, then ``d_steps`` discriminator sets."""
        g_stats = [self.generator_step() for _ in range(self.config.g_steps)]
        if self.rollout is not self.generator:
            soft_update(self.rollout, self.generator, self.config.rollout_update_rate)
        if self.config.reward == "fixed_discriminator":
            return g_stats[-1]
        return {**g_stats[-1], **self.train_discriminator(self.config.d_steps)}
