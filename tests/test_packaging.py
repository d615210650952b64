"""Packaging: environment.yml and pyproject.toml declare the same dependencies, torch with a lower
bound only (Colab ships its own torch; a pin would force a reinstall)."""

import ast
import dataclasses
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import tomllib
import yaml

from textgan_lib import get_profile
from textgan_lib.recipes.profiles import PROFILES, resolve_profile_name
from textgan_lib.train.mle import MLEConfig

# conda names the PyTorch package differently from PyPI.
CONDA_TO_PYPI = {"pytorch": "torch", "ray-default": "ray"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_matches_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    pip_side = dict(_split(r) for r in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pip_side.update(_split(r) for r in extra if not r.startswith(project["name"]))  # extras of extras
    env = yaml.safe_load((repo / "environment.yml").read_text())
    conda_side = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")):
            name, spec = _split(dep)
            conda_side[CONDA_TO_PYPI.get(name, name)] = spec
        elif isinstance(dep, dict):  # the pip section: what conda-forge lacks, and the package itself
            conda_side.update(_split(r) for r in dep["pip"] if not r.startswith("-e"))
    assert conda_side == pip_side


def test_torch_has_a_lower_bound_only(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    torch_req = next(r for r in project["dependencies"] if r.startswith("torch"))
    assert re.fullmatch(r"torch>=[\d.]+", torch_req)


def test_profiles_and_auto(monkeypatch):
    assert set(PROFILES) == {"ci", "cpu", "gpu", "colab"}
    monkeypatch.setenv("TEXTGAN_PROFILE", "ci")
    assert resolve_profile_name("auto") == "ci"
    assert resolve_profile_name("cpu") == "cpu"  # an explicit name beats the environment
    monkeypatch.delenv("TEXTGAN_PROFILE")
    import torch

    assert resolve_profile_name("auto") == ("gpu" if torch.cuda.is_available() else "cpu")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert resolve_profile_name("auto") == "colab"  # inside Colab, whatever its hardware
    assert PROFILES["colab"] == dataclasses.replace(PROFILES["cpu"], name="colab")
    assert get_profile("ci", lm={"trainer": {"epochs": 7}}).lm.trainer.epochs == 7
    assert get_profile("ci", lm={"trainer": {"epochs": 7}}).lm.config(3) == MLEConfig(
        epochs=7, batch_size=64, lr=3e-3, seed=3, padding_targets=True)
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("tpu")
    with pytest.raises(TypeError, match="unknown profile fields"):
        get_profile("ci", epochs=3)
    with pytest.raises(TypeError, match=r"unknown profile fields \['lm.trainer.epoch'\]"):
        get_profile("ci", lm={"trainer": {"epoch": 3}})


def third_party_imports(package: Path) -> tuple[set[str], set[str]]:
    """The third-party packages that the modules of ``package`` (every subpackage but the
    chapters' own face, ``book``) import at module level, and those imported inside functions."""
    at_top, inside = set(), set()
    for module in package.rglob("*.py"):
        if "book" in module.relative_to(package).parts[:-1]:
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        top_level = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = {node.module.split(".")[0]}
            else:
                continue
            (at_top if node in top_level else inside).update(names)
    ours = {"__future__", package.name} | set(sys.stdlib_module_names)
    return at_top - ours, inside - ours


def test_the_library_needs_no_plotting_or_notebook_packages(repo):
    """matplotlib, seaborn and ipywidgets are the chapters' (the book extra), not the library's:
    only the chapters' own face, ``book``, uses them, and only inside functions. Every other
    module imports the declared dependencies at its top, and an extra's (ray) only inside the
    function that needs it."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    declared = {_split(r)[0] for r in project["dependencies"]}
    assert not declared & {"matplotlib", "seaborn", "ipywidgets", "ipython"}
    at_top, inside = third_party_imports(repo / "textgan_lib")
    assert {"torch", "numpy", "pandas", "tqdm"} <= at_top <= declared, at_top
    assert inside - declared == {"ray"}, inside  # the cluster extra, only where a study runs on Ray
    book_extra = {"matplotlib", "ipywidgets", "IPython", "myst_nb", "yaml"}
    script = ("import sys, textgan_lib, textgan_lib.book.notebooks, textgan_lib.book.widgets; "
              f"print(sorted(set(sys.modules) & {book_extra!r}))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603
    assert loaded.stdout.strip() == "[]", f"importing the library loaded {loaded.stdout}"
