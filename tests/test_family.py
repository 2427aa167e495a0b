"""The model family: a user's own embedding, stacked and bidirectional LSTM or GRU, MLP head, per-step
readout and padded batches, explained by one engine.

Checked on random members of the family (tests/family.py):
* ``"shapley"`` is complete, against the model's own forward;
* ``"input"`` equals captum's DeepLift and ``"baseline"`` shap's DeepExplainer on the unrolled model;
* TimeStepShapley equals brute-force enumeration with the model's own forward;
* a padded row equals its truncated self, and padded steps get exactly zero;
* LSTMLRP equals a plain-Python re-derivation of Arras et al.'s (bidirectional, stacked) LSTM rules;
* the engine's fused forward equals the equations run step by step.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from captum.attr import DeepLift
from torch import nn

import lstm_teach as lt
from family import (F32, F64, Member, assert_within, brute_force_time_steps, build, embedded, inputs_for,
                    plain_lrp, ragged_lengths, random_members, rounding_bound, score, targets_for)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import shap

pytestmark = pytest.mark.filterwarnings("ignore")

B, T = 3, 5
MEMBERS = random_members(20, seed=13) + [
    Member(),                                                              # LSTMClassifier's shape
    Member(layers=2, bidirectional=True, tokens=True, head="mlp"),         # the README's model
    Member(kind="GRU", layers=2, bidirectional=True, tokens=True, head="mlp", readout="all"),
    Member(layers=3, bidirectional=True, scale=3.0, hidden=2),             # saturated gates
    Member(readout="all", batch_first=False, bias=False),
]


def explain(member, dtype=F64, lengths="ragged", rule="shapley", batch=B, steps=T):
    model = build(member, dtype)
    x, ref = inputs_for(model, batch, steps, std=2.0 if member.scale > 1 else 1.0)
    lengths = ragged_lengths(batch, steps) if lengths == "ragged" else None
    target = targets_for(model, lengths if lengths is not None else torch.full((batch,), steps))
    return model, x, ref, lengths, target


# ----------------------------------------------------------------------------- completeness

def check_complete(member, dtype=F64):
    """``"shapley"`` sums to f(x) − f(baseline) by the model's own forward; padded steps get exactly 0."""
    model, x, ref, lengths, target = explain(member, dtype)
    attributions, delta = lt.LSTMDeepLift(model).attribute(x, ref, target=target, lengths=lengths,
                                                           return_convergence_delta=True)
    assert attributions.shape == x.shape and attributions.dtype == dtype
    f_x = score(model, embedded(model, x), target, lengths)
    f_ref = score(model, embedded(model, ref), target, lengths)
    bound = rounding_bound(model, T, attributions.abs().flatten(1).sum(1), f_x.abs(), f_ref.abs())
    assert_within(attributions.flatten(1).sum(1), f_x - f_ref, bound)
    assert_within(delta, torch.zeros_like(delta), bound)
    assert (attributions[torch.arange(T) >= lengths.unsqueeze(1)] == 0).all()


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_shapley_rule_is_complete_against_the_models_own_forward(member, dtype):
    check_complete(member, dtype)


@pytest.mark.parametrize("rule", ["input", "baseline"])
def test_other_product_rules_miss_completeness_on_the_family(rule):
    member = Member(layers=2, bidirectional=True, tokens=True, head="mlp")
    model, x, ref, lengths, target = explain(member)
    _, delta = lt.LSTMDeepLift(model, rule).attribute(x, ref, target=target, lengths=lengths,
                                                      return_convergence_delta=True)
    assert delta.abs().max() > 1e-4


# ----------------------------------------------------------------------------- captum and shap

def _captum_target(model, target):
    return [tuple(row) for row in target.tolist()] if model.readout == "all" else target


