import pytest
import torch
import torch.nn.functional as F

from textgan_lib import Vocabulary, encode_batch
from textgan_lib.eval.metrics import mean_token_nll, perplexity
from textgan_lib.models.checkpoint import CheckpointMismatchError, NonFiniteLossError, save_checkpoint
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.train.mle import MLEConfig, MLETrainer
from textgan_lib.train.sync_free import SyncFreeMLETrainer

SENTENCES = [s.split() for s in ["a cat sits on a mat", "a dog runs on the grass", "the cat sleeps",
                                 "a man rides a bike on the road", "the dog sits"] * 8]


@pytest.fixture
def vocab():
    return Vocabulary.build(SENTENCES)


@pytest.fixture
def tokens(vocab):
    return encode_batch(SENTENCES, vocab, max_len=10).tokens


def _model(vocab, seed=0, **sizes):
    torch.manual_seed(seed)
    return LSTMGenerator.for_vocabulary(vocab, **({"embed_dim": 8, "hidden_dim": 16} | sizes))


def test_forward_shapes_and_state_continuation(vocab, tokens):
    model = _model(vocab).eval()
    inputs = model.shift_right(tokens)
    logits, (h, c) = model(inputs)
    assert logits.shape == (*tokens.shape, len(vocab))
    assert h.shape == c.shape == (1, len(tokens), 16)
    first, state = model(inputs[:, :4])
    rest, _ = model(inputs[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, rest], dim=1), logits)


def test_log_prob_masks_padding_and_matches_log_softmax(vocab, tokens):
    model = _model(vocab).eval()
    logits, _ = model(model.shift_right(tokens))
    per_token = F.log_softmax(logits, -1).gather(2, tokens[..., None]).squeeze(2)
    expected = (per_token * (tokens != vocab.pad_id)).sum(1)
    torch.testing.assert_close(model.log_prob(tokens), expected)
    assert (model.token_nll(tokens)[tokens == vocab.pad_id] == 0).all()


def test_bad_inputs_are_clear_errors(vocab, tokens):
    model = _model(vocab)
    with pytest.raises(ValueError, match=r"\[batch, length\] int64"):
        model.token_nll(tokens[0])
    with pytest.raises(ValueError, match="another vocabulary"):
        model.token_nll(tokens + 100)
    with pytest.raises(ValueError, match="prefix"):
        model.sample(3, 5, prefix=torch.zeros(2, 2, dtype=torch.long))


def test_sampling_eos_padding_prefix_and_reproducibility(vocab):
    model = _model(vocab)
    prefix = torch.tensor(vocab.encode(["a", "cat"]))
    draw = lambda seed: model.sample(64, 12, prefix=prefix, rng=torch.Generator().manual_seed(seed))  # noqa: E731
    samples = draw(0)
    assert samples.shape == (64, 12)
    assert (samples[:, :2] == prefix).all()
    assert torch.equal(samples, draw(0)) and not torch.equal(samples, draw(1))
    rows = samples.tolist()
    ended = [row for row in rows if vocab.eos_id in row[:-1]]
    assert len(ended) >= 8, "the check needs rows that end before the last position"
    for row in ended:
        end = row.index(vocab.eos_id)
        assert all(t == vocab.pad_id for t in row[end + 1 :])
    for row in rows:
        assert vocab.pad_id not in row[: row.index(vocab.eos_id) if vocab.eos_id in row else None]
    assert model.training  # sampling restores the mode it found


def test_fixed_length_generation_without_eos():
    model = LSTMGenerator(GeneratorConfig(vocab_size=20, start_id=0, pad_id=None, eos_id=None))
    samples = model.sample(30, 7, rng=torch.Generator().manual_seed(0))
    assert samples.shape == (30, 7) and samples.min() >= 0 and samples.max() < 20
    assert model.mask(samples).all()


