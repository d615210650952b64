"""Maximum-likelihood training (teacher forcing) of a :class:`~textgan_lib.models.sequence_model.SequenceModel`.

Each step minimises the mean NLL per token of a minibatch of real sequences, every input token
taken from the data (teacher forcing), with Adam and gradient-norm clipping. After every epoch
the trainer records the validation NLL and, with a checkpoint path, saves a checkpoint from which
training resumes to exactly the weights an uninterrupted run reaches (on the CPU, same seed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .._checks import check_config
from ..data.batching import iterate_minibatches
from ..data.vocab import Vocabulary
from ..eval.metrics import mean_token_nll, perplexity
from ..models.sequence_model import SequenceModel
from .base import Evaluation, Trainer


@dataclass(frozen=True)
class MLEConfig:
    epochs: int = 10  # the total that run() trains to by default
    batch_size: int = 64
    lr: float = 1e-2
    clip_norm: float | None = 5.0  # max global gradient norm; None disables clipping
    eval_every: int = 1  # epochs between history rows (and checkpoints); the last epoch always has one
    seed: int = 0  # seeds the shuffling and the trainer's dropout stream
    # also learn <pad> after <eos>, as RelGAN's generators do: the Gumbel GAN's full-length relaxation
    # feeds the discriminator the generator's soft <pad>s (train_nll still averages the real tokens only)
    padding_targets: bool = False

    def __post_init__(self) -> None:
        check_config(self, positive=("batch_size", "lr", "eval_every"), non_negative=("epochs", "seed"),
                     optional_positive=("clip_norm",))


class MLETrainer(Trainer):
    """Trains ``model`` on ``train_tokens`` ``[N, T]``; validates on ``valid_tokens`` each epoch.

    ``vocab`` defaults to the model's own (``model.vocab``) and is saved in checkpoints. History
    columns: ``epoch``, ``updates`` (optimizer steps so far), ``train_nll`` (mean over the epoch's
    tokens), ``tokens_per_s``, ``epoch_s``, ``valid_nll``, ``valid_ppl``, and ``evaluate(model)``;
    with ``evaluate``, row 0 is the model before training. The CUDA fast path is
    :class:`~textgan_lib.train.sync_free.SyncFreeMLETrainer`.
    """

    unit = "epoch"
    text_model = "model"
    name = "MLE"
    plan_fields = ("epochs", "eval_every")

    def __init__(
        self,
        model: SequenceModel,
        train_tokens: Tensor,
        valid_tokens: Tensor | None = None,
        config: MLEConfig = MLEConfig(),
        vocab: Vocabulary | None = None,
        checkpoint_path: str | Path | None = None,
        progress: bool = True,
        evaluate: Evaluation | None = None,
    ) -> None:
        super().__init__(config, model.device, evaluate=evaluate, checkpoint_path=checkpoint_path, progress=progress)
        if not isinstance(train_tokens, Tensor) or (valid_tokens is not None and not isinstance(valid_tokens, Tensor)):
            raise TypeError("train_tokens and valid_tokens must be tensors of token ids [N, T] "
                            "(encode texts with encode_batch(texts, vocab, max_len).tokens)")
        if len(train_tokens) == 0:
            raise ValueError("train_tokens is empty: nothing to train on")
        self._vocab = model.vocab if vocab is None else vocab
        if self._vocab is not None and len(self._vocab) != model.config.vocab_size:
            raise ValueError(f"the vocabulary has {len(self._vocab)} tokens but the model {model.config.vocab_size}")
        for tokens in (train_tokens, valid_tokens):
            if tokens is not None:
                model.check_tokens(tokens)  # once here, so that no training step waits for the GPU
        self.kind = model.checkpoint_kind
        self.model = model
        self.train_tokens = train_tokens.to(model.device)
        self.valid_tokens = None if valid_tokens is None else valid_tokens.to(model.device)
        self.modules["model"] = model
        self.optimizers["model"] = self.make_optimizer()
        self.rngs["shuffle"] = self.seeded_rng(config.seed)
        self.counters["updates"] = 0

    @property
    def vocab(self) -> Vocabulary | None:
        return self._vocab

    def make_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.config.lr)

    def default_target(self) -> int:
        return self.config.epochs

    def before_run(self) -> None:
        if self.evaluate is not None and not self.records:
            self.record({})

    def train_step(self) -> dict[str, float]:
        """One epoch; returns its mean NLL per token, throughput and duration."""
        started = time.perf_counter()
        self.model.train()
        total_nll, total_tokens = self.train_epoch()
        elapsed = time.perf_counter() - started
        return {"updates": self.counters["updates"], "train_nll": total_nll / total_tokens,
                "tokens_per_s": total_tokens / elapsed, "epoch_s": elapsed}

    def train_epoch(self) -> tuple[float, int]:
        """One pass over the shuffled training data; returns (summed NLL, tokens)."""
        total_nll, total_tokens = 0.0, 0
        for batch_in_epoch, index in enumerate(iterate_minibatches(len(self.train_tokens), self.config.batch_size,
                                                                   rng=self.rngs["shuffle"])):
            batch = self.train_tokens[index.to(self.train_tokens.device)]
            if not self.config.padding_targets:  # every <pad> of a full-length row is a target otherwise
                batch = self.model.trim(batch)
            nll = self.model.token_nll(batch, check_ids=False,  # checked in __init__
                                       padding_targets=self.config.padding_targets)
            real = self.model.mask(batch)
            n_tokens = int(real.sum())
            loss = nll.sum() / n_tokens  # padding targets, if any, add to the real tokens' mean
            self._batch = batch_in_epoch
            self.update(loss, "model", "loss", self.config.clip_norm)
            self.counters["updates"] += 1
            total_nll += float(nll.detach()[real].sum()) if self.config.padding_targets else loss.item() * n_tokens
            total_tokens += n_tokens
        return total_nll, total_tokens

    def fail(self, what: str, value: float, detail: str = "", updated: str = "") -> None:
        detail = detail or f"update {self.counters['updates'] + 1} (batch {self._batch})"
        super().fail(what, value, detail, updated)

    def measure(self) -> dict[str, float]:
        if self.valid_tokens is None:
            return {}
        valid_nll = mean_token_nll(self.model, self.valid_tokens)
        return {"valid_nll": valid_nll, "valid_ppl": perplexity(valid_nll)}

    def advice(self) -> str:
        return (f"Usual causes: a learning rate too high (lr={self.config.lr}), no gradient clipping (clip_norm="
                f"{self.config.clip_norm}), or bad values in the model's weights or data.")
