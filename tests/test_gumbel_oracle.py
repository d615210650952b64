"""Chapter 9's experiment: Gumbel GANs on the SeqGAN oracle, RelGAN's schedule and critic, reuse."""

import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from textgan_lib.cli import main
from textgan_lib.eval.metrics import mean_token_nll
from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.models.oracle import OracleLSTM
from textgan_lib.paper import RELGAN_ORACLE
from textgan_lib.recipes import get_profile, gumbel_oracle, oracle_evaluator, oracle_training_data, run_path
from textgan_lib.train.gumbel_gan import inverse_temperature, relgan_horizon

TINY = {"oracle": {"samples": 128, "trainer": {"epochs": 1, "eval_every": 1}},
        "gumbel_oracle": {"iterations": 2, "filters": 4, "trainer": {"eval_every": 1}}}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def oracle():
    return OracleLSTM.from_seqgan()


def test_a_compressed_run_ends_where_relgans_run_ends():
    assert relgan_horizon(RELGAN_ORACLE.adversarial_iterations) == RELGAN_ORACLE.beta_horizon
    for iterations in (150, 3000):
        end = inverse_temperature("exp", iterations, 100.0, relgan_horizon(iterations))
        assert end == pytest.approx(100.0 ** 0.6, rel=1e-2)  # RelGAN stops at 3000 of 5000


def test_relgan_sized_critic_has_relgans_windows_and_reads_one_hot_vectors():
    torch.manual_seed(0)
    critic = CNNDiscriminator.relgan_sized(50, filters=6).eval()
    assert critic.windows == RELGAN_ORACLE.windows
    assert critic.output.in_features == 6 * len(RELGAN_ORACLE.windows)
    ids = torch.randint(0, 50, (3, 7))
    torch.testing.assert_close(critic(ids), critic(F.one_hot(ids, 50).float()))


def test_the_evaluator_scores_quality_and_diversity_on_the_same_samples(oracle):
    _, held_out = oracle_training_data(oracle, 64, seed=0)
    torch.manual_seed(0)
    generator = LSTMGenerator(GeneratorConfig(5000, 8, 8, start_id=0, pad_id=None, eos_id=None))
    scores = oracle_evaluator(oracle, held_out, n_samples=50, seed=3)(generator)
    samples = generator.sample(50, 20, rng=torch.Generator().manual_seed(4))  # the evaluator's stream: seed + 1
    assert scores["nll_oracle"] == pytest.approx(oracle.nll(samples))
    assert scores["nll_div"] == pytest.approx(mean_token_nll(generator, samples))
    assert scores["nll_test"] == pytest.approx(mean_token_nll(generator, held_out))


@pytest.mark.slow  # three small Gumbel GAN runs on the oracle and their MLE model (about 15 s)
def test_gumbel_oracle_records_history_and_reuses_its_checkpoint(oracle, tmp_path):
    profile = get_profile("ci", **TINY)
    generator, history = gumbel_oracle(oracle, profile, max_beta=10.0, progress=False)
    assert list(history["iteration"]) == [0, 1, 2]
    assert {"nll_oracle", "nll_div", "nll_test", "distinct_2", "beta"} <= set(history.columns)
    assert history[["nll_oracle", "nll_div", "nll_test"]].map(math.isfinite).all().all()
    checkpoint = run_path("gumbel_oracle", profile, 0, "_beta10")
    assert checkpoint.parent == tmp_path / "cache" / "checkpoints"
    stamp = checkpoint.stat().st_mtime_ns
    again, history_again = gumbel_oracle(oracle, profile, max_beta=10.0, progress=False)
    assert checkpoint.stat().st_mtime_ns == stamp  # loaded, not trained again
    pd.testing.assert_frame_equal(history, history_again)
    sequences = torch.zeros(4, 20, dtype=torch.long)
    torch.testing.assert_close(generator.eval().log_prob(sequences), again.eval().log_prob(sequences))
    with pytest.warns(UserWarning, match="not reusing"):  # other settings: trained afresh
        other = get_profile("ci", oracle=TINY["oracle"],
                            gumbel_oracle={**TINY["gumbel_oracle"], "trainer": {"eval_every": 1, "g_lr": 5e-4}})
        gumbel_oracle(oracle, other, max_beta=10.0, checkpoint=checkpoint, progress=False)


@pytest.mark.slow  # an end-to-end run of the command (about 10 s); the recipe has its unit tests above
def test_the_command_line_writes_one_history_per_beta(tmp_path, capsys):
    assert main(["gumbel-oracle", "--profile", "ci", "--max-beta", "2", "100", "--out", str(tmp_path / "out"),
                 "--quiet"]) == 0
    for beta in ("2", "100"):
        history = pd.read_csv(tmp_path / "out" / f"gumbel_oracle_beta{beta}.csv")
        assert history["nll_oracle"].between(5, 12).all()
    assert "beta_max 100" in capsys.readouterr().out
