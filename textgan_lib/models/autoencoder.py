r"""An LSTM sequence autoencoder: a sentence as one point on a sphere, and back.

    token ids [B, T] → embedding → bidirectional encoder LSTM → both last states [B, H] → normalise → code c
    code c → linear bridge → decoder LSTM's initial state (h0, c0)
    code c → concatenated to every decoder input embedding → decoder LSTM → output layer → logits [B, T, V]

The encoder reads each sentence up to its ``<eos>`` forwards and backwards; the two final hidden
states, concatenated and divided by their Euclidean norm, are the code: a point on the unit sphere,
as in ARAE (Zhao et al. 2018), so that codes cannot grow to make reconstruction easy and a GAN on
codes has a bounded target. Reading both ways gives the code the sentence's beginning as fresh as
its end (the decoder needs the first words first; Sutskever et al. 2014 reversed the input for the
same reason). The decoder is an :class:`~textgan_lib.models.generator.LSTMGenerator` that

* starts from :math:`(h_0, c_0) = (\tanh(W_h c + b_h),\, W_c c + b_c)` instead of zeros (a learned
  bridge: a unit-norm code's entries, about :math:`1/\sqrt{H}` each, are too small to steer the LSTM
  by themselves), and
* reads the code again beside every input word (ARAE's decoder does the same), so that it cannot
  forget it half-way through the sentence.

It is trained by teacher forcing to reproduce the sentence,

.. math::  \mathcal{L}(x) = -\sum_t \log p_\theta\big(x_t \mid \tilde x_{<t},\, c = \mathrm{enc}(x)\big),

where :math:`\tilde x` is the input with a share ``word_dropout`` of its words replaced by
``<unk>`` during training (Bowman et al. 2016): a decoder that cannot always see the previous word
has to take it from the code (``benchmarks/results/measurements.md`` records what each part of this
design gained).

So :meth:`LSTMAutoencoder.token_nll` is a reconstruction NLL, and
:class:`~textgan_lib.train.mle.MLETrainer` trains an autoencoder exactly as it trains a language
model (it is a :class:`~textgan_lib.models.sequence_model.SequenceModel`).
Generation decodes a code greedily or by sampling at a temperature (:meth:`LSTMAutoencoder.decode`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from .._checks import check_config, check_token_ids
from ..data.vocab import Vocabulary
from .checkpoint import read_checkpoint, text_model_from_checkpoint
from .generator import GeneratorConfig, LSTMGenerator, State
from .modes import evaluating
from .output_nll import masked_token_nll


@dataclass(frozen=True)
class AutoencoderConfig:
    """Everything needed to rebuild an ``LSTMAutoencoder`` (stored in checkpoints)."""

    vocab_size: int
    embed_dim: int = 128
    code_dim: int = 256  # the code's size and the decoder's hidden size (even: half per direction)
    dropout: float = 0.0
    word_dropout: float = 0.3  # share of decoder input words replaced by <unk> in training
    start_id: int = Vocabulary.bos_id
    pad_id: int | None = Vocabulary.pad_id
    eos_id: int | None = Vocabulary.eos_id
    unk_id: int = Vocabulary.unk_id

    def __post_init__(self) -> None:
        check_config(self, positive=("embed_dim", "code_dim"), fractions=("dropout",))
        check_token_ids(self, "start_id", "pad_id", "eos_id", "unk_id")
        if self.code_dim % 2:
            raise ValueError(f"code_dim must be even (half of it per encoder direction), got {self.code_dim}")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ValueError(f"word_dropout must lie in [0, 1), got {self.word_dropout}")


class LSTMAutoencoder(nn.Module):
    checkpoint_kind = "autoencoder"  # what MLETrainer writes for it
    cuda_graphable = False  # the encoder packs sequences by their lengths, which the host reads

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        self.vocab: Vocabulary | None = None
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.encoder = nn.LSTM(config.embed_dim, config.code_dim // 2, batch_first=True, bidirectional=True)
        self.decoder = LSTMGenerator(GeneratorConfig(config.vocab_size, config.embed_dim, config.code_dim, 1,
                                                     config.dropout, config.start_id, config.pad_id, config.eos_id,
                                                     context_dim=config.code_dim))
        # code → the decoder's initial (h, c): a unit-norm code has entries of about 1/sqrt(H), too
        # small to steer an LSTM; a learned bridge lets training scale it (measured: without it the
        # decoder ignored the code and wrote one caption for every input)
        self.bridge = nn.Linear(config.code_dim, 2 * config.code_dim)

    @classmethod
    def for_vocabulary(cls, vocab: Vocabulary, **sizes: object) -> LSTMAutoencoder:
        """An autoencoder over ``vocab`` with its special ids (kept as ``.vocab``)."""
        model = cls(AutoencoderConfig(len(vocab), start_id=vocab.bos_id, pad_id=vocab.pad_id, eos_id=vocab.eos_id,
                                      unk_id=vocab.unk_id, **sizes))
        model.vocab = model.decoder.vocab = vocab
        return model

    @classmethod
    def from_checkpoint(cls, path: str | Path, vocab: Vocabulary | None = None) -> LSTMAutoencoder:
        """The autoencoder saved by ``MLETrainer`` (or inside a latent GAN's or ARAE's checkpoint), on the
        CPU, in eval mode."""
        kind = read_checkpoint(path)["kind"]
        if kind not in ("autoencoder", "latent_gan", "arae"):
            raise ValueError(f"{path} is a {kind!r} checkpoint, not an autoencoder: load a language "
                             "model with LSTMGenerator.from_checkpoint(path)")
        model, saved_vocab = text_model_from_checkpoint(cls, AutoencoderConfig, path, vocab)
        model.vocab = model.decoder.vocab = saved_vocab
        return model

    @property
    def device(self) -> torch.device:
        return self.decoder.device

    # -- the two halves -------------------------------------------------------------------------

    def encode(self, tokens: Tensor, check_ids: bool = True) -> Tensor:
        """Codes ``[B, H]`` on the unit sphere for ``tokens`` ``[B, T]`` (read up to their padding)."""
        if check_ids:
            self.check_tokens(tokens)
        lengths = self.decoder.mask(tokens).sum(dim=1).clamp_min(1)  # [B]
        x = self.decoder.dropout(self.embedding(tokens))  # [B, T, E]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.encoder(packed)  # h: [2, B, H/2], forwards after the last token, backwards after the first
        return F.normalize(torch.cat([h[0], h[1]], dim=1), dim=1)  # [B, H]

    def initial_state(self, codes: Tensor) -> State:
        """The decoder's starting state for ``codes`` ``[B, H]``: ``(tanh(W_h c + b_h), W_c c + b_c)``."""
        h, c = self.bridge(codes).chunk(2, dim=1)  # [B, H] each
        return torch.tanh(h)[None].contiguous(), c[None].contiguous()  # [1, B, H] each

    def token_nll(self, tokens: Tensor, check_ids: bool = True, padding_targets: bool = False,
                  code_noise: float = 0.0) -> Tensor:
        """Reconstruction NLL per token ``[B, T]`` of ``tokens`` from their own codes; 0 at padding.

        In training mode a share ``word_dropout`` of the decoder's input words is ``<unk>``.
        ``code_noise`` :math:`= r > 0` decodes from :math:`c + \\epsilon`, :math:`\\epsilon \\sim
        \\mathcal N(0, r^2 I)` (ARAE's ``noise_r``: a decoder that must read noisy codes copes with a
        generator's). ``check_ids=False``, ``padding_targets=True``: as in :meth:`LSTMGenerator.token_nll`.
        """
        codes = self.encode(tokens, check_ids)
        if code_noise > 0:
            codes = codes + code_noise * torch.randn_like(codes)
        inputs = self.decoder.shift_right(tokens)  # [B, T]
        if self.training and self.config.word_dropout:
            dropped = torch.rand(inputs.shape, device=inputs.device) < self.config.word_dropout
            dropped[:, 0] = False  # the start token stays: it is not a word
            inputs = inputs.masked_fill(dropped, self.config.unk_id)
        h, _ = self.decoder.features(inputs, self.initial_state(codes), codes)  # [B, T, H]
        mask = torch.ones_like(tokens, dtype=torch.bool) if padding_targets else self.mask(tokens)
        return masked_token_nll(h, self.decoder.output.weight, self.decoder.output.bias, tokens, mask)

    @torch.no_grad()
    def decode(self, codes: Tensor, max_len: int, *, rng: torch.Generator | None = None,
               temperature: float = 1.0) -> Tensor:
        """Token ids ``[B, max_len]`` for ``codes`` ``[B, H]``, sampled at ``temperature`` (0: greedy);
        ``<pad>`` after ``<eos>``."""
        if codes.dim() != 2 or codes.shape[1] != self.config.code_dim:
            raise ValueError(f"expected codes [B, {self.config.code_dim}], got shape {tuple(codes.shape)}")
        codes = codes.to(self.device)
        return self.decoder.sample(len(codes), max_len, temperature=temperature, rng=rng,
                                   state=self.initial_state(codes), context=codes)

    @torch.no_grad()
    def reconstruct(self, tokens: Tensor, *, rng: torch.Generator | None = None, temperature: float = 0.0) -> Tensor:
        """Encode then decode ``tokens`` ``[B, T]`` in eval mode (greedy by default: a reconstruction)."""
        with evaluating(self):
            return self.decode(self.encode(tokens.to(self.device)), tokens.shape[1], temperature=temperature, rng=rng)

    # -- what MLETrainer and the metrics use ------------------------------------------------------

    def check_tokens(self, tokens: Tensor) -> None:
        self.decoder.check_tokens(tokens)

    def mask(self, tokens: Tensor) -> Tensor:
        return self.decoder.mask(tokens)

    def trim(self, tokens: Tensor) -> Tensor:
        return self.decoder.trim(tokens)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())


