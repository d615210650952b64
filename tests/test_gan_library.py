"""Discriminators, GAN losses, rollout rewards and the SeqGAN trainer."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from textgan_lib.models.checkpoint import CheckpointMismatchError, NonFiniteLossError
from textgan_lib.models.discriminators import CNNDiscriminator, LSTMDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.train.losses import (
    discriminator_loss,
    minimax_generator_loss,
    nonsaturating_generator_loss,
    policy_gradient_loss,
    rsgan_discriminator_loss,
    rsgan_generator_loss,
)
from textgan_lib.train.mle import MLETrainer
from textgan_lib.train.rollout import default_reward_dtype, rollout_rewards, rollout_rewards_reference
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer

TARGET = 3  # the token the pattern discriminator looks for


class PatternDiscriminator(nn.Module):
    """Logit +10 for a sequence that contains TARGET anywhere, -10 otherwise."""

    def forward(self, ids):
        return (ids == TARGET).any(dim=1).float() * 20 - 10

    def l2_penalty(self):
        return torch.zeros(())


class CountDiscriminator(nn.Module):
    """Logit grows with the number of TARGET tokens: rewards strictly between 0 and 1."""

    def forward(self, ids):
        return (ids == TARGET).float().sum(dim=1) - 1.0


def _generator(vocab=8, seed=0, hidden=16, dropout=0.0):
    torch.manual_seed(seed)
    return LSTMGenerator(GeneratorConfig(vocab, 8, hidden, dropout=dropout, start_id=0, pad_id=None, eos_id=None))


# -- discriminators -----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: CNNDiscriminator(30, windows=(1, 2, 5), filters=(4, 6, 8)),
                                  lambda: LSTMDiscriminator(30, hidden_dim=8)])
def test_discriminators_take_ids_or_one_hot(make):
    disc = make().eval()
    ids = torch.randint(0, 30, (7, 9))
    logits = disc(ids)
    assert logits.shape == (7,)
    torch.testing.assert_close(disc(F.one_hot(ids, 30).float()), logits)
    with pytest.raises(ValueError, match="one-hot-like"):
        disc(torch.rand(7, 9, 29))


def test_seqgan_cnn_matches_the_paper_and_refuses_short_sequences():
    disc = CNNDiscriminator(5000)
    assert sum(c.out_channels for c in disc.convs) == 1720
    assert [c.kernel_size[0] for c in disc.convs] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
    assert disc.embedding.embedding_dim == 64 and disc.dropout.p == 0.25
    with pytest.raises(ValueError, match="largest window"):
        disc(torch.zeros(2, 19, dtype=torch.long))


def test_one_logit_loss_and_gradient_equal_the_reference_two_class_softmax_layer():
    """The SeqGAN code: softmax over two classes, loss mean CE + λ (l2_loss(W) + l2_loss(b)), with
    tf.nn.l2_loss(x) = ||x||² / 2. Our one logit w = w_1 - w_0 stands for W = [-w/2, w/2]: the
    losses are equal, and by the chain rule dL/dw = (dL/dw_1 - dL/dw_0) / 2."""
    torch.manual_seed(0)
    disc = CNNDiscriminator(30, windows=(1, 2), filters=(3, 5), dropout=0.0).double()
    features = torch.randn(16, 8, dtype=torch.float64)  # what the highway layer hands the output layer
    labels = torch.randint(0, 2, (16,)).double()
    w, b = disc.output.weight, disc.output.bias  # [1, 8], [1]
    ours = F.binary_cross_entropy_with_logits(disc.output(features).squeeze(1), labels) + disc.l2_penalty()
    grad_w, grad_b = torch.autograd.grad(ours, [w, b])

    W2 = torch.cat([-w / 2, w / 2]).detach().t().clone().requires_grad_()  # [8, 2]: class 0 fake, 1 real
    b2 = torch.cat([-b / 2, b / 2]).detach().clone().requires_grad_()  # [2]
    scores = features @ W2 + b2
    reference = F.cross_entropy(scores, labels.long()) + 0.2 * (W2.pow(2).sum() / 2 + b2.pow(2).sum() / 2)
    ref_w, ref_b = torch.autograd.grad(reference, [W2, b2])

    torch.testing.assert_close(ours, reference)
    torch.testing.assert_close(grad_w[0], (ref_w[:, 1] - ref_w[:, 0]) / 2)
    torch.testing.assert_close(grad_b[0], (ref_b[1] - ref_b[0]) / 2)


def test_seqgan_cnn_is_the_textbook_convolution_max_over_time_network():
    torch.manual_seed(0)
    disc = CNNDiscriminator(40, embed_dim=6, windows=(1, 3, 7), filters=(5, 4, 3)).double().eval()
    ids = torch.randint(0, 40, (9, 7))
    x = disc.embedding(ids).transpose(1, 2)  # [B, E, T]
    features = torch.cat([torch.relu(conv(x)).max(dim=2).values for conv in disc.convs], dim=1)
    expected = disc.output(disc.highway(features)).squeeze(1)
    torch.testing.assert_close(disc(ids), expected)
    expected.sum().backward()
    expected_grads = [p.grad.clone() for p in disc.parameters()]
    disc.zero_grad()
    disc(ids).sum().backward()
    for p, g in zip(disc.parameters(), expected_grads):
        torch.testing.assert_close(p.grad, g)



@pytest.mark.parametrize("make", [lambda: CNNDiscriminator(300, windows=(1, 2, 5, 12), filters=(7, 4, 6, 3)),
                                  lambda: CNNDiscriminator.relgan_sized(300, filters=8)])
def test_fused_windows_give_the_per_width_convolutions_values_and_gradients(make):
    """All window widths as one product over padded windows (the CUDA default) is the same network."""
    torch.manual_seed(1)
    disc = make().eval()
    ids = torch.randint(0, 300, (6, 12))
    relaxed = F.softmax(3 * torch.randn(6, 12, 300), dim=-1)  # a Gumbel GAN's input
    for inputs in (ids, relaxed):
        results = []
        for fused in (False, True):
            disc.fused_windows = fused
            disc.zero_grad()
            logits = disc(inputs)
            (logits * torch.arange(1.0, 7.0)).sum().backward()
            results.append((logits.detach(), [p.grad.clone() for p in disc.parameters()]))
        (plain, plain_grads), (fused_logits, fused_grads) = results
        torch.testing.assert_close(fused_logits, plain, rtol=1e-5, atol=1e-5)
        for a, b in zip(fused_grads, plain_grads):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert "feature_widths" not in disc.state_dict()  # checkpoints keep their keys


# -- losses -------------------------------------------------------------------------------------

def test_gan_losses_match_their_formulas():
    real, fake = torch.randn(50), torch.randn(50)
    D = torch.sigmoid
    torch.testing.assert_close(discriminator_loss(real, fake), -(D(real).log().mean() + (1 - D(fake)).log().mean()))
    torch.testing.assert_close(minimax_generator_loss(fake), (1 - D(fake)).log().mean())
    torch.testing.assert_close(nonsaturating_generator_loss(fake), -D(fake).log().mean())
    torch.testing.assert_close(rsgan_discriminator_loss(real, fake), -D(real - fake).log().mean())
    torch.testing.assert_close(rsgan_generator_loss(real, fake), -D(fake - real).log().mean())


def test_minimax_generator_loss_saturates_where_non_saturating_does_not():
    fake = torch.tensor([-8.0], requires_grad=True)  # D is sure the fake is fake
    (g_minimax,) = torch.autograd.grad(minimax_generator_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(nonsaturating_generator_loss(fake), fake)
    assert abs(g_minimax.item()) < 1e-3 < 0.9 < abs(g_ns.item())


def test_policy_gradient_loss_is_reinforce_and_ignores_reward_gradients():
    log_probs = torch.randn(4, 5, requires_grad=True)
    rewards = torch.rand(4, 5, requires_grad=True)
    mask = torch.ones(4, 5)
    mask[0, 3:] = 0
    loss = policy_gradient_loss(log_probs, rewards, mask)  # the SeqGAN code's sum
    loss.backward()
    torch.testing.assert_close(log_probs.grad, -rewards.detach() * mask)
    assert rewards.grad is None
    (mean_grad,) = torch.autograd.grad(policy_gradient_loss(log_probs, rewards, mask, reduction="mean"), log_probs)
    torch.testing.assert_close(mean_grad, -rewards.detach() * mask / mask.sum())
    with pytest.raises(ValueError, match="must match"):
        policy_gradient_loss(log_probs, rewards[:, :4])
    with pytest.raises(ValueError, match="reduction"):
        policy_gradient_loss(log_probs, rewards, reduction="avg")


# -- rollout rewards ----------------------------------------------------------------------------

def test_rewards_belong_to_their_sample_and_prefix():
    policy = _generator()
    with torch.no_grad():
        policy.output.bias[TARGET] = -1e4  # the policy never writes TARGET itself
    sequences = torch.tensor([[1, 2, TARGET, 4, 5, 6],
                              [TARGET, 1, 1, 1, 1, 1],
                              [1, 1, 1, 1, 1, 1],
                              [2, 2, 2, 2, 2, TARGET]])
    rewards = rollout_rewards(policy, PatternDiscriminator(), sequences, n_rollouts=8,
                              rng=torch.Generator().manual_seed(0))
    assert rewards.shape == (4, 6)
    contains = torch.stack([(sequences[:, :t] == TARGET).any(dim=1) for t in range(1, 7)], dim=1)
    torch.testing.assert_close(rewards, torch.sigmoid(torch.where(contains, 10.0, -10.0)))


def test_vectorised_rollout_equals_the_loop_for_a_deterministic_policy():
    policy = _generator(vocab=12)
    disc = CNNDiscriminator(12, windows=(1, 2, 3), filters=(5, 5, 5))
    sequences = policy.sample(5, 7, rng=torch.Generator().manual_seed(1))
    fast = rollout_rewards(policy, disc, sequences, 3, temperature=0)
    slow = rollout_rewards_reference(policy, disc, sequences, 3, temperature=0)
    torch.testing.assert_close(fast, slow)


def test_log_odds_rewards_average_the_discriminators_logits_in_both_implementations():
    policy = _generator(vocab=12)
    disc = CNNDiscriminator(12, windows=(1, 2, 3), filters=(5, 5, 5))
    sequences = policy.sample(5, 7, rng=torch.Generator().manual_seed(1))
    fast = rollout_rewards(policy, disc, sequences, 3, temperature=0, log_odds=True)
    torch.testing.assert_close(fast, rollout_rewards_reference(policy, disc, sequences, 3, temperature=0,
                                                               log_odds=True))
    # a deterministic policy completes every prefix alike: the mean logit is the logit of the mean D
    probabilities = rollout_rewards(policy, disc, sequences, 3, temperature=0)
    torch.testing.assert_close(fast, torch.logit(probabilities), atol=1e-4, rtol=1e-4)


def test_prefix_reuse_scores_completions_like_the_plain_network():
    torch.manual_seed(0)
    disc = CNNDiscriminator(12, windows=(1, 2, 4, 7), filters=(5, 6, 3, 4)).eval()  # 7 = the length
    B, T, M = 5, 7, 3
    sequences = torch.randint(0, 12, (B, T))
    completions = sequences.expand(T - 1, M, B, T).clone()
    for t in range(1, T):  # completion of prefix length t: the sequence before t, fresh tokens after
        completions[t - 1, :, :, t:] = torch.randint(0, 12, (M, B, T - t))
    plain = disc(completions.reshape(-1, T)).view(T - 1, M, B)
    torch.testing.assert_close(disc.completion_logits(sequences, completions), plain)
    with pytest.raises(ValueError, match="completions"):
        disc.completion_logits(sequences[:, :-1], completions)


def test_rollout_rewards_with_and_without_prefix_reuse_agree():
    policy = _generator(vocab=12)
    disc = CNNDiscriminator(12, windows=(1, 2, 3, 5), filters=(5, 5, 5, 5))
    sequences = policy.sample(6, 8, rng=torch.Generator().manual_seed(1))
    reused = rollout_rewards(policy, disc, sequences, 4, rng=torch.Generator().manual_seed(2))
    plain = rollout_rewards(policy, disc, sequences, 4, rng=torch.Generator().manual_seed(2), reuse_prefixes=False)
    torch.testing.assert_close(reused, plain)
    assert disc.training  # scoring left the discriminator as it found it


def _exact_rewards(policy, disc, sequences, vocab):
    """Q(y_1:t) by enumerating every completion with its probability under the policy."""
    B, T = sequences.shape
    exact = torch.zeros(B, T)
    for b, t in itertools.product(range(B), range(1, T)):
        tails = torch.tensor(list(itertools.product(range(vocab), repeat=T - t)))
        full = torch.cat([sequences[b, :t].expand(len(tails), t), tails], dim=1)
        with torch.no_grad():
            log_p = -policy.token_nll(full)[:, t:].sum(dim=1)
            exact[b, t - 1] = (log_p.exp() * torch.sigmoid(disc(full))).sum()
    exact[:, T - 1] = torch.sigmoid(disc(sequences))
    return exact


def test_vectorised_and_loop_rollouts_match_the_exact_expectation():
    vocab, _T = 5, 4
    policy, disc = _generator(vocab=vocab).eval(), CountDiscriminator()
    sequences = torch.tensor([[1, TARGET, 2, 4], [4, 4, 0, 1], [TARGET, TARGET, 1, 2]])
    exact = _exact_rewards(policy, disc, sequences, vocab)
    for fn, m in [(rollout_rewards, 4000), (rollout_rewards_reference, 400)]:
        estimate = fn(policy, disc, sequences, m, rng=torch.Generator().manual_seed(2))
        # Each estimate is a mean of m values in (0, 1): 5 standard errors, from the variance bound 1/4.
        assert (estimate - exact).abs().max() < 5 * (0.25 / m) ** 0.5, fn.__name__


def test_rollout_handles_eos_and_padding():
    torch.manual_seed(0)
    policy = LSTMGenerator(GeneratorConfig(10, 8, 16))  # <pad>=0, <bos>=1, <eos>=2
    sequences = torch.tensor([[5, 2, 0, 0, 0], [6, 7, 8, 9, 4]])
    seen = []

    class Recorder(nn.Module):
        def forward(self, ids):
            seen.append(ids.clone())
            return torch.zeros(len(ids))

    rollout_rewards(policy, Recorder(), sequences, 4, rng=torch.Generator().manual_seed(0))
    completions = torch.cat(seen)
    ended = completions[completions[:, 1] == 2]  # completions of the first sequence's prefixes past its <eos>
    assert len(ended) and (ended[:, 2:] == 0).all()


# -- SeqGAN training ----------------------------------------------------------------------------

def _tiny_trainer(tmp_path=None, seed=0, **overrides):
    generator = _generator(vocab=10, seed=seed)
    torch.manual_seed(seed)
    disc = CNNDiscriminator(10, embed_dim=8, windows=(1, 2), filters=(4, 4))
    real = torch.randint(0, 10, (40, 6), generator=torch.Generator().manual_seed(5))
    config = SeqGANConfig(**({"batch_size": 8, "n_rollouts": 2, "d_pretrain_rounds": 2, "d_steps": 1, "d_epochs": 1,
                              "d_samples": 16, "d_batch_size": 8, "eval_every": 1, "seed": 3} | overrides))
    return SeqGANTrainer(generator, disc, real, max_len=6, config=config, progress=False,
                         evaluate=lambda g: {"nll_real": g.token_nll(real).mean().item()},
                         checkpoint_path=None if tmp_path is None else tmp_path / "seqgan.pt")


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_policy_gradient_raises_the_probability_of_the_rewarded_token(dropout):
    trainer = _tiny_trainer(g_lr=0.02)
    trainer.generator.dropout.p = dropout  # off in the adversarial phase: the same learning either way
    trainer.discriminator = PatternDiscriminator()
    probe = torch.Generator().manual_seed(9)
    before = (trainer.generator.sample(4000, 6, rng=probe) == TARGET).float().mean()
    for _ in range(40):
        trainer.generator_step()
    after = (trainer.generator.sample(4000, 6, rng=probe) == TARGET).float().mean()
    assert after > before + 0.1


def test_pretraining_goes_on_to_the_held_out_accuracy_target_and_measuring_changes_nothing():
    # real sequences are all TARGET: the discriminator can learn to tell them from the samples
    real = torch.full((40, 6), TARGET)
    held_out = torch.full((30, 6), TARGET)
    plain = _tiny_trainer(d_pretrain_rounds=1, d_lr=2e-3)
    plain.real = real.clone()
    measured = _tiny_trainer(d_pretrain_rounds=1, d_lr=2e-3, d_target_accuracy=0.9, d_pretrain_max_rounds=12)
    measured.real = real.clone()
    measured.held_out = held_out
    measured.rngs["held_out"] = measured.seeded_rng(99)
    assert not measured.pretraining_done
    history = measured.pretrain_discriminator()
    rows = history[history["phase"] == "d_pretrain"]
    # it stops at the target, before the cap of 12 rounds (3 rounds with these seeds)
    assert rows["d_heldout_accuracy"].iloc[-1] >= 0.9 and len(rows) < 12
    assert (rows["d_heldout_accuracy"].iloc[:-1] < 0.9).all() and measured.pretraining_done
    assert len(rows) > 1 and measured.counters["d_rounds"] == len(rows)
    plain.pretrain_discriminator(until=len(rows))  # the same rounds without measuring: the same weights
    for a, b in zip(plain.discriminator.parameters(), measured.discriminator.parameters()):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="d_target_accuracy"):
        SeqGANConfig(d_target_accuracy=0.4)
    with pytest.raises(ValueError, match="d_pretrain_max_rounds"):
        SeqGANConfig(d_pretrain_rounds=5, d_pretrain_max_rounds=2)


def test_seqgan_history_and_exact_resume(tmp_path):
    straight = _tiny_trainer()
    straight.pretrain_discriminator()
    history = straight.run(until=4)
    assert set(history["phase"]) == {"d_pretrain", "adversarial"}
    assert {"nll_real", "mean_reward", "d_accuracy"} <= set(history.columns)

    first = _tiny_trainer(tmp_path)
    first.pretrain_discriminator()
    first.run(until=2)
    resumed = _tiny_trainer(seed=7)  # different initial weights: the checkpoint must override them
    resumed.load(tmp_path / "seqgan.pt")
    resumed.run(until=4)
    for a, b in zip(straight.generator.parameters(), resumed.generator.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(straight.discriminator.parameters(), resumed.discriminator.parameters()):
        assert torch.equal(a, b)


def test_seqgan_refuses_mismatched_checkpoints_and_nan(tmp_path):
    trainer = _tiny_trainer(tmp_path)
    trainer.pretrain_discriminator(until=1)
    other = SeqGANTrainer(_generator(vocab=11), CNNDiscriminator(11, windows=(1,), filters=(2,)),
                          torch.randint(0, 11, (4, 6)), max_len=6, config=trainer.config, progress=False)
    with pytest.raises(CheckpointMismatchError, match="holds a LSTMGenerator of another shape"):
        other.load(tmp_path / "seqgan.pt")

    class NaNDiscriminator(nn.Module):
        def forward(self, ids):
            return torch.full((len(ids),), float("nan"))

    trainer.discriminator = NaNDiscriminator()
    with pytest.raises(NonFiniteLossError, match="policy-gradient loss became nan"):
        trainer.generator_step()
    with torch.no_grad():
        trainer.generator.output.bias[4] = float("nan")
    with pytest.raises(FloatingPointError, match="cannot sample"):
        trainer.generator_step()


def test_a_nan_discriminator_loss_restores_the_discriminator():
    trainer = _tiny_trainer()
    trainer.pretrain_discriminator(until=1)
    before = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    adam_steps = [state["step"].clone() for state in trainer.optimizers["discriminator"].state.values()]
    calls = 0
    scores = trainer.discriminator.forward

    def nan_after_one_step(ids):
        nonlocal calls
        calls += 1
        return scores(ids) * (float("nan") if calls > 1 else 1.0)

    trainer.discriminator.forward = nan_after_one_step
    with pytest.raises(NonFiniteLossError, match="discriminator loss became nan.*back as they were"):
        trainer.train_discriminator(1)
    assert calls > 1
    for name, value in trainer.discriminator.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert [state["step"] for state in trainer.optimizers["discriminator"].state.values()] == adam_steps


def test_each_discriminator_set_uses_distinct_real_sequences():
    trainer = _tiny_trainer(d_samples=30)  # 40 real sequences
    indices = trainer._real_indices(30)
    assert len(indices.unique()) == 30
    cycled = trainer._real_indices(100)  # more than there are: every sequence in each pass of 40
    assert all(len(cycled[i : i + 40].unique()) == len(cycled[i : i + 40]) for i in (0, 40))


def test_the_rollout_policy_is_the_generator_unless_a_delayed_copy_is_asked_for(tmp_path):
    live = _tiny_trainer()
    assert live.rollout is live.generator
    delayed = _tiny_trainer(tmp_path, rollout_update_rate=0.8)
    assert delayed.rollout is not delayed.generator
    delayed.pretrain_discriminator()
    delayed.run(until=1)
    for r, g, saved in zip(delayed.rollout.parameters(), delayed.generator.parameters(),
                           _tiny_trainer().generator.parameters()):
        torch.testing.assert_close(r, 0.8 * saved + 0.2 * g)  # one soft update from the initial weights
    resumed = _tiny_trainer(rollout_update_rate=0.8, seed=7)
    resumed.load(tmp_path / "seqgan.pt")
    for a, b in zip(resumed.rollout.parameters(), delayed.rollout.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="rollout_update_rate"):
        SeqGANConfig(rollout_update_rate=1.0)


def test_rewards_are_scored_in_float32_on_a_cpu_unless_asked():
    assert _tiny_trainer().reward_autocast is None  # float32 on a CPU
    assert _tiny_trainer(reward_dtype="bfloat16").reward_autocast == torch.bfloat16
    assert _tiny_trainer(reward_dtype="float16").reward_autocast == torch.float16
    with pytest.raises(ValueError, match="reward_dtype"):
        SeqGANConfig(reward_dtype="int8")


@pytest.mark.parametrize(("capability", "expected"), [((9, 0), "bfloat16"), ((8, 0), "bfloat16"),
                                                     ((7, 5), "float16"), ((7, 0), "float16"), ((6, 1), "float32")])
def test_cuda_scores_rewards_in_bfloat16_only_where_the_gpu_has_it(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert default_reward_dtype(torch.device("cuda", 0)) == expected  # a T4 (7.5) would emulate bfloat16
    assert default_reward_dtype("cpu") == "float32"


def test_a_non_finite_generator_gradient_stops_before_the_update():
    trainer = _tiny_trainer()
    before = [p.clone() for p in trainer.generator.parameters()]
    trainer.generator.output.weight.register_hook(lambda grad: grad * float("nan"))
    with pytest.raises(NonFiniteLossError, match="gradient norm became nan.*no weights were updated"):
        trainer.generator_step()
    for p, b in zip(trainer.generator.parameters(), before):
        assert torch.equal(p, b)


def test_a_seqgan_checkpoint_gives_up_its_generator_and_refuses_the_mle_trainer(tmp_path):
    trainer = _tiny_trainer(tmp_path)
    trainer.pretrain_discriminator()
    trainer.run(until=1)
    path = tmp_path / "seqgan.pt"
    loaded = LSTMGenerator.from_checkpoint(path)
    for a, b in zip(loaded.parameters(), trainer.generator.parameters()):
        assert torch.equal(a, b)
    mle = MLETrainer(_generator(vocab=10), torch.zeros(4, 6, dtype=torch.long), progress=False)
    with pytest.raises(CheckpointMismatchError, match="'seqgan' checkpoint, not a 'mle' one"):
        mle.load(path)
    with pytest.raises(ValueError, match="until=TOTAL or more=COUNT"):
        trainer.run()


def test_the_policy_that_samples_is_the_policy_that_is_scored():
    # dropout is off for the generator throughout the adversarial phase: the sequences are drawn
    # from the evaluated policy (eval mode) and REINFORCE's log-probabilities must be of that policy
    trainer = _tiny_trainer()
    trainer.generator = _generator(vocab=10, dropout=0.5)
    trainer.modules["generator"] = trainer.rollout = trainer.generator
    trainer.optimizers["generator"] = torch.optim.Adam(trainer.generator.parameters(), lr=0.01)
    modes = []
    trainer.generator.lstm.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    trainer.generator_step()
    assert modes and not any(modes)
