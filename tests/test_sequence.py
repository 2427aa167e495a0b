"""Whole-sequence attribution (chapter 6): LSTMDeepLift, LSTMLRP and TimeStepShapley.

Checked against
* completeness (the ``"shapley"`` product rule) on random models, small and saturated weights,
  float32 and float64, several baseline shapes and targets;
* captum's ``DeepLift`` (rule ``"input"``) and shap's ``DeepExplainer`` (rule ``"baseline"``) on
  :class:`UnrolledLSTM`, the same LSTM built from modules;
* shap's ``Exact`` explainer over time-step masks (TimeStepShapley);
* a loop-over-units re-derivation of Arras et al.'s LRP rules, written here from the paper's
  equations (LSTMLRP);
and what goes wrong with the libraries on the fused ``nn.LSTM``.
"""

from __future__ import annotations

import math

import warnings

import numpy as np
import pytest
import torch
from captum.attr import LRP, DeepLift
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_teach as lt
from tolerance import (
    SWITCH, assert_close, assert_not_above, eps, lstm_deeplift_error, lstm_lrp_error, lstm_score_error, sum_error,
    time_step_shapley_error,
)

with warnings.catch_warnings():  # shap's import warns about matplotlib colormap methods
    warnings.simplefilter("ignore")
    import shap

# captum and shap emit deprecation and "unrecognized module" chatter; none of it is under test.
pytestmark = pytest.mark.filterwarnings("ignore")

F64, F32 = torch.float64, torch.float32


# ----------------------------------------------------------------------------- helpers

def make_model(I, H, O, scale=1.0, dtype=F64, seed=0, biases="all"):
    """An LSTMClassifier with every parameter drawn from N(0, scale²).

    ``biases``: ``"all"`` keeps the random biases; ``"none"`` zeroes every bias (LSTM and head);
    ``"gates"`` zeroes the candidate biases (b_ig, b_hg) and the head's bias but keeps those of i, f, o.
    """
    torch.manual_seed(seed)
    model = lt.LSTMClassifier(I, H, O).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale)
        if biases != "all":
            model.head.bias.zero_()
            for name in ("bias_ih_l0", "bias_hh_l0"):
                bias = getattr(model.lstm, name)
                if biases == "none":
                    bias.zero_()
                else:
                    bias[2 * H:3 * H] = 0.0        # gate order i, f, g, o: zero the g block
    return model


def make_data(B, T, I, std=1.0, dtype=F64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, I, generator=g, dtype=F64).mul(std).to(dtype)


def make_baseline(kind, B, T, I, dtype=F64, seed=2):
    """A non-zero baseline of the named shape, or None (zeros)."""
    shapes = {"BTI": (B, T, I), "TI": (T, I), "I": (I,)}
    if kind is None:
        return None
    g = torch.Generator().manual_seed(seed)
    return (0.5 * torch.randn(shapes[kind], generator=g, dtype=F64)).to(dtype)


def make_target(kind, B, O):
    """None for one output, else an int or a (B,) tensor cycling over the outputs."""
    if O == 1 and kind is None:
        return None
    if kind == "int":
        return O - 1
    return torch.arange(B) % O


def target_rows(target, B):
    if target is None:
        return torch.zeros(B, dtype=torch.long)
    if isinstance(target, int):
        return torch.full((B,), target, dtype=torch.long)
    return target


def scores(model, x, target):
    """f(x) for each row, the target's score, (B,)."""
    with torch.no_grad():
        out = model(x)
    return out.gather(1, target_rows(target, x.shape[0]).unsqueeze(1)).squeeze(1)


def full_baseline(baseline, x):
    return torch.zeros_like(x) if baseline is None else baseline.expand_as(x).clone()


def gradient(model, x, target):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).gather(1, target_rows(target, x.shape[0]).unsqueeze(1)).sum(), x)
    return grad


