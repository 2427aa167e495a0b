"""How far an input sits from the data a model was trained on (chapter 11's out-of-distribution check).

Each sequence (T, I) is read as one point in ``d = T·I`` dimensions. With ``μ`` and ``Σ`` the mean
and covariance of the reference rows (the training windows), the Mahalanobis distance

    D(x) = sqrt((x − μ)ᵀ Σ⁻¹ (x − μ))

counts standard deviations along the data's own axes: a window whose neighbouring years follow each
other as they do in the data stays close even when its values are large; a window with one year
jumping away from its neighbours is far, because consecutive years are strongly correlated.
"""

from __future__ import annotations

import torch

__all__ = ["mahalanobis"]


def mahalanobis(inputs: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mahalanobis distances (N,) of ``inputs`` (N, ...) from the rows of ``reference`` (M, ...).

    The covariance is the sample covariance of ``reference`` (``M − 1`` in the denominator) and needs
    more rows than dimensions (``M > d``), so that it is invertible; it is factored once (Cholesky)
    and every distance is a triangular solve, computed in float64.
    """
    if not isinstance(inputs, torch.Tensor) or not isinstance(reference, torch.Tensor):
        raise TypeError("inputs and reference must be tensors")
    if inputs.shape[1:] != reference.shape[1:]:
        raise ValueError(f"inputs and reference must share their trailing shape, got {tuple(inputs.shape)} "
                         f"and {tuple(reference.shape)}")
    points, ref = inputs.flatten(1).double(), reference.flatten(1).double()
    if ref.shape[0] <= ref.shape[1]:
        raise ValueError(f"reference needs more rows than dimensions ({ref.shape[1]}) for an invertible "
                         f"covariance, got {ref.shape[0]} rows")
    mean = ref.mean(0)
    centred = ref - mean
    covariance = centred.T @ centred / (ref.shape[0] - 1)
    factor = torch.linalg.cholesky(covariance)
    whitened = torch.linalg.solve_triangular(factor, (points - mean).T, upper=False)   # (d, N)
    return whitened.pow(2).sum(0).sqrt()
