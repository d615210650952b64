"""NLL_div measures the distribution actually sampled; temperature matching never extrapolates."""

import itertools
import math

import pandas as pd
import pytest
import torch

from textgan_lib.eval.metrics import (
    OutsideSweepError,
    mean_token_nll,
    nll_div,
    quality_diversity_sweep,
    temperature_matched,
)
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator

VOCAB, LENGTH, N_SAMPLES = 5, 3, 40_000


@pytest.fixture(scope="module")
def tiny() -> LSTMGenerator:
    """A fixed-length 5-token generator with peaked, context-dependent predictions."""
    torch.manual_seed(0)
    model = LSTMGenerator(GeneratorConfig(VOCAB, embed_dim=4, hidden_dim=8, start_id=0, pad_id=None, eos_id=None))
    with torch.no_grad():
        model.output.weight.mul_(4.0)
    return model


def exact_entropy_rate(model: LSTMGenerator, **sampling) -> float:
    """Entropy per token of the sampling distribution, by enumerating all VOCAB**LENGTH sequences."""
    every = torch.tensor(list(itertools.product(range(VOCAB), repeat=LENGTH)))  # [V^T, T]
    with torch.no_grad():
        log_q = -model.token_nll(every, **sampling).sum(dim=1)  # [V^T]
    assert torch.isclose(log_q.exp().sum(), torch.tensor(1.0), atol=1e-5)  # a distribution over sequences
    q = log_q.exp()
    return float(-(q * torch.where(q > 0, log_q, torch.zeros_like(log_q))).sum()) / LENGTH


def monte_carlo_error(model: LSTMGenerator, **sampling) -> float:
    """Standard error of nll_div's estimate: per-sequence mean NLL, N_SAMPLES independent sequences."""
    samples = model.sample(N_SAMPLES, LENGTH, rng=torch.Generator().manual_seed(1), **sampling)
    with torch.no_grad():
        per_sequence = model.token_nll(samples, **sampling).mean(dim=1)
    return float(per_sequence.std()) / math.sqrt(N_SAMPLES)


@pytest.mark.parametrize("sampling", [{"temperature": 0.5}, {"temperature": 1.0}, {"temperature": 1.5},
                                      {"temperature": 1.0, "top_k": 2}, {"temperature": 0.8, "top_p": 0.7}])
def test_nll_div_is_the_entropy_rate_of_what_was_sampled(tiny, sampling):
    exact = exact_entropy_rate(tiny, **sampling)
    estimate = nll_div(tiny, N_SAMPLES, LENGTH, rng=torch.Generator().manual_seed(1), **sampling)
    assert abs(estimate - exact) < 4 * monte_carlo_error(tiny, **sampling)


def test_the_untempered_score_of_cold_samples_would_fail_that_test(tiny):
    """Scoring τ = 0.5 samples under the τ = 1 model overstates their entropy far beyond the error."""
    samples = tiny.sample(N_SAMPLES, LENGTH, temperature=0.5, rng=torch.Generator().manual_seed(1))
    cross_entropy = mean_token_nll(tiny, samples)
    exact = exact_entropy_rate(tiny, temperature=0.5)
    assert cross_entropy - exact > 20 * monte_carlo_error(tiny, temperature=0.5)


def test_the_sampling_distribution_excludes_the_never_sampled_tokens():
    torch.manual_seed(0)
    model = LSTMGenerator(GeneratorConfig(6, embed_dim=4, hidden_dim=8))  # <pad>=0, <bos>=1, <eos>=2
    tokens = torch.tensor([[3, 4, 2]])
    with torch.no_grad():
        logits, _ = model(model.shift_right(tokens))  # [1, 3, 6]
        kept = logits[0, :, 2:].log_softmax(dim=-1)  # <pad> and <bos> removed, renormalised
        expected = -kept[torch.arange(3), tokens[0] - 2]
        torch.testing.assert_close(model.token_nll(tokens, temperature=1.0)[0], expected)
        # Without sampling arguments: the model itself, every token in the normaliser.
        full = -logits[0].log_softmax(dim=-1)[torch.arange(3), tokens[0]]
        torch.testing.assert_close(model.token_nll(tokens)[0], full)


def test_greedy_decoding_has_no_distribution_to_score(tiny):
    with pytest.raises(ValueError, match="greedy"):
        tiny.token_nll(torch.zeros(1, LENGTH, dtype=torch.long), temperature=0)


def test_sweep_reports_tempered_nll_test_and_nll_div(tiny):
    held_out = tiny.sample(500, LENGTH, rng=torch.Generator().manual_seed(2))
    sweep = quality_diversity_sweep(tiny, [0.5, 1.0], 2000, LENGTH, {"mean_id": lambda s: s.float().mean().item()},
                                    held_out=held_out)
    assert list(sweep.columns) == ["temperature", "nll_div", "nll_test", "mean_id"]
    assert sweep["nll_div"].iloc[0] < sweep["nll_div"].iloc[1]  # colder is less diverse
    assert sweep["nll_test"].iloc[1] == pytest.approx(mean_token_nll(tiny, held_out, temperature=1.0))
    # Data drawn at τ = 1 is fit worse by the τ = 0.5 model: temperature changes NLL_test.
    assert sweep["nll_test"].iloc[0] > sweep["nll_test"].iloc[1]


def test_a_quality_reached_twice_is_matched_at_the_warmest_temperature():
    """Very cold samples repeat themselves and lose BLEU, so BLEU-4 against temperature rises, then
    falls (chapter 10's COCO curve peaks near tau = 0.6). The fair baseline is the MLE model cooled
    as little as possible to the GAN's quality: the crossing at the highest temperature."""
    curve = pd.DataFrame({"temperature": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
                          "bleu_4": [0.34, 0.354, 0.358, 0.364, 0.34, 0.30],
                          "self_bleu_4": [0.91, 0.85, 0.76, 0.64, 0.50, 0.39]})
    match = temperature_matched(curve, 0.356, 0.49, "bleu_4", "self_bleu_4")
    assert 0.8 < match.temperature < 0.9  # not the crossing between 0.6 and 0.7
    assert match.curve_diversity == pytest.approx(0.64 + (0.356 - 0.364) / (0.34 - 0.364) * (0.50 - 0.64))


def test_temperature_matching_interpolates_and_refuses_to_extrapolate():
    curve = pd.DataFrame({"temperature": [0.8, 0.9, 1.0], "nll_oracle": [8.6, 8.8, 9.0], "nll_div": [5.0, 5.4, 6.0]})
    match = temperature_matched(curve, quality=8.7, diversity=5.5, quality_column="nll_oracle",
                                diversity_column="nll_div")
    assert match.temperature == pytest.approx(0.85)
    assert match.curve_diversity == pytest.approx(5.2)
    assert match.gap == pytest.approx(0.3)
    with pytest.raises(OutsideSweepError, match="widen the temperature sweep"):
        temperature_matched(curve, quality=8.5, diversity=5.5, quality_column="nll_oracle", diversity_column="nll_div")
