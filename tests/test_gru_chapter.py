"""Chapter 10's claims about the GRU, held to numbers:

* the hand-set GRU counter (``counter_gru``) counts on the scale ``1 − (1 − δ)^n``, within its stated bound;
* ``LSTMLRP`` on a GRU follows the rules the chapter derives (signal-take-all at r, 1 − z and z; the ε-rule
  at ``h_t``, at ``n``'s pre-activation and at ``a = W_hn h + b_hn``), written out here in plain Python;
* in one step from ``h_0 = 0`` the relevance the biases take is ``(b_in + r ⊙ b_hn) / ζ_n ⊙ R_n`` plus the
  head's bias, and without biases LRP (ε = 0) is conservative;
* on a fused ``nn.GRU`` captum's DeepLift is the gradient at the input times Δx, shap's DeepExplainer the
  gradient at the baseline times Δx;
* on the counter, every method's numbers are the fractions the chapter derives for δ = 1/2;
* the ``"baseline"`` product rule works on a GRU with one baseline shared by several rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from captum.attr import DeepLift
from torch import nn

import lstm_teach as lt
from family import F32, F64, Member, _share, assert_within, build, inputs_for, rounding_bound, score
from lstm_teach.epsilon import stabilize
from lstm_teach.teach.counter import counter_gru

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import shap

pytestmark = pytest.mark.filterwarnings("ignore")


# ----------------------------------------------------------------------------- the counter

def ideal_count_scale(seq: str, rate: float) -> float:
    """``1 − (1 − δ)^n`` for ``n`` symbols ``'a'`` in ``seq``."""
    return 1 - (1 - rate) ** seq.count("a")


@pytest.mark.parametrize("seq", ["a", "b", "ab", "ba", "abaab", "bbbb", "aabbbbbbba", "ab" * 12])
@pytest.mark.parametrize("rate, scale", [(0.5, 20.0), (0.1, 20.0), (0.5, 8.0), (0.9, 30.0)])
def test_counter_gru_counts_on_its_scale_within_the_stated_bound(seq, rate, scale):
    model = counter_gru(rate, scale)
    x = lt.counter_inputs(seq)
    trace = lt.gru_forward(x, lt.GRUWeights.from_torch(model.gru))
    with torch.no_grad():
        out, _ = model.gru(x)
        f = model(x)
    assert (trace.h - out).abs().max() <= 8 * torch.finfo(F64).eps * len(seq)
    assert f.shape == (1, 1) and abs(f.item() - trace.h[0, -1, 0].item()) <= 4 * torch.finfo(F64).eps
    ideal = ideal_count_scale(seq, rate)
    rounding = 16 * torch.finfo(F64).eps * len(seq)
    # the docstring's bound: ideal − T e^{−s} ≤ h_T ≤ ideal
    assert ideal - len(seq) * math.exp(-scale) - rounding <= f.item() <= ideal + rounding


def test_counter_gru_gates():
    rate, scale = 0.25, 20.0
    model = counter_gru(rate, scale)
    assert isinstance(model, lt.GRUModel) and model.gru.weight_ih_l0.dtype == F64
    w = lt.GRUWeights.from_torch(model.gru)
    assert (w.input_size, w.hidden_size) == (2, 1) and not w.weight_hh.any() and not w.bias_hh.any()
    trace = lt.gru_forward(lt.counter_inputs("ab"), w)
    eps = torch.finfo(F64).eps
    assert abs(trace.z[0, 0, 0].item() - (1 - rate)) <= 4 * eps * scale        # 'a': z = 1 − δ
    assert 1 - trace.z[0, 1, 0].item() <= math.exp(-scale) + eps               # 'b': z ≈ 1
    assert 1 - trace.n[0, 0, 0].item() <= 2 * math.exp(-2 * scale) + eps      # 'a': n ≈ 1
    assert trace.n[0, 1, 0].item() == 0.0                                      # 'b': n = 0
    assert counter_gru(dtype=F32).gru.weight_ih_l0.dtype == F32


@pytest.mark.parametrize("kwargs, match", [
    ({"rate": 0.0}, "rate"), ({"rate": 1.0}, "rate"), ({"rate": True}, "rate"), ({"rate": "0.5"}, "rate"),
    ({"scale": 0}, "scale"), ({"scale": -2.0}, "scale"), ({"scale": math.inf}, "scale"),
])
def test_counter_gru_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        counter_gru(**kwargs)


def counter_leak(seq: str, scale: float) -> float:
    """How far the counter's attributions may lie from the ideal fractions: each of the T steps leaks at
    most e^{−s}, carried by multipliers of size at most s (the weights) and at most 1 (the gates)."""
    return 4 * len(seq) * scale * math.exp(-scale)


def test_counter_gru_attributions_are_the_chapters_fractions():
    """δ = 1/2, "abaab" against "bbbbb": the numbers chapter 10 derives."""
    model, seq = counter_gru(), "abaab"
    x, ref = lt.counter_inputs(seq), lt.counter_inputs("b" * len(seq))
    rows = lambda values: values.sum(-1)[0] if values.dim() == 3 else values[0]          # noqa: E731
    expected = {
        "shapley": [9 / 32, 0, 9 / 32, 10 / 32, 0],
        "input": [1 / 4, 0, 3 / 8, 5 / 8, 0],
        "baseline": [0, 0, 0, 0, 0],
        "lrp": [1 / 8, 0, 1 / 4, 1 / 2, 0],
        "time steps": [7 / 24, 0, 7 / 24, 7 / 24, 0],
        "captum fused": [5 / 4, 0, 5 / 4, 5 / 4, 0],
        "shap fused": [0, 0, 0, 0, 0],
    }
    ours = {rule: rows(lt.LSTMDeepLift(model, rule).attribute(x, ref)) for rule in ("shapley", "input", "baseline")}
    ours["lrp"] = rows(lt.LSTMLRP(model, eps=0.0).attribute(x))
    ours["time steps"] = rows(lt.TimeStepShapley(model).attribute(x, ref))
    ours["captum fused"] = rows(DeepLift(model).attribute(x, ref).detach())
    shap_values = shap.DeepExplainer(model, ref).shap_values(x, check_additivity=False)
    ours["shap fused"] = rows(torch.as_tensor(np.asarray(shap_values)).reshape(1, len(seq), 2))
    for name, values in expected.items():
        assert_within(ours[name], torch.tensor(values, dtype=F64), counter_leak(seq, 20.0))


# ----------------------------------------------------------------------------- LRP, derived

def plain_gru_lrp(model, x, target, eps) -> torch.Tensor:
    """LRP of a one-layer, one-direction GRU with a linear head, written from chapter 10's derivation in
    plain Python. Returns (B, T, I)."""
    w = lt.GRUWeights.from_torch(model.gru)
    W_in, W_hn = w.W_in.tolist(), w.W_hn.tolist()
    W_out, b_out = model.head.weight.detach().tolist(), model.head.bias.detach().tolist()
    trace = lt.gru_forward(x, w)
    h_prev_all = trace.h_prev
    out = torch.zeros(x.shape, dtype=F64)
    H = w.hidden_size
    for b in range(x.shape[0]):
        xs, h = x[b].tolist(), trace.h[b].tolist()
        r, z, n, h_prev = trace.r[b].tolist(), trace.z[b].tolist(), trace.n[b].tolist(), h_prev_all[b].tolist()
        zeta_n = (trace.zx[b, :, 2 * H:] + trace.r[b] * trace.zh[b, :, 2 * H:]).tolist()
        a = trace.zh[b, :, 2 * H:].tolist()
        o = int(target[b])
        f = sum(wj * hj for wj, hj in zip(W_out[o], h[-1])) + b_out[o]
        R_h = [_share(h[-1][j] * W_out[o][j], f, f, eps) for j in range(H)]          # the head
        for t in reversed(range(len(xs))):
            R_prev = [0.0] * H
            for j in range(H):
                R_n = _share((1 - z[t][j]) * n[t][j], h[t][j], R_h[j], eps)          # (1 − z) n takes all
                R_prev[j] += _share(z[t][j] * h_prev[t][j], h[t][j], R_h[j], eps)    # z h_{t-1}: h takes all
                for k, v in enumerate(xs[t]):                                        # ζ_n = W_in x + b_in + r a
                    out[b, t, k] += _share(v * W_in[j][k], zeta_n[t][j], R_n, eps)
                R_a = _share(r[t][j] * a[t][j], zeta_n[t][j], R_n, eps)              # r a: a takes all
                for k in range(H):                                                   # a = W_hn h + b_hn
                    R_prev[k] += _share(h_prev[t][k] * W_hn[j][k], a[t][j], R_a, eps)
            R_h = R_prev
    return out


@pytest.mark.parametrize("eps", [0.0, 1e-3, 0.25])
@pytest.mark.parametrize("member", [Member(kind="GRU"), Member(kind="GRU", hidden=3, scale=2.0),
                                    Member(kind="GRU", bias=False, outputs=1)], ids=str)
def test_gru_lrp_follows_the_derived_rules(member, eps):
    model = build(member)
    x, _ = inputs_for(model, 3, 6)
    target = torch.tensor([0, member.outputs - 1, 0])
    ours = lt.LSTMLRP(model, eps).attribute(x, target=target)
    theirs = plain_gru_lrp(model, x, target, eps)
    assert_within(ours, theirs, rounding_bound(model, 6, theirs.abs().flatten(1).sum(1) + score(model, x, target).abs()))


def test_one_step_gru_lrp_accounts_for_every_bias():
    model = build(Member(kind="GRU", hidden=5, scale=1.5))
    x, _ = inputs_for(model, 4, 1)
    target = torch.tensor([0, 1, 0, 1])
    w = lt.GRUWeights.from_torch(model.gru)
    trace = lt.gru_forward(x, w)
    r, z, n, h = (v[:, 0] for v in (trace.r, trace.z, trace.n, trace.h))
    f = score(model, x, target)
    R_n = (1 - z) * n / stabilize(h, 0.0) * h * model.head.weight.detach()[target]   # h_0 = 0: h = (1 − z) n
    zeta_n = x[:, 0] @ w.W_in.T + w.b_in + r * w.b_hn
    taken_by_biases = ((w.b_in + r * w.b_hn) / zeta_n * R_n).sum(1) + model.head.bias.detach()[target]
    relevance = lt.LSTMLRP(model, eps=0.0).attribute(x, target=target).sum((1, 2))
    assert_within(relevance + taken_by_biases, f, rounding_bound(model, 1, relevance.abs() + taken_by_biases.abs()))


def test_gru_lrp_without_biases_is_conservative():
    model = build(Member(kind="GRU", bias=False, hidden=6))
    model.head.bias = None
    x, _ = inputs_for(model, 3, 8)
    target = torch.tensor([0, 1, 1])
    relevance = lt.LSTMLRP(model, eps=0.0).attribute(x, target=target)
    f = score(model, x, target)
    assert_within(relevance.sum((1, 2)), f, rounding_bound(model, 8, relevance.abs().sum((1, 2)) + f.abs()))


# ----------------------------------------------------------------------------- libraries on a fused nn.GRU

def gradient(model, x, target):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[torch.arange(len(x)), target].sum(), x)
    return grad


def test_libraries_on_a_fused_gru_are_gradient_times_delta():
    model = build(Member(kind="GRU", hidden=5))
    x, ref = inputs_for(model, 1, 6)
    target = torch.tensor([1])
    captum_values = DeepLift(model).attribute(x, ref, target=target).detach()
    shap_values = torch.as_tensor(np.asarray(shap.DeepExplainer(model, ref).shap_values(x, check_additivity=False)))
    shap_values = shap_values.reshape(*x.shape, -1)[..., 1]
    bound = rounding_bound(model, 6, captum_values.abs().sum() + shap_values.abs().sum() + 1.0)
    assert_within(captum_values, gradient(model, x, target) * (x - ref), bound)
    assert_within(shap_values, gradient(model, ref, target) * (x - ref), bound)


def test_captum_lrp_refuses_a_gru():
    from captum.attr import LRP
    model = build(Member(kind="GRU"))
    x, _ = inputs_for(model, 1, 3)
    with pytest.raises(TypeError, match="GRU"):
        LRP(model).attribute(x, target=0)


# ----------------------------------------------------------------------------- engine bug

@pytest.mark.parametrize("baselines", ["none", "one vector", "(T, I)", "equal rows"])
def test_baseline_rule_on_a_gru_with_a_shared_baseline(baselines):
    """Fails at eae4000: GRUCell.edges writes the "baseline" rule's coefficients of z and h_{t-1}, which come
    from the single shared reference row, with ``out=`` into the (steps, B, H) edge buffers; for B ≥ 2 the
    buffer view is resized to one row and the next in-place product raises a RuntimeError."""
    model = build(Member(kind="GRU"))
    x, ref = inputs_for(model, 3, 5)
    shared = {"none": None, "one vector": ref[0, 0], "(T, I)": ref[0], "equal rows": ref[:1].expand_as(x).clone()}
    target = torch.tensor([0, 1, 0])
    ours = lt.LSTMDeepLift(model, "baseline").attribute(x, shared[baselines], target=target)
    alone = ref[:1] if baselines == "equal rows" else shared[baselines]
    one_by_one = torch.cat([lt.LSTMDeepLift(model, "baseline").attribute(x[b:b + 1], alone, target=target[b:b + 1])
                            for b in range(3)])
    assert_within(ours, one_by_one, rounding_bound(model, 5, one_by_one.abs().flatten(1).sum(1) + 1.0))
