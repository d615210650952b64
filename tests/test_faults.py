"""The project's own faults, tested: nothing a user saved is lost, every bad input is named.

- NaN injected into a loss, a generator gradient and a discriminator gradient of every trainer:
  the error names the step, the checkpoint on disk is byte-for-byte the one before, and the live
  weights did not take the step;
- SIGKILL at random moments of checkpoint and results writes (``slow``): every file on disk is
  whole, and the resumed run ends with exactly the weights of an uninterrupted one;
- every flag of the ``textgan`` command with bad values: exit code 2 and a message naming the flag,
  before any work.
"""

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from textgan_lib.cli import main
from textgan_lib.data import files
from textgan_lib.data.vocab import Vocabulary
from textgan_lib.eval.bleu import BLEU, self_bleu
from textgan_lib.models.autoencoder import AutoencoderConfig, LSTMAutoencoder, encode_all
from textgan_lib.models.checkpoint import (
    CheckpointMismatchError,
    NonFiniteLossError,
    read_checkpoint,
    save_checkpoint,
)
from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.runs import run_lock, write_text_atomic
from textgan_lib.train.arae import ARAEConfig, ARAETrainer
from textgan_lib.train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer
from textgan_lib.train.latent_gan import CodeGANTrainer, LatentGANConfig, LatentGANTrainer
from textgan_lib.train.mle import MLEConfig, MLETrainer
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer
from textgan_lib.train.sync_free import SyncFreeMLETrainer

V, T = 12, 6
REAL = torch.randint(1, V, (64, T), generator=torch.Generator().manual_seed(0))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _generator(seed=0) -> LSTMGenerator:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return LSTMGenerator(GeneratorConfig(V, 8, 16, start_id=0, pad_id=None, eos_id=None))


def _cnn(seed=0) -> CNNDiscriminator:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return CNNDiscriminator(V, embed_dim=4, windows=(1, 2), filters=(3, 3))


def _poison_next_gradient(module: torch.nn.Module) -> None:
    """The next backward pass through ``module``'s first parameter leaves NaN in its gradient."""
    parameter = next(module.parameters())
    handle = None

    def nan_gradient(grad):
        handle.remove()
        return grad * float("nan")

    handle = parameter.register_hook(nan_gradient)


def _weights(*modules) -> list[torch.Tensor]:
    return [p.detach().clone() for m in modules for p in m.parameters()]


def _unchanged(before, *modules) -> bool:
    return all(torch.equal(a, b) for a, b in zip(before, _weights(*modules)))


# -- data loss 1: a NaN gradient without clipping never reaches the weights or the checkpoint ------

@pytest.mark.parametrize("trainer_class", [MLETrainer, SyncFreeMLETrainer])
@pytest.mark.parametrize("clip_norm", [None, 5.0])
def test_a_nan_gradient_leaves_weights_and_checkpoint_as_they_were(tmp_path, trainer_class, clip_norm):
    path = tmp_path / "mle.pt"
    trainer = trainer_class(_generator(), REAL, config=MLEConfig(epochs=2, batch_size=16, clip_norm=clip_norm),
                            checkpoint_path=path, progress=False)
    trainer.run(until=1)
    saved = _digest(path)
    token_nll, calls = trainer.model.token_nll, []

    def poisoned_on_the_last_batch(batch, **kwargs):  # the step right before the epoch's save
        calls.append(1)
        if len(calls) == 4:
            _poison_next_gradient(trainer.model)
        return token_nll(batch, **kwargs)

    trainer.model.token_nll = poisoned_on_the_last_batch
    with pytest.raises(NonFiniteLossError, match=r"gradient norm became nan at epoch 2, update 8 \(batch 3\)"):
        trainer.run()
    assert _digest(path) == saved  # the epoch-1 checkpoint, not NaN weights
    assert torch.isfinite(torch.cat([p.flatten() for p in trainer.model.parameters()])).all()


def test_non_finite_weights_are_never_saved(tmp_path):
    path = tmp_path / "mle.pt"
    trainer = MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16), checkpoint_path=path,
                         progress=False)
    trainer.run()
    saved = _digest(path)
    with torch.no_grad():
        trainer.model.output.bias[3] = float("inf")
    with pytest.raises(NonFiniteLossError, match="not saving .* output.bias holds NaN or infinite"):
        trainer.save(path)
    assert _digest(path) == saved


# -- data loss 2: SeqGAN never saves a discriminator that a NaN gradient reached ----------------------

