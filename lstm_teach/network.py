"""A whole model as a composition of one-layer sweeps: stacking, directions, readout, padding.

The multipliers of the target score with respect to every input are found in three moves:

1. **forward**, layer by layer: each direction of a layer runs :func:`~lstm_teach.sweep.trace_layer`
   on its inputs in processing order (a backward direction reads each row from its last valid step
   back to step 0), the outputs of both directions, put back in time order, side by side, feed the
   next layer; the readout picks the head's features;
2. **head**: :func:`~lstm_teach.head.head_multipliers` gives the features' multipliers;
3. **back**, layer by layer from the top: the features' multipliers land on the outputs of the last
   layer (``readout="last"``: forward direction at the last valid step, backward direction at step 0;
   ``"all"``: both directions at the target step); each direction's :func:`~lstm_teach.sweep.sweep`
   returns its inputs' multipliers, the directions' sum is what the layer below receives at its
   outputs, and the bottom layer's is the answer.

Padding needs nothing special: a row's steps at or past its length feed no valid step of a forward
direction, come after the valid ones in a backward direction's processing order, and are never read
out, so no multiplier reaches them and their attributions are exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .gru import GRUCell
from .head import head_multipliers
from .lstm import LSTMCell
from .models import RecurrentModel, head_layers
from .sweep import Rows, sweep, trace_layer

__all__ = ["CELLS", "Network", "multipliers", "reversal", "reorder"]

CELLS = {"LSTM": LSTMCell, "GRU": GRUCell}


@dataclass
class Network:
    """A :class:`~lstm_teach.models.RecurrentModel` read for the engine (weights detached, read anew on every call).

    ``layers[l][d]``: the weights of layer ``l``, direction ``d`` (0 forward, 1 backward).
    """

    cell: type
    layers: list
    head: list
    readout: str

    @classmethod
    def of(cls, model: RecurrentModel) -> "Network":
        rnn = model.check().recurrent
        cell = CELLS[model.RNN.__name__]
        directions = 2 if rnn.bidirectional else 1
        layers = [[cell.WEIGHTS.from_torch(rnn, layer, d) for d in range(directions)]
                  for layer in range(rnn.num_layers)]
        return cls(cell, layers, head_layers(model.head), model.readout)

    @property
    def hidden_size(self) -> int:
        return self.layers[0][0].hidden_size


def reversal(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(T, N) index of a backward direction's processing order: step ``t`` reads ``L − 1 − t`` while
    ``t < L`` (the row's length), then the padding in place. The map is its own inverse."""
    t = torch.arange(steps, device=lengths.device).unsqueeze(1)
    return torch.where(t < lengths, lengths - 1 - t, t)


def reorder(v: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``v`` (T, N, ·) with step ``index[t, n]`` of each row at step ``t``."""
    return v.gather(0, index.unsqueeze(-1).expand_as(v))


def multipliers(net: Network, x, references, lengths, target_step, target, rules):
    """The multipliers of the target scores with respect to the inputs, and the scores.

    Args:
        x: (B, T, I) inputs of the recurrent layer (embedded tokens or features).
        references: for DeepLift ``(x_ref (K, T, I), ref_index (B,))``, the reference rows and which one is
            each input row's (a reference row serves rows of one length); None for LRP (zero reference).
        lengths: (B,) valid steps per row.
        target_step: (B,) the step whose output is explained (``readout="all"``), else None.
        target: (B,) output index.
        rules: :class:`~lstm_teach.rules.Rules`.

    Returns:
        ``(m_x (B, T, I), scores (B,), scores_ref (B,) or None)``.
    """
    batch, steps, _ = x.shape
    if references is None:
        rows, row_lengths, layout = x, lengths, Rows(batch, None)
    else:
        x_ref, ref_index = references
        ref_lengths = lengths.new_empty(x_ref.shape[0]).scatter_(0, ref_index, lengths)
        rows, row_lengths, layout = torch.cat([x, x_ref]), torch.cat([lengths, ref_lengths]), Rows(batch, ref_index)
    order = reversal(row_lengths, steps) if any(len(layer) > 1 for layer in net.layers) else None
    u = rows.transpose(0, 1)
    traces = []
    for layer in net.layers:
        outputs, layer_edges = [], []
        for d, weights in enumerate(layer):
            h, edges = trace_layer(net.cell, weights, u if d == 0 else reorder(u, order), rules, layout)
            outputs.append(h if d == 0 else reorder(h, order))
            layer_edges.append(edges)
        traces.append(layer_edges)
        u = torch.cat(outputs, dim=-1)                                   # (T, N, D·H), time order

    # readout: the step at which each direction's output is read, in time order, for each input row; a
    # row's reference is read at the same step (a shared reference row serves every input row)
    last = lengths - 1
    directions, hidden = len(net.layers[-1]), net.hidden_size
    if net.readout == "last":                            # [h_fwd at the last valid step; h_bwd at step 0]
        read = [last, torch.zeros_like(last)][:directions]
    else:
        read = [target_step] * directions
    inputs = torch.arange(batch, device=x.device)

    def features(rows):
        return torch.cat([u[read[d], rows, d * hidden:(d + 1) * hidden] for d in range(directions)], dim=-1)

    features_x = features(inputs)
    features_ref = None if references is None else features(batch + references[1])
    processing = [read[0]] + [last - r for r in read[1:]]   # the same steps in processing order
    m_features, scores, scores_ref = head_multipliers(net.head, features_x, features_ref, target, rules)

    # back through the layers
    m_out, active = [], []
    for d in range(directions):
        m = x.new_zeros(steps, batch, hidden)
        at = processing[d]
        m[at, inputs] = m_features[:, d * hidden:(d + 1) * hidden]
        m_out.append(m)
        flags = [False] * steps
        for t in set(at.tolist()):
            flags[t] = True
        active.append(flags)
    order_x = None if order is None else order[:, :batch]
    for layer, layer_edges in zip(reversed(net.layers), reversed(traces)):
        m_u = None
        for d, (weights, edges) in enumerate(zip(layer, layer_edges)):
            m_d = sweep(net.cell, edges, weights, m_out[d], active[d])
            m_d = m_d if d == 0 else reorder(m_d, order_x)
            m_u = m_d if m_u is None else m_u + m_d
        m_out = [m_u[..., d * hidden:(d + 1) * hidden] if d == 0 else reorder(m_u[..., d * hidden:(d + 1) * hidden], order_x)
                 for d in range(len(layer))]
        active = [[True] * steps] * len(layer)
    target_index = target.unsqueeze(1)
    score = scores.gather(1, target_index).squeeze(1)
    score_ref = scores_ref.gather(1, target_index).squeeze(1) if scores_ref is not None else None
    return m_u.transpose(0, 1), score, score_ref
