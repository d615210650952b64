"""Discriminators for sequences: the SeqGAN CNN and an LSTM.

Both take either token ids ``[B, T]`` (int64) or one-hot-like vectors ``[B, T, V]`` (float; e.g.
Gumbel-softmax samples, so that gradients can flow back into a generator), and return one logit
per sequence ``[B]``: ``sigmoid(logit)`` is the probability that the sequence is real. One-hot-like
input is embedded as ``x @ embedding.weight``, which equals the embedding look-up for exact one-hot
vectors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .paper import RELGAN_ORACLE

# The SeqGAN paper's discriminator (Yu et al. 2017, appendix): window sizes and filters per size.
SEQGAN_WINDOWS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
SEQGAN_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


def embed(embedding: nn.Embedding, inputs: Tensor) -> Tensor:
    """``[B, T, E]`` embeddings of ids ``[B, T]`` or of one-hot-like vectors ``[B, T, V]``."""
    if inputs.dtype == torch.long:
        return embedding(inputs)
    if inputs.dim() != 3 or inputs.shape[-1] != embedding.num_embeddings:
        raise ValueError(f"expected ids [B, T] or one-hot-like [B, T, {embedding.num_embeddings}], got "
                         f"{inputs.dtype} of shape {tuple(inputs.shape)}")
    return inputs @ embedding.weight


class Highway(nn.Module):
    """One highway layer (Srivastava et al. 2015): ``t * relu(W_H x) + (1 - t) * x``, ``t = sigmoid(W_T x)``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.gate(x))
        return gate * F.relu(self.transform(x)) + (1 - gate) * x


class CNNDiscriminator(nn.Module):
    r"""The SeqGAN CNN: embedding → parallel 1-D convolutions (one per window size) → ReLU →
    max over time → concatenation → highway → dropout → linear logit.

    The paper adds an L2 penalty (λ = 0.2) on the output layer: :meth:`l2_penalty` returns it,
    and trainers add it to the loss. Sequences must be at least as long as the largest window.

    The SeqGAN code ends in a *two-class* softmax layer, weights ``W [F, 2]`` and bias ``b [2]``, and
    adds ``λ (||W||² + ||b||²) / 2`` (``tf.nn.l2_loss`` halves the square). Only the difference of
    the two class scores matters, :math:`p(\text{real}) = \sigma((w_1 - w_0)^\top x + b_1 - b_0)`,
    so this network keeps one logit with :math:`w = w_1 - w_0`. For a given :math:`w` the penalty is
    smallest, and its gradient keeps it there, when :math:`w_1 = -w_0 = w / 2`:
    :math:`\tfrac{\lambda}{2}(\|w/2\|^2 + \|w/2\|^2) = \tfrac{\lambda}{4}\|w\|^2`. So the
    one-logit network carries :math:`\tfrac{\lambda}{4}(\|w\|^2 + b^2)`: with λ on a single
    logit's ``||w||² / 2`` the penalty would be twice the reference's.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, windows: tuple[int, ...] = SEQGAN_WINDOWS,
                 filters: tuple[int, ...] = SEQGAN_FILTERS, dropout: float = 0.25, l2_lambda: float = 0.2) -> None:
        super().__init__()
        if len(windows) != len(filters):
            raise ValueError(f"{len(windows)} window sizes but {len(filters)} filter counts")
        self.windows, self.l2_lambda = windows, l2_lambda
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, f, w) for w, f in zip(windows, filters))
        n_features = sum(filters)
        self.highway = Highway(n_features)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(n_features, 1)

    @classmethod
    def relgan_sized(cls, vocab_size: int, filters: int = RELGAN_ORACLE.filters) -> CNNDiscriminator:
        """RelGAN's window sizes (2 to 5) with ``filters`` each (RelGAN: 300), on one embedding of 64:
        the size of the Gumbel GANs' critic (RelGAN's several embedding "representations" are not
        used). Its convolutions cost about a tenth of the SeqGAN CNN's (windows up to 20)."""
        return cls(vocab_size, windows=RELGAN_ORACLE.windows, filters=(filters,) * len(RELGAN_ORACLE.windows))

    def forward(self, inputs: Tensor) -> Tensor:
        if inputs.shape[1] < max(self.windows):
            raise ValueError(f"sequences of length {inputs.shape[1]} are shorter than the largest window "
                             f"({max(self.windows)}); pad them or use smaller windows")
        x = embed(self.embedding, inputs)  # [B, T, E]
        if torch.is_autocast_enabled(x.device.type):  # cast once here rather than once per convolution
            x = x.to(torch.get_autocast_dtype(x.device.type))
        # Each Conv1d runs as a 2-D convolution over [B, E, 1, T] kept in the embedding's memory order
        # (channels last): oneDNN and cuDNN convolve that layout without reordering it, and the max over
        # time then reduces over an outer dimension. Same convolution, less memory traffic (timings:
        # benchmarks/results/measurements.md).
        x = x.transpose(1, 2).unsqueeze(2)  # [B, E, 1, T]
        # max over time, then ReLU: equal to ReLU then max (ReLU is monotonic), on T times fewer values
        features = torch.cat([F.relu(F.conv2d(x, conv.weight.unsqueeze(2), conv.bias).amax(dim=(2, 3)))
                              for conv in self.convs], dim=1)  # [B, sum(filters)]
        return self.output(self.dropout(self.highway(features))).squeeze(1)  # [B]

    def l2_penalty(self) -> Tensor:
        """``l2_lambda * (||w||² + b²) / 4`` on the output logit: the SeqGAN code's two-class penalty."""
        return self.l2_lambda * 0.25 * (self.output.weight.pow(2).sum() + self.output.bias.pow(2).sum())


class LSTMDiscriminator(nn.Module):
    """Embedding → LSTM → linear logit on the last hidden state (padding is part of the input)."""

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_dim: int = 64, dropout: float = 0.25) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_dim, 1)

    def forward(self, inputs: Tensor) -> Tensor:
        _, (h, _) = self.lstm(embed(self.embedding, inputs))  # h: [1, B, H]
        return self.output(self.dropout(h[-1])).squeeze(1)  # [B]

    def l2_penalty(self) -> Tensor:
        return self.output.weight.new_zeros(())
