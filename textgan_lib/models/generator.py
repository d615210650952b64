"""``LSTMGenerator``: an autoregressive LSTM language model over token ids.

    token ids [B, T] → embedding [B, T, E] → LSTM [B, T, H] → output layer [B, T, V] logits

It models a sequence autoregressively, :math:`p(y_{1:T}) = \\prod_t p(y_t \\mid y_{<t})`: the input
at step ``t`` is the previous token, and at step 1 the start token (``<bos>``; token 0 for the
SeqGAN oracle setting). With ``eos_id`` set, a sequence ends at its first ``<eos>`` and everything
after it is ``<pad>``; with ``eos_id=None`` every sequence is exactly ``max_len`` tokens long.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from .._checks import check_config, check_token_ids
from ..data.vocab import Vocabulary
from .checkpoint import read_checkpoint, text_model_from_checkpoint
from .modes import evaluating
from .output_nll import masked_token_nll
from .sampling import NONFINITE_MESSAGE, sample_from_hidden, sampling_logits

SCORE_ROWS = 4096  # token rows per [rows, V] logits block when scoring under a sampling distribution
State = tuple[Tensor, Tensor]  # (h, c), each [num_layers, B, H]


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything needed to rebuild an ``LSTMGenerator`` (stored in checkpoints)."""

    vocab_size: int
    embed_dim: int = 32
    hidden_dim: int = 32
    num_layers: int = 1
    dropout: float = 0.0
    start_id: int = Vocabulary.bos_id
    pad_id: int | None = Vocabulary.pad_id
    eos_id: int | None = Vocabulary.eos_id
    context_dim: int = 0  # size of a vector fed beside every input embedding (an autoencoder's code)

    def __post_init__(self) -> None:
        check_config(self, positive=("embed_dim", "hidden_dim", "num_layers"), non_negative=("context_dim",),
                     fractions=("dropout",))
        check_token_ids(self, "start_id", "pad_id", "eos_id")


