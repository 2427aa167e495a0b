"""Chapter 8, the case study: sunspot data, the saved regressor, perturbation curves, the counting check."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_teach import (
    LSTMClassifier, LSTMDeepLift, LSTMLRP, LSTMWeights, TimeStepShapley, counter_inputs, counter_lstm,
    lstm_forward,
)
from lstm_teach.datasets.sunspots import counting_strings, load_sunspots, sliding_windows, sunspot_windows
from lstm_teach.perturbation import (
    aopc, completeness_gap, model_scores, occlusion_effects, perturbation_curves, perturbation_test,
    random_orders, relevance_order,
)
from lstm_teach.datasets.training import (
    SUNSPOT_HYPERPARAMETERS, load_sunspot_model, load_training_record, train_regressor, train_sunspot_model,
)
from tolerance import (
    A2, assert_close, eps, gamma, lstm_deeplift_error, lstm_forward_error, lstm_lrp_error, lstm_score_error,
    time_step_shapley_error,
)

# captum and shap emit version chatter on import and use
pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def sunspots():
    return sunspot_windows()


@pytest.fixture(scope="module")
def model():
    return load_sunspot_model()


# --- data -------------------------------------------------------------------------------------

def test_raw_series_is_the_yearly_sunspot_record():
    years, values = load_sunspots()
    assert years.shape == values.shape == (309,)
    assert (years[0], years[-1]) == (1700, 2008)
    assert np.all(np.diff(years) == 1) and values.min() >= 0


@pytest.mark.parametrize("window, split_year", [(8, 1900), (12, 1950), (16, 1950), (20, 1980)])
def test_windows_shapes_split_and_scaling(window, split_year):
    data = sunspot_windows(window, split_year, dtype=torch.float64)
    n_all = 309 - window
    n_test = 2008 - split_year + 1
    assert data.x_train.shape == (n_all - n_test, window, 1) and data.y_train.shape == (n_all - n_test, 1)
    assert data.x_test.shape == (n_test, window, 1) and data.y_test.shape == (n_test, 1)
    assert data.years_train[-1] == split_year - 1 and data.years_test[0] == split_year
    assert data.lags().tolist() == list(range(window, 0, -1))
    # scaling uses the training years only: their scaled values have mean 0 and (population) std 1.
    # Rounding: μ carries γ_n mean|s|, so the scaled mean is off by that / σ plus its own sum's γ_n;
    # σ and the scaled std are two-pass sums of squares, each within γ_{n+3} relative
    train = data.values[data.years < split_year]
    scaled = data.scale(train)
    n, u = len(train), eps(torch.float64) / 2
    assert_close(scaled.mean(), 0.0, gamma(n, torch.float64) * (np.abs(train).mean() / data.std + 2 * np.abs(scaled).mean()), 0.0)
    assert_close(scaled.std(), 1.0, 2 * gamma(n + 3, torch.float64) + 2 * u, 0.0)
    # (s − μ) / σ · σ + μ: four roundings of numbers no larger than |s| + |μ|
    values = data.values.astype(np.float64)
    assert_close(data.unscale(data.scale(values)), values, 4 * u * (np.abs(values) + abs(data.mean)), 0.0)
    # each window ends the year before its target: the next window's last input is this target (a copy)
    assert torch.equal(data.x_train[1:, -1], data.y_train[:-1])
    # the windows hold the scaled series: the same float64 expression, rounded to the windows' dtype
    expected = torch.as_tensor(data.scale(data.values[-n_test - window:-n_test])).to(data.x_test.dtype)
    assert torch.equal(data.x_test[0, :, 0], expected)


def test_windows_default_float32_and_refusals():
    data = sunspot_windows()
    assert data.x_train.dtype == torch.float32 and data.x_train.shape == (238, 12, 1)
    with pytest.raises(ValueError, match="split_year"):
        sunspot_windows(12, 1705)
    with pytest.raises(ValueError, match="window"):
        sliding_windows(torch.zeros(5), 5)


@settings(deadline=None, max_examples=25)
@given(length=st.integers(2, 40), data=st.data())
def test_sliding_windows_property(length, data):
    window = data.draw(st.integers(1, length - 1))
    series = torch.arange(length, dtype=torch.float64) ** 1.5
    x, y = sliding_windows(series, window)
    assert x.shape == (length - window, window, 1) and y.shape == (length - window, 1)
    k = data.draw(st.integers(0, length - window - 1))
    t = data.draw(st.integers(0, window - 1))
    assert x[k, t, 0] == series[k + t] and y[k, 0] == series[k + window]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_counting_strings(seed):
    strings = counting_strings(50, 9, seed)
    assert strings == counting_strings(50, 9, seed)
    assert all(len(s) == 9 and set(s) <= {"a", "b"} and "a" in s for s in strings)
    assert len({s.count("a") for s in strings}) > 3


# --- training and the saved weights -----------------------------------------------------------

def rounding_to_float32_error(model64, x, y):
    """How far the float32 model's held-out MSE may lie from the float64 model's it was rounded from.

    Every weight, input and target is rounded to float32 (relative u₃₂ each): to first order a
    prediction moves by ``u₃₂ Σ_k |∂p/∂θ_k| |θ_k|`` over weights and inputs (autograd, float64), and
    the float32 forward adds its own rounding (:func:`lstm_score_error`). A residual ``r`` that moves
    by ``Δr`` moves ``r²`` by ``2 |r| Δr + Δr²``; the float32 mean adds ``γ_N`` relative.
    """
    u32 = eps(torch.float32) / 2
    x = x.clone().requires_grad_(True)
    prediction = model64(x)[:, 0]
    parameters = list(model64.parameters())
    moved = []
    for k in range(len(prediction)):
        grads = torch.autograd.grad(prediction[k], [x, *parameters], retain_graph=True)
        moved.append(sum((g.abs() * p.detach().abs()).sum() for g, p in zip(grads, [x, *parameters])))
    model32 = model64.to(torch.float32)
    forward = lstm_score_error(model32, x.detach().float())[1]
    model64.to(torch.float64)
    shift = u32 * torch.stack(moved) + forward + u32 * y[:, 0].abs()
    residual = (prediction.detach() - y[:, 0]).abs()
    mse = (residual ** 2).mean()
    return ((2 * residual * shift + shift ** 2).mean() + gamma(len(residual) + 2, torch.float32) * mse).item()


def test_saved_weights_load_and_predict(model, sunspots):
    record = load_training_record()
    assert record["hyperparameters"] == SUNSPOT_HYPERPARAMETERS
    assert len(record["history"]["train"]) == len(record["history"]["heldout"]) == SUNSPOT_HYPERPARAMETERS["epochs"] + 1
    assert all(p.dtype == torch.float32 for p in model.parameters()) and not model.training
    with torch.no_grad():
        prediction = model(sunspots.x_test)
    mse = torch.nn.functional.mse_loss(prediction, sunspots.y_test).item()
    # the saved float32 model is the trained float64 one rounded
    data64 = sunspot_windows(dtype=torch.float64)
    bound = rounding_to_float32_error(load_sunspot_model(dtype=torch.float64), data64.x_test, data64.y_test)
    assert_close(mse, record["history"]["heldout"][-1], bound, 0.0)
    persistence = torch.nn.functional.mse_loss(sunspots.x_test[:, -1], sunspots.y_test).item()
    print(f"held-out MSE {mse:.4f} (persistence {persistence:.4f})")
    assert mse < 0.3 * persistence
    assert load_sunspot_model(dtype=torch.float64).lstm.weight_ih_l0.dtype == torch.float64


def test_retraining_reproduces_saved_weights(model):
    threads = torch.get_num_threads()
    rng_state = torch.get_rng_state()
    retrained, history, settings_used = train_sunspot_model(progress=False)
    assert torch.get_num_threads() == threads and torch.equal(torch.get_rng_state(), rng_state)
    assert settings_used == SUNSPOT_HYPERPARAMETERS
    # Why retraining can differ, and by how much. (1) The initial weights are drawn in float32 (the
    # model is built in float32, then converted), and ATen's scalar and vectorized `uniform_` kernels
    # round from + (to − from)·U differently: on another CPU code path (ATEN_CPU_CAPABILITY=default)
    # about half of them land one float32 step away, a relative change of at most eps₃₂. (2) Training
    # answers a relative change δ of the initial weights with an absolute change of at most
    # AMPLIFICATION · δ after these 250 steps (training.py measured 2e-5 for δ = 1e-6). (3) Float64
    # rounding inside each of the 250 steps (sums of at most N·T·(I + H + 2) products) adds a
    # relative γ per step, amplified the same way. (4) Saving rounds to float32 (eps₃₂ |w| between two
    # roundings of nearby numbers).
    amplification, settings = 20, SUNSPOT_HYPERPARAMETERS
    operations = 238 * settings["window"] * (1 + settings["hidden_size"] + 2)
    moved = amplification * (eps(torch.float32) + settings["epochs"] * gamma(operations, torch.float64))
    saved = model.state_dict()
    for name, value in retrained.state_dict().items():
        assert_close(value, saved[name], moved + eps(torch.float32) * saved[name].abs(), 0.0, what=name)
    # the final held-out loss moves by at most |∂L/∂θ| · moved (first order), plus its own rounding
    model64, data = load_sunspot_model(dtype=torch.float64), sunspot_windows(dtype=torch.float64)
    loss = torch.nn.functional.mse_loss(model64(data.x_test), data.y_test)
    slope = sum(g.abs().sum() for g in torch.autograd.grad(loss, list(model64.parameters()))).item()
    recorded = load_training_record()["history"]["heldout"][-1]
    rounding = 2 * gamma(operations, torch.float64) * recorded
    assert_close(history["heldout"][-1], recorded, slope * moved + rounding, 0.0)


def test_train_regressor_learns_a_linear_rule():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(64, 5, 1, generator=generator)
    y = 0.5 * x[:, -1]
    model, history = train_regressor(x, y, hidden_size=4, epochs=150, lr=0.02, seed=1, progress=False)
    assert len(history["train"]) == 151 and "heldout" not in history
    assert history["train"][-1] < 0.05 * history["train"][0]
    again, _ = train_regressor(x, y, hidden_size=4, epochs=150, lr=0.02, seed=1, progress=False)
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)


# --- perturbation curves ----------------------------------------------------------------------

def small_model(seed, steps=6, inputs=2, outputs=1):
    torch.manual_seed(seed)
    model = LSTMClassifier(inputs, 3, outputs).double()
    x = torch.randn(4, steps, inputs, dtype=torch.float64)
    return model, x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perturbation_curves_match_a_loop(seed):
    model, x = small_model(seed)
    baseline = torch.randn(x.shape[1], x.shape[2], dtype=torch.float64)
    order = random_orders(x.shape[0], x.shape[1], 1, seed)[0]
    curves = perturbation_curves(model, x, order, baseline)
    u = eps(x.dtype) / 2
    with torch.no_grad():
        for b in range(x.shape[0]):
            start, end = model(x[b:b + 1])[0, 0], model(baseline[None])[0, 0]
            e_start = lstm_score_error(model, x[b:b + 1])[1][0]
            sign = 1.0 if start >= end else -1.0
            played = x[b].clone()
            for k in range(x.shape[1] + 1):
                # both sides: the difference of two scores, each within its forward bound
                difference = start - model(played[None])[0, 0]
                bound = e_start + lstm_score_error(model, played[None])[1][0] + u * difference.abs()
                assert_close(curves[b, k], sign * difference, bound)
                if k < x.shape[1]:
                    played[order[b, k]] = baseline[order[b, k]]
            bound = e_start + lstm_score_error(model, baseline[None])[1][0] + u * (start - end).abs()
            assert_close(curves[b, -1], (start - end).abs(), bound)
            assert curves[b, 0] == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_relevance_order_signed_and_absolute(seed):
    model, x = small_model(seed)
    relevance = torch.randn(x.shape, dtype=torch.float64)
    sign = torch.sign(model_scores(model, x) - model_scores(model, torch.zeros_like(x))).detach()
    signed = relevance_order(model, x, relevance)
    absolute = relevance_order(model, x, relevance, by="absolute")
    step = relevance.sum(-1)
    for b in range(x.shape[0]):
        assert (sign[b] * step[b, signed[b]]).diff().le(0).all()
        assert step[b, absolute[b]].abs().diff().le(0).all()
    with pytest.raises(ValueError, match="by"):
        relevance_order(model, x, relevance, by="up")


def test_random_orders_are_permutations():
    orders = random_orders(5, 7, 3, seed=4)
    assert orders.shape == (3, 5, 7)
    assert torch.equal(orders.sort(-1).values, torch.arange(7).expand(3, 5, 7))
    assert torch.equal(orders, random_orders(5, 7, 3, seed=4))


@pytest.mark.parametrize("seed", [0, 3])
def test_occlusion_effects_match_a_loop(seed):
    model, x = small_model(seed)
    effects = occlusion_effects(lambda s: model_scores(model, s), x)
    e_x = lstm_score_error(model, x)[1]
    with torch.no_grad():
        for t in range(x.shape[1]):
            played = x.clone()
            played[:, t] = 0
            difference = model_scores(model, x) - model_scores(model, played)
            bound = e_x + lstm_score_error(model, played)[1] + eps(x.dtype) / 2 * difference.abs()
            assert_close(effects[:, t], difference, bound)


def test_methods_beat_random_on_held_out_sunspots(model, sunspots):
    """The perturbation test of chapter 8: our exact DeepLift's ranking beats the random order."""
    x = sunspots.x_test
    relevances = {
        "DeepLift (shapley)": LSTMDeepLift(model, "shapley").attribute(x),
        "DeepLift (input)": LSTMDeepLift(model, "input").attribute(x),
        "LRP": LSTMLRP(model).attribute(x),
    }
    result = perturbation_test(model, x, relevances, num_random=20, seed=0)
    for name in relevances:
        print(f"{name}: AOPC {result.aopc[name]:.3f}, random {result.aopc['random']:.3f}, "
              f"margin {result.margin(name):.3f}")
    # measured: margins 0.619 (shapley), 0.631 (input), 0.544 (LRP); every window beats random
    assert result.margin("DeepLift (shapley)") > 0.45
    assert min(result.margin(name) for name in relevances) > 0.35
    assert (result.row_aopc["DeepLift (shapley)"] > result.row_aopc["random"]).float().mean() > 0.9
    gap = completeness_gap(model, x, relevances["DeepLift (shapley)"])
    bound = lstm_deeplift_error(model, x, torch.zeros_like(x)).delta        # float32 rounding only
    assert_close(gap, torch.zeros_like(gap), bound, 0.0)
    # perturbation_test runs these very calls on the same tensors: the same bits
    assert torch.equal(result.row_aopc["LRP"], aopc(perturbation_curves(
        model, x, relevance_order(model, x, relevances["LRP"]))))


