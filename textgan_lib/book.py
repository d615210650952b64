"""Helpers for the book's chapters: quoting computed numbers in the prose.

``glue`` hands a value to myst-nb, which substitutes it into the page at build time
(``{glue:text}`name```). Outside a Jupyter Book build (Colab, plain Jupyter) myst-nb may be
missing; then the value is only shown, so a chapter runs the same everywhere.
"""

from __future__ import annotations

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
