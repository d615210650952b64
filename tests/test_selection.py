"""Checkpoint selection on validation: the best evaluation's weights, kept across a resume."""

import math

import pandas as pd
import pytest
import torch
from torch import nn

from textgan_lib.models.checkpoint import CheckpointMismatchError, read_checkpoint
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.real_text import real_text
from textgan_lib.recipes.runs import run_path
from textgan_lib.recipes.study import until_flat
from textgan_lib.train.mle import MLEConfig, MLETrainer
from textgan_lib.train.selection import BestCheckpoint, plateau

# a ci-size language model has not learned <pad> after <eos>: its Gumbel GAN's warning is expected here
PADDING_NOT_LEARNED = pytest.mark.filterwarnings("ignore:the generator gives <pad> after <eos>")


def _scores(values):
    """A criterion that reads the model's single weight and returns the next value of ``values``."""
    queue = list(values)
    return lambda model: {"gap": queue.pop(0), "weight": float(model.weight.detach())}


def _model(value):
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(value)
    return model


def test_the_best_evaluation_is_kept_and_restored_nan_never_wins():
    selector = BestCheckpoint(_scores([0.1, 0.5, math.nan, 0.3]), "gap")
    model = _model(0.0)
    history = []
    for weight in (1.0, 2.0, 3.0, 4.0):  # the model changes between evaluations, as in training
        with torch.no_grad():
            model.weight.fill_(weight)
        history.append(selector(model))
    assert [row["best_gap"] for row in history] == [0.1, 0.5, 0.5, 0.5]
    assert selector.restore(model) == 1 and float(model.weight.detach()) == 2.0  # the second evaluation's weights

    resumed = BestCheckpoint(_scores([0.4, 0.9]), "gap")
    resumed.load_state_dict(selector.state_dict())  # what a resumed trainer does with its checkpoint
    assert resumed.best_value == 0.5 and resumed.evaluations == 4
    resumed(_model(5.0))
    resumed(_model(6.0))
    fresh = _model(0.0)
    assert resumed.restore(fresh) == 5 and float(fresh.weight.detach()) == 6.0


def _lstm_and_tokens():
    tokens = torch.randint(1, 12, (64, 6), generator=torch.Generator().manual_seed(0))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LSTMGenerator(GeneratorConfig(12, 8, 16, start_id=0, pad_id=None, eos_id=None))
    return model, tokens


def _weight_score(model):
    """A criterion of the weights alone (deterministic, and different after every epoch)."""
    return {"gap": -float(sum(p.detach().square().sum() for p in model.parameters()))}


def _selecting_trainer(path, patience=None):
    model, tokens = _lstm_and_tokens()
    selector = BestCheckpoint(_weight_score, "gap", patience=patience)
    trainer = MLETrainer(model, tokens, config=MLEConfig(epochs=6, batch_size=16, lr=0.05), evaluate=selector,
                         checkpoint_path=path, progress=False)
    trainer.selection = selector
    return trainer, selector


def test_a_killed_and_resumed_run_selects_what_an_uninterrupted_one_does(tmp_path):
    """The selection's state is in the run's one checkpoint, written with its weights (issue 36)."""
    whole, whole_selector = _selecting_trainer(tmp_path / "whole.pt")
    whole.run()
    part, _ = _selecting_trainer(tmp_path / "part.pt")
    part.run(until=3)
    resumed, resumed_selector = _selecting_trainer(tmp_path / "part.pt")  # a new process after a kill
    resumed.load(tmp_path / "part.pt")
    assert resumed_selector.evaluations == 4  # row 0 and epochs 1-3
    resumed.run()
    assert resumed_selector.state_dict()["evaluation"] == whole_selector.state_dict()["evaluation"]
    assert resumed_selector.best_value == whole_selector.best_value
    for name, tensor in whole_selector.best_state.items():
        assert torch.equal(tensor, resumed_selector.best_state[name])


