"""Shapley values with the time steps of a sequence as the players: exact, or sampled for long sequences.

A coalition ``S`` of steps plays the sequence whose step ``t`` is ``x_t`` for ``t ∈ S`` and the
baseline's step otherwise; its value is the model's score. The players are a row's valid steps
(``lengths``); with ``readout="all"`` and a one-directional model, the steps after the target step
cannot move its output, so they are dummies with value exactly 0 and only the steps up to it play.

**Exact** (``n_permutations=None``, at most 20 players): all ``2^n`` coalitions, and one matrix product
(:func:`lstm_teach.shapley.shapley_matrix`) turns their scores into the ``n`` values. In a
one-directional model the ``2^n`` sequences share their beginnings: all those that agree on steps
``0 … t-1`` reach step ``t`` in the same state, in every layer. So they are run as a tree, one step at
a time: the ``2^t`` states after ``t`` steps each branch into two (step ``t`` from the baseline or from
the input), and the recurrent products ``W_hh h_{t-1}`` are computed once for both branches:
``2^{n+1}`` cell updates per layer instead of ``n · 2^n``. A bidirectional layer reads every sequence
from both ends, so there the model's own forward runs on all ``2^n`` sequences, in chunks.

**Sampled** (``n_permutations=N``, any length): the Shapley value is the mean, over orderings of the
players, of a player's marginal contribution ``v(S ∪ {t}) − v(S)`` when it joins the players before it.
Each sampled ordering (a permutation π, written as the rank ``r_t`` of every step) gives the ``n + 1``
coalitions ``S_k = {t : r_t < k}`` and a contribution for every step; their sum telescopes to
``v(S_n) − v(S_0) = f(x) − f(baseline)``, so **every estimate is exactly efficient**. The orderings come
in *antithetic pairs*: each uniformly drawn ordering with its reverse, so that a step that joins early
once joins late once (the estimate stays unbiased: the reverse of a uniform ordering is uniform). On a
T = 50 model this cuts the error at a given number of orderings about fourfold against independent
orderings. (Rotating one drawn ordering to put every step at every position — stratifying by position —
was tried and measured worse: the rotations keep the players' cyclic order, so they are far from
independent.) The standard error is that of the mean over the independent pairs.
The ``n + 1`` sequences of an ordering are evaluated together, and in a
one-directional model they share states: after ``t`` steps, the sequences of one ordering fall into
``t + 1`` groups that have read the same steps so far; each step splits one group in two, so an ordering
costs ``(n + 1)(n + 2) / 2`` cell updates per layer instead of ``n (n + 1)``.
"""

from __future__ import annotations

