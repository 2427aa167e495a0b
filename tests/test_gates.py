"""Relevance through one gate (seed eq. 14–17, corrected): gate_deeplift against captum's DeepLift
and shap's DeepExplainer on the two-input LSTMGate module, gate_lrp against captum's LRP (tanh
candidate gate) and against the definition (sigmoid gates, which captum's LRP refuses)."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_teach
from lstm_teach import ALIASES, GATES, LSTMWeights, gate_deeplift, gate_lrp
from lstm_teach.unrolled import LSTMGate
from tolerance import (
    A2, SWITCH, activation_error, affine_error, assert_close, dense_change_error, eps, gate_deeplift_error,
    gate_lrp_error, sum_error,
)

# captum and shap emit version chatter and deprecation warnings (shap already at import); none of
# them concerns these checks
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import shap
    from captum.attr import LRP, DeepLift
    from captum.attr._utils.lrp_rules import EpsilonRule, IdentityRule

pytestmark = pytest.mark.filterwarnings("ignore")

DTYPES = [torch.float32, torch.float64]
SIZES = [(3, 4, 5, 0), (1, 2, 3, 1), (5, 3, 2, 2), (2, 6, 4, 3)]  # input, hidden, batch, seed
ACT = {"i": torch.sigmoid, "f": torch.sigmoid, "g": torch.tanh, "o": torch.sigmoid}
GATE_ACT = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}



def setup(input_size, hidden_size, batch, seed, dtype):
    """Random LSTM weights, inputs, and non-zero baselines for both x_t and h_{t-1}.

    x and h: (B, I), (B, H); per-sample baselines (B, ·) for captum; one shared baseline row
    (1, ·) for shap (its DeepExplainer averages over the background rows).
    """
    torch.manual_seed(seed)
    weights = LSTMWeights.from_torch(nn.LSTM(input_size, hidden_size, batch_first=True).to(dtype))
    g = torch.Generator().manual_seed(seed + 100)
    def rand(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=dtype)
    x, h = rand(batch, input_size), rand(batch, hidden_size, scale=0.7)
    xb, hb = rand(batch, input_size, scale=0.5), rand(batch, hidden_size, scale=0.5)
    xb1, hb1 = rand(1, input_size, scale=0.5), rand(1, hidden_size, scale=0.5)
    return weights, x, h, xb, hb, xb1, hb1


def parts(weights, gate, x, h, xb=None, hb=None):
    """``[x; h]``, the gate's weight ``[W_i* | W_h*]``, its two biases and ``[x_b; h_b]``, from the seed's names."""
    w = torch.cat([getattr(weights, f"W_i{gate}"), getattr(weights, f"W_h{gate}")], dim=1)
    biases = (getattr(weights, f"b_i{gate}"), getattr(weights, f"b_h{gate}"))
    both = torch.cat([x, h], -1)
    base = None if xb is None else torch.cat([xb.expand_as(x), hb.expand_as(h)], -1)
    return both, w, biases, base


def change_of(weights, gate, x, h, xb, hb):
    """``act(z) − act(z_b)`` of the gate, and its error bound."""
    both, w, biases, base = parts(weights, gate, x, h, xb, hb)
    z, z_b = both @ w.T + sum(biases), base @ w.T + sum(biases)
    return ACT[gate](z) - ACT[gate](z_b), dense_change_error(both, w, biases, base, GATE_ACT[gate])


# --------------------------------------------------------------------------- DeepLift

def check_gate_deeplift_matches_captum(gate_deeplift, dtype, gate, input_size, hidden_size, batch, seed):
    """``gate_deeplift`` (the implementation under test) against captum's DeepLift on LSTMGate, which
    reads the gate's blocks by the seed's names (W_i*, W_h*, b_i*, b_h*), every unit."""
    weights, x, h, xb, hb, _, _ = setup(input_size, hidden_size, batch, seed, dtype)
    r_x, r_h = gate_deeplift(x, h, weights, gate, xb, hb)
    assert r_x.shape == (batch, hidden_size, input_size) and r_h.shape == (batch, hidden_size, hidden_size)
    assert r_x.dtype == dtype
    e_x, e_h = gate_deeplift_error(x, h, weights, gate, xb, hb, switch=SWITCH["captum"])
    explainer = DeepLift(LSTMGate(weights, gate))
    for j in range(hidden_size):
        a_x, a_h = explainer.attribute((x, h), baselines=(xb, hb), target=j)
        assert_close(r_x[:, j], a_x, e_x[:, j])
        assert_close(r_h[:, j], a_h, e_h[:, j])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gate", GATES)
@pytest.mark.parametrize("input_size, hidden_size, batch, seed", SIZES)
def test_gate_deeplift_matches_captum(dtype, gate, input_size, hidden_size, batch, seed):
    check_gate_deeplift_matches_captum(lstm_teach.gate_deeplift, dtype, gate, input_size, hidden_size, batch, seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gate", GATES)
@pytest.mark.parametrize("input_size, hidden_size, batch, seed", SIZES)
def test_gate_deeplift_matches_shap(dtype, gate, input_size, hidden_size, batch, seed):
    weights, x, h, _, _, xb, hb = setup(input_size, hidden_size, batch, seed, dtype)
    r_x, r_h = gate_deeplift(x, h, weights, gate, xb, hb)   # (1, ·) baselines broadcast over the batch
    values = shap.DeepExplainer(LSTMGate(weights, gate), [xb, hb]).shap_values([x, h], check_additivity=False)
    s_x, s_h = values                                        # (B, I, H) and (B, H, H): output unit last
    assert s_x.shape == (batch, input_size, hidden_size) and s_h.shape == (batch, hidden_size, hidden_size)
    e_x, e_h = gate_deeplift_error(x, h, weights, gate, xb, hb, switch=SWITCH["shap"])
    for j in range(hidden_size):
        assert_close(r_x[:, j], s_x[..., j], e_x[:, j])
        assert_close(r_h[:, j], s_h[..., j], e_h[:, j])


@pytest.mark.parametrize("gate", GATES)
@pytest.mark.parametrize("input_size, hidden_size, batch, seed", SIZES)
def test_gate_deeplift_parts_sum_to_the_change(gate, input_size, hidden_size, batch, seed):
    weights, x, h, xb, hb, _, _ = setup(input_size, hidden_size, batch, seed, torch.float64)
    assert_parts_sum_to_the_change(weights, gate, x, h, xb, hb)


def assert_parts_sum_to_the_change(weights, gate, x, h, xb, hb):
    r_x, r_h = gate_deeplift(x, h, weights, gate, xb, hb)
    change, change_error = change_of(weights, gate, x, h, xb, hb)
    e_x, e_h = gate_deeplift_error(x, h, weights, gate, xb, hb)
    total_error = sum_error(torch.cat([r_x, r_h], -1), -1, torch.cat([e_x, e_h], -1))
    assert_close(r_x.sum(-1) + r_h.sum(-1), change, total_error, change_error)
    return r_x, r_h


@settings(deadline=None, max_examples=30)
@given(
    gate=st.sampled_from(GATES), input_size=st.integers(1, 5), hidden_size=st.integers(1, 5),
    seed=st.integers(0, 10_000), spread=st.floats(0.0, 3.0),
)
def test_gate_deeplift_summation_to_delta_property(gate, input_size, hidden_size, seed, spread):
    weights, x, h, xb, hb, _, _ = setup(input_size, hidden_size, 3, seed, torch.float64)
    x, h = xb + spread * (x - xb), hb + spread * (h - hb)      # spread = 0: input equals baseline
    r_x, r_h = assert_parts_sum_to_the_change(weights, gate, x, h, xb, hb)
    assert torch.isfinite(r_x).all() and torch.isfinite(r_h).all()


@pytest.mark.parametrize("gate", GATES)
def test_gate_deeplift_with_zero_change_of_pre_activation(gate):
    """x moves but z does not (Δx orthogonal to a gate row, values exact in binary so that
    z == z_b bit for bit): the multiplier is the derivative act'(z), as in captum's and shap's
    rescale rule; the attributions of that unit cancel."""
    weights, _, h, _, _, _, _ = setup(2, 2, 1, 5, torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh"):
            getattr(weights, name).zero_()
        weights.weight_ih[GATES.index(gate) * 2] = torch.tensor([1.0, 1.0], dtype=torch.float64)
    x = torch.tensor([[0.25, 0.5]], dtype=torch.float64)
    xb, hb = torch.tensor([[0.75, 0.0]], dtype=torch.float64), h.clone()
    r_x, r_h = gate_deeplift(x, h, weights, gate, xb, hb)
    z = (0.75 + getattr(weights, "b_i" + gate)[0] + getattr(weights, "b_h" + gate)[0]).reshape(1).requires_grad_(True)
    (slope,) = torch.autograd.grad(ACT[gate](z).sum(), z)
    assert slope.item() > 0.01
    e_x, e_h = gate_deeplift_error(x, h, weights, gate, xb, hb, switch=SWITCH["captum"])
    assert_close(r_x[:, 0], slope.unsqueeze(-1) * torch.tensor([[-0.5, 0.5]], dtype=torch.float64), e_x[:, 0])
    a_x, _ = DeepLift(LSTMGate(weights, gate)).attribute((x, h), baselines=(xb, hb), target=0)
    s_x, _ = shap.DeepExplainer(LSTMGate(weights, gate), [xb, hb]).shap_values([x, h], check_additivity=False)
    assert_close(r_x[:, 0], a_x, e_x[:, 0])
    assert_close(r_x[:, 0], s_x[..., 0], gate_deeplift_error(x, h, weights, gate, xb, hb, switch=SWITCH["shap"])[0][:, 0])
    total_error = sum_error(torch.cat([r_x, r_h], -1), -1, torch.cat([e_x, e_h], -1))
    assert_close(r_x.sum(-1) + r_h.sum(-1), torch.zeros(1, 2, dtype=torch.float64), total_error, 0.0)


def test_gate_deeplift_zero_baselines_by_default():
    weights, x, h, _, _, _, _ = setup(3, 2, 4, 7, torch.float64)
    zeros_x, zeros_h = torch.zeros_like(x), torch.zeros_like(h)
    for a, b in zip(gate_deeplift(x, h, weights, "f"), gate_deeplift(x, h, weights, "f", zeros_x, zeros_h)):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- LRP

def captum_tanh_gate(weights):
    """The candidate gate as captum's LRP accepts it: one nn.Linear over [x_t; h_{t-1}], then nn.Tanh."""
    w, b = weights.gate_layer("g")
    model = nn.Sequential(nn.Linear(w.shape[1], w.shape[0]), nn.Tanh()).to(w.dtype)
    with torch.no_grad():
        model[0].weight.copy_(w)
        model[0].bias.copy_(b)
    return model


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("input_size, hidden_size, batch, seed", SIZES)
def test_gate_lrp_candidate_matches_captum(dtype, input_size, hidden_size, batch, seed):
    weights, x, h, _, _, _, _ = setup(input_size, hidden_size, batch, seed, dtype)
    # captum's EpsilonRule on nn.Linear has epsilon = 1e-9: d + 1e-9 * sign(d)
    r_x, r_h = gate_lrp(x, h, weights, "candidate", eps=1e-9)
    e_x, e_h = gate_lrp_error(x, h, weights, "g", eps_rule=1e-9)
    lrp = LRP(captum_tanh_gate(weights))
    both = torch.cat([x, h], dim=-1)
    for j in range(hidden_size):
        a = lrp.attribute(both, target=j)
        assert_close(r_x[:, j], a[:, :input_size], e_x[:, j])
        assert_close(r_h[:, j], a[:, input_size:], e_h[:, j])


