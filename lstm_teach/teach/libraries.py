"""captum's and shap's methods with one calling convention, for comparing them with ours (chapter 12).

Each function takes a module mapping float inputs ``(B, T, I)`` to scores ``(B, O)`` — a fused
family member (see :func:`~lstm_teach.teach.properties.embedded_view` for one with an embedding) or
its :class:`~lstm_teach.unrolled.UnrolledModel` — the inputs, one baseline per row ``(B, T, I)`` and
an output index, and returns the attributions ``(B, T, I)`` (time-step Shapley values: ``(B, T)``).
captum and shap are imported when called: they are not requirements of the package.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["captum_deeplift", "captum_integrated_gradients", "shap_deep_explainer", "shap_exact_steps"]


def captum_deeplift(module, inputs, baselines, target: int) -> torch.Tensor:
    """captum's ``DeepLift`` (rescale rule on the activation modules it finds)."""
    from captum.attr import DeepLift

    return DeepLift(module).attribute(inputs, baselines, target=target).detach()


def captum_integrated_gradients(module, inputs, baselines, target: int, n_steps: int = 50) -> torch.Tensor:
    """captum's ``IntegratedGradients`` (its default Gauss–Legendre rule with ``n_steps`` points)."""
    from captum.attr import IntegratedGradients

    return IntegratedGradients(module).attribute(inputs, baselines, target=target, n_steps=n_steps).detach()


def shap_deep_explainer(module, inputs, baselines, target: int) -> torch.Tensor:
    """shap's ``DeepExplainer``, one background row per input row (row ``b`` explained against
    baseline ``b``; shap would average over all of them if given the whole set at once)."""
    import shap

    rows = []
    for x, b in zip(inputs, baselines):
        values = torch.as_tensor(np.asarray(shap.DeepExplainer(module, b[None]).shap_values(x[None], check_additivity=False)))
        rows.append(values.reshape(*x.shape, -1)[..., target])      # shap returns every output last
    return torch.stack(rows).to(inputs)


def shap_exact_steps(module, inputs, baselines, target: int) -> torch.Tensor:
    """Exact Shapley values of the time steps by shap's ``Exact`` explainer: the game
    ``g(z) = f(x^b + z ⊙ (x − x^b))`` on step masks ``z ∈ {0, 1}^T``, explained at ``z = 1`` against ``z = 0``."""
    import shap

    steps = inputs.shape[1]
    rows = []
    for x, b in zip(inputs, baselines):
        def game(z, x=x, b=b):
            z = torch.as_tensor(z, dtype=x.dtype)
            with torch.no_grad():
                return module(b + z[..., None] * (x - b))[:, target].numpy()
        explainer = shap.explainers.Exact(game, shap.maskers.Independent(np.zeros((1, steps))))
        rows.append(torch.as_tensor(explainer(np.ones((1, steps)), silent=True).values[0]))
    return torch.stack(rows).to(inputs)
