"""Shared test helpers for the model family: random members, their inputs, and reference computations
written without the engine (brute-force Shapley values, a plain-Python LRP of Arras et al., 2017)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import torch
from torch import nn

import lstm_teach as lt
from tolerance import assert_close, recurrent_error

F64, F32 = torch.float64, torch.float32


@dataclass(frozen=True)
class Member:
    """One member of the family: what to build."""

    kind: str = "LSTM"            # "LSTM" or "GRU"
    layers: int = 1
    bidirectional: bool = False
    tokens: bool = False          # nn.Embedding in front
    head: str = "linear"          # "linear" or "mlp"
    readout: str = "last"
    batch_first: bool = True
    bias: bool = True
    size: int = 3                 # I (or E)
    hidden: int = 4
    outputs: int = 2
    scale: float = 1.0            # weights ~ N(0, scale²)
    vocab: int = 11

    def __str__(self):
        parts = [self.kind, f"L{self.layers}", "bi" if self.bidirectional else "uni",
                 "tok" if self.tokens else "float", self.head, self.readout]
        if not self.batch_first:
            parts.append("seqfirst")
        if not self.bias:
            parts.append("nobias")
        if self.scale != 1.0:
            parts.append(f"x{self.scale:g}")
        return "-".join(parts)


def build(member: Member, dtype=F64, seed: int = 0) -> lt.models.RecurrentModel:
    """The model, every parameter drawn from N(0, scale²) (the embedding's from N(0, 1)), in eval mode."""
    torch.manual_seed(seed)
    rnn_type = nn.LSTM if member.kind == "LSTM" else nn.GRU
    rnn = rnn_type(member.size, member.hidden, num_layers=member.layers, bidirectional=member.bidirectional,
                   batch_first=member.batch_first, bias=member.bias)
    width = member.hidden * (2 if member.bidirectional else 1)
    if member.head == "linear":
        head = nn.Linear(width, member.outputs)
    else:
        head = nn.Sequential(nn.Linear(width, 5), nn.ReLU(), nn.Dropout(0.3), nn.Linear(5, 4), nn.Tanh(),
                             nn.Identity(), nn.Linear(4, member.outputs))
    embedding = nn.Embedding(member.vocab, member.size, padding_idx=0) if member.tokens else None
    model_type = lt.LSTMModel if member.kind == "LSTM" else lt.GRUModel
    model = model_type(rnn, head, embedding, readout=member.readout).to(dtype).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("embedding"):
                p.normal_(0.0, member.scale)
    return model


def inputs_for(model, batch: int, steps: int, seed: int = 1, std: float = 1.0):
    """Inputs (token ids, or N(0, std²) floats) and a baseline of the same kind (ids, or N(0, 0.5²) floats)."""
    g = torch.Generator().manual_seed(seed)
    if model.embedding is not None:
        vocab = model.embedding.num_embeddings
        return (torch.randint(1, vocab, (batch, steps), generator=g),
                torch.randint(0, vocab, (batch, steps), generator=g))
    dtype, size = model.recurrent.weight_ih_l0.dtype, model.recurrent.input_size
    x = (std * torch.randn(batch, steps, size, generator=g, dtype=F64)).to(dtype)
    return x, (0.5 * torch.randn(batch, steps, size, generator=g, dtype=F64)).to(dtype)


def ragged_lengths(batch: int, steps: int, seed: int = 2) -> torch.Tensor:
    """Lengths in [1, T], the first row full."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps + 1, (batch,), generator=g)
    lengths[0] = steps
    return lengths


def targets_for(model, lengths: torch.Tensor, seed: int = 3):
    """A (B,) output per row for readout "last"; a (B, 2) tensor of (t, o) rows within each length for "all"."""
    g = torch.Generator().manual_seed(seed)
    outputs = torch.randint(0, model.num_outputs, lengths.shape, generator=g)
    if model.readout == "last":
        return outputs
    steps = (torch.rand(lengths.shape, generator=g) * lengths).long()
    return torch.stack([steps, outputs], dim=1)


def embedded(model, inputs):
    """What the recurrent layer reads: the embedded tokens, or the float inputs."""
    with torch.no_grad():
        return model.embed(inputs) if model.embedding is not None else inputs


def score(model, x_embedded, target, lengths=None) -> torch.Tensor:
    """The target's score (B,) by the model's own forward on embedded inputs."""
    with torch.no_grad():
        out = model.forward_embedded(x_embedded, lengths)
    rows = torch.arange(out.shape[0])
    if out.dim() == 3:
        return out[rows, target[:, 0], target[:, 1]]
    return out[rows, target]


def brute_force_time_steps(model, x_embedded, ref_embedded, target, lengths) -> torch.Tensor:
    """Shapley values (B, T) of the valid steps by enumeration with the model's own forward."""
    values = torch.zeros(x_embedded.shape[:2], dtype=x_embedded.dtype)
    for b in range(x_embedded.shape[0]):
        n = int(lengths[b])
        x, ref, t = x_embedded[b, :n], ref_embedded[b, :n], target[b:b + 1]

        def game(masks, x=x, ref=ref, t=t, n=n):
            played = torch.where(masks.unsqueeze(-1) > 0.5, x, ref).reshape(-1, n, x.shape[-1])
            return score(model, played, t.expand(played.shape[0], *t.shape[1:])).reshape(masks.shape[:-1])

        values[b, :n] = lt.shapley_values(game, torch.ones(n, dtype=x.dtype), torch.zeros(n, dtype=x.dtype))
    return values


# ----------------------------------------------------------------------------- LRP, written out

def _share(numerator: float, denominator: float, relevance: float, eps: float) -> float:
    """The ε-rule's share of ``relevance`` for one term (sign(0) = +1; a zero denominator passes nothing)."""
    d = denominator + (eps if denominator >= 0 else -eps)
    return 0.0 if d == 0 else numerator / d * relevance


def _lstm_layer(weights, xs):
    """Plain-Python forward of one LSTM direction over ``xs`` (T lists of I floats): per-step records."""
    W_x, W_h = weights.weight_ih.tolist(), weights.weight_hh.tolist()
    bias = (weights.bias_ih + weights.bias_hh).tolist()
    H = len(W_h[0])
    h, c, steps = [0.0] * H, [0.0] * H, []
    for x in xs:
        z = [sum(w * v for w, v in zip(W_x[r], x)) + sum(w * v for w, v in zip(W_h[r], h)) + bias[r]
             for r in range(4 * H)]
        i = [1 / (1 + math.exp(-v)) for v in z[:H]]
        f = [1 / (1 + math.exp(-v)) for v in z[H:2 * H]]
        g = [math.tanh(v) for v in z[2 * H:3 * H]]
        o = [1 / (1 + math.exp(-v)) for v in z[3 * H:]]
        c_new = [f[j] * c[j] + i[j] * g[j] for j in range(H)]
        h_new = [o[j] * math.tanh(c_new[j]) for j in range(H)]
        steps.append(dict(x=x, h_prev=h, c_prev=c, i=i, f=f, g=g, c=c_new, h=h_new, z_g=z[2 * H:3 * H]))
        h, c = h_new, c_new
    return steps


def _lstm_layer_lrp(weights, steps, relevance_out, eps):
    """Arras et al.'s LRP back through one LSTM direction: ``relevance_out[t]`` arrives at ``h_t``;
    returns the relevance of every input ``x_t``. Gates get nothing (signal-take-all); the ε-rule at
    ``c_t = f c_{t-1} + i g`` and at ``z_g = W_ig x + W_hg h + b``."""
    W_x, W_h = weights.weight_ih.tolist(), weights.weight_hh.tolist()
    H = len(W_h[0])
    R_h, R_c = [0.0] * H, [0.0] * H
    R_x = [None] * len(steps)
    for t in reversed(range(len(steps))):
        s = steps[t]
        R_h = [R_h[j] + relevance_out[t][j] for j in range(H)]
        R_c = [R_c[j] + R_h[j] for j in range(H)]
        R_g = [_share(s["i"][j] * s["g"][j], s["c"][j], R_c[j], eps) for j in range(H)]
        R_c_prev = [_share(s["f"][j] * s["c_prev"][j], s["c"][j], R_c[j], eps) for j in range(H)]
        R_x[t] = [0.0] * len(s["x"])
        R_h_prev = [0.0] * H
        for j in range(H):
            row = 2 * H + j
            for k, v in enumerate(s["x"]):
                R_x[t][k] += _share(v * W_x[row][k], s["z_g"][j], R_g[j], eps)
            for k, v in enumerate(s["h_prev"]):
                R_h_prev[k] += _share(v * W_h[row][k], s["z_g"][j], R_g[j], eps)
        R_h, R_c = R_h_prev, R_c_prev
    return R_x


def plain_lrp(model, x_embedded, target, eps, lengths=None) -> torch.Tensor:
    """LRP of a stacked, possibly bidirectional LSTM with a linear head and readout "last", in plain
    Python: each direction from Arras et al. (2017); the head's ε-rule over ``[h_fwd; h_bwd]``; a layer's
    input relevances are what the layer below receives at its outputs. Returns (B, T, I)."""
    rnn, head = model.recurrent, model.head
    assert isinstance(head, nn.Linear) and model.readout == "last"
    D = 2 if rnn.bidirectional else 1
    W_out, b_out = head.weight.detach().double().tolist(), head.bias.detach().double().tolist()
    out = torch.zeros(x_embedded.shape, dtype=F64)
    for b, seq in enumerate(x_embedded.double().tolist()):
        n = len(seq) if lengths is None else int(lengths[b])
        layer_inputs, records = [seq[:n]], []
        for layer in range(rnn.num_layers):
            per_direction = []
            for d in range(D):
                w = lt.LSTMWeights.from_torch(rnn, layer, d)
                w = lt.LSTMWeights(*(v.double() for v in (w.weight_ih, w.weight_hh, w.bias_ih, w.bias_hh)))
                xs = layer_inputs[-1] if d == 0 else layer_inputs[-1][::-1]
                per_direction.append((w, _lstm_layer(w, xs)))
            records.append(per_direction)
            fwd = [s["h"] for s in per_direction[0][1]]
            bwd = [s["h"] for s in per_direction[1][1]][::-1] if D == 2 else None
            layer_inputs.append([f + (bwd[t] if bwd else []) for t, f in enumerate(fwd)])
        features = records[-1][0][1][-1]["h"] + (records[-1][1][1][-1]["h"] if D == 2 else [])
        t_out = int(target[b])
        z = sum(w * v for w, v in zip(W_out[t_out], features)) + b_out[t_out]
        R_features = [_share(v * w, z, z, eps) for v, w in zip(features, W_out[t_out])]
        H = rnn.hidden_size
        incoming = [[[0.0] * H for _ in range(n)] for _ in range(D)]   # at each direction's h_t, processing order
        for d in range(D):
            incoming[d][n - 1] = R_features[d * H:(d + 1) * H]
        for layer in reversed(range(rnn.num_layers)):
            R_u = [[0.0] * len(layer_inputs[layer][0]) for _ in range(n)]
            for d, (w, steps) in enumerate(records[layer]):
                R = _lstm_layer_lrp(w, steps, incoming[d], eps)
                for t in range(n):
                    source = t if d == 0 else n - 1 - t
                    R_u[source] = [a + r for a, r in zip(R_u[source], R[t])]
            incoming = [[R_u[t][d * H:(d + 1) * H] for t in (range(n) if d == 0 else reversed(range(n)))]
                        for d in range(D)]
        out[b, :n] = torch.tensor(R_u, dtype=F64)
    return out


def random_members(count: int, seed: int = 0, **fixed) -> list[Member]:
    """``count`` random members (1–3 layers, both directions, tokens or floats, both heads and readouts,
    either batch_first, with or without biases, LSTM and GRU unless ``kind`` is fixed)."""
    rng = random.Random(seed)
    members = []
    for _ in range(count):
        choice = dict(kind=rng.choice(["LSTM", "GRU"]), layers=rng.choice([1, 2, 3]),
                      bidirectional=rng.random() < 0.5, tokens=rng.random() < 0.5, head=rng.choice(["linear", "mlp"]),
                      readout=rng.choice(["last", "all"]), batch_first=rng.random() < 0.7, bias=rng.random() < 0.8,
                      size=rng.choice([1, 2, 3]), hidden=rng.choice([1, 2, 4]), outputs=rng.choice([1, 3]),
                      scale=rng.choice([0.5, 1.0, 3.0]))
        choice.update(fixed)
        members.append(Member(**choice))
    return members


# ----------------------------------------------------------------------------- tolerances

def rounding_bound(model, steps: int, *magnitudes) -> torch.Tensor:
    """How far two computations of the same quantity through ``model`` may differ by rounding alone:
    ``E_ours + E_reference`` with ``E`` from :func:`tolerance.recurrent_error`."""
    return 2 * recurrent_error(model, steps, *magnitudes)


def assert_within(ours: torch.Tensor, reference: torch.Tensor, bound) -> None:
    """``|ours − reference| ≤ bound``, a per-row bound (B,) or a scalar broadcast over the other dimensions
    (:func:`tolerance.assert_close` with an exact split of the bound between the two sides)."""
    bound = torch.as_tensor(bound, dtype=torch.float64)
    while 0 < bound.dim() < ours.dim():
        bound = bound.unsqueeze(-1)
    assert_close(ours, reference, bound.expand(ours.shape) if bound.dim() else bound, 0.0)
