"""Helpers for the book's chapters: quoting computed numbers in the prose, captioned tables, the
Colab install cell and the "Running this chapter" notes.

``glue`` hands a value to myst-nb, which substitutes it into the page at build time
(``{glue:text}`name```). Outside a Jupyter Book build (Colab, plain Jupyter) myst-nb may be
missing; then the value is only shown, so a chapter runs the same everywhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the prose (shown in the output only if ``display``).

    NumPy scalars become Python numbers first, so format specs such as ``:.2f`` apply to them.
    """
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            try:  # IPython is there in any notebook; a plain script prints
                from IPython.display import display as show
            except ImportError:
                show = print
            show(value)
        return
    myst_glue(name, value, display=display)


def captioned(frame: Any, caption: str) -> Any:
    """``frame`` (a DataFrame or Series) with ``caption`` above it, as the book shows a table: a
    pandas ``Styler``, whose caption travels with the table into Jupyter, Colab and the HTML page.

    Numbers are shown as the chapter rounded them (at most six significant digits), not padded to
    a fixed number of decimals.
    """
    if hasattr(frame, "to_frame") and not hasattr(frame, "columns"):  # a Series
        frame = frame.to_frame()
    return frame.style.set_caption(caption).format(
        lambda v: f"{v:.6g}" if isinstance(v, float) else v)


INSTALL_CELL_MARK = 'if "google.colab" in sys.modules:'


def colab_install_cell(repository: str, version: str) -> str:
    """The source of every chapter's install cell: in Colab (and only there), install this book's
    library from ``repository`` at the tag ``v<version>``, with pip's exit status checked.

    Nothing Colab already has is reinstalled (the library asks for ``torch>=2.4`` and no widgets),
    and a failed install stops the notebook here with the fix, not one cell later with a
    ``ModuleNotFoundError``. The repository comes from ``_config.yml`` and the version from the
    package: ``python -m textgan_lib.book`` rewrites the cells when either changes.
    """
    source = f"textgan_lib @ git+{repository}@v{version}"
    return f"""import subprocess
import sys

# Colab: install the book's library at the book's version; Colab's torch is kept.
{INSTALL_CELL_MARK}
    SOURCE = "{source}"
    command = [sys.executable, "-m", "pip", "install", "-q", SOURCE]
    pip = subprocess.run(command)  # noqa: S603 -- pip itself, with the line above
    if pip.returncode != 0:
        raise RuntimeError(
            f"pip could not install {{SOURCE}} (its message is above): check that the "
            "runtime is connected to the internet, then rerun this cell"
        )"""


def book_repository(root: Path) -> str:
    """The repository URL of the book's ``_config.yml`` (``repository: url:``)."""
    config = (root / "_config.yml").read_text(encoding="utf-8")
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", config, re.MULTILINE)
    if match is None:
        raise ValueError(f"{root / '_config.yml'} has no repository url")
    return match.group(1)


def sync_install_cells(root: Path, version: str) -> list[Path]:
    """Rewrite the install cell of every chapter in ``root/notebooks``; returns the changed files."""
    expected = colab_install_cell(book_repository(root), version)
    changed = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in notebook["cells"] if INSTALL_CELL_MARK in "".join(c["source"])]
        if len(cells) != 1:
            raise ValueError(f"{path} has {len(cells)} install cells, expected one")
        if _set_source(path, notebook, cells[0], expected):
            changed.append(path)
    return changed


def _set_source(path: Path, notebook: dict, cell: dict, text: str) -> bool:
    """Give ``cell`` of ``notebook`` (read from ``path``) the source ``text`` and write the file;
    False, and nothing written, when it already has it."""
    if "".join(cell["source"]) == text:
        return False
    lines = text.split("\n")
    cell["source"] = [line + "\n" for line in lines[:-1]] + lines[-1:]
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


RUNNING_NOTE_TITLE = ":::{admonition} Running this chapter"


def running_note(chapter: str, plan: dict, times: dict) -> str:
    """The "Running this chapter" note of ``chapter`` (a notebook's stem): its measured minutes at
    each profile from ``times`` (``benchmarks/results/chapter_times_*.json``, keyed by profile),
    with its longest cell's where that was recorded and what changed since where it did, and
    what its profiles change from ``plan`` (its entry in ``book/running.yml``)."""
    lines = [RUNNING_NOTE_TITLE, ":class: tip", ""]
    for profile, what in [("cpu", "the book's build"), ("gpu", "paper-scale runs"), ("colab", "a free Colab GPU")]:
        record = times.get(profile, {})
        seconds = record.get("chapters", {}).get(chapter)
        where = f"`{profile}` ({what}"
        if profile == "colab":
            where += ", picked by `auto` in Colab"
        longest = record.get("longest_cells", {}).get(chapter)
        if seconds is not None:
            cell = f" (its longest cell {longest['seconds'] / 60:.1f} min)" if longest else ""
            # a chapter measured apart from the build (added later) says where and when it was
            measured = record.get("measured_apart", {}).get(chapter, f"{record['machine']} ({record['date']})")
            line = f"- {where}): {seconds / 60:.1f} min{cell}, measured on {measured}."
            # a chapter changed after its measurement says how, until it is measured again
            changed = record.get("changed_since", {}).get(chapter)
            lines.append(f"{line} {changed}" if changed else line)
        elif profile == "colab":
            lines.append(f"- {where}): the `cpu` sizes; not measured yet. Estimate: about the `cpu` time "
                         "or less (Colab has two CPU cores too, and its GPU runs the models that go to it "
                         "faster).")
        else:
            lines.append(f"- {where}): not measured yet (no GPU has run this chapter). {plan['gpu']}")
    lines.append("- `ci`: seconds, a smoke test whose numbers mean little.")
    lines += ["", plan["profiles"].strip(), ":::"]
    return "\n".join(lines)


def sync_running_notes(root: Path) -> list[Path]:
    """Rewrite the "Running this chapter" cell (id ``NN-run``) of every chapter in ``root/notebooks``
    from ``book/running.yml`` and the measured times; returns the changed files."""
    import yaml

    plan = yaml.safe_load((root / "book" / "running.yml").read_text(encoding="utf-8"))
    times = {}
    for path in sorted((root / "benchmarks" / "results").glob("chapter_times_*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        times[record["profile"]] = record
    changed = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if path.stem not in plan:
            raise ValueError(f"book/running.yml has no entry for {path.stem}: add what its profiles change")
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cell_id = path.stem[:2] + "-run"
        cells = [c for c in notebook["cells"] if c.get("id") == cell_id]
        if len(cells) != 1:
            raise ValueError(f"{path} has no markdown cell with id {cell_id} for its running note")
        expected = running_note(path.stem, plan[path.stem], times)
        if _set_source(path, notebook, cells[0], expected):
            changed.append(path)
    return changed

