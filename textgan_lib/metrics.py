"""Likelihood metrics for language models.

The model's mean negative log-likelihood per token on held-out data,

.. math::  \\mathrm{NLL} = -\\frac{1}{N} \\sum_{n} \\sum_{t \\le T_n} \\log p_\\theta(y_{n,t} \\mid y_{n,<t}),

with :math:`N` the number of real (non-pad) tokens, ``<eos>`` included; and the perplexity
:math:`\\exp(\\mathrm{NLL})`, the size of a uniform choice that would be as uncertain.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .generator import LSTMGenerator


@torch.no_grad()
def mean_token_nll(model: LSTMGenerator, tokens: Tensor, batch_size: int = 1024) -> float:
    """Mean NLL per real token (nats) of ``tokens`` ``[N, T]`` under ``model``, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        total, count = 0.0, 0
        for batch in tokens.split(batch_size):
            batch = batch.to(model.device)
            total += model.token_nll(batch).sum().item()
            count += int(model.mask(batch).sum())
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("no tokens to evaluate: the data is empty")
    return total / count


def perplexity(nll: float) -> float:
    """``exp(nll)`` for a mean NLL in nats."""
    return math.exp(nll)
