"""Relevance through one gate, split between the input ``x_t`` and the recurrent state ``h_{t-1}``
(seed eq. 14–17, corrected).

A gate is a dense layer over the concatenation ``[x_t; h_{t-1}]`` with weight ``[W_i* | W_h*]``
and bias ``b_i* + b_h*`` (:meth:`LSTMWeights.gate_layer`), so both rules are the dense rules of
chapter 1 applied to that layer, their ``(…, H, I + H)`` contributions cut into an ``x`` part and
an ``h`` part. The corrections to the seed: the bias is ``b_i* + b_h*`` in every pre-activation,
each gate uses its own weights, and the DeepLift denominator is ``z − z_b`` for any baselines.
"""

from __future__ import annotations

import torch

from .checks import as_tensor, baseline_like, check_shape
from .dense import dense_deeplift, dense_lrp
from .lstm import GATE_ACTIVATIONS, LSTMWeights, canonical_gate

__all__ = ["gate_lrp", "gate_deeplift"]


def _concat(name_x, x_t, name_h, h_prev, weights: LSTMWeights) -> torch.Tensor:
    x_t, h_prev = as_tensor(name_x, x_t), as_tensor(name_h, h_prev)
    check_shape(name_x, x_t, f"(..., I) with I = {weights.input_size}",
                x_t.dim() >= 1 and x_t.shape[-1] == weights.input_size)
    check_shape(name_h, h_prev, f"(..., H) with H = {weights.hidden_size} and the batch shape of {name_x}",
                h_prev.shape[:-1] == x_t.shape[:-1] and h_prev.shape[-1:] == (weights.hidden_size,))
    return torch.cat([x_t, h_prev], dim=-1)


def _split(contributions: torch.Tensor, weights: LSTMWeights):
    return contributions.split([weights.input_size, weights.hidden_size], dim=-1)


def gate_lrp(x_t, h_prev, weights: LSTMWeights, gate: str, adjusted=False, eps=0.0):
    """LRP of one gate's activation onto ``x_t`` and ``h_{t-1}``.

    Args:
        x_t: ``(..., I)``; h_prev: ``(..., H)``.
        weights: the layer's :class:`LSTMWeights`.
        gate: ``"i"``, ``"f"``, ``"g"``, ``"o"`` or seed 2's ``"save"``, ``"remember"``,
            ``"candidate"``, ``"focus"``.
        adjusted, eps: as in :func:`dense_lrp` (eq. 10 with the bias in the denominator, eq. 11
            without).

    Returns:
        ``(R_x, R_h)``: ``(..., H, I)`` and ``(..., H, H)``, one row per gate unit.
    """
    weight, bias = weights.gate_layer(gate)
    both = _concat("x_t", x_t, "h_prev", h_prev, weights)
    activation = GATE_ACTIVATIONS[canonical_gate(gate)]
    return _split(dense_lrp(both, weight, bias, activation, adjusted, eps), weights)


def gate_deeplift(x_t, h_prev, weights: LSTMWeights, gate: str, x_baseline=None, h_baseline=None):
    """DeepLift (rescale) of one gate's change onto ``x_t`` and ``h_{t-1}``, any baselines.

    ``R[j, ·] = m_j · [W_i*[j] ⊙ (x_t − x_b) | W_h*[j] ⊙ (h_{t-1} − h_b)]`` with
    ``m_j = (act(z_j) − act(z_b,j)) / (z_j − z_b,j)``; for each unit the two parts sum to the
    gate's change ``act(z) − act(z_b)``. Shapes as :func:`gate_lrp`; baselines broadcastable to
    ``x_t`` and ``h_prev``, zeros when None.
    """
    weight, bias = weights.gate_layer(gate)
    both = _concat("x_t", x_t, "h_prev", h_prev, weights)
    baseline = torch.cat([baseline_like("x_baseline", x_baseline, "x_t", x_t),
                          baseline_like("h_baseline", h_baseline, "h_prev", h_prev)], dim=-1)
    activation = GATE_ACTIVATIONS[canonical_gate(gate)]
    return _split(dense_deeplift(both, weight, bias, baseline, activation), weights)

