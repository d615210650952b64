import math

import pytest
import torch

from textgan_lib.toys.gradient_estimators import exact_gradient, gumbel_gradient, gumbel_softmax, reinforce_gradient
from textgan_lib.toys.toy_gan import mode_statistics, ring_modes, sample_ring, train_toy_gan


def test_ring_data_is_perfect_by_its_own_measure():
    stats = mode_statistics(sample_ring(4000, rng=torch.Generator().manual_seed(0)))
    assert stats["modes_covered"] == 8 and stats["high_quality"] > 0.98
    assert sum(stats[f"mode_{k}"] for k in range(8)) == pytest.approx(stats["high_quality"])


def test_collapsed_samples_are_measured_as_collapsed():
    one_mode = ring_modes()[3] + 0.01 * torch.randn(1000, 2)
    stats = mode_statistics(one_mode)
    assert stats["modes_covered"] == 1 and stats["mode_3"] > 0.98
    assert mode_statistics(torch.zeros(100, 2))["high_quality"] == 0.0


def test_toy_gan_runs_and_records():
    history, snapshots = train_toy_gan("nonsaturating", 40, eval_every=20, snapshot_steps=(20,), n_eval=200)
    assert history["step"].tolist() == [20, 40]
    assert snapshots[20].shape == (200, 2)
    with pytest.raises(ValueError, match="generator_loss"):
        train_toy_gan("wasserstein", 10)


def test_relativistic_toy_gan_trains_with_its_own_losses():
    relativistic, _ = train_toy_gan("rsgan", 40, eval_every=20, n_eval=200)
    standard, _ = train_toy_gan("nonsaturating", 40, eval_every=20, n_eval=200)
    assert relativistic["loss"].eq("rsgan").all()
    # RSGAN's losses are softplus(∓(D(real) - D(fake))): a critic that ranks real above fake puts
    # its own loss below softplus(0) = log 2 and the generator's above it
    assert (relativistic["d_loss"] < math.log(2)).all() and (relativistic["g_loss"] > math.log(2)).all()
    assert not relativistic["d_loss"].equals(standard["d_loss"])  # another objective, same batches


def _problem():
    g = torch.Generator().manual_seed(0)
    theta, a = torch.randn(6, generator=g), torch.randn(6, generator=g)
    return theta, (lambda y: (y @ a - 0.5) ** 2)


def test_exact_gradient_equals_autograd_of_the_expectation():
    theta, f = _problem()
    var = theta.clone().requires_grad_()
    (expected,) = torch.autograd.grad((torch.softmax(var, 0) * f(torch.eye(6))).sum(), var)
    torch.testing.assert_close(exact_gradient(theta, f), expected)


@pytest.mark.parametrize("baseline", [False, True])
def test_reinforce_is_unbiased(baseline):
    theta, f = _problem()
    estimates = reinforce_gradient(theta, f, 4, 40_000, baseline=baseline, rng=torch.Generator().manual_seed(1))
    standard_error = estimates.std(dim=0) / len(estimates) ** 0.5
    assert ((estimates.mean(dim=0) - exact_gradient(theta, f)).abs() < 5 * standard_error + 1e-6).all()


def test_baseline_reduces_variance_and_gumbel_is_biased_at_high_temperature():
    theta, f = _problem()
    plain = reinforce_gradient(theta, f, 8, 20_000, rng=torch.Generator().manual_seed(2))
    with_baseline = reinforce_gradient(theta, f, 8, 20_000, baseline=True, rng=torch.Generator().manual_seed(2))
    assert with_baseline.var(dim=0).sum() < plain.var(dim=0).sum()
    hot = gumbel_gradient(theta, f, 8, 20_000, tau=2.0, rng=torch.Generator().manual_seed(3))
    bias = (hot.mean(dim=0) - exact_gradient(theta, f)).norm()
    assert bias > 10 * (hot.std(dim=0) / len(hot) ** 0.5).norm()


def test_gumbel_softmax_argmax_is_an_exact_sample_and_hard_is_one_hot():
    theta, _ = _problem()
    y = gumbel_softmax(theta.expand(50_000, 6), tau=0.7, rng=torch.Generator().manual_seed(4))
    freq = torch.bincount(y.argmax(dim=1), minlength=6).float() / 50_000
    torch.testing.assert_close(freq, torch.softmax(theta, 0), atol=0.01, rtol=0)
    hard = gumbel_softmax(theta.expand(10, 6).clone().requires_grad_(), tau=0.7, hard=True)
    assert set(hard.detach().unique().tolist()) <= {0.0, 1.0} and hard.requires_grad
    with pytest.raises(ValueError, match="tau"):
        gumbel_softmax(theta, tau=0)
    with pytest.raises(ValueError, match="n_samples >= 2"):
        reinforce_gradient(theta, _problem()[1], 1, 5, baseline=True)
