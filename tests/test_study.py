"""The multi-seed study and its verdict rule."""

import json
import math
import time

import pytest
import torch

from textgan_lib.cli import main
from textgan_lib.eval.verdicts import (
    GAUSSIAN,
    INDISTINGUISHABLE,
    LENGTH_MATCHED,
    LESS_DIVERSE,
    MORE_DIVERSE,
    TOP_P,
    confidence_interval,
    verdict,
)
from textgan_lib.models.code_gan import gaussian_codes
from textgan_lib.recipes.measurements import GAUSSIAN_SCALES, add_controls, length_matched
from textgan_lib.recipes.profiles import get_profile
from textgan_lib.recipes.study import run_file, schedule_runs, study
from textgan_lib.recipes.summary import PLANES, summarize

# a ci-size language model has not learned <pad> after <eos>: its Gumbel GAN's warning is expected here
PADDING_NOT_LEARNED = pytest.mark.filterwarnings("ignore:the generator gives <pad> after <eos>")

SMALL = {"data": {"n_sentences": 120}, "lm": {"embed_dim": 8, "hidden_dim": 16, "trainer": {"epochs": 1}},
         "real_text": {"samples": 20, "references": 60, "self_bleu_subset": 10,
                       "curve_temperatures": (0.2, 0.6, 1.0, 1.6, 3.0)}}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "cache"))


def test_the_interval_is_students_t_over_seeds():
    e = confidence_interval([1.0, 2.0, 3.0])
    assert e.mean == 2.0 and e.n == 3
    assert e.high - e.mean == pytest.approx(4.302653 * 1.0 / math.sqrt(3), abs=1e-6)  # t(0.975, 2 df) x sd / sqrt(n)
    one = confidence_interval([0.5])
    assert one.mean == 0.5 and math.isnan(one.low) and math.isnan(one.high)
    with pytest.raises(ValueError):
        confidence_interval([])


@pytest.mark.parametrize(("gaps", "expected"), [
    ([0.05, 0.06, 0.04, 0.05, 0.07], MORE_DIVERSE),
    ([-0.05, -0.06, -0.04, -0.05, -0.07], LESS_DIVERSE),
    ([0.05, -0.04, 0.06, -0.05, 0.01], INDISTINGUISHABLE),  # the interval straddles 0
    ([0.30, 0.31, 0.29, 0.30, -0.001], MORE_DIVERSE),  # 4 of 5 agree and the interval excludes 0
    ([0.30, 0.31, -0.001, 0.30, -0.001], INDISTINGUISHABLE),  # only 3 of 5 agree
    ([0.05], INDISTINGUISHABLE),  # one seed decides nothing
])
def test_the_verdict_rule(gaps, expected):
    assert verdict(gaps) == expected


def test_the_verdict_names_its_baseline():
    assert verdict([0.05, 0.06, 0.04, 0.05, 0.07], GAUSSIAN) == "more diverse than the Gaussian fit of the codes"
    assert verdict([0.05], GAUSSIAN) == "indistinguishable from the Gaussian fit of the codes"


def _write(out, corpus, method, seed, **fields):
    out.mkdir(parents=True, exist_ok=True)
    run_file(out, corpus, method, seed).write_text(json.dumps({"corpus": corpus, "method": method, "seed": seed,
                                                               **fields}))


ORACLE_CURVE = [{"temperature": t, "nll_oracle": 8 + 2 * t, "nll_div": 5 * t, "nll_test": 7.0} for t in (0.5, 1, 1.5)]
TEXT_CURVE = [{"temperature": t, "bleu_4": 0.6 - 0.2 * t, "self_bleu_4": 0.9 - 0.4 * t} for t in (0.5, 1, 1.5)]


