"""A fair test of an explanation: perturbation curves and the area over them (chapter 8).

An attribution method ranks the time steps of a sequence. If the ranking is right, replacing the
top-ranked steps by the baseline should move the model's output furthest, soonest. For one
sequence ``x`` (T steps), baseline ``b`` and score ``f`` (the ``target`` output):

* orientation ``s = sign(f(x) − f(b))`` (``+1`` when zero): the direction in which the input moved
  the score away from the baseline's;
* ranking (``by="signed"``, the default): steps sorted by ``s · R_t``, largest first — the steps
  that pushed the score furthest *towards* ``f(x)`` come first, those that pushed it back come
  last. With ``by="absolute"``: sorted by ``|R_t|``, largest first. Ties keep time order. When the
  input has several features, ``R_t`` is the sum over the features of step ``t``;
* ``x⁽ᵏ⁾``: ``x`` with its ``k`` top-ranked steps replaced by the baseline's steps (``x⁽⁰⁾ = x``,
  ``x⁽ᵀ⁾ = b``);
* perturbation curve: ``c_k = s · (f(x) − f(x⁽ᵏ⁾))`` for ``k = 0 … T``: how far the score has
  moved back towards the baseline's, in output units. Every order starts at ``c_0 = 0`` and ends
  at ``c_T = |f(x) − f(b)|``;
* area over the perturbation curve (AOPC, after Samek et al., 2017, with the class score replaced
  by the oriented score ``s · f``):

      AOPC = 1/(T + 1) · Σ_{k=0}^{T} c_k

  averaged over the sequences. Larger is better. Since every order shares both end points, AOPC
  compares only *how early* an order finds the steps that matter. The reference is a random order
  (the mean over several seeded random permutations per sequence).

Every curve is one batched model call on all ``B · (T + 1)`` perturbed sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .checks import as_tensor, baseline_like, check_shape

__all__ = [
    "PerturbationTest", "aopc", "completeness_gap", "model_scores", "occlusion_effects",
    "perturbation_curves", "perturbation_test", "random_orders", "relevance_order",
]


def model_scores(model, inputs: torch.Tensor, target=None) -> torch.Tensor:
    """The scores ``f(x)`` (B,) of ``model(inputs)`` (B, O) at ``target`` (int or (B,) index;
    may be omitted when O == 1)."""
    out = model(inputs)
    if target is None:
        if out.shape[1] != 1:
            raise ValueError(f"target must be given when the model has {out.shape[1]} outputs, got None")
        return out[:, 0]
    index = torch.as_tensor(target, device=out.device).long().reshape(-1).expand(out.shape[0])
    return out.gather(1, index.unsqueeze(1)).squeeze(1)


def _step_relevance(relevance: torch.Tensor, batch: int, steps: int) -> torch.Tensor:
    """Relevance per time step (B, T) from (B, T) or (B, T, I) (summed over features)."""
    relevance = as_tensor("relevance", relevance)
    if relevance.dim() == 3:
        relevance = relevance.sum(-1)
    check_shape("relevance", relevance, f"(B, T) or (B, T, I) with B = {batch}, T = {steps}",
                relevance.shape == (batch, steps))
    return relevance


def _orientation(model, x, x_b, target) -> torch.Tensor:
    """``s = sign(f(x) − f(b))`` (B,), with +1 where the difference is zero."""
    with torch.no_grad():
        difference = model_scores(model, x, target) - model_scores(model, x_b, target)
    return torch.where(difference >= 0, 1.0, -1.0).to(x.dtype)


def completeness_gap(model, inputs, relevance, baselines=None, target=None) -> torch.Tensor:
    """``Σ_t R_t − (f(x) − f(b))`` (B,): how far the relevances miss the score difference they
    should add up to (zero for a complete method)."""
    x = as_tensor("inputs", inputs)
    x_b = baseline_like("baselines", baselines, "inputs", x)
    relevance = _step_relevance(relevance, x.shape[0], x.shape[1])
    with torch.no_grad():
        difference = model_scores(model, x, target) - model_scores(model, x_b, target)
    return relevance.sum(1) - difference


def relevance_order(model, inputs, relevance, baselines=None, target=None, by: str = "signed") -> torch.Tensor:
    """The steps in the order of removal, (B, T) long: row ``b`` lists step indices, first removed first.

    ``by="signed"``: by ``s · R_t`` descending, ``s = sign(f(x) − f(b))``; ``by="absolute"``: by
    ``|R_t|`` descending. Ties keep time order (stable sort).
    """
    x = as_tensor("inputs", inputs)
    x_b = baseline_like("baselines", baselines, "inputs", x)
    relevance = _step_relevance(relevance, x.shape[0], x.shape[1])
    if by == "signed":
        key = _orientation(model, x, x_b, target).unsqueeze(1) * relevance
    elif by == "absolute":
        key = relevance.abs()
    else:
        raise ValueError(f"by must be 'signed' or 'absolute', got {by!r}")
    return key.sort(dim=1, descending=True, stable=True).indices


def random_orders(batch: int, steps: int, count: int, seed: int = 0, device=None) -> torch.Tensor:
    """``count`` random orders per row, (count, B, T): independent uniform permutations of the
    ``T`` steps, reproducible from ``seed`` (the global random state is left untouched)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(count, batch, steps, generator=generator).argsort(-1).to(device)


