r"""An interpolated Kneser–Ney n-gram language model: the baseline an LSTM must beat.

For the highest order, with context :math:`h` (the previous :math:`n-1` tokens) and discount
:math:`D`,

.. math::

    P(w \mid h) = \frac{\max(c(h w) - D, 0)}{c(h)} + \frac{D \, N_{1+}(h \bullet)}{c(h)} \, P(w \mid h'),

where :math:`h'` drops the oldest token of :math:`h` and :math:`N_{1+}(h \bullet)` counts the distinct
words seen after :math:`h`. Lower orders use *continuation* counts, the number of distinct words
seen before :math:`h' w`, instead of raw counts (Kneser & Ney 1995): a word that follows many
different contexts is a better guess in a new one. The recursion ends in a uniform distribution
over the vocabulary, so every token, ``<unk>`` included, has non-zero probability. A context never
seen in training passes all its mass to the next lower order.

Sentences are padded with ``n - 1`` start tokens and must end with ``<eos>``, exactly the tokens an
``LSTMGenerator`` predicts, so the two models' per-token NLLs are directly comparable.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence


class KneserNeyLM:
    """Interpolated Kneser–Ney over token ids ``0 .. vocab_size-1``."""

    def __init__(self, order: int, vocab_size: int, start_id: int, discount: float = 0.75) -> None:
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        self.order, self.vocab_size, self.start_id, self.discount = order, vocab_size, start_id, discount
        # counts[k][context][word] for context length k = 0 .. order-1 (raw at the top, continuation below)
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = [defaultdict(Counter) for _ in range(order)]
        self._totals: list[dict[tuple[int, ...], int]] = []

    def fit(self, sentences: Iterable[Sequence[int]]) -> KneserNeyLM:
        """Count n-grams in id sequences (each ending with ``<eos>``, no start tokens)."""
        top = self.order - 1
        seen_ngrams: set[tuple[int, ...]] = set()
        for sentence in sentences:
            padded = [self.start_id] * top + list(sentence)
            for i in range(top, len(padded)):
                ngram = tuple(padded[i - top : i + 1])
                self.counts[top][ngram[:-1]][ngram[-1]] += 1
                seen_ngrams.add(ngram)
        if not seen_ngrams:
            raise ValueError("cannot fit an n-gram model on an empty corpus")
        # Continuation counts: each distinct n-gram (x, h', w) adds one to h' w one order down.
        for k in range(top, 0, -1):
            next_seen = set()
            for ngram in seen_ngrams:
                lower = ngram[1:]
                self.counts[k - 1][lower[:-1]][lower[-1]] += 1
                next_seen.add(lower)
            seen_ngrams = next_seen
        self._totals = [{ctx: sum(c.values()) for ctx, c in level.items()} for level in self.counts]
        return self

    def prob(self, word: int, context: Sequence[int]) -> float:
        """:math:`P(w \\mid h)` with ``context`` holding at least ``order - 1`` previous ids."""
        if not self._totals:
            raise RuntimeError("fit the model before asking for probabilities")
        p = 1.0 / self.vocab_size
        for k in range(self.order):  # from the unigram level up to the full context
            ctx = tuple(context[len(context) - k :]) if k else ()
            followers = self.counts[k].get(ctx)
            if followers is None:
                continue  # unseen context: all mass stays with the lower order
            total = self._totals[k][ctx]
            p = (max(followers.get(word, 0) - self.discount, 0.0) + self.discount * len(followers) * p) / total
        return p

    def sentence_nll(self, sentence: Sequence[int]) -> float:
        """Total negative log-likelihood (nats) of one sentence, its ``<eos>`` included."""
        padded = [self.start_id] * (self.order - 1) + list(sentence)
        return -sum(math.log(self.prob(padded[i], padded[:i])) for i in range(self.order - 1, len(padded)))

    def mean_token_nll(self, sentences: Iterable[Sequence[int]]) -> float:
        """Mean NLL per predicted token over ``sentences``."""
        total, count = 0.0, 0
        for sentence in sentences:
            total += self.sentence_nll(sentence)
            count += len(sentence)
        if count == 0:
            raise ValueError("no tokens to evaluate")
        return total / count
