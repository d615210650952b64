r"""GAN losses, each with its formula; plus the policy-gradient loss of sequence GANs.

Notation: a discriminator outputs a *logit* :math:`d(x)`; :math:`D(x) = \sigma(d(x))` is its
probability that :math:`x` is real. :math:`x_r` are real samples, :math:`x_f = G(z)` generated ones.
All functions take logits (numerically stable through ``softplus``: :math:`-\log \sigma(a) =
\operatorname{softplus}(-a)`) and return a scalar mean over the batch.

Minimax GAN (Goodfellow et al. 2014), the two-player game
:math:`\min_G \max_D \; \mathbb{E}[\log D(x_r)] + \mathbb{E}[\log(1 - D(x_f))]`:

.. math::  L_D = -\mathbb{E}[\log D(x_r)] - \mathbb{E}[\log(1 - D(x_f))], \qquad
           L_G^{\text{minimax}} = \mathbb{E}[\log(1 - D(x_f))].

The minimax generator loss *saturates*: when :math:`D` confidently rejects the fakes,
:math:`\log(1 - D(x_f))` is flat and its gradient vanishes. The **non-saturating** loss has the
same fixed point but a strong gradient exactly then:

.. math::  L_G^{\text{NS}} = -\mathbb{E}[\log D(x_f)].

Relativistic standard GAN (RSGAN, Jolicoeur-Martineau 2019) judges whether real data is *more*
real than fake data, on random real–fake pairs:

.. math::  L_D^{\text{RS}} = -\mathbb{E}[\log \sigma(d(x_r) - d(x_f))], \qquad
           L_G^{\text{RS}} = -\mathbb{E}[\log \sigma(d(x_f) - d(x_r))].

Wasserstein GAN with gradient penalty (WGAN-GP; Gulrajani et al. 2017): the critic :math:`f`
outputs a score, not a probability, and estimates the Wasserstein-1 distance
:math:`\mathbb{E}[f(x_r)] - \mathbb{E}[f(x_f)]` over 1-Lipschitz functions, the constraint kept
softly by a penalty on the gradient norm at random points :math:`\hat x = \epsilon x_r + (1 -
\epsilon) x_f` between real and fake samples:

.. math::  L_f = \mathbb{E}[f(x_f)] - \mathbb{E}[f(x_r)] + \lambda\, \mathbb{E}\big[(\|\nabla_{\hat x}
           f(\hat x)\|_2 - 1)^2\big], \qquad L_G^{\text{W}} = -\mathbb{E}[f(x_f)].

Policy gradient (REINFORCE; Williams 1992), for a generator that *samples* discrete tokens
:math:`y_t` and receives a reward :math:`Q_t` for each (SeqGAN: the discriminator's verdict on
completions of the prefix :math:`y_{1:t}`):

.. math::  L_G^{\text{PG}} = -\sum_{n,t} Q_{n,t}\, \log G(y_{n,t} \mid y_{n,<t}),

whose gradient is an unbiased estimate of :math:`-\nabla_\theta \mathbb{E}_{y \sim G}[Q]` (times the
batch size). The rewards are constants: no gradient flows into them. The SeqGAN code sums over
batch and tokens, as here (``reduction="sum"``); ``"mean"`` divides by the number of real tokens
:math:`N`. The choice matters once gradients are clipped: the SeqGAN code clips the sum's global
norm at 5, which a mean's gradient, :math:`N` times smaller, rarely reaches.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """:math:`L_D`: binary cross-entropy with real → 1 and fake → 0 (minimax and non-saturating GANs)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    """:math:`L_G^{minimax} = E[\\log(1 - D(x_f))]`: the original, saturating generator loss."""
    return -F.softplus(fake_logits).mean()


def nonsaturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """:math:`L_G^{NS} = -E[\\log D(x_f)]`: the generator loss used in practice."""
    return F.softplus(-fake_logits).mean()


def rsgan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """:math:`L_D^{RS} = -E[\\log \\sigma(d(x_r) - d(x_f))]`, pairing the i-th real with the i-th fake."""
    return F.softplus(-(real_logits - fake_logits)).mean()


def rsgan_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """:math:`L_G^{RS} = -E[\\log \\sigma(d(x_f) - d(x_r))]`."""
    return F.softplus(-(fake_logits - real_logits)).mean()


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """:math:`E[f(x_f)] - E[f(x_r)]`: minus the critic's estimate of the Wasserstein distance."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """:math:`L_G^{W} = -E[f(x_f)]`."""
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     rng: torch.Generator | None = None) -> Tensor:
    """:math:`E[(\\|\\nabla f(\\hat x)\\|_2 - 1)^2]` at random interpolates of ``real`` and ``fake`` ``[B, D]``
    (one :math:`\\epsilon \\sim U(0, 1)` per pair), differentiable with respect to the critic's weights."""
    if real.shape != fake.shape or real.dim() != 2:
        raise ValueError(f"expected real and fake of the same shape [B, D], got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    epsilon = torch.rand(len(real), 1, generator=rng, device=real.device, dtype=real.dtype)
    points = (epsilon * real.detach() + (1 - epsilon) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(points).sum(), points, create_graph=True)  # [B, D]
    return (grad.norm(dim=1) - 1).pow(2).mean()


def policy_gradient_loss(token_log_probs: Tensor, rewards: Tensor, mask: Tensor | None = None,
                         reduction: str = "sum") -> Tensor:
    """:math:`L^{PG}`: ``token_log_probs`` and ``rewards`` ``[B, T]``; ``mask`` drops padding.

    ``reduction``: ``"sum"`` over batch and tokens (the SeqGAN code) or ``"mean"`` per real token.
    Rewards are detached, so the gradient is exactly the REINFORCE estimator.
    """
    if token_log_probs.shape != rewards.shape:
        raise ValueError(f"log-probs {tuple(token_log_probs.shape)} and rewards {tuple(rewards.shape)} must match")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    weighted = token_log_probs * rewards.detach()
    if mask is not None:
        weighted = weighted * mask
    total = -weighted.sum()
    if reduction == "sum":
        return total
    return total / (weighted.numel() if mask is None else mask.sum())