def synthetic_study(folder, latent=False):
    """Five seeds of an oracle study (a Gumbel GAN .52 nats more diverse than its curve) and a COCO
    study (SeqGAN .07 less diverse; with ``latent``, a latent GAN .08 more diverse than its Gaussian)."""
    for seed in range(5):
        _write(folder, "oracle", "mle", seed, nll_oracle=10.0, nll_div=5.0, nll_test=7.0,
               temperature_curve=ORACLE_CURVE)
        # NLL_oracle 9 is the curve's quality at tau = 0.5, where its NLL_div is 2.5: the GAN's 3.0 is more diverse
        _write(folder, "oracle", "gumbel", seed, nll_oracle=9.0, nll_div=3.0 + 0.01 * seed, nll_test=7.5)
        _write(folder, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0,
               temperature_curve=TEXT_CURVE)
        # BLEU-4 .5 is the curve's at tau = 0.5, Self-BLEU-4 .7 there: the GAN's .75 is less diverse
        _write(folder, "coco", "seqgan", seed, bleu_4=0.5, self_bleu_4=0.75 + 0.01 * seed, nll_under_mle=3.5,
               mean_length=9.0)
        if latent:
            _write(folder, "coco", "latent", seed, bleu_4=0.5, self_bleu_4=0.6 + 0.01 * seed, nll_under_mle=3.5,
                   gaussian_curve=TEXT_CURVE)


def test_every_plane_gives_a_positive_gap_to_the_more_diverse_model(tmp_path):
    """On the oracle NLL_div grows with diversity, on text Self-BLEU-4 falls: one sign for both."""
    synthetic_study(tmp_path)
    oracle = summarize(tmp_path, "oracle")
    assert oracle["verdicts"]["gumbel"]["gap"] == pytest.approx(0.52) and PLANES["oracle"].more_diverse_is_higher
    assert oracle["verdicts"]["gumbel"]["verdict"] == MORE_DIVERSE and oracle["verdicts"]["gumbel"]["seeds"] == 5
    coco = summarize(tmp_path, "coco")
    assert coco["verdicts"]["seqgan"]["gap"] == pytest.approx(-0.07)
    assert coco["verdicts"]["seqgan"]["verdict"] == LESS_DIVERSE
    assert {m["metric"] for m in coco["metrics"]} == {"BLEU-4", "Self-BLEU-4", "NLL under MLE", "mean length"}


def test_the_summary_reports_where_seqgans_discriminator_ended_its_pretraining(tmp_path):
    for seed, accuracy in enumerate((0.6, 0.7)):
        _write(tmp_path, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0,
               temperature_curve=TEXT_CURVE)
        _write(tmp_path, "coco", "seqgan", seed, bleu_4=0.5, self_bleu_4=0.75, nll_under_mle=3.5,
               settings={"d_heldout_accuracy": accuracy, "d_rounds_done": 10})
    metrics = {m["metric"]: m for m in summarize(tmp_path, "coco")["metrics"] if m["method"] == "seqgan"}
    accuracy = metrics["D held-out accuracy"]
    assert accuracy["mean"] == pytest.approx(0.65) and accuracy["seeds"] == 2
    assert metrics["D pretraining rounds"]["mean"] == 10


def test_a_frozen_discriminator_that_was_never_pretrained_has_no_pretraining_accuracy():
    from textgan_lib.recipes.summary import _discriminator_metrics

    frozen = {"settings": {"d_heldout_accuracy": None, "d_rounds_done": 0}, "history": []}  # as the text arm records
    assert _discriminator_metrics(frozen) == {}


def test_a_seed_outside_the_sweep_is_named_not_extrapolated(tmp_path):
    curve = [{"temperature": t, "bleu_4": 0.6 - 0.2 * t, "self_bleu_4": 0.9 - 0.4 * t} for t in (0.5, 1, 1.5)]
    for seed in range(2):
        _write(tmp_path, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0, temperature_curve=curve)
        _write(tmp_path, "coco", "latent", seed, bleu_4=0.9, self_bleu_4=0.9, nll_under_mle=2.0,
               gaussian_curve=curve)
    summary = summarize(tmp_path, "coco")
    assert summary["verdicts"]["latent"]["seeds"] == 0 and summary["verdicts"]["latent"]["outside_sweep"] == 2
    assert summary["verdicts"]["latent"]["verdict"].startswith("no verdict: outside the sweep")
    assert summary["verdicts"]["latent_vs_gaussian"]["baseline"] == GAUSSIAN


