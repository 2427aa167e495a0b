"""Argument checks shared by every public entry point.

Each check raises ``TypeError`` or ``ValueError`` with a message that names the argument, what
was expected and what was received, so that a wrong call fails at the caller's line and not
deep inside torch.
"""

from __future__ import annotations

import math

import torch

__all__ = ["as_tensor", "broadcasts_to", "check_finite", "check_shape", "check_same_kind", "baseline_like"]


def as_tensor(name: str, value) -> torch.Tensor:
    """Return ``value`` as a tensor; refuse anything that is not a tensor."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def check_finite(name: str, value: torch.Tensor) -> None:
    """Refuse NaN and infinite entries. (A finite sum proves them all finite in one reduction; only when
    it is not, which overflow alone can cause, are the entries looked at one by one.)"""
    if value.numel() and math.isfinite(value.sum().item()):
        return
    if not torch.isfinite(value).all():
        bad = (~torch.isfinite(value)).sum().item()
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")


def check_shape(name: str, value: torch.Tensor, expected: str, ok: bool) -> None:
    """Raise when ``ok`` is false, naming the expected shape (a readable pattern like ``(B, T, I)``)."""
    if not ok:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(value.shape)}")


def check_same_kind(name: str, value: torch.Tensor, reference_name: str, reference: torch.Tensor) -> None:
    """Refuse a dtype or device that differs from ``reference``'s."""
    if value.dtype != reference.dtype:
        raise TypeError(
            f"{name} must have the dtype of {reference_name} ({reference.dtype}), got {value.dtype}"
        )
    if value.device != reference.device:
        raise ValueError(
            f"{name} must be on the device of {reference_name} ({reference.device}), got {value.device}"
        )


def broadcasts_to(shape, target) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``target`` (trailing dimensions equal or 1). Written out:
    ``torch.broadcast_shapes`` imports torch's symbolic-shape machinery (and sympy, seconds) on first use."""
    shape, target = tuple(shape), tuple(target)
    return len(shape) <= len(target) and all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def baseline_like(name: str, baseline, like_name: str, like: torch.Tensor) -> torch.Tensor:
    """``baseline`` expanded to ``like``'s shape (zeros when None), after checking that it is a
    finite tensor of ``like``'s dtype and device whose shape broadcasts to ``like``'s."""
    if baseline is None:
        return torch.zeros_like(like)
    baseline = as_tensor(name, baseline)
    check_same_kind(name, baseline, like_name, like)
    check_shape(name, baseline, f"broadcastable to {like_name} {tuple(like.shape)}", broadcasts_to(baseline.shape, like.shape))
    check_finite(name, baseline)
    return baseline.expand_as(like)