def shap_deep(module, x, baseline, target, O):
    """shap's DeepExplainer with one background row per input row: (B, T, I) for the target."""
    B = x.shape[0]
    rows = []
    for b in range(B):
        values = shap.DeepExplainer(module, baseline[b:b + 1]).shap_values(x[b:b + 1], check_additivity=False)
        values = torch.as_tensor(np.asarray(values)).reshape(1, *x.shape[1:], O)
        rows.append(values[0, ..., int(target_rows(target, B)[b])])
    return torch.stack(rows)


# Sizes (I, H, O, T, B): one input feature, one hidden unit, one step, several outputs, batch > 1.
SIZES = [(1, 3, 1, 5, 2), (3, 8, 2, 6, 3), (2, 1, 3, 1, 2), (4, 5, 3, 4, 1)]
SCALES = [0.3, 1.0, 4.0]
INPUT_STD = {0.3: 1.0, 1.0: 1.0, 4.0: 4.0}      # weight scale 4 with inputs ~ N(0, 4²): saturated gates


def pre_activations(model, x, baseline):
    """Every gate pre-activation z at input and baseline, (2B, T, 4H)."""
    trace = lt.lstm_forward(torch.cat([x, full_baseline(baseline, x)]), lt.LSTMWeights.from_torch(model.lstm))
    return trace.z


def test_scale_four_saturates_the_gates():
    """The saturated setting really is saturated: many |z| > 30, where σ and tanh are flat."""
    I, H, O, T, B = 3, 8, 2, 6, 3
    model = make_model(I, H, O, scale=4.0)
    x = make_data(B, T, I, std=4.0)
    z = pre_activations(model, x, make_baseline("BTI", B, T, I))[:B]
    assert (z.abs() > 30).double().mean() > 0.25


# ----------------------------------------------------------------------------- LSTMDeepLift("shapley")

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("baseline_kind", [None, "BTI", "TI", "I"])
def test_shapley_rule_is_complete(sizes, scale, dtype, baseline_kind):
    """sum of attributions = f(x) − f(baseline), up to the rounding bound of the whole sweep."""
    I, H, O, T, B = sizes
    model = make_model(I, H, O, scale, dtype)
    x = make_data(B, T, I, INPUT_STD[scale], dtype)
    baseline = make_baseline(baseline_kind, B, T, I, dtype)
    target = make_target("tensor" if O > 1 else None, B, O)
    attributions, delta = lt.LSTMDeepLift(model, "shapley").attribute(
        x, baseline, target=target, return_convergence_delta=True)
    assert attributions.shape == x.shape and attributions.dtype == dtype
    assert delta.shape == (B,) and delta.dtype == dtype
    change = scores(model, x, target) - scores(model, full_baseline(baseline, x), target)
    bound = lstm_deeplift_error(model, x, full_baseline(baseline, x), target, "shapley").delta
    # the returned delta is what it claims to be (both sides: Σ attributions − Δf, rounded) ...
    assert_close(delta, attributions.sum((1, 2)) - change, bound)
    # ... and it vanishes
    assert_close(delta, torch.zeros_like(delta), bound, 0.0)


@pytest.mark.parametrize("target_kind", ["int", "tensor"])
def test_targets_select_rows_of_a_multi_output_head(target_kind):
    """A (B,) target explains each row's own output: the same as explaining row by row."""
    I, H, O, T, B = 3, 4, 3, 5, 3
    model = make_model(I, H, O)
    x, baseline = make_data(B, T, I), make_baseline("BTI", B, T, I)
    target = make_target(target_kind, B, O)
    explainer = lt.LSTMDeepLift(model)
    together = explainer.attribute(x, baseline, target=target)
    bound = lstm_deeplift_error(model, x, baseline, target).attributions
    for b, t in enumerate(target_rows(target, B).tolist()):
        alone = explainer.attribute(x[b:b + 1], baseline[b:b + 1], target=t)
        assert_close(together[b:b + 1], alone, bound[b:b + 1])


