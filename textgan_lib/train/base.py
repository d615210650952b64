"""The skeleton every trainer shares; a trainer writes only its steps.

A :class:`Trainer` owns

- the **position**: ``step``, the count of the trainer's ``unit`` done (an MLE epoch, a SeqGAN
  round, a GAN iteration), plus ``counters`` for anything else that a resume needs (optimizer
  updates, discriminator pretraining rounds);
- the **history**: one row per evaluation, ``{unit: step, **step statistics, **evaluation,
  "elapsed_s"}``; losses are ``g_loss`` (generator) and ``d_loss`` (discriminator or critic);
- **registries** of ``modules``, ``optimizers`` and ``rngs`` (``torch.Generator``), from which
  :meth:`save` and :meth:`load` are written once for every trainer (with ``selection``, a
  :class:`~textgan_lib.train.selection.BestCheckpoint`'s state); an ``evaluate`` that draws
  at random keeps its streams in an ``rngs`` dict of its own, and they join the registry (as
  ``evaluate_<name>``), so a resumed run records the numbers an uninterrupted one does;
- its own stream of torch's **global RNG** (what dropout draws from): it starts as
  seeding the global generator with ``config.seed`` would leave it, is swapped in for each step
  (:meth:`rng_scope`) and saved in checkpoints, so a trainer never changes the caller's random
  stream and a resumed run repeats an uninterrupted one;
- one **guarded update** (:meth:`update`): the global gradient norm is always computed, and a
  non-finite loss or norm raises :class:`~textgan_lib.models.checkpoint.NonFiniteLossError` naming
  the step before any weight changes; :meth:`save` refuses non-finite weights;
- :meth:`run` (``until=`` a total, or ``more=`` an increment) with a progress bar, recording every
  ``config.eval_every`` units (and at the last) and then writing the checkpoint; ``pause=True``
  stops at the target without its extra evaluation, so a long run split over several calls
  records exactly what one call would.

A subclass sets ``kind`` (the checkpoint's kind), ``unit``, ``text_model`` (the registered module
stored as the checkpoint's ``generator`` entry, which ``from_checkpoint`` reads), implements
:meth:`train_step` (one unit, returning its statistics) and may override :meth:`measure` (numbers
recorded beside the statistics), :meth:`advice` and :meth:`after_load`.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .._seeds import stream_seed
from ..models.checkpoint import (
    CheckpointMismatchError,
    NonFiniteLossError,
    check_model_state,
    check_vocabulary,
    generator_entry,
    load_optimizer_state,
    read_checkpoint,
    save_checkpoint,
    saved_config,
)
from .selection import BestCheckpoint

Evaluation = Callable[[nn.Module], dict[str, float]]


def training_target(done: int, until: int | None, more: int | None, default: int | None, unit: str) -> int:
    """The total count of ``unit`` that a ``run``-like call should reach.

    Exactly one of ``until`` (a total) and ``more`` (an increment) may be given; with neither,
    ``default`` (a total). A call that would train nothing warns, so that "resume and train five
    more" is never silently a no-op.
    """
    if until is not None and more is not None:
        raise ValueError(f"give until={until} or more={more} ({unit}s), not both")
    if more is not None and more < 0:
        raise ValueError(f"more must be >= 0 {unit}s, got {more}")
    target = done + more if more is not None else until if until is not None else default
    if target is None:
        raise ValueError(f"say how far to train: until=TOTAL or more=COUNT ({unit}s)")
    if target <= done:
        warnings.warn(f"already {done} {unit}s done, so training until {unit} {target} does nothing; to train "
                      f"further, pass more=COUNT or a larger until", stacklevel=3)
    return target


def global_rng_state(seed: int, device: torch.device) -> dict[str, Tensor | None]:
    """torch's global RNG states (CPU, and ``device`` if it is a GPU) as seeding them with ``seed``
    leaves them, read without changing the caller's."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(device) if devices else None}


