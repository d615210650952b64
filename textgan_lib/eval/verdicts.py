"""The book's verdicts, as pure statistics: the quality–diversity plane, a model's gap to a curve
at matched quality, intervals over seeds, and the one rule by which a verdict is stated.

Everything here is plain Python, NumPy and pandas on recorded numbers (no torch): the study's
summary (:func:`~textgan_lib.recipes.study.summarize`) and the chapters' recorded tables
(:mod:`textgan_lib.book.recorded`) both compute their intervals and verdicts here and nowhere else.

The rule: "more diverse" (or "less diverse") "than the cooled MLE model" only when the 95 %
Student-t interval of the mean gap over seeds excludes 0 *and* the sign holds in at least
:data:`AGREEMENT` of the seeds (4 of 5); otherwise "indistinguishable from the cooled MLE model".
Against another baseline, the same words with its name. Each seed's point is itself an estimate
from a finite sample set, so the spread across seeds already holds the sampling noise as well as
the training noise; the interval over seeds covers both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

COOLED_MLE = "the cooled MLE model"
MORE_DIVERSE = f"more diverse than {COOLED_MLE}"
LESS_DIVERSE = f"less diverse than {COOLED_MLE}"
INDISTINGUISHABLE = f"indistinguishable from {COOLED_MLE}"
# the other baselines: a code GAN's own, and two controls for what a GAN changes besides diversity
GAUSSIAN = "the Gaussian fit of the codes"
TOP_P = "the MLE model truncated by top-p"
LENGTH_MATCHED = "the cooled MLE model at the GAN's lengths"
AGREEMENT = 0.8  # the share of seeds whose gap must have the mean's sign

# Student's t, two-sided 95 %: the 0.975 quantile for 1..30 degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


class OutsideSweepError(ValueError):
    """A model's quality lies outside the range a temperature sweep covered: no match without extrapolating."""


@dataclass(frozen=True)
class TemperatureMatch:
    """Where a model's point sits against a temperature curve at equal quality."""

    temperature: float  # the (interpolated) temperature at which the curve has the model's quality
    curve_diversity: float  # the curve's diversity there
    model_diversity: float
    gap: float  # model_diversity - curve_diversity: > 0 means more diverse at equal quality


def temperature_matched(curve: pd.DataFrame, quality: float, diversity: float, quality_column: str,
                        diversity_column: str) -> TemperatureMatch:
    """Compare a model's (quality, diversity) point with a temperature ``curve`` at equal quality.

    ``curve`` is a table with a ``temperature`` column (e.g. a
    :func:`~textgan_lib.eval.metrics.quality_diversity_sweep`). Between consecutive swept
    temperatures the curve is interpolated linearly; a quality outside the swept range raises
    :class:`OutsideSweepError` rather than extrapolating (widen the sweep). Where the curve reaches
    the quality more than once (very cold samples repeat themselves, so BLEU can fall again as the
    temperature drops), the match is the crossing at the highest temperature: the model cooled as
    little as possible to that quality, the most diverse way the curve has of reaching it.
    """
    ordered = curve.sort_values("temperature")
    tau = ordered["temperature"].to_numpy(dtype=float)
    q = ordered[quality_column].to_numpy(dtype=float)
    d = ordered[diversity_column].to_numpy(dtype=float)
    for i in reversed(range(len(tau) - 1)):  # from the warmest segment down
        lo, hi = sorted((q[i], q[i + 1]))
        if lo <= quality <= hi:
            w = 0.0 if q[i + 1] == q[i] else (quality - q[i]) / (q[i + 1] - q[i])
            curve_diversity = float(d[i] + w * (d[i + 1] - d[i]))
            return TemperatureMatch(float(tau[i] + w * (tau[i + 1] - tau[i])), curve_diversity, diversity,
                                    diversity - curve_diversity)
    raise OutsideSweepError(
        f"{quality_column} = {quality:.4f} lies outside the swept curve ({q.min():.4f} to {q.max():.4f} over "
        f"temperatures {tau.min()} to {tau.max()}): widen the temperature sweep so that the point falls inside "
        "it; an extrapolated match would be a guess")