@settings(deadline=None, max_examples=25)
@given(
    I=st.integers(1, 4), H=st.integers(1, 6), O=st.integers(1, 3), T=st.integers(1, 6), B=st.integers(1, 3),
    scale=st.sampled_from(SCALES), seed=st.integers(0, 2**16),
)
def test_shapley_rule_is_complete_property(I, H, O, T, B, scale, seed):
    model = make_model(I, H, O, scale, seed=seed)
    x = make_data(B, T, I, INPUT_STD[scale], seed=seed + 1)
    baseline = make_baseline("BTI", B, T, I, seed=seed + 2)
    _, delta = lt.LSTMDeepLift(model).attribute(x, baseline, target=O - 1, return_convergence_delta=True)
    assert_close(delta, torch.zeros_like(delta), lstm_deeplift_error(model, x, baseline, O - 1).delta, 0.0)


@pytest.mark.parametrize("rule", ["input", "baseline"])
def test_other_product_rules_miss_completeness(rule):
    """"input" and "baseline" drop the second-order terms Δa·Δb of every product (seed 1 chose 0.02)."""
    I, H, O, T, B = 3, 8, 2, 6, 2
    model = make_model(I, H, O)
    x, baseline = make_data(B, T, I), make_baseline("BTI", B, T, I)
    _, delta = lt.LSTMDeepLift(model, rule).attribute(x, baseline, target=1, return_convergence_delta=True)
    assert delta.abs().max() > 1e-3
    assert (delta.abs() > lstm_deeplift_error(model, x, baseline, 1, rule).delta).all()   # far beyond rounding


# ----------------------------------------------------------------------------- against captum and shap

LIBRARY_CASES = [  # (sizes, scale, baseline kind, target kind)
    ((1, 3, 1, 5, 2), 1.0, "BTI", None),
    ((3, 8, 2, 6, 3), 0.3, "TI", "int"),
    ((3, 8, 2, 6, 3), 4.0, "BTI", "tensor"),
    ((2, 1, 3, 1, 2), 1.0, "I", "tensor"),
    ((4, 5, 3, 4, 2), 1.0, None, "int"),
]


@pytest.mark.parametrize("sizes, scale, baseline_kind, target_kind", LIBRARY_CASES)
def test_input_rule_equals_captum_deeplift_on_unrolled_lstm(sizes, scale, baseline_kind, target_kind):
    I, H, O, T, B = sizes
    model = make_model(I, H, O, scale)
    x = make_data(B, T, I, INPUT_STD[scale])
    baseline, target = make_baseline(baseline_kind, B, T, I), make_target(target_kind, B, O)
    ours = lt.LSTMDeepLift(model, "input").attribute(x, baseline, target=target)
    theirs = DeepLift(lt.UnrolledLSTM(model, T)).attribute(x, full_baseline(baseline, x), target=target)
    bound = lstm_deeplift_error(model, x, full_baseline(baseline, x), target, "input", SWITCH["captum"])
    assert_close(ours, theirs, bound.attributions)


@pytest.mark.parametrize("sizes, scale, baseline_kind, target_kind", LIBRARY_CASES[:3])
def test_baseline_rule_equals_shap_deep_explainer_on_unrolled_lstm(sizes, scale, baseline_kind, target_kind):
    I, H, O, T, B = sizes
    model = make_model(I, H, O, scale)
    x = make_data(B, T, I, INPUT_STD[scale])
    baseline, target = make_baseline(baseline_kind, B, T, I), make_target(target_kind, B, O)
    ours = lt.LSTMDeepLift(model, "baseline").attribute(x, baseline, target=target)
    theirs = shap_deep(lt.UnrolledLSTM(model, T), x, full_baseline(baseline, x), target, O)
    bound = lstm_deeplift_error(model, x, full_baseline(baseline, x), target, "baseline", SWITCH["shap"])
    assert_close(ours, theirs, bound.attributions)


def test_unrolled_lstm_computes_the_same_function():
    I, H, O, T, B = 3, 8, 2, 6, 3
    model = make_model(I, H, O)
    x = make_data(B, T, I)
    bound = torch.stack([lstm_score_error(model, x, o)[1] for o in range(O)], 1)
    for copy in (True, False):
        with torch.no_grad():
            assert_close(lt.UnrolledLSTM(model, T, copy_cell_state=copy)(x), model(x), bound)