def check_captum(member, lengths="ragged"):
    """``"input"`` equals captum's DeepLift on the unrolled model, per token for token models."""
    model, x, ref, lengths, target = explain(member, lengths=lengths)
    ours = lt.LSTMDeepLift(model, "input").attribute(x, ref, target=target, lengths=lengths)
    x_e, ref_e = embedded(model, x), embedded(model, ref)
    args = (lengths,) if lengths is not None else None
    theirs = DeepLift(lt.UnrolledModel(model, T)).attribute(x_e, ref_e, target=_captum_target(model, target),
                                                            additional_forward_args=args).detach()
    theirs = theirs.sum(-1) if member.tokens else theirs
    f_x, f_ref = score(model, x_e, target, lengths), score(model, ref_e, target, lengths)
    assert_within(ours, theirs, rounding_bound(model, T, ours.abs().flatten(1).sum(1), f_x.abs(), f_ref.abs()))


@pytest.mark.parametrize("lengths", ["ragged", None], ids=["ragged", "full"])
@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_input_rule_equals_captum_deeplift_on_the_unrolled_model(member, lengths):
    check_captum(member, lengths)


class _Step(nn.Module):
    """A per-step model's output at step ``t``, (B, O): shap's DeepExplainer explains 2-D outputs."""

    def __init__(self, model, t):
        super().__init__()
        self.model, self.t = model, t

    def forward(self, x):
        return self.model(x)[:, self.t]


def shap_deep(model, x_e, ref_e, target):
    """shap's DeepExplainer on the unrolled model, one background row (the row's baseline) per row."""
    unrolled = lt.UnrolledModel(model, x_e.shape[1])
    rows = []
    for b in range(x_e.shape[0]):
        if model.readout == "all":
            module, output = _Step(unrolled, int(target[b, 0])), int(target[b, 1])
        else:
            module, output = unrolled, int(target[b])
        values = shap.DeepExplainer(module, ref_e[b:b + 1]).shap_values(x_e[b:b + 1], check_additivity=False)
        values = torch.as_tensor(np.asarray(values)).reshape(1, *x_e.shape[1:], -1)
        rows.append(values[0, ..., output])
    return torch.stack(rows)


@pytest.mark.parametrize("lengths", ["ragged", None], ids=["ragged", "full"])
@pytest.mark.parametrize("rule", ["shapley", "input", "baseline"])
@pytest.mark.parametrize("member", MEMBERS[::3], ids=str)
def test_one_baseline_shared_by_every_row_equals_each_row_alone(member, rule, lengths):
    """A shared baseline runs the forward over B + K rows, K the number of distinct lengths: each rule's
    coefficients take every row's reference from the right one of the K."""
    model, x, ref, lengths, target = explain(member, lengths=lengths)
    shared = ref[:1] if not member.tokens else ref[0, 0]
    explainer = lt.LSTMDeepLift(model, rule)
    together = explainer.attribute(x, shared, target=target, lengths=lengths)
    alone = [explainer.attribute(x[b:b + 1], shared, target=target[b:b + 1],
                                 lengths=None if lengths is None else lengths[b:b + 1]) for b in range(B)]
    assert_within(together, torch.cat(alone), rounding_bound(model, T, together.abs().flatten(1).sum(1) + 1.0))


@pytest.mark.parametrize("member", MEMBERS[::2], ids=str)
def test_baseline_rule_equals_shap_deep_explainer_on_the_unrolled_model(member):
    model, x, ref, _, target = explain(member, lengths=None)
    ours = lt.LSTMDeepLift(model, "baseline").attribute(x, ref, target=target)
    x_e, ref_e = embedded(model, x), embedded(model, ref)
    theirs = shap_deep(model, x_e, ref_e, target)
    theirs = theirs.sum(-1) if member.tokens else theirs
    f_x, f_ref = score(model, x_e, target), score(model, ref_e, target)
    assert_within(ours, theirs, rounding_bound(model, T, ours.abs().flatten(1).sum(1), f_x.abs(), f_ref.abs()))


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_unrolled_model_computes_the_same_function(member):
    model, x, _, lengths, _ = explain(member)
    x_e = embedded(model, x)
    with torch.no_grad():
        ours, theirs = lt.UnrolledModel(model, T)(x_e, lengths), model.forward_embedded(x_e, lengths)
    assert_within(ours, theirs, rounding_bound(model, T, theirs.abs().max()))


