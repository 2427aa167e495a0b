"""What an explanation costs, counted rather than timed (chapter 12).

Times depend on the machine, the thread count and whatever else runs; a count does not. In an LSTM
almost all the arithmetic is in matrix products (``W x`` and ``W h`` for every gate and step), so
we count their floating-point operations: ``2·n·k·m`` for an ``(n, k) @ (k, m)`` product, over every
``mm``, ``addmm``, ``bmm``, … that torch dispatches while a function runs (torch's own formulas,
:data:`torch.utils.flop_counter.flop_registry`). The elementwise work (σ, tanh, products) is left
out, so the counts slightly favour methods that do more of it; the ratio to one forward pass over
the same rows is the cost *in forward passes*.
"""

from __future__ import annotations

from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

__all__ = ["MatmulCounter", "forward_passes", "matmul_flops"]


class MatmulCounter(TorchDispatchMode):
    """A context that adds up the floating-point operations of the matrix products run inside it
    (``.flops``). It sees every torch operation, autograd's backward included, whoever calls it:
    our explainers, captum, shap."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        count = flop_registry.get(func._overloadpacket)
        if count is not None:
            self.flops += count(*args, **kwargs, out_val=out)
        return out


def matmul_flops(fn, *args, **kwargs) -> int:
    """The floating-point operations of the matrix products in ``fn(*args, **kwargs)``."""
    with MatmulCounter() as counter:
        fn(*args, **kwargs)
    return counter.flops


def forward_passes(fn, model, inputs) -> float:
    """The cost of ``fn()`` in forward passes: its matrix-product operations divided by those of
    ``model(inputs)``, the forward pass over the same rows."""
    forward = matmul_flops(model, inputs)
    if forward == 0:
        raise ValueError("the forward pass ran no matrix product: nothing to compare with")
    return matmul_flops(fn) / forward
