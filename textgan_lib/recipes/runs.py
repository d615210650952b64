"""Where runs keep their checkpoints, the one rule by which a run resumes, and the lock that keeps
two processes from training the same run at once."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: runs are not locked there
    fcntl = None

import pandas as pd

from ..data.files import atomic_path, cache_dir
from ..models.checkpoint import CheckpointMismatchError, read_checkpoint, saved_config
from ..train.base import Trainer
from .profiles import PROFILES
from .sizes import Profile

Checkpoint = str | Path | None  # "auto": run_path(...); None: no checkpoint; else a path


def run_path(run: str, profile: Profile, seed: int, variant: str = "", sections: tuple[str, ...] | None = None
             ) -> Path:
    """Where a run keeps its checkpoint: ``cache_dir()/checkpoints/<run>_<profile><variant>_seed<seed>.pt``
    (``run`` e.g. ``coco_lm``, ``oracle_mle``, ``seqgan_oracle``; ``variant`` e.g. ``_beta100``).
    ``<profile>`` is :func:`profile_tag` of the ``sections`` the run depends on (None: all of them),
    so that runs of other sizes never share a file, and a run shares it with every profile whose
    changes lie outside its sections (a GAN's batch changed: the same language model)."""
    return cache_dir() / "checkpoints" / f"{run}_{profile_tag(profile, sections)}{variant}_seed{seed}.pt"


def profile_tag(profile: Profile, sections: tuple[str, ...] | None = None) -> str:
    """The profile's name, or ``<name>-<hash of its sizes>`` when they differ from the preset's;
    with ``sections``, only those sections are compared and hashed."""
    preset = PROFILES.get(profile.name)
    if sections is None:
        if preset == profile:
            return profile.name
        content = profile.to_dict()
    else:
        if preset is not None and all(getattr(preset, s) == getattr(profile, s) for s in sections):
            return profile.name
        content = {section: asdict(getattr(profile, section)) for section in sections}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{profile.name}-{digest[:8]}"


def checkpoint_for(checkpoint: Checkpoint, run: str, profile: Profile, seed: int, variant: str = "",
                   sections: tuple[str, ...] | None = None) -> Path | None:
    """``checkpoint`` with ``"auto"`` resolved to :func:`run_path` (of ``sections``), whose folder is
    made (or an ``OSError`` says now, before any training, why the cache cannot keep it)."""
    if checkpoint is None:
        return None
    if checkpoint != "auto":
        return Path(checkpoint)
    path = run_path(run, profile, seed, variant, sections)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(path.parent, os.W_OK)
    except OSError as err:
        raise OSError(f"cannot keep checkpoints in {path.parent} ({err.strerror or err}): the cache {cache_dir()} "
                      "must be a writable folder; set TEXTGAN_CACHE to one") from None
    if not writable:
        raise OSError(f"cannot keep checkpoints in {path.parent}: it is not writable; set TEXTGAN_CACHE to a "
                      "writable folder")
    return path


def resume_if_same(trainer: Trainer, checkpoint: str | Path | None) -> bool:
    """The one resume rule: load ``checkpoint`` into ``trainer`` when it holds a run of the same
    kind, training config and models; otherwise warn and leave the trainer fresh, so that the run
    trains afresh and replaces the file. Returns whether it resumed."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return False
    try:
        # fields added to the config class since the file was written count at their defaults
        saved = saved_config(read_checkpoint(checkpoint, kind=trainer.kind)["train_config"], trainer.config)
        if saved != asdict(trainer.config):
            raise CheckpointMismatchError(f"it was trained with {saved}, this run is {asdict(trainer.config)}")
        trainer.load(checkpoint)
    except CheckpointMismatchError as err:
        warnings.warn(f"not reusing {checkpoint}: {err}", stacklevel=3)
        return False
    return True


_HELD: set[str] = set()  # the runs whose lock this process holds: asking again inside one is free


@contextmanager
def run_lock(path: str | Path | None) -> Iterator[None]:
    """Hold the lock of the run kept at ``path`` (its checkpoint or its run file) for the block.

    Another process that asks for the same run waits, saying so on stderr, and then finds what
    this one saved: two studies on one output folder, or two commands sharing a cache, train each
    run once and both finish. The lock is an advisory ``flock`` on a file in the cache's ``locks``
    folder, which the system releases when its holder ends or is killed, so no stale lock is ever
    left behind. Nested requests for a run this process holds pass; ``None`` (no file) and systems
    without ``fcntl`` (Windows) lock nothing, and so does a cache where the lock cannot be created
    (the run then reports the unwritable folder itself)."""
    key = None if path is None else str(Path(path).resolve())
    if key is None or key in _HELD or fcntl is None:
        yield
        return
    lock_file = cache_dir() / "locks" / f"{Path(key).name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.lock"
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_file, "a")  # closed below, which releases the lock
    except OSError:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another process that is working on {path} (lock {lock_file}); this run then goes "
                  "on from what that one saved", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)


def train_or_resume(trainer: Trainer, checkpoint: str | Path | None, budget: int,
                    stop: Callable[[], str | None] | None = None, *, until: int | None = None) -> bool:
    """Resume ``trainer`` from ``checkpoint`` when it holds the same run, then train it until
    ``budget`` units in total (or until ``stop`` gives a reason, see :meth:`Trainer.run`); with
    ``until`` below the budget, only that far, paused there (``Trainer.run(pause=True)``), so a
    later call finishes the run exactly as one call would have. Returns whether it trained
    (False: the saved run had got that far already)."""
    target = part_target(budget, until, checkpoint)
    with run_lock(checkpoint):
        resume_if_same(trainer, checkpoint)
        if trainer.step >= target:
            return False
        trainer.run(until=target, stop=stop, pause=target < budget)
    return True


def part_target(budget: int, until: int | None, checkpoint: str | Path | None) -> int:
    """Where a run trained ``until`` (None: its whole ``budget``) stops. A part needs a
    checkpoint to be continued from, and lies within the budget."""
    if until is None:
        return budget
    if not isinstance(until, int) or isinstance(until, bool) or not 0 <= until <= budget:
        raise ValueError(f"until={until!r}: train a part of the run with an integer from 0 to its budget, {budget}")
    if until < budget and checkpoint is None:
        raise ValueError(f"until={until} trains a part of the run, but with checkpoint=None nothing would keep it "
                         "to be continued: pass checkpoint='auto' or a path")
    return until


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder and a rename,
    so that a kill at any moment leaves either the old file or the new one, never half of one."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """``frame`` as CSV (no index), written atomically (:func:`write_text_atomic`)."""
    return write_text_atomic(path, frame.to_csv(index=False))
