"""A fair test of an explanation: perturbation curves and the area over them (chapters 8 and 9).

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

Text (chapter 9, the word deletion of Arras et al., 2017). ``inputs`` may be token ids (B, T) for
a model with an embedding; a step is then replaced by the baseline *id* (default 0, the pad id:
with ``padding_idx=0`` its embedding is the zero vector, so a deleted word is a padded one). With
``lengths`` (B,), row ``b`` has ``L_b`` valid steps: the model is called with the lengths, the
padded steps are ranked last (after every valid step, so deleting them changes nothing), and the
area is taken over the row's own curve,

    AOPC_b = 1/(L_b + 1) · Σ_{k=0}^{L_b} c_k.

A mean curve over rows of different lengths holds each row at its end value ``c_{L_b}`` beyond
``L_b``. With ``labels``, :func:`perturbation_test` also records the accuracy after ``k``
deletions (the predicted class: the argmax of the outputs, or ``output > 0`` for a model with one
output, a logit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .checks import as_tensor, baseline_like, broadcasts_to, check_shape

__all__ = [
    "PerturbationTest", "aopc", "completeness_gap", "model_scores", "occlusion_effects",
    "perturbation_curves", "perturbation_test", "perturbed_outputs", "predicted_class", "random_orders",
    "relevance_order",
]


def _call(model, inputs: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    return model(inputs) if lengths is None else model(inputs, lengths)


def _pick(out: torch.Tensor, target) -> torch.Tensor:
    """The scores (N,) of outputs (N, O) at ``target`` (int or (N,) index; None when O == 1)."""
    if target is None:
        if out.shape[1] != 1:
            raise ValueError(f"target must be given when the model has {out.shape[1]} outputs, got None")
        return out[:, 0]
    index = torch.as_tensor(target, device=out.device).long().reshape(-1).expand(out.shape[0])
    return out.gather(1, index.unsqueeze(1)).squeeze(1)


def model_scores(model, inputs: torch.Tensor, target=None, lengths=None) -> torch.Tensor:
    """The scores ``f(x)`` (B,) of ``model(inputs)`` (B, O) at ``target`` (int or (B,) index;
    may be omitted when O == 1); ``model(inputs, lengths)`` when ``lengths`` (B,) is given."""
    return _pick(_call(model, inputs, lengths), target)


def predicted_class(out: torch.Tensor) -> torch.Tensor:
    """The predicted classes (N,) of outputs (N, O): the argmax, or ``out > 0`` when O == 1 (a logit)."""
    return (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(1)


def _inputs(inputs, baselines) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, x_b)``: float inputs (B, T, I) with their baselines, or token ids (B, T) with baseline
    ids (an int or an integer tensor broadcastable to (B, T); pad id 0 when None), expanded."""
    if isinstance(inputs, torch.Tensor) and not inputs.is_floating_point() and inputs.dtype != torch.bool:
        check_shape("inputs", inputs, "(B, T) for token ids", inputs.dim() == 2)
        baseline = torch.as_tensor(0 if baselines is None else baselines, device=inputs.device)
        if baseline.is_floating_point() or baseline.dtype == torch.bool:
            raise TypeError(f"baselines of token ids must be ids (an int or an integer tensor), got {baseline.dtype}")
        check_shape("baselines", baseline, f"broadcastable to inputs {tuple(inputs.shape)}",
                    broadcasts_to(baseline.shape, inputs.shape))
        return inputs, baseline.to(inputs.dtype).expand_as(inputs)
    x = as_tensor("inputs", inputs)
    check_shape("inputs", x, "(B, T, I) for float inputs", x.dim() == 3)
    return x, baseline_like("baselines", baselines, "inputs", x)


def _valid(lengths, batch: int, steps: int, device) -> torch.Tensor | None:
    """``valid[b, t] = t < lengths[b]`` (B, T), or None without lengths."""
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    check_shape("lengths", lengths, f"({batch},)", lengths.shape == (batch,))
    if not ((lengths >= 1) & (lengths <= steps)).all():
        raise ValueError(f"lengths must lie in [1, {steps}], got {lengths.tolist()}")
    return torch.arange(steps, device=device) < lengths.to(device).unsqueeze(1)


def _step_relevance(relevance: torch.Tensor, batch: int, steps: int) -> torch.Tensor:
    """Relevance per time step (B, T) from (B, T) or (B, T, I) (summed over features)."""
    relevance = as_tensor("relevance", relevance)
    if relevance.dim() == 3:
        relevance = relevance.sum(-1)
    check_shape("relevance", relevance, f"(B, T) or (B, T, I) with B = {batch}, T = {steps}",
                relevance.shape == (batch, steps))
    return relevance


def _orientation(model, x, x_b, target, lengths) -> torch.Tensor:
    """``s = sign(f(x) − f(b))`` (B,), with +1 where the difference is zero."""
    with torch.no_grad():
        difference = model_scores(model, x, target, lengths) - model_scores(model, x_b, target, lengths)
    return torch.where(difference >= 0, 1.0, -1.0).to(difference.dtype)


