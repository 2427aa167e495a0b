"""What every sequence explainer shares: the models it accepts and the checks of ``attribute``'s arguments.

The calling convention is captum's: ``attribute(inputs, baselines=None, target=None, ...)``, and
``has_convergence_delta()`` says whether ``return_convergence_delta=True`` is offered.

Arguments, for a model with B rows of T steps (see :mod:`lstm_teach.models`):

* ``inputs``: floats (B, T, I); or token ids (B, T) when the model has an embedding.
* ``baselines``: for floats, anything that broadcasts to (B, T, I) (zeros when None). For tokens,
  ids that broadcast to (B, T) — one id such as a pad id (an int), a (T,) sentence, or (B, T) —, or
  embedding vectors broadcasting to (B, T, E); None means the zero embedding.
* ``target``: the explained output. ``readout="last"``: an int or (B,) tensor (may be omitted with
  one output). ``readout="all"``: a ``(t, o)`` tuple, as in captum, or a (B, 2) tensor of rows ``(t, o)``.
* ``lengths``: None (full rows) or (B,) integers in [1, T]. Steps at or past a row's length get
  exactly zero attribution, and the row's result equals that of the row alone, truncated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .checks import as_tensor, baseline_like, broadcasts_to, check_finite, check_same_kind, check_shape
from .models import RecurrentModel

__all__ = ["Explainer", "Batch", "check_model"]


def check_model(model: nn.Module) -> RecurrentModel:
    """Accept an :class:`~lstm_teach.models.LSTMModel`, :class:`~lstm_teach.models.GRUModel` or
    :class:`~lstm_teach.models.LSTMClassifier`; refuse anything else, naming what is supported."""
    if not isinstance(model, RecurrentModel):
        raise TypeError(
            "model must be an LSTMModel(lstm, head, embedding=None, readout='last'), a GRUModel or an "
            f"LSTMClassifier (wrap your nn.LSTM / nn.GRU, head and nn.Embedding in one), got {type(model).__name__}"
        )
    return model.check()


@dataclass
class Batch:
    """Checked arguments: ``x`` and ``x_ref`` (B, T, I) at the recurrent layer's input (embedded tokens),
    ``lengths`` (B,), ``target`` (B,), ``target_step`` (B,) or None, and whether the inputs were tokens."""

    x: torch.Tensor
    x_ref: torch.Tensor
    lengths: torch.Tensor
    target: torch.Tensor
    target_step: torch.Tensor | None
    tokens: bool

    def per_input(self, attributions: torch.Tensor) -> torch.Tensor:
        """(B, T, I) → the shape of the inputs: (B, T) per token (summed over the embedding) for ids."""
        return attributions.sum(-1) if self.tokens else attributions

    def references(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The distinct reference rows (K, T, I) and, per input row, the index of its own (B,). Rows that share
        their baseline and their length share a reference row, so the forward runs over B + K rows: K = 1
        for one baseline and equal lengths, one row per length for a shared baseline and ragged lengths."""
        batch = self.x.shape[0]
        if not bool((self.x_ref == self.x_ref[:1]).all()):
            return self.x_ref, torch.arange(batch, device=self.x.device)
        if bool((self.lengths == self.lengths[0]).all()):
            return self.x_ref[:1], torch.zeros_like(self.lengths)
        distinct, index = torch.unique(self.lengths, return_inverse=True)
        first = torch.full_like(distinct, batch).scatter_reduce_(0, index, torch.arange(batch, device=index.device), "amin")
        return self.x_ref[first], index


