"""The model every attribution class explains: one LSTM layer and a linear head on ``h_T``."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LSTMClassifier"]


class LSTMClassifier(nn.Module):
    """``nn.LSTM`` (one layer, ``batch_first=True``) followed by ``nn.Linear`` on the last hidden state.

    ``forward(x)``: ``x`` (B, T, I) → scores (B, O), from zero initial states.
    """

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])
