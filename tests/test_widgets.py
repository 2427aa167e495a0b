"""The chapter-7 explorers, driven from Python: move a control, check the numbers against the
package's functions and the readout against the conservation it claims."""

import asyncio
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_teach as lt
from lstm_teach.lstm import GATE_ACTIVATIONS
from lstm_teach.teach.widgets import CONSERVATION_TOL, GateExplorer, LinearExplorer, SequenceExplorer
from tolerance import (
    activation_error, affine_error, assert_close, dense_change_error, dense_deeplift_error, dense_lrp_error, eps,
    gamma, gate_deeplift_error, gate_lrp_error, lstm_deeplift_error, shapley_values_error, sum_error,
)

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def linear():
    return LinearExplorer()


@pytest.fixture(scope="module")
def gate():
    return GateExplorer()


@pytest.fixture(scope="module")
def sequence():
    return SequenceExplorer()


def _package_linear(w, b, x, x_b, activation="tanh"):
    """Each rule from the package for these slider values, and its rounding bound."""
    weight, bias = torch.tensor([w], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
    x, x_b = torch.tensor(x, dtype=torch.float64), torch.tensor(x_b, dtype=torch.float64)
    act = lt.get_activation(activation).fn
    game = lambda v: act(v @ weight.T + bias)[..., 0]
    game_error = lambda v: activation_error(activation, v @ weight.T + bias, affine_error(v, weight, bias), v.dtype)[..., 0]
    values = {
        "LRP": lt.dense_lrp(x, weight, bias, activation)[0],
        "adjusted LRP": lt.dense_lrp(x, weight, bias, activation, adjusted=True)[0],
        "DeepLift": lt.dense_deeplift(x, weight, bias, x_b, activation)[0],
        "Shapley": lt.shapley_values(game, x, x_b),
    }
    errors = {
        "LRP": dense_lrp_error(x, weight, bias, activation)[0],
        "adjusted LRP": dense_lrp_error(x, weight, bias, activation, adjusted=True)[0],
        "DeepLift": dense_deeplift_error(x, weight, bias, x_b, activation)[0],
        "Shapley": shapley_values_error(game, game_error, x, x_b).expand(3),
    }
    return values, errors


def _assert_rules(relevances, w, b, x, x_b, activation="tanh"):
    expected, errors = _package_linear(w, b, x, x_b, activation)
    for rule in LinearExplorer.RULES:
        assert_close(relevances[rule], expected[rule], errors[rule], what=rule)
    return expected, errors


def _readout_line(explorer, label):
    lines = [line for line in explorer.readout_text.splitlines() if line.startswith(label)]
    assert len(lines) == 1, explorer.readout_text
    return lines[0]


# --- LinearExplorer ---------------------------------------------------------------------------

def test_linear_defaults_are_seed_1_example(linear):
    linear.set(weights=(1, 2, 3), bias=0, inputs=(0.1, 0.2, 0.3), baseline=(0, 0, 0), activation="tanh")
    # seed eq. 7: R = tanh(1.4)/1.4 · w_i x_i = 0.063, 0.253, 0.569
    error = dense_lrp_error(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64), torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64))[0]
    assert_close(linear.relevances["LRP"], torch.tanh(torch.tensor(1.4, dtype=torch.float64)) / 1.4
                 * torch.tensor([0.1, 0.4, 0.9], dtype=torch.float64), error)
    assert f"{linear.output:.4f}" == "0.8854"
    assert all(linear.conserved.values())
    assert linear.readout_text.count("conserved ✓") == 4


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity"])
@pytest.mark.parametrize("bias", [-0.7, 0.0, 0.5])
def test_linear_matches_package(linear, activation, bias):
    w, x, x_b = (0.5, -1.5, 2.0), (0.3, -0.2, 0.6), (0.1, 0.25, -0.4)
    linear.set(weights=w, bias=bias, inputs=x, baseline=x_b, activation=activation)
    _assert_rules(linear.relevances, w, bias, x, x_b, activation)
    act = lt.get_activation(activation).fn
    weight, b = torch.tensor([w], dtype=torch.float64), torch.tensor([bias], dtype=torch.float64)
    v, v_b = torch.tensor(x, dtype=torch.float64), torch.tensor(x_b, dtype=torch.float64)
    z, z_b = (v @ weight.T + b)[0], (v_b @ weight.T + b)[0]
    assert_close(linear.output, act(z), activation_error(activation, z, affine_error(v, weight, b)[0], z.dtype))
    assert_close(linear.targets["DeepLift"], act(z) - act(z_b), dense_change_error(v, weight, b, v_b, activation)[0])
    # DeepLift and Shapley always sum to the change, adjusted LRP to act(z) (w·x ≠ 0 here)
    assert linear.conserved["DeepLift"] and linear.conserved["Shapley"] and linear.conserved["adjusted LRP"]
    # eq. 10 keeps the bias in the denominator: conserved exactly when b = 0
    assert linear.conserved["LRP"] == (bias == 0.0)
    lrp_line = _readout_line(linear, "LRP (eq. 10)")
    assert ("conserved ✓" in lrp_line) == (bias == 0.0)
    assert ("off by" in lrp_line) == (bias != 0.0)


