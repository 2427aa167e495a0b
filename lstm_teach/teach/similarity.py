"""How alike are two explanations of the same rows? Rank correlation and top-k overlap (chapters 11–12).

Two attributions ``a`` and ``b`` of a row (n numbers each, e.g. one per time step):

* **Spearman's rank correlation** ρ: the Pearson correlation of their ranks. Tied values share the
  average of the ranks they span. ρ = 1 when both order the entries the same way, −1 when one
  reverses the other. A row whose entries are all equal has no order; its ρ is defined as 0 (it
  agrees with no order), never NaN.
* **top-k overlap**: the share of the k entries with the largest ``|a|`` that are also among the k
  largest ``|b|``, from 0 to 1 (ties broken by position, earliest first).
"""

from __future__ import annotations

import torch

__all__ = ["average_ranks", "rank_correlation", "top_k_overlap"]


def _rows(name: str, values) -> torch.Tensor:
    values = torch.as_tensor(values)
    if values.dim() == 1:
        values = values.unsqueeze(0)
    if values.dim() != 2 or values.shape[1] < 2:
        raise ValueError(f"{name} must be (n,) or (B, n) with n ≥ 2, got shape {tuple(values.shape)}")
    return values.double()


def average_ranks(values) -> torch.Tensor:
    """Ranks 1 … n (float64) along the last axis of ``values`` (B, n), ties given the average of their ranks."""
    v = _rows("values", values)
    below = (v.unsqueeze(-1) > v.unsqueeze(-2)).sum(-1).to(v.dtype)   # entries smaller than each
    equal = (v.unsqueeze(-1) == v.unsqueeze(-2)).sum(-1).to(v.dtype)  # itself included
    return below + (equal + 1) / 2


def rank_correlation(a, b) -> torch.Tensor:
    """Spearman's ρ of each row, (B,), for ``a`` and ``b`` of shape (B, n) (or (n,), giving (1,))."""
    a, b = _rows("a", a), _rows("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    norm = (ra.pow(2).sum(1) * rb.pow(2).sum(1)).sqrt()
    return torch.where(norm > 0, (ra * rb).sum(1) / torch.where(norm > 0, norm, 1.0), 0.0)


def top_k_overlap(a, b, k: int) -> torch.Tensor:
    """Share of the k largest ``|a|`` among the k largest ``|b|``, per row, (B,)."""
    a, b = _rows("a", a), _rows("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if not (isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= a.shape[1]):
        raise ValueError(f"k must be an int in [1, {a.shape[1]}], got {k!r}")
    top_a = a.abs().sort(dim=1, descending=True, stable=True).indices[:, :k]
    top_b = b.abs().sort(dim=1, descending=True, stable=True).indices[:, :k]
    return (top_a.unsqueeze(-1) == top_b.unsqueeze(-2)).any(-1).double().mean(1)
