"""Chapter 1's dense rules, ``dense_lrp`` and ``dense_deeplift``, against captum and shap.

What the references compute (read from captum 0.9.0 and shap 0.51.0, checked here):

* ``captum.attr.LRP`` gives ``nn.Linear`` its ε-rule with ε = 1e-9 (``z + 1e-9 * sign(z)``, sign(0)=+1,
  bias inside ``z``) and lists ``nn.Tanh`` among its "non-linear layers", whose backward hook passes
  the relevance through unchanged. On ``Linear → Tanh`` with target ``o`` the result is therefore
  ``tanh(z_o) * W[o, i] * x_i / (z_o + 1e-9 sign(z_o))``: seed eq. 10 with ``eps = 1e-9``. It has no
  rule for ``nn.Sigmoid`` and refuses it with a ``TypeError``.
* ``captum.attr.DeepLift`` and ``shap.DeepExplainer`` (one background row) apply the rescale rule to
  ``nn.Tanh`` / ``nn.Sigmoid`` modules; per target ``o`` their attributions are row ``o`` of
  ``dense_deeplift``. Where the pre-activation does not move (``|z - z_b|`` below 1e-10 in captum,
  1e-6 in shap) both fall back to the gradient, which is what ``dense_deeplift`` uses where
  ``z == z_b``.
"""

import math
import warnings

import numpy as np
import pytest
import torch
from captum.attr import LRP, DeepLift
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

import lstm_teach
from lstm_teach import dense_deeplift, dense_lrp, get_activation
from tolerance import (
    SWITCH, eps, activation_error, affine_error, assert_close, assert_not_above, dense_change_error,
    dense_deeplift_error, dense_lrp_error, sum_error,
)

with warnings.catch_warnings():  # shap's import emits matplotlib deprecation chatter
    warnings.simplefilter("ignore")
    import shap

# captum and shap print deprecation and version chatter as warnings; they say nothing about the numbers.
pytestmark = pytest.mark.filterwarnings("ignore")

SIZES = [(3, 1), (5, 4), (8, 3)]  # (I, O)
DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
ACTIVATIONS = ["tanh", "sigmoid", "identity"]
MODULES = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
CAPTUM_LRP_EPS = 1e-9


def make_layer(inputs, outputs, bias, dtype, seed):
    """A random ``nn.Linear`` (fixed seed) and a batch of 4 inputs for it."""
    gen = torch.Generator().manual_seed(seed)
    layer = nn.Linear(inputs, outputs, bias=bias).to(dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(outputs, inputs, generator=gen, dtype=dtype))
        if bias:
            layer.bias.copy_(torch.randn(outputs, generator=gen, dtype=dtype))
    x = torch.randn(4, inputs, generator=gen, dtype=dtype)
    return layer, x, gen


def params(layer):
    bias = layer.bias.detach() if layer.bias is not None else None
    return layer.weight.detach(), bias


def model_of(layer, activation):
    return layer if activation == "identity" else nn.Sequential(layer, MODULES[activation]())


def baseline_for(kind, x, gen):
    if kind == "zero":
        return None, torch.zeros(1, x.shape[-1], dtype=x.dtype)
    baseline = torch.randn(1, x.shape[-1], generator=gen, dtype=x.dtype)
    return baseline, baseline


# --- the seed's example (eq. 7) --------------------------------------------------------------------


def test_seed_example_eq7():
    x = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    w = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    r = dense_lrp(x, w)
    assert r.shape == (1, 3)
    assert math.isclose(math.tanh(1.4), 0.8854, abs_tol=5e-5)  # the seed prints 4 decimals: half a unit of the last
    assert [round(v, 3) for v in r[0].tolist()] == [0.063, 0.253, 0.569]
    expected = torch.tanh(torch.tensor(1.4, dtype=torch.float64)) / 1.4 * w * x
    assert_close(r, expected, dense_lrp_error(x, w))
    # no bias, zero baseline, tanh(0) = 0: DeepLift and LRP coincide (the seed's "till here ... the same")
    assert_close(dense_deeplift(x, w), r, dense_deeplift_error(x, w), dense_lrp_error(x, w))


