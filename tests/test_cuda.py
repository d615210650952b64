"""The library on a CUDA GPU (skipped without one): graph replay, SeqGAN, rollouts, MLE, the oracle."""

import pytest
import torch

from textgan_lib.models.checkpoint import NonFiniteLossError
from textgan_lib.models.discriminators import CNNDiscriminator, LSTMDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.models.oracle import OracleLSTM
from textgan_lib.recipes import get_profile, oracle_mle
from textgan_lib.train.cuda_graph import GraphedStep
from textgan_lib.train.rollout import rollout_rewards, rollout_rewards_reference
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")


def _discriminator(seed=0):
    torch.manual_seed(seed)
    return CNNDiscriminator(50, embed_dim=16, windows=(1, 2, 5), filters=(8, 8, 8), dropout=0.0).to(CUDA)


def _trainer(discriminator):
    """A SeqGAN trainer whose own discriminator update and optimizer the tests replay."""
    torch.manual_seed(0)
    generator = LSTMGenerator(GeneratorConfig(50, 8, 8, start_id=0, pad_id=None, eos_id=None)).to(CUDA)
    real = torch.randint(0, 50, (32, 12), device=CUDA)
    return SeqGANTrainer(generator, discriminator, real, seq_len=12, progress=False,
                         config=SeqGANConfig(d_lr=1e-2, cuda_graphs=False))


