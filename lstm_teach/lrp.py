"""LRP through a whole recurrent model: the ε-rule with signal-take-all at the gates (Arras et al., 2017).

Relevance starts as the target score and flows back through the same sweep as DeepLift
(:mod:`lstm_teach.sweep`), with LRP's rules (:func:`lstm_teach.rules.lrp_rules`) and zero as the
reference of every neuron:

* the head's layers and every gate pre-activation: ε-rule, ``R_in = in ⊙ (Wᵀ (R / (z + ε·sign z)))``,
  with the biases only in the denominators ``z`` (the share a bias would have taken is lost);
* LSTM ``h_t = o_t ⊙ tanh(c_t)``: the gate ``o_t`` gets nothing, ``c_t`` gets all of ``R_{h_t}``
  (signal-take-all; tanh passes relevance unchanged);
* LSTM ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t``: ε-rule over the two terms, so ``c_{t-1}`` and ``g_t``
  share ``R_{c_t}`` in proportion to ``f_t c_{t-1}`` and ``i_t g_t``; the gates ``f_t`` and ``i_t``
  get nothing; ``g_t = tanh(z_g)`` passes its relevance to ``z_g``, split by the ε-rule between
  ``x_t`` and ``h_{t-1}``;
* GRU ``h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}``: ε-rule over the two terms, signal-take-all in each
  (``n_t`` and ``h_{t-1}`` take all); ``n_t``'s pre-activation ``W_in x + b_in + r ⊙ a``: ε-rule, and
  ``a = W_hn h_{t-1} + b_hn`` takes all of ``r ⊙ a``'s share;
* in a bidirectional layer the head's ε-rule splits the score between the two directions' states,
  each direction carries its share back, and every input collects from both (Arras et al., 2017).

The result is not conservative: biases and ε absorb part of the score. The notebooks print how much.
"""

from __future__ import annotations

import torch
from torch import nn

from .explainer import Explainer
from .network import Network, multipliers
from .rules import lrp_rules
from .subnormal import flush_subnormals

__all__ = ["LSTMLRP", "RecurrentLRP"]


class LSTMLRP(Explainer):
    """LRP-ε attributions of a recurrent model's score to its inputs.

    Args:
        model: an :class:`~lstm_teach.models.LSTMModel`, :class:`~lstm_teach.models.GRUModel` or
            :class:`~lstm_teach.models.LSTMClassifier`; its head may not contain ``nn.Sigmoid`` (LRP has
            no rule for it: explain the logit before the sigmoid instead).
        eps: stabiliser of every denominator, ``z + eps * sign(z)`` with ``sign(0) = +1``; with
            ``eps = 0`` a denominator that is exactly zero passes no relevance (never NaN).
    """

    def __init__(self, model, eps: float = 1e-3):
        super().__init__(model)
        if not (isinstance(eps, (int, float)) and not isinstance(eps, bool) and eps >= 0):
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        head = self.model.head
        if any(isinstance(layer, nn.Sigmoid) for layer in (head if isinstance(head, nn.Sequential) else [head])):
            raise ValueError("LSTMLRP has no rule for nn.Sigmoid in the head (captum's LRP refuses it too); "
                             "explain the logit: a head without its final sigmoid")
        self.eps = float(eps)
        self.rules = lrp_rules(self.eps)

    @flush_subnormals
    @torch.no_grad()
    def attribute(self, inputs, target=None, lengths=None):
        """Relevance of ``inputs``: (B, T, I) for floats, (B, T) per token for ids. Arguments: see
        :mod:`lstm_teach.explainer` (no baselines: LRP's reference is zero)."""
        batch = self._batch(inputs, None, target, lengths)
        m_x, _, _ = multipliers(Network.of(self.model), batch.x, None, batch.lengths, batch.target_step,
                                batch.target, self.rules)
        return batch.per_input(m_x * batch.x)


RecurrentLRP = LSTMLRP
"""The same class under a name that reads as well for a GRU."""
