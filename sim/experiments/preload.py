"""What a sweep's fork server loads before it forks the workers.

Importing this module imports :mod:`sim.experiments.sweep` and runs one tiny model
(:func:`~sim.experiments.sweep.warm_kernels`), so the compiled kernels
(:mod:`sim.accel`) are loaded from their disk cache once, in the fork server, and every
worker forked from it starts with them in memory instead of loading them at its first
run.
"""

from __future__ import annotations

from sim.experiments.sweep import warm_kernels

__all__: list[str] = []

warm_kernels()