def test_captum_lrp_refuses_a_sigmoid_gate():
    """captum's LRP knows nn.ReLU, nn.Dropout and nn.Tanh as non-linear layers (relevance passes
    through unchanged); nn.Sigmoid has no default rule, so attribute raises a TypeError."""
    weights, x, h, _, _, _, _ = setup(3, 2, 2, 0, torch.float64)
    w, b = weights.gate_layer("f")
    model = nn.Sequential(nn.Linear(5, 2), nn.Sigmoid()).double()
    with torch.no_grad():
        model[0].weight.copy_(w)
        model[0].bias.copy_(b)
    with pytest.raises(TypeError, match=r"Module of type <class 'torch\.nn\.modules\.activation\.Sigmoid'> "
                                        r"has no rule defined"):
        LRP(model).attribute(torch.cat([x, h], -1), target=0)


@pytest.mark.parametrize("gate", ["i", "f", "o"])
def test_captum_lrp_on_sigmoid_with_explicit_rules(gate):
    """With a rule set by hand on nn.Sigmoid, captum runs: IdentityRule passes relevance through,
    as captum does for nn.Tanh, and gives gate_lrp's σ(z) W ⊙ v / z; EpsilonRule treats σ like a
    layer and gives σ'(z) W ⊙ v (gradient × input of the linear part)."""
    weights, x, h, _, _, _, _ = setup(3, 4, 5, 11, torch.float64)
    w, b = weights.gate_layer(gate)
    both = torch.cat([x, h], -1)
    z = both @ w.T + b
    r_x, r_h = gate_lrp(x, h, weights, gate, eps=1e-9)
    ours = torch.cat([r_x, r_h], -1)
    model = nn.Sequential(nn.Linear(7, 4), nn.Sigmoid()).double()
    with torch.no_grad():
        model[0].weight.copy_(w)
        model[0].bias.copy_(b)
    s, captum_eps = torch.sigmoid(z), 1e-9
    # EpsilonRule on σ: R_z = z σ'(z) σ(z) / (σ(z) + ε); then the Linear: R_v = W ⊙ v R_z / (z + ε sign z);
    # without the two ε that is σ'(z) W ⊙ v
    r_z = z * s * (1 - s) * s / (s + captum_eps)
    by_epsilon = (r_z / (z + captum_eps * z.sign())).unsqueeze(-1) * w * both.unsqueeze(-2)
    gradient_times_input = (s * (1 - s)).unsqueeze(-1) * w * both.unsqueeze(-2)
    # rounding: σ'(z) moves by at most A2 e_z, a dozen roundings, and z / (z + ε) at most 2 e_z / |z|
    # relative (if z were rounded differently in numerator and denominator); the two ε change the
    # product by the factors σ / (σ + ε) and z / (z + ε sign z): relative ε / σ + ε / |z|
    e_z = affine_error(both, w, b).unsqueeze(-1)
    terms = (w * both.unsqueeze(-2)).abs()
    rounding = terms * (A2["sigmoid"] * e_z + 12 * eps(z.dtype)) + by_epsilon.abs() * 2 * e_z / z.abs().unsqueeze(-1)
    shift = gradient_times_input.abs() * (captum_eps / s + captum_eps / z.abs()).unsqueeze(-1)
    assert_close(by_epsilon, gradient_times_input, rounding + shift, rounding)
    lrp_error = torch.cat(gate_lrp_error(x, h, weights, gate, eps_rule=captum_eps), -1)
    for rule, expected, error in [(IdentityRule, ours, lrp_error), (EpsilonRule, by_epsilon, rounding)]:
        for j in range(4):
            model[1].rule = rule()   # set again before every call: attribute deletes every layer's rule
            assert_close(LRP(model).attribute(both, target=j), expected[:, j], error[:, j])
            assert not hasattr(model[1], "rule")


