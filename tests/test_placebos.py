"""The placebo arms (issue 37): each GAN with its discriminator's information removed, the perfect
discriminator on the oracle, and the verdict of a GAN against its placebo."""

import json

import pytest
import torch

from textgan_lib.eval.verdicts import COOLED_MLE, placebo_comparison
from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.models.oracle import LikelihoodRatio, OracleLSTM
from textgan_lib.recipes.gan_run import PLACEBOS, gan_of
from textgan_lib.recipes.oracle import seqgan_oracle
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.real_text import real_text
from textgan_lib.train.adversarial import heldout_discrimination
from textgan_lib.train.dense_rewards import leave_one_out
from textgan_lib.train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer
from textgan_lib.train.rollout import rollout_rewards
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer

# a ci-size language model has not learned <pad> after <eos>: its Gumbel GAN's warning is expected here
PADDING_NOT_LEARNED = pytest.mark.filterwarnings("ignore:the generator gives <pad> after <eos>")

V, T = 12, 6
REAL = torch.randint(3, V, (64, T), generator=torch.Generator().manual_seed(0))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))


def _generator() -> LSTMGenerator:
    torch.manual_seed(0)
    return LSTMGenerator(GeneratorConfig(V, 8, 16))


def _cnn() -> CNNDiscriminator:
    torch.manual_seed(1)
    return CNNDiscriminator(V, embed_dim=4, windows=(1, 2), filters=(3, 3))


def _seqgan(reward: str, discriminator=None) -> SeqGANTrainer:
    config = SeqGANConfig(batch_size=8, n_rollouts=2, d_pretrain_rounds=1, d_samples=32, d_batch_size=16,
                          eval_every=1, reward=reward)
    return SeqGANTrainer(_generator(), discriminator or _cnn(), REAL, T, config, progress=False)