@torch.no_grad()
def great_circle(a: Tensor, b: Tensor, steps: int) -> Tensor:
    """``steps`` points ``[steps, H]`` on the great circle from unit vector ``a`` to ``b`` ``[H]``.

    Spherical interpolation, :math:`\\frac{\\sin((1-w)\\Omega)\\,a + \\sin(w\\Omega)\\,b}{\\sin\\Omega}` with
    :math:`\\cos\\Omega = a \\cdot b`, keeps every point on the sphere where the codes live (a straight line
    would cut inside it). Both ends are included.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (both ends are included), got {steps}")
    if a.shape != b.shape or a.dim() != 1:
        raise ValueError(f"expected two codes [H] of one size, got {tuple(a.shape)} and {tuple(b.shape)}")
    angle = torch.arccos((a @ b).clamp(-1, 1))
    if angle < 1e-6:  # the same code twice: sin(angle) would divide by zero
        return a.expand(steps, -1).clone()
    w = torch.linspace(0, 1, steps, device=a.device)[:, None]  # [steps, 1]
    path = (torch.sin((1 - w) * angle) * a + torch.sin(w * angle) * b) / torch.sin(angle)
    return F.normalize(path, dim=1)  # on the sphere already; this only removes rounding error


def reconstruction_accuracy(model: LSTMAutoencoder, tokens: Tensor, batch_size: int = 1024) -> dict[str, float]:
    """Greedy reconstruction of ``tokens`` ``[N, T]``: ``token`` accuracy over real positions
    (``<eos>`` included) and ``sentence`` accuracy, the share reproduced exactly."""
    correct_tokens = real_tokens = exact = 0
    for batch in tokens.split(batch_size):
        batch = model.trim(batch.to(model.device))
        mask = model.mask(batch)
        hits = (model.reconstruct(batch) == batch) & mask
        correct_tokens += int(hits.sum())
        real_tokens += int(mask.sum())
        exact += int((hits.sum(dim=1) == mask.sum(dim=1)).sum())
    if real_tokens == 0:
        raise ValueError("no tokens to reconstruct: the data is empty")
    return {"token": correct_tokens / real_tokens, "sentence": exact / len(tokens)}


@torch.no_grad()
def encode_all(autoencoder: LSTMAutoencoder, tokens: Tensor, batch_size: int = 1024) -> Tensor:
    """Codes ``[N, code_dim]`` of ``tokens`` ``[N, T]``, in eval mode."""
    with evaluating(autoencoder):
        return torch.cat([autoencoder.encode(autoencoder.trim(batch.to(autoencoder.device)))
                          for batch in tokens.split(batch_size)])
