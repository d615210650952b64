"""How far a GAN's discriminator is from what the data allow: a reference classifier between real
texts and a generator's, trained and tested on held-out halves.

A discriminator near chance may mean that the generator's texts cannot be told from real ones, or
that the discriminator is weak. A simple, well-understood classifier answers which:
logistic regression on **hashed unigram and bigram counts** (each n-gram's count in the text, in
one of ``buckets`` columns by a stable hash of the n-gram; no vocabulary needed), fitted on half of
each set and tested on the other half. If it separates the sets far better than the GAN's
discriminator does, the discriminator, not the data, is the bottleneck. (On the oracle the exact
likelihood ratio is the best classifier there is: :class:`~textgan_lib.models.oracle.LikelihoodRatio`.)
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import torch


def hashed_ngram_counts(texts: Sequence[Sequence[str]], buckets: int = 2**13) -> torch.Tensor:
    """``[len(texts), buckets]`` counts of each text's unigrams and bigrams, every n-gram in the
    column of its CRC-32 (stable across processes, unlike Python's ``hash``)."""
    counts = torch.zeros(len(texts), buckets)
    for row, text in enumerate(texts):
        if isinstance(text, str):
            raise TypeError(f"texts must be lists of tokens, got the string {text[:40]!r}")
        grams = [(t,) for t in text] + list(zip(text, text[1:]))
        for gram in grams:
            counts[row, zlib.crc32("\x1f".join(map(str, gram)).encode()) % buckets] += 1
    return counts


def ngram_classifier_accuracy(real: Sequence[Sequence[str]], fake: Sequence[Sequence[str]], seed: int = 0, *,
                              buckets: int = 2**13, steps: int = 200, l2: float = 1e-3) -> float:
    """Held-out accuracy (the mean of the two classes' accuracies) of logistic regression on
    :func:`hashed_ngram_counts` (log(1 + count)) telling ``real`` from ``fake``: fitted by L-BFGS
    with an L2 penalty on a random half of each set (from ``seed``), tested on the other half.
    .5 means the n-grams cannot tell the sets apart."""
    if min(len(real), len(fake)) < 4:
        raise ValueError(f"need at least 4 texts of each set, got {len(real)} real and {len(fake)} generated")
    rng = torch.Generator().manual_seed(seed)
    features = torch.log1p(hashed_ngram_counts([*real, *fake], buckets))
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))])
    halves = [torch.randperm(n, generator=rng) + offset for n, offset in ((len(real), 0), (len(fake), len(real)))]
    train = torch.cat([h[: len(h) // 2] for h in halves])
    tests = [h[len(h) // 2:] for h in halves]
    weights = torch.zeros(buckets + 1, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights], max_iter=steps, line_search_fn="strong_wolfe")
    x, y = features[train], labels[train]

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(x @ weights[:-1] + weights[-1], y)
        value = value + l2 * weights[:-1].square().sum()
        value.backward()
        return value

    optimizer.step(loss)
    with torch.no_grad():
        right = [((features[t] @ weights[:-1] + weights[-1] > 0).float() == labels[t]).float().mean() for t in tests]
    return float(sum(right) / 2)
