"""Exact Shapley values with the time steps of a sequence as the players.

A coalition ``S`` of steps plays the sequence whose step ``t`` is ``x_t`` for ``t ∈ S`` and the
baseline's step otherwise; its value is the model's score. With ``T`` steps that is ``2^T``
sequences per row, and one matrix product (:func:`lstm_teach.shapley.shapley_matrix`) turns their
scores into the ``T`` Shapley values.

The ``2^T`` sequences share their beginnings: all those that agree on steps ``0 … t-1`` reach
step ``t`` in the same state. So they are run as a tree, one step at a time: the ``2^t`` states
after ``t`` steps each branch into two (step ``t`` from the baseline or from the input), and the
recurrent product ``W_hh h_{t-1}`` is computed once for both branches. That is ``2^{T+1}`` cell
updates instead of ``T · 2^T``, and half as many recurrent products again.
"""

from __future__ import annotations

import torch

from .explainer import LSTMExplainer
from .lstm import _cell
from .shapley import check_players, shapley_matrix

__all__ = ["TimeStepShapley"]


class TimeStepShapley(LSTMExplainer):
    """Shapley values of the time steps of an :class:`LSTMClassifier`'s input.

    Args:
        model: one LSTM layer and a linear head (see :class:`LSTMClassifier`).
        chunk_size: most sequences carried through a step together (bounds memory, not the
            result); a tree level that would be wider is grown one branch after the other.
    """

    def __init__(self, model, chunk_size: int = 16384):
        super().__init__(model)
        self.chunk_size = chunk_size

    @torch.no_grad()
    def attribute(self, inputs, baselines=None, target=None):
        """Shapley values ``(B, T)``; they sum to ``f(x) − f(baseline)`` for each row.

        ``inputs`` (B, T, I); ``baselines`` like ``inputs``, (T, I) or (I,), zeros when None;
        ``target`` int or (B,), may be omitted when the head has one output. Refuses T > 20
        (2^T model evaluations per row).
        """
        x, x_b = self._inputs(inputs, baselines)
        batch, steps, _ = x.shape
        check_players(steps, "the number of time steps T")
        target = self._target(target, batch)
        weights, head_weight, head_bias = self._weights()
        # eq. 1–3, 5, the part from x_t, for both choices of every step: (2, B, T, 4H), 0 = baseline
        from_x = torch.stack([x_b, x]) @ weights.weight_ih.T + (weights.bias_ih + weights.bias_hh)
        values = x.new_empty(batch, 2 ** steps)                          # column k: coalition k
        tree = _Tree(from_x, weights.weight_hh.T, head_weight[target], head_bias[target], values,
                     max(1, self.chunk_size // batch))
        zeros = x.new_zeros(1, batch, weights.hidden_size)
        tree.grow(zeros, zeros, torch.zeros(1, dtype=torch.long, device=x.device), 0)
        return values @ shapley_matrix(steps, values.dtype, values.device)


class _Tree:
    """Runs every coalition's sequence as a tree of shared prefixes and writes its score into ``values``."""

    def __init__(self, from_x, w_hh_t, head_weight, head_bias, values, width):
        self.from_x, self.w_hh_t, self.values, self.width = from_x, w_hh_t, values, width
        self.head_weight, self.head_bias = head_weight, head_bias       # (B, H), (B,): the target's row

    def grow(self, h, c, index, t):
        """From the states ``h``, ``c`` (P, B, H) after ``t`` steps of the P prefixes whose
        coalition bits ``0 … t-1`` are ``index`` (P,), finish every coalition that extends them.
        Bit ``t`` of a coalition's index is 1 when it plays ``x_t``."""
        steps = self.from_x.shape[2]
        while t < steps:
            from_h = h @ self.w_hh_t                                    # (P, B, 4H), shared by both branches
            if 2 * len(index) <= self.width:                            # both branches at once
                *_, c, h = _cell(from_h + self.from_x[:, None, :, t], c)  # (2, P, B, H)
                h, c = h.flatten(0, 1), c.flatten(0, 1)
                index = torch.cat([index, index + 2 ** t])
                t += 1
            else:                                                       # too wide: one branch, then the other
                del h
                for choice in (0, 1):
                    *_, c_next, h_next = _cell(from_h + self.from_x[choice, :, t], c)
                    self.grow(h_next, c_next, index + choice * 2 ** t, t + 1)
                return
        scores = (h * self.head_weight).sum(-1) + self.head_bias        # (P, B)
        self.values[:, index] = scores.T