def test_shuffled_rewards_permute_each_steps_rewards_among_the_sequences_that_reach_it():
    trainer = _seqgan("shuffled")
    rewards = torch.rand(8, T, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(8, T, dtype=torch.bool)
    mask[:3, 4:] = False  # three sequences ended after four tokens
    shuffled = trainer._placebo(rewards, mask)
    for t in range(T):
        rows = mask[:, t]
        assert sorted(shuffled[rows, t].tolist()) == sorted(rewards[rows, t].tolist())  # the same rewards
    assert not torch.equal(shuffled, rewards)  # in another order
    assert torch.equal(shuffled[~mask], rewards[~mask])  # what the loss masks is left alone


def test_a_constant_reward_is_the_steps_mean_over_its_tokens():
    trainer = _seqgan("constant")
    rewards = torch.rand(8, T, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(8, T, dtype=torch.bool)
    mask[0, 2:] = False
    constant = trainer._placebo(rewards, mask)
    assert torch.allclose(constant, torch.full_like(rewards, rewards[mask].mean().item()))
    assert torch.equal(_seqgan("discriminator")._placebo(rewards, mask), rewards)  # the GAN: unchanged


def test_a_fixed_discriminator_is_never_trained_and_the_others_are():
    for reward, trained in (("fixed_discriminator", False), ("shuffled", True)):
        trainer = _seqgan(reward)
        before = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
        trainer.run(until=2)  # SeqGAN's run pretrains its discriminator first when it is trained
        after = trainer.discriminator.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before) != trained, reward
        assert trainer.step == 2
    with pytest.raises(ValueError, match="never trained"):
        _seqgan("fixed_discriminator").pretrain_discriminator()


def test_the_gumbel_gans_fixed_critic_is_never_trained():
    critic = CNNDiscriminator(V, embed_dim=4, windows=(1, 2), filters=(3, 3))
    before = {k: v.clone() for k, v in critic.state_dict().items()}
    trainer = GumbelGANTrainer(_generator(), critic, REAL, T, GumbelGANConfig(batch_size=8, eval_every=1,
                                                                              critic="fixed"), progress=False)
    trainer.run(until=2)
    assert all(torch.equal(before[k], v) for k, v in critic.state_dict().items())
    assert "d_loss" not in trainer.history.columns


def test_the_perfect_discriminators_logit_is_the_exact_log_likelihood_ratio():
    oracle = OracleLSTM.random(vocab_size=V, embed_dim=8, hidden_dim=8, seq_len=T, seed=0)
    generator = LSTMGenerator(GeneratorConfig(V, 8, 8, start_id=0, pad_id=None, eos_id=None))
    ratio = LikelihoodRatio(oracle, generator)
    x = oracle.sample(5)
    assert torch.allclose(ratio(x), oracle.log_prob(x) - generator.log_prob(x))
    twin = LikelihoodRatio(oracle, oracle)  # a generator that is the oracle: D* = 1/2 everywhere
    assert torch.allclose(torch.sigmoid(twin(x)), torch.full((5,), 0.5))
    with pytest.raises(ValueError, match="token ids"):
        ratio(torch.rand(2, T, V))


def test_the_perfect_discriminators_log_odds_reward_is_the_log_likelihood_ratio_where_d_saturates():
    oracle = OracleLSTM.random(vocab_size=V, embed_dim=8, hidden_dim=8, seq_len=T, seed=0)
    generator = LSTMGenerator(GeneratorConfig(V, 8, 8, start_id=0, pad_id=None, eos_id=None))
    ratio = LikelihoodRatio(oracle, generator)
    x = generator.sample(16, T, rng=torch.Generator().manual_seed(0))
    log_odds = rollout_rewards(generator, ratio, x, 2, torch.Generator().manual_seed(1), log_odds=True)
    torch.testing.assert_close(log_odds[:, -1], ratio(x))  # the whole sequence: log p_oracle - log p_G
    sharp = LikelihoodRatio(oracle, generator)
    sharp.oracle.output.weight.data.mul_(30)  # an oracle far from the generator: D* saturates
    assert torch.sigmoid(sharp(x)).max() < 1e-6 < (-sharp(x)).min()  # D ~ 0, its logit far from 0
    with pytest.raises(ValueError, match="reward_scale"):
        SeqGANConfig(reward_scale="logit")


def test_seqgan_with_log_odds_rewards_its_samples_by_the_log_likelihood_ratio():
    oracle = OracleLSTM.random(vocab_size=V, embed_dim=8, hidden_dim=8, seq_len=T, seed=0)
    rewards = {}
    for scale in ("probability", "log_odds"):
        generator = LSTMGenerator(GeneratorConfig(V, 8, 8, start_id=0, pad_id=None, eos_id=None))
        config = SeqGANConfig(batch_size=64, n_rollouts=2, reward="fixed_discriminator", reward_scale=scale)
        trainer = SeqGANTrainer(generator, LikelihoodRatio(oracle, generator), REAL, T, config, progress=False)
        rewards[scale] = trainer.generator_step()["mean_reward"]
    assert 0 < rewards["probability"] < 1
    assert rewards["log_odds"] < -1  # minus the reverse KL (over six tokens), estimated on 64 samples


def test_the_leave_one_out_baseline_subtracts_the_other_sequences_mean_at_each_position():
    rewards = torch.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [5.0, 9.0, 7.0]])
    mask = torch.tensor([[True, True, True], [True, True, False], [True, False, False]])
    expected = torch.tensor([[1 - 4, 2 - 4, 3.0],  # position 2: only the first sequence reaches it
                             [3 - 3, 4 - 2, 5.0],  # masked: left alone
                             [5 - 2, 9.0, 7.0]])
    torch.testing.assert_close(leave_one_out(rewards, mask), expected)
    oracle = OracleLSTM.random(vocab_size=V, embed_dim=8, hidden_dim=8, seq_len=T, seed=0)
    generator = LSTMGenerator(GeneratorConfig(V, 8, 8, start_id=0, pad_id=None, eos_id=None))
    config = SeqGANConfig(batch_size=64, n_rollouts=2, reward="fixed_discriminator", reward_scale="log_odds",
                          leave_one_out_baseline=True)
    trainer = SeqGANTrainer(generator, LikelihoodRatio(oracle, generator), REAL, T, config, progress=False)
    assert abs(trainer.generator_step()["mean_reward"]) < 1e-3  # the offset is gone


