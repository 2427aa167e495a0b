"""The weights of one recurrent layer and direction, as PyTorch stores them, addressable by the seed's names.

PyTorch stacks the gates' rows: ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H), ``bias_ih`` and
``bias_hh`` (G·H,), with G gates in a fixed order (LSTM: i, f, g, o; GRU: r, z, n). ``W_ii``, ``W_hf``,
``b_ig``, ``b_ho``, … (seed 1's names: ``W``/``b``, then ``i`` for the input or ``h`` for the recurrent
side, then the gate's letter) are views of one gate's block: (H, I), (H, H), (H,).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from .checks import as_tensor, check_same_kind, check_shape

__all__ = ["RecurrentWeights", "previous_steps"]

_FULL_NAMES = {("W", "i"): "weight_ih", ("W", "h"): "weight_hh", ("b", "i"): "bias_ih", ("b", "h"): "bias_hh"}


@dataclass
class RecurrentWeights:
    """Base of :class:`~lstm_teach.lstm.LSTMWeights` and :class:`~lstm_teach.gru.GRUWeights`.

    Subclasses set ``GATES`` (the gate letters in PyTorch's order), ``ALIASES`` (other names of the
    gates), ``LAYER`` and ``CELL`` (the ``nn`` modules they read).
    """

    weight_ih: torch.Tensor
    weight_hh: torch.Tensor
    bias_ih: torch.Tensor
    bias_hh: torch.Tensor

    GATES: ClassVar[tuple[str, ...]]
    ALIASES: ClassVar[dict[str, str]] = {}
    LAYER: ClassVar[type[nn.Module]]
    CELL: ClassVar[type[nn.Module]]

    def __post_init__(self):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            as_tensor(name, getattr(self, name))
        g = len(self.GATES)
        gh = self.weight_hh.shape[0]
        check_shape("weight_hh", self.weight_hh, f"({g}H, H)",
                    self.weight_hh.dim() == 2 and gh == g * self.weight_hh.shape[1])
        check_shape("weight_ih", self.weight_ih, f"({g}H, I) with {g}H = {gh}",
                    self.weight_ih.dim() == 2 and self.weight_ih.shape[0] == gh)
        for name in ("bias_ih", "bias_hh"):
            check_shape(name, getattr(self, name), f"({g}H,) with {g}H = {gh}", getattr(self, name).shape == (gh,))
        for name in ("weight_hh", "bias_ih", "bias_hh"):
            check_same_kind(name, getattr(self, name), "weight_ih", self.weight_ih)

    @property
    def input_size(self) -> int:
        return self.weight_ih.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @classmethod
    def canonical_gate(cls, gate: str) -> str:
        """PyTorch's letter for ``gate`` (a letter of ``GATES`` or one of ``ALIASES``)."""
        if gate not in cls.GATES and gate not in cls.ALIASES:
            raise ValueError(f"gate must be one of {cls.GATES + tuple(cls.ALIASES)}, got {gate!r}")
        return cls.ALIASES.get(gate, gate)

    @classmethod
    def from_torch(cls, module: nn.Module, layer: int = 0, direction: int = 0) -> "RecurrentWeights":
        """The weights of ``layer`` and ``direction`` (0 forward, 1 backward) of a ``LAYER`` module, or of a
        ``CELL`` module (detached; a module without biases gives zero biases)."""
        kind = f"nn.{cls.LAYER.__name__} or nn.{cls.CELL.__name__}"
        if type(module) not in (cls.LAYER, cls.CELL):
            raise TypeError(f"module must be {kind}, got {type(module).__name__}")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"an nn.{cls.LAYER.__name__} with proj_size > 0 is not supported, got "
                             f"proj_size={module.proj_size}")
        suffix = ""
        if isinstance(module, cls.LAYER):
            directions = 2 if module.bidirectional else 1
            if not (0 <= layer < module.num_layers and 0 <= direction < directions):
                raise ValueError(f"layer must lie in [0, {module.num_layers - 1}] and direction in "
                                 f"[0, {directions - 1}], got layer={layer}, direction={direction}")
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
        w_ih = getattr(module, "weight_ih" + suffix).detach()
        w_hh = getattr(module, "weight_hh" + suffix).detach()
        zeros = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
        b_ih = getattr(module, "bias_ih" + suffix).detach() if module.bias else zeros
        b_hh = getattr(module, "bias_hh" + suffix).detach() if module.bias else zeros
        return cls(w_ih, w_hh, b_ih, b_hh)

    def to_torch(self, module: nn.Module) -> nn.Module:
        """Copy these weights into a one-layer ``LAYER`` module or a ``CELL`` (same sizes, with biases)
        and return it."""
        suffix = "_l0" if isinstance(module, self.LAYER) else ""
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                target = getattr(module, name + suffix)
                source = getattr(self, name)
                check_shape(name, source, str(tuple(target.shape)), source.shape == target.shape)
                target.copy_(source)
        return module

    def rows(self, gate: str) -> slice:
        """The rows of ``gate``'s block in the stacked weights."""
        k = self.GATES.index(self.canonical_gate(gate))
        h = self.hidden_size
        return slice(k * h, (k + 1) * h)

    def __getattr__(self, name: str) -> torch.Tensor:
        match = re.fullmatch(r"(W|b)_([ih])([a-z])", name)
        if match is None or match.group(3) not in self.GATES:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        kind, source, gate = match.groups()
        return getattr(self, _FULL_NAMES[kind, source])[self.rows(gate)]


def previous_steps(first: torch.Tensor, values: torch.Tensor, time_dim: int) -> torch.Tensor:
    """``values`` shifted one step later along ``time_dim``, ``first`` (the state before) in front."""
    return torch.cat([first.unsqueeze(time_dim), values.narrow(time_dim, 0, values.shape[time_dim] - 1)], dim=time_dim)
