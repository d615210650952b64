"""A GAN on points in the plane: the 2-D ring of Gaussians, where mode collapse can be seen.

The data are a mixture of ``n_modes`` Gaussians (standard deviation ``std``) on a circle; a
generator MLP maps noise to points and a discriminator MLP maps points to a logit. Two numbers
measure a generator (Srivastava et al. 2017): the share of *high-quality* samples, those within
three standard deviations of some mode, and the number of *modes covered*, those that receive at
least ``min_share`` of the samples as high-quality samples.
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
import torch
from torch import Tensor

from ..models.layers import mlp
from ..train.losses import (
    discriminator_loss,
    minimax_generator_loss,
    nonsaturating_generator_loss,
    rsgan_discriminator_loss,
    rsgan_generator_loss,
)


def ring_modes(n_modes: int = 8, radius: float = 2.0) -> Tensor:
    """The ``[n_modes, 2]`` centres, evenly spaced on a circle."""
    angles = torch.arange(n_modes) * (2 * math.pi / n_modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def sample_ring(n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.02,
                rng: torch.Generator | None = None) -> Tensor:
    """``[n, 2]`` points from the ring mixture, every mode equally likely."""
    centres = ring_modes(n_modes, radius)
    which = torch.randint(n_modes, (n,), generator=rng)
    return centres[which] + std * torch.randn(n, 2, generator=rng)


def mode_statistics(points: Tensor, n_modes: int = 8, radius: float = 2.0, std: float = 0.02,
                    min_share: float = 0.008) -> dict[str, float]:
    """``high_quality``: share of points within 3 std of a mode; ``modes_covered``: modes with at least
    ``min_share`` of all points as high-quality samples; ``mode_k``: the share of all points that are
    high-quality samples of mode k."""
    distances = torch.cdist(points, ring_modes(n_modes, radius))  # [n, n_modes]
    nearest = distances.min(dim=1)
    good = nearest.values < 3 * std
    per_mode = torch.bincount(nearest.indices[good], minlength=n_modes)
    shares = {f"mode_{k}": (per_mode[k] / len(points)).item() for k in range(n_modes)}
    return {"high_quality": good.float().mean().item(),
            "modes_covered": int((per_mode >= min_share * len(points)).sum()), **shares}


def train_toy_gan(
    generator_loss: Literal["minimax", "nonsaturating", "rsgan"],
    steps: int,
    *,
    noise_dim: int = 16,
    batch_size: int = 256,
    lr: float = 1e-3,
    eval_every: int = 100,
    n_eval: int = 2500,
    snapshot_steps: tuple[int, ...] = (),
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[int, Tensor]]:
    """Train a generator/discriminator pair on the ring; returns the history (step, losses, mode
    statistics of ``n_eval`` samples) and ``{step: samples}`` at ``snapshot_steps``.

    ``"minimax"`` and ``"nonsaturating"`` pair the binary cross-entropy discriminator with the
    generator loss of that name; ``"rsgan"`` trains both players with the relativistic standard
    losses (Jolicoeur-Martineau 2019), on the i-th real and i-th fake of each batch."""
    if generator_loss not in ("minimax", "nonsaturating", "rsgan"):
        raise ValueError(f"generator_loss must be 'minimax', 'nonsaturating' or 'rsgan', got {generator_loss!r}")
    relativistic = generator_loss == "rsgan"
    d_objective = rsgan_discriminator_loss if relativistic else discriminator_loss
    g_objective = {"minimax": lambda real, fake: minimax_generator_loss(fake),
                   "nonsaturating": lambda real, fake: nonsaturating_generator_loss(fake),
                   "rsgan": rsgan_generator_loss}[generator_loss]
    with torch.random.fork_rng():  # seeded draws that leave the caller's random stream alone
        torch.manual_seed(seed)
        rng = torch.Generator().manual_seed(seed)
        G, D = mlp(noise_dim, 2), mlp(2, 1)
        g_opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
        eval_noise = torch.randn(n_eval, noise_dim, generator=torch.Generator().manual_seed(-1 - seed))
        rows, snapshots = [], {}
        for step in range(1, steps + 1):
            real = sample_ring(batch_size, rng=rng)
            fake = G(torch.randn(batch_size, noise_dim, generator=rng))
            real_logits = D(real).squeeze(1)
            d_loss = d_objective(real_logits, D(fake.detach()).squeeze(1))
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = g_objective(D(real).squeeze(1), D(fake).squeeze(1))
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            if step % eval_every == 0 or step in snapshot_steps:
                with torch.no_grad():
                    samples = G(eval_noise)
                if step % eval_every == 0:
                    rows.append({"loss": generator_loss, "step": step, "d_loss": d_loss.item(), "g_loss": g_loss.item(),
                                 **mode_statistics(samples)})
                if step in snapshot_steps:
                    snapshots[step] = samples
        return pd.DataFrame(rows), snapshots
