"""The commands of ``textgan`` (see :mod:`textgan_lib.cli`) and :func:`main`, which parses and runs them."""


from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ..paper import SEQGAN_PAPER
from ..recipes.profiles import default_device, describe, get_profile
from ..recipes.real_text import CORPORA, METHODS
from ..recipes.sizes import Profile
from ..recipes.study import BACKENDS, until_flat
from ..recipes.summary import STUDY_CORPORA, STUDY_METHODS
from .arguments import (
    add_settings,
    at_least_one,
    csv_path,
    device_name,
    folder_path,
    non_negative,
    positive,
    profile_name,
    seed_list,
    seed_number,
    unit_interval,
)

# the oracle commands' named flags: each sets one profile field (argparse's dest -> the field's path)
ORACLE_FLAGS = {"n_samples": "oracle.samples", "mle_epochs": "oracle.trainer.epochs"}
MLE_FLAGS = ORACLE_FLAGS | {"init_std": "oracle.init_std"} | {
    f: f"oracle.trainer.{f}" for f in ("eval_every", "lr", "batch_size")}
SEQGAN_FLAGS = ORACLE_FLAGS | {"rounds": "seqgan_oracle.rounds", "rollouts": "seqgan_oracle.trainer.n_rollouts"} | {
    f: f"seqgan_oracle.trainer.{f}" for f in ("d_pretrain_rounds", "d_pretrain_max_rounds", "d_steps", "d_epochs",
                                              "d_samples", "eval_every", "rollout_update_rate", "pg_reduction",
                                              "reward_dtype")}


def _resolved(args: argparse.Namespace, flags: dict[str, str] | None = None, name: str | None = None) -> Profile:
    """The profile of ``--profile`` (or ``name``) with the fields that ``flags`` and ``--set`` give."""
    settings = [(path, getattr(args, dest)) for dest, path in (flags or {}).items() if getattr(args, dest) is not None]
    # --init-std 0: PyTorch's own initialisation (None in the profile)
    settings = [(path, value or None) if path == "oracle.init_std" else (path, value) for path, value in settings]
    overrides: dict = {}
    for path, value in settings + args.set:  # --set last: it wins
        *sections, field = path.split(".")
        node = overrides
        for section in sections:
            node = node.setdefault(section, {})
            if not isinstance(node, dict):
                raise ValueError(f"--set {path}: {section} is set to a value already, not a section")
        node[field] = value
    try:
        return get_profile(name or args.profile, **overrides)
    except ValueError:  # a wrong type or value (a ConfigTypeError is one too): it names the field
        raise
    except TypeError as err:  # an unknown field
        raise ValueError(f"{err} (check the paths given to --set)") from None


def _profile(args: argparse.Namespace) -> None:
    print(describe(_resolved(args, name=args.name)))


def _oracle_mle(args: argparse.Namespace) -> None:
    from ..models.oracle import OracleLSTM
    from ..recipes.oracle import oracle_mle
    from ..recipes.runs import write_csv

    device = _device(args.device)
    profile = _resolved(args, MLE_FLAGS)
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    _, history = oracle_mle(oracle, profile, args.seed, progress=not args.quiet)
    write_csv(history, args.out)
    print(history[["epoch", "nll_oracle", "nll_test", "train_nll", "elapsed_s"]].to_string(index=False))
    print(f"wrote {args.out}; final NLL_oracle {history['nll_oracle'].iloc[-1]:.3f} "
          f"(SeqGAN paper, MLE: {SEQGAN_PAPER.mle_nll}) after {history['elapsed_s'].iloc[-1]:.0f} s on {device} "
          f"with {torch.get_num_threads()} threads")


def _seqgan_oracle(args: argparse.Namespace) -> None:
    from ..models.oracle import OracleLSTM
    from ..recipes.oracle import seqgan_oracle

    device = _device(args.device)
    # --d-pretrain-rounds alone means exactly that many; --d-pretrain-max-rounds lets pretraining go on
    # to the profile's held-out accuracy target
    if args.d_pretrain_max_rounds is None:
        args.d_pretrain_max_rounds = args.d_pretrain_rounds
    profile = _resolved(args, SEQGAN_FLAGS)
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
    from ..models.oracle import OracleLSTM
    from ..recipes.oracle import gumbel_oracle
    from ..recipes.runs import write_csv

    device = _device(args.device)
    profile = _resolved(args)
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
    from ..recipes.real_text import real_text

    device = _device(args.device)
    result = real_text(args.corpus, args.method, _resolved(args), args.seed, out=args.out, device=device,
                       progress=not args.quiet)
    scores = ", ".join(f"BLEU-{n} {v:.3f}" for n, v in result["bleu"].items())
    self_scores = ", ".join(f"Self-BLEU-{n} {v:.3f}" for n, v in result["self_bleu"].items())
    nll = "not defined" if result["nll_test"] is None else f"{result['nll_test']:.3f}"
    print(f"{args.corpus} / {args.method} at profile {result['profile']} on {device}: {scores}; {self_scores}; "
          f"NLL_test {nll}; {result['n_samples']} samples against {result['n_references']} "
          f"references; {result['seconds']:.0f} s. Wrote {args.out}/{args.corpus}_{args.method}.json")


