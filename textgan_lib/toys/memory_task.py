"""A long-range memory task, the classic test that separates LSTMs from vanilla RNNs.

Each sequence starts with one of ``n_symbols`` signal symbols, followed by ``distance`` random
noise tokens and a final query token; the target is the first symbol. A model answers from its
last hidden state, so it must carry the symbol across ``distance`` steps of distraction. Chance
accuracy is ``1 / n_symbols``.

    ids:  0 .. n_symbols-1   signal symbols
          n_symbols .. n_symbols+n_noise-1   noise
          n_symbols+n_noise   the query token
"""

from __future__ import annotations

import time
from typing import Literal

import pandas as pd
import torch
from torch import Tensor, nn


def memory_task_batch(
    batch_size: int, distance: int, n_symbols: int = 4, n_noise: int = 8, rng: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Inputs ``[batch, distance + 2]`` and targets ``[batch]`` (the first symbol)."""
    if distance < 0 or n_symbols < 2 or n_noise < 1:
        raise ValueError(f"need distance >= 0, n_symbols >= 2, n_noise >= 1; got {distance}, {n_symbols}, {n_noise}")
    targets = torch.randint(0, n_symbols, (batch_size,), generator=rng)
    noise = torch.randint(n_symbols, n_symbols + n_noise, (batch_size, distance), generator=rng)
    query = torch.full((batch_size, 1), n_symbols + n_noise)
    return torch.cat([targets[:, None], noise, query], dim=1), targets


class RecurrentClassifier(nn.Module):
    """Embedding → a one-layer ``nn.RNN`` (tanh) or ``nn.LSTM`` → linear readout of the last state.

    ``forget_bias`` (LSTM only) sets the forget gate's initial bias; None keeps PyTorch's init.
    """

    def __init__(self, cell: Literal["rnn", "lstm"], n_inputs: int, n_classes: int, hidden_dim: int = 32,
                 forget_bias: float | None = None) -> None:
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
        self.cell = cell
        self.embedding = nn.Embedding(n_inputs, hidden_dim)
        self.rnn = (nn.RNN if cell == "rnn" else nn.LSTM)(hidden_dim, hidden_dim, batch_first=True)
        self.readout = nn.Linear(hidden_dim, n_classes)
        if forget_bias is not None:
            if cell != "lstm":
                raise ValueError("forget_bias applies to the LSTM only")
            self._open_forget_gate(forget_bias)

    def _open_forget_gate(self, bias: float) -> None:
        """Start the forget gate open: with PyTorch's zero-mean init it sits near sigmoid(0) = 0.5,
        which halves the cell's memory every step before any learning can begin."""
        hidden = self.rnn.hidden_size
        with torch.no_grad():  # PyTorch's gate order is (input, forget, cell, output); two biases add up
            self.rnn.bias_ih_l0[hidden : 2 * hidden] = bias
            self.rnn.bias_hh_l0[hidden : 2 * hidden] = 0.0

    def forward(self, inputs: Tensor) -> Tensor:
        """Class logits ``[B, n_classes]`` for input ids ``[B, T]``."""
        outputs, _ = self.rnn(self.embedding(inputs))  # [B, T, H]
        return self.readout(outputs[:, -1])


def train_memory_task(
    cell: Literal["rnn", "lstm"],
    distance: int,
    steps: int,
    *,
    hidden_dim: int = 32,
    n_symbols: int = 4,
    n_noise: int = 8,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip_norm: float | None = 1.0,
    forget_bias: float | None = None,
    eval_every: int = 10,
    seed: int = 0,
) -> tuple[RecurrentClassifier, pd.DataFrame]:
    """Train a fresh classifier on fresh batches; returns it and a history with one row per
    evaluation: step, training loss, gradient norm before clipping, accuracy on 1,000 held-out
    sequences."""
    with torch.random.fork_rng():  # seeded draws that leave the caller's random stream alone
        torch.manual_seed(seed)
        data_rng = torch.Generator().manual_seed(seed)
        model = RecurrentClassifier(cell, n_symbols + n_noise + 1, n_symbols, hidden_dim, forget_bias)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        eval_rng = torch.Generator().manual_seed(-1 - seed)
        eval_inputs, eval_targets = memory_task_batch(1000, distance, n_symbols, n_noise, eval_rng)
        records = []
        started = time.perf_counter()
        for step in range(1, steps + 1):
            inputs, targets = memory_task_batch(batch_size, distance, n_symbols, n_noise, data_rng)
            loss = nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            max_norm = clip_norm if clip_norm is not None else float("inf")
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            if step % eval_every == 0 or step == steps:
                with torch.no_grad():
                    accuracy = (model(eval_inputs).argmax(-1) == eval_targets).float().mean().item()
                records.append({"cell": cell, "distance": distance, "step": step, "loss": loss.item(),
                                "grad_norm": grad_norm.item(), "accuracy": accuracy,
                                "elapsed_s": time.perf_counter() - started})
        return model, pd.DataFrame(records)