def test_linear_lrp_gap_in_readout(linear):
    linear.set(weights=(1, 2, 3), bias=0.5, inputs=(0.1, 0.2, 0.3), baseline=(0, 0, 0), activation="tanh")
    out = torch.tanh(torch.tensor(1.9, dtype=torch.float64)).item()
    lrp_sum = out * 1.4 / 1.9  # eq. 10: act(z) · w·x / (w·x + b)
    _, errors = _package_linear((1, 2, 3), 0.5, (0.1, 0.2, 0.3), (0, 0, 0))
    assert_close(linear.sums["LRP"], lrp_sum, sum_error(linear.relevances["LRP"], -1, errors["LRP"]))
    assert f"off by {lrp_sum - out:+.4f} ✗" in _readout_line(linear, "LRP (eq. 10)")
    assert "conserved ✓" in _readout_line(linear, "adj. LRP (11)")


def test_linear_observer_redraws_and_changes_readout():
    explorer = LinearExplorer()
    before_text, before_png, before_draws = explorer.readout_text, explorer.png, explorer.draw_count
    explorer.input_sliders[2].value = -0.6       # no loop running: recompute and redraw at once
    assert explorer.draw_count == before_draws + 1
    assert explorer.png != before_png and explorer.image.value == explorer.png
    assert explorer.readout_text != before_text
    _assert_rules(explorer.relevances, (1, 2, 3), 0.0, (0.1, 0.2, -0.6), (0, 0, 0))
    assert f"{explorer.z:+.4f}" in explorer.readout_text  # z = 0.1 + 0.4 − 1.8 = −1.3
    assert f"{explorer.z:+.4f}" == "-1.3000"


def test_linear_baseline_equal_to_input_gives_zero_deeplift(linear):
    linear.set(weights=(1, 2, 3), bias=0.3, inputs=(0.1, 0.2, 0.3), baseline=(0.1, 0.2, 0.3), activation="tanh")
    assert linear.relevances["DeepLift"].abs().max().item() == 0.0     # x − x_b = 0 exactly
    _, errors = _package_linear((1, 2, 3), 0.3, (0.1, 0.2, 0.3), (0.1, 0.2, 0.3))
    assert_close(linear.relevances["Shapley"], torch.zeros(3, dtype=torch.float64), errors["Shapley"], 0.0)
    assert "Δ = act(z) − act(z_b) =  +0.0000" in linear.readout_text


slider_value = st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 2))


@settings(deadline=None, max_examples=25)
@given(w=st.tuples(*[st.floats(-3, 3).map(lambda v: round(v, 2))] * 3), b=st.floats(-3, 3).map(lambda v: round(v, 2)),
       x=st.tuples(*[slider_value] * 3), x_b=st.tuples(*[slider_value] * 3),
       activation=st.sampled_from(["tanh", "sigmoid", "identity"]))
