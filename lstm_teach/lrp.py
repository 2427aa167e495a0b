"""LRP through a whole LSTM: the ε-rule with signal-take-all at the gates (Arras et al., 2017).

Relevance starts as the target score and flows back over time:

* the head and every gate pre-activation: ε-rule, ``R_in = in ⊙ (W^T (R / (z + ε·sign z)))``,
  with the biases only in the denominators ``z`` (the share a bias would have taken is lost);
* ``h_t = o_t ⊙ tanh(c_t)``: the gate ``o_t`` gets nothing, ``c_t`` gets all of ``R_{h_t}``
  (signal-take-all; tanh passes relevance unchanged);
* ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t``: ε-rule over the two terms, so ``c_{t-1}`` and ``g_t``
  share ``R_{c_t}`` in proportion to ``f_t c_{t-1}`` and ``i_t g_t``; the gates ``f_t`` and
  ``i_t`` get nothing;
* ``g_t = tanh(z_g)``: relevance passes to ``z_g``, then the ε-rule splits it between ``x_t``
  and ``h_{t-1}``.

The result is not conservative: biases and ε absorb part of the score. The notebooks print how much.
"""

from __future__ import annotations

import torch

from .epsilon import epsilon_ratio
from .explainer import LSTMExplainer
from .lstm import lstm_forward

__all__ = ["LSTMLRP"]


class LSTMLRP(LSTMExplainer):
    """LRP-ε attributions of an :class:`LSTMClassifier`'s score to its inputs.

    Args:
        model: one LSTM layer and a linear head (see :class:`LSTMClassifier`).
        eps: stabiliser of every denominator, ``z + eps * sign(z)`` with ``sign(0) = +1``; with
            ``eps = 0`` a denominator that is exactly zero passes no relevance (never NaN).
    """

    def __init__(self, model, eps: float = 1e-3):
        super().__init__(model)
        if not (isinstance(eps, (int, float)) and not isinstance(eps, bool) and eps >= 0):
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        self.eps = float(eps)

    @torch.no_grad()
    def attribute(self, inputs, target=None):
        """Relevance ``(B, T, I)`` of ``inputs`` (B, T, I) for the score ``target`` (int or (B,);
        may be omitted when the head has one output)."""
        x, _ = self._inputs(inputs, None)
        target = self._target(target, x.shape[0])
        weights, head_weight, head_bias = self._weights()
        trace = lstm_forward(x, weights)
        h_last = trace.h[:, -1]
        score = (h_last * head_weight[target]).sum(-1) + head_bias[target]
        r_h = h_last * head_weight[target] * epsilon_ratio(score, score, self.eps).unsqueeze(-1)
        w_g, _ = weights.gate_layer("g")
        w_xg, w_hg = w_g.split([weights.input_size, weights.hidden_size], dim=1)
        from_cprev = trace.f * trace.c_prev
        from_g = trace.i * trace.g
        z_g, h_prev = trace.z_g, trace.h_prev
        relevance = torch.empty_like(x)
        r_c = torch.zeros_like(r_h)
        for t in reversed(range(x.shape[1])):
            r_c = r_c + r_h                                             # signal-take-all at o_t
            ratio_c = epsilon_ratio(r_c, trace.c[:, t], self.eps)       # c_t = f c_{t-1} + i g
            r_g = from_g[:, t] * ratio_c
            r_c = from_cprev[:, t] * ratio_c
            ratio_g = epsilon_ratio(r_g, z_g[:, t], self.eps)     # z_g = W_ig x + W_hg h + b
            relevance[:, t] = x[:, t] * (ratio_g @ w_xg)
            r_h = h_prev[:, t] * (ratio_g @ w_hg)
        return relevance