# ----------------------------------------------------------------------------- time-step Shapley

@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_time_step_shapley_equals_brute_force_enumeration(member):
    model, x, ref, lengths, target = explain(member)
    ours = lt.TimeStepShapley(model, chunk_size=7).attribute(x, ref, target=target, lengths=lengths)
    x_e, ref_e = embedded(model, x), embedded(model, ref)
    theirs = brute_force_time_steps(model, x_e, ref_e, target, lengths)
    f_x, f_ref = score(model, x_e, target, lengths), score(model, ref_e, target, lengths)
    assert_within(ours, theirs, rounding_bound(model, T, 2 * (f_x.abs() + f_ref.abs() + ours.abs().sum(1))))
    assert (ours[torch.arange(T) >= lengths.unsqueeze(1)] == 0).all()


def test_time_step_shapley_of_a_one_way_per_step_model_gives_later_steps_nothing():
    member = Member(layers=2, readout="all", tokens=True)
    model, x, ref, _, _ = explain(member, lengths=None)
    values = lt.TimeStepShapley(model).attribute(x, ref, target=(2, 1))
    assert (values[:, 3:] == 0).all() and (values[:, :3] != 0).any()


# ----------------------------------------------------------------------------- padding

EXPLAINERS = {
    "deeplift": lambda m, x, ref, target, lengths: lt.LSTMDeepLift(m).attribute(x, ref, target=target, lengths=lengths),
    "input": lambda m, x, ref, target, lengths: lt.LSTMDeepLift(m, "input").attribute(x, ref, target=target, lengths=lengths),
    "lrp": lambda m, x, ref, target, lengths: lt.LSTMLRP(m).attribute(x, target=target, lengths=lengths),
    "timesteps": lambda m, x, ref, target, lengths: lt.TimeStepShapley(m).attribute(x, ref, target=target, lengths=lengths),
}


def check_padding(member, name):
    """A padded row's attributions equal those of the row alone, truncated; its padded steps get 0."""
    model, x, ref, lengths, target = explain(member)
    together = EXPLAINERS[name](model, x, ref, target, lengths)
    for b in range(B):
        n = int(lengths[b])
        alone = EXPLAINERS[name](model, x[b:b + 1, :n], ref[b:b + 1, :n], target[b:b + 1], None)
        scale = together[b].abs().sum() + alone.abs().sum() + 1.0
        assert_within(together[b:b + 1, :n], alone, rounding_bound(model, T, scale))
        assert (together[b, n:] == 0).all()


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("member", MEMBERS[::3], ids=str)
def test_a_padded_row_equals_its_truncated_self(member, name):
    check_padding(member, name)


# ----------------------------------------------------------------------------- LRP

@pytest.mark.parametrize("eps", [0.0, 1e-3, 0.25])
@pytest.mark.parametrize("member", [
    Member(bidirectional=True), Member(bidirectional=True, tokens=True, hidden=3),
    Member(layers=2, bidirectional=True, scale=0.5), Member(layers=2), Member(layers=3, bidirectional=True, hidden=2),
], ids=str)
def test_lrp_follows_the_published_bidirectional_rules(member, eps):
    check_lrp(member, eps)


def check_lrp(member, eps):
    """LSTMLRP equals the plain-Python re-derivation of Arras et al.'s rules."""
    model, x, _, lengths, target = explain(member)
    ours = lt.LSTMLRP(model, eps).attribute(x, target=target, lengths=lengths)
    x_e = embedded(model, x)
    theirs = plain_lrp(model, x_e, target, eps, lengths)
    theirs = theirs.sum(-1) if member.tokens else theirs
    f_x = score(model, x_e, target, lengths)
    assert_within(ours, theirs, rounding_bound(model, T, theirs.abs().flatten(1).sum(1) + f_x.abs()))


