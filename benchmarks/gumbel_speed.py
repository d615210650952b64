"""Seconds per Gumbel GAN iteration at the book's ``cpu`` sizes, on COCO and on the oracle.

One iteration = one generator step and ``d_steps`` (5) discriminator steps, each on fresh relaxed
samples of batch 64 (``GumbelGANTrainer.train_step``). Timed at a fixed inverse temperature of 1
and of 100 (``beta_schedule="no"``), from an untrained generator of the ``cpu`` language model's
sizes (COCO: embedding 128, hidden 256, its vocabulary, length 32; oracle: 32/32, 5,000 words,
length 20) against ``CNNDiscriminator.relgan_sized`` with the profile's filters. Runs only
``train_step``, so the same script times an older commit of the library (put it first on
``PYTHONPATH``) for a before/after comparison.

    python benchmarks/gumbel_speed.py [--iterations 5] [--threads 2]

The last line printed is JSON: {"threads", "torch", "coco_beta1_s", "coco_beta100_s",
"oracle_beta1_s", "oracle_beta100_s"}, each the median seconds per iteration after one warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from dataclasses import replace

import torch

from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.recipes.language import text_splits
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.train.gumbel_gan import GumbelGANTrainer


def seconds_per_iteration(generator: LSTMGenerator, discriminator: CNNDiscriminator, real: torch.Tensor,
                          max_len: int, config, iterations: int) -> float:
    trainer = GumbelGANTrainer(generator, discriminator, real, max_len, config, progress=False)
    trainer.train_step()  # warm-up
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        trainer.train_step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # an untrained generator has not learned to pad: timing only
    profile = get_profile("cpu")
    data = text_splits("coco", profile)
    result = {"threads": args.threads, "torch": torch.__version__}
    oracle_real = torch.randint(0, 5000, (10_000, 20), generator=torch.Generator().manual_seed(0))
    setups = {
        "coco": (lambda: LSTMGenerator.for_vocabulary(data.vocab, **profile.lm.model_sizes()), len(data.vocab),
                 data.train.tokens, data.max_len, profile.real_text.gumbel),
        "oracle": (lambda: LSTMGenerator(GeneratorConfig(5000, 32, 32, start_id=0, pad_id=None, eos_id=None)), 5000,
                   oracle_real, 20, profile.gumbel_oracle),
    }
    for name, (make_generator, vocab_size, real, max_len, sizes) in setups.items():
        for beta in (1.0, 100.0):
            with torch.random.fork_rng():
                torch.manual_seed(0)
                generator = make_generator()
                discriminator = CNNDiscriminator.relgan_sized(vocab_size, sizes.filters)
            config = replace(sizes.config(0, max_beta=max(beta, 1.0)), beta_schedule="no", eval_every=10**9)
            seconds = seconds_per_iteration(generator, discriminator, real, max_len, config, args.iterations)
            result[f"{name}_beta{beta:g}_s"] = round(seconds, 4)
            print(f"{name}, beta {beta:g}: {seconds:.3f} s per iteration", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