def test_greedy_decoding_takes_the_argmax_at_every_step(vocab):
    model = _model(vocab).eval()
    greedy = model.sample(5, 8, temperature=0)
    assert (greedy == greedy[0]).all()  # no randomness: every row the same
    # Teacher-forced on its own output, each token is the most probable one among those the sampler
    # may draw (<pad> and <bos> never), until <eos>.
    with torch.no_grad():
        logits, _ = model(model.shift_right(greedy[:1]))  # [1, 8, V]
    logits[..., model.never_sampled()] = float("-inf")
    row = greedy[0].tolist()
    end = row.index(vocab.eos_id) + 1 if vocab.eos_id in row else len(row)
    assert row[:end] == logits[0, :end].argmax(dim=-1).tolist()


def test_mle_training_reduces_validation_nll(vocab, tokens):
    model = _model(vocab)
    before = mean_token_nll(model, tokens)
    history = MLETrainer(model, tokens, tokens, MLEConfig(epochs=15, batch_size=8, lr=1e-2), progress=False).run()
    assert list(history.columns[:3]) == ["epoch", "updates", "train_nll"]
    assert len(history) == 15 and history["valid_nll"].iloc[-1] < before - 1.0
    assert history["valid_ppl"].iloc[-1] == pytest.approx(perplexity(history["valid_nll"].iloc[-1]))


def test_resume_reaches_exactly_the_uninterrupted_weights(vocab, tokens, tmp_path):
    config = MLEConfig(epochs=4, batch_size=8, lr=1e-2, seed=3)
    sizes = {"dropout": 0.3}  # dropout draws from the global RNG, which the checkpoint restores

    straight = MLETrainer(_model(vocab, **sizes), tokens, tokens, config, vocab=vocab, progress=False)
    straight.run()

    first = MLETrainer(_model(vocab, **sizes), tokens, tokens, config, vocab=vocab, progress=False,
                       checkpoint_path=tmp_path / "ckpt.pt")
    first.run(until=2)
    torch.manual_seed(12345)  # whatever happens in between must not matter
    resumed = MLETrainer(_model(vocab, seed=99, **sizes), tokens, tokens, config, vocab=vocab, progress=False)
    resumed.load(tmp_path / "ckpt.pt")
    assert resumed.step == 2
    history = resumed.run()
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert history["train_nll"].tolist() == straight.history["train_nll"].tolist()


def test_a_checkpoint_from_before_a_new_config_field_still_resumes(vocab, tokens, tmp_path):
    trainer = MLETrainer(_model(vocab), tokens, config=MLEConfig(epochs=1), vocab=vocab, progress=False)
    trainer.run()
    path = trainer.save(tmp_path / "ckpt.pt")
    payload = torch.load(path, weights_only=False)
    del payload["generator"]["config"]["context_dim"]  # as written before the field existed
    del payload["content_sha256"]  # (and before the content hash)
    torch.save(payload, path)
    resumed = MLETrainer(_model(vocab, seed=5), tokens, config=MLEConfig(epochs=1), vocab=vocab, progress=False)
    resumed.load(path)
    assert resumed.step == 1
    assert torch.equal(resumed.model.output.weight, trainer.model.output.weight)