def completeness_gap(model, inputs, relevance, baselines=None, target=None, lengths=None) -> torch.Tensor:
    """``Σ_t R_t − (f(x) − f(b))`` (B,): how far the relevances miss the score difference they
    should add up to (zero for a complete method)."""
    x, x_b = _inputs(inputs, baselines)
    relevance = _step_relevance(relevance, x.shape[0], x.shape[1])
    _valid(lengths, x.shape[0], x.shape[1], x.device)
    with torch.no_grad():
        difference = model_scores(model, x, target, lengths) - model_scores(model, x_b, target, lengths)
    return relevance.sum(1) - difference


def relevance_order(model, inputs, relevance, baselines=None, target=None, by: str = "signed",
                    lengths=None) -> torch.Tensor:
    """The steps in the order of removal, (B, T) long: row ``b`` lists step indices, first removed first.

    ``by="signed"``: by ``s · R_t`` descending, ``s = sign(f(x) − f(b))``; ``by="absolute"``: by
    ``|R_t|`` descending. Ties keep time order (stable sort). With ``lengths``, the padded steps
    come last.
    """
    x, x_b = _inputs(inputs, baselines)
    relevance = _step_relevance(relevance, x.shape[0], x.shape[1])
    valid = _valid(lengths, x.shape[0], x.shape[1], x.device)
    if by == "signed":
        key = _orientation(model, x, x_b, target, lengths).unsqueeze(1) * relevance
    elif by == "absolute":
        key = relevance.abs()
    else:
        raise ValueError(f"by must be 'signed' or 'absolute', got {by!r}")
    if valid is not None:
        key = key.masked_fill(~valid, -torch.inf)
    return key.sort(dim=1, descending=True, stable=True).indices


def random_orders(batch: int, steps: int, count: int, seed: int = 0, device=None, lengths=None) -> torch.Tensor:
    """``count`` random orders per row, (count, B, T): independent uniform permutations of the
    ``T`` steps (with ``lengths``, of the valid steps, the padded ones last in time order),
    reproducible from ``seed`` (the global random state is left untouched)."""
    generator = torch.Generator().manual_seed(seed)
    draws = torch.rand(count, batch, steps, generator=generator)
    valid = _valid(lengths, batch, steps, draws.device)
    if valid is not None:
        draws = torch.where(valid, draws, 1.0 + torch.arange(steps, dtype=draws.dtype))
    return draws.argsort(-1).to(device)


def _removed(order: torch.Tensor) -> torch.Tensor:
    """``removed[b, k, t]``: step ``t`` is among the first ``k`` of ``order[b]``, (B, T + 1, T)."""
    rank = order.argsort(dim=1)                                          # rank[b, t]: when step t goes
    return rank.unsqueeze(1) < torch.arange(order.shape[1] + 1, device=order.device).view(1, -1, 1)


@torch.no_grad()
def perturbed_outputs(model, inputs, order, baselines=None, lengths=None) -> torch.Tensor:
    """The model's outputs on ``x⁽ᵏ⁾``, (B, T + 1, O): row ``b`` with the steps ``order[b, :k]``
    replaced by the baseline's, for ``k = 0 … T``; ``inputs`` (B, T, I) floats or (B, T) ids,
    ``order`` (B, T) a permutation of the steps per row. One model call on ``B · (T + 1)`` sequences.
    """
    x, x_b = _inputs(inputs, baselines)
    batch, steps = x.shape[:2]
    check_shape("order", order, f"({batch}, {steps})", tuple(order.shape) == (batch, steps))
    _valid(lengths, batch, steps, x.device)
    removed = _removed(order).view(batch, steps + 1, steps, *(1,) * (x.dim() - 2))
    played = torch.where(removed, x_b.unsqueeze(1), x.unsqueeze(1))                     # (B, T+1, T, …)
    repeated = None if lengths is None else torch.as_tensor(lengths).repeat_interleave(steps + 1)
    out = _call(model, played.flatten(0, 1), repeated)
    return out.view(batch, steps + 1, out.shape[-1])


def perturbation_curves(model, inputs, order, baselines=None, target=None, lengths=None) -> torch.Tensor:
    """Perturbation curves ``c`` (B, T + 1): ``c[b, k] = s · (f(x) − f(x⁽ᵏ⁾))`` where ``x⁽ᵏ⁾`` is row
    ``b`` with the steps ``order[b, :k]`` replaced by the baseline's (see the module docstring).

    ``inputs`` (B, T, I), or token ids (B, T); ``order`` (B, T), a permutation of the steps per row;
    ``baselines`` broadcastable to ``inputs`` (zeros, or the pad id 0, when None); ``lengths`` (B,)
    or None. One model call on ``B · (T + 1)`` sequences.
    """
    return _curves(perturbed_outputs(model, inputs, order, baselines, lengths), target)


