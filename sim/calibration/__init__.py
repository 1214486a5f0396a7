"""Calibration: fit scenario parameters to a firm's own KPIs, with uncertainty.

Layers (docs/calibration.md has the guide and the calibration file format):

- targets (:mod:`~sim.calibration.targets`): observed monthly KPI series per firm,
  summary moments (a KPI's mean over the run) and named moments of the whole run
  (:mod:`~sim.calibration.moments`, a registry that stylized facts can join), each with
  an optional standard error and weight;
- :class:`Calibration`: a base scenario × free parameters (any scenario key, with a
  range and a uniform or log-uniform prior) × targets; replications per candidate with
  common random numbers;
- the methods (:mod:`~sim.calibration.fit`): an Optuna point estimate and a pyabc
  ABC-SMC posterior, both resumable from SQLite, both running their simulations on the
  sweep executors (in this process, local processes or Dask);
- outputs (:mod:`~sim.calibration.report`): an atomic run folder with the calibrated
  scenario, the parameter table, the fit, the posterior-predictive check of held-out
  targets, identifiability warnings and plots;
- :func:`main`: the ``sim calibrate`` command.

Examples:
    >>> from sim.calibration import load_calibration
    >>> cal, out = load_calibration("calibrations/example.toml")
    >>> result = cal.run(out, executor=2)                    # doctest: +SKIP
    >>> result.parameters                                    # doctest: +SKIP
"""

from . import facts  # noqa: F401  (registers the stylized-fact moments)
from .cli import load_calibration, main
from .core import Calibration, CalibrationPlan, FreeParameter, Simulator
from .fit import CalibrationResult, identifiability
from .moments import MOMENTS, Moment, moment_names, register_moment
from .targets import CalibrationError, check_targets, read_targets

__all__ = [
    "MOMENTS",
    "Calibration",
    "CalibrationError",
    "CalibrationPlan",
    "CalibrationResult",
    "FreeParameter",
    "Moment",
    "Simulator",
    "check_targets",
    "identifiability",
    "load_calibration",
    "main",
    "moment_names",
    "read_targets",
    "register_moment",
]
