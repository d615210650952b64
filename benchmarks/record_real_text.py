"""Record the runs a chapter replays instead of training them (``profile.real_text.replayed``).

For each replayed corpus of the profile: ``real_text`` of chapter 10's three models (the MLE model,
SeqGAN, the Gumbel GAN) and the MLE model's temperature sweep (``temperature_sweep``), written to
``benchmarks/results/real_text_<profile>/`` as the chapter would write them to its cache, samples
included (the references are test data and stay out). Models whose checkpoints are already in
``TEXTGAN_CACHE`` are reused, not trained again: a study's runs of the same seed train the same
models, so recording after them costs only the sampling and the scores.

    TEXTGAN_DATA=DIR python benchmarks/record_real_text.py --profile cpu [--seed 0] [--corpus poems news]

The last line printed is JSON: {"profile", "profile_tag", "seed", "out", "runs": {"<corpus>_<method>": seconds}}.
"""

from __future__ import annotations

import argparse
import json
import time

from textgan_lib import get_profile
from textgan_lib.book.recorded import replay_folder
from textgan_lib.recipes.real_text import CORPORA, real_text
from textgan_lib.recipes.runs import profile_tag
from textgan_lib.recipes.sweep import temperature_sweep

CHAPTER_METHODS = ("mle", "seqgan", "gumbel")  # chapter 10's models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", nargs="+", choices=CORPORA, help="default: the profile's replayed corpora")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    out = replay_folder(profile.name)
    seconds = {}
    for corpus in args.corpus or profile.real_text.replayed:
        for method in CHAPTER_METHODS:
            started = time.perf_counter()
            real_text(corpus, method, profile, args.seed, out=out, progress=False)
            seconds[f"{corpus}_{method}"] = round(time.perf_counter() - started, 1)
            print(f"{corpus} / {method}: {seconds[f'{corpus}_{method}']} s", flush=True)
        started = time.perf_counter()
        temperature_sweep(corpus, profile, args.seed, out=out)
        seconds[f"{corpus}_temperature_sweep"] = round(time.perf_counter() - started, 1)
    for references in out.glob("*_references.txt"):  # test data: never committed
        references.unlink()
    print(json.dumps({"profile": profile.name, "profile_tag": profile_tag(profile), "seed": args.seed,
                      "out": out.as_posix(), "runs": seconds}))


if __name__ == "__main__":
    main()