def test_captum_lrp_on_the_two_input_module_uses_each_branch_own_denominator():
    """On LSTMGate (two nn.Linear, summed, then tanh) captum's LRP applies the ε-rule to each
    Linear with its own output as denominator: W_ig x + b_ig and W_hg h + b_hg, not z."""
    weights, x, h, _, _, _, _ = setup(3, 2, 4, 3, torch.float64)
    z_x = x @ weights.W_ig.T + weights.b_ig
    z_h = h @ weights.W_hg.T + weights.b_hg
    z = z_x + z_h
    g = torch.tanh(z)
    e_g = activation_error("tanh", z, affine_error(torch.cat([x, h], -1), torch.cat([weights.W_ig, weights.W_hg], 1),
                                                   weights.b_ig, weights.b_hg), z.dtype)
    lrp = LRP(LSTMGate(weights, "g"))
    for j in range(2):
        a_x, a_h = lrp.attribute((x, h), target=j)
        for a, v, w, b, z_v in ((a_x, x, weights.W_ig, weights.b_ig, z_x), (a_h, h, weights.W_hg, weights.b_hg, z_h)):
            # the ratio g W v / d with d = z_v + 1e-9 sign: g's error passes through, d's is relative
            d = (z_v[:, j:j + 1] + 1e-9 * z_v[:, j:j + 1].sign())
            expected = g[:, j:j + 1] * w[j] * v / d
            e_d = affine_error(v, w[j:j + 1], b[j:j + 1])
            error = ((w[j] * v).abs() * e_g[:, j:j + 1] + expected.abs() * e_d) / d.abs() + 1.5 * eps(z.dtype) * expected.abs()
            assert_close(a, expected, error)


