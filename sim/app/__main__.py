"""``python -m sim.app [SCENARIO] [--port N]``: the same as ``sim dashboard``."""

import sys

from . import main

sys.exit(main())
