"""Checkpoints: save atomically, load safely, refuse what does not fit.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so it loads with
``torch.load(weights_only=True)``, which cannot run code. Every trainer writes the same schema:

- ``format`` (``"textgan-checkpoint"``) and ``version`` (:data:`VERSION`): what the file is;
- ``kind``: which trainer wrote it (``"mle"``, ``"seqgan"``);
- ``generator``: ``{"config", "state", "vocab_tokens"}``, the generator and its vocabulary (if
  any), so that :meth:`~textgan_lib.models.generator.LSTMGenerator.from_checkpoint` loads the generator
  from a checkpoint of any kind;
- the rest is the trainer's own: optimizer states, the training position and the random-number
  states, which is what an exact resume needs.

Files are written to a temporary name and renamed, so a crash mid-save never destroys the previous
checkpoint. Each file carries ``content_sha256``, a hash of everything else in it (tensors by
dtype, shape and bytes), checked on every read: a damaged file (a flipped bit on a disk or in a
copy, which torch's loader does not notice) is refused by name instead of loading other weights.
Files of the first format (``"textgan-checkpoint-v1"``) and files written before the hash existed
are read too, unchecked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import MISSING, asdict, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.files import atomic_path
from ..data.vocab import SPECIAL_TOKENS, Vocabulary

FORMAT = "textgan-checkpoint"
VERSION = 3
_FORMAT_V1 = "textgan-checkpoint-v1"


class CheckpointMismatchError(ValueError):
    """A file is not the checkpoint expected, or does not fit the model or vocabulary it is loaded into."""


class NonFiniteLossError(FloatingPointError):
    """A training loss or gradient became NaN or infinite (the weights were not updated with it)."""


def content_hash(payload: Any) -> str:
    """sha256 of a checkpoint's content: nested dicts (keys in order), lists and tuples, tensors (dtype,
    shape, bytes) and plain values (their repr), so that equal content gives equal hashes."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}:".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        elif isinstance(value, Mapping):
            digest.update(f"dict {len(value)}:".encode())
            for key in sorted(value, key=repr):
                feed(key)
                feed(value[key])
        elif isinstance(value, list | tuple):
            digest.update(f"{type(value).__name__} {len(value)}:".encode())
            for item in value:
                feed(item)
        else:
            digest.update(f"{type(value).__name__} {value!r};".encode())

    feed(payload)
    return digest.hexdigest()


def generator_entry(model: nn.Module, vocab: Vocabulary | None) -> dict[str, Any]:
    """The ``generator`` entry of a checkpoint: config, weights and vocabulary of an ``LSTMGenerator``."""
    return {"config": asdict(model.config), "state": model.state_dict(),
            "vocab_tokens": None if vocab is None else vocab.itos[len(SPECIAL_TOKENS):]}


def saved_config(saved: Mapping[str, Any], current: Any) -> dict[str, Any]:
    """A checkpoint's model config as a dict, with the fields added to ``current``'s class since it
    was written at their defaults (``GeneratorConfig.context_dim`` is newer than most caches), so
    that a model saved before a new field existed still matches the same model built today.
    Unknown fields are kept as saved: the config then differs from ``current``, as it should."""
    defaults = {f.name: f.default for f in fields(current) if f.default is not MISSING}
    return {**defaults, **saved}


def load_generator_entry(model: nn.Module, payload: Mapping[str, Any], path: str | Path) -> None:
    """Load a checkpoint's ``generator`` entry into ``model``, which must have the same config."""
    entry = payload["generator"]
    if saved_config(entry["config"], model.config) != asdict(model.config):
        raise CheckpointMismatchError(f"{path} holds a generator {entry['config']}, not {asdict(model.config)}; "
                                      "build it with LSTMGenerator.from_checkpoint(path)")
    load_model_state(model, entry["state"], path)


