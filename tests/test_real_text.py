"""`textgan real-text`: every corpus and method at the ci profile, scores that NLTK reproduces."""

import json

import pandas as pd
import pytest
import torch
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from textgan_lib.cli import main
from textgan_lib.data.corpora import quatrain_form
from textgan_lib.data.files import load_poems
from textgan_lib.recipes.gan_run import gan_of
from textgan_lib.recipes.language import autoencoder_model, language_model, text_splits
from textgan_lib.recipes.profiles import get_profile, override
from textgan_lib.recipes.real_text import adversarial_part, real_text, starting_generator

# a ci-size language model has not learned <pad> after <eos>: its Gumbel GAN's warning is expected here
PADDING_NOT_LEARNED = pytest.mark.filterwarnings("ignore:the generator gives <pad> after <eos>")

SMALL = {"data": {"n_sentences": 120}, "real_text": {"samples": 20, "references": 60, "self_bleu_subset": 20},
         "lm": {"embed_dim": 8, "hidden_dim": 16, "trainer": {"epochs": 1}}}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))  # checkpoints of these tiny runs stay here


def _nltk_mean_bleu(samples_file, references_file, n):
    samples = [line.split() for line in samples_file.read_text(encoding="utf-8").splitlines()]
    references = [line.split() for line in references_file.read_text(encoding="utf-8").splitlines()]
    smooth = SmoothingFunction().method1
    return sum(sentence_bleu(references, s, [1 / n] * n, smoothing_function=smooth) for s in samples) / len(samples)