def test_length_matching_copies_the_gans_histogram_and_falls_back_to_the_nearest_length():
    pool = [["w"] * k for k in (3, 3, 5, 5, 5, 8, 9, 2)]
    chosen = length_matched(pool, [5, 3, 5, 3])
    assert sorted(map(len, chosen)) == [3, 3, 5, 5]
    # 8 is nearest to 7; then 5 and 9 tie at 2 and the shorter goes first, then the last 5
    assert [len(t) for t in length_matched(pool, [7, 7, 7])] == [8, 5, 5]
    with pytest.raises(ValueError, match="smaller"):
        length_matched(pool[:2], [3, 3, 3])


def test_the_controls_give_their_own_verdicts(tmp_path):
    curve = [{"temperature": t, "bleu_4": 0.6 - 0.2 * t, "self_bleu_4": 0.9 - 0.4 * t} for t in (0.5, 1, 1.5)]
    shifted = [{**row, "self_bleu_4": row["self_bleu_4"] + 0.2} for row in curve]  # a less diverse baseline
    for seed in range(5):
        _write(tmp_path, "coco", "mle", seed, bleu_4=0.4, self_bleu_4=0.5, nll_under_mle=3.0,
               temperature_curve=curve, top_p_curve=shifted)
        _write(tmp_path, "coco", "gumbel", seed, bleu_4=0.5, self_bleu_4=0.75 + 0.01 * seed, nll_under_mle=3.5,
               length_matched_curve=shifted)
    verdicts = summarize(tmp_path, "coco")["verdicts"]
    assert verdicts["gumbel"]["verdict"] == LESS_DIVERSE  # .07 less diverse than the temperature curve
    for key, baseline in (("gumbel_vs_top_p", TOP_P), ("gumbel_vs_length_matched", LENGTH_MATCHED)):
        assert verdicts[key]["baseline"] == baseline and verdicts[key]["gap"] == pytest.approx(0.13)
        assert verdicts[key]["verdict"] == f"more diverse than {baseline}"


def test_gaussian_codes_fit_the_codes_on_the_sphere_from_their_own_stream():
    codes = torch.nn.functional.normalize(torch.randn(500, 6, generator=torch.Generator().manual_seed(0)) +
                                          torch.tensor([3.0, 0, 0, 0, 0, 0]), dim=1)
    before = torch.random.get_rng_state()
    narrow = gaussian_codes(codes, 0.5, 2000, rng=torch.Generator().manual_seed(1))
    wide = gaussian_codes(codes, 2.0, 2000, rng=torch.Generator().manual_seed(1))
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's stream is untouched
    torch.testing.assert_close(narrow.norm(dim=1), torch.ones(2000))
    assert torch.equal(narrow, gaussian_codes(codes, 0.5, 2000, rng=torch.Generator().manual_seed(1)))
    assert narrow.std(0).sum() < codes.std(0).sum() < wide.std(0).sum()  # the scale is a temperature
    direction = torch.nn.functional.normalize(codes.mean(0), dim=0)
    torch.testing.assert_close(torch.nn.functional.normalize(narrow.mean(0), dim=0), direction, atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="scale"):
        gaussian_codes(codes, 0.0, 10)


