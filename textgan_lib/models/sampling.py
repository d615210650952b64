"""Drawing tokens from a model's logits: temperature, top-k, nucleus (top-p), greedy.

Given logits :math:`z \\in \\mathbb{R}^V`, sampling at temperature :math:`\\tau` draws from
:math:`p_v \\propto \\exp(z_v / \\tau)`: :math:`\\tau < 1` sharpens the distribution, :math:`\\tau > 1`
flattens it, and :math:`\\tau \\to 0` becomes greedy decoding (argmax). Top-k keeps the k most
probable tokens; top-p (nucleus sampling, Holtzman et al. 2020) keeps the smallest set of most
probable tokens whose probability reaches p. Both renormalise over what they keep.

:func:`sampling_logits` is that transformation on its own: the sampler draws from
``softmax(sampling_logits(z))`` and the metrics that must measure the distribution actually sampled
(``NLL_div``, the tempered model's ``NLL_test``) score tokens under the same logits.

Tokens are drawn by inverting the cumulative distribution (one uniform number per row and a binary
search, first over blocks of tokens, then inside one block), processing rows in cache-sized
chunks: on a CPU this is much faster than ``torch.multinomial`` for large vocabularies (see
``benchmarks/results/measurements.md``), and reproducible under a seeded ``torch.Generator``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

ROW_CHUNK = 512  # rows of [chunk, V] logits that stay in cache for V of a few thousand
BLOCK = 64  # tokens per block of the two-level inverse-CDF draw
NONFINITE_MESSAGE = ("cannot sample: a row of logits holds NaN or +inf, or -inf for every token, so no token can be "
                     "drawn. If the model's weights are not all finite (torch.isfinite), reload the last good "
                     "checkpoint; if they are, a bias or an edited weight of -inf rules out every token")


def filter_logits(logits: Tensor, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """Logits with everything outside the top-k / top-p set at ``-inf`` (a new tensor)."""
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]  # [N, 1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        sorted_probs = sorted_logits.softmax(dim=-1)
        # Drop a token when the tokens ranked above it already reach top_p; the top one always stays.
        drop_sorted = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
        logits = logits.masked_fill(drop_sorted.scatter(-1, order, drop_sorted), float("-inf"))
    return logits


def sampling_logits(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    banned: Tensor | None = None,
) -> Tensor:
    """The logits ``[N, V]`` of the distribution that the sampler draws from (a new tensor).

    ``logits / temperature``, then ``banned`` ids and everything outside the top-k / top-p set at
    ``-inf``; ``softmax`` of the result is the sampling distribution. Greedy decoding
    (``temperature=0``) has no such distribution and is refused.
    """
    _check_temperature(temperature)
    if temperature == 0:
        raise ValueError("temperature=0 is greedy decoding, a deterministic choice: it has no sampling "
                         "distribution to score (use a small positive temperature instead)")
    z = logits / temperature
    if banned is not None:
        z.index_fill_(-1, banned, float("-inf"))
    return filter_logits(z, top_k, top_p)


def sample_from_logits(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: torch.Generator | None = None,
) -> Tensor:
    """One token id ``[N]`` per row of ``logits`` ``[N, V]``; ``temperature=0`` is greedy."""
    _check_temperature(temperature)
    if temperature == 0:
        return logits.argmax(dim=-1)
    return _draw_(filter_logits(logits / temperature, top_k, top_p), rng)


def sample_from_hidden(
    hidden: Tensor,
    output: nn.Linear,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: torch.Generator | None = None,
    banned: Tensor | None = None,
    nonfinite: Tensor | None = None,
) -> Tensor:
    """Like :func:`sample_from_logits` for ``logits = output(hidden)``, ``hidden`` ``[N, H]``.

    ``banned`` token ids are never drawn (``<pad>`` and ``<bos>`` for a vocabulary model). The
    logits are made chunk by chunk, already divided by the temperature, and sampled while the
    chunk is still in cache: the ``[N, V]`` matrix never exists at once.

    ``nonfinite`` (a boolean scalar on the device) switches to the GPU's way: all rows at once,
    and NaN or infinite logits are OR-ed into the flag instead of raising, so that a sampling loop
    never waits for the device; the caller checks the flag once at the end. Cache-sized chunks
    and a check per chunk only pay on a CPU, where every operation already waits.
    """
    _check_temperature(temperature)
    scale = 1.0 / temperature if temperature > 0 else 1.0
    tokens = []
    for rows in hidden.split(ROW_CHUNK if nonfinite is None else max(len(hidden), 1)):
        z = torch.addmm(output.bias, rows, output.weight.t(), beta=scale, alpha=scale)  # [chunk, V]
        if banned is not None:
            z.index_fill_(1, banned, float("-inf"))
        if temperature == 0:
            tokens.append(z.argmax(dim=-1))
        else:
            tokens.append(_draw_(filter_logits(z, top_k, top_p), rng, nonfinite))
    return torch.cat(tokens)


# Below this a temperature is greedy decoding in all but name, and dividing float32 logits by it
# overflows them to infinity (a NaN distribution); 0 is the greedy choice itself.
MIN_TEMPERATURE = 1e-6


def _check_temperature(temperature: float) -> None:
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0: greedy), got {temperature}")
    if 0 < temperature < MIN_TEMPERATURE:
        raise ValueError(f"temperature={temperature:g} is below {MIN_TEMPERATURE:g}, where dividing the logits by it "
                         "overflows: sample with temperature=0 (greedy), or score with a temperature of at least "
                         f"{MIN_TEMPERATURE:g}")


def _draw_(z: Tensor, rng: torch.Generator | None, nonfinite: Tensor | None = None) -> Tensor:
    """Sample from the softmax rows of ``z`` ``[N, V]`` by inverting the CDF; overwrites ``z``.

    Non-finite logits raise, or with ``nonfinite`` given are OR-ed into it without a host sync.

    Two levels, so that no full-width cumulative sum is needed: pick a block of ``BLOCK``
    consecutive tokens with probability equal to its total weight, then a token inside that block.
    """
    weights = z.sub_(z.amax(dim=-1, keepdim=True)).exp_()  # unnormalised probabilities, [N, V]
    n, vocab = weights.shape
    n_full = vocab // BLOCK
    block_sums = weights[:, : n_full * BLOCK].unflatten(1, (n_full, BLOCK)).sum(dim=-1)  # [N, n_full]
    if vocab % BLOCK:
        block_sums = torch.cat([block_sums, weights[:, n_full * BLOCK :].sum(dim=-1, keepdim=True)], dim=1)
    block_cdf = block_sums.cumsum_(dim=-1)  # [N, n_blocks]
    total = block_cdf[:, -1:]
    if nonfinite is not None:
        nonfinite |= ~torch.isfinite(total).all()
    elif not torch.isfinite(total).all():
        raise FloatingPointError(NONFINITE_MESSAGE)
    u = torch.rand(total.shape, generator=rng, device=z.device, dtype=z.dtype) * total
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))  # strictly below total
    # right=True: the first block whose cdf exceeds u, which never is a zero-weight block.
    block = torch.searchsorted(block_cdf, u, right=True).clamp_(max=block_cdf.shape[1] - 1)  # [N, 1]
    below = torch.where(block > 0, block_cdf.gather(1, (block - 1).clamp(min=0)), torch.zeros_like(u))
    columns = block * BLOCK + torch.arange(BLOCK, device=z.device)  # [N, BLOCK]
    inside = columns < vocab
    within = weights.gather(1, columns.clamp(max=vocab - 1)) * inside  # the chosen block's weights
    cdf = within.cumsum_(dim=-1)
    position = torch.searchsorted(cdf, u - below, right=True)  # [N, 1]
    # Rounding can leave u - below a hair above the block's own sum: fall back to its last live token.
    last_live = (within > 0).cumsum(dim=-1).argmax(dim=-1, keepdim=True)
    position = torch.minimum(position, last_live)
    return (block * BLOCK + position).squeeze(1)
