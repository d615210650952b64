"""Issue 36's classes of faults, tried again as a user would meet them; prints one JSON line.

1. ``flags``: every option of every ``textgan`` command given values a user mistypes (negative,
   zero, a fraction, huge, NaN, infinite, a word, nothing), parsed and resolved into the profile
   (the configs' checks) without running the command.
2. ``fields``: every field of every config given a value of another kind (a word, a bool, a float
   for an int, NaN, None, -1) and NumPy scalars.
3. ``checkpoints``: a small MLE run's checkpoint with one byte flipped at random places, or cut short.
4. ``run_files``: a copy of the recorded COCO study with one run file damaged (cut, emptied, edited).
5. ``kills``: a small oracle study killed (SIGKILL) at random moments and run again: its files
   against an uninterrupted study's.

Each case ends ``clear`` (refused with a message that names the flag, field or file), ``worked``
(a legitimate value taken, or a damaged file that still loads the same numbers), ``accepted`` (a
doubtful value taken: listed for review), ``unclear`` (refused without naming it), ``crash`` (an
exception a user should never see), ``silent`` (a wrong result without a word) or ``lost``.

    python benchmarks/fault_classes.py [--kills 5] [--flips 40] [--parts flags fields ...]
                                                        (about 35 minutes on 2 cores, most of it the kills)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import typing
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import torch

from textgan_lib.cli.commands import MLE_FLAGS, SEQGAN_FLAGS, _resolved, build_parser
from textgan_lib.models.autoencoder import AutoencoderConfig
from textgan_lib.models.generator import GeneratorConfig, LSTMGenerator
from textgan_lib.recipes.records import RunFileError
from textgan_lib.recipes.summary import summarize
from textgan_lib.train.arae import ARAEConfig
from textgan_lib.train.gumbel_gan import GumbelGANConfig
from textgan_lib.train.latent_gan import LatentGANConfig
from textgan_lib.train.mle import MLEConfig, MLETrainer
from textgan_lib.train.scratchgan import ScratchGANConfig
from textgan_lib.train.seqgan import SeqGANConfig

REPO = Path(__file__).resolve().parents[1]
BAD_VALUES = ["-1", "0", "0.5", "1e23", "1e309", "nan", "abc", ""]
CRASHES = (KeyError, IndexError, AttributeError, AssertionError, ZeroDivisionError, UnboundLocalError, NameError)
cases: list[dict] = []


def record(kind: str, case: str, outcome: str, detail: str = "") -> None:
    cases.append({"class": kind, "case": case, "outcome": outcome, "detail": detail[:200]})


def classify_error(err: BaseException, names: tuple[str, ...]) -> str:
    if isinstance(err, CRASHES):
        return "crash"
    return "clear" if any(name in str(err) for name in names) else "unclear"


# -- 1. flags ------------------------------------------------------------------------------------

def _command_args(command: str, folder: Path) -> list[str]:
    out = str(folder / "out.csv") if command in ("oracle-mle", "seqgan-oracle") else str(folder / "out")
    extra = {"real-text": ["--corpus", "coco", "--method", "mle"], "study": ["--corpus", "coco"]}.get(command, [])
    return ([] if command in ("profile", "fetch-data") else ["--out", out]) + extra


def flags(folder: Path) -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    profile_flags = {"oracle-mle": MLE_FLAGS, "seqgan-oracle": SEQGAN_FLAGS}
    for command, sub in commands.choices.items():
        for action in sub._actions:
            flag = action.option_strings[-1] if action.option_strings else None
            if flag in (None, "--help") or action.nargs == 0 or flag in ("--corpus", "--method"):
                continue
            for value in BAD_VALUES:
                case = f"{command} {flag} {value!r}"
                stderr = io.StringIO()
                try:
                    with contextlib.redirect_stderr(stderr):
                        args = parser.parse_args([command, *_command_args(command, folder), flag, value])
                except SystemExit as stop:
                    named = flag in stderr.getvalue() or "--set" in stderr.getvalue()
                    record("flags", case, "clear" if stop.code == 2 and named else "unclear", stderr.getvalue())
                    continue
                try:
                    if command not in ("fetch-data",):
                        if command == "profile":
                            args.profile = args.name
                        _resolved(args, profile_flags.get(command))
                    if flag == "--oracle":
                        from textgan_lib.models.oracle import OracleLSTM
                        OracleLSTM.from_seqgan(args.oracle)
                except Exception as err:  # noqa: BLE001 - each outcome is classified
                    record("flags", case, classify_error(err, (flag.lstrip("-").replace("-", "_"), "--set", value)),
                           f"{type(err).__name__}: {err}")
                    continue
                record("flags", case, "accepted", repr(getattr(args, action.dest)))


# -- 2. fields -----------------------------------------------------------------------------------

CONFIGS = [MLEConfig(), SeqGANConfig(), GumbelGANConfig(), LatentGANConfig(), ARAEConfig(), ScratchGANConfig(),
           GeneratorConfig(10, 4, 8), AutoencoderConfig(10, 4, 8)]


def _declared(config: object, name: str) -> set[type]:
    hint = typing.get_type_hints(type(config))[name]
    args = typing.get_args(hint)
    return {typing.get_origin(a) or a for a in args} if args and typing.get_origin(hint) is not tuple else {
        typing.get_origin(hint) or hint}


def fields_(folder: Path) -> None:
    for config in CONFIGS:
        for field in fields(config):
            declared = _declared(config, field.name)
            numeric = bool(declared & {int, float})
            tries = {"a word": "x", "True": True, "NaN": float("nan"), "None": None, "-1": -1}
            if int in declared and float not in declared:
                tries["4.7"] = 4.7
            if numeric:
                tries["a NumPy scalar"] = np.float32(0.5) if float in declared else np.int64(3)
            for label, value in tries.items():
                case = f"{type(config).__name__}.{field.name} = {label}"
                legitimate = (type(value) in declared or value is None and type(None) in declared
                              or label == "a NumPy scalar" or label == "-1" and numeric)
                try:
                    made = replace(config, **{field.name: value})
                except Exception as err:  # noqa: BLE001
                    record("fields", case, classify_error(err, (field.name,)), f"{type(err).__name__}: {err}")
                    continue
                stored = getattr(made, field.name)
                if label == "a NumPy scalar":
                    record("fields", case, "worked" if type(stored) in (int, float) else "silent", repr(stored))
                elif legitimate:
                    record("fields", case, "accepted" if label in ("-1", "NaN") else "worked", repr(stored))
                else:
                    record("fields", case, "silent", f"{type(config).__name__}.{field.name} took {stored!r}")


# -- 3. checkpoints ------------------------------------------------------------------------------

def checkpoints(folder: Path, flips: int) -> None:
    torch.manual_seed(0)
    tokens = torch.randint(3, 20, (64, 8))
    tokens[:, -1] = 2
    path = folder / "mle.pt"
    model = LSTMGenerator(GeneratorConfig(20, 8, 16, start_id=1, pad_id=0, eos_id=2))
    MLETrainer(model, tokens, config=MLEConfig(epochs=1, batch_size=16), checkpoint_path=path, progress=False).run()
    whole = path.read_bytes()
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    rng = random.Random(0)
    damages = [("flip", rng.randrange(len(whole))) for _ in range(flips)]
    damages += [("cut", rng.randrange(len(whole))) for _ in range(10)] + [("cut", 0)]
    for kind, where in damages:
        data = bytearray(whole)
        if kind == "flip":
            data[where] ^= 0xFF
        else:
            data = data[:where]
        path.write_bytes(bytes(data))
        fresh = LSTMGenerator(GeneratorConfig(20, 8, 16, start_id=1, pad_id=0, eos_id=2))
        trainer = MLETrainer(fresh, tokens, config=MLEConfig(epochs=1, batch_size=16), progress=False)
        case = f"{kind} at byte {where} of {len(whole)}"
        try:
            trainer.load(path)
        except Exception as err:  # noqa: BLE001
            record("checkpoints", case, classify_error(err, (str(path), path.name)), f"{type(err).__name__}: {err}")
            continue
        same = all(torch.equal(fresh.state_dict()[k], v) for k, v in reference.items())
        record("checkpoints", case, "worked" if same else "silent", "loaded" + ("" if same else " other weights"))


# -- 4. run files --------------------------------------------------------------------------------

def run_files(folder: Path) -> None:
    source = REPO / "benchmarks" / "results" / "study_cpu"
    study = folder / "study"
    target = "coco_gumbel_seed1.json"
    original = json.loads((source / target).read_text())
    rng = random.Random(1)
    text = (source / target).read_text()
    damages = {f"cut at {n} of {len(text)}": text[:n] for n in sorted(rng.randrange(len(text)) for _ in range(6))}
    damages |= {"empty": "", "{}": "{}", "a list": "[]",
                "seed edited to 0 (a duplicate)": json.dumps(original | {"seed": 0}),
                "bleu_4 NaN": json.dumps(original | {"bleu_4": float("nan")}),
                "method removed": json.dumps({k: v for k, v in original.items() if k != "method"}),
                "bleu_4 removed": json.dumps({k: v for k, v in original.items() if k != "bleu_4"}),
                "profile changed": json.dumps(original | {"profile": "gpu"}),
                "bleu_4 a string": json.dumps(original | {"bleu_4": "0.2"})}
    for label, content in damages.items():
        shutil.rmtree(study, ignore_errors=True)
        shutil.copytree(source, study, ignore=shutil.ignore_patterns("*summary*", "*gaps*", "README.md"))
        (study / target).write_text(content)
        try:
            summarize(study, "coco")
        except RunFileError as err:
            record("run_files", label, classify_error(err, (target,)), str(err))
        except Exception as err:  # noqa: BLE001
            outcome = "crash" if isinstance(err, CRASHES) else "unclear"
            record("run_files", label, outcome, f"{type(err).__name__}: {err}")
        else:
            record("run_files", label, "silent", "summarized")


# -- 5. kills ------------------------------------------------------------------------------------

STUDY = ["study", "--corpus", "oracle", "--method", "seqgan", "--seeds", "0", "--profile", "ci",
         "--set", "oracle.samples=300"]
TIMINGS = {"seconds", "elapsed_s", "d_epoch_s", "epoch_s", "tokens_per_s"}  # what a clock measures


def _without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _study(out: Path, cache: Path) -> subprocess.Popen:
    env = os.environ | {"TEXTGAN_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "textgan_lib.cli", *STUDY, "--out", str(out)], env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _files(out: Path) -> dict[str, str]:
    return {p.name: json.dumps(_without_timings(json.loads(p.read_text())), sort_keys=True)
            for p in sorted(out.glob("*_seed*.json"))}


def kills(folder: Path, n: int) -> None:
    started = time.perf_counter()
    assert _study(folder / "whole", folder / "whole_cache").wait() == 0
    duration = time.perf_counter() - started
    expected = _files(folder / "whole")
    rng = random.Random(2)
    for trial in range(n):
        out, cache = folder / f"killed{trial}", folder / f"killed{trial}_cache"
        at = rng.uniform(0.1, 0.9) * duration
        process = _study(out, cache)
        time.sleep(at)
        process.send_signal(signal.SIGKILL)
        process.wait()
        rerun = _study(out, cache)
        code, stderr = rerun.wait(), rerun.stderr.read().decode()
        case = f"SIGKILL after {at:.1f} s of {duration:.1f} s"
        if code != 0:
            record("kills", case, "crash" if "Traceback" in stderr else "unclear", stderr[-200:])
            continue
        got = _files(out)
        outcome = "worked" if got == expected else "lost" if set(got) != set(expected) else "silent"
        record("kills", case, outcome, ", ".join(k for k in expected if got.get(k) != expected[k]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--flips", type=int, default=40)
    parser.add_argument("--parts", nargs="+", default=["flags", "fields", "checkpoints", "run_files", "kills"])
    args = parser.parse_args()
    os.environ.setdefault("TEXTGAN_CACHE", tempfile.mkdtemp(prefix="faults_cache"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for part, run in (("flags", lambda: flags(folder)), ("fields", lambda: fields_(folder)),
                          ("checkpoints", lambda: checkpoints(folder, args.flips)),
                          ("run_files", lambda: run_files(folder)), ("kills", lambda: kills(folder, args.kills))):
            if part not in args.parts:
                continue
            print(f"{part}...", file=sys.stderr, flush=True)
            run()
    counts = Counter(case["outcome"] for case in cases)
    by_class = {kind: dict(Counter(c["outcome"] for c in cases if c["class"] == kind))
                for kind in dict.fromkeys(c["class"] for c in cases)}
    print(json.dumps({"benchmark": "fault_classes", "cases": len(cases), "outcomes": dict(counts),
                      "by_class": by_class, "not_clear_or_worked": [c for c in cases
                                                                     if c["outcome"] not in ("clear", "worked")]}))


if __name__ == "__main__":
    main()
