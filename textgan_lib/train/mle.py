"""Maximum-likelihood training (teacher forcing) of an ``LSTMGenerator`` (or of an
``LSTMAutoencoder``, whose likelihood is that of reconstructing its input).

Each step minimises the mean NLL of a minibatch of real sequences, with every input token taken
from the data rather than from the model's own samples (teacher forcing), using Adam and
gradient-norm clipping. After every epoch the trainer evaluates the validation NLL, appends a row
to its history and, if a checkpoint path is set, saves a checkpoint from which training resumes to
exactly the weights an uninterrupted run would reach (on the CPU, with the same seed).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..data.batching import iterate_minibatches
from ..data.vocab import Vocabulary
from ..eval.metrics import mean_token_nll, perplexity
from ..models.checkpoint import (
    CheckpointMismatchError,
    NonFiniteLossError,
    check_vocabulary,
    generator_entry,
    load_model_state,
    load_optimizer_state,
    read_checkpoint,
    save_checkpoint,
    saved_config,
    training_target,
)
from ..models.generator import LSTMGenerator
from .cuda_graph import GraphedStep


@dataclass(frozen=True)
class MLEConfig:
    epochs: int = 10  # the total that fit() trains to by default
    batch_size: int = 64
    lr: float = 1e-2
    clip_norm: float | None = 5.0  # max global gradient norm; None disables clipping
    seed: int = 0  # seeds the shuffling (and, via the global RNG, dropout)


class MLETrainer:
    """Trains ``model`` on ``train_tokens`` ``[N, T]``; validates on ``valid_tokens`` each epoch.

    ``vocab`` defaults to the model's own (``model.vocab``) and is saved in checkpoints.
    ``sync_free`` (default: on CUDA) runs each epoch without a host synchronisation per step (see
    :meth:`train_epoch`); on the CPU the plain loop costs nothing extra and is the default.
    ``cuda_graph`` (sync-free epochs on CUDA; ignored elsewhere; off by default) replays each step
    as a CUDA graph (:class:`~textgan_lib.cuda_graph.GraphedStep`), which removes the launch cost
    of its few hundred small kernels. An autoencoder cannot be graphed: its encoder packs the
    sequences by length, which the host must read.
    """

    def __init__(
        self,
        model: LSTMGenerator,
        train_tokens: Tensor,
        valid_tokens: Tensor | None = None,
        config: MLEConfig = MLEConfig(),
        vocab: Vocabulary | None = None,
        checkpoint_path: str | Path | None = None,
        progress: bool = True,
        sync_free: bool | None = None,
        cuda_graph: bool = False,
    ) -> None:
        if len(train_tokens) == 0:
            raise ValueError("train_tokens is empty: nothing to train on")
        vocab = model.vocab if vocab is None else vocab
        if vocab is not None and len(vocab) != model.config.vocab_size:
            raise ValueError(f"the vocabulary has {len(vocab)} tokens but the model {model.config.vocab_size}")
        for tokens in (train_tokens, valid_tokens):
            if tokens is not None:
                model.check_tokens(tokens)  # once here, so that no training step waits for the GPU
        self.model = model
        self.train_tokens = train_tokens.to(model.device)
        self.valid_tokens = None if valid_tokens is None else valid_tokens.to(model.device)
        self.config = config
        self.vocab = vocab
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        self.progress = progress
        self.sync_free = model.device.type == "cuda" if sync_free is None else sync_free
        if cuda_graph and not self.sync_free:
            raise ValueError("cuda_graph=True replays the sync-free step: leave sync_free at None or True")
        self.cuda_graph = cuda_graph and model.device.type == "cuda"
        # the fused Adam reads a device-side "skip this step" flag (see _train_epoch_on_device); a
        # recorded step needs the optimizer's step counts on the device (capturable)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=self.sync_free or None,
                                          capturable=self.cuda_graph)
        self._graphed_step = GraphedStep(self._device_step, enabled=self.cuda_graph)
        self._totals = _EpochTotals(model.device)
        self.shuffle_rng = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        self.epoch = 0
        self.step = 0
        self.records: list[dict] = []

    @property
    def history(self) -> pd.DataFrame:
        """One row per evaluation: epoch, step, train/valid NLL, valid perplexity, timing."""
        return pd.DataFrame(self.records)

    def fit(self, *, until_epoch: int | None = None, more_epochs: int | None = None) -> pd.DataFrame:
        """Train until ``until_epoch`` epochs are done in total, or for ``more_epochs`` more epochs;
        with neither, until ``config.epochs`` in total (so a resumed run finishes its plan)."""
        target = training_target(self.epoch, until_epoch, more_epochs, self.config.epochs, "epoch")
        bar = tqdm(range(self.epoch, target), desc="MLE", unit="epoch", disable=not self.progress)
        for _ in bar:
            started = time.perf_counter()
            train_nll, n_tokens = self.train_epoch()
            elapsed = time.perf_counter() - started
            record = {"epoch": self.epoch, "step": self.step, "train_nll": train_nll,
                      "tokens_per_s": n_tokens / elapsed, "epoch_s": elapsed}
            if self.valid_tokens is not None:
                record["valid_nll"] = mean_token_nll(self.model, self.valid_tokens)
                record["valid_ppl"] = perplexity(record["valid_nll"])
            self.records.append(record)
            bar.set_postfix({k: round(v, 3) for k, v in record.items() if k in ("train_nll", "valid_nll")})
            if self.checkpoint_path is not None:
                self.save(self.checkpoint_path)
        return self.history

    def train_epoch(self) -> tuple[float, int]:
        """One pass over the training data; returns (mean train NLL per token, tokens seen).

        A non-finite loss or gradient norm stops training before the weights take that step. The
        plain loop checks after every step on the host; with ``sync_free`` the check is a device
        flag read once at the end of the epoch (:meth:`_train_epoch_on_device`).
        """
        self.model.train()
        if self.sync_free:
            return self._train_epoch_on_device()
        total_nll, total_tokens = 0.0, 0
        for batch_in_epoch, index in enumerate(iterate_minibatches(len(self.train_tokens), self.config.batch_size,
                                                                   rng=self.shuffle_rng)):
            batch = self.model.trim(self.train_tokens[index.to(self.train_tokens.device)])
            nll = self.model.token_nll(batch, check_ids=False)  # checked in __init__
            n_tokens = int(self.model.mask(batch).sum())
            loss = nll.sum() / n_tokens
            if not torch.isfinite(loss):
                self._raise_non_finite("loss", loss.item(), batch_in_epoch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.clip_norm is not None:
                norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
                if not torch.isfinite(norm):
                    self._raise_non_finite("gradient norm", norm.item(), batch_in_epoch)
            self.optimizer.step()
            self.step += 1
            total_nll += loss.item() * n_tokens
            total_tokens += n_tokens
        self.epoch += 1
        return total_nll / total_tokens, total_tokens

    def _train_epoch_on_device(self) -> tuple[float, int]:
        """The epoch of :meth:`train_epoch` with no host synchronisation per step (CUDA's fast path).

        Each step only queues work (:meth:`_device_step`): the epoch's shuffled indices are copied
        to the device once, batches are not trimmed (padding is masked in the loss,
        :func:`~textgan_lib.output_nll.masked_token_nll`), loss and token sums stay on the device,
        and finiteness is a device flag. Fused Adam reads that flag as ``found_inf`` (the mechanism
        of torch's GradScaler) and skips the update of the failing step and of every step after
        it, so the weights stay as they were before a non-finite loss, as in the plain loop; the
        flag is read once, at the end of the epoch, and the error names the failing step. Same
        numbers as the plain loop up to float rounding (fused and unfused Adam round differently).
        """
        totals = self._totals
        totals.reset()
        batches = list(iterate_minibatches(len(self.train_tokens), self.config.batch_size, rng=self.shuffle_rng))
        order = torch.cat(batches).to(self.model.device)  # one copy for the whole epoch
        self.optimizer.found_inf = totals.skip_update
        start = 0
        try:
            for index in batches:
                self._graphed_step(self.train_tokens[order[start : start + len(index)]])
                start += len(index)
        finally:
            del self.optimizer.found_inf  # the flag belongs to this epoch only
        failed_at = int(totals.first_failure)  # the host waits for the GPU here, once per epoch
        if failed_at >= 0:
            loss_value, norm_value = totals.failure_values.tolist()
            self.step += failed_at
            if math.isfinite(loss_value):
                self._raise_non_finite("gradient norm", norm_value, failed_at)
            self._raise_non_finite("loss", loss_value, failed_at)
        self.step += len(batches)
        self.epoch += 1
        return float(totals.nll / totals.tokens), int(totals.tokens)

    def _device_step(self, batch: Tensor) -> tuple[()]:
        """One sync-free step on ``batch`` ``[B, T]``; every result goes into ``self._totals`` in
        place, so that a recorded CUDA graph of this step updates the same tensors on replay."""
        totals = self._totals
        nll = self.model.token_nll(batch, check_ids=False)  # [B, T]; ids checked in __init__
        n_tokens = self.model.mask(batch).sum()
        loss = nll.sum() / n_tokens
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = (torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
                if self.config.clip_norm is not None else torch.zeros_like(loss))
        failed_now = ~(torch.isfinite(loss) & torch.isfinite(norm)) & (totals.first_failure < 0)
        totals.first_failure.copy_(torch.where(failed_now, totals.steps, totals.first_failure))
        totals.failure_values.copy_(torch.where(failed_now, torch.stack([loss.detach(), norm.detach()]),
                                                totals.failure_values))
        totals.skip_update.copy_(totals.first_failure >= 0)  # read by the fused Adam as found_inf
        self.optimizer.step()
        totals.nll += nll.detach().sum()
        totals.tokens += n_tokens
        totals.steps += 1
        return ()

    def _raise_non_finite(self, what: str, value: float, batch_in_epoch: int) -> None:
        saved = (f"the last checkpoint, {self.checkpoint_path}, is untouched" if self.checkpoint_path
                 else "no checkpoint was being written")
        raise NonFiniteLossError(
            f"training stopped: the {what} became {value} at step {self.step} (epoch {self.epoch + 1}, "
            f"batch {batch_in_epoch}); the weights were not updated with it and {saved}. Usual causes: a "
            f"learning rate too high (lr={self.config.lr}), no gradient clipping (clip_norm="
            f"{self.config.clip_norm}), or bad values in the model's weights or data.")

    # -- checkpoints ----------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Everything needed to resume exactly: weights, optimizer, position, RNG states, history."""
        return save_checkpoint(path, self.model.checkpoint_kind, {
            "generator": generator_entry(self.model, self.vocab),
            "train_config": asdict(self.config),
            "optimizer_state": self.optimizer.state_dict(),
            "position": {"epoch": self.epoch, "step": self.step},
            "rng": {"shuffle": self.shuffle_rng.get_state(), "torch": torch.get_rng_state()},
            "history": self.records,
        })

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save` into this trainer, checking that it fits."""
        payload = read_checkpoint(path, kind=self.model.checkpoint_kind)
        entry = payload["generator"]
        check_vocabulary(entry["vocab_tokens"], self.vocab, path)
        if saved_config(entry["config"], self.model.config) != asdict(self.model.config):
            def shown(config: dict) -> str:
                return ", ".join(f"{k}={v}" for k, v in config.items())

            raise CheckpointMismatchError(f"{path} was trained with ({shown(entry['config'])}), but this model is "
                                          f"({shown(asdict(self.model.config))}); build the model with "
                                          f"{type(self.model).__name__}.from_checkpoint(path)")
        load_model_state(self.model, entry["state"], path)
        load_optimizer_state(self.optimizer, payload["optimizer_state"])  # new state tensors: record anew
        self._graphed_step = GraphedStep(self._device_step, enabled=self.cuda_graph)
        self.epoch, self.step = payload["position"]["epoch"], payload["position"]["step"]
        self.shuffle_rng.set_state(payload["rng"]["shuffle"])
        torch.set_rng_state(payload["rng"]["torch"])
        self.records = list(payload["history"])


class _EpochTotals:
    """What a sync-free epoch accumulates on the device. Allocated once per trainer and zeroed in
    place each epoch, because a recorded CUDA graph of the step writes to these very tensors."""

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
