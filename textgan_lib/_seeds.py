"""Every random stream a run draws from, by name, derived from the run's seed in this one place.

Code never seeds a generator with ``seed + k``: it asks for ``stream(seed, "test_samples")`` (a
``torch.Generator``) or ``stream_seed(seed, name)`` (its seed), and builds models inside
``seeded(seed)``, which leaves the caller's global random stream as it was.

The offsets below are those the recorded study and the chapters ran with, so that every recorded
number reproduces. Names that share an offset draw the same numbers; they feed different things,
and two of them share by accident rather than design (SeqGAN's held-out fakes and the test samples,
both 2): kept, because changing either changes recorded results. A new stream takes an offset no
name uses yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

OFFSETS: dict[str, int] = {
    "weights": 0,  # a model's initial weights, built inside seeded(seed)
    "training": 0,  # a trainer's own streams: sampling, shuffling, batches, noise, and its dropout stream
    "data": 0,  # data drawn for a run: the oracle's sequences, a subset of training texts
    "resampling": 0,  # bootstrap resamples of a two-sample statistic
    "oracle_evaluation": 1,  # the oracle evaluator's fresh samples, and the oracle study's curves
    "gumbel_monitor": 1,  # the Gumbel GAN's monitoring samples
    "stream_after_device_change": 1,  # plus the step: a stream that cannot follow its run to another device
    "test_samples": 2,  # the samples a run is scored with, and the MLE model's curves
    "seqgan_held_out": 2,  # SeqGAN's held-out discriminator fakes (the test samples' offset: see above)
    "gaussian_codes": 2,  # codes drawn from the Gaussian fit to an autoencoder's codes
    "sampled_decoding": 3,  # generated codes decoded by sampling; the length-matched control's pool
    "validation_samples": 4,  # samples scored on validation texts for checkpoint selection
    "code_test_gan": 5,  # the code GAN's codes in the code-space tests
    "reward_shuffle": 6,  # the shuffled-reward placebo's permutations
    "reference_samples": 7,  # the MLE samples a reference classifier tells from real sequences
    "noise_floor": 8,  # the MLE model's samples drawn again, whose gap to its own curve is sampling noise
    "reverse_lm": 9,  # the weights and batches of a language model trained on generated texts
    # the seed of the LM score's scorer, a language model of its own: far from the seeds a study runs
    "scorer_lm": 1000,
}


def stream_seed(seed: int, name: str) -> int:
    """The seed of the stream ``name`` of a run seeded with ``seed``."""
    try:
        return seed + OFFSETS[name]
    except KeyError:
        raise KeyError(f"no random stream named {name!r}: add it to textgan_lib._seeds.OFFSETS with an offset of "
                       f"its own (names: {sorted(OFFSETS)})") from None


def stream(seed: int, name: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` for the stream ``name`` of a run seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(stream_seed(seed, name))


@contextmanager
def seeded(seed: int, name: str = "weights") -> Iterator[None]:
    """Inside the block torch's global (CPU) generator is seeded with the stream ``name`` of
    ``seed``; after it, the caller's stream is as it was: for building a model's initial weights."""
    with torch.random.fork_rng():
        torch.manual_seed(stream_seed(seed, name))
        yield
