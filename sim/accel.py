"""Compiled kernels (numba) beside their numpy reference.

Each mechanism keeps its numpy code as the reference implementation. Where a compiled
kernel is faster, the mechanism also has a numba version, decorated with :func:`jit`,
and chooses between them with :func:`enabled`. Both must give identical results
(tests compare them array for array and run whole models both ways).

Compiled kernels are used when numba is installed (it is a dependency) and not switched
off. Switch them off for a whole process with the environment variable ``SIM_NUMBA=0``,
or for a block of code with :func:`use`::

    with sim.accel.use(False):
        MarketModel(params).run(24)      # the numpy reference path

Compiled code is cached on disk next to the module (``__pycache__``), so only the first
run after an install or an edit pays for compilation.

Examples:
    >>> from sim import accel
    >>> with accel.use(False):
    ...     accel.enabled()
    False
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["available", "enabled", "jit", "use"]

try:  # pragma: no cover - numba is a dependency; this only guards odd installs
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None

_OFF_VALUES = {"0", "false", "no", "off"}
_state = {"on": os.environ.get("SIM_NUMBA", "1").strip().lower() not in _OFF_VALUES}


def available() -> bool:
    """Whether numba can be imported."""
    return _numba is not None


def enabled() -> bool:
    """Whether mechanisms should call their compiled kernels now."""
    return _state["on"] and _numba is not None


@contextmanager
def use(on: bool) -> Iterator[None]:
    """Switch compiled kernels on or off inside a ``with`` block (restored after)."""
    before = _state["on"]
    _state["on"] = bool(on)
    try:
        yield
    finally:
        _state["on"] = before


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` with ``numba.njit`` (cached, no GIL, no fastmath: IEEE results).

    Without numba the plain Python function is returned (correct but slow: callers
    check :func:`enabled` and use their numpy path instead).
    """
    if _numba is None:  # pragma: no cover
        return fn
    return _numba.njit(cache=True, nogil=True)(fn)
