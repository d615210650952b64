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

from ..paper import RELGAN_ORACLE

# The SeqGAN paper's discriminator (Yu et al. 2017, appendix): window sizes and filters per size.
SEQGAN_WINDOWS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
SEQGAN_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


def embed(embedding: nn.Embedding, inputs: Tensor) -> Tensor:
    """``[B, T, E]`` embeddings of ids ``[B, T]`` or of one-hot-like vectors ``[B, T, V]``. Ids are
    checked against the vocabulary on a CPU (on a GPU the check would make every call wait)."""
    if inputs.dtype == torch.long:
        if inputs.dim() != 2:
            raise ValueError(f"expected token ids [B, T], got shape {tuple(inputs.shape)}")
        vocab_size = len(embedding.weight)
        if inputs.device.type == "cpu" and inputs.numel() and not 0 <= inputs.min() <= inputs.max() < vocab_size:
            raise ValueError(f"token ids must lie in [0, {vocab_size}), found {int(inputs.min())}.."
                             f"{int(inputs.max())}: were the texts encoded with another vocabulary than the "
                             "discriminator's?")
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
        # The window width of each feature, for :meth:`fused_forward`'s mask (a buffer, so it moves
        # with the module and a CUDA graph never copies it from the host; not saved in checkpoints).
        widths = torch.tensor([w for w, f in zip(windows, filters) for _ in range(f)])
        self.register_buffer("feature_widths", widths, persistent=False)
        self.fused_windows: bool | None = None  # None: fused on CUDA, one convolution per width elsewhere

    @classmethod
    def relgan_sized(cls, vocab_size: int, filters: int = RELGAN_ORACLE.filters) -> CNNDiscriminator:
        """RelGAN's window sizes (2 to 5) with ``filters`` each (RelGAN: 300), on one embedding of 64:
        the size of the Gumbel GANs' critic (RelGAN's several embedding "representations" are not
        used). Its convolutions cost about a tenth of the SeqGAN CNN's (windows up to 20)."""
        return cls(vocab_size, windows=RELGAN_ORACLE.windows, filters=(filters,) * len(RELGAN_ORACLE.windows))

    def forward(self, inputs: Tensor) -> Tensor:
        fused = self.fused_windows if self.fused_windows is not None else inputs.device.type == "cuda"
        if fused:
            return self.fused_forward(inputs)
        self._check_inputs(inputs)
        x = self._embedded(inputs)  # [B, E, 1, T]
        # max over time, then ReLU: equal to ReLU then max (ReLU is monotonic), on T times fewer values
        features = torch.cat([F.relu(self._feature_maps(x, conv).amax(dim=(2, 3)))
                              for conv in self.convs], dim=1)  # [B, sum(filters)]
        return self._head(features)

    def fused_forward(self, inputs: Tensor) -> Tensor:
        r""":meth:`forward` with every window width in one matrix product: the GPU's way.

        A dozen small convolutions, forward and backward, are a few dozen kernel launches whose
        arithmetic takes microseconds. Instead, unfold the embeddings into windows of the largest
        width :math:`W` at every start :math:`p` (zero-padded past the end), zero-pad every filter
        to width :math:`W` and stack them: one product ``[B, T, E W] @ [E W, ΣF]`` gives every
        feature map. A width-:math:`w` filter's output at :math:`p > T - w` reads padding, so it is
        masked to :math:`-\infty` before the max over time. Exact: the padded weights multiply
        zeros, and the same numbers come out as :meth:`forward` up to float rounding (tested).
        """
        self._check_inputs(inputs)
        x = embed(self.embedding, inputs)  # [B, T, E]
        T, W = x.shape[1], max(self.windows)
        windows = F.pad(x, (0, 0, 0, W - 1)).unfold(1, W, 1)  # [B, T, E, W]: the window starting at p
        weight = torch.cat([F.pad(conv.weight, (0, W - conv.kernel_size[0])) for conv in self.convs])  # [ΣF, E, W]
        bias = torch.cat([conv.bias for conv in self.convs])  # [ΣF]
        maps = torch.addmm(bias, windows.flatten(2).flatten(0, 1), weight.flatten(1).t()).view(len(x), T, -1)
        starts = torch.arange(T, device=x.device)[:, None]  # [T, 1]
        reads_padding = starts > T - self.feature_widths  # [T, ΣF]
        features = maps.masked_fill(reads_padding, float("-inf")).amax(dim=1)  # [B, ΣF]
        return self._head(F.relu(features))

    @torch.no_grad()
    def completion_logits(self, sequences: Tensor, completions: Tensor) -> Tensor:
        r"""Logits ``[N, M, B]`` of ``completions`` ``[N, M, B, T]``, where ``completions[t - 1, m, b]``
        equals ``sequences[b]`` ``[B, T]`` at positions ``< t``: the Monte-Carlo rollouts of every
        prefix, scored without recomputing what the prefix already determines.

        A window of width :math:`w` at positions :math:`p..p+w-1` that lies inside the prefix
        (:math:`p \le t - w`) sees the original sequence, so the maximum over those windows is a
        running maximum of the original's feature map, computed once per sequence. Only windows
        that reach the completed suffix (:math:`p > t - w`) are convolved for each completion, and
        the two maxima are combined before the ReLU. Exact (the same numbers as :meth:`forward` up
        to float rounding); it saves about a third of the convolutions at the SeqGAN paper's sizes
        (windows 1 to 20, length 20), less for wide windows, which rarely fit inside a prefix.
        """
        N, M, B, T = completions.shape
        if sequences.shape != (B, T):
            raise ValueError(f"completions {tuple(completions.shape)} do not continue sequences "
                             f"{tuple(sequences.shape)}: expected completions [N, M, B, T] of sequences [B, T]")
        self._check_length(T)
        original = self._embedded(sequences)  # [B, E, 1, T]
        # running max over the windows that start at p = 0..T-w: prefix_max[w][..., p] = max over 0..p
        prefix_max = [self._feature_maps(original, conv).squeeze(2).cummax(dim=2).values  # [B, F, T-w+1]
                      for conv in self.convs]
        logits = []
        for t in range(1, N + 1):  # completions of prefix length t
            x = self._embedded(completions[t - 1].reshape(M * B, T))  # [M*B, E, 1, T]
            features = []
            for w, conv, running in zip(self.windows, self.convs, prefix_max):
                first_open = max(0, t - w + 1)  # first window that reaches position t (the suffix)
                suffix = self._feature_maps(x[..., first_open:], conv).amax(dim=(2, 3))  # [M*B, F]
                if t - w >= 0:  # some windows lie wholly inside the prefix
                    suffix = torch.maximum(suffix.view(M, B, -1), running[:, :, t - w]).view(M * B, -1)
                features.append(F.relu(suffix))
            logits.append(self._head(torch.cat(features, dim=1)).view(M, B))
        return torch.stack(logits)  # [N, M, B]

    def _check_inputs(self, inputs: Tensor) -> None:
        if inputs.dim() not in (2, 3):
            raise ValueError(f"expected token ids [B, T] or one-hot-like [B, T, V], got shape {tuple(inputs.shape)}")
        self._check_length(inputs.shape[1])

    def _check_length(self, length: int) -> None:
        if length < max(self.windows):
            raise ValueError(f"sequences of length {length} are shorter than the largest window "
                             f"({max(self.windows)}); pad them or use smaller windows")

    def _embedded(self, inputs: Tensor) -> Tensor:
        """``[B, E, 1, T]`` embeddings, laid out for :meth:`_feature_maps`."""
        x = embed(self.embedding, inputs)  # [B, T, E]
        if torch.is_autocast_enabled(x.device.type):  # cast once here rather than once per convolution
            x = x.to(torch.get_autocast_dtype(x.device.type))
        # Each Conv1d runs as a 2-D convolution over [B, E, 1, T] kept in the embedding's memory order
        # (channels last): oneDNN and cuDNN convolve that layout without reordering it, and the max over
        # time then reduces over an outer dimension. Same convolution, less memory traffic (timings:
        # benchmarks/results/measurements.md).
        return x.transpose(1, 2).unsqueeze(2)

    @staticmethod
    def _feature_maps(x: Tensor, conv: nn.Conv1d) -> Tensor:
        """``[B, F, 1, T-w+1]``: one window width's convolution over ``[B, E, 1, T]`` embeddings."""
        return F.conv2d(x, conv.weight.unsqueeze(2), conv.bias)

    def _head(self, features: Tensor) -> Tensor:
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


class TokenLSTMDiscriminator(nn.Module):
    """ScratchGAN's discriminator: embedding → LSTM → layer norm → dropout → one logit **per token**
    ``[B, T]``, each judging the prefix up to and including its token (de Masson d'Autume et al.
    2019). A trainer masks the logits after a sequence's end: dense rewards, no rollouts."""

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.norm = nn.LayerNorm(hidden_dim)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_dim, 1)

    def forward(self, inputs: Tensor) -> Tensor:
        if inputs.dim() != 2:
            raise ValueError(f"expected token ids [B, T], got shape {tuple(inputs.shape)}")
        h, _ = self.lstm(embed(self.embedding, inputs))  # [B, T, H]
        return self.output(self.dropout(self.norm(h))).squeeze(-1)  # [B, T]
