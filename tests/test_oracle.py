"""The SeqGAN oracle: exact loading (checked against NumPy), the published NLL floor, random oracles."""

import numpy as np
import pandas as pd
import pytest
import torch

from textgan_lib.data.files import load_oracle_params
from textgan_lib.models.checkpoint import read_checkpoint
from textgan_lib.models.oracle import OracleLSTM
from textgan_lib.recipes import get_profile, oracle_mle, seqgan_oracle
from textgan_lib.train.seqgan import SeqGANConfig


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_oracle_nll(params, tokens: np.ndarray) -> np.ndarray:
    """Per-token NLL [N, T] by the paper's equations, step by step, in the file's TensorFlow layout."""
    arrays = (p.astype(np.float64) for p in params)
    emb, W_i, U_i, b_i, W_f, U_f, b_f, W_o, U_o, b_o, W_c, U_c, b_c, W_out, b_out = arrays
    n, steps = tokens.shape
    h = np.zeros((n, 32))
    c = np.zeros((n, 32))
    x = emb[np.zeros(n, dtype=int)]  # the first input is the embedding of token 0
    nll = np.zeros((n, steps))
    for t in range(steps):
        i = _sigmoid(x @ W_i + h @ U_i + b_i)
        f = _sigmoid(x @ W_f + h @ U_f + b_f)
        o = _sigmoid(x @ W_o + h @ U_o + b_o)
        c_tilde = np.tanh(x @ W_c + h @ U_c + b_c)
        c = f * c + i * c_tilde
        h = o * np.tanh(c)
        logits = h @ W_out + b_out
        log_norm = logits.max(1) + np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1))
        nll[:, t] = log_norm - logits[np.arange(n), tokens[:, t]]
        x = emb[tokens[:, t]]
    return nll


@pytest.fixture(scope="module")
def oracle():
    return OracleLSTM.from_seqgan()


def test_pytorch_oracle_equals_the_papers_equations(oracle):
    tokens = oracle.sample(64, rng=torch.Generator().manual_seed(0))
    expected = numpy_oracle_nll(load_oracle_params(), tokens.numpy())
    np.testing.assert_allclose(oracle.token_nll(tokens).numpy(), expected, atol=1e-5, rtol=0)


@pytest.mark.slow  # 10,000 oracle samples drawn and scored (about 12 s)
def test_oracle_nll_of_its_own_samples_is_the_published_floor(oracle):
    samples = oracle.sample(10_000, rng=torch.Generator().manual_seed(0))
    assert samples.shape == (10_000, 20)
    assert oracle.nll(samples) == pytest.approx(5.75, abs=0.05)


def test_uniform_random_tokens_score_about_11_4(oracle):
    tokens = torch.randint(0, 5000, (10_000, 20), generator=torch.Generator().manual_seed(0))
    assert oracle.nll(tokens) == pytest.approx(11.4, abs=0.1)


def test_oracle_is_frozen_and_samples_token_zero_as_an_ordinary_token(oracle):
    assert not any(p.requires_grad for p in oracle.parameters())
    samples = oracle.sample(5000, rng=torch.Generator().manual_seed(1))
    assert (samples == 0).any()  # the start token is also an ordinary token in this setting


def test_random_oracle_is_seeded_and_peaked():
    a, b = OracleLSTM.random(vocab_size=200, seed=3, seq_len=10), OracleLSTM.random(vocab_size=200, seed=3, seq_len=10)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    samples = a.sample(2000, rng=torch.Generator().manual_seed(0))
    assert samples.shape == (2000, 10)
    assert a.nll(samples) < np.log(200) - 0.5  # far from uniform: there is structure to learn


def _oracle_profile(samples: int, epochs: int, eval_every: int, **sections):
    """The ci profile with a tiny oracle MLE run."""
    return get_profile("ci", oracle={"samples": samples, "embed_dim": 8, "hidden_dim": 8,
                                     "trainer": {"epochs": epochs, "eval_every": eval_every}}, **sections)


