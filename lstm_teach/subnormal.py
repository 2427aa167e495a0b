"""Flush subnormal floats to zero while an attribution runs, and restore the caller's setting after.

Multipliers shrink as a sweep goes back in time (each step multiplies them by gate values below 1),
and far enough back they become *subnormal*: smaller than the smallest normal float (``finfo.tiny``,
1.2e-38 in float32, 2.2e-308 in float64). Many CPUs compute with subnormals through a slow path,
several times slower; AMD CPUs mostly do not, Intel CPUs do. An attribution that small is below every
other rounding error of the result (each ``finfo.eps`` times a score of order one), so flushing it to
zero changes nothing that can be measured: completeness holds as before.

``torch.set_flush_denormal`` switches the CPU's flush-to-zero and denormals-are-zero modes for the
calling thread (x86 with SSE3), and torch offers no way to read them back. So :func:`flushing_subnormals`
probes the current mode with one multiplication of a subnormal number (zero when the mode is on) and
restores it afterwards. Worker threads that torch starts for one large operation keep their own mode.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

import torch

__all__ = ["flushing_subnormals", "flush_subnormals"]

_SUBNORMAL = 2.0 ** -1070
"""A float64 subnormal number: multiplied by one, it stays itself unless subnormals are flushed."""


def flushing_subnormals() -> bool:
    """Whether the calling thread flushes subnormal floats to zero right now."""
    return torch.tensor(_SUBNORMAL, dtype=torch.float64).mul(1.0).item() == 0.0


@contextmanager
def _flushed():
    switched = not flushing_subnormals() and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if switched:
            torch.set_flush_denormal(False)


def flush_subnormals(method):
    """Decorate an ``attribute`` method so that it runs with subnormals flushed (see the module docstring)."""
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with _flushed():
            return method(*args, **kwargs)
    return wrapped
