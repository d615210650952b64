"""The ``textgan`` command line, on the real SeqGAN oracle at a tiny size."""

import argparse

import pandas as pd
import pytest

from textgan_lib.cli import MLE_FLAGS, main
from textgan_lib.cli.commands import _resolved
from textgan_lib.recipes.profiles import get_profile


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))  # the runs' checkpoints stay here


@pytest.mark.slow  # an end-to-end run of the command; the recipe has its unit test in test_oracle.py
def test_seqgan_oracle_command_writes_every_phase(tmp_path, capsys):
    out = tmp_path / "seqgan.csv"
    assert main(["seqgan-oracle", "--out", str(out), "--mle-epochs", "1", "--d-pretrain-rounds", "1", "--rounds", "2",
                 "--d-steps", "1", "--d-epochs", "1", "--d-samples", "64", "--rollouts", "2", "--eval-every", "1",
                 "--n-samples", "128", "--quiet"]) == 0
    history = pd.read_csv(out)
    assert history["phase"].value_counts().to_dict() == {"mle": 2, "d_pretrain": 1, "adversarial": 3}
    assert history["nll_oracle"].dropna().between(5, 12).all()
    assert "after 2 of 2 rounds" in capsys.readouterr().out


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert main(["seqgan-oracle", "--out", str(tmp_path / "x.csv"), "--oracle", str(tmp_path / "missing.pkl")]) == 2
    assert "missing.pkl" in capsys.readouterr().err


def test_no_adversarial_rounds_is_refused_before_any_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["seqgan-oracle", "--out", str(tmp_path / "x.csv"), "--rounds", "0"])
    assert refused.value.code == 2 and "--rounds" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_a_non_finite_loss_is_a_named_error_not_a_traceback(tmp_path, capsys, monkeypatch):
    from textgan_lib.models.checkpoint import NonFiniteLossError

    def diverges(*args, **kwargs):
        raise NonFiniteLossError("Gumbel GAN training stopped: the generator loss became nan at iteration 3")

    monkeypatch.setattr("textgan_lib.recipes.oracle.gumbel_oracle", diverges)
    assert main(["gumbel-oracle", "--profile", "ci", "--out", str(tmp_path)]) == 2
    assert "the generator loss became nan at iteration 3" in capsys.readouterr().err


def test_set_replaces_any_profile_field_and_wins_over_a_named_flag(capsys):
    settings = ["--set", "real_text.samples=7", "--set", "real_text.gumbel.iterations=9"]
    assert main(["profile", "--name", "ci", *settings]) == 0
    assert "real text: 7 samples; SeqGAN 1 rounds, Gumbel GAN 9 iterations" in capsys.readouterr().out
    args = argparse.Namespace(profile="ci", set=[("oracle.samples", 9)], n_samples=5, mle_epochs=3, init_std=0.0,
                              eval_every=None, lr=None, batch_size=None)
    profile = _resolved(args, MLE_FLAGS)
    assert profile.oracle.samples == 9 and profile.oracle.trainer.epochs == 3  # --set wins; the flag still sets
    assert profile.oracle.init_std is None  # --init-std 0: PyTorch's initialisation
    assert get_profile("ci").oracle.samples == 500  # the preset itself is untouched


@pytest.mark.parametrize(("settings", "words"), [
    (["real_text.sample=7"], "unknown profile fields ['real_text.sample']; real_text has ["),
    (["real_text.samples=x"], "RealTextSizes.samples must be an integer, got 'x'"),
    (["real_text.samples=7", "real_text.samples.n=1"], "real_text.samples.n: samples is set to a value already"),
])
def test_a_bad_setting_names_the_field_and_exits_2(capsys, settings, words):
    assert main(["profile", "--name", "ci", *(part for s in settings for part in ("--set", s))]) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("setting", ["samples=3", "real_text.samples", "real_text.1x=2"])
def test_a_malformed_setting_is_refused_by_the_parser(capsys, setting):
    with pytest.raises(SystemExit) as stopped:
        main(["profile", "--name", "ci", "--set", setting])
    assert stopped.value.code == 2 and "argument --set: expected section.field=value" in capsys.readouterr().err