# --- LRP against captum ------------------------------------------------------------------------------


def check_lrp_tanh_matches_captum(dense_lrp, size, bias, dtype):
    """``dense_lrp`` (the implementation under test) against captum's LRP on Linear → Tanh, every target."""
    layer, x, _ = make_layer(*size, bias, dtype, seed=sum(size) + bias)
    weight, b = params(layer)
    model = nn.Sequential(layer, nn.Tanh())
    ours = dense_lrp(x, weight, b, eps=CAPTUM_LRP_EPS)
    error = dense_lrp_error(x, weight, b, eps_rule=CAPTUM_LRP_EPS)
    for o in range(size[1]):
        reference = LRP(model).attribute(x, target=o).detach()
        assert_close(ours[:, o], reference, error[:, o])
    # captum's ε = 1e-9 moves every denominator by 1e-9: eq. 10 with eps = 0 agrees up to that shift
    plain = dense_lrp(x, weight, b)
    shifted = dense_lrp_error(x, weight, b, eps_rule=CAPTUM_LRP_EPS, shift=CAPTUM_LRP_EPS)
    assert_close(plain[:, 0], LRP(model).attribute(x, target=0).detach(), dense_lrp_error(x, weight, b)[:, 0], shifted[:, 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("size", SIZES, ids=str)
def test_lrp_tanh_matches_captum_per_target(size, bias, dtype):
    check_lrp_tanh_matches_captum(lstm_teach.dense_lrp, size, bias, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES, ids=str)
def test_lrp_identity_matches_captum_on_plain_linear(size, dtype):
    layer, x, _ = make_layer(*size, True, dtype, seed=7 + sum(size))
    weight, b = params(layer)
    ours = dense_lrp(x, weight, b, activation="identity", eps=CAPTUM_LRP_EPS)
    error = dense_lrp_error(x, weight, b, "identity", eps_rule=CAPTUM_LRP_EPS)
    model = nn.Sequential(layer)  # captum collects rules from children: see the next test
    for o in range(size[1]):
        assert_close(ours[:, o], LRP(model).attribute(x, target=o).detach(), error[:, o])


def test_captum_lrp_on_a_bare_linear_applies_no_rule():
    """Pitfall: captum's LRP looks for layers among the model's children; a bare nn.Linear has none,
    so no rule is attached and it returns gradient × output, W[o, i] * z_o, instead of W[o, i] * x_i."""
    layer, x, _ = make_layer(3, 1, True, torch.float64, seed=2)
    bare = LRP(layer).attribute(x, target=0).detach()
    weight, b = params(layer)
    z = layer(x).detach()
    assert_close(bare, weight * z, weight.abs() * affine_error(x, weight, b) + eps(z.dtype) / 2 * (weight * z).abs())
    assert (bare - weight * x).abs().max() > 0.1


def test_captum_lrp_passes_relevance_through_tanh_unchanged():
    """captum's LRP treats nn.Tanh as pass-through: Linear→Tanh equals Linear alone, scaled by tanh(z)/z."""
    layer, x, _ = make_layer(5, 1, True, torch.float64, seed=3)
    with_tanh = LRP(nn.Sequential(layer, nn.Tanh())).attribute(x, target=0).detach()
    alone = LRP(nn.Sequential(layer)).attribute(x, target=0).detach()
    z = layer(x).detach()
    weight, b = params(layer)
    # both sides are tanh(z) W x / (z + 1e-9 sign z) up to rounding; the right one scales the
    # identity rule's result (and its error) by tanh(z) / z
    error = dense_lrp_error(x, weight, b, eps_rule=CAPTUM_LRP_EPS)[:, 0]
    scaled = dense_lrp_error(x, weight, b, "identity", eps_rule=CAPTUM_LRP_EPS)[:, 0] * (torch.tanh(z) / z).abs()
    assert_close(with_tanh, alone * torch.tanh(z) / z, error, error + scaled)


def test_captum_lrp_has_no_rule_for_sigmoid():
    layer, x, _ = make_layer(3, 1, True, torch.float64, seed=0)
    with pytest.raises(TypeError, match="no rule"):
        LRP(nn.Sequential(layer, nn.Sigmoid())).attribute(x, target=0)


# --- DeepLift against captum and shap ----------------------------------------------------------------


def check_deeplift_matches_captum(dense_deeplift, size, activation, bias, baseline_kind, dtype):
    """``dense_deeplift`` (the implementation under test) against captum's DeepLift, every target."""
    layer, x, gen = make_layer(*size, bias, dtype, seed=11 * sum(size) + bias)
    weight, b = params(layer)
    ours_baseline, ref_baseline = baseline_for(baseline_kind, x, gen)
    ours = dense_deeplift(x, weight, b, baseline=ours_baseline, activation=activation)
    error = dense_deeplift_error(x, weight, b, ref_baseline, activation, switch=SWITCH["captum"])
    model = model_of(layer, activation)
    for o in range(size[1]):
        reference = DeepLift(model).attribute(x, baselines=ref_baseline, target=o).detach()
        assert_close(ours[:, o], reference, error[:, o])
    if size[1] == 1:  # a single output: the contributions per input are the sum over the output axis
        reference = DeepLift(model).attribute(x, baselines=ref_baseline).detach()
        assert_close(ours.sum(-2), reference, error[:, 0])


def deeplift_cases(test):
    """Every size, activation, bias or none, zero or random baseline, float32 and float64."""
    for mark in (pytest.mark.parametrize("dtype", DTYPES),
                 pytest.mark.parametrize("baseline_kind", ["zero", "random"]),
                 pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"]),
                 pytest.mark.parametrize("activation", ACTIVATIONS),
                 pytest.mark.parametrize("size", SIZES, ids=str)):
        test = mark(test)
    return test


@deeplift_cases
def test_deeplift_matches_captum_per_target(size, activation, bias, baseline_kind, dtype):
    check_deeplift_matches_captum(lstm_teach.dense_deeplift, size, activation, bias, baseline_kind, dtype)


@deeplift_cases
def test_deeplift_matches_shap(size, activation, bias, baseline_kind, dtype):
    layer, x, gen = make_layer(*size, bias, dtype, seed=13 * sum(size) + bias)
    weight, b = params(layer)
    ours_baseline, ref_baseline = baseline_for(baseline_kind, x, gen)
    ours = dense_deeplift(x, weight, b, baseline=ours_baseline, activation=activation)
    values = shap.DeepExplainer(model_of(layer, activation), ref_baseline).shap_values(x)
    assert values.shape == (x.shape[0], size[0], size[1])  # shap: (B, I, O)
    error = dense_deeplift_error(x, weight, b, ref_baseline, activation, switch=SWITCH["shap"])
    assert_close(ours, torch.from_numpy(np.asarray(values)).transpose(-1, -2), error)


def test_shap_background_of_two_equal_rows_is_one_baseline():
    """The seed's background, two zero rows: shap averages over identical baselines, same as one."""
    layer, x, _ = make_layer(3, 1, True, torch.float64, seed=5)
    model = nn.Sequential(layer, nn.Tanh())
    two = shap.DeepExplainer(model, torch.zeros(2, 3, dtype=torch.float64)).shap_values(x)[..., 0]
    weight, b = params(layer)
    error = dense_deeplift_error(x, weight, b, switch=SWITCH["shap"])[:, 0]
    assert_close(dense_deeplift(x, weight, b)[:, 0], torch.from_numpy(two), error)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_deeplift_where_preactivation_does_not_move_matches_libraries(activation):
    """x != x_b but W (x - x_b) = 0: every library uses the derivative; the row sums to zero."""
    dtype = torch.float64
    weight = torch.tensor([[1.0, 2.0, 3.0]], dtype=dtype)
    bias = torch.tensor([0.5], dtype=dtype)
    x = torch.tensor([[0.1, 0.2, 0.3]], dtype=dtype)
    baseline = torch.tensor([[2.1, -0.8, 0.3]], dtype=dtype)  # x - x_b = (-2, 1, 0) ⟂ w
    ours = dense_deeplift(x, weight, bias, baseline=baseline, activation=activation)
    z = x @ weight.T + bias
    expected = get_activation(activation).grad(z).unsqueeze(-1) * weight * (x - baseline).unsqueeze(-2)
    error = dense_deeplift_error(x, weight, bias, baseline, activation, switch=SWITCH["captum"])
    assert_close(ours, expected, error)
    assert_close(ours.sum(-1), torch.zeros(1, 1, dtype=dtype), sum_error(ours, -1, error), 0.0)
    assert ours.abs().max().item() > 0.01  # the split itself is not zero
    layer = nn.Linear(3, 1).double()
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    model = model_of(layer, activation)
    assert_close(ours[:, 0], DeepLift(model).attribute(x, baselines=baseline, target=0).detach(), error[:, 0])
    values = shap.DeepExplainer(model, baseline).shap_values(x)[..., 0]
    shap_error = dense_deeplift_error(x, weight, bias, baseline, activation, switch=SWITCH["shap"])
    assert_close(ours[:, 0], torch.from_numpy(values), shap_error[:, 0])


# --- matrix form (eq. 13) and conservation -----------------------------------------------------------


@pytest.mark.parametrize("adjusted", [False, True])
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matrix_form_rows_are_single_output_rules(activation, size, adjusted):
    layer, x, gen = make_layer(*size, True, torch.float64, seed=17 + sum(size))
    weight, b = params(layer)
    baseline = torch.randn(size[0], generator=gen, dtype=torch.float64)
    lrp = dense_lrp(x, weight, b, activation=activation, adjusted=adjusted)
    deeplift = dense_deeplift(x, weight, b, baseline=baseline, activation=activation)
    assert lrp.shape == deeplift.shape == (4, size[1], size[0])
    lrp_error = dense_lrp_error(x, weight, b, activation, adjusted)
    deeplift_error = dense_deeplift_error(x, weight, b, baseline, activation)
    for o in range(size[1]):   # one row: a matmul of another shape, so another summation order
        row_w, row_b = weight[o:o + 1], b[o:o + 1]
        single = dense_lrp(x, row_w, row_b, activation=activation, adjusted=adjusted)[:, 0]
        assert_close(lrp[:, o], single, lrp_error[:, o])
        single = dense_deeplift(x, row_w, row_b, baseline=baseline, activation=activation)[:, 0]
        assert_close(deeplift[:, o], single, deeplift_error[:, o])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("size", SIZES, ids=str)
def test_lrp_sums(activation, size):
    """eq. 11 hands out act(z) exactly; eq. 10 hands out act(z) * (W x) / (W x + b)."""
    layer, x, _ = make_layer(*size, True, torch.float64, seed=23 + sum(size))
    weight, b = params(layer)
    act = get_activation(activation).fn
    wx = x @ weight.T
    z = wx + b
    adjusted = dense_lrp(x, weight, b, activation=activation, adjusted=True)
    act_error = activation_error(activation, z, affine_error(x, weight, b), x.dtype)
    adjusted_error = sum_error(adjusted, -1, dense_lrp_error(x, weight, b, activation, adjusted=True))
    assert_close(adjusted.sum(-1), act(z), adjusted_error, act_error)
    plain = dense_lrp(x, weight, b, activation=activation)
    # act(z) W x / z is the same sum as the contributions' (another grouping): the same bound
    plain_error = sum_error(plain, -1, dense_lrp_error(x, weight, b, activation))
    assert_close(plain.sum(-1), act(z) * wx / z, plain_error)
    # with a bias eq. 10 does not conserve: it misses exactly act(z) * b / z, the share a bias would take
    share = act(z) * b / z
    share_error = (b.abs() * act_error + share.abs() * affine_error(x, weight, b)) / z.abs() + 1.5 * eps(z.dtype) * share.abs()
    assert_close(act(z) - plain.sum(-1), share, plain_error + act_error, share_error)
    assert share.abs().max() > 1e-3
    # without a bias the two rules are the same operations on the same operands (d = W x both times)
    assert torch.equal(dense_lrp(x, weight, activation=activation),
                       dense_lrp(x, weight, activation=activation, adjusted=True))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_deeplift_sums_to_delta(activation):
    layer, x, gen = make_layer(5, 4, True, torch.float64, seed=29)
    weight, b = params(layer)
    baseline = torch.randn(5, generator=gen, dtype=torch.float64)
    act = get_activation(activation).fn
    contributions = dense_deeplift(x, weight, b, baseline=baseline, activation=activation)
    error = sum_error(contributions, -1, dense_deeplift_error(x, weight, b, baseline, activation))
    change = act(x @ weight.T + b) - act(baseline @ weight.T + b)
    assert_close(contributions.sum(-1), change, error, dense_change_error(x, weight, b, baseline, activation))


# --- the ε stabiliser ----------------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [1e-3, 0.1, 1.0])
@pytest.mark.parametrize("adjusted", [False, True])
def test_eps_stabiliser(eps, adjusted):
    layer, x, _ = make_layer(5, 4, True, torch.float64, seed=31)
    weight, b = params(layer)
    wx = x @ weight.T
    z = wx + b
    d = wx if adjusted else z
    d_eps = d + eps * torch.where(d >= 0, 1.0, -1.0).double()
    expected = (torch.tanh(z) / d_eps).unsqueeze(-1) * weight * x.unsqueeze(-2)
    ours = dense_lrp(x, weight, b, adjusted=adjusted, eps=eps)
    error = dense_lrp_error(x, weight, b, adjusted=adjusted, eps_rule=eps)
    assert_close(ours, expected, error)
    # ε only ever shrinks what a neuron hands out (it absorbs relevance)
    plain = dense_lrp(x, weight, b, adjusted=adjusted)
    assert_not_above(ours.sum(-1).abs(), plain.sum(-1).abs(), sum_error(ours, -1, error),
                     sum_error(plain, -1, dense_lrp_error(x, weight, b, adjusted=adjusted)))


def test_eps_sign_of_zero_is_plus_one():
    """A denominator that is exactly 0 becomes +eps: the terms times act(0) / eps."""
    weight = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    x = torch.tensor([1.0, -1.0], dtype=torch.float64)  # W x = 0 exactly
    out = dense_lrp(x, weight, activation="sigmoid", eps=0.5)
    assert torch.equal(out, torch.tensor([[1.0, -1.0]], dtype=torch.float64))  # 0.5 * (1, -1) / 0.5
    assert torch.equal(dense_lrp(x, weight, eps=0.5), torch.zeros(1, 2, dtype=torch.float64))  # tanh(0) = 0


@pytest.mark.parametrize("eps", [-1e-3, "0.1", None, float("nan")])
def test_eps_must_be_a_non_negative_number(eps):
    with pytest.raises(ValueError, match="eps"):
        dense_lrp(torch.ones(3), torch.ones(1, 3), eps=eps)


# --- zero denominators: never NaN, documented values ---------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("adjusted", [False, True])
def test_lrp_at_zero_input_is_zero(activation, bias, adjusted):
    layer, _, _ = make_layer(4, 3, bias, torch.float64, seed=37)
    weight, b = params(layer)
    out = dense_lrp(torch.zeros(2, 4, dtype=torch.float64), weight, b, activation=activation, adjusted=adjusted)
    assert torch.equal(out, torch.zeros(2, 3, 4, dtype=torch.float64))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("adjusted", [False, True])
def test_lrp_cancelling_terms_with_eps_zero_drop_the_row(activation, adjusted):
    """W x = 0 (and z = 0) with eps = 0: that output hands out nothing; the other row is untouched."""
    weight = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 1.0]], dtype=torch.float64)
    x = torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)  # row 0: 1 + 1 - 2 = 0
    out = dense_lrp(x, weight, activation=activation, adjusted=adjusted)
    assert not torch.isnan(out).any()
    assert torch.equal(out[0], torch.zeros(3, dtype=torch.float64))
    assert_close(out[1], dense_lrp(x, weight[1:], activation=activation)[0], dense_lrp_error(x, weight, None, activation)[1])
    # adjusted with a bias: W x = 0 but z = b != 0, still dropped (the denominator is W x)
    bias = torch.tensor([0.7, 0.0], dtype=torch.float64)
    adjusted_out = dense_lrp(x, weight, bias, activation=activation, adjusted=True)
    assert torch.equal(adjusted_out[0], torch.zeros(3, dtype=torch.float64))


