"""The LSTM written out from its equations (seed 1 eq. 1–6), once, and its local rules for the sweep.

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        (1)  input gate   (seed 2: save)
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        (2)  forget gate  (seed 2: remember)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     (3)  candidate C̃_t (seed 2: c′)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                        (4)
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        (5)  output gate  (seed 2: focus)
    h_t = o_t ⊙ tanh(c_t)                                  (6)

Eq. 5 in seed 1 drops ``b_ho``; PyTorch adds both output-gate biases, and so do we.
Weights are stored as PyTorch stores them: rows stacked in gate order i, f, g, o, the one gate order
used everywhere in the package.

:func:`lstm_cell` is the only place where these equations are written. :func:`lstm_forward` (the
trace of chapter 2), :class:`~lstm_teach.timesteps.TimeStepShapley`'s prefix tree and
:class:`~lstm_teach.unrolled.UnrolledLSTM` (with activation modules) run it step by step;
:class:`LSTMCell` runs its pieces vectorised over a block of steps for the backward sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from .activations import get_activation
from .checks import as_tensor, check_finite, check_same_kind, check_shape
from .weights import RecurrentWeights, previous_steps

__all__ = ["GATES", "ALIASES", "GATE_ACTIVATIONS", "FUNCTIONS", "canonical_gate", "LSTMWeights", "LSTMTrace",
           "lstm_cell", "lstm_step", "lstm_forward", "LSTMCell"]

GATES = ("i", "f", "g", "o")
"""Gate order inside PyTorch's stacked weights."""

ALIASES = {"save": "i", "remember": "f", "candidate": "g", "focus": "o"}
"""Seed 2's names for the gates."""

GATE_ACTIVATIONS = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}

FUNCTIONS = {"i": torch.sigmoid, "f": torch.sigmoid, "g": torch.tanh, "o": torch.sigmoid, "c": torch.tanh}
"""The five nonlinearities of a step: the gates' and ``tanh(c_t)``'s."""

_SIGMOID, _TANH = get_activation("sigmoid"), get_activation("tanh")


class LSTMWeights(RecurrentWeights):
    """The four weight tensors of one LSTM layer and direction (see :mod:`lstm_teach.weights`):
    ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` (4H,), ``bias_hh`` (4H,); ``W_ii``,
    ``W_hf``, ``b_ig``, ``b_ho``, … are one gate's block."""

    GATES = GATES
    ALIASES = ALIASES
    LAYER = nn.LSTM
    CELL = nn.LSTMCell

    def gate_layer(self, gate: str) -> tuple[torch.Tensor, torch.Tensor]:
        """One gate as a dense layer over the concatenation ``[x_t; h_{t-1}]``.

        Returns ``(weight, bias)``: ``[W_i* | W_h*]`` (H, I + H) and ``b_i* + b_h*`` (H,).
        ``gate`` is ``"i"``, ``"f"``, ``"g"``, ``"o"`` or one of seed 2's names.
        """
        rows = self.rows(gate)
        weight = torch.cat([self.weight_ih[rows], self.weight_hh[rows]], dim=1)
        return weight, self.bias_ih[rows] + self.bias_hh[rows]


def canonical_gate(gate: str) -> str:
    """PyTorch's letter for ``gate`` (``"i"``, ``"f"``, ``"g"``, ``"o"`` or one of seed 2's names)."""
    return LSTMWeights.canonical_gate(gate)


# ----------------------------------------------------------------------------- the equations

def remember(f: torch.Tensor, c_prev: torch.Tensor, ig: torch.Tensor, out=None) -> torch.Tensor:
    """Eq. 4 given ``ig = i_t ⊙ g_t``: ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t`` (any shapes that broadcast)."""
    return torch.addcmul(ig, f, c_prev, out=out)


def lstm_gates(z: torch.Tensor, act=FUNCTIONS):
    """Eq. 1, 2, 3, 5 from the pre-activations ``z`` (…, 4H), both biases included: ``i, f, g, o`` (…, H)."""
    z_i, z_f, z_g, z_o = z.chunk(4, dim=-1)
    return act["i"](z_i), act["f"](z_f), act["g"](z_g), act["o"](z_o)