@PADDING_NOT_LEARNED
@pytest.mark.slow  # four small real-text runs (about 15 s)
def test_a_study_runs_each_seed_once_and_summarizes_the_gaps(tmp_path, capsys):
    profile = get_profile("ci", **SMALL)
    out = tmp_path / "study"
    summary = study("coco", ["gumbel"], [0, 1], profile, out)
    said = capsys.readouterr().out
    for method in ("mle", "gumbel"):  # each run says when it is recorded
        assert said.count(f"{run_file(out, 'coco', method, 1)}: recorded with its controls (") == 1
    for method in ("mle", "gumbel"):
        for seed in (0, 1):
            assert run_file(out, "coco", method, seed).is_file()
    mle = json.loads(run_file(out, "coco", "mle", 0).read_text())
    assert [row["temperature"] for row in mle["temperature_curve"]] == [0.2, 0.6, 1.0, 1.6, 3.0]
    row_at_one = next(r for r in mle["temperature_curve"] if r["temperature"] == 1.0)
    assert row_at_one["bleu_4"] == mle["bleu"]["4"]  # the curve at 1 is the MLE run's own samples
    assert {m["method"] for m in summary["metrics"]} == {"mle", "gumbel"}
    assert all(m["seeds"] == 2 for m in summary["metrics"])
    assert len([g for g in summary["gaps"] if g["baseline"] == "the cooled MLE model" and g["method"] == "gumbel"]) == 2
    assert (out / "coco_summary.json").is_file() and (out / "coco_gaps.csv").is_file()
    decided = summary["verdicts"]["gumbel"]
    assert decided["seeds"] + decided["outside_sweep"] == 2  # every seed is counted, matched or not
    gaps = [g["gap"] for g in summary["gaps"]
            if g["baseline"] == "the cooled MLE model" and g["method"] == "gumbel" and g["gap"] is not None]
    assert len(gaps) == decided["seeds"]
    assert decided["verdict"] == (verdict(gaps) if gaps else
                                  "no verdict: outside the sweep of the curve of the cooled MLE model in every seed")
    assert decided["verdict"] in (MORE_DIVERSE, LESS_DIVERSE, INDISTINGUISHABLE) or not gaps
    assert [row["top_p"] for row in mle["top_p_curve"]][-1] == 1.0
    assert 0 <= mle["reference_classifiers"]["ngram_lr_accuracy"] <= 1  # what the data allow a discriminator
    assert set(mle["noise_point"]) == {"bleu_4", "self_bleu_4"} and mle["noise_point"]["bleu_4"] != mle["bleu_4"]
    assert summary["verdicts"]["noise_floor"]["baseline"] == "the cooled MLE model"  # fresh samples, own curve
    assert "reference: n-gram classifier accuracy" in {m["metric"] for m in summary["metrics"] if m["method"] == "mle"}
    assert {m["metric"] for m in summary["metrics"] if m["method"] == "gumbel"} >= {
        "D held-out accuracy, end of training", "D held-out AUC, end of training"}
    gumbel = json.loads(run_file(out, "coco", "gumbel", 1).read_text())
    assert len(gumbel["length_matched_curve"]) == 5 and "gumbel_vs_length_matched" in summary["verdicts"]
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("coco_*_seed*.json")}
    study("coco", ["gumbel"], [0, 1], profile, out)  # everything done: nothing runs again
    assert {p: p.stat().st_mtime_ns for p in out.glob("coco_*_seed*.json")} == stamps
    assert capsys.readouterr().out.count("already recorded, its controls checked") == 4


@PADDING_NOT_LEARNED
@pytest.mark.slow  # two small real-text runs (about 8 s)
def test_curves_recorded_with_fewer_temperatures_are_extended_to_equal_fresh_ones(tmp_path):
    profile = get_profile("ci", **SMALL)
    out = tmp_path / "study"
    study("coco", ["gumbel"], [0], profile, out)
    fresh = {m: json.loads(run_file(out, "coco", m, 0).read_text()) for m in ("mle", "gumbel")}
    for method, key in (("mle", "temperature_curve"), ("gumbel", "length_matched_curve")):
        cut = {**fresh[method], key: fresh[method][key][:3]}  # recorded before the hottest temperatures
        run_file(out, "coco", method, 0).write_text(json.dumps(cut))
        add_controls(out, "coco", method, 0, profile)
        extended = json.loads(run_file(out, "coco", method, 0).read_text())
        assert json.dumps(extended[key]) == json.dumps(fresh[method][key])  # each temperature its own stream


@pytest.mark.slow  # two small oracle runs and their MLE models (about 20 s)
def test_an_oracle_study_scores_the_end_of_training_against_its_seeds_curve(tmp_path):
    profile = get_profile("ci", oracle={"samples": 200})
    out = tmp_path / "study"
    summary = study("oracle", ["seqgan"], [0, 1], profile, out)
    mle, gan = (json.loads(run_file(out, "oracle", m, 0).read_text()) for m in ("mle", "seqgan"))
    at_one = next(r for r in mle["temperature_curve"] if r["temperature"] == 1.0)
    assert mle["nll_oracle"] == at_one["nll_oracle"] and mle["settings"]["epochs"] == profile.oracle.trainer.epochs
    assert gan["history"][-1]["nll_div"] == gan["nll_div"] and gan["settings"]["n_rollouts"] > 0
    assert {r["phase"] for r in gan["history"]} == {"d_pretrain", "adversarial"}
    assert gan["settings"]["d_heldout_accuracy"] == next(r for r in reversed(gan["history"])
                                                         if r["phase"] == "d_pretrain")["d_heldout_accuracy"]
    decided = summary["verdicts"]["seqgan"]
    assert summary["plane"]["quality"] == "nll_oracle" and decided["seeds"] + decided["outside_sweep"] == 2
    assert decided["seeds"] >= 1, "these small runs stay inside the MLE curve's sweep"
    with pytest.raises(ValueError, match="no method"):
        study("oracle", ["latent"], [0], profile, out)


