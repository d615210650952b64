"""The book's performance page shows exactly the recorded benchmark results."""

import subprocess
import sys

from conftest import REPO


def test_the_performance_page_is_rendered_from_the_latest_results():
    result = subprocess.run(  # noqa: S603 -- our own interpreter and script
        [sys.executable, str(REPO / "benchmarks" / "render_results.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_result_names_its_command_machine_and_date():
    import json

    for path in (REPO / "benchmarks" / "results").glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        assert {"command", "machine", "date"} <= set(record), path
