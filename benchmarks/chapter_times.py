"""Each chapter's measured execution time and its longest cell, read from a book build's execution cache.

Run after the README's build (``jupyter-book build .``, which executes the chapters through
jupyter-cache, with every cell's start and end stamped by ``book/_ext/cell_times.py``): reads
every chapter's latest execution from ``_build/.jupyter_cache`` and writes
``benchmarks/results/chapter_times_<profile>.json`` with each chapter's total, its longest code
cell (id, first line, seconds) and the build's cell timeout (``_config.yml``). A test holds every
recorded cell to a quarter of that timeout, so a machine four times slower still builds.
``python -m textgan_lib.book`` then writes the times into each chapter's "Running this chapter" note.

    python benchmarks/chapter_times.py --profile cpu --note "fresh TEXTGAN_CACHE, 2 cores"
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import torch
import yaml
from seqgan_step import cpu_description  # this folder is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent


def cell_seconds(cell: dict) -> float | None:
    """How long a code cell of an executed notebook ran, from nbclient's timing stamps (None
    without them: a cell that was not executed, or a build that did not record them)."""
    stamps = cell.get("metadata", {}).get("execution", {})
    start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
    if start is None or end is None:
        return None
    return (datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)).total_seconds()


def longest_cell(notebook: dict) -> dict | None:
    """The code cell of ``notebook`` that ran longest: its id, first line and seconds."""
    timed = [(seconds, cell) for cell in notebook["cells"] if cell["cell_type"] == "code"
             if (seconds := cell_seconds(cell)) is not None]
    if not timed:
        return None
    seconds, cell = max(timed, key=lambda pair: pair[0])
    source = "".join(cell["source"]).strip()
    return {"id": cell.get("id"), "first_line": source.splitlines()[0] if source else "",
            "seconds": round(seconds, 1)}


def chapter_records(cache_paths: list[Path]) -> dict[str, dict]:
    """Each chapter's latest execution in the jupyter-caches at ``cache_paths`` (one build's, or
    several when chapters were built apart): its seconds and its longest cell (None when the build
    kept no cell times)."""
    from jupyter_cache import get_cache

    latest: dict[str, tuple[object, object]] = {}
    for cache_path in cache_paths:
        if not cache_path.is_dir():
            raise SystemExit(f"no execution cache at {cache_path}: build the book first (jupyter-book build .)")
        cache = get_cache(str(cache_path))
        for record in cache.list_cache_records():
            stem = Path(record.uri).stem
            if (record.data or {}).get("execution_seconds") is not None and (
                    stem not in latest or record.created > latest[stem][1].created):
                latest[stem] = (cache, record)
    return {stem: {"seconds": round(record.data["execution_seconds"], 1),
                   "longest_cell": longest_cell(cache.get_cache_bundle(record.pk).nb)}
            for stem, (cache, record) in sorted(latest.items())}


def _machine(device: str) -> str:
    threads = torch.get_num_threads()
    return f"{device}, {threads} thread{'s' if threads > 1 else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="the profile the build ran at")
    parser.add_argument("--cache", type=Path, action="append",
                        help="a build's execution cache (default: _build/.jupyter_cache); give several "
                             "for chapters built apart: each chapter's latest execution counts")
    parser.add_argument("--note", default="", help="how the build ran (cache state, load)")
    parser.add_argument("--update", action="store_true",
                        help="replace only the chapters the caches hold and keep the recorded times of the "
                             "others (a chapter added or rebuilt alone); the note is added to the recorded one")
    args = parser.parse_args()
    out = REPO / "benchmarks" / "results" / f"chapter_times_{args.profile}.json"
    records = chapter_records(args.cache or [REPO / "_build" / ".jupyter_cache"])
    records_measured = set(records)
    chapters = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
    recorded = json.loads(out.read_text(encoding="utf-8")) if args.update and out.is_file() else None
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else cpu_description()[0]
    apart = {}
    if recorded is not None:
        apart = recorded.get("measured_apart", {}) | {
            chapter: f"{_machine(device)} ({datetime.date.today().isoformat()}, built apart from the "
                     "others: see the record's note)" for chapter in records}
        for chapter in chapters:
            if chapter not in records and chapter in recorded["chapters"]:
                records[chapter] = {"seconds": recorded["chapters"][chapter],
                                    "longest_cell": recorded["longest_cells"][chapter]}
    missing = [c for c in chapters if c not in records]
    if missing:
        raise SystemExit(f"the cache has no execution time for {missing}: build the whole book first")
    untimed = [c for c in chapters if records[c]["longest_cell"] is None]
    if untimed:
        raise SystemExit(f"the cache has no cell times for {untimed}: build with book/_ext/cell_times.py "
                         "listed in _config.yml (sphinx: local_extensions), after `jupyter-book clean . --all`")
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    record = {
        "profile": args.profile,
        "command": f"jupyter-book build . && python benchmarks/chapter_times.py --profile {args.profile}",
        "machine": _machine(device) if recorded is None else recorded["machine"],
        # an update keeps the build's date; its note says when the chapters it adds were measured
        "date": datetime.date.today().isoformat() if recorded is None else recorded["date"],
        "torch": torch.__version__,
        "note": args.note if recorded is None else f"{recorded['note']}; then: {args.note}",
        "total_s": round(sum(records[c]["seconds"] for c in chapters), 1),
        "cell_timeout_s": config["execute"]["timeout"],
        "chapters": {c: records[c]["seconds"] for c in chapters},
        "longest_cells": {c: records[c]["longest_cell"] for c in chapters},
    }
    if apart:
        record["measured_apart"] = {c: apart[c] for c in chapters if c in apart}
    # what changed in a chapter since its time was measured, until it is measured again
    changed = {c: why for c, why in (recorded or {}).get("changed_since", {}).items() if c not in records_measured}
    if changed:
        record["changed_since"] = changed
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