def test_lrp_bias_cancelling_wx_gives_zero_row():
    """z = W x + b = 0 with eps = 0 under eq. 10: the row is zero, not NaN or inf."""
    weight = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    x = torch.tensor([0.5, 0.25], dtype=torch.float64)  # W x = 1
    out = dense_lrp(x, weight, torch.tensor([-1.0], dtype=torch.float64))
    assert torch.equal(out, torch.zeros(1, 2, dtype=torch.float64))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_deeplift_at_baseline_is_zero(activation):
    layer, x, _ = make_layer(4, 3, True, torch.float64, seed=41)
    weight, b = params(layer)
    out = dense_deeplift(x, weight, b, baseline=x, activation=activation)
    assert torch.equal(out, torch.zeros(4, 3, 4, dtype=torch.float64))
    zeros = torch.zeros(2, 4, dtype=torch.float64)
    assert torch.equal(dense_deeplift(zeros, weight, b, activation=activation), torch.zeros(2, 3, 4, dtype=torch.float64))


# --- batching and dtype ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batching_over_leading_dims_and_dtype(dtype):
    gen = torch.Generator().manual_seed(43)
    weight = torch.randn(3, 5, generator=gen, dtype=dtype)
    bias = torch.randn(3, generator=gen, dtype=dtype)
    x = torch.randn(2, 4, 5, generator=gen, dtype=dtype)
    baseline = torch.randn(5, generator=gen, dtype=dtype)  # (I,) broadcasts over the batch
    lrp = dense_lrp(x, weight, bias)
    adjusted = dense_lrp(x, weight, bias, adjusted=True, eps=0.01)
    deeplift = dense_deeplift(x, weight, bias, baseline=baseline)
    for out in (lrp, adjusted, deeplift):
        assert out.shape == (2, 4, 3, 5)
        assert out.dtype == dtype
    lrp_error = dense_lrp_error(x, weight, bias)
    adjusted_error = dense_lrp_error(x, weight, bias, adjusted=True, eps_rule=0.01)
    deeplift_error = dense_deeplift_error(x, weight, bias, baseline)
    for i in range(2):      # one row at a time: other matmul shapes, other summation orders
        for j in range(4):
            assert_close(lrp[i, j], dense_lrp(x[i, j], weight, bias), lrp_error[i, j])
            assert_close(adjusted[i, j], dense_lrp(x[i, j], weight, bias, adjusted=True, eps=0.01), adjusted_error[i, j])
            assert_close(deeplift[i, j], dense_deeplift(x[i, j], weight, bias, baseline=baseline), deeplift_error[i, j])
    # a full (..., I) baseline gives the same as the broadcast one
    assert_close(dense_deeplift(x, weight, bias, baseline=baseline.expand(2, 4, 5)), deeplift, deeplift_error)
    # a single example (I,) gives (O, I)
    assert dense_lrp(x[0, 0], weight).shape == (3, 5)