# --- the counting task ------------------------------------------------------------------------

# How close each method comes to the count effects, and why. The counter's cell state is linear in
# the candidates (W_h* = 0, i and f constant): c_T = Σ_t a_t with a_t = the effect of step t; the
# score is F(c_T) = o tanh(c_T), o constant. So every exact method is exact here, and the tolerance
# is rounding, except where a method approximates:
# * DeepLift (all three product rules coincide: i, f, o never change) and LRP with eps = 0
#   distribute F(c_T) − F(0) in proportion to the a_t: rounding only;
# * TimeStepShapley: the players' a_t differ slightly (a few e^{−s} relative); with all a_t equal
#   to their mean ā the Shapley value is slope · ā exactly, and moving a coalition's sum by at most
#   n max|a_k − ā| moves the secant slopes by at most sup|F''| times that: error ≤
#   a_t sup|F''| n max|a_k − ā| / slope;
# * IntegratedGradients: every 'a' step has the same integrand up to its a_t, so the quadrature's
#   relative error is shared: IG_t / slope = a_t (1 + δ / (F(x) − F(b))), δ its convergence delta;
# * LRP with eps = 1e-3: moves every denominator by 1e-3 (bounded by the LRP sweep with that shift).


def rounding(bound, relevance, slope, slope_error, effects_error):
    """Rounding of ``relevance / slope − effects``: the relevance's bound and the slope's relative
    error carried through the quotient, and the effects' own error."""
    return (bound + relevance.abs() * slope_error.unsqueeze(1)) / slope.abs().unsqueeze(1) + effects_error


