"""The library's architecture, checked: imports run one way, and nothing in it changes torch's
global random stream."""

import ast
from pathlib import Path

import pytest
import torch

import textgan_lib
from textgan_lib import Vocabulary, encode_batch
from textgan_lib.models.autoencoder import LSTMAutoencoder, encode_all
from textgan_lib.models.discriminators import CNNDiscriminator
from textgan_lib.models.generator import LSTMGenerator
from textgan_lib.train.arae import ARAEConfig, ARAETrainer
from textgan_lib.train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer
from textgan_lib.train.latent_gan import LatentGANConfig, LatentGANTrainer
from textgan_lib.train.mle import MLEConfig, MLETrainer
from textgan_lib.train.seqgan import SeqGANConfig, SeqGANTrainer

PACKAGE = Path(textgan_lib.__file__).parent
# a module may import from its own layer and the layers before it, never from a later one
LAYERS = {"_version": 0, "_checks": 0, "_seeds": 0, "paper": 0, "data": 1, "models": 2, "eval": 3, "train": 4,
          "toys": 4, "recipes": 5, "book": 6, "cli": 6, "__init__": 7, "__main__": 7}


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def _imports(path: Path, root: Path = PACKAGE) -> list[str]:
    """The textgan_lib modules that ``path`` (a module of the package at ``root``) imports, as
    dotted names inside the package."""
    here = path.relative_to(root).with_suffix("").parts
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(here[: len(here) - node.level])
            target = base + (node.module.split(".") if node.module else [])
            found += [".".join(target)] if node.module else [".".join(base + [a.name]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textgan_lib."):
            found.append(node.module.removeprefix("textgan_lib."))
    return found


def backward_imports(root: Path) -> list[str]:
    """Every import in the package at ``root`` that goes from a layer to a later one."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        if name.endswith("__init__") and name != "__init__":
            name = name.rsplit(".", 1)[0]
        for target in _imports(path, root):
            if target and _layer(target) > _layer(name):
                wrong.append(f"{name} imports {target}")
    return wrong


def test_imports_run_one_way():
    assert len(list(PACKAGE.rglob("*.py"))) > 30
    wrong = backward_imports(PACKAGE)
    assert not wrong, "imports against the layers: " + "; ".join(wrong)


def test_the_layer_check_sees_a_backward_import(tmp_path):
    for layer in ("models", "train"):
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    (tmp_path / "train" / "mle.py").write_text("from ..models.generator import LSTMGenerator\n")  # forward: fine
    (tmp_path / "models" / "generator.py").write_text(
        "from ..train.mle import MLETrainer\n"
        "from textgan_lib.recipes.runs import run_path\n"
        "from . import sampling\n")
    assert backward_imports(tmp_path) == ["models.generator imports train.mle",
                                          "models.generator imports recipes.runs"]


MAX_MODULE_LINES = 400  # issue 35: a module over this does more than one job


def long_modules(root: Path) -> list[str]:
    """The modules of the package at ``root`` longer than :data:`MAX_MODULE_LINES` lines."""
    return [f"{path.relative_to(root)} ({n} lines)" for path in sorted(root.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]


def test_no_module_is_over_400_lines(tmp_path):
    assert not long_modules(PACKAGE), "split these: " + "; ".join(long_modules(PACKAGE))
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert long_modules(tmp_path) == ["long.py (401 lines)"]


@pytest.fixture
def tiny():
    texts = [["a", "b", "c"], ["b", "c", "a", "a"], ["c", "a"]] * 30
    vocab = Vocabulary.build(texts)
    return vocab, encode_batch(texts, vocab, 6).tokens


def _networks(vocab):
    def cnn():
        return CNNDiscriminator(len(vocab), embed_dim=4, windows=(1, 2), filters=(2, 2))

    return (LSTMGenerator.for_vocabulary(vocab, embed_dim=8, hidden_dim=8, dropout=0.3),
            LSTMAutoencoder.for_vocabulary(vocab, embed_dim=8, code_dim=8), cnn(), cnn())


def _every_trainer(networks, tokens, tmp_path):
    gen, ae, d1, d2 = networks
    yield MLETrainer(gen, tokens, tokens, MLEConfig(epochs=1, batch_size=16), checkpoint_path=tmp_path / "m.pt",
                     progress=False)
    yield MLETrainer(ae, tokens, config=MLEConfig(epochs=1, batch_size=16), progress=False)
    yield SeqGANTrainer(gen, d1, tokens, 6, SeqGANConfig(batch_size=4, n_rollouts=1, d_pretrain_rounds=1, d_samples=8,
                                                         d_steps=1, d_epochs=1, eval_every=1),
                        checkpoint_path=tmp_path / "s.pt", progress=False)
    yield GumbelGANTrainer(gen, d2, tokens, 6, GumbelGANConfig(batch_size=8, d_steps=1, eval_every=1,
                                                               monitor_samples=8, relaxation="until_eos"),
                           checkpoint_path=tmp_path / "g.pt", progress=False)
    yield LatentGANTrainer(ae, encode_all(ae, tokens), LatentGANConfig(noise_dim=4, hidden_dim=8, batch_size=8,
                                                                         critic_steps=1, eval_every=1),
                           checkpoint_path=tmp_path / "l.pt", progress=False)
    yield ARAETrainer(ae, tokens, ARAEConfig(noise_dim=4, hidden_dim=8, batch_size=8, critic_steps=1, eval_every=1),
                      checkpoint_path=tmp_path / "a.pt", progress=False)


def test_no_trainer_changes_the_global_random_stream(tiny, tmp_path):
    vocab, tokens = tiny
    networks = _networks(vocab)  # the caller's own draws
    torch.manual_seed(123)
    expected = torch.rand(3)  # what the caller's stream gives next
    torch.manual_seed(123)
    for trainer in _every_trainer(networks, tokens, tmp_path):  # build, train, save, resume
        if isinstance(trainer, SeqGANTrainer):
            trainer.pretrain_discriminator()
        trainer.run(more=1)
        trainer.save(tmp_path / "again.pt")
        trainer.load(tmp_path / "again.pt")
    assert torch.equal(torch.rand(3), expected)


def test_a_trainer_repeats_its_run_whatever_the_caller_did_with_the_global_stream(tiny):
    vocab, tokens = tiny
    start = LSTMGenerator.for_vocabulary(vocab, embed_dim=8, hidden_dim=8, dropout=0.5).state_dict()
    histories = []
    for caller_seed in (0, 1):
        gen = LSTMGenerator.for_vocabulary(vocab, embed_dim=8, hidden_dim=8, dropout=0.5)
        gen.load_state_dict(start)
        trainer = MLETrainer(gen, tokens, config=MLEConfig(epochs=2, batch_size=16), progress=False)
        torch.manual_seed(caller_seed)  # dropout draws from the trainer's own stream, not this one
        histories.append(trainer.run()["train_nll"].tolist())
    assert histories[0] == histories[1]


def test_the_chapter_toys_leave_the_global_random_stream_alone():
    from textgan_lib.toys.memory_task import train_memory_task
    from textgan_lib.toys.toy_gan import train_toy_gan

    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    train_memory_task("lstm", 3, 4, eval_every=2)
    train_toy_gan("nonsaturating", 4, eval_every=2, n_eval=50)
    assert torch.equal(torch.rand(3), expected)


def test_random_streams_are_named_never_seed_plus_an_offset():
    """Issue 35: a stream is asked for by name (textgan_lib._seeds), so two never share one by accident."""
    import re

    offsets = [f"{path.relative_to(PACKAGE)}:{n}" for path in sorted(PACKAGE.rglob("*.py")) if path.name != "_seeds.py"
               for n, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"seed\s*\+\s*\d", line)]
    assert offsets == []


def test_a_named_stream_is_reproducible_and_seeded_leaves_the_global_stream_alone():
    from textgan_lib._seeds import seeded, stream, stream_seed

    before = torch.get_rng_state()
    with seeded(3):
        weights = torch.rand(2)
    assert torch.equal(torch.get_rng_state(), before)
    with seeded(3):
        assert torch.equal(torch.rand(2), weights)
    assert torch.equal(torch.rand(3, generator=stream(7, "test_samples")),
                       torch.rand(3, generator=torch.Generator().manual_seed(stream_seed(7, "test_samples"))))
    with pytest.raises(KeyError, match="no random stream named 'tset_samples'"):
        stream(7, "tset_samples")
