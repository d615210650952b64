r"""Dense rewards for the policy gradient: a discriminator that judges every prefix gives every
token a reward, with no Monte-Carlo rollouts (ScratchGAN, de Masson d'Autume et al. 2019).

With per-token logits :math:`D_t` the reward is :math:`r_t = 2\sigma(D_t) - 1 \in (-1, 1)`, the
return discounts the rewards still to come, :math:`R_t = \sum_{s \ge t} \gamma^{s-t} r_s` (only
the tokens of the sequence, up to and including its end), and a moving average of the batch's
mean return is the baseline, :math:`b \leftarrow \delta b + (1 - \delta)\,\overline{R}`, so the
generator's loss is :math:`-\sum_t (R_t - b) \log p(x_t \mid x_{<t})`. SeqGAN's rollouts
(:mod:`~textgan_lib.train.rollout`) estimate each prefix's reward by completing it many times;
here one pass of the discriminator gives them all.
"""

from __future__ import annotations

import torch
from torch import Tensor


def token_rewards(logits: Tensor, mask: Tensor) -> Tensor:
    """``r_t = 2 sigmoid(D_t) - 1`` ``[B, T]`` from per-token logits, 0 where ``mask`` is False."""
    return (2 * torch.sigmoid(logits.float()) - 1) * mask


def discounted_returns(rewards: Tensor, mask: Tensor, gamma: float) -> Tensor:
    """``R_t = sum_{s >= t} gamma^(s - t) r_s`` ``[B, T]`` over the masked tokens (0 elsewhere)."""
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    rewards = rewards * mask
    returns = torch.zeros_like(rewards)
    running = rewards.new_zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    return returns * mask


def moving_baseline(baseline: float | None, returns: Tensor, mask: Tensor, decay: float) -> float:
    """The baseline after this batch: ``decay * b + (1 - decay) * mean(R)`` over the masked
    tokens; the first batch's mean when there is none yet."""
    mean = float((returns * mask).sum() / mask.sum().clamp_min(1))
    return mean if baseline is None else decay * baseline + (1 - decay) * mean


def leave_one_out(rewards: Tensor, mask: Tensor) -> Tensor:
    """``rewards`` ``[B, T]`` less, at each position, the mean reward of the *other* sequences that
    reach it: REINFORCE's leave-one-out baseline (RLOO, Kool et al. 2019), which does not depend on
    the sequence it is subtracted from, so the gradient stays unbiased, and which removes whatever
    offset the batch's rewards share. A position that one sequence alone reaches keeps its reward;
    what ``mask`` drops is left alone."""
    kept = mask.to(rewards.dtype)
    total, count = (rewards * kept).sum(dim=0), kept.sum(dim=0)  # [T] each
    others = (total - rewards) / (count - 1).clamp_min(1)  # [B, T]
    return torch.where(mask & (count > 1), rewards - others, rewards)


def shuffled_per_position(rewards: Tensor, mask: Tensor, rng: torch.Generator) -> Tensor:
    """The placebo's rewards: at each position, the rewards of the sequences that reach it, in a
    random order of those sequences (the others untouched)."""
    shuffled = rewards.clone()
    for t in range(rewards.shape[1]):
        rows = mask[:, t].nonzero().squeeze(1)
        shuffled[rows, t] = rewards[rows[torch.randperm(len(rows), generator=rng, device=rng.device)], t]
    return shuffled