def test_oracle_mle_experiment_improves_on_random():
    oracle = OracleLSTM.random(vocab_size=50, embed_dim=8, hidden_dim=8, seq_len=8, seed=0)
    _, history = oracle_mle(oracle, _oracle_profile(500, 4, 2), checkpoint=None, progress=False)
    assert history["epoch"].tolist() == [0, 2, 4]
    assert history["nll_oracle"].iloc[-1] < history["nll_oracle"].iloc[0]
    assert history["nll_test"].iloc[-1] < history["nll_test"].iloc[0]


def test_oracle_mle_evaluates_the_last_epoch_when_it_is_off_the_grid():
    oracle = OracleLSTM.random(vocab_size=50, embed_dim=8, hidden_dim=8, seq_len=8, seed=0)
    _, history = oracle_mle(oracle, _oracle_profile(200, 3, 2), checkpoint=None, progress=False)
    assert history["epoch"].tolist() == [0, 2, 3]


def test_seqgan_oracle_records_every_phase_and_stops_at_its_time_limit(tmp_path):
    oracle = OracleLSTM.random(vocab_size=60, embed_dim=8, hidden_dim=8, seq_len=20, seed=0)
    config = SeqGANConfig(batch_size=16, n_rollouts=2, d_pretrain_rounds=2, d_steps=1, d_epochs=1, d_samples=100,
                          eval_every=2)
    profile = _oracle_profile(200, 2, 2, seqgan_oracle={"rounds": 6, "trainer": config})
    history = seqgan_oracle(oracle, profile, checkpoint=None, time_limit_s=0, out=tmp_path / "seqgan.csv",
                            progress=False)
    assert history["phase"].value_counts().to_dict() == {"mle": 2, "d_pretrain": 2, "adversarial": 2}
    assert history[history["phase"] == "adversarial"]["round"].tolist() == [0, 2]
    assert (history["rounds_done"] == 2).all()  # stopped after the first evaluation past the limit
    assert history["elapsed_s"].is_monotonic_increasing
    assert len(pd.read_csv(tmp_path / "seqgan.csv")) == len(history)


def test_coco_language_model_is_reused_from_its_checkpoint(tmp_path):
    from textgan_lib.recipes import coco_language_model

    def profile_of(epochs: int):
        return get_profile("ci", data={"n_sentences": 120}, lm={"embed_dim": 8, "hidden_dim": 8,
                                                                "trainer": {"epochs": epochs}})

    profile = profile_of(1)
    path = tmp_path / "lm.pt"
    model, splits, history = coco_language_model(profile, checkpoint=path, progress=False)
    assert len(history) == 1 and path.is_file()
    assert len(splits.valid_texts) == 12 and splits.train.tokens.shape[1] == profile.data.max_len
    again, _, same_history = coco_language_model(profile, checkpoint=path, progress=False)
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)
    assert same_history.equals(history)
    with pytest.warns(UserWarning, match="not reusing"):  # another run's settings: trained afresh
        coco_language_model(profile_of(2), checkpoint=path, progress=False)


def test_oracle_mle_is_reused_from_its_checkpoint_only_for_the_same_run(tmp_path):
    oracle = OracleLSTM.random(vocab_size=30, embed_dim=8, hidden_dim=8, seq_len=6, seed=2)
    path = tmp_path / "mle.pt"
    model, history = oracle_mle(oracle, _oracle_profile(200, 2, 1), checkpoint=path, progress=False)
    stamp = path.stat().st_mtime_ns
    again, same = oracle_mle(oracle, _oracle_profile(200, 2, 1), checkpoint=path, progress=False)
    assert path.stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(same, history)  # the stored table, elapsed times included: not retrained
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)
    with pytest.warns(UserWarning, match="not reusing"):  # another run's settings: trained afresh
        _, other = oracle_mle(oracle, _oracle_profile(200, 3, 1), checkpoint=path, progress=False)
    assert other["epoch"].tolist() == [0, 1, 2, 3]


TIMINGS = ["elapsed_s", "epoch_s", "tokens_per_s"]