def check_gate_lrp_definition(gate_lrp, gate, adjusted, input_size, hidden_size, batch, seed):
    """``gate_lrp`` (the implementation under test) against its definition:
    R_x[j, k] = act(z_j) W_i*[j, k] x_k / d_j, R_h[j, k] = act(z_j) W_h*[j, k] h_k / d_j, with
    z = W_i* x + b_i* + W_h* h + b_h* and d = z (eq. 10) or d = z − b_i* − b_h* (adjusted, eq. 11)."""
    weights, x, h, _, _, _, _ = setup(input_size, hidden_size, batch, seed, torch.float64)
    w_x, w_h = getattr(weights, "W_i" + gate), getattr(weights, "W_h" + gate)
    bias = getattr(weights, "b_i" + gate) + getattr(weights, "b_h" + gate)
    wx_plus_wh = x @ w_x.T + h @ w_h.T
    z = wx_plus_wh + bias
    d = (wx_plus_wh if adjusted else z).unsqueeze(-1)
    share = (ACT[gate](z).unsqueeze(-1) / d)
    r_x, r_h = gate_lrp(x, h, weights, gate, adjusted=adjusted)
    e_x, e_h = gate_lrp_error(x, h, weights, gate, adjusted)
    assert_close(r_x, share * w_x * x.unsqueeze(-2), e_x)
    assert_close(r_h, share * w_h * h.unsqueeze(-2), e_h)


