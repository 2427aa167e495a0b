"""Exact Shapley values with the time steps of a sequence as the players.

A coalition ``S`` of steps plays the sequence whose step ``t`` is ``x_t`` for ``t ∈ S`` and the
baseline's step otherwise; its value is the model's score. With ``n`` players that is ``2^n``
sequences per row, and one matrix product (:func:`lstm_teach.shapley.shapley_matrix`) turns their
scores into the ``n`` Shapley values. The players are a row's valid steps (``lengths``); with
``readout="all"`` and a one-directional model, the steps after the target step cannot move its
output, so they are dummies with value exactly 0 and only the steps up to it are enumerated.

In a one-directional model the ``2^n`` sequences share their beginnings: all those that agree on
steps ``0 … t-1`` reach step ``t`` in the same state, in every layer. So they are run as a tree, one
step at a time: the ``2^t`` states after ``t`` steps each branch into two (step ``t`` from the
baseline or from the input), and the recurrent products ``W_hh h_{t-1}`` are computed once for
both branches. That is ``2^{n+1}`` cell updates per layer instead of ``n · 2^n``. A bidirectional
layer reads every sequence from both ends, so there the model's own forward runs on all ``2^n``
sequences, in chunks.
"""

from __future__ import annotations

import torch

from .explainer import Explainer
from .head import head_forward
from .network import Network
from .shapley import check_players, coalitions, shapley_matrix
from .subnormal import flush_subnormals

__all__ = ["TimeStepShapley"]


class TimeStepShapley(Explainer):
    """Shapley values of the time steps of a recurrent model's input.

    Args:
        model: an :class:`~lstm_teach.models.LSTMModel`, :class:`~lstm_teach.models.GRUModel` or
            :class:`~lstm_teach.models.LSTMClassifier`.
        chunk_size: most sequences carried through a step together (bounds memory, not the
            result); a tree level that would be wider is grown one branch after the other.
    """

    def __init__(self, model, chunk_size: int = 16384):
        super().__init__(model)
        self.chunk_size = chunk_size

    @flush_subnormals
    @torch.no_grad()
    def attribute(self, inputs, baselines=None, target=None, lengths=None):
        """Shapley values ``(B, T)``; they sum to ``f(x) − f(baseline)`` for each row, and steps at or past
        a row's length get 0. Arguments: see :mod:`lstm_teach.explainer`. Refuses more than 20 players
        (2^n model evaluations per row)."""
        batch = self._batch(inputs, baselines, target, lengths)
        net = Network.of(self.model)
        one_way = all(len(layer) == 1 for layer in net.layers)
        players = batch.target_step + 1 if one_way and batch.target_step is not None else batch.lengths
        check_players(int(players.max()), "the number of time steps T")
        values = batch.x.new_zeros(batch.x.shape[:2])
        for n in players.unique().tolist():
            rows = (players == n).nonzero().squeeze(1)
            x, x_ref = batch.x[rows, :n], batch.x_ref[rows, :n]
            step = None if batch.target_step is None else batch.target_step[rows]
            if one_way:
                scores = self._tree(net, x, x_ref, batch.target[rows])
            else:
                scores = self._enumerate(x, x_ref, step, batch.target[rows])
            values[rows, :n] = scores @ shapley_matrix(n, scores.dtype, scores.device)
        return values

    def _enumerate(self, x, x_ref, step, target):
        """Scores (B, 2^n) of every coalition by the model's own forward, ``self.chunk_size`` sequences at a time."""
        batch, n = x.shape[:2]
        masks = coalitions(n, x.device)                                      # (2^n, n)
        scores = x.new_empty(batch, 2 ** n)
        per_chunk = max(1, self.chunk_size // batch)
        for start in range(0, 2 ** n, per_chunk):
            mask = masks[start:start + per_chunk, None, :, None]             # (K, 1, n, 1)
            played = torch.where(mask, x, x_ref).flatten(0, 1)               # (K·B, n, I)
            out = self.model.forward_embedded(played).view(-1, batch, *self._output_shape(n))
            if step is not None:
                out = out[:, torch.arange(batch, device=x.device), step]    # (K, B, O)
            scores[:, start:start + per_chunk] = out.gather(-1, target.expand(out.shape[0], -1).unsqueeze(-1)).squeeze(-1).T
        return scores

    def _output_shape(self, n: int) -> tuple[int, ...]:
        outputs = self.model.num_outputs
        return (outputs,) if self.model.readout == "last" else (n, outputs)

    def _tree(self, net: Network, x, x_ref, target):
        """Scores (B, 2^n) of every coalition of a one-directional model, grown as a prefix tree."""
        batch, n = x.shape[:2]
        first = net.layers[0][0]
        from_x = net.cell.from_input(torch.stack([x_ref, x]), first)        # (2, B, n, G·H); 0 = baseline
        scores = x.new_empty(batch, 2 ** n)
        tree = _Tree(net, from_x, target, scores, max(1, self.chunk_size // batch))
        states = [net.cell.zero_state(x.new_zeros(1, batch, layer[0].hidden_size)) for layer in net.layers]
        tree.grow(states, torch.zeros(1, dtype=torch.long, device=x.device), 0)
        return scores


class _Tree:
    """Runs every coalition's sequence as a tree of shared prefixes and writes its score into ``scores``."""

    def __init__(self, net: Network, from_x, target, scores, width):
        self.net, self.from_x, self.target, self.scores, self.width = net, from_x, target, scores, width

    def _rest(self, states, h):
        """Layers 1 … L−1 of one step, from the first layer's new ``h``: their new states."""
        cell, new = self.net.cell, []
        for layer, state in zip(self.net.layers[1:], states):
            weights = layer[0]
            state = cell.step(cell.from_input(h, weights), cell.from_state(state, weights), state)
            new.append(state)
            h = state[0]
        return new

    def grow(self, states, index, t):
        """From the states (per layer, each (P, B, H)) of the P prefixes whose coalition bits ``0 … t-1``
        are ``index`` (P,), finish every coalition that extends them. Bit ``t`` of a coalition's index
        is 1 when it plays ``x_t``."""
        cell, weights = self.net.cell, self.net.layers[0][0]
        steps = self.from_x.shape[2]
        while t < steps:
            zh = cell.from_state(states[0], weights)                        # (P, B, G·H), shared by both branches
            if 2 * len(index) <= self.width:                                # both branches at once
                first = cell.step(self.from_x[:, None, :, t], zh, states[0])    # (2, P, B, H)
                first = tuple(s.flatten(0, 1) for s in first)
                rest = [tuple(torch.cat([s, s]) for s in state) for state in states[1:]]
                states = [first] + self._rest(rest, first[0])
                index = torch.cat([index, index + 2 ** t])
                t += 1
            else:                                                           # too wide: one branch, then the other
                for choice in (0, 1):
                    first = cell.step(self.from_x[choice, :, t], zh, states[0])
                    self.grow([first] + self._rest(states[1:], first[0]), index + choice * 2 ** t, t + 1)
                return
        out = head_forward(self.net.head, states[-1][0])[-1][1]           # (P, B, O)
        self.scores[:, index] = out.gather(-1, self.target.expand(len(index), -1).unsqueeze(-1)).squeeze(-1).T
