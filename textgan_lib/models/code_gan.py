"""The two networks of a GAN on sentence codes: a generator of codes on the unit sphere, and a critic."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .autoencoder import LSTMAutoencoder
from .layers import mlp
from .modes import evaluating


class CodeGenerator(nn.Module):
    """Noise ``[B, noise_dim]`` → codes ``[B, code_dim]`` on the unit sphere (where the encoder's codes live)."""

    def __init__(self, noise_dim: int, code_dim: int, hidden_dim: int = 300, layers: int = 3) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.net = mlp(noise_dim, code_dim, hidden_dim, layers)

    def forward(self, noise: Tensor) -> Tensor:
        return F.normalize(self.net(noise), dim=1)

    def sample(self, n: int, *, rng: torch.Generator | None = None) -> Tensor:
        """``n`` codes ``[n, code_dim]`` from fresh noise."""
        device = next(self.parameters()).device
        return self(torch.randn(n, self.noise_dim, generator=rng, device=device))


def code_critic(code_dim: int, hidden_dim: int = 300, layers: int = 3) -> nn.Sequential:
    """An MLP scoring codes: ``[B, code_dim]`` → ``[B, 1]``."""
    return mlp(code_dim, 1, hidden_dim, layers)


@torch.no_grad()
def generate(autoencoder: LSTMAutoencoder, generator: CodeGenerator, n: int, max_len: int, *,
             rng: torch.Generator | None = None, temperature: float = 1.0) -> Tensor:
    """``n`` sentences ``[n, max_len]``: noise → code generator → code → decoder at ``temperature``
    (0: greedy), in eval mode."""
    with evaluating(autoencoder, generator):
        return autoencoder.decode(generator.sample(n, rng=rng), max_len, rng=rng, temperature=temperature)


def gaussian_codes(codes: Tensor, scale: float, n: int, *, rng: torch.Generator | None = None,
                   diagonal: bool = False) -> Tensor:
    """``n`` codes ``[n, H]`` from :math:`\\mathcal N(\\mu, s^2\\Sigma)`, the Gaussian fit of ``codes``
    ``[N, H]`` with its covariance scaled by ``scale`` :math:`= s`, projected onto the unit sphere
    (where the autoencoder's codes live): the baseline a code GAN must beat. :math:`s` plays the
    part of a temperature. Draws ``z ~ N(0, I)`` from ``rng`` and returns
    :math:`\\mu + s L z` normalised, with :math:`LL^\\top = \\Sigma + 10^{-5} I`. ``diagonal``: the
    weaker fit that keeps only the variances, :math:`\\Sigma = \\mathrm{diag}(\\sigma^2_1, \\dots, \\sigma^2_H)`."""
    if codes.dim() != 2 or len(codes) < 2:
        raise ValueError(f"expected codes [N, H] with N >= 2 to fit a Gaussian, got shape {tuple(codes.shape)}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    jitter = 1e-5 * torch.eye(codes.shape[1], device=codes.device, dtype=codes.dtype)
    covariance = torch.cov(codes.T)  # [H, H]
    if diagonal:
        covariance = torch.diag(covariance.diagonal())
    cholesky = torch.linalg.cholesky(covariance + jitter)  # [H, H]
    z = torch.randn(n, codes.shape[1], generator=rng, device=codes.device, dtype=codes.dtype)  # [n, H]
    return F.normalize(codes.mean(0) + scale * z @ cholesky.T, dim=1)
