"""ScratchGAN (issue 38): dense per-token rewards, discounted returns, a moving baseline, masking
after the end, and an exact resume."""

import time

import pytest
import torch

from textgan_lib.models.discriminators import TokenLSTMDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.train.adversarial import generator_step_seconds, policy_gradient_noise
from textgan_lib.train.dense_rewards import discounted_returns, moving_baseline, token_rewards
from textgan_lib.train.scratchgan import ScratchGANConfig, ScratchGANTrainer

V, T = 12, 6
EOS = 2
REAL = torch.randint(3, V, (64, T), generator=torch.Generator().manual_seed(0))
REAL[:, -2] = EOS
REAL[:, -1] = 0  # <pad> after <eos>


def test_the_returns_discount_the_rewards_still_to_come_and_stop_at_the_end():
    rewards = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    returns = discounted_returns(rewards, mask, gamma=0.5)
    # by hand: 1 + .5 * 2 + .25 * 3, 2 + .5 * 3, 3; the second sequence ended after two tokens
    assert torch.allclose(returns, torch.tensor([[2.75, 3.5, 3.0], [2.0, 2.0, 0.0]]))
    assert torch.allclose(discounted_returns(rewards, mask, gamma=0.0), rewards * mask)
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns(rewards, mask, gamma=1.5)


def test_rewards_are_two_sigmoid_minus_one_and_zero_after_the_end():
    logits = torch.tensor([[0.0, 100.0, -100.0, 50.0]])
    mask = torch.tensor([[True, True, True, False]])
    assert torch.allclose(token_rewards(logits, mask), torch.tensor([[0.0, 1.0, -1.0, 0.0]]))


def test_the_baseline_is_a_moving_average_of_the_mean_return():
    returns, mask = torch.tensor([[1.0, 3.0, 99.0]]), torch.tensor([[True, True, False]])
    first = moving_baseline(None, returns, mask, decay=0.08)
    assert first == pytest.approx(2.0)  # the first batch's mean over its tokens
    assert moving_baseline(first, returns * 2, mask, decay=0.08) == pytest.approx(0.08 * 2.0 + 0.92 * 4.0)


def _trainer(**config) -> ScratchGANTrainer:
    torch.manual_seed(0)
    generator = LSTMGenerator(GeneratorConfig(V, 8, 16))
    discriminator = TokenLSTMDiscriminator(V, embed_dim=8, hidden_dim=16)
    settings = {"batch_size": 16, "g_lr": 1e-3, "d_lr": 1e-3, "eval_every": 2} | config
    return ScratchGANTrainer(generator, discriminator, REAL, T, ScratchGANConfig(**settings), progress=False,
                             held_out=REAL[:32])


def test_a_scratchgan_run_records_its_rewards_baseline_and_discriminator():
    trainer = _trainer()
    history = trainer.run(until=4)
    assert history["iteration"].tolist() == [2, 4]
    for column in ("g_loss", "mean_reward", "mean_return", "baseline", "d_loss", "d_accuracy",
                   "d_heldout_accuracy", "d_heldout_auc"):
        assert history[column].notna().all(), column
    assert history["mean_reward"].between(-1, 1).all() and trainer.carried["baseline"] is not None


def test_the_discriminator_loss_ignores_what_comes_after_the_end():
    """Logits after each sequence's <eos> never reach the loss: changing them changes nothing."""
    trainer = _trainer()
    base_forward = trainer.discriminator.forward

    def loud_after_end(tokens):
        logits = base_forward(tokens)
        return torch.where(trainer.generator.mask(tokens), logits, torch.full_like(logits, 1e4))

    torch.manual_seed(1)
    state = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    rng_state = {name: g.get_state() for name, g in trainer.rngs.items()}
    quiet = trainer.discriminator_step()["d_loss"]
    trainer.discriminator.load_state_dict(state)
    for name, g in trainer.rngs.items():
        g.set_state(rng_state[name])
    trainer.optimizers["discriminator"].state.clear()
    trainer.discriminator.forward = loud_after_end
    torch.manual_seed(1)
    assert trainer.discriminator_step()["d_loss"] == pytest.approx(quiet, rel=1e-6)


def test_a_resumed_run_continues_exactly_baseline_included(tmp_path):
    whole = _trainer()
    whole.run(until=4)
    first = _trainer()
    first.run(until=2)
    first.save(tmp_path / "run.pt")
    resumed = _trainer()
    resumed.load(tmp_path / "run.pt")
    assert resumed.carried["baseline"] == first.carried["baseline"]
    resumed.run(until=4)
    for name, tensor in whole.generator.state_dict().items():
        assert torch.equal(resumed.generator.state_dict()[name], tensor), name
    timings = ["elapsed_s"]
    assert resumed.history.drop(columns=timings).equals(whole.history.drop(columns=timings))


def test_the_shuffled_placebo_trains_with_the_same_rewards_in_another_order():
    trainer = _trainer(reward="shuffled")
    trainer.run(until=2)
    assert "reward_shuffle" in trainer.rngs and trainer.history["g_loss"].notna().all()
    with pytest.raises(ValueError, match="reward must be"):
        ScratchGANConfig(reward="constant")


def test_the_gradient_noise_falls_with_the_batch_and_moves_nothing():
    """``policy_gradient_noise``: a gradient averaged over B sequences has 1/B of one sequence's
    variance, so the noise-to-signal ratio of batch 128 lies far below batch 4's; the weights and
    the learning rate are as they were."""
    small, large = _trainer(batch_size=4), _trainer(batch_size=128)
    weights = {k: v.clone() for k, v in large.generator.state_dict().items()}
    noise_small, noise_large = policy_gradient_noise(small, 5), policy_gradient_noise(large, 5)
    assert noise_large < noise_small / 4
    assert all(torch.equal(large.generator.state_dict()[k], v) for k, v in weights.items())
    assert large.optimizers["generator"].param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="draws"):
        policy_gradient_noise(small, 1)


def test_the_step_time_is_the_fastest_step_after_one_warm_up():
    """``generator_step_seconds``: one untimed warm-up step, then the minimum of ``repeats`` timed
    steps (a slow first step, as allocation makes it, is never the answer)."""

    class Steps:
        def __init__(self):
            self.pauses = [0.05, 0.02, 0.001, 0.01]  # the warm-up is the slowest

        def generator_step(self):
            time.sleep(self.pauses.pop(0))

    steps = Steps()
    seconds = generator_step_seconds(steps, repeats=3)
    assert steps.pauses == [] and 0.001 <= seconds < 0.01
    with pytest.raises(ValueError, match="repeats"):
        generator_step_seconds(Steps(), repeats=0)
