"""One layer, one direction: the forward that records local multipliers, and the one backward sweep.

A recurrent layer maps its inputs ``u_0 … u_{T-1}`` to outputs ``h_0 … h_{T-1}``. Whatever sits above
it (the head, the next layer) sends multipliers ``m_out[t]`` to every ``h_t``; the sweep returns
the multipliers of every ``u_t``. Stacked layers, both directions, per-step heads, padded rows
and embeddings are all compositions of these two functions (:mod:`lstm_teach.network`).

Both run in *processing order*: step 0 is the first step the layer reads (for a backward direction,
a row's last valid step). The sweep walks back from the last step that receives a multiplier:

    m_h ← m_h + m_out[t]                       (what reaches h_t from above)
    m_zx[t], m_zh, m_direct, carry ← cell.back_step(t, m_h, carry)
    m_h ← W_hhᵀ m_zh + m_direct                (what reaches h_{t-1})

and one matrix product ``m_u = W_ihᵀ m_zx`` at the end serves all steps. The cell
(:class:`~lstm_teach.lstm.LSTMCell`, :class:`~lstm_teach.gru.GRUCell`) says what crosses a step; the
rules (:mod:`lstm_teach.rules`) fixed the coefficients during the forward.
"""

from __future__ import annotations

import torch

__all__ = ["Rows", "trace_layer", "sweep"]

_BLOCK = {True: 1 << 17, False: 1 << 20}
"""Elements per block of the forward's temporaries (N · 4H · steps), for the fused path and for the step-by-step
one: big enough to amortise Python's cost per operation, small enough for the cache (measured side by side)."""

_FUSED_BELOW = 1 << 22
"""Rows × recurrent weights under which a step is too small to pay for a dozen Python-level operations:
there the forward takes ``h_t`` from PyTorch's fused kernel and recomputes the rest all steps at once."""

_JACOBIAN_BELOW = 1 << 16
"""B · S² under which the backward sweep goes by per-step Jacobians (one operation per step)."""

_JACOBIAN_MEMORY = 1 << 24
"""The most numbers (T · B · S²) those Jacobians may take (64 MiB in float32)."""


class Rows:
    """How the N rows of a forward are laid out: ``batch`` input rows, then (for DeepLift) K reference rows;
    ``ref_index`` (B,) says which reference row belongs to each input row (None: no reference rows, LRP).
    Input rows that share a baseline and a length share one reference row."""

    def __init__(self, batch: int, ref_index: torch.Tensor | None):
        self.batch, self.ref_index = batch, ref_index
        self.shared = ref_index is not None and bool((ref_index == 0).all())

    def split(self, v: torch.Tensor):
        """``v`` (n, N, ·) → its input rows (n, B, ·) and each one's reference row (n, B, · or n, 1, ·), or None."""
        if self.ref_index is None:
            return v, None
        ref = v[:, self.batch:]
        return v[:, :self.batch], ref if self.shared else ref.index_select(1, self.ref_index)


def trace_layer(cell, weights, u: torch.Tensor, rules, rows: Rows):
    """The forward of one layer and direction over ``u`` (T, N, I), time-major in processing order.

    ``rows`` says which rows are inputs and which their references (:class:`Rows`).
    Returns the outputs ``h`` (T, N, H) of every row and the edges (local multipliers) of the input
    rows, computed a block of steps at a time so that only they are kept, not every gate's value.
    The values come from ``cell.scan`` (the equations step by step) or, for small steps, from
    ``cell.recompute`` around the fused kernel's ``h_t`` (the same numbers; tested equal).
    """
    steps, count, _ = u.shape
    hidden = weights.hidden_size
    fused = count * weights.weight_hh.numel() < _FUSED_BELOW
    h = cell.hidden_states(u, weights) if fused else u.new_empty(steps, count, hidden)
    h_prev = torch.cat([h.new_zeros(1, count, hidden), h[:-1]]) if fused else None
    edges = cell.new_edges(steps, rows.batch, hidden, u)
    block = max(1, min(steps, _BLOCK[fused] // (count * weights.weight_hh.shape[0])))
    state = cell.zero_state(u.new_zeros(count, hidden))
    carried = None
    for start in range(0, steps, block):
        part = slice(start, start + block)
        if fused:
            values, state = cell.recompute(u[part], h_prev[part], state, weights)
        else:
            values, state = cell.scan(u[part], state, weights, h[part])
        carried = cell.edges(values, carried, rules, rows, cell.Edges(*(e[part] for e in edges)))
    return h, edges


def sweep(cell, edges, weights, m_out: torch.Tensor, active: list[bool]) -> torch.Tensor:
    """Multipliers of the layer's inputs, (T, B, I), from those arriving at its outputs.

    ``m_out`` (T, B, H): what reaches ``h_t`` from above, in processing order; ``active[t]`` is False
    where ``m_out[t]`` is known to be zero (then it is not added). ``edges`` come from
    :func:`trace_layer` and are consumed: their first field is overwritten with ``m_zx``.

    Where a step is small (B · S² < 2^16 numbers, S the size of what a step hands back), Python's cost per
    operation dominates, and :func:`_sweep_by_jacobians` runs the same recursion with one operation per
    step (tested equal).
    """
    last = max((t for t, a in enumerate(active) if a), default=-1)
    steps, batch = m_out.shape[:2]
    size = cell.state_size(weights.hidden_size)
    if batch * size * size < _JACOBIAN_BELOW and steps * batch * size * size < _JACOBIAN_MEMORY:
        return _sweep_by_jacobians(cell, edges, weights, m_out, active, last)
    m_zx = edges[0]
    m_zx[last + 1:].zero_()                              # steps that reach nothing above
    views, m_out_t = cell.step_views(edges), m_out.unbind(0)
    w_hh = weights.weight_hh
    m_h, carry = None, None
    for t in range(last, -1, -1):
        if active[t]:
            m_h = m_out_t[t] if m_h is None else m_h + m_out_t[t]
        m_zh, m_direct, carry = cell.back_step(views[t], m_h, carry)
        m_h = torch.mm(m_zh, w_hh) if m_direct is None else torch.addmm(m_direct, m_zh, w_hh)
    return m_zx @ weights.weight_ih


def _sweep_by_jacobians(cell, edges, weights, m_out, active, last):
    """:func:`sweep` for small steps: each step's map of what it hands back, ``v_t ↦ v_{t-1}``
    (``cell.jacobians``), built for all steps at once; then one matrix product per step; then every
    step's ``m_zx`` at once (``cell.from_states``)."""
    jac = cell.jacobians(edges, weights)                                  # (T, B, S, S)
    hidden = weights.hidden_size
    states = m_out.new_zeros(jac.shape[:3]).unsqueeze(2)                  # (T, B, 1, S)
    state_t, jac_t = states.unbind(0), jac.unbind(0)
    for t in range(last, -1, -1):
        if active[t]:
            state_t[t][:, 0, :hidden] += m_out[t]
        if t > 0:
            torch.bmm(state_t[t], jac_t[t], out=state_t[t - 1])
    cell.from_states(edges, states.squeeze(2))
    return edges[0] @ weights.weight_ih
