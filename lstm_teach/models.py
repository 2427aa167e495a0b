"""The models the explainers accept: a user's own recurrent layer, head and embedding, put together.

    inputs ──(nn.Embedding, for token ids)──► x (B, T, E) ──(nn.LSTM / nn.GRU, L layers, D directions)──►
    outputs (B, T, D·H) ──readout──► features ──head──► scores

* ``readout="last"``: the features are the last layer's final states ``[h_fwd at the last valid step;
  h_bwd at step 0]`` (B, D·H), as ``h_n`` gives them; the scores are (B, O).
* ``readout="all"``: the head reads every step's output (B, T, D·H); the scores are (B, T, O).
* ``lengths`` (B,): row ``b`` is ``lengths[b]`` steps long and the rest is padding. The model runs
  the rows as a packed sequence, so every row gives what it gives alone, truncated; with
  ``readout="all"`` the padded steps read zero features.

Every model speaks batch first, ``(B, T, …)``, whatever the recurrent layer's ``batch_first``.
Initial states are zeros. The explainers explain the model as it computes in ``eval()`` mode:
dropout is off.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["HEAD_LAYERS", "READOUTS", "RecurrentModel", "LSTMModel", "GRUModel", "LSTMClassifier"]

HEAD_LAYERS = (nn.Linear, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.Dropout)
"""What a head may be made of (an ``nn.Linear`` alone, or an ``nn.Sequential`` of these)."""

READOUTS = ("last", "all")


def _names(types) -> str:
    return ", ".join(t.__name__ for t in types)


def head_layers(head: nn.Module) -> list[nn.Module]:
    """The head as a list of layers, after checking that it is one the explainers can take."""
    layers = list(head) if isinstance(head, nn.Sequential) else [head]
    if isinstance(head, nn.Sequential) and not layers:
        raise ValueError("head must not be an empty nn.Sequential")
    for layer in layers:
        if type(layer) not in HEAD_LAYERS:
            raise TypeError(
                f"head must be nn.Linear or an nn.Sequential of {_names(HEAD_LAYERS)}; "
                f"got a {type(layer).__name__} in it"
            )
    if not any(isinstance(layer, nn.Linear) for layer in layers):
        raise ValueError("head must contain at least one nn.Linear")
    return layers


class RecurrentModel(nn.Module):
    """What :class:`LSTMModel` and :class:`GRUModel` share: checks, embedding, packing and readout."""

    RNN: type[nn.RNNBase]
    ATTRIBUTE: str

    def __init__(self, rnn: nn.Module, head: nn.Module, embedding: nn.Module | None = None,
                 readout: str = "last"):
        super().__init__()
        self._check(rnn, head, embedding, readout)
        setattr(self, self.ATTRIBUTE, rnn)
        self.head = head
        self.embedding = embedding
        self.readout = readout

    def check(self) -> "RecurrentModel":
        """Check the parts again (the explainers do, at every call: a model may be edited) and return self."""
        self._check(self.recurrent, self.head, self.embedding, self.readout)
        return self

    @classmethod
    def _check(cls, rnn, head, embedding, readout) -> None:
        kind = cls.RNN.__name__
        if type(rnn) is not cls.RNN:
            raise TypeError(f"{cls.__name__} needs an nn.{kind}, got {type(rnn).__name__} "
                            "(LSTMModel takes nn.LSTM, GRUModel takes nn.GRU)")
        if getattr(rnn, "proj_size", 0):
            raise ValueError(f"an nn.{kind} with proj_size > 0 is not supported, got proj_size={rnn.proj_size}")
        layers = head_layers(head)
        if embedding is not None:
            if type(embedding) is not nn.Embedding:
                raise TypeError(f"embedding must be None or nn.Embedding, got {type(embedding).__name__}")
            if embedding.max_norm is not None:
                raise ValueError("an nn.Embedding with max_norm is not supported: it rescales its own "
                                 "weights during the forward pass")
            if embedding.embedding_dim != rnn.input_size:
                raise ValueError(f"embedding_dim ({embedding.embedding_dim}) must equal the nn.{kind}'s "
                                 f"input_size ({rnn.input_size})")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        width = rnn.hidden_size * (2 if rnn.bidirectional else 1)
        first = next(layer for layer in layers if isinstance(layer, nn.Linear))
        if first.in_features != width:
            raise ValueError(f"the head's first nn.Linear must take {width} features "
                             f"(hidden_size × directions), got in_features={first.in_features}")

    @property
    def recurrent(self) -> nn.RNNBase:
        """The recurrent layer (``.lstm`` or ``.gru``)."""
        return getattr(self, self.ATTRIBUTE)

    @property
    def num_outputs(self) -> int:
        return next(layer for layer in reversed(head_layers(self.head)) if isinstance(layer, nn.Linear)).out_features

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) through the embedding to (B, T, E); float inputs (B, T, I) unchanged."""
        return inputs if self.embedding is None else self.embedding(inputs)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B, O) for ``readout="last"``, (B, T, O) for ``"all"``; ``inputs`` are float
        (B, T, I) or, with an embedding, token ids (B, T); ``lengths`` (B,) or None (full rows)."""
        return self.forward_embedded(self.embed(inputs), lengths)

    def forward_embedded(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`forward` from the recurrent layer's inputs ``x`` (B, T, I) on."""
        rnn = self.recurrent
        steps = x.shape[1]
        if not rnn.batch_first:
            x = x.transpose(0, 1)
        if lengths is not None:
            x = pack_padded_sequence(x, lengths.cpu(), batch_first=rnn.batch_first, enforce_sorted=False)
        out, state = rnn(x)
        if self.readout == "last":
            h_n = state[0] if isinstance(state, tuple) else state         # (L·D, B, H)
            directions = 2 if rnn.bidirectional else 1
            return self.head(torch.cat(list(h_n[-directions:]), dim=-1))
        if lengths is not None:
            out, _ = pad_packed_sequence(out, batch_first=rnn.batch_first, total_length=steps)
        if not rnn.batch_first:
            out = out.transpose(0, 1)
        return self.head(out)