class LSTMGenerator(nn.Module):
    checkpoint_kind = "mle"  # what MLETrainer writes for it
    cuda_graphable = True  # its MLE step has fixed shapes and no host reads: a CUDA graph can replay it

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        if config.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {config.vocab_size}")
        self.config = config
        self.vocab: Vocabulary | None = None  # the vocabulary its ids belong to, when it has one
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(config.embed_dim + config.context_dim, config.hidden_dim, config.num_layers,
                            batch_first=True, dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_dim, config.vocab_size)

    @classmethod
    def for_vocabulary(cls, vocab: Vocabulary, **sizes: object) -> LSTMGenerator:
        """A generator over ``vocab`` with its ``<bos>``/``<pad>``/``<eos>`` ids (kept as ``.vocab``)."""
        model = cls(GeneratorConfig(vocab_size=len(vocab), start_id=vocab.bos_id, pad_id=vocab.pad_id,
                                    eos_id=vocab.eos_id, **sizes))
        model.vocab = vocab
        return model

    @classmethod
    def from_checkpoint(cls, path: str | Path, vocab: Vocabulary | None = None) -> LSTMGenerator:
        """The generator saved in a checkpoint of any trainer (MLE, SeqGAN), on the CPU, in eval mode.

        Its vocabulary, when the checkpoint has one, is ``.vocab``; passing ``vocab`` checks that it
        is the same one.
        """
        kind = read_checkpoint(path)["kind"]
        if kind in ("autoencoder", "latent_gan", "arae"):
            raise ValueError(f"{path} holds an autoencoder ({kind}), not a language model: load it "
                             "with LSTMAutoencoder.from_checkpoint(path)")
        model, saved_vocab = text_model_from_checkpoint(cls, GeneratorConfig, path, vocab)
        model.vocab = saved_vocab
        return model

    @torch.no_grad()
    def normal_init_(self, std: float) -> LSTMGenerator:
        """Redraw every parameter from N(0, std²): the initialisation of the SeqGAN code (std 0.1).

        PyTorch's default (N(0, 1) embeddings, uniform LSTM and output weights) trains to a clearly
        worse NLL_oracle in the SeqGAN oracle experiment.
        """
        for p in self.parameters():
            p.normal_(0.0, std)
        return self

    @property
    def device(self) -> torch.device:
        return self.output.weight.device

    # -- teacher forcing ------------------------------------------------------------------------

    def features(self, inputs: Tensor, state: State | None = None,
                 context: Tensor | None = None) -> tuple[Tensor, State]:
        """LSTM outputs ``[B, T, H]`` for input ids ``[B, T]``, and the final state.

        ``context`` ``[B, C]`` (required when the config has ``context_dim`` C > 0) is concatenated
        to the embedding at every step.
        """
        x = self.dropout(self.embedding(inputs))  # [B, T, E]
        if self.config.context_dim:
            if context is None or context.shape != (inputs.shape[0], self.config.context_dim):
                got = None if context is None else tuple(context.shape)
                raise ValueError(f"this generator reads a context [B={inputs.shape[0]}, "
                                 f"{self.config.context_dim}] beside its inputs, got {got}")
            x = torch.cat([x, context[:, None].expand(-1, x.shape[1], -1)], dim=2)  # [B, T, E + C]
        elif context is not None:
            raise ValueError("this generator has context_dim=0: it takes no context")
        h, state = self.lstm(x, state)  # [B, T, H]
        return self.dropout(h), state

    def forward(self, inputs: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits ``[B, T, V]`` for input ids ``[B, T]``, and the final recurrent state."""
        h, state = self.features(inputs, state)
        return self.output(h), state

    def shift_right(self, tokens: Tensor) -> Tensor:
        """Inputs for predicting ``tokens``: the start token, then all but the last token."""
        start = tokens.new_full((tokens.shape[0], 1), self.config.start_id)
        return torch.cat([start, tokens[:, :-1]], dim=1)

    def mask(self, tokens: Tensor) -> Tensor:
        """``[B, T]`` bool, True at real positions (everything when there is no padding)."""
        if self.config.pad_id is None:
            return torch.ones_like(tokens, dtype=torch.bool)
        return tokens != self.config.pad_id

    def trim(self, tokens: Tensor) -> Tensor:
        """``tokens`` without the columns that are padding in every row (saves the LSTM the work)."""
        if self.config.pad_id is None or tokens.numel() == 0:
            return tokens
        return tokens[:, : int(self.mask(tokens).sum(dim=1).max())]

    def token_nll(
        self,
        tokens: Tensor,
        *,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        state: State | None = None,
        context: Tensor | None = None,
        check_ids: bool = True,
        padding_targets: bool = False,
    ) -> Tensor:
        """Per-token negative log-likelihood ``[B, T]`` of ``tokens`` ``[B, T]``; 0 at padding.

        Without sampling arguments: under the model itself (the MLE loss). With any of
        ``temperature`` / ``top_k`` / ``top_p``: under the distribution that :meth:`sample` draws
        from with those arguments (logits / τ, the never-sampled ids removed, top-k / top-p,
        renormalised), so that the NLL of a model's own samples is the entropy rate of what was
        sampled. Tokens outside a top-k / top-p set get ``inf``. ``state`` is the LSTM's initial
        state (zeros by default; an autoencoder's decoder starts from its sentence code);
        ``context`` ``[B, C]`` is fed beside every input (see :meth:`features`). ``check_ids=False``
        skips the range check of the ids, which waits for the GPU, for callers that checked them
        already (:class:`~textgan_lib.train.mle.MLETrainer` checks its whole training set once).
        ``padding_targets=True`` scores the ``<pad>`` targets after ``<eos>`` too (they are not 0):
        the loss of a model that learns to pad (``MLEConfig.padding_targets``); only under the
        model itself.
        """
        if check_ids:
            self.check_tokens(tokens)
        sampling = temperature is not None or top_k is not None or top_p is not None
        if padding_targets and sampling:
            raise ValueError("padding_targets scores <pad> under the model itself: pass no temperature, top_k or top_p")
        h, _ = self.features(self.shift_right(tokens), state, context)  # [B, T, H]
        mask = torch.ones_like(tokens, dtype=torch.bool) if padding_targets else self.mask(tokens)
        if not sampling:
            return masked_token_nll(h, self.output.weight, self.output.bias, tokens, mask)
        nll_real = self._sampling_nll(h[mask], tokens[mask], 1.0 if temperature is None else temperature,
                                      top_k, top_p)
        nll = h.new_zeros(tokens.shape)
        nll[mask] = nll_real
        return nll

    def _sampling_nll(self, h: Tensor, targets: Tensor, temperature: float, top_k, top_p) -> Tensor:
        """``-log q(target)`` ``[N]`` under the sampling distribution q, in row chunks of [chunk, V] logits."""
        banned = self.never_sampled()
        parts = []
        for rows, target in zip(h.split(SCORE_ROWS), targets.split(SCORE_ROWS)):
            z = sampling_logits(self.output(rows), temperature, top_k, top_p, banned)  # [chunk, V]
            parts.append(-z.log_softmax(dim=-1).gather(1, target[:, None]).squeeze(1))
        return torch.cat(parts) if parts else h.new_zeros(0)

    def log_prob(self, tokens: Tensor) -> Tensor:
        """Log-probability ``[B]`` of each whole sequence (padding excluded)."""
        return -self.token_nll(tokens).sum(dim=1)

    # -- generation -----------------------------------------------------------------------------

    @torch.no_grad()
    def sample(
        self,
        n: int,
        max_len: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        prefix: Tensor | None = None,
        rng: torch.Generator | None = None,
        state: State | None = None,
        context: Tensor | None = None,
        sync_free: bool | None = None,
    ) -> Tensor:
        """Draw ``n`` sequences ``[n, max_len]`` (ids; ``<pad>`` after ``<eos>``).

        ``temperature`` divides the logits (0 means greedy, always the most probable token);
        ``top_k`` keeps the k most probable tokens, ``top_p`` the smallest set whose probability
        reaches p (nucleus sampling); ``prefix`` (``[P]`` or ``[n, P]`` ids) is fed first and kept
        at the start of each sequence. ``<pad>`` and ``<bos>`` are never drawn (when the model has a
        padding id). Reproducible for a given seeded ``rng`` (a ``torch.Generator``). ``state``: the
        LSTM's initial state, ``[num_layers, n, H]`` each (zeros by default); ``context`` ``[n, C]``
        is fed beside every input (see :meth:`features`).

        ``sync_free`` (default: on CUDA) draws all rows per step with no host synchronisation and
        checks the logits for NaN once per call (see :func:`~textgan_lib.models.sampling.sample_from_hidden`).
        """
        for name, value, least in (("n", n, 0), ("max_len", max_len, 1)):  # integers, NumPy's too
            if isinstance(value, bool) or not hasattr(value, "__index__") or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if rng is not None and not isinstance(rng, torch.Generator):
            raise TypeError(f"rng must be a torch.Generator (torch.Generator().manual_seed(seed)), got {rng!r}")
        if sync_free is None:
            sync_free = self.device.type == "cuda"
        with evaluating(self):
            prefix = self._prefix(prefix, n)
            nonfinite = torch.zeros((), dtype=torch.bool, device=self.device) if sync_free else None
            tokens = self._sample(n, max_len, temperature, top_k, top_p, prefix, rng, state, context, nonfinite)
            if sync_free and nonfinite.item():  # the call's one host sync
                raise FloatingPointError(NONFINITE_MESSAGE)
            return tokens

    def _sample(self, n, max_len, temperature, top_k, top_p, prefix, rng, state=None, context=None,
                nonfinite=None) -> Tensor:
        if prefix.shape[1] > max_len:
            raise ValueError(f"prefix of length {prefix.shape[1]} is longer than max_len={max_len}")
        tokens = torch.empty(n, max_len, dtype=torch.long, device=self.device)
        tokens[:, : prefix.shape[1]] = prefix
        finished = torch.zeros(n, dtype=torch.bool, device=self.device)
        if self.config.eos_id is not None and prefix.shape[1]:
            finished = (prefix == self.config.eos_id).any(dim=1)
        start = prefix.new_full((n, 1), self.config.start_id)
        banned = self.never_sampled()
        h, state = self.features(torch.cat([start, prefix], dim=1), state, context)  # last position predicts token P
        for t in range(prefix.shape[1], max_len):
            next_token = sample_from_hidden(h[:, -1], self.output, temperature, top_k, top_p, rng,
                                            banned, nonfinite)  # [n]
            if self.config.eos_id is not None:
                next_token = next_token.masked_fill(finished, self.config.pad_id)
                finished |= next_token == self.config.eos_id
            tokens[:, t] = next_token
            if t + 1 < max_len:
                h, state = self.features(next_token[:, None], state, context)
        return tokens

    def never_sampled(self) -> Tensor | None:
        """``<pad>`` and the start token, which are never targets, when the model has a padding id."""
        if self.config.pad_id is None:
            return None  # the oracle setting: every id, the start token included, is an ordinary token
        return torch.tensor(sorted({self.config.pad_id, self.config.start_id}), device=self.device)

    def _prefix(self, prefix: Tensor | None, n: int) -> Tensor:
        if prefix is None:
            return torch.empty(n, 0, dtype=torch.long, device=self.device)
        prefix = torch.as_tensor(prefix, device=self.device)
        if prefix.is_floating_point() or prefix.dtype == torch.bool:  # 4.7 would silently become id 4
            raise TypeError(f"prefix must hold integer token ids, got {prefix.dtype} values: pass ids "
                            "(vocab.encode(tokens)), not scores")
        prefix = prefix.long()
        if prefix.dim() == 1:
            prefix = prefix.expand(n, -1)
        if prefix.dim() != 2 or prefix.shape[0] != n:
            raise ValueError(f"prefix must be [P] or [n={n}, P] token ids, got shape {tuple(prefix.shape)}")
        self.check_tokens(prefix)
        return prefix

    def check_tokens(self, tokens: Tensor) -> None:
        if tokens.dim() != 2 or tokens.dtype != torch.long:
            raise ValueError(f"expected token ids as a [batch, length] int64 tensor, got {tokens.dtype} "
                             f"of shape {tuple(tokens.shape)}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.config.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.config.vocab_size}), found "
                             f"{int(tokens.min())}..{int(tokens.max())}: was the data encoded with "
                             "another vocabulary than the model's?")

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())