def test_without_the_cell_state_copy_captum_no_longer_matches():
    """captum rescales every gradient that reaches the tanh module's input tensor c_t, including
    the one through the next step's f ⊙ c_t; the forward pass is unchanged, the attribution is not."""
    I, H, O, T, B = 3, 8, 2, 6, 2
    model = make_model(I, H, O)
    x, baseline = make_data(B, T, I), make_baseline("BTI", B, T, I)
    ours = lt.LSTMDeepLift(model, "input").attribute(x, baseline, target=1)
    shared = DeepLift(lt.UnrolledLSTM(model, T, copy_cell_state=False)).attribute(x, baseline, target=1)
    copied = DeepLift(lt.UnrolledLSTM(model, T, copy_cell_state=True)).attribute(x, baseline, target=1)
    assert_close(copied, ours, lstm_deeplift_error(model, x, baseline, 1, "input", SWITCH["captum"]).attributions)
    assert (shared - ours).abs().max() > 1e-3


# ----------------------------------------------------------------------------- the libraries on the fused nn.LSTM

FUSED = dict(sizes=(3, 8, 2, 6, 2), seed=0)


def fused_setting():
    I, H, O, T, B = FUSED["sizes"]
    model = make_model(I, H, O, seed=FUSED["seed"])
    return model, make_data(B, T, I), make_baseline("BTI", B, T, I)


def gradient_times_delta_error(model, at, x, baseline, target):
    """``E`` of ``∇f(at) ⊙ (x − x_b)``: the gradient is the "input" rule's sweep with baseline = input
    (every multiplier a derivative), then one subtraction and one product."""
    e_gradient = lstm_deeplift_error(model, at, at, target, "input").multipliers
    dx = (x - baseline).abs()
    return e_gradient * dx + eps(x.dtype) * gradient(model, at, target).abs() * dx


def test_captum_deeplift_on_fused_lstm_is_gradient_at_input_times_delta():
    """No Sigmoid/Tanh module to hook inside nn.LSTM: captum's DeepLift is ∇f(x) ⊙ (x − x_b)
    and misses completeness."""
    model, x, baseline = fused_setting()
    theirs = DeepLift(model).attribute(x, baseline, target=1)
    assert_close(theirs, gradient(model, x, 1) * (x - baseline), gradient_times_delta_error(model, x, x, baseline, 1))
    gap = theirs.sum((1, 2)) - (scores(model, x, 1) - scores(model, baseline, 1))
    assert gap.abs().max() > 1e-3


def test_shap_deep_explainer_on_fused_lstm_is_gradient_at_baseline_times_delta():
    """shap reads the gradient on its background rows: ∇f(x_b) ⊙ (x − x_b); also incomplete."""
    model, x, baseline = fused_setting()
    theirs = shap_deep(model, x, baseline, 1, 2)
    assert_close(theirs, gradient(model, baseline, 1) * (x - baseline), gradient_times_delta_error(model, baseline, x, baseline, 1))
    gap = theirs.sum((1, 2)) - (scores(model, x, 1) - scores(model, baseline, 1))
    assert gap.abs().max() > 1e-3


def test_captum_lrp_refuses_nn_lstm():
    model, x, _ = fused_setting()
    with pytest.raises(TypeError, match="LSTM'> has no rule defined"):
        LRP(model).attribute(x, target=1)


# ----------------------------------------------------------------------------- TimeStepShapley

def shap_exact_time_steps(model, x, baseline, target):
    """shap's Exact explainer on the game g(z) = f(x_b + z (x − x_b)) over T binary players z_t."""
    rows = []
    for b, t in enumerate(target_rows(target, x.shape[0]).tolist()):
        def game(z, b=b, t=t):
            z = torch.as_tensor(z, dtype=x.dtype)
            with torch.no_grad():
                return model(baseline[b] + z[..., None] * (x[b] - baseline[b]))[:, t].numpy()

        explainer = shap.explainers.Exact(game, shap.maskers.Independent(np.zeros((1, x.shape[1]))))
        rows.append(torch.as_tensor(explainer(np.ones((1, x.shape[1])), silent=True).values[0]))
    return torch.stack(rows)


