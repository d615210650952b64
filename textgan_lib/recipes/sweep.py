"""Where a chapter's text runs stand on the plane: the MLE model's temperature curve and the real texts'
point, kept beside :func:`~textgan_lib.recipes.real_text.real_text`'s files (:func:`temperature_sweep`)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..eval.text_scores import score_samples
from ..eval.verdicts import TEXT_PLANE
from .language import language_model, text_splits
from .measurements import mle_temperature_curve
from .runs import write_csv, write_text_atomic
from .sizes import Profile

__all__ = ["temperature_sweep"]


def temperature_sweep(corpus: str, profile: Profile, seed: int, *, out: str | Path,
                      device: str = "cpu") -> tuple[pd.DataFrame, dict[str, float]]:
    """Chapter 10's references on the plane for ``corpus``: the seed's MLE model's
    :func:`mle_temperature_curve` and the point of the real held-out (validation) texts scored as
    samples by the same protocol. Both are written beside
    :func:`~textgan_lib.recipes.real_text.real_text`'s files in ``out``, as
    ``<corpus>_mle_temperature_curve.csv`` and ``<corpus>_real_point.json`` (chapters 11 and 12 read
    them there), and returned."""
    data = text_splits(corpus, profile)
    model, _ = language_model(data, profile, seed, device=device, progress=False)
    curve = mle_temperature_curve(model, data, profile, seed)
    sizes = profile.real_text
    scored = score_samples(data.valid_texts[: sizes.samples], data.test_texts[: sizes.references], data.train_texts,
                           sizes.self_bleu_subset)
    real = {key: scored[key] for key in (TEXT_PLANE.quality, TEXT_PLANE.diversity)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(curve, out / f"{corpus}_mle_temperature_curve.csv")
    write_text_atomic(out / f"{corpus}_real_point.json", json.dumps(real) + "\n")
    return curve, real