@PADDING_NOT_LEARNED
@pytest.mark.parametrize("corpus", ["coco", "poems", pytest.param("news", marks=pytest.mark.slow)])
@pytest.mark.parametrize("method", ["mle", "seqgan", "gumbel", "latent", "arae"])
def test_every_corpus_and_method_writes_samples_references_and_scores(tmp_path, corpus, method):
    profile = get_profile("ci", **SMALL)
    result = real_text(corpus, method, profile, out=tmp_path, progress=False)
    written = json.loads((tmp_path / f"{corpus}_{method}.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(result))
    assert set(written["bleu"]) == set(written["self_bleu"]) == {"2", "3", "4", "5"}
    # the plane's columns, the one spelling the library reads: the fourth orders of the tables
    assert (written["bleu_4"], written["self_bleu_4"]) == (written["bleu"]["4"], written["self_bleu"]["4"])
    assert written["n_samples"] == 20 and written["n_references"] == 60
    if method in ("latent", "arae"):  # an autoencoder with a GAN on its codes has no tractable likelihood
        assert written["nll_test"] is None
        assert set(written["sampled_decoding"]) == {"bleu_4", "self_bleu_4", "mean_length"}
    else:
        assert 0 < written["nll_test"] < 20
    assert 0 < written["nll_under_mle"] < 20 and written["seconds"] > 0
    samples = (tmp_path / f"{corpus}_{method}_samples.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 20
    assert not any(special in line.split() for line in samples for special in ("<unk>", "<eos>", "<pad>", "<bos>"))
    assert all("  " not in line for line in samples)  # single spaces between tokens
    for n in (2, 4):  # the scores are NLTK's sentence_bleu (method 1) on the written files
        expected = _nltk_mean_bleu(tmp_path / f"{corpus}_{method}_samples.txt",
                                   tmp_path / f"{corpus}_references.txt", n)
        assert written["bleu"][str(n)] == pytest.approx(expected, abs=1e-9)
    if method != "mle":
        assert (tmp_path / f"{corpus}_{method}_history.csv").is_file()


@PADDING_NOT_LEARNED
def test_every_gan_starts_from_the_same_trained_mle_model(tmp_path):
    profile = get_profile("ci", **SMALL)
    real_text("coco", "mle", profile, out=tmp_path / "a", progress=False)
    checkpoints = list((tmp_path / "cache" / "checkpoints").glob("coco_lm_ci-*_seed0.pt"))
    assert len(checkpoints) == 1
    stamp = checkpoints[0].stat().st_mtime_ns
    real_text("coco", "gumbel", profile, out=tmp_path / "b", progress=False)
    assert checkpoints[0].stat().st_mtime_ns == stamp  # reused, not retrained


def _scores(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "seconds"}


# each run's budget is off its evaluation grid in the middle, where the part pauses
PARTS = {"seqgan": {"rounds": 4, "trainer": {"eval_every": 3}},
         "gumbel": {"iterations": 4, "trainer": {"eval_every": 3}},
         "scratchgan": {"iterations": 4, "trainer": {"eval_every": 3}}}


@PADDING_NOT_LEARNED
@pytest.mark.slow  # six small GAN runs, three of them in parts (about 35 s)
@pytest.mark.parametrize("method", ["seqgan", "gumbel", "scratchgan"])
def test_a_gan_trained_in_parts_records_what_one_call_does(tmp_path, monkeypatch, method):
    """Chapter 10 trains its longest GAN run in cells: the finished run's scores and history are
    those of one call (SeqGAN's part 0 is the discriminator's pretraining)."""
    trainer_kind = gan_of(method).trainer
    profile = get_profile("ci", **SMALL | {"real_text": SMALL["real_text"] | {trainer_kind: PARTS[trainer_kind]}})
    whole = real_text("coco", method, profile, out=tmp_path / "whole", progress=False)
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "parts_cache"))
    for until in (0, 1, 2):
        trainer = adversarial_part("coco", method, profile, until=until, progress=False)
        assert trainer.step == until
    parts = real_text("coco", method, profile, out=tmp_path / "parts", progress=False)
    assert _scores(parts) == _scores(whole)
    whole_history, parts_history = (pd.read_csv(tmp_path / run / f"coco_{method}_history.csv")
                                    .drop(columns=["elapsed_s", "d_epoch_s"], errors="ignore")
                                    for run in ("whole", "parts"))
    pd.testing.assert_frame_equal(parts_history, whole_history)


def test_scratchgan_starts_untrained_or_from_the_mle_model_and_runs_from_the_command_line(tmp_path, capsys):
    """Issue 38: ``scratchgan`` starts where the MLE model started (its sizes and initial weights,
    untrained), ``scratchgan_mle`` from the trained MLE model, as SeqGAN and the Gumbel GAN do."""
    profile = get_profile("ci", **SMALL)
    data = text_splits("coco", profile)
    mle, _ = language_model(data, profile, progress=False)
    untrained, _ = language_model(data, profile, 0, tmp_path / "untrained.pt", until=0, progress=False)  # epoch 0
    fresh = starting_generator(gan_of("scratchgan"), mle, profile, seed=0).state_dict()
    copied = starting_generator(gan_of("scratchgan_mle"), mle, profile, seed=0).state_dict()
    for name, trained in mle.state_dict().items():
        assert torch.equal(fresh[name], untrained.state_dict()[name]), name
        assert torch.equal(copied[name], trained), name
    assert not torch.equal(fresh["output.weight"], mle.state_dict()["output.weight"])
    for corpus in ("coco", "news"):
        assert main(["real-text", "--corpus", corpus, "--method", "scratchgan", "--profile", "ci",
                     "--set", "data.n_sentences=120", "--set", "real_text.samples=20",
                     "--set", "real_text.references=60", "--set", "real_text.self_bleu_subset=20",
                     "--out", str(tmp_path), "--quiet"]) == 0
        written = json.loads((tmp_path / f"{corpus}_scratchgan.json").read_text(encoding="utf-8"))
        assert written["settings"]["start"] == "untrained" and written["settings"]["reward"] == "discriminator"
        history = pd.read_csv(tmp_path / f"{corpus}_scratchgan_history.csv")
        assert history["iteration"].tolist() == [1, 2, 3, 4] and history["d_heldout_accuracy"].notna().all()
    assert "coco / scratchgan" in capsys.readouterr().out


def test_scratchgan_from_the_mle_model_trains_at_its_own_learning_rates_where_the_profile_gives_them(tmp_path):
    """The ``cpu`` profile keeps the paper's learning rates for the MLE-started arms and rates near
    1e-3 from scratch (``ScratchGANSizes.mle_start_lrs``); each run's settings record the rates it used."""
    cpu = get_profile("cpu").real_text.scratchgan
    scratch, from_mle = cpu.start_config(3, from_scratch=True), cpu.start_config(3, from_scratch=False)
    assert (scratch.g_lr, scratch.d_lr, from_mle.g_lr, from_mle.d_lr) == (9.59e-4, 9.38e-4, 9.59e-5, 9.38e-3)
    assert scratch.seed == from_mle.seed == 3
    rates = {}
    for method in ("scratchgan", "scratchgan_mle_shuffled"):
        assert main(["real-text", "--corpus", "coco", "--method", method, "--profile", "ci",
                     "--set", "data.n_sentences=120", "--set", "real_text.samples=20",
                     "--set", "real_text.references=60", "--set", "real_text.self_bleu_subset=20",
                     "--set", "real_text.scratchgan.iterations=1",
                     "--set", "real_text.scratchgan.mle_start_lrs=(0.01, 0.02)",
                     "--out", str(tmp_path), "--quiet"]) == 0
        settings = json.loads((tmp_path / f"coco_{method}.json").read_text(encoding="utf-8"))["settings"]
        rates[method] = (settings["g_lr"], settings["d_lr"])
    ci = get_profile("ci").real_text.scratchgan.trainer
    assert rates == {"scratchgan": (ci.g_lr, ci.d_lr), "scratchgan_mle_shuffled": (0.01, 0.02)}


def test_a_profile_changed_outside_the_language_model_reuses_its_checkpoint(tmp_path):
    """Chapter 12's batch ablation changes only ScratchGAN's batch: it must start from the same
    MLE checkpoint, not train another one, while its own run gets a file of its own."""
    profile = get_profile("ci", **SMALL)
    checkpoints = tmp_path / "cache" / "checkpoints"
    real_text("coco", "scratchgan", profile, out=tmp_path / "a", progress=False)
    language_models = sorted(checkpoints.glob("coco_lm_*"))
    ablation = override(profile, real_text={"scratchgan": {"trainer": {"batch_size": 16}}})
    real_text("coco", "scratchgan", ablation, out=tmp_path / "b", progress=False)
    assert sorted(checkpoints.glob("coco_lm_*")) == language_models and len(language_models) == 1
    assert len(list(checkpoints.glob("coco_scratchgan_*"))) == 2
    language_model(text_splits("coco", profile), override(profile, lm={"hidden_dim": 8}), progress=False)
    assert len(list(checkpoints.glob("coco_lm_*"))) == 2  # a changed language model is another run


def test_the_language_model_and_the_autoencoder_trained_in_parts_equal_one_call(tmp_path, monkeypatch):
    profile = get_profile("ci", **SMALL | {"latent": {"ae": {"epochs": 3, "eval_every": 2}}})
    data = text_splits("coco", profile)
    whole_lm, _ = language_model(data, profile, progress=False)
    whole_ae, whole_history = autoencoder_model(data, profile, progress=False)
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "parts_cache"))
    language_model(data, profile, until=1, progress=False)
    parts_lm, _ = language_model(data, profile, progress=False)
    _, part_history = autoencoder_model(data, profile, until=1, progress=False)
    assert part_history.empty  # paused off the grid: nothing evaluated yet
    parts_ae, parts_history = autoencoder_model(data, profile, progress=False)
    for whole, parts in ((whole_lm, parts_lm), (whole_ae, parts_ae)):
        for name, tensor in whole.state_dict().items():
            assert torch.equal(parts.state_dict()[name], tensor), name
    assert parts_history["epoch"].tolist() == whole_history["epoch"].tolist() == [2, 3]


