"""Rules as small objects: what each method does at a nonlinearity, a product and a linear map.

Every attribution method of the package runs the same backward sweep of *multipliers*: a number
``m`` per neuron, chained like a gradient, with the local derivative of each node replaced by a
rule's coefficient. The attribution of an input is ``m_x · (x − x_ref)``. A method is a choice of
three rules and a reference:

================  =======================================  ======================================
node              DeepLift (reference: the baseline)       LRP-ε (reference: zero)
================  =======================================  ======================================
``y = act(z)``    :class:`Rescale`: ``Δy / Δz`` (eq. 12)   :class:`PassThrough`: ``y / z``, so
                                                           relevance passes unchanged (σ gets none)
``y = a · s``     a :class:`ProductRule`: ``"shapley"``,   :class:`SignalTakeAll`: the gate ``a``
                  ``"input"`` or ``"baseline"``            gets nothing, the signal ``s`` all
``z = Σ terms+b`` :class:`Plain`: the weights              :class:`Epsilon`: ``× z / (z + ε·sign z)``
================  =======================================  ======================================

Why LRP fits the same sweep: write a relevance as a multiplier times the neuron's value,
``R = m · a`` (LRP's reference is zero). Then LRP's "relevance passes through tanh unchanged" is
``m_z = m_y · y / z``; signal-take-all at ``y = a · s`` is ``m_s = m_y · a``; and the ε-rule
``R_j = x_j Σ_k W_kj R_k / (z_k + ε sign z_k)`` is ``m_x = Wᵀ (m_z · z / (z + ε sign z))``.

Rules see the values at the input and at the reference side by side; LRP's reference values are
``None`` (all zero). Shapes broadcast: a shared baseline is one row against B input rows.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .activations import Activation, get_activation, rescale_from_values
from .epsilon import stabilize

__all__ = [
    "Rescale", "PassThrough", "ProductRule", "ShapleyProduct", "InputProduct", "BaselineProduct",
    "SignalTakeAll", "Plain", "Epsilon", "Rules", "PRODUCT_RULE_OBJECTS", "deeplift_rules", "lrp_rules",
]

_SIGMOID = get_activation("sigmoid")


# ----------------------------------------------------------------------------- nonlinearities

class Rescale:
    """DeepLift's rescale rule (seed eq. 12): ``m = (act(z) − act(z_b)) / (z − z_b)``, the derivative
    at the midpoint where ``|z − z_b| < sqrt(eps)`` (see :func:`lstm_teach.activations.rescale_multiplier`)."""

    def __call__(self, act: Activation, z, z_ref, y, y_ref) -> torch.Tensor:
        return rescale_from_values(act, y, y_ref, z, z_ref)


class PassThrough:
    """LRP at an activation: relevance passes unchanged, ``R_z = R_y``, so ``m_z = m_y · y / z``.

    That is the rescale multiplier against the reference ``z = 0`` for activations with
    ``act(0) = 0`` (tanh, ReLU, identity), and it inherits its treatment of ``z ≈ 0`` (the
    derivative there; never NaN). A sigmoid (``σ(0) = ½``) has no such reading: LRP gives a gate no
    relevance in the first place (:class:`SignalTakeAll`), so its coefficient is 0.
    """

    def __call__(self, act: Activation, z, z_ref, y, y_ref) -> torch.Tensor:
        if act is _SIGMOID:
            return torch.zeros_like(z)
        zero = torch.zeros_like(z)
        return rescale_from_values(act, y, zero, z, zero)


# ----------------------------------------------------------------------------- products

class ProductRule:
    """Splits the change of a product ``y = a · s`` (a gate ``a`` times a signal ``s``) between its
    factors, ``Δy ≈ k_a Δa + k_s Δs``, each factor's coefficient taken from its partner
    (:meth:`coefficient`). :meth:`__call__` returns ``(k_a, k_s)``."""

    name: str

    def coefficient(self, other, other_ref) -> torch.Tensor:
        """``k`` of a factor, from its partner at the input and at the reference."""
        raise NotImplementedError

    def __call__(self, a, a_ref, s, s_ref) -> tuple[torch.Tensor, torch.Tensor]:
        return self.coefficient(s, s_ref), self.coefficient(a, a_ref)


class ShapleyProduct(ProductRule):
    """The Shapley values of the two-factor game (seed eq. 20–22): the mean of the partner at input and
    baseline. Exact: ``k_a Δa + k_s Δs = Δ(a s)``."""

    name = "shapley"

    def coefficient(self, other, other_ref):
        return torch.add(other, other_ref).mul_(0.5)


class InputProduct(ProductRule):
    """The partner at the input, the gradient there: what captum's DeepLift does. Its split sums to
    ``Δ(a s) + Δa Δs``, since ``Δ(a s) = s Δa + a Δs − Δa Δs``."""

    name = "input"

    def coefficient(self, other, other_ref):
        return other


class BaselineProduct(ProductRule):
    """The partner at the baseline, the gradient there: what shap's DeepExplainer does. Its split sums
    to ``Δ(a s) − Δa Δs``, since ``Δ(a s) = s_b Δa + a_b Δs + Δa Δs``."""

    name = "baseline"

    def coefficient(self, other, other_ref):
        return other_ref


class SignalTakeAll(ProductRule):
    """LRP at a gated product (Arras et al., 2017): the gate gets nothing and the signal all of the
    relevance, ``R_s = R_y``; with ``R = m · value`` that is ``(k_a, k_s) = (0, a)``."""

    name = "signal-take-all"

    def __call__(self, a, a_ref, s, s_ref):
        return torch.zeros_like(s), a


PRODUCT_RULE_OBJECTS: dict[str, ProductRule] = {
    rule.name: rule for rule in (ShapleyProduct(), InputProduct(), BaselineProduct())
}
"""The DeepLift product rules by name (see :mod:`lstm_teach.products`)."""


# ----------------------------------------------------------------------------- linear maps

class Plain:
    """DeepLift at a linear map ``z = W x + b``: the weights themselves (the bias cancels in ``Δz``)."""

    def __call__(self, z) -> torch.Tensor | None:
        return None


class Epsilon:
    """LRP's ε-rule at ``z = Σ terms + b``: the terms share ``R_z`` in proportion to themselves with the
    denominator ``z + ε·sign(z)`` (bias included, sign(0) = +1); as a multiplier, ``m_z`` is scaled by
    ``z / (z + ε·sign z)``. A stabilised denominator below ``finfo.tiny / finfo.eps`` in magnitude
    counts as zero and passes nothing (factor 0), so the result is never NaN (as
    :func:`lstm_teach.epsilon.epsilon_ratio`)."""

    def __init__(self, eps: float):
        self.eps = eps

    def __call__(self, z) -> torch.Tensor:
        d = stabilize(z, self.eps)
        info = torch.finfo(d.dtype)
        zero = d.abs() < info.tiny / info.eps
        return torch.where(zero, torch.zeros_like(d), z / torch.where(zero, torch.ones_like(d), d))


# ----------------------------------------------------------------------------- methods

class Rules(NamedTuple):
    """A method: its rule at nonlinearities, products and linear maps, and whether its reference is
    the baseline (DeepLift) or zero (LRP: the reference values the rules see are ``None``)."""

    nonlinear: Rescale | PassThrough
    product: ProductRule
    linear: Plain | Epsilon
    uses_baseline: bool


def deeplift_rules(product_rule: str) -> Rules:
    """DeepLift with the rescale rule and the named product rule."""
    try:
        product = PRODUCT_RULE_OBJECTS[product_rule]
    except (KeyError, TypeError):
        raise ValueError(f"product_rule must be one of {tuple(PRODUCT_RULE_OBJECTS)}, got {product_rule!r}") from None
    return Rules(Rescale(), product, Plain(), uses_baseline=True)


def lrp_rules(eps: float) -> Rules:
    """LRP-ε with signal-take-all at the gates (Arras et al., 2017)."""
    return Rules(PassThrough(), SignalTakeAll(), Epsilon(eps), uses_baseline=False)
