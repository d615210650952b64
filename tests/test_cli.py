"""The ``textgan`` command line, on the real SeqGAN oracle at a tiny size."""

import pandas as pd
import pytest

from textgan_lib.cli import main


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