def _study(args: argparse.Namespace) -> None:
    from ..recipes.study import study

    device = _device(args.device)
    profile = _resolved(args)
    if args.until_flat is not None:
        if args.corpus == "oracle":
            raise ValueError("--until-flat selects on validation texts; the oracle study has none")
        profile = until_flat(profile, args.until_flat)
    summary = study(args.corpus, args.method, args.seeds, profile, args.out, jobs=args.jobs, device=str(device),
                    backend=args.backend)
    for method, v in summary["verdicts"].items():
        print(f"{args.corpus} / {method} against {v['baseline']}: {_evidence(v)}: {v['verdict']}")
    print(f"wrote {args.out}/{args.corpus}_summary.json, _summary.csv and _gaps.csv")


def _evidence(verdict: dict) -> str:
    """A summary verdict's numbers in words: the mean gap with its interval over the seeds that have
    one (one seed has no interval; none has no gap) and the seeds outside the baseline's sweep."""
    seeds, outside = verdict["seeds"], verdict.get("outside_sweep", 0)
    words = ("no gap" if seeds == 0 else
             f"diversity gap {verdict['gap']:+.4f} (one seed: no interval)" if seeds == 1 else
             f"diversity gap {verdict['gap']:+.4f} (95 % CI {verdict['low']:+.4f} to {verdict['high']:+.4f}, "
             f"{verdict['same_sign']} of {seeds} seeds agree)")
    more = " more" if seeds else ""
    return words + (f", {outside}{more} outside the sweep" if outside else "")


def _device(name: str) -> torch.device:
    return default_device() if name == "auto" else torch.device(name)


def _fetch_data(args: argparse.Namespace) -> None:
    from ..data.files import DATA_FILES, data_path

    for name, spec in DATA_FILES.items():
        print(f"{name}: {data_path(name)} (sha256 ok; {spec.description})")