@pytest.mark.parametrize("sizes, baseline_kind, target_kind", [
    ((2, 4, 3, 6, 2), "BTI", "tensor"),
    ((1, 3, 1, 4, 2), "I", None),
    ((3, 5, 2, 1, 1), "TI", "int"),
])
def test_time_step_shapley_equals_shap_exact(sizes, baseline_kind, target_kind):
    I, H, O, T, B = sizes
    model = make_model(I, H, O)
    x = make_data(B, T, I)
    baseline, target = make_baseline(baseline_kind, B, T, I), make_target(target_kind, B, O)
    ours = lt.TimeStepShapley(model).attribute(x, baseline, target=target)
    assert ours.shape == (B, T)
    full = full_baseline(baseline, x)
    bound = time_step_shapley_error(model, x, full, target)
    assert_close(ours, shap_exact_time_steps(model, x, full, target), bound)
    assert_efficient(model, ours, bound, x, full, target)


def assert_efficient(model, values, bound, x, baseline, target):
    """Σ_t φ_t = f(x) − f(x_b), up to the values' bound, the sum and both scores' errors."""
    change = scores(model, x, target) - scores(model, baseline, target)
    change_error = lstm_score_error(model, x, target)[1] + lstm_score_error(model, baseline, target)[1] \
        + eps(x.dtype) / 2 * change.abs()
    assert_close(values.sum(1), change, sum_error(values, 1, bound), change_error)


@pytest.mark.parametrize("scale", SCALES)
def test_time_step_shapley_is_efficient(scale):
    I, H, O, T, B = 2, 4, 2, 9, 3
    model = make_model(I, H, O, scale)
    x, baseline = make_data(B, T, I, INPUT_STD[scale]), make_baseline("TI", B, T, I)
    target = torch.tensor([0, 1, 0])
    values = lt.TimeStepShapley(model, chunk_size=100).attribute(x, baseline, target=target)
    full = full_baseline(baseline, x)
    assert_efficient(model, values, time_step_shapley_error(model, x, full, target), x, full, target)


def test_time_step_shapley_refuses_long_sequences_stating_the_cost():
    model = make_model(1, 2, 1)
    with pytest.raises(ValueError, match=r"at most 20.*2\^21 = 2,097,152 evaluations per row"):
        lt.TimeStepShapley(model).attribute(make_data(1, 21, 1))


# ----------------------------------------------------------------------------- LSTMLRP

