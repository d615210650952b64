"""Checkpoints: save atomically, load safely, refuse what does not fit.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so it loads with
``torch.load(weights_only=True)``, which cannot run code. It holds the model's weights and config,
the vocabulary (if any), the optimizer state, the training position and the random-number states,
which is what an exact resume needs. Files are written to a temporary name and renamed, so a crash
mid-save never destroys the previous checkpoint.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .vocab import SPECIAL_TOKENS, Vocabulary

FORMAT = "textgan-checkpoint-v1"


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model or vocabulary it is being loaded into."""


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save({"format": FORMAT, **payload}, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint at ``path``, loaded onto the CPU with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or foreign files
        raise CheckpointMismatchError(f"{path} could not be read as a checkpoint: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointMismatchError(f"{path} is not a textgan checkpoint (expected format {FORMAT!r})")
    return payload


def check_vocabulary(saved_tokens: list[str] | None, vocab: Vocabulary | None, path: str | Path) -> None:
    """Raise if the checkpoint's vocabulary differs from ``vocab``, naming the first difference."""
    if vocab is None or saved_tokens is None:
        return
    saved = [*SPECIAL_TOKENS, *saved_tokens]
    if saved == vocab.itos:
        return
    if len(saved) != len(vocab):
        detail = f"it has {len(saved)} tokens, the given vocabulary {len(vocab)}"
    else:
        i = next(i for i, (a, b) in enumerate(zip(saved, vocab.itos)) if a != b)
        detail = f"id {i} is {saved[i]!r} in the checkpoint but {vocab.itos[i]!r} in the given vocabulary"
    raise CheckpointMismatchError(f"the vocabulary of {path} does not match: {detail}. Load it with the "
                                  "vocabulary it was trained with (it is stored in the checkpoint).")


def load_model_state(model: nn.Module, state: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """Load ``state`` into ``model`` after checking every parameter's name and shape."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise CheckpointMismatchError(f"{path} does not fit this model: missing {missing}, unexpected {unexpected}")
    for name, tensor in own.items():
        if tensor.shape != state[name].shape:
            raise CheckpointMismatchError(
                f"{path} does not fit this model: {name} has shape {tuple(state[name].shape)} in the checkpoint "
                f"but {tuple(tensor.shape)} in the model. Build the model with the checkpoint's config "
                "(e.g. LSTMGenerator.from_checkpoint).")
    model.load_state_dict(state)
