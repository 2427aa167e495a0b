"""Relevance of the inputs of one dense layer ``y = act(W x + b)`` (seed eq. 7–13).

Both rules return the matrix form of eq. 13: one contribution per output ``o`` and input ``i``,
shape ``(..., O, I)``. Summing over ``i`` gives what each rule hands out for output ``o``.
"""

from __future__ import annotations

import torch

from .activations import get_activation, rescale_multiplier
from .checks import as_tensor, baseline_like, check_finite, check_same_kind, check_shape
from .epsilon import epsilon_rule

__all__ = ["dense_lrp", "dense_deeplift"]


def _check_layer(x, weight, bias):
    x = as_tensor("x", x)
    weight = as_tensor("weight", weight)
    check_shape("weight", weight, "(O, I)", weight.dim() == 2)
    check_shape("x", x, f"(..., I) with I = {weight.shape[1]}", x.dim() >= 1 and x.shape[-1] == weight.shape[1])
    check_same_kind("weight", weight, "x", x)
    check_finite("x", x)
    check_finite("weight", weight)
    if bias is not None:
        bias = as_tensor("bias", bias)
        check_shape("bias", bias, f"(O,) with O = {weight.shape[0]}", bias.shape == weight.shape[:1])
        check_same_kind("bias", bias, "x", x)
        check_finite("bias", bias)
    return x, weight, bias


def _affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    z = x @ weight.T
    return z if bias is None else z + bias


def dense_lrp(x, weight, bias=None, activation="tanh", adjusted=False, eps=0.0) -> torch.Tensor:
    """LRP contributions of ``x`` to ``act(W x + b)``, shape ``(..., O, I)`` (seed eq. 10, 11, 13).

    ``R[..., o, i] = act(z)[o] * W[o, i] * x[i] / d[o]`` with ``z = W x + b`` and

    * ``d = z`` (eq. 10, what captum's ``LRP`` computes): the bias sits in the denominator, so the
      contributions sum to ``act(z) * (W x) / (W x + b)``, not to ``act(z)``, when ``b != 0``;
    * ``d = W x`` when ``adjusted`` (eq. 11): the bias is left out and the contributions sum to
      ``act(z)`` exactly (conservation).

    Args:
        x: inputs ``(..., I)``.
        weight: ``(O, I)``.
        bias: ``(O,)`` or None (no bias).
        activation: ``"tanh"``, ``"sigmoid"`` or ``"identity"``.
        adjusted: leave the bias out of the denominator (eq. 11).
        eps: stabiliser, ``d + eps * sign(d)`` with ``sign(0) = +1``.

    Zero denominators: where ``d + eps * sign(d)`` vanishes (below ``finfo.tiny / finfo.eps`` in
    magnitude), that output hands out nothing (its row is zero) instead of dividing by zero; the
    result is never NaN (see :func:`lstm_teach.epsilon.epsilon_ratio`).
    """
    x, weight, bias = _check_layer(x, weight, bias)
    if not (isinstance(eps, (int, float)) and eps >= 0):
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    act = get_activation(activation)
    wx = x @ weight.T
    z = wx if bias is None else wx + bias
    terms = weight * x.unsqueeze(-2)
    return epsilon_rule(terms, wx if adjusted else z, act.fn(z), eps)


def dense_deeplift(x, weight, bias=None, baseline=None, activation="tanh") -> torch.Tensor:
    """DeepLift (rescale rule) contributions of ``x`` to ``act(W x + b)``, shape ``(..., O, I)`` (seed eq. 12, 13).

    ``C[..., o, i] = m[o] * W[o, i] * (x - x_b)[i]`` with the rescale multiplier
    ``m = (act(z) - act(z_b)) / (z - z_b)``, ``z = W x + b``, ``z_b = W x_b + b``.
    The bias cancels in ``z - z_b``; the contributions of output ``o`` sum to
    ``act(z)[o] - act(z_b)[o]`` for any baseline (summation to delta).

    Args:
        x: inputs ``(..., I)``.
        weight: ``(O, I)``.
        bias: ``(O,)`` or None.
        baseline: ``x_b``, broadcastable to ``x`` (``(I,)`` or ``(..., I)``); zeros when None.
        activation: ``"tanh"``, ``"sigmoid"`` or ``"identity"``.

    Where ``z == z_b`` the multiplier is the derivative ``act'(z)`` (the limit of the quotient), so
    the result is never NaN.
    """
    x, weight, bias = _check_layer(x, weight, bias)
    baseline = baseline_like("baseline", baseline, "x", x)
    act = get_activation(activation)
    m = rescale_multiplier(act, _affine(x, weight, bias), _affine(baseline, weight, bias))
    return m.unsqueeze(-1) * weight * (x - baseline).unsqueeze(-2)