TIMINGS = {"seconds", "elapsed_s", "epoch_s", "tokens_per_s"}


def _without_timings(value):
    """A run file without what the clock measured (everything else must agree)."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@PADDING_NOT_LEARNED
@pytest.mark.slow  # a local Ray instance and two tiny studies (about 40 s)
def test_the_ray_backend_writes_the_files_of_the_local_backend(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="the ray backend's test needs the cluster extra (in the test extra)")
    profile = get_profile("ci", **SMALL)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a Ray task of one CPU, so that float sums agree to the last bit
    try:
        study("coco", ["gumbel"], [0, 1], profile, tmp_path / "local")
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "ray_cache"))  # nothing reused from the local runs
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # Ray keeps a thread count set in the caller's environment
    run_file(tmp_path / "ray", "coco", "mle", 1).parent.mkdir()
    local_mle = json.loads(run_file(tmp_path / "local", "coco", "mle", 1).read_text())
    run_file(tmp_path / "ray", "coco", "mle", 1).write_text(json.dumps(local_mle))  # recorded already: kept
    study("coco", ["gumbel"], [0, 1], profile, tmp_path / "ray", jobs=2, backend="ray")
    for method in ("mle", "gumbel"):
        for seed in (0, 1):
            local, ray = (_without_timings(json.loads(run_file(tmp_path / b, "coco", method, seed).read_text()))
                          for b in ("local", "ray"))
            assert json.dumps(ray) == json.dumps(local), (method, seed)  # as text: NaN equals NaN
    with pytest.raises(ValueError, match="unknown backend"):
        study("coco", ["gumbel"], [0], profile, tmp_path / "x", backend="dask")


def test_a_seeds_gans_run_at_once_after_its_mle_run_and_a_failure_cancels_what_has_not_started():
    """``schedule_runs``, on threads: with two workers the two GANs of one seed must meet at a
    barrier (they run at the same time), each after its seed's MLE run has ended; after a failure
    nothing more starts."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    log, lock, together = [], threading.Lock(), threading.Barrier(2, timeout=10)

    def run(method, seed):
        with lock:
            log.append(("start", method, seed))
        if method != "mle":
            together.wait()  # broken (a timeout) unless both GANs of the seed run at once
        with lock:
            log.append(("end", method, seed))

    with ThreadPoolExecutor(2) as pool:
        schedule_runs(lambda method, seed: pool.submit(run, method, seed), ["seqgan", "gumbel"], [0])
    assert log[:2] == [("start", "mle", 0), ("end", "mle", 0)]
    assert {entry[1] for entry in log[2:]} == {"seqgan", "gumbel"} and len(log) == 6

    started = []

    def failing(method, seed):
        started.append((method, seed))
        if method == "seqgan":
            raise RuntimeError(f"seqgan of seed {seed} failed")
        time.sleep(0.5 * (method == "gumbel"))  # the worker is busy while the study cancels the rest

    with ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError, match="seqgan of seed 0 failed"):
        schedule_runs(lambda method, seed: pool.submit(failing, method, seed), ["seqgan", "gumbel"], [0, 1])
    # one worker: both MLE runs, then seed 0's seqgan fails; the worker may already have taken the
    # next run from its queue (seed 0's gumbel), but seed 1's GANs never start
    assert started[:3] == [("mle", 0), ("mle", 1), ("seqgan", 0)] and started[3:] in ([], [("gumbel", 0)])


