"""``python -m textgan_lib.cli``: the ``textgan`` command."""

import sys

from .commands import main

sys.exit(main())
