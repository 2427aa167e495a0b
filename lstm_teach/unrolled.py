"""The same model built from modules, so that captum and shap can hook every nonlinearity.

captum's ``DeepLift`` and shap's ``DeepExplainer`` change the backward pass of ``nn.Sigmoid``,
``nn.Tanh`` and ``nn.ReLU`` *modules*; inside a fused ``nn.LSTM`` or ``nn.GRU`` they see none, and its
products are plain autograd. Two rules for a faithful unrolled model:

* every nonlinearity is a module of its own, used exactly once (both libraries store the module's
  input and output on the module during the forward pass): one set per step, layer and direction;
* ``tanh(c_t)`` gets its own copy of ``c_t``: captum hooks the *input tensor* of a module, so
  without the copy it would also rescale the gradient that reaches ``c_t`` through the next step's
  ``f ⊙ c_t`` (``copy_cell_state=False`` keeps that pitfall, for the notebook).

The steps run the package's one cell (:func:`~lstm_teach.lstm.lstm_cell`, :func:`~lstm_teach.gru.gru_cell`)
with these modules as its nonlinearities. The unrolled model takes what the recurrent layer takes
(for a model with an embedding: the embedded tokens, ``model.embed(ids)``), and ``lengths`` as an
extra forward argument (captum's ``additional_forward_args``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .explainer import check_model
from .lstm import LSTMWeights, canonical_gate
from .network import Network, reversal, reorder

__all__ = ["LSTMGate", "UnrolledModel", "UnrolledLSTM"]

_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
_STEP_ACTIVATIONS = {"LSTM": {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid", "c": "tanh"},
                     "GRU": {"r": "sigmoid", "z": "sigmoid", "n": "tanh"}}


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


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0]).to(weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


class _Direction(nn.Module):
    """One layer and direction, unrolled: ``W_ih u + b_ih`` and ``W_hh h + b_hh`` as two ``nn.Linear``, and
    fresh activation modules for every step."""

    def __init__(self, weights, kind: str, steps: int, copy_cell_state: bool):
        super().__init__()
        self.from_x = _linear(weights.weight_ih, weights.bias_ih)
        self.from_h = _linear(weights.weight_hh, weights.bias_hh)
        self.acts = nn.ModuleList(
            nn.ModuleDict({name: _MODULES[act]() for name, act in _STEP_ACTIVATIONS[kind].items()})
            for _ in range(steps))
        self.copy_cell_state = copy_cell_state

    def forward(self, cell, u: torch.Tensor) -> torch.Tensor:
        """Outputs (B, T, H) of the inputs ``u`` (B, T, I) in processing order."""
        state, outputs = None, []
        for t, modules in enumerate(self.acts):
            act = dict(modules)
            if "c" in act and self.copy_cell_state:
                act["c"] = lambda c, tanh=act["c"]: tanh(c.clone())
            zx = self.from_x(u[:, t])
            if state is None:
                state = cell.zero_state(zx.new_zeros(zx.shape[0], self.from_h.in_features))
            state = cell.step(zx, self.from_h(state[0]), state, act)
            outputs.append(state[0])
        return torch.stack(outputs, dim=1)


class UnrolledModel(nn.Module):
    """A recurrent model unrolled over ``steps`` time steps, computing the same function from modules.

    ``forward(x (B, steps, I), lengths=None)`` → (B, O), or (B, steps, O) for ``readout="all"`` (padded
    steps read zero features, as the model's packed forward gives them). Works for every
    :class:`~lstm_teach.models.LSTMModel`, :class:`~lstm_teach.models.GRUModel` and
    :class:`~lstm_teach.models.LSTMClassifier`; the head is a copy of the model's.
    """

    def __init__(self, model: nn.Module, steps: int, copy_cell_state: bool = True):
        super().__init__()
        net = Network.of(check_model(model))
        kind = model.RNN.__name__
        self.cell, self.readout, self.steps = net.cell, net.readout, steps
        self.layers = nn.ModuleList(
            nn.ModuleList(_Direction(weights, kind, steps, copy_cell_state) for weights in layer)
            for layer in net.layers)
        self.head = copy.deepcopy(model.head)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.steps:
            raise ValueError(f"x must have shape (B, {self.steps}, I), got {tuple(x.shape)}")
        batch = x.shape[0]
        if lengths is None:
            lengths = torch.full((batch,), self.steps, dtype=torch.long, device=x.device)
        order = reversal(lengths.to(x.device), self.steps).T                 # (B, T)
        u = x
        for layer in self.layers:
            outputs = []
            for d, direction in enumerate(layer):
                h = direction(self.cell, u if d == 0 else _flip(u, order))
                outputs.append(h if d == 0 else _flip(h, order))
            u = torch.cat(outputs, dim=-1)                                    # (B, T, D·H)
        hidden = u.shape[-1] // len(self.layers[-1])
        rows = torch.arange(batch, device=x.device)
        if self.readout == "last":
            last = lengths.to(x.device) - 1
            read = [last, torch.zeros_like(last)][:len(self.layers[-1])]
            return self.head(torch.cat([u[rows, read[d], d * hidden:(d + 1) * hidden]
                                        for d in range(len(read))], dim=-1))
        valid = torch.arange(self.steps, device=x.device) < lengths.to(x.device).unsqueeze(1)
        return self.head(u * valid.unsqueeze(-1).to(u.dtype))


def _flip(v: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``v`` (B, T, ·) with step ``order[b, t]`` of row ``b`` at step ``t`` (batch-first :func:`reorder`)."""
    return reorder(v.transpose(0, 1), order.T).transpose(0, 1)


UnrolledLSTM = UnrolledModel
"""Chapter 6's name for :class:`UnrolledModel`."""