def test_an_oracle_run_trained_in_parts_records_what_one_call_does(tmp_path):
    """The evaluation's fresh samples continue from where the saved run left them (issue 36)."""
    oracle = OracleLSTM.random(vocab_size=30, embed_dim=8, hidden_dim=8, seq_len=6, seed=2)
    profile = _oracle_profile(200, 4, 1)
    _, whole = oracle_mle(oracle, profile, checkpoint=None, progress=False)
    path = tmp_path / "mle.pt"
    _, half = oracle_mle(oracle, profile, checkpoint=path, until=2, progress=False)
    assert half["epoch"].tolist() == [0, 1, 2]
    _, resumed = oracle_mle(oracle, profile, checkpoint=path, progress=False)
    pd.testing.assert_frame_equal(resumed.drop(columns=TIMINGS), whole.drop(columns=TIMINGS))


@pytest.mark.slow  # three small SeqGAN runs on a random oracle (about 20 s)
def test_a_seqgan_oracle_run_stopped_and_rerun_records_what_an_uninterrupted_one_does(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path))
    oracle = OracleLSTM.random(vocab_size=60, embed_dim=8, hidden_dim=8, seq_len=20, seed=0)
    config = SeqGANConfig(batch_size=16, n_rollouts=2, d_pretrain_rounds=2, d_steps=1, d_epochs=1, d_samples=100,
                          eval_every=2)
    profile = _oracle_profile(200, 2, 1, seqgan_oracle={"rounds": 6, "trainer": config})
    whole = seqgan_oracle(oracle, profile, checkpoint=None, progress=False)
    stopped = seqgan_oracle(oracle, profile, time_limit_s=0, progress=False)  # stops after its first evaluation
    assert stopped["rounds_done"].iloc[-1] == 2
    rerun = seqgan_oracle(oracle, profile, progress=False)  # both runs resumed from their checkpoints
    timings = ["elapsed_s", "epoch_s", "tokens_per_s", "d_epoch_s"]
    pd.testing.assert_frame_equal(rerun.drop(columns=timings, errors="ignore"),
                                  whole.drop(columns=timings, errors="ignore"))


def test_a_part_off_the_evaluation_grid_pauses_without_an_evaluation(tmp_path):
    """Epoch 3 of a run evaluated every 2 epochs: the part is checkpointed, not evaluated, and the
    finished run records (and samples) what one call does."""
    oracle = OracleLSTM.random(vocab_size=30, embed_dim=8, hidden_dim=8, seq_len=6, seed=2)
    profile = _oracle_profile(200, 4, 2)
    _, whole = oracle_mle(oracle, profile, checkpoint=None, progress=False)
    path = tmp_path / "mle.pt"
    _, part = oracle_mle(oracle, profile, checkpoint=path, until=3, progress=False)
    assert part["epoch"].tolist() == [0, 2]
    assert read_checkpoint(path)["position"]["step"] == 3  # kept where it paused, not at the last evaluation
    _, resumed = oracle_mle(oracle, profile, checkpoint=path, progress=False)
    pd.testing.assert_frame_equal(resumed.drop(columns=TIMINGS), whole.drop(columns=TIMINGS))


@pytest.mark.parametrize("until", [-1, 5, 2.5, True])
def test_a_part_outside_the_budget_is_refused(until):
    oracle = OracleLSTM.random(vocab_size=30, embed_dim=8, hidden_dim=8, seq_len=6, seed=2)
    with pytest.raises(ValueError, match="integer from 0 to its budget, 4"):
        oracle_mle(oracle, _oracle_profile(200, 4, 2), checkpoint=None, until=until, progress=False)


def test_a_part_without_a_checkpoint_is_refused():
    oracle = OracleLSTM.random(vocab_size=30, embed_dim=8, hidden_dim=8, seq_len=6, seed=2)
    with pytest.raises(ValueError, match="checkpoint=None nothing would keep it"):
        oracle_mle(oracle, _oracle_profile(200, 4, 2), checkpoint=None, until=3, progress=False)