@torch.no_grad()
def perturbation_curves(model, inputs, order, baselines=None, target=None) -> torch.Tensor:
    """Perturbation curves ``c`` (B, T + 1): ``c[b, k] = s · (f(x) − f(x⁽ᵏ⁾))`` where ``x⁽ᵏ⁾`` is row
    ``b`` with the steps ``order[b, :k]`` replaced by the baseline's (see the module docstring).

    ``inputs`` (B, T, I); ``order`` (B, T), a permutation of the steps per row; ``baselines``
    broadcastable to ``inputs`` (zeros when None). One model call on ``B · (T + 1)`` sequences.
    """
    x = as_tensor("inputs", inputs)
    x_b = baseline_like("baselines", baselines, "inputs", x)
    batch, steps, _ = x.shape
    check_shape("order", order, f"({batch}, {steps})", tuple(order.shape) == (batch, steps))
    rank = order.argsort(dim=1)                                          # rank[b, t]: when step t goes
    removed = rank.unsqueeze(1) < torch.arange(steps + 1, device=x.device).view(1, -1, 1)  # (B, T+1, T)
    played = torch.where(removed.unsqueeze(-1), x_b.unsqueeze(1), x.unsqueeze(1))        # (B, T+1, T, I)
    if target is not None and isinstance(target, torch.Tensor) and target.numel() > 1:
        target = target.repeat_interleave(steps + 1)
    scores = model_scores(model, played.flatten(0, 1), target).view(batch, steps + 1)
    sign = torch.where(scores[:, :1] - scores[:, -1:] >= 0, 1.0, -1.0).to(scores.dtype)
    return sign * (scores[:, :1] - scores)


def aopc(curves: torch.Tensor) -> torch.Tensor:
    """Area over each perturbation curve, (B,): ``1/(T+1) · Σ_k c_k`` for curves (B, T + 1)."""
    return curves.mean(-1)


@dataclass
class PerturbationTest:
    """The outcome of :func:`perturbation_test`.

    Attributes:
        curves: method name → mean perturbation curve over the sequences, (T + 1,); the entry
            ``"random"`` holds the mean over the random orders too.
        aopc: method name → AOPC averaged over the sequences (a float).
        row_aopc: method name → AOPC of each sequence, (B,).
        by: the ranking used (``"signed"`` or ``"absolute"``).
    """

    curves: dict = field(default_factory=dict)
    aopc: dict = field(default_factory=dict)
    row_aopc: dict = field(default_factory=dict)
    by: str = "signed"

    def margin(self, name: str) -> float:
        """``AOPC(name) − AOPC(random)``: how much better than chance the method's order is."""
        return self.aopc[name] - self.aopc["random"]

    def ranking(self) -> list[str]:
        """The method names (``"random"`` included), best AOPC first."""
        return sorted(self.aopc, key=lambda name: -self.aopc[name])


def perturbation_test(model, inputs, relevances: dict, baselines=None, target=None, by: str = "signed",
                      num_random: int = 20, seed: int = 0) -> PerturbationTest:
    """Perturbation curves and AOPC for each method's ranking and for random orders.

    Args:
        model: any module mapping (B, T, I) to (B, O).
        inputs: (B, T, I); baselines: broadcastable to it (zeros when None), the value a removed
            step takes.
        relevances: method name → relevance (B, T) or (B, T, I).
        by: ranking rule, ``"signed"`` or ``"absolute"`` (see :func:`relevance_order`).
        num_random, seed: the random reference averages ``num_random`` seeded random orders per
            sequence (all of them in one model call).
    """
    x = as_tensor("inputs", inputs)
    x_b = baseline_like("baselines", baselines, "inputs", x)
    batch, steps, _ = x.shape
    result = PerturbationTest(by=by)
    for name, relevance in relevances.items():
        order = relevance_order(model, x, relevance, x_b, target, by)
        curves = perturbation_curves(model, x, order, x_b, target)
        result.curves[name], result.row_aopc[name] = curves.mean(0), aopc(curves)
    orders = random_orders(batch, steps, num_random, seed, x.device)
    repeated_target = target
    if isinstance(target, torch.Tensor) and target.numel() > 1:
        repeated_target = target.repeat(num_random)
    curves = perturbation_curves(model, x.repeat(num_random, 1, 1), orders.flatten(0, 1),
                                 x_b.repeat(num_random, 1, 1), repeated_target).view(num_random, batch, steps + 1)
    result.curves["random"], result.row_aopc["random"] = curves.mean((0, 1)), aopc(curves).mean(0)
    result.aopc = {name: value.mean().item() for name, value in result.row_aopc.items()}
    return result


@torch.no_grad()
def occlusion_effects(fn, inputs, baselines=None) -> torch.Tensor:
    """The effect of each step alone, (B, T): ``fn(x) − fn(x with step t replaced by the baseline's)``.

    ``fn`` maps sequences (N, T, I) to values (N,) — the model's score, or any quantity read from
    it, like the cell state of a counter. One call of ``fn`` on ``B · (T + 1)`` sequences.
    """
    x = as_tensor("inputs", inputs)
    x_b = baseline_like("baselines", baselines, "inputs", x)
    batch, steps, _ = x.shape
    # row 0: nothing replaced; row t + 1: step t replaced
    replaced = torch.cat([torch.zeros(1, steps), torch.eye(steps)]).to(device=x.device, dtype=torch.bool)
    played = torch.where(replaced.view(1, steps + 1, steps, 1), x_b.unsqueeze(1), x.unsqueeze(1))
    values = fn(played.flatten(0, 1)).view(batch, steps + 1)
    return values[:, :1] - values[:, 1:]
