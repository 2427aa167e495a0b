"""Activations by name, their derivatives, and DeepLift's rescale multiplier.

The multiplier is the one number DeepLift's rescale rule (seed eq. 12) needs per neuron: how much
the activation moved per unit of pre-activation on the way from the baseline to the input.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

__all__ = ["Activation", "ACTIVATIONS", "RELU", "get_activation", "rescale_multiplier", "rescale_from_values"]


class Activation(NamedTuple):
    """An elementwise activation ``fn`` and its derivative ``grad``."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    grad: Callable[[torch.Tensor], torch.Tensor]


def _tanh_grad(z: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(z) ** 2


def _sigmoid_grad(z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return s * (1 - s)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(torch.tanh, _tanh_grad),
    "sigmoid": Activation(torch.sigmoid, _sigmoid_grad),
    "identity": Activation(lambda z: z, torch.ones_like),
}
"""The activations of chapter 1's dense layers, by name."""

RELU = Activation(torch.relu, lambda z: (z > 0).to(z.dtype))
"""ReLU, which a model's head may use (its derivative at 0 taken as 0)."""


def get_activation(name: str) -> Activation:
    """Look up an activation by name: ``"tanh"``, ``"sigmoid"`` or ``"identity"``."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}"
        ) from None


def rescale_multiplier(act: Activation, z: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """DeepLift's rescale multiplier ``(act(z) - act(z_b)) / (z - z_b)`` (seed eq. 12), elementwise.

    Shapes: ``z`` and ``z_b`` broadcast together; the result has their broadcast shape.

    Where ``|z - z_b| < sqrt(finfo.eps)`` (1.5e-8 in float64, 3.5e-4 in float32) the quotient would
    lose most of its digits to cancellation, and at ``z == z_b`` it is 0/0. There the derivative at
    the midpoint, ``act'((z + z_b) / 2)``, is used: it equals the quotient up to a term of order
    ``(z - z_b)**2``, and it is the derivative ``act'(z)`` when ``z == z_b`` (captum and shap switch
    to a derivative below a threshold too). The result is finite for finite inputs.
    """
    return rescale_from_values(act, act.fn(z), act.fn(z_b), z, z_b)


def rescale_from_values(act: Activation, value, value_b, z, z_b) -> torch.Tensor:
    """:func:`rescale_multiplier` when ``value = act(z)`` and ``value_b = act(z_b)`` are at hand
    (a forward pass has computed them); same shapes and the same treatment of ``z ≈ z_b``."""
    dz = z - z_b
    near = dz.abs() < torch.finfo(dz.dtype).eps ** 0.5
    secant = (value - value_b) / torch.where(near, torch.ones_like(dz), dz)
    if near.any():
        secant = torch.where(near, act.grad((z + z_b) / 2), secant)
    return secant
