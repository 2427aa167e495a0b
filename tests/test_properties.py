"""Chapter 12's teaching helpers: the property probes and measures, the cost counter, the library wrappers."""

import pytest
import torch
from torch import nn

from family import F64, Member, assert_within, build, inputs_for, rounding_bound
from lstm_teach import LSTMDeepLift, LSTMLRP, TimeStepShapley, UnrolledModel, counter_inputs, counter_lstm
from lstm_teach.perturbation import model_scores
from lstm_teach.teach.cost import forward_passes, matmul_flops
from lstm_teach.teach.libraries import (captum_deeplift, captum_integrated_gradients, shap_deep_explainer,
                                        shap_exact_steps)
from lstm_teach.teach.properties import (combined_head, embedded_view, linearity_violation, probe_violations,
                                         sensitivity_shares, single_step_inputs, with_probe_features)

pytestmark = pytest.mark.filterwarnings("ignore")   # captum and shap: version chatter

MEMBERS = [Member(), Member(kind="GRU"), Member(layers=2, bidirectional=True)]


def deeplift(model, x, b, t):
    return LSTMDeepLift(model, "shapley").attribute(x, b, target=t)


# --- builders -----------------------------------------------------------------------------------

def test_embedded_view_shares_the_modules_and_the_function():
    model = build(Member(tokens=True, layers=2, bidirectional=True))
    view = embedded_view(model)
    ids, _ = inputs_for(model, 3, 5)
    assert view.recurrent is model.recurrent and view.head is model.head and view.embedding is None
    with torch.no_grad():
        torch.testing.assert_close(view(model.embed(ids)), model(ids), rtol=0, atol=0)


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_probe_features_a_dummy_a_twin_and_a_null_step(member):
    model = build(member)
    x, b = inputs_for(model, 3, 5)
    probe = with_probe_features(model, x, b, null_step=2, seed=1)
    size = x.shape[2]
    assert (probe.dummy, probe.twin) == (size, size + 1)
    with torch.no_grad():
        # the dummy changes nothing; with the twin zeroed the probe model is the original model
        silent = probe.inputs.clone()
        silent[..., probe.twin] = 0
        noisy = silent.clone()
        noisy[..., probe.dummy] = torch.randn(silent.shape[:2], dtype=F64)
        original = model(probe.inputs[..., :size])
        bound = rounding_bound(model, 5, original.abs().amax(1))
        assert_within(probe.model(silent), original, bound)
        assert_within(probe.model(noisy), original, bound)
    keep = [t for t in range(5) if t != 2]
    assert torch.equal(probe.inputs[:, keep, :size], x[:, keep]) and torch.equal(probe.inputs[:, 2, :size], b[:, 2])
    assert torch.equal(probe.inputs[..., probe.twin], probe.inputs[..., 0])
    differs = (probe.inputs != probe.baselines)[:, 2]
    assert differs[:, probe.dummy].all() and not differs[:, [i for i in range(size + 2) if i != probe.dummy]].any()


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_combined_head_is_the_combination_of_the_outputs(member):
    model = build(member)
    x, _ = inputs_for(model, 4, 5)
    combined = combined_head(model, [2.0, -0.5], shift=0.25)
    with torch.no_grad():
        out = model(x)
        expected = 2.0 * out[:, 0] - 0.5 * out[:, 1] + 0.25
        assert_within(combined(x)[:, 0], expected, rounding_bound(model, 5, out.abs().sum(1), 1.0))


def test_single_step_inputs_differ_from_the_baselines_at_one_step():
    x, b = torch.randn(2, 4, 3, dtype=F64), torch.randn(2, 4, 3, dtype=F64)
    mixed = single_step_inputs(x, b, 1)
    assert torch.equal(mixed[:, 1], x[:, 1]) and torch.equal(mixed[:, [0, 2, 3]], b[:, [0, 2, 3]])
    with pytest.raises(ValueError, match="step"):
        single_step_inputs(x, b, 4)


def test_builders_refuse_bad_arguments():
    model = build(Member())
    with pytest.raises(ValueError, match="one number per output"):
        combined_head(model, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="float inputs"):
        tokens = build(Member(tokens=True))
        with_probe_features(tokens, torch.zeros(1, 3, 3, dtype=F64), torch.zeros(1, 3, 3, dtype=F64))
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        with_probe_features(model, torch.zeros(1, 3, 2, dtype=F64), torch.zeros(1, 3, 2, dtype=F64))


