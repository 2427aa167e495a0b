"""Exact Shapley values by enumerating every coalition (seed eq. 18).

    φ_j = Σ_{S ⊆ N∖{j}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {j}) − v(S))

Each of the ``2^n`` coalitions ``S`` appears twice in that sum over all ``j``: with weight
``+w(|S| − 1)`` for the players in ``S`` and ``−w(|S|)`` for the players outside it, where
``w(s) = s! (n − s − 1)! / n!``. So all Shapley values are one matrix product ``φ = v · K`` of
the coalition values ``v`` (2^n) with a fixed ``(2^n, n)`` matrix ``K`` — one batched call of the
game, no loop over players.
"""

from __future__ import annotations

from math import factorial

import torch

from .checks import as_tensor, baseline_like, check_finite, check_shape

__all__ = ["MAX_PLAYERS", "coalitions", "shapley_matrix", "shapley_values"]

MAX_PLAYERS = 20
"""Largest number of players enumerated: 2^20 ≈ 10^6 evaluations of the game per row."""


def check_players(n: int, what: str) -> None:
    """Refuse an enumeration that would be too large, stating its cost."""
    if n > MAX_PLAYERS:
        raise ValueError(
            f"{what} must be at most {MAX_PLAYERS} for exact enumeration, got {n}: that would need "
            f"2^{n} = {2 ** n:,} evaluations per row"
        )


def coalitions(n: int, device=None) -> torch.Tensor:
    """All ``2^n`` coalitions as a boolean mask ``(2^n, n)``; row ``k`` holds the bits of ``k``."""
    bits = torch.arange(n, device=device)
    return (torch.arange(2**n, device=device).unsqueeze(1) >> bits) & 1 == 1


def shapley_matrix(n: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """``K`` (2^n, n) with ``φ = v @ K`` (see the module docstring)."""
    w = torch.tensor([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)],
                     dtype=dtype, device=device)
    masks = coalitions(n, device)
    size = masks.sum(1, keepdim=True)
    inside = w[(size - 1).clamp(min=0)]
    outside = -w[size.clamp(max=n - 1)]
    return torch.where(masks, inside, outside)


def shapley_values(f, x, baseline) -> torch.Tensor:
    """Exact Shapley values of the ``n`` features of ``x`` for the game ``v(S) = f(x_S, baseline_rest)``.

    Args:
        f: maps a batch ``(..., n)`` to ``(...)``: one value per row.
        x: ``(..., n)``.
        baseline: broadcastable to ``x``; an absent player takes the baseline's value.

    Returns:
        ``(..., n)``; the values sum to ``f(x) − f(baseline)`` (efficiency).

    ``f`` is called once, on all ``2^n`` coalitions of every row: ``(..., 2^n, n)``.
    """
    x = as_tensor("x", x)
    check_shape("x", x, "(..., n) with n >= 1", x.dim() >= 1 and x.shape[-1] >= 1)
    check_finite("x", x)
    baseline = baseline_like("baseline", baseline, "x", x)
    n = x.shape[-1]
    check_players(n, "the number of features n")
    masks = coalitions(n, x.device)
    played = torch.where(masks, x.unsqueeze(-2), baseline.unsqueeze(-2))
    values = f(played)
    expected = played.shape[:-1]
    if not isinstance(values, torch.Tensor) or values.shape != expected:
        got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        raise ValueError(f"f must map a batch {tuple(played.shape)} to {tuple(expected)}, got {got}")
    return values @ shapley_matrix(n, values.dtype, values.device)

