"""Render the benchmark results into the book's performance page (``book/performance.md``).

Every ``benchmarks/results/*.json`` is one benchmark run: the JSON line a script printed, plus
``command``, ``machine`` and ``date``. The page gets one section per file, with what the script
measures (the first paragraph of its docstring) and the numbers, so the page always shows the
latest recorded runs and never a number typed by hand.

    python benchmarks/render_results.py          # rewrite book/performance.md
    python benchmarks/render_results.py --check  # exit 1 if the page is out of date
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "book" / "performance.md"
RECORD_KEYS = ("command", "machine", "date")

HEADER = """# Performance

What the benchmark scripts in `benchmarks/` measure, and the latest results recorded in
`benchmarks/results/`. This page is generated from those files by `benchmarks/render_results.py`
(a test checks that it is up to date); rerun a script, save its JSON line there with the command,
the machine and the date, and rerun the renderer. Each number was measured on the machine named
beside it, and only there: times on another CPU or GPU differ.
"""


def script_summary(command: str) -> str:
    """The first paragraph of the docstring of the script that ``command`` runs."""
    script = next((part for part in command.split() if part.endswith(".py")), None)
    if script is None or not (ROOT / script).is_file():
        return ""
    docstring = ast.get_docstring(ast.parse((ROOT / script).read_text(encoding="utf-8"))) or ""
    return " ".join(docstring.split("\n\n")[0].split())


def format_value(value: object) -> str:
    if isinstance(value, dict):  # e.g. seconds per chapter
        return ", ".join(f"{key}: {format_value(item)}" for key, item in value.items())
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render() -> str:
    sections = [HEADER]
    for path in sorted(RESULTS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        missing = [key for key in RECORD_KEYS if key not in record]
        if missing:
            raise ValueError(f"{path} lacks {missing}: add the command, machine and date of the run")
        rows = "\n".join(f"| `{key}` | {format_value(value)} |" for key, value in record.items()
                         if key not in RECORD_KEYS)
        sections.append(
            f"## `{path.name}`\n\n{script_summary(record['command'])}\n\n"
            f"Command: `{record['command']}`; machine: {record['machine']}; date: {record['date']}.\n\n"
            f"| result | value |\n| --- | --- |\n{rows}\n")
    return "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the page is up to date")
    args = parser.parse_args()
    page = render()
    if args.check:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != page:
            sys.exit(f"{PAGE} is out of date: run python benchmarks/render_results.py")
        return
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
