"""One generator step of ScratchGAN (dense per-token rewards) against one of SeqGAN (Monte-Carlo
rollout rewards), at the same batch and sequence length, and the variance of their gradients.

Setting of the SeqGAN paper's oracle: vocabulary 5,000, embedding and hidden 32, length 20, batch
64; SeqGAN with 16 rollouts per prefix and its CNN discriminator, ScratchGAN with its per-token LSTM
discriminator (hidden 32). A step = sample the batch, reward every token, one REINFORCE update
(the trainers' own ``generator_step``). The gradient variance: the generator's policy-gradient
gradient at fixed weights over ``--draws`` independent batches (fresh samples and, for SeqGAN,
fresh rollouts), its total variance (the trace of the covariance, summed over parameters) divided
by the squared norm of the mean gradient: a scale-free noise-to-signal ratio, since the two losses
weight their rewards differently.

    python benchmarks/dense_vs_rollout.py [--repeats 5] [--draws 20]

The last line printed is JSON: {"cpu", "torch", "batch", "length", "rollouts", "seqgan_step_s",
"scratchgan_step_s", "step_ratio", "seqgan_relative_variance", "scratchgan_relative_variance"};
``step_ratio`` is SeqGAN's step time over ScratchGAN's.
"""

from __future__ import annotations

import argparse
import json

import torch
from seqgan_step import cpu_description  # this folder is on sys.path when run as a script

from textgan_lib.models.discriminators import CNNDiscriminator, TokenLSTMDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.paper import SEQGAN_PAPER
from textgan_lib.train.adversarial import generator_step_seconds, policy_gradient_noise
from textgan_lib.train.scratchgan import ScratchGANConfig, ScratchGANTrainer
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer

VOCAB, DIM, LENGTH, BATCH, ROLLOUTS = (SEQGAN_PAPER.vocab_size, SEQGAN_PAPER.hidden_dim, SEQGAN_PAPER.seq_len,
                                      SEQGAN_PAPER.batch_size, SEQGAN_PAPER.n_rollouts)


def _generator() -> LSTMGenerator:
    torch.manual_seed(0)
    return LSTMGenerator(GeneratorConfig(VOCAB, DIM, DIM, start_id=0, pad_id=None, eos_id=None))


def trainers() -> tuple[SeqGANTrainer, ScratchGANTrainer]:
    real = _generator().sample(1000, LENGTH, rng=torch.Generator().manual_seed(1))
    seqgan = SeqGANTrainer(_generator(), CNNDiscriminator(VOCAB), real, LENGTH,
                           SeqGANConfig(batch_size=BATCH, n_rollouts=ROLLOUTS, d_pretrain_rounds=0), progress=False)
    scratch = ScratchGANTrainer(_generator(), TokenLSTMDiscriminator(VOCAB, embed_dim=DIM, hidden_dim=DIM), real,
                                LENGTH, ScratchGANConfig(batch_size=BATCH), progress=False)
    return seqgan, scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, default=20)
    args = parser.parse_args()
    seqgan, scratch = trainers()
    result = {"cpu": cpu_description(), "torch": torch.__version__, "threads": torch.get_num_threads(),
              "batch": BATCH, "length": LENGTH, "rollouts": ROLLOUTS,
              "seqgan_step_s": generator_step_seconds(seqgan, args.repeats),
              "scratchgan_step_s": generator_step_seconds(scratch, args.repeats)}
    result["step_ratio"] = result["seqgan_step_s"] / result["scratchgan_step_s"]
    seqgan, scratch = trainers()
    result["seqgan_relative_variance"] = policy_gradient_noise(seqgan, args.draws)
    result["scratchgan_relative_variance"] = policy_gradient_noise(scratch, args.draws)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