@dataclass(frozen=True)
class Plane:
    """A corpus's quality–diversity plane: the run files' columns, and which way is more diverse."""

    quality: str
    diversity: str
    more_diverse_is_higher: bool

    def gap(self, curve: pd.DataFrame, point: Mapping[str, float]) -> tuple[float, float]:
        """(the gap, the matched temperature) of ``point`` to ``curve``, positive = more diverse."""
        match = temperature_matched(curve, point[self.quality], point[self.diversity], self.quality, self.diversity)
        return (match.gap if self.more_diverse_is_higher else -match.gap), match.temperature


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % confidence interval (NaN bounds for fewer than two seeds)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """The interval's half width (0 for a single seed, which has none: for error bars)."""
        return 0.0 if self.n < 2 else self.high - self.mean


def t975(df: int) -> float:
    """Student's t 0.975 quantile for ``df`` degrees of freedom (1.96 beyond 30)."""
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


def confidence_interval(values: Sequence[float]) -> Estimate:
    """Mean and 95 % Student-t interval of ``values`` (one per seed)."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        raise ValueError("no values: a confidence interval needs at least one seed")
    mean = sum(values) / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def verdict(gaps: Sequence[float], baseline: str = COOLED_MLE) -> str:
    """The book's verdict on diversity gaps (one per seed; positive = more diverse than ``baseline``
    at the same quality, by default the MLE model cooled to it). See the module docstring."""
    if len(gaps) >= 2:
        ci = confidence_interval(gaps)
        needed = math.ceil(AGREEMENT * len(gaps))
        if ci.low > 0 and sum(g > 0 for g in gaps) >= needed:
            return f"more diverse than {baseline}"
        if ci.high < 0 and sum(g < 0 for g in gaps) >= needed:
            return f"less diverse than {baseline}"
    return f"indistinguishable from {baseline}"


_SUFFIXES = {COOLED_MLE: "", GAUSSIAN: "_vs_gaussian", TOP_P: "_vs_top_p", LENGTH_MATCHED: "_vs_length_matched"}


def verdict_key(method: str, baseline: str = COOLED_MLE) -> str:
    """The key of ``method``'s verdict against ``baseline`` in a summary's ``verdicts``."""
    return method + _SUFFIXES[baseline]


def seed_gaps(plane: Plane, runs: Mapping[int, Mapping], curves: Mapping[int, pd.DataFrame], baseline: str,
              method: str) -> tuple[list[dict], dict | None]:
    """Each seed's gap of ``method``'s runs (by seed) to that seed's curve of ``baseline``, and the
    verdict on them: its mean, interval, the seeds that share the mean's sign and those outside
    the curve's sweep (None when no seed has its curve yet). A seed without a curve is skipped."""
    rows, by_seed = [], {}
    for seed, result in sorted(runs.items()):
        if seed not in curves:
            continue  # its seed's baseline run is not finished
        try:
            by_seed[seed], temperature = plane.gap(curves[seed], result)
        except OutsideSweepError:
            rows.append({"method": method, "baseline": baseline, "seed": seed, "gap": None,
                         "note": "outside the curve's sweep"})
            continue
        rows.append({"method": method, "baseline": baseline, "seed": seed, "gap": by_seed[seed],
                     "matched_temperature": temperature})
    if not rows:
        return rows, None
    if not by_seed:
        return rows, {"baseline": baseline, "gap": math.nan, "low": math.nan, "high": math.nan, "seeds": 0,
                      "same_sign": 0, "outside_sweep": len(rows),
                      "verdict": f"no verdict: outside the sweep of the curve of {baseline} in every seed"}
    e = confidence_interval(list(by_seed.values()))
    return rows, {"baseline": baseline, "gap": e.mean, "low": e.low, "high": e.high, "seeds": e.n,
                  "same_sign": sum((g > 0) == (e.mean > 0) for g in by_seed.values()),
                  "outside_sweep": sum(r["gap"] is None for r in rows),
                  "verdict": verdict(list(by_seed.values()), baseline)}


RULE = (f"'{MORE_DIVERSE}' or '{LESS_DIVERSE}' only when the 95 % interval of the mean gap excludes 0 "
        f"and at least {AGREEMENT:.0%} of the seeds share its sign; else '{INDISTINGUISHABLE}'")
