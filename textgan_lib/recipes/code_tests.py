"""Chapter 11's tests in code space: can a code GAN's codes be told from real ones?

Decoded text hides much of the difference between two code distributions (a decoder maps many
codes to one generic sentence), so the codes are compared where they live, each candidate set
against held-out real codes (the encoder's codes of validation texts) by three statistics with
bootstrap intervals: the MMD with one fixed kernel, the 1-nearest-neighbour two-sample accuracy
(:mod:`textgan_lib.eval.two_sample`) and a held-out critic's Wasserstein estimate
(:mod:`textgan_lib.train.critic_estimate`).
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import Tensor

from .._seeds import stream
from ..data.corpora import TextSplits
from ..eval.two_sample import Interval, bootstrap, median_bandwidth, mmd2, nearest_neighbour_interval
from ..models.autoencoder import LSTMAutoencoder, encode_all
from ..models.code_gan import CodeGenerator, gaussian_codes
from ..train.critic_estimate import critic_wasserstein

CONTROL, GAN, GAUSSIAN_FULL, GAUSSIAN_DIAGONAL = (
    "training codes (control)", "the GAN", "Gaussian, full covariance", "Gaussian, diagonal")


def code_space_tests(held_out: Tensor, candidates: dict[str, Tensor], *, seed: int = 0, resamples: int = 100,
                     critic_steps: int = 1000) -> tuple[pd.DataFrame, float]:
    """One row per candidate set of codes ``[n, H]`` against ``held_out`` ``[m, H]``: ``mmd2``,
    ``nn_accuracy`` and ``wasserstein``, each with ``_low`` and ``_high`` (95 % bootstrap
    interval, ``resamples`` resamples; the critic trained ``critic_steps`` steps), and the kernel
    width (the median heuristic on ``held_out``, the same for every candidate). Runs on the CPU."""
    held_out = held_out.detach().float().cpu()
    bandwidth = median_bandwidth(held_out)

    def mmd(x: Tensor, y: Tensor, **ids: Tensor) -> float:
        return mmd2(x, y, bandwidth, **ids)

    rows = {}
    for name, codes in candidates.items():
        codes = codes.detach().float().cpu()
        rng = stream(seed, "resampling")
        statistics: dict[str, Interval] = {
            "mmd2": bootstrap(mmd, held_out, codes, resamples=resamples, rng=rng),
            "nn_accuracy": nearest_neighbour_interval(held_out, codes, resamples=resamples, rng=rng),
            "wasserstein": critic_wasserstein(held_out, codes, steps=critic_steps, seed=seed, resamples=resamples),
        }
        rows[name] = {f"{key}{suffix}": getattr(interval, field) for key, interval in statistics.items()
                      for suffix, field in (("", "value"), ("_low", "low"), ("_high", "high"))}
    return pd.DataFrame(rows).T, bandwidth


def code_candidates(autoencoder: LSTMAutoencoder, generator: CodeGenerator, data: TextSplits, n: int,
                    seed: int = 0) -> tuple[Tensor, dict[str, Tensor]]:
    """The held-out real codes (the autoencoder's codes of ``n`` validation texts) and ``n`` codes
    from each candidate: training texts' codes (a control that should be indistinguishable), the
    code GAN, the Gaussian fit of the training codes with full covariance, and with its diagonal
    only. Every draw is seeded from ``seed``."""
    train = encode_all(autoencoder, data.train.tokens)  # [N, H]
    device = train.device
    pick = torch.randperm(len(train), generator=stream(seed, "data"))[:n]
    with torch.no_grad():
        gan = generator.sample(n, rng=stream(seed, "code_test_gan", device))

    def gaussian(diagonal: bool) -> Tensor:
        rng = stream(seed, "gaussian_codes", device)
        return gaussian_codes(train, 1.0, n, rng=rng, diagonal=diagonal)

    held_out = encode_all(autoencoder, data.valid.tokens[:n])
    return held_out, {CONTROL: train[pick.to(device)], GAN: gan, GAUSSIAN_FULL: gaussian(False),
                      GAUSSIAN_DIAGONAL: gaussian(True)}
