"""One SeqGAN adversarial generator step: the library's vectorised rollouts against a plain loop.

Setting of the SeqGAN paper: vocabulary 5,000, embedding 32, hidden 32, length 20; 64 sampled
sequences, 16 rollouts per prefix, the paper's CNN discriminator. A step = sample, rollout rewards
for every prefix, policy-gradient update. The loop implementation differs only in the rewards: it
is SeqGAN's rollout as usually written, a loop over rollouts and prefix lengths that re-reads each
prefix, samples the rest token by token (softmax, ``torch.multinomial``) and scores every batch of
completions in float32. The library scores rewards in float32 too unless ``--reward-dtype bfloat16``
(the JSON says which was timed). The library step is timed twice: with the discriminator's
prefix reuse (``rollout_rewards``'s default: windows inside a prefix are not recomputed) and
without it (``reuse_prefixes=False``), both in the same precision. Also timed: sampling 10,000
sequences with the library, and one discriminator epoch (batch 64, Adam, float32) over 20,000
sequences by the SeqGAN trainer's own ``discriminator_epoch`` (on CUDA: replayed as a CUDA
graph; then the eager epoch is timed too).

    python benchmarks/seqgan_step.py [--repeats 3] [--loop-repeats 1] [--device cuda] [--reward-dtype bfloat16]

The last line printed is JSON: {"cpu", "amx", "reward_dtype", "lib_step_s", "lib_step_no_reuse_s",
"loop_step_s", "step_speedup", "step_speedup_no_reuse", "sample_10k_s", "sample_10k_other_mode_s",
"d_epoch_20k_s"} (on CUDA also "gpu", "d_epoch_20k_eager_s" and "d_epoch_20k_per_width_s", the
graphed epoch with one convolution per window width instead of the fused product that CUDA uses by
default). ``step_speedup`` is loop / library with reuse.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import time
from pathlib import Path

import torch

from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.paper import SEQGAN_PAPER
from textgan_lib.train.losses import policy_gradient_loss
from textgan_lib.train.rollout import REWARD_DTYPES, rollout_rewards
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer

VOCAB, DIM, LENGTH, BATCH, ROLLOUTS = (SEQGAN_PAPER.vocab_size, SEQGAN_PAPER.hidden_dim, SEQGAN_PAPER.seq_len,
                                      SEQGAN_PAPER.batch_size, SEQGAN_PAPER.n_rollouts)


@torch.no_grad()
def plain_loop_rewards(policy, discriminator, sequences, n_rollouts, rng):
    """Rewards [B, T] the straightforward way: one completion batch per (rollout, prefix length)."""
    B, T = sequences.shape
    discriminator.eval()
    rewards = torch.zeros(B, T, device=sequences.device)
    for _ in range(n_rollouts):
        for t in range(1, T):
            inputs = torch.cat([sequences.new_zeros(B, 1), sequences[:, :t]], dim=1)
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


def cpu_description() -> tuple[str, bool]:
    """The CPU's model name and whether it has AMX tiles (Linux: /proc/cpuinfo)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return platform.processor() or "unknown", False
    lines = cpuinfo.read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return model, "amx_tile" in flags


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def generator_step(generator, rollout, discriminator, optimizer, reward_fn, rng) -> float:
    synchronize(generator.device)
    started = time.perf_counter()
    samples = generator.sample(BATCH, LENGTH, rng=rng)
    rewards = reward_fn(rollout, discriminator, samples, ROLLOUTS, rng)
    loss = policy_gradient_loss(-generator.token_nll(samples), rewards)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(generator.parameters(), 5.0)
    optimizer.step()
    synchronize(generator.device)
    return time.perf_counter() - started


