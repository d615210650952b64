"""What the chapters use beside the models: glue for computed numbers, captioned tables, the
playgrounds (:mod:`.widgets`), and the tools that keep every chapter's generated cells current
(:mod:`.notebooks`, run as ``python -m textgan_lib.book``)."""

from .notebooks import captioned, glue

__all__ = ["captioned", "glue"]