def test_linear_property(linear, w, b, x, x_b, activation):
    linear.set(weights=w, bias=b, inputs=x, baseline=x_b, activation=activation)
    _, errors = _assert_rules(linear.relevances, w, b, x, x_b, activation)
    # DeepLift and Shapley sum to the change up to rounding, and that rounding stays below the
    # widget's display threshold for every slider setting
    for rule in ("DeepLift", "Shapley"):
        bound = sum_error(linear.relevances[rule], -1, errors[rule]) + dense_change_error(
            torch.tensor(x, dtype=torch.float64), torch.tensor([w], dtype=torch.float64),
            torch.tensor([b], dtype=torch.float64), torch.tensor(x_b, dtype=torch.float64), activation)[0]
        assert_close(linear.sums[rule], linear.targets[rule], bound, 0.0)
        assert bound <= CONSERVATION_TOL
    assert linear.conserved["DeepLift"] and linear.conserved["Shapley"]
    for rule in LinearExplorer.RULES:
        gap = linear.sums[rule] - linear.targets[rule]
        assert linear.conserved[rule] == (abs(gap) <= CONSERVATION_TOL)


# --- GateExplorer -------------------------------------------------------------------------------

def _gate_weights(gate, W_i, W_h, b_i, b_h, others):
    """LSTMWeights (I = H = 1) with ``gate``'s row set and the other rows from ``others``."""
    w = lt.LSTMWeights(*(t.clone() for t in (others.weight_ih, others.weight_hh, others.bias_ih, others.bias_hh)))
    row = lt.GATES.index(gate)
    w.weight_ih[row, 0], w.weight_hh[row, 0], w.bias_ih[row], w.bias_hh[row] = W_i, W_h, b_i, b_h
    return w


@pytest.mark.parametrize("name", ["i", "f", "g", "o"])
def test_gate_matches_package(gate, name):
    values = dict(x=0.9, h=-0.4, x_baseline=0.2, h_baseline=0.3, W_i=1.3, W_h=-0.8, b_i=0.4, b_h=-0.1)
    gate.set(gate=name, **values)
    weights = _gate_weights(name, 1.3, -0.8, 0.4, -0.1, gate.weights)
    d = torch.float64
    x, h = torch.tensor([[0.9]], dtype=d), torch.tensor([[-0.4]], dtype=d)
    x_b, h_b = torch.tensor([[0.2]], dtype=d), torch.tensor([[0.3]], dtype=d)
    dl = lt.gate_deeplift(x, h, weights, name, x_b, h_b)
    lrp = lt.gate_lrp(x, h, weights, name)
    adj = lt.gate_lrp(x, h, weights, name, adjusted=True)
    bounds = {"DeepLift": gate_deeplift_error(x, h, weights, name, x_b, h_b), "LRP": gate_lrp_error(x, h, weights, name),
              "adjusted LRP": gate_lrp_error(x, h, weights, name, adjusted=True)}
    for rule, (r_x, r_h) in (("DeepLift", dl), ("LRP", lrp), ("adjusted LRP", adj)):
        bound = torch.cat([e.reshape(1) for e in bounds[rule]])
        assert_close(gate.relevances[rule], torch.cat([r_x.reshape(1), r_h.reshape(1)]), bound)
    act = lt.get_activation(GATE_ACTIVATIONS[name]).fn
    z = 1.3 * 0.9 - 0.8 * -0.4 + 0.4 - 0.1            # both biases, this gate's own weights
    z_b = 1.3 * 0.2 - 0.8 * 0.3 + 0.4 - 0.1
    terms = torch.tensor([[1.3 * 0.9, 0.8 * 0.4, 0.4, 0.1], [1.3 * 0.2, 0.8 * 0.3, 0.4, 0.1]], dtype=d)
    e_z, e_z_b = (gamma(4, d) * terms.abs().sum(1)).tolist()     # four terms, any order
    assert_close(gate.z, z, e_z)
    assert_close(gate.z_baseline, z_b, e_z_b)
    change = (act(torch.tensor(z, dtype=d)) - act(torch.tensor(z_b, dtype=d))).item()
    act_name = GATE_ACTIVATIONS[name]
    e_change = (activation_error(act_name, torch.tensor(z, dtype=d), e_z, d)
                + activation_error(act_name, torch.tensor(z_b, dtype=d), e_z_b, d)).item() + eps(d) / 2 * abs(change)
    assert_close(gate.change, change, e_change)
    assert gate.conserved["DeepLift"] and gate.conserved["adjusted LRP"] and not gate.conserved["LRP"]
    assert "conserved ✓" in _readout_line(gate, "DeepLift")
    assert "off by" in _readout_line(gate, "LRP ")
    assert f"gate {name} ({ {'i': 'save', 'f': 'remember', 'g': 'candidate', 'o': 'focus'}[name]})" in gate.readout_text
    assert gate.w_x_slider.description == f"W_i{name}" and gate.b_h_slider.description == f"b_h{name}"