def test_a_run_that_selects_does_not_resume_one_that_did_not(tmp_path):
    plain, _ = _selecting_trainer(tmp_path / "plain.pt")
    plain.selection = None
    plain.run(until=1)
    selecting, selector = _selecting_trainer(tmp_path / "plain.pt")
    with pytest.raises(CheckpointMismatchError, match="without checkpoint selection on 'gap'"):
        selecting.load(tmp_path / "plain.pt")
    assert selecting.step == 0 and selector.evaluations == 0  # refused before any change


def test_a_criterion_without_the_key_or_without_a_finite_value_is_a_clear_error():
    with pytest.raises(KeyError, match="selection key 'gap'"):
        BestCheckpoint(lambda m: {"other": 1.0}, "gap")(_model(0.0))
    never = BestCheckpoint(_scores([math.nan]), "gap")
    never(_model(0.0))
    with pytest.raises(ValueError, match="no evaluation had a finite gap"):
        never.restore(_model(0.0))


def test_flattened_counts_evaluations_since_the_last_rise_above_min_delta_and_survives_a_resume():
    selector = BestCheckpoint(_scores([0.1, 0.5, 0.55, math.nan, 0.52, 0.9]), "gap", patience=3, min_delta=0.1)
    reasons = []
    for weight in range(5):
        selector(_model(float(weight)))
        reasons.append(selector.flattened())
    # .55 is a new best (kept for restore) but not a rise of more than .1: evaluations 2, 3, 4 pass
    assert reasons[:4] == [None] * 4 and "did not rise by more than 0.1 for 3 evaluations" in reasons[4]
    assert selector.restore(_model(0.0)) == 2
    resumed = BestCheckpoint(_scores([0.9]), "gap", patience=3, min_delta=0.1)
    resumed.load_state_dict(selector.state_dict())
    assert resumed.flattened() == reasons[4]  # a resumed run knows it had already flattened
    resumed(_model(9.0))
    assert resumed.flattened() is None  # .9 is a rise
    assert BestCheckpoint(_scores([0.1]), "gap").flattened() is None  # no patience: never
    with pytest.raises(ValueError, match="patience=0"):
        BestCheckpoint(_scores([]), "gap", patience=0)


def test_a_run_stops_at_the_evaluation_where_its_criterion_flattened_and_says_why():
    tokens = torch.randint(1, 12, (64, 6), generator=torch.Generator().manual_seed(0))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LSTMGenerator(GeneratorConfig(12, 8, 16, start_id=0, pad_id=None, eos_id=None))
    values = [0.3, 0.2, 0.1, 0.0, 0.4, 0.5]
    selector = BestCheckpoint(lambda model: {"gap": values.pop(0)}, "gap", patience=2)
    trainer = MLETrainer(model, tokens, config=MLEConfig(epochs=10, batch_size=16), evaluate=selector, progress=False)
    history = trainer.run(stop=selector.flattened)
    # row 0 is the model before training (the best); epochs 1 and 2 do not beat it: stop after epoch 2
    assert trainer.step == 2 and list(history["epoch"]) == [0, 1, 2]
    assert "for 2 evaluations (best 0.3 at evaluation 0)" in trainer.stopped_because
    trainer.run(stop=selector.flattened)  # asked before training too: nothing more happens
    assert trainer.step == 2 and len(trainer.records) == 3
    trainer.run(more=1)  # without stop the plan goes on
    assert trainer.step == 3 and trainer.stopped_because is None