@PADDING_NOT_LEARNED
@pytest.mark.slow  # two tiny studies of one seed, the second with two worker processes (about 30 s)
def test_one_seed_with_two_jobs_writes_the_files_of_one_job(tmp_path, monkeypatch):
    """``--jobs 2`` on one seed: its GANs run as tasks of their own once the MLE run is recorded, and
    write what a single process writes."""
    profile = get_profile("ci", **SMALL)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the workers' threads, so that float sums agree to the last bit
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        study("coco", ["gumbel", "gumbel_fixed_critic"], [0], profile, tmp_path / "one")
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setenv("TEXTGAN_CACHE", str(tmp_path / "two_cache"))  # nothing reused from the first study
    summary = study("coco", ["gumbel", "gumbel_fixed_critic"], [0], profile, tmp_path / "two", jobs=2)
    assert {"gumbel", "gumbel_fixed_critic", "gumbel_vs_gumbel_fixed_critic"} <= set(summary["verdicts"])
    for method in ("mle", "gumbel", "gumbel_fixed_critic"):
        one, two = (_without_timings(json.loads(run_file(tmp_path / b, "coco", method, 0).read_text()))
                    for b in ("one", "two"))
        assert json.dumps(two) == json.dumps(one), method  # as text: NaN equals NaN


def _one_thread_study(out, cache):
    """A study in a process of its own (one thread, so float sums agree to the last bit)."""
    import os

    os.environ["TEXTGAN_CACHE"] = str(cache)
    torch.set_num_threads(1)
    study("coco", ["gumbel"], [0], get_profile("ci", **SMALL), out)


