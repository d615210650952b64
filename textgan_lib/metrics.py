"""Metrics for language models and their samples.

The model's mean negative log-likelihood per token on held-out data,

.. math::  \\mathrm{NLL} = -\\frac{1}{N} \\sum_{n} \\sum_{t \\le T_n} \\log p_\\theta(y_{n,t} \\mid y_{n,<t}),

with :math:`N` the number of real (non-pad) tokens, ``<eos>`` included; and the perplexity
:math:`\\exp(\\mathrm{NLL})`, the size of a uniform choice that would be as uncertain. Plus two
diversity measures on token sequences: distinct-n and the rate of repeated n-grams.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

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
            batch = model.trim(batch.to(model.device))
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


def _ngrams(tokens: Sequence[str | int], n: int) -> list[tuple]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(sequences: Iterable[Sequence[str | int]], n: int) -> float:
    """Unique n-grams over all n-grams in ``sequences`` (1.0: no n-gram repeats anywhere)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    all_ngrams = [g for seq in sequences for g in _ngrams(seq, n)]
    if not all_ngrams:
        raise ValueError(f"no sequence is long enough to hold an {n}-gram")
    return len(set(all_ngrams)) / len(all_ngrams)


def repeated_ngram_rate(sequences: Iterable[Sequence[str | int]], n: int = 2) -> float:
    """Share of sequences in which some n-gram occurs more than once (a symptom of degenerate loops)."""
    flags = [len(set(grams)) < len(grams) for grams in (_ngrams(seq, n) for seq in sequences)]
    if not flags:
        raise ValueError("no sequences given")
    return sum(flags) / len(flags)
