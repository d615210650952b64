"""Replayed runs: a chapter reads a recorded ``real_text`` run instead of training it, only when the run
is of the same profile and seed, and gets what the call would have returned and written."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from textgan_lib.book.recorded import replay_folder, replay_real_text, replay_sweep
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.real_text import real_text
from textgan_lib.recipes.records import RunFileError
from textgan_lib.recipes.runs import profile_tag
from textgan_lib.recipes.sweep import temperature_sweep

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"data": {"n_sentences": 120}, "lm": {"embed_dim": 8, "hidden_dim": 16, "trainer": {"epochs": 1}},
         "real_text": {"samples": 20, "references": 60, "self_bleu_subset": 10, "curve_temperatures": [0.8, 1.0]}}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A clone with a recorded poems MLE run (and its sweep) of a small ci profile, seed 0."""
    root = tmp_path_factory.mktemp("clone")
    profile = get_profile("ci", **SMALL)
    folder = replay_folder(profile.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEXTGAN_CACHE", str(root / "cache"))
        patch.chdir(root)
        result = real_text("poems", "mle", profile, 0, out=folder, progress=False)
        curve, real = temperature_sweep("poems", profile, 0, out=folder)
    return root, profile, folder, json.loads(json.dumps(result)), curve, real


@pytest.fixture
def recorded(recording, tmp_path, monkeypatch):
    """The recording in a clone of this test's own (a test may damage it)."""
    root, profile, folder, result, curve, real = recording
    shutil.copytree(root / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    return profile, folder, result, curve, real


def test_a_replayed_run_returns_and_writes_what_the_call_did(recorded, tmp_path):
    profile, folder, result, curve, real = recorded
    out = tmp_path / "chapter"
    replayed = replay_real_text("poems", "mle", profile, 0, out)
    assert replayed == result | {"replayed_from": folder.resolve().as_posix()}
    for name in ("poems_mle.json", "poems_mle_samples.txt"):
        assert (out / name).read_text(encoding="utf-8") == (folder / name).read_text(encoding="utf-8")
    replayed_curve, replayed_real = replay_sweep("poems", profile, 0, out)
    pd.testing.assert_frame_equal(replayed_curve, curve)
    assert replayed_real == real and (out / "poems_real_point.json").is_file()
    assert (out / "poems_mle_temperature_curve.csv").is_file()


def test_the_sweep_is_the_temperature_curve_the_run_shares_its_samples_with(recorded):
    _, _, result, curve, real = recorded
    assert curve.set_index("temperature").loc[1.0, "bleu_4"] == pytest.approx(result["bleu_4"], abs=1e-12)
    assert set(real) == {"bleu_4", "self_bleu_4"}


def test_no_run_of_that_profile_seed_or_method_is_replayed(recorded, tmp_path, capsys):
    profile, folder, *_ = recorded
    out = tmp_path / "chapter"
    assert replay_real_text("poems", "mle", profile, 1, out) is None  # another seed
    assert replay_real_text("poems", "seqgan", profile, 0, out) is None  # not recorded
    assert replay_real_text("coco", "mle", profile, 0, out) is None
    changed = get_profile("ci", **(SMALL | {"real_text": SMALL["real_text"] | {"samples": 30}}))
    assert changed.name == profile.name and profile_tag(changed) != profile_tag(profile)
    assert replay_real_text("poems", "mle", changed, 0, out) is None  # other sizes, the same name
    assert replay_sweep("poems", changed, 0, out) is None
    told = capsys.readouterr().out
    tag = profile_tag(profile)
    assert f"is of {tag}, seed 0, not of poems / mle at {tag}, seed 1: trained here" in told
    assert not out.exists()  # nothing copied from a run that was not replayed
    # a run recorded before runs carried their profile tag is never taken for the profile's
    scores = json.loads((folder / "poems_mle.json").read_text(encoding="utf-8"))
    del scores["profile_tag"]
    (folder / "poems_mle.json").write_text(json.dumps(scores), encoding="utf-8")
    assert replay_real_text("poems", "mle", profile, 0, out) is None


def test_a_damaged_recording_is_named_with_the_command_that_records_it_again(recorded, tmp_path):
    profile, folder, *_ = recorded
    (folder / "poems_mle.json").write_text('{"bleu_4": 0.1', encoding="utf-8")
    with pytest.raises(RunFileError, match="poems_mle.json is damaged .*record_real_text.py --profile ci"):
        replay_real_text("poems", "mle", profile, 0, tmp_path / "out")


def test_outside_a_clone_every_run_is_trained(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert replay_real_text("poems", "mle", get_profile("cpu"), 0, tmp_path / "out") is None
    assert "benchmarks/results/real_text_cpu holds the recorded ones" in capsys.readouterr().out


def test_the_book_holds_every_run_its_profiles_replay_and_each_is_of_the_profile_now():
    """A profile whose sizes change makes its recorded runs stale: this fails until they are recorded
    again (``benchmarks/record_real_text.py``)."""
    for name in ("ci", "cpu", "gpu"):
        profile = get_profile(name)
        folder = ROOT / replay_folder(name)
        for corpus in profile.real_text.replayed:
            for method in ("mle", "seqgan", "gumbel"):
                scores = json.loads((folder / f"{corpus}_{method}.json").read_text(encoding="utf-8"))
                assert (scores["profile_tag"], scores["seed"]) == (profile_tag(profile), 0), (corpus, method)
                samples = (folder / f"{corpus}_{method}_samples.txt").read_text(encoding="utf-8").splitlines()
                assert len(samples) == scores["n_samples"] == profile.real_text.samples
            curve = pd.read_csv(folder / f"{corpus}_mle_temperature_curve.csv")
            assert tuple(curve["temperature"]) == profile.real_text.curve_temperatures
            # chapter 10 checks this too: at temperature 1 the sweep draws the MLE run's samples
            mle = json.loads((folder / f"{corpus}_mle.json").read_text(encoding="utf-8"))
            assert curve.set_index("temperature").loc[1.0, "bleu_4"] == pytest.approx(mle["bleu_4"], abs=1e-9)
            assert (folder / f"{corpus}_real_point.json").is_file()
        assert not list(folder.glob("*_references.txt")) if folder.is_dir() else True  # test data stays out
    assert get_profile("cpu").real_text.replayed == ("poems", "news")