def test_a_replayed_graph_trains_like_eager_steps():
    batches = [(torch.randint(0, 50, (n, 12), device=CUDA), (torch.rand(n, device=CUDA) > 0.5).float())
               for n in [16] * 7 + [5] * 5 + [16] * 3]  # two shapes, each past its warm-up
    models = []
    for graphed in (False, True):
        discriminator = _discriminator()
        step = _trainer(discriminator).discriminator_update
        step = GraphedStep(step) if graphed else step
        losses = [step(*batch)[0].clone() for batch in batches]
        models.append((discriminator, torch.stack(losses)))
    (eager, eager_losses), (replayed, replayed_losses) = models
    torch.testing.assert_close(replayed_losses, eager_losses, rtol=1e-4, atol=1e-5)
    for a, b in zip(eager.parameters(), replayed.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _generator(seed=0):
    torch.manual_seed(seed)
    return LSTMGenerator(GeneratorConfig(50, 8, 16, start_id=0, pad_id=None, eos_id=None)).to(CUDA)


def test_rollouts_on_cuda_equal_the_loop_for_a_deterministic_policy(monkeypatch):
    # The two paths compute differently on CUDA: the fast one reuses prefixes through per-width
    # cuDNN convolutions, which torch lets run in TF32 (10-bit mantissa) by default; the loop scores
    # with the fused-window matmul, in float32 (torch's matmul default). That TF32 rounding, not the
    # order of the sums, moved 3 of 72 rewards by 1.3e-5 on an H200. Compare both in float32.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    generator, discriminator = _generator(), _discriminator()
    sequences = generator.sample(6, 12, rng=torch.Generator(device=CUDA).manual_seed(0))
    fast = rollout_rewards(generator, discriminator, sequences, 3, temperature=0)
    torch.testing.assert_close(fast, rollout_rewards_reference(generator, discriminator, sequences, 3, temperature=0))
    assert fast.shape == (6, 12) and fast.is_cuda


def test_seqgan_on_cuda_trains_and_resumes_on_the_cpu(tmp_path):
    real = torch.randint(0, 50, (200, 12), generator=torch.Generator().manual_seed(1))
    config = SeqGANConfig(batch_size=16, n_rollouts=4, d_pretrain_rounds=2, d_steps=2, d_epochs=2, d_samples=100,
                          d_batch_size=16, eval_every=1)
    trainer = SeqGANTrainer(_generator(), _discriminator(), real, seq_len=12, config=config, progress=False,
                            evaluate=lambda g: {"nll_real": g.token_nll(real.to(g.device)).mean().item()},
                            checkpoint_path=tmp_path / "seqgan.pt")
    trainer.pretrain_discriminator()
    history = trainer.run(until=3)
    adversarial = history[history["phase"] == "adversarial"]
    assert history["d_accuracy"].dropna().between(0, 1).all() and adversarial["nll_real"].notna().all()
    on_cpu = SeqGANTrainer(_generator().cpu(), _discriminator().cpu(), real, seq_len=12, config=config, progress=False)
    with pytest.warns(UserWarning, match="saved on another device"):
        on_cpu.load(tmp_path / "seqgan.pt")
    on_cpu.run(until=4)
    assert on_cpu.step == 4


@pytest.mark.parametrize("cuda_graphs", [True, False])
def test_seqgan_with_an_lstm_discriminator_on_cuda(cuda_graphs):
    real = torch.randint(0, 50, (200, 12), generator=torch.Generator().manual_seed(1))
    config = SeqGANConfig(batch_size=16, n_rollouts=2, d_pretrain_rounds=1, d_steps=1, d_epochs=2, d_samples=100,
                          d_batch_size=16, cuda_graphs=cuda_graphs)
    torch.manual_seed(0)
    trainer = SeqGANTrainer(_generator(), LSTMDiscriminator(50, hidden_dim=16).to(CUDA), real, seq_len=12,
                            config=config, progress=False)
    trainer.pretrain_discriminator()
    trainer.run(until=2)
    assert trainer.history["d_accuracy"].between(0, 1).all()


def test_oracle_and_mle_on_cuda():
    oracle = OracleLSTM.random(vocab_size=50, embed_dim=8, hidden_dim=8, seq_len=12, seed=0).to(CUDA)
    profile = get_profile("ci", oracle={"samples": 256, "embed_dim": 8, "hidden_dim": 8,
                                        "trainer": {"epochs": 2, "eval_every": 1}})
    model, history = oracle_mle(oracle, profile, checkpoint=None, progress=False)
    assert model.device.type == "cuda" and history["nll_oracle"].notna().all()


def test_mle_on_cuda_runs_sync_free_and_matches_the_plain_loop():
    from textgan_lib.train.mle import MLEConfig, MLETrainer
    from textgan_lib.train.sync_free import SyncFreeMLETrainer, mle_trainer

    data = torch.randint(0, 50, (96, 12), device=CUDA)
    trained = []
    for make in (mle_trainer, MLETrainer):  # mle_trainer: the CUDA default, the sync-free epoch
        model = _generator()
        trainer = make(model, data, config=MLEConfig(epochs=2, batch_size=16), progress=False)
        trainer.run()
        trained.append((trainer, model))
    (fast, fast_model), (plain, plain_model) = trained
    assert isinstance(fast, SyncFreeMLETrainer) and not isinstance(plain, SyncFreeMLETrainer)
    for a, b in zip(fast_model.parameters(), plain_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _syncs_in_an_epoch(n_sequences: int, **trainer_options) -> int:
    """How often one MLE epoch over ``n_sequences`` (batches of 16) waits for the GPU."""
    import warnings

    from textgan_lib.train.mle import MLEConfig
    from textgan_lib.train.sync_free import SyncFreeMLETrainer

    data = torch.randint(0, 50, (n_sequences, 12), device=CUDA)
    trainer = SyncFreeMLETrainer(_generator(), data, config=MLEConfig(batch_size=16), progress=False,
                                 **trainer_options)
    trainer.train_epoch()  # allocations and lazy initialisation out of the way
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            trainer.train_epoch()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


@pytest.mark.parametrize("cuda_graph", [False, True])
def test_a_sync_free_mle_epoch_waits_for_the_gpu_a_fixed_number_of_times(cuda_graph):
    syncs = [_syncs_in_an_epoch(n, cuda_graph=cuda_graph) for n in (96, 384)]  # 6 and 24 steps
    # the property: the count does not grow with the steps (the epoch's index copy and final reads;
    # an H200 measured 5 for the eager epoch), and it is below the short epoch's 6 steps
    assert syncs[0] == syncs[1] < 6


def test_mle_steps_replayed_as_a_cuda_graph_train_like_eager_ones():
    from textgan_lib.train.mle import MLEConfig
    from textgan_lib.train.sync_free import SyncFreeMLETrainer

    data = torch.randint(0, 50, (200, 12), device=CUDA)  # batches of 16 and a last one of 8
    trained = []
    for cuda_graph in (False, True):
        torch.manual_seed(0)
        model = _generator()
        trainer = SyncFreeMLETrainer(model, data, config=MLEConfig(epochs=5, batch_size=16), progress=False,
                                     cuda_graph=cuda_graph)
        trainer.run()  # the last batch's shape is recorded in epoch 4 and replayed in epoch 5
        trained.append(trainer)
    eager, graphed = trained
    assert graphed._graphed_step._graphs  # it did record
    torch.testing.assert_close(torch.tensor(graphed.history["train_nll"].to_numpy()),
                               torch.tensor(eager.history["train_nll"].to_numpy()), rtol=1e-5, atol=0)
    for a, b in zip(eager.model.parameters(), graphed.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        graphed.model.output.bias[5] = float("nan")  # every step's loss becomes NaN from now on
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 6, update 66 \(batch 0\)"):
        graphed.train_epoch()


def test_sync_free_sampling_on_cuda_is_reproducible_and_exact_when_deterministic():
    model = _generator()
    draws = [model.sample(700, 12, rng=torch.Generator(device=CUDA).manual_seed(1)) for _ in range(2)]
    assert draws[0].device.type == "cuda" and torch.equal(*draws)  # the CUDA default, seeded
    greedy = [model.sample(700, 12, temperature=0, sync_free=mode) for mode in (True, False)]
    assert torch.equal(*greedy)  # no randomness: the two ways must agree exactly
    with torch.no_grad():
        model.output.bias[3] = float("nan")
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        model.sample(8, 6)


def test_the_fused_windows_default_on_cuda_equals_the_per_width_network():
    torch.manual_seed(0)
    disc = CNNDiscriminator(300).to(CUDA).eval()  # the SeqGAN paper's windows 1..20
    ids = torch.randint(0, 300, (16, 20), device=CUDA)
    fused = disc(ids)  # the CUDA default
    disc.fused_windows = False
    torch.testing.assert_close(fused, disc(ids), rtol=1e-4, atol=1e-4)  # TF32 may be on: looser
