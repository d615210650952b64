"""One SeqGAN adversarial generator step: the library's vectorised rollouts against a plain loop.

Setting of the SeqGAN paper: vocabulary 5,000, embedding 32, hidden 32, length 20; 64 sampled
sequences, 16 rollouts per prefix, the paper's CNN discriminator. A step = sample, rollout rewards
for every prefix, policy-gradient update. The loop implementation differs only in the rewards: it
is SeqGAN's rollout as usually written, a loop over rollouts and prefix lengths that re-reads each
prefix, samples the rest token by token (softmax, ``torch.multinomial``) and scores every batch of
completions in float32. Also timed: sampling 10,000 sequences with the library, and one
discriminator epoch (batch 64, Adam, float32) over 20,000 sequences.

    python benchmarks/seqgan_step.py [--repeats 3] [--loop-repeats 1]

The last line printed is JSON: {"lib_step_s", "loop_step_s", "step_speedup", "sample_10k_s", "d_epoch_20k_s"}.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from textgan_lib.batching import iterate_minibatches
from textgan_lib.discriminators import CNNDiscriminator
from textgan_lib.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.losses import policy_gradient_loss
from textgan_lib.rollout import rollout_rewards

VOCAB, DIM, LENGTH, BATCH, ROLLOUTS = 5000, 32, 20, 64, 16


@torch.no_grad()
def plain_loop_rewards(policy, discriminator, sequences, n_rollouts, rng):
    """Rewards [B, T] the straightforward way: one completion batch per (rollout, prefix length)."""
    B, T = sequences.shape
    discriminator.eval()
    rewards = torch.zeros(B, T)
    for _ in range(n_rollouts):
        for t in range(1, T):
            inputs = torch.cat([torch.zeros(B, 1, dtype=torch.long), sequences[:, :t]], dim=1)
            h, state = policy.lstm(policy.embedding(inputs))
            tokens = [sequences[:, :t]]
            for s in range(t, T):
                next_token = torch.multinomial(torch.softmax(policy.output(h[:, -1]), dim=-1), 1, generator=rng)
                tokens.append(next_token)
                if s + 1 < T:
                    h, state = policy.lstm(policy.embedding(next_token), state)
            rewards[:, t - 1] += torch.sigmoid(discriminator(torch.cat(tokens, dim=1))) / n_rollouts
    rewards[:, T - 1] = torch.sigmoid(discriminator(sequences))
    discriminator.train()
    return rewards


def generator_step(generator, rollout, discriminator, optimizer, reward_fn, rng) -> float:
    started = time.perf_counter()
    samples = generator.sample(BATCH, LENGTH, generator=rng)
    rewards = reward_fn(rollout, discriminator, samples, ROLLOUTS, rng)
    loss = policy_gradient_loss(-generator.token_nll(samples), rewards)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(generator.parameters(), 5.0)
    optimizer.step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="library steps timed (best counts)")
    parser.add_argument("--loop-repeats", type=int, default=1, help="loop steps timed (best counts)")
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = torch.Generator().manual_seed(0)
    generator = LSTMGenerator(GeneratorConfig(VOCAB, DIM, DIM, start_id=0, pad_id=None, eos_id=None))
    rollout = LSTMGenerator(generator.config)
    rollout.load_state_dict(generator.state_dict())
    discriminator = CNNDiscriminator(VOCAB)
    optimizer = torch.optim.Adam(generator.parameters(), lr=0.01)

    generator_step(generator, rollout, discriminator, optimizer, rollout_rewards, rng)  # warm-up
    lib = min(generator_step(generator, rollout, discriminator, optimizer, rollout_rewards, rng) for _ in range(args.repeats))
    print(f"library step: {lib:.2f} s")
    loop = min(generator_step(generator, rollout, discriminator, optimizer, plain_loop_rewards, rng)
               for _ in range(args.loop_repeats))
    print(f"loop step: {loop:.2f} s")

    started = time.perf_counter()
    generator.sample(10_000, LENGTH, generator=rng)
    sample_10k = time.perf_counter() - started

    data = generator.sample(20_000, LENGTH, generator=rng)
    labels = (torch.arange(20_000) < 10_000).float()
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-4)
    started = time.perf_counter()
    for index in iterate_minibatches(len(data), 64, generator=rng):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(discriminator(data[index]), labels[index])
        d_optimizer.zero_grad()
        (loss + discriminator.l2_penalty()).backward()
        d_optimizer.step()
    d_epoch = time.perf_counter() - started

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(json.dumps({"lib_step_s": round(lib, 3), "loop_step_s": round(loop, 3), "step_speedup": round(loop / lib, 1),
                      "sample_10k_s": round(sample_10k, 3), "d_epoch_20k_s": round(d_epoch, 3)}))


if __name__ == "__main__":
    main()