def lstm_cell(z: torch.Tensor, c_prev: torch.Tensor, act=FUNCTIONS):
    """One step of eq. 1–6 from the pre-activations ``z`` (…, 4H) and ``c_{t-1}`` (…, H).

    ``act`` maps ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"`` to the five nonlinearities (functions, or
    modules for :class:`~lstm_teach.unrolled.UnrolledLSTM`). Returns ``i, f, g, o, c_t, h_t``.
    """
    i, f, g, o = lstm_gates(z, act)
    c = remember(f, c_prev, i * g)
    return i, f, g, o, c, o * act["c"](c)


# ----------------------------------------------------------------------------- the trace (chapter 2)

@dataclass
class LSTMTrace:
    """Every quantity of eq. 1–6 at every step.

    ``z`` (B, T, 4H): pre-activations, gate order i, f, g, o. ``i``, ``f``, ``g``, ``o``, ``c``,
    ``h`` (B, T, H). ``h0``, ``c0`` (B, H): the states before the first step. ``save``, ``remember``,
    ``candidate``, ``focus`` are seed 2's names for ``i``, ``f``, ``g``, ``o``; ``z_i`` … ``z_o``
    are the gates' pre-activations (B, T, H). The engine keeps blocks of steps time-major,
    (T, B, ·), with ``time_dim = 0``.
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
    time_dim: int = 1

    def __getattr__(self, name: str) -> torch.Tensor:
        if name in ALIASES:
            return getattr(self, ALIASES[name])
        if len(name) == 3 and name.startswith("z_") and name[2] in GATES:
            return self.z.chunk(4, dim=-1)[GATES.index(name[2])]
        raise AttributeError(f"LSTMTrace has no attribute {name!r}")

    @property
    def c_prev(self) -> torch.Tensor:
        """``c_{t-1}`` for every step."""
        return previous_steps(self.c0, self.c, self.time_dim)

    @property
    def h_prev(self) -> torch.Tensor:
        """``h_{t-1}`` for every step."""
        return previous_steps(self.h0, self.h, self.time_dim)

    def batch_first(self) -> "LSTMTrace":
        """The same trace with (B, T, ·) tensors."""
        if self.time_dim == 1:
            return self
        return LSTMTrace(*(v.transpose(0, 1) for v in (self.z, self.i, self.f, self.g, self.o, self.c, self.h)),
                         self.h0, self.c0)


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
    state = (_initial_state("h0", h0, batch, weights), _initial_state("c0", c0, batch, weights))
    trace, _ = LSTMCell.scan(x.transpose(0, 1), state, weights, x.new_empty(steps, batch, weights.hidden_size))
    return trace.batch_first()


# ----------------------------------------------------------------------------- local rules for the sweep

class LSTMEdges(NamedTuple):
    """The local multipliers of one layer and direction, time-major, for the B input rows.

    ``coef`` (T, B, 4H): ``m_z = coef ⊙ [m_c, m_c, m_c, m_h]`` gives the multipliers of the four
    pre-activations (i, f, g, o) from those of ``c_t`` and ``h_t`` (the sweep overwrites it with
    ``m_z``); ``h_to_c`` (T, B, H): what ``m_{h_t}`` adds to ``m_{c_t}`` through eq. 6;
    ``c_to_cprev`` (T, B, H): ``m_{c_{t-1}}`` from ``m_{c_t}`` through eq. 4.
    """

    coef: torch.Tensor
    h_to_c: torch.Tensor
    c_to_cprev: torch.Tensor


class LSTMCell:
    """The LSTM's local rules: how multipliers cross one step, for any :class:`~lstm_teach.rules.Rules`.

    Going back through a step (eq. 6, then 4, then 1–3 and 5):

    * ``h_t = o_t ⊙ tanh(c_t)``: the product rule splits ``m_{h_t}`` into ``m_o`` and ``m_{tanh c}``;
      ``tanh(c_t)``'s rule turns the latter into a share of ``m_{c_t}``;
    * ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t``: a sum (the linear rule: ε for LRP) of two products, whose
      rule gives ``m_f``, ``m_{c_{t-1}}``, ``m_i`` and ``m_g``;
    * each gate's nonlinearity rule, then the linear rule of its pre-activation ``z``; from ``m_z``
      the sweep reaches ``x_t`` through ``W_i*`` and ``h_{t-1}`` through ``W_h*``.

    Every coefficient depends only on the forward values, so :meth:`edges` computes them for a whole
    block of steps at once, and :meth:`back_step` is five tensor operations per step. The forward
    values come from :meth:`scan` (eq. 1–6 step by step) or, where a step is too small for Python's
    cost per operation to pay off, from :meth:`recompute` around PyTorch's fused kernel.
    """

    WEIGHTS = LSTMWeights
    Edges = LSTMEdges

    # -------------------------------------------------------------- one step, for the tree and the unrolled model

    @staticmethod
    def zero_state(zeros: torch.Tensor):
        """The initial state ``(h, c)``, both ``zeros`` (…, H)."""
        return zeros, zeros

    @staticmethod
    def from_input(u: torch.Tensor, weights: LSTMWeights) -> torch.Tensor:
        """``W_ih u + b_ih`` (…, 4H): the part of eq. 1–3, 5 that comes from the layer's input."""
        return u @ weights.weight_ih.T + weights.bias_ih

    @staticmethod
    def from_state(state, weights: LSTMWeights) -> torch.Tensor:
        """``W_hh h_{t-1} + b_hh`` (…, 4H): the part that comes from the previous state."""
        return state[0] @ weights.weight_hh.T + weights.bias_hh

    @staticmethod
    def step(zx: torch.Tensor, zh: torch.Tensor, state, act=FUNCTIONS):
        """The next state ``(h_t, c_t)`` by :func:`lstm_cell`; ``h_t`` comes first."""
        *_, c, h = lstm_cell(zx + zh, state[1], act)
        return h, c

    # -------------------------------------------------------------- the forward of a layer, a block at a time

    @staticmethod
    def hidden_states(u: torch.Tensor, weights: LSTMWeights) -> torch.Tensor:
        """``h_t`` for every step (T, N, H) of the time-major inputs ``u`` (T, N, I), from zero states,
        by PyTorch's fused kernel (the same function as :func:`lstm_forward`; tested equal)."""
        zeros = u.new_zeros(1, u.shape[1], weights.hidden_size)
        params = [weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh]
        return torch.lstm(u, (zeros, zeros), params, True, 1, 0.0, False, False, False)[0]

    @staticmethod
    def _inputs(u: torch.Tensor, weights: LSTMWeights) -> torch.Tensor:
        """``W_ih u_t + b_ih + b_hh`` for a block (n, N, I) → (n, N, 4H), one matrix product."""
        n, rows, _ = u.shape
        return torch.addmm(weights.bias_ih + weights.bias_hh, u.reshape(n * rows, -1), weights.weight_ih.T).view(n, rows, -1)

    @staticmethod
    def scan(u: torch.Tensor, state, weights: LSTMWeights, h_out: torch.Tensor):
        """Eq. 1–6 step by step over a block ``u`` (n, N, I) from ``state = (h, c)``; writes ``h_t`` into
        ``h_out`` (n, N, H) and returns the block's time-major :class:`LSTMTrace` and the state after it."""
        z = LSTMCell._inputs(u, weights)
        h, c = h_before, c_before = state
        per_step = []
        w_hh_t = weights.weight_hh.T.contiguous()              # (H, 4H): the faster layout for h @ W_hhᵀ
        for t in range(u.shape[0]):
            i, f, g, o, c, h = lstm_cell(z[t].addmm_(h, w_hh_t), c)
            h_out[t] = h
            per_step.append((i, f, g, o, c))
        i, f, g, o, c_all = (torch.stack(v) for v in zip(*per_step))
        return LSTMTrace(z, i, f, g, o, c_all, h_out, h_before, c_before, time_dim=0), (h, c)

    @staticmethod
    def recompute(u: torch.Tensor, h_prev: torch.Tensor, state, weights: LSTMWeights):
        """The values of :meth:`scan` from the fused kernel's ``h_{t-1}`` (n, N, H): every pre-activation
        and gate at once, and only eq. 4 step by step; the state carries ``c`` (``h`` is the kernel's)."""
        z = LSTMCell._inputs(u, weights)
        z.view(-1, z.shape[-1]).addmm_(h_prev.reshape(-1, h_prev.shape[-1]), weights.weight_hh.T)
        i, f, g, o = lstm_gates(z)
        ig = i * g
        c = torch.empty_like(ig)
        c_prev = c_before = state[1]
        for f_t, ig_t, c_t in zip(f.unbind(0), ig.unbind(0), c.unbind(0)):
            c_prev = remember(f_t, c_prev, ig_t, out=c_t)
        return LSTMTrace(z, i, f, g, o, c, None, h_prev[0], c_before, time_dim=0), (None, c_prev)

    # -------------------------------------------------------------- local rules, then the backward step

    @staticmethod
    def new_edges(steps: int, batch: int, hidden: int, like: torch.Tensor) -> LSTMEdges:
        return LSTMEdges(like.new_empty(steps, batch, 4 * hidden), like.new_empty(steps, batch, hidden),
                         like.new_empty(steps, batch, hidden))

    @staticmethod
    def edges(values: LSTMTrace, lin_before, rules, rows, out: LSTMEdges):
        """Fill ``out`` (n, B, ·) for a block of n steps from its values; return what the next block needs
        (the linear rule's factor at the block's last ``c_t``, None for DeepLift).

        ``rows`` (:class:`~lstm_teach.sweep.Rows`) splits every value into the input rows and their
        references (none for LRP, whose reference is zero).
        """
        tanh_c = torch.tanh(values.c)
        c_prev = values.c_prev

        sides = rows.split        # (at the input, at the reference)
        (i, i_r), (f, f_r), (g, g_r), (o, o_r) = (sides(v) for v in (values.i, values.f, values.g, values.o))
        (c, c_r), (tanh_c, tanh_c_r), (c_prev, c_prev_r) = sides(values.c), sides(tanh_c), sides(c_prev)
        z, z_r = sides(values.z)
        z_r = z_r.chunk(4, dim=-1) if z_r is not None else (None,) * 4
        k_i, k_g = rules.product(i, i_r, g, g_r)                                            # i ⊙ g
        k_f, k_cprev = rules.product(f, f_r, c_prev, c_prev_r)                              # f ⊙ c_{t-1}
        k_o, k_tanh_c = rules.product(o, o_r, tanh_c, tanh_c_r)                             # o ⊙ tanh(c_t)
        gates = ((_SIGMOID, i, i_r, k_i), (_SIGMOID, f, f_r, k_f), (_TANH, g, g_r, k_g), (_SIGMOID, o, o_r, k_o))
        for coef, z_v, z_ref, (act, a, a_ref, k) in zip(out.coef.chunk(4, dim=-1), z.chunk(4, dim=-1), z_r, gates):
            torch.mul(rules.nonlinear(act, z_v, z_ref, a, a_ref), k, out=coef)             # eq. 1–3, 5
        torch.mul(rules.nonlinear(_TANH, c, c_r, tanh_c, tanh_c_r), k_tanh_c, out=out.h_to_c)   # eq. 6
        out.c_to_cprev.copy_(k_cprev)                                                       # eq. 4
        lin_z, lin_c = rules.linear(z), rules.linear(c)                 # pre-activations; c_t, a sum
        if lin_z is not None:
            out.coef.mul_(lin_z)
        if lin_c is None:
            return None
        out.h_to_c.mul_(lin_c)
        first = lin_before if lin_before is not None else torch.ones_like(lin_c[0])
        out.c_to_cprev.mul_(torch.cat([first.unsqueeze(0), lin_c[:-1]]))
        return lin_c[-1]

    @staticmethod
    def step_views(edges: LSTMEdges) -> list:
        """Per step: ``coef[t]`` (B, 4H), its i, f, g blocks (B, 3, H) and its o block (B, H), ``h_to_c[t]``,
        ``c_to_cprev[t]`` — views made once, so that the sweep's loop does no indexing."""
        steps, batch, four_h = edges.coef.shape
        blocks = edges.coef.view(steps, batch, 4, four_h // 4)
        return list(zip(edges.coef.unbind(0), blocks[:, :, :3].unbind(0), blocks[:, :, 3].unbind(0),
                        edges.h_to_c.unbind(0), edges.c_to_cprev.unbind(0)))

    @staticmethod
    def state_size(hidden: int) -> int:
        """What a step hands back to the one before: ``[m_h, m_c]``, 2H numbers per row."""
        return 2 * hidden

    @staticmethod
    def jacobians(edges: LSTMEdges, weights: LSTMWeights) -> torch.Tensor:
        """Each step's map of ``v_t = [m_{h_t}, m_{c_t} from step t + 1]`` to ``v_{t-1}``, (T, B, 2H, 2H): with
        ``A = Σ_{g ∈ i, f, g} diag(coef_g) W_hg`` and ``C = diag(coef_o) W_ho``,

            m_{h_{t-1}} = m_h (diag(h_to_c) A + C) + carry A,   carry_{t-1} = (carry + m_h h_to_c) c_to_cprev.
        """
        steps, batch, four_h = edges.coef.shape
        hidden = four_h // 4
        coef = edges.coef.view(steps, batch, 4, hidden)
        w = weights.weight_hh.view(4, hidden, hidden)
        a = coef[:, :, 0].unsqueeze(-1) * w[0]
        for g in (1, 2):
            a.addcmul_(coef[:, :, g].unsqueeze(-1), w[g])
        c = coef[:, :, 3].unsqueeze(-1) * w[3]
        jac = edges.coef.new_zeros(steps, batch, 2 * hidden, 2 * hidden)
        torch.addcmul(c, edges.h_to_c.unsqueeze(-1), a, out=jac[..., :hidden, :hidden])
        jac[..., hidden:, :hidden] = a
        jac[..., :hidden, hidden:].diagonal(dim1=-2, dim2=-1).copy_(edges.h_to_c * edges.c_to_cprev)
        jac[..., hidden:, hidden:].diagonal(dim1=-2, dim2=-1).copy_(edges.c_to_cprev)
        return jac

    @staticmethod
    def from_states(edges: LSTMEdges, states: torch.Tensor) -> None:
        """``m_z`` of every step, written into ``edges.coef``, from the states ``v_t`` (T, B, 2H) that reached
        each step (:meth:`jacobians`): the same products as :meth:`back_step`, for all steps at once."""
        hidden = states.shape[-1] // 2
        m_h, carry = states[..., :hidden], states[..., hidden:]
        m_c = torch.addcmul(carry, m_h, edges.h_to_c)
        blocks = edges.coef.view(*edges.coef.shape[:2], 4, hidden)
        blocks[:, :, :3].mul_(m_c.unsqueeze(-2))
        blocks[:, :, 3].mul_(m_h)

    @staticmethod
    def back_step(views, m_h: torch.Tensor, m_c_next: torch.Tensor | None):
        """Multipliers back through one step (its :meth:`step_views`): from ``m_{h_t}`` (B, H) and the
        ``m_{c_t}`` reaching it from step t + 1 (already through that step's eq. 4), return ``m_z`` (written
        into ``coef[t]``; it serves both ``x_t`` and ``h_{t-1}``), no direct path to ``h_{t-1}``, and what
        reaches ``c_{t-1}``."""
        m_z, ifg, o, h_to_c, c_to_cprev = views
        m_c = m_h * h_to_c if m_c_next is None else torch.addcmul(m_c_next, m_h, h_to_c)
        ifg.mul_(m_c.unsqueeze(1))                                                        # i, f, g ← c_t
        o.mul_(m_h)                                                                       # o ← h_t
        return m_z, None, m_c * c_to_cprev
