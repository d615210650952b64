"""The Gumbel-softmax GAN: RelGAN's schedules, exact samples with differentiable relaxations, training."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from textgan_lib.models.checkpoint import NonFiniteLossError
from textgan_lib.models.discriminators import CNNDiscriminator, embed
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.train.gumbel_gan import (
    BETA_SCHEDULES,
    GumbelGANConfig,
    GumbelGANTrainer,
    inverse_temperature,
    relaxed_sample,
)

TARGET = 3


def _generator(vocab=8, seed=0, **ids):
    torch.manual_seed(seed)
    ids = ids or {"start_id": 0, "pad_id": None, "eos_id": None}
    return LSTMGenerator(GeneratorConfig(vocab, 8, 16, **ids))


class TargetCounter(nn.Module):
    """A differentiable pattern discriminator: the logit counts (soft) TARGET tokens."""

    def __init__(self, vocab=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 1)
        with torch.no_grad():
            self.embedding.weight.zero_()
            self.embedding.weight[TARGET] = 1.0
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, inputs):
        return self.scale * embed(self.embedding, inputs).sum(dim=(1, 2)) - 1.0


@pytest.mark.parametrize("schedule", BETA_SCHEDULES)
def test_schedules_run_from_one_to_max_beta(schedule):
    start, end = inverse_temperature(schedule, 0, 100.0, 5000), inverse_temperature(schedule, 4999, 100.0, 5000)
    if schedule == "no":
        assert start == end == 100.0
    else:
        assert start == pytest.approx(1.0, abs=0.01) and end == pytest.approx(100.0, rel=0.01)
    assert inverse_temperature("exp", 2500, 100.0, 5000) == pytest.approx(10.0)  # 100 ** (1/2)
    with pytest.raises(ValueError, match="unknown schedule"):
        inverse_temperature("cosine", 0, 10.0)


def test_relaxed_samples_are_exact_samples_and_differentiable():
    g = _generator()
    tokens, relaxed = relaxed_sample(g, 40_000, 1, beta=1.0, rng=torch.Generator().manual_seed(0))
    probs = g.output(g.features(torch.zeros(1, 1, dtype=torch.long))[0][:, -1]).softmax(-1)[0].detach()
    freq = torch.bincount(tokens[:, 0], minlength=8).float() / len(tokens)
    assert torch.all((freq - probs).abs() < 5 * (probs * (1 - probs) / len(tokens)).sqrt() + 1e-6)
    assert relaxed.shape == (40_000, 1, 8)
    torch.testing.assert_close(relaxed.sum(-1), torch.ones(40_000, 1))
    relaxed[:, 0, TARGET].sum().backward()
    assert g.output.weight.grad.abs().sum() > 0  # the discriminator's input depends on the generator

    tokens, cold = relaxed_sample(g, 500, 6, beta=1e4, rng=torch.Generator().manual_seed(1))
    assert torch.equal(cold.argmax(-1), tokens)  # β → ∞: the one-hot of the sampled token
    assert (cold - F.one_hot(tokens, 8).float()).abs().sum(-1).mean() < 1e-3
    tokens, straight = relaxed_sample(g, 500, 6, beta=1.0, rng=torch.Generator().manual_seed(1), straight_through=True)
    torch.testing.assert_close(straight, F.one_hot(tokens, 8).float())  # forward: exactly the one-hot


def test_until_eos_relaxation_holds_exact_padding_after_eos():
    g = _generator(vocab=10, start_id=1, pad_id=0, eos_id=2)
    tokens, relaxed = relaxed_sample(g, 300, 7, beta=2.0, rng=torch.Generator().manual_seed(0), relaxation="until_eos")
    assert not (tokens == 1).any()  # <bos> is never drawn
    ended = [(row, soft) for row, soft in zip(tokens.tolist(), relaxed) if 2 in row[:-1]]
    assert len(ended) >= 30, "the check needs rows that end before the last position"
    for row, soft in ended:
        end = row.index(2)
        assert all(t == 0 for t in row[end + 1:])
        torch.testing.assert_close(soft[end + 1:], F.one_hot(torch.zeros(6 - end, dtype=torch.long), 10).float())


def _after_eos(tokens):
    """``[n, T]`` bool: the positions after each row's first ``<eos>`` (id 2)."""
    return (tokens == 2).long().cumsum(dim=1).roll(1, dims=1).index_fill(1, torch.tensor([0]), 0) > 0


def test_full_relaxation_is_soft_at_every_position_and_pads_once_learned():
    g = _generator(vocab=10, start_id=1, pad_id=0, eos_id=2)
    with torch.no_grad():
        g.output.bias[2] += 1.5  # end early, so that many positions lie after <eos>
    tokens, full = relaxed_sample(g, 300, 7, beta=2.0, rng=torch.Generator().manual_seed(0))
    same, until = relaxed_sample(g, 300, 7, beta=2.0, rng=torch.Generator().manual_seed(0), relaxation="until_eos")
    after = _after_eos(tokens)
    assert torch.equal(tokens, same) and after.float().mean() > 0.3  # the same ids; only the relaxation differs
    torch.testing.assert_close(full[~after], until[~after])
    torch.testing.assert_close(full.sum(-1), torch.ones(300, 7))
    assert full[after].max(-1).values.mean() < 0.9  # soft after <eos> too, as RelGAN's padding
    full[after][:, 0].sum().backward()
    assert g.output.weight.grad.abs().sum() > 0  # and differentiable there

    with torch.no_grad():  # a generator that has learned to pad: nearly one-hot <pad>, still relaxed
        g.output.bias[0] += 12.0
    _, padded = relaxed_sample(g, 300, 7, beta=2.0, rng=torch.Generator().manual_seed(0))
    assert padded[after][:, 0].mean() > 0.99 and padded[after][:, 0].min() < 1.0
    assert padded[~after][:, 0].max() == 0  # before <eos>, <pad> is never drawn


