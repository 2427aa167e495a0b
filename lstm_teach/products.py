"""Three ways to split the change of a product ``a * b`` between its two factors (chapter 4).

Going from the baseline ``(a0, b0)`` to ``(a, b)``, each rule gives each factor the change of
that factor times a coefficient taken from the other factor:

    φ_a = k(b, b0) · (a - a0),    φ_b = k(a, a0) · (b - b0)

* ``"input"``:    ``k(b, b0) = b``  — the gradient at the input (what captum's DeepLift does);
* ``"baseline"``: ``k(b, b0) = b0`` — the gradient at the baseline (what shap's DeepExplainer does);
* ``"shapley"``:  ``k(b, b0) = (b + b0) / 2`` — the Shapley values of the two-player game
  (seed eq. 20–22), the average of the other two.

Only the Shapley split sums to ``ab - a0 b0``: since ``Δ(ab) = bΔa + aΔb − ΔaΔb = b0Δa + a0Δb + ΔaΔb``,
the input rule's split sums to ``Δ(ab) + ΔaΔb`` and the baseline rule's to ``Δ(ab) − ΔaΔb``.
The rules themselves are objects in :mod:`lstm_teach.rules`, shared with the whole-LSTM sweep.
"""

from __future__ import annotations

import torch

from .rules import PRODUCT_RULE_OBJECTS

__all__ = ["PRODUCT_RULES", "product_coefficient", "shapley_product"]

PRODUCT_RULES = tuple(PRODUCT_RULE_OBJECTS)
"""``("shapley", "input", "baseline")``."""


def product_coefficient(rule: str, other: torch.Tensor, other_baseline: torch.Tensor) -> torch.Tensor:
    """The coefficient ``k`` that multiplies a factor's change under ``rule`` (see module docstring).

    ``other`` and ``other_baseline``: the partner factor at the input and at the baseline
    (any broadcastable shapes).
    """
    if not isinstance(rule, str) or rule not in PRODUCT_RULE_OBJECTS:
        raise ValueError(f"product_rule must be one of {PRODUCT_RULES}, got {rule!r}")
    return PRODUCT_RULE_OBJECTS[rule].coefficient(other, other_baseline)


def shapley_product(a, b, a_baseline, b_baseline) -> tuple[torch.Tensor, torch.Tensor]:
    """Shapley values ``(phi_a, phi_b)`` of ``f(a, b) = a * b`` from the baseline (seed eq. 20–22).

    ``phi_a = ½[(ab - a0 b) + (a b0 - a0 b0)] = ½(b + b0)(a - a0)`` and symmetrically for ``b``;
    elementwise, all four tensors broadcast together. ``phi_a + phi_b = ab - a0 b0`` exactly.
    """
    return (product_coefficient("shapley", b, b_baseline) * (a - a_baseline),
            product_coefficient("shapley", a, a_baseline) * (b - b_baseline))
