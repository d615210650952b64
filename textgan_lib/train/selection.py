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
from pathlib import Path

import torch
from torch import nn

from ..data.files import atomic_path


class BestCheckpoint:
    """``score(generator) -> dict`` as a trainer's ``evaluate``, keeping the best weights by ``key``.

    Every call records the scores and, when ``scores[key]`` is the highest so far (a NaN never
    is), a copy of the generator's weights; with ``path``, the best weights and the count of
    evaluations are written there (atomically) after every call, so that a resumed run starts from
    its best so far. The returned scores gain ``best_<key>``. With ``patience``, :meth:`flattened`
    says when the criterion has not risen by more than ``min_delta`` above its best for
    ``patience`` evaluations (give it to :meth:`~textgan_lib.train.base.Trainer.run` as ``stop``).
    :meth:`restore` loads the best weights into a generator and returns the index of the
    evaluation they come from (0: the first, e.g. the MLE model a GAN started from; indices count
    the calls, so a run resumed from a checkpoint older than its best file counts the evaluations
    it repeats again).
    """

    def __init__(self, score: Callable[[nn.Module], dict[str, float]], key: str, path: str | Path | None = None,
                 *, patience: int | None = None, min_delta: float = 0.0):
        if patience is not None and patience < 1:
            raise ValueError(f"patience={patience}: give at least 1 evaluation, or None to never stop early")
        self.score, self.key, self.patience, self.min_delta = score, key, patience, min_delta
        self.last_improvement = None  # the evaluation that last beat the best by more than min_delta
        self.path = None if path is None else Path(path)
        self.best_value, self.best_evaluation, self.evaluations = -math.inf, None, 0
        self.best_state: dict[str, torch.Tensor] | None = None
        if self.path is not None and self.path.is_file():
            saved = torch.load(self.path, map_location="cpu", weights_only=True)
            self.best_value, self.best_evaluation = saved["value"], saved["evaluation"]
            self.evaluations, self.best_state = saved["evaluations"], saved["state"]
            self.last_improvement = saved.get("last_improvement", self.best_evaluation)

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
        self._save()  # every call, so that a resumed run counts its evaluations from here
        return {**scores, f"best_{self.key}": self.best_value}

    def forget(self) -> None:
        """Start afresh: drop the evaluations so far and delete the file (for a run that trains
        from its start again, whose old best belongs to another run)."""
        self.best_value, self.best_evaluation, self.evaluations = -math.inf, None, 0
        self.best_state, self.last_improvement = None, None
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        if self.path is None:
            return
        with atomic_path(self.path) as tmp:
            torch.save({"value": self.best_value, "evaluation": self.best_evaluation, "evaluations": self.evaluations,
                        "last_improvement": self.last_improvement, "state": self.best_state}, tmp)

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
