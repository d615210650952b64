r"""Two-sample statistics: can a set of generated points be told from a set of real ones?

Chapter 11 asks whether a GAN's sentence codes come from the distribution of real codes any more
than a Gaussian's do. Text decoded from a code hides much of the difference (a decoder maps many
codes to one generic caption), so the question is asked where the codes live, with held-out real
codes :math:`X = \{x_i\}_{i=1}^m` against generated codes :math:`Y = \{y_j\}_{j=1}^n`:

- **MMD** (Gretton et al. 2012) with the Gaussian kernel :math:`k(a, b) = \exp(-\|a-b\|^2 / 2\sigma^2)`,
  the unbiased estimate

  .. math:: \widehat{\mathrm{MMD}}^2 = \frac{1}{m(m-1)}\sum_{i \ne i'} k(x_i, x_{i'})
     + \frac{1}{n(n-1)}\sum_{j \ne j'} k(y_j, y_{j'}) - \frac{2}{mn}\sum_{i,j} k(x_i, y_j),

  zero in expectation when the two distributions are equal. :math:`\sigma` is fixed once, by the
  median heuristic on the real codes (:func:`median_bandwidth`), so that every generator is measured
  with the same kernel.
- **1-nearest-neighbour accuracy** (Lopez-Paz & Oquab 2017): label the real points 1 and the
  generated 0, classify each point by its nearest other point (leave-one-out), and report the
  accuracy. 0.5 means the sets cannot be told apart; 1 means every point's neighbour is from its
  own set. Below .5 happens when a generator copies the real points.

Each comes with a bootstrap interval: for the MMD (:func:`bootstrap`) both sets are resampled with
replacement and the copies of one original point are never each other's pair (else a duplicate
would count as a perfectly similar pair); for the 1-NN accuracy (:func:`nearest_neighbour_interval`)
the classified points are resampled, with the pool of neighbours fixed. The third statistic, a
critic's Wasserstein estimate, needs training and lives in
:func:`textgan_lib.train.critic_estimate.critic_wasserstein`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Interval:
    """A statistic on the full sets and its bootstrap percentile interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


def _check(x: Tensor, y: Tensor) -> None:
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"expected two sets of points [m, D] and [n, D], got {tuple(x.shape)} and {tuple(y.shape)}")
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"each set needs at least 2 points, got {len(x)} and {len(y)}")


def median_bandwidth(points: Tensor) -> float:
    """The median heuristic: the median distance between two different points of ``points`` ``[N, D]``."""
    distances = torch.cdist(points, points)  # [N, N]
    upper = torch.triu(torch.ones_like(distances, dtype=torch.bool), diagonal=1)
    return float(distances[upper].median())


def _different(ids_a: Tensor, ids_b: Tensor) -> Tensor:
    """``[len(a), len(b)]``: True where two entries are not copies of the same original point."""
    return ids_a[:, None] != ids_b[None, :]


def mmd2(x: Tensor, y: Tensor, bandwidth: float, *, x_ids: Tensor | None = None,
         y_ids: Tensor | None = None) -> float:
    """The unbiased :math:`\\widehat{\\mathrm{MMD}}^2` of ``x`` ``[m, D]`` and ``y`` ``[n, D]`` with the
    Gaussian kernel of width ``bandwidth``. ``x_ids``/``y_ids`` name each row's original point (a
    bootstrap resample's copies): pairs of copies of one point are left out like the diagonal."""
    _check(x, y)
    x_ids = torch.arange(len(x), device=x.device) if x_ids is None else x_ids
    y_ids = torch.arange(len(y), device=y.device) if y_ids is None else y_ids

    def kernel(a: Tensor, b: Tensor) -> Tensor:
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth**2))

    keep_xx, keep_yy = _different(x_ids, x_ids), _different(y_ids, y_ids)
    within_x = kernel(x, x)[keep_xx].mean()
    within_y = kernel(y, y)[keep_yy].mean()
    return float(within_x + within_y - 2 * kernel(x, y).mean())


def nearest_neighbour_hits(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Leave-one-out 1-NN on the pooled points: for each point of ``x`` ``[m, D]`` and of ``y``
    ``[n, D]``, whether its nearest other point is from its own set (``[m]``, ``[n]``, bool)."""
    _check(x, y)
    points = torch.cat([x, y])  # [m + n, D]
    labels = torch.cat([torch.ones(len(x), dtype=torch.bool, device=x.device),
                        torch.zeros(len(y), dtype=torch.bool, device=x.device)])
    distances = torch.cdist(points, points).fill_diagonal_(float("inf"))  # a point is not its own neighbour
    correct = labels[distances.argmin(dim=1)] == labels  # [m + n]
    return correct[: len(x)], correct[len(x):]


def nearest_neighbour_accuracy(x: Tensor, y: Tensor) -> float:
    """Leave-one-out 1-NN two-sample accuracy of ``x`` ``[m, D]`` (label 1) against ``y`` ``[n, D]``
    (label 0), the mean of the two classes' accuracies (so unequal sizes do not shift the chance
    level from .5)."""
    hits_x, hits_y = nearest_neighbour_hits(x, y)
    return float((hits_x.float().mean() + hits_y.float().mean()) / 2)


def nearest_neighbour_interval(x: Tensor, y: Tensor, *, resamples: int = 200, level: float = 0.95,
                               rng: torch.Generator | None = None) -> Interval:
    """:func:`nearest_neighbour_accuracy` with a bootstrap interval over the points that are
    classified, each set's hits resampled separately, the pool of neighbours fixed. (Resampling the
    pool too would shrink the number of distinct neighbours and bias the accuracy; excluding copies
    cannot undo that, as it does for :func:`mmd2`.)"""
    if resamples < 10:
        raise ValueError(f"resamples={resamples}: an interval needs at least 10 resamples")
    hits_x, hits_y = (h.float().cpu() for h in nearest_neighbour_hits(x, y))
    values = [float((hits_x[torch.randint(len(hits_x), (len(hits_x),), generator=rng)].mean()
                     + hits_y[torch.randint(len(hits_y), (len(hits_y),), generator=rng)].mean()) / 2)
              for _ in range(resamples)]
    return percentile_interval(float((hits_x.mean() + hits_y.mean()) / 2), values, level)


Statistic = Callable[..., float]


def bootstrap(statistic: Statistic, x: Tensor, y: Tensor, *, resamples: int = 200, level: float = 0.95,
              rng: torch.Generator | None = None) -> Interval:
    """``statistic(x, y, x_ids=, y_ids=)`` on the full sets, and the percentile interval of its
    values over ``resamples`` bootstrap resamples of both sets (drawn from ``rng``)."""
    if resamples < 10:
        raise ValueError(f"resamples={resamples}: an interval needs at least 10 resamples")
    value = statistic(x, y)
    values = []
    for _ in range(resamples):
        ix = torch.randint(len(x), (len(x),), generator=rng).to(x.device)
        iy = torch.randint(len(y), (len(y),), generator=rng).to(y.device)
        values.append(statistic(x[ix], y[iy], x_ids=ix, y_ids=iy))
    return percentile_interval(value, values, level)


def percentile_interval(value: float, resampled: list[float], level: float = 0.95) -> Interval:
    """``value`` with the central ``level`` range of its bootstrap values ``resampled``."""
    tail = (1 - level) / 2
    quantiles = torch.tensor([tail, 1 - tail], dtype=torch.float64)
    low, high = torch.tensor(resampled, dtype=torch.float64).quantile(quantiles).tolist()
    return Interval(value, low, high)
