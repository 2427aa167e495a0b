"""Models and inputs that put an attribution method's properties to the test (chapter 12).

Sundararajan, Taly & Yan (2017) ask of an attribution ``φ`` of ``f(x)`` against a baseline ``x^b``:

* **dummy**: a variable ``f`` does not depend on gets 0;
* **symmetry**: two variables ``f`` treats alike, with equal values in ``x`` and in ``x^b``, get equal
  attributions;
* **linearity**: the attributions of ``α f₁ + β f₂`` are ``α φ(f₁) + β φ(f₂)``;
* **sensitivity**: when ``x`` and ``x^b`` differ in one variable only and ``f(x) ≠ f(x^b)``, that
  variable gets a non-zero attribution.

The builders make, from any family member, a model and inputs in which the answer is known:

* :func:`embedded_view`: the same modules without the embedding, so every method (and captum and
  shap) sees float inputs ``(B, T, E)``;
* :func:`with_probe_features`: two input features appended: a *dummy* (zero weights, filled with
  noise) and a *twin* of feature 0 (the same weight column, the same values), and a *null step* at
  which only the dummy differs from the baseline;
* :func:`combined_head`: one output ``Σ_o c_o f_o + shift`` from the model's outputs;
* :func:`single_step_inputs`: the baseline with one step of the input put back.

The measures run a method on them and return how far it is from the property (0: it holds). A
method is a callable ``explain(model, inputs, baselines, target)`` returning ``(B, T, I)`` (per
feature) or ``(B, T)`` (per step); ``target`` is an output index.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ..models import GRUModel, LSTMModel, RecurrentModel, head_layers
from ..perturbation import model_scores

__all__ = ["Probe", "combined_head", "embedded_view", "linearity_violation", "probe_violations", "sensitivity_shares",
           "single_step_inputs", "with_probe_features"]


def _rebuild(model: RecurrentModel, rnn, head, embedding) -> RecurrentModel:
    """An :class:`LSTMModel` or :class:`GRUModel` (whichever ``model`` is) from the given parts."""
    kind = LSTMModel if model.RNN is nn.LSTM else GRUModel
    return kind(rnn, head, embedding, model.readout).eval()


def embedded_view(model: RecurrentModel) -> RecurrentModel:
    """The model from its recurrent layer's inputs on: the same ``nn.LSTM``/``nn.GRU`` and head (shared,
    not copied) without the embedding, so ``embedded_view(m)(m.embed(ids)) == m(ids)``."""
    return _rebuild(model, model.recurrent, model.head, None)


@dataclass
class Probe:
    """A model with two extra input features, and inputs and baselines for it.

    ``model`` reads ``I + 2`` features: the original ``I``, then ``dummy`` (index ``I``: zero weights,
    independent noise in the inputs and in the baselines) and ``twin`` (index ``I + 1``: feature 0's
    weight column, and feature 0's values in the inputs and in the baselines). At ``null_step`` the
    inputs equal the baselines except in the dummy feature, so the model cannot tell the step from the
    baseline's: a null player among the time steps.
    """

    model: RecurrentModel
    inputs: torch.Tensor
    baselines: torch.Tensor
    dummy: int
    twin: int
    null_step: int


def with_probe_features(model: RecurrentModel, inputs: torch.Tensor, baselines: torch.Tensor,
                        null_step: int = 1, seed: int = 0) -> Probe:
    """Append a dummy and a twin feature (see :class:`Probe`) to a float-input model.

    ``inputs`` and ``baselines``: (B, T, I) floats (use :func:`embedded_view` and ``model.embed`` for a
    model with an embedding). The dummy feature holds independent N(0, 1) noise in the inputs and in
    the baselines (seeded), so it differs between them at every step while the model ignores it. The
    twin adds a second copy of feature 0's signal, so the new model is another function than the old
    one; what the test needs is that it treats feature 0 and the twin alike.
    """
    if model.embedding is not None:
        raise ValueError("with_probe_features needs float inputs: pass embedded_view(model) and model.embed(ids)")
    rnn = model.recurrent
    size = rnn.input_size
    if inputs.dim() != 3 or inputs.shape[2] != size or baselines.shape != inputs.shape:
        raise ValueError(f"inputs and baselines must both be (B, T, {size}), got {tuple(inputs.shape)} "
                         f"and {tuple(baselines.shape)}")
    if not (isinstance(null_step, int) and 0 <= null_step < inputs.shape[1]):
        raise ValueError(f"null_step must be an int in [0, {inputs.shape[1] - 1}], got {null_step!r}")
    wider = type(rnn)(size + 2, rnn.hidden_size, num_layers=rnn.num_layers, bias=rnn.bias,
                      batch_first=rnn.batch_first, bidirectional=rnn.bidirectional).to(rnn.weight_ih_l0)
    wider.load_state_dict({name: torch.cat([p, torch.zeros_like(p[:, :1]), p[:, :1]], dim=1)   # dummy: 0, twin: column 0
                           if name.startswith("weight_ih_l0") else p for name, p in rnn.state_dict().items()})
    probe_model = _rebuild(model, wider, copy.deepcopy(model.head), None)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(2, *inputs.shape[:2], 1, generator=generator, dtype=torch.float64).to(inputs)
    probe_inputs = torch.cat([inputs, noise[0], inputs[..., :1]], dim=-1)
    probe_baselines = torch.cat([baselines, noise[1], baselines[..., :1]], dim=-1)
    keep = torch.ones(size + 2, dtype=torch.bool)
    keep[size] = False                                           # every feature but the dummy
    probe_inputs[:, null_step, keep] = probe_baselines[:, null_step, keep]
    return Probe(probe_model, probe_inputs, probe_baselines, dummy=size, twin=size + 1, null_step=null_step)


def combined_head(model: RecurrentModel, coefficients, shift: float = 0.0) -> RecurrentModel:
    """A copy of ``model`` with one output, ``Σ_o coefficients[o] · f_o + shift``.

    The head's last ``nn.Linear`` (weight ``W`` (O, ·), bias ``b``) becomes one row ``cᵀW`` with bias
    ``cᵀb + shift``; everything before it is shared in function (copied). ``coefficients``: O numbers.
    """
    coefficients = torch.as_tensor(coefficients, dtype=torch.float64)
    layers = head_layers(model.head)
    last = max(k for k, layer in enumerate(layers) if isinstance(layer, nn.Linear))
    linear = layers[last]
    if coefficients.shape != (linear.out_features,):
        raise ValueError(f"coefficients must hold one number per output ({linear.out_features}), "
                         f"got shape {tuple(coefficients.shape)}")
    row = nn.Linear(linear.in_features, 1, bias=True).to(linear.weight)
    c = coefficients.to(linear.weight)
    with torch.no_grad():
        row.weight.copy_(c @ linear.weight)
        bias = c @ linear.bias if linear.bias is not None else torch.zeros((), dtype=c.dtype)
        row.bias.fill_(float(bias) + shift)
    new_layers = [copy.deepcopy(layer) for layer in layers]
    new_layers[last] = row
    head = new_layers[0] if len(new_layers) == 1 else nn.Sequential(*new_layers)
    return _rebuild(model, copy.deepcopy(model.recurrent), head, copy.deepcopy(model.embedding))


def single_step_inputs(inputs: torch.Tensor, baselines: torch.Tensor, step: int) -> torch.Tensor:
    """The baselines (B, T, ...) with step ``step`` taken from ``inputs``: input and baseline then
    differ in that one step only (the setting of the sensitivity axiom)."""
    if inputs.shape != baselines.shape:
        raise ValueError(f"inputs and baselines must have the same shape, got {tuple(inputs.shape)} and "
                         f"{tuple(baselines.shape)}")
    if not (isinstance(step, int) and -inputs.shape[1] <= step < inputs.shape[1]):
        raise ValueError(f"step must be an int in [0, {inputs.shape[1] - 1}], got {step!r}")
    mixed = baselines.clone()
    mixed[:, step] = inputs[:, step]
    return mixed


# ----------------------------------------------------------------------------- measures

def _per_step(attributions: torch.Tensor) -> torch.Tensor:
    return attributions if attributions.dim() == 2 else attributions.sum(-1)


def probe_violations(explain, model, inputs, baselines, target: int, seed: int = 0) -> dict:
    """Run ``explain`` on :func:`with_probe_features` and return the largest violations:

    * ``"dummy"``: ``max |φ|`` over the dummy feature and over the null step (summed over features);
    * ``"symmetry"``: ``max |φ_twin − φ_0|``, or None for a method that returns one value per step.
    """
    probe = with_probe_features(model, inputs, baselines, seed=seed)
    phi = explain(probe.model, probe.inputs, probe.baselines, target)
    dummy = _per_step(phi)[:, probe.null_step].abs().max().item()
    if phi.dim() == 2:
        return {"dummy": dummy, "symmetry": None}
    dummy = max(dummy, phi[..., probe.dummy].abs().max().item())
    return {"dummy": dummy, "symmetry": (phi[..., probe.twin] - phi[..., 0]).abs().max().item()}


def linearity_violation(explain, model, inputs, baselines, coefficients, shift: float = 0.0) -> float:
    """``max |φ(Σ_o c_o f_o + shift) − Σ_o c_o φ(f_o)|``: the attributions of a combined head against
    the combination of each output's attributions (see :func:`combined_head`)."""
    combined = explain(combined_head(model, coefficients, shift), inputs, baselines, 0)
    parts = sum(c * explain(model, inputs, baselines, o) for o, c in enumerate(coefficients))
    return (combined - parts).abs().max().item()


def sensitivity_shares(explain, model, inputs, baselines, target: int, step: int) -> torch.Tensor:
    """The share ``φ_step / (f(x') − f(x^b))`` (B,) that ``explain`` gives to the one step in which
    ``x' =`` :func:`single_step_inputs` differs from the baselines. Sensitivity asks for a non-zero share
    wherever the output changed; a complete method gives exactly 1. Rows whose output did not change
    are refused (the share would be 0 / 0)."""
    single = single_step_inputs(inputs, baselines, step)
    with torch.no_grad():
        change = model_scores(model, single, target) - model_scores(model, baselines, target)
    if (change == 0).any():
        raise ValueError(f"the output does not change in rows {(change == 0).nonzero().flatten().tolist()}: "
                         "sensitivity says nothing there; choose other inputs or another step")
    return _per_step(explain(model, single, baselines, target))[:, step] / change
