"""Exact Shapley values with the time steps of a sequence as the players.

A coalition ``S`` of steps plays the sequence whose step ``t`` is ``x_t`` for ``t ∈ S`` and the
baseline's step otherwise; its value is the model's score. With ``T`` steps that is ``2^T``
sequences per row, all run through the model in chunks, and one matrix product
(:func:`lstm_teach.shapley.shapley_matrix`) turns their scores into the ``T`` Shapley values.
"""

from __future__ import annotations

import torch

from .explainer import LSTMExplainer
from .shapley import check_players, coalitions, shapley_matrix

__all__ = ["TimeStepShapley"]


class TimeStepShapley(LSTMExplainer):
    """Shapley values of the time steps of an :class:`LSTMClassifier`'s input.

    Args:
        model: one LSTM layer and a linear head (see :class:`LSTMClassifier`).
        chunk_size: sequences per forward pass (bounds memory, not the result).
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
        masks = coalitions(steps, x.device)                              # (2^T, T)
        scores = []
        for part in masks.split(max(1, self.chunk_size // batch)):
            played = torch.where(part[:, None, :, None], x, x_b)         # (chunk, B, T, I)
            out = self.model(played.flatten(0, 1)).unflatten(0, part.shape[:1] + (batch,))
            scores.append(out.gather(2, target.expand(len(part), batch).unsqueeze(2)).squeeze(2))
        values = torch.cat(scores).T                                     # (B, 2^T)
        return values @ shapley_matrix(steps, values.dtype, values.device)
