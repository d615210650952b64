r"""Gradients through discrete samples: REINFORCE and Gumbel-softmax, on a categorical variable.

For logits :math:`\theta \in \mathbb{R}^K`, :math:`p = \operatorname{softmax}(\theta)` and any
function :math:`f` of a one-hot sample :math:`x`, the gradient of :math:`F(\theta) =
\mathbb{E}_{x \sim p}[f(x)]` is exactly

.. math::  \nabla_\theta F = \sum_k f(e_k) \nabla_\theta p_k = p \odot (f - \bar f), \qquad
           \bar f = \sum_k p_k f(e_k),

but sampling :math:`x` has no derivative, and for a sequence of tokens the sum has
:math:`K^T` terms. Two families of estimators replace it:

- **REINFORCE** (score function): :math:`\nabla F = \mathbb{E}[f(x) \nabla \log p(x)]` with
  :math:`\nabla_\theta \log p(x) = x - p`; unbiased, often high variance. Subtracting a baseline
  :math:`b` that does not depend on :math:`x` keeps it unbiased; here the mean of the *other*
  samples of the batch (leave-one-out), which needs at least two samples.
- **Gumbel-softmax** (Jang et al. 2017; Maddison et al. 2017): :math:`y = \operatorname{softmax}
  ((\theta + g) / \tau)` with Gumbel noise :math:`g`, a differentiable relaxation of a one-hot
  sample; the gradient of :math:`f(y)` is low-variance but biased (:math:`f` is evaluated off the
  one-hot corners), the more so the larger :math:`\tau`. The *straight-through* variant uses the
  hard one-hot sample forwards and the relaxed gradient backwards.

Every estimator here returns ``n_estimates`` independent estimates at once, ``[n_estimates, K]``,
each averaging ``n_samples`` samples.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

OneHotFunction = Callable[[Tensor], Tensor]  # [..., K] (one-hot or relaxed) -> [...]


def gumbel_softmax(logits: Tensor, tau: float, hard: bool = False, rng: torch.Generator | None = None) -> Tensor:
    """A relaxed one-hot sample of the same shape as ``logits``; ``hard`` gives the straight-through version
    (one-hot values, the relaxed sample's gradient)."""
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    uniform = torch.rand(logits.shape, generator=rng, device=logits.device).clamp_(1e-10, 1 - 1e-10)
    gumbel = -torch.log(-torch.log(uniform))
    soft = F.softmax((logits + gumbel) / tau, dim=-1)
    if not hard:
        return soft
    one_hot = F.one_hot(soft.argmax(dim=-1), logits.shape[-1]).to(soft.dtype)
    return one_hot - soft.detach() + soft


def exact_gradient(logits: Tensor, f: OneHotFunction) -> Tensor:
    """:math:`p \\odot (f - \\bar f)`, the true gradient of :math:`E_{x \\sim p}[f(x)]` ``[K]``."""
    p = F.softmax(logits, dim=-1)
    values = f(torch.eye(len(logits)))  # f at every one-hot corner, [K]
    return p * (values - (p * values).sum())


def reinforce_gradient(logits: Tensor, f: OneHotFunction, n_samples: int, n_estimates: int, baseline: bool = False,
                       rng: torch.Generator | None = None) -> Tensor:
    """REINFORCE estimates ``[n_estimates, K]``, optionally with the leave-one-out baseline."""
    if baseline and n_samples < 2:
        raise ValueError("the leave-one-out baseline needs n_samples >= 2")
    p = F.softmax(logits, dim=-1)
    K = len(logits)
    x = torch.multinomial(p.expand(n_estimates, K), n_samples, replacement=True, generator=rng)  # [R, N]
    one_hot = F.one_hot(x, K).to(p.dtype)  # [R, N, K]
    reward = f(one_hot)  # [R, N]
    if baseline:
        reward = reward - (reward.sum(dim=1, keepdim=True) - reward) / (n_samples - 1)
    score = one_hot - p  # the gradient of log p(x), [R, N, K]
    return (reward[..., None] * score).mean(dim=1)


def gumbel_gradient(logits: Tensor, f: OneHotFunction, n_samples: int, n_estimates: int, tau: float,
                    straight_through: bool = False, rng: torch.Generator | None = None) -> Tensor:
    """Gumbel-softmax estimates ``[n_estimates, K]`` of the gradient of :math:`E[f(x)]`."""
    theta = logits.detach().expand(n_estimates, len(logits)).clone().requires_grad_()  # one copy per estimate
    y = gumbel_softmax(theta[:, None, :].expand(-1, n_samples, -1), tau, hard=straight_through, rng=rng)
    (grad,) = torch.autograd.grad(f(y).mean(dim=1).sum(), theta)
    return grad
