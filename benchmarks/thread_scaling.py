"""Two cores, two ways: one process on two threads against two one-thread processes side by side.

Would the book build faster if two chapters ran at once, one thread each, instead of one after the
other on two threads? The workloads are the `cpu` profile's language model (vocabulary 5,000,
embedding 128, hidden 256, dropout .3, batch 64, 32 tokens): a training step (forward, backward,
Adam) and sampling 1,000 captions of 32 tokens. Each is timed in a fresh process (a) on one thread,
(b) on two threads, and (c) as two one-thread processes started together (the slower one counts).

    python benchmarks/thread_scaling.py [--steps 30]

The last line printed is JSON: {"cpus", "train_1_thread_s", "train_2_threads_s",
"train_2_processes_s", "sample_1_thread_s", "sample_2_threads_s", "sample_2_processes_s",
"train_parallel_gain", "sample_parallel_gain"}. A ``*_parallel_gain`` is the two-process throughput
over the two-thread throughput (2 x (b) / (c)): above 1, running two chapters at once would pay.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

VOCAB, EMBED, HIDDEN, DROPOUT, BATCH, LENGTH, SAMPLES = 5000, 128, 256, 0.3, 64, 32, 1000


def worker(workload: str, steps: int) -> float:
    """Seconds for ``steps`` training steps or for sampling ``SAMPLES`` sequences, after a warm-up."""
    import torch

    from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator

    torch.manual_seed(0)
    model = LSTMGenerator(GeneratorConfig(vocab_size=VOCAB, embed_dim=EMBED, hidden_dim=HIDDEN, dropout=DROPOUT))
    if workload == "sample":
        model.eval()
        with torch.no_grad():
            model.sample(64, LENGTH)
            started = time.perf_counter()
            model.sample(SAMPLES, LENGTH)
        return time.perf_counter() - started
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    tokens = torch.randint(3, VOCAB, (BATCH, LENGTH + 1))

    def step() -> None:
        logits, _ = model(tokens[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - started


def timed(workload: str, steps: int, threads: int, processes: int) -> float:
    """The slowest of ``processes`` workers started together, each on ``threads`` threads."""
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, __file__, "--worker", workload, "--steps", str(steps)]
    # our own interpreter and script
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
               for _ in range(processes)]
    return max(float(w.communicate()[0].strip().splitlines()[-1]) for w in workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--worker", choices=("train", "sample"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(worker(args.worker, args.steps))
        return
    result: dict[str, float | int] = {"cpus": os.cpu_count() or 0}
    for workload in ("train", "sample"):
        result[f"{workload}_1_thread_s"] = timed(workload, args.steps, 1, 1)
        result[f"{workload}_2_threads_s"] = timed(workload, args.steps, 2, 1)
        result[f"{workload}_2_processes_s"] = timed(workload, args.steps, 1, 2)
        result[f"{workload}_parallel_gain"] = 2 * result[f"{workload}_2_threads_s"] / result[
            f"{workload}_2_processes_s"]
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
