"""Issue 9: numerics that never break, and properties that hold for any model and baseline."""

import pytest
import torch
from hypothesis import given, settings, strategies as st

import lstm_teach as lt
from tolerance import assert_close, dense_deeplift_error, lstm_deeplift_error, sum_error, time_step_shapley_error

pytestmark = pytest.mark.filterwarnings("ignore")


def make_model(seed, input_size, hidden_size, outputs, scale=1.0, dtype=torch.float64):
    torch.manual_seed(seed)
    model = lt.LSTMClassifier(input_size, hidden_size, outputs).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    return model


def scores(model, x, target):
    return model(x).gather(1, target.unsqueeze(1)).squeeze(1)


# ---- zero and tiny denominators ----------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity"])
def test_dense_rules_at_zero_denominators_are_finite(activation):
    weight = torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    bias = torch.tensor([0.5, 0.0], dtype=torch.float64)
    x = torch.tensor([2.0, 2.0, 7.0], dtype=torch.float64)       # w·x = 0 for both outputs
    for adjusted in (False, True):
        lrp = lt.dense_lrp(x, weight, bias, activation, adjusted=adjusted)
        assert torch.isfinite(lrp).all()
    deeplift = lt.dense_deeplift(x, weight, bias, baseline=x.clone(), activation=activation)  # x = baseline
    assert torch.equal(deeplift, torch.zeros_like(deeplift))
    # z = z_b with x != baseline: the multiplier is the derivative, contributions still sum to 0
    baseline = x + torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    deeplift = lt.dense_deeplift(x, weight, bias, baseline=baseline, activation=activation)
    assert torch.isfinite(deeplift).all()
    error = sum_error(deeplift, -1, dense_deeplift_error(x, weight, bias, baseline, activation))
    assert_close(deeplift.sum(-1), torch.zeros(2, dtype=torch.float64), error, 0.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lstm_explainers_with_input_equal_to_baseline(dtype):
    model = make_model(0, 3, 4, 2, dtype=dtype)
    x = torch.randn(2, 5, 3, dtype=dtype)
    target = torch.tensor([0, 1])
    for rule in lt.PRODUCT_RULES:
        attributions, delta = lt.LSTMDeepLift(model, rule).attribute(x, x, target, return_convergence_delta=True)
        assert torch.equal(attributions, torch.zeros_like(attributions))
        assert torch.equal(delta, torch.zeros_like(delta))
    assert torch.isfinite(lt.LSTMLRP(model, eps=0.0).attribute(torch.zeros_like(x), target)).all()
    # every coalition plays the same sequence; it may round differently by batch position
    values = lt.TimeStepShapley(model).attribute(x, x, target)
    assert_close(values, torch.zeros_like(values), time_step_shapley_error(model, x, x, target), 0.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_saturated_gates_and_long_sequences(dtype):
    """|z| > 30 at most gates and T = 1000: no NaN or inf, and completeness still holds."""
    model = make_model(1, 2, 6, 1, scale=150.0, dtype=dtype)
    torch.manual_seed(2)
    x = torch.randn(3, 1000, 2, dtype=dtype)
    baseline = torch.randn(2, dtype=dtype)
    trace = lt.lstm_forward(x, lt.LSTMWeights.from_torch(model.lstm))
    assert (trace.z.abs() > 30).float().mean() > 0.5
    attributions, delta = lt.LSTMDeepLift(model).attribute(x, baseline, return_convergence_delta=True)
    assert torch.isfinite(attributions).all()
    bound = lstm_deeplift_error(model, x, baseline.expand_as(x)).delta
    assert_close(delta, torch.zeros_like(delta), bound, 0.0)
    assert torch.isfinite(lt.LSTMLRP(model).attribute(x)).all()


# ---- properties over random models and baselines ---------------------------------------------------

model_shapes = st.tuples(
    st.integers(0, 10_000),             # seed
    st.integers(1, 4),                  # I
    st.integers(1, 6),                  # H
    st.integers(1, 3),                  # O
    st.integers(1, 8),                  # T
    st.integers(1, 3),                  # B
    st.sampled_from([0.1, 1.0, 3.0, 10.0]),  # weight scale
    st.sampled_from([0.0, 0.5, 2.0, 10.0]),  # input scale
)


def random_case(params, dtype=torch.float64):
    seed, i, h, o, t, b, w_scale, x_scale = params
    model = make_model(seed, i, h, o, scale=w_scale, dtype=dtype)
    g = torch.Generator().manual_seed(seed)
    x = x_scale * torch.randn(b, t, i, generator=g, dtype=dtype)
    baseline = torch.randn(t, i, generator=g, dtype=dtype)
    target = torch.randint(0, o, (b,), generator=g)
    return model, x, baseline, target


@settings(deadline=None)
@given(model_shapes)
def test_shapley_rule_is_complete(params):
    model, x, baseline, target = random_case(params)
    attributions, delta = lt.LSTMDeepLift(model).attribute(x, baseline, target, return_convergence_delta=True)
    assert torch.isfinite(attributions).all()
    change = scores(model, x, target) - scores(model, baseline.expand_as(x), target)
    bound = lstm_deeplift_error(model, x, baseline.expand_as(x), target).delta
    assert_close(attributions.sum((1, 2)), change, bound, 0.0)
    assert_close(delta, torch.zeros_like(delta), bound, 0.0)


@settings(deadline=None)
@given(model_shapes)
def test_permuting_features_permutes_attributions(params):
    model, x, baseline, target = random_case(params)
    perm = torch.randperm(x.shape[2], generator=torch.Generator().manual_seed(params[0]))
    permuted = make_model(0, x.shape[2], model.lstm.hidden_size, model.head.out_features)
    permuted.load_state_dict(model.state_dict())
    with torch.no_grad():
        permuted.lstm.weight_ih_l0.copy_(model.lstm.weight_ih_l0[:, perm])
    for rule in lt.PRODUCT_RULES:
        ours = lt.LSTMDeepLift(model, rule).attribute(x, baseline, target)
        theirs = lt.LSTMDeepLift(permuted, rule).attribute(x[..., perm], baseline[..., perm], target)
        bound = lstm_deeplift_error(model, x, baseline.expand_as(x), target, rule).attributions
        assert_close(theirs, ours[..., perm], bound[..., perm])


@settings(deadline=None)
@given(model_shapes, st.data())
def test_a_step_equal_to_its_baseline_gets_zero(params, data):
    model, x, baseline, target = random_case(params)
    step = data.draw(st.integers(0, x.shape[1] - 1))
    x[:, step] = baseline[step]
    attributions = lt.LSTMDeepLift(model).attribute(x, baseline, target)
    assert attributions[:, step].abs().max() == 0        # m_x ⊙ (x − x_b) with x − x_b = 0 exactly
    if x.shape[1] <= 6:
        shapley = lt.TimeStepShapley(model).attribute(x, baseline, target)
        bound = time_step_shapley_error(model, x, baseline.expand_as(x), target)
        assert_close(shapley[:, step], torch.zeros_like(shapley[:, step]), bound[:, 0], 0.0)


@settings(deadline=None)
@given(model_shapes)
def test_attributions_are_linear_in_the_head(params):
    """Scaling and adding head rows scales and adds attributions (the head is linear)."""
    model, x, baseline, _ = random_case(params)
    twin = make_model(0, x.shape[2], model.lstm.hidden_size, 3)
    twin.lstm.load_state_dict(model.lstm.state_dict())
    with torch.no_grad():
        twin.head.weight[2] = 2.0 * twin.head.weight[0] - 0.5 * twin.head.weight[1]
        twin.head.bias[2] = 2.0 * twin.head.bias[0] - 0.5 * twin.head.bias[1]
    explainer = lt.LSTMDeepLift(twin)
    a0, a1, a2 = (explainer.attribute(x, baseline, k) for k in range(3))
    e0, e1, e2 = (lstm_deeplift_error(twin, x, baseline.expand_as(x), k).attributions for k in range(3))
    # the twin's row 2 is rounded from rows 0 and 1 (one subtraction: u |w_2| per weight); that moves
    # a2 by at most u · (sum of |path|), which e2 already holds (it adds 2u · sum of |path|): 2 e2
    combined = 2.0 * a0 - 0.5 * a1
    assert_close(a2, combined, 2 * e2, 2.0 * e0 + 0.5 * e1 + torch.finfo(x.dtype).eps * combined.abs())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lrp_with_a_subnormal_denominator_is_finite(dtype):
    """A denominator so small that relevance / d would overflow counts as zero."""
    tiny = torch.finfo(dtype).tiny * torch.finfo(dtype).eps   # subnormal
    x = torch.tensor([tiny, 0.0], dtype=dtype)
    for weight in (torch.ones(1, 2, dtype=dtype), 100 * torch.ones(1, 2, dtype=dtype)):
        relevance = lt.dense_lrp(x, weight, activation="sigmoid")
        assert torch.equal(relevance, torch.zeros_like(relevance))
