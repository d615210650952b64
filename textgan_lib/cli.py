"""The ``textgan`` command line.

    textgan profile [--name auto]               the resolved size profile and device
    textgan oracle-mle --out mle.csv [...]      the SeqGAN paper's MLE experiment, as a CSV
    textgan seqgan-oracle --out seqgan.csv      the paper's SeqGAN experiment (MLE, D pretraining, adversarial)
    textgan gumbel-oracle --profile cpu --out DIR
                                                chapter 9: Gumbel GANs on the oracle, one CSV per beta_max
    textgan real-text --corpus coco --method gumbel --profile cpu --out DIR
                                                a GAN (or MLE) on real text: samples, references, scores
    textgan study --corpus coco --seeds 0-4 --profile cpu --out DIR [--backend ray]
                                                several seeds per method; verdicts with confidence intervals
    textgan fetch-data                          download and verify every data file into the cache
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from .paper import SEQGAN_PAPER
from .recipes.profiles import PROFILES, describe, get_profile, until_flat
from .recipes.real_text import CORPORA, METHODS
from .recipes.study import BACKENDS
from .recipes.summary import STUDY_CORPORA, STUDY_METHODS


def _profile(args: argparse.Namespace) -> None:
    print(describe(get_profile(args.name)))


def _given(values: dict, **sections: dict) -> dict:
    """The entries given on the command line (not None), and the sections that have any."""
    return {**{k: v for k, v in values.items() if v is not None}, **{k: v for k, v in sections.items() if v}}


def _oracle_overrides(args: argparse.Namespace, **trainer: object) -> dict:
    """The oracle section's fields that the flags set (``--init-std 0``: PyTorch's initialisation)."""
    oracle = _given({"samples": args.n_samples}, trainer=_given({"epochs": args.mle_epochs, **trainer}))
    if getattr(args, "init_std", None) is not None:
        oracle["init_std"] = args.init_std or None
    return oracle


def _oracle_mle(args: argparse.Namespace) -> None:
    from .models.oracle import OracleLSTM
    from .recipes.oracle import oracle_mle
    from .recipes.runs import write_csv

    device = _device(args.device)
    profile = get_profile(args.profile, oracle=_oracle_overrides(args, eval_every=args.eval_every, lr=args.lr,
                                                                 batch_size=args.batch_size))
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    _, history = oracle_mle(oracle, profile, args.seed, progress=not args.quiet)
    write_csv(history, args.out)
    print(history[["epoch", "nll_oracle", "nll_test", "train_nll", "elapsed_s"]].to_string(index=False))
    print(f"wrote {args.out}; final NLL_oracle {history['nll_oracle'].iloc[-1]:.3f} "
          f"(SeqGAN paper, MLE: {SEQGAN_PAPER.mle_nll}) after {history['elapsed_s'].iloc[-1]:.0f} s on {device} "
          f"with {torch.get_num_threads()} threads")


def _seqgan_oracle(args: argparse.Namespace) -> None:
    from .models.oracle import OracleLSTM
    from .recipes.oracle import seqgan_oracle

    device = _device(args.device)
    # --d-pretrain-rounds alone means exactly that many; --d-pretrain-max-rounds lets pretraining go on
    # to the profile's held-out accuracy target
    max_rounds = args.d_pretrain_max_rounds
    if max_rounds is None and args.d_pretrain_rounds is not None:
        max_rounds = args.d_pretrain_rounds
    trainer = _given({"d_pretrain_rounds": args.d_pretrain_rounds, "d_pretrain_max_rounds": max_rounds,
                      "d_steps": args.d_steps, "d_epochs": args.d_epochs,
                      "d_samples": args.d_samples, "n_rollouts": args.rollouts, "eval_every": args.eval_every,
                      "rollout_update_rate": args.rollout_update_rate, "pg_reduction": args.pg_reduction,
                      "reward_dtype": args.reward_dtype})
    profile = get_profile(args.profile, oracle=_oracle_overrides(args),
                          seqgan_oracle=_given({"rounds": args.rounds}, trainer=trainer))
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    sizes = profile.seqgan_oracle
    print(f"on {device} ({hardware}), torch {torch.__version__}: MLE {profile.oracle.trainer.epochs} epochs, then "
          f"{sizes.config(args.seed)}, {sizes.rounds} adversarial rounds", flush=True)
    history = seqgan_oracle(oracle, profile, args.seed, time_limit_s=args.time_limit, out=args.out,
                            progress=not args.quiet)
    columns = ["phase", "epoch", "round", "nll_oracle", "nll_test", "elapsed_s"]
    evaluations = history[history["phase"] != "d_pretrain"][columns]
    print(evaluations.to_string(index=False))
    mle, last = history[history["phase"] == "mle"].iloc[-1], history[history["phase"] == "adversarial"].iloc[-1]
    print(f"wrote {args.out}; NLL_oracle MLE {mle['nll_oracle']:.3f} -> SeqGAN {last['nll_oracle']:.3f} after "
          f"{int(last['round'])} of {sizes.rounds} rounds (paper: {SEQGAN_PAPER.mle_nll} -> "
          f"{SEQGAN_PAPER.seqgan_nll} after {SEQGAN_PAPER.adversarial_rounds}); NLL_test "
          f"{mle['nll_test']:.3f} -> {last['nll_test']:.3f}; {last['elapsed_s']:.0f} s in all")


def _gumbel_oracle(args: argparse.Namespace) -> None:
    from .models.oracle import OracleLSTM
    from .recipes.oracle import gumbel_oracle
    from .recipes.runs import write_csv

    device = _device(args.device)
    profile = get_profile(args.profile)
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    args.out.mkdir(parents=True, exist_ok=True)
    for max_beta in args.max_beta or profile.gumbel_oracle.max_betas:
        _, history = gumbel_oracle(oracle, profile, args.seed, max_beta=max_beta, progress=not args.quiet)
        path = write_csv(history, args.out / f"gumbel_oracle_beta{max_beta:g}.csv")
        first, last = history.iloc[0], history.iloc[-1]
        print(f"beta_max {max_beta:g} at profile {profile.name} on {device}: NLL_oracle {first['nll_oracle']:.3f} "
              f"-> {last['nll_oracle']:.3f}, NLL_div {first['nll_div']:.3f} -> {last['nll_div']:.3f} after "
              f"{int(last['iteration'])} iterations ({last['elapsed_s']:.0f} s); wrote {path}", flush=True)


def _real_text(args: argparse.Namespace) -> None:
    from .recipes.real_text import real_text

    device = _device(args.device)
    result = real_text(args.corpus, args.method, args.profile, args.seed, out=args.out, device=device,
                       progress=not args.quiet)
    scores = ", ".join(f"BLEU-{n} {v:.3f}" for n, v in result["bleu"].items())
    self_scores = ", ".join(f"Self-BLEU-{n} {v:.3f}" for n, v in result["self_bleu"].items())
    nll = "not defined" if result["nll_test"] is None else f"{result['nll_test']:.3f}"
    print(f"{args.corpus} / {args.method} at profile {result['profile']} on {device}: {scores}; {self_scores}; "
          f"NLL_test {nll}; {result['n_samples']} samples against {result['n_references']} "
          f"references; {result['seconds']:.0f} s. Wrote {args.out}/{args.corpus}_{args.method}.json")


def _study(args: argparse.Namespace) -> None:
    from .recipes.study import study

    device = _device(args.device)
    profile = args.profile
    if args.until_flat is not None:
        if args.corpus == "oracle":
            raise ValueError("--until-flat selects on validation texts; the oracle study has none")
        profile = until_flat(get_profile(profile), args.until_flat)
    summary = study(args.corpus, args.method, args.seeds, profile, args.out, jobs=args.jobs, device=str(device),
                    backend=args.backend)
    for method, v in summary["verdicts"].items():
        print(f"{args.corpus} / {method} against {v['baseline']}: diversity gap {v['gap']:+.4f} "
              f"(95 % CI {v['low']:+.4f} to {v['high']:+.4f}, "
              f"{v['same_sign']} of {v['seeds']} seeds agree): {v['verdict']}")
    print(f"wrote {args.out}/{args.corpus}_summary.json, _summary.csv and _gaps.csv")


def _device(name: str) -> torch.device:
    return torch.device(name if name != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))


def _fetch_data(args: argparse.Namespace) -> None:
    from .data.files import DATA_FILES, data_path

    for name, spec in DATA_FILES.items():
        print(f"{name}: {data_path(name)} (sha256 ok; {spec.description})")


# -- argument types: a bad value stops before any work, with argparse's message naming the flag (exit 2)


def _positive(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        value = _number(kind, text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _non_negative(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        value = _number(kind, text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be {kind.__name__} >= 0, got {text}")
        return value

    parse.__name__ = f"non-negative {kind.__name__}"
    return parse


def _number(kind: type, text: str) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def _unit_interval(text: str) -> float:
    value = _number(float, text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value


def _at_least_one(text: str) -> float:
    value = _number(float, text)
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (the schedules start at 1), got {text}")
    return value


def _profile_name(text: str) -> str:
    if text != "auto" and text not in PROFILES:
        raise argparse.ArgumentTypeError(f"unknown profile {text!r}: choose one of {sorted(PROFILES)} or auto")
    return text


def _device_name(text: str) -> str:
    if text not in ("auto", "cpu") and not text.startswith("cuda"):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}: choose cpu, cuda or auto")
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text} asked for, but this torch sees no CUDA GPU "
                                         f"(torch {torch.__version__}); use --device cpu")
    return text


def _csv_path(text: str) -> Path:
    """A file to write: not a folder, in a folder that exists or can be made, writable."""
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give the path of the CSV file to write")
    if path.exists() and not path.resolve().is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a regular file (a FIFO, socket or device); "
                                         "give the path of the CSV file to write")
    _writable_folder(path.parent)
    return path


def _folder(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file; give a folder (it is made if missing)")
    _writable_folder(path)
    return path


def _writable_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise argparse.ArgumentTypeError(f"cannot make the folder {folder}: {err.strerror}") from err
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"the folder {folder} is not writable")


MAX_SEED = 2**31 - 1  # the largest seed every random generator of the library (and NumPy's) accepts


def _seed(text: str) -> int:
    value = _number(int, text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {MAX_SEED}, got {text}")
    return value


def _seed_list(text: str) -> list[int]:
    """``0-4`` or ``0,2,5``: the seeds of a study."""
    try:
        if "-" in text:
            first, last = (int(x) for x in text.split("-"))
            bounds = [first, last] if first <= last else []
        else:
            bounds = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds as 0-4 or 0,1,2, got {text!r}") from None
    if not bounds or min(bounds) < 0 or max(bounds) > MAX_SEED:  # checked before a range is built
        raise argparse.ArgumentTypeError(f"expected one or more seeds from 0 to {MAX_SEED}, got {text!r}")
    return list(range(bounds[0], bounds[1] + 1)) if "-" in text else bounds


def _add_run_options(command: argparse.ArgumentParser) -> None:
    """Options every oracle experiment takes."""
    command.add_argument("--seed", type=_seed, default=0)
    command.add_argument("--device", type=_device_name, default="auto", help="cpu, cuda or auto (default)")
    command.add_argument("--oracle", type=Path, default=None,
                         help="path of target_params_py3.pkl (default: the data layer's copy)")
    command.add_argument("--quiet", action="store_true", help="no progress bars")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="textgan", description="Experiments and data for the textgan book.")
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="print the resolved size profile and device")
    profile.add_argument("--name", default="auto", help="ci, cpu, gpu or auto (default)")
    profile.set_defaults(run=_profile)

    mle = commands.add_parser("oracle-mle", help="MLE on the SeqGAN oracle's samples, NLL_oracle every few epochs; "
                                                 "every size defaults to the profile's (gpu: the paper's)")
    mle.add_argument("--out", type=_csv_path, required=True, help="CSV file to write")
    mle.add_argument("--profile", type=_profile_name, default="gpu", help="ci, cpu, gpu (default: the paper) or auto")
    mle.add_argument("--epochs", dest="mle_epochs", type=_positive(int), default=None)
    mle.add_argument("--eval-every", type=_positive(int), default=None, help="epochs between evaluations")
    mle.add_argument("--n-samples", type=_positive(int), default=None,
                     help="oracle sequences for training and held out, and samples per NLL_oracle")
    mle.add_argument("--lr", type=_positive(float), default=None)
    mle.add_argument("--batch-size", type=_positive(int), default=None)
    mle.add_argument("--init-std", type=_non_negative(float), default=None,
                     help="generator weights ~ N(0, std^2) as in the SeqGAN code (0.1); 0 keeps PyTorch's init")
    _add_run_options(mle)
    mle.set_defaults(run=_oracle_mle)

    seqgan = commands.add_parser("seqgan-oracle", help="the SeqGAN paper's synthetic experiment; every size "
                                                       "defaults to the profile's (gpu: the paper's schedule)")
    seqgan.add_argument("--out", type=_csv_path, required=True,
                        help="CSV file to write (rewritten after every evaluation)")
    seqgan.add_argument("--profile", type=_profile_name, default="gpu",
                        help="ci, cpu, gpu (default: the paper) or auto")
    seqgan.add_argument("--mle-epochs", type=_positive(int), default=None)
    seqgan.add_argument("--n-samples", type=_positive(int), default=None,
                        help="oracle sequences for training and held out, and samples per NLL_oracle")
    seqgan.add_argument("--d-pretrain-rounds", type=_non_negative(int), default=None,
                        help="discriminator pretraining rounds (exactly these, unless --d-pretrain-max-rounds)")
    seqgan.add_argument("--d-pretrain-max-rounds", type=_non_negative(int), default=None,
                        help="go on past --d-pretrain-rounds until the held-out accuracy reaches 75 %%, at most "
                             "this many rounds in all (the profile's: 100 on gpu)")
    seqgan.add_argument("--rounds", type=_positive(int), default=None,
                        help="adversarial rounds, at least 1 (the MLE model alone: oracle-mle)")
    seqgan.add_argument("--d-steps", type=_positive(int), default=None, help="fresh negative sets per round")
    seqgan.add_argument("--d-epochs", type=_positive(int), default=None, help="discriminator epochs per set")
    seqgan.add_argument("--d-samples", type=_positive(int), default=None, help="negatives per set")
    seqgan.add_argument("--rollouts", type=_positive(int), default=None, help="Monte-Carlo rollouts per prefix")
    seqgan.add_argument("--rollout-update-rate", type=_unit_interval, default=None,
                        help="0: roll out with the generator itself (the paper); r in (0, 1): a delayed copy")
    seqgan.add_argument("--pg-reduction", choices=["sum", "mean"], default=None,
                        help="policy-gradient loss over batch and tokens: sum (the SeqGAN code) or mean")
    seqgan.add_argument("--reward-dtype", choices=["float32", "bfloat16", "float16"], default=None,
                        help="precision of reward scoring (default: float32 on a CPU; on CUDA bfloat16 from "
                             "compute capability 8, float16 on 7.x)")
    seqgan.add_argument("--eval-every", type=_positive(int), default=None,
                        help="adversarial rounds between evaluations")
    seqgan.add_argument("--time-limit", type=_positive(float), default=None,
                        help="seconds; stop the adversarial phase at the first evaluation past it")
    _add_run_options(seqgan)
    seqgan.set_defaults(run=_seqgan_oracle)

    gumbel = commands.add_parser("gumbel-oracle", help="chapter 9: Gumbel-softmax GANs on the SeqGAN oracle")
    gumbel.add_argument("--profile", type=_profile_name, default="auto", help="ci, cpu, gpu or auto (default)")
    gumbel.add_argument("--out", type=_folder, required=True, help="folder for one history CSV per beta_max")
    gumbel.add_argument("--max-beta", type=_at_least_one, nargs="+", default=None,
                        help="final inverse temperatures (default: the profile's)")
    _add_run_options(gumbel)
    gumbel.set_defaults(run=_gumbel_oracle)

    real = commands.add_parser("real-text", help="MLE, SeqGAN, the Gumbel GAN or the latent GAN on COCO captions "
                                                 "or Chinese poems")
    real.add_argument("--corpus", choices=CORPORA, required=True)
    real.add_argument("--method", choices=METHODS, required=True)
    real.add_argument("--profile", type=_profile_name, default="auto", help="ci, cpu, gpu or auto (default)")
    real.add_argument("--out", type=_folder, required=True, help="folder for the samples, references and scores")
    real.add_argument("--seed", type=_seed, default=0)
    real.add_argument("--device", type=_device_name, default="auto", help="cpu, cuda or auto (default)")
    real.add_argument("--quiet", action="store_true", help="no progress bars")
    real.set_defaults(run=_real_text)

    study = commands.add_parser("study", help="several seeds of each GAN on the oracle or real text, each run in "
                                              "its own file; a summary with confidence intervals and the verdicts")
    study.add_argument("--corpus", choices=STUDY_CORPORA, required=True)
    study.add_argument("--method", choices=list(dict.fromkeys(m for ms in STUDY_METHODS.values() for m in ms)),
                       nargs="+",
                       default=["seqgan", "gumbel"],
                       help="the methods beside MLE (which every seed runs first)")
    study.add_argument("--seeds", type=_seed_list, default=[0, 1, 2, 3, 4], help="0-4 (default) or 0,2,5")
    study.add_argument("--profile", type=_profile_name, default="auto", help="ci, cpu, gpu or auto (default)")
    study.add_argument("--out", type=_folder, required=True, help="folder of the run files and the summary")
    study.add_argument("--jobs", type=_positive(int), default=1, help="seeds run at once, each in its own process")
    study.add_argument("--backend", choices=BACKENDS, default="local",
                       help="local processes (default) or Ray tasks (the cluster of RAY_ADDRESS, or a local Ray)")
    study.add_argument("--device", type=_device_name, default="auto", help="cpu, cuda or auto (default)")
    study.add_argument("--until-flat", type=_positive(int), metavar="N",
                       help="text GANs: keep the checkpoint of the best diversity gap on validation texts and stop "
                            "once it has not risen for N evaluations (the profile's budget is the limit); a study "
                            "of its own, so give it its own --out")
    study.set_defaults(run=_study)

    fetch = commands.add_parser("fetch-data", help="download and verify every data file into the cache")
    fetch.set_defaults(run=_fetch_data)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (RuntimeError, ValueError, OSError, FloatingPointError) as err:  # a NaN loss too: it names its cause
        print(f"textgan: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