def test_experiments_reuse_a_run_saved_before_a_new_training_field(tmp_path, monkeypatch):
    """The experiments compare a saved run's training config with theirs: a field added to the
    config class since (at its default) must not make them retrain."""
    import warnings

    from textgan_lib.data.corpora import _splits
    from textgan_lib.recipes import get_profile, language_model

    texts = [s.split() for s in ["a cat sits", "a dog runs", "two birds fly", "the man rides"] * 8]
    data = _splits("toy", None, texts, texts[:4], max_len=6, min_freq=1)
    profile = get_profile("ci", lm={"trainer": {"epochs": 1}})
    path = tmp_path / "lm.pt"
    model, history = language_model(data, profile, checkpoint=path, progress=False)
    payload = torch.load(path, weights_only=False)
    del payload["train_config"]["clip_norm"]  # as if written before the field existed
    del payload["content_sha256"]  # (and before the content hash)
    torch.save(payload, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "not reusing ..." would be a warning
        again, again_history = language_model(data, profile, checkpoint=path, progress=False)
    assert again_history.equals(history) and torch.equal(again.output.weight, model.output.weight)


def test_checkpoint_mismatches_are_refused_with_the_reason(vocab, tokens, tmp_path):
    trainer = MLETrainer(_model(vocab), tokens, config=MLEConfig(epochs=1), vocab=vocab, progress=False)
    path = trainer.save(tmp_path / "ckpt.pt")

    other_vocab = Vocabulary(list(reversed(vocab.itos[4:])))
    with pytest.raises(CheckpointMismatchError, match="id 4 is"):
        MLETrainer(_model(other_vocab), tokens, vocab=other_vocab, progress=False).load(path)
    bigger = _model(vocab, hidden_dim=32)
    with pytest.raises(CheckpointMismatchError, match="hidden_dim: 16 saved, 32 here"):
        MLETrainer(bigger, tokens, vocab=vocab, progress=False).load(path)
    with pytest.raises(CheckpointMismatchError, match="does not match: it has"):
        LSTMGenerator.from_checkpoint(path, Vocabulary(["a"]))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatchError, match="could not be read"):
        LSTMGenerator.from_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")  # a torch file, but not ours
    with pytest.raises(CheckpointMismatchError, match="not a textgan checkpoint"):
        MLETrainer(_model(vocab), tokens, vocab=vocab, progress=False).load(tmp_path / "foreign.pt")
    future = tmp_path / "future.pt"
    save_checkpoint(future, "mle", {"generator": {}})
    payload = torch.load(future, weights_only=True)
    del payload["content_sha256"]
    torch.save({**payload, "version": 99}, future)
    with pytest.raises(CheckpointMismatchError, match="version 99, newer"):
        LSTMGenerator.from_checkpoint(future)


def test_from_checkpoint_roundtrip_with_vocabulary(vocab, tokens, tmp_path):
    trainer = MLETrainer(_model(vocab), tokens, config=MLEConfig(epochs=1), progress=False)  # vocab: the model's
    trainer.run()
    path = trainer.save(tmp_path / "ckpt.pt")
    model = LSTMGenerator.from_checkpoint(path)
    assert model.vocab == vocab and not model.training
    torch.testing.assert_close(model.log_prob(tokens), trainer.model.eval().log_prob(tokens))


def test_first_format_checkpoints_still_load(vocab, tokens, tmp_path):
    """A file written by the first checkpoint format (before kinds and versions) is not lost."""
    model = _model(vocab)
    path = tmp_path / "v1.pt"
    torch.save({"format": "textgan-checkpoint-v1", "model_config": {**model.config.__dict__},
                "model_state": model.state_dict(), "vocab_tokens": vocab.itos[4:]}, path)
    loaded = LSTMGenerator.from_checkpoint(path)
    assert loaded.vocab == vocab
    torch.testing.assert_close(loaded.log_prob(tokens), model.eval().log_prob(tokens))


def test_fit_says_what_it_will_do(vocab, tokens):
    trainer = MLETrainer(_model(vocab), tokens, config=MLEConfig(epochs=2, batch_size=8), progress=False)
    trainer.run()
    with pytest.warns(UserWarning, match="already 2 epochs done.*more=COUNT"):
        trainer.run(until=2)
    assert trainer.step == 2
    trainer.run(more=1)
    assert trainer.step == 3
    with pytest.raises(TypeError):
        trainer.run(5)  # a bare number could mean a total or an increment: keyword only
    with pytest.raises(ValueError, match="not both"):
        trainer.run(until=4, more=1)


def test_nan_loss_stops_training_and_keeps_the_checkpoint(vocab, tokens, tmp_path):
    path = tmp_path / "ckpt.pt"
    trainer = MLETrainer(_model(vocab), tokens, config=MLEConfig(epochs=2, batch_size=8), vocab=vocab,
                         checkpoint_path=path, progress=False)
    trainer.run(until=1)
    saved = path.read_bytes()
    with torch.no_grad():
        trainer.model.output.bias[5] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 2, update 6 \(batch 0\)"):
        trainer.run()
    assert path.read_bytes() == saved


