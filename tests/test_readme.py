"""The README's Python examples run as written."""

import re

from conftest import REPO


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)  # examples write their files here
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 -- our own README
