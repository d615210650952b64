"""Checkpoint selection on validation: the best evaluation's weights, kept across a resume."""

import math

import pytest
import torch
from torch import nn

from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.real_text import real_text
from textgan_lib.train.selection import BestCheckpoint


def _scores(values):
    """A criterion that reads the model's single weight and returns the next value of ``values``."""
    queue = list(values)
    return lambda model: {"gap": queue.pop(0), "weight": float(model.weight)}


def _model(value):
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(value)
    return model


def test_the_best_evaluation_is_kept_and_restored_nan_never_wins(tmp_path):
    selector = BestCheckpoint(_scores([0.1, 0.5, math.nan, 0.3]), "gap", tmp_path / "best.pt")
    model = _model(0.0)
    history = []
    for weight in (1.0, 2.0, 3.0, 4.0):  # the model changes between evaluations, as in training
        with torch.no_grad():
            model.weight.fill_(weight)
        history.append(selector(model))
    assert [row["best_gap"] for row in history] == [0.1, 0.5, 0.5, 0.5]
    assert selector.restore(model) == 1 and float(model.weight) == 2.0  # the second evaluation's weights

    resumed = BestCheckpoint(_scores([0.4, 0.9]), "gap", tmp_path / "best.pt")  # a resumed run reads the file
    assert resumed.best_value == 0.5 and resumed.evaluations == 4
    resumed(_model(5.0))
    resumed(_model(6.0))
    fresh = _model(0.0)
    assert resumed.restore(fresh) == 5 and float(fresh.weight) == 6.0


def test_a_criterion_without_the_key_or_without_a_finite_value_is_a_clear_error():
    with pytest.raises(KeyError, match="selection key 'gap'"):
        BestCheckpoint(lambda m: {"other": 1.0}, "gap")(_model(0.0))
    never = BestCheckpoint(_scores([math.nan]), "gap")
    never(_model(0.0))
    with pytest.raises(ValueError, match="no evaluation had a finite gap"):
        never.restore(_model(0.0))


@pytest.mark.slow  # a small MLE model and a short Gumbel GAN on COCO (about 15 s)
def test_real_text_reports_the_checkpoint_chosen_on_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))
    profile = get_profile("ci", real_text={"select_on_validation": True,
                                           "curve_temperatures": (0.2, 0.6, 1.0, 2.0, 5.0),
                                           "gumbel": {"iterations": 4, "trainer": {"eval_every": 1}}})
    result = real_text("coco", "gumbel", profile, out=tmp_path / "out", progress=False)
    settings = result["settings"]
    assert settings["selected_on_validation"] and settings["last_step"] == 4
    assert 0 <= settings["selected_step"] <= 4
    history = (tmp_path / "out" / "coco_gumbel_history.csv").read_text().splitlines()
    assert "valid_gap" in history[0] and len(history) == 1 + 5  # the gap against the iteration, row 0 the MLE model
