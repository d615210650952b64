"""The playgrounds: their functions give what the controls promise, and the widgets call them."""

import matplotlib
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from textgan_lib.book.widgets import (
    LIVE_ONLY_NOTE,
    beta_playground,
    dense_advantages,
    dense_advantages_figure,
    dense_reward_playground,
    gumbel_playground,
    gumbel_spread,
    gumbel_spread_figure,
    interpolate_texts,
    interpolation_playground,
    lm_samples,
    relaxation_at_beta,
    relaxation_figure,
    sampling_playground,
    show_playground,
)
from textgan_lib.data.tokenize import WordTokenizer
from textgan_lib.data.vocab import Vocabulary
from textgan_lib.models.autoencoder import LSTMAutoencoder, great_circle
from textgan_lib.models.generator import LSTMGenerator
from textgan_lib.toys.gradient_estimators import exact_gradient

matplotlib.use("Agg")
WORDS = WordTokenizer()
SENTENCES = [WORDS.tokenize(s) for s in [
    "a cat sits on the mat.", "a dog runs in the park.", "two birds fly over the lake.", "a man rides a red bike.",
]]


@pytest.fixture
def lm():
    torch.manual_seed(0)
    vocab = Vocabulary.build(SENTENCES, min_freq=1)
    return LSTMGenerator.for_vocabulary(vocab, embed_dim=8, hidden_dim=16), vocab


def test_lm_samples_keep_the_prefix_and_follow_the_settings(lm):
    model, vocab = lm
    table = lm_samples(model, vocab, WORDS, 10, prefix="a dog", n=4, seed=1)
    assert len(table) == 4 and all(s.startswith("a dog") for s in table["sample"])
    assert (table["NLL per token"] > 0).all() and 0 < table.attrs["distinct-2"] <= 1
    again = lm_samples(model, vocab, WORDS, 10, prefix="a dog", n=4, seed=1)
    assert table.equals(again)  # the seed fixes the samples
    greedy = lm_samples(model, vocab, WORDS, 10, temperature=0, n=3)
    assert greedy["sample"].nunique() == 1  # temperature 0: the same most probable sentence
    top1 = lm_samples(model, vocab, WORDS, 10, top_k=1, n=3, seed=5)
    assert top1["sample"].tolist() == greedy["sample"].tolist()  # top-1 sampling is greedy
    unknown = lm_samples(model, vocab, WORDS, 10, prefix="a zebra", n=2)
    assert unknown.attrs["unknown prefix words"] == ["zebra"]
    with pytest.raises(ValueError, match="shorten it"):
        lm_samples(model, vocab, WORDS, 3, prefix="a dog runs")


def test_gumbel_spread_matches_the_estimator_in_expectation():
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0])
    weights = torch.tensor([1.0, -2.0, 0.5, 3.0])

    def f(y):
        return (y * weights).sum(-1)

    hot = gumbel_spread(logits, f, 0.05, n_samples=64, n_estimates=200)
    assert hot["estimates"].shape == (200, 4) and torch.allclose(hot["sample"].sum(), torch.tensor(1.0))
    torch.testing.assert_close(hot["exact"], exact_gradient(logits, f))
    cold = gumbel_spread(logits, f, 5.0, n_samples=64, n_estimates=200)
    assert cold["bias"] > hot["bias"]  # a high temperature biases the estimates
    assert hot["mse"] == pytest.approx(hot["bias"] ** 2 + hot["variance"])
    assert len(gumbel_spread_figure(logits, f, 0.5).axes) == 2


def test_relaxation_sharpens_with_beta(lm):
    model, _ = lm
    soft, sharp = (relaxation_at_beta(model, 6, beta, position=2, n=16) for beta in (0.5, 500.0))
    assert sharp["mass_on_sampled"] > 0.99 > soft["mass_on_sampled"]
    assert sharp["entropy"] < soft["entropy"]
    assert soft["sampled"] == sharp["sampled"]  # the same seed draws the same tokens at every beta
    assert sharp["ids"][0].item() == sharp["sampled"]
    with pytest.raises(ValueError, match="position"):
        relaxation_at_beta(model, 6, 1.0, position=6)
    figure = relaxation_figure(model, 6, 10.0, position=2, n=16)
    bars = figure.axes[0].patches
    drawn = relaxation_at_beta(model, 6, 10.0, position=2, n=16)
    assert [b.get_height() for b in bars] == pytest.approx(drawn["values"].tolist())
    sampled = drawn["ids"].tolist().index(drawn["sampled"])  # the sampled token's bar is the red one
    assert [b.get_facecolor() for b in bars].count(bars[sampled].get_facecolor()) == 1


def test_interpolation_starts_and_ends_at_the_reconstructions():
    torch.manual_seed(0)
    vocab = Vocabulary.build(SENTENCES, min_freq=1)
    ae = LSTMAutoencoder.for_vocabulary(vocab, embed_dim=8, code_dim=16)
    table = interpolate_texts(ae, vocab, WORDS, "a cat sits", "a dog runs", 10, steps=5)
    assert list(table.index) == [0, 1, 2, 3, 4]
    ends = interpolate_texts(ae, vocab, WORDS, "a cat sits", "a dog runs", 10, steps=2)
    assert ends["decoded"].tolist() == table["decoded"].iloc[[0, -1]].tolist()
    with pytest.raises(ValueError, match="empty"):
        interpolate_texts(ae, vocab, WORDS, "", "a dog", 10)


