"""Each chapter's measured execution time, read from a book build's execution cache.

Run after the README's build (``jupyter-book build .``, which executes the chapters through
jupyter-cache): reads every chapter's latest execution time from ``_build/.jupyter_cache`` and
writes ``benchmarks/results/chapter_times_<profile>.json``. ``python -m textgan_lib.book`` then
writes the times into each chapter's "Running this chapter" note.

    python benchmarks/chapter_times.py --profile cpu --note "fresh TEXTGAN_CACHE, 2 cores"
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import torch
from seqgan_step import cpu_description  # this folder is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent


def chapter_seconds(cache_path: Path) -> dict[str, float]:
    """The latest execution time of each chapter in the jupyter-cache at ``cache_path``."""
    from jupyter_cache import get_cache

    if not cache_path.is_dir():
        raise SystemExit(f"no execution cache at {cache_path}: build the book first (jupyter-book build .)")
    latest: dict[str, tuple] = {}
    for record in get_cache(str(cache_path)).list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        stem = Path(record.uri).stem
        if seconds is not None and (stem not in latest or record.created > latest[stem][0]):
            latest[stem] = (record.created, seconds)
    return {stem: round(seconds, 1) for stem, (_, seconds) in sorted(latest.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="the profile the build ran at")
    parser.add_argument("--cache", type=Path, default=REPO / "_build" / ".jupyter_cache")
    parser.add_argument("--note", default="", help="how the build ran (cache state, load)")
    args = parser.parse_args()
    seconds = chapter_seconds(args.cache)
    chapters = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
    missing = [c for c in chapters if c not in seconds]
    if missing:
        raise SystemExit(f"the cache has no execution time for {missing}: build the whole book first")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else cpu_description()[0]
    record = {
        "profile": args.profile,
        "command": f"jupyter-book build . && python benchmarks/chapter_times.py --profile {args.profile}",
        "machine": f"{device}, {torch.get_num_threads()} threads",
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "note": args.note,
        "total_s": round(sum(seconds[c] for c in chapters), 1),
        "chapters": {c: seconds[c] for c in chapters},
    }
    out = REPO / "benchmarks" / "results" / f"chapter_times_{args.profile}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