class LSTMModel(RecurrentModel):
    """A user's ``nn.LSTM`` with a head, and optionally an ``nn.Embedding`` in front.

    Args:
        lstm: any ``nn.LSTM``: ``num_layers ≥ 1``, bidirectional or not, ``batch_first`` either way,
            with or without biases; ``proj_size > 0`` is refused.
        head: ``nn.Linear``, or an ``nn.Sequential`` of ``Linear``, ``ReLU``, ``Tanh``, ``Sigmoid``,
            ``Identity`` and ``Dropout``, taking ``D·H`` features.
        embedding: None (float inputs) or an ``nn.Embedding`` (token-id inputs).
        readout: ``"last"`` or ``"all"`` (see the module docstring).
    """

    RNN = nn.LSTM
    ATTRIBUTE = "lstm"

    def __init__(self, lstm: nn.LSTM, head: nn.Module, embedding: nn.Embedding | None = None,
                 readout: str = "last"):
        super().__init__(lstm, head, embedding, readout)


class GRUModel(RecurrentModel):
    """The same as :class:`LSTMModel` for an ``nn.GRU`` (attribute ``.gru``)."""

    RNN = nn.GRU
    ATTRIBUTE = "gru"

    def __init__(self, gru: nn.GRU, head: nn.Module, embedding: nn.Embedding | None = None,
                 readout: str = "last"):
        super().__init__(gru, head, embedding, readout)


class LSTMClassifier(LSTMModel):
    """The one-layer case: ``nn.LSTM(input_size, hidden_size, batch_first=True)`` and ``nn.Linear`` on
    the last hidden state. ``forward(x)``: ``x`` (B, T, I) → scores (B, O), from zero initial states."""

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
        super().__init__(nn.LSTM(input_size, hidden_size, batch_first=True), nn.Linear(hidden_size, num_outputs))