def test_gate_keeps_each_gates_weights():
    explorer = GateExplorer(gate="f")
    explorer.w_x_slider.value = 2.5                     # the forget gate's W_if
    assert explorer.weights.W_if.item() == 2.5
    w_ii = explorer.weights.W_ii.item()
    explorer.gate.value = "i"
    assert explorer.w_x_slider.value == w_ii and explorer.w_x_slider.description == "W_ii"
    assert explorer.weights.W_if.item() == 2.5          # switching did not overwrite the forget gate
    explorer.gate.value = "f"
    assert explorer.w_x_slider.value == 2.5


def test_gate_observer_changes_split():
    explorer = GateExplorer(gate="o")
    before = explorer.relevances["DeepLift"].clone()
    explorer.h_baseline_slider.value = explorer.h_slider.value  # h at its baseline: all change from x_t
    r = explorer.relevances["DeepLift"]
    assert r[1].item() == 0.0 and not torch.equal(r, before)
    d = torch.float64
    x, h = torch.tensor([[explorer.x_slider.value]], dtype=d), torch.tensor([[explorer.h_slider.value]], dtype=d)
    x_b, h_b = torch.tensor([[explorer.x_baseline_slider.value]], dtype=d), h.clone()
    e_x, _ = gate_deeplift_error(x, h, explorer.weights, "o", x_b, h_b)
    both, base = torch.cat([x, h], -1), torch.cat([x_b, h_b], -1)
    weight = torch.cat([explorer.weights.W_io, explorer.weights.W_ho], 1)
    e_change = dense_change_error(both, weight, (explorer.weights.b_io, explorer.weights.b_ho), base, "sigmoid")
    assert_close(r[0].item(), explorer.change, e_x.reshape(()), e_change.reshape(()))


# --- SequenceExplorer ---------------------------------------------------------------------------

def test_sequence_uses_counter_when_available(sequence):
    if hasattr(lt, "counter_lstm"):
        assert sequence.model.value.startswith("counter")
    assert sequence.model.value in sequence.models


@pytest.mark.parametrize("text, baseline", [("aabbab", "000000"), ("bbbaaa", "bbbbbb"), ("ababab", "a0b0a0")])
@pytest.mark.parametrize("model_index", [0, -1])
def test_sequence_matches_lstm_deeplift(sequence, text, baseline, model_index):
    model_name = list(sequence.models)[model_index]
    sequence.set(sequence=text, baseline=baseline, rule="shapley", model=model_name)
    model = sequence.models[model_name]
    assert sequence.inputs.shape == (1, 6, 2)
    for rule in lt.PRODUCT_RULES:
        a, delta = lt.LSTMDeepLift(model, rule).attribute(sequence.inputs, sequence.baselines,
                                                          return_convergence_delta=True)
        bound = lstm_deeplift_error(model, sequence.inputs, sequence.baselines, None, rule)
        assert_close(sequence.attributions[rule], a[0], bound.attributions[0])
        assert_close(sequence.deltas[rule], delta.item(), bound.delta.item())
    with torch.no_grad():
        change = (model(sequence.inputs) - model(sequence.baselines)).item()
    bound = lstm_deeplift_error(model, sequence.inputs, sequence.baselines, None, "shapley").delta.item()
    assert_close(sequence.relevance.sum().item(), change, bound, 0.0)  # shapley: complete
    assert sequence.complete["shapley"]
    assert "complete ✓" in _readout_line(sequence, "▶ shapley")


