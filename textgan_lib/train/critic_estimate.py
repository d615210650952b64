r"""A Wasserstein distance estimated by a critic trained for the purpose (not the GAN's own).

Kantorovich–Rubinstein duality, :math:`W_1(P, Q) = \sup_{\|f\|_L \le 1} E_P[f] - E_Q[f]`: a critic
trained to maximise :math:`E_P[f] - E_Q[f]` under a gradient penalty (WGAN-GP, Gulrajani et al.
2017) on one half of each set gives, on the other half, an estimate of :math:`W_1` that is not
fitted to the points it is measured on (a lower bound in expectation when the critic is
1-Lipschitz). A GAN's own critic would not do: it was trained against that generator, and on
those samples. Its interval is a bootstrap over the held-out halves with the critic fixed (the
critic's own training noise is not in it; repeat over seeds for that).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._seeds import seeded
from ..eval.two_sample import Interval, percentile_interval
from ..models.code_gan import code_critic
from .losses import gradient_penalty, wasserstein_critic_loss


def critic_wasserstein(real: Tensor, fake: Tensor, *, steps: int = 1000, batch_size: int = 256,
                       hidden_dim: int = 128, lr: float = 1e-4, gp_weight: float = 10.0, seed: int = 0,
                       resamples: int = 200, level: float = 0.95) -> Interval:
    """The held-out critic estimate of :math:`W_1` between ``real`` ``[m, D]`` and ``fake`` ``[n, D]``.

    Each set is split in two at random; a 3-layer MLP critic is trained for ``steps`` Adam steps
    (betas 0.5, 0.9) on ``batch_size`` pairs from the first halves with the gradient penalty
    weighted ``gp_weight``; the estimate is :math:`\\bar f(\\text{real}_2) - \\bar f(\\text{fake}_2)`
    on the second halves, with its bootstrap interval. It runs on the CPU; every draw comes from
    the seeded generator, and torch's global random state is left as it was."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"expected two sets of points [m, D] and [n, D], got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    if min(len(real), len(fake)) < 4:
        raise ValueError(f"each set needs at least 4 points (2 to train on, 2 to measure), got {len(real)} and "
                         f"{len(fake)}")
    real, fake = real.detach().float().cpu(), fake.detach().float().cpu()  # codes are small: the CPU
    rng = torch.Generator().manual_seed(seed)
    real_order, fake_order = torch.randperm(len(real), generator=rng), torch.randperm(len(fake), generator=rng)
    real_train, real_test = real[real_order[: len(real) // 2]], real[real_order[len(real) // 2:]]
    fake_train, fake_test = fake[fake_order[: len(fake) // 2]], fake[fake_order[len(fake) // 2:]]
    with seeded(seed):
        critic = code_critic(real.shape[1], hidden_dim)
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    batch = min(batch_size, len(real_train), len(fake_train))
    for _ in range(steps):
        r = real_train[torch.randint(len(real_train), (batch,), generator=rng)]
        f = fake_train[torch.randint(len(fake_train), (batch,), generator=rng)]
        loss = wasserstein_critic_loss(critic(r), critic(f)) + gp_weight * gradient_penalty(critic, r, f, rng=rng)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        real_scores, fake_scores = critic(real_test).squeeze(1), critic(fake_test).squeeze(1)
    estimates = []
    for _ in range(resamples):
        ir = torch.randint(len(real_scores), (len(real_scores),), generator=rng)
        i_f = torch.randint(len(fake_scores), (len(fake_scores),), generator=rng)
        estimates.append(float(real_scores[ir].mean() - fake_scores[i_f].mean()))
    return percentile_interval(float(real_scores.mean() - fake_scores.mean()), estimates, level)