def test_trainer_rejects_empty_data_and_vocab_size_mismatch(vocab, tokens):
    with pytest.raises(ValueError, match="empty"):
        MLETrainer(_model(vocab), tokens[:0])
    with pytest.raises(ValueError, match="vocabulary has"):
        MLETrainer(_model(vocab), tokens, vocab=Vocabulary(["x"]))
    bad = tokens.clone()
    bad[3, 2] = len(vocab)  # an id the model has no row for
    for train, valid in ((bad, None), (tokens, bad)):  # caught before training, not at some step
        with pytest.raises(ValueError, match=r"token ids must lie in \[0, \d+\), found 0\.\.\d+"):
            MLETrainer(_model(vocab), train, valid)
    with pytest.raises(TypeError, match="must be tensors of token ids"):
        MLETrainer(_model(vocab), tokens.tolist())


def test_the_sync_free_epoch_trains_like_the_plain_loop(vocab, tokens):
    config = MLEConfig(epochs=2, batch_size=8, lr=1e-2)
    plain = MLETrainer(_model(vocab), tokens, tokens, config, progress=False)
    plain.run()
    fast = SyncFreeMLETrainer(_model(vocab), tokens, tokens, config, progress=False)
    fast.run()
    on_cpu = SyncFreeMLETrainer(_model(vocab), tokens, tokens, config, progress=False, cuda_graph=True)
    on_cpu.run()  # a CUDA graph is for CUDA only: the same eager sync-free steps here
    assert not on_cpu.cuda_graph and on_cpu.history["train_nll"].equals(fast.history["train_nll"])
    assert fast.step == plain.step == 2 and fast.counters == plain.counters
    for a, b in zip(plain.model.parameters(), fast.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # fused Adam rounds differently
    torch.testing.assert_close(torch.tensor(fast.history["train_nll"].to_numpy()),
                               torch.tensor(plain.history["train_nll"].to_numpy()), rtol=1e-4, atol=0)
    assert not hasattr(fast.optimizers["model"], "found_inf")  # the skip flag does not outlive the epoch


def test_padding_targets_teach_pad_after_eos_and_train_nll_counts_real_tokens(vocab, tokens):
    from textgan_lib.train.gumbel_gan import padding_probability

    plain = MLETrainer(_model(vocab), tokens, tokens, MLEConfig(epochs=6, batch_size=8, lr=1e-2), progress=False)
    plain.run()
    padded = MLETrainer(_model(vocab), tokens, tokens, MLEConfig(epochs=6, batch_size=8, lr=1e-2,
                                                                padding_targets=True), progress=False)
    padded.run()
    assert padding_probability(plain.model, tokens) < 0.05 < 0.9 < padding_probability(padded.model, tokens)
    with torch.no_grad():  # train_nll: the real tokens' mean, as valid_nll, not diluted by the easy <pad>s
        real_nll = mean_token_nll(padded.model, tokens)
        with_padding = padded.model.token_nll(tokens, padding_targets=True).mean().item()
    assert with_padding < 0.8 * real_nll
    assert padded.history["valid_nll"].iloc[-1] == pytest.approx(real_nll)
    assert padded.history["train_nll"].iloc[-1] > with_padding
    fast = SyncFreeMLETrainer(_model(vocab), tokens, tokens, padded.config, progress=False)
    fast.run()
    for a, b in zip(padded.model.parameters(), fast.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="padding_targets"):
        padded.model.token_nll(tokens, padding_targets=True, temperature=0.5)


@pytest.mark.parametrize("skip", [0.0, 1.0])
def test_fused_adam_skips_its_step_when_found_inf_is_set(skip):
    # the sync-free epoch relies on this undocumented mechanism of torch's GradScaler: a fused
    # Adam with `found_inf` set to a nonzero tensor leaves the weights as they were
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.Adam([weight], lr=0.1, fused=True)
    weight.grad = torch.ones(3)
    optimizer.found_inf = torch.tensor(skip)
    optimizer.step()
    del optimizer.found_inf
    assert torch.equal(weight.detach(), torch.ones(3)) == bool(skip)


def test_the_sync_free_epoch_stops_before_a_nan_step_and_names_it(vocab, tokens, monkeypatch):
    def trainer_failing_at_third_batch(sync_free):
        trainer = (SyncFreeMLETrainer if sync_free else MLETrainer)(_model(vocab), tokens,
                                                                   config=MLEConfig(epochs=1, batch_size=8),
                                                                   progress=False)
        token_nll, calls = trainer.model.token_nll, []

        def failing(batch, **kwargs):
            calls.append(1)
            nll = token_nll(batch, **kwargs)
            return nll * float("nan") if len(calls) == 3 else nll

        monkeypatch.setattr(trainer.model, "token_nll", failing)
        return trainer, calls

    plain, _ = trainer_failing_at_third_batch(sync_free=False)
    fast, calls = trainer_failing_at_third_batch(sync_free=True)
    for trainer in (plain, fast):
        with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 1, update 3 \(batch 2\)"):
            trainer.train_epoch()
    assert len(calls) == 5  # the epoch ran to its end; every step from the failure on was skipped
    for a, b in zip(plain.model.parameters(), fast.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_padding_rows_through_the_output_layer_or_dropped_give_the_same_nll():
    from textgan_lib.models.output_nll import masked_token_nll

    torch.manual_seed(0)
    hidden, weight, bias = torch.randn(3, 5, 4), torch.randn(7, 4), torch.randn(7)
    tokens = torch.randint(1, 7, (3, 5))
    tokens[0, 3:] = 0
    mask = tokens != 0
    dropped = masked_token_nll(hidden, weight, bias, tokens, mask, drop_padding=True)
    kept = masked_token_nll(hidden, weight, bias, tokens, mask, drop_padding=False)
    torch.testing.assert_close(dropped, kept)
    assert (kept[~mask] == 0).all()


def test_a_checkpoint_of_the_plain_loop_resumes_in_a_sync_free_trainer_and_back(vocab, tokens, tmp_path):
    # the two build their Adam differently (fused, reading a skip flag, on CUDA); a checkpoint
    # written by one must go on training in the other, as when a CPU build continues on a GPU
    config = MLEConfig(epochs=2, batch_size=8)
    for saver, loader in ((False, True), (True, False)):
        first = (SyncFreeMLETrainer if saver else MLETrainer)(_model(vocab), tokens, config=config, progress=False)
        first.run(until=1)
        first.save(tmp_path / "run.pt")
        resumed = (SyncFreeMLETrainer if loader else MLETrainer)(_model(vocab, seed=1), tokens, config=config,
                                                                 progress=False)
        resumed.load(tmp_path / "run.pt")
        resumed.run()
        assert resumed.step == 2 and resumed.optimizers["model"].param_groups[0]["fused"] == (True if loader else None)


def test_mle_trainer_graphs_a_language_models_steps_on_cuda_and_trains_an_autoencoder_plainly(monkeypatch):
    import textgan_lib.train.sync_free as sync_free
    from textgan_lib.models.autoencoder import LSTMAutoencoder
    from textgan_lib.models.generator import LSTMGenerator

    made = []
    monkeypatch.setattr(sync_free, "SyncFreeMLETrainer", lambda model, *a, **kw: made.append(kw) or "sync-free")

    class OnCuda:  # a model that says it lives on a GPU
        device = torch.device("cuda", 0)

    monkeypatch.setattr(sync_free, "MLETrainer", lambda model, *a, **kw: "plain loop")
    language_model, autoencoder = OnCuda(), OnCuda()
    language_model.cuda_graphable, autoencoder.cuda_graphable = LSTMGenerator.cuda_graphable, \
        LSTMAutoencoder.cuda_graphable
    assert sync_free.mle_trainer(language_model, None) == "sync-free" and made[-1]["cuda_graph"] is True
    assert sync_free.mle_trainer(autoencoder, None) == "plain loop"  # its encoder reads lengths on the host
    sync_free.mle_trainer(language_model, None, cuda_graph=False)  # an explicit choice wins
    assert made[-1]["cuda_graph"] is False