def _seqgan(path):
    config = SeqGANConfig(batch_size=8, n_rollouts=1, d_pretrain_rounds=1, d_steps=1, d_epochs=1, d_samples=16,
                          d_batch_size=16, eval_every=1)
    return SeqGANTrainer(_generator(), _cnn(), REAL, T, config, checkpoint_path=path, progress=False)


def test_a_nan_discriminator_gradient_on_the_last_step_of_a_set_is_undone(tmp_path):
    path = tmp_path / "seqgan.pt"
    trainer = _seqgan(path)
    trainer.pretrain_discriminator()
    saved, before = _digest(path), _weights(trainer.discriminator)
    real_step = trainer.discriminator_update

    def nan_on_last_step(inputs, labels):  # 32 sequences in batches of 16: the second step is the last
        if nan_on_last_step.calls == 1:
            _poison_next_gradient(trainer.discriminator)
        nan_on_last_step.calls += 1
        return real_step(inputs, labels)

    nan_on_last_step.calls = 0
    trainer._d_step = nan_on_last_step
    with pytest.raises(NonFiniteLossError, match=r"discriminator's weights .* at round 1, discriminator round 1"):
        trainer.train_discriminator(1)
    assert nan_on_last_step.calls == 2
    assert _unchanged(before, trainer.discriminator)
    assert _digest(path) == saved
    trainer.save_if_set()  # the restored discriminator is whole and can be saved
    assert read_checkpoint(path)["kind"] == "seqgan"


# -- every trainer: NaN in a loss or a gradient names the step and keeps the checkpoint ------------

def _gumbel(path):
    config = GumbelGANConfig(batch_size=8, d_steps=1, eval_every=1, monitor_samples=8, max_beta=5.0, beta_horizon=4)
    return GumbelGANTrainer(_generator(), _cnn(), REAL, T, config, checkpoint_path=path, progress=False)


def _latent(path):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        autoencoder = LSTMAutoencoder(AutoencoderConfig(V, embed_dim=8, code_dim=8))
    config = LatentGANConfig(noise_dim=4, hidden_dim=8, batch_size=8, critic_steps=1, eval_every=1)
    return LatentGANTrainer(autoencoder, encode_all(autoencoder, REAL), config, checkpoint_path=path, progress=False)


def _arae(path):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        autoencoder = LSTMAutoencoder(AutoencoderConfig(V, embed_dim=8, code_dim=8))
    config = ARAEConfig(noise_dim=4, hidden_dim=8, batch_size=8, critic_steps=1, eval_every=1)
    return ARAETrainer(autoencoder, REAL, config, checkpoint_path=path, progress=False)


