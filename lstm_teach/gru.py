"""The GRU written out from PyTorch's equations, once, and its local rules for the sweep (chapter 10).

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)                (G1)  reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)                (G2)  update gate
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))     (G3)  new (candidate) state
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}                         (G4)

Weights are stacked in PyTorch's gate order r, z, n. Three products carry the gating:
``r_t ⊙ a_t`` with ``a_t = W_hn h_{t-1} + b_hn`` (G3), ``(1 − z_t) ⊙ n_t`` and ``z_t ⊙ h_{t-1}`` (G4);
the sweep applies the product rule to each. Unlike the LSTM, ``b_hn`` sits inside the reset
gate's product, so the two biases of ``n`` are not interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from .activations import get_activation
from .checks import as_tensor, check_finite, check_same_kind, check_shape
from .weights import RecurrentWeights, previous_steps

__all__ = ["GRU_GATES", "GRU_ALIASES", "GRU_FUNCTIONS", "GRUWeights", "GRUTrace", "gru_cell", "gru_forward",
           "GRUCell"]

GRU_GATES = ("r", "z", "n")
"""Gate order inside PyTorch's stacked GRU weights."""

GRU_ALIASES = {"reset": "r", "update": "z", "new": "n"}

GRU_FUNCTIONS = {"r": torch.sigmoid, "z": torch.sigmoid, "n": torch.tanh}
"""The three nonlinearities of a step."""

_SIGMOID, _TANH = get_activation("sigmoid"), get_activation("tanh")


class GRUWeights(RecurrentWeights):
    """The four weight tensors of one GRU layer and direction (see :mod:`lstm_teach.weights`):
    ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih`` (3H,), ``bias_hh`` (3H,); ``W_ir``,
    ``W_hz``, ``b_in``, ``b_hn``, … are one gate's block."""

    GATES = GRU_GATES
    ALIASES = GRU_ALIASES
    LAYER = nn.GRU
    CELL = nn.GRUCell


def gru_cell(zx: torch.Tensor, zh: torch.Tensor, h_prev: torch.Tensor, act=GRU_FUNCTIONS):
    """One step of eq. G1–G4 from ``zx = W_ih x_t + b_ih`` and ``zh = W_hh h_{t-1} + b_hh`` (…, 3H) and
    ``h_{t-1}`` (…, H). ``act`` maps ``"r"``, ``"z"``, ``"n"`` to the nonlinearities (functions, or
    modules for the unrolled GRU). Returns ``r, z, n, h_t``."""
    zx_r, zx_z, zx_n = zx.chunk(3, dim=-1)
    zh_r, zh_z, zh_n = zh.chunk(3, dim=-1)
    r = act["r"](zx_r + zh_r)                            # G1
    z = act["z"](zx_z + zh_z)                            # G2
    n = act["n"](zx_n + r * zh_n)                        # G3
    return r, z, n, (1 - z) * n + z * h_prev             # G4


@dataclass
class GRUTrace:
    """Every quantity of eq. G1–G4 at every step: ``zx``, ``zh`` (B, T, 3H); ``r``, ``z``, ``n``, ``h``
    (B, T, H); ``h0`` (B, H), the state before the first step. The engine keeps blocks of steps
    time-major, (T, B, ·), with ``time_dim = 0``."""

    zx: torch.Tensor
    zh: torch.Tensor
    r: torch.Tensor
    z: torch.Tensor
    n: torch.Tensor
    h: torch.Tensor
    h0: torch.Tensor
    time_dim: int = 1

    @property
    def h_prev(self) -> torch.Tensor:
        """``h_{t-1}`` for every step."""
        return previous_steps(self.h0, self.h, self.time_dim)

    def batch_first(self) -> "GRUTrace":
        """The same trace with (B, T, ·) tensors."""
        if self.time_dim == 1:
            return self
        return GRUTrace(*(v.transpose(0, 1) for v in (self.zx, self.zh, self.r, self.z, self.n, self.h)), self.h0)


def gru_forward(x, weights: GRUWeights, h0=None) -> GRUTrace:
    """Run eq. G1–G4 over ``x`` (B, T, I) from ``h0`` (B, H; zeros when None); ``trace.h`` equals the
    outputs of ``nn.GRU`` (``batch_first=True``)."""
    x = as_tensor("x", x)
    check_shape("x", x, f"(B, T, I) with I = {weights.input_size}",
                x.dim() == 3 and x.shape[2] == weights.input_size and x.shape[1] > 0)
    check_same_kind("x", x, "the weights", weights.weight_ih)
    check_finite("x", x)
    batch, hidden = x.shape[0], weights.hidden_size
    if h0 is None:
        h0 = x.new_zeros(batch, hidden)
    check_shape("h0", as_tensor("h0", h0), f"(B, H) = ({batch}, {hidden})", h0.shape == (batch, hidden))
    trace, _ = GRUCell.scan(x.transpose(0, 1), (h0,), weights, x.new_empty(x.shape[1], batch, hidden))
    return trace.batch_first()


# ----------------------------------------------------------------------------- local rules for the sweep

