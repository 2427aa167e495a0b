"""The LSTM written out from its equations (seed 1 eq. 1–6), with a trace of every quantity.

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        (1)  input gate   (seed 2: save)
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        (2)  forget gate  (seed 2: remember)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     (3)  candidate C̃_t (seed 2: c′)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                        (4)
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        (5)  output gate  (seed 2: focus)
    h_t = o_t ⊙ tanh(c_t)                                  (6)

Eq. 5 in seed 1 drops ``b_ho``; PyTorch adds both output-gate biases, and so do we.
Weights are stored as PyTorch stores them: rows stacked in gate order i, f, g, o.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from .checks import as_tensor, check_finite, check_same_kind, check_shape

__all__ = ["GATES", "ALIASES", "GATE_ACTIVATIONS", "canonical_gate", "LSTMWeights", "LSTMTrace", "lstm_step", "lstm_forward"]

GATES = ("i", "f", "g", "o")
"""Gate order inside PyTorch's stacked weights."""

ALIASES = {"save": "i", "remember": "f", "candidate": "g", "focus": "o"}
"""Seed 2's names for the gates."""

GATE_ACTIVATIONS = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}

def canonical_gate(gate: str) -> str:
    """PyTorch's letter for ``gate`` (``"i"``, ``"f"``, ``"g"``, ``"o"`` or one of seed 2's names)."""
    if gate not in GATES and gate not in ALIASES:
        raise ValueError(f"gate must be one of {GATES + tuple(ALIASES)}, got {gate!r}")
    return ALIASES.get(gate, gate)


_SEED_NAME = re.compile(r"(W|b)_([ih])([ifgo])")


@dataclass
class LSTMWeights:
    """The four weight tensors of one LSTM layer, addressable by the seed's names.

    Attributes (PyTorch's layout): ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` (4H,),
    ``bias_hh`` (4H,). ``W_ii``, ``W_hf``, ``b_ig``, ``b_ho``, … are views of one gate's block:
    ``W_i*`` (H, I), ``W_h*`` (H, H), ``b_**`` (H,).
    """

    weight_ih: torch.Tensor
    weight_hh: torch.Tensor
    bias_ih: torch.Tensor
    bias_hh: torch.Tensor

    def __post_init__(self):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            as_tensor(name, getattr(self, name))
        four_h = self.weight_hh.shape[0]
        check_shape("weight_hh", self.weight_hh, "(4H, H)",
                    self.weight_hh.dim() == 2 and four_h == 4 * self.weight_hh.shape[1])
        check_shape("weight_ih", self.weight_ih, f"(4H, I) with 4H = {four_h}",
                    self.weight_ih.dim() == 2 and self.weight_ih.shape[0] == four_h)
        for name in ("bias_ih", "bias_hh"):
            check_shape(name, getattr(self, name), f"(4H,) with 4H = {four_h}",
                        getattr(self, name).shape == (four_h,))
        for name in ("weight_hh", "bias_ih", "bias_hh"):
            check_same_kind(name, getattr(self, name), "weight_ih", self.weight_ih)

    @property
    def input_size(self) -> int:
        return self.weight_ih.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @classmethod
    def from_torch(cls, module: nn.LSTM | nn.LSTMCell) -> "LSTMWeights":
        """Take the weights of a one-layer, one-direction ``nn.LSTM`` or an ``nn.LSTMCell``
        (detached; a module without biases gives zero biases)."""
        suffix = "_l0" if isinstance(module, nn.LSTM) else ""
        if isinstance(module, nn.LSTM) and (module.num_layers != 1 or module.bidirectional or module.proj_size):
            raise ValueError(
                "module must be a one-layer, one-direction nn.LSTM without projection, got "
                f"num_layers={module.num_layers}, bidirectional={module.bidirectional}, proj_size={module.proj_size}"
            )
        if not isinstance(module, (nn.LSTM, nn.LSTMCell)):
            raise TypeError(f"module must be nn.LSTM or nn.LSTMCell, got {type(module).__name__}")
        w_ih = getattr(module, "weight_ih" + suffix).detach()
        w_hh = getattr(module, "weight_hh" + suffix).detach()
        zeros = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
        b_ih = getattr(module, "bias_ih" + suffix).detach() if module.bias else zeros
        b_hh = getattr(module, "bias_hh" + suffix).detach() if module.bias else zeros
        return cls(w_ih, w_hh, b_ih, b_hh)

    def to_torch(self, module: nn.LSTM | nn.LSTMCell) -> nn.LSTM | nn.LSTMCell:
        """Copy these weights into ``module`` (same sizes, with biases) and return it."""
        suffix = "_l0" if isinstance(module, nn.LSTM) else ""
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                target = getattr(module, name + suffix)
                source = getattr(self, name)
                check_shape(name, source, str(tuple(target.shape)), source.shape == target.shape)
                target.copy_(source)
        return module

    def _rows(self, gate: str) -> slice:
        k = GATES.index(canonical_gate(gate))
        h = self.hidden_size
        return slice(k * h, (k + 1) * h)

    def __getattr__(self, name: str) -> torch.Tensor:
        match = _SEED_NAME.fullmatch(name)
        if match is None:
            raise AttributeError(f"LSTMWeights has no attribute {name!r}")
        kind, source, gate = match.groups()
        full = {("W", "i"): "weight_ih", ("W", "h"): "weight_hh",
                ("b", "i"): "bias_ih", ("b", "h"): "bias_hh"}[kind, source]
        return getattr(self, full)[self._rows(gate)]

    def gate_layer(self, gate: str) -> tuple[torch.Tensor, torch.Tensor]:
        """One gate as a dense layer over the concatenation ``[x_t; h_{t-1}]``.

        Returns ``(weight, bias)``: ``[W_i* | W_h*]`` (H, I + H) and ``b_i* + b_h*`` (H,).
        ``gate`` is ``"i"``, ``"f"``, ``"g"``, ``"o"`` or one of seed 2's names.
        """
        rows = self._rows(gate)
        weight = torch.cat([self.weight_ih[rows], self.weight_hh[rows]], dim=1)
        return weight, self.bias_ih[rows] + self.bias_hh[rows]