def deeplift(rule):
    def method(m, x, b):
        return LSTMDeepLift(m, rule).attribute(x, b), lstm_deeplift_error(m, x, b, None, rule).attributions.sum(-1), 0.0
    return method


def time_step_shapley(m, x, b):
    values = TimeStepShapley(m).attribute(x, b)
    return values, time_step_shapley_error(m, x, b), None


def integrated_gradients(m, x, b):
    from captum.attr import IntegratedGradients

    steps = 50
    values, delta = IntegratedGradients(m).attribute(x, baselines=b, n_steps=steps, return_convergence_delta=True)
    # the gradient's bound at each Gauss–Legendre node (captum's), averaged with the quadrature weights
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas, weights = torch.as_tensor((nodes + 1) / 2), torch.as_tensor(weights / 2)
    path = (b + alphas.view(-1, 1, 1, 1) * (x - b)).flatten(0, 1)
    e_gradient = lstm_deeplift_error(m, path, path, None, "input").multipliers.view(steps, *x.shape)
    bound = ((weights.view(-1, 1, 1, 1) * e_gradient).sum(0) * (x - b).abs()).sum(-1) \
        + gamma(steps + 2, x.dtype) * values.detach().abs().sum(-1)
    return values.detach(), bound, delta.detach()


def lrp(eps_rule):
    def method(m, x, b):
        bound = lstm_lrp_error(m, x, None, eps_rule).relevance
        if eps_rule:       # against the exact eps = 0 relevance: the shift of every denominator
            bound = bound + lstm_lrp_error(m, x, None, eps_rule, shift=eps_rule).relevance + lstm_lrp_error(m, x, None, 0.0).relevance
        return LSTMLRP(m, eps=eps_rule).attribute(x), bound.sum(-1), 0.0
    return method