@pytest.mark.slow  # four small oracle runs, each resumed (about 20 s)
@pytest.mark.parametrize("method", ["seqgan_perfect_d", "seqgan_perfect_d_log_odds", "seqgan_perfect_d_log_odds_rloo",
                                    "seqgan_shuffled"])
def test_an_oracle_seqgan_arm_runs_resumes_and_keeps_its_own_checkpoint(method):
    oracle = OracleLSTM.random(vocab_size=40, embed_dim=8, hidden_dim=8, seq_len=20, seed=0)  # SeqGAN CNN: 20 wide
    config = SeqGANConfig(batch_size=8, n_rollouts=2, d_pretrain_rounds=1, d_samples=32, eval_every=1)
    profile = get_profile("ci", oracle={"samples": 64, "embed_dim": 8, "hidden_dim": 8,
                                        "trainer": {"epochs": 1, "eval_every": 1}},
                          seqgan_oracle={"rounds": 2, "trainer": config})
    history = seqgan_oracle(oracle, profile, method=method, progress=False)
    assert history["rounds_done"].iloc[-1] == 2 and history["nll_oracle"].notna().any()
    pretrained = (history["phase"] == "d_pretrain").any()
    assert pretrained == (method == "seqgan_shuffled")  # the perfect discriminator needs no training
    again = seqgan_oracle(oracle, profile, method=method, progress=False)  # resumed, nothing trained
    assert again.drop(columns="elapsed_s").equals(history.drop(columns="elapsed_s"))


SMALL = {"data": {"n_sentences": 120}, "real_text": {"samples": 20, "references": 60, "self_bleu_subset": 20},
         "lm": {"embed_dim": 8, "hidden_dim": 16, "trainer": {"epochs": 1}}}


@PADDING_NOT_LEARNED
@pytest.mark.slow  # four small real-text runs (about 20 s)
@pytest.mark.parametrize("method", list(PLACEBOS))
def test_every_placebo_runs_on_text_with_its_gans_budget_and_says_which_it_is(tmp_path, method):
    result = real_text("coco", method, get_profile("ci", **SMALL), out=tmp_path, progress=False)
    changes = gan_of(method).changes
    assert {k: result["settings"][k] for k in changes} == changes
    assert json.loads((tmp_path / f"coco_{method}.json").read_text())["method"] == method
    assert (tmp_path / f"coco_{method}_history.csv").is_file()


def _gap_rows(method, gaps):
    return [{"method": method, "baseline": COOLED_MLE, "seed": seed, "gap": gap} for seed, gap in enumerate(gaps)]


def test_a_gan_is_compared_with_its_placebo_seed_by_seed():
    same = placebo_comparison(_gap_rows("seqgan", [0.10, 0.12, 0.08, 0.11, 0.09])
                              + _gap_rows("seqgan_shuffled", [0.10, 0.11, 0.09, 0.11, 0.10]), "seqgan",
                              "seqgan_shuffled")
    assert same["verdict"] == "indistinguishable from its placebo (seqgan_shuffled)" and same["seeds"] == 5
    better = placebo_comparison(_gap_rows("seqgan", [0.10, 0.12, 0.08, 0.11, 0.09])
                                + _gap_rows("seqgan_constant", [0.00, 0.01, -0.01, 0.02, 0.00]), "seqgan",
                                "seqgan_constant")
    assert better["verdict"] == "more diverse than its placebo (seqgan_constant)"
    assert better["gap"] == pytest.approx(0.096)
    outside = _gap_rows("seqgan", [0.1, 0.2]) + [{"method": "seqgan_fixed_d", "baseline": COOLED_MLE, "seed": 0,
                                                   "gap": None}]
    assert placebo_comparison(outside, "seqgan", "seqgan_fixed_d") is None  # no seed where both have a gap


class _Contains(torch.nn.Module):
    """Logit +5 for a sequence that holds token 3, -5 otherwise."""

    def forward(self, ids):
        return (ids == 3).any(dim=1).float() * 10 - 5