# --- measures -------------------------------------------------------------------------------------

@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_deeplift_passes_every_probe(member):
    model = build(member)
    x, b = inputs_for(model, 3, 5)
    found = probe_violations(deeplift, model, x, b, 1)
    assert found["dummy"] == 0.0                          # zero weights: exactly zero multipliers
    assert found["symmetry"] <= rounding_bound(model, 5, deeplift(model, x, b, 1).abs().max()).item()
    shares = sensitivity_shares(deeplift, model, x, b, 0, step=4)
    assert (shares - 1).abs().max() <= 1e-9               # complete: the changed step takes all of it
    violation = linearity_violation(deeplift, model, x, b, [2.0, -1.0], shift=0.5)
    assert violation <= rounding_bound(model, 5, 3 * deeplift(model, x, b, 0).abs().max()).item()


def test_time_steps_report_no_symmetry_and_pass_the_null_step():
    model = build(Member())
    x, b = inputs_for(model, 2, 4)
    found = probe_violations(lambda m, x, b, t: TimeStepShapley(m).attribute(x, b, target=t), model, x, b, 0)
    assert found["symmetry"] is None and found["dummy"] <= 1e-12


def test_lrp_fails_linearity_with_eps_and_the_null_step_with_a_nonzero_baseline():
    model = build(Member(kind="GRU"))
    x, b = inputs_for(model, 3, 5)
    lrp = lambda m, x, b, t, eps=1e-3: LSTMLRP(m, eps=eps).attribute(x, target=t)   # noqa: E731
    assert linearity_violation(lrp, model, x, b, [2.0, -1.0], shift=0.5) > 1e-6
    assert linearity_violation(lambda *a: lrp(*a, eps=0.0), model, x, b, [2.0, -1.0], shift=0.5) <= 1e-12
    assert probe_violations(lrp, model, x, b, 0)["dummy"] > 1e-3


def test_sensitivity_shares_refuse_an_unchanged_output():
    counter = counter_lstm()
    with pytest.raises(ValueError, match="does not change"):
        sensitivity_shares(deeplift, counter, counter_inputs("abab"), counter_inputs("bbbb"), 0, step=3)


# --- cost -----------------------------------------------------------------------------------------

def test_matmul_flops_count_two_per_multiply_add():
    layer = nn.Linear(3, 4).double()
    assert matmul_flops(layer, torch.zeros(5, 3, dtype=F64)) == 2 * 5 * 3 * 4


def test_forward_passes_of_a_forward_is_one_and_backward_is_counted():
    model = build(Member())
    x, _ = inputs_for(model, 2, 6)
    assert forward_passes(lambda: model(x), model, x) == 1.0

    def with_gradient():
        x_grad = x.clone().requires_grad_(True)
        model(x_grad)[:, 0].sum().backward()

    assert forward_passes(with_gradient, model, x) > 2.0    # the backward pass needs about twice the products
    with pytest.raises(ValueError, match="no matrix product"):
        forward_passes(lambda: None, nn.Identity(), x)


# --- the libraries, wrapped -------------------------------------------------------------------------

@pytest.mark.parametrize("member", [Member(), Member(kind="GRU", layers=2, bidirectional=True)], ids=str)
def test_library_wrappers_reproduce_ours_on_the_unrolled_model(member):
    model = build(member)
    x, b = inputs_for(model, 2, 4)
    unrolled = UnrolledModel(model, 4)
    for name, ours, theirs in (
        ("captum DeepLift", LSTMDeepLift(model, "input").attribute(x, b, target=1), captum_deeplift(unrolled, x, b, 1)),
        ("shap DeepExplainer", LSTMDeepLift(model, "baseline").attribute(x, b, target=1), shap_deep_explainer(unrolled, x, b, 1)),
    ):
        assert_within(theirs, ours, rounding_bound(model, 4, ours.abs().amax((1, 2)), theirs.abs().amax((1, 2))))
    steps = TimeStepShapley(model).attribute(x, b, target=1)
    assert_within(shap_exact_steps(model, x, b, 1), steps, rounding_bound(model, 4, steps.abs().sum(1)) * 16)
    ig = captum_integrated_gradients(model, x, b, 1, n_steps=64)
    with torch.no_grad():
        total = model_scores(model, x, 1) - model_scores(model, b, 1)
    assert (ig.flatten(1).sum(1) - total).abs().max() <= 1e-3 * total.abs().max()   # quadrature, not rounding