import os

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
    def attribute(self, inputs, baselines=None, target=None, lengths=None, n_permutations=None, seed=None,
                  return_std=False):
        """Shapley values ``(B, T)``; they sum to ``f(x) − f(baseline)`` for each row (exactly, also when
        sampled), and steps at or past a row's length get 0. Arguments: see :mod:`lstm_teach.explainer`.

        ``n_permutations``: None for the exact values (at most 20 players: 2^n model evaluations per row),
        or an even number of sampled orderings (see the module docstring). ``seed``: the sampling's seed
        (an int; None draws one). ``return_std``: also return the standard error of every value (B, T),
        zero when exact.
        """
        batch = self._batch(inputs, baselines, target, lengths)
        net = Network.of(self.model)
        one_way = all(len(layer) == 1 for layer in net.layers)
        players = batch.target_step + 1 if one_way and batch.target_step is not None else batch.lengths
        if n_permutations is None:
            check_players(int(players.max()), "the number of time steps T (pass n_permutations to sample instead)")
        elif not (isinstance(n_permutations, int) and not isinstance(n_permutations, bool)
                  and n_permutations >= 2 and n_permutations % 2 == 0):
            raise ValueError(f"n_permutations must be None (exact) or an even int >= 2, got {n_permutations!r}")
        generator = torch.Generator().manual_seed(int.from_bytes(os.urandom(8), "little") if seed is None else seed)
        values = batch.x.new_zeros(batch.x.shape[:2])
        std = torch.zeros_like(values)
        for n in players.unique().tolist():
            rows = (players == n).nonzero().squeeze(1)
            x, x_ref, target = batch.x[rows, :n], batch.x_ref[rows, :n], batch.target[rows]
            step = None if batch.target_step is None else batch.target_step[rows]
            if n_permutations is None:
                scores = self._tree(net, x, x_ref, target) if one_way else \
                    self._evaluate(x, x_ref, step, target, coalitions(n, x.device))
                values[rows, :n] = scores @ shapley_matrix(n, scores.dtype, scores.device)
                continue
            ranks = antithetic_orderings(n, n_permutations, generator).to(x.device)          # (P, n)
            if one_way:
                scores = self._segments(net, x, x_ref, target, ranks)                     # (B, P, n + 1)
            else:
                masks = ranks.unsqueeze(1) < torch.arange(n + 1, device=x.device).view(1, -1, 1)
                scores = self._evaluate(x, x_ref, step, target, masks.flatten(0, 1)).view(len(rows), len(ranks), n + 1)
            joined = scores.gather(2, (ranks + 1).expand(len(rows), -1, -1))
            left = scores.gather(2, ranks.expand(len(rows), -1, -1))
            pairs = (joined - left).view(len(rows), -1, 2, n).mean(2)                     # (B, pairs, n)
            values[rows, :n] = pairs.mean(1)
            std[rows, :n] = pairs.std(1) / pairs.shape[1] ** 0.5 if pairs.shape[1] > 1 else float("nan")
        return (values, std) if return_std else values

    def _evaluate(self, x, x_ref, step, target, masks):
        """Scores (B, K) of the coalitions ``masks`` (K, n) by the model's own forward, ``self.chunk_size``
        sequences at a time."""
        batch, n = x.shape[:2]
        scores = x.new_empty(batch, masks.shape[0])
        per_chunk = max(1, self.chunk_size // batch)
        rows = torch.arange(batch, device=x.device)
        for start in range(0, masks.shape[0], per_chunk):
            mask = masks[start:start + per_chunk, None, :, None]             # (K, 1, n, 1)
            played = torch.where(mask, x, x_ref).flatten(0, 1)               # (K·B, n, I)
            out = self.model.forward_embedded(played).view(-1, batch, *self._output_shape(n))
            if step is not None:
                out = out[:, rows, step]                                    # (K, B, O)
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

    def _segments(self, net: Network, x, x_ref, target, ranks):
        """Scores (B, P, n + 1) of the coalitions ``S_k = {t : ranks[p, t] < k}`` of P orderings of a
        one-directional model, the sequences of an ordering sharing their states (module docstring)."""
        batch, n = x.shape[:2]
        from_x = net.cell.from_input(torch.stack([x_ref, x]), net.layers[0][0])   # (2, B, n, G·H)
        scores = x.new_empty(batch, ranks.shape[0], n + 1)
        per_chunk = max(1, self.chunk_size // ((n + 1) * batch))
        for start in range(0, ranks.shape[0], per_chunk):
            chunk = ranks[start:start + per_chunk]
            scores[:, start:start + len(chunk)] = _split_groups(net, from_x, chunk, target)
        return scores


def antithetic_orderings(n: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` orderings of ``n`` players as ranks (count, n): ``count / 2`` independent uniform orderings,
    each followed by its reverse (rows 2j and 2j + 1 form a pair)."""
    ranks = torch.stack([torch.randperm(n, generator=generator) for _ in range(count // 2)])
    return torch.stack([ranks, n - 1 - ranks], dim=1).flatten(0, 1)


def _split_groups(net: Network, from_x, ranks, target):
    """Scores (B, P, n + 1) of every coalition of the orderings ``ranks`` (P, n), grown step by step.

    After ``t`` steps the sequences ``k = 0 … n`` of an ordering form ``t + 1`` groups, in order of ``k``,
    each of which has read the same steps (``x_s`` where ``r_s < k``, else the baseline's). Step ``t``
    splits the group that holds both ``k = r_t`` and ``k = r_t + 1`` — the ``j``-th, ``j`` being the number
    of earlier steps of lower rank — and every group after the split reads ``x_t``.
    """
    cell = net.cell
    count, n = ranks.shape
    batch = from_x.shape[1]
    earlier = torch.ones(n, n, dtype=torch.bool, device=ranks.device).tril(-1)        # s < t
    split = ((ranks.unsqueeze(1) < ranks.unsqueeze(2)) & earlier).sum(2)             # (P, n): j for step t
    states = [cell.zero_state(from_x.new_zeros(count, 1, batch, layer[0].hidden_size)) for layer in net.layers]
    for t in range(n):
        groups = torch.arange(t + 2, device=ranks.device)
        after = groups > split[:, t:t + 1]                                           # (P, t + 2): reads x_t
        source = (groups - after.long()).view(count, -1, 1, 1)                       # the group it continues
        zh = cell.from_state(states[0], net.layers[0][0])
        zh = zh.gather(1, source.expand(-1, -1, batch, zh.shape[-1]))
        previous = tuple(s.gather(1, source.expand(-1, -1, batch, s.shape[-1])) for s in states[0])
        zx = torch.where(after.view(count, -1, 1, 1), from_x[1, :, t], from_x[0, :, t])
        states[0] = cell.step(zx, zh, previous)
        h = states[0][0]
        for layer, index in zip(net.layers[1:], range(1, len(states))):
            weights = layer[0]
            previous = tuple(s.gather(1, source.expand(-1, -1, batch, s.shape[-1])) for s in states[index])
            states[index] = cell.step(cell.from_input(h, weights), cell.from_state(previous, weights), previous)
            h = states[index][0]
    out = head_forward(net.head, states[-1][0])[-1][1]                              # (P, n + 1, B, O)
    return out.gather(-1, target.view(1, 1, -1, 1).expand(count, n + 1, -1, 1)).squeeze(-1).permute(2, 0, 1)


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
