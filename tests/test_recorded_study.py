"""The recorded study as the chapters show it: table, verdict sentences, the plane."""

import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from test_study import TEXT_CURVE, _write, synthetic_study  # noqa: E402

from textgan_lib.book.evidence import (  # noqa: E402
    corpus_paragraph,
    placebo_comparisons,
    placebo_coverage,
    placebo_sentence,
    primary_verdicts_table,
    verdict_forest,
)
from textgan_lib.book.recorded import (  # noqa: E402
    LM_CURVE,
    LM_POINT,
    UNTIL_FLAT_FOLDER,
    find_study_folder,
    load_study,
    metric_interval,
    selection_curves,
    selection_gaps,
    selection_sentence,
    selection_table,
    study_plane,
    study_table,
    verdict_sentence,
)
from textgan_lib.eval.verdicts import GAUSSIAN, LESS_DIVERSE, MORE_DIVERSE  # noqa: E402
from textgan_lib.recipes.summary import summarize  # noqa: E402


@pytest.fixture
def recorded(tmp_path):
    folder = tmp_path / "benchmarks" / "results" / "study_cpu"
    synthetic_study(folder, latent=True)
    summarize(folder, "oracle")
    summarize(folder, "coco")
    return folder


def test_tables_and_sentences_carry_the_rule_and_its_evidence(recorded, monkeypatch):
    monkeypatch.chdir(recorded.parent.parent.parent / "benchmarks")  # found from below the repository's root too
    assert find_study_folder() == recorded.resolve()
    oracle = load_study("oracle")
    table = study_table(oracle)
    assert list(table.index) == ["MLE (τ = 1)", "Gumbel GAN"]
    assert table.loc["Gumbel GAN", "verdict"] == MORE_DIVERSE and table.loc["Gumbel GAN", "seeds agreeing"] == "5 of 5"
    assert table.loc["Gumbel GAN", "NLL_oracle"] == "9.000 [9.000, 9.000]"
    assert metric_interval(oracle, "gumbel", "NLL_oracle") == "9.000 [9.000, 9.000] over 5 seeds"
    # on the oracle the summary keeps each run's reverse KL per token, NLL_oracle - NLL_div (9 - 3.0x)
    wide = study_table(oracle, also=("reverse KL per token", "NLL_test"))
    assert wide.loc["MLE (τ = 1)", "reverse KL per token"] == "5.000 [5.000, 5.000]"
    assert wide.loc["Gumbel GAN", "reverse KL per token"].startswith("5.980 [5.9")
    assert wide.loc["Gumbel GAN", "NLL_test"] == "7.500 [7.500, 7.500]"
    with pytest.raises(ValueError, match="has no metric \\['BLEU-4'\\].*writes it again"):
        study_table(oracle, also=("BLEU-4",))
    assert metric_interval(oracle, "gumbel", "1-NN accuracy, GAN codes").startswith("not yet recorded")
    assert metric_interval(None, "gumbel", "NLL_oracle").startswith("not recorded here")
    assert verdict_sentence(oracle, "gumbel").startswith(f"{MORE_DIVERSE} (gap +0.520, 95 % CI +0.5")
    coco = load_study("coco")
    assert study_table(coco).loc["SeqGAN", "verdict"] == LESS_DIVERSE
    # the latent GAN is .1 more diverse than the Gaussian at the same BLEU-4 in every seed
    assert study_table(coco, ["latent"], GAUSSIAN).loc["latent GAN", "diversity gap"].startswith("0.080")
    assert verdict_sentence(coco, "latent", GAUSSIAN).startswith("more diverse than the Gaussian fit of the codes")
    assert verdict_sentence(coco, "gumbel").startswith("not yet recorded")
    (recorded / "coco_gumbel_seed0.json").write_text(json.dumps({"corpus": "coco", "method": "gumbel", "seed": 0,
                                                                  "bleu_4": 0.5, "self_bleu_4": 0.6,
                                                                  "nll_under_mle": 3.0}))
    summarize(recorded, "coco")
    assert verdict_sentence(load_study("coco", recorded), "gumbel").startswith(
        "indistinguishable from the cooled MLE model: only one seed is matched")
    (recorded / "coco_gumbel_seed1.json").write_text(json.dumps({"corpus": "coco", "method": "gumbel", "seed": 1,
                                                                  "bleu_4": 0.99, "self_bleu_4": 0.6,
                                                                  "nll_under_mle": 3.0}))  # beyond every curve
    summarize(recorded, "coco")
    sentence = verdict_sentence(load_study("coco", recorded), "gumbel")
    assert sentence.startswith("indistinguishable from the cooled MLE model: only one seed is matched") and (
        "1 more seed lies outside the range of quality that the curve of the cooled MLE model reaches") in sentence
    table = study_table(load_study("coco", recorded))
    assert table.loc["Gumbel GAN", "seeds agreeing"] == "1 of 1 (1 outside the curve)"


