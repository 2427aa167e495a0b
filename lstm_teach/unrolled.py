"""The same LSTM built from modules, so that captum and shap can hook every nonlinearity.

captum's ``DeepLift`` and shap's ``DeepExplainer`` change the backward pass of ``nn.Sigmoid``
and ``nn.Tanh`` *modules*; inside a fused ``nn.LSTM`` they see none, and their products are
plain autograd. Two rules for a faithful unrolled model:

* every nonlinearity is a module of its own, used exactly once (both libraries store the
  module's input and output on the module during the forward pass);
* ``tanh(c_t)`` gets its own copy of ``c_t``: captum hooks the *input tensor* of a module, so
  without the copy it would also rescale the gradient that reaches ``c_t`` through the next
  step's ``f ⊙ c_t`` (``copy_cell_state=False`` keeps that pitfall, for the notebook).
"""

from __future__ import annotations

import torch
from torch import nn

from .explainer import check_model
from .lstm import LSTMWeights, canonical_gate

__all__ = ["LSTMGate", "UnrolledLSTM"]


class LSTMGate(nn.Module):
    """One gate as a two-input module: ``forward(x_t (B, I), h_prev (B, H)) -> (B, H)``.

    ``act(W_i* x_t + b_i* + W_h* h_{t-1} + b_h*)`` with σ for i, f, o and tanh for g.
    """

    def __init__(self, weights: LSTMWeights, gate: str):
        super().__init__()
        gate = canonical_gate(gate)
        self.from_x = nn.Linear(weights.input_size, weights.hidden_size).to(weights.weight_ih.dtype)
        self.from_h = nn.Linear(weights.hidden_size, weights.hidden_size).to(weights.weight_ih.dtype)
        with torch.no_grad():
            for layer, source in ((self.from_x, "i"), (self.from_h, "h")):
                layer.weight.copy_(getattr(weights, f"W_{source}{gate}"))
                layer.bias.copy_(getattr(weights, f"b_{source}{gate}"))
        self.act = nn.Tanh() if gate == "g" else nn.Sigmoid()

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        return self.act(self.from_x(x_t) + self.from_h(h_prev))


class UnrolledLSTM(nn.Module):
    """An :class:`LSTMClassifier` unrolled over ``steps`` time steps, computing the same function.

    ``forward(x (B, steps, I)) -> (B, O)``. Each step owns five modules: σ for i, f, o, tanh for
    g and tanh for the cell state.
    """

    def __init__(self, model: nn.Module, steps: int, copy_cell_state: bool = True):
        super().__init__()
        check_model(model)
        weights = LSTMWeights.from_torch(model.lstm)
        dtype = weights.weight_ih.dtype
        self.from_x = nn.Linear(weights.input_size, 4 * weights.hidden_size).to(dtype)
        self.from_h = nn.Linear(weights.hidden_size, 4 * weights.hidden_size, bias=False).to(dtype)
        self.head = nn.Linear(model.head.in_features, model.head.out_features).to(dtype)
        with torch.no_grad():
            self.from_x.weight.copy_(weights.weight_ih)
            self.from_x.bias.copy_(weights.bias_ih + weights.bias_hh)
            self.from_h.weight.copy_(weights.weight_hh)
            self.head.load_state_dict(model.head.state_dict())
        self.steps = nn.ModuleList(
            nn.ModuleDict({"i": nn.Sigmoid(), "f": nn.Sigmoid(), "g": nn.Tanh(), "o": nn.Sigmoid(), "c": nn.Tanh()})
            for _ in range(steps)
        )
        self.hidden_size = weights.hidden_size
        self.copy_cell_state = copy_cell_state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != len(self.steps):
            raise ValueError(f"x must have shape (B, {len(self.steps)}, I), got {tuple(x.shape)}")
        h = c = x.new_zeros(x.shape[0], self.hidden_size)
        for t, act in enumerate(self.steps):
            z_i, z_f, z_g, z_o = (self.from_x(x[:, t]) + self.from_h(h)).chunk(4, dim=-1)
            i, f, g, o = act["i"](z_i), act["f"](z_f), act["g"](z_g), act["o"](z_o)
            c = f * c + i * g
            h = o * act["c"](c.clone() if self.copy_cell_state else c)
        return self.head(h)