class Trainer:
    kind: ClassVar[str]  # the checkpoint's kind
    unit: ClassVar[str]  # what `step` counts
    text_model: ClassVar[str] = "generator"  # the module stored as the checkpoint's generator entry
    name: ClassVar[str] = "training"  # for the progress bar and error messages
    plan_fields: ClassVar[tuple[str, ...]] = ("eval_every",)  # config fields a resumed run may change

    def __init__(self, config: Any, device: torch.device | str, *, evaluate: Evaluation | None = None,
                 checkpoint_path: str | Path | None = None, progress: bool = True) -> None:
        self.config = config
        self.device = torch.device(device)
        self.evaluate = evaluate
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        self.progress = progress
        self.step = 0
        self.stopped_because: str | None = None  # why the last run ended early
        self.counters: dict[str, int] = {}
        # numbers a trainer's steps carry from one to the next (a moving baseline), saved and restored
        self.carried: dict[str, float | None] = {}
        self.records: list[dict] = []
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.rngs: dict[str, torch.Generator] = {}
        self.selection: BestCheckpoint | None = None  # checkpoint selection, kept in the run's checkpoint
        # an evaluation's own random streams (fresh samples to score) are part of the run's record
        for name, rng in getattr(evaluate, "rngs", {}).items():
            self.rngs[f"evaluate_{name}"] = rng
        self._global_rng = global_rng_state(config.seed, self.device)
        self._started = time.perf_counter()

    # -- what a subclass writes -----------------------------------------------------------------

    def train_step(self) -> dict[str, float]:
        """One ``unit`` of training; returns its statistics for the history."""
        raise NotImplementedError

    def measure(self) -> dict[str, float]:
        """Numbers recorded beside the step statistics at every evaluation (validation NLL, ...)."""
        return {}

    def advice(self) -> str:
        """What to try when a loss becomes non-finite."""
        return "Try a lower learning rate."

    def after_load(self) -> None:
        """Called at the end of :meth:`load` (e.g. to drop recorded CUDA graphs)."""

    @property
    def vocab(self):
        return getattr(self.modules[self.text_model], "vocab", None)

    @property
    def eval_every(self) -> int:
        return getattr(self.config, "eval_every", 1)

    def position_columns(self) -> dict[str, Any]:
        """The columns that say where a history row was recorded."""
        return {self.unit: self.step}

    def before_run(self) -> None:
        """Called at the start of :meth:`run` (e.g. to record the starting point)."""

    def default_target(self) -> int | None:
        """The total that :meth:`run` trains to when given neither ``until`` nor ``more``."""
        return None

    # -- the loop -------------------------------------------------------------------------------

    @property
    def history(self) -> pd.DataFrame:
        """One row per evaluation."""
        return pd.DataFrame(self.records)

    def run(self, *, until: int | None = None, more: int | None = None,
            stop: Callable[[], str | None] | None = None, pause: bool = False) -> pd.DataFrame:
        """Train until ``until`` units in total, or ``more`` more units; with neither, until the
        trainer's default total (so a resumed run finishes its plan). Returns the history.

        The last unit is evaluated even off the ``eval_every`` schedule, unless ``pause``: then it
        is only checkpointed, as if the run had been interrupted there, so that a later
        :meth:`run` (in this process or after :meth:`load`) records the rows, and draws the random
        numbers, of one uninterrupted run.

        ``stop``, asked before training and after every evaluation, ends the run early when it
        returns a reason (e.g.
        :meth:`~textgan_lib.train.selection.BestCheckpoint.flattened`); the reason is kept in
        :attr:`stopped_because` (None when the run reached its target)."""
        target = training_target(self.step, until, more, self.default_target(), self.unit)
        self.stopped_because = stop() if stop is not None else None
        if self.stopped_because is not None:
            return self.history
        recorded = len(self.records)
        with self.rng_scope():
            self.before_run()
        if len(self.records) > recorded:
            self.save_if_set()
        bar = self.progress_bar(range(self.step, target), self.name)
        for _ in bar:
            with self.rng_scope():
                stats = self.train_step()
                self.step += 1
                due = self.step % self.eval_every == 0 or (self.step == target and not pause)
                if due:
                    self.record(stats)
            if not due and self.step == target:  # paused off the schedule: resumable, not evaluated
                self.save_if_set()
            if due:
                self.save_if_set()
                bar.set_postfix({k: round(v, 3) for k, v in stats.items() if k in ("g_loss", "d_loss", "train_nll")})
                self.stopped_because = stop() if stop is not None else None
                if self.stopped_because is not None:
                    bar.close()
                    break
        return self.history

    def record(self, stats: dict[str, Any], **position: Any) -> None:
        """Append a history row: the position, ``stats``, :meth:`measure`, ``evaluate`` and time."""
        model = self.modules[self.text_model]
        scores = self.evaluate(model) if self.evaluate is not None else {}
        self.records.append({**(position or self.position_columns()), **stats, **self.measure(), **scores,
                             "elapsed_s": time.perf_counter() - self._started})

    def progress_bar(self, steps: range, desc: str) -> tqdm:
        return tqdm(steps, desc=desc, unit=self.unit, disable=not self.progress)

    @contextmanager
    def rng_scope(self) -> Iterator[None]:
        """Inside the block torch's global RNG is this trainer's stream; after it, the caller's again."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self._global_rng["cpu"])
            if devices:
                torch.cuda.set_rng_state(self._global_rng["cuda"], self.device)
            try:
                yield
            finally:
                self._global_rng = {"cpu": torch.get_rng_state(),
                                    "cuda": torch.cuda.get_rng_state(self.device) if devices else None}

    def seeded_rng(self, seed: int, device: torch.device | str | None = None) -> torch.Generator:
        return torch.Generator(device=device or "cpu").manual_seed(seed)

    # -- one guarded update ---------------------------------------------------------------------

    def update(self, loss: Tensor, optimizer: str, what: str, clip_norm: float | None = None) -> Tensor:
        """Backpropagate ``loss`` and step ``self.optimizers[optimizer]``, the global gradient norm
        clipped at ``clip_norm`` (None: not clipped, but still computed). A non-finite loss or
        gradient norm raises before any weight changes. Returns the norm before clipping."""
        self.check_finite(loss, what)
        opt = self.optimizers[optimizer]
        params = [p for group in opt.param_groups for p in group["params"]]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(params, math.inf if clip_norm is None else clip_norm)
        self.check_finite(norm, f"{what}'s gradient norm")
        opt.step()
        return norm

    def check_finite(self, value: Tensor, what: str, detail: str = "", updated: str = "") -> None:
        if not torch.isfinite(value):
            self.fail(what, value.item(), detail, updated)

    def fail(self, what: str, value: float, detail: str = "", updated: str = "") -> None:
        """Raise :class:`NonFiniteLossError`: ``what`` became ``value`` at the current step."""
        saved = (f"the checkpoint {self.checkpoint_path} is untouched" if self.checkpoint_path
                 else "no checkpoint was being written")
        where = f"{self.unit} {self.step + 1}{f', {detail}' if detail else ''}"
        raise NonFiniteLossError(f"{self.name} stopped: the {what} became {value} at {where}; "
                                 f"{updated or 'no weights were updated with it'} and {saved}. {self.advice()}")

    # -- checkpoints ----------------------------------------------------------------------------

    def save_if_set(self) -> None:
        if self.checkpoint_path is not None:
            self.save(self.checkpoint_path)

    def save(self, path: str | Path) -> Path:
        """Everything an exact resume needs: every registered module, optimizer and random state,
        the position, the training config and the history. Non-finite weights are never written."""
        for name, module in self.modules.items():
            bad = [p for p, t in module.state_dict().items() if t.is_floating_point() and not torch.isfinite(t).all()]
            if bad:
                raise NonFiniteLossError(f"not saving {path}: the {name}'s {bad[0]} holds NaN or infinite values; "
                                         "the file on disk is untouched")
        for name, optimizer in self.optimizers.items():  # moments that would turn every later step into NaN
            bad = [f"parameter {index}'s {key}" for index, state in optimizer.state_dict()["state"].items()
                   for key, t in state.items()
                   if torch.is_tensor(t) and t.is_floating_point() and not torch.isfinite(t).all()]
            if bad:
                raise NonFiniteLossError(f"not saving {path}: the {name} optimizer's state ({bad[0]}) holds NaN or "
                                         "infinite values; the file on disk is untouched")
        text = self.modules[self.text_model]
        return save_checkpoint(path, self.kind, {
            "generator": generator_entry(text, self.vocab),
            "modules": {n: m.state_dict() for n, m in self.modules.items() if n != self.text_model},
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "rngs": {n: g.get_state() for n, g in self.rngs.items()},
            "global_rng": self._global_rng,
            "train_config": asdict(self.config),
            "position": {"step": self.step, **self.counters},
            "carried": dict(self.carried),
            "history": self.records,
            "selection": None if self.selection is None else self.selection.state_dict(),
        })

    def load(self, path: str | Path, *, config_changes_ok: bool = False) -> None:
        """Restore a checkpoint written by :meth:`save` of the same kind. Every check comes before
        any change: the vocabulary, the text model's config, every module's parameter names and
        shapes, and the training config, which must equal this trainer's except for ``seed`` and
        the run's plan (:attr:`plan_fields`) unless ``config_changes_ok`` (then this trainer's
        config, learning rates included, applies from here on)."""
        payload = read_checkpoint(path, kind=self.kind)
        if "modules" not in payload:
            raise CheckpointMismatchError(f"{path} was written by an earlier textgan_lib (checkpoint format "
                                          f"{payload.get('version')}): its generator still loads with "
                                          "from_checkpoint, but the run cannot resume; train it again")
        if not config_changes_ok:
            self._check_config(payload["train_config"], path)
        entry = payload["generator"]
        text = self.modules[self.text_model]
        check_vocabulary(entry["vocab_tokens"], self.vocab, path)
        live = asdict(text.config)
        saved = saved_config(entry["config"], text.config)
        if saved != live:
            differ = ", ".join(f"{k}: {saved.get(k)} saved, {live.get(k)} here" for k in sorted(set(saved) | set(live))
                               if saved.get(k) != live.get(k))
            raise CheckpointMismatchError(f"{path} holds a {type(text).__name__} of another shape ({differ}); build "
                                          f"it with {type(text).__name__}.from_checkpoint(path)")
        for registry, saved_states in (("modules", payload["modules"]), ("optimizers", payload["optimizers"]),
                                       ("rngs", payload["rngs"])):
            live_names = set(getattr(self, registry)) - ({self.text_model} if registry == "modules" else set())
            if set(saved_states) != live_names:
                raise CheckpointMismatchError(f"{path} holds {registry} {sorted(saved_states)}, this trainer "
                                              f"{sorted(live_names)}")
        selection = payload.get("selection")
        if self.selection is not None and (selection is None or selection.get("key") != self.selection.key):
            raise CheckpointMismatchError(f"{path} holds a run without checkpoint selection on "
                                          f"{self.selection.key!r}: it cannot resume one that selects")
        position, history = payload.get("position"), payload.get("history")
        if not (isinstance(position, dict) and "step" in position
                and all(type(v) is int and v >= 0 for v in position.values())):
            raise CheckpointMismatchError(f"{path} holds the position {position!r}, not whole counts >= 0 with a step: "
                                          "the file was edited; delete it, and the run trains again")
        if not (isinstance(history, list) and all(isinstance(row, dict) for row in history)):
            raise CheckpointMismatchError(f"{path} holds a history that is not a list of rows: the file was edited; "
                                          "delete it, and the run trains again")
        # every check before the first change, so that a refused file leaves the trainer as it was
        check_model_state(text, entry["state"], path)
        for name, state in payload["modules"].items():
            check_model_state(self.modules[name], state, path)
        text.load_state_dict(entry["state"])
        for name, state in payload["modules"].items():
            self.modules[name].load_state_dict(state)
        for name, state in payload["optimizers"].items():
            load_optimizer_state(self.optimizers[name], state)
        position = dict(position)
        self.step = position.pop("step")
        self.counters.update(position)
        self.carried.update(payload.get("carried", {}))  # checkpoints written before it carried nothing
        for name, state in payload["rngs"].items():
            self._restore_rng(name, state, path)
        saved_global = payload["global_rng"]
        if self.device.type == "cuda" and saved_global["cuda"] is None:  # saved off CUDA: a fresh CUDA stream
            fresh = stream_seed(self.config.seed, "stream_after_device_change") + self.step
            saved_global = {**saved_global, "cuda": global_rng_state(fresh, self.device)["cuda"]}
        self._global_rng = {"cpu": saved_global["cpu"], "cuda": saved_global["cuda"] if self.device.type == "cuda"
                            else None}
        self.records = list(history)
        if self.selection is not None:
            self.selection.load_state_dict(selection)
        self.after_load()

    def _check_config(self, saved: dict[str, Any], path: str | Path) -> None:
        saved = saved_config(saved, self.config)
        live = asdict(self.config)
        free = {"seed", *self.plan_fields}
        differ = [f"{k}: {saved.get(k)!r} saved, {live.get(k)!r} here" for k in sorted(set(saved) | set(live))
                  if k not in free and saved.get(k) != live.get(k)]
        if differ:
            raise CheckpointMismatchError(
                f"{path} was trained with another {type(self.config).__name__} ({'; '.join(differ)}). Build the "
                f"trainer with the saved config to resume that run, or pass load(path, config_changes_ok=True) "
                "to continue it under this trainer's config")

    def _restore_rng(self, name: str, state: Tensor, path: str | Path) -> None:
        rng = self.rngs[name]
        try:
            rng.set_state(state)
        except RuntimeError:  # saved on another kind of device: that stream cannot continue here
            warnings.warn(f"{path} was saved on another device; the {name} random stream continues from a fresh "
                          "seed, so the run will not repeat one that stayed on a single device", stacklevel=3)
            rng.manual_seed(stream_seed(self.config.seed, "stream_after_device_change") + self.step)