def test_the_plane_puts_more_diverse_to_the_right_on_both_corpora(recorded):
    oracle, coco = load_study("oracle", recorded), load_study("coco", recorded)
    oracle_axes = study_plane(oracle, ["gumbel"]).axes[0]
    coco_axes = study_plane(coco, ["seqgan"]).axes[0]
    assert not oracle_axes.xaxis_inverted() and coco_axes.xaxis_inverted()
    assert len(oracle_axes.lines) >= 5 and "reversed" in coco_axes.get_xlabel()
    gaussian_axes = study_plane(coco, ["latent"], curve="gaussian_curve", curve_label="Gaussian").axes[0]
    assert "Gaussian" in [t.get_text() for t in gaussian_axes.get_legend().get_texts()]


def test_the_lm_plane_is_drawn_from_the_curves_and_points_the_runs_keep_there(recorded):
    lm_curve = [{"temperature": t, "lm_score": 3.0 + t, "reverse_lm_score": 5.0 - t} for t in (0.8, 1.0, 1.2)]
    for seed in (0, 1, 2):  # three seeds of five carry the second plane
        for method, entry in (("mle", {LM_CURVE: lm_curve}),
                              ("seqgan", {LM_POINT: {"lm_score": 3.5, "reverse_lm_score": 4.9 - seed / 10}})):
            path = recorded / f"coco_{method}_seed{seed}.json"
            path.write_text(json.dumps(json.loads(path.read_text()) | entry))
    summarize(recorded, "coco")
    axes = study_plane(load_study("coco", recorded), ["seqgan"], curve=LM_CURVE, point=LM_POINT).axes[0]
    assert "reverse-LM score" in axes.get_xlabel() and "LM score" in axes.get_ylabel()
    grey = [line for line in axes.lines if line.get_color() == "grey"]
    assert len(grey) == 3 and list(grey[0].get_xdata()) == [4.2, 4.0, 3.8]
    seeds = [line for line in axes.lines if line.get_marker() == "o" and line.get_color() != "grey"]
    assert sorted(seeds[0].get_xdata()) == pytest.approx([4.7, 4.8, 4.9])  # the seeds' points, none from the text plane
    assert "3 seeds" in " ".join(t.get_text() for t in axes.get_legend().get_texts())


