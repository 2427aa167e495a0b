"""DeepLift through a whole recurrent model in one backward sweep, with a choice of product rule.

DeepLift replaces every derivative by a *multiplier* ``m = Δout / Δin`` measured between the
input and the baseline, and chains multipliers like gradients. Three kinds of node occur:

* linear maps (the gates' pre-activations, the head's layers): the weights themselves;
* σ, tanh and ReLU: the rescale multiplier ``(act(z) − act(z_b)) / (z − z_b)`` (seed eq. 12);
* products (LSTM: ``f ⊙ c_{t-1}``, ``i ⊙ g``, ``o ⊙ tanh(c_t)``; GRU: ``r ⊙ a``, ``(1 − z) ⊙ n``,
  ``z ⊙ h_{t-1}``): a coefficient from the other factor, chosen by the product rule
  (:mod:`lstm_teach.rules`).

Every node then satisfies ``Δout = Σ m · Δin`` exactly when the product rule is ``"shapley"``, so
the attributions ``m_x · (x − x_b)`` sum to ``f(x) − f(x_b)`` (completeness). With ``"input"``
the sweep is what captum's ``DeepLift`` computes on the same model built from modules
(:class:`~lstm_teach.unrolled.UnrolledLSTM`), with ``"baseline"`` what shap's ``DeepExplainer``
computes there; both miss completeness by the second-order terms ``Δa · Δb`` of every product.

Input and baseline go through the model as one batch (2B rows, or B + 1 when every row shares its
baseline); each layer keeps only the multipliers of its edges; one sweep per layer and direction
(:mod:`lstm_teach.sweep`, composed in :mod:`lstm_teach.network`) does the rest.
"""

from __future__ import annotations

import torch

from .explainer import Explainer
from .network import Network, multipliers
from .rules import deeplift_rules
from .subnormal import flush_subnormals

__all__ = ["LSTMDeepLift", "RecurrentDeepLift"]


class LSTMDeepLift(Explainer):
    """DeepLift attributions of a recurrent model's score to its inputs.

    Args:
        model: an :class:`~lstm_teach.models.LSTMModel`, :class:`~lstm_teach.models.GRUModel` or
            :class:`~lstm_teach.models.LSTMClassifier`.
        product_rule: ``"shapley"`` (exact completeness), ``"input"`` (= captum ``DeepLift`` on the
            unrolled model) or ``"baseline"`` (= shap ``DeepExplainer`` on it).
    """

    def __init__(self, model, product_rule: str = "shapley"):
        super().__init__(model)
        self.rules = deeplift_rules(product_rule)
        self.product_rule = product_rule

    def has_convergence_delta(self) -> bool:
        return True

    @flush_subnormals
    @torch.no_grad()
    def attribute(self, inputs, baselines=None, target=None, lengths=None, return_convergence_delta=False):
        """Attributions of ``inputs``: (B, T, I) for floats, (B, T) per token for ids (the sum over the
        embedding dimensions). With ``return_convergence_delta`` also ``delta`` (B,) = attributions
        summed − (f(x) − f(baseline)). Arguments: see :mod:`lstm_teach.explainer`.
        """
        batch = self._batch(inputs, baselines, target, lengths)
        m_x, score, score_ref = multipliers(Network.of(self.model), batch.x, batch.references(), batch.lengths,
                                            batch.target_step, batch.target, self.rules)
        attributions = batch.per_input(m_x * (batch.x - batch.x_ref))
        if not return_convergence_delta:
            return attributions
        return attributions, attributions.flatten(1).sum(1) - (score - score_ref)


RecurrentDeepLift = LSTMDeepLift
"""The same class under a name that reads as well for a GRU."""