def naive_lrp(model, x, target, eps):
    """LRP for one LSTM layer and a linear head, one sequence at a time, loop over units.

    From Arras et al. (2017): for z_j = Σ_i a_i w_ij + b_j the ε-rule sends
    R_{i←j} = a_i w_ij / (z_j + ε sign(z_j)) · R_j to each input (biases stay in z_j only;
    sign(0) = +1; a zero denominator passes nothing). Multiplicative connections: the gate gets
    nothing, the signal gets everything. Written without lstm_teach, in plain Python floats.
    """
    lstm, head = model.lstm, model.head
    W_x = lstm.weight_ih_l0.detach().double().tolist()
    W_h = lstm.weight_hh_l0.detach().double().tolist()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().double().tolist()
    W_out = head.weight.detach().double().tolist()
    b_out = head.bias.detach().double().tolist()
    H = lstm.hidden_size

    def sigmoid(v):
        return 1.0 / (1.0 + math.exp(-v))

    def share(numerator, denominator, relevance):
        d = denominator + (eps if denominator >= 0 else -eps)
        return 0.0 if d == 0 else numerator / d * relevance

    out = []
    for seq in x.double().tolist():
        T, I = len(seq), len(seq[0])
        h, c = [0.0] * H, [0.0] * H
        steps = []
        for t in range(T):
            z = [sum(W_x[r][k] * seq[t][k] for k in range(I)) + sum(W_h[r][k] * h[k] for k in range(H)) + bias[r]
                 for r in range(4 * H)]
            gi = [sigmoid(z[j]) for j in range(H)]
            gf = [sigmoid(z[H + j]) for j in range(H)]
            gg = [math.tanh(z[2 * H + j]) for j in range(H)]
            go = [sigmoid(z[3 * H + j]) for j in range(H)]
            c_new = [gf[j] * c[j] + gi[j] * gg[j] for j in range(H)]
            h_new = [go[j] * math.tanh(c_new[j]) for j in range(H)]
            steps.append(dict(h_prev=h, c_prev=c, i=gi, f=gf, g=gg, c=c_new, z_g=z[2 * H:3 * H]))
            h, c = h_new, c_new
        score = sum(W_out[target][j] * h[j] for j in range(H)) + b_out[target]
        R_h = [share(h[j] * W_out[target][j], score, score) for j in range(H)]
        R_c = [0.0] * H
        R_x = [[0.0] * I for _ in range(T)]
        for t in reversed(range(T)):
            s = steps[t]
            R_c = [R_c[j] + R_h[j] for j in range(H)]                 # h = o ⊙ tanh(c): all to c
            R_g = [share(s["i"][j] * s["g"][j], s["c"][j], R_c[j]) for j in range(H)]
            R_c_prev = [share(s["f"][j] * s["c_prev"][j], s["c"][j], R_c[j]) for j in range(H)]
            R_h_prev = [0.0] * H
            for j in range(H):                                          # z_g = W x + W h + b
                row = 2 * H + j
                for k in range(I):
                    R_x[t][k] += share(seq[t][k] * W_x[row][k], s["z_g"][j], R_g[j])
                for k in range(H):
                    R_h_prev[k] += share(s["h_prev"][k] * W_h[row][k], s["z_g"][j], R_g[j])
            R_h, R_c = R_h_prev, R_c_prev
        out.append(R_x)
    return torch.tensor(out, dtype=F64)


@pytest.mark.parametrize("eps", [0.0, 1e-3, 0.25])
@pytest.mark.parametrize("sizes, scale", [((1, 3, 1, 5, 2), 1.0), ((3, 6, 2, 4, 2), 0.3), ((2, 4, 3, 3, 2), 4.0)])
def test_lstm_lrp_equals_loop_rederivation(sizes, scale, eps):
    I, H, O, T, B = sizes
    model = make_model(I, H, O, scale)
    x = make_data(B, T, I, INPUT_STD[scale])
    ours = lt.LSTMLRP(model, eps=eps).attribute(x, target=O - 1)
    assert_close(ours, naive_lrp(model, x, O - 1, eps), lstm_lrp_error(model, x, O - 1, eps).relevance)