def test_held_out_discrimination_reads_one_for_a_perfect_discriminator_and_a_half_at_chance():
    real = torch.full((4, T), 3)
    fake = torch.full((6, T), 5)
    assert heldout_discrimination(_Contains(), real, fake) == {"accuracy": 1.0, "auc": 1.0}
    same = heldout_discrimination(_Contains(), fake[:4], fake)  # nothing to tell apart: every pair a tie
    assert same["auc"] == 0.5 and same["accuracy"] == 0.5


def test_the_discriminator_is_measured_at_every_evaluation_without_changing_a_training_number():
    """Issue 37: SeqGAN's discriminator was measured on held-out data only while it pretrained."""
    held_out = torch.randint(3, V, (32, T), generator=torch.Generator().manual_seed(9))
    config = SeqGANConfig(batch_size=8, n_rollouts=2, d_pretrain_rounds=1, d_samples=32, d_batch_size=16,
                          eval_every=1)
    measured = SeqGANTrainer(_generator(), _cnn(), REAL, T, config, progress=False, held_out=held_out)
    plain = SeqGANTrainer(_generator(), _cnn(), REAL, T, config, progress=False)
    for trainer in (measured, plain):
        trainer.run(until=2)
    adversarial = measured.history[measured.history["phase"] == "adversarial"]
    assert adversarial["d_heldout_accuracy"].between(0, 1).all() and len(adversarial) == 2
    same = ["g_loss", "mean_reward", "d_loss", "d_accuracy"]
    assert adversarial[same].reset_index(drop=True).equals(
        plain.history[plain.history["phase"] == "adversarial"][same].reset_index(drop=True))
    critic = GumbelGANTrainer(_generator(), _cnn(), REAL, T, GumbelGANConfig(batch_size=8, eval_every=1,
                                                                             monitor_samples=16),
                              progress=False, held_out=held_out)
    critic.run(until=1)
    assert critic.history[["d_heldout_accuracy", "d_heldout_auc"]].stack().between(0, 1).all()


def test_the_ngram_reference_classifier_separates_what_differs_and_not_what_does_not():
    import random

    from textgan_lib.eval.reference_classifier import ngram_classifier_accuracy

    draw = random.Random(0)
    words = list("abcdefgh")
    real = [[draw.choice(words) for _ in range(8)] + ["end"] for _ in range(100)]
    fake = [[draw.choice(words) for _ in range(8)] + ["stop"] for _ in range(100)]
    assert ngram_classifier_accuracy(real, fake) == 1.0
    same = [[draw.choice(words) for _ in range(8)] for _ in range(400)]
    assert 0.4 < ngram_classifier_accuracy(same[:200], same[200:]) < 0.6
    with pytest.raises(TypeError, match="lists of tokens"):
        ngram_classifier_accuracy(["a b"] * 4, ["c d"] * 4)


def test_each_placebo_imitates_a_gan_of_its_corpus_from_the_same_start_and_is_a_primary_verdict_there():
    from textgan_lib.eval.verdicts import placebo_key
    from textgan_lib.recipes.summary import STUDY_METHODS, primary_verdicts

    for corpus, methods in STUDY_METHODS.items():
        for placebo in (m for m in methods if m in PLACEBOS):
            gan = PLACEBOS[placebo]
            assert gan in methods, (corpus, placebo)
            assert (gan_of(placebo).trainer, gan_of(placebo).from_scratch) == (gan_of(gan).trainer,
                                                                              gan_of(gan).from_scratch)
            assert gan_of(placebo).changes and not gan_of(gan).changes
            assert placebo_key(gan, placebo) in primary_verdicts(corpus)
    # ScratchGAN (issue 38) from scratch and from the MLE model, on COCO and news only
    scratch = {"scratchgan", "scratchgan_shuffled", "scratchgan_mle", "scratchgan_mle_shuffled"}
    assert {c for c, methods in STUDY_METHODS.items() if scratch <= set(methods)} == {"coco", "news"}
    assert not scratch & set(STUDY_METHODS["oracle"] + STUDY_METHODS["poems"])
    assert placebo_key("scratchgan_mle", "scratchgan_mle_shuffled") not in primary_verdicts("poems")
