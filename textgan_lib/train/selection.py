"""Checkpoint selection on validation: keep the generator of the evaluation where a criterion was best.

A GAN's last iteration is not its best one (training noise moves a text GAN's point by more than
the gaps the book measures), and choosing the iteration by the test scores would report a
maximum of noise. :class:`BestCheckpoint` is a trainer's ``evaluate`` hook that scores the
generator on *validation* data at every evaluation, remembers the weights where the criterion was
highest, and puts them back at the end; the test scores are then measured once, for that
checkpoint. The criterion's values stay in the trainer's history, so the curve of the criterion
against the iteration shows whether the run had settled.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn


class BestCheckpoint:
    """``score(generator) -> dict`` as a trainer's ``evaluate``, keeping the best weights by ``key``.

    Every call records the scores and, when ``scores[key]`` is the highest so far (a NaN never
    is), a copy of the generator's weights. Its state (the best weights, value and evaluation, the
    count of evaluations) belongs to the run: give it to the trainer as ``trainer.selection`` and
    the trainer's one checkpoint holds it, written atomically with the weights and the position,
    so a killed and resumed run selects what an uninterrupted one does. The returned scores gain
    ``best_<key>``. With ``patience``, :meth:`flattened` says when the criterion has not risen by
    more than ``min_delta`` above its best for ``patience`` evaluations (give it to
    :meth:`~textgan_lib.train.base.Trainer.run` as ``stop``). :meth:`restore` loads the best
    weights into a generator and returns the index of the evaluation they come from (0: the first,
    e.g. the MLE model a GAN started from).
    """

    def __init__(self, score: Callable[[nn.Module], dict[str, float]], key: str, *, patience: int | None = None,
                 min_delta: float = 0.0):
        if patience is not None and patience < 1:
            raise ValueError(f"patience={patience}: give at least 1 evaluation, or None to never stop early")
        self.score, self.key, self.patience, self.min_delta = score, key, patience, min_delta
        self.last_improvement = None  # the evaluation that last beat the best by more than min_delta
        self.best_value, self.best_evaluation, self.evaluations = -math.inf, None, 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def __call__(self, generator: nn.Module) -> dict[str, float]:
        scores = dict(self.score(generator))
        if self.key not in scores:
            raise KeyError(f"the criterion returned {sorted(scores)}, without the selection key {self.key!r}")
        value = float(scores[self.key])
        if not math.isnan(value) and value > self.best_value + self.min_delta:
            self.last_improvement = self.evaluations
        if not math.isnan(value) and value > self.best_value:
            self.best_value, self.best_evaluation = value, self.evaluations
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in generator.state_dict().items()}
        self.evaluations += 1
        return {**scores, f"best_{self.key}": self.best_value}

    def state_dict(self) -> dict:
        """What a checkpoint keeps of the selection (the trainer's :meth:`~textgan_lib.train.base.Trainer.save`)."""
        return {"key": self.key, "value": self.best_value, "evaluation": self.best_evaluation,
                "evaluations": self.evaluations, "last_improvement": self.last_improvement,
                "state": self.best_state}

    def load_state_dict(self, saved: dict) -> None:
        """Continue from a checkpoint's :meth:`state_dict` of a selection on the same key."""
        if saved.get("key") != self.key:
            raise ValueError(f"the saved selection is on {saved.get('key')!r}, this one on {self.key!r}")
        self.best_value, self.best_evaluation = saved["value"], saved["evaluation"]
        self.evaluations, self.last_improvement = saved["evaluations"], saved["last_improvement"]
        self.best_state = saved["state"]

    def flattened(self) -> str | None:
        """Why training may stop (the criterion stopped rising), or None: with ``patience``, once
        ``patience`` evaluations have passed since the last one that beat the best by more than
        ``min_delta`` (evaluations without a finite value count as passed)."""
        if self.patience is None or self.evaluations == 0:
            return None
        since = self.evaluations - 1 - (-1 if self.last_improvement is None else self.last_improvement)
        if since < self.patience:
            return None
        return (f"{self.key} did not rise by more than {self.min_delta:g} for {since} evaluations "
                f"(best {self.best_value:.4g} at evaluation {self.best_evaluation})")

    def restore(self, generator: nn.Module) -> int:
        """Load the best weights into ``generator``; the index of their evaluation."""
        if self.best_state is None:
            raise ValueError(f"no evaluation had a finite {self.key}: nothing to select")
        generator.load_state_dict(copy.deepcopy(self.best_state))
        return self.best_evaluation


def plateau(values: list[float], patience: int, min_delta: float = 0.0) -> bool:
    """Whether a loss curve has flattened: its last ``patience`` values all failed to fall more than
    ``min_delta`` below the lowest value before them (False while the curve is shorter than
    ``patience + 1``). For a stopping rule on a validation loss, e.g. an autoencoder's."""
    if patience < 1:
        raise ValueError(f"patience={patience}: give at least 1")
    if len(values) <= patience:
        return False
    best_before = min(values[:-patience])
    return all(v >= best_before - min_delta for v in values[-patience:])