def test_outside_a_clone_the_chapter_is_told_where_the_study_lives(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_study("coco") is None
    assert "the repository's benchmarks/results/study_cpu" in capsys.readouterr().out
    assert load_study("coco", tmp_path) is None  # the folder, but no summary of that corpus yet
    assert "textgan study --corpus coco" in capsys.readouterr().out
    assert verdict_sentence(None, "seqgan").startswith("not recorded here")
    assert "note" in study_table(None).columns and study_plane(None, ["seqgan"]).axes[0].texts


def test_a_selected_study_shows_each_seeds_validation_gap_and_where_it_stopped(tmp_path, monkeypatch):
    folder = tmp_path / UNTIL_FLAT_FOLDER
    gaps = {0: [0.0, -0.02, -0.01, -0.03], 1: [0.0, 0.01, 0.02, 0.015], 2: [0.0, 0.03, 0.01, 0.0]}
    chosen = {0: 0, 1: 12, 2: 6}
    for seed, values in gaps.items():
        _write(folder, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0,
               temperature_curve=TEXT_CURVE)
        early = seed != 1  # seeds 0 and 2 stopped when their gap flattened, seed 1 used its budget
        _write(folder, "coco", "gumbel", seed, bleu_4=0.5, self_bleu_4=0.75 - 0.01 * seed, nll_under_mle=3.2,
               history=[{"iteration": 6 * i, "valid_gap": g} for i, g in enumerate(values)],
               settings={"selected_step": chosen[seed], "selected_valid_gap": max(values), "last_step": 18,
                         "stopped_because": "valid_gap did not rise" if early else "the budget (18 iteration)"})
    summarize(folder, "coco")
    monkeypatch.chdir(tmp_path)
    selected = load_study("coco", study=UNTIL_FLAT_FOLDER)
    table = selection_table(selected, ["seqgan", "gumbel"])  # no SeqGAN recorded: no row
    assert list(table.index) == ["Gumbel GAN"]
    row = table.loc["Gumbel GAN"]
    assert (row["seeds"], row["stopped early"], row["chosen step, by seed"], row["chose the MLE start"]) == (
        3, "2 of 3", "0, 12, 6", "1 of 3")
    assert row["verdict"] == LESS_DIVERSE and row["validation gap (mean)"] == "+0.017"  # (0 + .02 + .03) / 3
    gaps = selection_gaps(selected, "gumbel")
    assert list(gaps["chosen step"]) == [0, 12, 6] and list(gaps["test gap"]) == pytest.approx([-0.05, -0.04, -0.03])
    axes = selection_curves(selected, "gumbel").axes[0]
    stars = [line for line in axes.lines if line.get_marker() == "*"]
    assert [(float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in stars] == [
        (0.0, 0.0), (12.0, 0.02), (6.0, 0.03)]
    assert len([line for line in axes.lines if line.get_marker() == "x"]) == 2
    assert axes.get_xlabel() == "iterations of adversarial training"
    assert selection_sentence(selected, "gumbel").startswith(
        "the checkpoint chosen on validation was the MLE model it started from in 1 of 3 seeds (chosen iterations "
        "0, 12, 6), 2 of 3 runs stopped before their budget because the validation gap had stopped rising, and the "
        f"chosen checkpoints are {LESS_DIVERSE} (gap -0.040")
    assert selection_sentence(selected, "seqgan").startswith("not yet recorded")
    assert selection_curves(selected, "seqgan").axes[0].texts  # nothing recorded: said so
    assert "note" in selection_table(None, ["gumbel"]).columns


def test_the_conclusion_lists_every_primary_verdict_with_its_placebo_and_the_noise_floor(tmp_path):
    """Issue 38's conclusion page: on constructed runs, SeqGAN .1 more diverse than the cooled MLE
    model in every seed, the Gumbel GAN indistinguishable (gaps of both signs), SeqGAN against its
    shuffled placebo (which sits at 0) more diverse, and a noise floor around 0."""
    import matplotlib.pyplot as plt

    for seed in range(5):
        _write(tmp_path, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0,
               temperature_curve=TEXT_CURVE, noise_point={"bleu_4": 0.4, "self_bleu_4": 0.5 + 0.01 * (seed - 2)})
        _write(tmp_path, "coco", "seqgan", seed, bleu_4=0.4, self_bleu_4=0.4 - 0.001 * seed, nll_under_mle=3.5)
        _write(tmp_path, "coco", "gumbel", seed, bleu_4=0.4, self_bleu_4=0.5 + 0.05 * (-1) ** seed,
               nll_under_mle=3.5)
        _write(tmp_path, "coco", "seqgan_shuffled", seed, bleu_4=0.4, self_bleu_4=0.5 + 0.001 * seed,
               nll_under_mle=3.5)
    summarize(tmp_path, "coco")
    study = load_study("coco", tmp_path)
    table = primary_verdicts_table(study).set_index("comparison")
    assert set(table.index) == {"seqgan", "gumbel", "seqgan_vs_seqgan_shuffled"}
    assert table.loc["seqgan", "Holm-corrected"] == MORE_DIVERSE and table.loc["seqgan", "agree"] == "5 of 5"
    assert table.loc["seqgan", "sign test p"] == pytest.approx(0.0625)
    assert table.loc["gumbel", "Holm-corrected"].startswith("indistinguishable")
    study.summary["verdicts"]["seqgan_vs_top_p"] = dict(study.verdict("seqgan"))  # a control: not a placebo
    assert [(gan, placebo) for gan, placebo, _ in placebo_comparisons(study)] == [("seqgan", "seqgan_shuffled")]
    assert placebo_coverage(study) == "1, up to 5 seeds" and placebo_coverage(None) == "none yet"
    words = corpus_paragraph(study, study)
    assert "more diverse than the cooled MLE model: SeqGAN (+0.1" in words
    assert "indistinguishable from it: Gumbel GAN" in words
    assert "1 comparisons of these GANs with their placebos recorded" in words
    assert words.endswith("; against their placebos, Holm-corrected within the placebo study: SeqGAN against "
                          "shuffled rewards, more diverse (+0.104 [+0.100, +0.108], 5 seeds)")
    assert "no placebo comparison recorded yet" in corpus_paragraph(study)
    _, ax = plt.subplots()
    verdict_forest(ax, study, study)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Gumbel GAN", "SeqGAN"]
    assert len(ax.containers) == 3  # two GANs and SeqGAN's placebo comparison
    assert ax.patches and ax.patches[0].get_label() == "noise floor (95 % CI)"
    plt.close("all")
    assert primary_verdicts_table(None).empty and corpus_paragraph(None).startswith("not recorded here")
    words = placebo_sentence(study, "seqgan")  # shuffled recorded (SeqGAN .1 above it), two not yet
    assert words.startswith("SeqGAN against its placebo arms: with shuffled rewards, more diverse than it "
                            "(difference +0.1")
    assert "5 of 5 seeds agree" in words and "with a constant reward, not recorded yet" in words
    assert words.endswith("the discriminator's information made it more diverse than training with shuffled rewards")
    comparison = study.summary["verdicts"]["seqgan_vs_seqgan_shuffled"]
    comparison["holm_verdict"] = "indistinguishable from its placebo (seqgan_shuffled)"  # as if Holm undid it
    assert placebo_sentence(study, "seqgan").endswith(
        "shuffled rewards; after Holm's correction over the corpus's primary verdicts none of these differences holds")
    assert corpus_paragraph(study, study).endswith("indistinguishable (+0.104 [+0.100, +0.108], 5 seeds; more diverse "
                                                    "by the rule alone)")
    comparison["seeds"] = 1  # the first seed of a corpus's arms
    assert placebo_coverage(study) == "1 with one seed only (not judged)" and not placebo_comparisons(study)
    assert placebo_sentence(study, "gumbel").endswith("whether the adversary caused its effect is still open")
    assert placebo_sentence(study, "mle") == "MLE (τ = 1) has no placebo arm"
    assert placebo_sentence(None, "seqgan").startswith("SeqGAN's placebo arms are not recorded here")
    for seed in range(5):  # a placebo as diverse as the Gumbel GAN, but for noise of both signs
        _write(tmp_path, "coco", "gumbel_fixed_critic", seed, bleu_4=0.4,
               self_bleu_4=0.5 + 0.05 * (-1) ** seed + 0.002 * (-1) ** (seed // 2), nll_under_mle=3.5)
    summarize(tmp_path, "coco")
    words = placebo_sentence(load_study("coco", tmp_path), "gumbel")
    assert "with a frozen random critic, indistinguishable from it" in words
    assert words.endswith("the adversary's share is not shown at these seeds")
    for seed in range(1, 5):  # one seed of the placebo left: shown, not judged
        (tmp_path / f"coco_gumbel_fixed_critic_seed{seed}.json").unlink()
    summarize(tmp_path, "coco")
    words = placebo_sentence(load_study("coco", tmp_path), "gumbel")
    assert "with a frozen random critic, one seed only (difference " in words and "no verdict yet" in words
    study = load_study("coco", tmp_path)
    assert ("1 comparisons of these GANs with their placebos recorded, 1 more with one seed only (not judged)"
            in corpus_paragraph(study, study))
    assert words.endswith("whether the adversary caused its effect is still open")


def test_the_placebo_cause_names_the_direction_and_what_holm_leaves_standing():
    from textgan_lib.book.evidence import _what_the_discriminator_did

    less = {"verdict": "less diverse than its placebo (x)", "holm_verdict": "less diverse than its placebo (x)"}
    fallen = {"verdict": "less diverse than its placebo (y)", "holm_verdict": "indistinguishable from its placebo (y)"}
    more = {"verdict": "more diverse than its placebo (z)"}  # not a primary verdict: no Holm verdict
    words = _what_the_discriminator_did([("seqgan_constant", less), ("seqgan_fixed_d", fallen),
                                         ("seqgan_shuffled", more)])
    assert words == ("so the discriminator's information made it less diverse than training with a constant reward "
                     "or with a frozen untrained discriminator; more diverse than training with shuffled rewards; "
                     "after Holm's correction over the corpus's primary verdicts the one against a frozen untrained "
                     "discriminator does not hold")
