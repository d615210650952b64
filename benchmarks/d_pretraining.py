"""Held-out accuracy of SeqGAN's discriminator over its pretraining rounds, at the ``cpu`` sizes.

The profiles ask SeqGAN's discriminator to reach 75 % on held-out texts before the adversarial
phase. This measures how far each setting gets in ``--rounds`` rounds: the ``cpu`` profile's
``SeqGANConfig`` (COCO: ``profile.real_text.seqgan``, lr 1e-4, one epoch over 2,000 negatives and
as many real captions per round; the oracle: ``profile.seqgan_oracle``) and the changes given as
JSON, from the seed-0 MLE model (trained, or loaded from ``$TEXTGAN_CACHE``) and the same initial
discriminator, measured on 2,000 held-out real sequences (COCO's validation captions; fresh oracle
samples) against as many fresh samples after every round. On the oracle the exact likelihood ratio
(``LikelihoodRatio``) is measured on the same data: what the data allow; and a setting may give
``"real_pool": N``, N fresh oracle sequences (another seed's draw) as the real data in place of the
profile's training sequences: more real data, which the oracle gives for free.

    python benchmarks/d_pretraining.py '{"paper": {}, "lr 1e-3": {"d_lr": 0.001}, "3 epochs": {"d_epochs": 3}}'
    python benchmarks/d_pretraining.py --corpus oracle '{"cpu": {}, "lr 1e-3": {"d_lr": 0.001}}'

Prints one JSON line per setting: {"config", "changes", "heldout_accuracy_per_round", "seconds"}.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace

import torch

from textgan_lib._seeds import seeded
from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import LSTMGenerator
from textgan_lib.models.oracle import LikelihoodRatio, OracleLSTM
from textgan_lib.recipes.gan_run import HELD_OUT
from textgan_lib.recipes.language import language_model, text_splits
from textgan_lib.recipes.oracle import oracle_mle, oracle_training_data
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.train.adversarial import heldout_discrimination
from textgan_lib.train.gumbel_gan import copy_generator
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer


@dataclass
class Setup:
    """What the discriminator is pretrained against: the seed-0 MLE model whose samples it must
    tell from ``train``, the held-out real sequences it is measured on, and the SeqGAN config whose
    schedule the settings change; on the oracle also the oracle itself and the accuracy of the
    exact likelihood ratio on the same held-out data (what the data allow)."""

    mle: LSTMGenerator
    train: torch.Tensor
    real: torch.Tensor
    max_len: int
    config: SeqGANConfig
    oracle: OracleLSTM | None = None
    perfect_accuracy: float | None = None


def coco(profile) -> Setup:
    """COCO's seed-0 language model, training captions, validation captions and SeqGAN config."""
    data = text_splits("coco", profile)
    mle, _ = language_model(data, profile, 0, progress=False)
    return Setup(mle, data.train.tokens, data.valid.tokens[:HELD_OUT], data.max_len, profile.real_text.seqgan.config(0))


def oracle(profile) -> Setup:
    """The oracle's seed-0 MLE model, its training sequences, fresh held-out oracle sequences, the
    SeqGAN config, and the exact likelihood ratio measured on them."""
    lstm = OracleLSTM.from_seqgan()
    train, held_out = oracle_training_data(lstm, profile.oracle.samples, 0)
    mle, _ = oracle_mle(lstm, profile, 0, data=(train, held_out), progress=False)
    real = held_out[:HELD_OUT]
    fake = mle.sample(HELD_OUT, lstm.seq_len, rng=torch.Generator().manual_seed(0))
    perfect = heldout_discrimination(LikelihoodRatio(lstm, mle), real, fake)["accuracy"]
    return Setup(mle, train, real, lstm.seq_len, profile.seqgan_oracle.config(0), lstm, perfect)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", help='JSON: {"name": {SeqGANConfig field: value, ...}, ...}')
    parser.add_argument("--corpus", choices=("coco", "oracle"), default="coco")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    profile = get_profile("cpu")
    setup = (coco if args.corpus == "coco" else oracle)(profile)
    if setup.perfect_accuracy is not None:
        print(json.dumps({"corpus": args.corpus,
                          "likelihood_ratio_heldout_accuracy": round(setup.perfect_accuracy, 3)}), flush=True)
    for name, changes in json.loads(args.settings).items():
        if "real_pool" in changes and setup.oracle is None:
            raise SystemExit(f"{name}: real_pool draws fresh oracle sequences: give --corpus oracle")
        fields = {k: v for k, v in changes.items() if k != "real_pool"}
        config = replace(setup.config, d_target_accuracy=None, d_pretrain_rounds=args.rounds,
                         d_pretrain_max_rounds=args.rounds, **fields)
        pool = (setup.train if "real_pool" not in changes
                else oracle_training_data(setup.oracle, changes["real_pool"], 1)[0])
        with seeded(0):
            discriminator = CNNDiscriminator(setup.mle.config.vocab_size)
        trainer = SeqGANTrainer(copy_generator(setup.mle), discriminator, pool, setup.max_len, config,
                                progress=False, held_out=setup.real)
        started = time.perf_counter()
        trainer.pretrain_discriminator()
        accuracy = [round(r["d_heldout_accuracy"], 3) for r in trainer.records if r.get("phase") == "d_pretrain"]
        print(json.dumps({"corpus": args.corpus, "config": name, "changes": changes,
                          "heldout_accuracy_per_round": accuracy, "seconds": round(time.perf_counter() - started)}),
              flush=True)


if __name__ == "__main__":
    main()
