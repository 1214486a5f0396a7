"""``python -m sim.experiments SWEEP.toml …`` is ``sim sweep SWEEP.toml …``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