def test_the_poem_split_is_random_fixed_and_never_leaks():
    train, test = load_poems("train"), load_poems("test")
    distinct = {tuple(p) for p in load_poems("all")}
    assert len(train) + len(test) == len(distinct) and len(test) == round(0.1 * len(distinct))
    assert not {tuple(p) for p in test} & {tuple(p) for p in train}  # no held-out poem is trained on
    assert load_poems("test") == test  # the same split every time
    # random, not the file's order: the held-out poems come from all over the file
    order = {tuple(p): i for i, p in reversed(list(enumerate(load_poems("all"))))}
    positions = sorted(order[tuple(p)] for p in test)
    assert positions[0] < 0.1 * len(order) and positions[-1] > 0.9 * len(order)
    assert {len(p) for p in test} == {24} and all(quatrain_form(p) for p in test[:100])


def test_quatrain_form_checks_lengths_and_alternating_punctuation():
    line = list("白日依山尽")
    poem = [*line, "，", *line, "。", *line, "，", *line, "。"]
    assert quatrain_form(poem)
    assert not quatrain_form(poem[:-1])  # 23 tokens
    swapped = [*line, "。", *line, "，", *line, "，", *line, "。"]
    assert not quatrain_form(swapped)  # ， and 。 must alternate, ， first
    assert not quatrain_form([*line[:4], "，", "山", *poem[6:]])  # a line of four, then one of six
    assert quatrain_form([*poem[:2], "<unk>", *poem[3:]])  # an unknown character is still a character


def test_the_command_line_runs_and_refuses_unknown_choices(tmp_path, capsys):
    assert main(["real-text", "--corpus", "poems", "--method", "mle", "--profile", "ci", "--out", str(tmp_path),
                 "--quiet"]) == 0
    assert "BLEU-2" in capsys.readouterr().out and (tmp_path / "poems_mle.json").is_file()
    with pytest.raises(SystemExit):
        main(["real-text", "--corpus", "emnlp", "--method", "mle", "--out", str(tmp_path)])
