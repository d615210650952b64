"""BLEU / Self-BLEU speed and exactness: the library against NLTK.

Scores 1,000 hypotheses (Image COCO training captions, a stand-in for generated text) with BLEU-2..5
against the 10,000 test captions, and Self-BLEU-2..5 of 1,000 samples, with the library; then NLTK's
``sentence_bleu`` (method1 smoothing) on a subset of the hypotheses, extrapolated per hypothesis
(all four n), and the largest difference between the two on that subset.

    python benchmarks/bleu_speed.py [--nltk-hypotheses 5]

The last line printed is JSON: {"lib_bleu_s", "lib_selfbleu_s", "nltk_s_per_hypothesis", "speedup",
"max_abs_diff"}; speedup = NLTK's time for 1,000 hypotheses (extrapolated) / the library's.
"""

from __future__ import annotations

import argparse
import json
import time

from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from textgan_lib import WordTokenizer, load_coco
from textgan_lib.eval.bleu import BLEU, self_bleu

NS = (2, 3, 4, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nltk-hypotheses", type=int, default=5, help="hypotheses scored by NLTK (slow)")
    args = parser.parse_args()
    tokenizer = WordTokenizer()
    references = [tokenizer.tokenize(s) for s in load_coco("test")]
    hypotheses = [tokenizer.tokenize(s) for s in load_coco("train")[:1000]]

    started = time.perf_counter()
    bleu = BLEU(references)  # the one-off reference table is part of the library's time
    lib_scores = bleu.corpus_mean(hypotheses, NS)
    lib_bleu_s = time.perf_counter() - started

    started = time.perf_counter()
    self_scores = self_bleu(hypotheses, NS)
    lib_selfbleu_s = time.perf_counter() - started

    smoothing = SmoothingFunction().method1
    subset = hypotheses[: args.nltk_hypotheses]
    max_abs_diff = 0.0
    started = time.perf_counter()
    nltk_scores = [[sentence_bleu(references, h, weights=tuple([1 / n] * n), smoothing_function=smoothing) for n in NS]
                   for h in subset]
    nltk_s_per_hypothesis = (time.perf_counter() - started) / len(subset)
    for h, expected in zip(subset, nltk_scores):
        max_abs_diff = max(max_abs_diff, *(abs(a - b) for a, b in zip(bleu.sentence_bleus(h, NS), expected)))

    print("library BLEU-n:", {n: round(v, 4) for n, v in lib_scores.items()})
    print("library Self-BLEU-n:", {n: round(v, 4) for n, v in self_scores.items()})
    print(json.dumps({"lib_bleu_s": round(lib_bleu_s, 3), "lib_selfbleu_s": round(lib_selfbleu_s, 3),
                      "nltk_s_per_hypothesis": round(nltk_s_per_hypothesis, 3),
                      "speedup": round(nltk_s_per_hypothesis * len(hypotheses) / lib_bleu_s, 1),
                      "max_abs_diff": max_abs_diff}))


if __name__ == "__main__":
    main()
