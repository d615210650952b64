"""Run files: one JSON record per (corpus, method, seed), written once and completed by measurements.

A study writes ``<corpus>_<method>_seed<k>.json`` atomically when a run ends; later measurements
(the controls) rewrite it whole with more fields. Whatever reads the files for a verdict reads them
through :func:`read_runs`, which checks each one against the schema the summary relies on and
refuses, naming the file and the fix, rather than deciding on fewer seeds: a file cut short, a
record whose corpus, method or seed disagrees with its name (an edited seed would otherwise replace
another seed's run), a point on the plane that is missing or not a finite number, an MLE run
without the temperature curve every gap is measured against.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..eval.verdicts import Plane
from .runs import write_text_atomic

CURVE = "temperature_curve"  # the MLE run's curve every gap is measured against


class RunFileError(ValueError):
    """A run file that the summary cannot trust: the message names the file, the problem and the fix."""


def run_file(out: str | Path, corpus: str, method: str, seed: int) -> Path:
    """Where the run of ``method`` on ``corpus`` with ``seed`` is recorded in the folder ``out``."""
    return Path(out) / f"{corpus}_{method}_seed{seed}.json"


def write_run(path: str | Path, result: dict) -> Path:
    """``result`` as the run file ``path``, written atomically (NaN stays NaN, as JSON's ``NaN``)."""
    return write_text_atomic(path, json.dumps(result, indent=2, ensure_ascii=False, default=_plain) + "\n")


def _plain(value):
    """JSON for what pandas' records hold besides floats and strings (numpy scalars)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_run(path: str | Path, plane: Plane | None = None) -> dict:
    """The run recorded in ``path``, checked: a JSON object whose ``corpus``, ``method`` and integer
    ``seed`` give its file name, with the ``plane``'s two metrics as finite numbers (where a plane is
    given), and for ``mle`` a temperature curve whose points have them too. Raises
    :class:`RunFileError` otherwise."""
    path = Path(path)
    rerun = (f"delete {path.name} and run the study again to record that run afresh (it skips the runs "
             "whose file exists)")
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFileError(f"{path} is not a whole run file ({err}): it was damaged or cut short; {rerun}") from None
    if not isinstance(result, dict):
        raise RunFileError(f"{path} holds a JSON {type(result).__name__}, not a run record; {rerun}")
    missing = [key for key in ("corpus", "method", "seed") if key not in result]
    if missing:
        raise RunFileError(f"{path} has no {', '.join(missing)}: not a run record of a study; {rerun}")
    corpus, method, seed = result["corpus"], result["method"], result["seed"]
    if not (isinstance(corpus, str) and isinstance(method, str) and isinstance(seed, int)
            and not isinstance(seed, bool)):
        raise RunFileError(f"{path}: corpus and method must be strings and seed an integer, got "
                           f"{corpus!r}, {method!r}, {seed!r}; {rerun}")
    if run_file(path.parent, corpus, method, seed).name != path.name:
        raise RunFileError(f"{path} records {corpus} / {method} / seed {seed}, whose file is "
                           f"{run_file('', corpus, method, seed).name}: it was renamed or edited; restore its name "
                           f"or {rerun}")
    if plane is not None:
        for metric in (plane.quality, plane.diversity):
            if not _finite(result.get(metric)):
                raise RunFileError(f"{path} has no finite {metric} (it holds {result.get(metric)!r}), its point on "
                                   f"the plane: the verdicts would rest on fewer seeds; {rerun}")
        if method == "mle":
            curve = result.get(CURVE)
            if not (isinstance(curve, list) and curve and all(
                    isinstance(point, dict) and all(_finite(point.get(key)) for key in
                                                    ("temperature", plane.quality, plane.diversity))
                    for point in curve)):
                raise RunFileError(f"{path} has no whole {CURVE} (every point with a finite temperature, "
                                   f"{plane.quality} and {plane.diversity}): the gaps are measured against it; "
                                   f"{rerun}")
    return result


def read_runs(folder: str | Path, corpus: str, plane: Plane | None = None) -> dict[str, dict[int, dict]]:
    """Every run of ``corpus`` recorded in ``folder``, by method and seed, each checked by :func:`read_run`;
    all of one profile (a verdict compares runs of equal budgets), else :class:`RunFileError`."""
    runs: dict[str, dict[int, dict]] = {}
    by_profile: dict[object, list[str]] = {}
    for path in sorted(Path(folder).glob(f"{corpus}_*_seed*.json")):
        result = read_run(path, plane)
        runs.setdefault(result["method"], {})[result["seed"]] = result
        by_profile.setdefault(result.get("profile"), []).append(path.name)
    if len(by_profile) > 1:
        fewest = min(by_profile, key=lambda profile: len(by_profile[profile]))
        raise RunFileError(f"{folder} holds runs of {corpus} at several profiles ("
                           + "; ".join(f"{profile!r}: {len(names)} runs" for profile, names in by_profile.items())
                           + f"), and one summary compares runs of one profile: {', '.join(by_profile[fewest])} "
                           f"{'is' if len(by_profile[fewest]) == 1 else 'are'} at {fewest!r}; move the runs of each "
                           "profile to a folder of their own")
    return runs
