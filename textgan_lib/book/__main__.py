"""``python -m textgan_lib.book``: rewrite every chapter's install cell and running note."""

from pathlib import Path

from .._version import __version__
from .notebooks import sync_install_cells, sync_running_notes

for changed_path in sync_install_cells(Path.cwd(), __version__):
    print(f"rewrote the install cell of {changed_path}")
for changed_path in sync_running_notes(Path.cwd()):
    print(f"rewrote the running note of {changed_path}")