@pytest.mark.parametrize("biases", ["none", "gates"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstm_lrp_conserves_the_score_without_candidate_and_head_biases(biases, seed):
    """With eps → 0, only b_ig + b_hg and the head's bias absorb relevance: with those zero the
    relevance sums to f(x) (= f(x) − f(0), since then f(0) = 0) even when the i, f, o gates keep
    their biases. The error shrinks with eps."""
    I, H, O, T, B = 3, 5, 2, 6, 3
    model = make_model(I, H, O, seed=seed, biases=biases)
    x = make_data(B, T, I, seed=seed + 10)
    score = scores(model, x, 1)
    # exact: with x = 0 every candidate is tanh(0) = 0, so c, h and the score are 0 bit for bit
    assert torch.equal(scores(model, torch.zeros_like(x), 1), torch.zeros(B, dtype=F64))
    e_score = lstm_score_error(model, x, 1)[1]
    gaps = [(lt.LSTMLRP(model, eps).attribute(x, target=1).sum((1, 2)) - score) for eps in (1e-2, 1e-5, 1e-8, 0.0)]
    exact = lstm_lrp_error(model, x, 1, 0.0).total
    assert_close(gaps[-1], torch.zeros(B, dtype=F64), exact + e_score, 0.0)
    # eps = 1e-8 moves every denominator by 1e-8: the gap is within that shift's effect
    shifted = lstm_lrp_error(model, x, 1, 1e-8, shift=1e-8).total
    assert_close(gaps[2], torch.zeros(B, dtype=F64), shifted + exact + e_score, 0.0)
    sizes = [gap.abs().max().item() for gap in gaps]
    assert sizes[0] > sizes[1] > sizes[2]


def test_lstm_lrp_with_candidate_or_head_bias_is_not_conservative():
    I, H, O, T, B = 3, 5, 2, 6, 3
    x = make_data(B, T, I)
    for biases in ("all",):
        model = make_model(I, H, O, biases=biases)
        gap = lt.LSTMLRP(model, 0.0).attribute(x, target=1).sum((1, 2)) - scores(model, x, 1)
        assert gap.abs().max() > 1e-3
    model = make_model(I, H, O, biases="gates")
    with torch.no_grad():
        model.head.bias.fill_(0.5)
    gap = lt.LSTMLRP(model, 0.0).attribute(x, target=1).sum((1, 2)) - scores(model, x, 1)
    bound = lstm_lrp_error(model, x, 1, 0.0).total + lstm_score_error(model, x, 1)[1]
    assert_close(gap, torch.full((B,), -0.5, dtype=F64), bound, 0.0)  # exactly b_out is lost


def test_lstm_lrp_eps_is_continuous_and_large_eps_absorbs_everything():
    I, H, O, T, B = 3, 5, 2, 6, 2
    model = make_model(I, H, O)
    x = make_data(B, T, I)
    at_zero = lt.LSTMLRP(model, 0.0).attribute(x, target=0)
    near = lt.LSTMLRP(model, 1e-9).attribute(x, target=0)
    exact = lstm_lrp_error(model, x, 0, 0.0)
    assert_close(near, at_zero, lstm_lrp_error(model, x, 0, 1e-9, shift=1e-9).relevance, exact.relevance)
    # every path starts with the head's share score / (score + ε sign): at most |score| / ε instead of
    # 1, and every later share only shrinks as ε grows, so |R| ≤ (sum of |path| at ε = 0) |score| / ε
    huge = 1e6
    absorbed = lt.LSTMLRP(model, huge).attribute(x, target=0)
    limit = exact.paths * (scores(model, x, 0).abs() / huge)[:, None, None]
    assert_not_above(absorbed.abs(), limit, lstm_lrp_error(model, x, 0, huge).relevance, exact.relevance)


def test_lstm_lrp_zero_denominators_pass_nothing():
    """eps = 0 on a bias-free model at x = 0: every denominator is exactly 0; the result is 0, not NaN."""
    model = make_model(2, 3, 1, biases="none")
    relevance = lt.LSTMLRP(model, eps=0.0).attribute(torch.zeros(2, 4, 2, dtype=F64))
    assert torch.equal(relevance, torch.zeros_like(relevance))


# ----------------------------------------------------------------------------- argument checks

EXPLAINERS = {
    "deeplift": lambda m: lt.LSTMDeepLift(m),
    "lrp": lambda m: lt.LSTMLRP(m),
    "timesteps": lambda m: lt.TimeStepShapley(m),
}


def call(name, model, x, baseline=None, target=None):
    explainer = EXPLAINERS[name](model)
    if name == "lrp":
        assert baseline is None
        return explainer.attribute(x, target=target)
    return explainer.attribute(x, baseline, target=target)


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("bad, match", [
    (torch.zeros(4, 3, dtype=F64), r"inputs must have shape \(B, T, I\) with I = 3, got \(4, 3\)"),
    (torch.zeros(2, 4, 2, dtype=F64), r"inputs must have shape \(B, T, I\) with I = 3, got \(2, 4, 2\)"),
    (torch.zeros(0, 4, 3, dtype=F64), r"inputs must have shape"),
    (torch.full((2, 4, 3), float("nan"), dtype=F64), "inputs must be finite, got 24 NaN"),
])
def test_bad_inputs_are_refused(name, bad, match):
    with pytest.raises(ValueError, match=match):
        call(name, make_model(3, 4, 1), bad)


@pytest.mark.parametrize("name", EXPLAINERS)
def test_dtype_mismatch_is_refused(name):
    with pytest.raises(TypeError, match=r"inputs must have the dtype of the model's weights \(torch.float32\), got torch.float64"):
        call(name, make_model(3, 4, 1, dtype=F32), torch.zeros(2, 4, 3, dtype=F64))


@pytest.mark.parametrize("name", ["deeplift", "timesteps"])
@pytest.mark.parametrize("baseline, error, match", [
    (torch.zeros(4, 2, dtype=F64), ValueError, r"baselines must have shape broadcastable to inputs \(2, 4, 3\)"),
    (torch.zeros(3, 4, 3, dtype=F64), ValueError, r"baselines must have shape broadcastable"),
    (torch.zeros(3, dtype=F32), TypeError, r"baselines must have the dtype"),
    (torch.tensor([0.0, float("inf"), 0.0], dtype=F64), ValueError, "baselines must be finite"),
])
def test_bad_baselines_are_refused(name, baseline, error, match):
    with pytest.raises(error, match=match):
        call(name, make_model(3, 4, 1), torch.zeros(2, 4, 3, dtype=F64), baseline)


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("target, error, match", [
    (None, ValueError, "target must be given when the model has 3 outputs"),
    (3, ValueError, r"target must lie in \[0, 2\], got \[3, 3\]"),
    (-1, ValueError, r"target must lie in \[0, 2\]"),
    (torch.tensor([0, 5]), ValueError, r"target must lie in \[0, 2\], got \[0, 5\]"),
    (torch.tensor([0, 1, 2]), ValueError, r"target must have shape \(\) or \(2,\)"),
    (1.0, TypeError, "target must be an int or an integer tensor"),
    (torch.tensor([0.0, 1.0]), TypeError, "target must be an int or an integer tensor"),
])
def test_bad_targets_are_refused(name, target, error, match):
    with pytest.raises(error, match=match):
        call(name, make_model(3, 4, 3), torch.zeros(2, 4, 3, dtype=F64), target=target)


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("lstm, error, match", [
    (nn.GRU(3, 4, batch_first=True), TypeError, r"LSTMClassifier needs an nn.LSTM, got GRU"),
    (nn.LSTM(3, 4, proj_size=2, batch_first=True), ValueError, r"proj_size > 0 is not supported"),
    (nn.LSTM(3, 4, bidirectional=True, batch_first=True), ValueError, r"head's first nn.Linear must take 8 features"),
])
def test_unsupported_models_are_refused_naming_what_is_supported(name, lstm, error, match):
    """Stacked, bidirectional and sequence-first LSTMs are supported (tests/test_family.py); a model edited
    into something else is refused when explained."""
    model = make_model(3, 4, 1, dtype=F32)
    model.lstm = lstm
    with pytest.raises(error, match=match):
        EXPLAINERS[name](model)
    with pytest.raises(error, match=match):
        lt.UnrolledLSTM(model, 4)


def test_a_model_without_lstm_and_head_is_refused():
    with pytest.raises(TypeError, match=r"model must be an LSTMModel\(lstm, head, embedding=None, readout='last'\)"):
        lt.LSTMDeepLift(nn.Sequential(nn.Linear(3, 1)))


@pytest.mark.parametrize("rule", ["gradient", "Shapley", None])
def test_unknown_product_rule_is_refused(rule):
    with pytest.raises(ValueError, match=r"product_rule must be one of \('shapley', 'input', 'baseline'\)"):
        lt.LSTMDeepLift(make_model(3, 4, 1), rule)


@pytest.mark.parametrize("eps", [-1e-3, "0.1", True])
def test_bad_eps_is_refused(eps):
    with pytest.raises(ValueError, match="eps must be a number >= 0"):
        lt.LSTMLRP(make_model(3, 4, 1), eps)
