"""Printed checks for the notebooks: every claim a notebook makes rests on one of these lines.

They print a bound instead of the raw difference (``≤ 1e-10`` rather than ``2.8e-17``): the bound is
what the check proves, and it reads the same on every machine and thread count, so nbval can
compare it. A failed check raises, so a notebook cannot silently drift.
"""

from __future__ import annotations

import torch

__all__ = ["agreement", "check_answer"]


def _as_tensor(value) -> torch.Tensor:
    return value.detach().cpu() if isinstance(value, torch.Tensor) else torch.as_tensor(value)


def agreement(label: str, ours, reference, tol: float) -> None:
    """Print ``label: max |difference| ≤ tol ✓`` and raise ``AssertionError`` if it does not hold.

    ``ours`` and ``reference``: tensors or arrays of the same shape (any dtype; compared in float64).
    """
    ours, reference = _as_tensor(ours).double(), _as_tensor(reference).double()
    if ours.shape != reference.shape:
        raise AssertionError(f"{label}: shapes differ, {tuple(ours.shape)} vs {tuple(reference.shape)}")
    diff = (ours - reference).abs().max().item() if ours.numel() else 0.0
    if not diff <= tol:
        raise AssertionError(f"{label}: max |difference| = {diff:.3e} > {tol:.0e}")
    print(f"{label}: max |difference| ≤ {tol:.0e} ✓")


def check_answer(answer, expected, tol: float = 1e-6) -> None:
    """An exercise's self-check: compare the learner's ``answer`` with ``expected`` and say how it went.

    Prints a verdict or a hint instead of raising, so a notebook with an unanswered exercise still
    runs (and returns nothing, so a notebook cell shows only the message).
    """
    print(_verdict(answer, expected, tol))


def _verdict(answer, expected, tol: float) -> str:
    if answer is None:
        return "Not answered yet: replace None with your answer and run the cell again."
    answer, expected = _as_tensor(answer).double(), _as_tensor(expected).double()
    if answer.shape != expected.shape:
        return f"Not yet: expected shape {tuple(expected.shape)}, got {tuple(answer.shape)}."
    diff = (answer - expected).abs().max().item() if answer.numel() else 0.0
    if diff <= tol:
        return f"Correct (within {tol:.0e})."
    return f"Not yet: your answer is off by up to {diff:.3g}."