class Explainer:
    """Base of the sequence explainers. ``model``: see :func:`check_model`.

    The weights are read at every call, so an explainer follows a model that is being edited. The model
    is explained as it computes in eval mode (dropout off), from zero initial states.
    """

    def __init__(self, model: nn.Module):
        self.model = check_model(model)

    def has_convergence_delta(self) -> bool:
        return False

    def attribute(self, inputs, *args, **kwargs):
        raise NotImplementedError

    # ------------------------------------------------------------------ argument checks

    def _batch(self, inputs, baselines=None, target=None, lengths=None) -> Batch:
        model = self.model
        reference = model.recurrent.weight_ih_l0
        tokens = model.embedding is not None
        if tokens:
            ids = self._ids("inputs", inputs)
            x = model.embedding.weight.detach()[ids]
            x_ref = self._token_baselines(baselines, ids, x)
        else:
            x = as_tensor("inputs", inputs)
            size = model.recurrent.input_size
            check_shape("inputs", x, f"(B, T, I) with I = {size}",
                        x.dim() == 3 and x.shape[2] == size and x.shape[0] > 0 and x.shape[1] > 0)
            check_same_kind("inputs", x, "the model's weights", reference)
            check_finite("inputs", x)
            x_ref = baseline_like("baselines", baselines, "inputs", x)
        batch, steps = x.shape[:2]
        lengths = self._lengths(lengths, batch, steps, x.device)
        target_step, target = self._target(target, lengths)
        return Batch(x, x_ref, lengths, target, target_step, tokens)

    def _ids(self, name: str, ids) -> torch.Tensor:
        embedding = self.model.embedding
        if not isinstance(ids, torch.Tensor) or ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            got = ids.dtype if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise TypeError(f"{name} must be token ids, an integer tensor (B, T), for a model with an "
                            f"embedding, got {got}")
        check_shape(name, ids, "(B, T) with B, T ≥ 1", ids.dim() == 2 and ids.shape[0] > 0 and ids.shape[1] > 0)
        if ids.device != embedding.weight.device:
            raise ValueError(f"{name} must be on the embedding's device ({embedding.weight.device}), got {ids.device}")
        if ((ids < 0) | (ids >= embedding.num_embeddings)).any():
            raise ValueError(f"{name} must be ids in [0, {embedding.num_embeddings - 1}], got values from "
                             f"{ids.min().item()} to {ids.max().item()}")
        return ids

    def _token_baselines(self, baselines, ids, x) -> torch.Tensor:
        """Token baselines: ids (one, or ids's shape), embedding vectors, or None (the zero embedding)."""
        if baselines is None:
            return torch.zeros_like(x)
        if isinstance(baselines, int) and not isinstance(baselines, bool):
            baselines = torch.tensor(baselines, device=ids.device)
        if isinstance(baselines, torch.Tensor) and not baselines.is_floating_point():
            check_shape("baselines", baselines, f"broadcastable to the ids {tuple(ids.shape)} (token ids)",
                        broadcasts_to(baselines.shape, ids.shape))
            return self.model.embedding.weight.detach()[self._ids("baselines", baselines.expand_as(ids))]
        return baseline_like("baselines", baselines, "the embedded inputs", x)

    @staticmethod
    def _lengths(lengths, batch: int, steps: int, device) -> torch.Tensor:
        if lengths is None:
            return torch.full((batch,), steps, dtype=torch.long, device=device)
        if not isinstance(lengths, torch.Tensor) or lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise TypeError(f"lengths must be None or an integer tensor of shape ({batch},), got {lengths!r}")
        check_shape("lengths", lengths, f"({batch},)", lengths.shape == (batch,))
        if ((lengths < 1) | (lengths > steps)).any():
            raise ValueError(f"lengths must lie in [1, T = {steps}], got {lengths.tolist()}")
        return lengths.to(device=device, dtype=torch.long)

    def _outputs(self, target, batch: int, device) -> torch.Tensor:
        """An output index per row, (B,); may be omitted when the head has one output."""
        outputs = self.model.num_outputs
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

    def _target(self, target, lengths: torch.Tensor):
        """``(target_step (B,) or None, output (B,))`` for the model's readout."""
        batch, device = lengths.shape[0], lengths.device
        if self.model.readout == "last":
            if isinstance(target, tuple):
                raise TypeError("a (t, o) target needs readout='all'; this model reads out its last states, "
                                f"so target must be an int or a ({batch},) tensor, got {target!r}")
            return None, self._outputs(target, batch, device)
        if isinstance(target, tuple) and len(target) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                   for v in target):
            step = torch.full((batch,), target[0], dtype=torch.long, device=device)
            output = target[1]
        elif isinstance(target, torch.Tensor) and not target.is_floating_point() and target.dtype != torch.bool:
            check_shape("target", target, f"({batch}, 2): rows (t, o)", target.shape == (batch, 2))
            step, output = target[:, 0].to(device=device, dtype=torch.long), target[:, 1]
        else:
            raise TypeError("for readout='all', target must be a (t, o) tuple of ints or a "
                            f"({batch}, 2) integer tensor, got {target!r}")
        if ((step < 0) | (step >= lengths)).any():
            raise ValueError(f"the target step t must lie in [0, length − 1] of each row (lengths "
                             f"{lengths.tolist()}), got {step.tolist()}")
        return step, self._outputs(output, batch, device)
