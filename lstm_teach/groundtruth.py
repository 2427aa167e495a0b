"""A fair test of an explanation when the truth is known: correlation with the true effects (chapter 9).

When every token's true contribution ``g_t`` to the score is known by construction (the
sentences of chapter 9), an explanation ``R`` can be scored by how well it follows ``g``: the
ground-truth test of Arras et al. (2019), "Evaluating recurrent neural network explanations".
Over a test set of ``B`` sequences, row ``b`` holding ``L_b`` valid tokens:

* per sequence: the correlation ``r_b`` of ``(R_bt)_t`` with ``(g_bt)_t`` over the row's valid
  tokens, then their mean ``r̄ = 1/B Σ_b r_b``. Blind to each row's scale: it asks whether the
  method ranks and weighs the words of one sentence right;
* pooled: one correlation over all valid tokens of all rows together. It also asks whether the
  relevances of different sentences are on one scale.

Pearson's ``r = Σ (R − R̄)(g − ḡ) / sqrt(Σ (R − R̄)² · Σ (g − ḡ)²)``, or Spearman's: Pearson's on
the ranks (ties share their mean rank). Where a variance is zero (a constant relevance, or a row
with one token) the correlation is undefined; we set it to 0 (a constant says nothing about which
word matters) rather than NaN, and count such rows.

Confidence intervals: percentile bootstrap over the sequences. Draw ``B`` rows with replacement,
``num_bootstrap`` times (seeded), recompute ``r̄`` and the pooled ``r`` on each draw, and report
the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles. Resampling whole sequences keeps the tokens
of one sentence together: they are not independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .checks import as_tensor, check_shape

__all__ = ["METHODS", "GroundTruthCorrelation", "correlation", "ground_truth_correlation", "ranks"]

METHODS = ("pearson", "spearman")


def ranks(values: torch.Tensor) -> torch.Tensor:
    """The ranks 1 … n of a 1-D tensor, ties sharing their mean rank (as Spearman's correlation needs)."""
    unique, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    last = counts.cumsum(0).to(values.dtype)                         # the highest rank of each value
    return (last - (counts.to(values.dtype) - 1) / 2)[inverse]


def correlation(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Pearson's correlation of ``x`` and ``y`` along the last dimension, over the entries where
    ``mask`` is true (all when None); 0 where a variance is zero. Shapes (..., n) → (...)."""
    if mask is None:
        mask = torch.ones_like(x, dtype=torch.bool)
    weight = mask.to(x.dtype)
    count = weight.sum(-1, keepdim=True).clamp(min=1)
    dx = (x - (x * weight).sum(-1, keepdim=True) / count) * weight
    dy = (y - (y * weight).sum(-1, keepdim=True) / count) * weight
    denominator = ((dx * dx).sum(-1) * (dy * dy).sum(-1)).sqrt()
    covariance = (dx * dy).sum(-1)
    return torch.where(denominator > 0, covariance / torch.where(denominator > 0, denominator, 1), 0)


@dataclass
class GroundTruthCorrelation:
    """The outcome of :func:`ground_truth_correlation`.

    Attributes:
        method: ``"pearson"`` or ``"spearman"``.
        per_sequence: ``r_b`` of each row, (B,).
        mean, mean_ci: ``r̄`` and its bootstrap interval ``(low, high)``.
        pooled, pooled_ci: the pooled ``r`` and its interval.
        undefined: how many rows had a zero variance (their ``r_b`` set to 0).
        level, num_bootstrap: the interval's coverage and the number of bootstrap draws.
    """

    method: str
    per_sequence: torch.Tensor
    mean: float
    mean_ci: tuple[float, float]
    pooled: float
    pooled_ci: tuple[float, float]
    undefined: int
    level: float
    num_bootstrap: int

    def __str__(self) -> str:
        percent = f"{100 * self.level:g}%"
        return (f"{self.method} r: mean over {len(self.per_sequence)} sequences {self.mean:.3f} "
                f"[{self.mean_ci[0]:.3f}, {self.mean_ci[1]:.3f}], pooled {self.pooled:.3f} "
                f"[{self.pooled_ci[0]:.3f}, {self.pooled_ci[1]:.3f}] ({percent} bootstrap intervals)")


def _pooled(relevance, truth, valid, method) -> torch.Tensor:
    x, y = relevance[valid], truth[valid]
    if method == "spearman":
        x, y = ranks(x), ranks(y)
    return correlation(x, y)


def _pooled_pearson_draws(relevance, truth, valid, draws) -> torch.Tensor:
    """The pooled Pearson ``r`` of each bootstrap draw (rows ``draws[i]``), (num_bootstrap,), from
    per-row sums: a draw's sums are the row sums weighted by how often the draw holds each row.
    The values are centred on the overall means first, so that the sums of squares lose no digits."""
    weight = valid.to(relevance.dtype)
    x = (relevance - relevance[valid].mean()) * weight
    y = (truth - truth[valid].mean()) * weight
    sums = torch.stack([weight.sum(1), x.sum(1), y.sum(1), (x * x).sum(1), (y * y).sum(1), (x * y).sum(1)], 1)
    times = torch.zeros(draws.shape[0], relevance.shape[0], dtype=relevance.dtype)
    times.scatter_add_(1, draws, torch.ones_like(draws, dtype=relevance.dtype))
    n, sx, sy, sxx, syy, sxy = (times @ sums).unbind(1)
    covariance, vx, vy = sxy - sx * sy / n, sxx - sx * sx / n, syy - sy * sy / n
    denominator = (vx * vy).clamp(min=0).sqrt()
    return torch.where(denominator > 0, covariance / torch.where(denominator > 0, denominator, 1), 0)


def ground_truth_correlation(relevance, truth, lengths=None, method: str = "pearson", num_bootstrap: int = 1000,
                             level: float = 0.95, seed: int = 0) -> GroundTruthCorrelation:
    """How well relevances follow the true contributions, per sequence and pooled, with bootstrap
    intervals (see the module docstring).

    Args:
        relevance: (B, T) relevance of each token (or step), float.
        truth: (B, T) its true contribution, same dtype.
        lengths: (B,) valid tokens per row (the rest is padding and ignored), or None (all valid).
        method: ``"pearson"`` or ``"spearman"``.
        num_bootstrap, level, seed: bootstrap draws, interval coverage, and the seed of the draws
            (a ``torch.Generator``; the global random state is left untouched).
    """
    relevance, truth = as_tensor("relevance", relevance), as_tensor("truth", truth)
    check_shape("relevance", relevance, "(B, T)", relevance.dim() == 2)
    check_shape("truth", truth, f"{tuple(relevance.shape)}, as relevance", truth.shape == relevance.shape)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not (isinstance(num_bootstrap, int) and num_bootstrap >= 1 and 0 < level < 1):
        raise ValueError(f"num_bootstrap must be a positive int and level in (0, 1), got {num_bootstrap!r}, {level!r}")
    batch, steps = relevance.shape
    lengths = torch.full((batch,), steps) if lengths is None else torch.as_tensor(lengths)
    check_shape("lengths", lengths, f"({batch},)", lengths.shape == (batch,))
    valid = torch.arange(steps) < lengths.unsqueeze(1)

    x, y = relevance, truth
    if method == "spearman":          # ranks within each row
        x = torch.stack([_row_ranks(r, v) for r, v in zip(relevance, valid)])
        y = torch.stack([_row_ranks(g, v) for g, v in zip(truth, valid)])
    per_sequence = correlation(x, y, valid)
    undefined = int((_variance_zero(relevance, valid) | _variance_zero(truth, valid)).sum())

    generator = torch.Generator().manual_seed(seed)
    draws = torch.randint(batch, (num_bootstrap, batch), generator=generator)
    means = per_sequence[draws].mean(1)
    if method == "pearson":
        pooled = _pooled_pearson_draws(relevance, truth, valid, draws)
    else:                             # ranks change with the draw: recomputed on each
        pooled = torch.stack([_pooled(relevance[rows], truth[rows], valid[rows], method) for rows in draws])
    quantiles = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=relevance.dtype)

    def interval(values):
        low, high = torch.quantile(values, quantiles).tolist()
        return low, high

    return GroundTruthCorrelation(
        method=method, per_sequence=per_sequence, mean=per_sequence.mean().item(), mean_ci=interval(means),
        pooled=_pooled(relevance, truth, valid, method).item(), pooled_ci=interval(pooled),
        undefined=undefined, level=level, num_bootstrap=num_bootstrap,
    )


def _row_ranks(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Ranks of the valid entries of one row, in place of them (0 at the padded ones)."""
    out = torch.zeros_like(values)
    out[valid] = ranks(values[valid])
    return out


def _variance_zero(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Rows whose valid entries are all equal, (B,)."""
    high = torch.where(valid, values, -torch.inf).amax(1)
    low = torch.where(valid, values, torch.inf).amin(1)
    return high == low
