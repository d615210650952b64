"""Checks that configs run in ``__post_init__``: a bad value stops at construction with its name."""

from __future__ import annotations

import math
from typing import Any


def check_config(config: Any, *, positive: tuple[str, ...] = (), non_negative: tuple[str, ...] = (),
                 fractions: tuple[str, ...] = (), optional_positive: tuple[str, ...] = ()) -> None:
    """Raise ``ValueError`` naming the first field of ``config`` out of its range: ``positive``
    (finite numbers > 0), ``non_negative`` (finite numbers >= 0), ``fractions`` (in [0, 1)),
    ``optional_positive`` (None or > 0). Integer fields must hold integers."""
    name = type(config).__name__
    for kind, fields in (("positive", positive), ("non_negative", non_negative), ("fraction", fractions),
                         ("optional_positive", optional_positive)):
        for field in fields:
            value = getattr(config, field)
            if kind == "optional_positive" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name}.{field} must be a finite number, got {value!r}")
            expected_int = isinstance(type(config).__dataclass_fields__[field].default, int) and not isinstance(
                type(config).__dataclass_fields__[field].default, bool)
            if expected_int and not isinstance(value, int):
                raise ValueError(f"{name}.{field} must be an integer, got {value!r}")
            ok = {"positive": value > 0, "optional_positive": value > 0, "non_negative": value >= 0,
                  "fraction": 0 <= value < 1}[kind]
            if not ok:
                rule = {"positive": "> 0", "optional_positive": "> 0 (or None)", "non_negative": ">= 0",
                        "fraction": "in [0, 1)"}[kind]
                raise ValueError(f"{name}.{field} must be {rule}, got {value!r}")
