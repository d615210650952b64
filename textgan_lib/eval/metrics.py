"""Metrics for language models and their samples.

The model's mean negative log-likelihood per token on held-out data (``NLL_test``; called
``NLL_gen`` when the held-out data are an oracle's samples),

.. math::  \\mathrm{NLL} = -\frac{1}{N} \\sum_{n} \\sum_{t \\le T_n} \\log p_\\theta(y_{n,t} \\mid y_{n,<t}),

with :math:`N` the number of real (non-pad) tokens, ``<eos>`` included; and the perplexity
:math:`\\exp(\\mathrm{NLL})`, the size of a uniform choice that would be as uncertain. On synthetic
data, ``NLL_oracle`` (the oracle's NLL of the model's samples: quality) and ``NLL_div`` (the model's
NLL of its own samples under the distribution it sampled from: its entropy rate, diversity); on
any data, distinct-n and the rate of repeated n-grams. BLEU
and Self-BLEU live in ``textgan_lib.bleu``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd
import torch
from torch import Tensor

from ..models.generator import LSTMGenerator
from ..models.modes import evaluating
from ..models.oracle import OracleLSTM

# matching a point to a curve is a verdict's statistics; the chapters import it from here too
from .verdicts import OutsideSweepError as OutsideSweepError
from .verdicts import TemperatureMatch as TemperatureMatch
from .verdicts import temperature_matched as temperature_matched


@torch.no_grad()
def mean_token_nll(model: LSTMGenerator, tokens: Tensor, batch_size: int = 1024,
                   **sampling: float | int | None) -> float:
    """Mean NLL per real token (nats) of ``tokens`` ``[N, T]`` under ``model``, in eval mode.

    ``sampling`` (``temperature``, ``top_k``, ``top_p``) scores under the distribution that
    ``model.sample`` draws from with those arguments: the tempered model (temperature is part of
    the model, Caccia et al. 2020), e.g. the NLL_test of a model that is sampled at τ = 0.8.
    """
    total, count = 0.0, 0
    with evaluating(model):
        for batch in tokens.split(batch_size):
            batch = model.trim(batch.to(model.device))
            total += model.token_nll(batch, **sampling).sum().item()
            count += int(model.mask(batch).sum())
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


def nll_oracle(model: LSTMGenerator, oracle: OracleLSTM, n: int = 10_000, rng: torch.Generator | None = None,
               **sampling: float | int | None) -> float:
    """NLL_oracle: the oracle's mean per-token NLL of ``n`` samples from ``model`` (lower = better quality)."""
    return oracle.nll(model.sample(n, oracle.seq_len, rng=rng, **sampling))


def nll_div(model: LSTMGenerator, n: int, max_len: int, rng: torch.Generator | None = None,
            temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> float:
    r"""NLL_div: the mean per-token NLL of ``n`` samples under the very distribution they were drawn
    from (logits / τ, top-k / top-p applied; higher = more diverse output).

    It estimates the entropy rate of what the sampler produces, :math:`-\frac{1}{N}\,\mathbb{E}_{y
    \sim q_\tau}[\log q_\tau(y)]`. Scoring the tempered samples under the untempered model instead
    would measure the cross-entropy :math:`H(q_\tau) + \mathrm{KL}(q_\tau \| p)`, which credits cold
    samples with diversity they do not have.
    """
    sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    return mean_token_nll(model, model.sample(n, max_len, rng=rng, **sampling), **sampling)


def quality_diversity_sweep(
    model: LSTMGenerator,
    temperatures: Sequence[float],
    n_samples: int,
    max_len: int,
    metrics: Mapping[str, Callable[[Tensor], float]],
    seed: int = 0,
    held_out: Tensor | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
) -> pd.DataFrame:
    """Sample ``model`` at each softmax temperature and score the samples.

    Lowering the temperature trades diversity for quality, so a single quality number can be
    improved at will; comparing models means comparing these curves (Caccia et al. 2020). Returns
    one row per temperature: ``temperature``; ``nll_div``, the NLL of the samples under the
    distribution they were drawn from (see :func:`nll_div`); ``nll_test``, the tempered model's
    NLL of ``held_out`` tokens when given; and one column per entry of ``metrics``, each a function
    of the ``[n_samples, max_len]`` sample tensor. Every temperature draws from the same seed.
    """
    clashes = {"temperature", "nll_div", "nll_test"} & set(metrics)
    if clashes:
        raise ValueError(f"metrics {sorted(clashes)} would replace the sweep's own columns: rename them")
    rows = []
    for temperature in temperatures:
        sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        rng = torch.Generator(device=model.device).manual_seed(seed)
        samples = model.sample(n_samples, max_len, rng=rng, **sampling)
        row = {"temperature": temperature, "nll_div": mean_token_nll(model, samples, **sampling)}
        if held_out is not None:
            row["nll_test"] = mean_token_nll(model, held_out, **sampling)
        rows.append({**row, **{name: fn(samples) for name, fn in metrics.items()}})
    return pd.DataFrame(rows)