# ----------------------------------------------------------------------------- the fused forward

@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_fused_hidden_states_equal_the_equations_step_by_step(kind, dtype):
    model = build(Member(kind=kind, size=3, hidden=5, scale=1.5), dtype)
    x, _ = inputs_for(model, 4, 30)
    cell = lt.network.CELLS[kind]
    weights = cell.WEIGHTS.from_torch(model.recurrent)
    fused = cell.hidden_states(x.transpose(0, 1), weights).transpose(0, 1)
    reference = (lt.lstm_forward if kind == "LSTM" else lt.gru_forward)(x, weights).h
    assert_within(fused, reference, rounding_bound(model, 30, 1.0))


@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_gru_forward_matches_nn_gru(layers, bidirectional):
    """Every layer and direction of an nn.GRU, run by gru_forward on its own inputs, from a given h0."""
    model = build(Member(kind="GRU", layers=layers, bidirectional=bidirectional, size=3, hidden=6, scale=1.2))
    x, _ = inputs_for(model, 3, 12)
    directions = 2 if bidirectional else 1
    h0 = 0.5 * torch.randn(layers * directions, 3, 6, dtype=F64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        out, _ = model.gru(x, h0)
    u = x
    for layer in range(layers):
        outputs = []
        for d in range(directions):
            weights = lt.GRUWeights.from_torch(model.gru, layer, d)
            h = lt.gru_forward(u if d == 0 else u.flip(1), weights, h0[layer * directions + d]).h
            outputs.append(h if d == 0 else h.flip(1))
        u = torch.cat(outputs, dim=-1)
    assert_within(u, out, rounding_bound(model, 12, 1.0))


# ----------------------------------------------------------------------------- what is refused

@pytest.mark.parametrize("build_model, error, match", [
    (lambda: lt.LSTMModel(nn.GRU(3, 4), nn.Linear(4, 1)), TypeError, r"LSTMModel needs an nn.LSTM, got GRU"),
    (lambda: lt.GRUModel(nn.LSTM(3, 4), nn.Linear(4, 1)), TypeError, r"GRUModel needs an nn.GRU, got LSTM"),
    (lambda: lt.LSTMModel(nn.RNN(3, 4), nn.Linear(4, 1)), TypeError, r"needs an nn.LSTM, got RNN"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4, proj_size=2), nn.Linear(2, 1)), ValueError, "proj_size > 0 is not supported"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4), nn.Sequential(nn.Linear(4, 2), nn.Softmax(-1))), TypeError,
     r"head must be nn.Linear or an nn.Sequential of Linear, ReLU, Tanh, Sigmoid, Identity, Dropout; got a Softmax"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4), nn.Sequential()), ValueError, "empty"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4, bidirectional=True), nn.Linear(4, 1)), ValueError,
     r"head's first nn.Linear must take 8 features"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4), nn.Linear(4, 1), nn.Embedding(5, 2)), ValueError, "embedding_dim"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4), nn.Linear(4, 1), nn.Embedding(5, 3, max_norm=1.0)), ValueError, "max_norm"),
    (lambda: lt.LSTMModel(nn.LSTM(3, 4), nn.Linear(4, 1), readout="first"), ValueError, "readout must be one of"),
])
def test_unsupported_models_are_refused_naming_what_is_supported(build_model, error, match):
    with pytest.raises(error, match=match):
        build_model()


def test_an_edited_model_is_checked_again_at_every_call():
    model = build(Member())
    explainer = lt.LSTMDeepLift(model)
    model.lstm = nn.LSTM(3, 4, bidirectional=True, batch_first=True).double()
    with pytest.raises(ValueError, match=r"head's first nn.Linear must take 8 features"):
        explainer.attribute(torch.zeros(1, 2, 3, dtype=F64), target=0)


def test_other_modules_are_refused_naming_what_is_supported():
    with pytest.raises(TypeError, match=r"model must be an LSTMModel\(lstm, head, embedding=None, readout='last'\)"):
        lt.LSTMDeepLift(nn.Sequential(nn.Linear(3, 1)))