def _add_run_options(command: argparse.ArgumentParser) -> None:
    """Options every oracle experiment takes (``--set`` among them)."""
    command.add_argument("--seed", type=seed_number, default=0)
    command.add_argument("--device", type=device_name, default="auto", help="cpu, cuda or auto (default)")
    command.add_argument("--oracle", type=Path, default=None,
                         help="path of target_params_py3.pkl (default: the data layer's copy)")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    add_settings(command)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command: each sets ``run``, the function that runs the parsed command."""
    parser = argparse.ArgumentParser(prog="textgan", description="Experiments and data for the textgan book.")
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="print the resolved size profile and device")
    profile.add_argument("--name", default="auto", help="ci, cpu, gpu or auto (default)")
    add_settings(profile)
    profile.set_defaults(run=_profile)

    mle = commands.add_parser("oracle-mle", help="MLE on the SeqGAN oracle's samples, NLL_oracle every few epochs; "
                                                 "every size defaults to the profile's (gpu: the paper's)")
    mle.add_argument("--out", type=csv_path, required=True, help="CSV file to write")
    mle.add_argument("--profile", type=profile_name, default="gpu", help="ci, cpu, gpu (default: the paper) or auto")
    mle.add_argument("--epochs", dest="mle_epochs", type=positive(int), default=None)
    mle.add_argument("--eval-every", type=positive(int), default=None, help="epochs between evaluations")
    mle.add_argument("--n-samples", type=positive(int), default=None,
                     help="oracle sequences for training and held out, and samples per NLL_oracle")
    mle.add_argument("--lr", type=positive(float), default=None)
    mle.add_argument("--batch-size", type=positive(int), default=None)
    mle.add_argument("--init-std", type=non_negative(float), default=None,
                     help="generator weights ~ N(0, std^2) as in the SeqGAN code (0.1); 0 keeps PyTorch's init")
    _add_run_options(mle)
    mle.set_defaults(run=_oracle_mle)

    seqgan = commands.add_parser("seqgan-oracle", help="the SeqGAN paper's synthetic experiment; every size "
                                                       "defaults to the profile's (gpu: the paper's schedule)")
    seqgan.add_argument("--out", type=csv_path, required=True,
                        help="CSV file to write (rewritten after every evaluation)")
    seqgan.add_argument("--profile", type=profile_name, default="gpu",
                        help="ci, cpu, gpu (default: the paper) or auto")
    seqgan.add_argument("--mle-epochs", type=positive(int), default=None)
    seqgan.add_argument("--n-samples", type=positive(int), default=None,
                        help="oracle sequences for training and held out, and samples per NLL_oracle")
    seqgan.add_argument("--d-pretrain-rounds", type=non_negative(int), default=None,
                        help="discriminator pretraining rounds (exactly these, unless --d-pretrain-max-rounds)")
    seqgan.add_argument("--d-pretrain-max-rounds", type=non_negative(int), default=None,
                        help="go on past --d-pretrain-rounds until the held-out accuracy reaches 75 %%, at most "
                             "this many rounds in all (the profile's: 100 on gpu)")
    seqgan.add_argument("--rounds", type=positive(int), default=None,
                        help="adversarial rounds, at least 1 (the MLE model alone: oracle-mle)")
    seqgan.add_argument("--d-steps", type=positive(int), default=None, help="fresh negative sets per round")
    seqgan.add_argument("--d-epochs", type=positive(int), default=None, help="discriminator epochs per set")
    seqgan.add_argument("--d-samples", type=positive(int), default=None, help="negatives per set")
    seqgan.add_argument("--rollouts", type=positive(int), default=None, help="Monte-Carlo rollouts per prefix")
    seqgan.add_argument("--rollout-update-rate", type=unit_interval, default=None,
                        help="0: roll out with the generator itself (the paper); r in (0, 1): a delayed copy")
    seqgan.add_argument("--pg-reduction", choices=["sum", "mean"], default=None,
                        help="policy-gradient loss over batch and tokens: sum (the SeqGAN code) or mean")
    seqgan.add_argument("--reward-dtype", choices=["float32", "bfloat16", "float16"], default=None,
                        help="precision of reward scoring (default: float32 on a CPU; on CUDA bfloat16 from "
                             "compute capability 8, float16 on 7.x)")
    seqgan.add_argument("--eval-every", type=positive(int), default=None,
                        help="adversarial rounds between evaluations")
    seqgan.add_argument("--time-limit", type=positive(float), default=None,
                        help="seconds; stop the adversarial phase at the first evaluation past it")
    _add_run_options(seqgan)
    seqgan.set_defaults(run=_seqgan_oracle)

    gumbel = commands.add_parser("gumbel-oracle", help="chapter 9: Gumbel-softmax GANs on the SeqGAN oracle")
    gumbel.add_argument("--profile", type=profile_name, default="auto", help="ci, cpu, gpu or auto (default)")
    gumbel.add_argument("--out", type=folder_path, required=True, help="folder for one history CSV per beta_max")
    gumbel.add_argument("--max-beta", type=at_least_one, nargs="+", default=None,
                        help="final inverse temperatures (default: the profile's)")
    _add_run_options(gumbel)
    gumbel.set_defaults(run=_gumbel_oracle)

    real = commands.add_parser("real-text", help="MLE, SeqGAN, the Gumbel GAN, ScratchGAN, the code GANs or a "
                                                 "placebo on COCO captions, Chinese poems or news")
    real.add_argument("--corpus", choices=CORPORA, required=True)
    real.add_argument("--method", choices=METHODS, required=True)
    real.add_argument("--profile", type=profile_name, default="auto", help="ci, cpu, gpu or auto (default)")
    real.add_argument("--out", type=folder_path, required=True, help="folder for the samples, references and scores")
    real.add_argument("--seed", type=seed_number, default=0)
    real.add_argument("--device", type=device_name, default="auto", help="cpu, cuda or auto (default)")
    real.add_argument("--quiet", action="store_true", help="no progress bars")
    add_settings(real)
    real.set_defaults(run=_real_text)

    study = commands.add_parser("study", help="several seeds of each GAN on the oracle or real text, each run in "
                                              "its own file; a summary with confidence intervals and the verdicts")
    study.add_argument("--corpus", choices=STUDY_CORPORA, required=True)
    study.add_argument("--method", choices=["mle", *dict.fromkeys(m for ms in STUDY_METHODS.values() for m in ms)],
                       nargs="+",
                       default=["seqgan", "gumbel"],
                       help="the methods beside MLE, which every seed runs first (`mle` alone: only the MLE runs "
                            "and their controls)")
    study.add_argument("--seeds", type=seed_list, default=[0, 1, 2, 3, 4], help="0-4 (default) or 0,2,5")
    study.add_argument("--profile", type=profile_name, default="auto", help="ci, cpu, gpu or auto (default)")
    study.add_argument("--out", type=folder_path, required=True, help="folder of the run files and the summary")
    study.add_argument("--jobs", type=positive(int), default=1,
                       help="runs at once, each in its own process (a seed's GANs start as soon as its MLE run "
                            "is recorded, so one seed uses every job)")
    study.add_argument("--backend", choices=BACKENDS, default="local",
                       help="local processes (default) or Ray tasks (the cluster of RAY_ADDRESS, or a local Ray)")
    study.add_argument("--device", type=device_name, default="auto", help="cpu, cuda or auto (default)")
    study.add_argument("--until-flat", type=positive(int), metavar="N",
                       help="text GANs: keep the checkpoint of the best diversity gap on validation texts and stop "
                            "once it has not risen for N evaluations (the profile's budget is the limit); a study "
                            "of its own, so give it its own --out")
    add_settings(study)
    study.set_defaults(run=_study)

    fetch = commands.add_parser("fetch-data", help="download and verify every data file into the cache")
    fetch.set_defaults(run=_fetch_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``textgan`` command ``argv``: 0 when it succeeded, 2 (with a message naming the cause)
    when a value or a file stopped it; argparse exits 2 itself on a value its types refuse."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (RuntimeError, ValueError, OSError, FloatingPointError) as err:  # a NaN loss too: it names its cause
        print(f"textgan: error: {err}", file=sys.stderr)
        return 2
    return 0