def _curves(outputs: torch.Tensor, target) -> torch.Tensor:
    """Curves (B, T + 1) from perturbed outputs (B, T + 1, O)."""
    batch, points = outputs.shape[:2]
    if target is not None and isinstance(target, torch.Tensor) and target.numel() > 1:
        target = target.repeat_interleave(points)
    scores = _pick(outputs.flatten(0, 1), target).view(batch, points)
    sign = torch.where(scores[:, :1] - scores[:, -1:] >= 0, 1.0, -1.0).to(scores.dtype)
    return sign * (scores[:, :1] - scores)


def aopc(curves: torch.Tensor, lengths=None) -> torch.Tensor:
    """Area over each perturbation curve, (B,): ``1/(T+1) · Σ_k c_k`` for curves (B, T + 1); with
    ``lengths``, ``1/(L_b + 1) · Σ_{k ≤ L_b} c_k``."""
    if lengths is None:
        return curves.mean(-1)
    lengths = torch.as_tensor(lengths, device=curves.device)
    upto = torch.arange(curves.shape[-1], device=curves.device) <= lengths.unsqueeze(-1)
    return (curves * upto).sum(-1) / (lengths + 1)


@dataclass
class PerturbationTest:
    """The outcome of :func:`perturbation_test`.

    Attributes:
        curves: method name → mean perturbation curve over the sequences, (T + 1,); the entry
            ``"random"`` holds the mean over the random orders too.
        aopc: method name → AOPC averaged over the sequences (a float).
        row_aopc: method name → AOPC of each sequence, (B,).
        accuracy: with ``labels``, method name → the fraction of sequences still predicted as
            labelled after ``k`` removals, (T + 1,); empty without.
        by: the ranking used (``"signed"`` or ``"absolute"``).
    """

    curves: dict = field(default_factory=dict)
    aopc: dict = field(default_factory=dict)
    row_aopc: dict = field(default_factory=dict)
    accuracy: dict = field(default_factory=dict)
    by: str = "signed"

    def margin(self, name: str) -> float:
        """``AOPC(name) − AOPC(random)``: how much better than chance the method's order is."""
        return self.aopc[name] - self.aopc["random"]

    def ranking(self) -> list[str]:
        """The method names (``"random"`` included), best AOPC first."""
        return sorted(self.aopc, key=lambda name: -self.aopc[name])


def perturbation_test(model, inputs, relevances: dict, baselines=None, target=None, by: str = "signed",
                      num_random: int = 20, seed: int = 0, lengths=None, labels=None) -> PerturbationTest:
    """Perturbation curves and AOPC for each method's ranking and for random orders.

    Args:
        model: any module mapping (B, T, I), or token ids (B, T), to (B, O); called as
            ``model(inputs, lengths)`` when ``lengths`` is given.
        inputs: (B, T, I) floats or (B, T) token ids; baselines: broadcastable to it (zeros, or
            the pad id 0, when None), the value a removed step takes.
        relevances: method name → relevance (B, T) or (B, T, I).
        by: ranking rule, ``"signed"`` or ``"absolute"`` (see :func:`relevance_order`).
        num_random, seed: the random reference averages ``num_random`` seeded random orders per
            sequence (all of them in one model call).
        lengths: (B,) valid steps per row, or None (see the module docstring).
        labels: (B,) true classes, or None; given, the result holds accuracy curves too.
    """
    x, x_b = _inputs(inputs, baselines)
    batch, steps = x.shape[:2]
    _valid(lengths, batch, steps, x.device)
    result = PerturbationTest(by=by)

    def record(name, outputs, repeated_target):
        """Curves, AOPC and accuracy from perturbed outputs (R, B, T + 1, O) of R orders per row."""
        rounds = outputs.shape[0]
        curves = _curves(outputs.flatten(0, 1), repeated_target).view(rounds, batch, steps + 1)
        result.curves[name] = curves.mean((0, 1))
        result.row_aopc[name] = aopc(curves, lengths).mean(0)
        if labels is not None:
            predicted = predicted_class(outputs.flatten(0, 2)).view(rounds, batch, steps + 1)
            right = predicted == torch.as_tensor(labels, device=predicted.device).view(1, batch, 1)
            result.accuracy[name] = right.to(curves.dtype).mean((0, 1))

    for name, relevance in relevances.items():
        order = relevance_order(model, x, relevance, x_b, target, by, lengths)
        record(name, perturbed_outputs(model, x, order, x_b, lengths).unsqueeze(0), target)
    orders = random_orders(batch, steps, num_random, seed, x.device, lengths)
    repeated_target = target
    if isinstance(target, torch.Tensor) and target.numel() > 1:
        repeated_target = target.repeat(num_random)
    tile = (num_random, *(1,) * (x.dim() - 1))
    outputs = perturbed_outputs(model, x.repeat(tile), orders.flatten(0, 1), x_b.repeat(tile),
                                None if lengths is None else torch.as_tensor(lengths).repeat(num_random))
    record("random", outputs.view(num_random, batch, *outputs.shape[1:]), repeated_target)
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
