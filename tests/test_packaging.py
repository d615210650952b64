"""Packaging: environment.yml and pyproject.toml declare the same dependencies, torch with a lower
bound only (Colab ships its own torch; a pin would force a reinstall)."""

import dataclasses
import re
import subprocess
import sys
import types

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


def test_the_library_needs_no_plotting_or_notebook_packages(repo):
    """matplotlib, seaborn and ipywidgets are the chapters' (the book extra), not the library's:
    only the chapters' own faces, ``book`` and ``widgets``, use them, and only inside functions."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    declared = {_split(r)[0] for r in project["dependencies"]}
    assert not declared & {"matplotlib", "seaborn", "ipywidgets", "ipython"}
    imported = set()
    for module in (repo / "textgan_lib").glob("*.py"):
        if module.stem in ("book", "widgets"):
            continue
        for match in re.finditer(r"^\s*(?:from (\w+)[\w.]* import |import (\w+))", module.read_text(), re.MULTILINE):
            imported.add(match[1] or match[2])
    third_party = imported - {"__future__", "textgan_lib"} - set(sys.stdlib_module_names)
    assert third_party <= declared, third_party
    book_extra = {"matplotlib", "ipywidgets", "IPython", "myst_nb", "yaml"}
    script = ("import sys, textgan_lib, textgan_lib.book.notebooks, textgan_lib.book.widgets; "
              f"print(sorted(set(sys.modules) & {book_extra!r}))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603
    assert loaded.stdout.strip() == "[]", f"importing the library loaded {loaded.stdout}"
