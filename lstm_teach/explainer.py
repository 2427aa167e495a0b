"""What every sequence explainer shares: the model it accepts and the checks of ``attribute``'s arguments.

The calling convention is captum's: ``attribute(inputs, baselines=None, target=None, ...)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import as_tensor, baseline_like, check_finite, check_same_kind, check_shape
from .lstm import LSTMWeights

__all__ = ["LSTMExplainer"]


def check_model(model: nn.Module) -> nn.Module:
    """Accept a module with ``.lstm`` (one layer, one direction, ``batch_first=True``, no projection)
    and ``.head`` (``nn.Linear`` on the last hidden state), like :class:`LSTMClassifier`."""
    lstm, head = getattr(model, "lstm", None), getattr(model, "head", None)
    if not isinstance(lstm, nn.LSTM) or not isinstance(head, nn.Linear):
        raise TypeError(
            "model must have .lstm (nn.LSTM) and .head (nn.Linear) like LSTMClassifier, got "
            f"{type(model).__name__} with lstm={type(lstm).__name__}, head={type(head).__name__}"
        )
    supported = lstm.num_layers == 1 and not lstm.bidirectional and lstm.batch_first and lstm.proj_size == 0
    if not supported:
        raise ValueError(
            "model.lstm must be a one-layer, one-direction nn.LSTM with batch_first=True and no "
            f"projection, got num_layers={lstm.num_layers}, bidirectional={lstm.bidirectional}, "
            f"batch_first={lstm.batch_first}, proj_size={lstm.proj_size}"
        )
    if head.in_features != lstm.hidden_size:
        raise ValueError(
            f"model.head must take the hidden state (in_features = {lstm.hidden_size}), "
            f"got in_features = {head.in_features}"
        )
    return model


class LSTMExplainer:
    """Base of the sequence explainers. ``model``: see :func:`check_model`.

    The weights are read at every call, so an explainer follows a model that is being edited.
    """

    def __init__(self, model: nn.Module):
        self.model = check_model(model)

    def _weights(self) -> tuple[LSTMWeights, torch.Tensor, torch.Tensor]:
        """The LSTM's weights and the head's ``(weight (O, H), bias (O,))``, detached."""
        head = self.model.head
        bias = head.bias.detach() if head.bias is not None else head.weight.new_zeros(head.out_features)
        return LSTMWeights.from_torch(self.model.lstm), head.weight.detach(), bias

    def _inputs(self, inputs, baselines) -> tuple[torch.Tensor, torch.Tensor]:
        """Check ``inputs`` (B, T, I) and ``baselines`` (broadcastable: (B, T, I), (T, I), (I,)…; zeros when None)."""
        lstm = self.model.lstm
        x = as_tensor("inputs", inputs)
        check_shape("inputs", x, f"(B, T, I) with I = {lstm.input_size}",
                    x.dim() == 3 and x.shape[2] == lstm.input_size and x.shape[0] > 0 and x.shape[1] > 0)
        check_same_kind("inputs", x, "the model's weights", lstm.weight_ih_l0)
        check_finite("inputs", x)
        return x, baseline_like("baselines", baselines, "inputs", x)

    def _target(self, target, batch: int) -> torch.Tensor:
        """``target`` as a (B,) index tensor; it may be omitted when the head has one output."""
        outputs = self.model.head.out_features
        device = self.model.head.weight.device
        if target is None:
            if outputs != 1:
                raise ValueError(f"target must be given when the model has {outputs} outputs, got None")
            return torch.zeros(batch, dtype=torch.long, device=device)
        if isinstance(target, int) and not isinstance(target, bool):
            target = torch.full((batch,), target, dtype=torch.long, device=device)
        elif isinstance(target, torch.Tensor) and not target.is_floating_point() and target.dtype != torch.bool:
            target = target.to(device=device, dtype=torch.long).reshape(-1)
            check_shape("target", target, f"() or ({batch},)", target.numel() in (1, batch))
            target = target.expand(batch)
        else:
            raise TypeError(f"target must be an int or an integer tensor of shape ({batch},), got {target!r}")
        if ((target < 0) | (target >= outputs)).any():
            raise ValueError(f"target must lie in [0, {outputs - 1}], got {target.tolist()}")
        return target