# --- argument errors -----------------------------------------------------------------------------------

W = torch.ones(2, 3)
X = torch.ones(4, 3)


@pytest.mark.parametrize("rule", [dense_lrp, dense_deeplift])
@pytest.mark.parametrize("call,error,name", [
    (lambda f: f(X, torch.ones(3)), ValueError, "weight"),
    (lambda f: f(X, torch.ones(1, 2, 3)), ValueError, "weight"),
    (lambda f: f(torch.ones(4, 5), W), ValueError, "x"),
    (lambda f: f(torch.ones(()), W), ValueError, "x"),
    (lambda f: f(X, W, torch.ones(3)), ValueError, "bias"),
    (lambda f: f(X, W, torch.ones(2, 1)), ValueError, "bias"),
    (lambda f: f(X, W, activation="relu"), ValueError, "activation"),
    (lambda f: f(X, W, activation=None), ValueError, "activation"),
    (lambda f: f(X.double(), W), TypeError, "weight"),
    (lambda f: f(X, W, torch.ones(2, dtype=torch.float64)), TypeError, "bias"),
    (lambda f: f(torch.tensor([[1.0, float("nan"), 0.0]]), W), ValueError, "x"),
    (lambda f: f(torch.tensor([[1.0, float("inf"), 0.0]]), W), ValueError, "x"),
    (lambda f: f([[1.0, 2.0, 3.0]], W), TypeError, "x"),
    (lambda f: f(torch.ones(4, 3, dtype=torch.long), W), TypeError, "x"),
    (lambda f: f(X, W.tolist()), TypeError, "weight"),
], ids=["weight-rank-1", "weight-rank-3", "mismatched-I", "x-scalar", "bias-length", "bias-rank",
        "unknown-activation", "activation-none", "weight-dtype", "bias-dtype", "x-nan", "x-inf",
        "x-list", "x-integer", "weight-list"])
