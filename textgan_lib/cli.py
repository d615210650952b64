"""The ``textgan`` command line.

    textgan profile [--name auto]               the resolved size profile and device
    textgan oracle-mle --out mle.csv [...]      the SeqGAN paper's MLE experiment, as a CSV
    textgan fetch-data                          download and verify every data file into the cache
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch


def _profile(args: argparse.Namespace) -> None:
    from .profiles import describe, get_profile

    print(describe(get_profile(args.name)))


def _oracle_mle(args: argparse.Namespace) -> None:
    from .experiments import oracle_mle
    from .oracle import OracleLSTM

    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    oracle = OracleLSTM.from_seqgan(args.oracle).to(device)
    _, history = oracle_mle(oracle, epochs=args.epochs, eval_every=args.eval_every, n_train=args.n_train,
                            n_eval=args.n_eval, lr=args.lr, batch_size=args.batch_size,
                            init_std=None if args.init_std <= 0 else args.init_std, seed=args.seed,
                            progress=not args.quiet)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    history.to_csv(args.out, index=False)
    print(history.to_string(index=False))
    print(f"wrote {args.out}; final NLL_oracle {history['nll_oracle'].iloc[-1]:.3f} "
          f"(SeqGAN paper, MLE: 9.038) after {history['elapsed_s'].iloc[-1]:.0f} s on {device} "
          f"with {torch.get_num_threads()} threads")


def _fetch_data(args: argparse.Namespace) -> None:
    from .data import DATA_FILES, data_path

    for name, spec in DATA_FILES.items():
        print(f"{name}: {data_path(name)} (sha256 ok; {spec.description})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="textgan", description="Experiments and data for the textgan book.")
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="print the resolved size profile and device")
    profile.add_argument("--name", default="auto", help="ci, cpu, gpu or auto (default)")
    profile.set_defaults(run=_profile)

    mle = commands.add_parser("oracle-mle", help="MLE on the SeqGAN oracle's samples, NLL_oracle every few epochs")
    mle.add_argument("--out", type=Path, required=True, help="CSV file to write")
    mle.add_argument("--epochs", type=int, default=120)
    mle.add_argument("--eval-every", type=int, default=5)
    mle.add_argument("--n-train", type=int, default=10_000)
    mle.add_argument("--n-eval", type=int, default=10_000)
    mle.add_argument("--lr", type=float, default=0.01)
    mle.add_argument("--batch-size", type=int, default=64)
    mle.add_argument("--init-std", type=float, default=0.1,
                     help="generator weights ~ N(0, std^2) as in the SeqGAN code; 0 keeps PyTorch's init")
    mle.add_argument("--seed", type=int, default=0)
    mle.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    mle.add_argument("--oracle", type=Path, default=None, help="path of target_params_py3.pkl (default: data layer)")
    mle.add_argument("--quiet", action="store_true", help="no progress bar")
    mle.set_defaults(run=_oracle_mle)

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