def test_a_generator_that_never_learned_to_pad_is_warned_about():
    g = _generator(vocab=10, start_id=1, pad_id=0, eos_id=2)
    real = torch.tensor([[3, 4, 2, 0, 0, 0]] * 32)
    d = CNNDiscriminator(10, embed_dim=8, windows=(1, 2), filters=(4, 4), dropout=0.0)
    with pytest.warns(UserWarning, match="padding_targets=True"):
        GumbelGANTrainer(g, d, real, 6, GumbelGANConfig(batch_size=16), progress=False)
    GumbelGANTrainer(g, d, real, 6, GumbelGANConfig(batch_size=16, relaxation="until_eos"), progress=False)


def _trainer(tmp_path=None, seed=0, discriminator=None, **overrides):
    generator = _generator(seed=seed)
    torch.manual_seed(seed)
    discriminator = discriminator or CNNDiscriminator(8, embed_dim=8, windows=(1, 2), filters=(4, 4), dropout=0.0)
    real = torch.randint(0, 8, (64, 6), generator=torch.Generator().manual_seed(5))
    config = GumbelGANConfig(**({"batch_size": 16, "d_steps": 2, "eval_every": 2, "monitor_samples": 50,
                                 "beta_horizon": 10, "max_beta": 10.0, "seed": 3} | overrides))
    return GumbelGANTrainer(generator, discriminator, real, max_len=6, config=config, progress=False,
                            evaluate=lambda g: {"nll_real": g.token_nll(real).mean().item()},
                            checkpoint_path=None if tmp_path is None else tmp_path / "gumbel.pt")


def test_the_generator_learns_what_the_discriminator_rewards():
    trainer = _trainer(discriminator=TargetCounter(), g_lr=2e-2, loss="standard")
    probe = torch.Generator().manual_seed(9)
    before = (trainer.generator.sample(4000, 6, rng=probe) == TARGET).float().mean()
    for _ in range(30):
        trainer.generator_step()
    after = (trainer.generator.sample(4000, 6, rng=probe) == TARGET).float().mean()
    assert after > before + 0.1


def test_history_collapse_monitor_and_exact_resume(tmp_path):
    straight = _trainer()
    history = straight.run(until=6)
    assert history["iteration"].tolist() == [0, 2, 4, 6]
    assert {"beta", "g_loss", "d_loss", "distinct_2", "distinct_3", "nll_real"} <= set(history.columns)
    assert history["beta"].is_monotonic_increasing and history["beta"].iloc[-1] == pytest.approx(10 ** 0.6)

    first = _trainer(tmp_path)
    first.run(until=4)
    resumed = _trainer(seed=7)  # different initial weights: the checkpoint overrides them
    resumed.load(tmp_path / "gumbel.pt")
    resumed.run(more=2)
    for a, b in zip(straight.generator.parameters(), resumed.generator.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(straight.discriminator.parameters(), resumed.discriminator.parameters()):
        assert torch.equal(a, b)
    assert resumed.history["d_loss"].tolist()[-1] == history["d_loss"].tolist()[-1]


def test_non_finite_losses_stop_before_any_update(tmp_path):
    trainer = _trainer(tmp_path)
    trainer.run(until=2)
    saved = (tmp_path / "gumbel.pt").read_bytes()
    before = [p.clone() for p in trainer.generator.parameters()]
    with torch.no_grad():
        trainer.discriminator.output.bias.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="generator loss became nan.*no weights were updated"):
        trainer.run(more=1)
    assert all(torch.equal(p, b) for p, b in zip(trainer.generator.parameters(), before))
    assert (tmp_path / "gumbel.pt").read_bytes() == saved
    with pytest.raises(ValueError, match="loss must be"):
        GumbelGANConfig(loss="wgan")


def test_the_generator_plays_without_dropout_in_both_players_steps():
    # the relaxed samples come from the policy that is evaluated (eval mode), in the generator's
    # step and in the discriminator's
    trainer = _trainer()
    generator = trainer.generator
    generator.dropout.p = 0.5
    modes = []
    generator.lstm.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    trainer.generator_step()
    trainer.discriminator_step()
    assert modes and not any(modes)
    assert generator.training  # its mode outside the steps is the caller's


def test_a_generator_that_never_learned_padding_is_warned_of_under_the_full_relaxation():
    """With RelGAN's full-length relaxation the critic sees the generator's words after <eos>; a
    generator that puts no mass on <pad> there is named (the ci-size tests declare that they expect it)."""
    g = _generator(vocab=8, start_id=0, pad_id=1, eos_id=2)
    real = torch.tensor([[3, 4, 2, 1, 1, 1]] * 8)  # <pad> after <eos>
    with pytest.warns(UserWarning, match=r"<pad> after <eos> probability 0\.\d+ on real rows"):
        GumbelGANTrainer(g, TargetCounter(), real, 6, GumbelGANConfig(batch_size=4, relaxation="full"),
                         progress=False)
    GumbelGANTrainer(g, TargetCounter(), real, 6, GumbelGANConfig(batch_size=4, relaxation="until_eos"),
                     progress=False)  # the error that pytest's filterwarnings makes of it would fail here
