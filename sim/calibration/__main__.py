"""``python -m sim.calibration CALIBRATION.toml …`` is ``sim calibrate CALIBRATION.toml …``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
