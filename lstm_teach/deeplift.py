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

How it runs (speed and memory; see ``benchmarks/``): input and baseline go through eq. 1–6 as one
batch — 2B rows, or B + 1 when every row has the same baseline — a few time steps at a time. After
each block of steps the multipliers of that block's edges are computed vectorised, while its
activations are still in cache, and only they are kept: 6H numbers per input row and step (4H for
the gates' pre-activations, 2H for the cell state), as many as a forward pass keeps for its own
backward (four gates, ``c_t``, ``h_t``). The backward sweep then costs five tensor operations per
step. Every number equals the step-by-step chain above up to rounding.
"""

from __future__ import annotations

import torch

from .activations import get_activation, rescale_from_values
from .explainer import LSTMExplainer
from .products import PRODUCT_RULES, product_coefficient

__all__ = ["LSTMDeepLift"]

_SIGMOID, _TANH = get_activation("sigmoid"), get_activation("tanh")

_BLOCK = 1 << 18
"""Elements per block buffer of the forward: big enough to amortise Python, small enough for cache."""

_ORDER = (0, 1, 3, 2)
"""Internal gate order i, f, o, g (PyTorch's is i, f, g, o): the three σ gates side by side."""


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
        h = weights.hidden_size
        rows = torch.arange(4 * h, device=x.device).view(4, h)[list(_ORDER)].flatten()
        w_ih, w_hh = weights.weight_ih[rows], weights.weight_hh[rows]
        bias = (weights.bias_ih + weights.bias_hh)[rows]
        batch = x.shape[0]
        shared = bool((x_b == x_b[:1]).all())                          # one baseline for all rows
        both = torch.cat([x, x_b[:1] if shared else x_b])
        coef, h_to_c, c_to_cprev, h_last = _forward_and_multipliers(both, batch, w_ih, w_hh, bias, self.product_rule)
        m_x = _sweep(coef, h_to_c, c_to_cprev, w_ih, w_hh, head_weight[target])
        attributions = m_x * (x - x_b)
        if not return_convergence_delta:
            return attributions
        scores = h_last @ head_weight.T + head_bias
        score = scores[:batch].gather(1, target.unsqueeze(1)).squeeze(1)
        score_b = scores[batch:].expand(batch, -1).gather(1, target.unsqueeze(1)).squeeze(1)
        return attributions, attributions.sum((1, 2)) - (score - score_b)


def _forward_and_multipliers(both, batch, w_ih, w_hh, bias, rule):
    """Eq. 1–6 over input and baseline together, and the multiplier of every edge.

    ``both`` (B + B_b, T, I): the inputs, then the baselines — ``B_b = B`` rows, or one row that
    every input shares. ``w_ih`` (4H, I), ``w_hh`` (4H, H), ``bias`` (4H,): the layer's weights
    in the gate order i, f, o, g.

    Returns, time-major: ``coef`` (T, B, 4H) with ``m_z = coef ⊙ [m_c, m_c, m_h, m_c]``, the
    multipliers of the pre-activations of i, f, o, g from those of ``c_t`` and ``h_t``;
    ``h_to_c`` (T, B, H), what ``m_{h_t}`` adds to ``m_{c_t}``; ``c_to_cprev`` (T, B, H),
    ``m_{c_{t-1}}`` from ``m_{c_t}``; and ``h_last`` (B + B_b, H), ``h_T`` of every row.
    """
    rows, steps, n_in = both.shape
    h = w_hh.shape[1]
    xs = both.transpose(0, 1)                                           # (T, rows, I)
    w_ih_t, w_hh_t = w_ih.T, w_hh.T
    coef = both.new_empty(steps, batch, 4 * h)
    h_to_c, c_to_cprev = both.new_empty(steps, batch, h), both.new_empty(steps, batch, h)
    block = max(1, min(steps, _BLOCK // (rows * 4 * h)))
    z, a = both.new_empty(block, rows, 4 * h), both.new_empty(block, rows, 4 * h)   # a block of steps
    c, tanh_c = both.new_empty(block, rows, h), both.new_empty(block, rows, h)
    z_t, c_t, tanh_c_t = z.unbind(0), c.unbind(0), tanh_c.unbind(0)
    sig_z, tanh_z = z[..., :3 * h].unbind(0), z[..., 3 * h:].unbind(0)
    sig_a, tanh_a = a[..., :3 * h].unbind(0), a[..., 3 * h:].unbind(0)
    i, f, o, g = (v.unbind(0) for v in a.split(h, dim=-1))
    h_prev, c_prev = both.new_zeros(rows, h), both.new_zeros(rows, h)
    for start in range(0, steps, block):
        n = min(block, steps - start)
        c_before = c_prev.clone()                                       # c_{start-1}; c is reused
        torch.addmm(bias, xs[start:start + n].reshape(-1, n_in), w_ih_t, out=z[:n].view(-1, 4 * h))
        for j in range(n):
            z_t[j].addmm_(h_prev, w_hh_t)                               # eq. 1–3, 5: pre-activations
            torch.sigmoid(sig_z[j], out=sig_a[j])
            torch.tanh(tanh_z[j], out=tanh_a[j])
            c_prev = torch.addcmul(f[j] * c_prev, i[j], g[j], out=c_t[j])    # eq. 4
            h_prev = o[j] * torch.tanh(c_prev, out=tanh_c_t[j])              # eq. 6
        _edge_multipliers(z[:n], a[:n], c[:n], tanh_c[:n], c_before, rule,
                          coef[start:start + n], h_to_c[start:start + n], c_to_cprev[start:start + n])
    return coef, h_to_c, c_to_cprev, h_prev


def _edge_multipliers(z, a, c, tanh_c, c_before, rule, coef, h_to_c, c_to_cprev):
    """One block of steps: from the forward's ``z``, ``a`` (n, rows, 4H), ``c``, ``tanh_c``
    (n, rows, H) and ``c_before`` (rows, H), fill ``coef`` (n, B, 4H), ``h_to_c`` and
    ``c_to_cprev`` (n, B, H) as described in :func:`_forward_and_multipliers`. A shared baseline
    (one row) broadcasts against the B inputs."""
    batch, h = coef.shape[1], c.shape[-1]

    def k(v):                       # product-rule coefficient of a product's partner factor
        return product_coefficient(rule, v[:, :batch], v[:, batch:])

    sig, tanh = slice(0, 3 * h), slice(3 * h, 4 * h)
    for part, act in ((sig, _SIGMOID), (tanh, _TANH)):                 # eq. 1, 2, 5 and eq. 3
        coef[..., part] = rescale_from_values(act, a[:, :batch, part], a[:, batch:, part],
                                              z[:, :batch, part], z[:, batch:, part])
    s_i, s_f, s_o, s_g = coef.split(h, dim=-1)
    i, f, o, g = a.split(h, dim=-1)
    c_prev = torch.cat([c_before.unsqueeze(0), c[:-1]])
    s_i.mul_(k(g))                                                      # c_t ∋ i ⊙ g        (eq. 4)
    s_f.mul_(k(c_prev))                                                 # c_t ∋ f ⊙ c_{t-1}  (eq. 4)
    s_g.mul_(k(i))
    s_o.mul_(k(tanh_c))                                                 # h_t = o ⊙ tanh(c_t) (eq. 6)
    # tanh(c_t) in eq. 6, then through the products: h_to_c = k(o) s_c, c_to_cprev = k(f)
    h_to_c.copy_(rescale_from_values(_TANH, tanh_c[:, :batch], tanh_c[:, batch:], c[:, :batch], c[:, batch:]))
    h_to_c.mul_(k(o))
    c_to_cprev.copy_(k(f))


def _sweep(coef, h_to_c, c_to_cprev, w_ih, w_hh, m_h):
    """Multipliers of the score w.r.t. every ``x_t``, (B, T, I), from ``m_h = ∂score/∂h_T`` (B, H)
    and the edge multipliers of :func:`_forward_and_multipliers`; ``coef`` is overwritten by the
    multipliers ``m_z`` of the pre-activations."""
    steps, batch, four_h = coef.shape
    coef_t, h_to_c, c_to_cprev = coef.unbind(0), h_to_c.unbind(0), c_to_cprev.unbind(0)
    m_c_next = torch.zeros_like(m_h)                                    # m_c reaching c_t from c_{t+1}
    for t in reversed(range(steps)):
        m_c = torch.addcmul(m_c_next, m_h, h_to_c[t])                   # + through h_t = o ⊙ tanh(c_t)
        m_z = coef_t[t].mul_(torch.cat((m_c, m_c, m_h, m_c), dim=1))    # eq. 4 (i, f, g), eq. 6 (o)
        m_h = m_z @ w_hh                                                # eq. 1–3, 5 through h_{t-1}
        m_c_next = m_c * c_to_cprev[t]                                  # eq. 4 through c_{t-1}
    m_x = coef.view(steps * batch, four_h) @ w_ih                       # eq. 1–3, 5 through x_t
    return m_x.view(steps, batch, -1).transpose(0, 1)
