"""The MLE epoch without a host synchronisation per step: CUDA's fast path, beside the plain loop.

:class:`SyncFreeMLETrainer` trains exactly as :class:`~textgan_lib.train.mle.MLETrainer` (the same
numbers up to float rounding: fused and unfused Adam round differently; a test checks that they
agree), but each step only queues work on the device:

- the epoch's shuffled indices are copied to the device once; batches are not trimmed (padding is
  masked in the loss);
- loss and token sums stay on the device, in tensors allocated once (:class:`EpochTotals`), so a
  recorded CUDA graph of the step (``cuda_graph=True``, :class:`~textgan_lib.train.cuda_graph.GraphedStep`)
  updates the same tensors on every replay;
- finiteness is a device flag that the fused Adam reads as ``found_inf`` (the mechanism of torch's
  ``GradScaler``, tested in ``tests/test_generator_training.py`` so that a change in torch fails
  there): the failing step and every step after it leave the weights as they were, and the flag is
  read once, at the end of the epoch, where the error names the failing update.

An autoencoder cannot be graphed: its encoder packs the sequences by length, which the host reads.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from ..data.batching import iterate_minibatches
from ..data.vocab import Vocabulary
from ..models.sequence_model import SequenceModel
from .base import Evaluation
from .cuda_graph import GraphedStep
from .mle import MLEConfig, MLETrainer


class EpochTotals:
    """What a sync-free epoch accumulates on the device, zeroed in place each epoch."""

    def __init__(self, device: torch.device) -> None:
        self.nll = torch.zeros((), device=device)  # summed token NLL
        self.tokens = torch.zeros((), dtype=torch.long, device=device)
        self.steps = torch.zeros((), dtype=torch.long, device=device)  # steps taken this epoch
        self.first_failure = torch.zeros((), dtype=torch.long, device=device)  # step index, -1: none
        self.failure_values = torch.zeros(2, device=device)  # loss and gradient norm at that step
        self.skip_update = torch.zeros((), device=device)  # 1.0 from the first failure on

    def reset(self) -> None:
        for total in (self.nll, self.tokens, self.steps, self.failure_values, self.skip_update):
            total.zero_()
        self.first_failure.fill_(-1)


class SyncFreeMLETrainer(MLETrainer):
    """:class:`MLETrainer` with the sync-free epoch; ``cuda_graph`` (CUDA only, ignored elsewhere)
    replays each step as a CUDA graph."""

    def __init__(self, model: SequenceModel, train_tokens: Tensor, valid_tokens: Tensor | None = None,
                 config: MLEConfig = MLEConfig(), vocab: Vocabulary | None = None,
                 checkpoint_path: str | Path | None = None, progress: bool = True, evaluate: Evaluation | None = None,
                 cuda_graph: bool = False) -> None:
        self.cuda_graph = cuda_graph and model.device.type == "cuda"
        super().__init__(model, train_tokens, valid_tokens, config, vocab, checkpoint_path, progress, evaluate)
        self._totals = EpochTotals(model.device)
        self.after_load()

    def make_optimizer(self) -> torch.optim.Optimizer:
        # fused: reads the device-side skip flag; capturable: step counts on the device, for graphs
        return torch.optim.Adam(self.model.parameters(), lr=self.config.lr, fused=True, capturable=self.cuda_graph)

    def after_load(self) -> None:
        self._graphed_step = GraphedStep(self._device_step, enabled=self.cuda_graph)  # new optimizer state tensors

    def train_epoch(self) -> tuple[float, int]:
        totals = self._totals
        totals.reset()
        batches = list(iterate_minibatches(len(self.train_tokens), self.config.batch_size, rng=self.rngs["shuffle"]))
        order = torch.cat(batches).to(self.model.device)  # one copy for the whole epoch
        optimizer = self.optimizers["model"]
        optimizer.found_inf = totals.skip_update
        start = 0
        try:
            for index in batches:
                self._graphed_step(self.train_tokens[order[start : start + len(index)]])
                start += len(index)
        finally:
            del optimizer.found_inf  # the flag belongs to this epoch only
        failed_at = int(totals.first_failure)  # the host waits for the GPU here, once per epoch
        if failed_at >= 0:
            loss_value, norm_value = totals.failure_values.tolist()
            self.counters["updates"] += failed_at
            self._batch = failed_at
            if math.isfinite(loss_value):
                self.fail("loss's gradient norm", norm_value)
            self.fail("loss", loss_value)
        self.counters["updates"] += len(batches)
        return float(totals.nll), int(totals.tokens)

    def _device_step(self, batch: Tensor) -> tuple[()]:
        """One step on ``batch`` ``[B, T]``; every result goes into ``self._totals`` in place."""
        totals = self._totals
        nll = self.model.token_nll(batch, check_ids=False,  # [B, T]; ids checked in __init__
                                   padding_targets=self.config.padding_targets)
        real = self.model.mask(batch)
        n_tokens = real.sum()
        loss = nll.sum() / n_tokens  # padding targets, if any, add to the real tokens' mean
        optimizer = self.optimizers["model"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = math.inf if self.config.clip_norm is None else self.config.clip_norm
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        failed_now = ~(torch.isfinite(loss) & torch.isfinite(norm)) & (totals.first_failure < 0)
        totals.first_failure.copy_(torch.where(failed_now, totals.steps, totals.first_failure))
        totals.failure_values.copy_(torch.where(failed_now, torch.stack([loss.detach(), norm.detach()]),
                                                totals.failure_values))
        totals.skip_update.copy_(totals.first_failure >= 0)  # read by the fused Adam as found_inf
        optimizer.step()
        totals.nll += torch.where(real, nll.detach(), 0.0).sum()
        totals.tokens += n_tokens
        totals.steps += 1
        return ()


def mle_trainer(model: SequenceModel, *args, **kwargs) -> MLETrainer:
    """The MLE trainer for ``model``'s device: on CUDA, for a model whose step a CUDA graph can
    replay (``model.cuda_graphable``: a language model), the sync-free epoch replayed as a graph;
    otherwise the plain loop. Measured on an H200 at the SeqGAN paper's sizes: 0.064 s an epoch
    graphed, 0.487 s for the sync-free epoch run eagerly, 0.42 s for the plain loop; so the eager
    sync-free epoch is not a default anywhere (an autoencoder, whose encoder packs sequences by
    their lengths and so reads them on the host, gets the plain loop): it stays as the graphed
    step's unrecorded form, which the tests compare with the plain loop."""
    if model.device.type == "cuda" and getattr(model, "cuda_graphable", False):
        kwargs.setdefault("cuda_graph", True)
        return SyncFreeMLETrainer(model, *args, **kwargs)
    return MLETrainer(model, *args, **kwargs)
