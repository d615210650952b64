"""What a model must offer to be trained by maximum likelihood and scored: a per-token NLL."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class SequenceModel(Protocol):
    """A model of token sequences ``[B, T]`` (``LSTMGenerator``; ``LSTMAutoencoder``, whose NLL is that
    of reconstructing its input). ``config`` is a dataclass (saved in checkpoints), ``vocab`` the
    vocabulary or None, ``checkpoint_kind`` what ``MLETrainer`` writes for it."""

    config: Any
    vocab: Any
    checkpoint_kind: str

    @property
    def device(self) -> torch.device: ...

    def token_nll(self, tokens: Tensor, check_ids: bool = True, padding_targets: bool = False) -> Tensor:
        """NLL per token ``[B, T]``, 0 at padding (unless ``padding_targets``: ``<pad>`` after ``<eos>`` is scored)."""

    def mask(self, tokens: Tensor) -> Tensor:
        """``[B, T]`` bool: the positions that count (up to and including ``<eos>``)."""

    def trim(self, tokens: Tensor) -> Tensor:
        """``tokens`` without the columns that are padding in every row."""

    def check_tokens(self, tokens: Tensor) -> None:
        """Raise a clear error for ids outside the vocabulary."""
