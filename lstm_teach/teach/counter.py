"""Hand-set counters of ``'a'`` in strings over ``{'a', 'b'}``: an LSTM (chapter 2) and a GRU (chapter 10).

The LSTM: seed 2's reading of ``c_t`` as a counter.

Seed 2 notes that the candidate ``g_t = tanh(·)`` lies in [−1, 1], so an update of the cell state
``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t`` (eq. 4) adds at most one. Saturate the gates and it adds
exactly (almost) one:

* input gate ``i_t = σ(s) ≈ 1`` and forget gate ``f_t = σ(s) ≈ 1`` at every step (biases ``s``);
* candidate ``g_t = tanh(s) ≈ 1`` when ``x_t`` is the symbol ``'a'`` and ``tanh(0) = 0`` for ``'b'``;
* output gate ``o_t = σ(s) ≈ 1``; every recurrent weight ``W_h*`` is zero.

Then ``c_t`` is the number of ``'a'`` among ``x_1 … x_t``, up to a relative error of a few
``σ(−s) ≈ e^{−s}`` per step, and ``h_t ≈ tanh(c_t)``.

The GRU (:func:`counter_gru`) has no cell state, and its ``h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}`` (eq. G4)
is a convex combination of ``h_{t-1}`` and ``n_t ∈ (−1, 1)``: one unit cannot count without bound. It
counts on a saturating scale instead, ``h = 1 − (1 − δ)^n`` after ``n`` symbols ``'a'``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..models import GRUModel, LSTMClassifier

__all__ = ["COUNTER_SYMBOLS", "counter_gru", "counter_inputs", "counter_lstm"]

COUNTER_SYMBOLS = ("a", "b")
"""The counter's alphabet; symbol ``k`` is the one-hot vector with a 1 at position ``k``."""


def counter_lstm(scale: float = 20.0, dtype: torch.dtype = torch.float64) -> LSTMClassifier:
    """An :class:`LSTMClassifier` (input 2, hidden 1, one output) whose cell state counts ``'a'``.

    Args:
        scale: ``s``, the saturating pre-activation: biases of the input, forget and output gates,
            and the candidate's weight from ``'a'``. Each step keeps the count up to a factor
            ``σ(s)`` and adds ``σ(s) tanh(s)`` for an ``'a'``, so after ``T`` steps with ``n``
            symbols ``'a'`` the count ``c_T`` lies within ``n · (T + 2) · e^{−s}`` of ``n``.
        dtype: of the weights (float64 by default, for the notebooks' checks).

    Returns:
        the model; inputs are one-hot ``(B, T, 2)`` (see :func:`counter_inputs`). The head reads
        ``h_T`` with weight 1 and bias 0, so the score is ``h_T = o_T tanh(c_T) ≈ tanh(n)``: it
        grows with the count and saturates after a few ``'a'``. Read the count itself from the
        trace: ``lstm_forward(x, LSTMWeights.from_torch(model.lstm)).c``.
    """
    _check_number("scale", scale, 0.0, math.inf)
    model = LSTMClassifier(len(COUNTER_SYMBOLS), 1, 1).to(dtype)
    lstm = model.lstm
    with torch.no_grad():
        for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0):
            p.zero_()
        # rows of the stacked weights: 0 = i, 1 = f, 2 = g, 3 = o (hidden size 1)
        lstm.bias_ih_l0[[0, 1, 3]] = scale                         # i, f, o ≈ 1
        lstm.weight_ih_l0[2, COUNTER_SYMBOLS.index("a")] = scale   # g ≈ 1 for 'a', 0 for 'b'
        model.head.weight.fill_(1.0)
        model.head.bias.zero_()
    return model


