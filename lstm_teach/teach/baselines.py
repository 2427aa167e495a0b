"""Baselines beyond a constant (chapter 11): a blurred copy of the input, and the expected baseline.

A baseline says what "absent" means. Two choices that are not a single constant sequence:

* **blurred** (after the blurred images of Sturmfels, Lundberg & Lee, 2020, here along time): each
  row smoothed by a Gaussian kernel of ``width`` steps,

      b_t = Σ_s w_ts x_s / Σ_s w_ts,     w_ts = exp(−(t − s)² / (2 width²)),

  so the slow level of the sequence stays and the fast changes go. ``width → 0`` gives ``b = x``
  (nothing removed, every attribution 0); ``width → ∞`` gives each row's own mean over time.
* **expected** (shap's background set): ``K`` background sequences ``b_1 … b_K`` and the
  attributions averaged over them, ``φ(x) = (1/K) Σ_k φ(x; b_k)``. A complete method then sums to
  ``f(x) − (1/K) Σ_k f(b_k)``: the input against the model's *average* output on the background.
"""

from __future__ import annotations

import math

import torch

__all__ = ["blurred_baseline", "expected_attributions"]


def blurred_baseline(inputs: torch.Tensor, width: float) -> torch.Tensor:
    """The inputs (B, T, I) blurred along time by a Gaussian kernel of ``width`` > 0 steps (edges
    renormalised, so a constant row stays constant); ``width=math.inf`` gives each row's mean."""
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3 or not inputs.is_floating_point():
        got = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ValueError(f"inputs must be a float tensor (B, T, I), got {got}")
    if not (isinstance(width, (int, float)) and not isinstance(width, bool) and width > 0):
        raise ValueError(f"width must be a number > 0 (steps), got {width!r}")
    steps = inputs.shape[1]
    if math.isinf(width):
        return inputs.mean(1, keepdim=True).expand_as(inputs).clone()
    t = torch.arange(steps, dtype=inputs.dtype, device=inputs.device)
    weights = torch.exp(-((t[:, None] - t[None, :]) ** 2) / (2 * width ** 2))   # (T, T), diagonal 1
    weights = weights / weights.sum(1, keepdim=True)
    return torch.einsum("ts,bsi->bti", weights, inputs)


def expected_attributions(attribute, inputs: torch.Tensor, background: torch.Tensor, target=None,
                          **kwargs) -> torch.Tensor:
    """Attributions averaged over a background set: ``(1/K) Σ_k attribute(x, b_k)``.

    Args:
        attribute: a callable ``attribute(inputs, baselines, target=..., **kwargs)`` in captum's
            convention, such as ``LSTMDeepLift(model).attribute`` or ``TimeStepShapley(model).attribute``.
        inputs: (B, T, ...); background: (K, T, ...), the same trailing shape.
        target: None, an int, or a (B,) tensor (repeated for each background row).

    Returns the mean over the K background rows, shaped as ``attribute`` returns for B rows. One
    call on the B · K pairs (row ``b`` against every background row).
    """
    if not isinstance(background, torch.Tensor) or background.shape[1:] != inputs.shape[1:] or len(background) == 0:
        got = tuple(background.shape) if isinstance(background, torch.Tensor) else type(background).__name__
        raise ValueError(f"background must be a tensor (K, {', '.join(map(str, inputs.shape[1:]))}) with K ≥ 1, "
                         f"got {got}")
    batch, count = len(inputs), len(background)
    if isinstance(target, torch.Tensor) and target.numel() > 1:
        target = target.reshape(-1).repeat_interleave(count)
    pairs = attribute(inputs.repeat_interleave(count, 0), background.repeat(batch, *[1] * (background.dim() - 1)),
                      target=target, **kwargs)
    return pairs.view(batch, count, *pairs.shape[1:]).mean(1)
