"""Held-out accuracy of SeqGAN's discriminator over its pretraining rounds, on COCO at the ``cpu`` sizes.

The profiles ask SeqGAN's discriminator to reach 75 % on held-out texts before the adversarial
phase. This measures how far each setting gets in ``--rounds`` rounds: the ``cpu`` profile's
(``SeqGANConfig`` of ``profile.real_text.seqgan``: lr 1e-4, one epoch over 2,000 negatives and as
many real captions per round) and the changes given as JSON, from the seed-0 COCO language model
(trained, or loaded from ``$TEXTGAN_CACHE``) and the same initial discriminator, measured on 2,000
validation captions against as many fresh samples after every round.

    python benchmarks/d_pretraining.py '{"paper": {}, "lr 1e-3": {"d_lr": 0.001}, "3 epochs": {"d_epochs": 3}}'

Prints one JSON line per setting: {"config", "changes", "heldout_accuracy_per_round", "seconds"}.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import torch

from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.recipes.language import language_model, text_splits
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.real_text import HELD_OUT
from textgan_lib.train.gumbel_gan import copy_generator
from textgan_lib.train.seqgan import SeqGANTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", help='JSON: {"name": {SeqGANConfig field: value, ...}, ...}')
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    profile = get_profile("cpu")
    data = text_splits("coco", profile)
    mle, _ = language_model(data, profile, 0, progress=False)
    base = profile.real_text.seqgan.config(0)
    for name, changes in json.loads(args.settings).items():
        config = replace(base, d_target_accuracy=None, d_pretrain_rounds=args.rounds,
                         d_pretrain_max_rounds=args.rounds, **changes)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            discriminator = CNNDiscriminator(len(data.vocab))
        trainer = SeqGANTrainer(copy_generator(mle), discriminator, data.train.tokens, data.max_len, config,
                                progress=False, held_out=data.valid.tokens[:HELD_OUT])
        started = time.perf_counter()
        trainer.pretrain_discriminator()
        accuracy = [round(r["d_heldout_accuracy"], 3) for r in trainer.records if r.get("phase") == "d_pretrain"]
        print(json.dumps({"config": name, "changes": changes, "heldout_accuracy_per_round": accuracy,
                          "seconds": round(time.perf_counter() - started)}), flush=True)


if __name__ == "__main__":
    main()