def counter_gru(rate: float = 0.5, scale: float = 20.0, dtype: torch.dtype = torch.float64) -> GRUModel:
    """A :class:`GRUModel` (input 2, hidden 1, one output) whose hidden state counts ``'a'`` on the scale
    ``1 − (1 − δ)^n``: each ``'a'`` closes the fraction ``δ`` of the gap between ``h`` and 1.

    With ``s = scale`` (rows of the stacked weights: r, z, n; every recurrent weight and the reset gate zero):

    * update gate (eq. G2): bias ``s`` and weight ``logit(1 − δ) − s`` from ``'a'``, so ``z_t = σ(s) ≈ 1``
      for ``'b'`` (keep ``h``) and ``z_t = 1 − δ`` for ``'a'``;
    * candidate (eq. G3): weight ``s`` from ``'a'``, so ``n_t = tanh(s) ≈ 1`` for ``'a'`` and ``0`` for ``'b'``.

    Then (eq. G4) an ``'a'`` gives ``h_t = (1 − δ) h_{t-1} + δ tanh(s)`` and a ``'b'`` ``h_t = σ(s) h_{t-1}``.

    Args:
        rate: ``δ`` in (0, 1).
        scale: ``s > 0``; after ``T`` steps with ``n`` symbols ``'a'``, ``h_T`` lies in
            ``[1 − (1 − δ)^n − T e^{−s}, 1 − (1 − δ)^n]`` (each step falls short by at most ``e^{−s}``:
            ``1 − σ(s) ≤ e^{−s}`` and ``1 − tanh(s) ≤ 2 e^{−2s}``; both updates shrink earlier errors).
        dtype: of the weights (float64 by default, for the notebooks' checks).

    Returns:
        the model; inputs are one-hot ``(B, T, 2)`` (see :func:`counter_inputs`). The head reads ``h_T``
        with weight 1 and bias 0, so the score is ``h_T``; the count is ``log(1 − h_T) / log(1 − δ)``.
    """
    _check_number("rate", rate, 0.0, 1.0)
    _check_number("scale", scale, 0.0, math.inf)
    model = GRUModel(nn.GRU(len(COUNTER_SYMBOLS), 1, batch_first=True), nn.Linear(1, 1)).to(dtype).eval()
    gru, a = model.gru, COUNTER_SYMBOLS.index("a")
    with torch.no_grad():
        for p in gru.parameters():
            p.zero_()
        gru.bias_ih_l0[1] = scale                                             # z ≈ 1: keep h
        gru.weight_ih_l0[1, a] = math.log((1 - rate) / rate) - scale          # z = 1 − δ for 'a'
        gru.weight_ih_l0[2, a] = scale                                        # n ≈ 1 for 'a', 0 for 'b'
        model.head.weight.fill_(1.0)
        model.head.bias.zero_()
    return model


def _check_number(name: str, value, low: float, high: float) -> None:
    """``value`` must be a real number strictly between ``low`` and ``high``."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and low < value < high):
        bounds = f"> {low:g}" if high == math.inf else f"in ({low:g}, {high:g})"
        raise ValueError(f"{name} must be a number {bounds}, got {value!r}")


def counter_inputs(sequences, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """One-hot inputs ``(B, T, 2)`` for a string of ``'a'``/``'b'`` (B = 1) or a list of equal-length strings."""
    if isinstance(sequences, str):
        sequences = [sequences]
    sequences = list(sequences)
    if not sequences or any(not isinstance(s, str) or not s for s in sequences):
        raise ValueError("sequences must be a non-empty string or a list of non-empty strings")
    if len({len(s) for s in sequences}) != 1:
        raise ValueError(f"sequences must have equal lengths, got {sorted({len(s) for s in sequences})}")
    bad = sorted({ch for s in sequences for ch in s} - set(COUNTER_SYMBOLS))
    if bad:
        raise ValueError(f"sequences may only contain {COUNTER_SYMBOLS}, got {bad}")
    index = torch.tensor([[COUNTER_SYMBOLS.index(ch) for ch in s] for s in sequences])
    return torch.nn.functional.one_hot(index, len(COUNTER_SYMBOLS)).to(dtype)
