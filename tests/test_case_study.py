"""Chapter 8, the case study: sunspot data, the saved regressor, perturbation curves, the counting check."""

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
    # scaling uses the training years only: their scaled values have mean 0 and (population) std 1
    scaled = data.scale(data.values[data.years < split_year])
    assert abs(scaled.mean()) < 1e-12 and abs(scaled.std() - 1) < 1e-12
    np.testing.assert_allclose(data.unscale(data.scale(data.values)), data.values, atol=1e-10)
    # each window ends the year before its target: the next window's last input is this target
    torch.testing.assert_close(data.x_train[1:, -1], data.y_train[:-1], rtol=0, atol=0)
    torch.testing.assert_close(data.x_test[0, :, 0], torch.as_tensor(data.scale(data.values[-n_test - window:-n_test])))


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

def test_saved_weights_load_and_predict(model, sunspots):
    record = load_training_record()
    assert record["hyperparameters"] == SUNSPOT_HYPERPARAMETERS
    assert len(record["history"]["train"]) == len(record["history"]["heldout"]) == SUNSPOT_HYPERPARAMETERS["epochs"] + 1
    assert all(p.dtype == torch.float32 for p in model.parameters()) and not model.training
    with torch.no_grad():
        prediction = model(sunspots.x_test)
    mse = torch.nn.functional.mse_loss(prediction, sunspots.y_test).item()
    # the saved float32 model is the trained float64 one rounded: same loss to ~1e-7
    assert abs(mse - record["history"]["heldout"][-1]) < 1e-5
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
    saved = model.state_dict()
    for name, value in retrained.state_dict().items():
        torch.testing.assert_close(value, saved[name], rtol=0, atol=1e-6)
    np.testing.assert_allclose(history["heldout"], load_training_record()["history"]["heldout"], rtol=0, atol=1e-9)


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
    with torch.no_grad():
        for b in range(x.shape[0]):
            start, end = model(x[b:b + 1])[0, 0], model(baseline[None])[0, 0]
            sign = 1.0 if start >= end else -1.0
            played = x[b].clone()
            for k in range(x.shape[1] + 1):
                assert abs(curves[b, k] - sign * (start - model(played[None])[0, 0])) < 1e-12
                if k < x.shape[1]:
                    played[order[b, k]] = baseline[order[b, k]]
            assert abs(curves[b, -1] - abs(start - end)) < 1e-12 and curves[b, 0] == 0


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
    with torch.no_grad():
        for t in range(x.shape[1]):
            played = x.clone()
            played[:, t] = 0
            torch.testing.assert_close(effects[:, t], model_scores(model, x) - model_scores(model, played))


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
    gap = completeness_gap(model, x, relevances["DeepLift (shapley)"]).abs().max().item()
    assert gap < 1e-4                        # float32 rounding only
    assert torch.allclose(result.row_aopc["LRP"], aopc(perturbation_curves(
        model, x, relevance_order(model, x, relevances["LRP"]))))


# --- the counting task ------------------------------------------------------------------------

def ig(model, x, b):
    from captum.attr import IntegratedGradients

    return IntegratedGradients(model).attribute(x, baselines=b, n_steps=50).detach()


METHODS = {
    "DeepLift (shapley)": (lambda m, x, b: LSTMDeepLift(m, "shapley").attribute(x, b), 1e-10),
    "DeepLift (input)": (lambda m, x, b: LSTMDeepLift(m, "input").attribute(x, b), 1e-10),
    "DeepLift (baseline)": (lambda m, x, b: LSTMDeepLift(m, "baseline").attribute(x, b), 1e-10),
    "TimeStepShapley": (lambda m, x, b: TimeStepShapley(m).attribute(x, b), 1e-6),
    "IntegratedGradients": (ig, 1e-3),
    "LRP (eps=1e-3)": (lambda m, x, b: LSTMLRP(m).attribute(x), 2e-2),
    "LRP (eps=0)": (lambda m, x, b: LSTMLRP(m, eps=0.0).attribute(x), 1e-10),
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

    effects = occlusion_effects(count, x, b)
    is_a = x[..., 0] == 1
    assert (effects[is_a] - 1).abs().max() < 1e-6 and effects[~is_a].abs().max() == 0
    with torch.no_grad():
        score_change = model_scores(model, x) - model_scores(model, b)
    slope = score_change / (count(x) - count(b))
    attribute, tol = METHODS[name]
    relevance = attribute(model, x, b)
    relevance = relevance.sum(-1) if relevance.dim() == 3 else relevance
    error = (relevance / slope.unsqueeze(1) - effects).abs()
    print(f"{name}: max |error| {error.max():.1e}, mean {error.mean():.1e}")
    assert error.max() < tol