TOKENS = Member(tokens=True, outputs=3, vocab=7)
PER_STEP = Member(readout="all", outputs=3)


@pytest.mark.parametrize("member, call, error, match", [
    (TOKENS, lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=0), TypeError, r"inputs must be token ids"),
    (TOKENS, lambda e: e.attribute(torch.tensor([[1, 7]]), target=0), ValueError, r"inputs must be ids in \[0, 6\]"),
    (TOKENS, lambda e: e.attribute(torch.tensor([1, 2]), target=0), ValueError, r"inputs must have shape \(B, T\)"),
    (TOKENS, lambda e: e.attribute(torch.tensor([[1, 2]]), torch.tensor([[1, 2, 3]]), target=0), ValueError,
     r"baselines must have shape broadcastable to the ids \(1, 2\) \(token ids\)"),
    (TOKENS, lambda e: e.attribute(torch.tensor([[1, 2]]), 9, target=0), ValueError, r"baselines must be ids in \[0, 6\]"),
    (TOKENS, lambda e: e.attribute(torch.tensor([[1, 2]]), torch.zeros(2, dtype=F64), target=0), ValueError,
     r"baselines must have shape broadcastable to the embedded inputs \(1, 2, 3\)"),
    (TOKENS, lambda e: e.attribute(torch.tensor([[1, 2]]), target=(1, 0)), TypeError, r"a \(t, o\) target needs readout='all'"),
    (Member(), lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=0, lengths=torch.tensor([4, 0])),
     ValueError, r"lengths must lie in \[1, T = 4\], got \[4, 0\]"),
    (Member(), lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=0, lengths=torch.tensor([4, 5])),
     ValueError, r"lengths must lie in \[1, T = 4\]"),
    (Member(), lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=0, lengths=torch.tensor([4])),
     ValueError, r"lengths must have shape \(2,\)"),
    (Member(), lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=0, lengths=[4, 4]),
     TypeError, r"lengths must be None or an integer tensor"),
    (PER_STEP, lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=1), TypeError,
     r"for readout='all', target must be a \(t, o\) tuple"),
    (PER_STEP, lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=torch.tensor([1, 2])), ValueError,
     r"target must have shape \(2, 2\): rows \(t, o\)"),
    (PER_STEP, lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=(3, 0), lengths=torch.tensor([4, 2])),
     ValueError, r"the target step t must lie in \[0, length − 1\] of each row \(lengths \[4, 2\]\), got \[3, 3\]"),
    (PER_STEP, lambda e: e.attribute(torch.zeros(2, 4, 3, dtype=F64), target=(1, 3)), ValueError,
     r"target must lie in \[0, 2\]"),
])
@pytest.mark.parametrize("explainer", [lt.LSTMDeepLift, lt.TimeStepShapley])
def test_bad_arguments_are_refused_with_the_expected_shape_or_value(member, call, error, match, explainer):
    with pytest.raises(error, match=match):
        call(explainer(build(member)))


def test_lrp_refuses_a_sigmoid_in_the_head():
    model = lt.LSTMModel(nn.LSTM(3, 4), nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()))
    with pytest.raises(ValueError, match=r"no rule for nn.Sigmoid in the head"):
        lt.LSTMLRP(model)


def test_token_baselines_may_be_one_id_ids_or_vectors_and_default_to_the_zero_embedding():
    model = build(TOKENS)
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    explainer = lt.LSTMDeepLift(model)
    pad = explainer.attribute(ids, 0, target=1)
    assert torch.equal(pad, explainer.attribute(ids, torch.zeros_like(ids), target=1))
    vectors = model.embedding.weight.detach()[torch.zeros_like(ids)]
    assert torch.equal(pad, explainer.attribute(ids, vectors, target=1))
    assert torch.equal(explainer.attribute(ids, target=1), explainer.attribute(ids, torch.zeros(3, dtype=F64), target=1))
