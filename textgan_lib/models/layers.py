"""Small building blocks shared by several models."""

from __future__ import annotations

from torch import nn


def mlp(n_in: int, n_out: int, hidden: int = 128, layers: int = 3) -> nn.Sequential:
    """``layers`` linear layers with ReLU between them."""
    sizes = [n_in] + [hidden] * (layers - 1) + [n_out]
    modules: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        modules.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)
