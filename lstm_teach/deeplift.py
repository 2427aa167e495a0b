"""DeepLift through a whole LSTM in one backward sweep, with a choice of product rule.

DeepLift replaces every derivative by a *multiplier* ``m = Δout / Δin`` measured between the
input and the baseline, and chains multipliers like gradients. Three kinds of node occur:

* linear maps (the gates' pre-activations, the head): the weights themselves;
* σ and tanh: the rescale multiplier ``(act(z) − act(z_b)) / (z − z_b)`` (seed eq. 12);
* products ``f ⊙ c_{t-1}``, ``i ⊙ g``, ``o ⊙ tanh(c_t)``: a coefficient from the other factor,
  chosen by the product rule (see :mod:`lstm_teach.products`).

Every node then satisfies ``Δout = Σ m · Δin`` exactly when the product rule is ``"shapley"``, so
the attributions ``m_x · (x − x_b)`` sum to ``f(x) − f(x_b)`` (completeness). With ``"input"``
the sweep is what captum's ``DeepLift`` computes on the same LSTM built from modules, with
``"baseline"`` what shap's ``DeepExplainer`` computes there; both miss completeness by the
second-order terms ``Δa · Δb`` of every product.
"""

from __future__ import annotations

import torch

from .activations import get_activation, rescale_multiplier
from .explainer import LSTMExplainer
from .lstm import GATE_ACTIVATIONS, GATES, lstm_forward
from .products import PRODUCT_RULES, product_coefficient

__all__ = ["LSTMDeepLift"]

_TANH = get_activation("tanh")


class LSTMDeepLift(LSTMExplainer):
    """DeepLift attributions of an :class:`LSTMClassifier`'s score to its inputs.

    Args:
        model: one LSTM layer and a linear head (see :class:`LSTMClassifier`).
        product_rule: ``"shapley"`` (exact completeness), ``"input"`` (= captum ``DeepLift`` on
            the unrolled module LSTM) or ``"baseline"`` (= shap ``DeepExplainer`` on it).
    """

    def __init__(self, model, product_rule: str = "shapley"):
        super().__init__(model)
        if product_rule not in PRODUCT_RULES:
            raise ValueError(f"product_rule must be one of {PRODUCT_RULES}, got {product_rule!r}")
        self.product_rule = product_rule

    @torch.no_grad()
    def attribute(self, inputs, baselines=None, target=None, return_convergence_delta=False):
        """Attributions ``(B, T, I)``; with ``return_convergence_delta`` also ``delta`` (B,) =
        attributions summed − (f(x) − f(baseline)).

        ``inputs`` (B, T, I); ``baselines`` like ``inputs``, (T, I) or (I,), zeros when None;
        ``target`` int or (B,) output index, may be omitted when the head has one output.
        One forward pass over input and baseline together, one backward sweep over time.
        """
        x, x_b = self._inputs(inputs, baselines)
        target = self._target(target, x.shape[0])
        weights, head_weight, head_bias = self._weights()
        both = lstm_forward(torch.cat([x, x_b]), weights)
        m_x = self._sweep(both, x.shape[0], weights, head_weight[target])
        attributions = m_x * (x - x_b)
        if not return_convergence_delta:
            return attributions
        scores = both.h[:, -1] @ head_weight.T + head_bias
        score, score_b = scores.gather(1, target.repeat(2).unsqueeze(1)).squeeze(1).chunk(2)
        return attributions, attributions.sum((1, 2)) - (score - score_b)

    def _sweep(self, both, batch, weights, m_h):
        """Multipliers of the score w.r.t. every ``x_t``, (B, T, I), from ``m_h = ∂score/∂h_T`` (B, H).

        ``both``: the trace of input and baseline stacked on the batch axis (first ``batch`` rows:
        input). Each factor below is a (B, T, H) tensor: the multiplier of one edge of the graph.
        """
        def pair(v):
            return v[:batch], v[batch:]

        def k(v):  # product-rule coefficient of a product's partner factor
            return product_coefficient(self.product_rule, *pair(v))

        s_i, s_f, s_g, s_o = (                                          # eq. 1, 2, 3, 5
            rescale_multiplier(get_activation(GATE_ACTIVATIONS[gate]), *pair(getattr(both, "z_" + gate)))
            for gate in GATES
        )
        s_c = rescale_multiplier(_TANH, *pair(both.c))                  # tanh(c_t) in eq. 6
        h_to_c = k(both.o) * s_c                                        # h_t = o ⊙ tanh(c_t)
        h_to_zo = k(torch.tanh(both.c)) * s_o
        c_to_z = torch.cat([k(both.g) * s_i, k(both.c_prev) * s_f, k(both.i) * s_g], dim=-1)  # eq. 4
        c_to_cprev = k(both.f)

        w_hh = weights.weight_hh
        m_z = both.z.new_empty((batch,) + both.z.shape[1:])
        m_c = torch.zeros_like(m_h)
        for t in reversed(range(m_z.shape[1])):
            m_c = m_c + m_h * h_to_c[:, t]
            m_z[:, t] = torch.cat([m_c.repeat(1, 3) * c_to_z[:, t], m_h * h_to_zo[:, t]], dim=-1)
            m_h = m_z[:, t] @ w_hh                                      # eq. 1–3, 5 through h_{t-1}
            m_c = m_c * c_to_cprev[:, t]                                # eq. 4 through c_{t-1}
        return m_z @ weights.weight_ih                                  # eq. 1–3, 5 through x_t
