"""MLE training throughput: the library's trainer against a straightforward reference loop.

Both train the SeqGAN oracle configuration (vocabulary 5,000, embedding 32, hidden 32, length 20,
batch 64, Adam lr 0.01, gradient clipping at 5) on the same 10,000 sequences, alternating epochs so
that machine noise hits both alike; each side's best epoch counts.

    python benchmarks/mle_throughput.py [--epochs 3] [--threads N] [--device cuda]

The last line printed is JSON: {"device", "lib_tokens_per_s", "reference_tokens_per_s", "ratio",
"lib_epoch_s", "reference_epoch_s"} (the epoch times of the best epochs; issue 14's GPU target is
``lib_epoch_s`` <= 0.1 on one H100). On CUDA a third trainer replays its steps as CUDA graphs
(``SyncFreeMLETrainer(cuda_graph=True)``) and adds "lib_cuda_graph_epoch_s"; its first epochs include the
warm-up and the recording, so give it at least 3 epochs.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.paper import SEQGAN_PAPER
from textgan_lib.train.mle import MLEConfig, MLETrainer
from textgan_lib.train.sync_free import SyncFreeMLETrainer

P = SEQGAN_PAPER
VOCAB, EMBED, HIDDEN, LENGTH, BATCH, N_SEQ, LR, CLIP = (P.vocab_size, P.embed_dim, P.hidden_dim, P.seq_len,
                                                      P.batch_size, P.n_sequences, P.mle_lr, 5.0)


class ReferenceLM(nn.Module):
    """The textbook model: nn.Embedding → nn.LSTM → nn.Linear → log_softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, HIDDEN, batch_first=True)
        self.output = nn.Linear(HIDDEN, VOCAB)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.embedding(inputs))
        return torch.log_softmax(self.output(h), dim=-1)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reference_epoch(model: ReferenceLM, optimizer, data: torch.Tensor, rng: torch.Generator) -> float:
    criterion = nn.NLLLoss()
    synchronize(data.device)
    started = time.perf_counter()
    for index in torch.randperm(len(data), generator=rng).split(BATCH):
        batch = data[index.to(data.device)]
        inputs = torch.cat([batch.new_zeros(len(batch), 1), batch[:, :-1]], dim=1)
        optimizer.zero_grad()
        loss = criterion(model(inputs).reshape(-1, VOCAB), batch.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
    synchronize(data.device)
    return data.numel() / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per side (best one counts)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    data = torch.randint(0, VOCAB, (N_SEQ, LENGTH)).to(device)

    def lib_trainer(cuda_graph: bool) -> MLETrainer:
        model = LSTMGenerator(GeneratorConfig(VOCAB, EMBED, HIDDEN, start_id=0, pad_id=None, eos_id=None)).to(device)
        config = MLEConfig(batch_size=BATCH, lr=LR, clip_norm=CLIP)
        if device.type != "cuda":
            return MLETrainer(model, data, config=config, progress=False)
        return SyncFreeMLETrainer(model, data, config=config, progress=False, cuda_graph=cuda_graph)

    trainers = {"lib": lib_trainer(cuda_graph=False)}
    if device.type == "cuda":
        trainers["lib_cuda_graph"] = lib_trainer(cuda_graph=True)
    ref_model = ReferenceLM().to(device)
    ref_optimizer = torch.optim.Adam(ref_model.parameters(), lr=LR)
    ref_rng = torch.Generator().manual_seed(0)

    rates: dict[str, list[float]] = {name: [] for name in [*trainers, "reference"]}
    for epoch in range(args.epochs):
        for name, trainer in trainers.items():
            synchronize(device)
            started = time.perf_counter()
            _, n_tokens = trainer.train_epoch()
            synchronize(device)
            rates[name].append(n_tokens / (time.perf_counter() - started))
        rates["reference"].append(reference_epoch(ref_model, ref_optimizer, data, ref_rng))
        print(f"epoch {epoch + 1}: " + ", ".join(f"{name} {r[-1]:,.0f} tokens/s" for name, r in rates.items()))
    best = {name: max(r) for name, r in rates.items()}
    result = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "lib_tokens_per_s": round(best["lib"]), "reference_tokens_per_s": round(best["reference"]),
              "ratio": round(best["lib"] / best["reference"], 3),
              "lib_epoch_s": round(data.numel() / best["lib"], 3),
              "reference_epoch_s": round(data.numel() / best["reference"], 3)}
    if "lib_cuda_graph" in best:
        result["lib_cuda_graph_epoch_s"] = round(data.numel() / best["lib_cuda_graph"], 4)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
