"""The synthetic oracle of the SeqGAN paper: a fixed random LSTM that plays "the real data".

With real text nobody knows the true distribution, so no metric can tell how close a generator
came to it. Yu et al. (2017) sidestep this: a randomly initialised LSTM, the *oracle*, generates the
training data, and a generator is judged by the oracle's NLL of the generator's samples,
``NLL_oracle``: low only if the generator writes sequences that the true distribution finds likely.

``OracleLSTM`` is an ``LSTMGenerator`` (vocabulary 5,000, embedding 32, hidden 32, start token 0, no
``<eos>``: every sequence is exactly ``seq_len`` tokens) whose weights come from the paper's file or
from a seed.

The file stores TensorFlow-layout matrices used as ``x @ W`` (see ``shared/data/README.md``):
gates ``i, f, o`` and the candidate ``c̃``, each with input weights ``W``, recurrent weights ``U`` and
a bias. ``nn.LSTM`` multiplies ``W_torch @ x`` and stacks its gates as ``(i, f, g, o)``, where ``g``
is the candidate, so the mapping is ``weight_ih = [W_iᵀ; W_fᵀ; W_cᵀ; W_oᵀ]``, likewise ``weight_hh``
from the ``U`` matrices, ``bias_ih = [b_i; b_f; b_c; b_o]`` and ``bias_hh = 0``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.files import load_oracle_params
from ..paper import SEQGAN_PAPER
from .generator import GeneratorConfig, LSTMGenerator
from .modes import evaluating

SEQGAN_VOCAB, SEQGAN_DIM, SEQGAN_SEQ_LEN = SEQGAN_PAPER.vocab_size, SEQGAN_PAPER.embed_dim, SEQGAN_PAPER.seq_len


class OracleLSTM(LSTMGenerator):
    """A frozen LSTM data source: ``sample`` draws training data, ``nll`` scores anyone's samples."""

    def __init__(self, vocab_size: int = SEQGAN_VOCAB, embed_dim: int = SEQGAN_DIM, hidden_dim: int = SEQGAN_DIM,
                 seq_len: int = SEQGAN_SEQ_LEN) -> None:
        super().__init__(GeneratorConfig(vocab_size, embed_dim, hidden_dim, start_id=0, pad_id=None, eos_id=None))
        self.seq_len = seq_len
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_seqgan(cls, path: str | Path | None = None) -> OracleLSTM:
        """The oracle of the SeqGAN paper, from its parameter file (found or downloaded by the data layer)."""
        (embedding, W_i, U_i, b_i, W_f, U_f, b_f, W_o, U_o, b_o, W_c, U_c, b_c, W_out, b_out) = load_oracle_params(path)
        oracle = cls()
        state = {
            "embedding.weight": embedding,
            "lstm.weight_ih_l0": np.concatenate([W_i.T, W_f.T, W_c.T, W_o.T]),
            "lstm.weight_hh_l0": np.concatenate([U_i.T, U_f.T, U_c.T, U_o.T]),
            "lstm.bias_ih_l0": np.concatenate([b_i, b_f, b_c, b_o]),
            "lstm.bias_hh_l0": np.zeros(4 * SEQGAN_DIM, dtype=np.float32),
            "output.weight": W_out.T,
            "output.bias": b_out,
        }
        oracle.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
        return oracle

    @classmethod
    def random(cls, vocab_size: int = SEQGAN_VOCAB, embed_dim: int = SEQGAN_DIM, hidden_dim: int = SEQGAN_DIM,
               seq_len: int = SEQGAN_SEQ_LEN, seed: int = 0, std: float = 1.0) -> OracleLSTM:
        """A new oracle of any size: every parameter drawn from N(0, std²), as SeqGAN and Texygen do.

        A large ``std`` makes the distribution peaked (low entropy), so that it has structure to learn.
        """
        oracle = cls(vocab_size, embed_dim, hidden_dim, seq_len)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in oracle.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * std)
        return oracle

    def sample(self, n: int, max_len: int | None = None, *, rng: torch.Generator | None = None,  # type: ignore[override]
               temperature: float = 1.0, **sampling) -> torch.Tensor:
        """``n`` sequences ``[n, max_len]`` (default: the oracle's ``seq_len``); as :meth:`LSTMGenerator.sample`."""
        return super().sample(n, max_len or self.seq_len, rng=rng, temperature=temperature, **sampling)

    @torch.no_grad()
    def nll(self, tokens: torch.Tensor, batch_size: int = 2048) -> float:
        """Mean per-token NLL of ``tokens`` ``[N, T]`` under the oracle: NLL_oracle when they are a model's samples."""
        total = 0.0
        for batch in tokens.split(batch_size):
            total += self.token_nll(batch.to(self.device)).sum().item()
        return total / tokens.numel()


RATIO_ROWS = 2048  # sequences scored at once: rollouts hand over tens of thousands


class LikelihoodRatio(nn.Module):
    r"""The optimal discriminator between the oracle and a generator, computed exactly.

    Its logit for a sequence :math:`x` ``[B, T]`` is :math:`\log p_{\text{oracle}}(x) - \log p_G(x)`,
    so :math:`\sigma(\text{logit}) = p_{\text{oracle}}(x) / (p_{\text{oracle}}(x) + p_G(x)) = D^*(x)`, the
    discriminator that no amount of training can improve on (Goodfellow et al. 2014, Prop. 1). It
    follows ``generator`` as it trains (it keeps a reference, not a copy, and scores with the
    generator's dropout off); nothing in it is trained. Only token ids are scored: relaxed one-hot
    inputs (the Gumbel GAN's) have no likelihood under the oracle.
    """

    def __init__(self, oracle: OracleLSTM, generator: LSTMGenerator) -> None:
        super().__init__()
        if generator.config.vocab_size != oracle.config.vocab_size:
            raise ValueError(f"the generator writes {generator.config.vocab_size} tokens, the oracle "
                             f"{oracle.config.vocab_size}: the ratio needs one vocabulary")
        self.oracle = oracle.requires_grad_(False)
        self._generator = (generator,)  # not a submodule: the trainer registers and saves it once

    @torch.no_grad()
    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        if sequences.dtype != torch.long:
            raise ValueError("the likelihood ratio scores token ids [B, T], not relaxed one-hot vectors")
        generator = self._generator[0]
        with evaluating(generator), evaluating(self.oracle):
            return torch.cat([self.oracle.log_prob(rows) - generator.log_prob(rows)  # [chunk]
                              for rows in sequences.split(RATIO_ROWS)])
