"""One way to put modules in eval mode for a while: sampling and scoring go through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def evaluating(*modules: nn.Module) -> Iterator[None]:
    """Put every module in eval mode (dropout off) inside the block, and back in the mode it was in
    after it, also when the block raises."""
    modes = [module.training for module in modules]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for module, mode in zip(modules, modes):
            module.train(mode)
