"""Two-sample statistics for chapter 11's codes: known pairs of distributions give known answers."""

import math

import pytest
import torch

from textgan_lib.eval.two_sample import (
    bootstrap,
    median_bandwidth,
    mmd2,
    nearest_neighbour_accuracy,
    nearest_neighbour_interval,
)
from textgan_lib.train.critic_estimate import critic_wasserstein


def _gaussian(n, dim=4, shift=0.0, seed=0):
    points = torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))
    points[:, 0] += shift
    return points


def _mmd2_loops(x, y, bandwidth):
    """The unbiased MMD² written as its three sums."""
    def k(a, b):
        return math.exp(-float(((a - b) ** 2).sum()) / (2 * bandwidth**2))
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def _nn_accuracy_loops(x, y):
    points, labels = torch.cat([x, y]), [1] * len(x) + [0] * len(y)
    hits = {0: [], 1: []}
    for i, point in enumerate(points):
        others = [(float((point - q).norm()), j) for j, q in enumerate(points) if j != i]
        hits[labels[i]].append(labels[min(others)[1]] == labels[i])
    return (sum(hits[1]) / len(hits[1]) + sum(hits[0]) / len(hits[0])) / 2


def test_the_statistics_equal_their_written_out_sums():
    x, y = _gaussian(6, seed=1), _gaussian(5, shift=0.7, seed=2)
    assert mmd2(x, y, 1.3) == pytest.approx(_mmd2_loops(x, y, 1.3), abs=1e-6)
    assert nearest_neighbour_accuracy(x, y) == pytest.approx(_nn_accuracy_loops(x, y))
    square = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])  # distances 1, 2, sqrt(5)
    assert median_bandwidth(square) == pytest.approx(2.0)


def test_equal_distributions_cannot_be_told_apart_and_shifted_ones_can():
    real, same, shifted = _gaussian(300, seed=0), _gaussian(300, seed=1), _gaussian(300, shift=3.0, seed=2)
    bandwidth = median_bandwidth(real)

    def mmd(x, y, **ids):
        return mmd2(x, y, bandwidth, **ids)

    rng = torch.Generator().manual_seed(0)
    equal_nn = nearest_neighbour_interval(real, same, resamples=50, rng=rng)
    equal_mmd = bootstrap(mmd, real, same, resamples=50, rng=rng)
    assert equal_nn.low < 0.5 < equal_nn.high and equal_mmd.low < 0 < equal_mmd.high
    far_nn = nearest_neighbour_interval(real, shifted, resamples=50, rng=rng)
    far_mmd = bootstrap(mmd, real, shifted, resamples=50, rng=rng)
    assert far_nn.value > 0.9 and far_nn.low > 0.85 and far_mmd.low > 0.1
    assert far_nn.low <= far_nn.value <= far_nn.high and equal_nn.low <= equal_nn.value <= equal_nn.high
    assert nearest_neighbour_accuracy(real, real + 1e-4) < 0.05  # a copy of the real points: below chance


def test_a_resampled_point_is_never_paired_with_its_own_copy():
    real, same = _gaussian(300, seed=0), _gaussian(300, seed=1)
    rng = torch.Generator().manual_seed(3)
    ix, iy = torch.randint(300, (300,), generator=rng), torch.randint(300, (300,), generator=rng)
    assert nearest_neighbour_accuracy(real[ix], same[iy]) > 0.6  # why 1-NN does not resample its pool
    # copies inflate the within-set kernel sums too: .0051 naive against .0014 with the copies left out
    assert abs(mmd2(real[ix], same[iy], 2.0, x_ids=ix, y_ids=iy)) < 0.003 < mmd2(real[ix], same[iy], 2.0)


def test_the_critic_estimates_the_wasserstein_distance_on_held_out_halves():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    real, shifted, same = _gaussian(400, 2, seed=0), _gaussian(400, 2, shift=1.0, seed=1), _gaussian(400, 2, seed=2)
    far = critic_wasserstein(real, shifted, steps=300, batch_size=128, lr=1e-3, resamples=50)
    near = critic_wasserstein(real, same, steps=300, batch_size=128, lr=1e-3, resamples=50)
    assert 0.6 < far.value < 1.2 and far.low > 0.3  # W1 of a unit shift is 1
    assert near.low < 0 < near.high
    assert torch.equal(torch.random.get_rng_state(), before)
    with pytest.raises(ValueError, match="at least 4 points"):
        critic_wasserstein(real[:3], shifted)


def test_code_space_tests_give_one_row_per_candidate_with_its_intervals():
    from textgan_lib.recipes.code_tests import code_space_tests

    held_out = _gaussian(150, seed=0)
    table, bandwidth = code_space_tests(held_out, {"same": _gaussian(150, seed=1),
                                                   "shifted": _gaussian(150, shift=3.0, seed=2)},
                                        resamples=20, critic_steps=100)
    assert bandwidth == pytest.approx(median_bandwidth(held_out))
    assert list(table.index) == ["same", "shifted"]
    assert {"mmd2", "mmd2_low", "nn_accuracy_high", "wasserstein", "wasserstein_low"} <= set(table.columns)
    assert table.loc["same", "nn_accuracy_low"] < 0.5 < table.loc["same", "nn_accuracy_high"]
    assert table.loc["shifted", "nn_accuracy"] > 0.9 and table.loc["shifted", "mmd2_low"] > 0
