"""Scores of generated texts against held-out references: the real-text protocol's numbers."""

from __future__ import annotations

import torch

from ..data.corpora import TextSplits
from ..data.vocab import UNK
from .bleu import BLEU, self_bleu
from .metrics import distinct_n

BLEU_NS = (2, 3, 4, 5)


def decode_samples(data: TextSplits, samples: torch.Tensor) -> list[list[str]]:
    """Token lists of generated ids: up to ``<eos>``, without ``<pad>``/``<bos>``/``<unk>``."""
    return [[t for t in data.vocab.decode(row) if t != UNK] for row in samples.tolist()]


def score_samples(texts: list[list[str]], references: list[list[str]], train_texts: list[list[str]],
                  self_bleu_subset: int | None = None) -> dict:
    """BLEU-2..5 against ``references``, Self-BLEU-2..5 (the mean over disjoint subsets of
    ``self_bleu_subset`` texts, if given; see :func:`~textgan_lib.eval.bleu.self_bleu`), distinct-2..4
    (``None`` where no sample is long enough), the training-copy rate and the mean length in tokens.
    ``bleu_4`` and ``self_bleu_4`` repeat the fourth orders under the plane's column names, the one
    spelling by which the library and the run files read them."""
    bleu = BLEU(references, max_n=max(BLEU_NS)).corpus_mean(texts, ns=BLEU_NS)
    self_bleus = self_bleu(texts, ns=BLEU_NS, subset_size=self_bleu_subset)
    seen = {tuple(t) for t in train_texts}
    return {
        "bleu": {str(n): bleu[n] for n in BLEU_NS},
        "self_bleu": {str(n): v for n, v in self_bleus.items()},
        "bleu_4": bleu[4],
        "self_bleu_4": self_bleus[4],
        # None when no sample is n tokens long (a degenerate generator: nothing to count)
        "distinct": {str(n): distinct_n(texts, n) if any(len(t) >= n for t in texts) else None for n in (2, 3, 4)},
        "train_copy_rate": sum(tuple(t) in seen for t in texts) / len(texts),
        "mean_length": sum(map(len, texts)) / len(texts),
    }