METHODS = {
    "DeepLift (shapley)": deeplift("shapley"), "DeepLift (input)": deeplift("input"),
    "DeepLift (baseline)": deeplift("baseline"), "TimeStepShapley": time_step_shapley,
    "IntegratedGradients": integrated_gradients, "LRP (eps=1e-3)": lrp(1e-3), "LRP (eps=0)": lrp(0.0),
}


@pytest.mark.parametrize("name", list(METHODS))
@pytest.mark.parametrize("length, seed", [(6, 0), (10, 1)])
def test_counter_attributions_are_the_count_effects(name, length, seed):
    """Each 'a' adds one to the counter's cell state, each 'b' nothing: converted to count units
    (divided by the readout's slope (f(x) − f(b)) / (c_T − c_T,b)), every method's attribution of
    a symbol is its effect on the count, against the all-'b' baseline (count 0)."""
    model = counter_lstm()
    x = counter_inputs(counting_strings(24, length, seed))
    b = counter_inputs(["b" * length] * 24)
    weights = LSTMWeights.from_torch(model.lstm)

    def count(sequences):
        return lstm_forward(sequences, weights).c[:, -1, 0]

    def count_error(sequences):
        return lstm_forward_error(sequences, weights).e_c[:, -1, 0]

    effects = occlusion_effects(count, x, b)
    replaced = torch.where(torch.eye(length, dtype=torch.bool)[None, :, :, None], b[:, None], x[:, None])
    effects_error = count_error(x).unsqueeze(1) + count_error(replaced.flatten(0, 1)).view(24, length)
    is_a = x[..., 0] == 1
    # the documented counter bound: c_T within n (T + 2) e^{−s} of n, for x and for x with one 'a' less
    n = is_a.sum(1, keepdim=True).double()
    saturation = (2 * n - 1) * (length + 2) * math.exp(-20.0)
    assert_close(effects[is_a], torch.ones_like(effects[is_a]), (saturation + effects_error)[is_a], 0.0)
    assert effects[~is_a].abs().max() == 0
    with torch.no_grad():
        score_change = model_scores(model, x) - model_scores(model, b)
    e_change = lstm_score_error(model, x)[1] + lstm_score_error(model, b)[1]
    count_change = count(x) - count(b)
    slope = score_change / count_change
    slope_error = e_change / score_change.abs() + (count_error(x) + count_error(b)) / count_change.abs() + eps(x.dtype)
    relevance, bound, extra = METHODS[name](model, x, b)
    relevance = relevance.sum(-1) if relevance.dim() == 3 else relevance
    error = rounding(bound, relevance, slope, slope_error, effects_error)
    if extra is None:          # TimeStepShapley: the a_t are not all equal
        a_mean = (effects * is_a).sum(1, keepdim=True) / n
        spread = ((effects - a_mean).abs() * is_a).amax(1, keepdim=True) + effects_error.amax(1, keepdim=True)
        o = torch.sigmoid(torch.tensor(20.0, dtype=x.dtype))
        error = error + effects.abs() * o * A2["tanh"] * n * spread / slope.abs().unsqueeze(1)
    elif isinstance(extra, torch.Tensor):   # IntegratedGradients: the shared quadrature error
        error = error + effects.abs() * (extra / score_change).abs().unsqueeze(1)
    difference = relevance / slope.unsqueeze(1) - effects
    print(f"{name}: max |error| {difference.abs().max():.1e}, mean {difference.abs().mean():.1e}")
    assert_close(relevance / slope.unsqueeze(1), effects, error, 0.0)