@dataclass
class LSTMTrace:
    """Every quantity of eq. 1–6 at every step.

    ``z`` (B, T, 4H): pre-activations, gate order i, f, g, o. ``i``, ``f``, ``g``, ``o``, ``c``,
    ``h`` (B, T, H). ``h0``, ``c0`` (B, H): the initial states. ``save``, ``remember``,
    ``candidate``, ``focus`` are seed 2's names for ``i``, ``f``, ``g``, ``o``; ``z_i`` … ``z_o``
    are the gates' pre-activations (B, T, H).
    """

    z: torch.Tensor
    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor
    c: torch.Tensor
    h: torch.Tensor
    h0: torch.Tensor
    c0: torch.Tensor

    def __getattr__(self, name: str) -> torch.Tensor:
        if name in ALIASES:
            return getattr(self, ALIASES[name])
        if len(name) == 3 and name.startswith("z_") and name[2] in GATES:
            return self.z.chunk(4, dim=-1)[GATES.index(name[2])]
        raise AttributeError(f"LSTMTrace has no attribute {name!r}")

    @property
    def c_prev(self) -> torch.Tensor:
        """``c_{t-1}`` for every step, (B, T, H)."""
        return torch.cat([self.c0.unsqueeze(1), self.c[:, :-1]], dim=1)

    @property
    def h_prev(self) -> torch.Tensor:
        """``h_{t-1}`` for every step, (B, T, H)."""
        return torch.cat([self.h0.unsqueeze(1), self.h[:, :-1]], dim=1)


def _cell(z: torch.Tensor, c_prev: torch.Tensor):
    """Eq. 1–6 from the pre-activations ``z`` (B, 4H) and ``c_{t-1}`` (B, H)."""
    z_i, z_f, z_g, z_o = z.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.tanh(z_g), torch.sigmoid(z_o)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return i, f, g, o, c, h


def _initial_state(name, state, batch, weights):
    h = weights.hidden_size
    if state is None:
        return weights.weight_ih.new_zeros(batch, h)
    state = as_tensor(name, state)
    check_shape(name, state, f"(B, H) = ({batch}, {h})", state.shape == (batch, h))
    check_same_kind(name, state, "the weights", weights.weight_ih)
    return state


def lstm_step(x_t, h_prev, c_prev, weights: LSTMWeights) -> LSTMTrace:
    """One step of eq. 1–6: ``x_t`` (B, I), ``h_prev`` and ``c_prev`` (B, H); a trace with T = 1."""
    return lstm_forward(x_t.unsqueeze(1), weights, h_prev, c_prev)


def lstm_forward(x, weights: LSTMWeights, h0=None, c0=None) -> LSTMTrace:
    """Run eq. 1–6 over a sequence ``x`` (B, T, I) from ``h0``, ``c0`` (B, H; zeros when None).

    Returns the full trace; ``trace.h[:, -1]`` and ``trace.c[:, -1]`` equal what ``nn.LSTM``
    (``batch_first=True``) returns as ``h_n``, ``c_n``.
    """
    x = as_tensor("x", x)
    check_shape("x", x, f"(B, T, I) with I = {weights.input_size}",
                x.dim() == 3 and x.shape[2] == weights.input_size and x.shape[1] > 0)
    check_same_kind("x", x, "the weights", weights.weight_ih)
    check_finite("x", x)
    batch, steps, _ = x.shape
    h = _initial_state("h0", h0, batch, weights)
    c = _initial_state("c0", c0, batch, weights)
    h0, c0 = h, c
    z_x = x @ weights.weight_ih.T + (weights.bias_ih + weights.bias_hh)
    w_hh_t = weights.weight_hh.T
    per_step = []
    for t in range(steps):
        z = z_x[:, t] + h @ w_hh_t
        i, f, g, o, c, h = _cell(z, c)
        per_step.append((z, i, f, g, o, c, h))
    z, i, f, g, o, c, h = (torch.stack(seq, dim=1) for seq in zip(*per_step))
    return LSTMTrace(z, i, f, g, o, c, h, h0, c0)
