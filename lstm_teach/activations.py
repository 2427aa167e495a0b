"""Activations by name, their derivatives, and DeepLift's rescale multiplier.

The multiplier is the one number DeepLift's rescale rule (seed eq. 12) needs per neuron: how much
the activation moved per unit of pre-activation on the way from the baseline to the input,

    m = (act(z) − act(z_b)) / (z − z_b).

Computed as written, the quotient loses its digits when ``z`` is close to ``z_b`` (the difference of
two nearly equal activations divided by a tiny number) and is 0/0 at ``z = z_b``. For tanh and σ an
identity removes the cancellation: with ``d = z − z_b``,

    tanh(z) − tanh(z_b) = (1 − tanh z · tanh z_b) · tanh(d)                      (tanh)
    σ(z) − σ(z_b)       = (σ(z) + σ(z_b) − 2 σ(z) σ(z_b)) · tanh(d / 2)          (σ(x) = (1 + tanh(x/2)) / 2)

so ``m`` is a well-conditioned prefactor times ``tanh(d)/d`` (or ``tanh(d/2)/d``), which is accurate to
rounding for every ``d`` and tends to 1 (½) as ``d → 0``; at ``d = 0`` that limit is used, and ``m``
is the derivative ``act'(z)``. ReLU and the identity are piecewise linear: their quotient has no
cancellation, and at ``d = 0`` the derivative is used. The result is finite for finite inputs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

__all__ = ["Activation", "ACTIVATIONS", "RELU", "get_activation", "rescale_multiplier", "rescale_from_values"]


class Activation(NamedTuple):
    """An elementwise activation ``fn``, its derivative ``grad``, and ``secant(z, z_b, y, y_b)``: the rescale
    multiplier from the pre-activations and the activations ``y = fn(z)``, ``y_b = fn(z_b)``."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    grad: Callable[[torch.Tensor], torch.Tensor]
    secant: Callable[..., torch.Tensor]


def _tanh_grad(z: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(z) ** 2


def _sigmoid_grad(z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return s * (1 - s)


def _tanh_secant(z, z_b, y, y_b) -> torch.Tensor:
    """``(1 − y y_b) · tanh(d) / d``, the limit 1 of ``tanh(d)/d`` at ``d = 0``."""
    d = torch.sub(z, z_b)
    return torch.tanh(d).div_(d).nan_to_num_(nan=1.0).mul_(torch.mul(y, y_b).neg_().add_(1))


def _sigmoid_secant(z, z_b, y, y_b) -> torch.Tensor:
    """``(y + y_b − 2 y y_b) · tanh(d/2) / d``, the limit ½ of ``tanh(d/2)/d`` at ``d = 0``."""
    d = torch.sub(z, z_b)
    return torch.mul(d, 0.5).tanh_().div_(d).nan_to_num_(nan=0.5).mul_(torch.add(y, y_b).addcmul_(y, y_b, value=-2))


def _piecewise_linear_secant(grad):
    """The plain quotient (exact up to rounding for a piecewise linear activation), ``grad(z)`` at ``z = z_b``."""
    def secant(z, z_b, y, y_b):
        d = z - z_b
        return torch.where(d == 0, grad(z.expand_as(d)), (y - y_b) / d)
    return secant


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(torch.tanh, _tanh_grad, _tanh_secant),
    "sigmoid": Activation(torch.sigmoid, _sigmoid_grad, _sigmoid_secant),
    "identity": Activation(lambda z: z, torch.ones_like,
                           lambda z, z_b, y, y_b: torch.ones_like(torch.broadcast_tensors(z, z_b)[0])),
}
"""The activations of chapter 1's dense layers, by name."""

_relu_grad = lambda z: (z > 0).to(z.dtype)   # noqa: E731 (the derivative at 0 taken as 0)
RELU = Activation(torch.relu, _relu_grad, _piecewise_linear_secant(_relu_grad))
"""ReLU, which a model's head may use."""


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

    Shapes: ``z`` and ``z_b`` broadcast together; the result has their broadcast shape. Computed
    without cancellation (see the module docstring); where ``z == z_b`` it is the derivative
    ``act'(z)``, the limit of the quotient (captum and shap switch to a gradient there too). Never NaN
    for finite inputs.
    """
    return rescale_from_values(act, act.fn(z), act.fn(z_b), z, z_b)


def rescale_from_values(act: Activation, value, value_b, z, z_b) -> torch.Tensor:
    """:func:`rescale_multiplier` when ``value = act(z)`` and ``value_b = act(z_b)`` are at hand (a forward
    pass has computed them); same shapes, same accuracy."""
    return act.secant(z, z_b, value, value_b)
