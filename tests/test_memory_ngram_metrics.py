import math

import pytest
import torch

from textgan_lib.eval.metrics import distinct_n, repeated_ngram_rate
from textgan_lib.models.ngram import KneserNeyLM
from textgan_lib.toys.memory_task import RecurrentClassifier, memory_task_batch, train_memory_task


def test_memory_task_layout():
    inputs, targets = memory_task_batch(50, distance=7, n_symbols=4, n_noise=8, rng=torch.Generator().manual_seed(0))
    assert inputs.shape == (50, 9) and targets.shape == (50,)
    assert torch.equal(inputs[:, 0], targets)
    assert ((inputs[:, 1:-1] >= 4) & (inputs[:, 1:-1] < 12)).all()
    assert (inputs[:, -1] == 12).all()


def test_forget_bias_is_set_in_the_forget_block_only():
    model = RecurrentClassifier("lstm", 13, 4, hidden_dim=5, forget_bias=3.0)
    total = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0  # PyTorch adds both biases
    assert torch.allclose(total[5:10], torch.tensor(3.0))
    with pytest.raises(ValueError, match="LSTM only"):
        RecurrentClassifier("rnn", 13, 4, forget_bias=1.0)


def test_lstm_learns_a_short_memory_task():
    _, history = train_memory_task("lstm", distance=3, steps=150, forget_bias=3.0, eval_every=50)
    assert history["accuracy"].iloc[-1] > 0.9
    assert list(history.columns) == ["cell", "distance", "step", "loss", "grad_norm", "accuracy", "elapsed_s"]


CORPUS = [[4, 5, 6, 2], [4, 5, 7, 2], [5, 6, 2], [4, 7, 7, 5, 2]]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_kneser_ney_is_a_distribution_in_every_context(order):
    lm = KneserNeyLM(order, vocab_size=9, start_id=1).fit(CORPUS)
    for context in ([1, 1], [4, 5], [5, 6], [8, 8], [3, 4]):  # seen, seen, seen, unseen, partly seen
        total = sum(lm.prob(w, context) for w in range(9))
        assert total == pytest.approx(1.0, abs=1e-12)
        assert all(lm.prob(w, context) > 0 for w in range(9))


def test_kneser_ney_prefers_seen_continuations_and_scores_sentences():
    lm = KneserNeyLM(3, vocab_size=9, start_id=1).fit(CORPUS)
    assert lm.prob(6, [4, 5]) > lm.prob(8, [4, 5])
    nll = lm.sentence_nll([4, 5, 6, 2])
    assert nll == pytest.approx(-sum(math.log(lm.prob(w, ctx)) for w, ctx in
                                     [(4, [1, 1]), (5, [1, 4]), (6, [4, 5]), (2, [5, 6])]))
    assert lm.mean_token_nll([[4, 5, 6, 2]]) == pytest.approx(nll / 4)


def test_kneser_ney_bad_input():
    with pytest.raises(ValueError, match="empty corpus"):
        KneserNeyLM(2, 5, 1).fit([])
    with pytest.raises(RuntimeError, match="fit the model"):
        KneserNeyLM(2, 5, 1).prob(3, [1])
    with pytest.raises(ValueError, match="discount"):
        KneserNeyLM(2, 5, 1, discount=1.5)


def test_distinct_n_and_repetition():
    seqs = [["a", "b", "a", "b"], ["c", "d"]]
    assert distinct_n(seqs, 1) == pytest.approx(4 / 6)
    assert distinct_n(seqs, 2) == pytest.approx(3 / 4)  # ab, ba, ab | cd
    assert repeated_ngram_rate(seqs, 2) == 0.5
    with pytest.raises(ValueError, match="long enough"):
        distinct_n([["a"]], 2)
    with pytest.raises(ValueError, match="no sequences"):
        repeated_ngram_rate([], 2)