def test_clear_errors(rule, call, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        call(rule)


@pytest.mark.parametrize("baseline,error", [
    (torch.ones(3, dtype=torch.float64), TypeError),
    (torch.ones(4), ValueError),
    (torch.ones(5, 3), ValueError),
    (torch.tensor([0.0, float("nan"), 0.0]), ValueError),
    ([0.0, 0.0, 0.0], TypeError),
], ids=["dtype", "length", "batch", "nan", "list"])
def test_clear_errors_baseline(baseline, error):
    with pytest.raises(error, match=r"^baseline\b"):
        dense_deeplift(X, W, baseline=baseline)


# --- properties ----------------------------------------------------------------------------------------

# six decimals: keeps every product and sum out of the subnormal range, where act(z) / (W x) overflows
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 6))


@st.composite
def layers(draw):
    """Random float64 layer, batch of inputs and a baseline of the batch's shape."""
    inputs, outputs = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    weight = draw(arrays(np.float64, (outputs, inputs), elements=finite))
    bias = draw(st.none() | arrays(np.float64, (outputs,), elements=finite))
    x = draw(arrays(np.float64, batch + (inputs,), elements=finite))
    baseline = draw(arrays(np.float64, batch + (inputs,), elements=finite))
    as_t = lambda a: None if a is None else torch.from_numpy(a)
    return as_t(x), as_t(weight), as_t(bias), as_t(baseline)


