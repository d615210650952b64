"""Checks that configs run in ``__post_init__``: a bad value stops at construction with its name.

:func:`check_types` holds every field to its declared type (``bool``, ``int``, ``float``, ``str``,
``X | None``, tuples of a length or of any length, nested configs); :func:`check_config` adds
ranges. A NumPy scalar counts as the Python number it holds and is stored as one, so a value read
from an array works and a checkpoint's config stays plain Python.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

import numpy as np


def check_config(config: Any, *, positive: tuple[str, ...] = (), non_negative: tuple[str, ...] = (),
                 fractions: tuple[str, ...] = (), optional_positive: tuple[str, ...] = ()) -> None:
    """:func:`check_types`, then raise ``ValueError`` naming the first field of ``config`` out of
    its range: ``positive`` (finite numbers > 0), ``non_negative`` (finite numbers >= 0),
    ``fractions`` (in [0, 1)), ``optional_positive`` (None or > 0)."""
    check_types(config)
    name = type(config).__name__
    for kind, fields in (("positive", positive), ("non_negative", non_negative), ("fraction", fractions),
                         ("optional_positive", optional_positive)):
        for field in fields:
            value = getattr(config, field)
            if kind == "optional_positive" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name}.{field} must be a finite number, got {value!r}")
            ok = {"positive": value > 0, "optional_positive": value > 0, "non_negative": value >= 0,
                  "fraction": 0 <= value < 1}[kind]
            if not ok:
                rule = {"positive": "> 0", "optional_positive": "> 0 (or None)", "non_negative": ">= 0",
                        "fraction": "in [0, 1)"}[kind]
                raise ValueError(f"{name}.{field} must be {rule}, got {value!r}")


def check_token_ids(config: Any, *names: str) -> None:
    """``config.vocab_size`` at least 2, and each of the ids ``names`` None or an id of that
    vocabulary (an id outside it is never sampled or matched: a sequence would never end)."""
    name, hints = type(config).__name__, typing.get_type_hints(type(config))
    if config.vocab_size < 2:
        raise ValueError(f"{name}.vocab_size must be at least 2, got {config.vocab_size}")
    for field in names:
        token = getattr(config, field)
        if token is not None and not 0 <= token < config.vocab_size:
            optional = ", or None" if type(None) in typing.get_args(hints[field]) else ""
            raise ValueError(f"{name}.{field}={token} is not an id of the vocabulary of {config.vocab_size} "
                             f"tokens: give 0 to {config.vocab_size - 1}{optional}")


class ConfigTypeError(TypeError, ValueError):
    """A config field given a value of another type (a ``ValueError`` too, so that the command line,
    which answers bad values with exit code 2, answers these alike)."""


def check_sizes(sizes: Any) -> None:
    """:func:`check_types`, and every number of ``sizes`` (a profile's section: sizes, counts,
    rates) finite and at least 0."""
    check_types(sizes)
    for field in dataclasses.fields(sizes):
        value = getattr(sizes, field.name)
        for number in value if isinstance(value, tuple) else (value,):
            if isinstance(number, int | float) and not isinstance(number, bool) and not (
                    math.isfinite(number) and number >= 0):
                raise ValueError(f"{type(sizes).__name__}.{field.name} must be a finite number >= 0, got {value!r}")


def check_types(config: Any) -> None:
    """Raise :class:`ConfigTypeError` naming the first field of the dataclass ``config`` whose value is not of
    its declared type: ``'no'`` for a ``bool`` is refused (not read as true), ``4.7`` for an ``int``
    is refused (not truncated), a tuple of the wrong length is refused. Lists are accepted for
    tuples and stored as tuples; NumPy scalars are stored as Python numbers."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        checked = _as_declared(value, hints[field.name], f"{type(config).__name__}.{field.name}")
        if checked is not value:
            object.__setattr__(config, field.name, checked)  # frozen configs: set once, at construction


def _as_declared(value: Any, hint: Any, name: str) -> Any:
    """``value`` as the type ``hint`` declares (a NumPy scalar as a Python one), or TypeError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        declared = [a for a in args if a is not type(None)]
        errors = []
        for arg in declared:
            try:
                return _as_declared(value, arg, name)
            except ConfigTypeError as err:
                errors.append(err)
        if len(errors) == 1:
            raise ConfigTypeError(f"{errors[0]}{' (or None)' if type(None) in args else ''}") from None
        raise ConfigTypeError(f"{name} must be {_spelled(hint)}, got {value!r}")
    if origin is tuple:
        if not isinstance(value, tuple | list):
            raise ConfigTypeError(f"{name} must be a tuple of {_spelled(hint)}, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_as_declared(v, args[0], f"{name}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigTypeError(f"{name} must hold {len(args)} values ({_spelled(hint)}), got {value!r}")
        return tuple(_as_declared(v, a, f"{name}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if hint is bool:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise ConfigTypeError(f"{name} must be True or False, got {value!r}")
    if hint is int:
        if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            return int(value)
        raise ConfigTypeError(f"{name} must be an integer, got {value!r}")
    if hint is float:
        if isinstance(value, np.floating | np.integer) and not isinstance(value, np.bool_):
            return float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise ConfigTypeError(f"{name} must be a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigTypeError(f"{name} must be a string, got {value!r}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and not isinstance(value, hint):
        raise ConfigTypeError(f"{name} must be a {hint.__name__}, got {value!r}")
    return value


def _spelled(hint: Any) -> str:
    """A type as a reader writes it: ``float | None``, ``tuple[float, float]``."""
    return getattr(hint, "__name__", None) if isinstance(hint, type) else str(hint).replace("typing.", "")