def save_checkpoint(path: str | Path, kind: str, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as a checkpoint of ``kind`` (plus format and version) to ``path`` atomically."""
    if "generator" not in payload:
        raise ValueError("a checkpoint holds its generator under the key 'generator' (see generator_entry)")
    path = Path(path)
    content = {"format": FORMAT, "version": VERSION, "kind": kind, **payload}
    with atomic_path(path) as tmp:
        try:
            torch.save({**content, "content_sha256": content_hash(content)}, tmp)
        except RuntimeError as err:  # torch's writer reports a failed write as "enforce fail at inline_container.cc"
            raise OSError(f"could not write the checkpoint {path}: the disk is probably full or the folder unwritable "
                          f"(torch: {str(err).splitlines()[0][:120]}). The previous checkpoint, if any, is untouched; "
                          "free some space and run again to go on from it") from None
    return path


def read_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """The checkpoint at ``path``, loaded onto the CPU with ``weights_only=True``.

    ``kind`` (``"mle"``, ``"seqgan"``) refuses a checkpoint written by another trainer. A file that
    is not a checkpoint, or one of a newer format version, raises :class:`CheckpointMismatchError`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    size = path.stat().st_size
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or foreign files
        # torch's own message may advise weights_only=False, which would let the file run code: not repeated
        raise CheckpointMismatchError(
            f"{path} ({size:,} bytes) could not be read as a checkpoint ({type(err).__name__}): it is empty, cut "
            "short or not a textgan checkpoint. Checkpoints are written atomically, so a crash leaves the previous "
            "one whole; this file came from elsewhere. Delete or move it, and the run trains again") from None
    if isinstance(payload, dict) and "content_sha256" in payload:
        saved_hash = payload.pop("content_sha256")
        if content_hash(payload) != saved_hash:
            raise CheckpointMismatchError(
                f"{path} is damaged: its content no longer matches the hash written with it (a changed byte on "
                "the disk or in a copy). Delete it, and the run trains again (or restore a good copy)")
    if isinstance(payload, dict) and payload.get("format") == _FORMAT_V1:
        payload = _from_v1(payload)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointMismatchError(f"{path} is not a textgan checkpoint (expected format {FORMAT!r}, "
                                      f"found {found!r})")
    if payload.get("version", 0) > VERSION:
        raise CheckpointMismatchError(f"{path} has checkpoint format version {payload['version']}, newer than the "
                                      f"{VERSION} this textgan_lib reads: upgrade textgan_lib to load it")
    missing = [k for k in ("kind", "generator") if k not in payload]
    if missing:
        raise CheckpointMismatchError(f"{path} is a textgan checkpoint without {' or '.join(missing)}: it was "
                                      "edited or written by something else; delete it and train again")
    if kind is not None and payload.get("kind") != kind:
        raise CheckpointMismatchError(
            f"{path} is a {payload.get('kind')!r} checkpoint, not a {kind!r} one: resume it with the trainer "
            "that wrote it, or load just its generator with LSTMGenerator.from_checkpoint")
    return payload


def _from_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint of the first format in the current schema (version 1)."""
    kind = payload.get("kind", "mle")
    rest = {k: v for k, v in payload.items() if k not in ("format", "kind", "model_config", "model_state",
                                                         "generator_state", "vocab_tokens")}
    state = payload["model_state"] if kind == "mle" else payload["generator_state"]
    generator = {"config": payload["model_config"], "state": state, "vocab_tokens": payload.get("vocab_tokens")}
    return {"format": FORMAT, "version": 1, "kind": kind, "generator": generator, **rest}


def model_config(entry: Mapping[str, Any], config_class: type, path: str | Path) -> Any:
    """The model config of a checkpoint's ``generator`` entry as ``config_class``, with a clear error
    for a field this library does not know, a value out of range, or a vocabulary of another size."""
    known = {f.name for f in fields(config_class)}
    unknown = sorted(set(entry["config"]) - known)
    if unknown:
        raise CheckpointMismatchError(f"{path} has model config fields {unknown} that this textgan_lib does not "
                                      f"know (it knows {sorted(known)}): it was written by a newer version or edited")
    try:
        config = config_class(**entry["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointMismatchError(f"{path} holds an invalid model config: {err}") from None
    tokens = entry.get("vocab_tokens")
    if tokens is not None and len(SPECIAL_TOKENS) + len(tokens) != config.vocab_size:
        raise CheckpointMismatchError(f"{path} holds a vocabulary of {len(SPECIAL_TOKENS) + len(tokens)} tokens for a "
                                      f"model of {config.vocab_size}: the file was edited or is damaged")
    return config


def text_model_from_checkpoint(model_class: type, config_class: type, path: str | Path,
                               vocab: Vocabulary | None) -> tuple[nn.Module, Vocabulary | None]:
    """The model of a checkpoint's ``generator`` entry, built as ``model_class(config_class(...))`` on
    the CPU in eval mode, and the vocabulary saved with it (checked against ``vocab`` if given)."""
    entry = read_checkpoint(path)["generator"]
    check_vocabulary(entry["vocab_tokens"], vocab, path)
    model = model_class(model_config(entry, config_class, path))
    load_model_state(model, entry["state"], path)
    return model.eval(), None if entry["vocab_tokens"] is None else Vocabulary(entry["vocab_tokens"])


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


def check_model_state(model: nn.Module, state: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state`` has ``model``'s parameter names and shapes."""
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


def load_model_state(model: nn.Module, state: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """Load ``state`` into ``model`` after checking every parameter's name and shape."""
    check_model_state(model, state, path)
    model.load_state_dict(state)


# Not what an optimizer learned but how it runs (these follow the device it was built for) and the
# hyperparameters its trainer's config sets: the live optimizer's win over the file's.
OPTIMIZER_SETTINGS = ("capturable", "fused", "foreach", "lr", "betas", "weight_decay")


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: Mapping[str, Any]) -> None:
    """Load a saved optimizer ``state`` into ``optimizer``, keeping ``optimizer``'s own
    :data:`OPTIMIZER_SETTINGS`.

    A checkpoint may come from another device, whose trainer built its Adam differently (fused and
    capturable on CUDA, plain on a CPU), and ``load_state_dict`` would take those settings from the
    file: a fused step that reads a skip flag, or a recorded CUDA graph, would then meet an
    optimizer that cannot do either. They are set before loading, because where the step counts
    live (host or device) follows them.
    """
    groups = [{**saved, **{k: live[k] for k in OPTIMIZER_SETTINGS if k in live}}
              for saved, live in zip(state["param_groups"], optimizer.param_groups)]
    optimizer.load_state_dict({**state, "param_groups": groups})
