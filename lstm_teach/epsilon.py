"""The LRP ε-rule: share a neuron's relevance among its input terms in proportion to them."""

from __future__ import annotations

import torch

__all__ = ["stabilize", "epsilon_ratio", "epsilon_rule"]


def stabilize(d: torch.Tensor, eps: float) -> torch.Tensor:
    """``d + eps * sign(d)`` with ``sign(0) = +1``: pushes a denominator away from zero by ``eps``."""
    return d + eps * torch.where(d >= 0, 1.0, -1.0).to(d.dtype)


def epsilon_ratio(relevance: torch.Tensor, d: torch.Tensor, eps: float) -> torch.Tensor:
    """Relevance per unit of pre-activation, ``relevance / (d + eps * sign(d))``; shapes broadcast.

    With ``eps = 0`` a denominator can vanish (the terms cancel). A stabilised denominator smaller
    in magnitude than ``finfo.tiny / finfo.eps`` (about 1e-31 in float32, 1e-292 in float64) counts
    as zero: the quotient would overflow there. That neuron's relevance is dropped (ratio 0)
    instead of being divided by zero, so the result is never NaN or infinite.
    """
    d = stabilize(d, eps)
    info = torch.finfo(d.dtype)
    zero = d.abs() < info.tiny / info.eps
    return torch.where(zero, torch.zeros_like(d), relevance / torch.where(zero, torch.ones_like(d), d))


def epsilon_rule(terms: torch.Tensor, d: torch.Tensor, relevance: torch.Tensor, eps: float) -> torch.Tensor:
    """Relevance per term: ``terms[..., o, i] * relevance[..., o] / (d[..., o] + eps * sign(d))``.

    Shapes: ``terms`` (..., O, I), ``d`` and ``relevance`` (..., O); returns (..., O, I).
    Zero denominators as in :func:`epsilon_ratio`.
    """
    return terms * epsilon_ratio(relevance, d, eps).unsqueeze(-1)