def test_great_circle_stays_on_the_sphere_at_equal_angles():
    a, b = F.normalize(torch.randn(2, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    path = great_circle(a, b, 5)
    torch.testing.assert_close(path[[0, -1]], torch.stack([a, b]))
    torch.testing.assert_close(path.norm(dim=1), torch.ones(5))
    steps = (path[1:] * path[:-1]).sum(dim=1)  # cosines of consecutive angles: all equal
    torch.testing.assert_close(steps, steps[:1].expand(4))
    torch.testing.assert_close(great_circle(a, a, 3), a.expand(3, -1))


class _TokenJudge(torch.nn.Module):
    """A per-token discriminator that calls every token real: logit +10 everywhere."""

    def forward(self, ids):
        return torch.full(ids.shape, 10.0)


def test_dense_advantages_follow_gamma_and_the_baseline_decay(lm):
    model, _ = lm
    judge = _TokenJudge()  # every reward 2 sigmoid(10) - 1 ~ 1 up to the end, so R_t = sum of gamma^k up to the end
    myopic = dense_advantages(model, judge, 8, gamma=0.0, decay=0.5, batches=3, batch_size=16)
    assert len(myopic["tokens"]) == len(myopic["rewards"]) == len(myopic["advantages"])
    assert myopic["rewards"] == pytest.approx([1.0] * len(myopic["tokens"]), abs=1e-4)
    assert myopic["baseline"] == pytest.approx([1.0] * 3, abs=1e-4)  # every return is 1 with gamma 0
    assert myopic["advantages"] == pytest.approx([0.0] * len(myopic["tokens"]), abs=1e-4)
    farsighted = dense_advantages(model, judge, 8, gamma=1.0, decay=0.5, batches=3, batch_size=16)
    n = len(farsighted["tokens"])  # with gamma 1 a token's return counts the tokens still to come
    assert [a + farsighted["baseline"][-1] for a in farsighted["advantages"]] == pytest.approx(
        [float(n - t) for t in range(n)], abs=1e-3)
    assert dense_advantages_figure(model, judge, 8, 0.23, 0.08, batches=2).axes
    with pytest.raises(ValueError, match="gamma"):
        dense_advantages(model, judge, 8, gamma=2.0, decay=0.5)


def test_playgrounds_call_their_function_with_the_controls_values(lm, monkeypatch):
    model, vocab = lm
    ae = LSTMAutoencoder.for_vocabulary(vocab, embed_dim=8, code_dim=16)
    calls = []

    def spy(name):
        def record(*args, **kwargs):
            calls.append((name, kwargs))
            table = pd.DataFrame()
            table.attrs = {"distinct-2": 0.5, "unknown prefix words": []}
            return table

        return record

    for name in ["lm_samples", "gumbel_spread_figure", "relaxation_figure", "interpolate_texts",
                 "dense_advantages_figure"]:
        monkeypatch.setattr(f"textgan_lib.book.widgets.{name}", spy(name))
    monkeypatch.setattr("textgan_lib.book.widgets._display", lambda obj, **kw: None)
    monkeypatch.setattr("matplotlib.pyplot.show", lambda: None)
    cases = [  # (playground, the control a reader turns, the value, the function, its keyword)
        (sampling_playground(model, vocab, WORDS, 10, prefix="a"), 0, 1.5, "lm_samples", "temperature"),
        (sampling_playground(model, vocab, WORDS, 10), 3, "a dog", "lm_samples", "prefix"),
        (gumbel_playground(torch.zeros(4), lambda y: y[..., 0]), 1, 32, "gumbel_spread_figure", "n_samples"),
        (beta_playground(model, 6), 0, 100.0, "relaxation_figure", "beta"),
        (interpolation_playground(ae, vocab, WORDS, 10, "a cat", "a dog"), 2, 9, "interpolate_texts", None),
        (dense_reward_playground(model, _TokenJudge(), 8), 0, 0.9, "dense_advantages_figure", None),
        (dense_reward_playground(model, _TokenJudge(), 8), 1, 0.5, "dense_advantages_figure", None),
    ]
    for box, index, value, function, keyword in cases:
        controls, _ = box.children
        calls.clear()
        controls.children[index].value = value
        assert [name for name, _ in calls] == [function]
        if keyword is not None:
            assert calls[0][1][keyword] == value


def test_show_playground_puts_the_note_in_place_of_the_widget(lm, monkeypatch):
    model, vocab = lm
    shown = []
    monkeypatch.setattr("textgan_lib.book.widgets._display", lambda obj, **kw: shown.append(obj))
    show_playground(sampling_playground(model, vocab, WORDS, 10))
    assert shown[-1]["text/plain"] == LIVE_ONLY_NOTE
    assert "application/vnd.jupyter.widget-view+json" in shown[-1]
