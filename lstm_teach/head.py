"""The head (an ``nn.Linear`` or a small MLP) forward and back, under any rules.

Back from the target score (multiplier 1) through each layer in turn:

* ``nn.Linear``, ``z = W a + b``: the linear rule at ``z`` (ε for LRP), then ``m_a = Wᵀ m_z``;
* ``nn.ReLU``, ``nn.Tanh``, ``nn.Sigmoid``: the nonlinearity rule (rescale for DeepLift);
* ``nn.Identity``, ``nn.Dropout`` (off in eval): unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from .activations import RELU, get_activation

__all__ = ["HEAD_ACTIVATIONS", "head_forward", "head_multipliers"]

HEAD_ACTIVATIONS = {nn.ReLU: RELU, nn.Tanh: get_activation("tanh"),
                    nn.Sigmoid: get_activation("sigmoid")}


def head_forward(layers, a: torch.Tensor):
    """Every layer's input and output, in order; the scores are ``head_forward(layers, a)[-1][1]``."""
    record = []
    for layer in layers:
        if isinstance(layer, nn.Linear):
            out = nn.functional.linear(a, layer.weight.detach(),
                                       None if layer.bias is None else layer.bias.detach())
        elif type(layer) in HEAD_ACTIVATIONS:
            out = HEAD_ACTIVATIONS[type(layer)].fn(a)
        else:                                            # Identity, Dropout (eval)
            out = a
        record.append((a, out))
        a = out
    return record


def head_multipliers(layers, features, features_ref, target: torch.Tensor, rules):
    """Multipliers of the head's input features for the ``target`` score.

    Args:
        layers: the head's layers (:func:`lstm_teach.models.head_layers`).
        features: (B, F) at the input; ``features_ref``: (B, F) at the reference, or None (LRP).
        target: (B,) output index per row.
        rules: the method's :class:`~lstm_teach.rules.Rules`.

    Returns:
        ``(m_features (B, F), scores (B, O), scores_ref (B, O) or None)``.
    """
    record = head_forward(layers, features)
    record_ref = head_forward(layers, features_ref) if features_ref is not None else [(None, None)] * len(layers)
    scores = record[-1][1]
    m = torch.zeros_like(scores).scatter_(1, target.unsqueeze(1), 1.0)
    for layer, (a, out), (a_ref, out_ref) in zip(reversed(layers), reversed(record), reversed(record_ref)):
        if isinstance(layer, nn.Linear):
            factor = rules.linear(out)
            m = (m if factor is None else m * factor) @ layer.weight.detach()
        elif type(layer) in HEAD_ACTIVATIONS:
            m = m * rules.nonlinear(HEAD_ACTIVATIONS[type(layer)], a, a_ref, out, out_ref)
    return m, scores, record_ref[-1][1]
