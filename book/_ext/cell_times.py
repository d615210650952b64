"""Per-cell execution times in the book build's execution cache.

myst-nb executes each chapter through jupyter-cache with nbclient's ``record_timing`` off, so the
cache knows a chapter's total time but not which cell took it. This extension turns the recording
on: nbclient then stamps every executed code cell's metadata (``execution``:
``iopub.execute_input`` and ``shell.execute_reply``), the cache keeps the stamped notebook, and
``benchmarks/chapter_times.py`` reads each chapter's longest cell from it, which a test holds
against the configured cell timeout (``_config.yml``, ``execute.timeout``).

It wraps the one call myst-nb's cache mode makes (``myst_nb.core.execute.cache``, jupyter-book
1.x); with another myst-nb the build still runs, and ``chapter_times.py`` says that no cell times
were recorded.
"""

from __future__ import annotations

import functools


def setup(app):
    try:
        from myst_nb.core.execute import cache
    except ImportError:  # another myst-nb layout: times per chapter only
        return {"parallel_read_safe": True, "parallel_write_safe": True}
    execute = cache.single_nb_execution
    if not isinstance(execute, functools.partial):  # once per process, however many builds
        cache.single_nb_execution = functools.partial(execute, record_timing=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