CASES = {  # the trainer, the player whose next update gets a NaN gradient, what the error says
    "seqgan generator": (_seqgan, "generator", "policy-gradient loss's gradient norm became nan at round 2"),
    "gumbel generator": (_gumbel, "generator", "generator loss's gradient norm became nan at iteration 2"),
    "gumbel discriminator": (_gumbel, "discriminator", "discriminator loss's gradient norm became nan at iteration 2"),
    "latent generator": (_latent, "generator", "generator loss's gradient norm became nan at iteration 2"),
    "latent critic": (_latent, "critic", "critic loss's gradient norm became nan at iteration 2"),
    "arae autoencoder": (_arae, "autoencoder", "reconstruction loss's gradient norm became nan at iteration 2"),
    "arae critic": (_arae, "critic", "critic loss's gradient norm became nan at iteration 2"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_nan_gradient_in_any_gan_names_the_step_and_keeps_the_checkpoint(tmp_path, case):
    make, poisoned, message = CASES[case]
    path = tmp_path / "run.pt"
    trainer = make(path)
    if isinstance(trainer, SeqGANTrainer):
        trainer.pretrain_discriminator()
    trainer.run(until=1)
    player = trainer.modules[poisoned]
    saved, before = _digest(path), _weights(player)
    step = getattr(trainer, f"{poisoned}_step")  # poisoned in its own update, not in the other player's

    def poisoned_step(*args):
        _poison_next_gradient(player)
        return step(*args)

    setattr(trainer, f"{poisoned}_step", poisoned_step)
    with pytest.raises(NonFiniteLossError, match=message):
        trainer.run(until=2)
    assert _digest(path) == saved and _unchanged(before, player)


@pytest.mark.parametrize("make", [_seqgan, _gumbel, _latent, _arae])
def test_a_nan_loss_in_any_gan_names_the_step_and_keeps_the_checkpoint(tmp_path, make):
    path = tmp_path / "run.pt"
    trainer = make(path)
    if isinstance(trainer, SeqGANTrainer):
        trainer.pretrain_discriminator()
    trainer.run(until=1)
    saved = _digest(path)
    poisoned = trainer.modules["critic" if isinstance(trainer, CodeGANTrainer) else "discriminator"]
    forward = poisoned.forward
    poisoned.forward = lambda *args: forward(*args) * float("nan")
    with pytest.raises(NonFiniteLossError, match=f"became nan at {trainer.unit} 2"):
        trainer.run(until=2)
    assert _digest(path) == saved


# -- files that are not checkpoints -----------------------------------------------------------------

def test_broken_checkpoints_get_a_clear_error_that_never_advises_unsafe_loading(tmp_path):
    good = tmp_path / "good.pt"
    MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16), progress=False).save(good)
    data = good.read_bytes()
    for name, content in {"empty.pt": b"", "half.pt": data[: len(data) // 2],
                          "noise.pt": random.Random(0).randbytes(4096)}.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointMismatchError) as caught:
            LSTMGenerator.from_checkpoint(path)
        message = str(caught.value)
        assert "could not be read as a checkpoint" in message and "weights_only" not in message
        assert path.read_bytes() == content  # never deleted or rewritten
    payload = torch.load(good, weights_only=True)
    torch.save({**payload, "kind": "seqgan"}, tmp_path / "edited.pt")  # edited, its hash kept: damaged
    with pytest.raises(CheckpointMismatchError, match="is damaged"):
        LSTMGenerator.from_checkpoint(tmp_path / "edited.pt")
    del payload["content_sha256"]  # the edits below as files without a hash (written before it existed)
    for name, edit in {"kind": lambda p: p.pop("kind"),
                       "field": lambda p: p["generator"]["config"].update(colour="blue"),
                       "vocab": lambda p: p["generator"].update(vocab_tokens=["a"])}.items():
        edited = {**payload, "generator": {**payload["generator"], "config": dict(payload["generator"]["config"])}}
        edit(edited)
        torch.save(edited, tmp_path / f"{name}.pt")
        with pytest.raises(CheckpointMismatchError, match={"kind": "without kind", "field": "colour",
                                                           "vocab": "vocabulary of 5 tokens"}[name]):
            LSTMGenerator.from_checkpoint(tmp_path / f"{name}.pt")


def test_a_resume_into_another_config_names_the_fields_unless_asked(tmp_path):
    path = tmp_path / "mle.pt"
    MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16, lr=1e-2), checkpoint_path=path,
               progress=False).run()
    other = MLETrainer(_generator(), REAL, config=MLEConfig(epochs=3, batch_size=16, lr=1e-3), progress=False)
    with pytest.raises(CheckpointMismatchError, match="lr: 0.01 saved, 0.001 here"):
        other.load(path)
    assert other.step == 0  # refused before any change
    other.load(path, config_changes_ok=True)
    assert other.step == 1 and other.optimizers["model"].param_groups[0]["lr"] == 1e-3  # the live config applies


def test_gan_inputs_are_checked_before_training():
    config = SeqGANConfig(d_samples=8, batch_size=4)
    with pytest.raises(TypeError, match="tensor of token ids"):
        SeqGANTrainer(_generator(), _cnn(), REAL.tolist(), T, config)
    with pytest.raises(ValueError, match="vocabulary of 13 tokens but the generator writes 12"):
        SeqGANTrainer(_generator(), CNNDiscriminator(V + 1, embed_dim=4, windows=(1, 2), filters=(3, 3)), REAL, T,
                      config)
    with pytest.raises(ValueError, match="shorter than the discriminator's widest window"):
        GumbelGANTrainer(_generator(), CNNDiscriminator(V, embed_dim=4, windows=(1, 8), filters=(3, 3)), REAL, T,
                         GumbelGANConfig(batch_size=8))
    with pytest.raises(TypeError, match="SeqGANTrainer takes a SeqGANConfig, not a GumbelGANConfig"):
        SeqGANTrainer(_generator(), _cnn(), REAL, T, GumbelGANConfig(batch_size=8))


def test_a_stale_temporary_file_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "mle.pt"
    stale = tmp_path / ".mle.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16), checkpoint_path=path,
               progress=False).run()
    assert not stale.exists() and read_checkpoint(path)["kind"] == "mle"


