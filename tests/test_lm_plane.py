"""Caccia et al.'s second plane (LM score, reverse-LM score), and the MLE model a measurement is made on."""

import json

import pandas as pd
import pytest
from test_study import SMALL, synthetic_study

from textgan_lib.eval.verdicts import LM_PLANE, LM_SCORES, verdict_key
from textgan_lib.recipes.language import text_splits
from textgan_lib.recipes.lm_plane import lm_plane_point, reverse_lm_score, scorer
from textgan_lib.recipes.measurements import ModelMismatchError, add_controls, check_mle_model
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.study import run_file, run_one
from textgan_lib.recipes.summary import summarize

PROFILE = get_profile("ci", **SMALL | {"lm": {"embed_dim": 16, "hidden_dim": 32, "trainer": {"epochs": 3}}})


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))


def test_real_text_scores_better_than_one_sentence_repeated_on_both_axes():
    data = text_splits("coco", PROFILE)
    real, repeated = data.train_texts[:60], [data.train_texts[0]] * 60
    scoring = scorer(data, PROFILE, 0)
    points = {name: lm_plane_point(data, texts, PROFILE, 0, scoring) for name, texts in
              (("real", real), ("repeated", repeated))}
    # one sentence over and over teaches a language model little of real text: a higher reverse-LM score
    assert points["real"]["reverse_lm_score"] < points["repeated"]["reverse_lm_score"]
    shuffled = [list(reversed(text)) for text in real]  # real words in an order the scorer never saw
    assert points["real"]["lm_score"] < lm_plane_point(data, shuffled, PROFILE, 0, scoring)["lm_score"]
    assert reverse_lm_score(data, real, PROFILE, 0) == points["real"]["reverse_lm_score"]  # seeded: the same


def test_the_lm_plane_says_lower_reverse_lm_score_is_more_diverse_at_equal_lm_score():
    curve = pd.DataFrame({"temperature": [0.5, 1.0], "lm_score": [2.0, 4.0], "reverse_lm_score": [6.0, 5.0]})
    gap, temperature = LM_PLANE.gap(curve, {"lm_score": 3.0, "reverse_lm_score": 5.0})
    assert temperature == pytest.approx(0.75) and gap == pytest.approx(0.5)  # .5 nats below the curve's 5.5


def test_the_summary_gives_the_gaps_on_the_lm_plane_beside_the_bleu_plane(tmp_path):
    synthetic_study(tmp_path)
    for seed in range(5):
        for method, field, value in (("mle", "lm_plane_curve", [{"temperature": 0.5, "lm_score": 2.0,
                                                                  "reverse_lm_score": 6.0},
                                                                 {"temperature": 1.0, "lm_score": 4.0,
                                                                  "reverse_lm_score": 5.0}]),
                                     ("seqgan", "lm_plane_point", {"lm_score": 3.0,
                                                                   "reverse_lm_score": 5.0 + seed / 100})):
            path = run_file(tmp_path, "coco", method, seed)
            path.write_text(json.dumps(json.loads(path.read_text()) | {field: value}))
    decided = summarize(tmp_path, "coco")["verdicts"][verdict_key("seqgan", LM_SCORES)]
    assert decided["gap"] == pytest.approx(0.48) and decided["seeds"] == 5 and decided["baseline"] == LM_SCORES


@pytest.mark.slow  # an MLE run, a GAN run and their controls at tiny sizes (about 20 s)
def test_a_measurement_or_a_gan_refuses_an_mle_model_other_than_the_recorded_one(tmp_path):
    out = tmp_path / "study"
    run_one("coco", "mle", 0, PROFILE, out)
    add_controls(out, "coco", "mle", 0, PROFILE)
    recorded = json.loads(run_file(out, "coco", "mle", 0).read_text())
    assert len(recorded["lm_plane_curve"]) == len(PROFILE.real_text.curve_temperatures)
    check_mle_model(out, "coco", 0, PROFILE)  # the model in the cache is the recorded one
    recorded["nll_test"] += 1e-12  # as if recorded on another CPU
    recorded.pop("noise_point")  # a control left to add
    run_file(out, "coco", "mle", 0).write_text(json.dumps(recorded))
    with pytest.raises(ModelMismatchError, match=r"gives NLL_test .* records .*: it is another model"):
        add_controls(out, "coco", "mle", 0, PROFILE)
    with pytest.raises(ModelMismatchError, match="record the seed again, MLE run included, in a folder of its own"):
        run_one("coco", "seqgan", 0, PROFILE, out)
    assert not run_file(out, "coco", "seqgan", 0).exists()