def discriminator_epoch(generator, discriminator, data, labels, graphed: bool) -> float:
    """Seconds for one epoch of the SeqGAN trainer's own discriminator steps over ``data``."""
    trainer = SeqGANTrainer(generator, discriminator, data[: len(data) // 2], max_len=LENGTH,
                            config=SeqGANConfig(cuda_graphs=graphed), progress=False)
    synchronize(data.device)
    started = time.perf_counter()
    trainer.discriminator_epoch(data, labels)
    synchronize(data.device)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="library steps timed each way (best counts)")
    parser.add_argument("--loop-repeats", type=int, default=1, help="loop steps timed (best counts)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--reward-dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                        help="precision of the library's reward scoring (the loop always uses float32)")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    rng = torch.Generator(device).manual_seed(0)
    generator = LSTMGenerator(GeneratorConfig(VOCAB, DIM, DIM, start_id=0, pad_id=None, eos_id=None)).to(device)
    rollout = LSTMGenerator(generator.config).to(device)
    rollout.load_state_dict(generator.state_dict())
    discriminator = CNNDiscriminator(VOCAB).to(device)
    optimizer = torch.optim.Adam(generator.parameters(), lr=0.01)

    autocast_dtype = REWARD_DTYPES[args.reward_dtype]
    library_rewards = functools.partial(rollout_rewards, autocast_dtype=autocast_dtype)
    no_reuse_rewards = functools.partial(rollout_rewards, autocast_dtype=autocast_dtype, reuse_prefixes=False)
    generator_step(generator, rollout, discriminator, optimizer, library_rewards, rng)  # warm-up
    lib_times, no_reuse_times = [], []
    for _ in range(args.repeats):  # alternated, so that machine noise hits both alike; best counts
        lib_times.append(generator_step(generator, rollout, discriminator, optimizer, library_rewards, rng))
        no_reuse_times.append(generator_step(generator, rollout, discriminator, optimizer, no_reuse_rewards, rng))
    lib, no_reuse = min(lib_times), min(no_reuse_times)
    print(f"library step: {lib:.2f} s; without prefix reuse: {no_reuse:.2f} s")
    loop = min(generator_step(generator, rollout, discriminator, optimizer, plain_loop_rewards, rng)
               for _ in range(args.loop_repeats))
    print(f"loop step: {loop:.2f} s")

    def sample_10k_seconds(sync_free: bool) -> float:
        synchronize(device)
        started = time.perf_counter()
        generator.sample(10_000, LENGTH, rng=rng, sync_free=sync_free)
        synchronize(device)
        return time.perf_counter() - started

    # The default on CUDA draws all rows per step with no host sync; on a CPU, cache-sized chunks.
    default_sync_free = device.type == "cuda"
    sample_10k = min(sample_10k_seconds(default_sync_free) for _ in range(3))
    sample_10k_other = min(sample_10k_seconds(not default_sync_free) for _ in range(3))

    data = generator.sample(20_000, LENGTH, rng=rng)
    labels = (torch.arange(20_000, device=device) < 10_000).float()
    model, amx = cpu_description()
    results = {"cpu": model, "amx": amx, "reward_dtype": args.reward_dtype, "lib_step_s": round(lib, 3),
               "lib_step_no_reuse_s": round(no_reuse, 3), "loop_step_s": round(loop, 3),
               "step_speedup": round(loop / lib, 1), "step_speedup_no_reuse": round(loop / no_reuse, 1),
               "sample_10k_s": round(sample_10k, 3),
               "sample_10k_other_mode_s": round(sample_10k_other, 3),  # chunked on CUDA, sync-free on a CPU
               "d_epoch_20k_s": round(discriminator_epoch(generator, discriminator, data, labels, graphed=True), 3)}
    if device.type == "cuda":
        eager = discriminator_epoch(generator, discriminator, data, labels, graphed=False)
        results["d_epoch_20k_eager_s"] = round(eager, 3)
        discriminator.fused_windows = False  # one convolution per width, as on a CPU
        per_width = discriminator_epoch(generator, discriminator, data, labels, graphed=True)
        results["d_epoch_20k_per_width_s"] = round(per_width, 3)
        discriminator.fused_windows = None
        results["gpu"] = torch.cuda.get_device_name(device)
        print(f"torch {torch.__version__}, {torch.cuda.get_device_name(device)}")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
