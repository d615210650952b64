"""ARAE's joint loop: what each of its four steps moves, and a resume that repeats the run exactly."""

from dataclasses import replace

import pytest
import torch

from textgan_lib.data.batching import encode_batch
from textgan_lib.data.vocab import Vocabulary
from textgan_lib.models.autoencoder import LSTMAutoencoder, encode_all
from textgan_lib.models.code_gan import generate
from textgan_lib.models.generator import LSTMGenerator
from textgan_lib.train.arae import ARAEConfig, ARAETrainer

TEXTS = [s.split() for s in ["a man rides a horse", "two dogs play in the snow", "a cat sleeps on a bed",
                             "people walk down the street", "a plate of food on a table"]] * 8
CONFIG = ARAEConfig(noise_dim=4, hidden_dim=16, batch_size=8, critic_steps=2, eval_every=2)


def _setup(seed=0):
    vocab = Vocabulary.build(TEXTS, min_freq=1)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        autoencoder = LSTMAutoencoder.for_vocabulary(vocab, embed_dim=8, code_dim=16)
    return autoencoder, encode_batch(TEXTS, vocab, 8).tokens


def _weights(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_arae_resumes_exactly_and_its_checkpoint_generates_text(tmp_path):
    autoencoder, tokens = _setup()
    straight = ARAETrainer(autoencoder, tokens, CONFIG, progress=False, held_out=tokens[:10])
    straight.run(until=4)
    autoencoder, _ = _setup()
    first = ARAETrainer(autoencoder, tokens, CONFIG, checkpoint_path=tmp_path / "arae.pt", progress=False)
    first.run(until=2)
    autoencoder, _ = _setup(seed=5)  # other weights: all of them must come from the file
    resumed = ARAETrainer(autoencoder, tokens, replace(CONFIG, seed=7), progress=False, held_out=tokens[:10])
    resumed.load(tmp_path / "arae.pt")
    resumed.run(until=4)
    for name in ("autoencoder", "generator", "critic"):
        for key, value in _weights(straight.modules[name]).items():
            torch.testing.assert_close(value, _weights(resumed.modules[name])[key], rtol=0, atol=0, msg=name + key)
    assert straight.history["g_loss"].iloc[-1] == resumed.history["g_loss"].iloc[-1]
    assert {"ae_nll", "code_noise", "d_loss", "encoder_loss", "g_loss", "valid_token_accuracy"} <= set(
        straight.history.columns)
    loaded = LSTMAutoencoder.from_checkpoint(tmp_path / "arae.pt")
    assert loaded.config == straight.autoencoder.config
    with pytest.raises(ValueError, match="holds an autoencoder"):
        LSTMGenerator.from_checkpoint(tmp_path / "arae.pt")
    sentences = generate(straight.autoencoder, straight.generator, 3, 8, rng=torch.Generator().manual_seed(0))
    assert sentences.shape == (3, 8)


def test_the_encoder_step_moves_only_the_encoder_and_against_the_critic():
    autoencoder, tokens = _setup()
    trainer = ARAETrainer(autoencoder, tokens, replace(CONFIG, critic_into_encoder=1.0, encoder_lr=0.1),
                          progress=False)
    trainer.critic_step()
    before = _weights(autoencoder)
    batch_state = trainer.rngs["batch"].get_state()
    with torch.no_grad():
        scored_before = trainer.score(autoencoder.encode(trainer._token_batch())).mean()
    trainer.rngs["batch"].set_state(batch_state)  # the step draws the same batch
    trainer.encoder_step()
    after = _weights(autoencoder)
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert moved and all(k.startswith(("embedding.", "encoder.")) for k in moved)
    trainer.rngs["batch"].set_state(batch_state)
    with torch.no_grad():
        assert trainer.score(autoencoder.encode(trainer._token_batch())).mean() < scored_before

    still = ARAETrainer(autoencoder, tokens, replace(CONFIG, critic_into_encoder=0.0), progress=False)
    still.encoder_step()
    assert all(torch.equal(v, _weights(autoencoder)[k]) for k, v in after.items())  # λ = 0: nothing moves


def test_the_code_noise_is_annealed_by_the_step_and_reaches_the_decoder():
    autoencoder, tokens = _setup()
    trainer = ARAETrainer(autoencoder, tokens, replace(CONFIG, code_noise=0.2, code_noise_anneal=0.5), progress=False)
    trainer.step = 250  # two annealings have happened (after 100 and 200 iterations)
    assert trainer.code_noise == pytest.approx(0.05)
    autoencoder.eval()
    plain = autoencoder.token_nll(tokens[:4])
    torch.manual_seed(0)
    noisy = autoencoder.token_nll(tokens[:4], code_noise=0.5)
    torch.manual_seed(0)
    assert torch.equal(noisy, autoencoder.token_nll(tokens[:4], code_noise=0.5)) and not torch.equal(noisy, plain)
    assert torch.equal(autoencoder.token_nll(tokens[:4], code_noise=0.0), plain)


def test_arae_refuses_bad_input():
    autoencoder, tokens = _setup()
    with pytest.raises(ValueError, match="at least one batch"):
        ARAETrainer(autoencoder, tokens[:3], CONFIG, progress=False)
    with pytest.raises(ValueError, match="adam_betas"):
        ARAEConfig(adam_betas=(0.5, 1.0))
    assert encode_all(autoencoder, tokens).shape == (len(tokens), 16)