@pytest.mark.slow  # a small MLE model and SeqGAN on COCO (about 15 s)
def test_seqgan_selects_among_its_adversarial_rounds_not_its_discriminator_pretraining(tmp_path, monkeypatch):
    """The generator does not change while the discriminator pretrains: scoring it there would only
    use up the patience, and the run would stop before its first adversarial round."""
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))
    profile = until_flat(get_profile("ci", real_text={"curve_temperatures": (0.2, 0.6, 1.0, 2.0, 5.0),
                                                      "seqgan": {"rounds": 3, "trainer": {"d_pretrain_rounds": 3}}}),
                         patience=1)
    settings = real_text("coco", "seqgan", profile, out=tmp_path / "out", progress=False)["settings"]
    history = pd.read_csv(tmp_path / "out" / "coco_seqgan_history.csv")
    pretraining = history[history["phase"] == "d_pretrain"]
    assert len(pretraining) == 3 and pretraining["valid_gap"].isna().all()
    # every adversarial evaluation was scored (a NaN gap: a point outside the curve of the tiny model)
    assert settings["last_step"] >= 1 and history.loc[history["phase"] == "adversarial", "best_valid_gap"].notna().all()


@PADDING_NOT_LEARNED
@pytest.mark.slow  # a small MLE model and a short Gumbel GAN on COCO (about 15 s)
def test_real_text_reports_the_checkpoint_chosen_on_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))
    profile = get_profile("ci", real_text={"select_on_validation": True,
                                           "curve_temperatures": (0.2, 0.6, 1.0, 2.0, 5.0),
                                           "gumbel": {"iterations": 4, "trainer": {"eval_every": 1}}})
    result = real_text("coco", "gumbel", profile, out=tmp_path / "out", progress=False)
    settings = result["settings"]
    assert read_checkpoint(run_path("coco_gumbel", profile, 0))["selection"]["key"] == "valid_gap"  # in the run
    assert settings["selected_on_validation"] and settings["last_step"] == 4
    assert settings["stopped_because"] == "the budget (4 iteration)"
    assert 0 <= settings["selected_step"] <= 4
    history = (tmp_path / "out" / "coco_gumbel_history.csv").read_text().splitlines()
    assert "valid_gap" in history[0] and len(history) == 1 + 5  # the gap against the iteration, row 0 the MLE model
    # issue 36: the selection lives in the run's one checkpoint; emptied, it is named and the run trains again
    run_path("coco_gumbel", profile, 0).write_bytes(b"")
    with pytest.warns(UserWarning, match=r"coco_gumbel_ci-\w+_seed0\.pt \(0 bytes\) could not be read"):
        again = real_text("coco", "gumbel", profile, out=tmp_path / "again", progress=False)
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in result.items() if k != "seconds"}


def test_a_plateau_is_patience_values_that_do_not_fall_below_the_best_before_them():
    assert not plateau([3.0, 2.0], patience=2)  # too short to tell
    assert plateau([3.0, 2.0, 2.05, 2.0], patience=2)  # the last two never fell below 2.0
    assert not plateau([3.0, 2.0, 2.05, 1.9], patience=2)
    assert plateau([3.0, 2.0, 1.995, 1.99], patience=2, min_delta=0.02)  # falls smaller than min_delta
    with pytest.raises(ValueError, match="patience=0"):
        plateau([1.0], patience=0)


@pytest.mark.slow  # two small autoencoders on COCO (about 10 s)
def test_the_autoencoder_stops_at_its_plateau_and_says_so_in_its_history(tmp_path, monkeypatch):
    from textgan_lib.recipes.language import latent_model, text_splits

    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))
    sizes = {"data": {"n_sentences": 200}, "latent": {"ae": {"epochs": 6}, "iterations": 1}}
    fixed = get_profile("ci", **sizes)
    _, _, history, _ = latent_model(text_splits("coco", fixed), fixed, progress=False)
    assert list(history["epoch"]) == [1, 2, 3, 4, 5, 6]
    # every fall is smaller than 100 nats: flat after patience 2 epochs past the first
    flat = get_profile("ci", data=sizes["data"], latent={**sizes["latent"], "ae_patience": 2, "ae_min_delta": 100.0})
    _, _, history, _ = latent_model(text_splits("coco", flat), flat, progress=False)
    assert list(history["epoch"]) == [1, 2, 3]