def test_sequence_counter_relevance_counts_a(sequence):
    if not hasattr(lt, "counter_lstm"):
        pytest.skip("lstm_teach.counter_lstm is not there")
    sequence.set(sequence="aabbab", baseline="000000", rule="shapley", model=list(sequence.models)[0])
    # the counter's 'b' weights are zero: all relevance sits on the 'a' steps, equally up to the
    # counter's saturation: step t's 'a' reaches c_T scaled by σ(s)^(T−t+1) ≥ 1 − (T + 1) e^{−s},
    # and the readout's slope is at most 1, so two 'a' steps differ by at most (T + 1) e^{−s}
    a_steps = sequence.relevance[[0, 1, 4], 0]
    assert sequence.relevance[:, 1].abs().max().item() == 0.0
    assert sequence.relevance[[2, 3, 5], 0].abs().max().item() == 0.0
    model = sequence.models[sequence.model.value]
    rounding = lstm_deeplift_error(model, sequence.inputs, sequence.baselines).attributions[0, [0, 1, 4], 0]
    assert_close(a_steps, a_steps[0].expand(3), 7 * math.exp(-20.0) + rounding, rounding[0])


def test_sequence_rule_switch_shows_gap(sequence):
    sequence.set(sequence="aabbab", baseline="000000", model=list(sequence.models)[-1], rule="shapley")
    for rule in ("input", "baseline"):
        sequence.rule.value = rule
        assert torch.equal(sequence.relevance, sequence.attributions[rule])
        assert abs(sequence.deltas[rule]) > 1e-3 and not sequence.complete[rule]
        line = _readout_line(sequence, f"▶ {rule}")
        assert f"{sequence.deltas[rule]:+.4f}" in line and "off by" in line
    assert sequence.complete["shapley"]


def test_sequence_toggle_changes_relevance():
    explorer = SequenceExplorer(sequence="aaaaaa")
    draws, text = explorer.draw_count, explorer.readout_text
    explorer.step_buttons[3].value = "b"
    assert explorer.sequence == "aaabaa" and explorer.draw_count == draws + 1
    assert explorer.readout_text != text and "x = aaabaa" in explorer.readout_text
    explorer.baseline_buttons[0].value = "a"                   # step 1 at its baseline: no relevance
    assert explorer.relevance[0].abs().max().item() == 0.0


# --- shared machinery ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [LinearExplorer, GateExplorer, SequenceExplorer])
def test_output_route_and_mimebundle(cls):
    explorer = cls(render="output")
    assert explorer.png.startswith(b"\x89PNG")
    (output,) = explorer.output_area.outputs
    assert output["data"]["image/png"]
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert bundle["text/plain"] == f"{cls.__name__} (interactive: open the notebook in Jupyter or Voilà)"


def test_updates_coalesce_on_a_running_loop():
    explorer = LinearExplorer()

    async def drag():
        draws = explorer.draw_count
        for k in range(20):                                    # a burst of slider messages
            explorer.bias_slider.value = k / 20
        assert explorer.draw_count == draws                     # scheduled, not done
        await asyncio.sleep(0.5)
        return explorer.draw_count - draws

    assert asyncio.run(drag()) == 1                             # one update for the burst, with the last value
    _assert_rules(explorer.relevances, (1, 2, 3), 19 / 20, (0.1, 0.2, 0.3), (0, 0, 0))
    assert f"z   = w·x + b   =  {1.4 + 19 / 20:+.4f}" in explorer.readout_text
    png = explorer.png
    explorer.update()                                           # same values: same picture
    assert explorer.png == png


def test_gate_switch_keeps_a_pending_weight():
    explorer = GateExplorer(gate="i")

    async def move_then_switch():
        explorer.w_x_slider.value = -2.0                        # W_ii, update still pending
        explorer.gate.value = "o"
        await asyncio.sleep(0.5)

    asyncio.run(move_then_switch())
    assert explorer.weights.W_ii.item() == -2.0
    assert explorer.w_x_slider.value == explorer.weights.W_io.item() and explorer.gate.value == "o"


def test_blitting_matches_full_draw():
    explorer = LinearExplorer()
    explorer.input_sliders[0].value = 0.15                     # same y-limits: background reused
    full_draws = explorer.full_draw_count
    explorer.input_sliders[0].value = 0.2
    assert explorer.full_draw_count == full_draws
    fresh = LinearExplorer(inputs=(0.2, 0.2, 0.3))             # drawn from scratch
    assert fresh.png == explorer.png
