"""ScratchGAN (de Masson d'Autume et al. 2019): an LSTM generator trained by policy gradient on
**dense** per-token rewards from an LSTM discriminator, large batches and no rollouts, from a
randomly initialised generator (or, for a fair comparison with SeqGAN, from an MLE model).

Each iteration (:meth:`ScratchGANTrainer.train_step`):

1. **generator**: sample ``batch_size`` sequences, score every prefix with the discriminator
   (:class:`~textgan_lib.models.discriminators.TokenLSTMDiscriminator`), turn the logits into
   rewards, discounted returns and advantages over a moving baseline
   (:mod:`~textgan_lib.train.dense_rewards`), and take one REINFORCE step on
   ``-(R_t - b) log p(x_t)`` averaged over the tokens;
2. **discriminator**: one step of per-token sigmoid cross-entropy on a batch of real sequences
   (label 1) and the generator's (label 0), each weighted one half, masked after each sequence's
   end, plus an L2 penalty on its weights.

Adam with beta1 = 0.5 for both, the discriminator's learning rate far above the generator's (the
paper: 9.38e-3 against 9.59e-5). ``reward="shuffled"`` is the placebo: each token position's
rewards permuted across the batch's sequences that reach it, so the rewards keep their
distribution and lose their tie to the sequence. The paper's GloVe embeddings are not used (no
download here): the embeddings are trained. Dropout is off for the generator, as in SeqGAN's
trainer (the policy that samples is the one whose log-probabilities get the gradient).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_config
from .._seeds import stream_seed
from ..models.generator import LSTMGenerator
from ..models.modes import evaluating
from .adversarial import AdversarialTrainer, heldout_discrimination
from .dense_rewards import discounted_returns, moving_baseline, shuffled_per_position, token_rewards


@dataclass(frozen=True)
class ScratchGANConfig:
    batch_size: int = 512
    g_lr: float = 9.59e-5
    d_lr: float = 9.38e-3
    adam_betas: tuple[float, float] = (0.5, 0.999)
    gamma: float = 0.23  # the returns' discount
    baseline_decay: float = 0.08  # b <- decay * b + (1 - decay) * mean(R)
    d_l2: float = 1e-6  # L2 penalty on the discriminator's weights
    clip_norm: float | None = None  # the generator's gradient norm (None: not clipped, as in the paper)
    eval_every: int = 100
    reward: str = "discriminator"  # or "shuffled", the placebo
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, positive=("batch_size", "g_lr", "d_lr", "eval_every"),
                     non_negative=("d_l2", "seed"), optional_positive=("clip_norm",))
        if not 0 <= self.gamma <= 1 or not 0 <= self.baseline_decay < 1:
            raise ValueError(f"ScratchGANConfig.gamma must lie in [0, 1] and baseline_decay in [0, 1), got "
                             f"{self.gamma} and {self.baseline_decay}")
        if self.reward not in ("discriminator", "shuffled"):
            raise ValueError(f"ScratchGANConfig.reward must be 'discriminator' or 'shuffled', got {self.reward!r}")


class ScratchGANTrainer(AdversarialTrainer):
    """ScratchGAN's iterations (see the module docstring) on ``generator`` against a per-token
    ``discriminator``, with real sequences ``real_tokens`` ``[N, T]`` and samples of ``max_len``.

    History rows every ``eval_every`` iterations: ``g_loss``, ``mean_reward``, ``mean_return``,
    ``baseline``, ``g_grad_norm``, ``mean_length``, ``d_loss``, ``d_accuracy`` (per token, on the
    step's batch) and, with ``held_out`` real sequences, ``d_heldout_accuracy`` and
    ``d_heldout_auc`` (each sequence judged by its last token's logit). The baseline is kept in
    the run's checkpoint (``carried``), so a resumed run continues it exactly."""

    kind = "scratchgan"
    unit = "iteration"
    name = "ScratchGAN"

    config_class = ScratchGANConfig

    def setup(self) -> None:
        config, device = self.config, self.generator.device
        self.add_adam()
        self.rngs["sample"] = self.seeded_rng(config.seed, device)
        self.rngs["batch"] = self.seeded_rng(config.seed)
        if config.reward == "shuffled":
            self.rngs["reward_shuffle"] = self.seeded_rng(stream_seed(config.seed, "reward_shuffle"), device)
        if self.held_out is not None:
            self.rngs["held_out"] = self.seeded_rng(stream_seed(config.seed, "seqgan_held_out"), device)
        self.carried["baseline"] = None  # the moving baseline: saved and resumed with the run

    def position_columns(self) -> dict:
        return {"iteration": self.step}

    def advice(self) -> str:
        return f"Try lower learning rates (g_lr={self.config.g_lr}, d_lr={self.config.d_lr})."

    def train_step(self) -> dict[str, float]:
        return {**self.generator_step(), **self.discriminator_step()}

    def _logits(self, tokens: Tensor) -> Tensor:
        return self.discriminator(tokens).float()  # [B, T]

    def generator_step(self) -> dict[str, float]:
        cfg = self.config
        samples = self.generator.sample(cfg.batch_size, self.max_len, rng=self.rngs["sample"])  # [B, T]
        mask = self.generator.mask(samples)
        with torch.no_grad(), evaluating(self.discriminator):
            rewards = token_rewards(self._logits(samples), mask)
        if cfg.reward == "shuffled":
            rewards = shuffled_per_position(rewards, mask, self.rngs["reward_shuffle"])
        returns = discounted_returns(rewards, mask, cfg.gamma)
        baseline = self.carried["baseline"] = moving_baseline(self.carried["baseline"], returns, mask,
                                                              cfg.baseline_decay)
        with evaluating(self.generator):
            log_probs = -self.generator.token_nll(samples, check_ids=False)  # [B, T]
        loss = -((returns - baseline) * log_probs * mask).sum() / mask.sum()
        grad_norm = self.update(loss, "generator", "policy-gradient loss", cfg.clip_norm)
        return {"g_loss": loss.item(), "mean_reward": float(rewards.sum() / mask.sum()),
                "mean_return": float(returns.sum() / mask.sum()), "baseline": baseline,
                "g_grad_norm": grad_norm.item(), "mean_length": mask.sum(dim=1).float().mean().item()}

    def discriminator_step(self) -> dict[str, float]:
        cfg = self.config
        index = torch.randint(len(self.real), (cfg.batch_size,), generator=self.rngs["batch"])
        real = self.real[index.to(self.real.device)]
        fake = self.generator.sample(cfg.batch_size, self.max_len, rng=self.rngs["sample"])
        self.discriminator.train()
        losses, right, counted = [], 0.0, 0.0
        for tokens, label in ((real, 1.0), (fake, 0.0)):
            mask = self.generator.mask(tokens)
            logits = self._logits(tokens)
            per_token = F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label), reduction="none")
            losses.append((per_token * mask).sum() / mask.sum())
            right += float((((logits > 0).float() == label).float() * mask).sum())
            counted += float(mask.sum())
        l2 = sum(p.square().sum() for p in self.discriminator.parameters())
        loss = 0.5 * (losses[0] + losses[1]) + cfg.d_l2 * l2
        self.update(loss, "discriminator", "discriminator loss")
        return {"d_loss": loss.item(), "d_accuracy": right / counted}

    def measure(self) -> dict[str, float]:
        if self.held_out is None:
            return {}
        fake = self.generator.sample(len(self.held_out), self.max_len, rng=self.rngs["held_out"])
        judged = _LastTokenJudge(self.discriminator, self.generator)
        measured = heldout_discrimination(judged, self.held_out, fake)
        return {"d_heldout_accuracy": measured["accuracy"], "d_heldout_auc": measured["auc"]}


class _LastTokenJudge(nn.Module):
    """A per-token discriminator read as a sequence classifier: the logit at each sequence's last
    token (its ``<eos>``, or the last position)."""

    def __init__(self, discriminator: nn.Module, generator: LSTMGenerator) -> None:
        super().__init__()
        self.discriminator = discriminator
        self._mask = generator.mask

    def forward(self, tokens: Tensor) -> Tensor:
        last = (self._mask(tokens).sum(dim=1) - 1).clamp_min(0)  # [B]
        return self.discriminator(tokens).float().gather(1, last[:, None]).squeeze(1)
