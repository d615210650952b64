"""The LSTM autoencoder and the latent GAN on its codes (chapter 11's library)."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from textgan_lib.data.batching import encode_batch
from textgan_lib.data.vocab import Vocabulary
from textgan_lib.models.autoencoder import LSTMAutoencoder, encode_all, reconstruction_accuracy
from textgan_lib.models.checkpoint import NonFiniteLossError
from textgan_lib.models.code_gan import generate
from textgan_lib.models.generator import LSTMGenerator
from textgan_lib.train.latent_gan import LatentGANConfig, LatentGANTrainer
from textgan_lib.train.losses import gradient_penalty
from textgan_lib.train.mle import MLEConfig, MLETrainer

SENTENCES = [s.split() for s in [
    "a cat sits on the mat", "a dog runs in the park", "two birds fly over the lake", "the man rides a red bike",
    "a woman reads a book", "the cat sleeps", "a plane lands at night", "three dogs play in the snow",
]]


def _autoencoder(seed=0):
    torch.manual_seed(seed)
    vocab = Vocabulary.build(SENTENCES, min_freq=1)
    return LSTMAutoencoder.for_vocabulary(vocab, embed_dim=16, code_dim=32), vocab


def test_codes_lie_on_the_sphere_and_ignore_padding():
    model, vocab = _autoencoder()
    model.eval()
    tokens = encode_batch(SENTENCES, vocab, 10).tokens  # [8, 10]
    codes = model.encode(tokens)
    assert codes.shape == (8, 32)
    torch.testing.assert_close(codes.norm(dim=1), torch.ones(8))
    padded = torch.cat([tokens, torch.full((8, 5), vocab.pad_id)], dim=1)
    torch.testing.assert_close(model.encode(padded), codes)  # extra padding changes nothing
    nll = model.token_nll(tokens)
    assert nll.shape == tokens.shape and (nll[tokens == vocab.pad_id] == 0).all()


def test_the_code_reaches_every_decoder_step_and_word_dropout_only_trains():
    model, vocab = _autoencoder()
    model.eval()
    tokens = encode_batch(SENTENCES, vocab, 10).tokens
    codes = model.encode(tokens)
    # the decoder, stepped by hand: the bridge gives the first state, the code sits beside each input
    state = model.initial_state(codes)
    inputs = model.decoder.shift_right(tokens)
    nll = torch.zeros(tokens.shape)
    for t in range(tokens.shape[1]):
        x = torch.cat([model.decoder.embedding(inputs[:, t]), codes], dim=1)[:, None]  # [B, 1, E + H]
        h, state = model.decoder.lstm(x, state)
        logp = model.decoder.output(h[:, 0]).log_softmax(dim=1)
        nll[:, t] = -logp.gather(1, tokens[:, t:t + 1]).squeeze(1)
    nll[tokens == vocab.pad_id] = 0
    torch.testing.assert_close(model.token_nll(tokens), nll)
    torch.manual_seed(0)
    model.train()  # dropped words make the training loss random; eval mode is deterministic
    assert not torch.equal(model.token_nll(tokens), model.token_nll(tokens))
    with pytest.raises(ValueError, match="context"):
        model.decoder.token_nll(tokens)  # a code-reading decoder refuses to run without its code


def test_generator_context_is_checked():
    plain = LSTMGenerator.for_vocabulary(Vocabulary.build(SENTENCES, min_freq=1))
    tokens = torch.ones(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="context_dim=0"):
        plain.token_nll(tokens, context=torch.zeros(2, 4))


def test_decoding_ends_at_eos_and_pads_after_it():
    model, vocab = _autoencoder()
    codes = F.normalize(torch.randn(64, 32, generator=torch.Generator().manual_seed(1)), dim=1)
    out = model.decode(codes, 12, temperature=1.0, rng=torch.Generator().manual_seed(0))
    assert out.shape == (64, 12)
    ended = [row for row in out.tolist() if vocab.eos_id in row[:-1]]
    assert len(ended) >= 10, "the check needs rows that end before the last position"
    for row in ended:
        assert set(row[row.index(vocab.eos_id) + 1:]) == {vocab.pad_id}


def test_a_memorisable_corpus_is_reconstructed_exactly(tmp_path):
    model, vocab = _autoencoder()
    tokens = encode_batch(SENTENCES, vocab, 10).tokens
    trainer = MLETrainer(model, tokens.repeat(8, 1), config=MLEConfig(epochs=60, batch_size=16, lr=1e-2),
                         checkpoint_path=tmp_path / "ae.pt", progress=False)
    trainer.run()
    assert reconstruction_accuracy(model, tokens) == {"token": 1.0, "sentence": 1.0}
    reloaded = LSTMAutoencoder.from_checkpoint(tmp_path / "ae.pt")
    torch.testing.assert_close(reloaded.encode(tokens), model.eval().encode(tokens))
    with pytest.raises(ValueError, match="LSTMAutoencoder.from_checkpoint"):
        LSTMGenerator.from_checkpoint(tmp_path / "ae.pt")


def test_autoencoder_training_resumes_exactly(tmp_path):
    tokens = encode_batch(SENTENCES, Vocabulary.build(SENTENCES, min_freq=1), 10).tokens.repeat(4, 1)
    straight, _ = _autoencoder()
    MLETrainer(straight, tokens, config=MLEConfig(epochs=4, batch_size=8), progress=False).run()
    first, _ = _autoencoder()
    MLETrainer(first, tokens, config=MLEConfig(epochs=4, batch_size=8), checkpoint_path=tmp_path / "ae.pt",
               progress=False).run(until=2)
    resumed, _ = _autoencoder(seed=1)  # other initial weights: everything must come from the checkpoint
    trainer = MLETrainer(resumed, tokens, config=MLEConfig(epochs=4, batch_size=8), progress=False)
    trainer.load(tmp_path / "ae.pt")
    trainer.run()
    for a, b in zip(straight.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_gradient_penalty_equals_a_direct_computation():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    real, fake = torch.randn(5, 4), torch.randn(5, 4)
    penalty = gradient_penalty(lambda x: critic(x).squeeze(1), real, fake, torch.Generator().manual_seed(3))
    epsilon = torch.rand(5, 1, generator=torch.Generator().manual_seed(3))
    expected = 0.0
    for i in range(5):  # one point at a time, gradient by autograd of the scalar score
        point = (epsilon[i] * real[i] + (1 - epsilon[i]) * fake[i]).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(point).sum(), point)
        expected += (grad.norm() - 1) ** 2 / 5
    torch.testing.assert_close(penalty, expected)
    w = torch.tensor([3.0, 4.0])  # a linear critic has gradient norm |w| = 5 everywhere
    assert gradient_penalty(lambda x: x @ w, real[:, :2], fake[:, :2]).item() == pytest.approx(16.0)


def _clustered_codes(n=512, dim=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(2, dim, generator=g), dim=1)
    codes = centres[torch.randint(0, 2, (n,), generator=g)] + 0.05 * torch.randn(n, dim, generator=g)
    return F.normalize(codes, dim=1), centres


@pytest.mark.slow  # 300 WGAN-GP iterations (about 12 s)
def test_the_latent_gan_learns_where_the_codes_are():
    model, _ = _autoencoder()
    codes, centres = _clustered_codes()
    config = LatentGANConfig(noise_dim=8, hidden_dim=64, lr=1e-3, eval_every=50)
    trainer = LatentGANTrainer(model, codes, config, progress=False)
    with torch.no_grad():
        before = (trainer.generator.sample(1000) @ centres.T).max(dim=1).values.mean()
    history = trainer.run(until=300)
    with torch.no_grad():
        after = (trainer.generator.sample(1000) @ centres.T).max(dim=1).values.mean()
    assert after > 0.9 > before  # generated codes sit near the two clusters of real codes
    assert list(history["iteration"]) == [50, 100, 150, 200, 250, 300]
    assert {"wasserstein", "gradient_penalty", "d_loss", "g_loss"} <= set(history.columns)


def test_latent_gan_resumes_exactly_and_generates_sentences(tmp_path):
    model, vocab = _autoencoder()
    codes, _ = _clustered_codes()
    config = LatentGANConfig(noise_dim=8, hidden_dim=32, eval_every=2)
    straight = LatentGANTrainer(model, codes, config, progress=False)
    straight.run(until=4)
    first = LatentGANTrainer(model, codes, config, checkpoint_path=tmp_path / "gan.pt", progress=False)
    first.run(until=2)
    # another seed: every weight, random stream and the position must come from the file
    resumed = LatentGANTrainer(model, codes, replace(config, seed=7), progress=False)
    resumed.load(tmp_path / "gan.pt")
    assert resumed.step == 2 and len(resumed.records) == 1
    resumed.run(until=4)
    assert resumed.step == 4 and list(resumed.history["iteration"]) == [2, 4]
    for a, b in zip(straight.generator.parameters(), resumed.generator.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(straight.critic.parameters(), resumed.critic.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    sentences = generate(model, resumed.generator, 5, 10, rng=torch.Generator().manual_seed(0))
    assert sentences.shape == (5, 10) and sentences.max() < len(vocab)
    assert encode_all(model, encode_batch(SENTENCES, vocab, 10).tokens).shape == (8, 32)


def test_a_non_finite_critic_loss_stops_before_any_update():
    model, _ = _autoencoder()
    codes, _ = _clustered_codes()
    codes[0] = float("nan")
    trainer = LatentGANTrainer(model, codes[:64], LatentGANConfig(noise_dim=8, hidden_dim=16), progress=False)
    before = [p.detach().clone() for p in trainer.critic.parameters()]
    with pytest.raises(NonFiniteLossError, match="critic loss"):
        trainer.run(more=1)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.critic.parameters()))
