"""Turning variable-length sentences into fixed-shape tensors.

A batch is a ``[batch, max_len]`` tensor of token ids: each row is one sentence followed by
``<eos>`` and right-padded with ``<pad>``. Sentences longer than ``max_len`` are truncated (the
``<eos>`` is lost, so the model never learns to stop there); how many were cut is counted and
reported, because silent truncation is a classic source of wrong results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from .vocab import Vocabulary


@dataclass(frozen=True)
class TokenBatch:
    """Padded token ids with their true lengths.

    ``tokens``: ``[batch, max_len]`` int64; ``lengths``: ``[batch]`` int64, the number of
    non-pad positions in each row (``<eos>`` included).
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    n_truncated: int = 0
    n_unknown: int = 0

    @property
    def mask(self) -> torch.Tensor:
        """``[batch, max_len]`` bool, True at real (non-pad) positions."""
        positions = torch.arange(self.tokens.shape[1], device=self.tokens.device)
        return positions[None, :] < self.lengths[:, None]

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def report(self) -> str:
        """One line a reader can check: shape, truncation and unknown-token counts."""
        n = len(self)
        pct = 100 * self.n_truncated / n if n else 0.0
        return (f"{n} sequences × {self.tokens.shape[1]} positions; "
                f"{self.n_truncated} truncated ({pct:.2f}%); {self.n_unknown} unknown tokens")


def pad_sequences(sequences: Sequence[Sequence[int]], max_len: int, pad_id: int = Vocabulary.pad_id) -> TokenBatch:
    """Right-pad (or truncate) id sequences to ``max_len`` columns."""
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if len(sequences) == 0:
        raise ValueError("cannot make a batch from zero sequences")
    tokens = torch.full((len(sequences), max_len), pad_id, dtype=torch.long)
    lengths = torch.empty(len(sequences), dtype=torch.long)
    n_truncated = 0
    for row, seq in enumerate(sequences):
        kept = seq[:max_len]
        n_truncated += len(seq) > max_len
        tokens[row, : len(kept)] = torch.as_tensor(kept, dtype=torch.long)
        lengths[row] = len(kept)
    return TokenBatch(tokens, lengths, n_truncated=n_truncated)


def encode_batch(
    sentences: Sequence[Sequence[str]],
    vocab: Vocabulary,
    max_len: int,
    add_eos: bool = True,
) -> TokenBatch:
    """Encode tokenized sentences with ``vocab`` and pad them into one :class:`TokenBatch`."""
    encoded = [vocab.encode(s, add_eos=add_eos) for s in sentences]
    batch = pad_sequences(encoded, max_len, pad_id=vocab.pad_id)
    n_unknown = int((batch.tokens[batch.mask] == vocab.unk_id).sum())
    return TokenBatch(batch.tokens, batch.lengths, batch.n_truncated, n_unknown)


def iterate_minibatches(
    n_items: int,
    batch_size: int,
    shuffle: bool = True,
    rng: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[torch.Tensor]:
    """Yield index tensors that cover ``range(n_items)`` in minibatches (shuffled with ``rng``)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = torch.randperm(n_items, generator=rng) if shuffle else torch.arange(n_items)
    stop = n_items - n_items % batch_size if drop_last else n_items
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
