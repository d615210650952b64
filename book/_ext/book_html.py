"""Two fixes to Jupyter Book 1's HTML, so that a reader's browser shows the book as written.

- Scripts once per page: sphinx-thebe and sphinx-togglebutton register their inline scripts both
  before and after the HTML builder starts (once with filename ``None``, once with ``""``), and
  Sphinx 7 emits both; the second ``const THEBE_JS_URL = ...`` is a JavaScript error on every page.
- No second figure number: the chapters number their figures in the caption ("Figure 11.2: ..."),
  and sphinx-jupyterbook-latex switches Sphinx's own numbering on for every builder, which would
  print "Fig. 35" before it (a count over the whole book).
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: the list is the builder's own, and extensions (MathJax) still add to it after us
    context["script_files"][:] = unique


def _no_sphinx_figure_numbers(app, config) -> None:
    config.numfig = False


def setup(app):
    # Early: Sphinx stops calling this event's handlers at the first that returns a template name.
    app.connect("html-page-context", _unique_scripts, priority=100)
    # Late: after sphinx-jupyterbook-latex's own config-inited handler has switched numbering on.
    app.connect("config-inited", _no_sphinx_figure_numbers, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