@pytest.mark.parametrize("gate", GATES)
@pytest.mark.parametrize("adjusted", [False, True])
@pytest.mark.parametrize("input_size, hidden_size, batch, seed", SIZES)
def test_gate_lrp_definition(gate, adjusted, input_size, hidden_size, batch, seed):
    check_gate_lrp_definition(lstm_teach.gate_lrp, gate, adjusted, input_size, hidden_size, batch, seed)


@pytest.mark.parametrize("gate", GATES)
@pytest.mark.parametrize("input_size, hidden_size, batch, seed", SIZES)
def test_gate_lrp_sums(gate, input_size, hidden_size, batch, seed):
    """Adjusted LRP conserves act(z); with the bias in the denominator the sum is act(z)·(z − b)/z."""
    weights, x, h, _, _, _, _ = setup(input_size, hidden_size, batch, seed, torch.float64)
    both, w, biases, _ = parts(weights, gate, x, h)
    b = sum(biases)
    z = both @ w.T + b
    e_z = affine_error(both, w, *biases)
    e_act = activation_error(GATE_ACT[gate], z, e_z, z.dtype)
    r_x, r_h = gate_lrp(x, h, weights, gate, adjusted=True)
    error = sum_error(torch.cat([r_x, r_h], -1), -1, torch.cat(gate_lrp_error(x, h, weights, gate, True), -1))
    assert_close(r_x.sum(-1) + r_h.sum(-1), ACT[gate](z), error, e_act)
    r_x, r_h = gate_lrp(x, h, weights, gate)
    error = sum_error(torch.cat([r_x, r_h], -1), -1, torch.cat(gate_lrp_error(x, h, weights, gate), -1))
    expected = ACT[gate](z) * (z - b) / z      # act(z) (z − b) / z: z − b and z each carry e_z
    expected_error = ((z - b).abs() * e_act + ACT[gate](z).abs() * e_z * (1 + (z - b).abs() / z.abs())) / z.abs() \
        + 2 * eps(z.dtype) * expected.abs()
    assert_close(r_x.sum(-1) + r_h.sum(-1), expected, error, expected_error)


