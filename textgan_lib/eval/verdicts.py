"""The book's verdicts, as pure statistics: the quality–diversity plane, a model's gap to a curve
at matched quality, intervals over seeds, and the one rule by which a verdict is stated.

Everything here is plain Python, NumPy and pandas on recorded numbers (no torch): the study's
summary (:func:`~textgan_lib.recipes.summary.summarize`) and the chapters' recorded tables
(:mod:`textgan_lib.book.recorded`) both compute their intervals and verdicts here and nowhere else.

The rule: "more diverse" (or "less diverse") "than the cooled MLE model" only when the 95 %
Student-t interval of the mean gap over seeds excludes 0 *and* the sign holds in at least
:data:`AGREEMENT` of the seeds (4 of 5); otherwise "indistinguishable from the cooled MLE model".
A gap of 0 shares no sign. A seed outside the curve's range of quality has no gap, but it still
counts among the seeds: for the side it lies on where the curve's ends decide it
(:meth:`Plane.outside_sign`), against the agreement where they do not.
Against another baseline, the same words with its name. Each seed's point is itself an estimate
from a finite sample set, so the spread across seeds already holds the sampling noise as well as
the training noise; the interval over seeds covers both.
"""

from __future__ import annotations

import functools
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
LM_SCORES = "the cooled MLE model on the LM-score plane"  # the same comparison on Caccia et al.'s plane
# the one spelling of each plane's columns in prose, tables and summaries (run files use the keys)
METRIC_LABELS = {"nll_oracle": "NLL_oracle", "nll_div": "NLL_div", "nll_test": "NLL_test", "bleu_4": "BLEU-4",
                 "self_bleu_4": "Self-BLEU-4", "lm_score": "LM score", "reverse_lm_score": "reverse-LM score"}
AGREEMENT = 0.8  # the share of seeds whose gap must have the mean's sign


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
    better_quality_is_higher: bool = True  # BLEU; the oracle's NLL_oracle is better lower

    def gap(self, curve: pd.DataFrame, point: Mapping[str, float]) -> tuple[float, float]:
        """(the gap, the matched temperature) of ``point`` to ``curve``, positive = more diverse."""
        match = temperature_matched(curve, point[self.quality], point[self.diversity], self.quality, self.diversity)
        return (match.gap if self.more_diverse_is_higher else -match.gap), match.temperature

    def curve_at(self, curve: pd.DataFrame, point: Mapping[str, float], column: str) -> float:
        """The curve's ``column`` (e.g. NLL_test) where it has ``point``'s quality: at the same
        crossing as :meth:`gap`, for comparing the matched model on a third number."""
        return temperature_matched(curve, point[self.quality], math.nan, self.quality, column).curve_diversity

    def outside_sign(self, curve: pd.DataFrame, point: Mapping[str, float]) -> int | None:
        """For a point outside the curve's range of quality, the sign its gap must have, where the
        ends of the curve decide it: +1 when it is better in quality than the curve's best point
        and more diverse than it (cooling only trades diversity for quality, so the curve could
        reach that quality only less diverse), -1 when it is worse in quality than the curve's
        worst point and less diverse than it; None when the ends leave it open."""
        quality = curve[self.quality].to_numpy(dtype=float)
        better = quality.argmax() if self.better_quality_is_higher else quality.argmin()
        worse = quality.argmin() if self.better_quality_is_higher else quality.argmax()
        sign = 1 if self.better_quality_is_higher else -1
        more_diverse = (lambda a, b: a > b) if self.more_diverse_is_higher else (lambda a, b: a < b)
        q, d = point[self.quality], point[self.diversity]
        end = curve.iloc[better]
        if sign * (q - end[self.quality]) > 0 and more_diverse(d, end[self.diversity]):
            return 1
        end = curve.iloc[worse]
        if sign * (q - end[self.quality]) < 0 and more_diverse(end[self.diversity], d):
            return -1
        return None


# the book's two planes: the oracle's (NLL_div against NLL_oracle) and real text's (Self-BLEU-4 against BLEU-4)
ORACLE_PLANE = Plane("nll_oracle", "nll_div", more_diverse_is_higher=True, better_quality_is_higher=False)
TEXT_PLANE = Plane("bleu_4", "self_bleu_4", more_diverse_is_higher=False)
# Caccia et al.'s second plane of real text (recipes.lm_plane): both scores are NLLs, lower is better
LM_PLANE = Plane("lm_score", "reverse_lm_score", more_diverse_is_higher=False, better_quality_is_higher=False)


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % confidence interval (NaN bounds for fewer than two seeds)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """The interval's half width (0 for a single seed, which has none: for error bars); of an
        interval clipped to bounds, the width above the mean."""
        return 0.0 if self.n < 2 else self.high - self.mean