@settings(deadline=None, max_examples=150)
@given(layer=layers(), activation=st.sampled_from(ACTIVATIONS))
def test_property_deeplift_sums_to_delta(layer, activation):
    x, weight, bias, baseline = layer
    act = get_activation(activation).fn
    out = dense_deeplift(x, weight, bias, baseline=baseline, activation=activation)
    assert out.shape == x.shape[:-1] + weight.shape
    z = x @ weight.T + (0 if bias is None else bias)
    z_b = baseline @ weight.T + (0 if bias is None else bias)
    error = sum_error(out, -1, dense_deeplift_error(x, weight, bias, baseline, activation))
    assert_close(out.sum(-1), act(z) - act(z_b), error, dense_change_error(x, weight, bias, baseline, activation))


@settings(deadline=None, max_examples=100)
@given(layer=layers(), activation=st.sampled_from(ACTIVATIONS))
def test_property_adjusted_lrp_conserves_activation(layer, activation):
    x, weight, bias, _ = layer
    wx = x @ weight.T
    act = get_activation(activation).fn
    z = wx + (0 if bias is None else bias)
    out = dense_lrp(x, weight, bias, activation=activation, adjusted=True)
    assert torch.isfinite(out).all()
    assert torch.equal(out[wx == 0], torch.zeros_like(out[wx == 0]))  # documented: nothing handed out
    # elsewhere the sum is act(z); the bound grows as W x vanishes (relative error γ Σ|W x| / |W x|)
    error = sum_error(out, -1, dense_lrp_error(x, weight, bias, activation, adjusted=True))
    act_error = activation_error(activation, z, affine_error(x, weight, bias), x.dtype)
    assert_close(out.sum(-1)[wx != 0], act(z)[wx != 0], error[wx != 0], act_error[wx != 0])