@pytest.mark.parametrize("eps", [1e-3, 0.5])
def test_gate_lrp_epsilon(eps):
    weights, x, h, _, _, _, _ = setup(3, 4, 5, 2, torch.float64)
    w, b = weights.gate_layer("o")
    both = torch.cat([x, h], -1)
    z = both @ w.T + b
    d = z + eps * torch.where(z >= 0, 1.0, -1.0).double()
    expected = (torch.sigmoid(z) / d).unsqueeze(-1) * w * both.unsqueeze(-2)
    r_x, r_h = gate_lrp(x, h, weights, "focus", eps=eps)
    assert_close(torch.cat([r_x, r_h], -1), expected, torch.cat(gate_lrp_error(x, h, weights, "o", eps_rule=eps), -1))


# --------------------------------------------------------------------------- names, shapes, errors

@pytest.mark.parametrize("alias, letter", sorted(ALIASES.items()))
def test_aliases_give_the_same_as_letters(alias, letter):
    weights, x, h, xb, hb, _, _ = setup(3, 4, 5, 9, torch.float64)
    pairs = [
        (gate_deeplift(x, h, weights, alias, xb, hb), gate_deeplift(x, h, weights, letter, xb, hb)),
        (gate_lrp(x, h, weights, alias), gate_lrp(x, h, weights, letter)),
        (gate_lrp(x, h, weights, alias, adjusted=True), gate_lrp(x, h, weights, letter, adjusted=True)),
    ]
    for by_alias, by_letter in pairs:
        for a, b in zip(by_alias, by_letter):
            assert torch.equal(a, b)
    assert torch.equal(LSTMGate(weights, alias)(x, h), LSTMGate(weights, letter)(x, h))


@pytest.mark.parametrize("batch_shape", [(), (2,), (2, 3)])
def test_any_batch_shape(batch_shape):
    weights, _, _, _, _, _, _ = setup(3, 2, 1, 4, torch.float64)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*batch_shape, 3, generator=g, dtype=torch.float64)
    h = torch.randn(*batch_shape, 2, generator=g, dtype=torch.float64)
    xb = torch.randn(3, generator=g, dtype=torch.float64)   # one baseline broadcast over the batch
    r_x, r_h = gate_deeplift(x, h, weights, "g", xb, None)
    assert r_x.shape == batch_shape + (2, 3) and r_h.shape == batch_shape + (2, 2)
    flat = gate_deeplift(x.reshape(-1, 3), h.reshape(-1, 2), weights, "g", xb, None)
    e_x, _ = gate_deeplift_error(x, h, weights, "g", xb, torch.zeros(2, dtype=torch.float64))
    assert_close(r_x.reshape(-1, 2, 3), flat[0], e_x.reshape(-1, 2, 3))
    l_x, l_h = gate_lrp(x, h, weights, "i")
    assert l_x.shape == batch_shape + (2, 3) and l_h.shape == batch_shape + (2, 2)


def test_errors():
    weights, x, h, xb, hb, _, _ = setup(3, 2, 4, 0, torch.float64)
    with pytest.raises(ValueError, match="gate must be one of"):
        gate_lrp(x, h, weights, "forget")
    with pytest.raises(ValueError, match="gate must be one of"):
        gate_deeplift(x, h, weights, "c")
    with pytest.raises(ValueError, match="gate must be one of"):
        LSTMGate(weights, "z")
    with pytest.raises(ValueError, match="h_prev must have shape"):
        gate_lrp(x, h[:, :1], weights, "i")
    with pytest.raises(ValueError, match="h_prev must have shape"):
        gate_deeplift(x, h[:3], weights, "i")
    with pytest.raises(ValueError, match="x_t must have shape"):
        gate_deeplift(x[:, :2], h, weights, "i")
    with pytest.raises(ValueError, match="x_baseline must have shape"):
        gate_deeplift(x, h, weights, "i", xb[:, :2], hb)
    with pytest.raises(ValueError, match="h_baseline must have shape"):
        gate_deeplift(x, h, weights, "i", xb, hb[:2, :1].repeat(1, 3))
    with pytest.raises(TypeError, match="dtype"):
        gate_deeplift(x.float(), h.float(), weights, "i")
    with pytest.raises(TypeError, match="h_baseline must have the dtype"):
        gate_deeplift(x, h, weights, "i", xb, hb.float())