@PADDING_NOT_LEARNED
@pytest.mark.slow  # three small studies, two of them at once (about 40 s)
def test_two_studies_on_one_folder_and_cache_both_finish_with_one_studys_files(tmp_path):
    """Issue 36: each run is trained once, under its lock, and both processes end with its file."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    _one_thread_study(tmp_path / "alone", tmp_path / "alone_cache")
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        for done in [pool.submit(_one_thread_study, tmp_path / "shared", tmp_path / "shared_cache") for _ in "ab"]:
            done.result()  # neither crashed
    names = sorted(p.name for p in (tmp_path / "alone").iterdir())
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == names
    for name in names:
        alone, shared = ((tmp_path / run / name).read_text() for run in ("alone", "shared"))
        if name.endswith(".json"):  # as text: NaN equals NaN
            alone, shared = (json.dumps(_without_timings(json.loads(text))) for text in (alone, shared))
        assert shared == alone, name


def test_the_command_line_parses_seed_ranges_and_refuses_bad_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["study", "--corpus", "coco", "--seeds", "4-x", "--out", str(tmp_path)])
    assert stopped.value.code == 2 and "argument --seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["study", "--corpus", "coco", "--jobs", "0", "--out", str(tmp_path)])
    assert "argument --jobs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["study", "--corpus", "oracle", "--backend", "dask", "--out", str(tmp_path)])
    assert "argument --backend" in capsys.readouterr().err


def test_the_command_line_records_the_mle_runs_alone(tmp_path, monkeypatch):
    import textgan_lib.recipes.study as study_module

    given = {}

    def fake_study(corpus, methods, seeds, profile, out, **kwargs):
        given["methods"], given["seeds"] = methods, seeds
        return {"verdicts": {}}

    monkeypatch.setattr(study_module, "study", fake_study)
    assert main(["study", "--corpus", "coco", "--method", "mle", "--seeds", "0", "--out", str(tmp_path)]) == 0
    assert given == {"methods": ["mle"], "seeds": [0]}


def test_the_command_line_says_when_a_verdict_has_one_seed_or_none_in_the_sweep(tmp_path, monkeypatch, capsys):
    import textgan_lib.recipes.study as study_module

    nan = float("nan")
    verdicts = {  # two seeds, one more outside; one seed in the sweep and one outside; every seed outside
        "seqgan": {"baseline": "the cooled MLE model", "gap": 0.1, "low": -0.2, "high": 0.4, "seeds": 2,
                   "same_sign": 2, "outside_sweep": 1, "verdict": "indistinguishable from the cooled MLE model"},
        "one": {"baseline": "the cooled MLE model", "gap": -0.9241, "low": nan, "high": nan, "seeds": 1,
                "same_sign": 1, "outside_sweep": 1, "verdict": "indistinguishable from the cooled MLE model"},
        "none": {"baseline": "the cooled MLE model", "gap": nan, "low": nan, "high": nan, "seeds": 0,
                 "same_sign": 0, "outside_sweep": 2, "verdict": "no verdict: outside the sweep in every seed"},
    }
    monkeypatch.setattr(study_module, "study", lambda *args, **kwargs: {"verdicts": verdicts})
    assert main(["study", "--corpus", "oracle", "--seeds", "0,1", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "oracle / seqgan against the cooled MLE model: diversity gap +0.1000 (95 % CI -0.2000 to +0.4000, "
        "2 of 2 seeds agree), 1 more outside the sweep: indistinguishable from the cooled MLE model",
        "oracle / one against the cooled MLE model: diversity gap -0.9241 (one seed: no interval), 1 more outside "
        "the sweep: indistinguishable from the cooled MLE model",
        "oracle / none against the cooled MLE model: no gap, 2 outside the sweep: no verdict: outside the sweep in "
        "every seed",
    ]
    assert "nan" not in "".join(lines)


def test_a_study_refuses_to_mix_profiles_in_one_folder(tmp_path):
    before_the_tag = {"corpus": "coco", "method": "mle", "profile": "cpu", "seed": 0}
    run_file(tmp_path, "coco", "mle", 0).write_text(json.dumps(before_the_tag))
    with pytest.raises(ValueError, match="a run at profile 'cpu', this study's profile is 'ci'.*its own --out"):
        study("coco", ["gumbel"], [0], "ci", tmp_path)
    flat = get_profile("cpu", real_text={"select_on_validation": True, "patience": 3})
    with pytest.raises(ValueError, match=r"this study's profile is 'cpu-[0-9a-f]{8}'"):
        study("coco", ["gumbel"], [0], flat, tmp_path)


def test_until_flat_studies_the_text_gans_with_selection_and_patience(tmp_path, monkeypatch, capsys):
    import textgan_lib.recipes.study as study_module

    given = {}

    def fake_study(corpus, methods, seeds, profile, out, **kwargs):
        given["profile"] = profile
        return {"verdicts": {}}

    monkeypatch.setattr(study_module, "study", fake_study)
    main(["study", "--corpus", "coco", "--profile", "cpu", "--until-flat", "4", "--out", str(tmp_path)])
    text = given["profile"].real_text
    assert text.select_on_validation and text.patience == 4
    # about ten evaluations per GAN run to choose from: SeqGAN every round of its 10, the Gumbel GAN every 6 of 60
    assert (text.seqgan.rounds, text.seqgan.trainer.eval_every) == (10, 1)
    assert (text.gumbel.iterations, text.gumbel.trainer.eval_every) == (60, 6)
    assert get_profile("cpu").real_text.seqgan.trainer.eval_every == 10  # the presets are left as they were
    assert main(["study", "--corpus", "oracle", "--until-flat", "4", "--out", str(tmp_path)]) == 2  # a bad flag
    assert "the oracle study has none" in capsys.readouterr().err


@pytest.mark.slow  # a small autoencoder, its latent GAN and their code-space tests (about 15 s)
def test_a_code_gan_run_records_its_code_space_tests_and_old_runs_get_them(tmp_path):
    profile = get_profile("ci", **SMALL)
    out = tmp_path / "study"
    summary = study("coco", ["latent"], [0], profile, out)
    run = json.loads(run_file(out, "coco", "latent", 0).read_text())
    assert set(run["code_tests"]) == {"bandwidth", "training codes (control)", "the GAN", "Gaussian, full covariance",
                                      "Gaussian, diagonal"}
    assert {"nn_accuracy", "nn_accuracy_low", "mmd2", "wasserstein_high"} <= set(run["code_tests"]["the GAN"])
    metrics = {m["metric"] for m in summary["metrics"] if m["method"] == "latent"}
    assert {"1-NN accuracy, GAN codes", "1-NN accuracy, Gaussian codes", "MMD², GAN codes"} <= metrics
    full_curve = run["gaussian_curve"]
    assert [row["temperature"] for row in full_curve] == list(GAUSSIAN_SCALES)
    del run["code_tests"]  # a run recorded before the tests existed, and before the smallest scales
    run["gaussian_curve"] = full_curve[3:]
    run_file(out, "coco", "latent", 0).write_text(json.dumps(run))
    add_controls(out, "coco", "latent", 0, profile)
    extended = json.loads(run_file(out, "coco", "latent", 0).read_text())
    assert "code_tests" in extended
    assert json.dumps(extended["gaussian_curve"]) == json.dumps(full_curve)  # each scale has its own stream