@functools.cache
def t975(df: int) -> float:
    """Student's t 0.975 quantile for ``df`` degrees of freedom, to float precision: the t at which
    the two-sided test of :func:`t_test_p` gives p = .05 (bisection on its exact tail), so that a
    95 % interval excludes 0 exactly when that p is below .05 (a rounded table broke this at the
    boundary: 2.776 for 4 degrees of freedom, where the quantile is 2.7764)."""
    if df < 1:
        raise ValueError(f"a t quantile needs at least 1 degree of freedom, got {df}")
    low, high = 1.0, 13.0  # the quantile is 12.706 at one degree of freedom and falls toward 1.95996
    while high - low > 1e-13:
        middle = (low + high) / 2
        low, high = (middle, high) if _t_tail(middle, df) > 0.05 else (low, middle)
    return (low + high) / 2


def confidence_interval(values: Sequence[float], bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean and 95 % Student-t interval of ``values`` (one per seed). ``bounds``: the range the
    quantity can take (``(0, 1)`` for an accuracy or a BLEU score); the interval is clipped to it,
    since with few seeds a t-interval can reach past it (an accuracy's upper end at 1.35)."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        raise ValueError("no values: a confidence interval needs at least one seed")
    mean = sum(values) / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(mean, low, high, n)


def agrees(gap: float, mean: float) -> bool:
    """Whether a seed's gap shares the mean's sign: both above 0 or both below (0 agrees with neither)."""
    return (gap > 0 and mean > 0) or (gap < 0 and mean < 0)


def sign_test_p(gaps: Sequence[float]) -> float:
    """The exact two-sided sign test of the gaps (zeros left out): the chance, were each nonzero gap's
    sign a fair coin, of a split at least as uneven as this one. With 5 seeds, 5 of 5 gives
    p = .0625: five seeds alone can never pass this test at .05."""
    positive, negative = sum(g > 0 for g in gaps), sum(g < 0 for g in gaps)
    n = positive + negative
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(max(positive, negative), n + 1)) / 2**n
    return min(1.0, 2 * tail)


def t_test_p(values: Sequence[float]) -> float:
    """The two-sided one-sample Student t-test of mean 0 (the test the 95 % interval inverts:
    p < .05 exactly when the interval excludes 0). NaN for fewer than two values."""
    values = [float(v) for v in values]
    n = len(values)
    if n < 2:
        return math.nan
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    return _t_tail(abs(mean) / (sd / math.sqrt(n)), n - 1)


def _t_tail(t: float, df: int) -> float:
    """P(|T| >= t) for Student's T with ``df`` degrees of freedom, exactly (Abramowitz and Stegun
    26.7.3 and 26.7.4: a finite series in the angle theta = atan(t / sqrt(df)))."""
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2:  # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + (2*4)/(3*5) cos^4 + ...)), df - 3 powers
        term, series = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= cos2 * (2 * k) / (2 * k + 1)
            series += term
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    else:  # even: sin (1 + 1/2 cos^2 + (1*3)/(2*4) cos^4 + ...), df - 2 powers
        term = series = 1.0
        for k in range(1, df // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            series += term
        inside = math.sin(theta) * series
    return min(1.0, max(0.0, 1.0 - inside))


def holm(p_values: Mapping[str, float], alpha: float = 0.05) -> dict[str, bool]:
    """Holm's step-down correction over a family of tests: which ones are rejected at family-wise
    error ``alpha``. The k-th smallest p (from 0) must be at most alpha / (m - k), and the first
    that is not stops the rejections. A NaN p is never rejected."""
    ordered = sorted(p_values, key=lambda key: (math.isnan(p_values[key]), p_values[key]))
    rejected, m = {key: False for key in p_values}, len(p_values)
    for k, key in enumerate(ordered):
        if math.isnan(p_values[key]) or p_values[key] > alpha / (m - k):
            break
        rejected[key] = True
    return rejected


def verdict(gaps: Sequence[float], baseline: str = COOLED_MLE, outside: Sequence[int | None] = ()) -> str:
    """The book's verdict on diversity gaps (one per seed; positive = more diverse than ``baseline``
    at the same quality, by default the MLE model cooled to it). See the module docstring.

    ``outside`` holds a sign for each further seed that lies outside the baseline's sweep
    (:meth:`Plane.outside_sign`: +1, -1, or None where the curve's ends leave it open): such seeds
    count in the agreement, for the side they lie on, and against it when open, never dropped."""
    if len(gaps) >= 2:
        ci = confidence_interval(gaps)
        needed = math.ceil(AGREEMENT * (len(gaps) + len(outside)))
        if ci.low > 0 and sum(g > 0 for g in gaps) + sum(s == 1 for s in outside) >= needed:
            return f"more diverse than {baseline}"
        if ci.high < 0 and sum(g < 0 for g in gaps) + sum(s == -1 for s in outside) >= needed:
            return f"less diverse than {baseline}"
    return f"indistinguishable from {baseline}"


_SUFFIXES = {COOLED_MLE: "", GAUSSIAN: "_vs_gaussian", TOP_P: "_vs_top_p", LENGTH_MATCHED: "_vs_length_matched",
             LM_SCORES: "_on_lm_plane"}


def verdict_key(method: str, baseline: str = COOLED_MLE) -> str:
    """The key of ``method``'s verdict against ``baseline`` in a summary's ``verdicts``."""
    return method + _SUFFIXES[baseline]


KEPT_MLE = "kept the MLE model"  # a run whose selection chose its starting point: no GAN to judge


def kept_the_start(result: Mapping) -> bool:
    """Whether a run's checkpoint selection chose the evaluation it started from (the MLE model)."""
    settings = result.get("settings") or {}
    return bool(settings.get("selected_on_validation")) and settings.get("selected_step") == 0


def seed_gaps(plane: Plane, runs: Mapping[int, Mapping], curves: Mapping[int, pd.DataFrame], baseline: str,
              method: str) -> tuple[list[dict], dict | None]:
    """Each seed's gap of ``method``'s runs (by seed) to that seed's curve of ``baseline``, and the
    verdict on them: its mean, interval, t-test and sign-test p (the sign test also counting each
    seed outside the curve's sweep on a known side: one-sided evidence is evidence), the seeds that
    share the mean's sign (a zero gap shares neither), those outside the curve's sweep, and those whose selection
    kept the MLE model (labelled, never judged). None when no seed has its curve yet; a seed
    without a curve is skipped."""
    rows, by_seed = [], {}
    for seed, result in sorted(runs.items()):
        if seed not in curves:
            continue  # its seed's baseline run is not finished
        if kept_the_start(result):
            rows.append({"method": method, "baseline": baseline, "seed": seed, "gap": None, "note": KEPT_MLE})
            continue
        try:
            by_seed[seed], temperature = plane.gap(curves[seed], result)
        except OutsideSweepError:
            rows.append({"method": method, "baseline": baseline, "seed": seed, "gap": None,
                         "note": "outside the curve's sweep", "sign": plane.outside_sign(curves[seed], result)})
            continue
        rows.append({"method": method, "baseline": baseline, "seed": seed, "gap": by_seed[seed],
                     "matched_temperature": temperature})
    if not rows:
        return rows, None
    kept = sum(r.get("note") == KEPT_MLE for r in rows)
    if not by_seed:
        why = (f"every seed {KEPT_MLE}" if kept == len(rows) else
               f"outside the sweep of the curve of {baseline} in every seed" if not kept else
               f"every seed {KEPT_MLE} or lies outside the sweep of the curve of {baseline}")
        return rows, {"baseline": baseline, "gap": math.nan, "low": math.nan, "high": math.nan, "seeds": 0,
                      "same_sign": 0, "outside_sweep": len(rows) - kept, "kept_mle": kept,
                      "verdict": f"no verdict: {why}"}
    gaps = list(by_seed.values())
    e = confidence_interval(gaps)
    outside = [r["sign"] for r in rows if r.get("note") == "outside the curve's sweep"]
    signs = gaps + [s for s in outside if s]  # a seed outside the sweep on a known side counts
    return rows, {"baseline": baseline, "gap": e.mean, "low": e.low, "high": e.high, "seeds": e.n,
                  "same_sign": sum(agrees(g, e.mean) for g in gaps),
                  "outside_sweep": len(outside), "outside_same_side": sum(agrees(s or 0, e.mean) for s in outside),
                  "kept_mle": kept,
                  "t_test_p": t_test_p(gaps), "sign_test_p": sign_test_p(signs),
                  "verdict": verdict(gaps, baseline, outside)}


def placebo_key(gan: str, placebo: str) -> str:
    """The key of ``gan``'s verdict against its ``placebo`` in a summary's ``verdicts``."""
    return f"{gan}_vs_{placebo}"


def placebo_comparison(gaps: Sequence[Mapping], gan: str, placebo: str) -> dict | None:
    """``gan`` against its ``placebo``, seed by seed: the difference of their gaps to the cooled MLE
    model (rows of :func:`seed_gaps`), positive when the GAN is the more diverse of the two at
    matched quality, and the verdict on those differences by the book's rule. Only seeds where both
    have a gap count; None when there are none yet."""
    by_seed = {name: {r["seed"]: r["gap"] for r in gaps
                      if r["method"] == name and r["baseline"] == COOLED_MLE and r["gap"] is not None}
               for name in (gan, placebo)}
    seeds = sorted(set(by_seed[gan]) & set(by_seed[placebo]))
    if not seeds:
        return None
    differences = [by_seed[gan][seed] - by_seed[placebo][seed] for seed in seeds]
    baseline = f"its placebo ({placebo})"
    e = confidence_interval(differences)
    return {"baseline": baseline, "gap": e.mean, "low": e.low, "high": e.high, "seeds": e.n,
            "same_sign": sum(agrees(d, e.mean) for d in differences),
            "t_test_p": t_test_p(differences), "sign_test_p": sign_test_p(differences),
            "verdict": verdict(differences, baseline)}


RULE = (f"'{MORE_DIVERSE}' or '{LESS_DIVERSE}' only when the 95 % interval of the mean gap excludes 0 "
        f"and at least {AGREEMENT:.0%} of the seeds share its sign (a seed outside the curve's sweep counting "
        f"for the side it lies on, or against when the curve's ends leave it open); else '{INDISTINGUISHABLE}'")