# -- the command line: every flag's bad values --------------------------------------------------------

BAD_FLAGS = [  # (command, flag, bad value, words the message must hold)
    *[("oracle-mle", flag, value, words) for flag, value, words in [
        ("--epochs", "-1", "positive"), ("--epochs", "0", "positive"), ("--epochs", "two", "integer"),
        ("--eval-every", "0", "positive"), ("--n-samples", "-3", "positive"), ("--n-samples", "0", "positive"),
        ("--lr", "nan", "finite"), ("--lr", "-1", "positive"), ("--batch-size", "0", "positive"),
        ("--init-std", "-0.1", ">= 0"), ("--seed", "-1", "from 0 to"), ("--device", "tpu", "unknown device"),
        ("--profile", "huge", "unknown profile")]],
    *[("seqgan-oracle", flag, value, words) for flag, value, words in [
        ("--eval-every", "0", "positive"), ("--rounds", "-1", "positive"), ("--rounds", "0", "positive"),
        ("--d-pretrain-rounds", "-1", ">= 0"),
        ("--d-steps", "0", "positive"), ("--d-epochs", "0", "positive"), ("--d-samples", "0", "positive"),
        ("--rollouts", "0", "positive"), ("--rollout-update-rate", "1", "[0, 1)"),
        ("--rollout-update-rate", "inf", "finite"), ("--mle-epochs", "0", "positive"),
        ("--n-samples", "0", "positive"), ("--time-limit", "-5", "positive"), ("--pg-reduction", "max", "invalid"),
        ("--reward-dtype", "int8", "invalid")]],
    ("gumbel-oracle", "--max-beta", "nan", "finite"), ("gumbel-oracle", "--max-beta", "0.5", ">= 1"),
    ("gumbel-oracle", "--profile", "huge", "unknown profile"),
    ("real-text", "--seed", "-2", "from 0 to"), ("real-text", "--corpus", "wiki", "invalid choice"),
    ("real-text", "--method", "vae", "invalid choice"),
]
if not torch.cuda.is_available():
    BAD_FLAGS.append(("real-text", "--device", "cuda", "no CUDA GPU"))


def _required(command, tmp_path):
    out = str(tmp_path / ("out.csv" if command in ("oracle-mle", "seqgan-oracle") else "out"))
    extra = ["--corpus", "coco", "--method", "mle"] if command == "real-text" else []
    return ["--out", out, *extra]


@pytest.mark.parametrize(("command", "flag", "value", "words"), BAD_FLAGS)
def test_every_bad_flag_value_stops_with_exit_code_2_naming_the_flag(tmp_path, capsys, command, flag, value, words):
    args = _required(command, tmp_path)
    if flag in args:  # replace the required flag's good value
        i = args.index(flag)
        del args[i: i + 2]
    with pytest.raises(SystemExit) as stopped:
        main([command, *args, flag, value])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert f"argument {flag}" in message and words in message, message


@pytest.mark.parametrize("command", ["oracle-mle", "seqgan-oracle"])
def test_an_output_that_cannot_be_written_stops_before_any_work(tmp_path, capsys, command):
    folder = tmp_path / "d"
    folder.mkdir()
    with pytest.raises(SystemExit) as stopped:
        main([command, "--out", str(folder), "--mle-epochs" if command == "seqgan-oracle" else "--epochs", "1"])
    assert stopped.value.code == 2 and "is a folder" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit):
        main([command, "--out", str(blocker / "out.csv")])
    assert "cannot make the folder" in capsys.readouterr().err
    assert blocker.read_text() == "x"


# -- SIGKILL during writes ---------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    import torch
    from textgan_lib.models.checkpoint import read_checkpoint
    from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
    from textgan_lib.recipes.runs import write_csv
    from textgan_lib.train.mle import MLEConfig, MLETrainer

    folder, epochs = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(0)
    model = LSTMGenerator(GeneratorConfig(40, 16, 64, start_id=0, pad_id=None, eos_id=None))
    data = torch.randint(0, 40, (256, 12), generator=torch.Generator().manual_seed(1))
    trainer = MLETrainer(model, data, config=MLEConfig(epochs=epochs, batch_size=64), progress=False,
                         checkpoint_path=f"{folder}/run.pt")
    try:
        trainer.load(f"{folder}/run.pt")
    except FileNotFoundError:
        pass
    print("ready", flush=True)
    while trainer.step < epochs:
        trainer.run(more=1)
        write_csv(trainer.history, f"{folder}/history.csv")
    torch.save([p.detach() for p in model.parameters()], f"{folder}/final.pt")
