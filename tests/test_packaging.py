"""Packaging: environment.yml and pyproject.toml declare the same dependencies, torch with a lower
bound only (Colab ships its own torch; a pin would force a reinstall)."""

import re
import sys

import pytest
import tomllib
import yaml

from textgan_lib import get_profile
from textgan_lib.profiles import PROFILES, resolve_profile_name

# conda names the PyTorch package differently from PyPI.
CONDA_TO_PYPI = {"pytorch": "torch"}


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
    assert conda_side == pip_side


def test_torch_has_a_lower_bound_only(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    torch_req = next(r for r in project["dependencies"] if r.startswith("torch"))
    assert re.fullmatch(r"torch>=[\d.]+", torch_req)


def test_profiles_and_auto(monkeypatch):
    assert set(PROFILES) == {"ci", "cpu", "gpu"}
    monkeypatch.setenv("TEXTGAN_PROFILE", "ci")
    assert resolve_profile_name("auto") == "ci"
    assert resolve_profile_name("cpu") == "cpu"  # an explicit name beats the environment
    monkeypatch.delenv("TEXTGAN_PROFILE")
    import torch

    assert resolve_profile_name("auto") == ("gpu" if torch.cuda.is_available() else "cpu")
    assert get_profile("ci", lm_epochs=7).lm_epochs == 7
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("tpu")
    with pytest.raises(TypeError, match="unknown profile fields"):
        get_profile("ci", epochs=3)


def test_the_library_needs_no_plotting_or_notebook_packages(repo):
    """matplotlib, seaborn and ipywidgets are the chapters' (the book extra), not the library's."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    declared = {_split(r)[0] for r in project["dependencies"]}
    assert not declared & {"matplotlib", "seaborn", "ipywidgets", "ipython"}
    imported = set()
    for module in (repo / "textgan_lib").glob("*.py"):
        for match in re.finditer(r"^\s*(?:from (\w+)[\w.]* import |import (\w+))", module.read_text(), re.MULTILINE):
            imported.add(match[1] or match[2])
    third_party = imported - {"__future__", "textgan_lib"} - set(sys.stdlib_module_names)
    assert third_party <= declared | {"IPython", "myst_nb"}, third_party
