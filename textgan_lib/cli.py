"""The ``textgan`` command line.

    textgan profile [--name auto]               the resolved size profile and device
    textgan oracle-mle --out mle.csv [...]      the SeqGAN paper's MLE experiment, as a CSV
    textgan seqgan-oracle --out seqgan.csv      the paper's SeqGAN experiment (MLE, D pretraining, adversarial)
    textgan gumbel-oracle --profile cpu --out DIR
                                                chapter 9: Gumbel GANs on the oracle, one CSV per beta_max
    textgan real-text --corpus coco --method gumbel --profile cpu --out DIR
                                                a GAN (or MLE) on real text: samples, references, scores
    textgan fetch-data                          download and verify every data file into the cache
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .paper import SEQGAN_PAPER


def _profile(args: argparse.Namespace) -> None:
    from .recipes.profiles import describe, get_profile

    print(describe(get_profile(args.name)))


def _oracle_mle(args: argparse.Namespace) -> None:
    from .models.oracle import OracleLSTM
    from .recipes.experiments import oracle_mle

    device = _device(args.device)
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    _, history = oracle_mle(oracle, epochs=args.epochs, eval_every=args.eval_every, n_train=args.n_train,
                            n_eval=args.n_eval, lr=args.lr, batch_size=args.batch_size,
                            init_std=None if args.init_std <= 0 else args.init_std, seed=args.seed,
                            progress=not args.quiet)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    history.to_csv(args.out, index=False)
    print(history.to_string(index=False))
    print(f"wrote {args.out}; final NLL_oracle {history['nll_oracle'].iloc[-1]:.3f} "
          f"(SeqGAN paper, MLE: {SEQGAN_PAPER.mle_nll}) after {history['elapsed_s'].iloc[-1]:.0f} s on {device} "
          f"with {torch.get_num_threads()} threads")


def _seqgan_oracle(args: argparse.Namespace) -> None:
    from .models.oracle import OracleLSTM
    from .recipes.experiments import seqgan_oracle
    from .train.seqgan import SeqGANConfig

    device = _device(args.device)
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    config = SeqGANConfig(d_pretrain_rounds=args.d_pretrain_rounds, d_steps=args.d_steps, d_epochs=args.d_epochs,
                          d_samples=args.d_samples, n_rollouts=args.rollouts, eval_every=args.eval_every,
                          rollout_update_rate=args.rollout_update_rate, pg_reduction=args.pg_reduction,
                          reward_dtype=args.reward_dtype, seed=args.seed)
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"on {device} ({hardware}), torch {torch.__version__}: MLE {args.mle_epochs} epochs, then {config}, "
          f"{args.rounds} adversarial rounds", flush=True)
    history = seqgan_oracle(oracle, mle_epochs=args.mle_epochs, rounds=args.rounds, config=config,
                            n_samples=args.n_samples, time_limit_s=args.time_limit, out=args.out,
                            progress=not args.quiet)
    columns = ["phase", "epoch", "round", "nll_oracle", "nll_test", "elapsed_s"]
    evaluations = history[history["phase"] != "d_pretrain"][columns]
    print(evaluations.to_string(index=False))
    mle, last = history[history["phase"] == "mle"].iloc[-1], history[history["phase"] == "adversarial"].iloc[-1]
    print(f"wrote {args.out}; NLL_oracle MLE {mle['nll_oracle']:.3f} -> SeqGAN {last['nll_oracle']:.3f} after "
          f"{int(last['round'])} of {args.rounds} rounds (paper: {SEQGAN_PAPER.mle_nll} -> "
          f"{SEQGAN_PAPER.seqgan_nll} after {SEQGAN_PAPER.adversarial_rounds}); NLL_test "
          f"{mle['nll_test']:.3f} -> {last['nll_test']:.3f}; {last['elapsed_s']:.0f} s in all")


def _gumbel_oracle(args: argparse.Namespace) -> None:
    from .models.oracle import OracleLSTM
    from .recipes.experiments import gumbel_oracle
    from .recipes.profiles import get_profile

    device = _device(args.device)
    profile = get_profile(args.profile)
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    args.out.mkdir(parents=True, exist_ok=True)
    for max_beta in args.max_beta or profile.gumbel_max_betas:
        _, history = gumbel_oracle(oracle, profile, max_beta, seed=args.seed, progress=not args.quiet)
        path = args.out / f"gumbel_oracle_beta{max_beta:g}.csv"
        history.to_csv(path, index=False)
        first, last = history.iloc[0], history.iloc[-1]
        print(f"beta_max {max_beta:g} at profile {profile.name} on {device}: NLL_oracle {first['nll_oracle']:.3f} "
              f"-> {last['nll_oracle']:.3f}, NLL_div {first['nll_div']:.3f} -> {last['nll_div']:.3f} after "
              f"{int(last['iteration'])} iterations ({last['elapsed_s']:.0f} s); wrote {path}", flush=True)


def _real_text(args: argparse.Namespace) -> None:
    from .recipes.real_text import real_text

    device = _device(args.device)
    result = real_text(args.corpus, args.method, args.profile, args.out, seed=args.seed, device=device,
                       progress=not args.quiet)
    scores = ", ".join(f"BLEU-{n} {v:.3f}" for n, v in result["bleu"].items())
    self_scores = ", ".join(f"Self-BLEU-{n} {v:.3f}" for n, v in result["self_bleu"].items())
    nll = "not defined" if result["nll_test"] is None else f"{result['nll_test']:.3f}"
    print(f"{args.corpus} / {args.method} at profile {result['profile']} on {device}: {scores}; {self_scores}; "
          f"NLL_test {nll}; {result['n_samples']} samples against {result['n_references']} "
          f"references; {result['seconds']:.0f} s. Wrote {args.out}/{args.corpus}_{args.method}.json")


def _device(name: str) -> torch.device:
    return torch.device(name if name != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))


def _fetch_data(args: argparse.Namespace) -> None:
    from .data.files import DATA_FILES, data_path

    for name, spec in DATA_FILES.items():
        print(f"{name}: {data_path(name)} (sha256 ok; {spec.description})")


def _add_run_options(command: argparse.ArgumentParser) -> None:
    """Options every oracle experiment takes."""
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    command.add_argument("--oracle", type=Path, default=None,
                         help="path of target_params_py3.pkl (default: the data layer's copy)")
    command.add_argument("--quiet", action="store_true", help="no progress bars")


def main(argv: list[str] | None = None) -> int:
    from .train.seqgan import SeqGANConfig

    parser = argparse.ArgumentParser(prog="textgan", description="Experiments and data for the textgan book.")
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="print the resolved size profile and device")
    profile.add_argument("--name", default="auto", help="ci, cpu, gpu or auto (default)")
    profile.set_defaults(run=_profile)

    mle = commands.add_parser("oracle-mle", help="MLE on the SeqGAN oracle's samples, NLL_oracle every few epochs")
    mle.add_argument("--out", type=Path, required=True, help="CSV file to write")
    mle.add_argument("--epochs", type=int, default=SEQGAN_PAPER.mle_epochs)
    mle.add_argument("--eval-every", type=int, default=SEQGAN_PAPER.mle_eval_every)
    mle.add_argument("--n-train", type=int, default=SEQGAN_PAPER.n_sequences)
    mle.add_argument("--n-eval", type=int, default=SEQGAN_PAPER.n_sequences)
    mle.add_argument("--lr", type=float, default=SEQGAN_PAPER.mle_lr)
    mle.add_argument("--batch-size", type=int, default=SEQGAN_PAPER.batch_size)
    mle.add_argument("--init-std", type=float, default=0.1,
                     help="generator weights ~ N(0, std^2) as in the SeqGAN code; 0 keeps PyTorch's init")
    _add_run_options(mle)
    mle.set_defaults(run=_oracle_mle)

    seqgan = commands.add_parser("seqgan-oracle",
                                 help="the SeqGAN paper's synthetic experiment; defaults: its schedule")
    seqgan.add_argument("--out", type=Path, required=True, help="CSV file to write (rewritten after every evaluation)")
    seqgan.add_argument("--mle-epochs", type=int, default=SEQGAN_PAPER.mle_epochs)
    seqgan.add_argument("--d-pretrain-rounds", type=int, default=SeqGANConfig.d_pretrain_rounds)
    seqgan.add_argument("--rounds", type=int, default=SEQGAN_PAPER.adversarial_rounds, help="adversarial rounds")
    seqgan.add_argument("--d-steps", type=int, default=SeqGANConfig.d_steps, help="fresh negative sets per round")
    seqgan.add_argument("--d-epochs", type=int, default=SeqGANConfig.d_epochs, help="discriminator epochs per set")
    seqgan.add_argument("--d-samples", type=int, default=SeqGANConfig.d_samples, help="negatives per set")
    seqgan.add_argument("--rollouts", type=int, default=SeqGANConfig.n_rollouts)
    seqgan.add_argument("--rollout-update-rate", type=float, default=SeqGANConfig.rollout_update_rate,
                        help="0: roll out with the generator itself (the paper); r > 0: a delayed copy")
    seqgan.add_argument("--pg-reduction", choices=["sum", "mean"], default=SeqGANConfig.pg_reduction,
                        help="policy-gradient loss over batch and tokens: sum (the SeqGAN code) or mean")
    seqgan.add_argument("--reward-dtype", choices=["float32", "bfloat16"], default=SeqGANConfig.reward_dtype,
                        help="precision of reward scoring (default: float32 on a CPU, bfloat16 on CUDA)")
    seqgan.add_argument("--n-samples", type=int, default=SEQGAN_PAPER.n_sequences,
                        help="oracle sequences for training and held out, and samples per NLL_oracle")
    seqgan.add_argument("--eval-every", type=int, default=SeqGANConfig.eval_every,
                        help="adversarial rounds between evaluations")
    seqgan.add_argument("--time-limit", type=float, default=None,
                        help="seconds; stop the adversarial phase at the first evaluation past it")
    _add_run_options(seqgan)
    seqgan.set_defaults(run=_seqgan_oracle)

    gumbel = commands.add_parser("gumbel-oracle", help="chapter 9: Gumbel-softmax GANs on the SeqGAN oracle")
    gumbel.add_argument("--profile", default="auto", help="ci, cpu, gpu or auto (default)")
    gumbel.add_argument("--out", type=Path, required=True, help="folder for one history CSV per beta_max")
    gumbel.add_argument("--max-beta", type=float, nargs="+", default=None,
                        help="final inverse temperatures (default: the profile's)")
    _add_run_options(gumbel)
    gumbel.set_defaults(run=_gumbel_oracle)

    real = commands.add_parser("real-text", help="MLE, SeqGAN, the Gumbel GAN or the latent GAN on COCO captions "
                                                 "or Chinese poems")
    real.add_argument("--corpus", choices=["coco", "poems"], required=True)
    real.add_argument("--method", choices=["mle", "seqgan", "gumbel", "latent"], required=True)
    real.add_argument("--profile", default="auto", help="ci, cpu, gpu or auto (default)")
    real.add_argument("--out", type=Path, required=True, help="folder for the samples, references and scores")
    real.add_argument("--seed", type=int, default=0)
    real.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    real.add_argument("--quiet", action="store_true", help="no progress bars")
    real.set_defaults(run=_real_text)

    fetch = commands.add_parser("fetch-data", help="download and verify every data file into the cache")
    fetch.set_defaults(run=_fetch_data)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (RuntimeError, ValueError, FileNotFoundError) as err:
        print(f"textgan: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
