"""The quality–diversity plane as the chapters draw it: more diverse to the right on every plane of
the book (Self-BLEU's axis reversed, NLL_div's not), curves joined and annotated with their
temperature (or scale), single models as markers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..eval.verdicts import METRIC_LABELS, Plane


def plane_axes(ax: Any, plane: Plane, title: str | None = None, legend: bool = True) -> None:
    """Label ``ax`` with ``plane``'s metrics, diversity growing to the right, and draw the legend."""
    quality_hint = "higher = better" if plane.better_quality_is_higher else "lower = better"
    if plane.more_diverse_is_higher:
        ax.set_xlabel(f"{METRIC_LABELS[plane.diversity]} (more diverse to the right)")
    else:
        ax.set_xlabel(f"{METRIC_LABELS[plane.diversity]}, reversed (more diverse to the right)")
        if not ax.xaxis_inverted():
            ax.invert_xaxis()
    ax.set_ylabel(f"{METRIC_LABELS[plane.quality]} ({quality_hint})")
    if title is not None:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize=8)


def plot_curve(ax: Any, plane: Plane, curve: pd.DataFrame, label: str, annotate: str | None = "{:g}",
               **style: Any) -> None:
    """``curve``'s points on ``plane``, joined in the order of its ``temperature`` column; each
    annotated with ``annotate.format(temperature)`` unless ``annotate`` is None."""
    ordered = curve.sort_values("temperature")
    ax.plot(ordered[plane.diversity], ordered[plane.quality], **({"marker": "o", "color": "grey"} | style),
            label=label)
    if annotate is not None:
        for _, row in ordered.iterrows():
            ax.annotate(annotate.format(row["temperature"]), (row[plane.diversity], row[plane.quality]),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)


def plot_point(ax: Any, plane: Plane, point: Mapping[str, float], marker: str, label: str, **style: Any) -> None:
    """One model's point on ``plane`` (``point`` holds the plane's columns, as run results do)."""
    ax.plot(point[plane.diversity], point[plane.quality], marker, **({"ms": 13} | style), label=label)
