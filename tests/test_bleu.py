"""BLEU and Self-BLEU equal NLTK's sentence_bleu with method1 smoothing, to 1e-9."""

import math
import random

import pytest
import torch
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from textgan_lib import WordTokenizer, load_coco
from textgan_lib.eval.bleu import BLEU, self_bleu
from textgan_lib.eval.metrics import nll_div, quality_diversity_sweep
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator

SMOOTH = SmoothingFunction().method1


def nltk_bleu(references, hypothesis, n):
    return sentence_bleu(references, hypothesis, weights=tuple([1 / n] * n), smoothing_function=SMOOTH)


@pytest.fixture(scope="module")
def coco():
    tok = WordTokenizer()
    return [tok.tokenize(s) for s in load_coco("test")[:2000]], [tok.tokenize(s) for s in load_coco("train")[:300]]


@pytest.mark.slow  # BLEU of COCO captions against NLTK, sentence by sentence (about 8 s)
def test_bleu_equals_nltk_on_coco(coco):
    references, hypotheses = coco
    bleu = BLEU(references)
    rng = random.Random(0)
    # real captions, shuffled-word captions (few matches), very short and empty hypotheses
    cases = hypotheses[:12] + [rng.sample(h, len(h)) for h in hypotheses[12:20]] + [["a"], ["zebra", "zebra"], []]
    for hyp in cases:
        for n in (2, 3, 4, 5):
            assert bleu.sentence_bleu(hyp, n) == pytest.approx(nltk_bleu(references, hyp, n), abs=1e-9)


def test_corpus_mean_is_the_mean_of_sentence_scores(coco):
    references, hypotheses = coco
    bleu = BLEU(references)
    means = bleu.corpus_mean(hypotheses[:30], ns=(2, 4))
    assert means[4] == pytest.approx(sum(bleu.sentence_bleu(h, 4) for h in hypotheses[:30]) / 30)


def test_self_bleu_is_leave_one_out_and_equals_nltk(coco):
    _, samples = coco
    samples = samples[:40] + [samples[0], samples[0][:5]]  # a duplicate and a unique length
    scores = self_bleu(samples, ns=(2, 3, 4, 5))
    for n in (2, 3, 4, 5):
        direct = sum(nltk_bleu(samples[:i] + samples[i + 1 :], samples[i], n)
                     for i in range(len(samples))) / len(samples)
        assert scores[n] == pytest.approx(direct, abs=1e-9)


def test_self_bleu_never_scores_a_sample_against_itself():
    samples = [["a", "b", "c", "d"], ["w", "x", "y", "z"]]
    assert self_bleu(samples, ns=(2,))[2] == 0.0  # with itself included this would be 1.0


def test_bleu_errors():
    with pytest.raises(ValueError, match="at least one reference"):
        BLEU([])
    with pytest.raises(ValueError, match="at least two samples"):
        self_bleu([["a"]])
    with pytest.raises(ValueError, match="n must be in"):
        BLEU([["a"]], max_n=3).sentence_bleu(["a"], 4)


def test_quality_diversity_sweep_and_nll_div():
    config = GeneratorConfig(vocab_size=30, embed_dim=4, hidden_dim=8, start_id=0, pad_id=None, eos_id=None)
    model = LSTMGenerator(config)
    sweep = quality_diversity_sweep(model, [0.5, 1.0, 2.0], n_samples=300, max_len=6,
                                    metrics={"distinct": lambda s: len({tuple(r) for r in s.tolist()}) / len(s)})
    assert list(sweep.columns) == ["temperature", "nll_div", "distinct"]
    assert sweep["nll_div"].is_monotonic_increasing  # hotter sampling, higher entropy rate
    assert sweep["distinct"].is_monotonic_increasing
    with pytest.raises(ValueError, match="nll_div"):
        quality_diversity_sweep(model, [1.0], 10, 6, metrics={"nll_div": lambda s: 0.0})
    div = nll_div(model, 300, 6, rng=torch.Generator().manual_seed(0))
    assert 0 < div < 2 * torch.log(torch.tensor(30.0)).item()


def test_self_bleu_of_disjoint_subsets_does_not_grow_with_the_set(coco):
    # the same distribution scored at 100, 200 and 400 texts: the plain score grows with the number
    # of others each text can match; the mean over subsets of 100 stays where 100 texts are
    texts = coco[0][:400]  # test captions, tokenized
    plain = [self_bleu(texts[:n], ns=(4,))[4] for n in (100, 200, 400)]
    assert plain[0] < plain[1] < plain[2]
    subsets = [self_bleu(texts[:n], ns=(4,), subset_size=100)[4] for n in (100, 200, 400)]
    assert subsets[0] == plain[0]
    assert subsets[2] == pytest.approx(sum(self_bleu(texts[i: i + 100], ns=(4,))[4] for i in range(0, 400, 100)) / 4)
    assert max(subsets) - min(subsets) < (plain[2] - plain[0]) / 3
    assert self_bleu(texts[:250], ns=(4,), subset_size=100) == self_bleu(texts[:200], ns=(4,), subset_size=100)
    with pytest.raises(ValueError, match="subset_size"):
        self_bleu(texts[:50], subset_size=100)


def test_one_more_reference_can_lower_bleu_through_the_brevity_penalty():
    # chapter 10's caveat: the brevity penalty uses the reference length closest to the sentence's
    sentence = "a b c d e f g h i j".split()  # 10 tokens
    short = "a b c d e f g h".split()  # 8 tokens: shorter than the sentence, no penalty
    longer = "x y z w v u t s r q p".split()  # 11 tokens: closer to 10, so the penalty applies
    alone = BLEU([short], max_n=2).sentence_bleu(sentence, 2)
    both = BLEU([short, longer], max_n=2).sentence_bleu(sentence, 2)
    assert both == pytest.approx(alone * math.exp(1 - 11 / 10))
