"""The command line's argument types: a bad value stops before any work, with argparse's message
naming the flag (exit 2)."""

from __future__ import annotations

import argparse
import ast
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch

from ..recipes.profiles import PROFILES


def positive(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        value = number(kind, text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def non_negative(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        value = number(kind, text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be {kind.__name__} >= 0, got {text}")
        return value

    parse.__name__ = f"non-negative {kind.__name__}"
    return parse


def number(kind: type, text: str) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def unit_interval(text: str) -> float:
    value = number(float, text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value


def at_least_one(text: str) -> float:
    value = number(float, text)
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (the schedules start at 1), got {text}")
    return value


def profile_name(text: str) -> str:
    if text != "auto" and text not in PROFILES:
        raise argparse.ArgumentTypeError(f"unknown profile {text!r}: choose one of {sorted(PROFILES)} or auto")
    return text


def device_name(text: str) -> str:
    if text not in ("auto", "cpu") and not text.startswith("cuda"):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}: choose cpu, cuda or auto")
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text} asked for, but this torch sees no CUDA GPU "
                                         f"(torch {torch.__version__}); use --device cpu")
    return text


def csv_path(text: str) -> Path:
    """A file to write: not a folder, in a folder that exists or can be made, writable."""
    _not_empty(text, "the CSV file to write")
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give the path of the CSV file to write")
    if path.exists() and not path.resolve().is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a regular file (a FIFO, socket or device); "
                                         "give the path of the CSV file to write")
    writable_folder(path.parent)
    return path


def folder_path(text: str) -> Path:
    _not_empty(text, "a folder")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file; give a folder (it is made if missing)")
    writable_folder(path)
    return path


def _not_empty(text: str, what: str) -> None:
    if not text.strip():  # Path("") is the working folder: an unset shell variable would write there
        raise argparse.ArgumentTypeError(f"is empty (an unset variable?): give {what}")


def writable_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise argparse.ArgumentTypeError(f"cannot make the folder {folder}: {err.strerror}") from err
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"the folder {folder} is not writable")


def setting(text: str) -> tuple[str, object]:
    """``section.field=value`` of ``--set``: the field's dotted path, and the value as a Python literal
    (``3``, ``1e-3``, ``None``, ``(0.5, 1.0)``) or else as the string it is (``until_eos``)."""
    path, equals, value = text.partition("=")
    if not equals or not all(part.isidentifier() for part in path.split(".")) or "." not in path:
        raise argparse.ArgumentTypeError(f"expected section.field=value (e.g. oracle.samples=128), got {text!r}")
    try:
        return path, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return path, value


def add_settings(command: argparse.ArgumentParser) -> None:
    command.add_argument("--set", type=setting, action="append", default=[], metavar="SECTION.FIELD=VALUE",
                         help="replace a field of the profile, e.g. --set real_text.samples=500 (repeatable)")


MAX_SEED = 2**31 - 1  # the largest seed every random generator of the library (and NumPy's) accepts


def seed_number(text: str) -> int:
    value = number(int, text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {MAX_SEED}, got {text}")
    return value


def seed_list(text: str) -> list[int]:
    """``0-4`` or ``0,2,5``: the seeds of a study."""
    try:
        if "-" in text:
            first, last = (int(x) for x in text.split("-"))
            bounds = [first, last] if first <= last else []
        else:
            bounds = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds as 0-4 or 0,1,2, got {text!r}") from None
    if not bounds or min(bounds) < 0 or max(bounds) > MAX_SEED:  # checked before a range is built
        raise argparse.ArgumentTypeError(f"expected one or more seeds from 0 to {MAX_SEED}, got {text!r}")
    return list(range(bounds[0], bounds[1] + 1)) if "-" in text else bounds
