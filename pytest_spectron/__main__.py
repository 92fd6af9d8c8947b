"""``python -m pytest_spectron``: the package's command line (``serve``)."""

from __future__ import annotations

import sys

from pytest_spectron.testing._cli import main

if __name__ == "__main__":
    sys.exit(main())