""")


@pytest.mark.slow  # a dozen Python processes started and killed (about 30 s)
def test_sigkill_during_writes_leaves_whole_files_and_an_exact_resume(tmp_path):
    epochs = 400
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    run_dir = tmp_path / "killed"
    run_dir.mkdir()
    chance = random.Random(0)
    steps_seen = []
    for _ in range(12):
        child = subprocess.Popen([sys.executable, str(script), str(run_dir), str(epochs)],  # noqa: S603
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        try:
            child.wait(timeout=chance.uniform(0.05, 0.6))
        except subprocess.TimeoutExpired:
            child.kill()  # SIGKILL: no handler, no cleanup
            child.wait()
        if not (run_dir / "run.pt").exists():  # killed before the first epoch ended
            continue
        step = read_checkpoint(run_dir / "run.pt")["position"]["step"]  # whole: the old file or the new one
        if (run_dir / "history.csv").exists():
            last = pd.read_csv(run_dir / "history.csv")["epoch"].iloc[-1]  # whole too
            assert step - last in (0, 1)  # 1: killed between the checkpoint and the results write
        steps_seen.append(step)
    assert steps_seen[-1] < epochs and len(set(steps_seen)) > 3  # the kills came at many moments
    subprocess.run([sys.executable, str(script), str(run_dir), str(epochs)], check=True,  # noqa: S603
                   capture_output=True)
    straight = tmp_path / "straight"
    straight.mkdir()
    subprocess.run([sys.executable, str(script), str(straight), str(epochs)], check=True,  # noqa: S603
                   capture_output=True)
    resumed, uninterrupted = torch.load(run_dir / "final.pt"), torch.load(straight / "final.pt")
    assert all(torch.equal(a, b) for a, b in zip(resumed, uninterrupted))  # bit-identical
    assert not list(run_dir.glob(".*.tmp"))  # no temporary file outlived the next write


@pytest.mark.parametrize("temperature", [float("nan"), float("inf"), -0.5])
def test_a_temperature_that_is_not_a_number_is_refused_by_sampling_and_scoring(temperature):
    model = _generator()
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0"):
        model.sample(2, T, temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0"):
        model.token_nll(REAL[:2], temperature=temperature)


def test_configs_name_the_field_that_is_out_of_range():
    for make, field in [(lambda: MLEConfig(clip_norm=-1), "clip_norm"), (lambda: MLEConfig(clip_norm=0), "clip_norm"),
                        (lambda: MLEConfig(batch_size=0), "batch_size"), (lambda: MLEConfig(epochs=-1), "epochs"),
                        (lambda: SeqGANConfig(eval_every=0), "eval_every"),
                        (lambda: SeqGANConfig(d_samples=0), "d_samples"),
                        (lambda: SeqGANConfig(d_batch_size=0), "d_batch_size"),
                        (lambda: GumbelGANConfig(max_beta=float("nan")), "max_beta"),
                        (lambda: GumbelGANConfig(beta_horizon=0), "beta_horizon"),
                        (lambda: GumbelGANConfig(d_steps=0), "d_steps"),
                        (lambda: LatentGANConfig(critic_steps=0), "critic_steps"),
                        (lambda: GeneratorConfig(10, dropout=1.0), "dropout")]:
        with pytest.raises(ValueError, match=field):
            make()


def test_an_atomic_write_keeps_the_files_mode_and_a_new_file_gets_the_umasks(tmp_path):
    shared = tmp_path / "shared.json"
    shared.write_text("{}")
    shared.chmod(0o644)
    write_text_atomic(shared, '{"a": 1}')
    assert shared.stat().st_mode & 0o777 == 0o644 and shared.read_text() == '{"a": 1}'
    old = os.umask(0o027)
    try:
        fresh = write_text_atomic(tmp_path / "fresh.json", "{}")
    finally:
        os.umask(old)
    assert fresh.stat().st_mode & 0o777 == 0o640  # 0666 less the umask, not a temporary file's 0600


def test_a_write_removes_what_a_killed_writer_left_and_not_what_a_live_one_is_writing(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)  # noqa: S603
    dead_pid = int(gone.stdout)
    host = files._HOST
    left = {"killed": tmp_path / f".run.json.w{dead_pid}@{host}.x1.tmp",
            "older library": tmp_path / ".run.json.abc123.tmp",
            "this process": tmp_path / f".run.json.w{os.getpid()}@{host}.x2.tmp",
            "another machine": tmp_path / f".run.json.w{dead_pid}@elsewhere.x3.tmp"}
    for path in left.values():
        path.write_text("half a file")
    write_text_atomic(tmp_path / "run.json", "{}")
    assert {name for name, path in left.items() if path.exists()} == {"this process", "another machine"}
    day_old = time.time() - 2 * 24 * 3600
    os.utime(left["another machine"], (day_old, day_old))
    write_text_atomic(tmp_path / "run.json", "{}")
    assert not left["another machine"].exists() and left["this process"].exists()


def test_a_flipped_byte_in_a_checkpoint_is_refused_by_name(tmp_path):
    path = tmp_path / "mle.pt"
    model = _generator()
    MLETrainer(model, REAL, config=MLEConfig(epochs=1, batch_size=16), checkpoint_path=path, progress=False).run()
    assert read_checkpoint(path)["kind"] == "mle"  # whole: read and checked
    raw = bytearray(path.read_bytes())
    weights = model.state_dict()["embedding.weight"].numpy().tobytes()
    at = raw.find(weights[:32])
    assert at > 0, "the embedding's bytes are stored as they are"
    raw[at + 5] ^= 0x10  # one bit of one weight, as a bad disk or copy changes it
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointMismatchError, match=r"mle\.pt is damaged"):
        read_checkpoint(path)


def test_an_atomic_write_goes_through_a_link_and_never_replaces_a_special_file(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    write_text_atomic(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"  # the link kept, its target written
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="not a regular file"):
        write_text_atomic(fifo, "x")
    assert fifo.is_fifo()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write_text_atomic(tmp_path, "x")


@pytest.mark.parametrize("command, out, message", [
    ("seqgan-oracle", "newdir/", "is a folder"), ("seqgan-oracle", "pipe", "not a regular file"),
    # an unset shell variable: Path("") is the working folder (found by benchmarks/fault_classes.py)
    ("seqgan-oracle", "", "is empty (an unset variable?)"), ("gumbel-oracle", " ", "is empty (an unset variable?)"),
])
def test_the_cli_refuses_an_out_that_is_not_a_file(tmp_path, monkeypatch, capsys, command, out, message):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SystemExit) as stopped:
        main([command, "--out", out, "--profile", "ci", "--rounds" if command == "seqgan-oracle" else "--seed", "1"])
    assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "newdir").exists() and (tmp_path / "pipe").is_fifo()


def test_a_run_held_by_another_process_is_waited_for_with_a_message(tmp_path, capfd):
    """Two processes on one run train it once: the second waits for the first's lock (issue 36)."""
    run = tmp_path / "coco_lm_cpu_seed0.pt"
    holder = subprocess.Popen(  # noqa: S603 -- this interpreter, a fixed script
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from textgan_lib.recipes.runs import run_lock
            with run_lock({str(run)!r}):
                print("held", flush=True)
                time.sleep(2)
        """)], stdout=subprocess.PIPE, text=True)  # it inherits this test's TEXTGAN_CACHE
    assert holder.stdout.readline().strip() == "held"
    started = time.perf_counter()
    with run_lock(run), run_lock(run):  # asking again inside one's own lock passes
        waited = time.perf_counter() - started
    holder.wait(timeout=30)
    assert waited > 1.0  # it waited for the holder to end
    assert f"waiting for another process that is working on {run}" in capfd.readouterr().err
    started = time.perf_counter()
    with run_lock(run):  # the holder ended: free at once, though its lock file stays
        assert time.perf_counter() - started < 1.0


WRONG_TYPES = [  # (build, the words of the error): each was accepted before issue 36, by truthiness or truncation
    (lambda: MLEConfig(padding_targets="no"), "MLEConfig.padding_targets must be True or False, got 'no'"),
    (lambda: SeqGANConfig(cuda_graphs="yes"), "SeqGANConfig.cuda_graphs must be True or False"),
    (lambda: GumbelGANConfig(straight_through="yes"), "GumbelGANConfig.straight_through must be True or False"),
    (lambda: MLEConfig(epochs=4.7), "MLEConfig.epochs must be an integer, got 4.7"),
    (lambda: GumbelGANConfig(adam_betas=(0.9,)), "adam_betas must hold 2 values"),
    (lambda: MLEConfig(lr=True), "MLEConfig.lr must be a number, got True"),
    (lambda: GeneratorConfig(V, eos_id=-5), "GeneratorConfig.eos_id=-5 is not an id of the vocabulary"),
    # found by benchmarks/fault_classes.py (2026-12-07): the autoencoder took ids outside its vocabulary,
    # and a negative vocabulary was named as a wrong start id
    (lambda: AutoencoderConfig(V, 8, 8, start_id=-1), "AutoencoderConfig.start_id=-1 is not an id of the vocabulary"),
    (lambda: GeneratorConfig(-1, 8, 8), "GeneratorConfig.vocab_size must be at least 2, got -1"),
    (lambda: get_profile("ci", oracle={"samples": -5}), "OracleSizes.samples must be a finite number >= 0"),
    (lambda: get_profile("ci", real_text={"select_on_validation": "yes"}), "select_on_validation must be True"),
]


@pytest.mark.parametrize(("build", "words"), WRONG_TYPES)
def test_a_config_value_of_the_wrong_type_is_refused_by_name(build, words):
    with pytest.raises(ValueError, match=re.escape(words)):  # a ValueError: the CLI exits 2 on it
        build()


def test_numpy_scalars_count_as_the_numbers_they_hold():
    config = MLEConfig(epochs=np.int64(3), lr=np.float32(0.5), padding_targets=np.bool_(True))
    assert (config.epochs, config.lr, config.padding_targets) == (3, 0.5, True)
    assert type(config.epochs) is int and type(config.lr) is float and type(config.padding_targets) is bool
    assert GumbelGANConfig(adam_betas=[0.5, 0.9]).adam_betas == (0.5, 0.9)


def test_strings_where_token_lists_belong_are_refused():
    vocab = Vocabulary(["a", "dog"])
    with pytest.raises(TypeError, match="got the string 'dog'"):
        vocab.encode("dog")
    with pytest.raises(TypeError, match="got the string 'abc'"):
        Vocabulary("abc")
    with pytest.raises(TypeError, match="BLEU scores tokenized sentences"):
        BLEU(["the cat sat"])
    with pytest.raises(TypeError, match="BLEU scores tokenized sentences"):
        BLEU([["the", "cat"]]).corpus_mean(["the cat"])
    with pytest.raises(TypeError, match="BLEU scores tokenized sentences"):
        self_bleu(["a b", "a c"])


def test_float_ids_are_refused_not_truncated(tmp_path):
    vocab = Vocabulary(["a", "b"])
    with pytest.raises(TypeError, match="token ids must be integers, got 4.7"):
        vocab.decode([4.7])
    with pytest.raises(TypeError, match="prefix must hold integer token ids"):
        _generator().sample(2, T, prefix=torch.tensor([4.7]))
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"format": "textgan-vocabulary-v1", "tokens": "abc"}))
    with pytest.raises(ValueError, match="damaged vocabulary"):
        Vocabulary.load(path)


def test_a_temperature_too_small_to_divide_by_is_refused():
    generator = _generator()
    with pytest.raises(ValueError, match="temperature=1e-40 is below 1e-06"):
        generator.token_nll(REAL[:2], temperature=1e-40)
    with pytest.raises(ValueError, match="temperature=1e-40 is below 1e-06"):
        generator.sample(2, T, temperature=1e-40)


def test_a_gan_refuses_samples_narrower_than_the_real_texts():
    with pytest.raises(ValueError, match=f"the real sequences are {T} tokens wide but max_len=4"):
        GumbelGANTrainer(_generator(), _cnn(), REAL, 4, GumbelGANConfig(batch_size=8), progress=False)


def test_an_edited_position_or_history_and_an_infinite_optimizer_state_are_caught(tmp_path):
    path = tmp_path / "mle.pt"
    trainer = MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16), progress=False)
    trainer.run()
    trainer.save(path)
    payload = read_checkpoint(path)
    for edit, words in (({"position": {"step": -5}}, "not whole counts >= 0"),
                        ({"history": "abc"}, "history that is not a list of rows")):
        edited = tmp_path / "edited.pt"
        save_checkpoint(edited, payload["kind"], {k: v for k, v in payload.items()
                                                  if k not in ("format", "version", "kind")} | edit)
        fresh = MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16), progress=False)
        with pytest.raises(CheckpointMismatchError, match=words):
            fresh.load(edited)
        assert fresh.step == 0  # refused before any change
    state = trainer.optimizers["model"].state_dict()["state"]
    next(iter(state.values()))["exp_avg_sq"].fill_(float("inf"))
    with pytest.raises(NonFiniteLossError, match="optimizer's state"):
        trainer.save(tmp_path / "inf.pt")
    assert not (tmp_path / "inf.pt").exists()


def test_a_full_disk_is_named_and_the_previous_checkpoint_kept(tmp_path, monkeypatch):
    path = tmp_path / "mle.pt"
    trainer = MLETrainer(_generator(), REAL, config=MLEConfig(epochs=1, batch_size=16), progress=False)
    trainer.save(path)
    before = _digest(path)

    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 9472 vs 9366")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match="the disk is probably full"):
        trainer.save(path)
    assert _digest(path) == before


def test_a_cache_that_cannot_hold_checkpoints_stops_before_training(tmp_path, monkeypatch, capsys):
    not_a_folder = tmp_path / "cache_file"
    not_a_folder.write_text("")
    monkeypatch.setenv("TEXTGAN_CACHE", str(not_a_folder))
    assert main(["oracle-mle", "--profile", "ci", "--out", str(tmp_path / "o.csv"), "--quiet"]) == 2
    assert "cannot keep checkpoints" in capsys.readouterr().err and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(("argv", "words"), [
    (["oracle-mle", "--seed", "123456789012345678901"], "--seed: must be an integer from 0 to 2147483647"),
    (["study", "--corpus", "coco", "--seeds", "0-99999999999999999999"], "--seeds: expected one or more seeds"),
    (["study", "--corpus", "oracle", "--until-flat", "3"], "--until-flat selects on validation texts"),
])
def test_seeds_out_of_range_and_until_flat_on_the_oracle_exit_2(tmp_path, capsys, argv, words):
    with pytest.raises(SystemExit) as stopped:
        code = main([*argv, "--out", str(tmp_path / "out")])
        raise SystemExit(code)
    assert stopped.value.code == 2 and words in capsys.readouterr().err


@pytest.mark.parametrize(("call", "words"), [
    (lambda g, d: g.sample(-1, T), "n must be an integer >= 0, got -1"),
    (lambda g, d: g.sample(2.5, T), "n must be an integer >= 0, got 2.5"),
    (lambda g, d: g.sample(2, 0), "max_len must be an integer >= 1, got 0"),
    (lambda g, d: g.sample(2, T, rng=5), "rng must be a torch.Generator"),
    (lambda g, d: d(torch.tensor([[4, 99, 3]])), f"token ids must lie in [0, {V}), found 3..99"),
    (lambda g, d: d(torch.tensor([4, 5, 6])), "expected token ids [B, T] or one-hot-like [B, T, V], got shape (3,)"),
])
def test_wrong_shapes_and_ids_are_named_where_they_enter(call, words):
    """Issue 36: torch's own messages ("negative dimension", "index out of range in self") named no argument."""
    with pytest.raises((ValueError, TypeError), match=re.escape(words)):
        call(_generator(), _cnn())


def test_a_generator_that_rules_out_every_token_says_so():
    generator = _generator()
    with torch.no_grad():
        generator.output.bias.fill_(float("-inf"))
    with pytest.raises(FloatingPointError, match="-inf for every token"):
        generator.sample(2, T)


def _workers(pid: int) -> list[int]:
    """The multiprocessing workers whose parent is ``pid`` (Linux: /proc), not its resource tracker."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(stat[1]) == pid and b"spawn_main" in command:
            found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow  # a study with two workers, its parent killed (about 20 s)
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
def test_the_workers_of_a_killed_study_end_with_it(tmp_path):
    """Issue 36: killing only the parent of `study --jobs 2` left its workers idle until killed by hand."""
    parent = subprocess.Popen(  # noqa: S603 -- this interpreter, a fixed command
        [sys.executable, "-m", "textgan_lib.cli", "study", "--corpus", "coco", "--method", "gumbel", "--seeds", "0,1",
         "--jobs", "2", "--profile", "ci", "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(workers := _workers(parent.pid)) < 2 and time.time() < deadline:
        time.sleep(0.2)
    assert len(workers) == 2, "the study did not start its two workers"
    parent.kill()
    parent.wait()
    deadline = time.time() + 15
    while any(map(_running, workers)) and time.time() < deadline:
        time.sleep(0.2)
    alive = [w for w in workers if _running(w)]
    for w in alive:  # leave nothing behind, whatever the result
        os.kill(w, 9)
    assert alive == []