class GRUEdges(NamedTuple):
    """The local multipliers of one GRU layer and direction, time-major, for the B input rows. Every one
    multiplies ``m_{h_t}``: ``coef_x`` (T, B, 3H) gives the multipliers of ``zx`` (r, z, n blocks; the
    sweep overwrites it with them), ``coef_h`` (T, B, 3H) those of ``zh``, and ``direct`` (T, B, H)
    what reaches ``h_{t-1}`` through ``z_t ⊙ h_{t-1}``."""

    coef_x: torch.Tensor
    coef_h: torch.Tensor
    direct: torch.Tensor


class GRUCell:
    """The GRU's local rules: how multipliers cross one step, for any :class:`~lstm_teach.rules.Rules`.

    Back through a step: ``h_t`` is a sum (linear rule) of two products, ``(1 − z) ⊙ n`` and
    ``z ⊙ h_{t-1}`` (product rule; ``z`` collects from both, with a minus sign from ``1 − z``);
    ``n``'s tanh (nonlinearity rule) and pre-activation (linear rule: ``W_in x + b_in + r ⊙ a``);
    the product ``r ⊙ a`` (product rule); ``a = W_hn h_{t-1} + b_hn`` (linear rule); the gates'
    σ (nonlinearity rule) and pre-activations (linear rule). No state but ``h`` is carried, so every
    coefficient is a multiple of ``m_{h_t}`` and a step costs three products and one matrix product.
    The forward values come from :meth:`scan` (step by step) or :meth:`recompute` (all at once around
    PyTorch's fused kernel), as for the LSTM.
    """

    WEIGHTS = GRUWeights
    Edges = GRUEdges

    # -------------------------------------------------------------- one step, for the tree and the unrolled model

    @staticmethod
    def zero_state(zeros: torch.Tensor):
        """The initial state ``(h,)``: ``zeros`` (…, H)."""
        return (zeros,)

    @staticmethod
    def from_input(u: torch.Tensor, weights: GRUWeights) -> torch.Tensor:
        """``zx = W_ih u + b_ih`` (…, 3H)."""
        return u @ weights.weight_ih.T + weights.bias_ih

    @staticmethod
    def from_state(state, weights: GRUWeights) -> torch.Tensor:
        """``zh = W_hh h_{t-1} + b_hh`` (…, 3H)."""
        return state[0] @ weights.weight_hh.T + weights.bias_hh

    @staticmethod
    def step(zx: torch.Tensor, zh: torch.Tensor, state, act=GRU_FUNCTIONS):
        """The next state ``(h_t,)`` by :func:`gru_cell`."""
        return (gru_cell(zx, zh, state[0], act)[-1],)

    # -------------------------------------------------------------- the forward of a layer, a block at a time

    @staticmethod
    def hidden_states(u: torch.Tensor, weights: GRUWeights) -> torch.Tensor:
        """``h_t`` for every step (T, N, H) of the time-major inputs ``u`` (T, N, I), from a zero state,
        by PyTorch's fused kernel (the same function as :func:`gru_forward`; tested equal)."""
        zeros = u.new_zeros(1, u.shape[1], weights.hidden_size)
        params = [weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh]
        return torch.gru(u, zeros, params, True, 1, 0.0, False, False, False)[0]

    @staticmethod
    def scan(u: torch.Tensor, state, weights: GRUWeights, h_out: torch.Tensor):
        """Eq. G1–G4 step by step over a block ``u`` (n, N, I) from ``state = (h,)``; writes ``h_t`` into
        ``h_out`` and returns the block's time-major :class:`GRUTrace` and the state after it."""
        zx = GRUCell.from_input(u, weights)
        (h,) = (h_before,) = state
        per_step = []
        w_hh_t = weights.weight_hh.T.contiguous()              # (H, 3H): the faster layout for h @ W_hhᵀ
        for t in range(u.shape[0]):
            zh = torch.addmm(weights.bias_hh, h, w_hh_t)
            r, z, n, h_next = gru_cell(zx[t], zh, h)
            per_step.append((zh, r, z, n))
            h_out[t] = h = h_next
        zh, r, z, n = (torch.stack(v) for v in zip(*per_step))
        return GRUTrace(zx, zh, r, z, n, h_out, h_before, time_dim=0), (h,)

    @staticmethod
    def recompute(u: torch.Tensor, h_prev: torch.Tensor, state, weights: GRUWeights):
        """The values of :meth:`scan` from the fused kernel's ``h_{t-1}`` (n, N, H), all steps at once."""
        zx = GRUCell.from_input(u, weights)
        zh = GRUCell.from_state((h_prev,), weights)
        return GRUTrace(zx, zh, *gru_cell(zx, zh, h_prev), h_prev[0], time_dim=0), state

    # -------------------------------------------------------------- local rules, then the backward step

    @staticmethod
    def new_edges(steps: int, batch: int, hidden: int, like: torch.Tensor) -> GRUEdges:
        return GRUEdges(like.new_empty(steps, batch, 3 * hidden), like.new_empty(steps, batch, 3 * hidden),
                        like.new_empty(steps, batch, hidden))

    @staticmethod
    def edges(values: GRUTrace, lin_before, rules, rows, out: GRUEdges):
        """Fill ``out`` (n, B, ·) for a block of n steps from its values (arguments as
        :meth:`LSTMCell.edges`; nothing is handed to the next block)."""
        zx_r, zx_z, zx_n = values.zx.chunk(3, dim=-1)
        zh_r, zh_z, a = values.zh.chunk(3, dim=-1)
        named = {"pre_r": zx_r + zh_r, "pre_z": zx_z + zh_z, "pre_n": zx_n + values.r * a, "a": a,
                 "r": values.r, "z": values.z, "keep": 1 - values.z, "n": values.n, "h_prev": values.h_prev}
        split = {k: rows.split(v) for k, v in named.items()}
        x, ref = {k: v[0] for k, v in split.items()}, {k: v[1] for k, v in split.items()}
        h = rows.split(values.h)[0]
        k_keep, k_n = rules.product(x["keep"], ref["keep"], x["n"], ref["n"])            # (1 − z) ⊙ n
        k_z, k_hprev = rules.product(x["z"], ref["z"], x["h_prev"], ref["h_prev"])       # z ⊙ h_{t-1}
        k_r, k_a = rules.product(x["r"], ref["r"], x["a"], ref["a"])                     # r ⊙ a
        lin_h = rules.linear(h)                                                           # h_t: a sum

        def through(act, name, pre):       # a nonlinearity and its pre-activation's linear rule
            m = rules.nonlinear(act, x[pre], ref[pre], x[name], ref[name])
            factor = rules.linear(x[pre])
            return m if factor is None else m * factor

        hidden = a.shape[-1]
        m_n = k_n if lin_h is None else k_n * lin_h                                       # per unit of m_h
        coef_r, coef_z, coef_n = out.coef_x.chunk(3, dim=-1)
        torch.mul(m_n, through(_TANH, "n", "pre_n"), out=coef_n)                         # G3
        torch.mul(coef_n, k_r, out=coef_r).mul_(through(_SIGMOID, "r", "pre_r"))         # G3, G1
        coef_z.copy_(k_z - k_keep)                        # G4 (both may be one shared reference row)
        if lin_h is not None:
            coef_z.mul_(lin_h)
        coef_z.mul_(through(_SIGMOID, "z", "pre_z"))                                      # G2
        out.coef_h[..., :2 * hidden].copy_(out.coef_x[..., :2 * hidden])
        torch.mul(coef_n, k_a, out=out.coef_h[..., 2 * hidden:])                          # G3: a = W_hn h + b_hn
        lin_a = rules.linear(x["a"])
        if lin_a is not None:
            out.coef_h[..., 2 * hidden:].mul_(lin_a)
        out.direct.copy_(k_hprev if lin_h is None else k_hprev * lin_h)                   # G4
        return None

    @staticmethod
    def step_views(edges: GRUEdges) -> list:
        """Per step: ``coef_x[t]`` as (B, 3, H), ``coef_h[t]`` as (B, 3H) and (B, 3, H), ``direct[t]``."""
        steps, batch, three_h = edges.coef_x.shape
        shape = (steps, batch, 3, three_h // 3)
        return list(zip(edges.coef_x.view(shape).unbind(0), edges.coef_h.unbind(0),
                        edges.coef_h.view(shape).unbind(0), edges.direct.unbind(0)))

    @staticmethod
    def state_size(hidden: int) -> int:
        """What a step hands back to the one before: ``m_h``, H numbers per row."""
        return hidden

    @staticmethod
    def jacobians(edges: GRUEdges, weights: GRUWeights) -> torch.Tensor:
        """Each step's map of ``m_{h_t}`` to ``m_{h_{t-1}}``, (T, B, H, H):
        ``Σ_{g ∈ r, z, n} diag(coef_h,g) W_hg + diag(direct)``."""
        steps, batch, three_h = edges.coef_h.shape
        hidden = three_h // 3
        coef, w = edges.coef_h.view(steps, batch, 3, hidden), weights.weight_hh.view(3, hidden, hidden)
        jac = coef[:, :, 0].unsqueeze(-1) * w[0]
        for g in (1, 2):
            jac.addcmul_(coef[:, :, g].unsqueeze(-1), w[g])
        jac.diagonal(dim1=-2, dim2=-1).add_(edges.direct)
        return jac

    @staticmethod
    def from_states(edges: GRUEdges, states: torch.Tensor) -> None:
        """``m_zx`` of every step, written into ``edges.coef_x``, from the ``m_{h_t}`` (T, B, H) of every step."""
        edges.coef_x.view(*states.shape[:2], 3, states.shape[-1]).mul_(states.unsqueeze(-2))

    @staticmethod
    def back_step(views, m_h: torch.Tensor, carry):
        """From ``m_{h_t}`` (B, H): ``m_zx`` (written into ``coef_x[t]``), ``m_zh`` (written into
        ``coef_h[t]``), the direct share of ``h_{t-1}``, and no carry."""
        coef_x, m_zh, coef_h, direct = views
        m = m_h.unsqueeze(1)
        coef_x.mul_(m)
        coef_h.mul_(m)
        return m_zh, direct * m_h, None
