import pytest
import torch
import torch.nn.functional as F

from textgan_lib.models.output_nll import linear_cross_entropy
from textgan_lib.models.sampling import filter_logits, sample_from_hidden, sample_from_logits


def _leaves(n=37, h=8, v=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n, h, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(v, h, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(v, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, v, (n,), generator=g)
    return hidden, weight, bias, targets


def test_fused_nll_matches_cross_entropy_values_and_gradients():
    hidden, weight, bias, targets = _leaves()
    row_weights = torch.rand(len(targets), dtype=torch.float64)  # e.g. masks or rewards
    fused = linear_cross_entropy(hidden, weight, bias, targets)
    (fused * row_weights).sum().backward()
    fused_grads = [t.grad.clone() for t in (hidden, weight, bias)]
    for t in (hidden, weight, bias):
        t.grad = None
    reference = F.cross_entropy(F.linear(hidden, weight, bias), targets, reduction="none")
    (reference * row_weights).sum().backward()
    torch.testing.assert_close(fused, reference)
    for got, want in zip(fused_grads, (hidden.grad, weight.grad, bias.grad)):
        torch.testing.assert_close(got, want)


def test_fused_nll_refuses_a_second_backward():
    hidden, weight, bias, targets = _leaves()
    loss = linear_cross_entropy(hidden, weight, bias, targets).sum()
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="one backward"):
        loss.backward()


def test_fused_nll_without_grad_and_shape_errors():
    hidden, weight, bias, targets = (t.detach() if t.is_floating_point() else t for t in _leaves())
    torch.testing.assert_close(linear_cross_entropy(hidden, weight, bias, targets),
                               F.cross_entropy(F.linear(hidden, weight, bias), targets, reduction="none"))
    with pytest.raises(ValueError, match="hidden \\[N, H\\]"):
        linear_cross_entropy(hidden[None], weight, bias, targets)


def test_top_k_and_top_p_filtering():
    logits = torch.log(torch.tensor([[0.05, 0.5, 0.15, 0.3]]))
    assert torch.isfinite(filter_logits(logits, top_k=2)).tolist() == [[False, True, False, True]]
    assert torch.isfinite(filter_logits(logits, top_p=0.7)).tolist() == [[False, True, False, True]]
    assert torch.isfinite(filter_logits(logits, top_p=0.81)).tolist() == [[False, True, True, True]]
    assert torch.isfinite(filter_logits(logits, top_p=0.01)).tolist() == [[False, True, False, False]]
    with pytest.raises(ValueError, match="top_p"):
        filter_logits(logits, top_p=1.5)
    with pytest.raises(ValueError, match="top_k"):
        filter_logits(logits, top_k=0)


def test_sampling_frequencies_follow_softmax():
    probs = torch.tensor([0.1, 0.0, 0.6, 0.3])
    logits = probs.log().expand(200_000, -1)
    draws = sample_from_logits(logits, rng=torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=4).double() / len(draws)
    assert freq[1] == 0  # a zero-probability token is never drawn
    # 5 standard errors of a binomial proportion
    assert torch.all((freq - probs.double()).abs() <= 5 * (probs * (1 - probs) / len(draws)).sqrt().double() + 1e-12)


def test_two_level_sampling_is_exact_across_blocks():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(150, generator=g) * 2  # two full blocks of 64 and a partial one
    logits[[5, 70, 149]] = float("-inf")
    probs = logits.softmax(0).double()
    draws = sample_from_logits(logits.expand(400_000, -1), rng=g)
    freq = torch.bincount(draws, minlength=150).double() / len(draws)
    assert (freq[[5, 70, 149]] == 0).all()
    assert torch.all((freq - probs).abs() <= 5 * (probs * (1 - probs) / len(draws)).sqrt() + 1e-12)


def test_temperature_changes_entropy_and_zero_is_greedy():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).expand(50_000, -1)
    g = torch.Generator().manual_seed(1)
    cold = torch.bincount(sample_from_logits(logits, temperature=0.5, rng=g), minlength=4)
    hot = torch.bincount(sample_from_logits(logits, temperature=2.0, rng=g), minlength=4)
    assert cold[0] > hot[0] and cold[3] < hot[3]
    assert sample_from_logits(logits[:3], temperature=0).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="temperature"):
        sample_from_logits(logits, temperature=-1)


def test_sample_from_hidden_equals_sampling_the_logits():
    output = torch.nn.Linear(6, 30)
    hidden = torch.randn(1500, 6)  # more rows than one chunk
    a = sample_from_hidden(hidden, output, temperature=0.7, top_k=10, rng=torch.Generator().manual_seed(3))
    with torch.no_grad():
        b = sample_from_logits(output(hidden), temperature=0.7, top_k=10, rng=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("n", [100, 1300])  # one row chunk, and several
def test_sync_free_sampling_draws_the_same_tokens(n):
    """The GPU's way (all rows at once, the NaN check deferred to the end) changes nothing else."""
    from textgan_lib.data.vocab import Vocabulary
    from textgan_lib.models.generator import LSTMGenerator

    torch.manual_seed(0)
    vocab = Vocabulary.build([[f"w{i}" for i in range(300)]], min_freq=1)
    model = LSTMGenerator.for_vocabulary(vocab, embed_dim=8, hidden_dim=16)
    for kwargs in [{}, {"temperature": 0.7, "top_p": 0.9}, {"top_k": 5}, {"temperature": 0}]:
        plain = model.sample(n, 12, rng=torch.Generator().manual_seed(3), sync_free=False, **kwargs)
        fused = model.sample(n, 12, rng=torch.Generator().manual_seed(3), sync_free=True, **kwargs)
        assert torch.equal(plain, fused), kwargs
    with torch.no_grad():
        model.output.bias[7] = float("nan")
    for sync_free in (False, True):
        with pytest.raises(FloatingPointError, match="holds NaN or \\+inf"):
            model.sample(4, 6, sync_free=sync_free)
